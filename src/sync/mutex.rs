//! `Mutex`: `std::sync::Mutex` with every acquisition recorded.

use std::cell::{Cell, UnsafeCell};
use std::fmt;
use std::sync::{LockResult, TryLockError, TryLockResult};

use super::guard_access::Accessed;
use crate::event::{AgentId, LockMode, ObjectKind, Site};
use crate::runtime::handle::Handle;
use crate::runtime::raw::{RawGuard, RawLock};

/// A mutual-exclusion lock, as `std::sync::Mutex`.
///
/// Besides the lock itself, the protected data is tracked as a shared
/// location: the first `Deref` of a guard records a read and the first
/// `DerefMut` a write, which is what the atomicity analysis needs to see a
/// value read in one critical section and written back in another.
pub struct Mutex<T: ?Sized> {
    handle: Handle,
    data_handle: Handle,
    raw: RawLock,
    data: UnsafeCell<T>,
}

// SAFETY: as std's Mutex: the raw lock serializes access to `data`.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    #[track_caller]
    pub fn new(value: T) -> Self {
        let site = Site::caller();
        Mutex {
            handle: Handle::new(ObjectKind::Mutex, site.clone()),
            data_handle: Handle::new(ObjectKind::Cell, site),
            raw: RawLock::new(false),
            data: UnsafeCell::new(value),
        }
    }

    pub fn into_inner(self) -> LockResult<T> {
        Ok(self.data.into_inner())
    }
}

impl<T: ?Sized> Mutex<T> {
    #[track_caller]
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        let site = Site::caller();
        let request = self.handle.id().zip(self.handle.execution());
        let agent =
            request.map(|(id, exec)| exec.lock_request(id, LockMode::Exclusive, site.clone()));
        let raw = self.raw.acquire(LockMode::Exclusive);
        Ok(self.guard(raw, agent, site))
    }

    #[track_caller]
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        let site = Site::caller();
        match self.raw.try_acquire(LockMode::Exclusive) {
            Some(raw) => {
                let agent = self.handle.execution().map(|e| e.agent());
                Ok(self.guard(raw, agent, site))
            }
            None => Err(TryLockError::WouldBlock),
        }
    }

    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        Ok(self.data.get_mut())
    }

    pub fn is_poisoned(&self) -> bool {
        false
    }

    fn guard<'a>(
        &'a self,
        raw: RawGuard<'a>,
        agent: Option<AgentId>,
        site: Site,
    ) -> MutexGuard<'a, T> {
        if let (Some(exec), Some(id), Some(agent)) =
            (self.handle.execution(), self.handle.id(), agent)
        {
            exec.lock_acquired(agent, id, LockMode::Exclusive, site.clone());
        }
        MutexGuard {
            mutex: self,
            raw: Some(raw),
            site,
            accessed: Cell::new(Accessed::NONE),
            agent,
        }
    }

    pub(crate) fn raw(&self) -> &RawLock {
        &self.raw
    }

    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl<T: Default> Default for Mutex<T> {
    #[track_caller]
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    #[track_caller]
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: ?Sized> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutex").finish_non_exhaustive()
    }
}

super::guard_access::guard_access!(MutexGuard, mutex, write);

/// The guard of a locked [`Mutex`]; the lock is released when it drops.
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    raw: Option<RawGuard<'a>>,
    site: Site,
    accessed: Cell<Accessed>,
    /// The thread holding the guard (guards do not move between threads).
    agent: Option<AgentId>,
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    pub(crate) fn mutex(&self) -> &'a Mutex<T> {
        self.mutex
    }

    pub(crate) fn take_raw(&mut self) -> RawGuard<'a> {
        self.raw
            .take()
            .expect("a guard holds its lock until dropped")
    }

    pub(crate) fn put_raw(&mut self, raw: RawGuard<'a>) {
        self.raw = Some(raw);
    }

    pub(crate) fn site(&self) -> &Site {
        &self.site
    }

    /// After a condvar wait the data may have changed under the released
    /// lock: the next access is recorded afresh, as a new critical section.
    pub(crate) fn forget_accesses(&self) {
        self.accessed.set(Accessed::NONE);
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        if self.raw.is_some() && !std::thread::panicking() {
            if let (Some(exec), Some(id)) = (self.mutex.handle.execution(), self.mutex.handle.id())
            {
                match self.agent {
                    Some(agent) => {
                        exec.lock_released_by(agent, id, LockMode::Exclusive, self.site.clone())
                    }
                    None => exec.lock_released(id, LockMode::Exclusive, self.site.clone()),
                }
            }
        }
        drop(self.raw.take());
    }
}
