//! The fixed twin, in the same 2015-edition syntax.
use std::sync::Mutex;

pub trait Visit {
    fn visit(&self, u8);
}

pub struct Store {
    items: Mutex<Vec<u8>>,
    hook: Box<Fn(u8) + Send>,
}

impl Visit for Store {
    fn visit(&self, v: u8) {
        (self.hook)(v);
        self.items.lock().unwrap().push(v);
    }
}
