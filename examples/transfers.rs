//! Two transfers between the same accounts, taking the locks in opposite
//! orders: the lock graph has a cycle from the first execution, and loom
//! finds the interleaving where both threads block.
//!
//! Run: `cargo run --example transfers`

use interlock::sync::{Arc, Mutex};
use interlock::thread;

struct Bank {
    checking: Mutex<i64>,
    savings: Mutex<i64>,
}

fn main() {
    let report = interlock::Builder::new().check(|| {
        let bank = Arc::new(Bank {
            checking: Mutex::new(100),
            savings: Mutex::new(50),
        });
        let b2 = bank.clone();
        let t = thread::spawn(move || {
            let mut from = b2.savings.lock().unwrap();
            let mut to = b2.checking.lock().unwrap();
            *from -= 10;
            *to += 10;
        });
        {
            let mut from = bank.checking.lock().unwrap();
            let mut to = bank.savings.lock().unwrap();
            *from -= 20;
            *to += 20;
        }
        t.join().unwrap();
    });
    print!("{report}");
    std::process::exit(if report.is_clean() { 0 } else { 1 });
}
