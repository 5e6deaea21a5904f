//! The fixed twin: pop in a statement of its own; decide, then write.
use parking_lot::{Mutex, RwLock};
use std::collections::VecDeque;

pub struct Queue {
    jobs: Mutex<VecDeque<u32>>,
    seen: RwLock<Vec<u32>>,
}

impl Queue {
    pub fn drain(&self) {
        loop {
            let next = self.jobs.lock().pop_front();
            let Some(job) = next else { break };
            if job > 10 {
                self.jobs.lock().push_back(job - 10);
            }
        }
    }

    pub fn record(&self, job: u32) {
        let known = self.seen.read().iter().any(|&j| j == job);
        if !known {
            self.seen.write().push(job);
        }
    }
}
