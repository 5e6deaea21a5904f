//! Call resolution: which of the scanned functions a call may run.
//!
//! Paths resolve as Rust does, as far as the source shows: the current
//! module, `use` aliases and globs, `crate::`/`self::`/`super::`, other
//! scanned crates by name, `Self::f` and `Type::f`. Method calls resolve by
//! the receiver's type where the source shows it (through references, smart
//! pointers, lock guards); on a type parameter, `impl Trait` or `dyn Trait`
//! they may run any implementation in the crate. When the receiver's type is
//! not known, a method name that only one type of the crate defines (and
//! that std types do not commonly have) resolves to it.

use super::ir::*;
use super::tables::{FnId, Tables};

/// Method names std and common crates give their own types: a call of one
/// of these on a receiver of unknown type is not guessed to be the crate's.
const COMMON: &[&str] = &[
    "new",
    "clone",
    "len",
    "is_empty",
    "push",
    "pop",
    "get",
    "get_mut",
    "insert",
    "remove",
    "contains",
    "contains_key",
    "send",
    "recv",
    "try_recv",
    "try_send",
    "lock",
    "read",
    "write",
    "iter",
    "iter_mut",
    "into_iter",
    "next",
    "take",
    "map",
    "and_then",
    "unwrap",
    "expect",
    "as_ref",
    "as_mut",
    "borrow",
    "borrow_mut",
    "deref",
    "deref_mut",
    "drop",
    "fmt",
    "eq",
    "cmp",
    "partial_cmp",
    "hash",
    "from",
    "into",
    "default",
    "to_string",
    "extend",
    "clear",
    "flush",
    "close",
    "run",
    "start",
    "stop",
    "wait",
    "notify_one",
    "notify_all",
    "load",
    "store",
    "swap",
    "join",
    "call",
    "poll",
    "update",
    "set",
    "reset",
    "entry",
    "first",
    "last",
    "find",
    "filter",
    "collect",
    "count",
    "sum",
    "max",
    "min",
    "sort",
    "retain",
    "drain",
    "split",
    "finish",
    "build",
    "write_all",
    "read_exact",
    "poll_next",
    "try_lock",
    "upgrade",
    "downgrade",
    "values",
    "keys",
    "shutdown",
    "handle",
    "process",
    "apply",
    "with",
    "push_back",
    "pop_front",
    "front",
    "back",
    "release",
    "acquire",
    "add",
    "sub",
    "is_some",
    "is_none",
    "ok",
    "err",
    "unwrap_or",
    "to_owned",
    "as_str",
    "as_slice",
    "id",
    "name",
    "size",
    "capacity",
    "reserve",
    "truncate",
    "resize",
    "append",
    "replace",
    "dispatch",
    "emit",
    "register",
    "subscribe",
    "cancel",
    "is_closed",
    "next_back",
    "peek",
    "key",
    "value",
];

/// How many implementations a call on a trait-bounded receiver may run
/// before the analysis stops guessing.
const MAX_DISPATCH: usize = 4;

pub struct Scope<'a> {
    pub krate: usize,
    pub module: &'a [Sym],
    pub self_ty: Option<&'a Ty>,
    pub generics: &'a [(Sym, Vec<Ty>)],
}

impl Tables {
    /// The functions a path call (`f(..)`, `a::f(..)`, `Type::f(..)`) may run.
    pub fn resolve_path(&self, scope: &Scope, path: &[Sym]) -> Vec<FnId> {
        self.resolve_path_depth(scope, path, 0)
    }

    fn resolve_path_depth(&self, scope: &Scope, path: &[Sym], depth: u32) -> Vec<FnId> {
        if path.is_empty() || depth > 4 {
            return Vec::new();
        }
        let c = &self.crates[scope.krate];
        if let [name] = path {
            let mut full = scope.module.to_vec();
            full.push(*name);
            if let Some(f) = c.free_fns.get(&full) {
                return f.clone();
            }
            if let Some(target) = self.use_target(scope, name) {
                if target.len() > 1 || target[0] != *name {
                    return self.resolve_path_depth(scope, &target, depth + 1);
                }
            }
            for glob in self.use_globs(scope) {
                let mut full = glob.clone();
                full.push(*name);
                if let Some(f) = c.free_fns.get(&full) {
                    return f.clone();
                }
            }
            // Code generated or moved by macros and `#[path]`: a name only
            // one free function of the crate has.
            return match c.free_by_name.get(name) {
                Some(f) if f.len() == 1 => f.clone(),
                _ => Vec::new(),
            };
        }
        let first = path[0];
        let last = &path[path.len() - 1];
        match first {
            "crate" => {
                return self.absolute(scope.krate, &path[1..]);
            }
            "self" => {
                let mut full = scope.module.to_vec();
                full.extend_from_slice(&path[1..]);
                return self.absolute(scope.krate, &full);
            }
            "super" => {
                let mut module = scope.module.to_vec();
                let mut rest = path;
                while rest.first().is_some_and(|s| &**s == "super") {
                    module.pop();
                    rest = &rest[1..];
                }
                module.extend_from_slice(rest);
                return self.absolute(scope.krate, &module);
            }
            "std" | "core" | "alloc" => return Vec::new(),
            _ => {}
        }
        // `Type::f`, `Self::f`, `Trait::f`.
        if path.len() >= 2 {
            let owner = path[path.len() - 2];
            let owner_ty = if owner == "Self" {
                scope.self_ty.cloned()
            } else if owner.starts_with(|ch: char| ch.is_ascii_uppercase()) {
                Some(Ty::named(owner))
            } else {
                None
            };
            if let Some(ty) = owner_ty {
                let found = self.resolve_assoc(scope, &ty, last);
                if !found.is_empty() {
                    return found;
                }
                if let Some(impls) = c.trait_impls.get(owner).and_then(|m| m.get(last)) {
                    if impls.len() <= MAX_DISPATCH {
                        return impls.clone();
                    }
                }
                return Vec::new();
            }
        }
        // `module::f`: relative, then through a `use` of the first
        // segment, then from the crate root, then another scanned crate.
        let mut relative = scope.module.to_vec();
        relative.extend_from_slice(path);
        if let Some(f) = c.free_fns.get(&relative) {
            return f.clone();
        }
        if let Some(target) = self.use_target(scope, path[0]) {
            let mut full = target;
            full.extend_from_slice(&path[1..]);
            if full.as_slice() != path {
                let found = self.resolve_path_depth(scope, &full, depth + 1);
                if !found.is_empty() {
                    return found;
                }
            }
        }
        let found = self.absolute(scope.krate, path);
        if !found.is_empty() {
            return found;
        }
        if let Some(&other) = self.crate_by_name.get(first) {
            return self.absolute(other, &path[1..]);
        }
        Vec::new()
    }

    /// A path from a crate's root.
    fn absolute(&self, krate: usize, path: &[Sym]) -> Vec<FnId> {
        let c = &self.crates[krate];
        if let Some(f) = c.free_fns.get(path) {
            return f.clone();
        }
        if path.len() >= 2 {
            let owner = &path[path.len() - 2];
            if owner.starts_with(|ch: char| ch.is_ascii_uppercase()) {
                if let Some(f) = c
                    .methods
                    .get(owner)
                    .and_then(|m| m.get(&path[path.len() - 1]))
                {
                    return f.clone();
                }
            }
        }
        Vec::new()
    }

    fn use_target(&self, scope: &Scope, name: &str) -> Option<Vec<Sym>> {
        let uses = self.crates[scope.krate].uses.get(scope.module)?;
        uses.iter()
            .find(|u| u.alias == Some(name))
            .map(|u| u.path.clone())
    }

    fn use_globs<'t>(&'t self, scope: &Scope) -> impl Iterator<Item = Vec<Sym>> + 't {
        let uses = self.crates[scope.krate].uses.get(scope.module);
        let module = scope.module.to_vec();
        uses.into_iter()
            .flatten()
            .filter(|u| u.alias.is_none())
            .map(move |u| {
                // `use super::*`, `use self::x::*`, `use crate::x::*`.
                let mut path = Vec::new();
                let mut rest = u.path.as_slice();
                match rest.first().map(|s| &**s) {
                    Some("crate") => rest = &rest[1..],
                    Some("self") => {
                        path = module.clone();
                        rest = &rest[1..];
                    }
                    Some("super") => {
                        path = module.clone();
                        while rest.first().is_some_and(|s| &**s == "super") {
                            path.pop();
                            rest = &rest[1..];
                        }
                    }
                    _ => {}
                }
                path.extend_from_slice(rest);
                path
            })
    }

    /// `Type::f` where `Type` may be a user type (through aliases and
    /// `use` renames) or a type parameter.
    fn resolve_assoc(&self, scope: &Scope, ty: &Ty, name: &str) -> Vec<FnId> {
        let c = &self.crates[scope.krate];
        let ty = self.unalias(scope.krate, ty);
        let Some(type_name) = ty.name() else {
            return Vec::new();
        };
        if let Some(f) = c.methods.get(type_name).and_then(|m| m.get(name)) {
            return self.nearest(scope, self.inherent_first(f.clone()));
        }
        if let Some(target) = self.use_target(scope, type_name) {
            if let Some(last) = target.last() {
                if &**last != type_name {
                    if let Some(f) = c.methods.get(last).and_then(|m| m.get(name)) {
                        return f.clone();
                    }
                }
            }
        }
        self.dispatch_generic(scope, ty, name)
    }

    /// The functions `recv.name(..)` may run, for a receiver of type `ty`
    /// (`Infer` when not known), with `args` arguments after the receiver.
    pub fn resolve_method(&self, scope: &Scope, ty: &Ty, name: &str, args: usize) -> Vec<FnId> {
        let krate = scope.krate;
        let c = &self.crates[krate];
        // Look at each level of indirection: `Arc<Inner>` has `Inner`'s
        // methods, a guard has its data's.
        let mut current = self.unalias(krate, ty);
        for _ in 0..8 {
            match current {
                Ty::Ref(inner) => {
                    current = self.unalias(krate, inner);
                    continue;
                }
                Ty::Impl(bounds) | Ty::Dyn(bounds) => {
                    return self.dispatch_bounds(scope, bounds, name)
                }
                Ty::Path { .. } => {
                    let type_name = current.name().unwrap_or("");
                    let type_name = if type_name == "Self" {
                        scope.self_ty.and_then(|t| t.name()).unwrap_or("Self")
                    } else {
                        type_name
                    };
                    if let Some(f) = c.methods.get(type_name).and_then(|m| m.get(name)) {
                        let methods: Vec<FnId> = f
                            .iter()
                            .copied()
                            .filter(|&f| self.fns[f as usize].def.self_param.is_some())
                            .collect();
                        if !methods.is_empty() {
                            return self.nearest(scope, self.inherent_first(methods));
                        }
                    }
                    if type_name == "Self" || self.is_generic(scope, type_name) {
                        return self.dispatch_generic(scope, current, name);
                    }
                    if c.structs.contains_key(type_name) || c.methods.contains_key(type_name) {
                        // A user type without that method: a trait's
                        // default method or a std trait.
                        return Vec::new();
                    }
                    let next = self.data(krate, current);
                    if std::ptr::eq(next, current) {
                        return Vec::new();
                    }
                    // A guard (or lock) of unknown data: whatever the
                    // method is, it is the data's, which is no type seen
                    // here; a guess by name would pick the crate's own.
                    if matches!(next, Ty::Infer) && !matches!(self.strip(krate, current), Ty::Infer)
                    {
                        return Vec::new();
                    }
                    current = next;
                }
                Ty::Infer => return self.by_name(krate, name, args),
                _ => return Vec::new(),
            }
        }
        Vec::new()
    }

    /// Rust looks a method up among the type's inherent methods before its
    /// traits': `self.upgrade(g)` inside `impl Service for Updater` runs
    /// `Updater`'s own `upgrade` when it has one.
    fn inherent_first(&self, found: Vec<FnId>) -> Vec<FnId> {
        let inherent: Vec<FnId> = found
            .iter()
            .copied()
            .filter(|&f| self.fns[f as usize].trait_name.is_none())
            .collect();
        if inherent.is_empty() {
            found
        } else {
            inherent
        }
    }

    /// Of methods found by their type's name, those of the type defined
    /// nearest the caller: two modules may each have their own `Inner`.
    /// Methods of one type (one module) all stay.
    fn nearest(&self, scope: &Scope, found: Vec<FnId>) -> Vec<FnId> {
        if found.len() < 2 {
            return found;
        }
        let module_of = |f: FnId| self.fns[f as usize].def.module.as_slice();
        let first = module_of(found[0]);
        if found.iter().all(|&f| module_of(f) == first) {
            return found;
        }
        let shared = |m: &[Sym]| {
            m.iter()
                .zip(scope.module)
                .take_while(|(a, b)| a == b)
                .count()
        };
        let best = found
            .iter()
            .map(|&f| shared(module_of(f)))
            .max()
            .unwrap_or(0);
        found
            .into_iter()
            .filter(|&f| shared(module_of(f)) == best)
            .collect()
    }

    fn is_generic(&self, scope: &Scope, name: &str) -> bool {
        scope.generics.iter().any(|(g, _)| &**g == name)
    }

    fn dispatch_generic(&self, scope: &Scope, ty: &Ty, name: &str) -> Vec<FnId> {
        let type_name = ty.name().unwrap_or("");
        let bounds: Vec<Ty> = scope
            .generics
            .iter()
            .filter(|(g, _)| &**g == type_name)
            .flat_map(|(_, b)| b.iter().cloned())
            .collect();
        self.dispatch_bounds(scope, &bounds, name)
    }

    /// Every implementation of `name` among the traits `bounds` names.
    fn dispatch_bounds(&self, scope: &Scope, bounds: &[Ty], name: &str) -> Vec<FnId> {
        let c = &self.crates[scope.krate];
        let mut out = Vec::new();
        for bound in bounds {
            let Some(trait_name) = bound.name() else {
                continue;
            };
            if let Some(impls) = c.trait_impls.get(trait_name).and_then(|m| m.get(name)) {
                out.extend(impls.iter().copied());
            }
        }
        out.sort_unstable();
        out.dedup();
        if out.len() > MAX_DISPATCH {
            out.clear();
        }
        out
    }

    /// A method name only one type of the crate defines, with the arity.
    fn by_name(&self, krate: usize, name: &str, args: usize) -> Vec<FnId> {
        match self.crates[krate].method_by_name.get(name) {
            Some(f)
                if f.len() == 1
                    && self.fns[f[0] as usize].def.params.len() == args
                    && !COMMON.contains(&name)
                    && !super::api::spawns(name) =>
            {
                f.clone()
            }
            _ => Vec::new(),
        }
    }
}
