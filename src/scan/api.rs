//! The names of std, parking_lot, tokio and spin APIs the scanner knows:
//! lock methods and their flavours, calls that spawn, that hand a guard
//! back, and macros that never return.

use crate::event::LockMode;

/// How an acquisition takes its lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockFlavor {
    pub mode: LockMode,
    /// False for `try_lock` and timed locks: they never wait forever.
    pub blocking: bool,
    /// parking_lot's `read_recursive`: safe to take while a read is held.
    pub recursive: bool,
    /// parking_lot's `upgradable_read`: excludes writers and other
    /// upgradable readers.
    pub upgradable: bool,
    /// A reentrant mutex: the holder may lock it again.
    pub reentrant: bool,
}

/// The flavour of a lock method: `lock_method("try_read")` is a shared,
/// non-blocking acquisition. Whether the lock is reentrant is its type's
/// business, not the method's: `reentrant` is false here, and the
/// interpreter sets it from the lock's type.
pub(crate) fn lock_method(name: &str) -> Option<LockFlavor> {
    use LockMode::{Exclusive as X, Shared as S};
    let (mode, blocking, recursive, upgradable) = match name {
        "lock" | "lock_arc" | "lock_owned" | "blocking_lock" | "blocking_lock_owned" => {
            (X, true, false, false)
        }
        "write" | "write_arc" | "write_owned" | "blocking_write" => (X, true, false, false),
        "read" | "read_arc" | "read_owned" | "blocking_read" => (S, true, false, false),
        "read_recursive" | "read_recursive_arc" => (S, true, true, false),
        "upgradable_read" | "upgradable_read_arc" => (S, true, false, true),
        "try_lock" | "try_lock_arc" | "try_lock_owned" | "try_lock_for" | "try_lock_until" => {
            (X, false, false, false)
        }
        "try_write" | "try_write_arc" | "try_write_owned" | "try_write_for" | "try_write_until" => {
            (X, false, false, false)
        }
        "try_read"
        | "try_read_arc"
        | "try_read_owned"
        | "try_read_for"
        | "try_read_until"
        | "try_read_recursive"
        | "try_read_recursive_for" => (S, false, false, false),
        "try_upgradable_read" | "try_upgradable_read_for" => (S, false, false, true),
        _ => return None,
    };
    Some(LockFlavor {
        mode,
        blocking,
        recursive,
        upgradable,
        reentrant: false,
    })
}

/// Methods whose result is their receiver's guard, unwrapped.
pub(crate) fn passes_guard(name: &str) -> bool {
    matches!(
        name,
        "unwrap"
            | "expect"
            | "unwrap_or_else"
            | "unwrap_unchecked"
            | "map_err"
            | "ok"
            | "into_inner"
            | "upgrade"
            | "downgrade"
            | "into_guard"
            | "unwrap_or_default"
    )
}

/// Calls that run a closure on another thread or task: `spawn` and its
/// kin in std, tokio, rayon, async-std, smol and the futures executors
/// (`spawn_blocking`, `spawn_local`, ...), and thread pools' `execute`.
pub(crate) fn spawns(name: &str) -> bool {
    name == "spawn" || name.starts_with("spawn_") || name == "execute"
}

/// Calls that make a function matter to the analysis by themselves:
/// locks, atomics, condvars, spawns, joins and lazy initialisation.
pub(crate) fn makes_relevant(name: &str) -> bool {
    matches!(
        name,
        "load"
            | "store"
            | "swap"
            | "notify_one"
            | "notify_all"
            | "join"
            | "unlocked"
            | "scope"
            | "get_or_init"
            | "force"
    ) || lock_method(name).is_some()
        || name.starts_with("wait")
        || spawns(name)
}

/// Macros that never return.
pub(crate) fn diverges(name: &str) -> bool {
    matches!(name, "panic" | "unreachable" | "todo" | "unimplemented")
}
