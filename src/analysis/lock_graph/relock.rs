//! Taking a lock its thread already holds: a double lock (the thread waits
//! for itself) or a recursive read (it waits only once a writer queues in
//! between). Every front end asks here, so each flavour of lock is judged
//! by one rule and told in one set of sentences.

use std::collections::{HashMap, HashSet};

use super::facts::{Acquisition, GuardLife, Held, LockKey};
use super::sentences::{how, verb, who};
use crate::event::{LockMode, Site};
use crate::finding::{Finding, Kind, TraceStep};

/// What asking for a held lock again does, by the flavours of the two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Relock {
    /// Waits for itself: mutex then mutex, read then write, write then read.
    Double,
    /// Two upgradable reads: exclusive among themselves.
    Upgradable,
    /// A read while a read guard lives: waits once a writer queues.
    RecursiveRead,
}

fn judge(fact: &Acquisition, held: &Held) -> Option<Relock> {
    let (first, again) = (held.flavor, fact.flavor);
    match (first.mode, again.mode) {
        (LockMode::Shared, LockMode::Shared) => {
            // `read_recursive` never queues behind a writer; an upgradable
            // read and a plain one share the lock.
            if again.recursive || first.upgradable != again.upgradable {
                None
            } else if first.upgradable {
                Some(Relock::Upgradable)
            } else {
                Some(Relock::RecursiveRead)
            }
        }
        _ => Some(Relock::Double),
    }
}

/// What makes recursive reads one finding: the function that reads again
/// and the lock; or, read again where the guard lives (or with no function
/// known), the read's own site.
type ReadKey<'f> = (Option<&'f str>, &'f LockKey, Option<&'f Site>);

/// Double locks and recursive reads among `facts`: an acquisition of a lock
/// (the same [`LockKey`]) that its thread holds. A try-lock fails instead of
/// waiting and a reentrant lock lets its owner in, so neither is one.
/// Reported once per pair of sites; a recursive read once per function and
/// lock, however many callers reach it holding the first guard (the first
/// caller's path is the one told).
pub(crate) fn relock_findings(facts: &[Acquisition]) -> Vec<Finding> {
    let mut seen: HashSet<(&LockKey, &Site, &Site)> = HashSet::new();
    // Per recursive read (see `ReadKey`): its finding's index, and the
    // callers that reach it.
    let mut reads: HashMap<ReadKey, (usize, HashSet<&Site>)> = HashMap::new();
    let mut findings = Vec::new();
    for fact in facts {
        if !fact.flavor.blocking || fact.flavor.reentrant {
            continue;
        }
        let Some((held, relock)) = fact
            .held
            .iter()
            .filter(|h| h.lock == fact.lock)
            .find_map(|h| judge(fact, h).map(|r| (h, r)))
        else {
            continue;
        };
        if !seen.insert((&fact.lock, &held.site, &fact.site)) {
            continue;
        }
        if relock == Relock::RecursiveRead {
            let function = fact.function.as_deref().filter(|_| !fact.path.is_empty());
            let key = (
                function,
                &fact.lock,
                function.is_none().then_some(&fact.site),
            );
            if let Some((_, callers)) = reads.get_mut(&key) {
                callers.insert(fact.asked_at());
                continue;
            }
            reads.insert(key, (findings.len(), HashSet::from([fact.asked_at()])));
        }
        findings.push(relock_finding(fact, held, relock));
    }
    for (index, callers) in reads.into_values() {
        let others = callers.len() - 1;
        if others > 0 {
            findings[index].notes.push(format!(
                "also reached from {} with the read guard held",
                crate::finding::plural(others as u64, "other caller", "other callers")
            ));
        }
    }
    findings
}

fn relock_finding(fact: &Acquisition, held: &Held, relock: Relock) -> Finding {
    let agent = who(&fact.agent);
    let lock = &fact.lock;
    let through = match fact.path.first() {
        Some(call) => format!(" (through `{}`)", call.callee),
        None => String::new(),
    };
    let (kind, message, help) = match (relock, held.flavor.mode, fact.mode()) {
        (Relock::RecursiveRead, _, _) => (
            Kind::RecursiveRead,
            format!("{agent} reads `{lock}` again while its read guard lives{through}"),
            format!(
                "reuse the first read guard of `{lock}` (pass it, or the data, down), or, with \
                 parking_lot, take the second one with `read_recursive`"
            ),
        ),
        (Relock::Upgradable, _, _) => (
            Kind::DoubleLock,
            format!("{agent} takes an upgradable read of `{lock}` while holding one{through}"),
            format!("only one upgradable read of `{lock}` can be held at a time: reuse the first"),
        ),
        (_, LockMode::Shared, _) => (
            Kind::DoubleLock,
            format!("{agent} asks to write `{lock}` while holding a read guard of it{through}"),
            format!(
                "drop the read guard of `{lock}` before taking the write guard (and check again \
                 what was read), or take the write guard from the start"
            ),
        ),
        (_, LockMode::Exclusive, LockMode::Shared) => (
            Kind::DoubleLock,
            format!("{agent} asks to read `{lock}` while holding its write guard{through}"),
            format!("use the write guard of `{lock}` to read, instead of locking again"),
        ),
        (_, LockMode::Exclusive, LockMode::Exclusive) => (
            Kind::DoubleLock,
            format!("{agent} locks `{lock}` again while already holding it{through}"),
            format!(
                "drop the guard of `{lock}` before locking again{}, or pass the guard (or the \
                 data) down to the code that locks again",
                if fact.path.is_empty() {
                    ""
                } else {
                    " (or before the call)"
                }
            ),
        ),
    };
    let again = how(fact.mode());
    let ask = match fact.path.first() {
        Some(call) => format!(
            "calls `{}` while `{lock}` is held; it is {again} again inside",
            call.callee
        ),
        None => format!("`{lock}` {again} again here"),
    };
    let mut finding = Finding::new(kind, message)
        .at(fact.asked_at(), ask)
        .at(&held.site, held_label(lock, held));
    for (site, label) in path_locations(fact) {
        finding = finding.at(&site, label);
    }
    if let Some((function, site)) = &held.taken_in {
        finding = finding.at(site, format!("`{lock}` taken here, in `{function}`"));
    }
    let mut steps = vec![TraceStep::new(
        agent,
        format!("{} `{lock}`", verb(held.flavor.mode)),
        &held.site,
    )];
    steps.extend(
        fact.path
            .iter()
            .map(|call| TraceStep::new(agent, format!("call `{}`", call.callee), &call.site)),
    );
    steps.push(
        TraceStep::new(
            agent,
            format!("wait to {} `{lock}`", verb(fact.mode())),
            &fact.site,
        )
        .highlighted(),
    );
    finding = finding.with_trace(steps).with_help(help);
    if let Some(note) = temporary_note(held) {
        finding = finding.with_note(note);
    }
    if kind == Kind::RecursiveRead {
        finding = finding.with_note(
            "a writer that queues between the two reads waits for the first, and, where \
             writers have priority, the second read waits for the writer: neither moves",
        );
    }
    finding
}

/// Where a held lock was taken, in words that say how its guard lives.
pub(crate) fn held_label(lock: &LockKey, held: &Held) -> String {
    let taken = how(held.flavor.mode);
    match held.life {
        GuardLife::Scrutinee(what) => {
            format!("`{lock}` {taken} here, in the `{what}`'s temporary; still held")
        }
        GuardLife::IfLetScrutinee { .. } => {
            format!("`{lock}` {taken} here, in the `if let`'s temporary; still held")
        }
        GuardLife::Temporary => {
            format!("`{lock}` {taken} here, a temporary of the statement; still held")
        }
        GuardLife::Bound => format!("`{lock}` first {taken} here; its guard is still alive"),
    }
}

/// Why a guard made as a temporary is still alive: Rust's rule for it.
fn temporary_note(held: &Held) -> Option<String> {
    let line = held.site.line;
    Some(match held.life {
        GuardLife::Scrutinee("match") => format!(
            "the guard made in the `match` scrutinee at line {line} is a temporary: Rust keeps it \
             until the end of the whole `match`, through every arm; bind what you need to a \
             local first (`let v = ...;`) so the guard is dropped before the arms run"
        ),
        GuardLife::IfLetScrutinee { through_else } => format!(
            "the guard made in the `if let` scrutinee at line {line} is a temporary: Rust keeps it \
             through the `if let` body{}; bind what you need to a local first",
            if through_else {
                " and its `else` branch (before edition 2024)"
            } else {
                ""
            }
        ),
        GuardLife::Scrutinee("while let") => format!(
            "the guard made in the `while let` scrutinee at line {line} is a temporary: Rust keeps \
             it through the loop body; take the item out in a statement of its own \
             (`let item = ...;`) and match on that"
        ),
        GuardLife::Scrutinee("for") => format!(
            "the guard made in the `for` loop's iterator expression at line {line} is a \
             temporary: Rust keeps it for the whole loop; collect what you need first"
        ),
        GuardLife::Scrutinee(_) | GuardLife::Temporary => format!(
            "the guard made at line {line} is a temporary: Rust keeps it until the end of its \
             statement"
        ),
        GuardLife::Bound => return None,
    })
}

/// The calls after the first on the way to where `fact` takes its lock,
/// then that place: "`f` calls `g`", ..., "`m` locked here, in `g`".
pub(super) fn path_locations(fact: &Acquisition) -> Vec<(Site, String)> {
    let mut out: Vec<(Site, String)> = fact
        .path
        .iter()
        .skip(1)
        .map(|call| {
            (
                call.site.clone(),
                format!("`{}` calls `{}`", call.caller, call.callee),
            )
        })
        .collect();
    if let Some(last) = fact.path.last() {
        out.push((
            fact.site.clone(),
            format!(
                "`{}` {} here, in `{}`",
                fact.lock,
                how(fact.mode()),
                last.callee
            ),
        ));
    }
    out
}
