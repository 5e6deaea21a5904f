//! Calls: lock methods, condvar waits, atomics, known std calls, and the
//! crate's own functions resolved by the receiver's type.

use super::*;

impl<'a> Interp<'a> {
    // -----------------------------------------------------------------------
    // Calls

    /// The value of a call that hands back what it was given (`unwrap`,
    /// `?`): it owns the guards of `v`, taken from wherever they were.
    pub(super) fn pass(&mut self, v: Val, ty: Option<Ty>) -> Val {
        let guards = self.moved_guards(&v);
        let owner = Owner::Temp(self.temps.last().copied().unwrap_or(0));
        self.give(&guards, owner);
        Val {
            guards,
            borrowed: v.borrowed,
            place: v.place,
            ty: ty.map(Rc::new).unwrap_or(v.ty),
            deps: v.deps,
            closure: v.closure,
            local: None,
            stdio: v.stdio,
            acquired: v.acquired,
            elems: v.elems,
            threads: v.threads,
            fields: v.fields,
        }
    }

    pub(super) fn method_call(
        &mut self,
        recv: &'a Expr,
        method: &'a str,
        args: &'a [Expr],
        pos: Pos,
    ) -> Val {
        let r = self.expr(recv);
        if self.dead {
            return Val::default();
        }
        // The crate's own methods first (wrappers named `lock` included),
        // except its spawns: a closure handed to `spawn` runs on a thread of
        // its own even where the crate implements the spawning (a thread
        // pool's `Scope::spawn` queues a job that calls it later).
        let spawned_closure =
            spawns(method) && args.iter().any(|a| matches!(a.kind, ExprKind::Closure(_)));
        let callees = if spawned_closure {
            Vec::new()
        } else {
            self.t
                .resolve_method(&self.scope, &r.ty, method, args.len())
        };
        if !callees.is_empty() {
            return self.user_call(callees, Some(r), args, pos);
        }
        if let Some(flavor) = lock_method(method) {
            let expected_args = usize::from(method.ends_with("_for") || method.ends_with("_until"));
            if args.len() == expected_args {
                if let Some(v) = self.acquire(&r, method, flavor, pos) {
                    let _ = self.exprs(args);
                    return v;
                }
            }
        }
        if method == "join" && args.is_empty() && !r.threads.is_empty() {
            let threads = r.threads.clone();
            self.joined(&threads, pos);
            return Val::default();
        }
        if matches!(
            method,
            "compare_exchange" | "compare_exchange_weak" | "compare_and_swap" | "fetch_update"
        ) && args.len() >= 2
        {
            if let Some(atomic) = r.place.clone() {
                self.out.compare_exchanged.push(atomic);
            }
        }
        match method {
            // `slot.take()` on an `Option<Guard>` moves the guard out.
            "take" | "replace" if r.ty.name() == Some("Option") => {
                let _ = self.exprs(args);
                let ty = Some((*r.ty).clone());
                return self.pass(r, ty);
            }
            _ if passes_guard(method) => {
                let vals = self.args_inline(args);
                let ty = match method {
                    "unwrap" | "expect" | "unwrap_or_else" | "unwrap_unchecked"
                    | "unwrap_or_default" | "ok" => Some(unwrap_ty(&r.ty)),
                    _ => None,
                };
                let mut out = self.pass(r, ty);
                for v in &vals {
                    out.deps.extend_from_slice(&v.deps);
                }
                return out;
            }
            "clone" | "as_ref" | "as_mut" | "borrow" | "borrow_mut" | "deref" | "deref_mut"
            | "as_deref" | "by_ref"
                if args.is_empty() =>
            {
                return Val {
                    place: r.place.clone(),
                    ty: match &*r.ty {
                        Ty::Ref(t) => Rc::new((**t).clone()),
                        _ => r.ty.clone(),
                    },
                    deps: r.deps.clone(),
                    stdio: r.stdio,
                    closure: r.closure,
                    ..Val::default()
                };
            }
            // `map.get(&k)`, `v.get_mut(i)`: an element, which one not known.
            "get" | "get_mut" if !args.is_empty() => {
                let _ = self.args_inline(args);
                let elem = self.t.element_ty(self.krate, &r.ty);
                return Val {
                    place: r.place.as_ref().map(|p| p.field(INDEX)),
                    ty: Rc::new(Ty::Path {
                        segs: vec![intern("Option")],
                        args: vec![Ty::Ref(Box::new(elem))],
                    }),
                    ..Val::default()
                };
            }
            "get" | "get_or_init" | "get_or_try_init" | "force" | "get_mut"
            | "get_or_insert_with"
                if self.t.strip(self.krate, &r.ty) != &*r.ty
                    || matches!(
                        r.ty.name(),
                        Some("OnceCell" | "OnceLock" | "Lazy" | "LazyLock")
                    ) =>
            {
                let _ = self.args_inline(args);
                return Val {
                    place: r.place.clone(),
                    ty: Rc::new(self.t.strip(self.krate, &r.ty).clone()),
                    ..Val::default()
                };
            }
            "iter" | "iter_mut" | "into_iter" | "values" | "values_mut" | "drain" => {
                let _ = self.args_inline(args);
                let elem = self.t.element_ty(self.krate, &r.ty);
                return Val {
                    place: r.place.clone(),
                    ty: Rc::new(Ty::Slice(Box::new(elem))),
                    ..Val::default()
                };
            }
            "wait" | "wait_while" | "wait_timeout" | "wait_timeout_while" | "wait_for"
            | "wait_until" | "wait_while_for" | "wait_while_until" | "wait_timeout_ms" => {
                if let Some(v) = self.condvar_wait(&r, method, args, pos) {
                    return v;
                }
            }
            "notify_one" | "notify_all" if args.is_empty() => {
                if let Some(cv) = r.place.clone() {
                    if !matches!(cv.root, Root::Unknown) || self.t.is_condvar(self.krate, &r.ty) {
                        self.event(EventKind::Notify { cv }, pos);
                    }
                }
                return Val::default();
            }
            "load"
                if args.len() == 1
                    && (is_ordering(&args[0]) || self.t.is_atomic(self.krate, &r.ty)) =>
            {
                let _ = self.exprs(args);
                if let Some(atomic) = r.place.clone() {
                    let id = self.out.loads.len() as u32;
                    self.out
                        .loads
                        .push((atomic.clone(), pos, ordering_of(&args[0])));
                    self.event(EventKind::Load { atomic, id }, pos);
                    return Val {
                        deps: vec![id],
                        ..Val::default()
                    };
                }
                return Val::default();
            }
            "store" | "swap"
                if args.len() == 2
                    && (is_ordering(&args[1]) || self.t.is_atomic(self.krate, &r.ty)) =>
            {
                let vals = self.exprs(args);
                if let Some(atomic) = r.place.clone() {
                    let value_deps = vals[0].deps.clone();
                    let mut deps = value_deps.clone();
                    for c in &self.control {
                        deps.extend_from_slice(c);
                    }
                    // After a won compare-and-swap the thread owns what
                    // the swap claimed (a lock-free queue's slot): its
                    // stores there cannot lose another thread's update.
                    if !deps.is_empty() && self.claims == 0 {
                        self.event(
                            EventKind::Store {
                                atomic,
                                deps,
                                value_deps,
                                order: ordering_of(&args[1]),
                            },
                            pos,
                        );
                    }
                }
                return Val::default();
            }
            _ => {}
        }
        // Some other method: std's or a crate the scan does not see.
        let storing = matches!(
            method,
            "push" | "push_back" | "push_front" | "insert" | "extend" | "append"
        );
        let keeps_closures = storing || matches!(method, "send" | "try_send");
        let spawn = spawns(method);
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            let v = self.expr(a);
            vals.push(v);
        }
        let mut out = Val::default().with_deps(&[&r]);
        out.threads = r.threads.clone();
        if self.foreign(&r.ty) {
            out.ty = Rc::new(Ty::named(FOREIGN));
        }
        for v in &vals {
            out.deps.extend_from_slice(&v.deps);
            out.threads.extend_from_slice(&v.threads);
        }
        if storing {
            if let Some(local) = r.local {
                for v in &vals {
                    self.locals[local].threads.extend_from_slice(&v.threads);
                }
            }
        }
        // Closures handed to it run now (iterator adapters, `map`, `with`),
        // or on another thread for spawns.
        for v in &vals {
            if let Some(c) = v.closure {
                if keeps_closures {
                    // Kept in a container or sent away: run some other time.
                    continue;
                }
                if spawn {
                    let agent = AgentKind::Spawned {
                        pos,
                        in_loop: self.loop_depth > 0,
                    };
                    out.threads.extend(self.run_detached(c, agent, false));
                } else {
                    let mut arg = Val::ty(self.t.element_ty(self.krate, &r.ty));
                    arg.threads = r.threads.clone();
                    let value = self.run_closure(c, vec![arg], false);
                    out.threads.extend_from_slice(&value.threads);
                    self.release(&value.guards);
                }
            }
        }
        for v in &vals {
            let moved = self.moved_guards(v);
            if moved.is_empty() {
                continue;
            }
            match (storing, r.local) {
                (true, Some(local)) => self.give(&moved, Owner::Local(local)),
                _ => self.release(&moved),
            }
        }
        if r.stdio || matches!(method, "stdout" | "stderr" | "stdin") {
            out.stdio = true;
        }
        out
    }

    /// Whether `ty` is a type of another crate that takes no type
    /// arguments (`tempfile::Builder`, `PathBuf`, `String`): what its
    /// methods return is that crate's too, never a value of this crate, so
    /// no method called on it may be guessed by name to be this crate's.
    /// (A generic type such as `Vec<Session>` may hand out this crate's
    /// values, and is not foreign.)
    pub(super) fn foreign(&self, ty: &Ty) -> bool {
        let ty = self.t.strip(self.krate, ty);
        let Ty::Path { segs, args } = ty else {
            return false;
        };
        let Some(name) = segs.last() else {
            return false;
        };
        if &**name == FOREIGN {
            return true;
        }
        let c = &self.t.crates[self.krate];
        args.is_empty()
            && &**name != "Self"
            && !self.scope.generics.iter().any(|(g, _)| g == name)
            && !c.structs.contains_key(name)
            && !c.methods.contains_key(name)
            && !c.aliases.contains_key(name)
            && !c.lock_wrappers.contains(name)
            && !super::super::tables::is_guard_name(ty)
            && self.t.data(self.krate, ty) == ty
    }

    /// Evaluates arguments; closures among them run here.
    pub(super) fn args_inline(&mut self, args: &'a [Expr]) -> Vec<Val> {
        let vals = self.exprs(args);
        for v in &vals {
            if let Some(c) = v.closure {
                let value = self.run_closure(c, vec![Val::default()], false);
                self.release(&value.guards);
            }
        }
        vals
    }

    /// A lock method on `r`: an acquisition when `r` is a lock (or, its
    /// type unknown, looks like one). Returns the guard (or lock future).
    pub(super) fn acquire(
        &mut self,
        r: &Val,
        method: &str,
        flavor: LockFlavor,
        pos: Pos,
    ) -> Option<Val> {
        if r.stdio {
            return None;
        }
        let lock_ty = self.t.lock_ty(self.krate, &r.ty);
        let typed = lock_ty.is_some();
        if !typed {
            let stripped = self.t.strip(self.krate, &r.ty);
            let generic = match stripped {
                Ty::Path { segs, .. } if segs.len() == 1 => {
                    self.scope.generics.iter().any(|(g, _)| *g == segs[0])
                }
                _ => false,
            };
            let unknown = !stripped.is_known() || generic;
            if !unknown {
                return None;
            }
            // `read`/`write` with no type to go by: only on a field (raw
            // pointers and readers are locals and temporaries).
            let plain = matches!(method, "lock" | "try_lock");
            let on_field = r.place.as_ref().is_some_and(|p| !p.path.is_empty())
                || r.place
                    .as_ref()
                    .is_some_and(|p| matches!(p.root, Root::Static(_)));
            if !plain && !on_field {
                return None;
            }
        }
        let place = match &r.place {
            Some(p) => p.clone(),
            None => Place::new(Root::Unknown, (*r.ty).clone(), method, self.krate, self.f),
        };
        let flavor = LockFlavor {
            reentrant: lock_ty.is_some_and(|l| l.reentrant),
            ..flavor
        };
        let acq = Acq {
            place,
            mode: flavor.mode,
            recursive: flavor.recursive,
            upgradable: flavor.upgradable,
            reentrant: flavor.reentrant,
            blocking: flavor.blocking,
            awaited: false,
            typed,
        };
        let held = self.held();
        let guard = self.new_guard(GuardLock::Direct(acq), pos);
        self.event_holding(EventKind::Acquire { guard }, pos, held);
        let data = self.t.data(self.krate, &r.ty).clone();
        let ty = guard_ty(flavor.mode, data);
        Some(Val {
            guards: vec![guard],
            place: r.place.clone(),
            ty: Rc::new(ty),
            acquired: true,
            ..Val::default()
        })
    }

    pub(super) fn condvar_wait(
        &mut self,
        r: &Val,
        method: &str,
        args: &'a [Expr],
        pos: Pos,
    ) -> Option<Val> {
        let first = args.first()?;
        let is_cv = self.t.is_condvar(self.krate, &r.ty);
        let g = self.expr(first);
        let mut guards = self.moved_guards(&g);
        guards.extend(g.borrowed.iter().copied());
        if !is_cv && guards.is_empty() {
            // Not a condvar as far as the source shows.
            let rest = self.exprs(&args[1..]);
            drop(rest);
            return Some(Val::default());
        }
        let rest = &args[1..];
        // A timed wait returns by itself (it is often a sleep), and
        // `wait_while` loops on its predicate.
        let timed =
            method.contains("timeout") || method.ends_with("_for") || method.contains("until");
        let looped = self.loop_depth > 0 || method.contains("while") || timed;
        let guard = guards.first().copied();
        if let Some(cv) = r.place.clone() {
            let mut held = self.held();
            held.retain(|h| Some(*h) != guard);
            self.event_holding(
                EventKind::Wait {
                    cv,
                    guard,
                    looped,
                    timed,
                },
                pos,
                held,
            );
        }
        // The predicate of `wait_while` runs with the lock held.
        for a in rest {
            let v = self.expr(a);
            if let Some(c) = v.closure {
                let _ = self.run_closure(c, vec![Val::default()], false);
            }
        }
        // std's `wait` hands the guard back; parking_lot's keeps it in place.
        let by_value = g.borrowed.is_empty() || !g.guards.is_empty() || g.local.is_some();
        if by_value && matches!(first.kind, ExprKind::Ref { .. }) {
            return Some(Val::default());
        }
        let mut out = self.pass(g, None);
        out.ty = Rc::new(Ty::Infer);
        Some(out)
    }

    pub(super) fn call(&mut self, func: &'a Expr, args: &'a [Expr], pos: Pos) -> Val {
        let path = match &func.kind {
            ExprKind::Path(p) => p.as_slice(),
            _ => {
                let f = self.expr(func);
                let vals = self.exprs(args);
                if let Some(c) = f.closure {
                    return self.run_closure(c, vals, false);
                }
                return Val::default();
            }
        };
        let last = path.last().map(|s| &**s).unwrap_or("");
        // A local closure, or a closure parameter.
        if let [name] = path {
            if let Some(local) = self.lookup(name) {
                let closure = self.locals[local].closure;
                let param = self.locals[local].param;
                let vals = self.exprs(args);
                if let Some(c) = closure {
                    return self.run_closure(c, vals, false);
                }
                if let Some(param) = param {
                    self.event(EventKind::InvokeParam { param }, pos);
                }
                return Val::default();
            }
        }
        let std_path = matches!(
            path.first().map(|s| &**s),
            Some(
                "std"
                    | "core"
                    | "mem"
                    | "thread"
                    | "tokio"
                    | "rayon"
                    | "task"
                    | "async_std"
                    | "smol"
            )
        );
        match last {
            "drop" | "forget" if args.len() == 1 && (path.len() == 1 || std_path) => {
                let v = self.expr(&args[0]);
                let guards = self.moved_guards(&v);
                self.release(&guards);
                if last == "drop" {
                    // `drop(entry)` runs the crate's `impl Drop for Entry`
                    // here, with whatever the caller holds.
                    let ty = self.t.strip(self.krate, &v.ty).clone();
                    if let Some(name) = ty.name() {
                        let callees: Vec<FnId> = self
                            .t
                            .resolve_method(&self.scope, &ty, "drop", 0)
                            .into_iter()
                            .filter(|&c| {
                                let info = &self.t.fns[c as usize];
                                info.trait_name == Some("Drop")
                                    && info.self_ty.as_ref().and_then(|t| t.name()) == Some(name)
                            })
                            .collect();
                        if !callees.is_empty() {
                            let _ = self.user_call(callees, Some(v), &[], pos);
                        }
                    }
                }
                return Val::default();
            }
            _ if spawns(last) && vals_have_closure(args) => {
                let vals = self.exprs(args);
                let mut out = Val::default();
                for v in &vals {
                    if let Some(c) = v.closure {
                        let agent = AgentKind::Spawned {
                            pos,
                            in_loop: self.loop_depth > 0,
                        };
                        out.threads.extend(self.run_detached(c, agent, false));
                    }
                }
                return out;
            }
            "join" | "join_context" if path.len() > 1 && args.len() == 2 => {
                // `rayon::join(a, b)`: both may run at once, while the caller waits.
                let vals = self.exprs(args);
                if vals.iter().all(|v| v.closure.is_some()) {
                    let mut both = Vec::new();
                    for v in &vals {
                        if let Some(c) = v.closure {
                            let agent = AgentKind::Spawned {
                                pos,
                                in_loop: self.loop_depth > 0,
                            };
                            both.extend(self.run_detached(c, agent, true));
                        }
                    }
                    self.joined(&both, pos);
                    return Val::default();
                }
                for v in &vals {
                    if let Some(c) = v.closure {
                        let _ = self.run_closure(c, Vec::new(), false);
                    }
                }
                return Val::default();
            }
            "scope" | "in_place_scope" if args.len() == 1 => {
                // `thread::scope(|s| ..)`: every thread spawned inside is
                // joined when it returns.
                let before = self.out.bodies.len() as u32;
                let vals = self.args_inline(args);
                let cur = self.cur as u32;
                let inside: Vec<u32> = (before..self.out.bodies.len() as u32)
                    .filter(|&b| {
                        self.out.bodies[b as usize]
                            .spawned_by
                            .is_some_and(|(by, _)| by == cur)
                    })
                    .collect();
                self.joined(&inside, pos);
                let mut out = Val::default();
                for v in &vals {
                    out.deps.extend_from_slice(&v.deps);
                }
                return out;
            }
            "unlocked" | "unlocked_fair" if args.len() == 2 => {
                // parking_lot's `MutexGuard::unlocked(&mut g, f)`: `f` runs
                // without the lock.
                let g = self.expr(&args[0]);
                let mut off = g.borrowed.clone();
                if let Some(local) = g.local {
                    off.extend(self.owned_by_local(local));
                }
                let saved: Vec<Live> = self
                    .live
                    .iter()
                    .filter(|l| off.contains(&l.guard))
                    .copied()
                    .collect();
                self.release(&off);
                let f = self.expr(&args[1]);
                let value = match f.closure {
                    Some(c) => self.run_closure(c, Vec::new(), false),
                    None => Val::default(),
                };
                self.live.extend(saved);
                return value;
            }
            _ => {}
        }
        // `Arc::clone(&x)`: the same object.
        if last == "clone" && args.len() == 1 && path.len() >= 2 {
            let v = self.expr(&args[0]);
            return Val {
                place: v.place.clone(),
                ty: match &*v.ty {
                    Ty::Ref(t) => Rc::new((**t).clone()),
                    _ => v.ty.clone(),
                },
                ..Val::default()
            };
        }
        let callees = self.t.resolve_path(&self.scope, path);
        if !callees.is_empty() {
            return self.user_call(callees, None, args, pos);
        }
        // Constructors and wrappers: `Some(g)`, `Arc::new(x)`, `Foo(g)`.
        let constructor = last.starts_with(|c: char| c.is_ascii_uppercase())
            || (path.len() >= 2
                && path[path.len() - 2].starts_with(|c: char| c.is_ascii_uppercase())
                && matches!(last, "new" | "from" | "pin" | "default" | "new_with"));
        // A constructor keeps a closure (`Box::new(move || ..)`) for later;
        // other functions are taken to call it now.
        let vals = if constructor {
            self.exprs(args)
        } else {
            self.args_inline(args)
        };
        let mut out = Val::default();
        for v in &vals {
            out.deps.extend_from_slice(&v.deps);
            if constructor && out.closure.is_none() {
                out.closure = v.closure;
            }
        }
        if constructor {
            for v in &vals {
                let moved = self.moved_guards(v);
                out.guards.extend(moved);
            }
            let owner = Owner::Temp(self.temps.last().copied().unwrap_or(0));
            let guards = out.guards.clone();
            self.give(&guards, owner);
            out.ty = Rc::new(if last.starts_with(|c: char| c.is_ascii_uppercase()) {
                match last {
                    "Some" | "Ok" | "Err" => Ty::Path {
                        segs: vec![if last == "Some" { "Option" } else { "Result" }],
                        args: vec![vals.first().map(|v| (*v.ty).clone()).unwrap_or_default()],
                    },
                    _ => self.concrete(&Ty::named(last)),
                }
            } else {
                let owner = &path[path.len() - 2];
                Ty::Path {
                    segs: vec![*owner],
                    args: vals.first().map(|v| (*v.ty).clone()).into_iter().collect(),
                }
            });
            let owner_name = out.ty.name().unwrap_or("");
            if matches!(owner_name, "Self") {
                out.ty = Rc::new(self.self_ty());
            }
            return out;
        }
        for v in &vals {
            let moved = self.moved_guards(v);
            self.release(&moved);
        }
        if matches!(last, "stdout" | "stderr" | "stdin") {
            out.stdio = true;
        }
        out
    }

    /// A call of the crate's own functions (several when it may dispatch
    /// to several implementations).
    pub(super) fn user_call(
        &mut self,
        callees: Vec<FnId>,
        recv: Option<Val>,
        args: &'a [Expr],
        pos: Pos,
    ) -> Val {
        let t = self.t;
        let info = &t.fns[callees[0] as usize];
        let method = info.def.self_param.is_some();
        let mut vals: Vec<Val> = Vec::with_capacity(args.len() + 1);
        if let Some(r) = recv {
            if method {
                vals.push(r);
            }
        }
        for a in args {
            let v = self.expr(a);
            vals.push(v);
        }
        if self.dead {
            return Val::default();
        }
        let places: Vec<Option<Place>> = vals.iter().map(|v| v.place.clone()).collect();
        let returns_guard = callees.iter().any(|&c| t.fns[c as usize].returns_guard);
        // Guards moved into parameters the callee declares as guards: the
        // callee holds them, as long as its own code says.
        let mut moved = Vec::new();
        for (i, v) in vals.iter().enumerate() {
            if method && i == 0 {
                continue;
            }
            let takes_guard = callees.iter().all(|&c| {
                let f = &t.fns[c as usize];
                f.param_ty(i).is_some_and(|ty| t.holds_guard(f.krate, &ty))
            });
            if takes_guard {
                let guards = self.moved_guards(v);
                if !guards.is_empty() {
                    moved.push((i as u32, guards));
                }
            }
        }
        let mut held = self.held();
        held.retain(|g| !moved.iter().any(|(_, m)| m.contains(g)));
        let call = self.event_holding(
            EventKind::Call {
                callees: callees.clone(),
                args: places,
                guard: None,
                moved,
            },
            pos,
            held,
        );
        // Parameters handed on (a closure the caller gave us, passed down).
        if self.cur == 0 {
            for (i, v) in vals.iter().enumerate() {
                if let Some(param) = v.local.and_then(|l| self.locals[l].param) {
                    self.out.forwards.push((param, call, i as u32));
                }
            }
        }
        // Closures passed in run inside the callee.
        let held_at_call = self.held();
        for (i, v) in vals.iter().enumerate() {
            if let Some(c) = v.closure {
                let saved = self.ctx;
                self.out.ctxs.push(Ctx {
                    parent: saved,
                    body: self.cur as u32,
                    call,
                    arg: i as u32,
                    held: held_at_call.clone(),
                });
                self.ctx = (self.out.ctxs.len() - 1) as u32;
                let value = self.run_closure(c, vec![Val::default()], false);
                self.release(&value.guards);
                self.ctx = saved;
            }
        }
        // Guards moved in are dropped when the callee returns, unless it
        // hands them back.
        let identity = callees
            .iter()
            .all(|&c| t.fns[c as usize].returns_param.is_some());
        let mut out = Val::default();
        for (i, v) in vals.iter().enumerate() {
            let by_value = !(method && i == 0);
            if !by_value {
                continue;
            }
            let moved = self.moved_guards(v);
            if moved.is_empty() {
                continue;
            }
            let handed_back = identity
                && callees
                    .iter()
                    .any(|&c| t.fns[c as usize].returns_param == Some(i as u32));
            if handed_back {
                let owner = Owner::Temp(self.temps.last().copied().unwrap_or(0));
                self.give(&moved, owner);
                out.guards.extend(moved);
                out.ty = v.ty.clone();
                out.place = v.place.clone();
            } else {
                self.release(&moved);
            }
        }
        if returns_guard {
            let guard = self.new_guard(
                GuardLock::Call {
                    body: self.cur as u32,
                    event: call,
                    awaited: false,
                },
                pos,
            );
            if let EventKind::Call { guard: g, .. } =
                &mut self.out.bodies[self.cur].events[call as usize].kind
            {
                *g = Some(guard);
            }
            out.guards.push(guard);
        }
        // The result's type and place.
        if let Some(ret) = &info.def.ret {
            let ret = match (ret, &info.self_ty) {
                (Ty::Path { segs, args }, Some(self_ty))
                    if segs.len() == 1 && segs[0] == "Self" && args.is_empty() =>
                {
                    self_ty.clone()
                }
                (ret, _) => ret.clone(),
            };
            if !out.ty.is_known() {
                out.ty = Rc::new(ret);
            }
        }
        match &info.returns_place {
            Some((ReturnRoot::Param(param), fields)) => {
                if let Some(Some(arg)) = vals.get(*param as usize).map(|v| v.place.as_ref()) {
                    let mut p = arg.clone();
                    p.path.extend(fields.iter().cloned());
                    out.place = Some(p);
                }
            }
            Some((ReturnRoot::Static(name), fields)) => {
                let krate = info.krate;
                if let Some(&id) = t.crates[krate]
                    .statics
                    .get(name)
                    .and_then(|ids| ids.first())
                {
                    let def = &t.statics[id].def;
                    let mut p = Place::new(
                        Root::Static(id as u32),
                        def.ty.clone(),
                        def.name,
                        krate,
                        self.f,
                    );
                    p.path.extend(fields.iter().cloned());
                    out.place = Some(p);
                }
            }
            None => {}
        }
        for v in &vals {
            out.deps.extend_from_slice(&v.deps);
        }
        out
    }
}
