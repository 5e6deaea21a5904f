//! A lock held while joining a thread that needs it: the join waits for the
//! thread, the thread waits for the lock.

use std::sync::{Arc, Mutex, RwLock};
use std::thread;

pub fn held_across_join() {
    let m = Arc::new(Mutex::new(0));
    let m2 = Arc::clone(&m);
    let guard = m.lock().unwrap();
    let t = thread::spawn(move || {
        *m2.lock().unwrap() += 1;
    });
    t.join().unwrap(); // expect: lock-order-inversion
    drop(guard);
}

static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn log(s: &str) {
    LOG.lock().unwrap().push(s.to_string());
}

/// The scope joins its threads at its end, with `LOG` still held.
pub fn scoped_with_log_held() {
    let _log = LOG.lock().unwrap();
    thread::scope(|s| { // expect: lock-order-inversion
        s.spawn(|| log("worker"));
    });
}

/// A read guard held while the thread waits to write.
pub fn read_held_writer_joined() {
    let config = Arc::new(RwLock::new(1));
    let writer = Arc::clone(&config);
    let current = config.read().unwrap();
    let t = thread::spawn(move || *writer.write().unwrap() += 1);
    t.join().unwrap(); // expect: lock-order-inversion
    println!("{}", *current);
}
