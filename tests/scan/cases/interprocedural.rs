//! Double locks through calls: the second lock is taken in a callee (or a
//! callee's callee), across free functions and methods.
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

static REGISTRY: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn register(id: u32) {
    REGISTRY.lock().unwrap().push(id);
}

fn register_all(ids: &[u32]) {
    let seen = REGISTRY.lock().unwrap();
    for &id in ids {
        if !seen.contains(&id) {
            register(id); // expect: double-lock
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
    let all = REGISTRY.lock().unwrap();
    let level = log_level(); // expect: double-lock
    drop(all);
    let _ = level;
}

fn bump(counter: &Mutex<u32>) {
    *counter.lock().unwrap() += 1;
}

fn count_twice() {
    let counter = Arc::new(Mutex::new(0));
    let guard = counter.lock().unwrap();
    bump(&counter); // expect: double-lock
    drop(guard);
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
        let _state = self.inner.state.lock().unwrap();
        self.inner.touch(); // expect: double-lock
    }

    pub fn update_assoc(&self) {
        let _state = self.inner.state.lock().unwrap();
        Inner::peek(&self.inner); // expect: double-lock
    }

    fn items(&self) -> MutexGuard<'_, Vec<u32>> {
        self.items.lock().unwrap()
    }

    pub fn merge(&self) {
        let first = self.items();
        let second = self.items(); // expect: double-lock
        drop((first, second));
    }

    fn len(&self) -> usize {
        self.items.lock().unwrap().len()
    }

    fn with_items(&self, f: impl FnOnce(&mut Vec<u32>)) {
        let mut items = self.items.lock().unwrap();
        f(&mut items);
    }

    pub fn grow(&self) {
        self.with_items(|v| {
            let n = self.len(); // expect: double-lock
            v.push(n as u32);
        });
    }

    fn rewrite(&self) {
        self.data.write().unwrap().clear();
    }

    pub fn refresh(&self) {
        let data = self.data.read().unwrap();
        if data.is_empty() {
            self.rewrite(); // expect: double-lock
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
        let log = self.log.lock().unwrap();
        let _ = describe(self); // expect: double-lock
        drop(log);
    }

    pub fn finish(&self) {
        let stop = || self.note("stop"); // expect: double-lock
        let _log = self.log.lock().unwrap();
        stop();
    }
}

fn describe(s: &Service) -> usize {
    s.snapshot()
}

fn consume(guard: MutexGuard<'_, Vec<u32>>, again: &Mutex<Vec<u32>>) {
    let _second = again.lock().unwrap();
    drop(guard);
}

pub fn hand_over(m: &Mutex<Vec<u32>>) {
    consume(m.lock().unwrap(), m); // expect: double-lock
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
        let _map = self.table.map.lock().unwrap();
        self.lookup(1); // expect: double-lock
    }
}
