//! A trait whose implementations hand out guards, and a default method that
//! takes the guard twice.
use std::sync::{Mutex, MutexGuard};

pub trait Locked {
    fn state(&self) -> MutexGuard<'_, Vec<u32>>;

    fn push_len(&self) {
        let mut state = self.state();
        let len = self.state().len(); // expect: double-lock
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
