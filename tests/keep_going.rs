//! `keep_going` under loom: a failing execution (a deadlock, a failed
//! assertion, a double lock) ends that execution only, and exploration goes
//! on to the end of the interleavings, gathering every finding.

use interlock::sync::atomic::{AtomicUsize, Ordering};
use interlock::sync::{Arc, Condvar, Mutex};
use interlock::{thread, Builder, Kind, Report};

mod model_checks;
use model_checks::kinds;

fn run(keep_going: bool, model: fn()) -> Report {
    Builder::new().keep_going(keep_going).check(model)
}

/// Two threads take two locks in opposite orders.
fn opposite_orders() {
    let a = Arc::new(Mutex::new(0));
    let b = Arc::new(Mutex::new(0));
    let (a2, b2) = (a.clone(), b.clone());
    let t = thread::spawn(move || {
        let _b = b2.lock().unwrap();
        let _a = a2.lock().unwrap();
    });
    {
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    }
    t.join().unwrap();
}

/// The same, in one order: never deadlocks.
fn one_order() {
    let a = Arc::new(Mutex::new(0));
    let b = Arc::new(Mutex::new(0));
    let (a2, b2) = (a.clone(), b.clone());
    let t = thread::spawn(move || {
        let _a = a2.lock().unwrap();
        let _b = b2.lock().unwrap();
    });
    {
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    }
    t.join().unwrap();
}

/// Two increments by load then store: the assertion fails in some
/// interleavings only.
fn lost_update() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let t = thread::spawn(move || {
        let v = n2.load(Ordering::SeqCst);
        n2.store(v + 1, Ordering::SeqCst);
    });
    let v = n.load(Ordering::SeqCst);
    n.store(v + 1, Ordering::SeqCst);
    t.join().unwrap();
    assert_eq!(n.load(Ordering::SeqCst), 2, "an increment was lost");
}

/// A latch whose notify can come before the wait, and is then lost.
fn lost_wake_up() {
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let pair2 = pair.clone();
    let t = thread::spawn(move || {
        let (lock, cv) = &*pair2;
        let ready = lock.lock().unwrap();
        if !*ready {
            let _ready = cv.wait(ready).unwrap();
        }
    });
    let (lock, cv) = &*pair;
    cv.notify_one();
    *lock.lock().unwrap() = true;
    t.join().unwrap();
}

#[test]
fn a_deadlock_ends_its_execution_only() {
    let stopped = run(false, opposite_orders);
    assert!(kinds(&stopped).contains(&Kind::Deadlock), "{stopped}");
    assert!(!stopped.summary.complete, "{stopped}");

    let all = run(true, opposite_orders);
    assert!(kinds(&all).contains(&Kind::Deadlock), "{all}");
    assert!(all.summary.complete, "{all}");
    assert!(
        all.summary.executions > stopped.summary.executions,
        "keep going: {} executions, stopping: {}",
        all.summary.executions,
        stopped.summary.executions
    );
    // The deadlock is the observed one: both threads, both locks.
    let deadlock = all
        .findings()
        .iter()
        .find(|f| f.kind == Kind::Deadlock)
        .unwrap();
    assert!(
        deadlock.message.contains("`a`") && deadlock.message.contains("`b`"),
        "{}",
        deadlock.message
    );
}

#[test]
fn the_clean_twin_explores_the_same_interleavings_either_way() {
    let stopping = run(false, one_order);
    let going = run(true, one_order);
    assert!(stopping.is_clean(), "{stopping}");
    assert!(going.is_clean(), "{going}");
    assert!(going.summary.complete);
    assert_eq!(stopping.summary.executions, going.summary.executions);
}

#[test]
fn failed_assertions_do_not_end_the_exploration() {
    let stopped = run(false, lost_update);
    assert!(kinds(&stopped).contains(&Kind::AssertionFailure));
    assert!(!stopped.summary.complete);

    let all = run(true, lost_update);
    assert!(all.summary.complete, "{all}");
    let failure = all
        .findings()
        .iter()
        .find(|f| f.kind == Kind::AssertionFailure)
        .unwrap_or_else(|| panic!("no assertion failure in:\n{all}"));
    assert!(
        failure.message.contains("an increment was lost"),
        "{}",
        failure.message
    );
    assert!(all.summary.executions > stopped.summary.executions);
    // Nothing that only the winding down did is reported.
    assert!(!kinds(&all).contains(&Kind::Deadlock), "{all}");
}

#[test]
fn a_lost_wake_up_ends_its_execution_only() {
    let all = run(true, lost_wake_up);
    assert!(all.summary.complete, "{all}");
    let deadlock = all
        .findings()
        .iter()
        .find(|f| f.kind == Kind::Deadlock)
        .unwrap_or_else(|| panic!("no deadlock in:\n{all}"));
    assert!(deadlock.message.contains("wake-up"), "{}", deadlock.message);
}

#[test]
fn a_double_lock_ends_its_execution_only() {
    let all = run(true, || {
        let m = Arc::new(Mutex::new(0));
        let m2 = m.clone();
        let t = thread::spawn(move || {
            *m2.lock().unwrap() += 1;
        });
        let held = m.lock().unwrap();
        if *held == 0 {
            // Re-locks what this thread holds, when it got there first.
            let _again = m.lock().unwrap();
        }
        drop(held);
        t.join().unwrap();
    });
    assert!(all.summary.complete, "{all}");
    assert!(kinds(&all).contains(&Kind::DoubleLock), "{all}");
    assert!(!kinds(&all).contains(&Kind::Deadlock), "{all}");
}

#[test]
fn every_kind_of_failure_is_gathered() {
    // Deadlocks in some interleavings, a failed assertion in others.
    let model = || {
        let a = Arc::new(Mutex::new(0));
        let b = Arc::new(Mutex::new(0));
        let (a2, b2) = (a.clone(), b.clone());
        let t = thread::spawn(move || {
            let mut first = b2.lock().unwrap();
            *first += 1;
            let _a = a2.lock().unwrap();
        });
        {
            let _a = a.lock().unwrap();
            let first = *b.lock().unwrap();
            assert_eq!(first, 0, "the other thread went first");
        }
        t.join().unwrap();
    };
    let stopped = Builder::new().check(model);
    let all = Builder::new().keep_going(true).check(model);
    assert!(all.summary.complete, "{all}");
    let found = kinds(&all);
    assert!(found.contains(&Kind::Deadlock), "{all}");
    assert!(found.contains(&Kind::AssertionFailure), "{all}");
    let stopped_kinds = kinds(&stopped);
    assert!(
        !(stopped_kinds.contains(&Kind::Deadlock)
            && stopped_kinds.contains(&Kind::AssertionFailure)),
        "stopping at the first failure found both:\n{stopped}"
    );
}

/// A pipeline whose first channel never closes: every thread ends up
/// waiting in a channel or a join.
fn stuck_pipeline() {
    use interlock::sync::mpsc;
    let (numbers_tx, numbers_rx) = mpsc::channel::<u64>();
    let (squares_tx, squares_rx) = mpsc::channel::<u64>();
    let tx = numbers_tx.clone();
    let producer = thread::spawn(move || {
        tx.send(2).unwrap();
    });
    let square = thread::spawn(move || {
        for n in numbers_rx {
            squares_tx.send(n * n).unwrap();
        }
    });
    let sum = thread::spawn(move || squares_rx.iter().sum::<u64>());
    producer.join().unwrap();
    square.join().unwrap();
    assert_eq!(sum.join().unwrap(), 4);
    drop(numbers_tx);
}

#[test]
fn a_deadlock_in_channels_ends_its_execution_only() {
    let all = run(true, stuck_pipeline);
    assert!(all.summary.complete, "{all}");
    assert!(kinds(&all).contains(&Kind::Deadlock), "{all}");
}
