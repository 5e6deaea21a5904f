//! Locks reached through a struct written out in place, and a `Drop` impl
//! run by an explicit `drop`.

use std::collections::HashMap;
use std::sync::Mutex;

pub struct Registry {
    entries: Mutex<HashMap<u32, String>>,
    log: Mutex<Vec<String>>,
}

/// Removes its key when dropped.
pub struct Entry<'a> {
    registry: &'a Registry,
    key: u32,
}

impl Drop for Entry<'_> {
    fn drop(&mut self) {
        self.registry.entries.lock().unwrap().remove(&self.key);
    }
}

/// A view of the registry for one caller.
pub struct Session<'a> {
    registry: &'a Registry,
}

impl Session<'_> {
    fn note(&self, what: &str) {
        self.registry.log.lock().unwrap().push(what.to_string());
    }
}

impl Registry {
    pub fn replace(&self, key: u32) {
        let entry = Entry { registry: self, key };
        let mut entries = self.entries.lock().unwrap();
        entries.insert(key + 1, String::new());
        drop(entry); // expect: double-lock
    }

    pub fn close(&self) {
        let _log = self.log.lock().unwrap();
        let session = Session { registry: self };
        session.note("closing"); // expect: double-lock
    }
}
