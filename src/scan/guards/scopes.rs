//! Drop scopes: when guards die (temporary scopes, blocks, loop exits) and
//! the join of the states control flow forks.

use super::*;

impl<'a> Interp<'a> {
    pub(super) fn release(&mut self, guards: &[u32]) {
        if !guards.is_empty() {
            self.live.retain(|l| !guards.contains(&l.guard));
        }
    }

    /// Gives the live guards among `guards` to `owner`.
    pub(super) fn give(&mut self, guards: &[u32], owner: Owner) {
        for l in &mut self.live {
            if guards.contains(&l.guard) {
                l.owner = owner;
            }
        }
    }

    pub(super) fn owned_by_local(&self, local: usize) -> Vec<u32> {
        self.live
            .iter()
            .filter(|l| l.owner == Owner::Local(local))
            .map(|l| l.guard)
            .collect()
    }

    /// Marks the temporaries made since guard `from` as living through `what`.
    pub(super) fn mark_scrutinee(&mut self, from: usize, what: &'static str) {
        for l in &self.live {
            if l.guard as usize >= from && matches!(l.owner, Owner::Temp(_)) {
                self.out.guards[l.guard as usize].scrutinee = Some(what);
            }
        }
    }

    pub(super) fn push_temp(&mut self) -> u32 {
        self.next_temp += 1;
        self.temps.push(self.next_temp);
        self.next_temp
    }

    /// Ends a temporary scope: its temporaries are dropped, except `keep`
    /// (the value leaving the scope), which go to the enclosing scope.
    pub(super) fn pop_temp(&mut self, scope: u32, keep: &[u32]) {
        if let Some(pos) = self.temps.iter().rposition(|&t| t == scope) {
            self.temps.truncate(pos);
        }
        let parent = Owner::Temp(self.temps.last().copied().unwrap_or(0));
        for l in &mut self.live {
            if l.owner == Owner::Temp(scope) && keep.contains(&l.guard) {
                l.owner = parent;
            }
        }
        self.live.retain(|l| l.owner != Owner::Temp(scope));
    }

    /// Ends a block: its locals are dropped, except guards in `keep`.
    pub(super) fn pop_locals(&mut self, mark: usize, keep: &[u32]) {
        let parent = Owner::Temp(self.temps.last().copied().unwrap_or(0));
        for l in &mut self.live {
            if let Owner::Local(i) = l.owner {
                if i >= mark && keep.contains(&l.guard) {
                    l.owner = parent;
                }
            }
        }
        self.live
            .retain(|l| !matches!(l.owner, Owner::Local(i) if i >= mark));
        self.locals.truncate(mark);
    }

    /// The state at a `break` or `continue`: the locals and temporaries of
    /// the loop body are dropped on the way out (a guard in an `if let`'s
    /// scrutinee, a `let` in the body), except `keep` (a `break` value's).
    pub(super) fn leaving_loop(&self, keep: &[u32]) -> State {
        let mut state = self.save();
        if let Some(frame) = self.loops.last() {
            state.live.retain(|l| {
                keep.contains(&l.guard)
                    || match l.owner {
                        Owner::Local(i) => i < frame.locals,
                        Owner::Temp(t) => t == 0 || frame.temps.contains(&t),
                    }
            });
        }
        state
    }

    pub(super) fn save(&self) -> State {
        State {
            live: self.live.clone(),
            dead: self.dead,
        }
    }

    pub(super) fn restore(&mut self, state: State) {
        self.live = state.live;
        self.dead = state.dead;
    }

    /// The join of states: a guard alive on some path is alive.
    pub(super) fn merge(&mut self, states: Vec<State>) {
        let mut out: Option<State> = None;
        for s in states {
            if s.dead {
                continue;
            }
            match &mut out {
                None => out = Some(s),
                Some(o) => {
                    for l in s.live {
                        if !o.live.iter().any(|x| x.guard == l.guard) {
                            o.live.push(l);
                        }
                    }
                }
            }
        }
        match out {
            Some(s) => self.restore(s),
            None => {
                self.live.clear();
                self.dead = true;
            }
        }
    }
}
