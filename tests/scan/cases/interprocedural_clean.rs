//! The fixed twins: each guard is dropped (or its data passed down) before
//! the call that locks again.
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

static REGISTRY: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn register(id: u32) {
    REGISTRY.lock().unwrap().push(id);
}

fn register_all(ids: &[u32]) {
    let seen: Vec<u32> = REGISTRY.lock().unwrap().clone();
    for &id in ids {
        if !seen.contains(&id) {
            register(id);
        }
    }
}

fn log_level() -> u32 {
    level_of(0)
}

fn level_of(_x: u32) -> u32 {
    REGISTRY.lock().unwrap().len() as u32
}

fn report() {
    let count = REGISTRY.lock().unwrap().len();
    let level = log_level();
    let _ = (count, level);
}

fn bump(counter: &Mutex<u32>) {
    *counter.lock().unwrap() += 1;
}

fn count_twice() {
    let counter = Arc::new(Mutex::new(0));
    let guard = counter.lock().unwrap();
    let before = *guard;
    drop(guard);
    bump(&counter);
    let _ = before;
}

pub struct Inner {
    state: Mutex<u32>,
}

impl Inner {
    fn touch(&self) {
        *self.state.lock().unwrap() += 1;
    }

    fn peek(&self) -> u32 {
        *self.state.lock().unwrap()
    }
}

pub struct Service {
    inner: Arc<Inner>,
    items: Mutex<Vec<u32>>,
    data: RwLock<Vec<u32>>,
    log: Mutex<Vec<String>>,
}

impl Service {
    pub fn update(&self) {
        {
            let _state = self.inner.state.lock().unwrap();
        }
        self.inner.touch();
    }

    pub fn update_assoc(&self) {
        let state = self.inner.state.lock().unwrap();
        drop(state);
        Inner::peek(&self.inner);
    }

    fn items(&self) -> MutexGuard<'_, Vec<u32>> {
        self.items.lock().unwrap()
    }

    pub fn merge(&self) {
        let first = self.items().len();
        let second = self.items().len();
        let _ = (first, second);
    }

    fn len_of(items: &[u32]) -> usize {
        items.len()
    }

    fn with_items(&self, f: impl FnOnce(&mut Vec<u32>)) {
        let mut items = self.items.lock().unwrap();
        f(&mut items);
    }

    pub fn grow(&self) {
        self.with_items(|v| {
            let n = Self::len_of(v);
            v.push(n as u32);
        });
    }

    fn rewrite(&self) {
        self.data.write().unwrap().clear();
    }

    pub fn refresh(&self) {
        let empty = self.data.read().unwrap().is_empty();
        if empty {
            self.rewrite();
        }
    }

    fn note(&self, what: &str) {
        self.log.lock().unwrap().push(what.to_string());
    }

    fn snapshot(&self) -> usize {
        self.note("snapshot");
        0
    }

    pub fn audit(&self) {
        let entries = self.log.lock().unwrap().len();
        let _ = describe(self);
        let _ = entries;
    }

    pub fn finish(&self) {
        let stop = || self.note("stop");
        let log = self.log.lock().unwrap();
        drop(log);
        stop();
    }
}

fn describe(s: &Service) -> usize {
    s.snapshot()
}

fn consume(guard: MutexGuard<'_, Vec<u32>>, again: &Mutex<Vec<u32>>) {
    drop(guard);
    let _second = again.lock().unwrap();
}

pub fn hand_over(m: &Mutex<Vec<u32>>) {
    consume(m.lock().unwrap(), m);
}

pub fn entry() {
    register_all(&[1, 2]);
    report();
    count_twice();
}

pub struct Table {
    map: Mutex<std::collections::HashMap<u32, u32>>,
}

impl Table {
    fn get(&self, k: u32) -> Option<u32> {
        self.map.lock().unwrap().get(&k).copied()
    }
}

pub struct Front {
    table: Table,
}

impl Front {
    /// Takes no lock itself: the lock is in `Table::get`.
    fn lookup(&self, k: u32) -> Option<u32> {
        self.table.get(k)
    }

    pub fn refresh(&self) {
        let len = self.table.map.lock().unwrap().len();
        self.lookup(len as u32);
    }
}
