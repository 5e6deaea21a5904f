//! The fixed twin: the callers use the guard they hold instead of calling
//! a helper that reads the lock again.
use std::sync::RwLock;

pub struct Index {
    entries: RwLock<Vec<u64>>,
}

impl Index {
    pub fn len(&self) -> usize {
        self.entries.read().unwrap().len()
    }

    pub fn first(&self) -> Option<u64> {
        let entries = self.entries.read().unwrap();
        entries.first().copied()
    }

    pub fn last(&self) -> Option<u64> {
        let entries = self.entries.read().unwrap();
        entries.last().copied()
    }

    pub fn middle(&self) -> Option<u64> {
        let entries = self.entries.read().unwrap();
        entries.get(entries.len() / 2).copied()
    }
}
