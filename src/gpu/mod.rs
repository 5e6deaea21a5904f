//! GPU stream semantics on vector clocks: streams are agents like threads,
//! events and synchronize calls carry happens-before like locks and joins.
//!
//! The engine's input is a sequence of [`Op`]s, each issued by a host
//! thread, in the order the host issued them. [`Checker::step`] takes one at
//! a time and keeps state per stream, event, lock and live buffer, never per
//! op, so a trace of any length streams through it. Its output is
//! [`Hazard`]s (pairs of unordered accesses to one buffer), which
//! [`Checker::findings`] explains as `stream-race` and
//! `stream-use-after-free` findings (and `data-race` between two host
//! threads). Nothing here reads files: the trace reader
//! (`input::gpu_trace`) and models run by the runtime build the same ops.
//!
//! A model (or a program given to `interlock check`) drives simulated
//! streams with [`Device`] and its handles ([`Stream`], [`Buffer`],
//! [`Event`], [`Launch`]): each call is recorded as an op of the calling
//! host thread, and each execution's ops are checked with the host threads'
//! synchronization when it ends.
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

mod engine;
mod explain;
pub(crate) mod model;
mod op;
#[cfg(test)]
mod tests;

pub use engine::{Access, AccessKind, Checker, Hazard, HazardKind, Role, MAX_HAZARDS};
pub use explain::MAX_STEPS;
pub use model::{Buffer, Device, Event, Launch, Stream};
pub use op::{
    BufferId, DefaultStream, EventId, Interner, LabelId, LockId, Names, Op, OpError, OpKind, Setup,
    Space, StreamDecl, StreamId,
};

use crate::finding::Finding;

impl Checker {
    /// The hazards found so far as findings. `ops` are the ops given to
    /// [`step`](Checker::step), in order: with them, findings name the ops,
    /// point at their sites and show the interleaving; without them (a
    /// stream too long to keep), ops are named by index only.
    pub fn findings(&self, ops: Option<&[Op]>) -> Vec<Finding> {
        explain::findings(self, ops)
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
