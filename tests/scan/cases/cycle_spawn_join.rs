//! The spawner takes the locks in one order while its thread runs, the
//! thread in the other: they overlap, so they may deadlock.
use std::sync::{Arc, Mutex};
use std::thread;

pub fn run() {
    let jobs = Arc::new(Mutex::new(Vec::<u32>::new()));
    let stats = Arc::new(Mutex::new(0u32));
    let (j, s) = (jobs.clone(), stats.clone());
    let worker = thread::spawn(move || {
        let _stats = s.lock().unwrap();
        j.lock().unwrap().push(1); // expect: lock-order-inversion
    });
    {
        let _jobs = jobs.lock().unwrap();
        *stats.lock().unwrap() += 1;
    }
    worker.join().unwrap();
}
