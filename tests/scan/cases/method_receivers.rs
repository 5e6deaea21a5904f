//! Calls resolved by the receiver's type reach a lock the caller holds: an
//! inherent method before a trait's of the same name, and a by-name guess
//! on a value of unknown type (the only method of that name in the crate).
use std::sync::{Mutex, MutexGuard};

pub struct Updater {
    state: Mutex<u32>,
}

pub trait Service {
    fn upgrade(&self) -> bool;
}

impl Updater {
    /// Inherent: the call in the trait method below runs this one, which
    /// takes the lock again while the guard it was given is alive.
    fn upgrade(&self, g: MutexGuard<'_, u32>) -> bool {
        let again = self.state.lock().unwrap();
        *g + *again > 0
    }
}

impl Service for Updater {
    fn upgrade(&self) -> bool {
        let g = self.state.lock().unwrap();
        self.upgrade(g) // expect: double-lock
    }
}

static FILES: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub struct Directory;

impl Directory {
    pub fn persist_into(&self, name: &str) {
        FILES.lock().unwrap().push(name.to_string());
    }
}

pub fn write(name: &str) {
    let _files = FILES.lock().unwrap();
    // Of a type the source does not show: the crate's only `persist_into`
    // is a guess.
    let dir = registry::lookup(name);
    dir.persist_into(name); // expect: double-lock
}
