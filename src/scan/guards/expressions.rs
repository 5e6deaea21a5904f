//! Blocks, statements and expressions: the value of each, the guards it
//! makes, moves and drops.

use super::*;

pub(super) fn unwrap_ty(ty: &Ty) -> Ty {
    match ty.name() {
        Some("Result" | "Option" | "LockResult" | "TryLockResult" | "Poll") => {
            ty.args().first().cloned().unwrap_or_default()
        }
        _ => ty.clone(),
    }
}

pub(super) fn guard_ty(mode: LockMode, data: Ty) -> Ty {
    let name = match mode {
        LockMode::Exclusive => "MutexGuard",
        LockMode::Shared => "RwLockReadGuard",
    };
    Ty::generic(name, data)
}

pub(super) fn is_ordering(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Path(p) => p.last().is_some_and(|s| {
            matches!(
                &**s,
                "Relaxed" | "SeqCst" | "Acquire" | "Release" | "AcqRel"
            )
        }),
        _ => false,
    }
}

/// The ordering an argument names (`Ordering::Release` -> `Release`).
pub(super) fn ordering_of(e: &Expr) -> Option<Sym> {
    match &e.kind {
        ExprKind::Path(p) if is_ordering(e) => p.last().copied(),
        _ => None,
    }
}

pub(super) fn has_let(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Let { .. } => true,
        ExprKind::Binary(l, BinOp::And, r) => has_let(l) || has_let(r),
        _ => false,
    }
}

impl<'a> Interp<'a> {
    // -----------------------------------------------------------------------
    // Blocks and statements

    /// A block; `scope`: the block's tail is a temporary scope of its own
    /// (bodies of `if`, loops, arms, closures, functions; every block in
    /// edition 2024).
    pub(super) fn block(&mut self, b: &'a Block, scope: bool) -> Val {
        let mark = self.locals.len();
        // A claim won inside the block (`if cas.is_err() { return }`) ends
        // with it.
        let claims = self.claims;
        let n = b.stmts.len();
        let mut value = Val::default();
        for (i, stmt) in b.stmts.iter().enumerate() {
            if self.dead || self.fuel == 0 {
                break;
            }
            match stmt {
                Stmt::Let {
                    pat,
                    ty,
                    init,
                    els,
                    pos,
                } => self.let_stmt(pat, ty.as_ref(), init.as_ref(), els.as_ref(), *pos),
                Stmt::Expr { expr, semi } => {
                    let tail = i + 1 == n && !semi;
                    if tail {
                        let tail_scope =
                            (scope || self.edition >= Edition::E2024).then(|| self.push_temp());
                        value = self.expr(expr);
                        if let Some(s) = tail_scope {
                            let keep = value.guards.clone();
                            self.pop_temp(s, &keep);
                        }
                    } else {
                        let s = self.push_temp();
                        let v = self.expr(expr);
                        drop(v);
                        self.pop_temp(s, &[]);
                    }
                }
            }
        }
        // The block's value may be one of its locals (`{ let g = ..; g }`).
        if let Some(local) = value.local {
            if local >= mark {
                value.guards = self.owned_by_local(local);
                value.local = None;
            }
        }
        let keep = value.guards.clone();
        self.pop_locals(mark, &keep);
        self.claims = claims;
        value
    }

    pub(super) fn let_stmt(
        &mut self,
        pat: &'a Pat,
        ty: Option<&'a Ty>,
        init: Option<&'a Expr>,
        els: Option<&'a Block>,
        pos: Pos,
    ) {
        let s = self.push_temp();
        let mut v = match init {
            Some(e) => self.expr(e),
            None => Val::default(),
        };
        if let Some(ty) = ty {
            v.ty = Rc::new(self.concrete(ty));
        }
        // `let x = &temp()...`: the temporary lives as long as `x`.
        if let Some(e) = init {
            if extends_temporaries(e) {
                let mut extended = v.borrowed.clone();
                extended.extend(v.guards.iter().copied());
                v.guards = extended;
            }
        }
        if let Some(local) = v.local {
            // Moving a local: its guards come along.
            v.guards.extend(self.owned_by_local(local));
            if v.place.is_none() {
                v.place = self.locals[local].place.clone();
            }
        }
        if let Some(els) = els {
            let before = self.save();
            self.release(&v.guards.clone());
            let _ = self.block(els, true);
            self.restore(before);
        }
        let _ = pos;
        self.bind_pattern(pat, &v, true);
        self.pop_temp(s, &[]);
    }

    // -----------------------------------------------------------------------
    // Expressions

    pub(super) fn exprs(&mut self, es: &'a [Expr]) -> Vec<Val> {
        es.iter().map(|e| self.expr(e)).collect()
    }

    pub(super) fn expr(&mut self, e: &'a Expr) -> Val {
        if self.dead || self.fuel == 0 {
            return Val::default();
        }
        self.fuel -= 1;
        match &e.kind {
            ExprKind::Path(path) => self.path(path, e.pos),
            ExprKind::Lit => Val::default(),
            ExprKind::Field(base, name) => {
                let b = self.expr(base);
                let ty = self.t.field_ty(self.krate, &b.ty, name).unwrap_or_default();
                let place = b.place.as_ref().map(|p| {
                    let p = p.field(name);
                    self.out.unalias(&p).unwrap_or(p)
                });
                let mut borrowed = b.borrowed.clone();
                borrowed.extend(b.guards.iter().copied());
                if let Some(local) = b.local {
                    borrowed.extend(self.owned_by_local(local));
                }
                Val {
                    place,
                    ty: Rc::new(ty),
                    borrowed,
                    stdio: false,
                    ..Val::default()
                }
                .with_deps(&[&b])
            }
            ExprKind::Index(base, index) => {
                let b = self.expr(base);
                let i = self.expr(index);
                let ty = self.t.element_ty(self.krate, &b.ty);
                Val {
                    place: b.place.as_ref().map(|p| p.field(INDEX)),
                    ty: Rc::new(ty),
                    ..Val::default()
                }
                .with_deps(&[&b, &i])
            }
            ExprKind::MethodCall { recv, method, args } => {
                self.method_call(recv, method, args, e.pos)
            }
            ExprKind::Call { func, args } => self.call(func, args, e.pos),
            ExprKind::Macro { path, args } => {
                let name = path.last().map(|s| &**s).unwrap_or("");
                let vals = self.exprs(args);
                if diverges(name) {
                    self.dead = true;
                    return Val::default();
                }
                let mut out = Val::default();
                for v in &vals {
                    out.deps.extend_from_slice(&v.deps);
                }
                if name == "vec" {
                    for v in &vals {
                        out.guards.extend(self.moved_guards(v));
                        out.threads.extend_from_slice(&v.threads);
                    }
                }
                out
            }
            ExprKind::Ref { expr, .. } => {
                let v = self.expr(expr);
                let mut borrowed = v.borrowed.clone();
                borrowed.extend(v.guards.iter().copied());
                if let Some(local) = v.local {
                    borrowed.extend(self.owned_by_local(local));
                }
                Val {
                    borrowed,
                    place: v.place.clone(),
                    ty: Rc::new(Ty::Ref(Box::new((*v.ty).clone()))),
                    deps: v.deps.clone(),
                    stdio: v.stdio,
                    closure: v.closure,
                    ..Val::default()
                }
            }
            ExprKind::Deref(inner) => {
                let v = self.expr(inner);
                let mut borrowed = v.borrowed.clone();
                borrowed.extend(v.guards.iter().copied());
                if let Some(local) = v.local {
                    borrowed.extend(self.owned_by_local(local));
                }
                let ty = Rc::new(match &*v.ty {
                    Ty::Ref(t) => (**t).clone(),
                    other => self.t.data(self.krate, other).clone(),
                });
                Val {
                    borrowed,
                    place: v.place.clone(),
                    ty,
                    deps: v.deps.clone(),
                    ..Val::default()
                }
            }
            ExprKind::Unary(inner) => {
                let v = self.expr(inner);
                Val::default().with_deps(&[&v])
            }
            ExprKind::Binary(l, op, r) => {
                let lv = self.expr(l);
                match op {
                    BinOp::And | BinOp::Or => {
                        let before = self.save();
                        let s = self.push_temp();
                        let rv = self.expr(r);
                        self.pop_temp(s, &[]);
                        let after = self.save();
                        self.merge(vec![before, after]);
                        Val::default().with_deps(&[&lv, &rv])
                    }
                    BinOp::Other => {
                        let rv = self.expr(r);
                        Val::default().with_deps(&[&lv, &rv])
                    }
                }
            }
            ExprKind::Assign(place, value) => {
                self.assign(place, value);
                Val::default()
            }
            ExprKind::CompoundAssign(place, value) => {
                let v = self.expr(value);
                let p = self.expr(place);
                if let Some(local) = p.local {
                    let deps = v.deps.clone();
                    self.locals[local].deps.extend(deps);
                }
                Val::default()
            }
            ExprKind::Cast(inner, ty) => {
                let v = self.expr(inner);
                Val::ty(ty.clone()).with_deps(&[&v])
            }
            ExprKind::Block(b) => self.block(b, false),
            ExprKind::Async(b) => self.closure_value(ClosureRef::Async(b, e.pos)),
            ExprKind::Closure(c) => self.closure_value(ClosureRef::Closure(c, e.pos)),
            ExprKind::If { cond, then, els } => self.if_expr(cond, then, els.as_deref()),
            ExprKind::Let { pat, expr } => {
                // A `let` outside an `if`/`while` condition (macro output).
                let v = self.expr(expr);
                self.bind_pattern(pat, &v, true);
                Val::default()
            }
            ExprKind::Match { scrutinee, arms } => self.match_expr(scrutinee, arms),
            ExprKind::While { cond, body } => {
                self.while_loop(cond, body);
                Val::default()
            }
            ExprKind::Loop(body) => {
                self.loop_expr(None, body);
                Val::default()
            }
            ExprKind::For { pat, iter, body } => {
                self.for_loop(pat, iter, body);
                Val::default()
            }
            ExprKind::Await(inner) => self.await_expr(inner, e.pos),
            ExprKind::Try(inner) => {
                let v = self.expr(inner);
                let mut out = self.pass(v, None);
                out.ty = Rc::new(unwrap_ty(&out.ty));
                out
            }
            ExprKind::Return(value) => {
                let v = match value {
                    Some(v) => self.expr(v),
                    None => Val::default(),
                };
                if !self.dead {
                    let guards = self.moved_guards(&v);
                    self.event(EventKind::Return { guards }, e.pos);
                }
                self.dead = true;
                Val::default()
            }
            ExprKind::Break(value) => {
                let keep = match value {
                    Some(v) => {
                        let v = self.expr(v);
                        self.moved_guards(&v)
                    }
                    None => Vec::new(),
                };
                let state = self.leaving_loop(&keep);
                if let Some(frame) = self.loops.last_mut() {
                    frame.breaks.push(state);
                }
                self.dead = true;
                Val::default()
            }
            ExprKind::Continue => {
                let state = self.leaving_loop(&[]);
                if let Some(frame) = self.loops.last_mut() {
                    frame.continues.push(state);
                }
                self.dead = true;
                Val::default()
            }
            ExprKind::Struct { path, fields, rest } => {
                let mut out = Val::default();
                for (name, f) in fields {
                    let v = self.expr(f);
                    if let Some(place) = &v.place {
                        out.fields.push((*name, place.clone()));
                    }
                    let moved = self.moved_guards(&v);
                    out.guards.extend(moved);
                    out.deps.extend_from_slice(&v.deps);
                    if let Some(c) = v.closure {
                        self.closures[c as usize].used = false;
                    }
                }
                if let Some(r) = rest {
                    let _ = self.expr(r);
                }
                out.ty = Rc::new(self.concrete(&Ty::Path {
                    segs: path.clone(),
                    args: Vec::new(),
                }));
                out
            }
            ExprKind::Tuple(items) | ExprKind::Array(items) => {
                let vals = self.exprs(items);
                let mut out = Val::default();
                let mut tys = Vec::new();
                for v in &vals {
                    out.guards.extend(self.moved_guards(v));
                    out.deps.extend_from_slice(&v.deps);
                    tys.push(v.ty.clone());
                }
                if matches!(e.kind, ExprKind::Tuple(_)) {
                    out.ty = Rc::new(Ty::Tuple(
                        tys.iter().map(|t: &Rc<Ty>| (**t).clone()).collect(),
                    ));
                    if vals.len() <= 8 {
                        out.elems = vals
                            .into_iter()
                            .map(|mut v| {
                                v.guards = self.moved_guards(&v);
                                v.local = None;
                                v
                            })
                            .collect();
                    }
                }
                out
            }
            ExprKind::Other(parts) => {
                let vals = self.exprs(parts);
                let mut out = Val::default();
                for v in &vals {
                    out.deps.extend_from_slice(&v.deps);
                }
                out
            }
        }
    }

    /// The guards a value gives up when it is moved: its own, or those of
    /// the local it names.
    pub(super) fn moved_guards(&self, v: &Val) -> Vec<u32> {
        let mut guards = v.guards.clone();
        if let Some(local) = v.local {
            for g in self.owned_by_local(local) {
                if !guards.contains(&g) {
                    guards.push(g);
                }
            }
        }
        guards
    }

    pub(super) fn path(&mut self, path: &'a [Sym], pos: Pos) -> Val {
        if let [name] = path {
            if let Some(i) = self.lookup(name) {
                let l = &self.locals[i];
                return Val {
                    guards: Vec::new(),
                    place: l.place.clone(),
                    ty: l.ty.clone(),
                    deps: l.deps.clone(),
                    closure: l.closure,
                    local: Some(i),
                    stdio: l.stdio,
                    threads: l.threads.clone(),
                    ..Val::default()
                };
            }
        }
        // A static of the crate, or of another scanned crate (`store::TABLE`).
        let name = path.last().map(|s| &**s).unwrap_or("");
        if name.starts_with(|c: char| c.is_ascii_uppercase()) {
            let krate = match path.first() {
                Some(first) if path.len() > 1 => self
                    .t
                    .crate_by_name
                    .get(*first)
                    .copied()
                    .unwrap_or(self.krate),
                _ => self.krate,
            };
            if let Some(ids) = self.t.crates[krate].statics.get(name) {
                let id = ids
                    .iter()
                    .copied()
                    .find(|&s| self.t.statics[s].def.module.as_slice() == self.scope.module)
                    .unwrap_or(ids[0]);
                let def = &self.t.statics[id].def;
                let place = Place::new(
                    Root::Static(id as u32),
                    def.ty.clone(),
                    def.name,
                    self.krate,
                    self.f,
                );
                return Val {
                    place: Some(place),
                    ty: Rc::new(def.ty.clone()),
                    ..Val::default()
                };
            }
        }
        let _ = pos;
        Val::default()
    }

    pub(super) fn assign(&mut self, place: &'a Expr, value: &'a Expr) {
        // The right side first; the old value is dropped after.
        let v = self.expr(value);
        let moved = self.moved_guards(&v);
        if let ExprKind::Path(path) = &place.kind {
            if let [name] = path.as_slice() {
                if let Some(local) = self.lookup(name) {
                    let old = self.owned_by_local(local);
                    self.release(&old);
                    self.give(&moved, Owner::Local(local));
                    let l = &mut self.locals[local];
                    if v.ty.is_known() {
                        l.ty = v.ty.clone();
                    }
                    if v.place.is_some() {
                        l.place = v.place.clone();
                    }
                    l.deps = v.deps.clone();
                    l.closure = v.closure.or(l.closure);
                    if !v.threads.is_empty() {
                        l.threads = v.threads.clone();
                    }
                    return;
                }
            }
        }
        let _ = self.expr(place);
        // Stored somewhere the analysis does not follow.
        self.release(&moved);
    }
}

/// `let x = &temp()..`: a borrow (through fields, indexes and derefs) of a
/// temporary extends it to the end of the block.
pub(super) fn extends_temporaries(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Ref { expr, .. } => {
            let mut inner = &**expr;
            loop {
                match &inner.kind {
                    ExprKind::Field(b, _) | ExprKind::Index(b, _) | ExprKind::Deref(b) => inner = b,
                    ExprKind::MethodCall { .. } | ExprKind::Call { .. } | ExprKind::Try(_) => {
                        return true
                    }
                    _ => return false,
                }
            }
        }
        _ => false,
    }
}

/// Whether two values are (or refer to) the same place, when known.
pub(super) fn same_place(a: &Option<Place>, b: &Option<Place>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.root == b.root && a.path == b.path,
        (None, None) => true,
        _ => false,
    }
}
