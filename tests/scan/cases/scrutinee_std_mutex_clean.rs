//! The fixed twin: the lookup is a statement of its own, so its guard is
//! dropped before the second lock.
use std::collections::HashMap;
use std::sync::Mutex;

pub struct Cache {
    map: Mutex<HashMap<u32, String>>,
}

impl Cache {
    pub fn get_or_insert(&self, key: u32) -> String {
        let found = self.map.lock().unwrap().get(&key).cloned();
        match found {
            Some(v) => v,
            None => {
                let value = format!("{key}");
                self.map.lock().unwrap().insert(key, value.clone());
                value
            }
        }
    }
}
