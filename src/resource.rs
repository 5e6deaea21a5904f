//! `interlock::resource`: counted resources (GPU memory, worker slots,
//! connections) under the banker's algorithm.
//!
//! Threads may declare how much of a pool they can need at most
//! ([`Pool::claim`]); every grant in every explored interleaving is checked
//! with the banker's safety algorithm, and a grant that leaves the state
//! unsafe is reported as `unsafe-state` with the tables and the steps that
//! reached it, whether or not that run then deadlocks. Claims not declared
//! are inferred from the most each thread held across the executions.

use std::cell::UnsafeCell;
use std::fmt;

use crate::event::{AgentId, LockMode, ObjectKind, Site};
use crate::runtime::handle::Handle;
use crate::runtime::raw::{RawCondvar, RawLock};

/// A pool of `units` interchangeable units of one resource.
pub struct Pool {
    handle: Handle,
    name: String,
    total: u64,
    lock: RawLock,
    cv: RawCondvar,
    /// Free units; guarded by `lock`.
    free: UnsafeCell<u64>,
}

// SAFETY: `free` is only touched while `lock` is held.
unsafe impl Send for Pool {}
unsafe impl Sync for Pool {}

impl Pool {
    #[track_caller]
    pub fn new(name: impl Into<String>, units: u64) -> Self {
        let name = name.into();
        let handle = Handle::new(ObjectKind::Resource, Site::caller());
        if let (Some(exec), Some(id)) = (handle.execution(), handle.id()) {
            exec.register_pool(id, &name, units);
        }
        Pool {
            handle,
            name,
            total: units,
            lock: RawLock::new(false),
            cv: RawCondvar::new(),
            free: UnsafeCell::new(units),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    /// Units free now.
    pub fn available(&self) -> u64 {
        let _guard = self.lock.acquire(LockMode::Exclusive);
        // SAFETY: the lock is held.
        unsafe { *self.free.get() }
    }

    /// Declares that the calling thread may hold up to `max` units at once.
    #[track_caller]
    pub fn claim(&self, max: u64) {
        assert!(
            max <= self.total,
            "a claim of {max} units of `{}` exceeds its {} units",
            self.name,
            self.total
        );
        if let (Some(exec), Some(id)) = (self.handle.execution(), self.handle.id()) {
            exec.resource_claim(id, max, Site::caller());
        }
    }

    /// Blocks until `units` are free and takes them; the guard gives them back.
    #[track_caller]
    pub fn acquire(&self, units: u64) -> PoolGuard<'_> {
        let site = Site::caller();
        let agent = self.requested(units, &site);
        let mut guard = self.lock.acquire(LockMode::Exclusive);
        // SAFETY: the lock is held whenever `free` is read or written.
        while unsafe { *self.free.get() } < units {
            guard = self.cv.wait(guard, &self.lock);
        }
        unsafe { *self.free.get() -= units };
        // Recorded under the pool's lock, so the ledger changes in the same
        // order as the units do.
        let granted = self.granted(agent, units, site);
        drop(guard);
        granted
    }

    /// Takes `units` if they are free now.
    #[track_caller]
    pub fn try_acquire(&self, units: u64) -> Option<PoolGuard<'_>> {
        let site = Site::caller();
        let guard = self.lock.acquire(LockMode::Exclusive);
        // SAFETY: the lock is held.
        let free = unsafe { &mut *self.free.get() };
        if *free < units {
            return None;
        }
        *free -= units;
        let agent = self.requested(units, &site);
        let granted = self.granted(agent, units, site);
        drop(guard);
        Some(granted)
    }

    fn requested(&self, units: u64, site: &Site) -> Option<AgentId> {
        assert!(
            units <= self.total,
            "asked for {units} units of `{}`, which has only {}",
            self.name,
            self.total
        );
        let (exec, id) = self.handle.execution().zip(self.handle.id())?;
        let (agent, claim, held) = exec.resource_request(id, units, site.clone());
        if let Some(claim) = claim {
            assert!(
                held + units <= claim,
                "{} asked for {units} more of `{}` while holding {held}, beyond its claim of {claim}",
                exec.recording().trace.agent_name(agent),
                self.name
            );
        }
        Some(agent)
    }

    fn granted(&self, agent: Option<AgentId>, units: u64, site: Site) -> PoolGuard<'_> {
        if let (Some(exec), Some(id), Some(agent)) =
            (self.handle.execution(), self.handle.id(), agent)
        {
            exec.resource_granted(agent, id, units, site.clone());
        }
        PoolGuard {
            pool: self,
            units,
            agent,
            site,
        }
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("name", &self.name)
            .field("total", &self.total)
            .finish()
    }
}

/// Units taken from a [`Pool`]; dropping it gives them back.
pub struct PoolGuard<'a> {
    pool: &'a Pool,
    units: u64,
    agent: Option<AgentId>,
    site: Site,
}

impl PoolGuard<'_> {
    pub fn units(&self) -> u64 {
        self.units
    }
}

impl Drop for PoolGuard<'_> {
    fn drop(&mut self) {
        // While unwinding (a failed execution), loom must not be called.
        if std::thread::panicking() {
            return;
        }
        let pool = self.pool;
        let guard = pool.lock.acquire(LockMode::Exclusive);
        // SAFETY: the lock is held.
        unsafe { *pool.free.get() += self.units };
        if let (Some(exec), Some(id), Some(agent)) =
            (pool.handle.execution(), pool.handle.id(), self.agent)
        {
            exec.resource_released(agent, id, self.units, self.site.clone());
        }
        drop(guard);
        pool.cv.notify(true);
    }
}

impl fmt::Debug for PoolGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PoolGuard({} of `{}`)", self.units, self.pool.name)
    }
}
