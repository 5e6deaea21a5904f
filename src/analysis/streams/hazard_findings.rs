//! Hazards as findings: both operations (stream, name, op index and source
//! line), the synchronization that would order them, notes on the semantics
//! that left them unordered, and the interleaving of the ops involved.

use std::collections::HashMap;
use std::ops::Range;

use super::checker::{Access, AccessKind, Checker, Hazard, HazardKind, Role};
use super::ops::{DefaultStream, Op, OpKind, StreamId};
use crate::event::{AgentId, Site};
use crate::finding::{Finding, Kind, Location, TraceStep};

/// At most this many steps in a finding's interleaving.
pub const MAX_STEPS: usize = 24;

/// How far back an explanation looks for the event records and waits that
/// explain a missing order.
pub(crate) const SCAN_LIMIT: usize = 100_000;

/// The ops a finding can name, by their index in the sequence the checker
/// was given: all of them (a slice), or those a reader kept of a trace too
/// long to hold (the ops of each hazard and a window before it).
pub trait OpLog {
    /// The op at `index`, when it was kept.
    fn op(&self, index: usize) -> Option<&Op>;
    /// The kept ops with an index in `range`, in order.
    fn ops_in(&self, range: Range<usize>) -> Vec<(usize, &Op)>;
}

/// Every op, as given to the checker.
pub(crate) struct AllOps<'a>(pub(crate) &'a [Op]);

impl OpLog for AllOps<'_> {
    fn op(&self, index: usize) -> Option<&Op> {
        self.0.get(index)
    }

    fn ops_in(&self, range: Range<usize>) -> Vec<(usize, &Op)> {
        let end = range.end.min(self.0.len());
        let start = range.start.min(end);
        (start..end).zip(&self.0[start..end]).collect()
    }
}

/// The findings of a checker's hazards. `ops` are the ops it was given (in
/// order), for names, locations and the interleaving; without them, ops are
/// named by index only.
pub(crate) fn findings(checker: &Checker, ops: Option<&dyn OpLog>) -> Vec<Finding> {
    let ex = Explainer { checker, ops };
    // Hazards between the same two ops (one kernel racing with another on
    // several buffers) make one finding.
    let mut groups: Vec<Vec<&Hazard>> = Vec::new();
    let mut by_pair: HashMap<(HazardKind, usize, usize), usize> = HashMap::new();
    for h in checker.hazards() {
        let key = (h.kind, h.earlier.op, h.later.op);
        match by_pair.get(&key) {
            Some(&g) => groups[g].push(h),
            None => {
                by_pair.insert(key, groups.len());
                groups.push(vec![h]);
            }
        }
    }
    let mut out: Vec<Finding> = groups.iter().map(|g| ex.finding(g)).collect();
    if checker.dropped() > 0 {
        if let Some(last) = out.last_mut() {
            last.notes.push(format!(
                "{} more hazards were found and not reported (at most {} are kept)",
                checker.dropped(),
                super::checker::MAX_HAZARDS
            ));
        }
    }
    out
}

struct Explainer<'a> {
    checker: &'a Checker,
    ops: Option<&'a dyn OpLog>,
}

fn quoted_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn verb(kind: AccessKind) -> &'static str {
    match kind {
        AccessKind::Read => "reads",
        AccessKind::Write => "writes",
        AccessKind::Alloc => "allocates",
        AccessKind::Free => "frees",
    }
}

fn participle(kind: AccessKind) -> &'static str {
    match kind {
        AccessKind::Read => "read",
        AccessKind::Write => "written",
        AccessKind::Alloc => "allocated",
        AccessKind::Free => "freed",
    }
}

fn gerund(kind: AccessKind) -> &'static str {
    match kind {
        AccessKind::Read => "reading",
        AccessKind::Write => "writing",
        AccessKind::Alloc | AccessKind::Free => "using",
    }
}

impl Explainer<'_> {
    fn op(&self, index: usize) -> Option<&Op> {
        self.ops.and_then(|ops| ops.op(index))
    }

    fn is_host(&self, agent: AgentId) -> bool {
        matches!(self.checker.role(agent), Some(Role::Host { .. }))
    }

    fn agent(&self, agent: AgentId) -> &str {
        self.checker.agent_name(agent)
    }

    /// "the host" / "host thread 2" / "stream 1".
    fn subject(&self, agent: AgentId) -> String {
        let name = self.agent(agent);
        if name == "host" {
            "the host".into()
        } else {
            name.into()
        }
    }

    /// What the op is: "kernel `produce`", "async memcpy", "host read".
    fn what(&self, index: usize) -> String {
        let names = &self.checker.setup().names;
        let Some(op) = self.op(index) else {
            return format!("op {index}");
        };
        match &op.kind {
            OpKind::Kernel { name, .. } => format!("kernel `{}`", names.label_name(*name)),
            OpKind::HostFn { name, .. } => format!("host function `{}`", names.label_name(*name)),
            OpKind::Memcpy { is_async, .. } | OpKind::Memset { is_async, .. } => format!(
                "{}{}",
                if *is_async { "async " } else { "" },
                op.kind.name()
            ),
            OpKind::HostRead { .. } => "host read".into(),
            OpKind::HostWrite { .. } => "host write".into(),
            OpKind::Alloc { buffer, .. } => format!("alloc of `{}`", names.buffer_name(*buffer)),
            OpKind::Free { buffer, .. } => format!("free of `{}`", names.buffer_name(*buffer)),
            other => other.name().to_string(),
        }
    }

    /// "ops[3]" or "ops[3], train.py:12".
    fn refer(&self, index: usize) -> String {
        match self.op(index).and_then(|op| op.site.as_ref()) {
            Some(site) if site.file.is_empty() && site.line > 0 => {
                format!("ops[{index}], line {}", site.line)
            }
            Some(site) if site.line > 0 => format!("ops[{index}], {}:{}", site.file, site.line),
            _ => format!("ops[{index}]"),
        }
    }

    /// Where a location for the op points: its source, else its place in the trace.
    fn site(&self, index: usize) -> Site {
        let Some(op) = self.op(index) else {
            return Site::unknown();
        };
        match (&op.site, &op.origin) {
            (Some(site), _) if !site.file.is_empty() && site.line > 0 => site.clone(),
            (_, Some(origin)) => origin.clone(),
            _ => Site::unknown(),
        }
    }

    /// "kernel `produce` on stream 1 writes it (ops[1])" / "the host reads it (ops[4])".
    fn clause(&self, a: &Access) -> String {
        let subject = self.subject(a.agent);
        if self.is_host(a.agent) {
            let plain = self.op(a.op).is_some_and(|op| {
                matches!(
                    op.kind,
                    OpKind::HostRead { .. } | OpKind::HostWrite { .. } | OpKind::Free { .. }
                )
            });
            if plain || self.op(a.op).is_none() {
                format!("{subject} {} it ({})", verb(a.kind), self.refer(a.op))
            } else {
                format!(
                    "{subject} {} it for the {} ({})",
                    verb(a.kind),
                    self.what(a.op),
                    self.refer(a.op)
                )
            }
        } else {
            format!(
                "{} on {subject} {} it ({})",
                self.what(a.op),
                verb(a.kind),
                self.refer(a.op)
            )
        }
    }

    /// "`x` written by kernel `produce` on stream 1 (ops[1])".
    fn label(&self, buffers: &str, a: &Access) -> String {
        if self.is_host(a.agent) {
            format!(
                "{buffers} {} by {} ({})",
                participle(a.kind),
                self.subject(a.agent),
                self.refer(a.op)
            )
        } else {
            format!(
                "{buffers} {} by {} on {} ({})",
                participle(a.kind),
                self.what(a.op),
                self.agent(a.agent),
                self.refer(a.op)
            )
        }
    }

    fn finding(&self, group: &[&Hazard]) -> Finding {
        // Name the strongest pair: a write over a read.
        let h = group
            .iter()
            .copied()
            .max_by_key(|h| {
                (
                    h.later.kind == AccessKind::Write,
                    h.earlier.kind == AccessKind::Write,
                )
            })
            .unwrap_or(group[0]);
        let names = &self.checker.setup().names;
        let mut buffers: Vec<String> = Vec::new();
        for g in group {
            let name = names.buffer_name(g.buffer).to_string();
            if !buffers.contains(&name) {
                buffers.push(name);
            }
        }
        let list = quoted_list(&buffers);
        let it = if buffers.len() == 1 { "it" } else { "them" };
        let (e, l) = (&h.earlier, &h.later);
        let mut finding = match h.kind {
            HazardKind::Race => self.race(&list, e, l),
            HazardKind::FreeWhileInUse => self.free_while_in_use(&list, h),
            HazardKind::UseAfterFree => self.use_after_free(&list, e, l),
        };
        if buffers.len() > 1 {
            finding.message = finding.message.replace(" it ", &format!(" {it} "));
        }
        let mut highlight = vec![e.op, l.op];
        if let Some(reuse) = h.reuse {
            highlight.push(reuse);
        }
        if let Some(steps) = self.steps(&[e.agent, l.agent], &highlight) {
            finding = finding.with_trace(steps);
        }
        finding
    }

    fn race(&self, list: &str, e: &Access, l: &Access) -> Finding {
        let both_host = self.is_host(e.agent) && self.is_host(l.agent);
        let kind = if both_host {
            Kind::DataRace
        } else {
            Kind::StreamRace
        };
        let title = if both_host {
            "data race"
        } else {
            "stream race"
        };
        let message = format!(
            "{title} on {list}: {} and {}, and nothing orders the two",
            self.clause(e),
            self.clause(l)
        );
        let mut finding = Finding::new(kind, message)
            .with_location(Location::new(&self.site(e.op), self.label(list, e)))
            .with_location(Location::new(
                &self.site(l.op),
                format!("{}, unordered with ops[{}]", self.label(list, l), e.op),
            ))
            .with_help(self.order_help(list, e, l));
        for note in self.notes(e, l) {
            finding = finding.with_note(note);
        }
        finding
    }

    /// The synchronization that would order `e` before `l`.
    fn order_help(&self, list: &str, e: &Access, l: &Access) -> String {
        let (a, b) = (self.agent(e.agent), self.agent(l.agent));
        match (self.is_host(e.agent), self.is_host(l.agent)) {
            (false, false) if e.kind == AccessKind::Alloc => format!(
                "make {b} wait for {a} after the stream-ordered allocation of {list} ({}): \
                 record an event on {a} after it and make {b} wait on it before {} ({}), \
                 or allocate on {b}",
                self.refer(e.op),
                self.what(l.op),
                self.refer(l.op)
            ),
            (false, false) => format!(
                "record an event on {a} after {} ({}) and make {b} wait on it before {} ({})",
                self.what(e.op),
                self.refer(e.op),
                self.what(l.op),
                self.refer(l.op)
            ),
            (false, true) => format!(
                "synchronize {a} (or an event recorded on it after {}, {}) before {} {} {list} ({})",
                self.what(e.op),
                self.refer(e.op),
                self.subject(l.agent),
                match l.kind {
                    AccessKind::Read => "reads",
                    AccessKind::Free => "frees",
                    _ => "writes",
                },
                self.refer(l.op)
            ),
            (true, false) => format!(
                "order {}'s access to {list} ({}) before the call that enqueues {} on {b} ({}): \
                 make that call from {} after the access, or order the host threads \
                 (a lock around both, a join)",
                self.subject(e.agent),
                self.refer(e.op),
                self.what(l.op),
                self.refer(l.op),
                self.subject(e.agent)
            ),
            (true, true) => format!(
                "hold one lock around both accesses to {list}, or order the two host threads \
                 (join, a lock, a synchronize both wait for)"
            ),
        }
    }

    fn free_while_in_use(&self, list: &str, h: &Hazard) -> Finding {
        let (u, f) = (&h.earlier, &h.later);
        let freer = self.subject(f.agent);
        let user = if self.is_host(u.agent) {
            self.subject(u.agent)
        } else {
            format!("{} on {}", self.what(u.op), self.agent(u.agent))
        };
        let mut message = if self.is_host(f.agent) {
            format!(
                "{freer} frees {list} ({}) while {user} ({}) may still be {} it",
                self.refer(f.op),
                self.refer(u.op),
                gerund(u.kind)
            )
        } else {
            format!(
                "{list} is freed on {freer} ({}) while {user} ({}) may still be {} it",
                self.refer(f.op),
                self.refer(u.op),
                gerund(u.kind)
            )
        };
        let reuse_name = h.reuse.and_then(|r| match self.op(r).map(|op| &op.kind) {
            Some(OpKind::Alloc { buffer, .. }) => {
                Some(self.checker.setup().names.buffer_name(*buffer).to_string())
            }
            _ => None,
        });
        if let Some(r) = h.reuse {
            message.push_str(&format!(
                "; the next allocation on {freer} ({}{}) may be given its memory",
                reuse_name
                    .as_ref()
                    .map_or(String::new(), |n| format!("`{n}`, ")),
                self.refer(r)
            ));
        }
        let (a, b) = (self.agent(u.agent), self.agent(f.agent));
        let help = match (self.is_host(u.agent), self.is_host(f.agent)) {
            (false, false) => format!(
                "call `{}.record_stream(<{a}>)` before the free (PyTorch), or record an event \
                 on {a} after {} ({}) and make {b} wait on it before the free ({})",
                list.trim_matches('`'),
                self.what(u.op),
                self.refer(u.op),
                self.refer(f.op)
            ),
            (false, true) => format!(
                "synchronize {a} (or the device, or an event recorded on {a} after {}) \
                 before {freer} frees {list} ({})",
                self.refer(u.op),
                self.refer(f.op)
            ),
            (true, _) => format!(
                "order {}'s use of {list} ({}) before the free ({}): free it from the same \
                 thread after the use, or order the threads (a lock, a join)",
                self.subject(u.agent),
                self.refer(u.op),
                self.refer(f.op)
            ),
        };
        let mut finding = Finding::new(Kind::StreamUseAfterFree, message)
            .with_location(Location::new(
                &self.site(f.op),
                if self.is_host(f.agent) {
                    format!("{list} freed by {freer} ({})", self.refer(f.op))
                } else {
                    format!("{list} freed on {b} ({})", self.refer(f.op))
                },
            ))
            .with_location(Location::new(
                &self.site(u.op),
                format!("{}, not ordered before the free", self.label(list, u)),
            ));
        if let Some(r) = h.reuse {
            finding = finding.with_location(Location::new(
                &self.site(r),
                format!(
                    "{} allocated on {b} ({}): may reuse the memory of {list}",
                    reuse_name.map_or("a buffer".to_string(), |n| format!("`{n}`")),
                    self.refer(r)
                ),
            ));
        }
        if self.is_host(f.agent) && !self.checker.setup().free_synchronizes {
            finding = finding.with_note(
                "a `free` without a stream is checked strictly: it orders nothing by itself. \
                 cudaFree usually synchronizes the device in practice; \
                 `interlock gpu --lenient` assumes it does",
            );
        }
        for note in self.notes(u, f) {
            finding = finding.with_note(note);
        }
        finding.with_help(help)
    }

    fn use_after_free(&self, list: &str, free: &Access, u: &Access) -> Finding {
        let message = if u.kind == AccessKind::Free {
            format!(
                "{list} is freed again ({}) after it was freed ({})",
                self.refer(u.op),
                self.refer(free.op)
            )
        } else {
            format!(
                "{} after it was freed ({})",
                self.clause(u).replacen(" it ", &format!(" {list} "), 1),
                self.refer(free.op)
            )
        };
        Finding::new(Kind::StreamUseAfterFree, message)
            .with_location(Location::new(
                &self.site(u.op),
                format!("{}, after the free", self.label(list, u)),
            ))
            .with_location(Location::new(
                &self.site(free.op),
                format!("{list} freed here ({})", self.refer(free.op)),
            ))
            .with_help(format!(
                "free {list} only after its last use, or allocate it again before this use"
            ))
    }

    /// Notes on the semantics that left `e` and `l` unordered.
    fn notes(&self, e: &Access, l: &Access) -> Vec<String> {
        let mut notes = Vec::new();
        let setup = self.checker.setup();
        let stream_of = |agent: AgentId| match self.checker.role(agent) {
            Some(Role::Stream { stream, thread }) => Some((stream, thread)),
            _ => None,
        };
        let (se, sl) = (stream_of(e.agent), stream_of(l.agent));
        if let (Some((s1, _)), Some((s2, _))) = (se, sl) {
            if setup.default_stream == DefaultStream::Legacy {
                let pairs = [(s1, s2, e.agent, l.agent), (s2, s1, l.agent, e.agent)];
                for (def, other, def_agent, other_agent) in pairs {
                    if def == StreamId::DEFAULT && other != def && !self.checker.is_blocking(other)
                    {
                        notes.push(format!(
                            "{} was created non-blocking: the legacy default stream ({}) does \
                             not synchronize with it (a blocking stream would be ordered here)",
                            self.agent(other_agent),
                            self.agent(def_agent)
                        ));
                    }
                }
            } else {
                let pairs = [(s1, s2, e.agent, l.agent), (s2, s1, l.agent, e.agent)];
                for (def, other, def_agent, other_agent) in pairs {
                    if def == StreamId::DEFAULT && other != def {
                        notes.push(format!(
                            "the default stream is per-thread: {} is an ordinary stream that does \
                             not synchronize with {} (the legacy default stream would, for a \
                             blocking stream)",
                            self.agent(def_agent),
                            self.agent(other_agent)
                        ));
                    }
                }
            }
            if let Some(note) = self.event_note(e, l) {
                notes.push(note);
            }
        }
        if se.is_some() && sl.is_none() {
            if let Some(note) = self.other_thread_sync_note(e, l) {
                notes.push(note);
            }
            if let Some(op) = self.op(e.op) {
                if let OpKind::Memcpy { is_async: true, .. }
                | OpKind::Memset { is_async: true, .. } = op.kind
                {
                    notes.push(match (e.kind, l.kind) {
                        (AccessKind::Read, _) => format!(
                            "the {} reads its source after the call has returned (pinned memory \
                             is read by the GPU, not staged): until it has run, the host must not \
                             write it",
                            self.what(e.op)
                        ),
                        _ => format!(
                            "the {} returns before it runs: only a synchronize tells the host it \
                             has finished",
                            self.what(e.op)
                        ),
                    });
                }
            }
        }
        notes
    }

    /// A synchronize that another host thread made between the two ops:
    /// it orders that thread only.
    fn other_thread_sync_note(&self, e: &Access, l: &Access) -> Option<String> {
        let ops = self.ops?;
        let start = e.op.max(l.op.saturating_sub(SCAN_LIMIT));
        let (w, sync) = ops.ops_in(start + 1..l.op).into_iter().find(|(_, op)| {
            is_host_sync(&op.kind)
                && self.checker.host_agent_of(op.thread) != Some(l.agent)
                && match op.kind {
                    OpKind::StreamSync { stream } | OpKind::StreamQuery { stream, .. } => {
                        self.checker.stream_agent_of(stream, op.thread) == Some(e.agent)
                    }
                    _ => true,
                }
        })?;
        let other = self.checker.host_agent_of(sync.thread)?;
        Some(format!(
            "{} waits for the GPU at {} ({}), but a synchronize orders only the thread that \
             calls it: order {} after it (a lock both take, a join)",
            self.agent(other),
            self.refer(w),
            self.action(sync),
            self.subject(l.agent)
        ))
    }

    /// Why an event between the two streams did not order them: the wait
    /// came before the record that follows `e` (never recorded yet, or
    /// bound to an older record).
    fn event_note(&self, e: &Access, l: &Access) -> Option<String> {
        let ops = self.ops?;
        let start = e.op.max(l.op.saturating_sub(SCAN_LIMIT));
        let agent_of = |op: &Op| self.checker.agent_of(op);
        let between = ops.ops_in(start + 1..l.op);
        for (at, &(w, wait)) in between.iter().enumerate() {
            let OpKind::StreamWaitEvent { event, .. } = wait.kind else {
                continue;
            };
            if agent_of(wait) != Some(l.agent) {
                continue;
            }
            // A record of the event on e's stream after e, but after the wait.
            let later_record = between[at + 1..].iter().find(|(_, op)| {
                matches!(op.kind, OpKind::EventRecord { event: x, .. } if x == event)
                    && agent_of(op) == Some(e.agent)
            });
            let Some(&(r, _)) = later_record else {
                continue;
            };
            let name = self.checker.setup().names.event_name(event);
            let earlier_record = ops
                .ops_in(w.saturating_sub(SCAN_LIMIT)..w)
                .into_iter()
                .rev()
                .find(
                    |(_, op)| matches!(op.kind, OpKind::EventRecord { event: x, .. } if x == event),
                )
                .map(|(p, _)| p);
            let bound = match earlier_record {
                None => format!("`{name}` had not been recorded yet, so the wait orders nothing"),
                Some(p) => format!(
                    "the wait is bound to the earlier record ({}), which comes before {}",
                    self.refer(p),
                    self.what(e.op)
                ),
            };
            return Some(format!(
                "{} waits on `{name}` ({}) before `{name}` is recorded after {} ({}): a wait \
                 binds to the latest record at the time of the call; {bound}. Record first, \
                 then wait",
                self.agent(l.agent),
                self.refer(w),
                self.what(e.op),
                self.refer(r)
            ));
        }
        None
    }

    /// The ops of the agents involved, from the first highlighted op to the
    /// last, trimmed to [`MAX_STEPS`] (highlighted and synchronizing ops kept first).
    fn steps(&self, agents: &[AgentId], highlight: &[usize]) -> Option<Vec<TraceStep>> {
        let ops = self.ops?;
        let first = *highlight.iter().min()?;
        let last = *highlight.iter().max()?;
        let window = first.max(last.saturating_sub(SCAN_LIMIT));
        let kept = ops.ops_in(window..last + 1);
        if kept.is_empty() {
            return None;
        }
        let mut chosen: Vec<(u8, usize, usize)> = Vec::new();
        for &(i, op) in &kept {
            let Some(agent) = self.checker.agent_of(op) else {
                continue;
            };
            // Host-side synchronizes by any thread explain what was and was not ordered.
            let host_sync = is_host_sync(&op.kind) && agents.iter().any(|&a| self.is_host(a));
            if !agents.contains(&agent) && !highlight.contains(&i) && !host_sync {
                continue;
            }
            let rank = if highlight.contains(&i) {
                0
            } else if op.kind.is_sync() {
                1
            } else {
                2
            };
            let distance = highlight.iter().map(|&h| h.abs_diff(i)).min().unwrap_or(0);
            chosen.push((rank, distance, i));
        }
        chosen.sort_unstable();
        chosen.truncate(MAX_STEPS);
        let mut indices: Vec<usize> = chosen.into_iter().map(|(_, _, i)| i).collect();
        indices.sort_unstable();
        Some(
            indices
                .into_iter()
                .filter_map(|i| Some((i, ops.op(i)?)))
                .map(|(i, op)| {
                    let agent = self
                        .checker
                        .agent_of(op)
                        .map_or("?".to_string(), |a| self.agent(a).to_string());
                    let step = TraceStep::new(agent, self.action(op), &self.site(i));
                    if highlight.contains(&i) {
                        step.highlighted()
                    } else {
                        step
                    }
                })
                .collect(),
        )
    }

    /// An op as a step of an interleaving: "kernel `produce` writes `x`".
    fn action(&self, op: &Op) -> String {
        let names = &self.checker.setup().names;
        let list = |ids: &[super::ops::BufferId]| {
            quoted_list(
                &ids.iter()
                    .map(|&b| names.buffer_name(b).to_string())
                    .collect::<Vec<_>>(),
            )
        };
        let stream_name = |s: StreamId| {
            self.checker.stream_agent_of(s, op.thread).map_or_else(
                || format!("stream index {}", s.0),
                |a| self.agent(a).to_string(),
            )
        };
        let event = |e| format!("`{}`", names.event_name(e));
        let buffer = |b| format!("`{}`", names.buffer_name(b));
        match &op.kind {
            OpKind::Kernel {
                name,
                reads,
                writes,
                ..
            }
            | OpKind::HostFn {
                name,
                reads,
                writes,
                ..
            } => {
                let mut text = format!(
                    "{} `{}`",
                    if matches!(op.kind, OpKind::Kernel { .. }) {
                        "kernel"
                    } else {
                        "host function"
                    },
                    names.label_name(*name)
                );
                if !reads.is_empty() {
                    text.push_str(&format!(" reads {}", list(reads)));
                }
                if !writes.is_empty() {
                    if !reads.is_empty() {
                        text.push(',');
                    }
                    text.push_str(&format!(" writes {}", list(writes)));
                }
                text
            }
            OpKind::Memcpy {
                src, dst, is_async, ..
            } => format!(
                "{}memcpy {} → {}",
                if *is_async { "async " } else { "" },
                buffer(*src),
                buffer(*dst)
            ),
            OpKind::Memset { dst, is_async, .. } => format!(
                "{}memset {}",
                if *is_async { "async " } else { "" },
                buffer(*dst)
            ),
            OpKind::Alloc {
                buffer: b, space, ..
            } => format!("alloc {} ({})", buffer(*b), space.as_str()),
            OpKind::Free { buffer: b, .. } => format!("free {}", buffer(*b)),
            OpKind::EventRecord { event: e, .. } => format!("record {}", event(*e)),
            OpKind::StreamWaitEvent { event: e, .. } => format!("wait on {}", event(*e)),
            OpKind::EventSync { event: e } => format!("synchronize {}", event(*e)),
            OpKind::EventQuery { event: e, ready } => format!(
                "query {}: {}",
                event(*e),
                if *ready { "ready" } else { "not ready" }
            ),
            OpKind::StreamSync { stream } => format!("synchronize {}", stream_name(*stream)),
            OpKind::StreamQuery { stream, ready } => format!(
                "query {}: {}",
                stream_name(*stream),
                if *ready { "ready" } else { "not ready" }
            ),
            OpKind::DeviceSync => "synchronize the device".into(),
            OpKind::HostRead { buffer: b } => format!("read {}", buffer(*b)),
            OpKind::HostWrite { buffer: b } => format!("write {}", buffer(*b)),
            OpKind::RecordStream { buffer: b, stream } => {
                format!("{}.record_stream({})", buffer(*b), stream_name(*stream))
            }
            OpKind::ThreadSpawn { child } => format!("spawn host thread {child}"),
            OpKind::ThreadJoin { child } => format!("join host thread {child}"),
            OpKind::Lock { lock } => format!("lock `{}`", names.lock_name(*lock)),
            OpKind::Unlock { lock } => format!("unlock `{}`", names.lock_name(*lock)),
            OpKind::HostStep { step } => names.label_name(*step).to_string(),
        }
    }
}

/// A synchronize the host makes (it orders the calling thread).
fn is_host_sync(kind: &OpKind) -> bool {
    matches!(
        kind,
        OpKind::EventSync { .. }
            | OpKind::EventQuery { ready: true, .. }
            | OpKind::StreamSync { .. }
            | OpKind::StreamQuery { ready: true, .. }
            | OpKind::DeviceSync
    )
}
