//! `Barrier`: `std::sync::Barrier`, built on the engine's lock and condvar so
//! that loom (which has no barrier) explores it too.

use std::cell::UnsafeCell;
use std::fmt;

use crate::event::{Action, LockMode, ObjectKind, Site};
use crate::runtime::execution::Blocker;
use crate::runtime::handle::Handle;
use crate::runtime::raw::{RawCondvar, RawLock};

pub struct Barrier {
    handle: Handle,
    parties: usize,
    lock: RawLock,
    cv: RawCondvar,
    /// (threads arrived in this generation, generation); guarded by `lock`.
    state: UnsafeCell<(usize, u64)>,
}

// SAFETY: `state` is only touched while `lock` is held.
unsafe impl Send for Barrier {}
unsafe impl Sync for Barrier {}

/// Returned by [`Barrier::wait`]; one thread of each generation is the leader.
#[derive(Debug)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

impl Barrier {
    #[track_caller]
    pub fn new(parties: usize) -> Self {
        Barrier {
            handle: Handle::new(ObjectKind::Barrier, Site::caller()),
            parties,
            lock: RawLock::new(false),
            cv: RawCondvar::new(),
            state: UnsafeCell::new((0, 0)),
        }
    }

    /// Blocks until `parties` threads have called `wait`; every arrival
    /// happens-before every departure of the same generation.
    #[track_caller]
    pub fn wait(&self) -> BarrierWaitResult {
        let site = Site::caller();
        let mut guard = self.lock.acquire(LockMode::Exclusive);
        // SAFETY: `guard` holds the lock.
        let generation = unsafe { (*self.state.get()).1 };
        self.handle
            .record(site.clone(), |barrier| Action::BarrierArrive {
                barrier,
                generation,
            });
        let leader = unsafe {
            let state = &mut *self.state.get();
            state.0 += 1;
            state.0 >= self.parties
        };
        if leader {
            unsafe { *self.state.get() = (0, generation + 1) };
            self.cv.notify(true);
        } else {
            let agent = self.handle.record_blocking(
                site.clone(),
                |_| None,
                |barrier| Blocker::Barrier { barrier },
            );
            while unsafe { (*self.state.get()).1 } == generation {
                guard = self.cv.wait(guard, &self.lock);
            }
            self.handle.unblock(agent);
        }
        drop(guard);
        self.handle.record(site, |barrier| Action::BarrierDepart {
            barrier,
            generation,
        });
        BarrierWaitResult(leader)
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .finish()
    }
}
