//! Reached only as a path dependency of a path dependency: its double lock
//! is found only when the scan sees the workspace as Cargo does.
use std::sync::Mutex;

pub struct Counter {
    n: Mutex<u64>,
}

impl Counter {
    pub fn bump(&self) {
        let g = self.n.lock().unwrap();
        let again = self.n.lock().unwrap(); // expect: double-lock
        drop((g, again));
    }
}
