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

pub struct Queue {
    items: Mutex<Vec<u32>>,
    ready: Condvar,
}

impl Queue {
    /// Waits once; its only caller loops on the condition.
    fn wait_once<'a>(&self, guard: std::sync::MutexGuard<'a, Vec<u32>>) -> std::sync::MutexGuard<'a, Vec<u32>> {
        self.ready.wait(guard).unwrap()
    }

    pub fn pop(&self) -> u32 {
        let mut items = self.items.lock().unwrap();
        loop {
            if let Some(x) = items.pop() {
                return x;
            }
            items = self.wait_once(items);
        }
    }

    pub fn push(&self, x: u32) {
        self.items.lock().unwrap().push(x);
        self.ready.notify_one();
    }
}
