//! A lock held while joining a thread that takes it. As lockdep does for
//! flushes, the thread's end is a lock the thread holds from start to end:
//! the joiner takes it (joins) while holding the lock, the thread takes the
//! lock while holding its end: a cycle of two, reported as an inversion.

use super::facts::{Acquisition, Held};
use super::relock::path_locations;
use super::sentences::{verb, who};
use crate::event::{LockMode, Site};
use crate::finding::{Finding, Kind, TraceStep};

/// `joiner` joins at `join` while holding `held`; the joined thread (the
/// agent of `taken`) asks for the same lock. None when neither side waits
/// for the other there: both only read, or the thread only tries the lock.
pub(crate) fn held_across_join(
    join: &Site,
    joiner: &str,
    held: &Held,
    taken: &Acquisition,
) -> Option<Finding> {
    let both_read = held.flavor.mode == LockMode::Shared && taken.flavor.mode == LockMode::Shared;
    if both_read || !taken.flavor.blocking {
        return None;
    }
    let lock = &held.lock;
    let joined = who(&taken.agent);
    let ask = match taken.path.first() {
        Some(call) => format!("{joined} calls `{}`, which takes `{lock}`", call.callee),
        None => format!("{joined} takes `{lock}` here"),
    };
    let mut finding = Finding::new(
        Kind::LockOrderInversion,
        format!(
            "`{lock}` is held while joining a thread that takes it: the join waits for the \
             thread, and the thread waits for `{lock}`"
        ),
    )
    .at(
        join,
        format!("{joiner} waits here for {joined} to end, holding `{lock}`"),
    )
    .at(&held.site, format!("`{lock}` taken here ({joiner})"))
    .at(taken.asked_at(), ask);
    for (site, label) in path_locations(taken) {
        finding = finding.at(&site, label);
    }
    Some(
        finding
            .with_trace(vec![
                TraceStep::new(
                    joiner,
                    format!("{} `{lock}`", verb(held.flavor.mode)),
                    &held.site,
                ),
                TraceStep::new(joiner, format!("join {joined}"), join).highlighted(),
                TraceStep::new(
                    joined,
                    format!("wait to {} `{lock}`", verb(taken.flavor.mode)),
                    taken.asked_at(),
                )
                .highlighted(),
            ])
            .with_help(format!(
                "drop the guard of `{lock}` before the join (end its scope, or `drop` it), or let \
                 the thread get what it needs from `{lock}` before it is taken here"
            )),
    )
}
