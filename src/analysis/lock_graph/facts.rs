//! Lock facts: who took which lock, where, while holding what.
//!
//! Both front doors speak this: the runtime derives facts from the events of
//! an execution ([`facts_from_trace`]), the static scanner builds them
//! directly from guards it sees alive in the source.

use std::fmt;
use std::sync::Arc;

use crate::analysis::happens_before::{HappensBefore, VectorClock};
use crate::event::{Action, AgentId, LockMode, ObjectId, Site, Trace};

/// A lock's identity. The runtime knows object ids (two locks may share a
/// name, as the forks of the philosophers do when named by their field); the
/// scanner knows only names (`Bank.accounts`, a static, an `Arc`'s origin),
/// and the name is the identity then.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LockKey {
    pub id: Option<u32>,
    pub name: String,
}

impl LockKey {
    /// A lock known by name only.
    pub fn named(name: impl Into<String>) -> Self {
        LockKey {
            id: None,
            name: name.into(),
        }
    }

    /// A lock object of a trace.
    pub fn object(id: ObjectId, name: impl Into<String>) -> Self {
        LockKey {
            id: Some(id.0),
            name: name.into(),
        }
    }
}

impl fmt::Display for LockKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Where an event sits in the fork/join order (spawn, join, barrier,
/// channel): the event's agent and what it knew of every agent then. Two
/// events whose segments are ordered cannot run at the same time in *any*
/// interleaving, which is what the lock graph's ordering filter needs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Segment {
    pub agent: u32,
    /// Shared by all events of the agent between two fork/join points.
    pub clock: Arc<VectorClock>,
}

impl Segment {
    pub fn new(agent: AgentId, clock: VectorClock) -> Self {
        Segment {
            agent: agent.0,
            clock: Arc::new(clock),
        }
    }

    /// Whether this event certainly happens-before `other`. Within one agent
    /// only an earlier segment counts: events of one segment are not told
    /// apart.
    pub fn before(&self, other: &Segment) -> bool {
        let mine = self.clock.get(AgentId(self.agent));
        let known = other.clock.get(AgentId(self.agent));
        if self.agent == other.agent {
            mine < known
        } else {
            mine <= known
        }
    }
}

/// How a lock is asked for: what decides whether asking again, or asking
/// while another thread holds it, waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LockFlavor {
    pub mode: LockMode,
    /// False for `try_lock`: it never waits, so it closes no deadlock (the
    /// lock is still held afterwards and orders later acquisitions).
    pub blocking: bool,
    /// A read that cannot queue behind a waiting writer (parking_lot's
    /// `read_recursive`): a second read of a held lock is then safe.
    pub recursive: bool,
    /// parking_lot's `upgradable_read`: shared with plain readers, exclusive
    /// among upgradable ones.
    pub upgradable: bool,
    /// A reentrant mutex: its owner may take it again.
    pub reentrant: bool,
}

impl LockFlavor {
    /// A plain blocking acquisition in `mode`.
    pub const fn of(mode: LockMode) -> Self {
        LockFlavor {
            mode,
            blocking: true,
            recursive: false,
            upgradable: false,
            reentrant: false,
        }
    }
}

/// One call on the way from where a lock is asked for to the function that
/// takes it (the scanner follows locks into callees).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CallStep {
    pub caller: String,
    pub callee: String,
    /// The call, in `caller`.
    pub site: Site,
}

/// How a held guard lives, as a reader is told where it was taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum GuardLife {
    /// A guard the code holds (a binding, a field): the usual case.
    #[default]
    Bound,
    /// A temporary that lives to the end of its statement.
    Temporary,
    /// A temporary of a scrutinee (`match`, `while let`, `for`), which
    /// lives through the whole construct.
    Scrutinee(&'static str),
    /// A temporary of an `if let` scrutinee: it lives through the body, and
    /// through the `else` branch too before edition 2024.
    IfLetScrutinee { through_else: bool },
}

/// A lock held at the time of an acquisition.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Held {
    pub lock: LockKey,
    pub flavor: LockFlavor,
    /// Where it was taken (in the function that holds it, when it was taken
    /// in a callee that returned the guard).
    pub site: Site,
    /// When it was taken, in the fork/join order, where known.
    pub segment: Option<Segment>,
    /// The callee that really took it and where, when not taken at `site`.
    pub taken_in: Option<(String, Site)>,
    pub life: GuardLife,
}

impl Held {
    pub fn new(lock: LockKey, mode: LockMode, site: Site) -> Self {
        Held {
            lock,
            flavor: LockFlavor::of(mode),
            site,
            segment: None,
            taken_in: None,
            life: GuardLife::Bound,
        }
    }
}

/// Units of a counted resource held at an acquisition.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Permit {
    pub resource: LockKey,
    pub units: u64,
    pub capacity: u64,
}

/// One lock acquisition (or attempt), with the locks held at the time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acquisition {
    pub lock: LockKey,
    pub flavor: LockFlavor,
    /// Where the lock is taken (in the last callee of `path`, if any).
    pub site: Site,
    /// The thread, as a reader names it; `None` when unknown (the scanner),
    /// which counts as different from every other thread.
    pub agent: Option<String>,
    /// The function that takes the lock, where known: one recursive read
    /// is reported per function and lock, however many callers reach it.
    pub function: Option<String>,
    /// Locks held when this one was asked for, oldest first.
    pub held: Vec<Held>,
    /// The calls from where the lock is asked for, in the function that
    /// holds `held`, to the one that takes it; empty when asked for there.
    pub path: Vec<CallStep>,
    /// When it was asked for, in the fork/join order, where known.
    pub segment: Option<Segment>,
    /// Units of counted resources (a semaphore admitting N, a pool) the
    /// thread held at the time: at most `capacity` can be held at once, so a
    /// cycle that needs more holders than that cannot close.
    pub permits: Vec<Permit>,
}

impl Acquisition {
    /// A blocking acquisition by an unknown thread, holding nothing.
    pub fn new(lock: LockKey, mode: LockMode, site: Site) -> Self {
        Acquisition {
            lock,
            flavor: LockFlavor::of(mode),
            site,
            agent: None,
            function: None,
            held: Vec::new(),
            path: Vec::new(),
            segment: None,
            permits: Vec::new(),
        }
    }

    pub fn by(mut self, agent: impl Into<String>) -> Self {
        self.agent = Some(agent.into());
        self
    }

    pub fn holding(mut self, held: Held) -> Self {
        self.held.push(held);
        self
    }

    pub fn with_permits(mut self, permits: &[Permit]) -> Self {
        self.permits = permits.to_vec();
        self
    }

    pub fn in_segment(mut self, segment: Segment) -> Self {
        self.segment = Some(segment);
        self
    }

    pub fn mode(&self) -> LockMode {
        self.flavor.mode
    }

    /// Where, in the function that holds the other locks, this one is asked
    /// for: the first call of its path, or the acquisition itself.
    pub fn asked_at(&self) -> &Site {
        self.path.first().map_or(&self.site, |call| &call.site)
    }
}

/// Derives lock facts from an execution: one acquisition per `LockRequest`
/// (the attempt, which is where a deadlock would stop) or per `LockAcquire`
/// not preceded by its request. A condvar wait releases its mutex; the
/// wake-up's `LockAcquire` takes it again, with whatever else is held.
/// Segments come from the trace's fork/join order.
pub fn facts_from_trace(trace: &Trace) -> Vec<Acquisition> {
    let order = HappensBefore::fork_join(trace);
    let agents = order.agents();
    let mut held: Vec<Vec<Held>> = vec![Vec::new(); agents];
    // The request each agent is waiting on, whose fact is already out.
    let mut pending: Vec<Option<ObjectId>> = vec![None; agents];
    let mut segments: Vec<Option<Segment>> = vec![None; agents];
    // Units of counted resources each agent holds.
    let mut permits: Vec<Vec<Permit>> = vec![Vec::new(); agents];
    let mut facts = Vec::new();
    let key = |lock: ObjectId| LockKey::object(lock, trace.object_name(lock));

    for (index, event) in trace.events.iter().enumerate() {
        let a = event.agent.0 as usize;
        let mut segment = || {
            // One `Arc` per fork/join segment of the agent.
            let clock = order.clock(index);
            match &segments[a] {
                Some(s) if *s.clock == clock => s.clone(),
                _ => {
                    let s = Segment::new(event.agent, clock);
                    segments[a] = Some(s.clone());
                    s
                }
            }
        };
        match event.action {
            Action::LockRequest { lock, mode } => {
                let segment = segment();
                facts.push(
                    fact(trace, event, key(lock), mode, &held[a], segment)
                        .with_permits(&permits[a]),
                );
                pending[a] = Some(lock);
            }
            Action::LockAcquire { lock, mode } => {
                let segment = segment();
                if pending[a].take() != Some(lock) {
                    facts.push(
                        fact(trace, event, key(lock), mode, &held[a], segment.clone())
                            .with_permits(&permits[a]),
                    );
                }
                held[a].push(Held {
                    segment: Some(segment),
                    ..Held::new(key(lock), mode, event.site.clone())
                });
            }
            Action::LockRelease { lock, .. } | Action::CondvarWait { mutex: lock, .. } => {
                pending[a] = None;
                if let Some(i) = held[a].iter().rposition(|h| h.lock.id == Some(lock.0)) {
                    held[a].remove(i);
                }
            }
            Action::ResourceAcquire { resource, units } => {
                let Some(capacity) = trace
                    .objects
                    .get(resource.0 as usize)
                    .and_then(|o| o.capacity)
                else {
                    continue;
                };
                match permits[a]
                    .iter_mut()
                    .find(|p| p.resource.id == Some(resource.0))
                {
                    Some(p) => p.units += units,
                    None => permits[a].push(Permit {
                        resource: key(resource),
                        units,
                        capacity,
                    }),
                }
            }
            Action::ResourceRelease { resource, units } => {
                if let Some(i) = permits[a]
                    .iter()
                    .position(|p| p.resource.id == Some(resource.0))
                {
                    permits[a][i].units = permits[a][i].units.saturating_sub(units);
                    if permits[a][i].units == 0 {
                        permits[a].remove(i);
                    }
                }
            }
            _ => {}
        }
    }
    facts
}

fn fact(
    trace: &Trace,
    event: &crate::event::Event,
    lock: LockKey,
    mode: LockMode,
    held: &[Held],
    segment: Segment,
) -> Acquisition {
    Acquisition {
        agent: Some(trace.agent_name(event.agent).to_string()),
        held: held.to_vec(),
        segment: Some(segment),
        ..Acquisition::new(lock, mode, event.site.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ObjectKind;

    fn at(line: u32) -> Site {
        Site::new("facts.rs", line, 1)
    }

    #[test]
    fn nested_acquisitions_record_what_is_held() {
        let mut trace = Trace::new();
        let t = trace.thread("thread 1");
        let a = trace.object(ObjectKind::Mutex, "a", at(1));
        let b = trace.object(ObjectKind::Mutex, "b", at(2));
        let x = LockMode::Exclusive;
        trace.push(t, Action::LockAcquire { lock: a, mode: x }, at(10));
        trace.push(t, Action::LockRequest { lock: b, mode: x }, at(11));
        trace.push(t, Action::LockAcquire { lock: b, mode: x }, at(11));
        trace.push(t, Action::LockRelease { lock: b, mode: x }, at(12));
        trace.push(t, Action::LockRelease { lock: a, mode: x }, at(13));
        trace.push(t, Action::LockAcquire { lock: b, mode: x }, at(14));
        let facts = facts_from_trace(&trace);
        assert_eq!(facts.len(), 3, "the request and its acquire are one fact");
        assert_eq!(facts[0].lock, LockKey::object(a, "a"));
        assert!(facts[0].held.is_empty());
        assert_eq!(facts[1].lock.name, "b");
        assert_eq!(facts[1].site.line, 11);
        assert_eq!(facts[1].held.len(), 1);
        assert_eq!(facts[1].held[0].lock.name, "a");
        assert_eq!(facts[1].held[0].site.line, 10);
        assert_eq!(facts[1].agent.as_deref(), Some("thread 1"));
        assert!(facts[2].held.is_empty(), "releases drop held locks");
    }

    #[test]
    fn a_condvar_wait_releases_the_mutex_until_it_is_reacquired() {
        let mut trace = Trace::new();
        let t = trace.thread("thread 1");
        let m = trace.object(ObjectKind::Mutex, "m", at(1));
        let cv = trace.object(ObjectKind::Condvar, "cv", at(2));
        let other = trace.object(ObjectKind::Mutex, "other", at(3));
        let x = LockMode::Exclusive;
        trace.push(
            t,
            Action::LockAcquire {
                lock: other,
                mode: x,
            },
            at(9),
        );
        trace.push(t, Action::LockAcquire { lock: m, mode: x }, at(10));
        trace.push(
            t,
            Action::CondvarWait {
                condvar: cv,
                mutex: m,
            },
            at(11),
        );
        trace.push(
            t,
            Action::CondvarWake {
                condvar: cv,
                mutex: m,
            },
            at(11),
        );
        trace.push(t, Action::LockAcquire { lock: m, mode: x }, at(11));
        trace.push(
            t,
            Action::LockAcquire {
                lock: other,
                mode: x,
            },
            at(12),
        );
        let facts = facts_from_trace(&trace);
        let reacquire = &facts[2];
        assert_eq!(reacquire.lock.name, "m");
        let held: Vec<_> = reacquire
            .held
            .iter()
            .map(|h| h.lock.name.as_str())
            .collect();
        assert_eq!(held, vec!["other"], "`m` was released by the wait");
        let last: Vec<_> = facts[3].held.iter().map(|h| h.lock.name.as_str()).collect();
        assert_eq!(last, vec!["other", "m"]);
    }

    #[test]
    fn segments_follow_spawn_and_join_only() {
        let mut trace = Trace::new();
        let main = trace.thread("main");
        let t1 = trace.thread("thread 1");
        let a = trace.object(ObjectKind::Mutex, "a", at(1));
        let x = LockMode::Exclusive;
        trace.push(main, Action::LockAcquire { lock: a, mode: x }, at(10));
        trace.push(main, Action::LockRelease { lock: a, mode: x }, at(11));
        trace.push(main, Action::Spawn { child: t1 }, at(12));
        trace.push(t1, Action::LockAcquire { lock: a, mode: x }, at(20));
        trace.push(t1, Action::LockRelease { lock: a, mode: x }, at(21));
        trace.push(main, Action::LockAcquire { lock: a, mode: x }, at(13));
        let facts = facts_from_trace(&trace);
        let seg = |i: usize| facts[i].segment.clone().unwrap();
        assert!(seg(0).before(&seg(1)), "before the spawn");
        assert!(
            !seg(2).before(&seg(1)) && !seg(1).before(&seg(2)),
            "locks do not order"
        );
        assert!(seg(0).before(&seg(2)));
    }

    #[test]
    fn facts_can_be_built_by_hand() {
        let a = LockKey::named("Bank.accounts");
        let fact = Acquisition::new(LockKey::named("Bank.log"), LockMode::Exclusive, at(41))
            .by("thread 1")
            .holding(Held::new(a.clone(), LockMode::Exclusive, at(40)));
        assert_eq!(fact.held[0].lock, a);
        assert!(fact.flavor.blocking && !fact.flavor.recursive);
        assert_eq!(a.to_string(), "Bank.accounts");
    }
}
