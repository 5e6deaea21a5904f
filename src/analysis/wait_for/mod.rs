//! Observed deadlocks: the wait-for graph of a state where every live thread
//! is blocked.
//!
//! The state says, for each blocked agent, what it waits for, and for each
//! lock, who holds it ([`BlockedState`], derived from a trace prefix by
//! [`blocked_state`]). A cycle in the wait-for graph names the deadlock:
//! "thread 1 holds `a` and waits for `b`; thread 2 holds `b` and waits for
//! `a`". Without a cycle the threads wait for things nobody is left to give
//! (a lost wake-up), and the finding lists what each waits for.

mod cycle;
mod state;

pub use cycle::{find_cycle, Because, WaitEdge};
pub use state::{blocked_state, BlockedState, Holder, Waiter, WaitsFor};

use crate::analysis::happens_before::relevant_steps;
use crate::event::{LockMode, ObjectId, ObjectKind, Site, Trace};
use crate::finding::{Finding, Kind};

/// `f.rs:10`
fn short(site: &Site) -> String {
    format!("{}:{}", site.file, site.line)
}

/// "for `m`", "to read `rw`", "on `cv`", ...
fn wanted(trace: &Trace, waits_for: WaitsFor) -> String {
    let name = |id: ObjectId| format!("`{}`", trace.object_name(id));
    match waits_for {
        WaitsFor::Lock { lock, mode } => match (trace.object_kind(lock), mode) {
            (Some(ObjectKind::RwLock), LockMode::Shared) => format!("to read {}", name(lock)),
            (Some(ObjectKind::RwLock), LockMode::Exclusive) => format!("to write {}", name(lock)),
            _ => format!("for {}", name(lock)),
        },
        WaitsFor::Thread { agent } => format!("for {} to finish", trace.agent_name(agent)),
        WaitsFor::Object { object } => match trace.object_kind(object) {
            Some(ObjectKind::Barrier) => format!("at {}", name(object)),
            Some(ObjectKind::Resource) => format!("for units of {}", name(object)),
            _ => format!("on {}", name(object)),
        },
    }
}

/// Why nobody will end a wait on an object without an owner.
fn nobody_left(trace: &Trace, object: ObjectId) -> &'static str {
    match trace.object_kind(object) {
        Some(ObjectKind::Condvar) => "no thread is left to notify it",
        Some(ObjectKind::Barrier) => "the other arrivals will not come",
        Some(ObjectKind::Channel) => "no thread is left to send",
        Some(ObjectKind::Resource) => "no thread is left to give any back",
        _ => "no thread is left to release it",
    }
}

fn lock_name(trace: &Trace, holder: &Holder) -> String {
    format!("`{}`", trace.object_name(holder.lock))
}

fn explain_cycle(trace: &Trace, state: &BlockedState, cycle: &[WaitEdge]) -> String {
    let mut parts = Vec::new();
    for (k, edge) in cycle.iter().enumerate() {
        let waiter = &state.waiters[edge.waiter];
        let agent = trace.agent_name(waiter.agent);
        // What this agent holds that the previous one waits for.
        let previous = &cycle[(k + cycle.len() - 1) % cycle.len()];
        let holds = match previous.because {
            Because::Holds { holder } => {
                let h = &state.holders[holder];
                format!("holds {} ({}) and ", lock_name(trace, h), short(&h.site))
            }
            Because::Queued { .. } | Because::Joins => String::new(),
        };
        let behind = match edge.because {
            Because::Queued { .. } => {
                format!(" behind {}'s queued write", trace.agent_name(edge.blocker))
            }
            Because::Holds { .. } | Because::Joins => String::new(),
        };
        parts.push(format!(
            "{agent} {holds}waits {} ({}){behind}",
            wanted(trace, waiter.waits_for),
            short(&waiter.site)
        ));
    }
    parts.join("; ")
}

fn explain_waits(trace: &Trace, state: &BlockedState) -> String {
    let mut parts = Vec::new();
    for waiter in &state.waiters {
        let agent = trace.agent_name(waiter.agent);
        let what = wanted(trace, waiter.waits_for);
        let site = short(&waiter.site);
        let why = match waiter.waits_for {
            WaitsFor::Object { object } => nobody_left(trace, object).to_string(),
            WaitsFor::Thread { .. } => "which is blocked too".to_string(),
            WaitsFor::Lock { lock, .. } => {
                let holders: Vec<String> = state
                    .holders_of(lock)
                    .map(|(_, h)| format!("{} ({})", trace.agent_name(h.agent), short(&h.site)))
                    .collect();
                if holders.is_empty() {
                    "which nobody holds".to_string()
                } else {
                    format!("held by {}", holders.join(" and "))
                }
            }
        };
        parts.push(format!("{agent} waits {what} ({site}), {why}"));
    }
    parts.join("; ")
}

/// The deadlock of a blocked state as a finding: the cycle (or the waits),
/// a location at each waiting site and each holding site that matters, and
/// the steps that led there.
pub fn deadlock_finding(trace: &Trace, state: &BlockedState) -> Finding {
    let cycle = find_cycle(state);
    let message = match &cycle {
        Some(cycle) => format!("deadlock: {}", explain_cycle(trace, state, cycle)),
        None if state.waiters.iter().any(|w| is_condvar_wait(trace, w)) => format!(
            "deadlock: every thread is blocked, waiting for a notification that never comes \
             (a lost wake-up): {}",
            explain_waits(trace, state)
        ),
        None => format!(
            "deadlock: every thread is blocked and none can wake another: {}",
            explain_waits(trace, state)
        ),
    };
    let mut finding = Finding::new(Kind::Deadlock, message);
    let mut highlight = Vec::new();
    let mut wait_at = |finding: Finding, waiter: &Waiter| {
        highlight.extend(waiter.event);
        finding.at(
            &waiter.site,
            format!(
                "{} waits {} here",
                trace.agent_name(waiter.agent),
                wanted(trace, waiter.waits_for)
            ),
        )
    };
    let mut held = Vec::new();
    let hold_at = |finding: Finding, holder: &Holder, held: &mut Vec<usize>| {
        held.extend(holder.event);
        finding.at(
            &holder.site,
            format!(
                "{} taken here by {}, still held",
                lock_name(trace, holder),
                trace.agent_name(holder.agent)
            ),
        )
    };
    match &cycle {
        Some(cycle) => {
            for edge in cycle {
                finding = wait_at(finding, &state.waiters[edge.waiter]);
                if let Because::Holds { holder } = edge.because {
                    finding = hold_at(finding, &state.holders[holder], &mut held);
                }
            }
        }
        None => {
            for waiter in &state.waiters {
                finding = wait_at(finding, waiter);
                if let WaitsFor::Lock { lock, .. } = waiter.waits_for {
                    for (_, holder) in state.holders_of(lock) {
                        finding = hold_at(finding, holder, &mut held);
                    }
                }
            }
        }
    }
    finding.locations.dedup();
    highlight.extend(held);
    highlight.sort_unstable();
    highlight.dedup();
    if !highlight.is_empty() {
        finding = finding.with_trace(relevant_steps(trace, &highlight));
    }
    finding.with_help(help(trace, state, cycle.as_deref()))
}

fn help(trace: &Trace, state: &BlockedState, cycle: Option<&[WaitEdge]>) -> String {
    match cycle {
        Some([edge]) => {
            let waiter = &state.waiters[edge.waiter];
            format!(
                "{} waits for a lock it holds itself: drop the guard before locking again, \
                 or use the guard it has",
                trace.agent_name(waiter.agent)
            )
        }
        Some(cycle)
            if cycle
                .iter()
                .any(|e| matches!(e.because, Because::Queued { .. })) =>
        {
            "do not take a read guard again while one is held (a queued writer waits for the \
             first and blocks the second); reuse the guard you have"
                .to_string()
        }
        Some(_) => "make every thread take these locks in one global order, or take them \
                    together under one lock"
            .to_string(),
        None if state.waiters.iter().any(|w| is_condvar_wait(trace, w)) => {
            "a lost wake-up: change the condition and notify while holding the mutex, and wait in \
             a loop that checks the condition first (`while !ready { guard = cv.wait(guard)?; }`), \
             so that a notify sent before the wait is not missed"
                .to_string()
        }
        None => "make sure every wait has a thread left that will end it (a release, a send, an \
                 arrival)"
            .to_string(),
    }
}

fn is_condvar_wait(trace: &Trace, waiter: &Waiter) -> bool {
    matches!(waiter.waits_for, WaitsFor::Object { object } if trace.object_kind(object) == Some(ObjectKind::Condvar))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Action;
    use crate::event::AgentId;
    use crate::finding::Severity;

    const X: LockMode = LockMode::Exclusive;
    const S: LockMode = LockMode::Shared;

    fn at(line: u32) -> Site {
        Site::new("f.rs", line, 5)
    }

    fn abba() -> Trace {
        let mut trace = Trace::new();
        let t1 = trace.thread("thread 1");
        let t2 = trace.thread("thread 2");
        let a = trace.object(ObjectKind::Mutex, "a", at(1));
        let b = trace.object(ObjectKind::Mutex, "b", at(2));
        trace.push(t1, Action::LockAcquire { lock: a, mode: X }, at(10));
        trace.push(t2, Action::LockAcquire { lock: b, mode: X }, at(20));
        trace.push(t1, Action::LockRequest { lock: b, mode: X }, at(11));
        trace.push(t2, Action::LockRequest { lock: a, mode: X }, at(21));
        trace
    }

    #[test]
    fn an_abba_deadlock_is_named_by_threads_locks_and_sites() {
        let trace = abba();
        let state = blocked_state(&trace);
        assert_eq!(
            deadlock_finding(&trace, &state).message,
            "deadlock: thread 1 holds `a` (f.rs:10) and waits for `b` (f.rs:11); \
             thread 2 holds `b` (f.rs:20) and waits for `a` (f.rs:21)"
        );
        let f = deadlock_finding(&trace, &state);
        assert_eq!(f.kind, Kind::Deadlock);
        assert_eq!(f.severity, Severity::Error);
        assert!(f.message.starts_with("deadlock: thread 1 holds `a`"));
        let labels: Vec<(u32, &str)> = f
            .locations
            .iter()
            .map(|l| (l.line, l.label.as_str()))
            .collect();
        assert_eq!(
            labels,
            vec![
                (11, "thread 1 waits for `b` here"),
                (20, "`b` taken here by thread 2, still held"),
                (21, "thread 2 waits for `a` here"),
                (10, "`a` taken here by thread 1, still held"),
            ]
        );
        let steps = f.trace.as_ref().unwrap();
        assert_eq!(steps.len(), 4);
        assert!(steps.iter().all(|s| s.highlight));
        assert!(f.help.as_deref().unwrap().contains("one global order"));
        let agents: Vec<AgentId> = find_cycle(&state)
            .unwrap()
            .iter()
            .map(|e| state.waiters[e.waiter].agent)
            .collect();
        assert_eq!(agents, vec![AgentId(0), AgentId(1)]);
    }

    #[test]
    fn a_lost_wake_up_lists_what_each_thread_waits_for() {
        let mut trace = Trace::new();
        let t1 = trace.thread("consumer");
        let t2 = trace.thread("helper");
        let m = trace.object(ObjectKind::Mutex, "m", at(1));
        let cv = trace.object(ObjectKind::Condvar, "ready", at(2));
        let other = trace.object(ObjectKind::Mutex, "log", at(3));
        // The producer notified before the consumer waited, then finished.
        trace.push(t1, Action::LockAcquire { lock: m, mode: X }, at(10));
        trace.push(
            t1,
            Action::LockAcquire {
                lock: other,
                mode: X,
            },
            at(11),
        );
        trace.push(
            t1,
            Action::CondvarWait {
                condvar: cv,
                mutex: m,
            },
            at(12),
        );
        trace.push(
            t2,
            Action::LockRequest {
                lock: other,
                mode: X,
            },
            at(20),
        );
        let state = blocked_state(&trace);
        assert!(find_cycle(&state).is_none());
        let f = deadlock_finding(&trace, &state);
        assert_eq!(
            f.message,
            "deadlock: every thread is blocked, waiting for a notification that never comes \
             (a lost wake-up): \
             consumer waits on `ready` (f.rs:12), no thread is left to notify it; \
             helper waits for `log` (f.rs:20), held by consumer (f.rs:11)"
        );
        let lines: Vec<u32> = f.locations.iter().map(|l| l.line).collect();
        assert_eq!(lines, vec![12, 20, 11]);
        assert!(f.help.as_deref().unwrap().starts_with("a lost wake-up"));
        let lit: Vec<u32> = f
            .trace
            .as_ref()
            .unwrap()
            .iter()
            .filter(|s| s.highlight)
            .map(|s| s.line)
            .collect();
        assert_eq!(lit, vec![11, 12, 20]);
    }

    #[test]
    fn a_recursive_read_behind_a_queued_writer() {
        let mut trace = Trace::new();
        let t1 = trace.thread("thread 1");
        let t2 = trace.thread("thread 2");
        let rw = trace.object(ObjectKind::RwLock, "cache", at(1));
        trace.push(t1, Action::LockAcquire { lock: rw, mode: S }, at(10));
        trace.push(t2, Action::LockRequest { lock: rw, mode: X }, at(20));
        trace.push(t1, Action::LockRequest { lock: rw, mode: S }, at(11));
        let state = blocked_state(&trace);
        assert_eq!(
            deadlock_finding(&trace, &state).message,
            "deadlock: thread 1 holds `cache` (f.rs:10) and waits to read `cache` (f.rs:11) behind thread 2's queued write; \
             thread 2 waits to write `cache` (f.rs:20)"
        );
        let f = deadlock_finding(&trace, &state);
        assert!(f.help.as_deref().unwrap().contains("read guard"));
    }

    #[test]
    fn relocking_a_mutex_deadlocks_the_thread_alone() {
        let mut trace = Trace::new();
        let t1 = trace.thread("thread 1");
        let m = trace.object(ObjectKind::Mutex, "m", at(1));
        trace.push(t1, Action::LockAcquire { lock: m, mode: X }, at(10));
        trace.push(t1, Action::LockRequest { lock: m, mode: X }, at(11));
        let state = blocked_state(&trace);
        let f = deadlock_finding(&trace, &state);
        assert_eq!(
            f.message,
            "deadlock: thread 1 holds `m` (f.rs:10) and waits for `m` (f.rs:11)"
        );
        assert!(f.help.as_deref().unwrap().contains("lock it holds itself"));
    }

    #[test]
    fn barrier_and_resource_waits_say_who_is_missing() {
        let mut trace = Trace::new();
        let t1 = trace.thread("thread 1");
        let t2 = trace.thread("thread 2");
        let barrier = trace.object(ObjectKind::Barrier, "start", at(1));
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
                units: 1,
            },
            at(20),
        );
        let state = blocked_state(&trace);
        let text = deadlock_finding(&trace, &state).message;
        assert_eq!(
            text,
            "deadlock: every thread is blocked and none can wake another: \
             thread 1 waits at `start` (f.rs:10), the other arrivals will not come; \
             thread 2 waits for units of `pool` (f.rs:20), no thread is left to give any back"
        );
        let f = deadlock_finding(&trace, &state);
        assert!(f
            .help
            .as_deref()
            .unwrap()
            .starts_with("make sure every wait"));
    }

    #[test]
    fn a_state_built_by_hand_has_no_trace_steps() {
        let mut trace = Trace::new();
        let t1 = trace.thread("thread 1");
        let cv = trace.object(ObjectKind::Condvar, "cv", at(1));
        let state = BlockedState {
            waiters: vec![Waiter {
                agent: t1,
                waits_for: WaitsFor::Object { object: cv },
                site: at(5),
                event: None,
            }],
            holders: Vec::new(),
        };
        let f = deadlock_finding(&trace, &state);
        assert!(f.trace.is_none());
        assert_eq!(f.locations.len(), 1);
    }
}
