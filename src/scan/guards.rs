//! Guard lifetimes: an abstract interpretation of one function body that
//! knows, at every lock acquisition, call, `.await`, condvar operation and
//! atomic access, which guards are alive.
//!
//! It follows Rust's rules for when values are dropped:
//!
//! - a guard bound by `let g = ..` lives to the end of its block, or until
//!   `drop(g)`, a move into a callee (dropped when the callee returns, unless
//!   the callee hands it back), or an assignment over it; `let _ = ..` binds
//!   nothing, so the guard is a temporary;
//! - temporaries live to the end of their statement, except where Rust
//!   makes a smaller temporary scope: `if`/`while` conditions, match guards
//!   and arm bodies, the right side of `&&`/`||`, `if`/`else`/loop bodies;
//! - the temporaries of a `match` scrutinee live through every arm; those of
//!   an `if let` scrutinee through the `else` too before edition 2024 (not
//!   in 2024); those of a `while let` scrutinee through the body; those of a
//!   `for` loop's iterator expression through the whole loop; tail
//!   expression temporaries outlive their block before 2024;
//! - `place = value` evaluates the value first, and drops the old value of
//!   the place after.
//!
//! The result ([`FnFacts`]) is the function's events in order, each with the
//! guards held then. Calls are resolved here; what callees do is joined in
//! by [`super::summary`].

use std::ops::Range;
use std::rc::Rc;
use std::sync::Arc;

use super::calls::Scope;
use super::discover::Edition;
use super::ir::*;
use super::lock_names::{Place, Root, INDEX};
use super::tables::{FnId, ReturnRoot, Tables};
use crate::event::LockMode;

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

/// Evaluations one function may take (closures inlined at many call sites
/// and loops walked twice multiply).
const FUEL: u32 = 400_000;
/// How deep closures are inlined into one another.
const MAX_INLINE: usize = 4;

/// Analyses function `f`.
pub fn interpret(tables: &Tables, f: FnId) -> FnFacts {
    let info = &tables.fns[f as usize];
    let Some(body) = info.def.body.as_ref() else {
        return FnFacts::default();
    };
    let file = &tables.files[info.file];
    let mut i = Interp {
        t: tables,
        f,
        krate: info.krate,
        edition: file.edition,
        scope: Scope {
            krate: info.krate,
            module: &info.def.module,
            self_ty: info.self_ty.as_ref(),
            generics: &info.def.generics,
        },
        out: FnFacts {
            ctxs: vec![Ctx {
                parent: 0,
                body: 0,
                call: 0,
                arg: 0,
                held: Vec::new(),
            }],
            ..FnFacts::default()
        },
        cur: 0,
        locals: Vec::new(),
        live: Vec::new(),
        dead: false,
        temps: Vec::new(),
        next_temp: 0,
        ctx: 0,
        loop_depth: 0,
        control: Vec::new(),
        closures: Vec::new(),
        inlining: Vec::new(),
        next_local: 0,
        loops: Vec::new(),
        fuel: FUEL,
        in_async: info.def.is_async,
        in_while_let: 0,
        segment: 0,
    };
    i.out.bodies.push(Body {
        agent: AgentKind::Function,
        is_async: info.def.is_async,
        events: Vec::new(),
        spawned_by: None,
        joined_at: None,
        last_segment: 0,
    });
    i.bind_params();
    let scope = i.push_temp();
    let value = i.block(body, true);
    if !i.dead {
        let guards = value.guards.clone();
        i.event(EventKind::Return { guards }, body.end);
    }
    i.pop_temp(scope, &[]);
    i.detach_unused_closures();
    i.out.truncated = i.fuel == 0;
    i.out
}

/// A value as the analysis sees it.
#[derive(Clone, Debug, Default)]
struct Val {
    /// Guards this value owns: moving the value moves them.
    guards: Vec<u32>,
    /// Guards this value borrows from (`&*guard`, `&mut guard`).
    borrowed: Vec<u32>,
    /// The place the value is or refers to.
    place: Option<Place>,
    ty: Rc<Ty>,
    /// Atomic loads the value depends on.
    deps: Vec<u32>,
    /// A closure or async block (index in `closures`).
    closure: Option<u32>,
    /// The local variable the expression names, when it is one.
    local: Option<usize>,
    /// `io::stdout()` and friends, whose `lock()` is reentrant.
    stdio: bool,
    /// The value is a lock future or guard fresh from an acquisition.
    acquired: bool,
    /// The elements of a tuple written out (`(a.clone(), b.clone())`), so
    /// that `let (x, y) = ...` binds each to its own.
    elems: Vec<Val>,
    /// Threads this value is a handle of (bodies), for `join`.
    threads: Vec<u32>,
    /// A struct written out (`Entry { registry: self, .. }`): the places
    /// its fields were given.
    fields: Vec<(Sym, Place)>,
}

impl Val {
    fn ty(ty: Ty) -> Val {
        Val {
            ty: Rc::new(ty),
            ..Val::default()
        }
    }

    fn with_deps(mut self, others: &[&Val]) -> Val {
        for o in others {
            self.deps.extend_from_slice(&o.deps);
        }
        self
    }
}

#[derive(Clone, Debug)]
struct Local {
    name: Sym,
    ty: Rc<Ty>,
    place: Option<Place>,
    deps: Vec<u32>,
    closure: Option<u32>,
    stdio: bool,
    /// The parameter this local is.
    param: Option<u32>,
    /// Threads it holds handles of.
    threads: Vec<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    Temp(u32),
    Local(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Live {
    guard: u32,
    owner: Owner,
}

/// The state that control flow forks and joins.
#[derive(Clone, Debug)]
struct State {
    live: Vec<Live>,
    dead: bool,
}

#[derive(Clone, Copy, Debug)]
enum ClosureRef<'a> {
    Closure(&'a Closure, Pos),
    Async(&'a Block, Pos),
}

struct ClosureSlot<'a> {
    closure: ClosureRef<'a>,
    used: bool,
    /// The locals visible where it was written.
    locals: usize,
}

struct LoopFrame {
    breaks: Vec<State>,
    continues: Vec<State>,
    /// The locals and temporary scopes that were there before the loop:
    /// `break` and `continue` drop everything the body made since.
    locals: usize,
    temps: Vec<u32>,
}

struct Interp<'a> {
    t: &'a Tables,
    f: FnId,
    krate: usize,
    edition: Edition,
    scope: Scope<'a>,
    out: FnFacts,
    /// The body events go to.
    cur: usize,
    locals: Vec<Local>,
    live: Vec<Live>,
    dead: bool,
    temps: Vec<u32>,
    next_temp: u32,
    ctx: u32,
    loop_depth: u32,
    /// Loads the current branch depends on (`if x.load(..) == 0 { .. }`).
    control: Vec<Vec<u32>>,
    closures: Vec<ClosureSlot<'a>>,
    inlining: Vec<u32>,
    next_local: u32,
    loops: Vec<LoopFrame>,
    fuel: u32,
    in_async: bool,
    in_while_let: u32,
    /// The current body's segment (spawns and joins bump it).
    segment: u32,
}

// ---------------------------------------------------------------------------
// Names the analysis knows

/// Lock methods: mode, blocks, recursive read, upgradable read.
pub(crate) fn lock_method(name: &str) -> Option<(LockMode, bool, bool, bool)> {
    use LockMode::{Exclusive as X, Shared as S};
    Some(match name {
        "lock" | "lock_arc" | "lock_owned" | "blocking_lock" | "blocking_lock_owned" => {
            (X, true, false, false)
        }
        "write" | "write_arc" | "write_owned" | "blocking_write" => (X, true, false, false),
        "read" | "read_arc" | "read_owned" | "blocking_read" => (S, true, false, false),
        "read_recursive" | "read_recursive_arc" => (S, true, true, false),
        "upgradable_read" | "upgradable_read_arc" => (S, true, false, true),
        "try_lock" | "try_lock_arc" | "try_lock_owned" | "try_lock_for" | "try_lock_until" => {
            (X, false, false, false)
        }
        "try_write" | "try_write_arc" | "try_write_owned" | "try_write_for" | "try_write_until" => {
            (X, false, false, false)
        }
        "try_read"
        | "try_read_arc"
        | "try_read_owned"
        | "try_read_for"
        | "try_read_until"
        | "try_read_recursive"
        | "try_read_recursive_for" => (S, false, false, false),
        "try_upgradable_read" | "try_upgradable_read_for" => (S, false, false, true),
        _ => return None,
    })
}

/// Methods whose result is their receiver's guard, unwrapped.
fn passes_guard(name: &str) -> bool {
    matches!(
        name,
        "unwrap"
            | "expect"
            | "unwrap_or_else"
            | "unwrap_unchecked"
            | "map_err"
            | "ok"
            | "into_inner"
            | "upgrade"
            | "downgrade"
            | "into_guard"
            | "unwrap_or_default"
    )
}

/// Calls that run a closure on another thread or task.
fn spawns(name: &str) -> bool {
    matches!(
        name,
        "spawn"
            | "spawn_blocking"
            | "spawn_local"
            | "spawn_fifo"
            | "spawn_ok"
            | "spawn_detached"
            | "spawn_with_handle"
            | "spawn_scoped"
            | "execute"
            | "spawn_broadcast"
    )
}

/// Macros that never return.
fn diverges(name: &str) -> bool {
    matches!(name, "panic" | "unreachable" | "todo" | "unimplemented")
}

fn unwrap_ty(ty: &Ty) -> Ty {
    match ty.name() {
        Some("Result" | "Option" | "LockResult" | "TryLockResult" | "Poll") => {
            ty.args().first().cloned().unwrap_or_default()
        }
        _ => ty.clone(),
    }
}

fn guard_ty(mode: LockMode, data: Ty) -> Ty {
    let name = match mode {
        LockMode::Exclusive => "MutexGuard",
        LockMode::Shared => "RwLockReadGuard",
    };
    Ty::generic(name, data)
}

fn is_ordering(e: &Expr) -> bool {
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
fn ordering_of(e: &Expr) -> Option<Sym> {
    match &e.kind {
        ExprKind::Path(p) if is_ordering(e) => p.last().copied(),
        _ => None,
    }
}

fn has_let(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Let { .. } => true,
        ExprKind::Binary(l, BinOp::And, r) => has_let(l) || has_let(r),
        _ => false,
    }
}

impl<'a> Interp<'a> {
    // -----------------------------------------------------------------------
    // Bookkeeping

    fn body(&mut self) -> &mut Body {
        &mut self.out.bodies[self.cur]
    }

    fn held(&self) -> Vec<u32> {
        self.live.iter().map(|l| l.guard).collect()
    }

    fn event(&mut self, kind: EventKind, pos: Pos) -> u32 {
        let held = self.held();
        self.event_holding(kind, pos, held)
    }

    fn event_holding(&mut self, kind: EventKind, pos: Pos, held: Vec<u32>) -> u32 {
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

    fn new_guard(&mut self, lock: GuardLock, pos: Pos) -> u32 {
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

    fn release(&mut self, guards: &[u32]) {
        if !guards.is_empty() {
            self.live.retain(|l| !guards.contains(&l.guard));
        }
    }

    /// Gives the live guards among `guards` to `owner`.
    fn give(&mut self, guards: &[u32], owner: Owner) {
        for l in &mut self.live {
            if guards.contains(&l.guard) {
                l.owner = owner;
            }
        }
    }

    fn owned_by_local(&self, local: usize) -> Vec<u32> {
        self.live
            .iter()
            .filter(|l| l.owner == Owner::Local(local))
            .map(|l| l.guard)
            .collect()
    }

    /// Marks the temporaries made since guard `from` as living through `what`.
    fn mark_scrutinee(&mut self, from: usize, what: &'static str) {
        for l in &self.live {
            if l.guard as usize >= from && matches!(l.owner, Owner::Temp(_)) {
                self.out.guards[l.guard as usize].scrutinee = Some(what);
            }
        }
    }

    fn push_temp(&mut self) -> u32 {
        self.next_temp += 1;
        self.temps.push(self.next_temp);
        self.next_temp
    }

    /// Ends a temporary scope: its temporaries are dropped, except `keep`
    /// (the value leaving the scope), which go to the enclosing scope.
    fn pop_temp(&mut self, scope: u32, keep: &[u32]) {
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
    fn pop_locals(&mut self, mark: usize, keep: &[u32]) {
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
    fn leaving_loop(&self, keep: &[u32]) -> State {
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

    fn save(&self) -> State {
        State {
            live: self.live.clone(),
            dead: self.dead,
        }
    }

    fn restore(&mut self, state: State) {
        self.live = state.live;
        self.dead = state.dead;
    }

    /// The join of states: a guard alive on some path is alive.
    fn merge(&mut self, states: Vec<State>) {
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

    fn lookup(&self, name: &str) -> Option<usize> {
        self.locals.iter().rposition(|l| l.name == name)
    }

    fn new_local_root(&mut self, name: &str, ty: &Ty) -> Place {
        self.next_local += 1;
        Place::new(
            Root::Local(self.f, self.next_local),
            ty.clone(),
            name,
            self.krate,
            self.f,
        )
    }

    fn self_ty(&self) -> Ty {
        self.scope
            .self_ty
            .cloned()
            .unwrap_or_else(|| Ty::named("Self"))
    }

    /// `Self` in a type replaced by the impl's type.
    fn concrete(&self, ty: &Ty) -> Ty {
        match ty {
            Ty::Path { segs, args } if segs.len() == 1 && segs[0] == "Self" && args.is_empty() => {
                self.self_ty()
            }
            Ty::Ref(inner) => Ty::Ref(Box::new(self.concrete(inner))),
            _ => ty.clone(),
        }
    }

    fn bind_params(&mut self) {
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
    fn bind_pattern(&mut self, pat: &Pat, v: &Val, whole: bool) {
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
                    let part = if is_wrapper && elems.len() == 1 {
                        let mut part = rest.clone();
                        part.ty = Rc::new(unwrap_ty(&rest.ty));
                        part
                    } else if i == 0 || !binds_by_value(&elems[..i]) {
                        let mut part = rest.clone();
                        part.ty = Rc::new(match &*rest.ty {
                            Ty::Tuple(tys) => tys.get(i).cloned().unwrap_or_default(),
                            _ => Ty::Infer,
                        });
                        part.place = None;
                        part
                    } else {
                        Val::default()
                    };
                    let whole_part = is_wrapper && elems.len() == 1;
                    self.bind_pattern(p, &part, whole_part);
                    if binds_by_value(std::slice::from_ref(p)) {
                        rest.guards.clear();
                    }
                }
            }
            Pat::Struct { fields, .. } => {
                let mut rest = v.clone();
                rest.place = None;
                for (_, p) in fields {
                    self.bind_pattern(p, &rest, false);
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

    // -----------------------------------------------------------------------
    // Blocks and statements

    /// A block; `scope`: the block's tail is a temporary scope of its own
    /// (bodies of `if`, loops, arms, closures, functions; every block in
    /// edition 2024).
    fn block(&mut self, b: &'a Block, scope: bool) -> Val {
        let mark = self.locals.len();
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
        value
    }

    fn let_stmt(
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

    fn exprs(&mut self, es: &'a [Expr]) -> Vec<Val> {
        es.iter().map(|e| self.expr(e)).collect()
    }

    fn expr(&mut self, e: &'a Expr) -> Val {
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
    fn moved_guards(&self, v: &Val) -> Vec<u32> {
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

    fn path(&mut self, path: &'a [Sym], pos: Pos) -> Val {
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

    fn assign(&mut self, place: &'a Expr, value: &'a Expr) {
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

    // -----------------------------------------------------------------------
    // Control flow

    fn if_expr(&mut self, cond: &'a Expr, then: &'a Block, els: Option<&'a Expr>) -> Val {
        let mark = self.locals.len();
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
            let v = self.block(then, true);
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
    fn cond_lets(&mut self, cond: &'a Expr) -> (Vec<u32>, Vec<u32>) {
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

    fn match_expr(&mut self, scrutinee: &'a Expr, arms: &'a [Arm]) -> Val {
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
            let s = self.push_temp();
            let value = match &arm.body.kind {
                ExprKind::Block(b) => self.block(b, true),
                _ => self.expr(&arm.body),
            };
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
    fn run_loop(&mut self, may_skip: bool, mut pass: impl FnMut(&mut Self)) {
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

    fn loop_expr(&mut self, _label: Option<()>, body: &'a Block) {
        self.run_loop(false, |i| {
            let _ = i.block(body, true);
        });
    }

    fn while_loop(&mut self, cond: &'a Expr, body: &'a Block) {
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

    fn for_loop(&mut self, pat: &'a Pat, iter: &'a Expr, body: &'a Block) {
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

    fn await_expr(&mut self, inner: &'a Expr, pos: Pos) -> Val {
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

    // -----------------------------------------------------------------------
    // Closures

    fn closure_value(&mut self, closure: ClosureRef<'a>) -> Val {
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
    fn run_closure(&mut self, id: u32, args: Vec<Val>, awaited: bool) -> Val {
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
    fn run_detached(&mut self, id: u32, agent: AgentKind, inherit: bool) -> Option<u32> {
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
    fn joined(&mut self, threads: &[u32], pos: Pos) {
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

    fn detach_unused_closures(&mut self) {
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

    // -----------------------------------------------------------------------
    // Calls

    /// The value of a call that hands back what it was given (`unwrap`,
    /// `?`): it owns the guards of `v`, taken from wherever they were.
    fn pass(&mut self, v: Val, ty: Option<Ty>) -> Val {
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

    fn method_call(&mut self, recv: &'a Expr, method: &'a str, args: &'a [Expr], pos: Pos) -> Val {
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
        if let Some((mode, blocking, recursive, upgradable)) = lock_method(method) {
            let expected_args = usize::from(method.ends_with("_for") || method.ends_with("_until"));
            if args.len() == expected_args {
                if let Some(v) =
                    self.acquire(&r, method, mode, blocking, recursive, upgradable, pos)
                {
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
                    if !deps.is_empty() {
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

    /// Evaluates arguments; closures among them run here.
    fn args_inline(&mut self, args: &'a [Expr]) -> Vec<Val> {
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
    #[allow(clippy::too_many_arguments)]
    fn acquire(
        &mut self,
        r: &Val,
        method: &str,
        mode: LockMode,
        blocking: bool,
        recursive: bool,
        upgradable: bool,
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
        let reentrant = lock_ty.is_some_and(|l| l.reentrant);
        let acq = Acq {
            place,
            mode,
            recursive,
            upgradable,
            reentrant,
            blocking,
            awaited: false,
            typed,
        };
        let held = self.held();
        let guard = self.new_guard(GuardLock::Direct(acq), pos);
        self.event_holding(EventKind::Acquire { guard }, pos, held);
        let data = self.t.data(self.krate, &r.ty).clone();
        let ty = guard_ty(mode, data);
        Some(Val {
            guards: vec![guard],
            place: r.place.clone(),
            ty: Rc::new(ty),
            acquired: true,
            ..Val::default()
        })
    }

    fn condvar_wait(&mut self, r: &Val, method: &str, args: &'a [Expr], pos: Pos) -> Option<Val> {
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

    fn call(&mut self, func: &'a Expr, args: &'a [Expr], pos: Pos) -> Val {
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
    fn user_call(
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

/// Whether some argument is written as a closure or async block (what a
/// spawn runs).
fn vals_have_closure(args: &[Expr]) -> bool {
    args.iter().any(|a| {
        matches!(
            a.kind,
            ExprKind::Closure(_) | ExprKind::Async(_) | ExprKind::Path(_)
        )
    })
}

/// `Err(..)`, `None`: the pattern of a failed `try_lock` (or `try_read`...).
fn failure_pattern(pat: &Pat) -> bool {
    match pat {
        Pat::TupleStruct { path, .. } => {
            matches!(path.last().copied(), Some("Err" | "None" | "WouldBlock"))
        }
        Pat::Or(alts) => alts.iter().all(failure_pattern),
        _ => false,
    }
}

/// Whether any of the patterns binds something by value.
fn binds_by_value(pats: &[Pat]) -> bool {
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

/// `let x = &temp()..`: a borrow (through fields, indexes and derefs) of a
/// temporary extends it to the end of the block.
fn extends_temporaries(e: &Expr) -> bool {
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

#[allow(dead_code)]
fn _assert_send() {
    fn send<T: Send>() {}
    send::<FnFacts>();
    let _ = Arc::new(());
}

/// Whether two values are (or refer to) the same place, when known.
fn same_place(a: &Option<Place>, b: &Option<Place>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.root == b.root && a.path == b.path,
        (None, None) => true,
        _ => false,
    }
}
