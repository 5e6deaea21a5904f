//! `interlock check [FILE.rs|DIR]...`: programs through loom's interleavings.

use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

use super::{emit, print_error, Failure, OutputArgs, EXIT_BAD_INPUT};
use crate::check::{self, Options};
use crate::input::InputError;
use crate::runtime::Engine;

pub const AFTER_HELP: &str = "\
Each program is a file with `fn main` written against std::sync and std::thread (and
interlock::{sync, gpu, resource} for what std lacks). interlock rewrites those paths to its
runtime, builds every program in one cargo invocation (cached between runs), explores each
through loom's interleavings, and reports what goes wrong against the program's own lines.
Each program runs in its own directory, so that its relative paths, `mod` files and
`include_str!` mean what they say.

A program that does not compile, or that could not finish one execution in its time, is
reported on stderr and every other program is still checked; the exit is then 2. A program
that crashes or aborts in some interleaving is an `assertion-failure`.

Examples:
  interlock check fixtures                  every program under fixtures/
  interlock check bank.rs --keep-going      gather every finding instead of stopping at the first failure
  interlock check bank.rs --preemption-bound 3 --format json";

/// The largest preemption bound loom can hold (it counts preemptions in a byte).
pub const MAX_PREEMPTION_BOUND: usize = 255;

/// The longest time limit: past it a number means "no limit" in practice,
/// and larger ones would overflow the clock.
pub const MAX_TIMEOUT_SECONDS: u64 = 1_000_000_000;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Programs (`.rs` files with `fn main`) or directories searched recursively for them.
    #[arg(value_name = "FILE.rs|DIR", default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Most preemptions per execution loom explores, 0 to 255 (`none` for no bound).
    #[arg(long, value_name = "N|none", default_value = "2", value_parser = parse_bound)]
    pub preemption_bound: Bound,
    /// `loom` explores interleavings; `std` runs the program on real threads a few times.
    #[arg(long, value_enum, default_value_t = EngineArg::Loom)]
    pub engine: EngineArg,
    /// Stop exploring each program after this many executions (at least 1).
    #[arg(long, value_name = "N", value_parser = parse_executions)]
    pub max_executions: Option<u64>,
    /// Explore on after a failure and gather every finding.
    #[arg(long)]
    pub keep_going: bool,
    /// Time budget of each program's exploration, in seconds (1 to 1000000000). A program
    /// still running 3 s past it is stopped, with every process it started.
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = parse_timeout)]
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
    match text.parse::<u64>() {
        Ok(b) if b <= MAX_PREEMPTION_BOUND as u64 => Ok(Bound(Some(b as usize))),
        Ok(_) => Err(format!(
            "`{text}` preemptions is more than loom can bound: give at most {MAX_PREEMPTION_BOUND}, or `none` for no bound"
        )),
        Err(_) => Err(format!(
            "`{text}` is not a number of preemptions (0 to {MAX_PREEMPTION_BOUND}, or `none`)"
        )),
    }
}

fn parse_executions(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(0) => Err("`0` executions explores nothing: give at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{text}` is not a number of executions")),
    }
}

fn parse_timeout(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n) if (1..=MAX_TIMEOUT_SECONDS).contains(&n) => Ok(n),
        _ => Err(format!(
            "`{text}` is not a number of seconds from 1 to {MAX_TIMEOUT_SECONDS}"
        )),
    }
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
        timeout: Duration::from_secs(args.timeout.clamp(1, MAX_TIMEOUT_SECONDS)),
        progress: std::io::stderr().is_terminal(),
    };
    let checked = check::check(&args.paths, &options)?;
    for error in &checked.not_checked {
        print_error(error);
    }
    if !checked.any_checked {
        // Nothing ran: the diagnostics above are the whole answer.
        return Ok(EXIT_BAD_INPUT);
    }
    let report = &checked.report;
    if let Some(path) = &args.timeline {
        let html = crate::report::html::render(report);
        std::fs::write(path, html).map_err(|e| {
            InputError::new(format!(
                "cannot write `{}`: {e}",
                crate::report::printable(&path.display().to_string())
            ))
        })?;
    }
    let code = emit(report, &args.output)?;
    Ok(if checked.not_checked.is_empty() {
        code
    } else {
        EXIT_BAD_INPUT
    })
}
