//! Data races on tracked cells, with FastTrack's epochs.
//!
//! A race is two accesses to one cell, at least one a write, neither of which
//! happens-before the other. Keeping every access's full vector clock would
//! cost `agents` entries per access; FastTrack observes that the writes to a
//! race-free cell are totally ordered, so the last write's *epoch*
//! (`tick@agent`) is all a later access needs to compare against, in O(1).
//! Reads are kept as one epoch too while they are ordered; only when two
//! reads are concurrent (readers sharing the cell) does the cell switch to a
//! read vector, one epoch per agent, until the next write orders them all.

use std::collections::HashSet;

use super::clock_walk::{Edges, Walker};
use super::steps::relevant_steps;
use super::vector_clock::{Epoch, VectorClock};
use crate::event::{Action, AgentId, ObjectId, Site, Trace};
use crate::finding::{Finding, Kind, Location};

/// How an access touched the cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    Read,
    Write,
}

impl Access {
    /// "read" / "written", as in "`counter` written by thread 1".
    pub fn participle(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "written",
        }
    }

    /// "a read" / "a write".
    pub fn noun(self) -> &'static str {
        match self {
            Access::Read => "a read",
            Access::Write => "a write",
        }
    }
}

/// Two unordered accesses to one cell, by their event indices in the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Race {
    pub cell: ObjectId,
    pub earlier: usize,
    pub earlier_access: Access,
    pub later: usize,
    pub later_access: Access,
}

/// What FastTrack remembers of one cell.
#[derive(Clone, Debug, Default)]
struct CellState {
    write: Epoch,
    write_event: u32,
    /// The last read while reads are ordered (`shared` is false).
    read: Epoch,
    read_event: u32,
    /// Whether concurrent reads forced the read vector.
    shared: bool,
    /// Per agent: the tick and event of its last read (tick 0: none).
    reads: Vec<(u32, u32)>,
}

/// The races of a trace, in the order their later access happened. Each pair
/// of sites races once per cell: a racy loop reports its first iteration.
pub fn races(trace: &Trace) -> Vec<Race> {
    let mut detector = Detector::new(trace);
    for (index, event) in trace.events.iter().enumerate() {
        match event.action {
            Action::Read { cell } => detector.read(trace, index, event.agent, cell),
            Action::Write { cell } => detector.write(trace, index, event.agent, cell),
            _ => detector.walker.step(event),
        }
    }
    detector.found
}

/// Data races of a trace as findings: one per race of [`races`].
pub fn data_races(trace: &Trace) -> Vec<Finding> {
    races(trace)
        .iter()
        .map(|race| race_finding(trace, race))
        .collect()
}

/// Explains one race: where each access is, who made it, and the steps that
/// led there.
pub fn race_finding(trace: &Trace, race: &Race) -> Finding {
    let cell = trace.object_name(race.cell);
    let earlier = &trace.events[race.earlier];
    let later = &trace.events[race.later];
    let who = |e: &crate::event::Event| trace.agent_name(e.agent).to_string();
    Finding::new(
        Kind::DataRace,
        format!(
            "data race on `{cell}`: {} by {} and {} by {} are not ordered by any synchronization",
            race.earlier_access.noun(),
            who(earlier),
            race.later_access.noun(),
            who(later),
        ),
    )
    .with_location(Location::new(
        &earlier.site,
        format!(
            "`{cell}` {} by {}",
            race.earlier_access.participle(),
            who(earlier)
        ),
    ))
    .with_location(Location::new(
        &later.site,
        format!(
            "`{cell}` {} by {}",
            race.later_access.participle(),
            who(later)
        ),
    ))
    .with_trace(relevant_steps(trace, &[race.earlier, race.later]))
    .with_help(format!(
        "hold one lock around both accesses to `{cell}`, make it an atomic, \
         or order the two (join, channel, barrier)"
    ))
}

struct Detector<'t> {
    walker: Walker,
    cells: Vec<CellState>,
    found: Vec<Race>,
    /// (cell, earlier site, later site) already reported.
    seen: HashSet<(u32, &'t Site, &'t Site)>,
}

impl<'t> Detector<'t> {
    fn new(trace: &Trace) -> Self {
        let walker = Walker::new(trace, Edges::All);
        let cells = vec![CellState::default(); super::clock_walk::dimensions(trace).1];
        Detector {
            walker,
            cells,
            found: Vec::new(),
            seen: HashSet::new(),
        }
    }

    fn read(&mut self, trace: &'t Trace, index: usize, agent: AgentId, cell: ObjectId) {
        let clock = self.walker.clock(agent);
        let now = clock.epoch(agent);
        let state = &mut self.cells[cell.0 as usize];
        // Same segment as this agent's last read: nothing new to learn.
        if !state.shared && state.read == now {
            return;
        }
        if state.shared && state.reads[agent.0 as usize].0 == now.tick {
            return;
        }
        let write = (!state.write.le(clock)).then_some(state.write_event);
        if !state.shared {
            if state.read.le(clock) {
                // This read comes after the last one: it alone is enough.
                state.read = now;
                state.read_event = index as u32;
            } else {
                // Two concurrent reads: keep one epoch per agent from now on.
                let agents = self.walker.agents();
                state.shared = true;
                state.reads.clear();
                state.reads.resize(agents, (0, 0));
                state.reads[state.read.agent as usize] = (state.read.tick, state.read_event);
                state.reads[agent.0 as usize] = (now.tick, index as u32);
            }
        } else {
            state.reads[agent.0 as usize] = (now.tick, index as u32);
        }
        if let Some(earlier) = write {
            self.report(
                trace,
                cell,
                earlier as usize,
                Access::Write,
                index,
                Access::Read,
            );
        }
    }

    fn write(&mut self, trace: &'t Trace, index: usize, agent: AgentId, cell: ObjectId) {
        let clock = self.walker.clock(agent);
        let now = clock.epoch(agent);
        let state = &mut self.cells[cell.0 as usize];
        // Same segment as the last write: anything racing with this write
        // raced with that one and was reported then.
        if state.write == now {
            return;
        }
        let mut racing: [Option<(u32, Access)>; 2] = [None, None];
        if !state.write.le(clock) {
            racing[0] = Some((state.write_event, Access::Write));
        }
        let mut shared_reads = Vec::new();
        if !state.shared {
            if !state.read.le(clock) {
                racing[1] = Some((state.read_event, Access::Read));
            }
        } else {
            shared_reads = concurrent_reads(&state.reads, clock);
            // The write orders every later access after all of these reads,
            // or races with them: back to a single (empty) read epoch.
            state.shared = false;
            state.read = Epoch::NONE;
        }
        state.write = now;
        state.write_event = index as u32;
        for (earlier, access) in racing.into_iter().flatten() {
            self.report(trace, cell, earlier as usize, access, index, Access::Write);
        }
        for earlier in shared_reads {
            self.report(
                trace,
                cell,
                earlier as usize,
                Access::Read,
                index,
                Access::Write,
            );
        }
    }

    fn report(
        &mut self,
        trace: &'t Trace,
        cell: ObjectId,
        earlier: usize,
        earlier_access: Access,
        later: usize,
        later_access: Access,
    ) {
        let key = (
            cell.0,
            &trace.events[earlier].site,
            &trace.events[later].site,
        );
        if self.seen.insert(key) {
            self.found.push(Race {
                cell,
                earlier,
                earlier_access,
                later,
                later_access,
            });
        }
    }
}

/// The events of the reads in a read vector that `clock` does not know.
/// Cold path: only reached when a write follows concurrent reads.
fn concurrent_reads(reads: &[(u32, u32)], clock: &VectorClock) -> Vec<u32> {
    reads
        .iter()
        .enumerate()
        .filter(|(agent, (tick, _))| *tick > clock.get(AgentId(*agent as u32)))
        .map(|(_, (_, event))| *event)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{LockMode, MemoryOrder, ObjectKind, Trace};

    fn at(line: u32) -> Site {
        Site::new("race.rs", line, 1)
    }

    struct Fixture {
        trace: Trace,
        t1: AgentId,
        t2: AgentId,
        cell: ObjectId,
        lock: ObjectId,
    }

    /// main spawns t1 and t2; a cell `counter` and a mutex `m`.
    fn fixture() -> Fixture {
        let mut trace = Trace::new();
        let main = trace.thread("main");
        let t1 = trace.thread("thread 1");
        let t2 = trace.thread("thread 2");
        let cell = trace.object(ObjectKind::Cell, "counter", at(1));
        let lock = trace.object(ObjectKind::Mutex, "m", at(2));
        trace.push(main, Action::Spawn { child: t1 }, at(3));
        trace.push(main, Action::Spawn { child: t2 }, at(4));
        Fixture {
            trace,
            t1,
            t2,
            cell,
            lock,
        }
    }

    fn locked(f: &mut Fixture, agent: AgentId, action: Action, line: u32) {
        let (lock, mode) = (f.lock, LockMode::Exclusive);
        f.trace
            .push(agent, Action::LockAcquire { lock, mode }, at(line));
        f.trace.push(agent, action, at(line + 1));
        f.trace
            .push(agent, Action::LockRelease { lock, mode }, at(line + 2));
    }

    #[test]
    fn unordered_writes_race_and_the_finding_names_both_accesses() {
        let mut f = fixture();
        f.trace.push(f.t1, Action::Write { cell: f.cell }, at(10));
        f.trace.push(f.t2, Action::Write { cell: f.cell }, at(20));
        let found = data_races(&f.trace);
        assert_eq!(found.len(), 1);
        let finding = &found[0];
        assert_eq!(finding.kind, Kind::DataRace);
        assert_eq!(finding.locations[0].line, 10);
        assert_eq!(finding.locations[0].label, "`counter` written by thread 1");
        assert_eq!(finding.locations[1].line, 20);
        assert_eq!(finding.locations[1].label, "`counter` written by thread 2");
        assert!(finding.message.contains("thread 1") && finding.message.contains("thread 2"));
        let steps = finding.trace.as_ref().unwrap();
        let lit: Vec<_> = steps
            .iter()
            .filter(|s| s.highlight)
            .map(|s| s.line)
            .collect();
        assert_eq!(lit, vec![10, 20]);
        assert_eq!(steps.last().unwrap().action, "write `counter`");
    }

    #[test]
    fn write_then_unordered_read_races() {
        let mut f = fixture();
        f.trace.push(f.t1, Action::Write { cell: f.cell }, at(10));
        f.trace.push(f.t2, Action::Read { cell: f.cell }, at(20));
        let found = races(&f.trace);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].earlier_access, found[0].later_access),
            (Access::Write, Access::Read)
        );
    }

    #[test]
    fn a_common_lock_orders_the_accesses() {
        let mut f = fixture();
        let cell = f.cell;
        {
            let t = f.t1;
            locked(&mut f, t, Action::Write { cell }, 10);
        }
        {
            let t = f.t2;
            locked(&mut f, t, Action::Write { cell }, 20);
        }
        {
            let t = f.t1;
            locked(&mut f, t, Action::Read { cell }, 30);
        }
        assert!(races(&f.trace).is_empty());
    }

    #[test]
    fn a_lock_around_only_one_side_does_not_help() {
        let mut f = fixture();
        let cell = f.cell;
        {
            let t = f.t1;
            locked(&mut f, t, Action::Write { cell }, 10);
        }
        f.trace.push(f.t2, Action::Write { cell }, at(20));
        assert_eq!(races(&f.trace).len(), 1);
    }

    #[test]
    fn spawn_and_join_order_the_parent_around_the_child() {
        let mut trace = Trace::new();
        let main = trace.thread("main");
        let child = trace.thread("child");
        let cell = trace.object(ObjectKind::Cell, "x", at(1));
        trace.push(main, Action::Write { cell }, at(2));
        trace.push(main, Action::Spawn { child }, at(3));
        trace.push(child, Action::Write { cell }, at(4));
        trace.push(main, Action::Join { child }, at(5));
        trace.push(main, Action::Read { cell }, at(6));
        assert!(races(&trace).is_empty());
    }

    #[test]
    fn the_parent_races_with_the_child_before_joining() {
        let mut trace = Trace::new();
        let main = trace.thread("main");
        let child = trace.thread("child");
        let cell = trace.object(ObjectKind::Cell, "x", at(1));
        trace.push(main, Action::Spawn { child }, at(3));
        trace.push(child, Action::Write { cell }, at(4));
        trace.push(main, Action::Read { cell }, at(5));
        trace.push(main, Action::Join { child }, at(6));
        assert_eq!(races(&trace).len(), 1);
    }

    #[test]
    fn concurrent_reads_do_not_race_but_a_later_write_races_with_each() {
        let mut trace = Trace::new();
        let main = trace.thread("main");
        let t1 = trace.thread("thread 1");
        let t2 = trace.thread("thread 2");
        let cell = trace.object(ObjectKind::Cell, "config", at(1));
        trace.push(main, Action::Write { cell }, at(2));
        trace.push(main, Action::Spawn { child: t1 }, at(3));
        trace.push(main, Action::Spawn { child: t2 }, at(4));
        trace.push(t1, Action::Read { cell }, at(10));
        trace.push(t2, Action::Read { cell }, at(20));
        assert!(races(&trace).is_empty(), "readers share");
        trace.push(main, Action::Write { cell }, at(30));
        let found = races(&trace);
        let earlier: Vec<_> = found
            .iter()
            .map(|r| trace.events[r.earlier].site.line)
            .collect();
        assert_eq!(earlier, vec![10, 20]);
        assert!(found.iter().all(|r| r.earlier_access == Access::Read));
    }

    #[test]
    fn a_joined_reader_does_not_race_with_a_later_write() {
        let mut trace = Trace::new();
        let main = trace.thread("main");
        let t1 = trace.thread("thread 1");
        let t2 = trace.thread("thread 2");
        let cell = trace.object(ObjectKind::Cell, "x", at(1));
        trace.push(main, Action::Spawn { child: t1 }, at(3));
        trace.push(main, Action::Spawn { child: t2 }, at(4));
        trace.push(t1, Action::Read { cell }, at(10));
        trace.push(t2, Action::Read { cell }, at(20));
        trace.push(main, Action::Join { child: t1 }, at(30));
        trace.push(main, Action::Join { child: t2 }, at(31));
        trace.push(main, Action::Write { cell }, at(32));
        assert!(races(&trace).is_empty());
        // Only one reader joined: the other still races.
        let mut trace2 = trace.clone();
        trace2.events.remove(5);
        let found = races(&trace2);
        assert_eq!(found.len(), 1);
        assert_eq!(trace2.events[found[0].earlier].site.line, 20);
    }

    #[test]
    fn a_racy_loop_is_reported_once_per_pair_of_sites() {
        let mut f = fixture();
        for _ in 0..100 {
            f.trace.push(f.t1, Action::Write { cell: f.cell }, at(10));
            f.trace.push(f.t2, Action::Write { cell: f.cell }, at(20));
        }
        let sites: Vec<_> = races(&f.trace)
            .iter()
            .map(|r| {
                (
                    f.trace.events[r.earlier].site.line,
                    f.trace.events[r.later].site.line,
                )
            })
            .collect();
        assert_eq!(sites, vec![(10, 20), (20, 10)]);
    }

    #[test]
    fn channel_and_barrier_order_accesses() {
        let mut f = fixture();
        let cell = f.cell;
        let channel = f.trace.object(ObjectKind::Channel, "tx", at(2));
        let barrier = f.trace.object(ObjectKind::Barrier, "b", at(2));
        f.trace.push(f.t1, Action::Write { cell }, at(10));
        f.trace.push(
            f.t1,
            Action::Send {
                channel,
                message: 7,
            },
            at(11),
        );
        f.trace.push(
            f.t2,
            Action::Receive {
                channel,
                message: 7,
            },
            at(20),
        );
        f.trace.push(f.t2, Action::Write { cell }, at(21));
        assert!(races(&f.trace).is_empty());
        for (agent, line) in [(f.t1, 30), (f.t2, 40)] {
            let generation = 0;
            f.trace.push(
                agent,
                Action::BarrierArrive {
                    barrier,
                    generation,
                },
                at(line),
            );
        }
        for (agent, line) in [(f.t1, 31), (f.t2, 41)] {
            let generation = 0;
            f.trace.push(
                agent,
                Action::BarrierDepart {
                    barrier,
                    generation,
                },
                at(line),
            );
        }
        f.trace.push(f.t1, Action::Read { cell }, at(32));
        assert!(races(&f.trace).is_empty());
    }

    #[test]
    fn release_acquire_atomics_publish_and_relaxed_ones_do_not() {
        for (store, load, racy) in [
            (MemoryOrder::Release, MemoryOrder::Acquire, false),
            (MemoryOrder::Relaxed, MemoryOrder::Acquire, true),
            (MemoryOrder::Release, MemoryOrder::Relaxed, true),
            (MemoryOrder::SeqCst, MemoryOrder::SeqCst, false),
        ] {
            let mut f = fixture();
            let cell = f.cell;
            let flag = f.trace.object(ObjectKind::Atomic, "ready", at(2));
            f.trace.push(f.t1, Action::Write { cell }, at(10));
            let value = Some(1);
            f.trace.push(
                f.t1,
                Action::AtomicStore {
                    atomic: flag,
                    order: store,
                    value,
                },
                at(11),
            );
            f.trace.push(
                f.t2,
                Action::AtomicLoad {
                    atomic: flag,
                    order: load,
                    value,
                },
                at(20),
            );
            f.trace.push(f.t2, Action::Read { cell }, at(21));
            assert_eq!(!races(&f.trace).is_empty(), racy, "{store:?} / {load:?}");
        }
    }

    #[test]
    fn mutual_exclusion_by_rwlock_orders_writers_but_not_readers_among_themselves() {
        let mut f = fixture();
        let cell = f.cell;
        let rw = f.trace.object(ObjectKind::RwLock, "rw", at(2));
        let (read, write) = (LockMode::Shared, LockMode::Exclusive);
        f.trace.push(
            f.t1,
            Action::LockAcquire {
                lock: rw,
                mode: write,
            },
            at(10),
        );
        f.trace.push(f.t1, Action::Write { cell }, at(11));
        f.trace.push(
            f.t1,
            Action::LockRelease {
                lock: rw,
                mode: write,
            },
            at(12),
        );
        f.trace.push(
            f.t2,
            Action::LockAcquire {
                lock: rw,
                mode: read,
            },
            at(20),
        );
        f.trace.push(f.t2, Action::Read { cell }, at(21));
        f.trace.push(
            f.t2,
            Action::LockRelease {
                lock: rw,
                mode: read,
            },
            at(22),
        );
        f.trace.push(
            f.t1,
            Action::LockAcquire {
                lock: rw,
                mode: write,
            },
            at(30),
        );
        f.trace.push(f.t1, Action::Write { cell }, at(31));
        f.trace.push(
            f.t1,
            Action::LockRelease {
                lock: rw,
                mode: write,
            },
            at(32),
        );
        assert!(races(&f.trace).is_empty());
        // A write made under a read guard is not protected from other readers.
        f.trace.push(
            f.t1,
            Action::LockAcquire {
                lock: rw,
                mode: read,
            },
            at(40),
        );
        f.trace.push(
            f.t2,
            Action::LockAcquire {
                lock: rw,
                mode: read,
            },
            at(50),
        );
        f.trace.push(f.t1, Action::Write { cell }, at(41));
        f.trace.push(f.t2, Action::Read { cell }, at(51));
        assert_eq!(races(&f.trace).len(), 1);
    }

    #[test]
    fn condvar_notify_orders_the_woken_waiter() {
        let mut f = fixture();
        let cell = f.cell;
        let cv = f.trace.object(ObjectKind::Condvar, "cv", at(2));
        // No mutex around the write: only the notify/wake edge orders it.
        f.trace.push(f.t1, Action::Write { cell }, at(10));
        f.trace.push(
            f.t1,
            Action::CondvarNotify {
                condvar: cv,
                all: false,
            },
            at(11),
        );
        f.trace.push(
            f.t2,
            Action::CondvarWake {
                condvar: cv,
                mutex: f.lock,
            },
            at(20),
        );
        f.trace.push(f.t2, Action::Read { cell }, at(21));
        assert!(races(&f.trace).is_empty());
    }

    #[test]
    fn cells_are_independent() {
        let mut f = fixture();
        let other = f.trace.object(ObjectKind::Cell, "other", at(1));
        f.trace.push(f.t1, Action::Write { cell: f.cell }, at(10));
        f.trace.push(f.t2, Action::Write { cell: other }, at(20));
        assert!(races(&f.trace).is_empty());
    }
}
