//! The vector clocks against a reference: happens-before computed as plain
//! reachability over explicit edges, on random well-formed traces.

use proptest::prelude::*;

use super::{races, HappensBefore};
use crate::event::{Action, AgentId, LockMode, ObjectId, ObjectKind, Site, Trace};

const WORKERS: u32 = 3;

/// Interprets random choices as a well-formed trace: main spawns the
/// workers; workers take and release locks (mutexes and rwlocks), send and
/// receive messages, meet at barriers and touch cells; main joins some of
/// them and touches cells afterwards. Every event has its own line.
fn build(choices: &[(u8, u8, u8)]) -> Trace {
    let mut trace = Trace::new();
    let main = trace.thread("main");
    let workers: Vec<AgentId> = (0..WORKERS)
        .map(|i| trace.thread(format!("w{i}")))
        .collect();
    let site = |trace: &Trace| Site::new("p.rs", trace.events.len() as u32 + 1, 1);
    let mut locks: Vec<ObjectId> = (0..2)
        .map(|i| trace.object(ObjectKind::Mutex, format!("m{i}"), Site::unknown()))
        .collect();
    for i in 0..2 {
        locks.push(trace.object(ObjectKind::RwLock, format!("rw{i}"), Site::unknown()));
    }
    let cells: Vec<ObjectId> = (0..3)
        .map(|i| trace.object(ObjectKind::Cell, format!("c{i}"), Site::unknown()))
        .collect();
    let channel = trace.object(ObjectKind::Channel, "ch", Site::unknown());
    let barrier = trace.object(ObjectKind::Barrier, "b", Site::unknown());

    for &w in &workers {
        let s = site(&trace);
        trace.push(main, Action::Spawn { child: w }, s);
    }
    // Per lock: the holders and their modes.
    let mut holders: Vec<Vec<(AgentId, LockMode)>> = vec![Vec::new(); locks.len()];
    let mut in_flight: Vec<u64> = Vec::new();
    let mut next_message = 0u64;
    let mut generation = 0u64;
    for &(op, who, what) in choices {
        let agent = workers[(who as u32 % WORKERS) as usize];
        let s = site(&trace);
        match op % 8 {
            0 | 1 => {
                let l = what as usize % locks.len();
                let lock = locks[l];
                let mode = if l >= 2 && op % 2 == 1 {
                    LockMode::Shared
                } else {
                    LockMode::Exclusive
                };
                if let Some(i) = holders[l].iter().position(|&(a, _)| a == agent) {
                    let (_, held_mode) = holders[l].remove(i);
                    trace.push(
                        agent,
                        Action::LockRelease {
                            lock,
                            mode: held_mode,
                        },
                        s,
                    );
                } else {
                    let free = holders[l].is_empty()
                        || (mode == LockMode::Shared
                            && holders[l].iter().all(|&(_, m)| m == LockMode::Shared));
                    if free {
                        holders[l].push((agent, mode));
                        trace.push(agent, Action::LockAcquire { lock, mode }, s);
                    }
                }
            }
            2 | 3 => {
                let cell = cells[what as usize % cells.len()];
                let action = if op % 8 == 2 {
                    Action::Read { cell }
                } else {
                    Action::Write { cell }
                };
                trace.push(agent, action, s);
            }
            4 => {
                trace.push(
                    agent,
                    Action::Send {
                        channel,
                        message: next_message,
                    },
                    s,
                );
                in_flight.push(next_message);
                next_message += 1;
            }
            5 if !in_flight.is_empty() => {
                let message = in_flight.remove(what as usize % in_flight.len());
                trace.push(agent, Action::Receive { channel, message }, s);
            }
            // Everyone meets, if nobody holds a lock (so nobody deadlocks).
            6 if holders.iter().all(|h| h.is_empty()) => {
                for &w in &workers {
                    let s = site(&trace);
                    trace.push(
                        w,
                        Action::BarrierArrive {
                            barrier,
                            generation,
                        },
                        s,
                    );
                }
                for &w in workers.iter().rev() {
                    let s = site(&trace);
                    trace.push(
                        w,
                        Action::BarrierDepart {
                            barrier,
                            generation,
                        },
                        s,
                    );
                }
                generation += 1;
            }
            _ => {}
        }
    }
    for (l, lock) in locks.iter().enumerate() {
        for (agent, mode) in std::mem::take(&mut holders[l]) {
            let s = site(&trace);
            trace.push(agent, Action::LockRelease { lock: *lock, mode }, s);
        }
    }
    // Main joins the first workers, then touches every cell.
    let joined = choices.first().map_or(0, |c| c.0 as u32 % (WORKERS + 1));
    for &w in &workers[..joined as usize] {
        let s = site(&trace);
        trace.push(main, Action::Join { child: w }, s);
    }
    for (i, &cell) in cells.iter().enumerate() {
        let s = site(&trace);
        let action = if i % 2 == 0 {
            Action::Read { cell }
        } else {
            Action::Write { cell }
        };
        trace.push(main, action, s);
    }
    trace
}

/// `before[j][i]`: event `i` happens-before event `j`, by reachability over
/// the edges each synchronization draws, spelled out directly.
fn reference(trace: &Trace) -> Vec<Vec<bool>> {
    let n = trace.events.len();
    let mut before = vec![vec![false; n]; n];
    for j in 0..n {
        let e = &trace.events[j];
        let mut preds: Vec<usize> = Vec::new();
        for (i, p) in trace.events[..j].iter().enumerate() {
            let edge = p.agent == e.agent
                || match (&p.action, &e.action) {
                    (Action::Spawn { child }, _) => *child == e.agent,
                    (_, Action::Join { child }) => p.agent == *child,
                    (
                        Action::LockRelease {
                            lock: a,
                            mode: released,
                        },
                        Action::LockAcquire { lock: b, mode },
                    ) => {
                        a == b && (*mode == LockMode::Exclusive || *released == LockMode::Exclusive)
                    }
                    (Action::Send { message: a, .. }, Action::Receive { message: b, .. }) => a == b,
                    (
                        Action::BarrierArrive { generation: a, .. },
                        Action::BarrierDepart { generation: b, .. },
                    ) => a == b,
                    _ => false,
                };
            if edge {
                preds.push(i);
            }
        }
        for i in preds {
            before[j][i] = true;
            let (done, rest) = before.split_at_mut(j);
            for (k, known) in done[i].iter().enumerate() {
                if *known {
                    rest[0][k] = true;
                }
            }
        }
    }
    before
}

fn choices() -> impl Strategy<Value = Vec<(u8, u8, u8)>> {
    prop::collection::vec((any::<u8>(), any::<u8>(), any::<u8>()), 0..60)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn clocks_agree_with_reachability(choices in choices()) {
        let trace = build(&choices);
        let hb = HappensBefore::compute(&trace);
        let before = reference(&trace);
        for (j, known) in before.iter().enumerate() {
            for (i, &expected) in known.iter().enumerate() {
                prop_assert_eq!(
                    hb.ordered(i, j), expected,
                    "event {} before event {}? trace: {:#?}", i, j, trace.events
                );
            }
        }
    }

    #[test]
    fn a_cell_is_reported_racy_exactly_when_two_of_its_accesses_race(choices in choices()) {
        let trace = build(&choices);
        let before = reference(&trace);
        let mut racy: Vec<ObjectId> = Vec::new();
        for (j, b) in trace.events.iter().enumerate() {
            for (i, a) in trace.events[..j].iter().enumerate() {
                let (x, wx) = match a.action {
                    Action::Read { cell } => (cell, false),
                    Action::Write { cell } => (cell, true),
                    _ => continue,
                };
                let (y, wy) = match b.action {
                    Action::Read { cell } => (cell, false),
                    Action::Write { cell } => (cell, true),
                    _ => continue,
                };
                if x == y && (wx || wy) && !before[j][i] && !racy.contains(&x) {
                    racy.push(x);
                }
            }
        }
        let mut reported: Vec<ObjectId> = races(&trace).iter().map(|r| r.cell).collect();
        reported.sort();
        reported.dedup();
        racy.sort();
        prop_assert_eq!(reported, racy);
        // Every reported pair really races.
        for race in races(&trace) {
            prop_assert!(!before[race.later][race.earlier]);
        }
    }
}
