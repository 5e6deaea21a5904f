//! A load, then a store computed from it: another thread's update in
//! between is lost.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

static HITS: AtomicUsize = AtomicUsize::new(0);

pub struct Stats {
    served: AtomicUsize,
}

impl Stats {
    pub fn serve(&self) {
        let n = self.served.load(Ordering::Relaxed);
        self.served.store(n + 1, Ordering::Relaxed); // expect: atomicity-violation
    }
}

pub fn hit() {
    HITS.store(HITS.load(Ordering::SeqCst) * 2, Ordering::SeqCst); // expect: atomicity-violation
}

pub fn count_in_threads() {
    let total = Arc::new(AtomicUsize::new(0));
    let t = total.clone();
    let worker = thread::spawn(move || {
        let seen = t.load(Ordering::SeqCst);
        t.store(seen + 10, Ordering::SeqCst); // expect: atomicity-violation
    });
    total.fetch_add(1, Ordering::SeqCst);
    worker.join().unwrap();
}
