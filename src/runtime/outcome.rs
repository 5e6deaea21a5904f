//! How an execution ended, turned into findings: a failed assertion, every
//! thread blocked, or a thread blocked on its own lock. The lock graph and
//! the wait-for graph tell them; this module hands them the execution.

use super::execution::{Blocker, Recording};
use crate::analysis::happens_before::trace_steps;
use crate::analysis::lock_graph::{relock_findings, Acquisition, Held, LockKey};
use crate::analysis::wait_for::{self, blocked_state, BlockedState, Waiter, WaitsFor};
use crate::event::{AgentId, Site, Trace};
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

/// Every live thread is blocked: the wait-for graph of the moment names the
/// cycle (who holds what and waits for what, writers queued ahead of
/// readers included), or what each waits for that nobody is left to give.
pub(crate) fn deadlock(rec: &Recording) -> Finding {
    let state = blocked_state_of(rec);
    let mut finding = wait_for::deadlock_finding(&rec.trace, &state);
    if let Some(note) = pool_deadlock_note(rec) {
        finding = finding.with_note(note);
    }
    finding
}

/// The blocked state of an execution: what its trace shows (locks held,
/// requests, condvar waits, barriers, resources), and the waits only the
/// recording knows of (a join, a channel), started at the thread's last
/// step.
fn blocked_state_of(rec: &Recording) -> BlockedState {
    let trace = &rec.trace;
    let mut state = blocked_state(trace);
    let mut blocked: Vec<(&AgentId, &(Blocker, Site))> = rec.blocked.iter().collect();
    blocked.sort_by_key(|(a, _)| **a);
    for (&agent, (blocker, site)) in blocked {
        if state.waiter(agent).is_some() {
            continue;
        }
        let waits_for = match *blocker {
            Blocker::Lock { lock, mode } => WaitsFor::Lock { lock, mode },
            Blocker::Join { child } => WaitsFor::Thread { agent: child },
            Blocker::Condvar {
                condvar: object, ..
            }
            | Blocker::Barrier { barrier: object }
            | Blocker::Receive { channel: object }
            | Blocker::Send { channel: object }
            | Blocker::Resource {
                resource: object, ..
            } => WaitsFor::Object { object },
        };
        state.waiters.push(Waiter {
            agent,
            waits_for,
            site: site.clone(),
            event: last_event_of(trace, agent),
        });
    }
    state.waiters.sort_by_key(|w| w.agent);
    state
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
