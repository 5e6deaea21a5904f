//! The fixed twins: wait in a loop (or `wait_while`); change the state
//! under the mutex, then notify.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};

pub struct Gate {
    open: Mutex<bool>,
    changed: Condvar,
}

impl Gate {
    pub fn wait_open(&self) {
        let open = self.open.lock().unwrap();
        let _open = self.changed.wait_while(open, |open| !*open).unwrap();
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
        let _guard = self.lock.lock().unwrap();
        self.ready.store(true, Ordering::SeqCst);
        drop(_guard);
        self.cv.notify_one();
    }
}
