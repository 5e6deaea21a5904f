//! What a lock guard records of its data's use: the first read (`Deref`)
//! and the first write (`DerefMut`) of each critical section, which is what
//! the atomicity analysis needs to see a value read in one critical section
//! and written back in another. Shared by every guard kind.

use std::cell::Cell;

use crate::event::{Action, AgentId, Site};
use crate::runtime::handle::Handle;

/// Which accesses a guard has recorded so far (one read and one write at most).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Accessed(u8);

impl Accessed {
    pub const NONE: Accessed = Accessed(0);
    const READ: u8 = 1;
    const WRITE: u8 = 2;

    /// Records the first read and the first write of a guard's lifetime.
    pub fn note(
        cell: &Cell<Accessed>,
        write: bool,
        handle: &Handle,
        site: &Site,
        agent: Option<AgentId>,
    ) {
        // The site is where the guard is used (`*guard += 1`), not where it was taken.
        let seen = cell.get().0;
        let bit = if write { Self::WRITE } else { Self::READ };
        // Further reads or writes in one critical section add nothing the
        // analyses use.
        if seen & bit != 0 || std::thread::panicking() {
            return;
        }
        cell.set(Accessed(seen | bit));
        handle.record_by(agent, site.clone(), |id| {
            if write {
                Action::Write { cell: id }
            } else {
                Action::Read { cell: id }
            }
        });
    }
}

/// `Deref` (and `DerefMut` for a `write` guard), `Debug` and `Display` for
/// a guard type with fields `accessed` and `agent`, whose field `$lock`
/// is the lock (with fields `data_handle` and `data`).
macro_rules! guard_access {
    ($guard:ident, $lock:ident, read) => {
        impl<T: ?Sized> std::ops::Deref for $guard<'_, T> {
            type Target = T;

            #[track_caller]
            fn deref(&self) -> &T {
                $crate::sync::guard_access::Accessed::note(
                    &self.accessed,
                    false,
                    &self.$lock.data_handle,
                    &$crate::event::Site::caller(),
                    self.agent,
                );
                // SAFETY: the guard holds the lock.
                unsafe { &*self.$lock.data.get() }
            }
        }

        impl<T: ?Sized + std::fmt::Debug> std::fmt::Debug for $guard<'_, T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&**self, f)
            }
        }

        impl<T: ?Sized + std::fmt::Display> std::fmt::Display for $guard<'_, T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&**self, f)
            }
        }
    };
    ($guard:ident, $lock:ident, write) => {
        $crate::sync::guard_access::guard_access!($guard, $lock, read);

        impl<T: ?Sized> std::ops::DerefMut for $guard<'_, T> {
            #[track_caller]
            fn deref_mut(&mut self) -> &mut T {
                $crate::sync::guard_access::Accessed::note(
                    &self.accessed,
                    true,
                    &self.$lock.data_handle,
                    &$crate::event::Site::caller(),
                    self.agent,
                );
                // SAFETY: the guard holds the lock exclusively.
                unsafe { &mut *self.$lock.data.get() }
            }
        }
    };
}

pub(crate) use guard_access;
