//! The runtime: instrumented primitives (`interlock::sync`, `thread`, `cell`)
//! record what a program does, an engine runs it (loom's interleavings or
//! real threads), and the analyses turn each execution into findings.

pub(crate) mod control;
mod engine_choice;
pub(crate) mod execution;
mod explore;
pub(crate) mod handle;
pub(crate) mod harness;
pub(crate) mod ledger;
mod naming;
mod outcome;
mod panic_hook;
pub(crate) mod raw;
pub(crate) mod wind_down;

pub use engine_choice::Engine;
pub(crate) use explore::defaults as explore_defaults;
pub use explore::Builder;
pub use harness::{check_main, ModelStatic};

/// Explores `f` with the default settings and panics with the rendered
/// report when an error finding exists, so that it drops into `#[test]`s.
#[track_caller]
pub fn model<F>(f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let report = Builder::new().check(f);
    if !report.is_clean() {
        panic!("interlock found concurrency bugs:\n{report}");
    }
}
