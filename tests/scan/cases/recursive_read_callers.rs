//! A helper reads a lock again, and three callers reach it while holding
//! the read guard: one site to fix, so one warning (at the first caller),
//! not one per caller.
use std::sync::RwLock;

pub struct Index {
    entries: RwLock<Vec<u64>>,
}

impl Index {
    fn len(&self) -> usize {
        self.entries.read().unwrap().len()
    }

    pub fn first(&self) -> Option<u64> {
        let entries = self.entries.read().unwrap();
        if self.len() == 0 { // expect: recursive-read
            return None;
        }
        entries.first().copied()
    }

    pub fn last(&self) -> Option<u64> {
        let entries = self.entries.read().unwrap();
        let n = self.len();
        entries.get(n.wrapping_sub(1)).copied()
    }

    pub fn middle(&self) -> Option<u64> {
        let entries = self.entries.read().unwrap();
        entries.get(self.len() / 2).copied()
    }
}
