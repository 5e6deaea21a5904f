//! The fixed twin: every call here resolves, by its receiver's type, to
//! something that does not take the lock again.
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

pub struct Cache {
    cache: Option<Mutex<lru::LruCache<u32, u32>>>,
}

impl Cache {
    /// Called on the guard's data (another crate's cache), not on `Cache`.
    pub fn peek_lru(&self) -> Option<u32> {
        self.cache
            .as_ref()
            .and_then(|cache| cache.lock().unwrap().peek_lru().map(|(&k, _)| k))
    }
}

static FILES: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub struct Directory;

impl Directory {
    pub fn persist(&self, name: &str) {
        FILES.lock().unwrap().push(name.to_string());
    }
}

pub fn write(name: &str) {
    let _files = FILES.lock().unwrap();
    // Values of another crate's types: their `persist` is not ours.
    let mut temp = tempfile::Builder::new().tempfile().unwrap();
    temp.flush().unwrap();
    temp.into_temp_path().persist(name).unwrap();
}

pub struct Updater {
    state: Mutex<u32>,
}

pub trait Service {
    fn upgrade(&self) -> bool;
    fn upgraded(&self) -> bool;
}

impl Updater {
    /// Inherent, takes the guard: inherent methods come before trait ones.
    fn upgrade(&self, g: MutexGuard<'_, u32>) -> bool {
        *g > 0
    }
}

impl Service for Updater {
    fn upgrade(&self) -> bool {
        let g = self.state.lock().unwrap();
        self.upgrade(g)
    }

    fn upgraded(&self) -> bool {
        let g = self.state.lock().unwrap();
        Updater::upgrade(self, g)
    }
}

pub trait Handler: Send + Sync {
    fn timeout(&self);
}

pub struct Dispatcher {
    handlers: RwLock<Vec<Arc<dyn Handler>>>,
}

impl Dispatcher {
    /// `h` is a `dyn Handler`, and no type of this crate implements it
    /// by taking `handlers`.
    pub fn tick(&self) {
        for h in self.handlers.read().unwrap().iter() {
            h.timeout();
        }
    }

    pub fn timeout(&self) {
        let _w = self.handlers.write().unwrap();
    }
}
