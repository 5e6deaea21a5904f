//! The fixed twin: each destructured lock is taken once, and the other
//! element (or field) is a different lock.
use std::sync::{Arc, Condvar, Mutex};

pub fn wait_ready(pair: Arc<(Mutex<bool>, Condvar)>) {
    let (lock, cvar) = &*pair;
    let mut ready = lock.lock().unwrap();
    while !*ready {
        ready = cvar.wait(ready).unwrap();
    }
}

pub struct Shared {
    state: Mutex<u32>,
    log: Mutex<Vec<u32>>,
}

pub fn record(shared: &Shared) {
    let Shared { state, log } = shared;
    let s = state.lock().unwrap();
    log.lock().unwrap().push(*s);
    drop(s);
    let later = shared.state.lock().unwrap();
    drop(later);
}
