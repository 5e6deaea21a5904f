//! Instrumentation overhead: the same program explored by raw loom and by
//! interlock's runtime (which records every operation and analyses every
//! execution), as a ratio of medians measured in one run; and the execution
//! in which the 4-philosopher lock-order cycle is first reported.
//!
//! Run: `cargo bench --bench runtime` (add `-- --quick` for fewer rounds).

use std::sync::Arc;
use std::time::{Duration, Instant};

const SEATS: usize = 3;

/// Three philosophers who pick up the lower-numbered fork first: no deadlock,
/// so exploration covers every interleaving.
fn loom_philosophers() {
    let forks: Vec<_> = (0..SEATS)
        .map(|_| Arc::new(loom::sync::Mutex::new(0u32)))
        .collect();
    let handles: Vec<_> = (0..SEATS)
        .map(|i| {
            let (a, b) = (i.min((i + 1) % SEATS), i.max((i + 1) % SEATS));
            let (first, second) = (forks[a].clone(), forks[b].clone());
            loom::thread::spawn(move || {
                let mut x = first.lock().unwrap();
                let mut y = second.lock().unwrap();
                *x += 1;
                *y += 1;
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

fn interlock_philosophers() {
    use interlock::sync::Mutex;
    let forks: Vec<_> = (0..SEATS).map(|_| Arc::new(Mutex::new(0u32))).collect();
    let handles: Vec<_> = (0..SEATS)
        .map(|i| {
            let (a, b) = (i.min((i + 1) % SEATS), i.max((i + 1) % SEATS));
            let (first, second) = (forks[a].clone(), forks[b].clone());
            interlock::thread::spawn(move || {
                let mut x = first.lock().unwrap();
                let mut y = second.lock().unwrap();
                *x += 1;
                *y += 1;
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

/// Minor page faults of this process so far (Linux), where the platform
/// says: each loom thread runs on a fresh coroutine stack, and every page of
/// it that a thread touches is a fault.
fn minor_faults() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    after.split(' ').nth(7)?.parse().ok()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 3 } else { 11 };
    // For profiling one side alone: `INTERLOCK_BENCH_SIDE=loom|interlock`.
    let side_var = std::env::var("INTERLOCK_BENCH_SIDE").ok();
    let side = side_var.as_deref();
    let mut raw = Vec::new();
    let mut instrumented = Vec::new();
    let mut executions = 0;
    let (mut raw_faults, mut instrumented_faults) = (0, 0);
    // Interleave the two so that machine noise hits both alike.
    for _ in 0..rounds {
        let faults = minor_faults();
        let start = Instant::now();
        if side != Some("interlock") {
            loom::model::Builder::new().check(loom_philosophers);
        }
        raw.push(start.elapsed());
        let middle = minor_faults();
        let start = Instant::now();
        let report = if side == Some("loom") {
            interlock::Report::default()
        } else {
            interlock::Builder::new()
                .preemption_bound(None)
                .check(interlock_philosophers)
        };
        instrumented.push(start.elapsed());
        if let (Some(a), Some(b), Some(c)) = (faults, middle, minor_faults()) {
            raw_faults += b - a;
            instrumented_faults += c - b;
        }
        assert!(report.is_clean(), "{report}");
        executions = report.summary.executions;
    }
    let (raw, instrumented) = (median(raw), median(instrumented));
    println!("dining philosophers, {SEATS} ordered, full exploration ({executions} executions), median of {rounds}:");
    println!("  raw loom:           {raw:?}");
    println!("  interlock runtime:  {instrumented:?}");
    println!(
        "  overhead:           {:.2}x",
        instrumented.as_secs_f64() / raw.as_secs_f64()
    );
    let per_execution = |faults: u64| faults as f64 / (rounds as f64 * executions.max(1) as f64);
    println!(
        "  minor page faults per execution: raw loom {:.1}, interlock {:.1}",
        per_execution(raw_faults),
        per_execution(instrumented_faults)
    );

    if side.is_some() {
        return;
    }
    for bound in [None, Some(2)] {
        let report = interlock::Builder::new()
            .preemption_bound(bound)
            .check(four_left_first);
        let first = |kind| {
            report
                .findings()
                .iter()
                .filter(|f| f.kind == kind)
                .filter_map(|f| f.execution)
                .min()
        };
        println!(
            "4 philosophers left-first, preemption bound {}: lock-order-inversion first reported in execution {:?}, deadlock observed in execution {:?} ({} executions run)",
            bound.map_or("none".to_string(), |b| b.to_string()),
            first(interlock::Kind::LockOrderInversion),
            first(interlock::Kind::Deadlock),
            report.summary.executions
        );
    }
}

fn four_left_first() {
    use interlock::sync::Mutex;
    let forks: Vec<_> = (0..4).map(|_| Arc::new(Mutex::new(()))).collect();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let (left, right) = (forks[i].clone(), forks[(i + 1) % 4].clone());
            interlock::thread::spawn(move || {
                let _l = left.lock().unwrap();
                let _r = right.lock().unwrap();
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}
