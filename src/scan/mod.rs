//! `interlock scan`: static lock analysis of Rust sources, no build.
//!
//! The pipeline:
//!
//! 1. [`discover`]: the files of the crates, workspaces, directories and
//!    files given, with each crate's edition;
//! 2. [`parse`]: every file parsed with syn and [`lower`]ed to the
//!    scanner's own small tree ([`ir`]), in parallel;
//! 3. [`tables`]: every crate's items indexed (functions, impls, trait
//!    default methods per implementing type, structs, statics, `use`s);
//! 4. [`guards`]: each function interpreted for guard lifetimes (in
//!    parallel), its calls resolved ([`calls`]);
//! 5. [`summary`]: per-function lock summaries joined over the call graph,
//!    then lock facts for every acquisition;
//! 6. [`findings`]: double locks, recursive reads, lock-order inversions
//!    (the shared [`crate::analysis::lock_graph`]), declared orders, condvar
//!    misuse, guards across `.await`, lost updates on atomics;
//! 7. inline suppressions ([`suppress`]), the configuration ([`config`]) and
//!    the baseline ([`baseline`]).

pub mod api;
pub mod baseline;
pub mod calls;
pub mod config;
pub mod discover;
pub mod findings;
pub mod guards;
pub mod ir;
pub mod lock_names;
pub mod lower;
pub mod old_syntax;
pub mod parse;
pub mod summary;
pub mod suppress;
pub mod tables;
pub mod workspace;

use std::collections::HashMap;
use std::path::PathBuf;

use crate::finding::{Finding, Severity};
use crate::input::InputError;
use crate::report::{Report, Summary};

pub use config::Config;

/// What to scan and how.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub paths: Vec<PathBuf>,
    pub config: Config,
    /// Threads for parsing and analysis (default: the machine's).
    pub jobs: Option<usize>,
    /// Parse and analyse crates that mention no lock, atomic or condvar
    /// too (they cannot give a finding; by default they are only read).
    pub parse_lock_free: bool,
    pub baseline: Option<baseline::Baseline>,
}

/// A file that was not scanned, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: cannot parse, skipped: {}",
                self.file, self.line, self.column, self.reason
            )
        } else {
            write!(f, "{}: skipped: {}", self.file, self.reason)
        }
    }
}

/// The result of a scan.
#[derive(Default)]
pub struct Outcome {
    pub report: Report,
    /// Files that could not be parsed.
    pub skipped: Vec<Skipped>,
    /// Other things the user should know (an unknown kind in an allow
    /// comment, an unreadable nested manifest).
    pub warnings: Vec<String>,
    /// Lines of the files parsed.
    pub lines: usize,
    /// Files read (parsed, or found lock-free); skipped ones are not counted.
    pub files: usize,
    /// Crates with at least one file read.
    pub crates: usize,
    /// Files read but not parsed: their crate mentions no lock, atomic or condvar.
    pub lock_free_files: usize,
    /// Findings left out by the baseline.
    pub baselined: usize,
    /// Findings left out by inline `allow` comments and the configuration.
    pub allowed: usize,
    /// Every finding before baseline filtering (for `--write-baseline`).
    pub all_findings: Vec<Finding>,
    /// The analysis' state (the call graph, summaries and lock facts), for
    /// inspection. It is large: a program about to exit may
    /// `std::mem::forget` it rather than spend time freeing it.
    pub workings: Option<Box<dyn std::any::Any + Send>>,
}

/// Scans `options.paths` (`.` when empty).
pub fn scan(options: &Options) -> Result<Outcome, Box<InputError>> {
    let paths = if options.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        options.paths.clone()
    };
    let jobs = options.jobs.unwrap_or_else(parse::default_jobs).max(1);
    let exclude = discover::Globs::new(&options.config.exclude);
    let found = discover::discover(&paths, &exclude)?;
    let clock = Clock::new();
    let texts = parse::read_all(&found.files, jobs);
    clock.lap("read");
    // A crate that mentions no lock, atomic or condvar anywhere is not parsed.
    let mut crate_locks = vec![options.parse_lock_free; found.crates.len()];
    let mut warnings = found.warnings;
    for (file, text) in found.files.iter().zip(&texts) {
        if let Ok(source) = text {
            if source.not_utf8 {
                warnings.push(format!(
                    "{}: not UTF-8; scanned with the invalid bytes replaced",
                    file.display
                ));
            }
            if !crate_locks[file.krate] && parse::mentions_locks(&source.text) {
                crate_locks[file.krate] = true;
            }
        }
    }
    let wanted: Vec<bool> = found.files.iter().map(|f| crate_locks[f.krate]).collect();
    let parsed = parse::parse_all(&found.files, &texts, &wanted, jobs);
    drop(texts);
    clock.lap("parse");
    let files: Vec<(String, usize)> = found
        .files
        .iter()
        .map(|f| (f.display.clone(), f.krate))
        .collect();
    let mut outcome = analyse(options, &found.crates, files, parsed, warnings, clock);
    let unread = found.skipped.into_iter().map(|(file, reason)| Skipped {
        file,
        line: 0,
        column: 0,
        reason,
    });
    outcome.skipped.splice(0..0, unread);
    if let Some(scan) = outcome.report.extra.get_mut("scan") {
        scan["skipped"] = skipped_json(&outcome.skipped);
    }
    Ok(outcome)
}

fn skipped_json(skipped: &[Skipped]) -> serde_json::Value {
    skipped
        .iter()
        .map(|s| {
            serde_json::json!({
                "file": s.file,
                "line": s.line,
                "column": s.column,
                "reason": s.reason,
            })
        })
        .collect()
}

/// Scans source texts held in memory: each `(name, text)` is a file of one
/// crate of `edition`. Nothing is read from disk.
pub fn scan_sources(
    sources: &[(&str, &str)],
    edition: discover::Edition,
    options: &Options,
) -> Outcome {
    let jobs = options.jobs.unwrap_or(1).max(1);
    let clock = Clock::new();
    let parsed = parse::parallel(sources.len(), jobs, |i| {
        let text = sources[i].1;
        let result = std::panic::catch_unwind(|| parse::parse_text(text, &[]));
        proc_macro2::extra::invalidate_current_thread_spans();
        Some(result.unwrap_or_else(|_| parse::Parsed::Skipped {
            line: 0,
            column: 0,
            reason: "internal error while reading this file".into(),
        }))
    });
    let crates = [discover::CrateInfo {
        name: String::new(),
        edition,
    }];
    let files = sources
        .iter()
        .map(|(name, _)| (name.to_string(), 0))
        .collect();
    analyse(options, &crates, files, parsed, Vec::new(), clock)
}

/// The functions worth interpreting: those that take a lock, touch an
/// atomic or a condvar, await, spawn, call a closure they were given, hand
/// out or take guards, and those that call (by name) one of these. The
/// others can neither hold a lock nor lead to one: their facts and
/// summaries would be empty.
fn relevance(t: &tables::Tables) -> Vec<bool> {
    let mut relevant: Vec<bool> = t
        .fns
        .iter()
        .map(|f| {
            f.def.direct
                || f.returns_guard
                || f.def
                    .params
                    .iter()
                    .any(|(_, ty)| t.holds_guard(f.krate, ty))
        })
        .collect();
    // Relevant names, bare (`name`) and by type (`Type`, `name`).
    let mut names: std::collections::HashSet<(ir::Sym, ir::Sym)> = std::collections::HashSet::new();
    let add = |names: &mut std::collections::HashSet<(ir::Sym, ir::Sym)>, f: &tables::FnInfo| {
        names.insert(("", f.def.name));
        if let Some(ty) = f.self_ty.as_ref().and_then(|t| t.name()) {
            names.insert((ty, f.def.name));
        }
        if let Some(tr) = f.trait_name {
            names.insert((tr, f.def.name));
        }
    };
    for (f, &r) in t.fns.iter().zip(&relevant) {
        if r {
            add(&mut names, f);
        }
    }
    loop {
        let mut changed = false;
        for (i, f) in t.fns.iter().enumerate() {
            if !relevant[i] && f.def.called.iter().any(|c| names.contains(c)) {
                relevant[i] = true;
                add(&mut names, f);
                changed = true;
            }
        }
        if !changed {
            // Functions that call closures they are given: their callers'
            // closures run inside them.
            for (i, f) in t.fns.iter().enumerate() {
                relevant[i] |= f.def.invokes;
            }
            return relevant;
        }
    }
}

/// Phase timings on stderr when `INTERLOCK_TIMING` is set (for profiling).
struct Clock {
    start: std::time::Instant,
    on: bool,
}

impl Clock {
    fn new() -> Clock {
        Clock {
            start: std::time::Instant::now(),
            on: std::env::var_os("INTERLOCK_TIMING").is_some(),
        }
    }

    fn lap(&self, what: &str) {
        if self.on {
            eprintln!("{what}: {:.3} s", self.start.elapsed().as_secs_f64());
        }
    }
}

/// Everything after parsing: tables, guard lifetimes, summaries, findings,
/// suppressions and the report. `files[i]` (display name, crate) is the
/// file `parsed[i]` came from.
fn analyse(
    options: &Options,
    crates: &[discover::CrateInfo],
    files_in: Vec<(String, usize)>,
    parsed: Vec<Option<parse::Parsed>>,
    warnings: Vec<String>,
    clock: Clock,
) -> Outcome {
    let jobs = options.jobs.unwrap_or_else(parse::default_jobs).max(1);
    let config = &options.config;
    let mut outcome = Outcome {
        warnings,
        ..Outcome::default()
    };
    let lap = |what: &str| clock.lap(what);
    let mut files = Vec::new();
    let mut items = Vec::new();
    let mut allows: HashMap<String, suppress::FileAllows> = HashMap::new();
    let mut lock_free_crates = Vec::new();
    for ((display, krate), result) in files_in.into_iter().zip(parsed) {
        let Some(result) = result else {
            // In a crate that mentions no lock: read, and nothing to find.
            outcome.lock_free_files += 1;
            lock_free_crates.push(krate);
            continue;
        };
        match result {
            parse::Parsed::Ok {
                items: file_items,
                allows: file_allows,
                lines,
            } => {
                outcome.lines += lines;
                for (line, name) in &file_allows.unknown {
                    outcome.warnings.push(format!(
                        "{display}:{line}: `interlock: allow({name})` names no finding kind"
                    ));
                }
                let index = files.len();
                files.push(tables::FileInfo {
                    display: display.clone(),
                    krate,
                    edition: crates[krate].edition,
                });
                items.push((index, *file_items));
                allows.insert(display, file_allows);
            }
            parse::Parsed::Skipped {
                line,
                column,
                reason,
            } => outcome.skipped.push(Skipped {
                file: display,
                line,
                column,
                reason,
            }),
        }
    }
    let scanned = files.len() + outcome.lock_free_files;
    outcome.files = scanned;
    // Crates with at least one file read (a crate whose every file was
    // skipped was not scanned).
    let mut crates_read = vec![false; crates.len()];
    for f in &files {
        crates_read[f.krate] = true;
    }
    for &krate in &lock_free_crates {
        crates_read[krate] = true;
    }
    outcome.crates = crates_read.iter().filter(|&&r| r).count();
    let crate_names = crates.iter().map(|c| c.name.clone()).collect();
    let tables = tables::Tables::build(crate_names, files, items);
    lap("tables");

    let relevant = relevance(&tables);
    if clock.on {
        eprintln!(
            "relevant functions: {} of {}",
            relevant.iter().filter(|&&r| r).count(),
            relevant.len()
        );
    }
    let fn_facts = parse::parallel(tables.fns.len(), jobs, |f| {
        if !relevant[f] {
            return guards::FnFacts::default();
        }
        let f = f as tables::FnId;
        let info = &tables.fns[f as usize];
        // The generic copy of a trait's default method when the trait has
        // implementations in the crate: each instantiation stands for it.
        if matches!(info.def.owner, ir::Owner::Trait { .. }) && !info.instantiated {
            let implemented = info.trait_name.as_ref().is_some_and(|t| {
                tables.crates[info.krate]
                    .trait_impls
                    .get(t)
                    .and_then(|m| m.get(&info.def.name))
                    .is_some_and(|v| !v.is_empty())
            });
            if implemented {
                return guards::FnFacts::default();
            }
        }
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            guards::interpret(&tables, f)
        }))
        .unwrap_or_default()
    });
    lap("interpret");
    let functions = tables.fns.len();
    let program = summary::Program::new(tables, fn_facts);
    lap("summaries");
    let analysis = findings::Findings::new(&program);
    lap("facts");
    if std::env::var_os("INTERLOCK_DUMP").is_some() {
        analysis.dump();
    }
    let (mut found_findings, extras) = analysis.all(&config.lock_orders);
    lap("findings");

    // Inline allows, then the configuration's kinds.
    let before = found_findings.len();
    found_findings.retain(|f| {
        !suppress::suppressed(f, |file| allows.get(file)) && !config.allow.contains(&f.kind)
    });
    outcome.allowed = before - found_findings.len();
    for f in &mut found_findings {
        if config.deny.contains(&f.kind) {
            f.severity = Severity::Error;
        }
    }
    crate::finding::dedup(&mut found_findings);
    found_findings.sort_by(|a, b| {
        let key = |f: &Finding| {
            f.locations
                .first()
                .map(|l| (l.file.clone(), l.line, l.column))
        };
        key(a).cmp(&key(b)).then_with(|| a.kind.cmp(&b.kind))
    });
    outcome.all_findings = found_findings.clone();
    if let Some(baseline) = &options.baseline {
        outcome.baselined = baseline.filter(&mut found_findings);
    }

    let mut report = Report::new(
        found_findings,
        Summary {
            files: scanned,
            executions: 0,
            complete: true,
            ..Summary::default()
        },
    );
    let skipped = skipped_json(&outcome.skipped);
    report.extra.insert(
        "scan".into(),
        serde_json::json!({
            "crates": outcome.crates,
            "lines": outcome.lines,
            "parsed": scanned - outcome.lock_free_files,
            "lock_free_files": outcome.lock_free_files,
            "functions": functions,
            "locks": extras.locks,
            "lock_order_edges": extras.edges,
            "skipped": skipped,
            "allowed": outcome.allowed,
            "baselined": outcome.baselined,
            "suppressed_cycles": extras
                .suppressed_cycles
                .iter()
                .map(|(locks, why)| serde_json::json!({"locks": locks, "reason": why}))
                .collect::<Vec<_>>(),
        }),
    );
    outcome.report = report;
    lap("report");
    // Freeing the analysis' memory takes a while: the caller decides when
    // (a command about to exit need not).
    let facts = analysis.into_facts();
    outcome.workings = Some(Box::new((program, facts)));
    outcome
}
