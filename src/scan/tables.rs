//! The items of every scanned crate, indexed for the analysis: functions by
//! path and by `Type::method`, trait implementations (with each trait's
//! default methods instantiated for every implementing type), structs and
//! their field types, statics, `use` aliases. And what the analysis asks of
//! types: which are locks, guards, condvars, atomics, and what a field holds.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::discover::Edition;
use super::ir::*;

pub type FnId = u32;

/// A function the analysis may call into.
#[derive(Clone, Debug)]
pub struct FnInfo {
    pub def: Arc<FnDef>,
    pub krate: usize,
    pub file: usize,
    /// `Self`: the impl's type, or the implementing type a trait's default
    /// method was instantiated for.
    pub self_ty: Option<Ty>,
    /// The trait, for trait methods and their implementations.
    pub trait_name: Option<Sym>,
    /// A default method of a trait, instantiated for an implementing type.
    pub instantiated: bool,
    /// How a reader names it: `Type::method`, `function`.
    pub display: String,
    /// The signature returns a lock guard (or a value holding one).
    pub returns_guard: bool,
    /// The body is just `param` (an identity function): index among all
    /// parameters, `self` first.
    pub returns_param: Option<u32>,
    /// The body is just `&self.a.b`, `STATIC.get_or_init(..)` (or a clone
    /// of it): a getter of a place.
    pub returns_place: Option<(ReturnRoot, Vec<Sym>)>,
}

impl FnInfo {
    pub fn param_count(&self) -> usize {
        self.def.params.len() + usize::from(self.def.self_param.is_some())
    }

    /// The type of parameter `i` (`self` first).
    pub fn param_ty(&self, i: usize) -> Option<Ty> {
        match (self.def.self_param, i) {
            (Some(_), 0) => Some(self.self_ty.clone().unwrap_or(Ty::named("Self"))),
            (Some(_), i) => self.def.params.get(i - 1).map(|(_, t)| t.clone()),
            (None, i) => self.def.params.get(i).map(|(_, t)| t.clone()),
        }
    }
}

#[derive(Clone, Debug)]
pub struct FileInfo {
    pub display: String,
    pub krate: usize,
    pub edition: Edition,
}

#[derive(Clone, Debug)]
pub struct StaticInfo {
    pub def: StaticDef,
    pub krate: usize,
    pub file: usize,
}

/// Per crate: the indexes.
#[derive(Debug, Default)]
pub struct CrateTables {
    pub name: String,
    /// Free functions by full path (module path, then name).
    pub free_fns: HashMap<Vec<Sym>, Vec<FnId>>,
    pub free_by_name: HashMap<Sym, Vec<FnId>>,
    /// Methods and associated functions: type name -> name -> functions.
    pub methods: HashMap<Sym, HashMap<Sym, Vec<FnId>>>,
    /// Implementations of trait methods: trait -> method -> functions.
    pub trait_impls: HashMap<Sym, HashMap<Sym, Vec<FnId>>>,
    /// Trait method declarations (with or without a default body).
    pub trait_decls: HashMap<Sym, HashMap<Sym, FnId>>,
    pub method_by_name: HashMap<Sym, Vec<FnId>>,
    pub structs: HashMap<Sym, Vec<usize>>,
    pub aliases: HashMap<Sym, Ty>,
    pub statics: HashMap<Sym, Vec<usize>>,
    /// `use` declarations by module.
    pub uses: HashMap<Vec<Sym>, Vec<UseDef>>,
    /// User types whose methods hand out guards of their one lock: a
    /// reader names the lock by the field that holds the wrapper.
    pub lock_wrappers: HashSet<Sym>,
    /// User structs that hold a guard (so a value of them keeps a lock).
    pub guard_structs: HashSet<Sym>,
    /// Traits each type implements.
    pub type_traits: HashMap<Sym, Vec<Sym>>,
}

#[derive(Debug, Default)]
pub struct Tables {
    pub files: Vec<FileInfo>,
    pub fns: Vec<FnInfo>,
    pub structs: Vec<(usize, StructDef)>,
    pub statics: Vec<StaticInfo>,
    pub crates: Vec<CrateTables>,
    pub crate_by_name: HashMap<String, usize>,
}

/// Types that hold their content behind a pointer or a lazy cell: a field
/// access or method call goes through them.
const POINTERS: &[&str] = &[
    "Arc",
    "Rc",
    "Box",
    "Pin",
    "Cow",
    "ManuallyDrop",
    "CachePadded",
    "Lazy",
    "LazyLock",
    "LazyCell",
    "OnceCell",
    "OnceLock",
    "AssertUnwindSafe",
    "Weak",
    "Owned",
    "Shared",
    "ArcSwap",
    "Ref",
    "RefMut",
];

/// Lock types of std, parking_lot, spin, tokio, futures, async-std, lock_api.
const LOCKS: &[&str] = &[
    "Mutex",
    "RwLock",
    "ReentrantMutex",
    "ReentrantLock",
    "FairMutex",
    "SpinMutex",
    "TicketMutex",
    "RwSpinlock",
    "SpinLock",
    "SpinRwLock",
];

/// What kind of lock a type is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockTy {
    pub reentrant: bool,
}

impl Tables {
    /// Builds the tables from every file's items (`files[i]` describes the
    /// file whose items are `items[i]`).
    pub fn build(
        crate_names: Vec<String>,
        files: Vec<FileInfo>,
        items: Vec<(usize, FileItems)>,
    ) -> Tables {
        let mut t = Tables {
            files,
            crates: crate_names
                .iter()
                .map(|n| CrateTables {
                    name: n.clone(),
                    ..CrateTables::default()
                })
                .collect(),
            ..Tables::default()
        };
        for (i, name) in crate_names.iter().enumerate() {
            if !name.is_empty() {
                t.crate_by_name.entry(name.clone()).or_insert(i);
            }
        }
        let mut trait_defs: Vec<(usize, TraitDef)> = Vec::new();
        let mut impls: Vec<(usize, ImplDef)> = Vec::new();
        for (file, items) in items {
            let krate = t.files[file].krate;
            let c = &mut t.crates[krate];
            for s in items.structs {
                c.structs.entry(s.name).or_default().push(t.structs.len());
                t.structs.push((krate, s));
            }
            for (_, name, ty) in items.aliases {
                c.aliases.entry(name).or_insert(ty);
            }
            for s in items.statics {
                c.statics.entry(s.name).or_default().push(t.statics.len());
                t.statics.push(StaticInfo {
                    def: s,
                    krate,
                    file,
                });
            }
            for u in items.uses {
                c.uses.entry(u.module.clone()).or_default().push(u);
            }
            trait_defs.extend(items.traits.into_iter().map(|d| (krate, d)));
            impls.extend(items.impls.into_iter().map(|d| (krate, d)));
            for def in items.fns {
                t.add_fn(Arc::new(def), krate, file, None);
            }
        }
        for (krate, imp) in &impls {
            if let (Some(trait_name), Some(ty)) = (&imp.trait_name, imp.self_ty.name()) {
                t.crates[*krate]
                    .type_traits
                    .entry(intern(ty))
                    .or_default()
                    .push(*trait_name);
            }
        }
        t.instantiate_defaults(&trait_defs, &impls);
        t.find_wrappers();
        for i in 0..t.fns.len() {
            let (param, place) = trivial_returns(&t.fns[i].def);
            t.fns[i].returns_param = param;
            t.fns[i].returns_place = place;
        }
        t
    }

    fn add_fn(
        &mut self,
        def: Arc<FnDef>,
        krate: usize,
        file: usize,
        instantiated_for: Option<Ty>,
    ) -> FnId {
        let id = self.fns.len() as FnId;
        let c = &mut self.crates[krate];
        let (self_ty, trait_name, display) = match (&def.owner, &instantiated_for) {
            (Owner::Trait { name }, Some(ty)) => (
                Some(ty.clone()),
                Some(*name),
                format!("{}::{}", ty.name().unwrap_or("_"), def.name),
            ),
            (Owner::Free, _) => (None, None, def.name.to_string()),
            (
                Owner::Impl {
                    self_ty,
                    trait_name,
                },
                _,
            ) => (
                Some(self_ty.clone()),
                *trait_name,
                format!("{}::{}", self_ty.name().unwrap_or("_"), def.name),
            ),
            (Owner::Trait { name }, None) => (None, Some(*name), format!("{name}::{}", def.name)),
        };
        match (&def.owner, &self_ty) {
            (Owner::Free, _) => {
                let mut path = def.module.clone();
                path.push(def.name);
                c.free_fns.entry(path).or_default().push(id);
                c.free_by_name.entry(def.name).or_default().push(id);
            }
            (Owner::Trait { name }, None) => {
                c.trait_decls.entry(*name).or_default().insert(def.name, id);
            }
            (_, None) => {}
            (_, Some(ty)) => {
                if let Some(type_name) = ty.name() {
                    c.methods
                        .entry(intern(type_name))
                        .or_default()
                        .entry(def.name)
                        .or_default()
                        .push(id);
                }
                if let Some(trait_name) = &trait_name {
                    c.trait_impls
                        .entry(*trait_name)
                        .or_default()
                        .entry(def.name)
                        .or_default()
                        .push(id);
                }
                if def.self_param.is_some() {
                    c.method_by_name.entry(def.name).or_default().push(id);
                }
            }
        }
        let returns_guard = def
            .ret
            .as_ref()
            .is_some_and(|r| self.holds_guard_shallow(r));
        self.fns.push(FnInfo {
            def,
            krate,
            file,
            self_ty,
            trait_name,
            instantiated: instantiated_for.is_some(),
            display,
            returns_guard,
            returns_param: None,
            returns_place: None,
        });
        id
    }

    /// Each trait's default methods, once per implementing type that does
    /// not override them, with `Self` that type: `self.x()` inside then
    /// resolves to that type's `x`.
    fn instantiate_defaults(&mut self, traits: &[(usize, TraitDef)], impls: &[(usize, ImplDef)]) {
        let by_name: HashMap<(usize, Sym), &TraitDef> =
            traits.iter().map(|(k, d)| ((*k, d.name), d)).collect();
        for (krate, imp) in impls {
            let Some(trait_name) = &imp.trait_name else {
                continue;
            };
            let Some(def) = by_name.get(&(*krate, *trait_name)) else {
                continue;
            };
            for method in &def.defaults {
                if imp.methods.contains(method) {
                    continue;
                }
                let decl = self.crates[*krate]
                    .trait_decls
                    .get(trait_name)
                    .and_then(|m| m.get(method))
                    .copied();
                if let Some(decl) = decl {
                    let info = &self.fns[decl as usize];
                    let (def, file) = (info.def.clone(), info.file);
                    self.add_fn(def, *krate, file, Some(imp.self_ty.clone()));
                }
            }
        }
    }

    /// Lock wrappers: user types with a method that takes `&self` and
    /// returns a guard, and at most one lock inside. Guard structs: user
    /// structs with a guard field.
    fn find_wrappers(&mut self) {
        for krate in 0..self.crates.len() {
            let mut guard_structs = HashSet::new();
            for &s in self.crates[krate].structs.values().flatten() {
                let def = &self.structs[s].1;
                if def.fields.iter().any(|(_, ty)| is_guard_name(ty)) {
                    guard_structs.insert(def.name);
                }
            }
            self.crates[krate].guard_structs = guard_structs;
            let mut wrappers = HashSet::new();
            for (type_name, methods) in &self.crates[krate].methods {
                let hands_out = methods.values().flatten().any(|&f| {
                    let f = &self.fns[f as usize];
                    f.def.self_param.is_some() && f.returns_guard && !f.instantiated
                });
                if !hands_out {
                    continue;
                }
                let locks = self.crates[krate]
                    .structs
                    .get(type_name)
                    .and_then(|ids| ids.first())
                    .map_or(0, |&s| {
                        self.structs[s]
                            .1
                            .fields
                            .iter()
                            .filter(|(_, ty)| self.lock_ty(krate, ty).is_some())
                            .count()
                    });
                if locks <= 1 {
                    wrappers.insert(*type_name);
                }
            }
            self.crates[krate].lock_wrappers = wrappers;
        }
        // A method returning a guard struct returns a guard too.
        for i in 0..self.fns.len() {
            if self.fns[i].returns_guard {
                continue;
            }
            let krate = self.fns[i].krate;
            if let Some(ret) = &self.fns[i].def.ret {
                if self.holds_guard(krate, ret) {
                    self.fns[i].returns_guard = true;
                }
            }
        }
    }

    /// Whether a type (of a signature) is or holds a guard, by name only.
    fn holds_guard_shallow(&self, ty: &Ty) -> bool {
        match ty {
            Ty::Path { args, .. } => {
                is_guard_name(ty)
                    || (matches!(
                        ty.name(),
                        Some("LockResult" | "Result" | "Option" | "TryLockResult")
                    ) && args.first().is_some_and(|a| self.holds_guard_shallow(a)))
            }
            Ty::Tuple(elems) => elems.iter().any(|e| self.holds_guard_shallow(e)),
            _ => false,
        }
    }

    /// Whether a value of this type keeps a lock held.
    pub fn holds_guard(&self, krate: usize, ty: &Ty) -> bool {
        if self.holds_guard_shallow(ty) {
            return true;
        }
        match ty {
            Ty::Path { args, .. } => {
                let name = ty.name().unwrap_or("");
                self.crates[krate].guard_structs.contains(name)
                    || (matches!(name, "LockResult" | "Result" | "Option")
                        && args.first().is_some_and(|a| self.holds_guard(krate, a)))
            }
            Ty::Tuple(elems) => elems.iter().any(|e| self.holds_guard(krate, e)),
            _ => false,
        }
    }

    // -----------------------------------------------------------------------
    // Types

    /// Follows type aliases (a few steps).
    pub fn unalias<'t>(&'t self, krate: usize, mut ty: &'t Ty) -> &'t Ty {
        for _ in 0..8 {
            let Some(name) = ty.name() else { return ty };
            match self.crates[krate].aliases.get(name) {
                Some(target) if target != ty => ty = target,
                _ => return ty,
            }
        }
        ty
    }

    /// Through references, smart pointers and lazy cells to what they hold.
    pub fn strip<'t>(&'t self, krate: usize, ty: &'t Ty) -> &'t Ty {
        let mut ty = self.unalias(krate, ty);
        for _ in 0..16 {
            let next = match ty {
                Ty::Ref(inner) => &**inner,
                Ty::Path { args, .. } if ty.name().is_some_and(|n| POINTERS.contains(&n)) => {
                    match args.last() {
                        Some(inner) => inner,
                        None => return ty,
                    }
                }
                _ => return ty,
            };
            ty = self.unalias(krate, next);
        }
        ty
    }

    /// The lock a type is (through pointers), if it is one.
    pub fn lock_ty(&self, krate: usize, ty: &Ty) -> Option<LockTy> {
        let ty = self.strip(krate, ty);
        let name = ty.name()?;
        if LOCKS.contains(&name) {
            return Some(LockTy {
                reentrant: name.starts_with("Reentrant"),
            });
        }
        self.crates[krate]
            .lock_wrappers
            .contains(name)
            .then_some(LockTy { reentrant: false })
    }

    /// A std-like lock type (not a user wrapper).
    pub fn is_builtin_lock(&self, krate: usize, ty: &Ty) -> bool {
        self.strip(krate, ty)
            .name()
            .is_some_and(|n| LOCKS.contains(&n))
    }

    pub fn is_condvar(&self, krate: usize, ty: &Ty) -> bool {
        self.strip(krate, ty).name() == Some("Condvar")
    }

    pub fn is_atomic(&self, krate: usize, ty: &Ty) -> bool {
        self.strip(krate, ty)
            .name()
            .is_some_and(|n| n.starts_with("Atomic"))
    }

    /// What a field access, index or method call on `ty` sees: through
    /// pointers, locks and guards to the data.
    pub fn data<'t>(&'t self, krate: usize, ty: &'t Ty) -> &'t Ty {
        let mut ty = self.strip(krate, ty);
        for _ in 0..8 {
            let name = ty.name().unwrap_or("");
            if LOCKS.contains(&name) || is_guard_name(ty) || name == "LockResult" {
                match ty.args().last() {
                    Some(inner) => ty = self.strip(krate, inner),
                    None => return ty,
                }
            } else {
                return ty;
            }
        }
        ty
    }

    /// The struct a type names, in its crate.
    pub fn struct_def(&self, krate: usize, ty: &Ty) -> Option<&StructDef> {
        let name = ty.name()?;
        let ids = self.crates[krate].structs.get(name)?;
        ids.first().map(|&s| &self.structs[s].1)
    }

    /// The type of `field` of a value of type `ty`.
    pub fn field_ty(&self, krate: usize, ty: &Ty, field: &str) -> Option<Ty> {
        let data = self.data(krate, ty);
        if let Ty::Tuple(elems) = data {
            return field
                .parse::<usize>()
                .ok()
                .and_then(|i| elems.get(i).cloned());
        }
        let def = self.struct_def(krate, data)?;
        def.fields
            .iter()
            .find(|(name, _)| &**name == field)
            .map(|(_, ty)| ty.clone())
    }

    /// The element type of an indexable or iterable collection.
    pub fn element_ty(&self, krate: usize, ty: &Ty) -> Ty {
        let data = self.data(krate, ty);
        match data {
            Ty::Slice(elem) => (**elem).clone(),
            Ty::Path { args, .. } => match data.name() {
                Some("Vec" | "VecDeque" | "HashSet" | "BTreeSet" | "SmallVec" | "ArrayVec") => {
                    args.first().cloned().unwrap_or_default()
                }
                Some("HashMap" | "BTreeMap" | "IndexMap" | "DashMap") => {
                    args.get(1).cloned().unwrap_or_default()
                }
                _ => Ty::Infer,
            },
            _ => Ty::Infer,
        }
    }

    pub fn is_wrapper(&self, krate: usize, ty: &Ty) -> bool {
        self.strip(krate, ty)
            .name()
            .is_some_and(|n| self.crates[krate].lock_wrappers.contains(n))
    }
}

/// `MutexGuard`, `RwLockReadGuard`, `ArcMutexGuard`, `SpinMutexGuard`, ...
pub fn is_guard_name(ty: &Ty) -> bool {
    ty.name().is_some_and(|n| {
        n.ends_with("Guard")
            && (n.contains("Lock")
                || n.contains("Mutex")
                || n.contains("Read")
                || n.contains("Write")
                || n == "Guard")
    })
}

/// What a getter returns a place under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReturnRoot {
    Param(u32),
    Static(Sym),
}

/// A function whose body is only a parameter (identity), or only a place
/// under a parameter or a static (`&self.a`, `self.a.clone()`,
/// `Arc::clone(&self.a)`, `CELL.get_or_init(..)`).
fn trivial_returns(def: &FnDef) -> (Option<u32>, Option<(ReturnRoot, Vec<Sym>)>) {
    let Some(body) = &def.body else {
        return (None, None);
    };
    let [Stmt::Expr { expr, semi: false }] = body.stmts.as_slice() else {
        return (None, None);
    };
    let param_index = |name: &str| -> Option<u32> {
        if name == "self" && def.self_param.is_some() {
            return Some(0);
        }
        let offset = u32::from(def.self_param.is_some());
        def.params
            .iter()
            .position(|(p, _)| matches!(p, Pat::Bind { name: n, .. } if &**n == name))
            .map(|i| i as u32 + offset)
    };
    // Identity: the body is a parameter itself.
    if let ExprKind::Path(path) = &expr.kind {
        if let [name] = path.as_slice() {
            return (param_index(name), None);
        }
    }
    let mut e = expr;
    loop {
        match &e.kind {
            ExprKind::Ref { expr, .. } => e = expr,
            ExprKind::MethodCall { recv, method, .. }
                if matches!(
                    *method,
                    "clone"
                        | "as_ref"
                        | "get_or_init"
                        | "get"
                        | "get_or_try_init"
                        | "force"
                        | "deref"
                ) =>
            {
                e = recv
            }
            ExprKind::Call { func, args } if args.len() == 1 => match &func.kind {
                ExprKind::Path(p)
                    if p.len() >= 2 && matches!(p[p.len() - 1], "clone" | "force") =>
                {
                    e = &args[0]
                }
                _ => return (None, None),
            },
            _ => break,
        }
    }
    let mut fields = Vec::new();
    loop {
        match &e.kind {
            ExprKind::Field(base, name) => {
                fields.push(*name);
                e = base;
            }
            ExprKind::Path(path) => {
                fields.reverse();
                let last = path[path.len() - 1];
                if path.len() == 1 && !fields.is_empty() {
                    if let Some(p) = param_index(path[0]) {
                        return (None, Some((ReturnRoot::Param(p), fields)));
                    }
                }
                if last.starts_with(|c: char| c.is_ascii_uppercase())
                    && last.chars().all(|c| !c.is_ascii_lowercase())
                {
                    return (None, Some((ReturnRoot::Static(last), fields)));
                }
                return (None, None);
            }
            _ => return (None, None),
        }
    }
}
