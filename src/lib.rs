//! interlock finds concurrency bugs and explains them.
//!
//! Data flows one way: front ends (`input`, and later the runtime, the
//! static scanner and the GPU trace reader) produce [`event`]s or lock facts;
//! the [`analysis`] modules are pure functions over them; every analysis
//! returns [`finding::Finding`]s; [`report`] renders them.

pub mod analysis;
pub mod catalogue;
#[cfg(feature = "cli")]
pub mod check;
pub mod event;
pub mod finding;
pub mod gpu;
pub mod input;
pub mod report;
pub mod resource;

#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "cli")]
pub mod scan;

pub use finding::{Finding, Kind, Severity};
pub use report::Report;
pub mod cell;
pub mod runtime;
pub mod sync;
pub mod thread;

pub use runtime::{model, Builder, Engine};

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&report::render(self, report::Format::Human, false))
    }
}
