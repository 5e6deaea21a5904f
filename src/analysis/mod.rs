//! Analyses: pure functions over events or lock facts, with no I/O.
//! Each returns findings or plain results that front ends turn into findings.

pub(crate) mod atomicity;
pub mod banker;
pub mod happens_before;
pub mod lock_graph;
pub mod streams;
pub(crate) mod wait_for;
