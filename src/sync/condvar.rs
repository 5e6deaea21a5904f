//! `Condvar`: `std::sync::Condvar` with waits and notifications recorded.

use std::fmt;
use std::sync::LockResult;
use std::time::Duration;

use super::mutex::MutexGuard;
use crate::event::{Action, LockMode, ObjectKind, Site};
use crate::runtime::execution::Blocker;
use crate::runtime::handle::Handle;
use crate::runtime::raw::RawCondvar;

/// A condition variable, as `std::sync::Condvar`.
pub struct Condvar {
    handle: Handle,
    raw: RawCondvar,
}

/// Whether a timed wait returned because its time ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    pub fn timed_out(&self) -> bool {
        self.0
    }
}

impl Condvar {
    #[track_caller]
    pub fn new() -> Self {
        Condvar {
            handle: Handle::new(ObjectKind::Condvar, Site::caller()),
            raw: RawCondvar::new(),
        }
    }

    /// Releases the guard's mutex, sleeps until notified, and locks it again.
    #[track_caller]
    pub fn wait<'a, T: ?Sized>(&self, guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
        self.wait_at(guard, Site::caller())
    }

    fn wait_at<'a, T: ?Sized>(
        &self,
        mut guard: MutexGuard<'a, T>,
        site: Site,
    ) -> LockResult<MutexGuard<'a, T>> {
        let mutex = guard.mutex();
        let recorded = self
            .handle
            .execution()
            .zip(self.handle.id())
            .zip(mutex.handle().id());
        let agent = recorded.map(|((exec, condvar), lock)| {
            exec.lock_released(lock, LockMode::Exclusive, guard.site().clone());
            exec.record_blocking(
                Some(Action::CondvarWait {
                    condvar,
                    mutex: lock,
                }),
                Blocker::Condvar {
                    condvar,
                    mutex: lock,
                },
                site.clone(),
            )
        });
        let raw = guard.take_raw();
        let raw = self.raw.wait(raw, mutex.raw());
        guard.put_raw(raw);
        guard.forget_accesses();
        if let (Some(((exec, condvar), lock)), Some(agent)) = (recorded, agent) {
            exec.unblock(agent);
            exec.record(
                Action::CondvarWake {
                    condvar,
                    mutex: lock,
                },
                site.clone(),
            );
            exec.lock_acquired(agent, lock, LockMode::Exclusive, guard.site().clone());
        }
        Ok(guard)
    }

    /// Waits while `condition` holds, re-checking it after every wake-up.
    #[track_caller]
    pub fn wait_while<'a, T, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: F,
    ) -> LockResult<MutexGuard<'a, T>>
    where
        F: FnMut(&mut T) -> bool,
    {
        let site = Site::caller();
        while condition(&mut *guard) {
            guard = self.wait_at(guard, site.clone())?;
        }
        Ok(guard)
    }

    /// Waits as [`Condvar::wait`]; the model never lets the time run out, so
    /// a wake-up that nobody sends shows up as a deadlock rather than a delay.
    #[track_caller]
    pub fn wait_timeout<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        _timeout: Duration,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        let guard = self
            .wait_at(guard, Site::caller())
            .unwrap_or_else(|e| e.into_inner());
        Ok((guard, WaitTimeoutResult(false)))
    }

    #[track_caller]
    pub fn notify_one(&self) {
        self.handle
            .record(Site::caller(), |condvar| Action::CondvarNotify {
                condvar,
                all: false,
            });
        self.raw.notify(false);
    }

    #[track_caller]
    pub fn notify_all(&self) {
        self.handle
            .record(Site::caller(), |condvar| Action::CondvarNotify {
                condvar,
                all: true,
            });
        self.raw.notify(true);
    }
}

impl Default for Condvar {
    #[track_caller]
    fn default() -> Self {
        Condvar::new()
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar").finish_non_exhaustive()
    }
}
