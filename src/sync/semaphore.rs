//! `Semaphore`: a counting semaphore on the banker-checked pool machinery.

use crate::resource::{Pool, PoolGuard};

/// A counting semaphore: `acquire` takes a permit, dropping it gives it back.
#[derive(Debug)]
pub struct Semaphore {
    pool: Pool,
}

/// A permit of a [`Semaphore`].
#[derive(Debug)]
pub struct SemaphorePermit<'a>(#[allow(dead_code)] PoolGuard<'a>);

impl Semaphore {
    #[track_caller]
    pub fn new(permits: u64) -> Self {
        Semaphore {
            pool: Pool::new("semaphore", permits),
        }
    }

    /// A semaphore named in reports as `name`.
    #[track_caller]
    pub fn named(name: impl Into<String>, permits: u64) -> Self {
        Semaphore {
            pool: Pool::new(name, permits),
        }
    }

    /// Blocks until a permit is free and takes it.
    #[track_caller]
    pub fn acquire(&self) -> SemaphorePermit<'_> {
        SemaphorePermit(self.pool.acquire(1))
    }

    #[track_caller]
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.pool.try_acquire(1).map(SemaphorePermit)
    }

    pub fn available_permits(&self) -> u64 {
        self.pool.available()
    }
}
