//! Lock-graph findings: lock-order inversions, double locks, recursive reads.

use std::collections::HashSet;

use super::facts::{Acquisition, Held, LockKey};
use super::graph::{Instance, LockGraph};
use crate::event::{LockMode, Site};
use crate::finding::{Finding, Kind, TraceStep};

fn who(agent: &Option<String>) -> &str {
    agent.as_deref().unwrap_or("some thread")
}

fn verb(mode: LockMode) -> &'static str {
    match mode {
        LockMode::Exclusive => "lock",
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
/// held while the next is asked for (the runtime's and the scanner's).
pub(crate) fn cycle_message(names: &[&str]) -> String {
    if names.len() == 2 {
        format!("locks {} are taken in opposite orders", quoted_list(names))
    } else {
        let path: Vec<String> = names
            .iter()
            .chain(names.first())
            .map(|k| format!("`{k}`"))
            .collect();
        format!(
            "locks {} are taken in a cycle: {}",
            quoted_list(names),
            path.join(" → ")
        )
    }
}

/// The fix of a lock-order cycle through `names`.
pub(crate) fn cycle_help(names: &[&str]) -> String {
    let mut order = names.to_vec();
    order.sort_unstable();
    let order: Vec<String> = order.iter().map(|k| format!("`{k}`")).collect();
    format!(
        "pick one global order for these locks and take them in that order everywhere \
         (for example {}), or take them together under one lock",
        order.join(" before ")
    )
}

/// A kept cycle as a finding. Locations: for each edge, where the second
/// lock was asked for, then where the first was taken. The trace shows the
/// interleaving that deadlocks: every thread takes its first lock, then each
/// asks for its second.
pub(crate) fn cycle_finding(
    graph: &LockGraph,
    edges: &[u32],
    chosen: &[Instance],
    notes: &[String],
) -> Finding {
    let facts = graph.facts;
    let locks: Vec<&LockKey> = edges
        .iter()
        .map(|&e| graph.lock(graph.edges[e as usize].from))
        .collect();
    let names: Vec<String> = locks.iter().map(|k| k.to_string()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut finding = Finding::new(Kind::LockOrderInversion, cycle_message(&names));
    let mut held_steps = Vec::new();
    let mut wait_steps = Vec::new();
    for &i in chosen {
        let fact = &facts[i.acquisition];
        let held = &fact.held[i.held];
        let agent = who(&fact.agent);
        finding = finding
            .at(
                &fact.site,
                format!(
                    "`{}` taken while `{}` is held ({agent})",
                    fact.lock, held.lock
                ),
            )
            .at(&held.site, format!("`{}` taken here ({agent})", held.lock));
        held_steps.push(TraceStep::new(
            agent,
            format!("{} `{}`", verb(held.mode), held.lock),
            &held.site,
        ));
        wait_steps.push(
            TraceStep::new(
                agent,
                format!("wait to {} `{}`", verb(fact.mode), fact.lock),
                &fact.site,
            )
            .highlighted(),
        );
    }
    finding = finding
        .with_trace(held_steps.into_iter().chain(wait_steps).collect())
        .with_help(cycle_help(&names));
    for note in notes {
        finding = finding.with_note(note.clone());
    }
    finding
}

/// Double locks and recursive reads: an acquisition of a lock its thread
/// already holds. Reported once per pair of sites.
pub(crate) fn relock_findings(graph: &LockGraph) -> Vec<Finding> {
    let mut seen: HashSet<(u32, &Site, &Site)> = HashSet::new();
    let mut findings = Vec::new();
    for (i, fact) in graph.facts.iter().enumerate() {
        if !fact.blocking {
            continue; // a try-lock of a held lock fails instead of waiting
        }
        let lock = graph.acquired[i];
        let Some(j) = graph.held[i].iter().rposition(|&(l, _)| l == lock) else {
            continue;
        };
        let held = &fact.held[j];
        let recursive_read = held.mode == LockMode::Shared && fact.mode == LockMode::Shared;
        if recursive_read && fact.recursive {
            continue;
        }
        if !seen.insert((lock, &held.site, &fact.site)) {
            continue;
        }
        findings.push(if recursive_read {
            recursive_read_finding(fact, held)
        } else {
            double_lock_finding(fact, held)
        });
    }
    findings
}

fn double_lock_finding(fact: &Acquisition, held: &Held) -> Finding {
    let agent = who(&fact.agent);
    let lock = &fact.lock;
    let (message, help) = match (held.mode, fact.mode) {
        (LockMode::Shared, _) => (
            format!("{agent} asks to write `{lock}` while holding a read guard of it"),
            format!(
                "drop the read guard of `{lock}` before taking the write guard (and check again \
                 what was read), or take the write guard from the start"
            ),
        ),
        (LockMode::Exclusive, LockMode::Shared) => (
            format!("{agent} asks to read `{lock}` while holding its write guard"),
            format!("use the write guard of `{lock}` to read, instead of locking again"),
        ),
        (LockMode::Exclusive, LockMode::Exclusive) => (
            format!("{agent} locks `{lock}` again while already holding it"),
            format!(
                "drop the guard of `{lock}` before locking again, or pass the guard (or the \
                 data) down to the code that locks again"
            ),
        ),
    };
    Finding::new(Kind::DoubleLock, message)
        .at(
            &fact.site,
            format!("`{lock}` asked for again here ({agent})"),
        )
        .at(&held.site, format!("`{lock}` first taken here, still held"))
        .with_trace(relock_steps(fact, held))
        .with_help(help)
}

fn recursive_read_finding(fact: &Acquisition, held: &Held) -> Finding {
    let agent = who(&fact.agent);
    let lock = &fact.lock;
    Finding::new(
        Kind::RecursiveRead,
        format!("{agent} reads `{lock}` again while its read guard lives"),
    )
    .at(&fact.site, format!("`{lock}` read again here ({agent})"))
    .at(&held.site, format!("`{lock}` first read here, still held"))
    .with_trace(relock_steps(fact, held))
    .with_help(format!(
        "reuse the first read guard of `{lock}`, or, with parking_lot, take the second one with `read_recursive`"
    ))
    .with_note(
        "a writer that queues between the two reads waits for the first, and, where writers \
         have priority, the second read waits for the writer: neither moves",
    )
}

fn relock_steps(fact: &Acquisition, held: &Held) -> Vec<TraceStep> {
    let agent = who(&fact.agent);
    vec![
        TraceStep::new(
            agent,
            format!("{} `{}`", verb(held.mode), held.lock),
            &held.site,
        ),
        TraceStep::new(
            agent,
            format!("wait to {} `{}`", verb(fact.mode), fact.lock),
            &fact.site,
        )
        .highlighted(),
    ]
}
