//! Atomicity violations: a thread reads a location, another thread writes
//! it, and the first thread then writes it back, acting on what it read.
//! That is a lost update (`load` then `store`) or a check-then-act across
//! two critical sections, and it is a bug even when no assertion notices.
//!
//! The check is one pass over the trace. For every thread and location it
//! remembers the thread's last access; a write whose previous access by the
//! same thread was a read, with another thread's write in between, is
//! reported. Read-modify-writes (`fetch_add`, a successful
//! `compare_exchange`) are atomic: they are the fix, never the bug.

use std::collections::HashMap;

use super::happens_before::trace_steps;
use crate::event::{Action, AgentId, ObjectId, Trace};
use crate::finding::{Finding, Kind};

#[derive(Clone, Copy)]
enum Access {
    /// A plain read (a load, a `Deref` of a guard, a cell read) at this event,
    /// which saw the value of the write at `read_from` (`None`: the initial
    /// value), as far as the trace tells.
    Read { at: usize, read_from: Option<usize> },
    /// A write or an atomic read-modify-write.
    Write,
}

/// How an event touches a location, if it does: (location, reads, writes, value).
fn access(action: &Action) -> Option<(ObjectId, bool, bool, Option<u64>)> {
    match action {
        Action::AtomicLoad { atomic, value, .. } => Some((*atomic, true, false, *value)),
        Action::AtomicStore { atomic, value, .. } => Some((*atomic, false, true, *value)),
        Action::AtomicRmw { atomic, .. } => Some((*atomic, true, true, None)),
        Action::Read { cell } => Some((*cell, true, false, None)),
        Action::Write { cell } => Some((*cell, false, true, None)),
        _ => None,
    }
}

/// A write to a location: where, by whom, and the value stored when known.
struct Write {
    at: usize,
    agent: AgentId,
    value: Option<u64>,
}

pub fn atomicity_violations(trace: &Trace) -> Vec<Finding> {
    let mut last: HashMap<(AgentId, ObjectId), Access> = HashMap::new();
    let mut writes: HashMap<ObjectId, Vec<Write>> = HashMap::new();
    let mut findings = Vec::new();
    for (index, event) in trace.events.iter().enumerate() {
        let Some((location, reads, stores, value)) = access(&event.action) else {
            continue;
        };
        let agent = event.agent;
        let history = writes.entry(location).or_default();
        if stores && !reads {
            if let Some(Access::Read { at, read_from }) = last.get(&(agent, location)) {
                // Another thread's write that the read did not see: after
                // the write it read from, before this write.
                let lost = history
                    .iter()
                    .rev()
                    .take_while(|w| read_from.is_none_or(|from| w.at > from))
                    .find(|w| w.agent != agent);
                if let Some(lost) = lost {
                    findings.push(violation(trace, *at, lost.at, index));
                }
            }
        }
        let now = if stores {
            Access::Write
        } else {
            // A load whose value the trace records read the latest write of
            // that value (a weak load may see an older one); other reads are
            // taken to see the latest write.
            let read_from = match value {
                Some(v) => history
                    .iter()
                    .rev()
                    .find(|w| w.value == Some(v))
                    .map(|w| w.at),
                None => history.last().map(|w| w.at),
            };
            // (A value no write stored is the initial one: `None`.)
            Access::Read {
                at: index,
                read_from,
            }
        };
        last.insert((agent, location), now);
        if stores {
            history.push(Write {
                at: index,
                agent,
                value,
            });
        }
    }
    findings
}

fn violation(trace: &Trace, read: usize, between: usize, write: usize) -> Finding {
    let (r, b, w) = (
        &trace.events[read],
        &trace.events[between],
        &trace.events[write],
    );
    let location = match access(&w.action) {
        Some((id, _, _, _)) => trace.object_name(id).to_string(),
        None => "?".to_string(),
    };
    let (who, other) = (trace.agent_name(r.agent), trace.agent_name(b.agent));
    let atomic = matches!(w.action, Action::AtomicStore { .. });
    let help = if atomic {
        "make the read and the write one atomic step: `fetch_add`/`fetch_sub`, `fetch_update` or a `compare_exchange` loop"
    } else {
        "do the read and the write in one critical section: hold the lock from the check to the act"
    };
    Finding::new(
        Kind::AtomicityViolation,
        format!(
            "{who} reads `{location}`, {other} writes it, then {who} writes it without reading it again: what {who} writes rests on a stale read, and {other}'s update can be lost"
        ),
    )
    .at(&w.site, format!("{who} writes `{location}` from a stale read"))
    .at(&r.site, format!("{who} reads `{location}`"))
    .at(&b.site, format!("{other} writes `{location}` in between"))
    .with_trace(trace_steps(trace, &[read, between, write]))
    .with_help(help)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{MemoryOrder, ObjectKind, Site};

    fn site(line: u32) -> Site {
        Site::new("t.rs", line, 5)
    }

    fn load(atomic: ObjectId) -> Action {
        Action::AtomicLoad {
            atomic,
            order: MemoryOrder::SeqCst,
            value: None,
        }
    }

    fn store(atomic: ObjectId) -> Action {
        Action::AtomicStore {
            atomic,
            order: MemoryOrder::SeqCst,
            value: None,
        }
    }

    #[test]
    fn load_then_store_with_a_write_between_is_a_lost_update() {
        let mut t = Trace::new();
        let (a, b) = (t.thread("main"), t.thread("thread 1"));
        let x = t.object(ObjectKind::Atomic, "counter", site(1));
        t.push(a, load(x), site(10));
        t.push(b, load(x), site(10));
        t.push(b, store(x), site(11));
        t.push(a, store(x), site(11));
        let found = atomicity_violations(&t);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.kind, Kind::AtomicityViolation);
        assert_eq!(f.locations[0].line, 11);
        assert_eq!(f.locations[1].line, 10);
        assert!(f.message.contains("`counter`"));
    }

    #[test]
    fn load_then_store_without_interference_is_clean() {
        let mut t = Trace::new();
        let (a, b) = (t.thread("main"), t.thread("thread 1"));
        let x = t.object(ObjectKind::Atomic, "counter", site(1));
        t.push(a, load(x), site(10));
        t.push(a, store(x), site(11));
        t.push(b, load(x), site(10));
        t.push(b, store(x), site(11));
        assert!(atomicity_violations(&t).is_empty());
    }

    #[test]
    fn read_modify_writes_are_never_the_bug() {
        let mut t = Trace::new();
        let (a, b) = (t.thread("main"), t.thread("thread 1"));
        let x = t.object(ObjectKind::Atomic, "counter", site(1));
        let rmw = |atomic| Action::AtomicRmw {
            atomic,
            order: MemoryOrder::SeqCst,
        };
        t.push(a, load(x), site(9));
        t.push(b, rmw(x), site(10));
        t.push(a, rmw(x), site(10));
        assert!(atomicity_violations(&t).is_empty());
    }

    #[test]
    fn check_then_act_across_two_critical_sections() {
        let mut t = Trace::new();
        let (a, b) = (t.thread("main"), t.thread("thread 1"));
        let data = t.object(ObjectKind::Cell, "seats", site(1));
        t.push(a, Action::Read { cell: data }, site(20));
        t.push(b, Action::Read { cell: data }, site(20));
        t.push(b, Action::Write { cell: data }, site(21));
        t.push(a, Action::Write { cell: data }, site(21));
        assert_eq!(atomicity_violations(&t).len(), 1);
    }
}

#[cfg(test)]
mod stale_reads {
    use super::*;
    use crate::event::{MemoryOrder, ObjectKind, Site};

    /// Two threads each load the counter and store a value: thread 1 loads
    /// 0 and stores 1, then thread 2 loads `seen` and stores `stored`.
    fn two_increments(seen: u64, stored: u64) -> Trace {
        let mut t = Trace::new();
        let (a, b) = (t.thread("thread 1"), t.thread("thread 2"));
        let x = t.object(ObjectKind::Atomic, "counter", Site::new("t.rs", 1, 1));
        let site = |l| Site::new("t.rs", l, 5);
        let load = |v| Action::AtomicLoad {
            atomic: x,
            order: MemoryOrder::SeqCst,
            value: Some(v),
        };
        let store = |v| Action::AtomicStore {
            atomic: x,
            order: MemoryOrder::SeqCst,
            value: Some(v),
        };
        t.push(a, load(0), site(10));
        t.push(a, store(1), site(11));
        t.push(b, load(seen), site(10));
        t.push(b, store(stored), site(11));
        t
    }

    #[test]
    fn a_load_that_saw_an_older_value_loses_the_newer_write() {
        // thread 2's load still sees the initial 0 (not ordered by
        // happens-before) and stores 1: thread 1's increment is lost.
        let found = atomicity_violations(&two_increments(0, 1));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.starts_with("thread 2 reads"));
    }

    #[test]
    fn a_load_that_saw_the_latest_value_is_clean() {
        assert!(atomicity_violations(&two_increments(1, 2)).is_empty());
    }
}
