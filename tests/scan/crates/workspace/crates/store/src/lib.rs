//! A store whose lock its users can take.
use std::sync::Mutex;

pub static TABLE: Mutex<Vec<u32>> = Mutex::new(Vec::new());

pub fn insert(v: u32) {
    TABLE.lock().unwrap().push(v);
}

pub mod admin;
