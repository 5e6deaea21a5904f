//! Everyday concurrent Rust that is correct: the scanner must stay quiet.
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};
use std::thread::{self, JoinHandle};

/// A pool: wait in a loop, change state under the lock, notify after.
pub struct Pool {
    free: Mutex<Vec<u32>>,
    available: Condvar,
    handed_out: AtomicUsize,
}

impl Pool {
    pub fn take(&self) -> u32 {
        let mut free = self.free.lock().unwrap();
        while free.is_empty() {
            free = self.available.wait(free).unwrap();
        }
        self.handed_out.fetch_add(1, Ordering::Relaxed);
        free.pop().unwrap()
    }

    pub fn give_back(&self, conn: u32) {
        self.free.lock().unwrap().push(conn);
        self.handed_out.fetch_sub(1, Ordering::Relaxed);
        self.available.notify_one();
    }
}

/// A cache: a read fast path, then a write slow path that checks again.
pub struct Cache {
    map: RwLock<HashMap<String, u64>>,
    hits: AtomicU64,
}

impl Cache {
    pub fn get(&self, key: &str, compute: impl FnOnce() -> u64) -> u64 {
        if let Some(&v) = self.map.read().unwrap().get(key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return v;
        }
        let mut map = self.map.write().unwrap();
        *map.entry(key.to_string()).or_insert_with(compute)
    }

    pub fn clear(&mut self) {
        let hits = self.hits.load(Ordering::Relaxed);
        self.hits.store(hits / 2, Ordering::Relaxed);
        self.map.get_mut().unwrap().clear();
    }
}

/// Workers that take jobs from a shared receiver (the lock is released at
/// the end of the `let`), consistent lock order everywhere.
pub struct Workers {
    handles: Vec<JoinHandle<()>>,
    sender: Sender<Box<dyn FnOnce() + Send>>,
}

impl Workers {
    pub fn new(n: usize) -> Workers {
        let (sender, receiver) = channel::<Box<dyn FnOnce() + Send>>();
        let receiver: Arc<Mutex<Receiver<_>>> = Arc::new(Mutex::new(receiver));
        let handles = (0..n)
            .map(|_| {
                let receiver = Arc::clone(&receiver);
                thread::spawn(move || loop {
                    let job = receiver.lock().unwrap().recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => break,
                    }
                })
            })
            .collect();
        Workers { handles, sender }
    }

    pub fn run(&self, job: impl FnOnce() + Send + 'static) {
        self.sender.send(Box::new(job)).unwrap();
    }

    pub fn join(self) {
        drop(self.sender);
        for h in self.handles {
            h.join().unwrap();
        }
    }
}

/// Two locks, always in the same order; per-account locks taken one after
/// the other on two different accounts.
pub struct Ledger {
    accounts: Mutex<Vec<u64>>,
    journal: Mutex<Vec<String>>,
}

pub struct Account {
    balance: Mutex<u64>,
}

impl Ledger {
    pub fn post(&self, i: usize, amount: u64) {
        let mut accounts = self.accounts.lock().unwrap();
        let mut journal = self.journal.lock().unwrap();
        accounts[i] += amount;
        journal.push(format!("{i} += {amount}"));
    }

    pub fn audit(&self) -> usize {
        let accounts = self.accounts.lock().unwrap();
        let journal = self.journal.lock().unwrap();
        accounts.len() + journal.len()
    }

    fn accounts(&self) -> MutexGuard<'_, Vec<u64>> {
        self.accounts.lock().unwrap()
    }

    pub fn total(&self) -> u64 {
        let sum = self.accounts().iter().sum();
        let count = self.accounts().len() as u64;
        sum + count
    }
}

pub fn transfer(from: &Account, to: &Account, amount: u64) {
    let mut a = from.balance.lock().unwrap();
    *a -= amount;
    drop(a);
    *to.balance.lock().unwrap() += amount;
}

/// Shards locked one at a time.
pub struct Sharded {
    shards: Vec<Mutex<HashMap<u64, u64>>>,
}

impl Sharded {
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap().len()).sum()
    }

    pub fn move_key(&self, key: u64) {
        let from = &self.shards[0];
        let to = &self.shards[1];
        let value = from.lock().unwrap().remove(&key);
        if let Some(v) = value {
            to.lock().unwrap().insert(key, v);
        }
    }
}

/// A trait object handler, and a guard that unlocks in `Drop`.
pub trait Handler: Send + Sync {
    fn handle(&self, event: u32);
}

pub struct Counter {
    seen: Mutex<Vec<u32>>,
}

impl Handler for Counter {
    fn handle(&self, event: u32) {
        self.seen.lock().unwrap().push(event);
    }
}

pub struct Bus {
    handlers: RwLock<Vec<Box<dyn Handler>>>,
}

impl Bus {
    pub fn publish(&self, event: u32) {
        for h in self.handlers.read().unwrap().iter() {
            h.handle(event);
        }
    }

    pub fn subscribe(&self, h: Box<dyn Handler>) {
        self.handlers.write().unwrap().push(h);
    }
}

/// Async code: an async lock held across an await is what it is for.
pub struct Session {
    state: tokio::sync::Mutex<Vec<u8>>,
    stats: Mutex<u64>,
}

async fn send(_bytes: &[u8]) {}

impl Session {
    pub async fn flush(&self) {
        let mut state = self.state.lock().await;
        send(&state).await;
        state.clear();
        {
            let mut stats = self.stats.lock().unwrap();
            *stats += 1;
        }
        send(&[]).await;
    }
}
