//! What the interpretation of one function yields: its bodies, their
//! events in order, and the guards alive at each.

use super::*;

/// One lock acquisition seen in the source.
#[derive(Clone, Debug)]
pub struct Acq {
    pub place: Place,
    pub mode: LockMode,
    /// parking_lot's `read_recursive`: safe to take while a read is held.
    pub recursive: bool,
    /// parking_lot's `upgradable_read`: excludes writers and other upgradable readers.
    pub upgradable: bool,
    /// A reentrant mutex: the holder may lock it again.
    pub reentrant: bool,
    /// False for `try_lock` and timed locks: they never wait forever.
    pub blocking: bool,
    /// The acquisition was `.await`ed: an async lock.
    pub awaited: bool,
    /// The lock is a known lock type (not guessed from the method name).
    pub typed: bool,
}

/// What a guard holds.
#[derive(Clone, Debug)]
pub enum GuardLock {
    Direct(Acq),
    /// Returned by a call (a wrapper such as `fn rl(&self) -> RwLockReadGuard<..>`):
    /// the call's event, in `bodies[body].events[event]`.
    Call {
        body: u32,
        event: u32,
        /// Awaited right away: the wrapper is an async lock's.
        awaited: bool,
    },
    /// A guard the caller passed as parameter `param` (its lock is the
    /// caller's): held from the start of the function until dropped.
    Param {
        param: u32,
        mode: LockMode,
    },
}

#[derive(Clone, Debug)]
pub struct GuardInfo {
    pub lock: GuardLock,
    /// Where the guard came to be.
    pub pos: Pos,
    /// Made while evaluating the scrutinee of a `match`, `if let`,
    /// `while let` or the iterator of a `for`: a temporary that lives
    /// through that construct.
    pub scrutinee: Option<&'static str>,
    /// The body it was made in, and that body's segment then.
    pub body: u32,
    pub segment: u32,
}

#[derive(Clone, Debug)]
pub enum EventKind {
    Acquire {
        guard: u32,
    },
    Call {
        callees: Vec<FnId>,
        /// The places passed: the receiver first for methods.
        args: Vec<Option<Place>>,
        /// The guard the call returns, when the callee hands one out.
        guard: Option<u32>,
        /// Guards moved into guard parameters, by argument: the callee holds
        /// them (and may drop them) from its start.
        moved: Vec<(u32, Vec<u32>)>,
    },
    /// A call of parameter `param` (a closure the caller passed).
    InvokeParam {
        param: u32,
    },
    /// `.await`; `awaited` are the events of the awaited expression.
    Await {
        awaited: Range<u32>,
    },
    /// `cv.wait(guard)`; `looped` when inside a loop or a `wait_while`;
    /// `timed` when it returns by itself after a while.
    Wait {
        cv: Place,
        guard: Option<u32>,
        looped: bool,
        timed: bool,
    },
    Notify {
        cv: Place,
    },
    /// Waits for these threads (bodies) to end: `handle.join()`, the end of
    /// `thread::scope`, `rayon::join`.
    Join {
        threads: Vec<u32>,
    },
    Load {
        atomic: Place,
        id: u32,
    },
    /// A store (or swap) whose value or whose reaching depends on the loads `deps`.
    Store {
        atomic: Place,
        deps: Vec<u32>,
        value_deps: Vec<u32>,
        /// The memory ordering written (`Release`, ...).
        order: Option<Sym>,
    },
    /// The function returns a value owning these guards.
    Return {
        guards: Vec<u32>,
    },
}

#[derive(Clone, Debug)]
pub struct Event {
    pub kind: EventKind,
    pub pos: Pos,
    /// Guards alive, oldest first.
    pub held: Vec<u32>,
    /// The closure-in-call context ([`FnFacts::ctxs`]), 0 for none.
    pub ctx: u32,
    /// The held guards that are temporaries (not bound to a name).
    pub temps: Vec<u32>,
    /// Inside a loop of the function.
    pub in_loop: bool,
    /// The body's segment: bumped at each spawn and join it makes.
    pub segment: u32,
}

/// Who runs a body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentKind {
    /// The function itself, run by its callers.
    Function,
    /// A closure or async block handed to a spawn: a thread or task of its own.
    Spawned { pos: Pos, in_loop: bool },
    /// A closure kept for later (stored, returned): run by someone, some time.
    Detached { pos: Pos },
}

#[derive(Clone, Debug)]
pub struct Body {
    pub agent: AgentKind,
    pub is_async: bool,
    pub events: Vec<Event>,
    /// For a spawned body: the body that spawned it and that body's
    /// segment at the spawn (what happens-before it).
    pub spawned_by: Option<(u32, u32)>,
    /// For a spawned body: the spawner's segment once it joined it (what
    /// happens after it), when the source shows the join.
    pub joined_at: Option<u32>,
    /// The last segment of this body.
    pub last_segment: u32,
}

/// A closure passed to call `call` (an event of body `body`) as argument
/// `arg`, and run inside it.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub parent: u32,
    pub body: u32,
    pub call: u32,
    pub arg: u32,
    /// The guards alive at the call: the closure runs holding them only if
    /// the callee calls it then (and not if it stores it for later).
    pub held: Vec<u32>,
}

/// Everything one function did, body by body: `bodies[0]` is the function.
#[derive(Clone, Debug, Default)]
pub struct FnFacts {
    pub guards: Vec<GuardInfo>,
    pub bodies: Vec<Body>,
    pub ctxs: Vec<Ctx>,
    /// Loads of atomics, by id: the place, where, and the ordering written.
    pub loads: Vec<(Place, Pos, Option<Sym>)>,
    /// Parameters handed on to a call: `(param, call event of body 0, argument)`.
    /// A closure parameter handed on is called if that callee calls it.
    pub forwards: Vec<(u32, u32, u32)>,
    /// The work budget ran out: the facts are partial.
    pub truncated: bool,
    /// Fields of locals made from a struct literal, and the place each was
    /// given: `let e = Entry { registry: self }` makes `e.registry` `self`.
    pub aliases: Vec<(Root, Sym, Place)>,
    /// Atomics this function updates with a compare-and-swap.
    pub compare_exchanged: Vec<Place>,
}

impl FnFacts {
    /// `place` with a prefix that is a field of a struct literal replaced by
    /// the place that field was given.
    pub fn unalias(&self, place: &Place) -> Option<Place> {
        let first = place.path.first()?;
        let (_, _, target) = self
            .aliases
            .iter()
            .find(|(root, field, _)| *root == place.root && field == first)?;
        let mut out = target.clone();
        out.path.extend(place.path[1..].iter().cloned());
        Some(out)
    }
}
