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
mod facts;
mod filters;
mod graph;
mod report;
#[cfg(test)]
mod tests;

pub use cycles::{SearchLimits, SearchStats};
pub use facts::{facts_from_trace, Acquisition, Held, LockKey, Permit, Segment};
pub use filters::{Suppression, Verdict};
pub use graph::{Instance, LockGraph};
pub(crate) use report::{cycle_help, cycle_message};

use crate::event::Trace;
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
    /// Lock-order inversions for kept cycles, then double locks and
    /// recursive reads.
    pub findings: Vec<Finding>,
    /// Every cycle found, kept or suppressed.
    pub cycles: Vec<CycleReport>,
    pub stats: SearchStats,
}

/// Analyses lock facts with the default search limits.
pub fn analyze(facts: &[Acquisition]) -> Analysis {
    analyze_with(facts, &SearchLimits::default())
}

pub fn analyze_with(facts: &[Acquisition], limits: &SearchLimits) -> Analysis {
    let graph = LockGraph::build(facts);
    let mut stats = SearchStats::default();
    let found = cycles::find_cycles(&graph, limits, &mut stats);
    let mut findings = Vec::new();
    let mut reports = Vec::with_capacity(found.len());
    for edges in &found {
        let verdict = filters::judge(&graph, edges);
        if let Verdict::Kept { instances, notes } = &verdict {
            let mut finding = report::cycle_finding(&graph, edges, instances, notes);
            if stats.truncated {
                finding = finding.with_note(format!(
                    "the cycle search stopped at its bounds ({} cycles of up to {} locks, {} steps): \
                     other cycles may exist",
                    limits.max_cycles, limits.max_length, limits.max_steps
                ));
            }
            findings.push(finding);
        }
        reports.push(CycleReport {
            locks: edges.iter().map(|&e| graph.edge(e).0.clone()).collect(),
            verdict,
        });
    }
    findings.extend(report::relock_findings(&graph));
    Analysis {
        findings,
        cycles: reports,
        stats,
    }
}

/// All lock-graph findings of a set of facts.
pub fn findings(facts: &[Acquisition]) -> Vec<Finding> {
    analyze(facts).findings
}

/// Lock-order inversions only.
pub fn lock_order_findings(facts: &[Acquisition]) -> Vec<Finding> {
    let mut all = analyze(facts).findings;
    all.retain(|f| f.kind == crate::finding::Kind::LockOrderInversion);
    all
}

/// Double locks and recursive reads only (no cycle search).
pub fn relock_findings(facts: &[Acquisition]) -> Vec<Finding> {
    report::relock_findings(&LockGraph::build(facts))
}

/// All lock-graph findings of an execution.
pub fn trace_findings(trace: &Trace) -> Vec<Finding> {
    findings(&facts_from_trace(trace))
}
