use std::sync::Mutex;

#[derive(Default)]
pub struct Store {
    items: Mutex<Vec<u32>>,
}

impl Store {
    pub fn put(&self, v: u32) {
        self.items.lock().unwrap().push(v);
    }
}
