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
        Err(e) if e.use_stderr() => {
            // The error quotes the arguments: escape what would drive the terminal.
            let text = e.render().to_string();
            let _ = write!(
                std::io::stderr().lock(),
                "{}",
                crate::report::printable(&text)
            );
            return EXIT_BAD_INPUT;
        }
        Err(e) => {
            let _ = e.print();
            return EXIT_CLEAN;
        }
    };
    if let Err(e) = output_names_no_input(&cli.command) {
        print_error(&e);
        return EXIT_BAD_INPUT;
    }
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
/// plain `file:line:column: message` lines otherwise (logs and CI). Names and
/// messages are printed with control characters escaped.
pub(crate) fn print_error(e: &InputError) {
    use std::io::IsTerminal;
    let e = e.printable();
    let stderr = std::io::stderr();
    if stderr.is_terminal() {
        let handler = miette::GraphicalReportHandler::new();
        let mut out = String::new();
        let fits = e.span.as_ref().is_none_or(|(span, _)| {
            crate::report::human::drawable(
                e.source.as_ref().map(|s| s.inner().as_str()),
                span.offset(),
            )
        });
        if fits && handler.render_report(&mut out, &e).is_ok() {
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

/// Refuses an `--output` (or `--timeline`) that names a file the command
/// reads: writing the report would destroy its own input.
fn output_names_no_input(command: &Command) -> Result<(), Box<InputError>> {
    let (inputs, outputs): (Vec<&PathBuf>, Vec<&PathBuf>) = match command {
        Command::Banker(args) => (vec![&args.file], args.output.output.iter().collect()),
        Command::Check(args) => (
            args.paths.iter().collect(),
            args.output.output.iter().chain(&args.timeline).collect(),
        ),
        Command::Gpu(args) => (vec![&args.trace], args.output.output.iter().collect()),
        Command::Scan(args) => (
            args.paths.iter().collect(),
            args.output.output.iter().collect(),
        ),
        Command::Explain(_) => (Vec::new(), Vec::new()),
    };
    for output in outputs {
        let Ok(target) = std::fs::canonicalize(output) else {
            continue; // a file that does not exist yet is no input
        };
        for input in &inputs {
            let Ok(input_path) = std::fs::canonicalize(input) else {
                continue;
            };
            // A directory's inputs are the Rust files under it.
            let reads_it = target == input_path
                || (input_path.is_dir()
                    && target.starts_with(&input_path)
                    && target.extension().is_some_and(|e| e == "rs"));
            if reads_it {
                return Err(Box::new(
                    InputError::new(format!(
                        "`{}` is an input of this command: writing the report there would overwrite it",
                        crate::report::printable(&output.display().to_string())
                    ))
                    .with_help("give --output a file that the command does not read"),
                ));
            }
        }
    }
    Ok(())
}

/// Renders a report in the chosen format to stdout or `--output`, and returns
/// the exit code its findings call for. A report that could not be written
/// (a full disk, a closed pipe's sibling errors) is an error: exit 0 would
/// promise a report nobody got.
pub fn emit(report: &Report, output: &OutputArgs) -> Result<i32, Failure> {
    use std::io::IsTerminal;
    let format = Format::from(output.format);
    let color = output.output.is_none() && std::io::stdout().is_terminal();
    let text = crate::report::render(report, format, color);
    match &output.output {
        Some(path) => std::fs::write(path, text.as_bytes()).map_err(|e| {
            InputError::new(format!(
                "cannot write the report to `{}`: {e}",
                crate::report::printable(&path.display().to_string())
            ))
        })?,
        None => write_stdout(text.as_bytes())?,
    }
    Ok(if report.has_errors() {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    })
}

/// Writes to stdout. A reader that stopped reading (`| head`) wanted no
/// more, which is no error; any other failure is.
pub(crate) fn write_stdout(bytes: &[u8]) -> Result<(), Box<InputError>> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Box::new(InputError::new(format!(
            "cannot write the report to standard output: {e}"
        ))
        .with_help("make room on the device standard output goes to, or write the report elsewhere with --output FILE"))),
    }
}
