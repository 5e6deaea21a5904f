//! A value loaded, then stored back from what was loaded, outside the
//! branch that won the compare-and-swap: two threads can both store.
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Head {
    index: AtomicUsize,
    block: AtomicUsize,
}

pub struct Channel {
    head: Head,
}

impl Channel {
    pub fn advance(&self) {
        let block = self.head.block.load(Ordering::Acquire);
        let head = self.head.index.load(Ordering::Acquire);
        let _ = self.head.index.compare_exchange_weak(
            head,
            head + 1,
            Ordering::SeqCst,
            Ordering::Acquire,
        );
        self.head.block.store(block + 1, Ordering::Release); // expect: atomicity-violation
    }
}

impl Channel {
    /// A failed swap does not leave: both threads store.
    pub fn advance_anyway(&self) {
        let block = self.head.block.load(Ordering::Acquire);
        let head = self.head.index.load(Ordering::Acquire);
        if self
            .head
            .index
            .compare_exchange_weak(head, head + 1, Ordering::SeqCst, Ordering::Acquire)
            .is_err()
        {
            self.head.index.store(head, Ordering::Release);
        }
        self.head.block.store(block + 1, Ordering::Release); // expect: atomicity-violation
    }
}
