//! A `match` on a value read through a `std::sync::Mutex` guard keeps the
//! guard alive through every arm.
use std::collections::HashMap;
use std::sync::Mutex;

pub struct Cache {
    map: Mutex<HashMap<u32, String>>,
}

impl Cache {
    pub fn get_or_insert(&self, key: u32) -> String {
        match self.map.lock().unwrap().get(&key) {
            Some(v) => v.clone(),
            None => {
                let value = format!("{key}");
                self.map.lock().unwrap().insert(key, value.clone()); // expect: double-lock
                value
            }
        }
    }
}
