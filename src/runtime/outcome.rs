//! How an execution ended, turned into findings: a failed assertion, every
//! thread blocked, or a thread blocked on its own lock.

use super::execution::{Blocker, Recording};
use crate::analysis::happens_before::trace_steps;
use crate::analysis::lock_graph::{relock_findings, Acquisition, Held, LockKey};
use crate::event::{AgentId, LockMode, ObjectKind, Site, Trace};
use crate::finding::{Finding, Kind};

/// The trace of an execution as steps, the given events highlighted.
fn steps(trace: &Trace, highlight: &[usize]) -> Vec<crate::finding::TraceStep> {
    trace_steps(trace, highlight)
}

/// Index of the last event of `agent` in the trace.
fn last_event_of(trace: &Trace, agent: AgentId) -> Option<usize> {
    trace.events.iter().rposition(|e| e.agent == agent)
}

pub(crate) fn assertion_failure(rec: &Recording) -> Option<Finding> {
    let panic = rec.panic.as_ref()?;
    let who = panic
        .agent
        .map(|a| rec.trace.agent_name(a).to_string())
        .unwrap_or_else(|| "a thread".to_string());
    let highlight: Vec<usize> = panic
        .agent
        .and_then(|a| last_event_of(&rec.trace, a))
        .into_iter()
        .collect();
    Some(
        Finding::new(Kind::AssertionFailure, format!("{who} panicked: {}", panic.message))
            .at(&panic.site, format!("{who} panicked here"))
            .with_trace(steps(&rec.trace, &highlight))
            .with_help("this interleaving breaks an assumption of the program; the steps above show how it is reached"),
    )
}

/// Describes what a blocked thread waits for.
fn waiting_for(trace: &Trace, blocker: &Blocker) -> String {
    let name = |id| format!("`{}`", trace.object_name(id));
    match blocker {
        Blocker::Lock { lock, mode } => match (trace.object_kind(*lock), mode) {
            (Some(ObjectKind::RwLock), LockMode::Shared) => {
                format!("waits to read {}", name(*lock))
            }
            (Some(ObjectKind::RwLock), LockMode::Exclusive) => {
                format!("waits to write {}", name(*lock))
            }
            _ => format!("waits for {}", name(*lock)),
        },
        Blocker::Condvar { condvar, .. } => {
            format!("waits on {} for a notification", name(*condvar))
        }
        Blocker::Join { child } => format!("waits for {} to finish", trace.agent_name(*child)),
        Blocker::Barrier { barrier } => format!("waits at {}", name(*barrier)),
        Blocker::Receive { channel } => format!("waits to receive on {}", name(*channel)),
        Blocker::Send { channel } => format!("waits to send on {} (full)", name(*channel)),
        Blocker::Resource { resource, units } => {
            format!("waits for {units} unit(s) of {}", name(*resource))
        }
    }
}

/// Every live thread is blocked: say who holds what and who waits for what,
/// following the wait-for edges into a cycle when there is one.
pub(crate) fn deadlock(rec: &Recording) -> Finding {
    let trace = &rec.trace;
    let mut blocked: Vec<(&AgentId, &(Blocker, Site))> = rec.blocked.iter().collect();
    blocked.sort_by_key(|(a, _)| **a);
    let holder_of = |lock| {
        rec.held
            .iter()
            .filter(|(_, held)| held.iter().any(|(l, _, _)| *l == lock))
            .map(|(a, held)| {
                (
                    *a,
                    held.iter()
                        .find(|(l, _, _)| *l == lock)
                        .map(|(_, _, s)| s.clone()),
                )
            })
            .collect::<Vec<_>>()
    };
    let cycle = lock_cycle(rec);
    let lost_wakeup = blocked
        .iter()
        .any(|(_, (b, _))| matches!(b, Blocker::Condvar { .. }));
    let message = if let Some(cycle) = &cycle {
        // Each thread waits for a lock the next one in the cycle holds.
        let parts: Vec<String> = cycle
            .iter()
            .enumerate()
            .map(|(i, (agent, lock))| {
                let holder = cycle[(i + 1) % cycle.len()].0;
                format!(
                    "{} waits for `{}`, held by {}",
                    trace.agent_name(*agent),
                    trace.object_name(*lock),
                    trace.agent_name(holder)
                )
            })
            .collect();
        format!("deadlock: every thread is blocked ({})", parts.join("; "))
    } else if lost_wakeup {
        "deadlock: every thread is blocked, waiting for a notification that never comes (a lost wake-up)".to_string()
    } else {
        "deadlock: every thread is blocked".to_string()
    };
    let mut finding = Finding::new(Kind::Deadlock, message);
    let mut highlight = Vec::new();
    for (agent, (blocker, site)) in &blocked {
        let name = trace.agent_name(**agent);
        let mut label = format!("{name} {}", waiting_for(trace, blocker));
        if let Blocker::Lock { lock, .. } = blocker {
            let holders: Vec<String> = holder_of(*lock)
                .into_iter()
                .filter(|(a, _)| a != *agent)
                .map(|(a, _)| trace.agent_name(a).to_string())
                .collect();
            if !holders.is_empty() {
                label.push_str(&format!(", held by {}", holders.join(" and ")));
            }
        }
        finding = finding.at(site, label);
        if let Some(i) = last_event_of(trace, **agent) {
            highlight.push(i);
        }
    }
    // Where each lock someone waits for was taken by its holder.
    for (_, (blocker, _)) in &blocked {
        if let Blocker::Lock { lock, .. } = blocker {
            for (agent, site) in holder_of(*lock) {
                if let Some(site) = site {
                    finding = finding.at(
                        &site,
                        format!(
                            "{} took `{}` here",
                            trace.agent_name(agent),
                            trace.object_name(*lock)
                        ),
                    );
                }
            }
        }
    }
    let help = if cycle.is_some() {
        "take the locks in one global order in every thread (or take them together under one lock)"
    } else if lost_wakeup {
        "notify while holding the mutex the waiter checks its condition under, and wait in a `while` loop on that condition"
    } else {
        "make sure every wait has a thread that will end it"
    };
    if let Some(note) = pool_deadlock_note(rec) {
        finding = finding.with_note(note);
    }
    finding.with_trace(steps(trace, &highlight)).with_help(help)
}

/// A cycle of threads each waiting for a lock the next one holds.
fn lock_cycle(rec: &Recording) -> Option<Vec<(AgentId, crate::event::ObjectId)>> {
    let waits_for = |agent: AgentId| -> Option<(crate::event::ObjectId, AgentId)> {
        let (Blocker::Lock { lock, .. }, _) = rec.blocked.get(&agent)? else {
            return None;
        };
        let holder = rec
            .held
            .iter()
            .find(|(a, held)| **a != agent && held.iter().any(|(l, _, _)| l == lock))
            .map(|(a, _)| *a)?;
        Some((*lock, holder))
    };
    let mut starts: Vec<AgentId> = rec.blocked.keys().copied().collect();
    starts.sort();
    for start in starts {
        let mut path = Vec::new();
        let mut at = start;
        while let Some((lock, next)) = waits_for(at) {
            path.push((at, lock));
            if next == start {
                return Some(path);
            }
            if path.iter().any(|(a, _)| *a == next) || path.len() > rec.blocked.len() {
                break;
            }
            at = next;
        }
    }
    None
}

/// A thread asked for a lock it already holds: it would wait for itself.
/// The lock graph's relock rule tells it; the trace is the execution's.
pub(crate) fn self_deadlock(rec: &Recording) -> Option<Finding> {
    let sd = rec.self_deadlock.as_ref()?;
    let trace = &rec.trace;
    let lock = LockKey::object(sd.lock, trace.object_name(sd.lock));
    let fact = Acquisition::new(lock.clone(), sd.requested, sd.site.clone())
        .by(trace.agent_name(sd.agent))
        .holding(Held::new(lock, sd.held_mode, sd.held_site.clone()));
    let highlight: Vec<usize> = last_event_of(trace, sd.agent).into_iter().collect();
    relock_findings(&[fact])
        .into_iter()
        .next()
        .map(|f| f.with_trace(steps(trace, &highlight)))
}

/// The grant that left the banker's state unsafe (with declared claims).
pub(crate) fn unsafe_state(rec: &Recording) -> Option<Finding> {
    let grant = rec.ledger.unsafe_grant.as_ref()?;
    let trace = &rec.trace;
    let state = grant.snapshot.named_state(trace, |_, _, held| held);
    Some(
        unsafe_finding(
            &state,
            trace.agent_name(grant.agent),
            trace.object_name(grant.pool),
            grant.units,
            &grant.site,
            false,
        )
        .with_trace(steps(trace, &[grant.event])),
    )
}

/// An `unsafe-state` finding for a grant of `units` of `pool` to `who`.
pub(crate) fn unsafe_finding(
    state: &crate::analysis::banker::State,
    who: &str,
    pool: &str,
    units: u64,
    site: &Site,
    inferred: bool,
) -> Finding {
    use crate::analysis::banker;
    let safety = banker::safety(state).ok();
    let stuck: Vec<String> = safety
        .as_ref()
        .map(|s| {
            s.unfinished()
                .iter()
                .map(|&p| state.processes[p].clone())
                .collect()
        })
        .unwrap_or_default();
    let claims = if inferred {
        "claims inferred from the most each thread held across the executions"
    } else {
        "declared claims"
    };
    let mut finding = Finding::new(
        Kind::UnsafeState,
        format!(
            "granting {units} of `{pool}` to {who} leaves the state unsafe: with the {claims}, no order lets {} finish",
            stuck.join(", ")
        ),
    )
    .at(site, format!("{who} is granted {units} of `{pool}` here"))
    .with_help(
        "a banker would make this thread wait: take the units in an order that keeps the state safe, \
         lower the claims, or add units to the pool",
    );
    let mut tables = crate::report::banker_tables::matrices(state);
    tables.push(format!("Available = ({})", join_counts(&state.available)));
    // Each row starts with a mark so that the note's wrapping keeps the
    // columns aligned (it drops leading spaces).
    let rows: Vec<String> = tables
        .iter()
        .map(|row| format!("| {}", row.strip_prefix("  ").unwrap_or(row)))
        .collect();
    finding = finding.with_note(format!("the tables after the grant:\n{}", rows.join("\n")));
    if let Some(safety) = safety {
        for s in &safety.stuck {
            finding = finding.with_note(format!(
                "{} may still need {} of `{}`, but at most {} can ever be free",
                state.processes[s.process], s.needed, state.resources[s.resource], s.free
            ));
        }
    }
    finding
}

fn join_counts(v: &[u64]) -> String {
    v.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
}

/// For a deadlock among pool waiters: the banker's detection algorithm's set.
pub(crate) fn pool_deadlock_note(rec: &Recording) -> Option<String> {
    if rec.ledger.waiting.is_empty() {
        return None;
    }
    let state = rec.ledger.blocked_state(&rec.trace);
    let detection = crate::analysis::banker::detect(&state).ok()?;
    let set: Vec<String> = detection
        .deadlocked_processes()
        .iter()
        .map(|&p| state.processes[p].clone())
        .collect();
    (!set.is_empty()).then(|| {
        format!(
            "the banker's detection algorithm finds {} deadlocked: each waits for units the others hold",
            set.join(", ")
        )
    })
}
