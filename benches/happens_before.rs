//! Vector-clock throughput: happens-before and FastTrack race detection over
//! a generated trace of 8 threads and about a million events, mixing locked
//! and unlocked cell accesses, shared reads and atomics.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use interlock::analysis::happens_before::{races, HappensBefore};
use interlock::event::{Action, LockMode, MemoryOrder, ObjectKind, Site, Trace};

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

const THREADS: usize = 8;
const LOCKS: usize = 4;
const TARGET_EVENTS: usize = 1_000_000;

fn generate() -> Trace {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut trace = Trace::new();
    let site = |line: u32| Site::new("bench.rs", line, 1);
    let main = trace.thread("main");
    let workers: Vec<_> = (0..THREADS)
        .map(|i| trace.thread(format!("worker {i}")))
        .collect();
    let locks: Vec<_> = (0..LOCKS)
        .map(|i| trace.object(ObjectKind::Mutex, format!("m{i}"), site(1)))
        .collect();
    let cells: Vec<_> = (0..LOCKS)
        .map(|i| trace.object(ObjectKind::Cell, format!("c{i}"), site(2)))
        .collect();
    let private: Vec<_> = (0..THREADS)
        .map(|i| trace.object(ObjectKind::Cell, format!("local{i}"), site(3)))
        .collect();
    let config = trace.object(ObjectKind::Cell, "config", site(4));
    let racy = trace.object(ObjectKind::Cell, "stats", site(5));
    let flag = trace.object(ObjectKind::Atomic, "flag", site(6));

    trace.push(main, Action::Write { cell: config }, site(10));
    for &w in &workers {
        trace.push(main, Action::Spawn { child: w }, site(11));
    }
    let x = LockMode::Exclusive;
    while trace.events.len() < TARGET_EVENTS {
        let t = rng.below(THREADS as u64) as usize;
        let w = workers[t];
        match rng.below(16) {
            0..=9 => {
                // A critical section on one of the shared cells.
                let k = rng.below(LOCKS as u64) as usize;
                trace.push(
                    w,
                    Action::LockAcquire {
                        lock: locks[k],
                        mode: x,
                    },
                    site(20),
                );
                trace.push(w, Action::Read { cell: cells[k] }, site(21));
                trace.push(w, Action::Write { cell: cells[k] }, site(22));
                trace.push(
                    w,
                    Action::LockRelease {
                        lock: locks[k],
                        mode: x,
                    },
                    site(23),
                );
            }
            10..=12 => {
                trace.push(w, Action::Read { cell: private[t] }, site(30));
                trace.push(w, Action::Write { cell: private[t] }, site(31));
            }
            13 | 14 => trace.push(w, Action::Read { cell: config }, site(40)),
            _ => {
                let order = if rng.below(2) == 0 {
                    MemoryOrder::Release
                } else {
                    MemoryOrder::Relaxed
                };
                trace.push(
                    w,
                    Action::AtomicRmw {
                        atomic: flag,
                        order,
                    },
                    site(50),
                );
                if rng.below(64) == 0 {
                    // The occasional unsynchronized update: a real race.
                    trace.push(w, Action::Write { cell: racy }, site(51));
                }
            }
        }
    }
    for &w in &workers {
        trace.push(main, Action::Join { child: w }, site(12));
    }
    trace
}

fn bench(c: &mut Criterion) {
    let trace = generate();
    let events = trace.events.len() as u64;
    let found = races(&trace);
    eprintln!("generated {events} events; {} distinct races", found.len());

    let mut group = c.benchmark_group("happens_before");
    group.throughput(Throughput::Elements(events));
    group.sample_size(10);
    group.bench_function("races_8_threads_1m_events", |b| {
        b.iter(|| black_box(races(black_box(&trace))))
    });
    group.bench_function("clocks_8_threads_1m_events", |b| {
        b.iter(|| black_box(HappensBefore::compute(black_box(&trace))))
    });
    group.bench_function("fork_join_clocks_8_threads_1m_events", |b| {
        b.iter(|| black_box(HappensBefore::fork_join(black_box(&trace))))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
