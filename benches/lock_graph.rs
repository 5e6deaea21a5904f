//! Lock-graph cycle search on generated graphs of 10,000 locks and 100,000
//! edges: a realistic one (a mostly consistent lock order with a few
//! inversions) and a worst case (random edges, one giant strongly connected
//! component with astronomically many cycles, where only the search bounds
//! keep the cost down).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use interlock::analysis::lock_graph::{analyze, Acquisition, Held, LockKey};
use interlock::event::{LockMode, Site};

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

const LOCKS: u64 = 10_000;
const EDGES: usize = 100_000;
const THREADS: u64 = 16;

fn facts(mut edge: impl FnMut(&mut Rng) -> (u64, u64), inversions: usize) -> Vec<Acquisition> {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let keys: Vec<LockKey> = (0..LOCKS)
        .map(|i| LockKey::named(format!("lock{i}")))
        .collect();
    let x = LockMode::Exclusive;
    let make = |from: u64, to: u64, rng: &mut Rng| {
        let line = rng.below(5_000) as u32 + 1;
        Acquisition::new(
            keys[to as usize].clone(),
            x,
            Site::new("gen.rs", line + 1, 5),
        )
        .by(format!("thread {}", rng.below(THREADS)))
        .holding(Held::new(
            keys[from as usize].clone(),
            x,
            Site::new("gen.rs", line, 5),
        ))
    };
    let mut facts = Vec::with_capacity(EDGES + inversions);
    while facts.len() < EDGES {
        let (from, to) = edge(&mut rng);
        if from != to {
            facts.push(make(from, to, &mut rng));
        }
    }
    for _ in 0..inversions {
        // Take a consistent pair the wrong way round.
        let (from, to) = edge(&mut rng);
        if from != to {
            facts.push(make(to, from, &mut rng));
        }
    }
    facts
}

fn bench(c: &mut Criterion) {
    // Locks taken in increasing order (edges point up), with short hops as
    // real nesting is local, and 50 inversions.
    let ordered = facts(
        |rng| {
            let from = rng.below(LOCKS - 1);
            let to = (from + 1 + rng.below(20)).min(LOCKS - 1);
            (from, to)
        },
        50,
    );
    let random = facts(|rng| (rng.below(LOCKS), rng.below(LOCKS)), 0);
    for (name, facts) in [("ordered", &ordered), ("random", &random)] {
        let a = analyze(facts);
        let kept = a.cycles.iter().filter(|c| c.is_kept()).count();
        // One finding per strongly connected group with a kept cycle.
        let inversions = a.findings.len();
        eprintln!(
            "{name}: {} locks, {} edges, {} cyclic components (largest {}), {} cycles ({kept} kept, {inversions} findings), {} steps, truncated: {}",
            a.stats.locks,
            a.stats.edges,
            a.stats.components,
            a.stats.largest_component,
            a.stats.cycles,
            a.stats.steps,
            a.stats.truncated
        );
    }

    let mut group = c.benchmark_group("lock_graph");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ordered.len() as u64));
    group.bench_function("ordered_10k_locks_100k_edges", |b| {
        b.iter(|| black_box(analyze(black_box(&ordered))))
    });
    group.throughput(Throughput::Elements(random.len() as u64));
    group.bench_function("random_10k_locks_100k_edges", |b| {
        b.iter(|| black_box(analyze(black_box(&random))))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
