//! Per-function lock summaries, joined over the call graph.
//!
//! A function's summary says which locks it may take (through its callees
//! too), which guards its return value holds (wrappers such as
//! `fn rl(&self) -> RwLockReadGuard<..>`), what it holds when it calls a
//! closure its caller passed, and which nested acquisitions depend on the
//! caller's arguments. Locks are named in the function's own terms (its
//! parameters may be roots); a call site substitutes its arguments, so a
//! helper that locks `self.state` called as `self.inner.helper()` locks the
//! caller's `self.inner.state`. Callees are summarised before callers
//! (strongly connected components of recursion are iterated a few times).
//!
//! Then every event of every body becomes lock facts: the lock taken (at
//! the end of a chain of calls), the locks held, and who holds them.

use std::collections::HashSet;
use std::sync::Arc;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use super::guards::{Acq, AgentKind, Event, EventKind, FnFacts, GuardLock};
use super::ir::Pos;
use super::lock_names::{Place, Root};
use super::tables::{FnId, Tables};
use crate::event::LockMode;

/// A call on the way from a function to a lock: in function `caller`, at
/// `pos`, to `callee`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Hop {
    pub caller: FnId,
    pub pos: Pos,
    pub callee: FnId,
}

/// A lock taken, as seen from some function.
#[derive(Clone, Debug)]
pub struct LockUse {
    pub place: Place,
    pub class: Option<Arc<str>>,
    pub mode: LockMode,
    pub recursive: bool,
    pub upgradable: bool,
    pub reentrant: bool,
    pub blocking: bool,
    pub awaited: bool,
    pub typed: bool,
    /// The function that takes it, and where.
    pub func: FnId,
    pub pos: Pos,
    /// The calls that lead there, outermost first.
    pub chain: Arc<[Hop]>,
    /// A guard the function's caller passed as this parameter: the caller
    /// knows its lock.
    pub guard_param: Option<u32>,
}

impl LockUse {
    fn key(&self) -> (Root, Vec<super::ir::Sym>, Option<Arc<str>>, bool) {
        (
            self.place.root.clone(),
            self.place.path.clone(),
            self.class.clone(),
            self.mode == LockMode::Exclusive,
        )
    }

    /// Param-rooted: the caller's arguments decide what it is.
    fn depends_on_caller(&self) -> bool {
        matches!(self.place.root, Root::Param(_))
    }
}

#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub acquires: Vec<LockUse>,
    pub returns: Vec<LockUse>,
    /// Closure parameter `param` is called while these are held.
    pub invokes: Vec<(u32, Vec<LockUse>)>,
    /// The parameters the function calls (itself, or a callee it hands them to).
    pub invoked: Vec<u32>,
    /// Nested acquisitions (held, taken) whose identity the caller decides.
    pub pairs: Vec<(LockUse, LockUse)>,
}

/// How many locks one summary keeps (the rest are dropped: the analysis
/// stays linear on huge call graphs).
const MAX_ACQUIRES: usize = 256;
const MAX_PAIRS: usize = 64;
const MAX_CHAIN: usize = 12;

/// A guard held at a fact's acquisition.
#[derive(Clone, Debug)]
pub struct HeldUse {
    pub lock: LockUse,
    /// Where the guard came to be in the fact's function.
    pub pos: Pos,
    /// The guard is a temporary (a scrutinee's, or a statement's).
    pub temp: bool,
    pub scrutinee: Option<&'static str>,
    /// The body of the fact's function the guard was made in, and that
    /// body's segment then (for the spawn/join order).
    pub origin: Option<(u32, u32)>,
}

/// One acquisition, with what was held, in some body of some function.
#[derive(Clone, Debug)]
pub struct ScanFact {
    pub func: FnId,
    pub body: u32,
    pub agent: String,
    pub acq: LockUse,
    pub held: Vec<HeldUse>,
    /// Where, in `func`, the acquisition is asked for (the call when it
    /// happens in a callee).
    pub pos: Pos,
    /// The body's segment then (for the spawn/join order).
    pub segment: u32,
}

/// What makes two facts the same (loops are walked twice).
#[derive(PartialEq, Eq, Hash)]
struct FactKey {
    func: FnId,
    body: u32,
    pos: Pos,
    chain: Vec<Pos>,
    held: Vec<(Pos, Pos)>,
    exclusive: bool,
}

pub struct Program {
    pub tables: Tables,
    pub facts: Vec<FnFacts>,
    pub summaries: Vec<Summary>,
    /// Per function: the locks held at every one of its call sites (it is
    /// not callable from outside the crate): a gate around all it does.
    pub entry: Vec<Vec<EntryLock>>,
}

/// A lock held whenever a function runs, because every caller holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryLock {
    pub class: Arc<str>,
    pub exclusive: bool,
    /// Where one caller took it.
    pub func: FnId,
    pub pos: Pos,
}

impl Program {
    pub fn new(tables: Tables, facts: Vec<FnFacts>) -> Program {
        let n = facts.len();
        let mut p = Program {
            tables,
            facts,
            summaries: vec![Summary::default(); n],
            entry: vec![Vec::new(); n],
        };
        p.summarise();
        p.entry_locks();
        p
    }

    fn summarise(&mut self) {
        let n = self.facts.len();
        let mut graph: DiGraph<(), ()> = DiGraph::with_capacity(n, n);
        for _ in 0..n {
            graph.add_node(());
        }
        for (f, facts) in self.facts.iter().enumerate() {
            let mut seen = HashSet::new();
            if let Some(body) = facts.bodies.first() {
                for e in &body.events {
                    if let EventKind::Call { callees, .. } = &e.kind {
                        for &c in callees {
                            if (c as usize) < n && seen.insert(c) {
                                graph.add_edge(NodeIndex::new(f), NodeIndex::new(c as usize), ());
                            }
                        }
                    }
                }
            }
        }
        for scc in tarjan_scc(&graph) {
            let recursive = scc.len() > 1 || graph.neighbors(scc[0]).any(|m| m == scc[0]);
            let rounds = if recursive { 3 } else { 1 };
            for _ in 0..rounds {
                let mut changed = false;
                for node in &scc {
                    let f = node.index() as FnId;
                    let s = self.summary_of(f);
                    let old = &self.summaries[f as usize];
                    if s.acquires.len() != old.acquires.len()
                        || s.invoked.len() != old.invoked.len()
                        || s.returns.len() != old.returns.len()
                        || s.invokes.len() != old.invokes.len()
                        || s.pairs.len() != old.pairs.len()
                    {
                        changed = true;
                    }
                    self.summaries[f as usize] = s;
                }
                if !changed {
                    break;
                }
            }
        }
    }

    /// The locks every caller holds, for functions the crate alone calls.
    fn entry_locks(&mut self) {
        let n = self.facts.len();
        let mut sites: Vec<Vec<(FnId, usize, usize)>> = vec![Vec::new(); n];
        for (g, facts) in self.facts.iter().enumerate() {
            for (b, body) in facts.bodies.iter().enumerate() {
                for (i, e) in body.events.iter().enumerate() {
                    if let EventKind::Call { callees, .. } = &e.kind {
                        for &c in callees {
                            if let Some(list) = sites.get_mut(c as usize) {
                                list.push((g as FnId, b, i));
                            }
                        }
                    }
                }
            }
        }
        let root = |f: usize| {
            let def = &self.tables.fns[f].def;
            def.is_pub || sites[f].is_empty() || sites[f].len() > 64
        };
        // `None`: not known yet (optimistically, everything).
        let mut entry: Vec<Option<Vec<EntryLock>>> = (0..n)
            .map(|f| if root(f) { Some(Vec::new()) } else { None })
            .collect();
        for _ in 0..6 {
            let mut changed = false;
            for f in 0..n {
                if root(f) {
                    continue;
                }
                let mut acc: Option<Vec<EntryLock>> = None;
                for &(g, b, i) in &sites[f] {
                    let e = &self.facts[g as usize].bodies[b].events[i];
                    let mut here: Vec<EntryLock> = self
                        .held_at(g, e)
                        .into_iter()
                        .filter_map(|h| {
                            Some(EntryLock {
                                class: h.lock.class.clone()?,
                                exclusive: h.lock.mode == LockMode::Exclusive,
                                func: g,
                                pos: h.pos,
                            })
                        })
                        .collect();
                    if b == 0 {
                        match &entry[g as usize] {
                            Some(list) => here.extend(list.iter().cloned()),
                            None => continue,
                        }
                    }
                    acc = Some(match acc {
                        None => here,
                        Some(prev) => prev
                            .into_iter()
                            .filter(|p| {
                                here.iter()
                                    .any(|h| h.class == p.class && h.exclusive == p.exclusive)
                            })
                            .collect(),
                    });
                }
                if let Some(new) = acc {
                    if entry[f].as_ref() != Some(&new) {
                        entry[f] = Some(new);
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        self.entry = entry.into_iter().map(Option::unwrap_or_default).collect();
    }

    fn direct(&self, f: FnId, acq: &Acq, pos: Pos) -> LockUse {
        LockUse {
            class: self.tables.class_of(&acq.place).map(Arc::from),
            place: acq.place.clone(),
            mode: acq.mode,
            recursive: acq.recursive,
            upgradable: acq.upgradable,
            reentrant: acq.reentrant,
            blocking: acq.blocking,
            awaited: acq.awaited,
            typed: acq.typed,
            func: f,
            pos,
            chain: Arc::from(Vec::new()),
            guard_param: None,
        }
    }

    fn param_guard(&self, f: FnId, param: u32, mode: LockMode, pos: Pos) -> LockUse {
        let info = &self.tables.fns[f as usize];
        let ty = info.param_ty(param as usize).unwrap_or_default();
        LockUse {
            place: Place::new(Root::Param(param), ty, "guard", info.krate, f),
            class: None,
            mode,
            recursive: false,
            upgradable: false,
            reentrant: false,
            blocking: true,
            awaited: false,
            typed: true,
            func: f,
            pos,
            chain: Arc::from(Vec::new()),
            guard_param: Some(param),
        }
    }

    /// `u` (in `callee`'s terms) as seen from the caller of `hop`.
    fn substitute(&self, u: &LockUse, args: &[Option<Place>], hop: &Hop) -> LockUse {
        let mut out = u.clone();
        if let Root::Param(i) = u.place.root {
            match args.get(i as usize) {
                Some(Some(arg)) => {
                    out.place = u.place.substitute(arg);
                    // `entry.registry.entries`, where the caller built
                    // `entry` with `registry: self`, is `self.entries`.
                    if let Some(place) = self.facts[hop.caller as usize].unalias(&out.place) {
                        out.place = place;
                    }
                    let callee_class = u.class.clone();
                    let wrapper = self
                        .tables
                        .is_wrapper(u.place.krate as usize, &u.place.root_ty);
                    out.class = match (&callee_class, wrapper) {
                        (Some(c), false) => Some(c.clone()),
                        _ => self
                            .tables
                            .class_of(&out.place)
                            .map(Arc::from)
                            .or(callee_class),
                    };
                }
                _ => {
                    out.place.root = Root::Unknown;
                }
            }
        }
        if u.chain.len() < MAX_CHAIN {
            let mut chain = Vec::with_capacity(u.chain.len() + 1);
            chain.push(hop.clone());
            chain.extend(u.chain.iter().cloned());
            out.chain = Arc::from(chain);
        }
        out
    }

    /// The locks guard `g` of function `f` holds.
    fn expand_guard(&self, f: FnId, g: u32) -> Vec<LockUse> {
        let facts = &self.facts[f as usize];
        let Some(info) = facts.guards.get(g as usize) else {
            return Vec::new();
        };
        match &info.lock {
            GuardLock::Direct(acq) => vec![self.direct(f, acq, info.pos)],
            GuardLock::Param { param, mode } => vec![self.param_guard(f, *param, *mode, info.pos)],
            GuardLock::Call {
                body,
                event,
                awaited,
            } => {
                let Some(e) = facts
                    .bodies
                    .get(*body as usize)
                    .and_then(|b| b.events.get(*event as usize))
                else {
                    return Vec::new();
                };
                let EventKind::Call { callees, args, .. } = &e.kind else {
                    return Vec::new();
                };
                let mut out = Vec::new();
                for &c in callees {
                    let hop = Hop {
                        caller: f,
                        pos: e.pos,
                        callee: c,
                    };
                    for r in &self.summaries[c as usize].returns {
                        let mut lock = self.substitute(r, args, &hop);
                        lock.awaited |= *awaited;
                        out.push(lock);
                    }
                }
                out
            }
        }
    }

    /// What the closure context `ctx` adds: the locks each callee holds
    /// while it runs the closure.
    fn ctx_held(&self, f: FnId, ctx: u32, depth: u32) -> Vec<LockUse> {
        let facts = &self.facts[f as usize];
        if ctx == 0 || depth > 8 {
            return Vec::new();
        }
        let Some(c) = facts.ctxs.get(ctx as usize) else {
            return Vec::new();
        };
        let mut out = self.ctx_held(f, c.parent, depth + 1);
        let Some(e) = facts
            .bodies
            .get(c.body as usize)
            .and_then(|b| b.events.get(c.call as usize))
        else {
            return out;
        };
        if let EventKind::Call { callees, args, .. } = &e.kind {
            for &callee in callees {
                let hop = Hop {
                    caller: f,
                    pos: e.pos,
                    callee,
                };
                for (param, held) in &self.summaries[callee as usize].invokes {
                    if *param == c.arg {
                        out.extend(held.iter().map(|h| self.substitute(h, args, &hop)));
                    }
                }
            }
        }
        out
    }

    /// Whether some callee calls the closure passed as argument `arg`.
    fn calls_param(&self, callees: &[FnId], arg: u32) -> bool {
        callees
            .iter()
            .any(|&c| self.summaries[c as usize].invoked.contains(&arg))
    }

    /// Guards a closure context does not hold after all: those alive at a
    /// call whose callee keeps the closure for later instead of calling it.
    fn stored_closure_guards(&self, f: FnId, mut ctx: u32) -> Vec<u32> {
        let facts = &self.facts[f as usize];
        let mut out = Vec::new();
        for _ in 0..8 {
            if ctx == 0 {
                break;
            }
            let Some(c) = facts.ctxs.get(ctx as usize) else {
                break;
            };
            let called = match facts
                .bodies
                .get(c.body as usize)
                .and_then(|b| b.events.get(c.call as usize))
                .map(|e| &e.kind)
            {
                Some(EventKind::Call { callees, .. }) => self.calls_param(callees, c.arg),
                _ => true,
            };
            if !called {
                out.extend(c.held.iter().copied());
            }
            ctx = c.parent;
        }
        out
    }

    /// The guards held at event `e` of function `f`.
    pub fn held_at(&self, f: FnId, e: &Event) -> Vec<HeldUse> {
        let facts = &self.facts[f as usize];
        let mut out = Vec::new();
        let stored = self.stored_closure_guards(f, e.ctx);
        for &g in &e.held {
            if stored.contains(&g) {
                continue;
            }
            let info = &facts.guards[g as usize];
            let temp = e.temps.contains(&g);
            for lock in self.expand_guard(f, g) {
                out.push(HeldUse {
                    lock,
                    pos: info.pos,
                    temp,
                    scrutinee: if temp { info.scrutinee } else { None },
                    origin: Some((info.body, info.segment)),
                });
            }
        }
        for lock in self.ctx_held(f, e.ctx, 0) {
            let pos = lock.chain.first().map_or(lock.pos, |h| h.pos);
            out.push(HeldUse {
                lock,
                pos,
                temp: false,
                scrutinee: None,
                origin: None,
            });
        }
        out
    }

    /// Every lock body `body` of `f` (a thread) takes, directly or in
    /// callees, with the event that takes it.
    pub fn taken_in_body(&self, f: FnId, body: u32) -> Vec<(LockUse, Pos)> {
        let Some(b) = self.facts[f as usize].bodies.get(body as usize) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for e in &b.events {
            if !matches!(e.kind, EventKind::Acquire { .. } | EventKind::Call { .. }) {
                continue;
            }
            let (taken, pairs) = self.taken_at(f, e);
            out.extend(taken.into_iter().map(|l| (l, e.pos)));
            out.extend(pairs.into_iter().map(|(_, l)| (l, e.pos)));
        }
        out
    }

    /// The locks event `e` takes (directly or in callees), with pairs
    /// whose held side the callee decides.
    fn taken_at(&self, f: FnId, e: &Event) -> (Vec<LockUse>, Vec<(LockUse, LockUse)>) {
        match &e.kind {
            EventKind::Acquire { guard } => {
                let facts = &self.facts[f as usize];
                match &facts.guards[*guard as usize].lock {
                    GuardLock::Direct(acq) => (vec![self.direct(f, acq, e.pos)], Vec::new()),
                    GuardLock::Call { .. } | GuardLock::Param { .. } => (Vec::new(), Vec::new()),
                }
            }
            EventKind::Call {
                callees,
                args,
                moved,
                ..
            } => {
                let mut taken = Vec::new();
                let mut pairs = Vec::new();
                for &c in callees {
                    let hop = Hop {
                        caller: f,
                        pos: e.pos,
                        callee: c,
                    };
                    let s = &self.summaries[c as usize];
                    for a in &s.acquires {
                        taken.push(self.substitute(a, args, &hop));
                    }
                    for (h, a) in &s.pairs {
                        let a = self.substitute(a, args, &hop);
                        match h.guard_param {
                            // The guard the caller moved in: its own locks.
                            Some(param) => {
                                for (_, guards) in moved.iter().filter(|(i, _)| *i == param) {
                                    for &g in guards {
                                        for lock in self.expand_guard(f, g) {
                                            pairs.push((lock, a.clone()));
                                        }
                                    }
                                }
                            }
                            None => pairs.push((self.substitute(h, args, &hop), a)),
                        }
                    }
                }
                (taken, pairs)
            }
            _ => (Vec::new(), Vec::new()),
        }
    }

    fn summary_of(&self, f: FnId) -> Summary {
        let mut s = Summary::default();
        let facts = &self.facts[f as usize];
        let Some(body) = facts.bodies.first() else {
            return s;
        };
        for &(param, call, arg) in &facts.forwards {
            if let Some(EventKind::Call { callees, .. }) =
                body.events.get(call as usize).map(|e| &e.kind)
            {
                if self.calls_param(callees, arg) && !s.invoked.contains(&param) {
                    s.invoked.push(param);
                }
            }
        }
        let mut seen = HashSet::new();
        let mut seen_returns = HashSet::new();
        for e in &body.events {
            match &e.kind {
                EventKind::Acquire { .. } | EventKind::Call { .. } => {
                    let (taken, pairs) = self.taken_at(f, e);
                    let held = if taken.iter().any(LockUse::depends_on_caller) || !pairs.is_empty()
                    {
                        self.held_at(f, e)
                    } else {
                        Vec::new()
                    };
                    for a in taken {
                        for h in &held {
                            if (h.lock.depends_on_caller() || a.depends_on_caller())
                                && s.pairs.len() < MAX_PAIRS
                            {
                                s.pairs.push((h.lock.clone(), a.clone()));
                            }
                        }
                        if s.acquires.len() < MAX_ACQUIRES && seen.insert(a.key()) {
                            s.acquires.push(a);
                        }
                    }
                    for (h, a) in pairs {
                        if (h.depends_on_caller() || a.depends_on_caller())
                            && s.pairs.len() < MAX_PAIRS
                        {
                            s.pairs.push((h, a));
                        }
                    }
                }
                EventKind::InvokeParam { param } => {
                    if !s.invoked.contains(param) {
                        s.invoked.push(*param);
                    }
                    let held: Vec<LockUse> =
                        self.held_at(f, e).into_iter().map(|h| h.lock).collect();
                    if !held.is_empty() {
                        s.invokes.push((*param, held));
                    }
                }
                EventKind::Return { guards } => {
                    for &g in guards {
                        for u in self.expand_guard(f, g) {
                            if seen_returns.insert(u.key()) {
                                s.returns.push(u);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        s
    }

    /// How a reader names who runs body `b` of `f`; in-loop spawns give two.
    pub fn agents(&self, f: FnId, b: usize) -> Vec<String> {
        let name = &self.tables.fns[f as usize].display;
        let facts = &self.facts[f as usize];
        match &facts.bodies[b].agent {
            AgentKind::Function => vec![format!("`{name}`")],
            AgentKind::Spawned { in_loop, .. } => {
                let index = facts.bodies[..b]
                    .iter()
                    .filter(|x| matches!(x.agent, AgentKind::Spawned { .. }))
                    .count();
                let what = if facts.bodies[b].is_async {
                    "task"
                } else {
                    "thread"
                };
                let base = if index == 0 {
                    format!("the {what} spawned in `{name}`")
                } else {
                    format!("{what} #{} spawned in `{name}`", index + 1)
                };
                if *in_loop {
                    vec![
                        format!("one {what} spawned in a loop in `{name}`"),
                        format!("another {what} spawned in that loop in `{name}`"),
                    ]
                } else {
                    vec![base]
                }
            }
            AgentKind::Detached { .. } => vec![format!("a closure made in `{name}`")],
        }
    }

    /// Every acquisition of every body, with what is held.
    pub fn scan_facts(&self) -> Vec<ScanFact> {
        let mut out = Vec::new();
        let mut seen: HashSet<FactKey> = HashSet::new();
        for (f, facts) in self.facts.iter().enumerate() {
            let f = f as FnId;
            for (b, body) in facts.bodies.iter().enumerate() {
                let agents = self.agents(f, b);
                for e in &body.events {
                    if !matches!(e.kind, EventKind::Acquire { .. } | EventKind::Call { .. }) {
                        continue;
                    }
                    let direct = matches!(e.kind, EventKind::Acquire { .. });
                    if !direct && e.held.is_empty() && e.ctx == 0 {
                        // Nothing held: the callee's own facts say it all,
                        // unless pairs depend on these arguments.
                        let has_pairs = match &e.kind {
                            EventKind::Call { callees, .. } => callees
                                .iter()
                                .any(|&c| !self.summaries[c as usize].pairs.is_empty()),
                            _ => false,
                        };
                        if !has_pairs {
                            continue;
                        }
                    }
                    let (taken, pairs) = self.taken_at(f, e);
                    let held = self.held_at(f, e);
                    let mut emit = |acq: LockUse, held: Vec<HeldUse>| {
                        let key = FactKey {
                            func: f,
                            body: b as u32,
                            pos: acq.pos,
                            chain: acq.chain.iter().map(|h| h.pos).collect(),
                            held: held.iter().map(|h| (h.pos, h.lock.pos)).collect(),
                            exclusive: acq.mode == LockMode::Exclusive,
                        };
                        if !seen.insert(key) {
                            return;
                        }
                        for agent in &agents {
                            out.push(ScanFact {
                                func: f,
                                body: b as u32,
                                agent: agent.clone(),
                                acq: acq.clone(),
                                held: held.clone(),
                                pos: e.pos,
                                segment: e.segment,
                            });
                        }
                    };
                    if direct || !held.is_empty() {
                        for a in taken {
                            emit(a, held.clone());
                        }
                    }
                    for (h, a) in pairs {
                        let mut with = held.clone();
                        // Where the held guard came to be in this function:
                        // its own lock, its call, or the call that took it.
                        let pos = if h.func == f && h.chain.is_empty() {
                            h.pos
                        } else {
                            match h.chain.first() {
                                Some(hop) if hop.caller == f => hop.pos,
                                _ => e.pos,
                            }
                        };
                        with.push(HeldUse {
                            pos,
                            lock: h,
                            temp: false,
                            scrutinee: None,
                            // Taken during this event (in the callee), so at
                            // this point of the body, for the spawn/join order.
                            origin: Some((b as u32, e.segment)),
                        });
                        emit(a, with);
                    }
                }
            }
        }
        out
    }
}
