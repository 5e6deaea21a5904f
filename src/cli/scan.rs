//! `interlock scan [PATH]...`: static lock analysis of Rust sources, fit to
//! gate CI.

use clap::Args;
use std::path::PathBuf;

use super::{Failure, OutputArgs, EXIT_CLEAN};
use crate::input::InputError;
use crate::scan::{self, baseline::Baseline, config};

pub const AFTER_HELP: &str = "\
A PATH is a crate or workspace directory (its Cargo.toml gives the edition and
the source roots), a directory of .rs files, or a single file. Default: `.`.
`target/` and hidden directories are skipped; files that do not parse are
reported on stderr and skipped.

Configuration (`interlock.toml`, or `[package.metadata.interlock]` in Cargo.toml):

  allow = [\"recursive-read\"]                  # kinds not reported
  deny = [\"guard-across-await\"]               # kinds that fail the gate
  exclude = [\"benches\", \"src/generated\"]      # paths not scanned
  lock-order = [[\"Bank.accounts\", \"Bank.log\"]] # declared orders, checked

Inline: `// interlock: allow(double-lock)` on the line of a finding, the line
above it, or above an enclosing function, impl, trait or module.

Exit codes: 0 no finding of error severity; 1 at least one; 2 the input could
not be used (a missing path, a malformed configuration or baseline).";

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Crate or workspace directories, directories of `.rs` files, or files.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Read the configuration from FILE instead of looking for
    /// `interlock.toml` (or Cargo.toml metadata) from the first PATH up.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Leave out the findings recorded in FILE (written by `--write-baseline`).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record every finding in FILE as the baseline, and exit 0.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Threads for parsing and analysis (default: one per CPU).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Parse crates that mention no lock, atomic or condvar too (by default
    /// they are read, found lock-free, and not parsed: they cannot hold a
    /// finding). Files there that do not parse are then reported.
    #[arg(long)]
    pub all_crates: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: &ScanArgs) -> Result<i32, Failure> {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let config = match &args.config {
        Some(file) => config::load_file(file).map_err(Failure::Input)?,
        None => config::find(&paths).map_err(Failure::Input)?,
    };
    let baseline = match &args.baseline {
        Some(file) => Some(Baseline::load(file).map_err(Failure::Input)?),
        None => None,
    };
    let options = scan::Options {
        paths: paths.clone(),
        config,
        jobs: args.jobs,
        baseline,
        parse_lock_free: args.all_crates,
    };
    let mut outcome = scan::scan(&options).map_err(Failure::Input)?;
    // The process is about to exit: freeing the analysis is wasted time.
    std::mem::forget(outcome.workings.take());
    {
        use std::io::Write;
        let mut err = std::io::stderr().lock();
        for skipped in &outcome.skipped {
            let _ = writeln!(err, "warning: {skipped}");
        }
        for warning in &outcome.warnings {
            let _ = writeln!(err, "warning: {warning}");
        }
        if outcome.files > 0 {
            let _ = writeln!(
                err,
                "scanned {} in {}{}",
                plural(outcome.files, "file"),
                plural(outcome.crates, "crate"),
                if outcome.skipped.is_empty() {
                    String::new()
                } else {
                    format!(", {} skipped", plural(outcome.skipped.len(), "file"))
                }
            );
        }
        if outcome.baselined > 0 {
            let _ = writeln!(
                err,
                "note: {} finding{} in the baseline not shown",
                outcome.baselined,
                if outcome.baselined == 1 { "" } else { "s" }
            );
        }
    }
    // Exit 0 promises that something was checked: a path with no Rust file,
    // or whose every file was skipped, is input that could not be used.
    if outcome.files == 0 {
        let shown: Vec<String> = options
            .paths
            .iter()
            .map(|p| format!("`{}`", p.display()))
            .collect();
        let why = if outcome.skipped.is_empty() {
            "no `.rs` file found".to_string()
        } else {
            format!(
                "every file was skipped ({}; see the warnings above)",
                plural(outcome.skipped.len(), "file")
            )
        };
        return Err(Failure::Input(Box::new(InputError::new(format!(
            "nothing scanned in {}: {why}",
            shown.join(", ")
        )))));
    }
    if let Some(file) = &args.write_baseline {
        let text = Baseline::of(&outcome.all_findings).to_json();
        std::fs::write(file, text).map_err(|e| {
            Failure::Input(Box::new(InputError::new(format!(
                "cannot write `{}`: {e}",
                file.display()
            ))))
        })?;
        super::emit(&outcome.report, &args.output)?;
        return Ok(EXIT_CLEAN);
    }
    super::emit(&outcome.report, &args.output)
}

/// `1 file`, `3 files`.
fn plural(n: usize, noun: &str) -> String {
    crate::finding::plural(n as u64, noun, &format!("{noun}s"))
}
