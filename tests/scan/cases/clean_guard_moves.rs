//! Guards moved into a call and dropped there, passed through an identity
//! function, released by `drop`, `let _ =` and assignment: no lock is taken
//! while held.
use std::sync::{Mutex, MutexGuard};

pub struct Store {
    items: Mutex<Vec<u32>>,
}

fn finish(guard: MutexGuard<'_, Vec<u32>>) -> usize {
    let n = guard.len();
    drop(guard);
    n
}

fn identity<T>(value: T) -> T {
    value
}

impl Store {
    pub fn moved_into_call(&self) -> usize {
        let guard = self.items.lock().unwrap();
        let n = finish(guard);
        self.items.lock().unwrap().push(n as u32);
        n
    }

    pub fn through_identity(&self) {
        let guard = identity(self.items.lock().unwrap());
        drop(guard);
        self.items.lock().unwrap().clear();
    }

    pub fn let_underscore(&self) {
        let _ = self.items.lock().unwrap();
        self.items.lock().unwrap().push(1);
    }

    pub fn reassigned(&self) {
        let mut guard = self.items.lock().unwrap();
        guard.push(1);
        drop(guard);
        guard = self.items.lock().unwrap();
        guard.push(2);
    }

    pub fn scoped(&self) {
        {
            let mut guard = self.items.lock().unwrap();
            guard.push(3);
        }
        self.items.lock().unwrap().push(4);
    }

    pub fn condition(&self) {
        if self.items.lock().unwrap().is_empty() {
            self.items.lock().unwrap().push(5);
        }
        while self.items.lock().unwrap().len() < 3 {
            self.items.lock().unwrap().push(6);
        }
    }

    pub fn early_return(&self) -> bool {
        let guard = self.items.lock().unwrap();
        if guard.is_empty() {
            drop(guard);
            self.items.lock().unwrap().push(7);
            return true;
        }
        false
    }

    pub fn try_lock_held(&self) {
        let _guard = self.items.lock().unwrap();
        if let Ok(mut again) = self.items.try_lock() {
            again.push(8);
        }
    }

    pub fn option_take(&self) {
        let mut slot = Some(self.items.lock().unwrap());
        drop(slot.take());
        self.items.lock().unwrap().push(9);
    }
}
