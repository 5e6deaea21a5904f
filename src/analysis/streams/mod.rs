//! GPU stream semantics on vector clocks: streams are agents like threads,
//! events and synchronize calls carry happens-before like locks and joins.
//!
//! The input is a sequence of [`Op`]s, each issued by a host thread, in the
//! order the host issued them. [`Checker::step`] takes one at a time and
//! keeps state per stream, event, lock and live buffer, never per op, so a
//! trace of any length streams through it. Its output is [`Hazard`]s (pairs
//! of unordered accesses to one buffer), which [`Checker::findings`]
//! explains as `stream-race` and `stream-use-after-free` findings (and
//! `data-race` between two host threads).
//!
//! Two front ends build the ops: the trace reader (`input::gpu_trace`) for
//! `interlock gpu`, and the recorder behind `interlock::gpu`'s handles for
//! programs the runtime explores; [`replay`] checks one execution of such a
//! program, with the host threads' ordering taken from
//! [`happens_before`](crate::analysis::happens_before). Nothing here reads
//! files or runs code.
//!
//! ```
//! use interlock::gpu::{check, DefaultStream, Op, OpKind, Setup, StreamId};
//!
//! let mut setup = Setup::new(DefaultStream::Legacy);
//! let side = setup.stream(1, false); // a non-blocking stream
//! let x = setup.names.buffer("x");
//! let produce = setup.names.label("produce");
//! let consume = setup.names.label("consume");
//! let ops = [
//!     Op::new(OpKind::Kernel { stream: side, name: produce, reads: vec![], writes: vec![x] }),
//!     Op::new(OpKind::Kernel { stream: StreamId::DEFAULT, name: consume, reads: vec![x], writes: vec![] }),
//! ];
//! let findings = check(setup, &ops).unwrap();
//! assert_eq!(findings[0].kind, interlock::Kind::StreamRace);
//! ```

mod checker;
mod hazard_findings;
mod ops;
mod recorded;
mod replay;
#[cfg(test)]
mod tests;

pub use checker::{Access, AccessKind, Checker, Hazard, HazardKind, Role, MAX_HAZARDS};
pub use hazard_findings::{OpLog, MAX_STEPS};
pub use ops::{
    BufferId, DefaultStream, EventId, Interner, LabelId, LockId, Names, Op, OpError, OpKind, Setup,
    Space, StreamDecl, StreamId,
};
pub(crate) use recorded::Recorded;
pub(crate) use replay::replay;

use crate::finding::Finding;

impl Checker {
    /// The hazards found so far as findings. `ops` are the ops given to
    /// [`step`](Checker::step), in order: with them, findings name the ops,
    /// point at their sites and show the interleaving; without them (a
    /// stream too long to keep), ops are named by index only.
    pub fn findings(&self, ops: Option<&[Op]>) -> Vec<Finding> {
        match ops {
            Some(ops) => hazard_findings::findings(self, Some(&hazard_findings::AllOps(ops))),
            None => hazard_findings::findings(self, None),
        }
    }

    /// The same, with the ops a log kept (those the hazards name and the
    /// ones around them) rather than all of them.
    pub fn findings_from(&self, log: &dyn OpLog) -> Vec<Finding> {
        hazard_findings::findings(self, Some(log))
    }
}

/// Checks a whole sequence of ops and explains what it found.
pub fn check(setup: Setup, ops: &[Op]) -> Result<Vec<Finding>, OpError> {
    let mut checker = Checker::new(setup);
    for op in ops {
        checker.step(op)?;
    }
    Ok(checker.findings(Some(ops)))
}
