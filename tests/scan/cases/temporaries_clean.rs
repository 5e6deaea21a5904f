//! The fixed twins: one statement per guard, a guard dropped before it is
//! replaced.
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
        let x = self.corner.read().unwrap().x;
        x == 0 && self.corner.write().unwrap().y == 0
    }

    pub fn copy(&self) -> Point {
        let corner = self.corner.read().unwrap();
        Point {
            x: corner.x,
            y: corner.y,
        }
    }

    pub fn total(&self) -> usize {
        let first = self.name.lock().unwrap().len();
        first + self.name.lock().unwrap().len()
    }

    pub fn rename(&self, names: &[&str]) {
        let mut guard = self.name.lock().unwrap();
        for n in names {
            guard.push_str(n);
            drop(guard);
            guard = self.name.lock().unwrap();
        }
    }
}
