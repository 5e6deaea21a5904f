//! `interlock check`: plain programs written against `std::sync` and
//! `std::thread`, instrumented, built once as a set, and explored through
//! loom's interleavings; their reports come back mapped onto the original
//! files.

pub mod discover;
pub mod instrument;
mod project;
pub mod relocate;
mod run;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::finding::Finding;
use crate::input::InputError;
use crate::report::{Report, SkippedInput, Summary};
use crate::runtime::harness::{CONFIG_VAR, REPORT_VAR};
use crate::runtime::Engine;
use discover::Program;
use instrument::{InstrumentError, Instrumented};
use relocate::Relocated;

/// How to run the programs.
#[derive(Clone, Debug)]
pub struct Options {
    pub engine: Engine,
    /// `None` explores without a preemption bound.
    pub preemption_bound: Option<usize>,
    pub max_executions: Option<u64>,
    pub keep_going: bool,
    /// Wall-clock budget of each program's exploration.
    pub timeout: Duration,
    /// Show exploration progress on stderr.
    pub progress: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            engine: Engine::Loom,
            preemption_bound: Some(crate::runtime::explore_defaults::PREEMPTION_BOUND),
            max_executions: None,
            keep_going: false,
            timeout: Duration::from_secs(60),
            progress: false,
        }
    }
}

/// A program ready to build: its instrumented source and where it came from.
struct Prepared {
    program: Program,
    original: String,
    instrumented: Instrumented,
    /// The instrumented source with its file paths made absolute.
    relocated: Relocated,
    /// The program's own directory, where it runs.
    dir: PathBuf,
}

/// What `check` gives back: the report of every program that could be
/// used, and a diagnostic for each one that could not.
#[derive(Debug, Default)]
pub struct Checked {
    pub report: Report,
    /// Programs that could not be used (not valid Rust, no `main`, do not
    /// compile, ran out of time before an execution ended): each makes the
    /// exit 2, while every other program is still checked.
    pub not_checked: Vec<InputError>,
    /// True when at least one program was explored.
    pub any_checked: bool,
}

/// Checks every program under `paths` and gathers one report.
pub fn check(paths: &[PathBuf], options: &Options) -> Result<Checked, Box<InputError>> {
    let discovery = discover::discover(paths)?;
    let mut checked = Checked::default();
    let mut prepared = Vec::new();
    let mut without_main = Vec::new();
    for program in discovery.programs {
        match prepare(program) {
            Ok(p) => prepared.push(p),
            Err(NotPrepared::NoMain(program)) => without_main.push(program.display),
            Err(NotPrepared::Unusable(program, error)) => {
                checked.not_usable(&program.display, *error)
            }
        }
    }
    let skipped: Vec<SkippedInput> = discovery
        .skipped
        .iter()
        .map(|s| SkippedInput {
            file: s.display.clone(),
            reason: s.reason.clone(),
        })
        .chain(without_main.iter().map(|file| SkippedInput {
            file: file.clone(),
            reason: "no `fn main`: not a program".to_string(),
        }))
        .collect();
    if prepared.is_empty() && checked.not_checked.is_empty() {
        let mut error =
            InputError::new("no program to check: no `.rs` file with `fn main` was found")
                .with_help(
                    "give a Rust program (a `.rs` file with `fn main`) or a directory of them",
                );
        if !discovery.skipped.is_empty() {
            let passed: Vec<String> = discovery
                .skipped
                .iter()
                .map(|s| format!("{}: {}", s.display, s.reason))
                .collect();
            error.help = Some(format!(
                "{}; passed by: {}",
                error.help.unwrap_or_default(),
                passed.join("; ")
            ));
        }
        return Err(Box::new(error));
    }
    checked.report.summary = Summary {
        files: prepared.len(),
        complete: true,
        engine: Some(options.engine.to_string()),
        preemption_bound: match options.engine {
            Engine::Loom => options.preemption_bound,
            Engine::Std => None,
        },
        ..Summary::default()
    };
    checked.report.skipped = skipped;
    if prepared.is_empty() {
        checked.finish(&without_main, Vec::new());
        return Ok(checked);
    }
    let set = set_name(&prepared);
    let names = bin_names(&set, &prepared);
    let bins: BTreeMap<String, String> = names
        .iter()
        .zip(&prepared)
        .map(|(name, p)| (name.clone(), p.relocated.source.clone()))
        .collect();
    if options.progress {
        eprintln!("interlock: building {} program(s)...", prepared.len());
    }
    let built = project::build(&set, &bins)?;
    let mut reasons = Vec::new();
    let project_dir = project::cache_dir().join(&set);
    for (i, (name, p)) in names.iter().zip(&prepared).enumerate() {
        if let Some(errors) = built.errors.get(name) {
            let error = compile_failure(p, errors);
            checked.not_usable(&p.program.display, *error);
            continue;
        }
        if options.progress {
            eprintln!(
                "interlock: [{}/{}] {}",
                i + 1,
                prepared.len(),
                p.program.display
            );
        }
        let Some(exe) = built.executables.get(name) else {
            let error = InputError::new(format!(
                "`{}` was not built, although cargo reported no error in it",
                p.program.display
            ))
            .with_help(format!(
                "run `cargo build --release --manifest-path {}` to see why",
                project_dir.join("Cargo.toml").display()
            ));
            checked.not_usable(&p.program.display, error);
            continue;
        };
        let (program_report, verdict) = match run(exe, &project_dir, &set, name, p, options) {
            Ok(done) => done,
            Err(error) => {
                checked.not_usable(&p.program.display, *error);
                continue;
            }
        };
        checked.any_checked = true;
        let report = &mut checked.report;
        report.summary.executions += program_report.summary.executions;
        if !program_report.summary.complete {
            report.summary.complete = false;
            if let Some(reason) = &program_report.summary.incomplete_reason {
                reasons.push(format!("{}: {reason}", p.program.display));
            }
        }
        report.preamble.push(verdict);
        report.preamble.extend(
            program_report
                .preamble
                .iter()
                .map(|note| format!("  note: {note}")),
        );
        report.findings.extend(program_report.findings);
    }
    checked.finish(&without_main, reasons);
    Ok(checked)
}

impl Checked {
    /// Records a program that could not be used: a verdict line in the
    /// report, an entry in the summary, and its diagnostic.
    fn not_usable(&mut self, display: &str, error: InputError) {
        let reason = error.message.clone();
        self.report
            .preamble
            .push(format!("{display}: not checked: {reason}"));
        self.report.not_checked.push(SkippedInput {
            file: display.to_string(),
            reason,
        });
        self.not_checked.push(error);
    }

    /// The closing notes: what was passed by, and why exploration stopped.
    fn finish(&mut self, without_main: &[String], reasons: Vec<String>) {
        let report = &mut self.report;
        if !without_main.is_empty() {
            report.preamble.push(format!(
                "skipped {} file(s) without `fn main`: {}",
                without_main.len(),
                without_main.join(", ")
            ));
        }
        let passed: Vec<&SkippedInput> = report
            .skipped
            .iter()
            .filter(|s| !without_main.contains(&s.file))
            .collect();
        let passed: Vec<String> = passed
            .iter()
            .map(|s| format!("{} ({})", s.file, s.reason))
            .collect();
        if !passed.is_empty() {
            report.preamble.push(format!(
                "passed by {} path(s): {}",
                passed.len(),
                passed.join(", ")
            ));
        }
        if !self.not_checked.is_empty() {
            report.summary.complete = false;
        }
        let mut reasons = reasons;
        if !self.not_checked.is_empty() {
            reasons.push(format!(
                "{} could not be used (see the diagnostics)",
                crate::report::plural(self.not_checked.len() as u64, "program", "programs")
            ));
        }
        if !reasons.is_empty() {
            report.summary.incomplete_reason = Some(summarize_reasons(&reasons));
        }
    }
}

/// Why a discovered file is not built.
enum NotPrepared {
    /// A file without `fn main` found in a directory: not a program.
    NoMain(Program),
    Unusable(Program, Box<InputError>),
}

/// Reads and instruments one program.
fn prepare(program: Program) -> Result<Prepared, NotPrepared> {
    let original = match read_program(&program.path) {
        Ok(text) => text,
        Err(e) => return Err(NotPrepared::Unusable(program, e)),
    };
    match instrument::instrument(&original) {
        Ok(instrumented) => {
            let dir = relocate::program_dir(&program.path);
            let relocated = relocate::relocate(&instrumented.source, &dir);
            Ok(Prepared {
                program,
                original,
                instrumented,
                relocated,
                dir,
            })
        }
        Err(InstrumentError::NoMain) if !program.named => Err(NotPrepared::NoMain(program)),
        Err(InstrumentError::NoMain) => {
            let error = InputError::new(format!("`{}` has no `fn main`", program.display))
                .with_help("interlock check runs programs: give it a file with `fn main`, or a directory of them");
            Err(NotPrepared::Unusable(program, Box::new(error)))
        }
        Err(InstrumentError::Parse {
            message,
            line,
            column,
        }) => {
            let offset = offset_of(&original, line, column);
            let error = InputError::at(
                format!("`{}` is not valid Rust: {message}", program.display),
                &program.display,
                &original,
                offset..offset,
                message,
            )
            .with_help("fix the syntax error; interlock check needs a program that compiles");
            Err(NotPrepared::Unusable(program, Box::new(error)))
        }
    }
}

/// Reads a program's text: a regular file, in UTF-8.
fn read_program(path: &std::path::Path) -> Result<String, Box<InputError>> {
    InputError::read(path)
}

/// Why programs were not explored to the end, grouped: most stop at their
/// first failure, which needs no list.
fn summarize_reasons(reasons: &[String]) -> String {
    let first_failure = reasons
        .iter()
        .filter(|r| r.contains("stopped at the first failure"))
        .count();
    let sampled = reasons.iter().filter(|r| r.contains("std engine")).count();
    let mut parts = Vec::new();
    if first_failure > 0 {
        parts.push(format!(
            "{first_failure} program(s) stopped at their first failure (--keep-going explores on)"
        ));
    }
    if sampled > 0 {
        parts.push(format!(
            "{sampled} program(s) ran on real threads, which samples interleavings rather than exploring them"
        ));
    }
    parts.extend(
        reasons
            .iter()
            .filter(|r| !r.contains("stopped at the first failure") && !r.contains("std engine"))
            .cloned(),
    );
    parts.join("; ")
}

/// Runs one built program and maps its report onto the original file. A
/// program that ended without a report by crashing gets a finding; one that
/// cannot be used (no execution ended, stopped at the time limit) is an error.
fn run(
    exe: &std::path::Path,
    project_dir: &std::path::Path,
    set: &str,
    bin: &str,
    p: &Prepared,
    options: &Options,
) -> Result<(Report, String), Box<InputError>> {
    let report_path = project_dir.join(format!("{bin}.report.json"));
    let stderr_path = project_dir.join(format!("{bin}.stderr.txt"));
    let _ = std::fs::remove_file(&report_path);
    let config = format!(
        "engine={};preemption_bound={};{}keep_going={};progress={};max_seconds={}",
        options.engine,
        options
            .preemption_bound
            .map_or("none".to_string(), |b| b.to_string()),
        options
            .max_executions
            .map_or(String::new(), |m| format!("max_executions={m};")),
        u8::from(options.keep_going),
        u8::from(options.progress),
        options.timeout.as_secs_f64(),
    );
    let ended = run::run(&run::Launch {
        exe,
        working_dir: &p.dir,
        env: vec![
            (CONFIG_VAR, config),
            (REPORT_VAR, report_path.display().to_string()),
        ],
        stderr_file: &stderr_path,
        show_stderr: options.progress,
        timeout: options.timeout,
    })
    .map_err(|e| {
        Box::new(InputError::new(format!(
            "cannot run the built `{}`: {e}",
            p.program.display
        )))
    })?;
    let text = std::fs::read_to_string(&report_path).ok();
    let mut report = match text.as_deref().map(parse_report) {
        Some(Ok(report)) => report,
        _ => return ended_without_report(p, &ended, options),
    };
    if report.summary.executions == 0 {
        // Nothing was explored (loom refused to start, the first execution
        // never ended): a clean verdict would promise what was not done.
        let why = report
            .summary
            .incomplete_reason
            .clone()
            .unwrap_or_else(|| "no execution ran".to_string());
        return Err(Box::new(
            InputError::new(format!(
                "`{}` could not be explored: no execution ended ({why})",
                p.program.display
            ))
            .with_help(
                "raise --timeout, or run it with `--engine std` to see it run on real threads",
            ),
        ));
    }
    let compiled = project::source_path(set, bin).display().to_string();
    for finding in &mut report.findings {
        map_finding(finding, &compiled, p);
    }
    // The per-run "explored N executions" line is summed up by the caller;
    // other notes (a fallback to real threads, inferred claims) stay.
    report
        .preamble
        .retain(|line| !line.starts_with("explored "));
    let verdict = verdict_line(&p.program.display, &report);
    Ok((report, verdict))
}

/// `file: clean (12 executions)` or `file: deadlock, data-race (3 executions)`.
fn verdict_line(display: &str, report: &Report) -> String {
    let mut kinds: Vec<String> = report.findings.iter().map(|f| f.kind.to_string()).collect();
    kinds.dedup();
    let executions = crate::report::plural(report.summary.executions, "execution", "executions");
    if kinds.is_empty() {
        format!("{display}: clean ({executions})")
    } else {
        format!("{display}: {} ({executions})", kinds.join(", "))
    }
}

/// A program that left no report: a crash is a finding; running out of time
/// or leaving without a word means the program could not be used.
fn ended_without_report(
    p: &Prepared,
    ended: &run::Ended,
    options: &Options,
) -> Result<(Report, String), Box<InputError>> {
    let display = &p.program.display;
    let stderr = if ended.stderr_tail.is_empty() {
        String::new()
    } else {
        format!("; the end of its stderr:\n{}", ended.stderr_tail)
    };
    let status = match &ended.ending {
        run::Ending::TimedOut => {
            return Err(Box::new(
                InputError::new(format!(
                    "`{display}` ran past its time limit ({} s, and {} s of grace to end its execution) and was stopped before it could report{stderr}",
                    options.timeout.as_secs(),
                    run::GRACE.as_secs(),
                ))
                .with_help("one execution took longer than the whole limit: raise --timeout, or give the program less work"),
            ))
        }
        run::Ending::Exited(status) => *status,
    };
    let crash = match (run::signal_of(&status), status.code()) {
        (Some(signal), _) => format!("was killed by {}", run::signal_name(signal)),
        (None, Some(0)) => {
            return Err(Box::new(
                InputError::new(format!(
                    "`{display}` exited in the middle of its exploration (status 0), without a report{stderr}"
                ))
                .with_help("a checked program must return from `main` rather than call `std::process::exit`"),
            ))
        }
        (None, Some(code)) => format!("exited with status {code}"),
        (None, None) => format!("ended ({status})"),
    };
    let site = crate::event::Site::new(display.clone(), main_line(&p.original), 1);
    let mut finding = Finding::new(
        crate::finding::Kind::AssertionFailure,
        format!("the program {crash} during its exploration"),
    )
    .at(&site, format!("the program {crash} in some interleaving"))
    .with_help("a crash, an abort or running out of memory in any interleaving is a failure: run the program on its own to see where");
    if !ended.stderr_tail.is_empty() {
        finding = finding.with_note(format!("the end of its stderr: {}", ended.stderr_tail));
    }
    let mut report = Report::new(vec![finding], Summary::default());
    report.summary.complete = false;
    report.summary.incomplete_reason = Some(format!(
        "the program {crash}, so its exploration ended there"
    ));
    let verdict = format!("{display}: assertion-failure (the program {crash})");
    Ok((report, verdict))
}

/// The line of `fn main`, where a crash of the whole program is reported.
fn main_line(original: &str) -> u32 {
    original
        .lines()
        .position(|l| {
            let l = l.trim_start();
            l.starts_with("fn main") || l.starts_with("pub fn main")
        })
        .map_or(1, |i| i as u32 + 1)
}

fn parse_report(text: &str) -> Result<Report, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Json {
        findings: Vec<Finding>,
        summary: Summary,
        #[serde(default)]
        notes: Vec<String>,
    }
    let json: Json = serde_json::from_str(text)?;
    let mut report = Report::new(json.findings, json.summary);
    report.preamble = json.notes;
    Ok(report)
}

/// Points a finding's places at the original file instead of the built copy.
fn map_finding(finding: &mut Finding, compiled: &str, p: &Prepared) {
    let is_program = |file: &str| file == compiled;
    let column = |line: u32, column: u32| {
        p.instrumented
            .original_column(line, p.relocated.column_before(line, column))
    };
    for location in &mut finding.locations {
        if is_program(&location.file) {
            location.file = p.program.display.clone();
            location.column = column(location.line, location.column);
        }
    }
    if let Some(trace) = &mut finding.trace {
        for step in trace {
            if is_program(&step.file) {
                step.file = p.program.display.clone();
                step.column = column(step.line, step.column);
            }
        }
    }
}

/// A program that does not compile: rustc's first error at the program's
/// own line, the others listed in the help.
fn compile_failure(p: &Prepared, errors: &[project::CompileError]) -> Box<InputError> {
    let first = &errors[0];
    let offset = offset_of(&p.original, first.line, first.column);
    let label = if first.label.is_empty() {
        first.message.clone()
    } else {
        first.label.clone()
    };
    let mut error = InputError::at(
        format!(
            "`{}` does not compile: {}",
            p.program.display, first.message
        ),
        &p.program.display,
        &p.original,
        offset..offset + 1,
        label,
    );
    let mut help = String::new();
    for e in errors.iter().skip(1) {
        help.push_str(&format!(
            "{}:{}:{}: {}\n",
            p.program.display, e.line, e.column, e.message
        ));
    }
    help.push_str("interlock check runs the program: it must compile against std (or interlock)");
    error.help = Some(help);
    Box::new(error)
}

/// Byte offset of a 1-based line and column.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (start + column.saturating_sub(1)).min(text.len())
}

/// A name for the set of programs, so that different sets build side by side.
fn set_name(prepared: &[Prepared]) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for p in prepared {
        std::fs::canonicalize(&p.program.path)
            .unwrap_or_else(|_| p.program.path.clone())
            .hash(&mut hasher);
    }
    format!("check-{:012x}", hasher.finish() & 0xffff_ffff_ffff)
}

/// Binary names: the file stem, made unique and prefixed by the set (the
/// build directory is shared between sets).
fn bin_names(set: &str, prepared: &[Prepared]) -> Vec<String> {
    let tag = &set[set.len() - 6..];
    let mut used = std::collections::HashSet::new();
    prepared
        .iter()
        .map(|p| {
            let stem: String = p
                .program
                .path
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_lowercase()
                    } else {
                        '_'
                    }
                })
                .collect();
            let mut name = format!("p{tag}_{stem}");
            let mut n = 2;
            while !used.insert(name.clone()) {
                name = format!("p{tag}_{stem}_{n}");
                n += 1;
            }
            name
        })
        .collect()
}
