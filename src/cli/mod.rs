//! The command line: parse arguments (clap), call the library, render the
//! report, pick the exit code. Each subcommand lives in its own file.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use crate::input::InputError;
use crate::report::{Format, Report};

mod banker;
mod check;
mod explain;
mod gpu;
mod scan;

/// Exit codes of the contract.
pub const EXIT_CLEAN: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "interlock",
    version,
    about = "Finds concurrency bugs and explains them: races, deadlocks, unsafe resource states",
    long_about = "Finds concurrency bugs and explains them.\n\n\
        Each finding points at source and, where an interleaving explains it, shows that \
        interleaving thread by thread.\n\n\
        Exit codes: 0 no finding of error severity; 1 at least one; 2 the input could not be used.",
    after_help = "Run `interlock explain KIND` to learn about a finding kind, e.g. `interlock explain deadlock`."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Banker's algorithm on a resource-allocation state (TOML): safe or unsafe, a safe
    /// sequence, each listed request granted or refused, and the deadlocked set.
    #[command(after_help = banker::AFTER_HELP)]
    Banker(banker::BankerArgs),
    /// Runs each program (a file with `fn main` using std::sync and std::thread) through
    /// loom's interleavings and reports what goes wrong, thread by thread.
    #[command(after_help = check::AFTER_HELP)]
    Check(check::CheckArgs),
    /// Prints the catalogue entry of a finding kind: what it is, a minimal example, the fix.
    #[command(after_help = explain::AFTER_HELP)]
    Explain(explain::ExplainArgs),
    /// Checks a recorded GPU stream trace (JSON) for stream races and uses after free:
    /// streams are ordered like threads, by events, synchronizes and the default stream.
    #[command(after_help = gpu::AFTER_HELP)]
    Gpu(gpu::GpuArgs),
    /// Static analysis of Rust sources, no build: double locks, lock-order inversions,
    /// condvar misuse, guards across `.await`, lost updates on atomics.
    #[command(after_help = scan::AFTER_HELP)]
    Scan(scan::ScanArgs),
}

/// Options every reporting command takes.
#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// Output format: `human` for people, `json` for scripts, `sarif` for code scanning.
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    pub format: FormatArg,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    Human,
    Json,
    Sarif,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Human => Format::Human,
            FormatArg::Json => Format::Json,
            FormatArg::Sarif => Format::Sarif,
        }
    }
}

/// Why a command could not produce a report.
#[derive(Debug)]
pub enum Failure {
    Input(Box<InputError>),
}

impl From<Box<InputError>> for Failure {
    fn from(e: Box<InputError>) -> Self {
        Failure::Input(e)
    }
}

impl From<InputError> for Failure {
    fn from(e: InputError) -> Self {
        Failure::Input(Box::new(e))
    }
}

/// Runs the command line and returns the process exit code.
pub fn main(args: impl IntoIterator<Item = OsString>) -> i32 {
    let mut args: Vec<OsString> = args.into_iter().collect();
    // `cargo interlock x` runs `cargo-interlock interlock x`.
    if args.get(1).is_some_and(|a| a == "interlock") {
        args.remove(1);
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                EXIT_BAD_INPUT
            } else {
                EXIT_CLEAN
            };
        }
    };
    let result = match cli.command {
        Command::Banker(args) => banker::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Scan(args) => scan::run(&args),
        Command::Gpu(args) => gpu::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(Failure::Input(e)) => {
            print_error(&e);
            EXIT_BAD_INPUT
        }
    }
}

/// Prints an input error with its snippet when stderr is a terminal, and as
/// plain `file:line:column: message` lines otherwise (logs and CI).
fn print_error(e: &InputError) {
    use std::io::IsTerminal;
    let stderr = std::io::stderr();
    if stderr.is_terminal() {
        let handler = miette::GraphicalReportHandler::new();
        let mut out = String::new();
        if handler.render_report(&mut out, e).is_ok() {
            let _ = writeln!(stderr.lock(), "{out}");
            return;
        }
    }
    let mut err = stderr.lock();
    let _ = writeln!(err, "error: {}", e.plain());
    if let Some((_, label)) = &e.span {
        let _ = writeln!(err, "  = {label}");
    }
    if let Some(help) = &e.help {
        let _ = writeln!(err, "  = help: {help}");
    }
}

/// Renders a report in the chosen format to stdout or `--output`, and returns
/// the exit code its findings call for.
pub fn emit(report: &Report, output: &OutputArgs) -> Result<i32, Failure> {
    use std::io::IsTerminal;
    let format = Format::from(output.format);
    let color = output.output.is_none() && std::io::stdout().is_terminal();
    let text = crate::report::render(report, format, color);
    match &output.output {
        Some(path) => std::fs::write(path, text.as_bytes())
            .map_err(|e| InputError::new(format!("cannot write `{}`: {e}", path.display())))?,
        None => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
    }
    Ok(if report.has_errors() {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    })
}
