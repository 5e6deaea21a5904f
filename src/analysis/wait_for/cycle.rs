//! The wait-for graph of a blocked state, and its cycle.
//!
//! Agents are the nodes; a waiter has an edge to every agent it waits for:
//! the holders of the lock it wants whose mode excludes its own, and, when it
//! wants to read, the writers already queued for that lock (with writer
//! priority, as std's `RwLock` on Linux and parking_lot give it, a new reader
//! waits behind a queued writer). Waits on condvars, barriers, channels and
//! resources have no edge: nobody owns them. A join waits for the joined
//! thread itself.
//!
//! A cycle is a deadlock that no outside event can break. With no cycle, the
//! blocked agents wait for things only some other, non-blocked activity
//! could provide (a notify nobody will send: a lost wake-up).

use super::state::{BlockedState, WaitsFor};
use crate::event::{AgentId, LockMode};

/// Why waiter `waiter` waits for agent `blocker`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Because {
    /// `blocker` holds the lock: `holders[holder]`.
    Holds { holder: usize },
    /// `blocker` is queued to write the lock, ahead of this reader:
    /// `waiters[waiter]`.
    Queued { waiter: usize },
    /// `blocker` is the thread this waiter joins.
    Joins,
}

/// An edge of the wait-for graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WaitEdge {
    /// Index into [`BlockedState::waiters`].
    pub waiter: usize,
    pub blocker: AgentId,
    pub because: Because,
}

/// Every wait-for edge, by waiter.
pub fn wait_for_edges(state: &BlockedState) -> Vec<WaitEdge> {
    let mut edges = Vec::new();
    for (w, waiter) in state.waiters.iter().enumerate() {
        let (lock, mode) = match waiter.waits_for {
            WaitsFor::Lock { lock, mode } => (lock, mode),
            WaitsFor::Thread { agent } => {
                edges.push(WaitEdge {
                    waiter: w,
                    blocker: agent,
                    because: Because::Joins,
                });
                continue;
            }
            WaitsFor::Object { .. } => continue,
        };
        let mut held = false;
        for (h, holder) in state.holders_of(lock) {
            held = true;
            if mode == LockMode::Exclusive || holder.mode == LockMode::Exclusive {
                edges.push(WaitEdge {
                    waiter: w,
                    blocker: holder.agent,
                    because: Because::Holds { holder: h },
                });
            }
        }
        // A queued writer holds back new readers only while someone holds
        // the lock (otherwise the writer would have taken it).
        if mode == LockMode::Shared && held {
            for (q, queued) in state.waiters.iter().enumerate() {
                let writes = queued.waits_for
                    == WaitsFor::Lock {
                        lock,
                        mode: LockMode::Exclusive,
                    };
                if writes && queued.agent != waiter.agent {
                    edges.push(WaitEdge {
                        waiter: w,
                        blocker: queued.agent,
                        because: Because::Queued { waiter: q },
                    });
                }
            }
        }
    }
    edges
}

/// A cycle of the wait-for graph: each edge's blocker is the next edge's
/// waiter, and the last edge's blocker is the first edge's waiter. Starts at
/// the waiter listed first in the state. None when there is no cycle.
pub fn find_cycle(state: &BlockedState) -> Option<Vec<WaitEdge>> {
    let edges = wait_for_edges(state);
    let waiter_of = |agent: AgentId| state.waiters.iter().position(|w| w.agent == agent);
    // Out-edges per waiter.
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); state.waiters.len()];
    for (i, e) in edges.iter().enumerate() {
        out[e.waiter].push(i);
    }
    // Depth-first search with colours: 0 unseen, 1 on the path, 2 done.
    let mut colour = vec![0u8; state.waiters.len()];
    for start in 0..state.waiters.len() {
        if colour[start] != 0 {
            continue;
        }
        let mut path: Vec<usize> = Vec::new(); // edges taken
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)]; // (waiter, next out-edge)
        colour[start] = 1;
        while let Some(top) = stack.last_mut() {
            let w = top.0;
            if top.1 == out[w].len() {
                colour[w] = 2;
                stack.pop();
                path.pop();
                continue;
            }
            let e = out[w][top.1];
            top.1 += 1;
            // A blocker that is not blocked itself ends the chain here.
            let Some(v) = waiter_of(edges[e].blocker) else {
                continue;
            };
            match colour[v] {
                0 => {
                    colour[v] = 1;
                    path.push(e);
                    stack.push((v, 0));
                }
                1 => {
                    // Back to a waiter on the path: the cycle is the path from it.
                    path.push(e);
                    let from = path.iter().position(|&p| edges[p].waiter == v).unwrap_or(0);
                    return Some(path[from..].iter().map(|&p| edges[p]).collect());
                }
                _ => {}
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::wait_for::state::{Holder, Waiter};
    use crate::event::{ObjectId, Site};

    fn waiter(agent: u32, lock: u32, mode: LockMode) -> Waiter {
        Waiter {
            agent: AgentId(agent),
            waits_for: WaitsFor::Lock {
                lock: ObjectId(lock),
                mode,
            },
            site: Site::new("c.rs", 10 * agent + 1, 1),
            event: None,
        }
    }

    fn holder(agent: u32, lock: u32, mode: LockMode) -> Holder {
        Holder {
            lock: ObjectId(lock),
            agent: AgentId(agent),
            mode,
            site: Site::new("c.rs", 10 * agent, 1),
            event: None,
        }
    }

    const X: LockMode = LockMode::Exclusive;
    const S: LockMode = LockMode::Shared;

    #[test]
    fn two_threads_holding_what_the_other_wants() {
        let state = BlockedState {
            waiters: vec![waiter(1, 0, X), waiter(2, 1, X)],
            holders: vec![holder(1, 1, X), holder(2, 0, X)],
        };
        let cycle = find_cycle(&state).unwrap();
        let agents: Vec<_> = cycle
            .iter()
            .map(|e| (state.waiters[e.waiter].agent.0, e.blocker.0))
            .collect();
        assert_eq!(agents, vec![(1, 2), (2, 1)]);
    }

    #[test]
    fn readers_do_not_wait_for_readers() {
        let state = BlockedState {
            waiters: vec![waiter(1, 0, S)],
            holders: vec![holder(2, 0, S)],
        };
        assert!(wait_for_edges(&state).is_empty());
        assert!(find_cycle(&state).is_none());
    }

    #[test]
    fn a_reader_waits_behind_a_queued_writer() {
        // thread 1 reads `rw`, thread 2 queues to write it, thread 1 reads
        // it again: thread 1 waits for thread 2, which waits for thread 1.
        let state = BlockedState {
            waiters: vec![waiter(1, 0, S), waiter(2, 0, X)],
            holders: vec![holder(1, 0, S)],
        };
        let cycle = find_cycle(&state).unwrap();
        assert_eq!(cycle.len(), 2);
        assert_eq!(cycle[0].because, Because::Queued { waiter: 1 });
        assert_eq!(cycle[1].because, Because::Holds { holder: 0 });
    }

    #[test]
    fn a_chain_that_ends_at_a_running_thread_is_no_cycle() {
        let state = BlockedState {
            waiters: vec![waiter(1, 0, X), waiter(2, 1, X)],
            holders: vec![holder(2, 0, X), holder(3, 1, X)],
        };
        assert_eq!(wait_for_edges(&state).len(), 2);
        assert!(find_cycle(&state).is_none());
    }

    #[test]
    fn the_cycle_excludes_waiters_that_only_lead_into_it() {
        let state = BlockedState {
            waiters: vec![waiter(1, 2, X), waiter(2, 0, X), waiter(3, 1, X)],
            holders: vec![holder(2, 1, X), holder(3, 0, X), holder(2, 2, X)],
        };
        let cycle = find_cycle(&state).unwrap();
        let agents: Vec<_> = cycle
            .iter()
            .map(|e| state.waiters[e.waiter].agent.0)
            .collect();
        assert_eq!(agents, vec![2, 3]);
    }

    #[test]
    fn joining_a_thread_that_waits_for_a_held_lock_is_a_cycle() {
        let join = Waiter {
            agent: AgentId(1),
            waits_for: WaitsFor::Thread { agent: AgentId(2) },
            site: Site::new("c.rs", 11, 1),
            event: None,
        };
        let state = BlockedState {
            waiters: vec![join, waiter(2, 0, X)],
            holders: vec![holder(1, 0, X)],
        };
        let cycle = find_cycle(&state).unwrap();
        assert_eq!(cycle[0].because, Because::Joins);
        assert_eq!(cycle[1].because, Because::Holds { holder: 0 });
    }

    #[test]
    fn relocking_a_held_lock_is_a_cycle_of_one() {
        let state = BlockedState {
            waiters: vec![waiter(1, 0, X)],
            holders: vec![holder(1, 0, X)],
        };
        assert_eq!(find_cycle(&state).unwrap().len(), 1);
    }
}
