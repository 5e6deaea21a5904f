//! The fixed twins: one atomic step (`fetch_add`, `fetch_update`,
//! `compare_exchange`), or a store that does not depend on the load.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

static HITS: AtomicUsize = AtomicUsize::new(0);

pub struct Stats {
    served: AtomicUsize,
}

impl Stats {
    pub fn serve(&self) {
        self.served.fetch_add(1, Ordering::Relaxed);
    }

    pub fn reset(&mut self) {
        let n = self.served.load(Ordering::Relaxed);
        self.served.store(n / 2, Ordering::Relaxed);
    }
}

pub fn hit() {
    let _ = HITS.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |h| Some(h * 2));
    let seen = HITS.load(Ordering::SeqCst);
    let _ = HITS.compare_exchange(seen, seen + 1, Ordering::SeqCst, Ordering::SeqCst);
    HITS.store(0, Ordering::SeqCst);
}

pub fn count_in_threads() {
    let total = Arc::new(AtomicUsize::new(0));
    let t = total.clone();
    let worker = thread::spawn(move || {
        t.fetch_add(10, Ordering::SeqCst);
    });
    let local = AtomicUsize::new(0);
    let v = local.load(Ordering::SeqCst);
    local.store(v + 1, Ordering::SeqCst);
    worker.join().unwrap();
}

/// A single-producer ring: the producer owns `tail`, reads it `Relaxed`
/// and publishes the next value with `Release`.
pub struct Ring {
    tail: AtomicUsize,
    head: AtomicUsize,
}

impl Ring {
    pub fn push(&self) -> bool {
        let tail = self.tail.load(Ordering::Relaxed);
        if tail.wrapping_sub(self.head.load(Ordering::Acquire)) == 64 {
            return false;
        }
        self.tail.store(tail.wrapping_add(1), Ordering::Release);
        true
    }
}

/// A queue whose consumers claim a slot with a compare-and-swap; the one
/// that claims the last slot of a block moves the head on with plain
/// stores: a step of the protocol, not a lost update.
pub struct Queue {
    head: AtomicUsize,
}

impl Queue {
    pub fn claim(&self) -> Option<usize> {
        let head = self.head.load(Ordering::Acquire);
        self.head
            .compare_exchange(head, head + 1, Ordering::AcqRel, Ordering::Acquire)
            .ok()
    }

    pub fn advance_block(&self) {
        let head = self.head.load(Ordering::Acquire);
        self.head.store((head / 32 + 1) * 32, Ordering::Release);
    }
}
