//! `TrackedCell`: shared state whose reads and writes are checked for data
//! races, the `UnsafeCell` of a model.

use std::cell::UnsafeCell;
use std::fmt;

use crate::event::{Action, ObjectKind, Site};
use crate::runtime::handle::Handle;

/// A cell shared between threads without synchronization of its own.
///
/// Every access is recorded; two accesses from different threads, at least
/// one a write, that happens-before does not order are a `data-race`. The
/// cell itself never blocks, so like any unsynchronized memory it gives no
/// ordering: that is what the check is for.
pub struct TrackedCell<T> {
    handle: Handle,
    value: UnsafeCell<T>,
}

// SAFETY: a model is explored one step at a time (loom) or checked for races
// (std): the point of the type is to let racy programs run and be reported.
unsafe impl<T: Send> Send for TrackedCell<T> {}
unsafe impl<T: Send> Sync for TrackedCell<T> {}

impl<T> TrackedCell<T> {
    #[track_caller]
    pub fn new(value: T) -> Self {
        TrackedCell {
            handle: Handle::new(ObjectKind::Cell, Site::caller()),
            value: UnsafeCell::new(value),
        }
    }

    /// Reads through a raw pointer, as loom's `UnsafeCell::with`.
    #[track_caller]
    pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        self.handle
            .record(Site::caller(), |cell| Action::Read { cell });
        f(self.value.get())
    }

    /// Writes through a raw pointer, as loom's `UnsafeCell::with_mut`.
    #[track_caller]
    pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        self.handle
            .record(Site::caller(), |cell| Action::Write { cell });
        f(self.value.get())
    }

    /// Reads a copy of the value.
    #[track_caller]
    pub fn get(&self) -> T
    where
        T: Copy,
    {
        self.handle
            .record(Site::caller(), |cell| Action::Read { cell });
        // SAFETY: a racy read of a Copy value, reported by the analysis.
        unsafe { *self.value.get() }
    }

    /// Replaces the value.
    #[track_caller]
    pub fn set(&self, value: T) {
        self.handle
            .record(Site::caller(), |cell| Action::Write { cell });
        // SAFETY: a racy write, reported by the analysis.
        unsafe { *self.value.get() = value }
    }

    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: Default> Default for TrackedCell<T> {
    #[track_caller]
    fn default() -> Self {
        TrackedCell::new(T::default())
    }
}

impl<T> fmt::Debug for TrackedCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrackedCell").finish_non_exhaustive()
    }
}
