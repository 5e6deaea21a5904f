//! A spawned thread and the spawning function take two statics in
//! opposite orders; the thread's second lock is in a helper.
use std::sync::Mutex;
use std::thread;

static INDEX: Mutex<Vec<u32>> = Mutex::new(Vec::new());
static STORE: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn reindex() {
    INDEX.lock().unwrap().clear();
}

pub fn run() {
    let worker = thread::spawn(|| {
        let _store = STORE.lock().unwrap();
        reindex(); // expect: lock-order-inversion
    });
    {
        let _index = INDEX.lock().unwrap();
        STORE.lock().unwrap().push("x".into());
    }
    worker.join().unwrap();
}
