//! The interpreter's state: values, locals, live guards, loops and the
//! closures seen, and the bookkeeping of events and guards.

use super::*;

/// A value as the analysis sees it.
#[derive(Clone, Debug, Default)]
pub(super) struct Val {
    /// Guards this value owns: moving the value moves them.
    pub(super) guards: Vec<u32>,
    /// Guards this value borrows from (`&*guard`, `&mut guard`).
    pub(super) borrowed: Vec<u32>,
    /// The place the value is or refers to.
    pub(super) place: Option<Place>,
    pub(super) ty: Rc<Ty>,
    /// Atomic loads the value depends on.
    pub(super) deps: Vec<u32>,
    /// A closure or async block (index in `closures`).
    pub(super) closure: Option<u32>,
    /// The local variable the expression names, when it is one.
    pub(super) local: Option<usize>,
    /// `io::stdout()` and friends, whose `lock()` is reentrant.
    pub(super) stdio: bool,
    /// The value is a lock future or guard fresh from an acquisition.
    pub(super) acquired: bool,
    /// The elements of a tuple written out (`(a.clone(), b.clone())`), so
    /// that `let (x, y) = ...` binds each to its own.
    pub(super) elems: Vec<Val>,
    /// Threads this value is a handle of (bodies), for `join`.
    pub(super) threads: Vec<u32>,
    /// A struct written out (`Entry { registry: self, .. }`): the places
    /// its fields were given.
    pub(super) fields: Vec<(Sym, Place)>,
}

impl Val {
    pub(super) fn ty(ty: Ty) -> Val {
        Val {
            ty: Rc::new(ty),
            ..Val::default()
        }
    }

    pub(super) fn with_deps(mut self, others: &[&Val]) -> Val {
        for o in others {
            self.deps.extend_from_slice(&o.deps);
        }
        self
    }
}

#[derive(Clone, Debug)]
pub(super) struct Local {
    pub(super) name: Sym,
    pub(super) ty: Rc<Ty>,
    pub(super) place: Option<Place>,
    pub(super) deps: Vec<u32>,
    pub(super) closure: Option<u32>,
    pub(super) stdio: bool,
    /// The parameter this local is.
    pub(super) param: Option<u32>,
    /// Threads it holds handles of.
    pub(super) threads: Vec<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Owner {
    Temp(u32),
    Local(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Live {
    pub(super) guard: u32,
    pub(super) owner: Owner,
}

/// The state that control flow forks and joins.
#[derive(Clone, Debug)]
pub(super) struct State {
    pub(super) live: Vec<Live>,
    pub(super) dead: bool,
}

#[derive(Clone, Copy, Debug)]
pub(super) enum ClosureRef<'a> {
    Closure(&'a Closure, Pos),
    Async(&'a Block, Pos),
}

pub(super) struct ClosureSlot<'a> {
    pub(super) closure: ClosureRef<'a>,
    pub(super) used: bool,
    /// The locals visible where it was written.
    pub(super) locals: usize,
}

pub(super) struct LoopFrame {
    pub(super) breaks: Vec<State>,
    pub(super) continues: Vec<State>,
    /// The locals and temporary scopes that were there before the loop:
    /// `break` and `continue` drop everything the body made since.
    pub(super) locals: usize,
    pub(super) temps: Vec<u32>,
}

pub(super) struct Interp<'a> {
    /// How many branches taken on a won compare-and-swap enclose this
    /// point: stores here are made by the one thread that won the claim.
    pub(super) claims: u32,
    pub(super) t: &'a Tables,
    pub(super) f: FnId,
    pub(super) krate: usize,
    pub(super) edition: Edition,
    pub(super) scope: Scope<'a>,
    pub(super) out: FnFacts,
    /// The body events go to.
    pub(super) cur: usize,
    pub(super) locals: Vec<Local>,
    pub(super) live: Vec<Live>,
    pub(super) dead: bool,
    pub(super) temps: Vec<u32>,
    pub(super) next_temp: u32,
    pub(super) ctx: u32,
    pub(super) loop_depth: u32,
    /// Loads the current branch depends on (`if x.load(..) == 0 { .. }`).
    pub(super) control: Vec<Vec<u32>>,
    pub(super) closures: Vec<ClosureSlot<'a>>,
    pub(super) inlining: Vec<u32>,
    pub(super) next_local: u32,
    pub(super) loops: Vec<LoopFrame>,
    pub(super) fuel: u32,
    pub(super) in_async: bool,
    pub(super) in_while_let: u32,
    /// The current body's segment (spawns and joins bump it).
    pub(super) segment: u32,
}

impl<'a> Interp<'a> {
    // -----------------------------------------------------------------------
    // Bookkeeping

    pub(super) fn body(&mut self) -> &mut Body {
        &mut self.out.bodies[self.cur]
    }

    pub(super) fn held(&self) -> Vec<u32> {
        self.live.iter().map(|l| l.guard).collect()
    }

    pub(super) fn event(&mut self, kind: EventKind, pos: Pos) -> u32 {
        let held = self.held();
        self.event_holding(kind, pos, held)
    }

    pub(super) fn event_holding(&mut self, kind: EventKind, pos: Pos, held: Vec<u32>) -> u32 {
        let ctx = self.ctx;
        let temps = self
            .live
            .iter()
            .filter(|l| matches!(l.owner, Owner::Temp(_)) && held.contains(&l.guard))
            .map(|l| l.guard)
            .collect();
        let in_loop = self.loop_depth > 0;
        let segment = self.segment;
        let body = self.body();
        body.events.push(Event {
            kind,
            pos,
            held,
            ctx,
            temps,
            in_loop,
            segment,
        });
        (body.events.len() - 1) as u32
    }

    pub(super) fn new_guard(&mut self, lock: GuardLock, pos: Pos) -> u32 {
        self.out.guards.push(GuardInfo {
            lock,
            pos,
            scrutinee: None,
            body: self.cur as u32,
            segment: self.segment,
        });
        let id = (self.out.guards.len() - 1) as u32;
        let owner = Owner::Temp(self.temps.last().copied().unwrap_or(0));
        self.live.push(Live { guard: id, owner });
        id
    }

    pub(super) fn lookup(&self, name: &str) -> Option<usize> {
        self.locals.iter().rposition(|l| l.name == name)
    }

    pub(super) fn new_local_root(&mut self, name: &str, ty: &Ty) -> Place {
        self.next_local += 1;
        Place::new(
            Root::Local(self.f, self.next_local),
            ty.clone(),
            name,
            self.krate,
            self.f,
        )
    }

    pub(super) fn self_ty(&self) -> Ty {
        self.scope
            .self_ty
            .cloned()
            .unwrap_or_else(|| Ty::named("Self"))
    }

    /// `Self` in a type replaced by the impl's type.
    pub(super) fn concrete(&self, ty: &Ty) -> Ty {
        match ty {
            Ty::Path { segs, args } if segs.len() == 1 && segs[0] == "Self" && args.is_empty() => {
                self.self_ty()
            }
            Ty::Ref(inner) => Ty::Ref(Box::new(self.concrete(inner))),
            _ => ty.clone(),
        }
    }
}
