//! The words every lock finding is told in, shared by the rules.

use crate::event::LockMode;

/// The thread, or "some thread" where the front end cannot tell.
pub(super) fn who(agent: &Option<String>) -> &str {
    agent.as_deref().unwrap_or("some thread")
}

/// What a trace step does to a lock: "lock `m`", "read `rw`".
pub(super) fn verb(mode: LockMode) -> &'static str {
    match mode {
        LockMode::Exclusive => "lock",
        LockMode::Shared => "read",
    }
}

/// What was done to a lock, for a label: "`m` locked here".
pub(super) fn how(mode: LockMode) -> &'static str {
    match mode {
        LockMode::Exclusive => "locked",
        LockMode::Shared => "read",
    }
}

/// "`a`, `b` and `c`"
pub(crate) fn quoted_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|k| format!("`{k}`")).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The message of a lock-order cycle through `names`, in the order each is
/// held while the next is asked for.
pub(super) fn cycle_message(names: &[&str]) -> String {
    if names.len() == 2 {
        format!("locks {} are taken in opposite orders", quoted_list(names))
    } else {
        format!(
            "locks {} are taken in a cycle: {}",
            quoted_list(names),
            cycle_path(names)
        )
    }
}

/// "`a` → `b` → `a`"
pub(super) fn cycle_path(names: &[&str]) -> String {
    let path: Vec<String> = names
        .iter()
        .chain(names.first())
        .map(|k| format!("`{k}`"))
        .collect();
    path.join(" → ")
}

/// The fix of lock-order cycles among `names`.
pub(super) fn cycle_help(names: &[&str]) -> String {
    let mut order = names.to_vec();
    order.sort_unstable();
    let order: Vec<String> = order.iter().map(|k| format!("`{k}`")).collect();
    format!(
        "pick one global order for these locks and take them in that order everywhere \
         (for example {}), or take them together under one lock",
        order.join(" before ")
    )
}
