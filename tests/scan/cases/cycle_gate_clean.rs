//! The fixed twin: every caller of the two helpers holds the gate, so they
//! never run at the same time: no deadlock, whatever their orders.
use std::sync::Mutex;

pub struct Engine {
    gate: Mutex<()>,
    a: Mutex<u32>,
    b: Mutex<u32>,
}

impl Engine {
    fn forward(&self) {
        let _a = self.a.lock().unwrap();
        let _b = self.b.lock().unwrap();
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
        let _gate = self.gate.lock().unwrap();
        self.backward();
    }
}
