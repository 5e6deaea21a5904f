//! The banker's safety and request algorithms on 1,000 processes and 100
//! resource types.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use interlock::analysis::banker::{self, State, Verdict};

const PROCESSES: usize = 1000;
const RESOURCES: usize = 100;

/// A safe state that makes the scan work: process `i` holds one unit of each
/// resource and may still need `PROCESSES - i`, so only the last pending
/// process can finish on each pass (the worst case for repeated scans).
fn chain() -> State {
    let resources = (0..RESOURCES).map(|r| format!("R{r}")).collect();
    let mut state = State::new(resources, vec![1; RESOURCES]);
    for i in 0..PROCESSES {
        let need = (PROCESSES - i) as u64;
        state = state.with_process(
            format!("P{i}"),
            vec![1 + need; RESOURCES],
            vec![1; RESOURCES],
            None,
        );
    }
    state
}

/// A pseudo-random safe state: every process holds up to 3 units of each
/// resource and may need up to 5 more, and at least 5 of each are free.
fn random() -> State {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |bound: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % bound
    };
    let resources = (0..RESOURCES).map(|r| format!("R{r}")).collect();
    let available = (0..RESOURCES).map(|_| 5 + next(5)).collect();
    let mut state = State::new(resources, available);
    for i in 0..PROCESSES {
        let held: Vec<u64> = (0..RESOURCES).map(|_| next(4)).collect();
        let max = held.iter().map(|h| h + next(6)).collect();
        state = state.with_process(format!("P{i}"), max, held, None);
    }
    state
}

fn bench(c: &mut Criterion) {
    let chain = chain();
    assert!(banker::safety(&chain).unwrap().is_safe());
    let random = random();
    assert!(banker::safety(&random).unwrap().is_safe());

    c.bench_function("safety 1000x100 chain (one process per pass)", |b| {
        b.iter(|| banker::safety(black_box(&chain)).unwrap())
    });
    c.bench_function("safety 1000x100 random safe", |b| {
        b.iter(|| banker::safety(black_box(&random)).unwrap())
    });
    // The last process needs one unit of everything and one is free: the
    // request is granted after a full safety check of the state it leaves.
    let last = PROCESSES - 1;
    let ask = vec![1; RESOURCES];
    assert!(matches!(
        banker::request(&chain, last, &ask).unwrap().verdict,
        Verdict::Granted { .. }
    ));
    c.bench_function("request 1000x100 chain (granted)", |b| {
        b.iter(|| banker::request(black_box(&chain), last, black_box(&ask)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
