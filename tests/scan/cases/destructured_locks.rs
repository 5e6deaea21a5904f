//! Locks named through destructuring: the std docs' `let (lock, cvar) =
//! &*pair;` and a struct pattern. Each name is the element or field it
//! binds, so taking it twice is a double lock.
use std::sync::{Arc, Condvar, Mutex};

pub fn wait_ready(pair: Arc<(Mutex<bool>, Condvar)>) {
    let (lock, cvar) = &*pair;
    let ready = lock.lock().unwrap();
    let again = pair.0.lock().unwrap(); // expect: double-lock
    drop((ready, again));
    cvar.notify_one();
}

pub struct Shared {
    state: Mutex<u32>,
    log: Mutex<Vec<u32>>,
}

pub fn record(shared: &Shared) {
    let Shared { state, log } = shared;
    let s = state.lock().unwrap();
    log.lock().unwrap().push(*s);
    let twice = shared.state.lock().unwrap(); // expect: double-lock
    drop((s, twice));
}
