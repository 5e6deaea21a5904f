//! GPU checker throughput and memory: a generated trace of 10 million ops
//! over 32 streams (16 blocking, 16 non-blocking, plus the legacy default
//! stream), streamed through `gpu::Checker` one op at a time.
//!
//! The trace mixes kernels on each stream's own buffers, hand-offs between
//! streams through events, stream-ordered temporaries (alloc, use, free),
//! device-to-host copies into pinned memory followed by an event synchronize
//! and a host read, work on the legacy default stream, and a rare unordered
//! write (a real race, so the hazard path runs too).
//!
//! Memory is measured with a counting global allocator (current and peak
//! heap bytes): the peak while checking 1 million ops and while checking 10
//! million is the same, because the checker keeps state per stream, event
//! and live buffer, never per op; a second measurement keeps N buffers live
//! and shows the peak growing with N.
//!
//! `cargo bench --bench gpu` prints the figures, asserts at least 1 million
//! ops per second on the 10-million-op trace, then runs the criterion
//! measurement. Without `--bench` (e.g. `cargo test --benches`) it checks a
//! small trace only.

use criterion::{black_box, Criterion, Throughput};
use interlock::gpu::{
    BufferId, Checker, DefaultStream, EventId, LabelId, Op, OpKind, Setup, Space, StreamId,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// The system allocator, counting the bytes currently allocated and the peak.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        System.dealloc(p, layout);
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = System.realloc(p, layout, new_size);
        if !q.is_null() {
            if new_size > layout.size() {
                let grow = new_size - layout.size();
                let now = CURRENT.fetch_add(grow, Ordering::Relaxed) + grow;
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Heap bytes allocated by `f` at its peak, above what was allocated before it.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed) - base)
}

/// A small deterministic generator (xorshift64*), so runs compare.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const STREAMS: usize = 32;
const PRIVATE: usize = 8;
const TEMPS: usize = 4;
const RACE_EVERY: u64 = 100_000;

/// The generated program: its setup and the ids it uses.
struct Program {
    setup: Setup,
    streams: Vec<StreamId>,
    private: Vec<BufferId>,
    shared: Vec<BufferId>,
    pinned: Vec<BufferId>,
    temps: Vec<BufferId>,
    handoff: Vec<EventId>,
    copied: Vec<EventId>,
    step: LabelId,
    produce: LabelId,
    consume: LabelId,
    legacy: LabelId,
    racy: LabelId,
    /// Extra buffers kept live (each written by one stream, read by another).
    extra: Vec<BufferId>,
}

impl Program {
    fn new(extra: usize) -> Self {
        let mut setup = Setup::new(DefaultStream::Legacy);
        let streams: Vec<StreamId> = (0..STREAMS)
            .map(|i| setup.stream(i as u64 + 1, i < STREAMS / 2))
            .collect();
        let names = &mut setup.names;
        let mut buffers = |prefix: &str, n: usize| -> Vec<BufferId> {
            (0..n)
                .map(|i| names.buffer(&format!("{prefix}{i}")))
                .collect()
        };
        let private = buffers("private", STREAMS * PRIVATE);
        let shared = buffers("shared", STREAMS);
        let pinned = buffers("pinned", STREAMS);
        let temps = buffers("tmp", STREAMS * TEMPS);
        let extra = buffers("extra", extra);
        let handoff = (0..STREAMS)
            .map(|i| names.event(&format!("handoff{i}")))
            .collect();
        let copied = (0..STREAMS)
            .map(|i| names.event(&format!("copied{i}")))
            .collect();
        let step = names.label("step");
        let produce = names.label("produce");
        let consume = names.label("consume");
        let legacy = names.label("legacy");
        let racy = names.label("racy");
        Program {
            setup,
            streams,
            private,
            shared,
            pinned,
            temps,
            handoff,
            copied,
            step,
            produce,
            consume,
            legacy,
            racy,
            extra,
        }
    }

    /// Streams `ops` generated ops into `sink`, one at a time, reusing the
    /// ops' storage: nothing is kept per op.
    fn generate(&self, ops: usize, sink: &mut impl FnMut(&Op)) {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut op = Op::new(OpKind::DeviceSync);
        let mut reads = Vec::with_capacity(2);
        let mut writes = Vec::with_capacity(2);
        let emitted = std::cell::Cell::new(0usize);
        let mut emit = |kind: OpKind, op: &mut Op| {
            op.kind = kind;
            sink(op);
            emitted.set(emitted.get() + 1);
        };
        // Buffers allocated up front.
        let all = self
            .private
            .iter()
            .chain(&self.shared)
            .chain(&self.extra)
            .map(|&b| (b, Space::Device))
            .chain(self.pinned.iter().map(|&b| (b, Space::Pinned)));
        for (buffer, space) in all {
            emit(
                OpKind::Alloc {
                    buffer,
                    space,
                    stream: None,
                },
                &mut op,
            );
        }
        let mut temp_next = vec![0usize; STREAMS];
        let mut kernel =
            |stream: StreamId, name: LabelId, r: &[BufferId], w: &[BufferId], op: &mut Op| {
                // Reuse the vectors of the previous kernel op.
                let (mut rv, mut wv) = match std::mem::replace(&mut op.kind, OpKind::DeviceSync) {
                    OpKind::Kernel { reads, writes, .. } => (reads, writes),
                    _ => (std::mem::take(&mut reads), std::mem::take(&mut writes)),
                };
                rv.clear();
                rv.extend_from_slice(r);
                wv.clear();
                wv.extend_from_slice(w);
                OpKind::Kernel {
                    stream,
                    name,
                    reads: rv,
                    writes: wv,
                }
            };
        while emitted.get() < ops {
            let i = rng.below(STREAMS as u64) as usize;
            let s = self.streams[i];
            let mine = |k: u64| self.private[i * PRIVATE + k as usize];
            let roll = rng.below(100);
            if rng.below(RACE_EVERY) == 0 {
                // Another stream writes this stream's buffer: a race.
                let j = (i + 1 + rng.below(STREAMS as u64 - 1) as usize) % STREAMS;
                let k = kernel(self.streams[j], self.racy, &[], &[mine(0)], &mut op);
                emit(k, &mut op);
            } else if roll < 60 {
                let (a, b) = (
                    mine(rng.below(PRIVATE as u64)),
                    mine(rng.below(PRIVATE as u64)),
                );
                let k = kernel(s, self.step, &[a], &[b], &mut op);
                emit(k, &mut op);
            } else if roll < 70 {
                // Hand-off through an event.
                let j = rng.below(STREAMS as u64) as usize;
                let t = self.streams[j];
                let k = kernel(s, self.produce, &[mine(0)], &[self.shared[i]], &mut op);
                emit(k, &mut op);
                emit(
                    OpKind::EventRecord {
                        event: self.handoff[i],
                        stream: s,
                    },
                    &mut op,
                );
                emit(
                    OpKind::StreamWaitEvent {
                        stream: t,
                        event: self.handoff[i],
                    },
                    &mut op,
                );
                let k = kernel(
                    t,
                    self.consume,
                    &[self.shared[i]],
                    &[self.private[j * PRIVATE + 1]],
                    &mut op,
                );
                emit(k, &mut op);
                // The producer waits for the consumer before writing again.
                emit(
                    OpKind::EventRecord {
                        event: self.handoff[i],
                        stream: t,
                    },
                    &mut op,
                );
                emit(
                    OpKind::StreamWaitEvent {
                        stream: s,
                        event: self.handoff[i],
                    },
                    &mut op,
                );
            } else if roll < 80 {
                // A stream-ordered temporary.
                let slot = temp_next[i];
                temp_next[i] = (slot + 1) % TEMPS;
                let tmp = self.temps[i * TEMPS + slot];
                emit(
                    OpKind::Alloc {
                        buffer: tmp,
                        space: Space::Device,
                        stream: Some(s),
                    },
                    &mut op,
                );
                let k = kernel(s, self.step, &[mine(2)], &[tmp], &mut op);
                emit(k, &mut op);
                let k = kernel(s, self.step, &[tmp], &[mine(3)], &mut op);
                emit(k, &mut op);
                emit(
                    OpKind::Free {
                        buffer: tmp,
                        stream: Some(s),
                    },
                    &mut op,
                );
            } else if roll < 85 {
                // Device to host, then the host reads after an event synchronize.
                emit(
                    OpKind::Memcpy {
                        stream: s,
                        src: mine(4),
                        dst: self.pinned[i],
                        is_async: true,
                    },
                    &mut op,
                );
                emit(
                    OpKind::EventRecord {
                        event: self.copied[i],
                        stream: s,
                    },
                    &mut op,
                );
                emit(
                    OpKind::EventSync {
                        event: self.copied[i],
                    },
                    &mut op,
                );
                emit(
                    OpKind::HostRead {
                        buffer: self.pinned[i],
                    },
                    &mut op,
                );
            } else if roll < 90 && !self.extra.is_empty() {
                // The extra live buffers: written by one stream, read by the next after an event.
                let b = self.extra[rng.below(self.extra.len() as u64) as usize];
                let k = kernel(s, self.produce, &[], &[b], &mut op);
                emit(k, &mut op);
                emit(
                    OpKind::EventRecord {
                        event: self.handoff[i],
                        stream: s,
                    },
                    &mut op,
                );
                let t = self.streams[(i + 1) % STREAMS];
                emit(
                    OpKind::StreamWaitEvent {
                        stream: t,
                        event: self.handoff[i],
                    },
                    &mut op,
                );
                let k = kernel(t, self.consume, &[b], &[], &mut op);
                emit(k, &mut op);
                emit(OpKind::DeviceSync, &mut op);
            } else {
                // Work on the legacy default stream, reading what a blocking
                // stream produced (the legacy barrier orders the two).
                let k = kernel(
                    StreamId::DEFAULT,
                    self.legacy,
                    &[self.shared[i % (STREAMS / 2)]],
                    &[],
                    &mut op,
                );
                emit(k, &mut op);
            }
        }
    }
}

/// Checks `ops` generated ops; returns the checker.
fn check(program: &Program, ops: usize) -> Checker {
    let mut checker = Checker::new(program.setup.clone());
    program.generate(ops, &mut |op| {
        checker
            .step(op)
            .expect("the generated trace is well formed");
    });
    checker
}

fn mib(bytes: usize) -> String {
    format!("{:.2} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let ops = if bench { 10_000_000 } else { 100_000 };
    let program = Program::new(0);

    // Throughput: generate and check in one pass, best of three.
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..if bench { 3 } else { 1 } {
        let start = Instant::now();
        let checker = check(&program, ops);
        best = best.min(start.elapsed().as_secs_f64());
        last = Some(checker);
    }
    let checker = last.unwrap();
    let start = Instant::now();
    let mut count = 0usize;
    program.generate(ops, &mut |op| {
        black_box(op);
        count += 1;
    });
    let generate = start.elapsed().as_secs_f64();
    let rate = checker.ops() as f64 / best;
    eprintln!(
        "gpu: {} ops over {} streams ({} agents), {} hazards kept, {} more counted",
        checker.ops(),
        STREAMS,
        checker.agent_count(),
        checker.hazards().len(),
        checker.dropped()
    );
    eprintln!(
        "gpu: generate + check {:.3} s = {:.2} M ops/s (generating alone: {:.3} s)",
        best,
        rate / 1e6,
        generate
    );

    // Memory: the peak heap while checking, by trace length and by live buffers.
    let short = ops / 10;
    let (_, peak_short) = peak_during(|| check(&program, short).ops());
    let (_, peak_long) = peak_during(|| check(&program, ops).ops());
    eprintln!(
        "gpu: peak heap while checking {} ops: {}; {} ops: {} ({} buffers live)",
        short,
        mib(peak_short),
        ops,
        mib(peak_long),
        program.private.len() + program.shared.len() + program.pinned.len()
    );
    for extra in [1_000usize, 10_000, 100_000] {
        let wide = Program::new(extra);
        let (live, peak) = peak_during(|| check(&wide, short).live_buffers());
        eprintln!(
            "gpu: peak heap with {extra} extra live buffers ({live} live at the end), {short} ops: {}",
            mib(peak)
        );
    }
    // The per-op state would be at least 10x larger on the longer trace;
    // allow slack for hash sets and vectors that round their capacity up.
    assert!(
        peak_long < peak_short * 2 + (64 << 10),
        "memory grows with the trace: {peak_short} bytes for {short} ops, {peak_long} for {ops}"
    );
    if !bench {
        return;
    }
    assert!(
        rate >= 1e6,
        "{:.2} M ops/s is below the required 1 M ops/s",
        rate / 1e6
    );

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("gpu");
    group.throughput(Throughput::Elements(ops as u64));
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(30));
    group.bench_function("check_10M_ops_32_streams", |b| {
        b.iter(|| black_box(check(&program, ops).ops()))
    });
    group.finish();
    c.final_summary();
}
