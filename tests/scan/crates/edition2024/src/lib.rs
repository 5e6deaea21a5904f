//! Edition 2024 drops an `if let` scrutinee's temporaries before `else`:
//! the write in `else` is fine here, the one in the `if let` body is not.
use std::sync::RwLock;

pub struct Config {
    name: RwLock<Option<String>>,
}

impl Config {
    pub fn name(&self) -> String {
        if let Some(n) = &*self.name.read().unwrap() {
            n.clone()
        } else {
            *self.name.write().unwrap() = Some("default".into());
            "default".into()
        }
    }

    pub fn rename(&self) {
        if let Some(n) = self.name.read().unwrap().as_ref() {
            let upper = n.to_uppercase();
            *self.name.write().unwrap() = Some(upper); // expect: double-lock
        }
    }
}

pub struct Names {
    name: std::sync::Mutex<String>,
}

impl Names {
    /// A block's tail temporaries are dropped at the end of the block in
    /// edition 2024: the second lock does not overlap the first.
    pub fn total(&self) -> usize {
        let n = { self.name.lock().unwrap().len() } + self.name.lock().unwrap().len();
        n
    }
}
