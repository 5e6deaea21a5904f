//! The fixed twin: every thread takes the locks in one global order.
use std::sync::{Arc, Mutex};
use std::thread;

pub fn ring() {
    let a = Arc::new(Mutex::new(0));
    let b = Arc::new(Mutex::new(0));
    let c = Arc::new(Mutex::new(0));

    let (a1, b1) = (a.clone(), b.clone());
    let t1 = thread::spawn(move || {
        let _x = a1.lock().unwrap();
        let _y = b1.lock().unwrap();
    });
    let (b2, c2) = (b.clone(), c.clone());
    let t2 = thread::spawn(move || {
        let _x = b2.lock().unwrap();
        let _y = c2.lock().unwrap();
    });
    let (c3, a3) = (c.clone(), a.clone());
    let t3 = thread::spawn(move || {
        let _x = a3.lock().unwrap();
        let _y = c3.lock().unwrap();
    });
    for t in [t1, t2, t3] {
        t.join().unwrap();
    }
}
