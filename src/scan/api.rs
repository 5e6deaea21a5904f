//! The names of std, parking_lot, tokio and spin APIs the scanner knows:
//! lock methods and their flavours, calls that spawn, that hand a guard
//! back, and macros that never return.

use crate::event::LockMode;

/// Lock methods: mode, blocks, recursive read, upgradable read.
pub(crate) fn lock_method(name: &str) -> Option<(LockMode, bool, bool, bool)> {
    use LockMode::{Exclusive as X, Shared as S};
    Some(match name {
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

/// Calls that run a closure on another thread or task.
pub(crate) fn spawns(name: &str) -> bool {
    matches!(
        name,
        "spawn"
            | "spawn_blocking"
            | "spawn_local"
            | "spawn_fifo"
            | "spawn_ok"
            | "spawn_detached"
            | "spawn_with_handle"
            | "spawn_scoped"
            | "execute"
            | "spawn_broadcast"
    )
}

/// Macros that never return.
pub(crate) fn diverges(name: &str) -> bool {
    matches!(name, "panic" | "unreachable" | "todo" | "unimplemented")
}
