//! A blocked state: who waits for what, and who holds which lock.

use crate::event::{Action, AgentId, LockMode, ObjectId, Site, Trace};

/// What a blocked agent waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WaitsFor {
    /// A lock, in a mode: it waits for the holders that exclude that mode.
    Lock { lock: ObjectId, mode: LockMode },
    /// Something no one owns: a condvar (a notify), a barrier (the other
    /// arrivals), a channel (a message), a counted resource (units given
    /// back). No agent holds it, so it draws no wait-for edge; only another
    /// agent's action would release the waiter.
    Object { object: ObjectId },
    /// Another agent's end (a join): it waits for that agent, whatever it
    /// holds.
    Thread { agent: AgentId },
}

/// One blocked agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiter {
    pub agent: AgentId,
    pub waits_for: WaitsFor,
    /// Where it waits.
    pub site: Site,
    /// The event at which it started waiting, where it came from a trace.
    pub event: Option<usize>,
}

/// One lock held by one agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    pub lock: ObjectId,
    pub agent: AgentId,
    pub mode: LockMode,
    /// Where it was taken.
    pub site: Site,
    pub event: Option<usize>,
}

/// The waiting and holding of every agent at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockedState {
    /// At most one per agent, by agent.
    pub waiters: Vec<Waiter>,
    /// In the order the locks were taken.
    pub holders: Vec<Holder>,
}

impl BlockedState {
    pub fn holders_of(&self, lock: ObjectId) -> impl Iterator<Item = (usize, &Holder)> + '_ {
        self.holders
            .iter()
            .enumerate()
            .filter(move |(_, h)| h.lock == lock)
    }

    pub fn waiter(&self, agent: AgentId) -> Option<&Waiter> {
        self.waiters.iter().find(|w| w.agent == agent)
    }
}

/// The state at the end of a trace (typically a prefix that stopped because
/// every thread was blocked). Holders come from acquire and release events
/// (a condvar wait releases its mutex); an agent waits when its last event
/// began a wait that nothing completed: a `LockRequest` with no acquire
/// after it, a condvar wait with no wake-up (or a wake-up whose mutex was not
/// taken back yet), a barrier arrival with no departure, a resource request
/// with no grant.
pub fn blocked_state(trace: &Trace) -> BlockedState {
    let agents = trace
        .events
        .iter()
        .map(|e| e.agent.0 as usize + 1)
        .max()
        .unwrap_or(0)
        .max(trace.agents.len());
    let mut waiting: Vec<Option<Waiter>> = vec![None; agents];
    let mut holders: Vec<Holder> = Vec::new();
    let release = |holders: &mut Vec<Holder>, lock: ObjectId, agent: AgentId| {
        if let Some(i) = holders
            .iter()
            .rposition(|h| h.lock == lock && h.agent == agent)
        {
            holders.remove(i);
        }
    };
    for (index, event) in trace.events.iter().enumerate() {
        let agent = event.agent;
        let a = agent.0 as usize;
        // Any step of the agent means it got past whatever it waited for.
        waiting[a] = None;
        let waits_for = match event.action {
            Action::LockRequest { lock, mode } => Some(WaitsFor::Lock { lock, mode }),
            Action::LockAcquire { lock, mode } => {
                holders.push(Holder {
                    lock,
                    agent,
                    mode,
                    site: event.site.clone(),
                    event: Some(index),
                });
                None
            }
            Action::LockRelease { lock, .. } => {
                release(&mut holders, lock, agent);
                None
            }
            Action::CondvarWait { condvar, mutex } => {
                release(&mut holders, mutex, agent);
                Some(WaitsFor::Object { object: condvar })
            }
            // Woken, it must take the mutex back before it returns.
            Action::CondvarWake { mutex, .. } => Some(WaitsFor::Lock {
                lock: mutex,
                mode: LockMode::Exclusive,
            }),
            Action::BarrierArrive { barrier, .. } => Some(WaitsFor::Object { object: barrier }),
            Action::ResourceRequest { resource, .. } => Some(WaitsFor::Object { object: resource }),
            _ => None,
        };
        waiting[a] = waits_for.map(|waits_for| Waiter {
            agent,
            waits_for,
            site: event.site.clone(),
            event: Some(index),
        });
    }
    BlockedState {
        waiters: waiting.into_iter().flatten().collect(),
        holders,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ObjectKind;

    fn at(line: u32) -> Site {
        Site::new("w.rs", line, 1)
    }

    #[test]
    fn trailing_requests_wait_and_acquires_hold() {
        let mut trace = Trace::new();
        let t1 = trace.thread("thread 1");
        let t2 = trace.thread("thread 2");
        let a = trace.object(ObjectKind::Mutex, "a", at(1));
        let b = trace.object(ObjectKind::Mutex, "b", at(2));
        let x = LockMode::Exclusive;
        trace.push(t1, Action::LockAcquire { lock: a, mode: x }, at(10));
        trace.push(t2, Action::LockRequest { lock: b, mode: x }, at(19));
        trace.push(t2, Action::LockAcquire { lock: b, mode: x }, at(20));
        trace.push(t1, Action::LockRequest { lock: b, mode: x }, at(11));
        trace.push(t2, Action::LockRequest { lock: a, mode: x }, at(21));
        let state = blocked_state(&trace);
        let waits: Vec<_> = state
            .waiters
            .iter()
            .map(|w| (w.agent, w.waits_for, w.site.line))
            .collect();
        assert_eq!(
            waits,
            vec![
                (t1, WaitsFor::Lock { lock: b, mode: x }, 11),
                (t2, WaitsFor::Lock { lock: a, mode: x }, 21),
            ]
        );
        let holds: Vec<_> = state
            .holders
            .iter()
            .map(|h| (h.lock, h.agent, h.event))
            .collect();
        assert_eq!(holds, vec![(a, t1, Some(0)), (b, t2, Some(2))]);
        assert_eq!(state.holders_of(b).count(), 1);
        assert!(state.waiter(t1).is_some());
    }

    #[test]
    fn a_condvar_wait_releases_the_mutex_and_waits_on_the_condvar() {
        let mut trace = Trace::new();
        let t1 = trace.thread("thread 1");
        let m = trace.object(ObjectKind::Mutex, "m", at(1));
        let cv = trace.object(ObjectKind::Condvar, "cv", at(2));
        let x = LockMode::Exclusive;
        trace.push(t1, Action::LockAcquire { lock: m, mode: x }, at(10));
        trace.push(
            t1,
            Action::CondvarWait {
                condvar: cv,
                mutex: m,
            },
            at(11),
        );
        let state = blocked_state(&trace);
        assert!(state.holders.is_empty());
        assert_eq!(state.waiters[0].waits_for, WaitsFor::Object { object: cv });
        // Woken but not yet holding the mutex again: it waits for the mutex.
        trace.push(
            t1,
            Action::CondvarWake {
                condvar: cv,
                mutex: m,
            },
            at(11),
        );
        let state = blocked_state(&trace);
        assert_eq!(
            state.waiters[0].waits_for,
            WaitsFor::Lock { lock: m, mode: x }
        );
        trace.push(t1, Action::LockAcquire { lock: m, mode: x }, at(11));
        assert!(blocked_state(&trace).waiters.is_empty());
    }

    #[test]
    fn barriers_and_resources_wait_until_completed() {
        let mut trace = Trace::new();
        let t1 = trace.thread("thread 1");
        let t2 = trace.thread("thread 2");
        let barrier = trace.object(ObjectKind::Barrier, "b", at(1));
        let pool = trace.object(ObjectKind::Resource, "pool", at(2));
        trace.push(
            t1,
            Action::BarrierArrive {
                barrier,
                generation: 0,
            },
            at(10),
        );
        trace.push(
            t2,
            Action::ResourceRequest {
                resource: pool,
                units: 2,
            },
            at(20),
        );
        let state = blocked_state(&trace);
        assert_eq!(state.waiters.len(), 2);
        trace.push(
            t1,
            Action::BarrierDepart {
                barrier,
                generation: 0,
            },
            at(10),
        );
        trace.push(
            t2,
            Action::ResourceAcquire {
                resource: pool,
                units: 2,
            },
            at(20),
        );
        assert!(blocked_state(&trace).waiters.is_empty());
    }
}
