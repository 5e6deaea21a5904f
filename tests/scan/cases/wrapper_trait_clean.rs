//! The fixed twin: the default method uses the guard it holds.
use std::sync::{Mutex, MutexGuard};

pub trait Locked {
    fn state(&self) -> MutexGuard<'_, Vec<u32>>;

    fn push_len(&self) {
        let mut state = self.state();
        let len = state.len();
        state.push(len as u32);
    }
}

pub struct Counter {
    values: Mutex<Vec<u32>>,
}

impl Locked for Counter {
    fn state(&self) -> MutexGuard<'_, Vec<u32>> {
        self.values.lock().unwrap()
    }
}
