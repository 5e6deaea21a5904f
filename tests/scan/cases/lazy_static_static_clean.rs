//! The fixed twin: the count is taken from the guard already held.
use lazy_static::lazy_static;
use std::collections::HashMap;
use std::sync::Mutex;

lazy_static! {
    static ref SESSIONS: Mutex<HashMap<u64, String>> = Mutex::new(HashMap::new());
    pub static ref LIMIT: Mutex<usize> = Mutex::new(10);
}

fn count(sessions: &HashMap<u64, String>) -> usize {
    sessions.len()
}

pub fn open(id: u64) {
    let mut sessions = SESSIONS.lock().unwrap();
    if count(&sessions) < *LIMIT.lock().unwrap() {
        sessions.insert(id, String::new());
    }
}
