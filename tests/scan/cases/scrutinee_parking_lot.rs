//! parking_lot guards come without `unwrap`; `while let` keeps its
//! scrutinee's guard through the loop body.
use parking_lot::{Mutex, RwLock};
use std::collections::VecDeque;

pub struct Queue {
    jobs: Mutex<VecDeque<u32>>,
    seen: RwLock<Vec<u32>>,
}

impl Queue {
    pub fn drain(&self) {
        while let Some(job) = self.jobs.lock().pop_front() {
            if job > 10 {
                self.jobs.lock().push_back(job - 10); // expect: double-lock
            }
        }
    }

    pub fn record(&self, job: u32) {
        match self.seen.read().iter().position(|&j| j == job) {
            Some(_) => {}
            None => self.seen.write().push(job), // expect: double-lock
        }
    }
}
