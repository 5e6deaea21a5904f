//! Three threads, three locks, each thread takes two of them: a ring.
use std::sync::{Arc, Mutex};
use std::thread;

pub fn ring() {
    let a = Arc::new(Mutex::new(0));
    let b = Arc::new(Mutex::new(0));
    let c = Arc::new(Mutex::new(0));

    let (a1, b1) = (a.clone(), b.clone());
    let t1 = thread::spawn(move || {
        let _x = a1.lock().unwrap();
        let _y = b1.lock().unwrap(); // expect: lock-order-inversion
    });
    let (b2, c2) = (b.clone(), c.clone());
    let t2 = thread::spawn(move || {
        let _x = b2.lock().unwrap();
        let _y = c2.lock().unwrap();
    });
    let (c3, a3) = (c.clone(), a.clone());
    let t3 = thread::spawn(move || {
        let _x = c3.lock().unwrap();
        let _y = a3.lock().unwrap();
    });
    for t in [t1, t2, t3] {
        t.join().unwrap();
    }
}
