//! The fixed twin: the read is done (and its guard dropped) before writing.
use std::sync::RwLock;

pub struct Config {
    name: RwLock<Option<String>>,
}

impl Config {
    pub fn name(&self) -> String {
        let current = self.name.read().unwrap().clone();
        if let Some(n) = current {
            n
        } else {
            let mut slot = self.name.write().unwrap();
            *slot = Some("default".into());
            "default".into()
        }
    }

    pub fn rename(&self) {
        let upper = self.name.read().unwrap().as_ref().map(|n| n.to_uppercase());
        if let Some(upper) = upper {
            *self.name.write().unwrap() = Some(upper);
        }
    }
}
