//! Two instances of one lock class taken in opposite orders: by class the
//! graph sees only `Account.balance` inside `Account.balance`; the
//! instances (`a`, `b`) show the cycle.

use std::sync::{Arc, Mutex};
use std::thread;

pub struct Account {
    balance: Mutex<i64>,
}

fn transfer(from: &Account, to: &Account, amount: i64) {
    let mut f = from.balance.lock().unwrap();
    let mut t = to.balance.lock().unwrap();
    *f -= amount;
    *t += amount;
}

/// The classic bank transfer: each thread moves money the other way.
pub fn transfers() {
    let a = Arc::new(Account { balance: Mutex::new(100) });
    let b = Arc::new(Account { balance: Mutex::new(100) });
    let (a2, b2) = (a.clone(), b.clone());
    let t = thread::spawn(move || transfer(&a2, &b2, 10)); // expect: lock-order-inversion
    transfer(&b, &a, 20);
    t.join().unwrap();
}

/// The same, written out in place.
pub fn inline_swap() {
    let x = Arc::new(Mutex::new(1));
    let y = Arc::new(Mutex::new(2));
    let (x2, y2) = (Arc::clone(&x), Arc::clone(&y));
    let t = thread::spawn(move || {
        let _first = x2.lock().unwrap();
        let _second = y2.lock().unwrap(); // expect: lock-order-inversion
    });
    {
        let _first = y.lock().unwrap();
        let _second = x.lock().unwrap();
    }
    t.join().unwrap();
}
