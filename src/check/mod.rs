//! `interlock check`: plain programs written against `std::sync` and
//! `std::thread`, instrumented, built once as a set, and explored through
//! loom's interleavings; their reports come back mapped onto the original
//! files.

mod discover;
pub mod instrument;
mod project;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::finding::Finding;
use crate::input::InputError;
use crate::report::{Report, Summary};
use crate::runtime::harness::{CONFIG_VAR, REPORT_VAR};
use crate::runtime::Engine;
use discover::Program;
use instrument::{InstrumentError, Instrumented};

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
}

/// Checks every program under `paths` and gathers one report.
pub fn check(paths: &[PathBuf], options: &Options) -> Result<Report, Box<InputError>> {
    let programs = discover::discover(paths)?;
    let mut prepared = Vec::new();
    let mut skipped = Vec::new();
    for program in programs {
        let original = InputError::read(&program.path)?;
        match instrument::instrument(&original) {
            Ok(instrumented) => prepared.push(Prepared {
                program,
                original,
                instrumented,
            }),
            Err(InstrumentError::NoMain) if !program.named => skipped.push(program.display),
            Err(InstrumentError::NoMain) => {
                return Err(Box::new(
                    InputError::new(format!("`{}` has no `fn main`", program.display))
                        .with_help("interlock check runs programs: give it a file with `fn main`, or a directory of them"),
                ))
            }
            Err(InstrumentError::Parse { message, line, column }) => {
                let offset = offset_of(&original, line, column);
                return Err(Box::new(
                    InputError::at(
                        format!("`{}` is not valid Rust: {message}", program.display),
                        &program.display,
                        &original,
                        offset..offset,
                        message,
                    )
                    .with_help("fix the syntax error; interlock check needs a program that compiles"),
                ));
            }
        }
    }
    if prepared.is_empty() {
        return Err(Box::new(
            InputError::new("no program to check: no `.rs` file with `fn main` was found")
                .with_help(
                    "give a Rust program (a `.rs` file with `fn main`) or a directory of them",
                ),
        ));
    }
    let set = set_name(&prepared);
    let names = bin_names(&set, &prepared);
    let bins: BTreeMap<String, String> = names
        .iter()
        .zip(&prepared)
        .map(|(name, p)| (name.clone(), p.instrumented.source.clone()))
        .collect();
    if options.progress {
        eprintln!("interlock: building {} program(s)...", prepared.len());
    }
    let built = project::build(&set, &bins)?;
    if let Some((name, errors)) = built.errors.iter().next() {
        let index = names.iter().position(|n| n == name).unwrap_or(0);
        return Err(compile_failure(
            &prepared[index],
            errors,
            built.errors.len(),
        ));
    }
    let mut report = Report::new(
        Vec::new(),
        Summary {
            files: prepared.len(),
            complete: true,
            engine: Some(options.engine.to_string()),
            preemption_bound: match options.engine {
                Engine::Loom => options.preemption_bound,
                Engine::Std => None,
            },
            ..Summary::default()
        },
    );
    let mut reasons = Vec::new();
    let project_dir = project::cache_dir().join(&set);
    for (i, (name, p)) in names.iter().zip(&prepared).enumerate() {
        if options.progress {
            eprintln!(
                "interlock: [{}/{}] {}",
                i + 1,
                prepared.len(),
                p.program.display
            );
        }
        let Some(exe) = built.executables.get(name) else {
            reasons.push(format!("{}: was not built", p.program.display));
            report.summary.complete = false;
            continue;
        };
        let (program_report, verdict) = run(exe, &project_dir, name, p, options)?;
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
    if !skipped.is_empty() {
        report.preamble.push(format!(
            "skipped {} file(s) without `fn main`: {}",
            skipped.len(),
            skipped.join(", ")
        ));
    }
    if !reasons.is_empty() {
        report.summary.incomplete_reason = Some(summarize_reasons(&reasons));
    }
    Ok(report)
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

/// Runs one built program and maps its report onto the original file.
fn run(
    exe: &std::path::Path,
    project_dir: &std::path::Path,
    bin: &str,
    p: &Prepared,
    options: &Options,
) -> Result<(Report, String), Box<InputError>> {
    let report_path = project_dir.join(format!("{bin}.report.json"));
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
    let mut child = Command::new(exe)
        .current_dir(project_dir)
        .env(CONFIG_VAR, config)
        .env(REPORT_VAR, &report_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(if options.progress {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .spawn()
        .map_err(|e| {
            Box::new(InputError::new(format!(
                "cannot run the built `{}`: {e}",
                p.program.display
            )))
        })?;
    // The program stops itself at its time budget; this is the backstop.
    let deadline = Instant::now() + options.timeout + Duration::from_secs(10);
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = std::fs::read_to_string(&report_path).ok();
    let mut report = match text.as_deref().map(parse_report) {
        Some(Ok(report)) => report,
        _ => {
            let why = match status {
                None => format!(
                    "it ran past the {:?} timeout and was stopped",
                    options.timeout
                ),
                Some(status) => format!("it ended ({status}) without a report"),
            };
            let mut report = Report::default();
            report.summary.complete = false;
            report.summary.incomplete_reason = Some(why.clone());
            return Ok((report, format!("{}: not checked: {why}", p.program.display)));
        }
    };
    let compiled = format!("src/bin/{bin}.rs");
    for finding in &mut report.findings {
        map_finding(finding, &compiled, p);
    }
    // The per-run "explored N executions" line is summed up by the caller;
    // other notes (a fallback to real threads, inferred claims) stay.
    report
        .preamble
        .retain(|line| !line.starts_with("explored "));
    let kinds: Vec<String> = {
        let mut k: Vec<String> = report.findings.iter().map(|f| f.kind.to_string()).collect();
        k.dedup();
        k
    };
    let executions = match report.summary.executions {
        1 => "1 execution".to_string(),
        n => format!("{n} executions"),
    };
    let verdict = if kinds.is_empty() {
        format!("{}: clean ({executions})", p.program.display)
    } else {
        format!("{}: {} ({executions})", p.program.display, kinds.join(", "))
    };
    Ok((report, verdict))
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
    let is_program = |file: &str| file == compiled || file.ends_with(&format!("/{compiled}"));
    for location in &mut finding.locations {
        if is_program(&location.file) {
            location.file = p.program.display.clone();
            location.column = p
                .instrumented
                .original_column(location.line, location.column);
        }
    }
    if let Some(trace) = &mut finding.trace {
        for step in trace {
            if is_program(&step.file) {
                step.file = p.program.display.clone();
                step.column = p.instrumented.original_column(step.line, step.column);
            }
        }
    }
}

fn compile_failure(
    p: &Prepared,
    errors: &[project::CompileError],
    programs: usize,
) -> Box<InputError> {
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
    if programs > 1 {
        help.push_str(&format!(
            "{} programs do not compile; fix this one first",
            programs
        ));
    } else {
        help.push_str(
            "interlock check runs the program: it must compile against std (or interlock)",
        );
    }
    error.help = Some(help.trim_end().to_string());
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
