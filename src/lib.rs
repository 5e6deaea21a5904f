//! interlock finds concurrency bugs and explains them.
//!
//! Data flows one way: front ends (`input`, and later the runtime, the
//! static scanner and the GPU trace reader) produce [`event`]s or lock facts;
//! the [`analysis`] modules are pure functions over them; every analysis
//! returns [`finding::Finding`]s; [`report`] renders them.

pub mod analysis;
pub mod catalogue;
pub mod event;
pub mod finding;
pub mod input;
pub mod report;

#[cfg(feature = "cli")]
pub mod cli;

pub use finding::{Finding, Kind, Severity};
pub use report::Report;
