//! Simulated GPU streams for models and programs run by the runtime
//! ([`Device`] and its handles, like `interlock::sync` for locks), and the
//! stream checker's vocabulary that the trace reader and benchmarks use.
//!
//! The checker itself (ops, vector clocks, hazards and their wording) is an
//! analysis and lives in `analysis::streams`; it is re-exported here, where
//! users of the library have always found it.
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

mod device;
mod recorder;

pub use crate::analysis::streams::{
    check, Access, AccessKind, BufferId, Checker, DefaultStream, EventId, Hazard, HazardKind,
    Interner, LabelId, LockId, Names, Op, OpError, OpKind, OpLog, Role, Setup, Space, StreamDecl,
    StreamId, MAX_HAZARDS, MAX_STEPS,
};
pub use device::{Buffer, Device, Event, Launch, Stream};
