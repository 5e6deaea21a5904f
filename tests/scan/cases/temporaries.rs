//! Temporaries that outlive what their author thought: the left side of
//! `&&`, a struct literal's fields, a block's tail (before edition 2024),
//! the old value of an assignment (dropped after the new one is made).
use std::sync::{Mutex, RwLock};

pub struct Point {
    x: u32,
    y: u32,
}

pub struct Shape {
    corner: RwLock<Point>,
    name: Mutex<String>,
}

impl Shape {
    pub fn is_origin(&self) -> bool {
        self.corner.read().unwrap().x == 0 && self.corner.write().unwrap().y == 0 // expect: double-lock
    }

    pub fn copy(&self) -> Point {
        Point {
            x: self.corner.read().unwrap().x,
            y: self.corner.write().unwrap().y, // expect: double-lock
        }
    }

    pub fn total(&self) -> usize {
        let n = { self.name.lock().unwrap().len() } + self.name.lock().unwrap().len(); // expect: double-lock
        n
    }

    pub fn rename(&self, names: &[&str]) {
        let mut guard = self.name.lock().unwrap();
        for n in names {
            guard.push_str(n);
            guard = self.name.lock().unwrap(); // expect: double-lock
        }
    }
}
