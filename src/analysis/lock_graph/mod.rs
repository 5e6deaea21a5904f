//! The lock-acquisition graph (lockdep's idea): potential deadlocks that did
//! not happen in the run that was seen.
//!
//! Every acquisition of `b` while `a` is held draws an edge `a → b`. A cycle
//! means some threads take the same locks in different orders, which
//! deadlocks in the interleaving where each takes its first lock before any
//! takes its second. Cycles that cannot deadlock are filtered out (see
//! [`filters`](Suppression)), and an acquisition of a lock already held is a
//! double lock or a recursive read.
//!
//! Input is [`Acquisition`] facts, from a trace ([`facts_from_trace`]) or
//! from the static scanner.

mod cycles;
mod declared;
mod facts;
mod filters;
mod graph;
mod inversion;
mod join;
mod relock;
mod sentences;
#[cfg(test)]
mod tests;

pub(crate) use cycles::SearchLimits;
pub use cycles::SearchStats;
pub(crate) use declared::declared_order_findings;
pub use facts::{
    facts_from_trace, Acquisition, CallStep, GuardLife, Held, LockFlavor, LockKey, Permit, Segment,
};
pub use filters::{Suppression, Verdict};
pub use graph::Instance;
pub(crate) use graph::LockGraph;
pub(crate) use join::held_across_join;
pub(crate) use relock::{held_label, relock_findings};

use std::collections::HashMap;

use crate::finding::Finding;

/// One cycle of the graph and what became of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CycleReport {
    /// The locks around the cycle, from its smallest (first-seen) lock: each
    /// is held while the next is taken, and the last while the first is.
    pub locks: Vec<LockKey>,
    pub verdict: Verdict,
}

impl CycleReport {
    pub fn is_kept(&self) -> bool {
        matches!(self.verdict, Verdict::Kept { .. })
    }

    pub fn suppression(&self) -> Option<&Suppression> {
        match &self.verdict {
            Verdict::Suppressed(s) => Some(s),
            Verdict::Kept { .. } => None,
        }
    }
}

/// Everything the lock graph found, with the workings for inspection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Analysis {
    /// One lock-order inversion per strongly connected group of locks with
    /// a kept cycle, then double locks and recursive reads.
    pub findings: Vec<Finding>,
    /// Every cycle found, kept or suppressed.
    pub cycles: Vec<CycleReport>,
    pub stats: SearchStats,
}

/// Analyses lock facts with the default search limits.
pub fn analyze(facts: &[Acquisition]) -> Analysis {
    analyze_with(facts, &SearchLimits::default())
}

pub(crate) fn analyze_with(facts: &[Acquisition], limits: &SearchLimits) -> Analysis {
    let mut analysis = inversions(facts, None, limits);
    analysis.findings.extend(relock_findings(facts));
    analysis
}

/// Lock-order inversions only, with the default search limits. `gated`,
/// where given, is `facts` again (one for one) with the locks every caller
/// holds around each acquisition added: a cycle those gates keep from
/// closing is suppressed, as a gate held by the thread itself would be.
pub(crate) fn inversions(
    facts: &[Acquisition],
    gated: Option<&[Acquisition]>,
    limits: &SearchLimits,
) -> Analysis {
    let graph = LockGraph::build(facts);
    let mut stats = SearchStats::default();
    let found = cycles::find_cycles(&graph, limits, &mut stats);
    let mut reports: Vec<(Vec<u32>, CycleReport)> = found
        .into_iter()
        .map(|edges| {
            let verdict = filters::judge(&graph, &edges);
            let locks = edges.iter().map(|&e| graph.edge(e).0.clone()).collect();
            (edges, CycleReport { locks, verdict })
        })
        .collect();
    if let Some(gated) = gated.filter(|_| reports.iter().any(|(_, r)| r.is_kept())) {
        let unordered = |locks: &[LockKey]| {
            let mut locks = locks.to_vec();
            locks.sort();
            locks
        };
        let by_gates: HashMap<Vec<LockKey>, Suppression> = inversions(gated, None, limits)
            .cycles
            .into_iter()
            .filter_map(|c| {
                let key = unordered(&c.locks);
                match c.verdict {
                    Verdict::Suppressed(s) => Some((key, s)),
                    Verdict::Kept { .. } => None,
                }
            })
            .collect();
        for (_, report) in &mut reports {
            if report.is_kept() {
                if let Some(s) = by_gates.get(&unordered(&report.locks)) {
                    report.verdict =
                        Verdict::Suppressed(Suppression::HeldByEveryCaller(Box::new(s.clone())));
                }
            }
        }
    }
    let kept: Vec<inversion::KeptCycle> = reports
        .iter()
        .filter_map(|(edges, report)| match &report.verdict {
            Verdict::Kept { instances, notes } => Some(inversion::KeptCycle {
                edges,
                instances,
                notes,
            }),
            Verdict::Suppressed(_) => None,
        })
        .collect();
    let mut findings = inversion::inversion_findings(&graph, &kept);
    if stats.truncated {
        for finding in &mut findings {
            finding.notes.push(format!(
                "the cycle search stopped at its bounds ({} cycles of up to {} locks, {} steps): \
                 other cycles may exist",
                limits.max_cycles, limits.max_length, limits.max_steps
            ));
        }
    }
    Analysis {
        findings,
        cycles: reports.into_iter().map(|(_, report)| report).collect(),
        stats,
    }
}

/// Lock-order inversions only.
pub(crate) fn lock_order_findings(facts: &[Acquisition]) -> Vec<Finding> {
    inversions(facts, None, &SearchLimits::default()).findings
}
