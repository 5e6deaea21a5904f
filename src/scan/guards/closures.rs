//! Closures and spawns: a closure run where it is called, or as a body of
//! its own (a spawned thread or task, a closure kept for later), and joins.

use super::*;

impl<'a> Interp<'a> {
    // -----------------------------------------------------------------------
    // Closures

    pub(super) fn closure_value(&mut self, closure: ClosureRef<'a>) -> Val {
        self.closures.push(ClosureSlot {
            closure,
            used: false,
            locals: self.locals.len(),
        });
        Val {
            closure: Some((self.closures.len() - 1) as u32),
            ty: Rc::new(Ty::Fn),
            ..Val::default()
        }
    }

    /// Runs a closure's body here, with the guards held here.
    pub(super) fn run_closure(&mut self, id: u32, args: Vec<Val>, awaited: bool) -> Val {
        let slot = &mut self.closures[id as usize];
        slot.used = true;
        let closure = slot.closure;
        if self.inlining.contains(&id) || self.inlining.len() >= MAX_INLINE {
            return Val::default();
        }
        self.inlining.push(id);
        let mark = self.locals.len();
        let was_async = self.in_async;
        let value = match closure {
            ClosureRef::Closure(c, _) => {
                for (i, (pat, ty)) in c.params.iter().enumerate() {
                    let mut v = args.get(i).cloned().unwrap_or_default();
                    v.guards.clear();
                    if let Some(ty) = ty {
                        v.ty = Rc::new(ty.clone());
                    }
                    self.bind_pattern(pat, &v, true);
                }
                if c.is_async && !awaited {
                    // Calling an async closure makes a future; it runs when awaited.
                }
                self.in_async = c.is_async || was_async;
                let s = self.push_temp();
                let v = match &c.body.kind {
                    ExprKind::Block(b) => self.block(b, true),
                    _ => self.expr(&c.body),
                };
                self.pop_temp(s, &v.guards.clone());
                v
            }
            ClosureRef::Async(b, _) => {
                self.in_async = true;
                self.block(b, true)
            }
        };
        self.in_async = was_async;
        let keep = value.guards.clone();
        self.pop_locals(mark, &keep);
        self.inlining.pop();
        // A `return` inside a closure leaves the closure, not the function.
        self.dead = false;
        value
    }

    /// Runs a closure as a body of its own: a spawned thread or task, or a
    /// closure kept for later. `inherit`: it starts holding what is held here.
    /// Returns the new body, if one was made.
    pub(super) fn run_detached(&mut self, id: u32, agent: AgentKind, inherit: bool) -> Option<u32> {
        self.closures[id as usize].used = true;
        if self.inlining.contains(&id) {
            return None;
        }
        let spawned = matches!(agent, AgentKind::Spawned { .. });
        let is_async = match self.closures[id as usize].closure {
            ClosureRef::Closure(c, _) => c.is_async,
            ClosureRef::Async(..) => true,
        };
        let saved_live = std::mem::take(&mut self.live);
        let saved_dead = self.dead;
        let saved_cur = self.cur;
        let saved_ctx = self.ctx;
        let saved_loop = self.loop_depth;
        let saved_control = std::mem::take(&mut self.control);
        let saved_loops = std::mem::take(&mut self.loops);
        let saved_async = self.in_async;
        if inherit {
            self.live = saved_live.clone();
        }
        let spawned_by = spawned.then_some((self.cur as u32, self.segment));
        self.out.bodies.push(Body {
            agent,
            is_async,
            events: Vec::new(),
            spawned_by,
            joined_at: None,
            last_segment: 0,
        });
        let saved_segment = self.segment;
        self.cur = self.out.bodies.len() - 1;
        let body = self.cur as u32;
        self.ctx = 0;
        self.loop_depth = 0;
        self.dead = false;
        self.in_async = is_async;
        self.segment = 0;
        let _ = self.run_closure(id, Vec::new(), true);
        self.out.bodies[self.cur].last_segment = self.segment;
        // What the spawner does next may run alongside the new thread.
        self.segment = saved_segment + u32::from(spawned);
        self.live = saved_live;
        self.dead = saved_dead;
        self.cur = saved_cur;
        self.ctx = saved_ctx;
        self.loop_depth = saved_loop;
        self.control = saved_control;
        self.loops = saved_loops;
        self.in_async = saved_async;
        Some(body)
    }

    /// The spawner waits for these threads: what it does next happens
    /// after all they did.
    pub(super) fn joined(&mut self, threads: &[u32], pos: Pos) {
        if !threads.is_empty() && !self.held().is_empty() {
            self.event(
                EventKind::Join {
                    threads: threads.to_vec(),
                },
                pos,
            );
        }
        let mut any = false;
        for &t in threads {
            let cur = self.cur as u32;
            let body = &mut self.out.bodies[t as usize];
            if body.spawned_by.is_some_and(|(by, _)| by == cur) && body.joined_at.is_none() {
                body.joined_at = Some(self.segment + 1);
                any = true;
            }
        }
        if any {
            self.segment += 1;
        }
    }

    pub(super) fn detach_unused_closures(&mut self) {
        let mut i = 0;
        while i < self.closures.len() {
            if !self.closures[i].used {
                let pos = match self.closures[i].closure {
                    ClosureRef::Closure(_, p) | ClosureRef::Async(_, p) => p,
                };
                // The locals it saw are gone; names resolve to nothing.
                let _ = self.closures[i].locals;
                let _ = self.run_detached(i as u32, AgentKind::Detached { pos }, false);
            }
            i += 1;
        }
    }
}

/// Whether some argument is written as a closure or async block (what a
/// spawn runs).
pub(super) fn vals_have_closure(args: &[Expr]) -> bool {
    args.iter().any(|a| {
        matches!(
            a.kind,
            ExprKind::Closure(_) | ExprKind::Async(_) | ExprKind::Path(_)
        )
    })
}
