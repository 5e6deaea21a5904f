//! Happens-before with vector clocks, and data races on tracked cells.
//!
//! Event `e` happens-before event `f` when `f` could not have run without `e`
//! having run first: program order within an agent, plus the edges that
//! synchronization draws between agents (see [`Edges`] and the clock walk's
//! notes for each kind). Threads and GPU streams are both agents.
//!
//! [`HappensBefore::compute`] answers `ordered(i, j)` for any two events of a
//! trace; [`HappensBefore::fork_join`] does the same with only the edges that
//! hold in every interleaving (spawn, join, barrier, channel), for analyses
//! that ask whether two events *could* run at the same time. [`data_races`]
//! runs FastTrack over the same clocks without recording them.

mod clock_walk;
#[cfg(test)]
mod proptests;
mod race;
mod steps;
mod vector_clock;

pub use clock_walk::Edges;
pub(crate) use race::data_races;
pub use race::{races, Access, Race};
pub(crate) use steps::{relevant_steps, trace_steps};
pub use vector_clock::{Epoch, VectorClock};

use crate::event::{AgentId, Trace};
use clock_walk::Walker;

/// Where one event sits: its agent's segment, and which recorded snapshot
/// holds what the agent knew of the others at that point.
#[derive(Clone, Copy, Debug)]
struct EventClock {
    agent: u32,
    tick: u32,
    snapshot: u32,
}

/// The happens-before order of one trace's events.
///
/// Storing a full clock per event would cost `agents` entries per event.
/// Instead each event keeps its epoch and the index of a snapshot of its
/// agent's clock; a new snapshot is taken only when the agent learns from
/// another (an acquire, a join, a receive, ...), so runs of events between
/// synchronizations share one.
#[derive(Clone, Debug)]
pub struct HappensBefore {
    agents: usize,
    events: Vec<EventClock>,
    /// Flat snapshots, `agents` entries each; snapshot 0 knows nothing.
    snapshots: Vec<u32>,
}

impl HappensBefore {
    /// Every edge: spawn/join, locks, condvars, barriers, channels, atomics.
    pub fn compute(trace: &Trace) -> HappensBefore {
        Self::with_edges(trace, Edges::All)
    }

    /// Only spawn, join, barrier and channel edges: the order that holds in
    /// every interleaving, not just the one recorded.
    pub fn fork_join(trace: &Trace) -> HappensBefore {
        Self::with_edges(trace, Edges::ForkJoin)
    }

    pub fn with_edges(trace: &Trace, edges: Edges) -> HappensBefore {
        let mut walker = Walker::new(trace, edges);
        let agents = walker.agents();
        let mut current = vec![0u32; agents];
        let mut snapshots = vec![0u32; agents];
        let mut events = Vec::with_capacity(trace.events.len());
        for event in &trace.events {
            let agent = event.agent;
            // The event's own segment, before it possibly publishes and
            // moves its agent on to the next one.
            let tick = walker.tick(agent);
            walker.step(event);
            if walker.take_learned(agent) {
                current[agent.0 as usize] = (snapshots.len() / agents.max(1)) as u32;
                let clock = walker.clock(agent).as_slice();
                snapshots.extend_from_slice(clock);
                snapshots.resize(snapshots.len() + agents - clock.len().min(agents), 0);
            }
            events.push(EventClock {
                agent: agent.0,
                tick,
                snapshot: current[agent.0 as usize],
            });
        }
        HappensBefore {
            agents,
            events,
            snapshots,
        }
    }

    /// The number of events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The number of agents the clocks cover.
    pub fn agents(&self) -> usize {
        self.agents
    }

    /// The segment of event `event`.
    pub fn epoch(&self, event: usize) -> Epoch {
        let e = self.events[event];
        Epoch {
            agent: e.agent,
            tick: e.tick,
        }
    }

    /// What event `event` knows of `agent`'s history: the last segment of
    /// `agent` that happens-before it.
    #[inline]
    pub fn knows_of(&self, event: usize, agent: AgentId) -> u32 {
        let e = self.events[event];
        if e.agent == agent.0 {
            e.tick
        } else {
            self.snapshots[e.snapshot as usize * self.agents + agent.0 as usize]
        }
    }

    /// Whether the segment `epoch` happens-before (or contains) event `event`.
    pub fn knows(&self, event: usize, epoch: Epoch) -> bool {
        epoch.tick <= self.knows_of(event, epoch.agent())
    }

    /// The full vector clock of event `event`.
    pub fn clock(&self, event: usize) -> VectorClock {
        let e = self.events[event];
        let start = e.snapshot as usize * self.agents;
        let mut clock =
            VectorClock::from_ticks(self.snapshots[start..start + self.agents].to_vec());
        clock.set(AgentId(e.agent), e.tick);
        clock
    }

    /// Whether event `first` happens-before event `second` (strictly: an
    /// event is not ordered before itself).
    #[inline]
    pub fn ordered(&self, first: usize, second: usize) -> bool {
        if first == second {
            return false;
        }
        let a = self.events[first];
        let b = self.events[second];
        if a.agent == b.agent {
            first < second
        } else {
            a.tick <= self.knows_of(second, AgentId(a.agent))
        }
    }

    /// Whether neither event happens-before the other.
    pub fn concurrent(&self, first: usize, second: usize) -> bool {
        first != second && !self.ordered(first, second) && !self.ordered(second, first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Action, LockMode, MemoryOrder, ObjectId, ObjectKind, Site};

    fn at(line: u32) -> Site {
        Site::new("hb.rs", line, 1)
    }

    /// A trace builder that returns each pushed event's index.
    struct Builder {
        trace: Trace,
    }

    impl Builder {
        fn new() -> Self {
            Builder {
                trace: Trace::new(),
            }
        }
        fn thread(&mut self, name: &str) -> AgentId {
            self.trace.thread(name)
        }
        fn object(&mut self, kind: ObjectKind, name: &str) -> ObjectId {
            self.trace.object(kind, name, at(0))
        }
        fn push(&mut self, agent: AgentId, action: Action) -> usize {
            let line = self.trace.events.len() as u32 + 1;
            self.trace.push(agent, action, at(line));
            self.trace.events.len() - 1
        }
        fn hb(&self) -> HappensBefore {
            HappensBefore::compute(&self.trace)
        }
    }

    fn acquire(lock: ObjectId) -> Action {
        Action::LockAcquire {
            lock,
            mode: LockMode::Exclusive,
        }
    }
    fn release(lock: ObjectId) -> Action {
        Action::LockRelease {
            lock,
            mode: LockMode::Exclusive,
        }
    }
    fn read(lock: ObjectId) -> Action {
        Action::LockAcquire {
            lock,
            mode: LockMode::Shared,
        }
    }
    fn read_release(lock: ObjectId) -> Action {
        Action::LockRelease {
            lock,
            mode: LockMode::Shared,
        }
    }
    fn store(atomic: ObjectId, order: MemoryOrder) -> Action {
        Action::AtomicStore {
            atomic,
            order,
            value: None,
        }
    }
    fn load(atomic: ObjectId, order: MemoryOrder) -> Action {
        Action::AtomicLoad {
            atomic,
            order,
            value: None,
        }
    }
    fn rmw(atomic: ObjectId, order: MemoryOrder) -> Action {
        Action::AtomicRmw { atomic, order }
    }

    #[test]
    fn program_order_within_an_agent() {
        let mut b = Builder::new();
        let t = b.thread("t");
        let cell = b.object(ObjectKind::Cell, "x");
        let e0 = b.push(t, Action::Read { cell });
        let e1 = b.push(t, Action::Write { cell });
        let hb = b.hb();
        assert!(hb.ordered(e0, e1));
        assert!(!hb.ordered(e1, e0));
        assert!(!hb.ordered(e0, e0));
        assert!(!hb.concurrent(e0, e0));
    }

    #[test]
    fn spawn_orders_the_past_and_join_the_child_before_the_future() {
        let mut b = Builder::new();
        let main = b.thread("main");
        let child = b.thread("child");
        let cell = b.object(ObjectKind::Cell, "x");
        let before = b.push(main, Action::Write { cell });
        b.push(main, Action::Spawn { child });
        let during = b.push(main, Action::Write { cell });
        let in_child = b.push(child, Action::Write { cell });
        b.push(main, Action::Join { child });
        let after = b.push(main, Action::Read { cell });
        let hb = b.hb();
        assert!(hb.ordered(before, in_child));
        assert!(hb.concurrent(during, in_child));
        assert!(hb.ordered(in_child, after));
        assert!(hb.ordered(before, after));
        let clock = hb.clock(after);
        assert!(hb.clock(in_child).le(&clock));
        assert!(hb.clock(during).concurrent(&hb.clock(in_child)));
    }

    #[test]
    fn a_release_orders_only_later_acquires_of_the_same_lock() {
        let mut b = Builder::new();
        let t1 = b.thread("t1");
        let t2 = b.thread("t2");
        let m = b.object(ObjectKind::Mutex, "m");
        let other = b.object(ObjectKind::Mutex, "other");
        let cell = b.object(ObjectKind::Cell, "x");
        b.push(t1, acquire(m));
        let inside = b.push(t1, Action::Write { cell });
        b.push(t1, release(m));
        let after_release = b.push(t1, Action::Write { cell });
        b.push(t2, acquire(other));
        let wrong_lock = b.push(t2, Action::Read { cell });
        b.push(t2, acquire(m));
        let next_holder = b.push(t2, Action::Read { cell });
        let hb = b.hb();
        assert!(hb.concurrent(inside, wrong_lock));
        assert!(hb.ordered(inside, next_holder));
        assert!(
            hb.concurrent(after_release, next_holder),
            "after the release is not published"
        );
    }

    #[test]
    fn rwlock_readers_are_unordered_among_themselves_but_ordered_with_writers() {
        let mut b = Builder::new();
        let t1 = b.thread("t1");
        let t2 = b.thread("t2");
        let t3 = b.thread("t3");
        let rw = b.object(ObjectKind::RwLock, "rw");
        let cell = b.object(ObjectKind::Cell, "x");
        b.push(t1, read(rw));
        let r1 = b.push(t1, Action::Read { cell });
        b.push(t1, read_release(rw));
        b.push(t2, read(rw));
        let r2 = b.push(t2, Action::Read { cell });
        b.push(t2, read_release(rw));
        b.push(t3, acquire(rw));
        let w = b.push(t3, Action::Write { cell });
        b.push(t3, release(rw));
        b.push(t1, read(rw));
        let r3 = b.push(t1, Action::Read { cell });
        let hb = b.hb();
        assert!(
            hb.concurrent(r1, r2),
            "read release does not order a later read"
        );
        assert!(
            hb.ordered(r1, w) && hb.ordered(r2, w),
            "read releases order a later write"
        );
        assert!(hb.ordered(w, r3), "a write release orders a later read");
    }

    #[test]
    fn release_acquire_atomics_and_relaxed_ones() {
        let mut b = Builder::new();
        let t1 = b.thread("t1");
        let t2 = b.thread("t2");
        let t3 = b.thread("t3");
        let flag = b.object(ObjectKind::Atomic, "flag");
        let cell = b.object(ObjectKind::Cell, "x");
        let w = b.push(t1, Action::Write { cell });
        b.push(t1, store(flag, MemoryOrder::Release));
        b.push(t2, load(flag, MemoryOrder::Relaxed));
        let relaxed_reader = b.push(t2, Action::Read { cell });
        b.push(t3, load(flag, MemoryOrder::Acquire));
        let acquiring_reader = b.push(t3, Action::Read { cell });
        let hb = b.hb();
        assert!(hb.concurrent(w, relaxed_reader));
        assert!(hb.ordered(w, acquiring_reader));
    }

    #[test]
    fn a_relaxed_store_by_another_agent_ends_the_release_sequence_but_an_rmw_continues_it() {
        let orders = |middle: Action| {
            let mut b = Builder::new();
            let t1 = b.thread("t1");
            let t2 = b.thread("t2");
            let t3 = b.thread("t3");
            let flag = b.object(ObjectKind::Atomic, "flag");
            let cell = b.object(ObjectKind::Cell, "x");
            let w = b.push(t1, Action::Write { cell });
            b.push(t1, store(flag, MemoryOrder::Release));
            b.push(t2, middle);
            b.push(t3, load(flag, MemoryOrder::Acquire));
            let r = b.push(t3, Action::Read { cell });
            b.hb().ordered(w, r)
        };
        let flag = ObjectId(0);
        assert!(!orders(store(flag, MemoryOrder::Relaxed)));
        assert!(orders(rmw(flag, MemoryOrder::Relaxed)));
        assert!(orders(rmw(flag, MemoryOrder::AcqRel)));
        // The head's own relaxed store continues it.
        let mut b = Builder::new();
        let t1 = b.thread("t1");
        let t2 = b.thread("t2");
        let flag = b.object(ObjectKind::Atomic, "flag");
        let cell = b.object(ObjectKind::Cell, "x");
        let w = b.push(t1, Action::Write { cell });
        b.push(t1, store(flag, MemoryOrder::Release));
        b.push(t1, store(flag, MemoryOrder::Relaxed));
        b.push(t2, load(flag, MemoryOrder::Acquire));
        let r = b.push(t2, Action::Read { cell });
        assert!(b.hb().ordered(w, r));
    }

    #[test]
    fn an_rmw_joins_into_the_release_sequence_rather_than_replacing_it() {
        let mut b = Builder::new();
        let t1 = b.thread("t1");
        let t2 = b.thread("t2");
        let t3 = b.thread("t3");
        let count = b.object(ObjectKind::Atomic, "count");
        let cell = b.object(ObjectKind::Cell, "x");
        let w1 = b.push(t1, Action::Write { cell });
        b.push(t1, rmw(count, MemoryOrder::Release));
        let w2 = b.push(t2, Action::Read { cell });
        b.push(t2, rmw(count, MemoryOrder::Release));
        b.push(t3, load(count, MemoryOrder::Acquire));
        let r = b.push(t3, Action::Write { cell });
        let hb = b.hb();
        assert!(
            hb.ordered(w1, r),
            "the first RMW's release still reaches the reader"
        );
        assert!(hb.ordered(w2, r));
        assert!(hb.concurrent(w1, w2), "a release RMW does not acquire");
    }

    #[test]
    fn fences_turn_relaxed_accesses_into_synchronization() {
        let mut b = Builder::new();
        let t1 = b.thread("t1");
        let t2 = b.thread("t2");
        let flag = b.object(ObjectKind::Atomic, "flag");
        let cell = b.object(ObjectKind::Cell, "x");
        let w = b.push(t1, Action::Write { cell });
        b.push(
            t1,
            Action::Fence {
                order: MemoryOrder::Release,
            },
        );
        let after_fence = b.push(t1, Action::Write { cell });
        b.push(t1, store(flag, MemoryOrder::Relaxed));
        b.push(t2, load(flag, MemoryOrder::Relaxed));
        let before_acquire_fence = b.push(t2, Action::Read { cell });
        b.push(
            t2,
            Action::Fence {
                order: MemoryOrder::Acquire,
            },
        );
        let r = b.push(t2, Action::Read { cell });
        let hb = b.hb();
        assert!(hb.ordered(w, r));
        assert!(hb.concurrent(w, before_acquire_fence));
        assert!(
            hb.concurrent(after_fence, r),
            "the store publishes the clock at the fence"
        );
    }

    #[test]
    fn seq_cst_fences_are_totally_ordered() {
        let mut b = Builder::new();
        let t1 = b.thread("t1");
        let t2 = b.thread("t2");
        let cell = b.object(ObjectKind::Cell, "x");
        let w = b.push(t1, Action::Write { cell });
        b.push(
            t1,
            Action::Fence {
                order: MemoryOrder::SeqCst,
            },
        );
        b.push(
            t2,
            Action::Fence {
                order: MemoryOrder::SeqCst,
            },
        );
        let r = b.push(t2, Action::Read { cell });
        assert!(b.hb().ordered(w, r));
    }

    #[test]
    fn barrier_orders_every_arrival_before_every_departure_of_its_generation() {
        let mut b = Builder::new();
        let ts: Vec<_> = (0..3).map(|i| b.thread(&format!("t{i}"))).collect();
        let barrier = b.object(ObjectKind::Barrier, "b");
        let cell = b.object(ObjectKind::Cell, "x");
        let before: Vec<_> = ts
            .iter()
            .map(|&t| b.push(t, Action::Write { cell }))
            .collect();
        for &t in &ts {
            b.push(
                t,
                Action::BarrierArrive {
                    barrier,
                    generation: 0,
                },
            );
        }
        for &t in &ts {
            b.push(
                t,
                Action::BarrierDepart {
                    barrier,
                    generation: 0,
                },
            );
        }
        let after: Vec<_> = ts
            .iter()
            .map(|&t| b.push(t, Action::Read { cell }))
            .collect();
        let hb = b.hb();
        for &x in &before {
            for &y in &after {
                assert!(hb.ordered(x, y));
            }
        }
        assert!(hb.concurrent(after[0], after[1]));
    }

    #[test]
    fn channel_orders_each_send_before_its_receive_only() {
        let mut b = Builder::new();
        let t1 = b.thread("t1");
        let t2 = b.thread("t2");
        let ch = b.object(ObjectKind::Channel, "ch");
        let cell = b.object(ObjectKind::Cell, "x");
        let w1 = b.push(t1, Action::Write { cell });
        b.push(
            t1,
            Action::Send {
                channel: ch,
                message: 1,
            },
        );
        let w2 = b.push(t1, Action::Write { cell });
        b.push(
            t1,
            Action::Send {
                channel: ch,
                message: 2,
            },
        );
        b.push(
            t2,
            Action::Receive {
                channel: ch,
                message: 1,
            },
        );
        let r1 = b.push(t2, Action::Read { cell });
        b.push(
            t2,
            Action::Receive {
                channel: ch,
                message: 2,
            },
        );
        let r2 = b.push(t2, Action::Read { cell });
        let hb = b.hb();
        assert!(hb.ordered(w1, r1));
        assert!(hb.concurrent(w2, r1));
        assert!(hb.ordered(w2, r2));
    }

    #[test]
    fn condvar_wait_releases_the_mutex_and_wake_joins_the_notify() {
        let mut b = Builder::new();
        let t1 = b.thread("t1");
        let t2 = b.thread("t2");
        let m = b.object(ObjectKind::Mutex, "m");
        let cv = b.object(ObjectKind::Condvar, "cv");
        let cell = b.object(ObjectKind::Cell, "x");
        b.push(t1, acquire(m));
        let before_wait = b.push(t1, Action::Write { cell });
        b.push(
            t1,
            Action::CondvarWait {
                condvar: cv,
                mutex: m,
            },
        );
        b.push(t2, acquire(m));
        let notifier = b.push(t2, Action::Write { cell });
        b.push(
            t2,
            Action::CondvarNotify {
                condvar: cv,
                all: false,
            },
        );
        b.push(t2, release(m));
        b.push(
            t1,
            Action::CondvarWake {
                condvar: cv,
                mutex: m,
            },
        );
        b.push(t1, acquire(m));
        let after_wake = b.push(t1, Action::Read { cell });
        let hb = b.hb();
        assert!(hb.ordered(before_wait, notifier));
        assert!(hb.ordered(notifier, after_wake));
    }

    #[test]
    fn fork_join_edges_ignore_locks_and_atomics() {
        let mut b = Builder::new();
        let main = b.thread("main");
        let t1 = b.thread("t1");
        let m = b.object(ObjectKind::Mutex, "m");
        let flag = b.object(ObjectKind::Atomic, "flag");
        let cell = b.object(ObjectKind::Cell, "x");
        b.push(main, Action::Spawn { child: t1 });
        b.push(t1, acquire(m));
        let in_lock = b.push(t1, Action::Write { cell });
        b.push(t1, release(m));
        b.push(t1, store(flag, MemoryOrder::Release));
        b.push(main, load(flag, MemoryOrder::Acquire));
        b.push(main, acquire(m));
        let main_in_lock = b.push(main, Action::Read { cell });
        b.push(main, Action::Join { child: t1 });
        let after_join = b.push(main, Action::Read { cell });
        let all = b.hb();
        let fj = HappensBefore::fork_join(&b.trace);
        assert!(all.ordered(in_lock, main_in_lock));
        assert!(fj.concurrent(in_lock, main_in_lock));
        assert!(fj.ordered(in_lock, after_join));
        assert_eq!(fj.len(), b.trace.events.len());
    }

    #[test]
    fn epochs_and_clocks_agree() {
        let mut b = Builder::new();
        let t1 = b.thread("t1");
        let t2 = b.thread("t2");
        let m = b.object(ObjectKind::Mutex, "m");
        b.push(t1, acquire(m));
        let rel = b.push(t1, release(m));
        let acq = b.push(t2, acquire(m));
        let hb = b.hb();
        assert_eq!(hb.epoch(rel), Epoch::new(t1, 1));
        assert!(hb.knows(acq, hb.epoch(rel)));
        assert_eq!(hb.clock(acq).as_slice(), &[1, 1]);
        assert_eq!(hb.knows_of(acq, t1), 1);
        assert_eq!(hb.agents(), 2);
        assert!(!hb.is_empty());
    }

    #[test]
    fn ids_past_the_declared_tables_are_tolerated() {
        let mut trace = Trace::new();
        trace.push(AgentId(3), Action::Write { cell: ObjectId(5) }, at(1));
        trace.push(AgentId(1), Action::Spawn { child: AgentId(7) }, at(2));
        let hb = HappensBefore::compute(&trace);
        assert_eq!(hb.agents(), 8);
        assert!(hb.concurrent(0, 1));
        assert!(data_races(&trace).is_empty());
    }
}
