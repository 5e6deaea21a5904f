//! Models that must be found (kind and line) and their fixed twins that must
//! be clean, run through the loom engine (and the std engine where noted).

use interlock::cell::TrackedCell;
use interlock::sync::atomic::{AtomicUsize, Ordering};
use interlock::sync::{mpsc, Arc, Barrier, Condvar, Mutex, RwLock};
use interlock::{thread, Builder, Engine, Kind, Report};

mod model_checks;
use model_checks::kinds;

/// The finding of `kind` has a location at `line` of this file.
fn assert_found_at(report: &Report, kind: Kind, line: u32) {
    model_checks::assert_found_at(report, kind, "runtime_models.rs", line);
}

/// The line of this file that ends with the comment `// NAME`.
fn marker(name: &str) -> u32 {
    model_checks::marker(include_str!("runtime_models.rs"), name)
}

fn assert_clean(report: &Report) {
    assert!(report.is_clean(), "expected a clean report, got:\n{report}");
    assert!(report.summary.executions > 0);
}

#[test]
fn opposite_order_transfers_deadlock() {
    let second_lock_in_thread = marker("second_lock_in_thread");
    let report = Builder::new().check(|| {
        let a = Arc::new(Mutex::new(100));
        let b = Arc::new(Mutex::new(0));
        let (a2, b2) = (a.clone(), b.clone());
        let t = thread::spawn(move || {
            let mut from = b2.lock().unwrap();
            *from -= 1;
            let mut to = a2.lock().unwrap(); // second_lock_in_thread
            *to += 1;
        });
        {
            let mut from = a.lock().unwrap();
            let mut to = b.lock().unwrap();
            *from -= 1;
            *to += 1;
        }
        t.join().unwrap();
    });
    assert!(kinds(&report).contains(&Kind::Deadlock), "{report}");
    assert_found_at(&report, Kind::Deadlock, second_lock_in_thread);
    let deadlock = report
        .findings()
        .iter()
        .find(|f| f.kind == Kind::Deadlock)
        .unwrap();
    assert!(deadlock.trace.as_ref().is_some_and(|t| !t.is_empty()));
    assert!(deadlock.execution.is_some());
    assert!(
        deadlock.message.contains("`a`") && deadlock.message.contains("`b`"),
        "{}",
        deadlock.message
    );
}

#[test]
fn ordered_transfers_are_clean() {
    let report = Builder::new().check(|| {
        let a = Arc::new(Mutex::new(100));
        let b = Arc::new(Mutex::new(0));
        let (a2, b2) = (a.clone(), b.clone());
        let t = thread::spawn(move || {
            let mut from = a2.lock().unwrap();
            let mut to = b2.lock().unwrap();
            *from -= 1;
            *to += 1;
        });
        {
            let mut from = a.lock().unwrap();
            let mut to = b.lock().unwrap();
            *from -= 1;
            *to += 1;
        }
        t.join().unwrap();
        assert_eq!(*a.lock().unwrap() + *b.lock().unwrap(), 100);
    });
    assert_clean(&report);
    assert!(report.summary.complete);
}

#[test]
fn lost_update_with_load_then_store_fails_an_assertion() {
    let assert_line = marker("assert_line");
    let report = Builder::new().check(|| {
        let counter = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let counter = counter.clone();
                thread::spawn(move || {
                    let seen = counter.load(Ordering::SeqCst);
                    counter.store(seen + 1, Ordering::SeqCst);
                })
            })
            .collect();
        handles.into_iter().for_each(|h| h.join().unwrap());
        assert_eq!(counter.load(Ordering::SeqCst), 2); // assert_line
    });
    assert_found_at(&report, Kind::AssertionFailure, assert_line);
}

#[test]
fn fetch_add_is_clean() {
    let report = Builder::new().check(|| {
        let counter = Arc::new(AtomicUsize::new(0));
        let c2 = counter.clone();
        let t = thread::spawn(move || {
            c2.fetch_add(1, Ordering::SeqCst);
        });
        counter.fetch_add(1, Ordering::SeqCst);
        t.join().unwrap();
        assert_eq!(counter.load(Ordering::SeqCst), 2);
    });
    assert_clean(&report);
}

struct Account {
    balance: Mutex<i64>,
}

impl Account {
    fn balance(&self) -> i64 {
        *self.balance.lock().unwrap()
    }
}

#[test]
fn helper_relocking_the_callers_lock_is_a_double_lock() {
    let first = marker("first");
    let report = Builder::new().check(|| {
        let account = Account {
            balance: Mutex::new(5),
        };
        let guard = account.balance.lock().unwrap(); // first
        let total = account.balance() + *guard;
        drop(guard);
        assert!(total > 0);
    });
    assert_found_at(&report, Kind::DoubleLock, first);
    let f = report
        .findings()
        .iter()
        .find(|f| f.kind == Kind::DoubleLock)
        .unwrap();
    assert!(f.message.contains("`Account.balance`"), "{}", f.message);
}

#[test]
fn rwlock_read_then_write_is_a_double_lock() {
    let write = marker("write");
    let report = Builder::new().check(|| {
        let config = RwLock::new(1);
        let current = config.read().unwrap();
        if *current == 1 {
            *config.write().unwrap() = 2; // write
        }
    });
    assert_found_at(&report, Kind::DoubleLock, write);
}

#[test]
fn rwlock_read_then_write_after_dropping_is_clean() {
    let report = Builder::new().check(|| {
        let config = RwLock::new(1);
        let current = *config.read().unwrap();
        if current == 1 {
            *config.write().unwrap() = 2;
        }
    });
    assert_clean(&report);
}

#[test]
fn latch_notifying_without_the_mutex_loses_the_wake_up() {
    let report = Builder::new().check(|| {
        let pair = Arc::new((Mutex::new(false), Condvar::new()));
        let pair2 = pair.clone();
        let t = thread::spawn(move || {
            let (lock, cv) = &*pair2;
            let ready = *lock.lock().unwrap();
            if !ready {
                // checked, then released: the notify can land before the wait
                let guard = lock.lock().unwrap();
                let _guard = cv.wait(guard).unwrap();
            }
        });
        let (lock, cv) = &*pair;
        *lock.lock().unwrap() = true;
        cv.notify_all();
        t.join().unwrap();
    });
    assert!(kinds(&report).contains(&Kind::Deadlock), "{report}");
    let f = report
        .findings()
        .iter()
        .find(|f| f.kind == Kind::Deadlock)
        .unwrap();
    assert!(f.message.contains("lost wake-up"), "{}", f.message);
}

#[test]
fn latch_with_a_while_loop_under_the_mutex_is_clean() {
    let report = Builder::new().check(|| {
        let pair = Arc::new((Mutex::new(false), Condvar::new()));
        let pair2 = pair.clone();
        let t = thread::spawn(move || {
            let (lock, cv) = &*pair2;
            let mut ready = lock.lock().unwrap();
            while !*ready {
                ready = cv.wait(ready).unwrap();
            }
        });
        let (lock, cv) = &*pair;
        *lock.lock().unwrap() = true;
        cv.notify_all();
        t.join().unwrap();
    });
    assert_clean(&report);
}

#[test]
fn unsynchronized_tracked_cell_is_a_data_race() {
    let racy_write = marker("racy_write");
    let report = Builder::new().check(|| {
        let cell = Arc::new(TrackedCell::new(0u32));
        let c2 = cell.clone();
        let t = thread::spawn(move || {
            c2.set(1); // racy_write
        });
        let _ = cell.get();
        t.join().unwrap();
    });
    assert_found_at(&report, Kind::DataRace, racy_write);
}

#[test]
fn tracked_cell_ordered_by_join_is_clean() {
    let report = Builder::new().check(|| {
        let cell = Arc::new(TrackedCell::new(0u32));
        let c2 = cell.clone();
        let t = thread::spawn(move || c2.set(1));
        t.join().unwrap();
        assert_eq!(cell.get(), 1);
    });
    assert_clean(&report);
}

#[test]
fn channel_pipeline_and_barrier_are_clean() {
    let report = Builder::new().check(|| {
        let (tx, rx) = mpsc::channel();
        let barrier = Arc::new(Barrier::new(2));
        let b2 = barrier.clone();
        let producer = thread::spawn(move || {
            for i in 0..2 {
                tx.send(i).unwrap();
            }
            // The receiver's loop ends when the last sender is gone.
            drop(tx);
            b2.wait();
        });
        let got: Vec<i32> = rx.iter().collect();
        barrier.wait();
        producer.join().unwrap();
        assert_eq!(got, vec![0, 1]);
    });
    assert_clean(&report);
}

#[test]
fn std_engine_runs_the_same_model() {
    let report = Builder::new().engine(Engine::Std).check(|| {
        let counter = Arc::new(Mutex::new(0));
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let counter = counter.clone();
                thread::spawn(move || *counter.lock().unwrap() += 1)
            })
            .collect();
        handles.into_iter().for_each(|h| h.join().unwrap());
        assert_eq!(*counter.lock().unwrap(), 3);
    });
    assert_clean(&report);
    assert_eq!(report.summary.engine.as_deref(), Some("std"));
    assert!(!report.summary.complete);
}

#[test]
fn std_engine_unwinds_a_real_deadlock_instead_of_hanging() {
    let report = Builder::new()
        .engine(Engine::Std)
        .max_executions(50)
        .check(|| {
            let a = Arc::new(Mutex::new(()));
            let b = Arc::new(Mutex::new(()));
            let (a2, b2) = (a.clone(), b.clone());
            let barrier = Arc::new(Barrier::new(2));
            let barrier2 = barrier.clone();
            let t = thread::spawn(move || {
                let _b = b2.lock().unwrap();
                barrier2.wait();
                let _a = a2.lock().unwrap();
            });
            let _a = a.lock().unwrap();
            barrier.wait();
            let _b = b.lock().unwrap();
            drop(_b);
            drop(_a);
            t.join().unwrap();
        });
    assert!(kinds(&report).contains(&Kind::Deadlock), "{report}");
}

#[test]
fn five_threads_fall_back_to_the_std_engine() {
    let report = Builder::new().check(|| {
        let counter = Arc::new(Mutex::new(0));
        let handles: Vec<_> = (0..5)
            .map(|_| {
                let counter = counter.clone();
                thread::spawn(move || *counter.lock().unwrap() += 1)
            })
            .collect();
        handles.into_iter().for_each(|h| h.join().unwrap());
    });
    assert_eq!(report.summary.engine.as_deref(), Some("std"), "{report}");
    assert!(
        report.preamble.iter().any(|l| l.contains("more than")),
        "{report:?}"
    );
    assert_clean(&report);
}

#[test]
fn model_panics_with_the_report_on_a_bug() {
    let result = std::panic::catch_unwind(|| {
        interlock::model(|| {
            let m = Mutex::new(0);
            let _g = m.lock().unwrap();
            let _h = m.lock().unwrap();
        })
    });
    let payload = result.expect_err("model must panic on a double lock");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("double-lock"), "{message}");
}

#[test]
fn lost_update_is_an_atomicity_violation_even_without_an_assertion() {
    let store = marker("stale_store");
    let report = Builder::new().check(|| {
        let counter = Arc::new(AtomicUsize::new(0));
        let c2 = counter.clone();
        let t = thread::spawn(move || {
            c2.fetch_add(1, Ordering::SeqCst);
        });
        let seen = counter.load(Ordering::SeqCst);
        counter.store(seen + 1, Ordering::SeqCst); // stale_store
        t.join().unwrap();
    });
    assert_found_at(&report, Kind::AtomicityViolation, store);
}

#[test]
fn check_then_act_across_two_critical_sections_is_an_atomicity_violation() {
    let act = marker("act");
    let report = Builder::new().check(|| {
        let seats = Arc::new(Mutex::new(1u32));
        let s2 = seats.clone();
        let t = thread::spawn(move || {
            let mut left = s2.lock().unwrap();
            if *left > 0 {
                *left -= 1;
            }
        });
        let available = *seats.lock().unwrap() > 0;
        if available {
            *seats.lock().unwrap() = 0; // act
        }
        t.join().unwrap();
    });
    assert_found_at(&report, Kind::AtomicityViolation, act);
}

#[test]
fn bounded_buffer_with_while_loops_is_clean() {
    let report = Builder::new().check(|| {
        let shared = Arc::new((Mutex::new(Vec::<u32>::new()), Condvar::new()));
        let producer_side = shared.clone();
        let producer = thread::spawn(move || {
            let (items, cv) = &*producer_side;
            for i in 0..2 {
                let mut q = items.lock().unwrap();
                while !q.is_empty() {
                    q = cv.wait(q).unwrap();
                }
                q.push(i);
                cv.notify_all();
            }
        });
        let (items, cv) = &*shared;
        for _ in 0..2 {
            let mut q = items.lock().unwrap();
            while q.is_empty() {
                q = cv.wait(q).unwrap();
            }
            q.pop();
            cv.notify_all();
        }
        producer.join().unwrap();
    });
    assert_clean(&report);
}

fn philosophers(seats: usize, ordered: bool) {
    let forks: Vec<_> = (0..seats).map(|_| Arc::new(Mutex::new(()))).collect();
    let handles: Vec<_> = (0..seats)
        .map(|i| {
            let (left, right) = (i, (i + 1) % seats);
            let (first, second) = if ordered {
                (left.min(right), left.max(right))
            } else {
                (left, right)
            };
            let (first, second) = (forks[first].clone(), forks[second].clone());
            thread::spawn(move || {
                let _first = first.lock().unwrap();
                let _second = second.lock().unwrap(); // second_fork
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn three_left_first_philosophers_deadlock() {
    let report = Builder::new().check(|| philosophers(3, false));
    assert!(kinds(&report).contains(&Kind::Deadlock), "{report}");
    assert!(
        kinds(&report).contains(&Kind::LockOrderInversion),
        "{report}"
    );
    assert_found_at(&report, Kind::LockOrderInversion, marker("second_fork"));
}

#[test]
fn three_ordered_philosophers_are_clean() {
    let report = Builder::new().check(|| philosophers(3, true));
    assert_clean(&report);
    assert!(report.summary.complete);
}

#[test]
fn four_left_first_philosophers_cycle_is_reported_in_the_first_execution() {
    let report = Builder::new()
        .max_executions(1)
        .check(|| philosophers(4, false));
    let cycle = report
        .findings()
        .iter()
        .find(|f| f.kind == Kind::LockOrderInversion)
        .unwrap_or_else(|| panic!("no lock-order-inversion after one execution:\n{report}"));
    assert_eq!(cycle.execution, Some(1));
    assert!(!report.summary.complete);
    let inversions = kinds(&report)
        .iter()
        .filter(|&&k| k == Kind::LockOrderInversion)
        .count();
    assert_eq!(inversions, 1, "one group of forks, one finding:\n{report}");
}

#[test]
fn joining_a_thread_that_waits_for_a_held_lock_is_a_deadlock_cycle() {
    let report = Builder::new().check(|| {
        let log = Arc::new(Mutex::new(0));
        let log2 = log.clone();
        let guard = log.lock().unwrap();
        let t = thread::spawn(move || {
            *log2.lock().unwrap() += 1; // child_waits
        });
        t.join().unwrap(); // join_held
        drop(guard);
    });
    assert_found_at(&report, Kind::Deadlock, marker("join_held"));
    assert_found_at(&report, Kind::Deadlock, marker("child_waits"));
    let deadlock = report
        .findings()
        .iter()
        .find(|f| f.kind == Kind::Deadlock)
        .unwrap();
    assert!(
        deadlock.message.contains("main holds `")
            && deadlock.message.contains("waits for thread 1 to finish"),
        "{}",
        deadlock.message
    );
}

#[test]
fn joining_after_letting_go_of_the_lock_is_clean() {
    let report = Builder::new().check(|| {
        let log = Arc::new(Mutex::new(0));
        let log2 = log.clone();
        let guard = log.lock().unwrap();
        let t = thread::spawn(move || {
            *log2.lock().unwrap() += 1;
        });
        drop(guard);
        t.join().unwrap();
    });
    assert_clean(&report);
}

#[test]
fn five_left_first_philosophers_are_reported_through_the_fallback() {
    let report = Builder::new().check(|| philosophers(5, false));
    assert_eq!(report.summary.engine.as_deref(), Some("std"));
    assert!(
        kinds(&report).contains(&Kind::LockOrderInversion),
        "{report}"
    );
}

#[test]
fn opposite_orders_separated_by_a_join_are_clean() {
    let report = Builder::new().check(|| {
        let a = Arc::new(Mutex::new(()));
        let b = Arc::new(Mutex::new(()));
        let (a2, b2) = (a.clone(), b.clone());
        thread::spawn(move || {
            let _a = a2.lock().unwrap();
            let _b = b2.lock().unwrap();
        })
        .join()
        .unwrap();
        let (a3, b3) = (a.clone(), b.clone());
        thread::spawn(move || {
            let _b = b3.lock().unwrap();
            let _a = a3.lock().unwrap();
        })
        .join()
        .unwrap();
    });
    assert_clean(&report);
}

#[test]
fn opposite_orders_under_a_common_gate_lock_are_clean() {
    let report = Builder::new().check(|| {
        let gate = Arc::new(Mutex::new(()));
        let a = Arc::new(Mutex::new(()));
        let b = Arc::new(Mutex::new(()));
        let (g2, a2, b2) = (gate.clone(), a.clone(), b.clone());
        let t = thread::spawn(move || {
            let _g = g2.lock().unwrap();
            let _a = a2.lock().unwrap();
            let _b = b2.lock().unwrap();
        });
        {
            let _g = gate.lock().unwrap();
            let _b = b.lock().unwrap();
            let _a = a.lock().unwrap();
        }
        t.join().unwrap();
    });
    assert_clean(&report);
}

#[test]
fn scoped_threads_borrow_and_are_checked() {
    let report = Builder::new().check(|| {
        let total = Mutex::new(0);
        let racy = TrackedCell::new(0u32);
        thread::scope(|s| {
            let a = s.spawn(|| *total.lock().unwrap() += 1);
            s.spawn(|| racy.set(1)); // scoped_race
            let _ = racy.get();
            a.join().unwrap();
        });
        assert_eq!(*total.lock().unwrap(), 1);
    });
    assert_found_at(&report, Kind::DataRace, marker("scoped_race"));
}

#[test]
fn scoped_threads_joined_by_the_scope_are_clean() {
    let report = Builder::new().check(|| {
        let cell = TrackedCell::new(0u32);
        thread::scope(|s| {
            s.spawn(|| cell.set(1));
        });
        assert_eq!(cell.get(), 1);
    });
    assert_clean(&report);
}

fn publication(store: Ordering, load: Ordering) -> Report {
    Builder::new().check(move || {
        let data = Arc::new(TrackedCell::new(0u32));
        let ready = Arc::new(interlock::sync::atomic::AtomicBool::new(false));
        let (d2, r2) = (data.clone(), ready.clone());
        let t = thread::spawn(move || {
            d2.set(42);
            r2.store(true, store);
        });
        if ready.load(load) {
            assert_eq!(data.get(), 42); // published_read
        }
        t.join().unwrap();
    })
}

#[test]
fn relaxed_publication_is_a_data_race() {
    let report = publication(Ordering::Relaxed, Ordering::Relaxed);
    assert_found_at(&report, Kind::DataRace, marker("published_read"));
}

#[test]
fn release_acquire_publication_is_clean() {
    assert_clean(&publication(Ordering::Release, Ordering::Acquire));
}

#[test]
fn recursive_read_is_a_warning() {
    let report = Builder::new().check(|| {
        let table = RwLock::new(0);
        let first = table.read().unwrap();
        let again = table.read().unwrap(); // read_again
        assert_eq!(*first, *again);
    });
    assert_found_at(&report, Kind::RecursiveRead, marker("read_again"));
    assert!(
        report.is_clean(),
        "a recursive read is a warning:\n{report}"
    );
}

fn condvar_consumers(use_while: bool) -> Report {
    Builder::new().check(move || {
        let shared = Arc::new((Mutex::new(Vec::<u32>::new()), Condvar::new()));
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let shared = shared.clone();
                thread::spawn(move || {
                    let (items, cv) = &*shared;
                    let mut q = items.lock().unwrap();
                    if use_while {
                        while q.is_empty() {
                            q = cv.wait(q).unwrap();
                        }
                    } else if q.is_empty() {
                        q = cv.wait(q).unwrap();
                    }
                    q.pop().expect("woken with nothing to take"); // stolen
                })
            })
            .collect();
        let (items, cv) = &*shared;
        for i in 0..2 {
            items.lock().unwrap().push(i);
            cv.notify_one();
        }
        for c in consumers {
            c.join().unwrap();
        }
    })
}

#[test]
fn condvar_if_instead_of_while_loses_to_a_stolen_wake_up() {
    let report = condvar_consumers(false);
    assert!(!report.is_clean(), "{report}");
    assert_found_at(&report, Kind::AssertionFailure, marker("stolen"));
}

#[test]
fn condvar_while_loop_survives_stolen_wake_ups() {
    assert_clean(&condvar_consumers(true));
}

#[test]
fn a_deadlock_with_progress_reporting_on_still_returns_a_report() {
    // A failing execution leaves the blocked threads' stacks behind; nothing
    // the explorer locks may live on them.
    let report = Builder::new().progress(true).check(|| {
        let a = Arc::new(Mutex::new(()));
        let b = Arc::new(Mutex::new(()));
        let (a2, b2) = (a.clone(), b.clone());
        let t = thread::spawn(move || {
            let _b = b2.lock().unwrap();
            let _a = a2.lock().unwrap();
        });
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
        drop((_b, _a));
        t.join().unwrap();
    });
    assert!(kinds(&report).contains(&Kind::Deadlock), "{report}");
}

#[test]
fn a_channel_hand_off_orders_the_data_it_publishes() {
    // The send happens-before the receive of the same message, in every
    // interleaving: the receiver's read is ordered after the sender's write.
    let report = Builder::new().check(|| {
        let data = Arc::new(TrackedCell::new(0u32));
        let (tx, rx) = mpsc::channel();
        let d2 = data.clone();
        let t = thread::spawn(move || {
            d2.set(7);
            tx.send(()).unwrap();
        });
        rx.recv().unwrap();
        assert_eq!(data.get(), 7);
        t.join().unwrap();
    });
    assert_clean(&report);
    assert!(report.summary.executions > 1);
}
