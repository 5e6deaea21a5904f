//! The fixed twin: the thread releases the store before reindexing.
use std::sync::Mutex;
use std::thread;

static INDEX: Mutex<Vec<u32>> = Mutex::new(Vec::new());
static STORE: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn reindex() {
    INDEX.lock().unwrap().clear();
}

pub fn run() {
    let worker = thread::spawn(|| {
        {
            let _store = STORE.lock().unwrap();
        }
        reindex();
    });
    {
        let _index = INDEX.lock().unwrap();
        STORE.lock().unwrap().push("x".into());
    }
    worker.join().unwrap();
}
