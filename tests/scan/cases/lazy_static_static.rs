//! A lock behind `lazy_static!`, locked again by a helper.
use lazy_static::lazy_static;
use std::collections::HashMap;
use std::sync::Mutex;

lazy_static! {
    static ref SESSIONS: Mutex<HashMap<u64, String>> = Mutex::new(HashMap::new());
    pub static ref LIMIT: Mutex<usize> = Mutex::new(10);
}

fn count() -> usize {
    SESSIONS.lock().unwrap().len()
}

pub fn open(id: u64) {
    let mut sessions = SESSIONS.lock().unwrap();
    if count() < *LIMIT.lock().unwrap() { // expect: double-lock
        sessions.insert(id, String::new());
    }
}
