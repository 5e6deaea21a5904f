//! The fixed twin: the spawner's opposite order happens before the spawn
//! and after the join, never while the thread runs.
use std::sync::{Arc, Mutex};
use std::thread;

pub fn run() {
    let jobs = Arc::new(Mutex::new(Vec::<u32>::new()));
    let stats = Arc::new(Mutex::new(0u32));
    {
        let _jobs = jobs.lock().unwrap();
        *stats.lock().unwrap() += 1;
    }
    let (j, s) = (jobs.clone(), stats.clone());
    let worker = thread::spawn(move || {
        let _stats = s.lock().unwrap();
        j.lock().unwrap().push(1);
    });
    worker.join().unwrap();
    {
        let _jobs = jobs.lock().unwrap();
        *stats.lock().unwrap() += 1;
    }
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let (j, s) = (jobs.clone(), stats.clone());
            thread::spawn(move || {
                let _stats = s.lock().unwrap();
                j.lock().unwrap().push(2);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    {
        let _jobs = jobs.lock().unwrap();
        *stats.lock().unwrap() += 1;
    }
    thread::scope(|scope| {
        scope.spawn(|| {
            let _stats = stats.lock().unwrap();
            jobs.lock().unwrap().push(3);
        });
    });
}
