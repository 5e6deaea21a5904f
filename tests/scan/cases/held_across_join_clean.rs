//! Joins that hold nothing the joined thread needs.

use std::sync::{Arc, Mutex, RwLock};
use std::thread;

pub fn dropped_before_join() {
    let m = Arc::new(Mutex::new(0));
    let m2 = Arc::clone(&m);
    let guard = m.lock().unwrap();
    let t = thread::spawn(move || {
        *m2.lock().unwrap() += 1;
    });
    drop(guard);
    t.join().unwrap();
}

/// The guard's scope ends before the join.
pub fn scoped_guard() {
    let m = Arc::new(Mutex::new(0));
    let m2 = Arc::clone(&m);
    let t = thread::spawn(move || {
        *m2.lock().unwrap() += 1;
    });
    {
        let mut g = m.lock().unwrap();
        *g += 1;
    }
    t.join().unwrap();
}

/// Another lock is held: the thread does not need it.
pub fn other_lock_held() {
    let m = Arc::new(Mutex::new(0));
    let n = Mutex::new(0);
    let m2 = Arc::clone(&m);
    let _n = n.lock().unwrap();
    let t = thread::spawn(move || {
        *m2.lock().unwrap() += 1;
    });
    t.join().unwrap();
}

/// The thread only tries the lock: it never waits for it.
pub fn thread_tries() {
    let m = Arc::new(Mutex::new(0));
    let m2 = Arc::clone(&m);
    let _g = m.lock().unwrap();
    let t = thread::spawn(move || {
        if let Ok(mut g) = m2.try_lock() {
            *g += 1;
        }
    });
    t.join().unwrap();
}

/// Readers on both sides share the lock.
pub fn both_read() {
    let config = Arc::new(RwLock::new(1));
    let reader = Arc::clone(&config);
    let current = config.read().unwrap();
    let t = thread::spawn(move || *reader.read().unwrap() + 1);
    let next = t.join().unwrap();
    println!("{} {next}", *current);
}

static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The log is taken after the scope has joined its threads.
pub fn scoped_then_log() {
    thread::scope(|s| {
        s.spawn(|| LOG.lock().unwrap().push("worker".into()));
    });
    LOG.lock().unwrap().push("done".into());
}
