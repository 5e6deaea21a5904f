//! `interlock::sync`: `std::sync` with every operation recorded, so that
//! changing the `use` path is all a program needs to be checked.

pub mod atomic;
mod barrier;
mod condvar;
mod guard_access;
pub mod mpsc;
mod mutex;
mod rwlock;
mod semaphore;

pub use barrier::{Barrier, BarrierWaitResult};
pub use condvar::{Condvar, WaitTimeoutResult};
pub use mutex::{Mutex, MutexGuard};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use semaphore::{Semaphore, SemaphorePermit};
// std's `Arc`: loom's would make every reference count an atomic to explore,
// multiplying executions without finding anything more in user code.
pub use std::sync::{Arc, LockResult, OnceLock, PoisonError, TryLockError, TryLockResult, Weak};
