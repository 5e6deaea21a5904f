//! `RwLock`: `std::sync::RwLock` with every read and write acquisition recorded.

use std::cell::{Cell, UnsafeCell};
use std::fmt;
use std::sync::{LockResult, TryLockError, TryLockResult};

use super::guard_access::Accessed;
use crate::event::{AgentId, LockMode, ObjectKind, Site};
use crate::runtime::handle::Handle;
use crate::runtime::raw::{RawGuard, RawLock};

/// A reader-writer lock, as `std::sync::RwLock`.
pub struct RwLock<T: ?Sized> {
    handle: Handle,
    data_handle: Handle,
    raw: RawLock,
    data: UnsafeCell<T>,
}

// SAFETY: as std's RwLock.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    #[track_caller]
    pub fn new(value: T) -> Self {
        let site = Site::caller();
        RwLock {
            handle: Handle::new(ObjectKind::RwLock, site.clone()),
            data_handle: Handle::new(ObjectKind::Cell, site),
            raw: RawLock::new(true),
            data: UnsafeCell::new(value),
        }
    }

    pub fn into_inner(self) -> LockResult<T> {
        Ok(self.data.into_inner())
    }
}

impl<T: ?Sized> RwLock<T> {
    #[track_caller]
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        let site = Site::caller();
        // A read taken again by a thread that already reads shares the lock
        // it holds (reported as `recursive-read`); loom's rwlock cannot be
        // read twice by one thread, so the raw lock is not asked again.
        let reentrant = self
            .handle
            .execution()
            .zip(self.handle.id())
            .is_some_and(|(exec, id)| {
                let agent = exec.agent();
                exec.holds(agent, id, LockMode::Shared)
            });
        let agent = self.request(LockMode::Shared, &site);
        let raw = (!reentrant).then(|| self.raw.acquire(LockMode::Shared));
        self.acquired(agent, LockMode::Shared, &site);
        Ok(RwLockReadGuard {
            lock: self,
            raw,
            site,
            accessed: Cell::new(Accessed::NONE),
            agent,
        })
    }

    #[track_caller]
    pub fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        let site = Site::caller();
        let agent = self.request(LockMode::Exclusive, &site);
        let raw = self.raw.acquire(LockMode::Exclusive);
        self.acquired(agent, LockMode::Exclusive, &site);
        Ok(RwLockWriteGuard {
            lock: self,
            raw: Some(raw),
            site,
            accessed: Cell::new(Accessed::NONE),
            agent,
        })
    }

    #[track_caller]
    pub fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        let site = Site::caller();
        let raw = self
            .raw
            .try_acquire(LockMode::Shared)
            .ok_or(TryLockError::WouldBlock)?;
        let agent = self.handle.execution().map(|e| e.agent());
        self.acquired(agent, LockMode::Shared, &site);
        Ok(RwLockReadGuard {
            lock: self,
            raw: Some(raw),
            site,
            accessed: Cell::new(Accessed::NONE),
            agent,
        })
    }

    #[track_caller]
    pub fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        let site = Site::caller();
        let raw = self
            .raw
            .try_acquire(LockMode::Exclusive)
            .ok_or(TryLockError::WouldBlock)?;
        let agent = self.handle.execution().map(|e| e.agent());
        self.acquired(agent, LockMode::Exclusive, &site);
        Ok(RwLockWriteGuard {
            lock: self,
            raw: Some(raw),
            site,
            accessed: Cell::new(Accessed::NONE),
            agent,
        })
    }

    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        Ok(self.data.get_mut())
    }

    pub fn is_poisoned(&self) -> bool {
        false
    }

    fn request(&self, mode: LockMode, site: &Site) -> Option<AgentId> {
        let (id, exec) = self.handle.id().zip(self.handle.execution())?;
        Some(exec.lock_request(id, mode, site.clone()))
    }

    fn acquired(&self, agent: Option<AgentId>, mode: LockMode, site: &Site) {
        if let (Some(exec), Some(id), Some(agent)) =
            (self.handle.execution(), self.handle.id(), agent)
        {
            exec.lock_acquired(agent, id, mode, site.clone());
        }
    }

    fn released(&self, agent: Option<AgentId>, mode: LockMode, site: &Site) {
        if std::thread::panicking() {
            return;
        }
        if let (Some(exec), Some(id)) = (self.handle.execution(), self.handle.id()) {
            match agent {
                Some(agent) => exec.lock_released_by(agent, id, mode, site.clone()),
                None => exec.lock_released(id, mode, site.clone()),
            }
        }
    }
}

impl<T: Default> Default for RwLock<T> {
    #[track_caller]
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLock").finish_non_exhaustive()
    }
}

super::guard_access::guard_access!(RwLockReadGuard, lock, read);
super::guard_access::guard_access!(RwLockWriteGuard, lock, write);

/// A shared (read) guard of an [`RwLock`].
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    raw: Option<RawGuard<'a>>,
    site: Site,
    accessed: Cell<Accessed>,
    /// The thread holding the guard.
    agent: Option<AgentId>,
}

/// An exclusive (write) guard of an [`RwLock`].
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    raw: Option<RawGuard<'a>>,
    site: Site,
    accessed: Cell<Accessed>,
    /// The thread holding the guard.
    agent: Option<AgentId>,
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.released(self.agent, LockMode::Shared, &self.site);
        drop(self.raw.take());
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock
            .released(self.agent, LockMode::Exclusive, &self.site);
        drop(self.raw.take());
    }
}
