//! `if let` on a read guard, then a write in the `else` branch: before
//! edition 2024 the read guard lives through `else`.
use std::sync::RwLock;

pub struct Config {
    name: RwLock<Option<String>>,
}

impl Config {
    pub fn name(&self) -> String {
        if let Some(n) = &*self.name.read().unwrap() {
            n.clone()
        } else {
            let mut slot = self.name.write().unwrap(); // expect: double-lock
            *slot = Some("default".into());
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
