//! Locks reached through a struct written out in place, and a `Drop` impl
//! run by an explicit `drop`, with nothing of theirs held.

use std::collections::HashMap;
use std::sync::Mutex;

pub struct Registry {
    entries: Mutex<HashMap<u32, String>>,
    log: Mutex<Vec<String>>,
}

pub struct Entry<'a> {
    registry: &'a Registry,
    key: u32,
}

impl Drop for Entry<'_> {
    fn drop(&mut self) {
        self.registry.entries.lock().unwrap().remove(&self.key);
    }
}

pub struct Session<'a> {
    registry: &'a Registry,
}

impl Session<'_> {
    fn note(&self, what: &str) {
        self.registry.log.lock().unwrap().push(what.to_string());
    }
}

impl Registry {
    /// The map's guard is gone before the entry is dropped.
    pub fn replace(&self, key: u32) {
        let entry = Entry { registry: self, key };
        {
            let mut entries = self.entries.lock().unwrap();
            entries.insert(key + 1, String::new());
        }
        drop(entry);
    }

    /// Another registry's log is held: not this one's.
    pub fn close(&self, other: &Registry) {
        let _log = other.log.lock().unwrap();
        let session = Session { registry: self };
        session.note("closing");
    }

    /// The entry is dropped while the log, another lock, is held.
    pub fn forget(&self, key: u32) {
        let entry = Entry { registry: self, key };
        let _log = self.log.lock().unwrap();
        drop(entry);
    }
}
