//! One execution of a program that drove `interlock::gpu`, checked for
//! stream races: its GPU calls replayed through the stream [`Checker`] in
//! the order they were made, with the host threads' ordering taken from
//! [`HappensBefore`].
//!
//! The checker orders GPU work against the host thread that enqueued it or
//! waited for it. Between host threads, happens-before decides: when a call
//! of thread T is replayed, T first learns, for every other thread U, what
//! U knew of the GPU (its synchronizes, its host accesses) at the last of
//! U's segments that happens-before the call. So a lock, a join, a channel
//! or a release/acquire pair that orders two threads orders their GPU
//! calls, while two read guards of one `RwLock` or a `Relaxed` flag do not,
//! exactly as they do not for a data race.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use super::checker::Checker;
use super::ops::{Op, OpKind};
use super::recorded::Recorded;
use crate::analysis::happens_before::{HappensBefore, VectorClock};
use crate::event::{Action, AgentId, ObjectId, Trace};
use crate::finding::Finding;

/// The stream races and uses after free of one execution. Empty when it
/// made no GPU call.
pub(crate) fn replay(trace: &Trace, gpu: &Recorded) -> Vec<Finding> {
    let Some(setup) = &gpu.setup else {
        return Vec::new();
    };
    if gpu.ops.is_empty() {
        return Vec::new();
    }
    let trace = sends_before_receives(trace);
    let hb = HappensBefore::compute(&trace);
    let mut checker = Checker::new(setup.clone());
    let mut known = Known::default();
    // The ops the checker accepted, in order: a finding's `ops[i]` indexes them.
    let mut fed: Vec<Op> = Vec::new();
    for (i, event) in trace.events.iter().enumerate() {
        if orders_threads(&event.action) {
            // Only shown in interleavings (the order is happens-before's);
            // its index keeps the ops' indices those of `fed`.
            let step = checker
                .setup_mut()
                .names
                .label(&trace.describe(&event.action));
            let op = Op {
                thread: event.agent.0,
                kind: OpKind::HostStep { step },
                site: Some(event.site.clone()),
                origin: None,
            };
            if checker.step(&op).is_ok() {
                fed.push(op);
            }
            continue;
        }
        let Action::Gpu { op, .. } = event.action else {
            continue;
        };
        let Some(op) = gpu.ops.get(op as usize) else {
            continue;
        };
        let thread = event.agent.0;
        for other in (0..hb.agents() as u32).filter(|&o| o != thread) {
            if let Some(clock) = known.at(other, hb.knows_of(i, AgentId(other))) {
                checker.learn(thread, clock);
            }
        }
        // An op the checker rejects (it cannot come from the handles) is
        // left out, so that indices stay those of the accepted ops.
        if checker.step(op).is_ok() {
            fed.push(op.clone());
        }
        if let Some(clock) = checker.host_clock(thread) {
            known.record(thread, hb.epoch(i).tick, clock);
        }
    }
    let mut found = checker.findings(Some(&fed));
    for finding in &mut found {
        plain_references(finding, &fed);
    }
    found
}

/// Whether an action is synchronization between host threads (what a
/// reader of an interleaving wants to see next to the GPU calls).
fn orders_threads(action: &Action) -> bool {
    matches!(
        action,
        Action::Spawn { .. }
            | Action::Join { .. }
            | Action::LockAcquire { .. }
            | Action::LockRelease { .. }
            | Action::CondvarWait { .. }
            | Action::CondvarWake { .. }
            | Action::CondvarNotify { .. }
            | Action::BarrierArrive { .. }
            | Action::BarrierDepart { .. }
            | Action::Send { .. }
            | Action::Receive { .. }
            | Action::AtomicLoad { .. }
            | Action::AtomicStore { .. }
            | Action::AtomicRmw { .. }
            | Action::Fence { .. }
            | Action::ResourceAcquire { .. }
            | Action::ResourceRelease { .. }
    )
}

/// What each host thread knew of the GPU, by happens-before segment: the
/// checker's clock of the thread after its last GPU call in the segment.
/// An entry stands for its segment and the following ones until the next
/// entry, since between its calls a thread's GPU knowledge does not change.
#[derive(Default)]
struct Known {
    by_thread: HashMap<u32, Vec<(u32, VectorClock)>>,
}

impl Known {
    fn record(&mut self, thread: u32, segment: u32, clock: &VectorClock) {
        let history = self.by_thread.entry(thread).or_default();
        match history.last_mut() {
            Some((last, kept)) if *last == segment => kept.copy_from(clock),
            _ => history.push((segment, clock.clone())),
        }
    }

    /// What `thread` knew at the end of its segment `segment`.
    fn at(&self, thread: u32, segment: u32) -> Option<&VectorClock> {
        let history = self.by_thread.get(&thread)?;
        let after = history.partition_point(|(s, _)| *s <= segment);
        after.checked_sub(1).map(|i| &history[i].1)
    }
}

/// The trace with every channel send before its receive. A receive can be
/// recorded before its send: the sender records once it has left the
/// channel's lock, and loom may run the receiver in between (nothing of the
/// sender's happens there), so moving the send up changes no other order.
fn sends_before_receives(trace: &Trace) -> Cow<'_, Trace> {
    let sends: HashMap<(ObjectId, u64), usize> = trace
        .events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e.action {
            Action::Send { channel, message } => Some(((channel, message), i)),
            _ => None,
        })
        .collect();
    let mut early: HashSet<usize> = HashSet::new();
    let mut order = Vec::with_capacity(trace.events.len());
    for (i, event) in trace.events.iter().enumerate() {
        if early.contains(&i) {
            continue;
        }
        if let Action::Receive { channel, message } = event.action {
            if let Some(&send) = sends.get(&(channel, message)).filter(|&&s| s > i) {
                early.insert(send);
                order.push(send);
            }
        }
        order.push(i);
    }
    if early.is_empty() {
        return Cow::Borrowed(trace);
    }
    Cow::Owned(Trace {
        agents: trace.agents.clone(),
        objects: trace.objects.clone(),
        events: order.into_iter().map(|i| trace.events[i].clone()).collect(),
    })
}

/// Rewrites a finding for a program rather than a trace: `ops[3], file:12`
/// becomes `line 12` (the op's index means nothing to the program's author).
fn plain_references(finding: &mut Finding, ops: &[Op]) {
    finding.message = by_line(&finding.message, ops);
    if let Some(help) = &mut finding.help {
        *help = by_line(help, ops);
    }
    for note in &mut finding.notes {
        *note = by_line(note, ops);
    }
    for location in &mut finding.locations {
        location.label = by_line(&location.label, ops);
    }
}

/// `text` with each `ops[i]` (and the `, file:line` after it) replaced by
/// the op's line.
fn by_line(text: &str, ops: &[Op]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("ops[") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 4..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let site = after[..digits]
            .parse::<usize>()
            .ok()
            .filter(|_| after[digits..].starts_with(']'))
            .and_then(|i| ops.get(i))
            .and_then(|op| op.site.as_ref());
        match site {
            Some(site) => {
                let mut tail = &after[digits + 1..];
                let place = format!(", {}:{}", site.file, site.line);
                if let Some(stripped) = tail.strip_prefix(place.as_str()) {
                    tail = stripped;
                }
                out.push_str(&format!("line {}", site.line));
                rest = tail;
            }
            None => {
                out.push_str("ops[");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::streams::{DefaultStream, OpKind, Setup, Space};
    use crate::event::{LockMode, ObjectKind, Site};
    use crate::finding::Kind;

    /// A loader thread fills a pinned buffer on its stream, synchronizes and
    /// releases a lock in `mode`; the main thread takes it in `mode` and
    /// reads the buffer on the host.
    fn handed_over(mode: LockMode) -> Vec<Finding> {
        let mut trace = Trace::new();
        let main = trace.thread("main");
        let loader = trace.thread("loader");
        let lock = trace.object(ObjectKind::RwLock, "settings", Site::new("r.rs", 1, 1));
        let mut setup = Setup::new(DefaultStream::Legacy);
        let side = setup.stream(1, false);
        let x = setup.names.buffer("x");
        let fill = setup.names.label("fill");
        let mut gpu = Recorded {
            setup: Some(setup),
            ..Recorded::default()
        };
        let mut call = |trace: &mut Trace, agent: AgentId, kind: OpKind, line: u32| {
            let site = Site::new("r.rs", line, 1);
            let op = gpu.ops.len() as u32;
            gpu.ops.push(Op {
                thread: agent.0,
                kind,
                site: Some(site.clone()),
                origin: None,
            });
            let call = String::new();
            trace.push(agent, Action::Gpu { op, call }, site);
        };
        let at = |line| Site::new("r.rs", line, 1);
        call(
            &mut trace,
            main,
            OpKind::Alloc {
                buffer: x,
                space: Space::Pinned,
                stream: None,
            },
            2,
        );
        trace.push(main, Action::Spawn { child: loader }, at(3));
        trace.push(loader, Action::LockAcquire { lock, mode }, at(4));
        let writes = vec![x];
        let kernel = OpKind::Kernel {
            stream: side,
            name: fill,
            reads: vec![],
            writes,
        };
        call(&mut trace, loader, kernel, 5);
        call(&mut trace, loader, OpKind::StreamSync { stream: side }, 6);
        trace.push(loader, Action::LockRelease { lock, mode }, at(7));
        trace.push(main, Action::LockAcquire { lock, mode }, at(8));
        call(&mut trace, main, OpKind::HostRead { buffer: x }, 9);
        replay(&trace, &gpu)
    }

    #[test]
    fn a_write_lock_hands_a_synchronize_over_and_a_read_lock_does_not() {
        assert!(handed_over(LockMode::Exclusive).is_empty());
        let found = handed_over(LockMode::Shared);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, Kind::StreamRace);
        let lines: Vec<u32> = found[0].locations.iter().map(|l| l.line).collect();
        assert_eq!(lines, [5, 9]);
        assert!(
            found[0].message.contains("(line 5)"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn history_answers_with_the_last_entry_at_or_before_a_segment() {
        let mut known = Known::default();
        let clock = |t: u32| VectorClock::from_ticks(vec![t]);
        known.record(1, 2, &clock(10));
        known.record(1, 2, &clock(11));
        known.record(1, 5, &clock(20));
        assert!(known.at(1, 1).is_none());
        assert_eq!(known.at(1, 2), Some(&clock(11)));
        assert_eq!(known.at(1, 4), Some(&clock(11)));
        assert_eq!(known.at(1, 9), Some(&clock(20)));
        assert!(known.at(2, 9).is_none());
    }
}
