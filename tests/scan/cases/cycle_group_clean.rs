//! The fixed twin: the same four locks, always taken in one global order
//! (a before b before c before d).
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
        let _b = self.b.lock().unwrap();
    }

    pub fn bc(&self) {
        let _b = self.b.lock().unwrap();
        let _c = self.c.lock().unwrap();
    }

    pub fn cd(&self) {
        let _c = self.c.lock().unwrap();
        let _d = self.d.lock().unwrap();
    }

    pub fn ad(&self) {
        let _a = self.a.lock().unwrap();
        let _d = self.d.lock().unwrap();
    }

    pub fn ac(&self) {
        let _a = self.a.lock().unwrap();
        let _c = self.c.lock().unwrap();
    }

    pub fn bd(&self) {
        let _b = self.b.lock().unwrap();
        let _d = self.d.lock().unwrap();
    }
}
