//! Instances of one lock class nested, in an order that cannot cycle.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread;

pub struct Account {
    id: u32,
    balance: Mutex<i64>,
}

/// Locks the account with the lower id first, whatever the direction.
fn transfer(from: &Account, to: &Account, amount: i64) {
    let (first, second) = if from.id < to.id { (from, to) } else { (to, from) };
    let mut f = first.balance.lock().unwrap();
    let mut t = second.balance.lock().unwrap();
    *f -= amount;
    *t += amount;
}

fn transfer_unordered(from: &Account, to: &Account, amount: i64) {
    let mut f = from.balance.lock().unwrap();
    let mut t = to.balance.lock().unwrap();
    *f -= amount;
    *t += amount;
}

pub fn ordered_transfers() {
    let a = Arc::new(Account { id: 1, balance: Mutex::new(100) });
    let b = Arc::new(Account { id: 2, balance: Mutex::new(100) });
    let (a2, b2) = (a.clone(), b.clone());
    let t = thread::spawn(move || transfer(&a2, &b2, 10));
    transfer(&b, &a, 20);
    t.join().unwrap();
}

/// Both threads move money the same way.
pub fn one_direction() {
    let a = Arc::new(Account { id: 1, balance: Mutex::new(100) });
    let b = Arc::new(Account { id: 2, balance: Mutex::new(100) });
    let (a2, b2) = (a.clone(), b.clone());
    let t = thread::spawn(move || transfer_unordered(&a2, &b2, 10));
    transfer_unordered(&a, &b, 20);
    t.join().unwrap();
}

/// Opposite directions, one after the other: the join orders them.
pub fn one_after_the_other() {
    let a = Arc::new(Account { id: 1, balance: Mutex::new(100) });
    let b = Arc::new(Account { id: 2, balance: Mutex::new(100) });
    let (a2, b2) = (a.clone(), b.clone());
    let t = thread::spawn(move || transfer_unordered(&a2, &b2, 10));
    t.join().unwrap();
    transfer_unordered(&b, &a, 20);
}

/// Accounts found at run time: which is which is not known.
pub fn looked_up(accounts: &HashMap<u32, Account>, from: u32, to: u32) {
    if let (Some(f), Some(t)) = (accounts.get(&from), accounts.get(&to)) {
        transfer_unordered(f, t, 1);
    }
}
