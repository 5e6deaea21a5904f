//! Control flow: `if`, `match`, loops and `.await`, each with its own
//! temporary scopes.

use super::*;

impl<'a> Interp<'a> {
    // -----------------------------------------------------------------------
    // Control flow

    pub(super) fn if_expr(
        &mut self,
        cond: &'a Expr,
        then: &'a Block,
        els: Option<&'a Expr>,
    ) -> Val {
        let mark = self.locals.len();
        let mut lost_returns = false;
        let (then_val, then_state, else_state) = if has_let(cond) {
            // `if let`: in 2024 the scrutinee's temporaries are dropped
            // before `else`; before, they live through it.
            let scope = (self.edition >= Edition::E2024).then(|| self.push_temp());
            let (deps, bound) = self.cond_lets(cond);
            let mut else_state = self.save();
            else_state.live.retain(|l| {
                !bound.contains(&l.guard)
                    && !matches!((l.owner, scope), (Owner::Temp(t), Some(s)) if t == s)
            });
            self.control.push(deps.clone());
            let v = self.block(then, true);
            let keep = v.guards.clone();
            self.pop_locals(mark, &keep);
            if let Some(s) = scope {
                self.pop_temp(s, &keep);
            }
            let then_state = self.save();
            (v, then_state, (else_state, deps))
        } else {
            let s = self.push_temp();
            let c = self.expr(cond);
            self.pop_temp(s, &[]);
            let else_state = self.save();
            self.control.push(c.deps.clone());
            // `if a.compare_exchange(..).is_ok() { .. }`
            let claimed = matches!(&cond.kind,
                ExprKind::MethodCall { recv, method, .. }
                    if &**method == "is_ok" && compare_and_swap(recv));
            self.claims += u32::from(claimed);
            let v = self.block(then, true);
            self.claims -= u32::from(claimed);
            // `if a.compare_exchange(..).is_err() { return }`: whatever
            // follows in the block runs only for the thread that won.
            lost_returns = self.dead
                && matches!(&cond.kind,
                    ExprKind::MethodCall { recv, method, .. }
                        if &**method == "is_err" && compare_and_swap(recv));
            let then_state = self.save();
            (v, then_state, (else_state, c.deps))
        };
        let (else_state, deps) = else_state;
        self.restore(else_state);
        let else_val = match els {
            Some(e) => {
                let v = match &e.kind {
                    ExprKind::Block(b) => self.block(b, true),
                    _ => self.expr(e),
                };
                Some(v)
            }
            None => None,
        };
        self.control.pop();
        let _ = deps;
        let else_state = self.save();
        self.merge(vec![then_state, else_state]);
        if lost_returns && els.is_none() {
            self.claims += 1;
        }
        let mut out = then_val;
        if let Some(e) = else_val {
            out.guards.extend(e.guards);
            if !out.ty.is_known() {
                out.ty = e.ty;
            }
            // One place on one branch and another on the other (`if a < b
            // { (a, b) } else { (b, a) }`, a lock order picked at run time):
            // neither is known.
            if !same_place(&out.place, &e.place) {
                out.place = None;
            }
            if out.elems.len() == e.elems.len() {
                for (a, b) in out.elems.iter_mut().zip(&e.elems) {
                    if !same_place(&a.place, &b.place) {
                        a.place = None;
                    }
                }
            } else {
                out.elems.clear();
            }
        }
        out.local = None;
        out
    }

    /// The `let`s of an `if let`/`while let` condition (and `&&` chains):
    /// evaluates the scrutinees and binds the patterns. Returns the loads
    /// the condition depends on and the guards moved into bindings.
    pub(super) fn cond_lets(&mut self, cond: &'a Expr) -> (Vec<u32>, Vec<u32>) {
        match &cond.kind {
            ExprKind::Let { pat, expr } => {
                let from = self.out.guards.len();
                let mut v = self.expr(expr);
                let what = if self.in_while_let > 0 {
                    "while let"
                } else {
                    "if let"
                };
                self.mark_scrutinee(from, what);
                if let Some(local) = v.local {
                    v.guards.extend(self.owned_by_local(local));
                }
                let bound = if binds_by_value(std::slice::from_ref(pat)) {
                    v.guards.clone()
                } else {
                    Vec::new()
                };
                self.bind_pattern(pat, &v, true);
                (v.deps, bound)
            }
            ExprKind::Binary(l, BinOp::And, r) => {
                let (mut deps, mut bound) = self.cond_lets(l);
                let (d, b) = self.cond_lets(r);
                deps.extend(d);
                bound.extend(b);
                (deps, bound)
            }
            _ => {
                let s = self.push_temp();
                let v = self.expr(cond);
                self.pop_temp(s, &[]);
                (v.deps, Vec::new())
            }
        }
    }

    pub(super) fn match_expr(&mut self, scrutinee: &'a Expr, arms: &'a [Arm]) -> Val {
        let from = self.out.guards.len();
        let mut v = self.expr(scrutinee);
        self.mark_scrutinee(from, "match");
        if let Some(local) = v.local {
            v.guards.extend(self.owned_by_local(local));
        }
        let start = self.save();
        let mut states = Vec::new();
        let mut out = Val::default();
        self.control.push(v.deps.clone());
        for arm in arms {
            self.restore(start.clone());
            let mark = self.locals.len();
            // `Err(_)` or `None` from a `try_lock`: nothing was locked.
            if failure_pattern(&arm.pat) {
                let failed: Vec<u32> = v
                    .guards
                    .iter()
                    .copied()
                    .filter(|&g| {
                        matches!(&self.out.guards[g as usize].lock,
                            GuardLock::Direct(acq) if !acq.blocking)
                    })
                    .collect();
                self.release(&failed);
            }
            self.bind_pattern(&arm.pat, &v, true);
            if let Some(guard) = &arm.guard {
                let s = self.push_temp();
                let _ = self.expr(guard);
                self.pop_temp(s, &[]);
            }
            let claimed = compare_and_swap(scrutinee) && success_pattern(&arm.pat);
            self.claims += u32::from(claimed);
            let s = self.push_temp();
            let value = match &arm.body.kind {
                ExprKind::Block(b) => self.block(b, true),
                _ => self.expr(&arm.body),
            };
            self.claims -= u32::from(claimed);
            let mut keep = value.guards.clone();
            if let Some(local) = value.local {
                if local >= mark {
                    keep.extend(self.owned_by_local(local));
                }
            }
            self.pop_temp(s, &keep);
            self.pop_locals(mark, &keep);
            if !self.dead {
                out.guards.extend(keep);
                if !out.ty.is_known() {
                    out.ty = value.ty;
                }
            }
            states.push(self.save());
        }
        self.control.pop();
        if arms.is_empty() {
            states.push(start);
        }
        self.merge(states);
        out
    }

    /// Runs a loop body (twice when a guard made in it survives into the
    /// next iteration), then joins the states that leave the loop.
    pub(super) fn run_loop(&mut self, may_skip: bool, mut pass: impl FnMut(&mut Self)) {
        let entry = self.save();
        self.loop_depth += 1;
        let mut exits = Vec::new();
        if may_skip {
            exits.push(entry.clone());
        }
        for round in 0..2 {
            self.loops.push(LoopFrame {
                breaks: Vec::new(),
                continues: Vec::new(),
                locals: self.locals.len(),
                temps: self.temps.clone(),
            });
            pass(self);
            let frame = self.loops.pop().unwrap_or(LoopFrame {
                breaks: Vec::new(),
                continues: Vec::new(),
                locals: 0,
                temps: Vec::new(),
            });
            exits.extend(frame.breaks);
            let mut ends = frame.continues;
            ends.push(self.save());
            self.merge(ends);
            let end = self.save();
            if may_skip {
                exits.push(end.clone());
            }
            let new_guard = end
                .live
                .iter()
                .any(|l| !entry.live.iter().any(|e| e.guard == l.guard));
            if round == 0 && !end.dead && new_guard {
                // Loop-carried: go around once more from here.
                let mut next = entry.clone();
                for l in end.live {
                    if !next.live.iter().any(|e| e.guard == l.guard) {
                        next.live.push(l);
                    }
                }
                self.restore(next);
                continue;
            }
            break;
        }
        self.loop_depth -= 1;
        self.merge(exits);
    }

    pub(super) fn loop_expr(&mut self, _label: Option<()>, body: &'a Block) {
        self.run_loop(false, |i| {
            let _ = i.block(body, true);
        });
    }

    pub(super) fn while_loop(&mut self, cond: &'a Expr, body: &'a Block) {
        self.run_loop(true, |i| {
            let mark = i.locals.len();
            let s = i.push_temp();
            if has_let(cond) {
                // `while let`: the scrutinee's temporaries live through the body.
                i.in_while_let += 1;
                let (deps, bound) = i.cond_lets(cond);
                i.in_while_let -= 1;
                let _ = bound;
                i.control.push(deps);
                let _ = i.block(body, true);
                i.control.pop();
                i.pop_locals(mark, &[]);
                i.pop_temp(s, &[]);
            } else {
                let c = i.expr(cond);
                i.pop_temp(s, &[]);
                i.control.push(c.deps);
                let _ = i.block(body, true);
                i.control.pop();
            }
        });
    }

    pub(super) fn for_loop(&mut self, pat: &'a Pat, iter: &'a Expr, body: &'a Block) {
        // The iterator expression's temporaries live through the loop.
        let s = self.push_temp();
        let from = self.out.guards.len();
        let it = self.expr(iter);
        self.mark_scrutinee(from, "for");
        let mut item = Val::ty(self.t.element_ty(self.krate, &it.ty));
        item.place = it.place.as_ref().map(|p| p.field(INDEX));
        item.threads = it.threads.clone();
        self.run_loop(true, |i| {
            let mark = i.locals.len();
            i.bind_pattern(pat, &item, true);
            let _ = i.block(body, true);
            i.pop_locals(mark, &[]);
        });
        self.pop_temp(s, &[]);
    }

    pub(super) fn await_expr(&mut self, inner: &'a Expr, pos: Pos) -> Val {
        let start = self.body().events.len() as u32;
        let v = self.expr(inner);
        // An async block or closure awaited here runs here.
        if let Some(c) = v.closure {
            let value = self.run_closure(c, Vec::new(), true);
            let end = self.body().events.len() as u32;
            let held = self.held();
            self.event_holding(
                EventKind::Await {
                    awaited: start..end,
                },
                pos,
                held,
            );
            return value;
        }
        let end = self.body().events.len() as u32;
        for &g in &v.guards {
            match &mut self.out.guards[g as usize].lock {
                GuardLock::Direct(acq) => acq.awaited = true,
                GuardLock::Call { awaited, .. } => *awaited = true,
                GuardLock::Param { .. } => {}
            }
        }
        let mut held = self.held();
        held.retain(|g| !v.guards.contains(g));
        self.event_holding(
            EventKind::Await {
                awaited: start..end,
            },
            pos,
            held,
        );
        let mut out = v;
        out.ty = match &*out.ty {
            ty if ty.name() == Some("Future") => Rc::new(Ty::Infer),
            _ => out.ty.clone(),
        };
        out
    }
}

/// `x.compare_exchange(..)` and its kin: an update that only one of the
/// threads racing for it wins.
fn compare_and_swap(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::MethodCall { method, .. }
        if matches!(&**method, "compare_exchange" | "compare_exchange_weak" | "compare_and_swap"))
}

/// `Ok(..)`: the arm a won compare-and-swap takes.
fn success_pattern(pat: &Pat) -> bool {
    matches!(pat, Pat::TupleStruct { path, .. } if path.last().copied() == Some("Ok"))
}
