//! The one panic payload the runtime throws to steer a model, never the
//! program's own.
//!
//! loom runs threads as coroutines and ends an execution only when each
//! returns, so stopping a thread (or the whole exploration) from deep inside
//! a lock call is a panic. Every such panic carries a [`Stop`]: the panic
//! hook keeps them out of the findings, and the explorer matches on it.

/// Why the runtime stopped a thread or the exploration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The thread asked for a lock it holds: it would wait for itself, so it
    /// unwinds instead of hanging the model, and the report says where.
    SelfDeadlock,
    /// The execution was found deadlocked (or failed and is being wound
    /// down): its threads unwind so that the run can report.
    Deadlocked,
    /// The program spawns more threads than loom can explore; the run falls
    /// back to real threads (the std engine).
    TooManyThreads,
    /// Exploration ends: at `max_executions`, the time limit, or the first
    /// failure when not keeping going.
    ExecutionLimit,
}

impl Stop {
    /// Unwinds the running thread with this payload.
    pub(crate) fn raise(self) -> ! {
        std::panic::panic_any(self)
    }

    /// The stop a panic payload carries; `None` for the program's own panics.
    pub(crate) fn of(payload: &(dyn std::any::Any + Send)) -> Option<Stop> {
        payload.downcast_ref::<Stop>().copied()
    }
}
