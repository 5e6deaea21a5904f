//! Two private helpers take `a` and `b` in opposite orders. One is also
//! called without the gate, so the cycle stays.
use std::sync::Mutex;

pub struct Engine {
    gate: Mutex<()>,
    a: Mutex<u32>,
    b: Mutex<u32>,
}

impl Engine {
    fn forward(&self) {
        let _a = self.a.lock().unwrap();
        let _b = self.b.lock().unwrap(); // expect: lock-order-inversion
    }

    fn backward(&self) {
        let _b = self.b.lock().unwrap();
        let _a = self.a.lock().unwrap();
    }

    pub fn step(&self) {
        let _gate = self.gate.lock().unwrap();
        self.forward();
    }

    pub fn undo(&self) {
        let _gate = self.gate.lock().unwrap();
        self.backward();
    }

    pub fn fast_path(&self) {
        self.backward();
    }
}
