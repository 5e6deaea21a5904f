//! The GPU calls of one execution of a program, as the recorder behind
//! `interlock::gpu`'s handles kept them: plain ops and the tables they refer
//! to, for [`replay`](super::replay) to check once the execution has ended.

use std::collections::HashMap;

use super::ops::{BufferId, DefaultStream, Op, Setup, StreamId};

/// The GPU calls of one execution, and the names and streams they refer to.
/// Op `i` is the one a `Gpu { op: i }` event of the execution's trace stands for.
#[derive(Debug, Default)]
pub(crate) struct Recorded {
    /// Set by the first device: the default stream's mode, the streams
    /// created so far, and the names of buffers, events and kernels.
    pub(crate) setup: Option<Setup>,
    pub(crate) ops: Vec<Op>,
    /// Per buffer: the stream it was allocated on, for a free that names none.
    pub(crate) homes: HashMap<BufferId, Option<StreamId>>,
}

impl Recorded {
    /// Whether the execution made any GPU call.
    pub(crate) fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The setup, made with the legacy default stream by a call that comes
    /// before any device (which cannot happen through the handles).
    pub(crate) fn setup(&mut self) -> &mut Setup {
        self.setup
            .get_or_insert_with(|| Setup::new(DefaultStream::Legacy))
    }
}
