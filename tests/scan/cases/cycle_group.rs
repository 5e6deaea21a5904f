//! Four locks taken in inconsistent orders: the cycles a → b → c → a,
//! b → c → d → b and a → b → c → d → a overlap. One root cause (no global
//! order among the four), so one finding, headed by a shortest cycle.
use std::sync::Mutex;

pub struct Hub {
    a: Mutex<u32>,
    b: Mutex<u32>,
    c: Mutex<u32>,
    d: Mutex<u32>,
}

impl Hub {
    pub fn ab(&self) {
        let _a = self.a.lock().unwrap();
        let _b = self.b.lock().unwrap(); // expect: lock-order-inversion
    }

    pub fn bc(&self) {
        let _b = self.b.lock().unwrap();
        let _c = self.c.lock().unwrap();
    }

    pub fn cd(&self) {
        let _c = self.c.lock().unwrap();
        let _d = self.d.lock().unwrap();
    }

    pub fn da(&self) {
        let _d = self.d.lock().unwrap();
        let _a = self.a.lock().unwrap();
    }

    pub fn ca(&self) {
        let _c = self.c.lock().unwrap();
        let _a = self.a.lock().unwrap();
    }

    pub fn db(&self) {
        let _d = self.d.lock().unwrap();
        let _b = self.b.lock().unwrap();
    }
}
