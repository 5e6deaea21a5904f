//! The banker's algorithm inside running programs: pools with claims,
//! checked at every grant in every explored interleaving.

use interlock::resource::Pool;
use interlock::sync::{Arc, Semaphore};
use interlock::{thread, Builder, Kind, Report};

mod model_checks;
use model_checks::kinds;

/// Two jobs each holding `first` units and then asking for `second` more,
/// with the given claims (`None`: undeclared).
fn two_jobs(units: u64, claim: Option<u64>, first: u64, second: u64) -> Report {
    Builder::new().check(move || {
        let pool = Arc::new(Pool::new("gpu memory", units));
        let jobs: Vec<_> = (0..2)
            .map(|_| {
                let pool = pool.clone();
                thread::spawn(move || {
                    if let Some(claim) = claim {
                        pool.claim(claim);
                    }
                    let _a = pool.acquire(first);
                    if second > 0 {
                        let _b = pool.acquire(second);
                    }
                })
            })
            .collect();
        for job in jobs {
            job.join().unwrap();
        }
    })
}

#[test]
fn claims_exceeding_the_pool_are_unsafe_and_deadlock() {
    let report = two_jobs(4, Some(3), 2, 1);
    let found = kinds(&report);
    assert!(found.contains(&Kind::UnsafeState), "{report}");
    assert!(found.contains(&Kind::Deadlock), "{report}");
    let unsafe_state = report
        .findings()
        .iter()
        .find(|f| f.kind == Kind::UnsafeState)
        .unwrap();
    assert!(
        unsafe_state.message.contains("`gpu memory`"),
        "{}",
        unsafe_state.message
    );
    assert!(
        unsafe_state
            .notes
            .iter()
            .any(|n| n.contains("Allocation") && n.contains("Need")),
        "the tables are shown: {:?}",
        unsafe_state.notes
    );
    assert!(unsafe_state.trace.is_some());
    let deadlock = report
        .findings()
        .iter()
        .find(|f| f.kind == Kind::Deadlock)
        .unwrap();
    assert!(
        deadlock
            .notes
            .iter()
            .any(|n| n.contains("detection algorithm")),
        "{:?}",
        deadlock.notes
    );
}

#[test]
fn claims_larger_than_what_is_taken_are_unsafe_without_deadlock() {
    let report = two_jobs(4, Some(3), 2, 0);
    let found = kinds(&report);
    assert!(found.contains(&Kind::UnsafeState), "{report}");
    assert!(!found.contains(&Kind::Deadlock), "{report}");
}

#[test]
fn claims_that_fit_are_clean() {
    let report = two_jobs(4, Some(2), 1, 1);
    assert!(report.is_clean(), "{report}");
}

#[test]
fn undeclared_claims_are_inferred_and_clean_when_they_fit() {
    let report = two_jobs(4, None, 1, 1);
    assert!(report.is_clean(), "{report}");
    assert!(
        report.preamble.iter().any(|l| l.contains("inferred")),
        "the report says the claims were inferred: {:?}",
        report.preamble
    );
}

#[test]
fn undeclared_claims_that_cannot_all_be_met_are_unsafe() {
    // Each job ends up holding 3 of 4 units at some point: with those
    // claims, two jobs holding 2 each can never both finish.
    let report = two_jobs(4, None, 2, 1);
    let unsafe_state = report
        .findings()
        .iter()
        .find(|f| f.kind == Kind::UnsafeState);
    let unsafe_state = unsafe_state.unwrap_or_else(|| panic!("{report}"));
    assert!(
        unsafe_state.message.contains("inferred"),
        "{}",
        unsafe_state.message
    );
}

#[test]
fn three_workers_sharing_two_gpus_are_clean() {
    let report = Builder::new().check(|| {
        let gpus = Arc::new(Pool::new("gpus", 2));
        let workers: Vec<_> = (0..3)
            .map(|_| {
                let gpus = gpus.clone();
                thread::spawn(move || {
                    let _gpu = gpus.acquire(1);
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        assert_eq!(gpus.available(), 2);
    });
    assert!(report.is_clean(), "{report}");
}

#[test]
fn a_semaphore_limits_concurrency() {
    let report = Builder::new().check(|| {
        let slots = Arc::new(Semaphore::named("slots", 1));
        let inside = Arc::new(interlock::sync::atomic::AtomicUsize::new(0));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (slots, inside) = (slots.clone(), inside.clone());
                thread::spawn(move || {
                    let _permit = slots.acquire();
                    let now = inside.fetch_add(1, interlock::sync::atomic::Ordering::SeqCst);
                    assert_eq!(now, 0, "two threads inside a one-slot section");
                    inside.fetch_sub(1, interlock::sync::atomic::Ordering::SeqCst);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
    assert!(report.is_clean(), "{report}");
}

/// Dining philosophers, each picking up the left fork first; with a waiter
/// (a semaphore) admitting at most `admitted` of them to the table.
fn philosophers_with_waiter(seats: usize, admitted: u64) -> Report {
    Builder::new().check(move || {
        let forks: Vec<_> = (0..seats)
            .map(|_| Arc::new(interlock::sync::Mutex::new(())))
            .collect();
        let waiter = Arc::new(Semaphore::named("waiter", admitted));
        let handles: Vec<_> = (0..seats)
            .map(|i| {
                let (left, right) = (forks[i].clone(), forks[(i + 1) % seats].clone());
                let waiter = waiter.clone();
                thread::spawn(move || {
                    let _seat = waiter.acquire();
                    let _left = left.lock().unwrap();
                    let _right = right.lock().unwrap();
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    })
}

#[test]
fn a_waiter_admitting_all_but_one_philosopher_is_clean() {
    let report = philosophers_with_waiter(3, 2);
    assert!(report.is_clean(), "{report}");
}

#[test]
fn a_waiter_admitting_every_philosopher_does_not_help() {
    let report = philosophers_with_waiter(3, 3);
    assert!(
        kinds(&report).contains(&Kind::LockOrderInversion),
        "{report}"
    );
}
