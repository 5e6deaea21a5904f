//! Excluded from the workspace: its double lock must not be reported.
use std::sync::Mutex;

pub fn twice(m: &Mutex<u8>) {
    let a = m.lock().unwrap();
    let b = m.lock().unwrap();
    drop((a, b));
}
