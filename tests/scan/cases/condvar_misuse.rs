//! A condvar waited on outside a loop, and one notified after a change made
//! without its mutex.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};

pub struct Gate {
    open: Mutex<bool>,
    changed: Condvar,
}

impl Gate {
    pub fn wait_open(&self) {
        let open = self.open.lock().unwrap();
        if !*open {
            let _open = self.changed.wait(open).unwrap(); // expect: condvar-misuse
        }
    }

    pub fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.changed.notify_all();
    }
}

pub struct Flag {
    ready: AtomicBool,
    lock: Mutex<()>,
    cv: Condvar,
}

impl Flag {
    pub fn wait_ready(&self) {
        let mut guard = self.lock.lock().unwrap();
        while !self.ready.load(Ordering::SeqCst) {
            guard = self.cv.wait(guard).unwrap();
        }
    }

    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::SeqCst);
        self.cv.notify_one(); // expect: condvar-misuse
    }
}
