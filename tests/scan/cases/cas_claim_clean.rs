//! The fixed twin, as lock-free queues do it: only the thread whose
//! compare-and-swap on the index won stores the block it loaded.
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
        match self.head.index.compare_exchange_weak(
            head,
            head + 1,
            Ordering::SeqCst,
            Ordering::Acquire,
        ) {
            Ok(_) => self.head.block.store(block + 1, Ordering::Release),
            Err(_) => {}
        }
    }

    pub fn advance_if_won(&self) {
        let block = self.head.block.load(Ordering::Acquire);
        let head = self.head.index.load(Ordering::Acquire);
        if self
            .head
            .index
            .compare_exchange(head, head + 1, Ordering::SeqCst, Ordering::Acquire)
            .is_ok()
        {
            self.head.block.store(block + 1, Ordering::Release);
        }
    }
}

impl Channel {
    /// The other spelling: the losers leave, the winner goes on.
    pub fn advance_or_retry(&self) -> bool {
        let block = self.head.block.load(Ordering::Acquire);
        let head = self.head.index.load(Ordering::Acquire);
        if self
            .head
            .index
            .compare_exchange_weak(head, head + 1, Ordering::SeqCst, Ordering::Acquire)
            .is_err()
        {
            return false;
        }
        self.head.block.store(block + 1, Ordering::Release);
        true
    }
}
