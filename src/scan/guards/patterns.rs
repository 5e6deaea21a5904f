//! Patterns: parameters and `let`/`match` bindings, and who owns a guard
//! after them.

use super::*;

impl<'a> Interp<'a> {
    pub(super) fn bind_params(&mut self) {
        let info = &self.t.fns[self.f as usize];
        let mut index = 0u32;
        if info.def.self_param.is_some() {
            let ty = self.self_ty();
            let place = Place::new(Root::Param(0), ty.clone(), "self", self.krate, self.f);
            self.locals.push(Local {
                name: "self",
                ty: Rc::new(Ty::Ref(Box::new(ty))),
                place: Some(place),
                deps: Vec::new(),
                closure: None,
                stdio: false,
                param: Some(0),
                threads: Vec::new(),
            });
            index = 1;
        }
        for (pat, ty) in &info.def.params {
            let ty = self.concrete(ty);
            match pat {
                Pat::Bind { name, .. } => {
                    let place =
                        Place::new(Root::Param(index), ty.clone(), name, self.krate, self.f);
                    let holds_guard = self.t.holds_guard(self.krate, &ty);
                    let mode = match ty.name() {
                        Some(n) if n.contains("Read") && !n.contains("Upgradable") => {
                            LockMode::Shared
                        }
                        _ => LockMode::Exclusive,
                    };
                    self.locals.push(Local {
                        name,
                        ty: Rc::new(ty),
                        place: Some(place),
                        deps: Vec::new(),
                        closure: None,
                        stdio: false,
                        param: Some(index),
                        threads: Vec::new(),
                    });
                    if holds_guard {
                        let local = self.locals.len() - 1;
                        let g = self.new_guard(
                            GuardLock::Param { param: index, mode },
                            self.t.fns[self.f as usize].def.pos,
                        );
                        self.give(&[g], Owner::Local(local));
                    }
                }
                other => self.bind_pattern(other, &Val::default(), true),
            }
            index += 1;
        }
    }

    // -----------------------------------------------------------------------
    // Patterns

    /// Binds a pattern to a value. Guards the value owns go to the first
    /// name bound by value (`_` and `ref` bind none: the value stays where
    /// it was).
    pub(super) fn bind_pattern(&mut self, pat: &Pat, v: &Val, whole: bool) {
        match pat {
            Pat::Bind { name, by_ref, sub } => {
                let ty = if whole {
                    v.ty.clone()
                } else {
                    Rc::new(Ty::Infer)
                };
                let place = if whole { v.place.clone() } else { None };
                let place = place.or_else(|| whole.then(|| self.new_local_root(name, &ty)));
                if whole && v.place.is_none() {
                    if let Some(root) = place.as_ref().map(|p| p.root.clone()) {
                        for (field, target) in &v.fields {
                            self.out
                                .aliases
                                .push((root.clone(), *field, target.clone()));
                        }
                    }
                }
                self.locals.push(Local {
                    name,
                    ty,
                    place,
                    deps: v.deps.clone(),
                    closure: if whole { v.closure } else { None },
                    stdio: v.stdio,
                    param: None,
                    threads: if whole { v.threads.clone() } else { Vec::new() },
                });
                let idx = self.locals.len() - 1;
                if !by_ref && !v.guards.is_empty() {
                    self.give(&v.guards, Owner::Local(idx));
                }
                if let Some(sub) = sub {
                    self.bind_pattern(sub, &Val::default(), false);
                }
            }
            Pat::Wild | Pat::Other => {}
            Pat::Tuple(elems) if v.elems.len() == elems.len() => {
                let parts = v.elems.clone();
                for (p, part) in elems.iter().zip(&parts) {
                    self.bind_pattern(p, part, whole);
                }
            }
            Pat::Tuple(elems) | Pat::TupleStruct { elems, .. } => {
                let is_wrapper = matches!(pat, Pat::TupleStruct { path, .. }
                    if path.last().is_some_and(|s| matches!(&**s, "Ok" | "Some" | "Err")));
                let mut rest = v.clone();
                for (i, p) in elems.iter().enumerate() {
                    // `Ok(g)`: `g` is the whole value, unwrapped.
                    let mut part = if is_wrapper && elems.len() == 1 {
                        let mut part = rest.clone();
                        part.ty = Rc::new(unwrap_ty(&rest.ty));
                        part
                    } else if i == 0 || !binds_by_value(&elems[..i]) {
                        let mut part = rest.clone();
                        // `let (lock, cvar) = &*pair;` (the std docs'
                        // idiom): each name is that element of the tuple,
                        // through references and `Arc`s.
                        let tuple = match self.t.strip(self.krate, &rest.ty) {
                            Ty::Tuple(tys) if matches!(pat, Pat::Tuple(_)) => Some(tys),
                            _ => None,
                        };
                        part.ty = Rc::new(
                            tuple
                                .and_then(|tys| tys.get(i).cloned())
                                .unwrap_or_default(),
                        );
                        part.place = match tuple {
                            Some(_) => rest.place.as_ref().map(|p| p.field(&i.to_string())),
                            None => None,
                        };
                        part
                    } else {
                        Val::default()
                    };
                    // A tuple's element known by place is bound as a value
                    // of its own (its place and type kept).
                    let known_element = !is_wrapper && part.place.is_some();
                    if known_element {
                        part.closure = None;
                        part.threads = Vec::new();
                    }
                    let whole_part = (is_wrapper && elems.len() == 1) || known_element;
                    self.bind_pattern(p, &part, whole_part);
                    if binds_by_value(std::slice::from_ref(p)) {
                        rest.guards.clear();
                    }
                }
            }
            Pat::Struct { fields, .. } => {
                let mut rest = v.clone();
                let whole_place = rest.place.take();
                for (name, p) in fields {
                    // `let Ctx { sessions, .. } = &*ctx;`: `sessions` is
                    // that field, of that type.
                    let mut part = rest.clone();
                    part.place = whole_place.as_ref().map(|w| w.field(name));
                    part.closure = None;
                    part.threads = Vec::new();
                    if let Some(ty) = self.t.field_ty(self.krate, &rest.ty, name) {
                        part.ty = Rc::new(ty);
                    }
                    let known_field = part.place.is_some();
                    self.bind_pattern(p, &part, known_field);
                    if binds_by_value(std::slice::from_ref(p)) {
                        rest.guards.clear();
                    }
                }
            }
            Pat::Or(alts) => {
                if let Some(first) = alts.first() {
                    self.bind_pattern(first, v, whole);
                }
            }
            Pat::Ref(inner) => {
                let mut part = v.clone();
                part.guards.clear();
                self.bind_pattern(inner, &part, whole);
            }
        }
    }
}

/// `Err(..)`, `None`: the pattern of a failed `try_lock` (or `try_read`...).
pub(super) fn failure_pattern(pat: &Pat) -> bool {
    match pat {
        Pat::TupleStruct { path, .. } => {
            matches!(path.last().copied(), Some("Err" | "None" | "WouldBlock"))
        }
        Pat::Or(alts) => alts.iter().all(failure_pattern),
        _ => false,
    }
}

/// Whether any of the patterns binds something by value.
pub(super) fn binds_by_value(pats: &[Pat]) -> bool {
    pats.iter().any(|p| match p {
        Pat::Bind { by_ref, sub, .. } => {
            !by_ref
                || sub
                    .as_ref()
                    .is_some_and(|s| binds_by_value(std::slice::from_ref(s)))
        }
        Pat::Tuple(e) | Pat::TupleStruct { elems: e, .. } => binds_by_value(e),
        Pat::Struct { fields, .. } => fields
            .iter()
            .any(|(_, p)| binds_by_value(std::slice::from_ref(p))),
        Pat::Or(alts) => alts
            .first()
            .is_some_and(|a| binds_by_value(std::slice::from_ref(a))),
        Pat::Ref(_) | Pat::Wild | Pat::Other => false,
    })
}
