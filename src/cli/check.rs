//! `interlock check [FILE.rs|DIR]...`: programs through loom's interleavings.

use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

use super::{emit, Failure, OutputArgs};
use crate::check::{self, Options};
use crate::runtime::Engine;

pub const AFTER_HELP: &str = "\
Each program is a file with `fn main` written against std::sync and std::thread (and
interlock::{sync, gpu, resource} for what std lacks). interlock rewrites those paths to its
runtime, builds every program in one cargo invocation (cached between runs), explores each
through loom's interleavings, and reports what goes wrong against the program's own lines.

Examples:
  interlock check fixtures                  every program under fixtures/
  interlock check bank.rs --keep-going      gather every finding instead of stopping at the first failure
  interlock check bank.rs --preemption-bound 3 --format json";

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Programs (`.rs` files with `fn main`) or directories searched recursively for them.
    #[arg(value_name = "FILE.rs|DIR", default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Most preemptions per execution loom explores (`none` for no bound).
    #[arg(long, value_name = "N|none", default_value = "2", value_parser = parse_bound)]
    pub preemption_bound: Bound,
    /// `loom` explores interleavings; `std` runs the program on real threads a few times.
    #[arg(long, value_enum, default_value_t = EngineArg::Loom)]
    pub engine: EngineArg,
    /// Stop exploring each program after this many executions.
    #[arg(long, value_name = "N")]
    pub max_executions: Option<u64>,
    /// Explore on after a failure and gather every finding.
    #[arg(long)]
    pub keep_going: bool,
    /// Time budget of each program's exploration, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,
    /// Write an HTML timeline of the first counterexample to FILE.
    #[arg(long, value_name = "FILE.html")]
    pub timeline: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// A preemption bound, or none.
#[derive(Clone, Copy, Debug)]
pub struct Bound(pub Option<usize>);

fn parse_bound(text: &str) -> Result<Bound, String> {
    if text == "none" {
        return Ok(Bound(None));
    }
    text.parse::<usize>()
        .map(|b| Bound(Some(b)))
        .map_err(|_| format!("`{text}` is not a number of preemptions (or `none`)"))
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum EngineArg {
    Loom,
    Std,
}

pub fn run(args: &CheckArgs) -> Result<i32, Failure> {
    use std::io::IsTerminal;
    let options = Options {
        engine: match args.engine {
            EngineArg::Loom => Engine::Loom,
            EngineArg::Std => Engine::Std,
        },
        preemption_bound: args.preemption_bound.0,
        max_executions: args.max_executions,
        keep_going: args.keep_going,
        timeout: Duration::from_secs(args.timeout.max(1)),
        progress: std::io::stderr().is_terminal(),
    };
    let report = check::check(&args.paths, &options)?;
    if let Some(path) = &args.timeline {
        let html = crate::report::html::render(&report);
        std::fs::write(path, html).map_err(|e| {
            crate::input::InputError::new(format!("cannot write `{}`: {e}", path.display()))
        })?;
    }
    emit(&report, &args.output)
}
