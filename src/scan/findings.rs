//! Findings from the scanner's facts: double locks and recursive reads,
//! lock-order inversions (the shared lock graph, its filters included),
//! violations of declared lock orders, condvar misuse, guards across
//! `.await`, and lost updates on atomics.
//!
//! Every finding tells the whole path: where the first lock was taken, each
//! call that leads from there, and where the second lock is asked for.

use std::collections::{HashMap, HashSet};

use super::guards::{AgentKind, EventKind, GuardLock};
use super::ir::Pos;
use super::lock_names::{Place, Root};
use super::summary::{HeldUse, LockUse, Program, ScanFact};
use super::tables::FnId;
use crate::analysis::happens_before::VectorClock;
use crate::analysis::lock_graph::{
    self, Acquisition, CallStep, GuardLife, Held, LockFlavor, LockKey, SearchLimits, Segment,
};
use crate::event::AgentId;
use crate::event::{LockMode, Site};
use crate::finding::{Finding, Kind};

/// What the findings pass produced besides findings.
#[derive(Debug, Default)]
pub struct Extras {
    /// Cycles the lock graph's filters left out, and why.
    pub suppressed_cycles: Vec<(Vec<String>, String)>,
    pub locks: usize,
    pub edges: usize,
}

pub struct Findings<'p> {
    program: &'p Program,
    facts: Vec<ScanFact>,
    /// The facts asked for at each place of each function.
    by_place: HashMap<(FnId, Pos), Vec<usize>>,
}

impl<'p> Findings<'p> {
    pub fn new(program: &'p Program) -> Self {
        let facts = program.scan_facts();
        let mut by_place: HashMap<(FnId, Pos), Vec<usize>> = HashMap::new();
        for (i, f) in facts.iter().enumerate() {
            by_place.entry((f.func, f.pos)).or_default().push(i);
        }
        Findings {
            program,
            facts,
            by_place,
        }
    }

    fn fname(&self, f: FnId) -> &str {
        &self.program.tables.fns[f as usize].display
    }

    fn site(&self, f: FnId, pos: Pos) -> Site {
        let t = &self.program.tables;
        let file = &t.files[t.fns[f as usize].file].display;
        Site::new(file.clone(), pos.line, pos.column)
    }

    /// The name of a lock: its class, or how the source spells it.
    pub fn name_of(&self, lock: &LockUse) -> String {
        match &lock.class {
            Some(c) => c.to_string(),
            None => spelled(&lock.place),
        }
    }

    /// Prints every fact (debugging aid, `INTERLOCK_DUMP`).
    pub fn dump(&self) {
        for fact in &self.facts {
            let site = self.site(fact.acq.func, fact.acq.pos);
            let held: Vec<String> = fact
                .held
                .iter()
                .map(|h| {
                    format!(
                        "{}({}:{:?})@{}",
                        self.name_of(&h.lock),
                        spelled(&h.lock.place),
                        h.lock.place.root,
                        h.pos.line
                    )
                })
                .collect();
            eprintln!(
                "FACT {}:{} {}({}:{:?}) {:?} by {} holding [{}] chain {}",
                site.file,
                site.line,
                self.name_of(&fact.acq),
                spelled(&fact.acq.place),
                fact.acq.place.root,
                fact.acq.mode,
                fact.agent,
                held.join(", "),
                fact.acq.chain.len()
            );
        }
    }

    /// The facts asked for at `pos` in `f`.
    fn facts_at(&self, f: FnId, pos: Pos) -> impl Iterator<Item = &ScanFact> + '_ {
        self.by_place
            .get(&(f, pos))
            .into_iter()
            .flatten()
            .map(|&i| &self.facts[i])
    }

    /// The facts the findings came from.
    pub fn into_facts(self) -> Vec<ScanFact> {
        self.facts
    }

    /// All findings.
    pub fn all(&self, declared: &[Vec<String>]) -> (Vec<Finding>, Extras) {
        let mut findings = self.relocks();
        let (cycles, extras) = self.cycles();
        findings.extend(cycles);
        findings.extend(self.declared_orders(declared));
        findings.extend(self.joins());
        findings.extend(self.condvars());
        findings.extend(self.awaits());
        findings.extend(self.atomics());
        (findings, extras)
    }

    // -----------------------------------------------------------------------
    // Lock facts, as the lock graph takes them

    fn flavor(lock: &LockUse) -> LockFlavor {
        LockFlavor {
            mode: lock.mode,
            blocking: lock.blocking,
            recursive: lock.recursive,
            upgradable: lock.upgradable,
            reentrant: lock.reentrant,
        }
    }

    /// The acquisition of `fact` as the lock graph's fact, holding nothing
    /// yet: the lock taken, how, and the calls that lead to it.
    fn acquisition(&self, fact: &ScanFact, lock: LockKey) -> Acquisition {
        self.acquisition_of(&fact.acq, &fact.agent, lock)
    }

    /// `agent` taking `a` as the lock graph's fact, holding nothing yet.
    fn acquisition_of(&self, a: &LockUse, agent: &str, lock: LockKey) -> Acquisition {
        let mut acq = Acquisition::new(lock, a.mode, self.site(a.func, a.pos)).by(agent);
        acq.flavor = Self::flavor(a);
        acq.function = Some(self.fname(a.func).to_string());
        acq.path = a
            .chain
            .iter()
            .map(|hop| CallStep {
                caller: self.fname(hop.caller).to_string(),
                callee: self.fname(hop.callee).to_string(),
                site: self.site(hop.caller, hop.pos),
            })
            .collect();
        acq
    }

    /// A lock held at `fact`, as the lock graph's fact.
    fn held(&self, fact: &ScanFact, h: &HeldUse, lock: LockKey) -> Held {
        let edition =
            self.program.tables.files[self.program.tables.fns[fact.func as usize].file].edition;
        let mut held = Held::new(lock, h.lock.mode, self.site(fact.func, h.pos));
        held.flavor = Self::flavor(&h.lock);
        held.life = Self::life(h, edition);
        if !h.lock.chain.is_empty() {
            held.taken_in = Some((
                self.fname(h.lock.func).to_string(),
                self.site(h.lock.func, h.lock.pos),
            ));
        }
        held
    }

    /// How the guard of `h` lives, by Rust's rules for temporaries (an `if
    /// let` scrutinee's changed in edition 2024).
    fn life(h: &HeldUse, edition: super::discover::Edition) -> GuardLife {
        match (h.scrutinee, h.temp) {
            (Some("if let"), _) => GuardLife::IfLetScrutinee {
                through_else: edition < super::discover::Edition::E2024,
            },
            (Some(what), _) => GuardLife::Scrutinee(what),
            (None, true) => GuardLife::Temporary,
            (None, false) => GuardLife::Bound,
        }
    }

    /// Where a held lock was taken, in the lock graph's words.
    fn first_label(&self, lock: &str, h: &HeldUse) -> String {
        let held = Held {
            life: Self::life(h, super::discover::Edition::E2024),
            ..Held::new(LockKey::named(lock), h.lock.mode, Site::unknown())
        };
        lock_graph::held_label(&held.lock, &held)
    }

    // -----------------------------------------------------------------------
    // Double locks and recursive reads

    /// A lock asked for while the same instance is held: the lock graph
    /// judges it by the two flavours.
    fn relocks(&self) -> Vec<Finding> {
        let mut facts = Vec::new();
        for fact in &self.facts {
            let key = LockKey::named(self.name_of(&fact.acq));
            let mut acq = self.acquisition(fact, key.clone());
            for h in &fact.held {
                if h.lock.place.same_instance(&fact.acq.place) {
                    acq.held.push(self.held(fact, h, key.clone()));
                }
            }
            if !acq.held.is_empty() {
                facts.push(acq);
            }
        }
        // Files are parsed in parallel: in source order, the caller told
        // for a recursive read reached from several is the same every run.
        facts.sort_by(|x, y| (x.asked_at(), &x.site).cmp(&(y.asked_at(), &y.site)));
        lock_graph::relock_findings(&facts)
    }

    // -----------------------------------------------------------------------
    // Lock-order inversions

    /// How the lock graph knows a lock taken while `other` is held: by its
    /// class, or, for two instances of one class, by instance (numbered in
    /// `instances`, named as the source spells it).
    fn cycle_key(
        &self,
        lock: &LockUse,
        other: &LockUse,
        instances: &mut HashMap<String, u32>,
    ) -> Option<LockKey> {
        let class = lock.class.as_deref()?;
        if !same_class_instances(lock, other) && !same_class_instances(other, lock) {
            return Some(LockKey::named(class));
        }
        let next = instances.len() as u32;
        let id = *instances
            .entry(instance_key(class, &lock.place))
            .or_insert(next);
        Some(LockKey {
            id: Some(id),
            name: spelled(&lock.place),
        })
    }

    fn cycles(&self) -> (Vec<Finding>, Extras) {
        // The facts as the lock graph takes them, twice: as they are, and
        // with the locks every caller holds around a function (gates that
        // keep two sides apart). Cycles come from the first, and a cycle the
        // gates rule out in the second is left out.
        let mut pairs: Vec<(Acquisition, Acquisition)> = Vec::new();
        let mut any_gate = false;
        let mut segments = Segments::new(self.program);
        let mut instances = HashMap::new();
        for fact in &self.facts {
            let Some(class) = &fact.acq.class else {
                continue;
            };
            // By instance when some held lock is another instance of its class.
            let other = fact
                .held
                .iter()
                .find(|h| same_class_instances(&fact.acq, &h.lock))
                .map_or(&fact.acq, |h| &h.lock);
            let Some(key) = self.cycle_key(&fact.acq, other, &mut instances) else {
                continue;
            };
            let mut acq = self.acquisition(fact, key);
            acq.segment = segments.of(fact.func, fact.body, fact.segment);
            for h in &fact.held {
                let Some(hc) = &h.lock.class else { continue };
                if h.lock.reentrant && hc == class {
                    continue;
                }
                let Some(key) = self.cycle_key(&h.lock, &fact.acq, &mut instances) else {
                    continue;
                };
                let mut held = self.held(fact, h, key);
                if let Some((body, segment)) = h.origin {
                    held.segment = segments.of(fact.func, body, segment);
                }
                acq.held.push(held);
            }
            let mut with_gates = acq.clone();
            if fact.body == 0 {
                for e in &self.program.entry[fact.func as usize] {
                    if with_gates.held.iter().any(|h| h.lock.name == *e.class) {
                        continue;
                    }
                    let mode = if e.exclusive {
                        LockMode::Exclusive
                    } else {
                        LockMode::Shared
                    };
                    with_gates.held.push(Held::new(
                        LockKey::named(e.class.to_string()),
                        mode,
                        self.site(e.func, e.pos),
                    ));
                    any_gate = true;
                }
            }
            pairs.push((acq, with_gates));
        }
        // Files are parsed in parallel: put the facts in source order so that
        // locks are numbered, and cycles reported, the same way every run.
        pairs.sort_by_cached_key(|(f, _)| {
            (
                f.site.clone(),
                f.held.iter().map(|h| h.site.clone()).collect::<Vec<_>>(),
            )
        });
        let (plain, gated): (Vec<_>, Vec<_>) = pairs.into_iter().unzip();
        let analysis = lock_graph::inversions(
            &plain,
            any_gate.then_some(gated.as_slice()),
            &SearchLimits::default(),
        );
        let extras = Extras {
            locks: analysis.stats.locks,
            edges: analysis.stats.edges,
            suppressed_cycles: analysis
                .cycles
                .iter()
                .filter_map(|c| {
                    let locks = c.locks.iter().map(|k| k.name.clone()).collect();
                    c.suppression().map(|s| (locks, s.describe()))
                })
                .collect(),
        };
        (analysis.findings, extras)
    }

    /// Acquisitions against an order the configuration declares.
    fn declared_orders(&self, declared: &[Vec<String>]) -> Vec<Finding> {
        if declared.is_empty() {
            return Vec::new();
        }
        let by_class = |lock: &LockUse| lock.class.as_deref().map(LockKey::named);
        let facts: Vec<Acquisition> = self
            .facts
            .iter()
            .filter_map(|fact| {
                let mut acq = self.acquisition(fact, by_class(&fact.acq)?);
                acq.held = fact
                    .held
                    .iter()
                    .filter_map(|h| Some(self.held(fact, h, by_class(&h.lock)?)))
                    .collect();
                Some(acq)
            })
            .collect();
        lock_graph::declared_order_findings(&facts, declared)
    }

    // -----------------------------------------------------------------------
    // Condvars

    /// A lock held while joining a thread that takes it: the join waits
    /// for the thread, the thread for the lock. As lockdep does for flushes,
    /// the thread's end is a lock the thread holds from start to end: the
    /// joiner takes it while holding the lock, the thread takes the lock
    /// while holding it, a cycle.
    fn joins(&self) -> Vec<Finding> {
        let p = self.program;
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for (f, facts) in p.facts.iter().enumerate() {
            let f = f as FnId;
            for (b, body) in facts.bodies.iter().enumerate() {
                for (index, e) in body.events.iter().enumerate() {
                    let EventKind::Join { threads } = &e.kind else {
                        continue;
                    };
                    let held = p.held_at(f, e);
                    for &t in threads {
                        let spawned_at = match facts.bodies.get(t as usize).map(|b| &b.agent) {
                            Some(AgentKind::Spawned { pos, .. }) => *pos,
                            _ => continue,
                        };
                        for (taken, at) in p.taken_in_body(f, t) {
                            // Certain only for a guard taken before the thread
                            // started and kept since: one taken later (or given
                            // back in a condvar wait) may come after the
                            // thread is done with the lock (a channel, a
                            // handshake).
                            let Some(h) = held.iter().find(|h| {
                                h.lock.place.same_instance(&taken.place)
                                    && (h.pos.line, h.pos.column)
                                        < (spawned_at.line, spawned_at.column)
                                    && !self.waited_with(f, &body.events[..index], &h.lock)
                            }) else {
                                continue;
                            };
                            let Some(finding) =
                                self.join_finding(f, (b as u32, e.pos), t, h, &taken, at)
                            else {
                                continue;
                            };
                            if seen.insert((f, e.pos, h.pos)) {
                                out.push(finding);
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// Whether one of `events` is a condvar wait that gives `lock` back for
    /// a while.
    fn waited_with(&self, f: FnId, events: &[super::guards::Event], lock: &LockUse) -> bool {
        events.iter().any(|e| match &e.kind {
            EventKind::Wait { guard: Some(g), .. } => self
                .guard_locks(f, *g)
                .iter()
                .any(|l| l.place.same_instance(&lock.place)),
            _ => false,
        })
    }

    /// `join` is the joining body and the join's place in it; the lock
    /// graph tells the finding.
    fn join_finding(
        &self,
        f: FnId,
        (body, join): (u32, Pos),
        thread: u32,
        h: &HeldUse,
        taken: &LockUse,
        at: Pos,
    ) -> Option<Finding> {
        let name = |b: u32| {
            let mut names = self.program.agents(f, b as usize);
            if names.is_empty() {
                "a thread".to_string()
            } else {
                names.swap_remove(0)
            }
        };
        let lock = LockKey::named(self.name_of(&h.lock));
        let held = Held::new(lock.clone(), h.lock.mode, self.site(f, h.pos));
        let mut asked = self.acquisition_of(taken, &name(thread), lock);
        if asked.path.is_empty() {
            asked.site = self.site(f, at);
        }
        lock_graph::held_across_join(&self.site(f, join), &name(body), &held, &asked)
    }

    fn condvars(&self) -> Vec<Finding> {
        let p = self.program;
        let t = &p.tables;
        let mut out = Vec::new();
        // The mutexes each condvar's waiters check under.
        let mut waits: HashMap<String, Vec<(String, Site)>> = HashMap::new();
        for (f, facts) in p.facts.iter().enumerate() {
            let f = f as FnId;
            for body in &facts.bodies {
                for e in &body.events {
                    let EventKind::Wait {
                        cv,
                        guard,
                        looped,
                        timed,
                    } = &e.kind
                    else {
                        continue;
                    };
                    let Some(cv_name) = t.class_of(cv) else {
                        continue;
                    };
                    let site = self.site(f, e.pos);
                    // A lost wake-up costs a timed waiter only its timeout.
                    if let (Some(g), false) = (guard, timed) {
                        for lock in self.guard_locks(f, *g) {
                            if let Some(m) = &lock.class {
                                waits
                                    .entry(cv_name.clone())
                                    .or_default()
                                    .push((m.to_string(), site.clone()));
                            }
                        }
                    }
                    if !looped && !self.always_called_in_loops(f) {
                        out.push(
                            Finding::new(
                                Kind::CondvarMisuse,
                                format!("`{cv_name}` is waited on outside a loop"),
                            )
                            .at(&site, format!("`{cv_name}` waited on here, once"))
                            .with_help(
                                "wait in a loop that checks the condition (`while !ready { g = cv.wait(g)...; }`), \
                                 or use `wait_while`: a wait can return without a notify (a spurious wake-up), \
                                 or after another waiter already consumed what the notify announced",
                            ),
                        );
                    }
                }
            }
        }
        if waits.is_empty() {
            return out;
        }
        // Callers that take the mutex before calling a function.
        let mut seen = HashSet::new();
        for (f, facts) in p.facts.iter().enumerate() {
            let f = f as FnId;
            for body in &facts.bodies {
                for (index, e) in body.events.iter().enumerate() {
                    let EventKind::Notify { cv } = &e.kind else {
                        continue;
                    };
                    let Some(cv_name) = t.class_of(cv) else {
                        continue;
                    };
                    let Some(mutexes) = waits.get(&cv_name) else {
                        continue;
                    };
                    let held: Vec<String> = p
                        .held_at(f, e)
                        .iter()
                        .filter_map(|h| h.lock.class.as_deref().map(str::to_string))
                        .collect();
                    let earlier = self.taken_before(f, &body.events[..index]);
                    for (m, wait_site) in mutexes {
                        if held.contains(m) || earlier.contains(m) {
                            continue;
                        }
                        if body.agent == AgentKind::Function && self.callers_take(f, m) {
                            continue;
                        }
                        let site = self.site(f, e.pos);
                        if !seen.insert((site.clone(), m.clone())) {
                            continue;
                        }
                        out.push(
                            Finding::new(
                                Kind::CondvarMisuse,
                                format!(
                                    "`{cv_name}` is notified without taking `{m}`, the mutex its \
                                     waiters check their condition under"
                                ),
                            )
                            .at(
                                &site,
                                format!("`{cv_name}` notified here; `{m}` was not taken"),
                            )
                            .at(
                                wait_site,
                                format!("waiters check the condition under `{m}` here"),
                            )
                            .with_help(format!(
                                "change the state the waiters wait for while holding `{m}` (then \
                                 notify, with or without it): a change made outside `{m}` can fall \
                                 between a waiter's check and its wait, and the notify is lost"
                            )),
                        );
                    }
                }
            }
        }
        out
    }

    fn guard_locks(&self, f: FnId, g: u32) -> Vec<LockUse> {
        let facts = &self.program.facts[f as usize];
        match &facts.guards[g as usize].lock {
            GuardLock::Direct(_) | GuardLock::Call { .. } | GuardLock::Param { .. } => {
                // Through the summaries, as for held sets.
                let e = super::guards::Event {
                    kind: EventKind::Return { guards: Vec::new() },
                    pos: Pos::default(),
                    held: vec![g],
                    ctx: 0,
                    temps: Vec::new(),
                    in_loop: false,
                    segment: 0,
                };
                self.program
                    .held_at(f, &e)
                    .into_iter()
                    .map(|h| h.lock)
                    .collect()
            }
        }
    }

    /// Lock classes taken by these events (in callees too).
    fn taken_before(&self, f: FnId, events: &[super::guards::Event]) -> HashSet<String> {
        let mut out = HashSet::new();
        for e in events {
            for h in self.program.held_at(f, e) {
                if let Some(c) = h.lock.class {
                    out.insert(c.to_string());
                }
            }
            match &e.kind {
                EventKind::Acquire { .. } | EventKind::Call { .. } => {
                    for fact in self.facts_at(f, e.pos) {
                        if let Some(c) = &fact.acq.class {
                            out.insert(c.to_string());
                        }
                    }
                    if let EventKind::Call { callees, guard, .. } = &e.kind {
                        // A wrapper's guard, even one dropped at once
                        // (`drop(self.mutex.lock())`, the notify handshake).
                        if let Some(g) = guard {
                            for lock in self.guard_locks(f, *g) {
                                if let Some(class) = &lock.class {
                                    out.insert(class.to_string());
                                }
                            }
                        }
                        for &c in callees {
                            for a in &self.program.summaries[c as usize].acquires {
                                if let Some(class) = &a.class {
                                    out.insert(class.to_string());
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Whether `f` has callers, and each calls it inside a loop (a helper
    /// that waits once, called by a loop that checks the condition).
    fn always_called_in_loops(&self, f: FnId) -> bool {
        let mut any = false;
        for facts in &self.program.facts {
            for body in &facts.bodies {
                for e in &body.events {
                    if let EventKind::Call { callees, .. } = &e.kind {
                        if callees.contains(&f) {
                            if !e.in_loop {
                                return false;
                            }
                            any = true;
                        }
                    }
                }
            }
        }
        any
    }

    /// Whether some caller of `f` takes `m` before (or while) calling it.
    fn callers_take(&self, f: FnId, m: &str) -> bool {
        for (g, facts) in self.program.facts.iter().enumerate() {
            for body in &facts.bodies {
                for (i, e) in body.events.iter().enumerate() {
                    let EventKind::Call { callees, .. } = &e.kind else {
                        continue;
                    };
                    if callees.contains(&f)
                        && self.taken_before(g as FnId, &body.events[..=i]).contains(m)
                    {
                        return true;
                    }
                }
            }
        }
        false
    }

    // -----------------------------------------------------------------------
    // Guards across `.await`

    fn awaits(&self) -> Vec<Finding> {
        let p = self.program;
        let async_classes: HashSet<&str> = self
            .facts
            .iter()
            .filter(|f| f.acq.awaited)
            .filter_map(|f| f.acq.class.as_deref())
            .collect();
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for (f, facts) in p.facts.iter().enumerate() {
            let f = f as FnId;
            for body in &facts.bodies {
                for e in &body.events {
                    let EventKind::Await { awaited } = &e.kind else {
                        continue;
                    };
                    let held = p.held_at(f, e);
                    if held.is_empty() {
                        continue;
                    }
                    let site = self.site(f, e.pos);
                    for h in &held {
                        let name = self.name_of(&h.lock);
                        let is_async = h.lock.awaited
                            || h.lock
                                .class
                                .as_deref()
                                .is_some_and(|c| async_classes.contains(c));
                        let first = self.site(f, h.pos);
                        if !seen.insert((site.clone(), first.clone())) {
                            continue;
                        }
                        if is_async {
                            // An async lock may be held across an await, unless the
                            // awaited work takes it again.
                            let again = body.events[awaited.start as usize..awaited.end as usize]
                                .iter()
                                .flat_map(|x| self.facts_at(f, x.pos))
                                .find(|fact| {
                                    fact.acq.class.is_some() && fact.acq.class == h.lock.class
                                        || fact.acq.place.same_instance(&h.lock.place)
                                });
                            let Some(again) = again else { continue };
                            // The same lock itself: a double lock, reported as one.
                            if again.acq.place.same_instance(&h.lock.place) {
                                continue;
                            }
                            let second = self.site(again.acq.func, again.acq.pos);
                            out.push(
                                Finding::new(
                                    Kind::GuardAcrossAwait,
                                    format!(
                                        "the guard of `{name}` is held across an `.await` whose work locks `{name}` again"
                                    ),
                                )
                                .at(&site, format!("awaited here while `{name}` is held"))
                                .at(&first, format!("`{name}` locked here"))
                                .at(&second, format!("the awaited work locks `{name}` here"))
                                .with_help(format!(
                                    "drop the guard of `{name}` before the `.await` (end its scope or \
                                     `drop(guard)`), or pass the data to the awaited work"
                                )),
                            );
                        } else {
                            out.push(
                                Finding::new(
                                    Kind::GuardAcrossAwait,
                                    format!("the guard of `{name}` (a blocking lock) is held across an `.await`"),
                                )
                                .at(&site, format!("awaited here while `{name}` is held"))
                                .at(&first, self.first_label(&name, h))
                                .with_help(format!(
                                    "drop the guard of `{name}` before the `.await` (end its scope, or \
                                     `drop(guard)`), or use an async lock: a task suspended here keeps \
                                     `{name}` locked, and a task on the same executor thread that asks for \
                                     it blocks the thread the first task needs to resume"
                                )),
                            );
                        }
                    }
                }
            }
        }
        out
    }

    // -----------------------------------------------------------------------
    // Atomics

    fn atomics(&self) -> Vec<Finding> {
        let p = self.program;
        let t = &p.tables;
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        // Atomics some code updates with a compare-and-swap are steps of a
        // lock-free protocol: a plain load and store on one is made by the
        // thread that won the swap (a queue's head moved on by its owner).
        let swapped: HashSet<String> = p
            .facts
            .iter()
            .flat_map(|f| f.compare_exchanged.iter())
            .filter_map(|place| t.class_of(place))
            .collect();
        for (f, facts) in p.facts.iter().enumerate() {
            let f = f as FnId;
            let info = &t.fns[f as usize];
            for body in &facts.bodies {
                let spawned = body.agent != AgentKind::Function;
                let load_held: HashMap<u32, &Vec<u32>> = body
                    .events
                    .iter()
                    .filter_map(|e| match &e.kind {
                        EventKind::Load { id, .. } => Some((*id, &e.held)),
                        _ => None,
                    })
                    .collect();
                for e in &body.events {
                    let EventKind::Store {
                        atomic,
                        value_deps,
                        order,
                        ..
                    } = &e.kind
                    else {
                        continue;
                    };
                    let shared = match &atomic.root {
                        Root::Static(_) => true,
                        Root::Param(0) if info.def.self_param.is_some() => {
                            matches!(info.def.self_param, Some(super::ir::SelfParam::Ref))
                        }
                        Root::Param(i) => info.param_ty(*i as usize).is_some_and(|ty| {
                            matches!(ty, super::ir::Ty::Ref(_)) || t.strip(info.krate, &ty) != &ty
                        }),
                        Root::Local(..) => spawned,
                        Root::Unknown => false,
                    };
                    if !shared {
                        continue;
                    }
                    for &d in value_deps {
                        let Some((load, load_pos, load_order)) = facts.loads.get(d as usize) else {
                            continue;
                        };
                        if !load.same_instance(atomic) {
                            continue;
                        }
                        if t.class_of(atomic).is_some_and(|c| swapped.contains(&c)) {
                            continue;
                        }
                        // A `Relaxed` read of the value, published with a
                        // `Release` store: the single-writer idiom (the owner
                        // of an index reads its own value and publishes the
                        // next one, as deques and ring buffers do). A store
                        // whose ordering is a variable (`Release` in some
                        // builds, `Relaxed` after a fence in others) is read
                        // the same way: nothing says it is not the idiom.
                        if *load_order == Some("Relaxed")
                            && (*order == Some("Release") || order.is_none())
                        {
                            continue;
                        }
                        // Under one lock on both sides, the lock serialises them.
                        if let Some(lh) = load_held.get(&d) {
                            if lh.iter().any(|g| e.held.contains(g)) {
                                continue;
                            }
                        }
                        let store_site = self.site(f, e.pos);
                        if !seen.insert(store_site.clone()) {
                            continue;
                        }
                        let name = t.class_of(atomic).unwrap_or_else(|| spelled(atomic));
                        out.push(
                            Finding::new(
                                Kind::AtomicityViolation,
                                format!(
                                    "`{name}` is read, then written back from what was read, in two \
                                     steps: an update by another thread in between is lost"
                                ),
                            )
                            .at(&store_site, format!("`{name}` written here from the value read"))
                            .at(&self.site(f, *load_pos), format!("`{name}` read here"))
                            .with_help(format!(
                                "make it one atomic step: `fetch_add`/`fetch_sub`/`fetch_or`..., \
                                 `fetch_update`, or a `compare_exchange` loop on `{name}`"
                            )),
                        );
                        break;
                    }
                }
            }
        }
        out
    }
}

/// The spawn/join order inside functions that spawn threads: what the
/// spawner did before a spawn happens-before the thread, what it does
/// after joining it happens after. Functions that spawn nothing get no
/// segments (their order with anything is unknown).
struct Segments<'p> {
    program: &'p Program,
    agents: HashMap<(FnId, u32), u32>,
    clocks: HashMap<(FnId, u32, u32), std::sync::Arc<VectorClock>>,
}

impl<'p> Segments<'p> {
    fn new(program: &'p Program) -> Self {
        Segments {
            program,
            agents: HashMap::new(),
            clocks: HashMap::new(),
        }
    }

    fn spawns(&self, f: FnId) -> bool {
        self.program.facts[f as usize]
            .bodies
            .iter()
            .any(|b| b.spawned_by.is_some())
    }

    fn agent(&mut self, f: FnId, body: u32) -> u32 {
        let next = self.agents.len() as u32;
        *self.agents.entry((f, body)).or_insert(next)
    }

    fn clock(
        &mut self,
        f: FnId,
        body: u32,
        segment: u32,
        depth: u32,
    ) -> std::sync::Arc<VectorClock> {
        if let Some(c) = self.clocks.get(&(f, body, segment)) {
            return c.clone();
        }
        let mut clock = VectorClock::new();
        let me = self.agent(f, body);
        clock.set(AgentId(me), segment + 1);
        let bodies = &self.program.facts[f as usize].bodies;
        if depth < 16 {
            if let Some((parent, at)) = bodies[body as usize].spawned_by {
                let c = self.clock(f, parent, at, depth + 1);
                clock.join(&c);
            }
            let children: Vec<(u32, u32)> = bodies
                .iter()
                .enumerate()
                .filter(|(_, b)| {
                    b.spawned_by.is_some_and(|(p, _)| p == body)
                        && b.joined_at.is_some_and(|j| j <= segment)
                })
                .map(|(k, b)| (k as u32, b.last_segment))
                .collect();
            for (child, last) in children {
                let c = self.clock(f, child, last, depth + 1);
                clock.join(&c);
            }
        }
        let clock = std::sync::Arc::new(clock);
        self.clocks.insert((f, body, segment), clock.clone());
        clock
    }

    /// The segment of body `body` of `f` at `segment`, when `f` spawns.
    fn of(&mut self, f: FnId, body: u32, segment: u32) -> Option<Segment> {
        if !self.spawns(f) {
            return None;
        }
        let clock = self.clock(f, body, segment, 0);
        Some(Segment {
            agent: self.agent(f, body),
            clock,
        })
    }
}

/// Whether `acq` and `held` are two known instances of one lock class
/// (`a.balance`, `b.balance` of `Account.balance`). By class, the lock graph
/// would only see `Account.balance` taken while holding `Account.balance`,
/// which says nothing of an order; by instance it sees `a` before `b` here
/// and maybe `b` before `a` elsewhere. An instance is known when it is
/// rooted in a local or a static, with no index on the way.
fn same_class_instances(acq: &LockUse, held: &LockUse) -> bool {
    let known = |p: &Place| {
        matches!(p.root, Root::Local(..) | Root::Static(_))
            && !p.path.iter().any(|s| &**s == super::lock_names::INDEX)
    };
    acq.class.is_some()
        && acq.class == held.class
        && known(&acq.place)
        && known(&held.place)
        && !acq.place.same_instance(&held.place)
}

/// The lock graph's name for an instance of `class`.
fn instance_key(class: &str, place: &Place) -> String {
    let mut key = format!("{class} @{:?}", place.root);
    for step in &place.path {
        key.push('.');
        key.push_str(step);
    }
    key
}

/// A place as the source spells it: `self.inner.state`, `m`.
pub fn spelled(place: &Place) -> String {
    let mut s = place.root_name.to_string();
    for step in &place.path {
        if &**step == super::lock_names::INDEX {
            s.push_str("[..]");
        } else {
            s.push('.');
            s.push_str(step);
        }
    }
    s
}
