//! 2015-edition syntax syn no longer parses by itself: an anonymous trait
//! method parameter, and a trait object without `dyn`. The file is read
//! with a tolerant second parse, not skipped.
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
        let items = self.items.lock().unwrap();
        (self.hook)(v);
        self.items.lock().unwrap().push(v); // expect: double-lock
        drop(items);
    }
}
