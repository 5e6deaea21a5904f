//! The recorder behind the handles: each GPU call becomes an op of the
//! calling host thread in the execution's [`Recorded`] calls, and a `Gpu`
//! step of that thread in its trace, worded as a reader of an interleaving
//! wants it ("launch `produce` on stream 1 (writes `x`)").

use std::sync::Arc;

use crate::analysis::streams::{
    BufferId, DefaultStream, EventId, Interner, LabelId, Op, OpKind, Recorded, StreamId,
};
use crate::event::{Action, Site};
use crate::runtime::execution::Execution;

/// How the recorder names things and words its steps.
impl Recorded {
    /// A name not used yet by another object of the same table: `x`, `x#2`, ...
    pub(super) fn unique(table: &Interner, name: &str) -> String {
        if table.get(name).is_none() {
            return name.to_string();
        }
        (2..)
            .map(|n| format!("{name}#{n}"))
            .find(|candidate| table.get(candidate).is_none())
            .expect("some suffix is free")
    }

    fn stream_name(&self, stream: StreamId) -> String {
        match &self.setup {
            Some(setup) if stream == StreamId::DEFAULT => match setup.default_stream {
                DefaultStream::Legacy => "stream 0".into(),
                DefaultStream::PerThread => "stream 0 (per-thread)".into(),
            },
            Some(setup) => setup.decl(stream).map_or_else(
                || format!("stream {}", stream.0),
                |d| format!("stream {}", d.id),
            ),
            None => format!("stream {}", stream.0),
        }
    }

    /// How a step of a thread reads for this op: "launch `produce` on stream 1".
    pub(super) fn describe(&self, kind: &OpKind) -> String {
        let names = self.setup.as_ref().map(|s| &s.names);
        let buffer = |b: BufferId| format!("`{}`", names.map_or("?", |n| n.buffer_name(b)));
        let event = |e: EventId| format!("`{}`", names.map_or("?", |n| n.event_name(e)));
        let label = |l: LabelId| format!("`{}`", names.map_or("?", |n| n.label_name(l)));
        let list = |ids: &[BufferId]| {
            ids.iter()
                .map(|&b| buffer(b))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let on = |s: StreamId| self.stream_name(s);
        let accesses = |reads: &[BufferId], writes: &[BufferId]| {
            let mut parts = Vec::new();
            if !reads.is_empty() {
                parts.push(format!("reads {}", list(reads)));
            }
            if !writes.is_empty() {
                parts.push(format!("writes {}", list(writes)));
            }
            if parts.is_empty() {
                String::new()
            } else {
                format!(" ({})", parts.join("; "))
            }
        };
        match kind {
            OpKind::Alloc {
                buffer: b,
                space,
                stream,
            } => match stream {
                Some(s) => format!("allocate {} on {}", buffer(*b), on(*s)),
                None => format!("allocate {} ({} memory)", buffer(*b), space.as_str()),
            },
            OpKind::Free { buffer: b, stream } => match stream {
                Some(s) => format!("free {} on {}", buffer(*b), on(*s)),
                None => format!("free {}", buffer(*b)),
            },
            OpKind::Kernel {
                stream,
                name,
                reads,
                writes,
            } => format!(
                "launch {} on {}{}",
                label(*name),
                on(*stream),
                accesses(reads, writes)
            ),
            OpKind::HostFn {
                stream,
                name,
                reads,
                writes,
            } => format!(
                "enqueue host function {} on {}{}",
                label(*name),
                on(*stream),
                accesses(reads, writes)
            ),
            OpKind::Memcpy {
                stream,
                src,
                dst,
                is_async,
            } => format!(
                "{}memcpy {} → {} on {}",
                if *is_async { "async " } else { "" },
                buffer(*src),
                buffer(*dst),
                on(*stream)
            ),
            OpKind::Memset {
                stream,
                dst,
                is_async,
            } => format!(
                "{}memset {} on {}",
                if *is_async { "async " } else { "" },
                buffer(*dst),
                on(*stream)
            ),
            OpKind::EventRecord { event: e, stream } => {
                format!("record {} on {}", event(*e), on(*stream))
            }
            OpKind::StreamWaitEvent { stream, event: e } => {
                format!("make {} wait on {}", on(*stream), event(*e))
            }
            OpKind::EventSync { event: e } => format!("synchronize {}", event(*e)),
            OpKind::EventQuery { event: e, .. } => format!("query {}", event(*e)),
            OpKind::StreamSync { stream } => format!("synchronize {}", on(*stream)),
            OpKind::StreamQuery { stream, .. } => format!("query {}", on(*stream)),
            OpKind::DeviceSync => "synchronize the device".into(),
            OpKind::HostRead { buffer: b } => format!("read {} on the host", buffer(*b)),
            OpKind::HostWrite { buffer: b } => format!("write {} on the host", buffer(*b)),
            OpKind::RecordStream { buffer: b, stream } => {
                format!("{}.record_stream({})", buffer(*b), on(*stream))
            }
            other => other.name().to_string(),
        }
    }
}

/// What every handle made from one [`Device`] shares: the execution it
/// records into, and under loom the object whose accesses make loom explore
/// the order of GPU calls of different host threads.
pub(super) struct Ctx {
    pub(super) exec: Arc<Execution>,
    /// Made with the device, so that loom sees it made before any thread
    /// that was handed the device uses it.
    pub(super) turn: Option<loom::sync::atomic::AtomicUsize>,
}

/// The execution a GPU object records into, when it was made inside one.
pub(super) type Exec = Option<Arc<Ctx>>;

/// Makes the running thread's GPU call a point where loom may run another
/// host thread first (once there are several): the calls of all threads go
/// through one object, as through a driver that serializes its callers.
fn schedule(ctx: &Ctx) {
    let Some(turn) = &ctx.turn else { return };
    if ctx.exec.recording().trace.agents.len() < 2 {
        return;
    }
    // Relaxed: the access orders nothing between the threads; it only tells
    // loom that the calls of two threads depend on each other's order.
    turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Records one GPU call of the running thread; returns the indices of its
/// op and of its step in the trace.
pub(super) fn call(
    exec: &Exec,
    site: Site,
    make: impl FnOnce(&mut Recorded) -> OpKind,
) -> Option<(usize, usize)> {
    let Some(ctx) = exec else { return None };
    schedule(ctx);
    let exec = &ctx.exec;
    let agent = exec.agent();
    let mut rec = exec.recording();
    let kind = make(&mut rec.gpu);
    let text = rec.gpu.describe(&kind);
    let index = rec.gpu.ops.len();
    let step = rec.trace.events.len();
    rec.gpu.ops.push(Op {
        thread: agent.0,
        kind,
        site: Some(site.clone()),
        origin: None,
    });
    rec.trace.push(
        agent,
        Action::Gpu {
            op: index as u32,
            call: text,
        },
        site,
    );
    Some((index, step))
}
