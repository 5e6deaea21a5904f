//! Locks in statics behind once_cell's `Lazy`, std's `LazyLock` and
//! `OnceLock`, and a spin lock: named by the static, followed through calls.
use once_cell::sync::Lazy;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, OnceLock, RwLock};

static NAMES: Lazy<Mutex<Vec<String>>> = Lazy::new(|| Mutex::new(Vec::new()));
static INDEX: LazyLock<RwLock<HashMap<String, usize>>> = LazyLock::new(Default::default);
static CONFIG: OnceLock<Mutex<String>> = OnceLock::new();
static SPIN: spin::Mutex<u32> = spin::Mutex::new(0);

fn config() -> &'static Mutex<String> {
    CONFIG.get_or_init(|| Mutex::new(String::new()))
}

fn index_of(name: &str) -> Option<usize> {
    INDEX.read().unwrap().get(name).copied()
}

pub fn add(name: &str) {
    let mut index = INDEX.write().unwrap();
    if index_of(name).is_none() { // expect: double-lock
        let mut names = NAMES.lock().unwrap();
        names.push(name.to_string());
        index.insert(name.to_string(), names.len() - 1);
    }
}

pub fn rename(to: &str) {
    let cfg = CONFIG.get_or_init(|| Mutex::new(String::new())).lock().unwrap();
    if cfg.is_empty() {
        *config().lock().unwrap() = to.to_string(); // expect: double-lock
    }
}

pub fn bump() -> u32 {
    let mut n = SPIN.lock();
    *n += 1;
    let again = SPIN.lock(); // expect: double-lock
    *n + *again
}
