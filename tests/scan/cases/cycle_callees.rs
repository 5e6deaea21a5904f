//! Two locks taken in opposite orders, each time the second one in a callee.
use std::sync::Mutex;

pub struct Bank {
    accounts: Mutex<Vec<u64>>,
    journal: Mutex<Vec<String>>,
}

impl Bank {
    fn write_journal(&self, line: &str) {
        self.journal.lock().unwrap().push(line.into());
    }

    fn total(&self) -> u64 {
        self.accounts.lock().unwrap().iter().sum()
    }

    pub fn deposit(&self, i: usize, amount: u64) {
        let mut accounts = self.accounts.lock().unwrap();
        accounts[i] += amount;
        self.write_journal("deposit"); // expect: lock-order-inversion
    }

    pub fn dump(&self) -> u64 {
        let journal = self.journal.lock().unwrap();
        let total = self.total();
        drop(journal);
        total
    }
}
