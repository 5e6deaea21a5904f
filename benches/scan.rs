//! `interlock scan` against bare single-threaded `syn::parse_file` of the
//! same files, side by side in one run.
//!
//! The corpus is the crate sources of the local cargo registry
//! (`~/.cargo/registry/src`), or the directory in `INTERLOCK_BENCH_SRC`.
//! The parse baseline parses texts already in memory; the scan reads the
//! files itself and does everything (discovery, parsing, analysis,
//! findings). Each is run `INTERLOCK_BENCH_RUNS` times (default 3) and the
//! best time is kept. The target is a scan at most 0.6x the parse.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use interlock::scan;

fn corpus() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("INTERLOCK_BENCH_SRC") {
        return Some(PathBuf::from(dir));
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    let dir = home.join("registry").join("src");
    dir.is_dir().then_some(dir)
}

/// CPU time (user + system) of this process so far, where the platform
/// says (Linux: `/proc/self/stat`, in clock ticks of 10 ms).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// The best wall time of `runs` runs, and the CPU time of that run.
fn best(runs: usize, mut f: impl FnMut()) -> (Duration, Option<Duration>) {
    (0..runs)
        .map(|_| {
            let cpu = cpu_time();
            let start = Instant::now();
            f();
            let wall = start.elapsed();
            let cpu = cpu.zip(cpu_time()).map(|(a, b)| b.saturating_sub(a));
            (wall, cpu)
        })
        .min_by_key(|(wall, _)| *wall)
        .unwrap_or_default()
}

fn secs(d: Option<Duration>) -> String {
    d.map_or_else(|| "?".to_string(), |d| format!("{:.2} s", d.as_secs_f64()))
}

fn main() {
    let Some(dir) = corpus() else {
        eprintln!("no corpus: set INTERLOCK_BENCH_SRC or fill ~/.cargo/registry/src");
        return;
    };
    let runs: usize = std::env::var("INTERLOCK_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3)
        .max(1);
    let found = scan::discover::discover(
        std::slice::from_ref(&dir),
        &scan::discover::Globs::default(),
    )
    .expect("the corpus can be listed");
    let texts: Vec<String> = found
        .files
        .iter()
        .filter_map(|f| std::fs::read_to_string(&f.path).ok())
        .collect();
    let lines: usize = texts.iter().map(|t| t.lines().count()).sum();
    let bytes: usize = texts.iter().map(String::len).sum();

    let mut parsed = 0;
    let (parse, parse_cpu) = best(runs, || {
        parsed = 0;
        for text in &texts {
            if let Ok(file) = syn::parse_file(text) {
                parsed += 1;
                std::hint::black_box(&file);
            }
        }
    });

    let options = scan::Options {
        paths: vec![dir.clone()],
        ..scan::Options::default()
    };
    let everything = scan::Options {
        parse_lock_free: true,
        ..options.clone()
    };
    // As the command does, the analysis' memory is not freed inside the
    // timed part (the command exits instead); each run's is freed after.
    let mut outcomes = Vec::new();
    let (scan_time, scan_cpu) = best(runs, || {
        outcomes.push(scan::scan(&options).expect("the corpus scans"));
    });
    let outcome = outcomes.pop().expect("at least one run");
    drop(outcomes);
    // The same, parsing and analysing the crates that mention no lock too.
    let mut full = Vec::new();
    let (full_time, full_cpu) = best(runs, || {
        full.push(scan::scan(&everything).expect("the corpus scans"));
    });
    let full_outcome = full.pop().expect("at least one run");
    drop(full);
    let threads = scan::parse::default_jobs();

    let per_sec = |d: Duration| lines as f64 / d.as_secs_f64();
    println!("corpus: {}", dir.display());
    println!(
        "files: {} ({} parse with syn; {} skipped by the scan), lines: {lines}, bytes: {bytes}",
        texts.len(),
        parsed,
        outcome.skipped.len()
    );
    println!(
        "syn::parse_file, 1 thread:   {:>8.3} s  {:>12.0} lines/s  (cpu {})",
        parse.as_secs_f64(),
        per_sec(parse),
        secs(parse_cpu)
    );
    println!(
        "interlock scan, {threads} thread(s): {:>8.3} s  {:>12.0} lines/s  (cpu {})",
        scan_time.as_secs_f64(),
        per_sec(scan_time),
        secs(scan_cpu)
    );
    println!(
        "  (crates that mention no lock, atomic or condvar: {} files read, not parsed)",
        outcome.lock_free_files
    );
    println!(
        "interlock scan --all-crates:  {:>8.3} s  {:>12.0} lines/s  (cpu {})",
        full_time.as_secs_f64(),
        per_sec(full_time),
        secs(full_cpu)
    );
    println!(
        "ratio scan / parse: {:.3} (target <= 0.6); with --all-crates: {:.3}",
        scan_time.as_secs_f64() / parse.as_secs_f64(),
        full_time.as_secs_f64() / parse.as_secs_f64()
    );
    println!(
        "findings: {} ({} with --all-crates); functions analysed: {} ({})",
        outcome.report.findings.len(),
        full_outcome.report.findings.len(),
        outcome.report.extra["scan"]["functions"],
        full_outcome.report.extra["scan"]["functions"]
    );
}
