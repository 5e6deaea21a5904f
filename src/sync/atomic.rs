//! `interlock::sync::atomic`: std's atomics with every access recorded with
//! its ordering and value, so that happens-before sees Release/Acquire pairs
//! (and not Relaxed ones) and the atomicity analysis sees lost updates.

use std::fmt;

pub use std::sync::atomic::Ordering;

use crate::event::{Action, MemoryOrder, ObjectKind, Site};
use crate::runtime::execution;
use crate::runtime::handle::Handle;
use crate::runtime::Engine;

pub(crate) fn memory_order(order: Ordering) -> MemoryOrder {
    match order {
        Ordering::Relaxed => MemoryOrder::Relaxed,
        Ordering::Release => MemoryOrder::Release,
        Ordering::Acquire => MemoryOrder::Acquire,
        Ordering::AcqRel => MemoryOrder::AcqRel,
        _ => MemoryOrder::SeqCst,
    }
}

/// A memory fence, as `std::sync::atomic::fence`.
#[track_caller]
pub fn fence(order: Ordering) {
    let site = Site::caller();
    let engine = execution::with_current(|exec| {
        exec.record(
            Action::Fence {
                order: memory_order(order),
            },
            site,
        );
        exec.engine
    });
    match engine {
        Some(Engine::Loom) => loom::sync::atomic::fence(order),
        _ => std::sync::atomic::fence(order),
    }
}

macro_rules! atomic {
    ($name:ident, $int:ty, $to_u64:expr) => {
        #[doc = concat!("As `std::sync::atomic::", stringify!($name), "`, recorded.")]
        pub struct $name {
            handle: Handle,
            inner: AtomicInner,
        }

        #[allow(clippy::large_enum_variant)]
        enum AtomicInner {
            Loom(loom::sync::atomic::$name),
            Std(std::sync::atomic::$name),
        }

        impl $name {
            #[track_caller]
            pub fn new(value: $int) -> Self {
                let handle = Handle::new(ObjectKind::Atomic, Site::caller());
                let inner = match execution::with_current(|e| e.engine) {
                    Some(Engine::Loom) => AtomicInner::Loom(loom::sync::atomic::$name::new(value)),
                    _ => AtomicInner::Std(std::sync::atomic::$name::new(value)),
                };
                $name { handle, inner }
            }

            fn value(v: $int) -> u64 {
                let f: fn($int) -> u64 = $to_u64;
                f(v)
            }

            #[track_caller]
            pub fn load(&self, order: Ordering) -> $int {
                let v = match &self.inner {
                    AtomicInner::Loom(a) => a.load(order),
                    AtomicInner::Std(a) => a.load(order),
                };
                self.handle
                    .record(Site::caller(), |atomic| Action::AtomicLoad {
                        atomic,
                        order: memory_order(order),
                        value: Some(Self::value(v)),
                    });
                v
            }

            #[track_caller]
            pub fn store(&self, value: $int, order: Ordering) {
                // Every access is recorded after it ran: loom switches threads
                // only inside an operation, so the trace keeps their order.
                match &self.inner {
                    AtomicInner::Loom(a) => a.store(value, order),
                    AtomicInner::Std(a) => a.store(value, order),
                }
                self.handle
                    .record(Site::caller(), |atomic| Action::AtomicStore {
                        atomic,
                        order: memory_order(order),
                        value: Some(Self::value(value)),
                    });
            }

            #[track_caller]
            fn rmw(&self, order: Ordering, op: impl FnOnce(&AtomicInner) -> $int) -> $int {
                let site = Site::caller();
                let v = op(&self.inner);
                self.handle.record(site, |atomic| Action::AtomicRmw {
                    atomic,
                    order: memory_order(order),
                });
                v
            }

            #[track_caller]
            pub fn swap(&self, value: $int, order: Ordering) -> $int {
                self.rmw(order, |inner| match inner {
                    AtomicInner::Loom(a) => a.swap(value, order),
                    AtomicInner::Std(a) => a.swap(value, order),
                })
            }

            #[track_caller]
            pub fn compare_exchange(
                &self,
                current: $int,
                new: $int,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$int, $int> {
                let result = match &self.inner {
                    AtomicInner::Loom(a) => a.compare_exchange(current, new, success, failure),
                    AtomicInner::Std(a) => a.compare_exchange(current, new, success, failure),
                };
                let site = Site::caller();
                match result {
                    Ok(_) => self.handle.record(site, |atomic| Action::AtomicRmw {
                        atomic,
                        order: memory_order(success),
                    }),
                    Err(v) => self.handle.record(site, |atomic| Action::AtomicLoad {
                        atomic,
                        order: memory_order(failure),
                        value: Some(Self::value(v)),
                    }),
                };
                result
            }

            #[track_caller]
            pub fn compare_exchange_weak(
                &self,
                current: $int,
                new: $int,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$int, $int> {
                self.compare_exchange(current, new, success, failure)
            }

            #[track_caller]
            pub fn fetch_update<F>(
                &self,
                set_order: Ordering,
                fetch_order: Ordering,
                mut f: F,
            ) -> Result<$int, $int>
            where
                F: FnMut($int) -> Option<$int>,
            {
                let mut prev = self.load(fetch_order);
                while let Some(next) = f(prev) {
                    match self.compare_exchange_weak(prev, next, set_order, fetch_order) {
                        Ok(v) => return Ok(v),
                        Err(v) => prev = v,
                    }
                }
                Err(prev)
            }

            pub fn into_inner(self) -> $int {
                match self.inner {
                    AtomicInner::Loom(a) => a.into_inner(),
                    AtomicInner::Std(a) => a.into_inner(),
                }
            }
        }

        impl Default for $name {
            #[track_caller]
            fn default() -> Self {
                $name::new(Default::default())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    };
}

macro_rules! atomic_int {
    ($module:ident, $name:ident, $int:ty) => {
        mod $module {
            use super::*;

            atomic!($name, $int, |v| v as u64);

            impl $name {
                #[track_caller]
                pub fn fetch_add(&self, value: $int, order: Ordering) -> $int {
                    self.rmw(order, |inner| match inner {
                        AtomicInner::Loom(a) => a.fetch_add(value, order),
                        AtomicInner::Std(a) => a.fetch_add(value, order),
                    })
                }

                #[track_caller]
                pub fn fetch_sub(&self, value: $int, order: Ordering) -> $int {
                    self.rmw(order, |inner| match inner {
                        AtomicInner::Loom(a) => a.fetch_sub(value, order),
                        AtomicInner::Std(a) => a.fetch_sub(value, order),
                    })
                }

                #[track_caller]
                pub fn fetch_and(&self, value: $int, order: Ordering) -> $int {
                    self.rmw(order, |inner| match inner {
                        AtomicInner::Loom(a) => a.fetch_and(value, order),
                        AtomicInner::Std(a) => a.fetch_and(value, order),
                    })
                }

                #[track_caller]
                pub fn fetch_or(&self, value: $int, order: Ordering) -> $int {
                    self.rmw(order, |inner| match inner {
                        AtomicInner::Loom(a) => a.fetch_or(value, order),
                        AtomicInner::Std(a) => a.fetch_or(value, order),
                    })
                }

                #[track_caller]
                pub fn fetch_xor(&self, value: $int, order: Ordering) -> $int {
                    self.rmw(order, |inner| match inner {
                        AtomicInner::Loom(a) => a.fetch_xor(value, order),
                        AtomicInner::Std(a) => a.fetch_xor(value, order),
                    })
                }

                #[track_caller]
                pub fn fetch_max(&self, value: $int, order: Ordering) -> $int {
                    self.rmw(order, |inner| match inner {
                        AtomicInner::Loom(a) => a.fetch_max(value, order),
                        AtomicInner::Std(a) => a.fetch_max(value, order),
                    })
                }

                #[track_caller]
                pub fn fetch_min(&self, value: $int, order: Ordering) -> $int {
                    self.rmw(order, |inner| match inner {
                        AtomicInner::Loom(a) => a.fetch_min(value, order),
                        AtomicInner::Std(a) => a.fetch_min(value, order),
                    })
                }
            }
        }
        pub use $module::$name;
    };
}

atomic_int!(usize_, AtomicUsize, usize);
atomic_int!(isize_, AtomicIsize, isize);
atomic_int!(u8_, AtomicU8, u8);
atomic_int!(u16_, AtomicU16, u16);
atomic_int!(u32_, AtomicU32, u32);
atomic_int!(u64_, AtomicU64, u64);
atomic_int!(i8_, AtomicI8, i8);
atomic_int!(i16_, AtomicI16, i16);
atomic_int!(i32_, AtomicI32, i32);
atomic_int!(i64_, AtomicI64, i64);

mod bool_ {
    use super::*;

    atomic!(AtomicBool, bool, |v| v as u64);

    impl AtomicBool {
        #[track_caller]
        pub fn fetch_and(&self, value: bool, order: Ordering) -> bool {
            self.rmw(order, |inner| match inner {
                AtomicInner::Loom(a) => a.fetch_and(value, order),
                AtomicInner::Std(a) => a.fetch_and(value, order),
            })
        }

        #[track_caller]
        pub fn fetch_or(&self, value: bool, order: Ordering) -> bool {
            self.rmw(order, |inner| match inner {
                AtomicInner::Loom(a) => a.fetch_or(value, order),
                AtomicInner::Std(a) => a.fetch_or(value, order),
            })
        }

        #[track_caller]
        pub fn fetch_xor(&self, value: bool, order: Ordering) -> bool {
            self.rmw(order, |inner| match inner {
                AtomicInner::Loom(a) => a.fetch_xor(value, order),
                AtomicInner::Std(a) => a.fetch_xor(value, order),
            })
        }
    }
}
pub use bool_::AtomicBool;
