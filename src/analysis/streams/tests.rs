//! One test (or a few) per rule of the semantics (docs/gpu.md's table).

use super::*;
use crate::event::AgentId;
use crate::finding::Kind;

/// A program under construction: ops are pushed in host order and each push
/// returns the op's index.
struct P {
    setup: Setup,
    ops: Vec<Op>,
}

impl P {
    fn new(mode: DefaultStream) -> Self {
        P {
            setup: Setup::new(mode),
            ops: Vec::new(),
        }
    }
    fn legacy() -> Self {
        Self::new(DefaultStream::Legacy)
    }
    fn per_thread() -> Self {
        Self::new(DefaultStream::PerThread)
    }
    fn stream(&mut self, id: u64, blocking: bool) -> StreamId {
        self.setup.stream(id, blocking)
    }
    fn buf(&mut self, name: &str) -> BufferId {
        self.setup.names.buffer(name)
    }
    fn on(&mut self, thread: u32, kind: OpKind) -> usize {
        self.ops.push(Op::new(kind).on_thread(thread));
        self.ops.len() - 1
    }
    fn op(&mut self, kind: OpKind) -> usize {
        self.on(0, kind)
    }
    fn kernel_on(&mut self, thread: u32, s: StreamId, name: &str, r: &[&str], w: &[&str]) -> usize {
        let name = self.setup.names.label(name);
        let reads = r.iter().map(|b| self.buf(b)).collect();
        let writes = w.iter().map(|b| self.buf(b)).collect();
        self.on(
            thread,
            OpKind::Kernel {
                stream: s,
                name,
                reads,
                writes,
            },
        )
    }
    fn kernel(&mut self, s: StreamId, name: &str, r: &[&str], w: &[&str]) -> usize {
        self.kernel_on(0, s, name, r, w)
    }
    fn host_fn(&mut self, s: StreamId, name: &str, r: &[&str], w: &[&str]) -> usize {
        let name = self.setup.names.label(name);
        let reads = r.iter().map(|b| self.buf(b)).collect();
        let writes = w.iter().map(|b| self.buf(b)).collect();
        self.op(OpKind::HostFn {
            stream: s,
            name,
            reads,
            writes,
        })
    }
    fn alloc(&mut self, b: &str, space: Space, stream: Option<StreamId>) -> usize {
        let buffer = self.buf(b);
        self.op(OpKind::Alloc {
            buffer,
            space,
            stream,
        })
    }
    fn free(&mut self, b: &str, stream: Option<StreamId>) -> usize {
        let buffer = self.buf(b);
        self.op(OpKind::Free { buffer, stream })
    }
    fn record(&mut self, e: &str, stream: StreamId) -> usize {
        let event = self.setup.names.event(e);
        self.op(OpKind::EventRecord { event, stream })
    }
    fn wait(&mut self, stream: StreamId, e: &str) -> usize {
        let event = self.setup.names.event(e);
        self.op(OpKind::StreamWaitEvent { stream, event })
    }
    fn memcpy(&mut self, s: StreamId, src: &str, dst: &str, is_async: bool) -> usize {
        let (src, dst) = (self.buf(src), self.buf(dst));
        self.op(OpKind::Memcpy {
            stream: s,
            src,
            dst,
            is_async,
        })
    }
    fn host_read(&mut self, thread: u32, b: &str) -> usize {
        let buffer = self.buf(b);
        self.on(thread, OpKind::HostRead { buffer })
    }
    fn host_write(&mut self, thread: u32, b: &str) -> usize {
        let buffer = self.buf(b);
        self.on(thread, OpKind::HostWrite { buffer })
    }
    fn checker(&self) -> Checker {
        let mut checker = Checker::new(self.setup.clone());
        for op in &self.ops {
            checker.step(op).unwrap();
        }
        checker
    }
    /// (kind, earlier op, later op) of each hazard.
    fn hazards(&self) -> Vec<(HazardKind, usize, usize)> {
        self.checker()
            .hazards()
            .iter()
            .map(|h| (h.kind, h.earlier.op, h.later.op))
            .collect()
    }
    fn findings(&self) -> Vec<crate::finding::Finding> {
        check(self.setup.clone(), &self.ops).unwrap()
    }
    fn clean(&self) -> bool {
        self.hazards().is_empty()
    }
}

const D: StreamId = StreamId::DEFAULT;
use HazardKind::{FreeWhileInUse, Race, UseAfterFree};

// --- Streams are sequential agents ------------------------------------------

#[test]
fn ops_on_one_stream_run_in_order() {
    let mut p = P::legacy();
    let s = p.stream(1, false);
    p.kernel(s, "produce", &[], &["x"]);
    p.kernel(s, "consume", &["x"], &["x"]);
    assert!(p.clean());
}

#[test]
fn two_streams_are_unordered() {
    let mut p = P::legacy();
    let s1 = p.stream(1, false);
    let s2 = p.stream(2, false);
    let w = p.kernel(s1, "produce", &[], &["x"]);
    let r = p.kernel(s2, "consume", &["x"], &[]);
    assert_eq!(p.hazards(), [(Race, w, r)]);
    // Reads do not race with reads.
    let mut q = P::legacy();
    let s1 = q.stream(1, false);
    let s2 = q.stream(2, false);
    q.kernel(s1, "a", &["x"], &[]);
    q.kernel(s2, "b", &["x"], &[]);
    assert!(q.clean());
}

#[test]
fn two_streams_writing_one_buffer_race() {
    let mut p = P::legacy();
    let s1 = p.stream(1, false);
    let s2 = p.stream(2, false);
    let a = p.kernel(s1, "a", &[], &["x"]);
    let b = p.kernel(s2, "b", &[], &["x"]);
    assert_eq!(p.hazards(), [(Race, a, b)]);
}

#[test]
fn the_host_orders_what_it_did_before_an_enqueue() {
    let mut p = P::legacy();
    let s = p.stream(1, false);
    p.alloc("x", Space::Pinned, None);
    p.host_write(0, "x");
    p.kernel(s, "consume", &["x"], &[]);
    assert!(p.clean());
}

// --- The default stream -----------------------------------------------------

#[test]
fn the_legacy_default_stream_waits_for_blocking_streams_and_they_for_it() {
    let mut p = P::legacy();
    let s1 = p.stream(1, true);
    p.kernel(s1, "produce", &[], &["x"]);
    p.kernel(D, "consume", &["x"], &["y"]);
    p.kernel(s1, "after", &["y"], &[]);
    assert!(p.clean());
}

#[test]
fn the_legacy_default_stream_orders_two_blocking_streams_through_it() {
    let mut p = P::legacy();
    let s1 = p.stream(1, true);
    let s2 = p.stream(2, true);
    let w = p.kernel(s1, "produce", &[], &["x"]);
    let r = p.kernel(s2, "consume", &["x"], &[]);
    assert_eq!(
        p.hazards(),
        [(Race, w, r)],
        "blocking streams alone do not sync"
    );
    let mut q = P::legacy();
    let s1 = q.stream(1, true);
    let s2 = q.stream(2, true);
    q.kernel(s1, "produce", &[], &["x"]);
    q.kernel(D, "barrier", &[], &[]);
    q.kernel(s2, "consume", &["x"], &[]);
    assert!(q.clean());
}

#[test]
fn non_blocking_streams_take_no_part_in_the_legacy_barrier() {
    let mut p = P::legacy();
    let s1 = p.stream(1, false);
    let w = p.kernel(s1, "produce", &[], &["x"]);
    let r = p.kernel(D, "consume", &["x"], &["y"]);
    let r2 = p.kernel(s1, "after", &["y"], &[]);
    assert_eq!(p.hazards(), [(Race, w, r), (Race, r, r2)]);
    let f = p.findings();
    assert!(
        f[0].notes.iter().any(|n| n.contains("non-blocking")),
        "{:?}",
        f[0].notes
    );
}

#[test]
fn the_per_thread_default_stream_is_an_ordinary_stream() {
    let mut p = P::per_thread();
    let s1 = p.stream(1, true);
    let w = p.kernel(s1, "produce", &[], &["x"]);
    let r = p.kernel(D, "consume", &["x"], &[]);
    assert_eq!(p.hazards(), [(Race, w, r)]);
    let f = p.findings();
    assert!(f[0].notes.iter().any(|n| n.contains("per-thread")));
}

#[test]
fn each_host_thread_has_its_own_per_thread_default_stream() {
    let mut p = P::per_thread();
    p.op(OpKind::ThreadSpawn { child: 1 });
    let w = p.kernel_on(0, D, "produce", &[], &["x"]);
    let r = p.kernel_on(1, D, "consume", &["x"], &[]);
    assert_eq!(p.hazards(), [(Race, w, r)]);
    let checker = p.checker();
    assert_ne!(checker.stream_agent_of(D, 0), checker.stream_agent_of(D, 1));
    // Under the legacy default stream, both threads share stream 0.
    let mut q = P::legacy();
    q.op(OpKind::ThreadSpawn { child: 1 });
    q.kernel_on(0, D, "produce", &[], &["x"]);
    q.kernel_on(1, D, "consume", &["x"], &[]);
    assert!(q.clean());
}

// --- Events -----------------------------------------------------------------

#[test]
fn an_event_recorded_after_the_writer_and_waited_on_orders_the_reader() {
    let mut p = P::legacy();
    let s1 = p.stream(1, false);
    let s2 = p.stream(2, false);
    p.kernel(s1, "produce", &[], &["x"]);
    p.record("e", s1);
    p.wait(s2, "e");
    p.kernel(s2, "consume", &["x"], &[]);
    assert!(p.clean());
}

#[test]
fn a_record_snapshots_only_the_work_before_it() {
    let mut p = P::legacy();
    let s1 = p.stream(1, false);
    let s2 = p.stream(2, false);
    p.record("e", s1);
    let w = p.kernel(s1, "produce", &[], &["x"]);
    p.wait(s2, "e");
    let r = p.kernel(s2, "consume", &["x"], &[]);
    assert_eq!(p.hazards(), [(Race, w, r)]);
}

#[test]
fn waiting_before_the_record_orders_nothing() {
    let mut p = P::legacy();
    let s1 = p.stream(1, false);
    let s2 = p.stream(2, false);
    let w = p.kernel(s1, "produce", &[], &["x"]);
    p.wait(s2, "e");
    p.record("e", s1);
    let r = p.kernel(s2, "consume", &["x"], &[]);
    assert_eq!(p.hazards(), [(Race, w, r)]);
    let f = p.findings();
    let note = f[0].notes.join("\n");
    assert!(note.contains("had not been recorded yet"), "{note}");
}

#[test]
fn a_wait_binds_to_the_record_current_at_the_call_not_a_later_one() {
    let mut p = P::legacy();
    let s1 = p.stream(1, false);
    let s2 = p.stream(2, false);
    p.record("e", s1);
    let w = p.kernel(s1, "produce", &[], &["x"]);
    p.wait(s2, "e");
    p.record("e", s1);
    let r = p.kernel(s2, "consume", &["x"], &[]);
    assert_eq!(p.hazards(), [(Race, w, r)]);
    let note = p.findings()[0].notes.join("\n");
    assert!(
        note.contains("bound to the earlier record (ops[0])"),
        "{note}"
    );
}

#[test]
fn a_later_record_replaces_the_snapshot_for_later_waits() {
    let mut p = P::legacy();
    let s1 = p.stream(1, false);
    let s2 = p.stream(2, false);
    p.record("e", s1);
    p.kernel(s1, "produce", &[], &["x"]);
    p.record("e", s1);
    p.wait(s2, "e");
    p.kernel(s2, "consume", &["x"], &[]);
    assert!(p.clean());
}

// --- Synchronize --------------------------------------------------------------

fn d2h(p: &mut P, sync: Option<OpKind>) -> (usize, usize) {
    let s = p.stream(1, false);
    p.alloc("dev", Space::Device, None);
    p.alloc("out", Space::Pinned, None);
    p.kernel(s, "compute", &[], &["dev"]);
    let copy = p.memcpy(s, "dev", "out", true);
    if let Some(mut kind) = sync {
        if let OpKind::StreamSync { stream } | OpKind::StreamQuery { stream, .. } = &mut kind {
            *stream = s;
        }
        if let OpKind::EventSync { .. } | OpKind::EventQuery { .. } = kind {
            p.record("done", s);
        }
        p.op(kind);
    }
    let read = p.host_read(0, "out");
    (copy, read)
}

#[test]
fn an_async_copy_gives_the_host_no_ordering() {
    let mut p = P::legacy();
    let (copy, read) = d2h(&mut p, None);
    assert_eq!(p.hazards(), [(Race, copy, read)]);
    let f = p.findings();
    assert_eq!(f[0].kind, Kind::StreamRace);
    let help = f[0].help.as_deref().unwrap();
    assert!(
        help.starts_with("synchronize stream 1 (or an event recorded on it after async memcpy"),
        "{help}"
    );
    assert!(help.contains("before the host reads `out`"), "{help}");
}

#[test]
fn stream_event_and_device_synchronize_and_successful_queries_join_the_host() {
    let event = |p: &mut P| OpKind::EventSync {
        event: p.setup.names.event("done"),
    };
    let query = |p: &mut P, ready| OpKind::EventQuery {
        event: p.setup.names.event("done"),
        ready,
    };
    for (what, make, clean) in [
        ("stream sync", 0, true),
        ("stream query ready", 1, true),
        ("stream query not ready", 2, false),
        ("event sync", 3, true),
        ("event query ready", 4, true),
        ("event query not ready", 5, false),
        ("device sync", 6, true),
    ] {
        let mut p = P::legacy();
        let kind = match make {
            0 => OpKind::StreamSync { stream: D },
            1 => OpKind::StreamQuery {
                stream: D,
                ready: true,
            },
            2 => OpKind::StreamQuery {
                stream: D,
                ready: false,
            },
            3 => event(&mut p),
            4 => query(&mut p, true),
            5 => query(&mut p, false),
            _ => OpKind::DeviceSync,
        };
        d2h(&mut p, Some(kind));
        assert_eq!(p.clean(), clean, "{what}");
    }
}

#[test]
fn synchronizing_a_never_recorded_event_orders_nothing() {
    let mut p = P::legacy();
    let s = p.stream(1, false);
    let w = p.kernel(s, "produce", &[], &["x"]);
    let event = p.setup.names.event("e");
    p.op(OpKind::EventSync { event });
    let r = p.host_read(0, "x");
    assert_eq!(p.hazards(), [(Race, w, r)]);
}

#[test]
fn synchronous_copies_and_copies_into_pageable_memory_order_the_host() {
    let mut p = P::legacy();
    let s = p.stream(1, false);
    p.alloc("out", Space::Pinned, None);
    p.memcpy(s, "dev", "out", false);
    p.host_read(0, "out");
    assert!(p.clean());
    let mut q = P::legacy();
    let s = q.stream(1, false);
    q.alloc("out", Space::Pageable, None);
    q.memcpy(s, "dev", "out", true);
    q.host_read(0, "out");
    assert!(q.clean());
    let mut r = P::legacy();
    let s = r.stream(1, false);
    r.alloc("dev", Space::Device, None);
    let set = r.op(OpKind::Memset {
        stream: s,
        dst: BufferId(0),
        is_async: true,
    });
    let read = r.host_read(0, "dev");
    assert_eq!(r.hazards(), [(Race, set, read)]);
}

#[test]
fn the_host_overwriting_a_pinned_source_races_with_the_copy() {
    let mut p = P::legacy();
    let s = p.stream(1, false);
    p.alloc("staging", Space::Pinned, None);
    p.alloc("dev", Space::Device, None);
    p.host_write(0, "staging");
    let copy = p.memcpy(s, "staging", "dev", true);
    let write = p.host_write(0, "staging");
    assert_eq!(p.hazards(), [(Race, copy, write)]);
    let f = p.findings();
    assert!(f[0].notes.iter().any(|n| n.contains("pinned memory")));
    // A pageable source is staged during the call.
    let mut q = P::legacy();
    let s = q.stream(1, false);
    q.alloc("staging", Space::Pageable, None);
    q.host_write(0, "staging");
    q.memcpy(s, "staging", "dev", true);
    q.host_write(0, "staging");
    assert!(q.clean());
}

// --- Host functions -----------------------------------------------------------

#[test]
fn a_host_function_runs_after_the_work_before_it_on_its_stream() {
    let mut p = P::legacy();
    let s = p.stream(1, false);
    p.alloc("out", Space::Pinned, None);
    p.memcpy(s, "dev", "out", true);
    p.host_fn(s, "log", &["out"], &[]);
    p.kernel(s, "next", &[], &["out"]);
    assert!(p.clean());
    // It is not the host thread: the host still needs a synchronize.
    let mut q = P::legacy();
    let s = q.stream(1, false);
    let f = q.host_fn(s, "fill", &[], &["x"]);
    let r = q.host_read(0, "x");
    assert_eq!(q.hazards(), [(Race, f, r)]);
}

// --- Allocation ---------------------------------------------------------------

#[test]
fn a_stream_ordered_free_must_follow_uses_on_other_streams() {
    let mut p = P::legacy();
    let side = p.stream(1, false);
    p.alloc("x", Space::Device, Some(D));
    p.kernel(D, "init", &[], &["x"]);
    p.record("ready", D);
    p.wait(side, "ready");
    let used = p.kernel(side, "use", &["x"], &[]);
    let free = p.free("x", Some(D));
    let reuse = p.alloc("y", Space::Device, Some(D));
    p.kernel(D, "overwrite", &[], &["y"]);
    assert_eq!(p.hazards(), [(FreeWhileInUse, used, free)]);
    let checker = p.checker();
    assert_eq!(checker.hazards()[0].reuse, Some(reuse));
    let f = p.findings();
    assert_eq!(f[0].kind, Kind::StreamUseAfterFree);
    assert!(f[0].message.contains("`y`"), "{}", f[0].message);
    assert_eq!(f[0].locations.len(), 3);
    assert!(f[0].help.as_deref().unwrap().contains("record_stream"));
}

#[test]
fn record_stream_defers_the_reuse_until_that_streams_work_is_done() {
    let mut p = P::legacy();
    let side = p.stream(1, false);
    p.alloc("x", Space::Device, Some(D));
    p.kernel(D, "init", &[], &["x"]);
    p.record("ready", D);
    p.wait(side, "ready");
    p.kernel(side, "use", &["x"], &[]);
    let x = p.buf("x");
    p.op(OpKind::RecordStream {
        buffer: x,
        stream: side,
    });
    p.free("x", Some(D));
    p.alloc("y", Space::Device, Some(D));
    assert!(p.clean());
}

#[test]
fn record_stream_covers_only_the_work_enqueued_before_the_free() {
    let mut p = P::legacy();
    let side = p.stream(1, false);
    p.alloc("x", Space::Device, None);
    let x = p.buf("x");
    p.op(OpKind::RecordStream {
        buffer: x,
        stream: side,
    });
    p.free("x", Some(D));
    let late = p.kernel(side, "late", &["x"], &[]);
    assert_eq!(p.hazards(), [(UseAfterFree, 2, late)]);
}

#[test]
fn an_event_back_to_the_home_stream_also_orders_the_free() {
    let mut p = P::legacy();
    let side = p.stream(1, false);
    p.alloc("x", Space::Device, Some(D));
    p.record("ready", D);
    p.wait(side, "ready");
    p.kernel(side, "use", &["x"], &[]);
    p.record("done", side);
    p.wait(D, "done");
    p.free("x", Some(D));
    assert!(p.clean());
}

#[test]
fn a_host_free_is_strict_unless_lenient() {
    let build = |lenient: bool| {
        let mut p = P::legacy();
        p.setup.free_synchronizes = lenient;
        let s = p.stream(1, false);
        p.alloc("x", Space::Device, None);
        let used = p.kernel(s, "use", &["x"], &[]);
        let free = p.free("x", None);
        (p, used, free)
    };
    let (strict, used, free) = build(false);
    assert_eq!(strict.hazards(), [(FreeWhileInUse, used, free)]);
    let f = strict.findings();
    assert!(f[0].notes.iter().any(|n| n.contains("--lenient")));
    assert!(f[0]
        .help
        .as_deref()
        .unwrap()
        .starts_with("synchronize stream 1"));
    let (lenient, _, _) = build(true);
    assert!(lenient.clean());
}

#[test]
fn a_use_after_the_free_and_a_second_free_are_reported() {
    let mut p = P::legacy();
    p.alloc("x", Space::Device, None);
    let free = p.free("x", None);
    let late = p.kernel(D, "late", &["x"], &[]);
    let again = p.free("x", None);
    assert_eq!(
        p.hazards(),
        [(UseAfterFree, free, late), (UseAfterFree, free, again)]
    );
    let f = p.findings();
    assert!(f[1].message.contains("freed again"), "{}", f[1].message);
}

#[test]
fn a_use_unordered_with_a_stream_ordered_allocation_races_with_it() {
    let mut p = P::legacy();
    let s1 = p.stream(1, false);
    let alloc = p.alloc("x", Space::Device, Some(D));
    let w = p.kernel(s1, "fill", &[], &["x"]);
    assert_eq!(p.hazards(), [(Race, alloc, w)]);
}

#[test]
fn allocating_a_live_buffer_again_is_a_trace_error() {
    let mut p = P::legacy();
    p.alloc("x", Space::Device, None);
    p.alloc("x", Space::Device, None);
    let mut checker = Checker::new(p.setup.clone());
    checker.step(&p.ops[0]).unwrap();
    let e = checker.step(&p.ops[1]).unwrap_err();
    assert_eq!(e.index, 1);
    assert!(e
        .to_string()
        .contains("allocated again while live (allocated at ops[0])"));
    // A freed one may be allocated again, and starts a new life.
    let mut q = P::legacy();
    let s = q.stream(1, false);
    q.alloc("x", Space::Device, None);
    q.kernel(s, "use", &["x"], &[]);
    q.op(OpKind::DeviceSync);
    q.free("x", None);
    q.alloc("x", Space::Device, None);
    q.kernel(D, "fresh", &[], &["x"]);
    assert!(q.clean());
    assert_eq!(q.checker().live_buffers(), 1);
}

#[test]
fn an_undeclared_stream_is_a_trace_error() {
    let mut checker = Checker::new(Setup::new(DefaultStream::Legacy));
    let e = checker
        .step(&Op::new(OpKind::StreamSync {
            stream: StreamId(3),
        }))
        .unwrap_err();
    assert!(e.message.contains("not declared"), "{e}");
}

// --- Host threads ---------------------------------------------------------------

#[test]
fn host_threads_are_ordered_by_spawn_join_and_locks() {
    let mut p = P::legacy();
    p.alloc("x", Space::Pinned, None);
    p.host_write(0, "x");
    p.op(OpKind::ThreadSpawn { child: 1 });
    p.host_write(1, "x");
    p.op(OpKind::ThreadJoin { child: 1 });
    p.host_read(0, "x");
    assert!(p.clean());

    let mut q = P::legacy();
    let m = q.setup.names.lock("m");
    q.on(1, OpKind::Lock { lock: m });
    q.host_write(1, "x");
    q.on(1, OpKind::Unlock { lock: m });
    q.on(2, OpKind::Lock { lock: m });
    q.host_write(2, "x");
    q.on(2, OpKind::Unlock { lock: m });
    assert!(q.clean());

    let mut r = P::legacy();
    let a = r.host_write(1, "x");
    let b = r.host_write(2, "x");
    assert_eq!(r.hazards(), [(Race, a, b)]);
    assert_eq!(r.findings()[0].kind, Kind::DataRace);
}

#[test]
fn a_synchronize_on_one_thread_orders_another_only_through_the_threads() {
    let mut p = P::legacy();
    let s = p.stream(1, false);
    let m = p.setup.names.lock("m");
    let w = p.kernel_on(1, s, "produce", &[], &["x"]);
    p.on(1, OpKind::StreamSync { stream: s });
    p.on(1, OpKind::Lock { lock: m });
    p.on(1, OpKind::Unlock { lock: m });
    let unordered = p.host_read(2, "x");
    p.on(3, OpKind::Lock { lock: m });
    p.host_read(3, "x");
    assert_eq!(p.hazards(), [(Race, w, unordered)]);
    let notes = p.findings()[0].notes.join("\n");
    assert!(
        notes.contains("host thread 1 waits for the GPU at ops[1] (synchronize stream 1)"),
        "{notes}"
    );
    assert!(
        notes.contains("orders only the thread that calls it"),
        "{notes}"
    );
}

#[test]
fn an_enqueue_from_another_thread_is_not_ordered_after_this_threads_writes() {
    let mut p = P::legacy();
    let s = p.stream(1, false);
    p.alloc("x", Space::Pinned, None);
    p.op(OpKind::ThreadSpawn { child: 1 });
    let w = p.host_write(1, "x");
    let r = p.kernel_on(0, s, "consume", &["x"], &[]);
    assert_eq!(p.hazards(), [(Race, w, r)]);
    let help = p.findings()[0].help.clone().unwrap();
    assert!(help.starts_with("order host thread 1's access"), "{help}");
}

// --- Reporting ------------------------------------------------------------------

#[test]
fn a_race_repeated_in_a_loop_is_reported_once() {
    let mut p = P::legacy();
    let s1 = p.stream(1, false);
    for _ in 0..100 {
        p.kernel(s1, "produce", &[], &["x"]);
        p.kernel(D, "consume", &["x"], &[]);
    }
    // produce/consume (W then R) and consume/produce (R then W).
    assert_eq!(p.hazards().len(), 2);
}

#[test]
fn a_race_finding_names_both_ops_and_the_event_that_would_order_them() {
    let mut p = P::legacy();
    let s1 = p.stream(1, false);
    let s2 = p.stream(2, false);
    p.kernel(s1, "produce", &[], &["x", "y"]);
    p.kernel(s2, "consume", &["x", "y"], &[]);
    let f = p.findings();
    assert_eq!(f.len(), 1, "one finding for the two buffers");
    let f = &f[0];
    assert_eq!(
        f.message,
        "stream race on `x` and `y`: kernel `produce` on stream 1 writes them (ops[0]) and \
         kernel `consume` on stream 2 reads them (ops[1]), and nothing orders the two"
    );
    assert_eq!(
        f.help.as_deref(),
        Some(
            "record an event on stream 1 after kernel `produce` (ops[0]) and make stream 2 \
             wait on it before kernel `consume` (ops[1])"
        )
    );
    let trace = f.trace.as_ref().unwrap();
    assert_eq!(trace.len(), 2);
    assert_eq!(trace[0].agent, "stream 1");
    assert_eq!(trace[1].action, "kernel `consume` reads `x` and `y`");
    assert!(trace.iter().all(|s| s.highlight));
}

#[test]
fn sites_from_the_program_are_named_and_located() {
    use crate::event::Site;
    let mut p = P::legacy();
    let s1 = p.stream(1, false);
    p.kernel(s1, "produce", &[], &["x"]);
    p.kernel(D, "consume", &["x"], &[]);
    p.ops[0].site = Some(Site::new("train.py", 12, 0));
    p.ops[1].origin = Some(Site::new("trace.json", 9, 5));
    let f = &p.findings()[0];
    assert!(f.message.contains("(ops[0], train.py:12)"), "{}", f.message);
    assert_eq!(
        (f.locations[0].file.as_str(), f.locations[0].line),
        ("train.py", 12)
    );
    assert_eq!(
        (f.locations[1].file.as_str(), f.locations[1].line),
        ("trace.json", 9)
    );
}

#[test]
fn findings_without_the_ops_name_them_by_index() {
    let mut p = P::legacy();
    let s1 = p.stream(1, false);
    p.kernel(s1, "produce", &[], &["x"]);
    p.kernel(D, "consume", &["x"], &[]);
    let f = p.checker().findings(None);
    assert!(
        f[0].message.contains("op 0 on stream 1 writes it (ops[0])"),
        "{}",
        f[0].message
    );
    assert!(f[0].trace.is_none());
}

#[test]
fn state_is_per_buffer_not_per_op() {
    let mut p = P::legacy();
    let s = p.stream(1, false);
    let mut checker = Checker::new(p.setup.clone());
    let x = p.buf("x");
    let k = p.setup.names.label("k");
    checker.setup_mut().names = p.setup.names.clone();
    for i in 0..10_000u32 {
        let op = Op::new(OpKind::Kernel {
            stream: if i % 2 == 0 { s } else { D },
            name: k,
            reads: vec![x],
            writes: vec![],
        });
        checker.step(&op).unwrap();
    }
    assert_eq!(checker.ops(), 10_000);
    assert!(checker.hazards().is_empty());
    assert_eq!(checker.agent_count(), 3);
}

// --- The per-buffer state against every pair of accesses ----------------------

/// Random programs: the buffers the checker reports a race on are exactly
/// those where some pair of accesses (at least one a write, on different
/// agents) is unordered by the clocks the accesses ran with. This checks
/// that keeping one write and each agent's last access per buffer loses
/// no racy buffer.
#[test]
fn the_racy_buffers_are_those_with_an_unordered_pair() {
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for round in 0..2000 {
        let mode = if round % 3 == 0 {
            DefaultStream::PerThread
        } else {
            DefaultStream::Legacy
        };
        let mut setup = Setup::new(mode);
        let streams: Vec<StreamId> = std::iter::once(D)
            .chain((1..4).map(|i| setup.stream(i, rng.below(2) == 0)))
            .collect();
        let buffers: Vec<BufferId> = (0..3)
            .map(|i| setup.names.buffer(&format!("b{i}")))
            .collect();
        let events: Vec<EventId> = (0..2)
            .map(|i| setup.names.event(&format!("e{i}")))
            .collect();
        let lock = setup.names.lock("m");
        let k = setup.names.label("k");
        let mut checker = Checker::new(setup);
        // (op, agent, write, buffer, clock of the agent at the access)
        let mut accesses: Vec<(usize, AgentId, bool, BufferId, Vec<u32>)> = Vec::new();
        for index in 0..30 {
            let thread = rng.below(2) as u32;
            let s = streams[rng.below(4) as usize];
            let b = buffers[rng.below(3) as usize];
            let e = events[rng.below(2) as usize];
            // Later rounds synchronize more, so that some buffers race and some do not.
            let sync_bias = (round % 4) as u64 * 6;
            let kind = match rng.below(12 + sync_bias) {
                0..=3 => {
                    let write = rng.below(2) == 0;
                    OpKind::Kernel {
                        stream: s,
                        name: k,
                        reads: if write { vec![] } else { vec![b] },
                        writes: if write { vec![b] } else { vec![] },
                    }
                }
                4 => OpKind::HostRead { buffer: b },
                5 => OpKind::HostWrite { buffer: b },
                6 => OpKind::EventRecord {
                    event: e,
                    stream: s,
                },
                7 => OpKind::StreamWaitEvent {
                    stream: s,
                    event: e,
                },
                8 => OpKind::StreamSync { stream: s },
                9 => OpKind::EventSync { event: e },
                10 => {
                    if rng.below(2) == 0 {
                        OpKind::Lock { lock }
                    } else {
                        OpKind::Unlock { lock }
                    }
                }
                11 => OpKind::DeviceSync,
                n => match n % 3 {
                    0 => OpKind::DeviceSync,
                    1 => OpKind::EventRecord {
                        event: e,
                        stream: s,
                    },
                    _ => OpKind::StreamWaitEvent {
                        stream: s,
                        event: e,
                    },
                },
            };
            let op = Op::new(kind).on_thread(thread);
            checker.step(&op).unwrap();
            let agent = checker.agent_of(&op).unwrap();
            let clock = checker.clock(agent).unwrap().as_slice().to_vec();
            match &op.kind {
                OpKind::Kernel { reads, writes, .. } => {
                    for &r in reads {
                        accesses.push((index, agent, false, r, clock.clone()));
                    }
                    for &w in writes {
                        accesses.push((index, agent, true, w, clock.clone()));
                    }
                }
                OpKind::HostRead { buffer } => accesses.push((index, agent, false, *buffer, clock)),
                OpKind::HostWrite { buffer } => accesses.push((index, agent, true, *buffer, clock)),
                _ => {}
            }
        }
        let get = |c: &[u32], a: AgentId| c.get(a.0 as usize).copied().unwrap_or(0);
        let mut expected: Vec<BufferId> = Vec::new();
        for (i, x) in accesses.iter().enumerate() {
            for y in &accesses[i + 1..] {
                let racy =
                    x.3 == y.3 && x.1 != y.1 && (x.2 || y.2) && get(&x.4, x.1) > get(&y.4, x.1);
                if racy && !expected.contains(&x.3) {
                    expected.push(x.3);
                }
            }
        }
        let mut found: Vec<BufferId> = checker.hazards().iter().map(|h| h.buffer).collect();
        found.sort_unstable();
        found.dedup();
        expected.sort_unstable();
        assert_eq!(found, expected, "round {round}");
    }
}
