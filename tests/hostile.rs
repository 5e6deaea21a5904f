//! Hostile and careless input, as a new user or a careless CI script gives
//! it. The rule each case holds: no panic, no hang past the command's own
//! `--timeout`, and never exit 0 with anything asked for left unchecked.
//!
//! Cases that need programs built share one `interlock check` run over one
//! directory (one build), and the build cache of the fixture tests.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

const CACHE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/interlock-check-cache");

fn interlock(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_interlock"))
        .args(args)
        .env("INTERLOCK_CACHE_DIR", CACHE_DIR)
        .stdin(Stdio::null())
        .output()
        .expect("the interlock binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// A directory of its own for a case, fresh at each run, at a stable path
/// (so that the programs' build is cached between runs).
fn case_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("hostile")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

// ---------------------------------------------------------------------------
// Many programs, some of them unusable

/// A marker no other process carries: the child the spinning program starts.
const CHILD_SECONDS: &str = "987654";

const PROGRAMS: &[(&str, &str)] = &[
    (
        "abba.rs",
        "use std::sync::{Arc, Mutex};
use std::thread;
fn main() {
    let a = Arc::new(Mutex::new(0));
    let b = Arc::new(Mutex::new(0));
    let (a2, b2) = (a.clone(), b.clone());
    let t = thread::spawn(move || {
        let _b = b2.lock().unwrap();
        let _a = a2.lock().unwrap();
    });
    {
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    }
    t.join().unwrap();
}
",
    ),
    (
        "aborts.rs",
        "fn helper() {}

fn main() {
    helper();
    std::process::abort();
}
",
    ),
    (
        "broken.rs",
        "fn main() {
    let x: i32 = \"not a number\";
}
",
    ),
    (
        "exits.rs",
        "fn main() {
    std::process::exit(0);
}
",
    ),
    (
        "reads_beside.rs",
        "mod helper;
fn main() {
    let text = std::fs::read_to_string(\"input.txt\").expect(\"input.txt beside the program\");
    let included = include_str!(\"input.txt\");
    assert_eq!(text, included);
    assert_eq!(helper::two(), 2);
    // A program that writes a manifest where it runs must not reach the cache.
    std::fs::write(\"Cargo.toml\", \"not a manifest [[[\").unwrap();
}
",
    ),
    ("helper.rs", "pub fn two() -> i32 {\n    2\n}\n"),
    ("input.txt", "beside\n"),
    (
        "spins.rs",
        "fn main() {
    let _child = std::process::Command::new(\"sleep\").arg(\"987654\").spawn();
    loop {
        std::hint::spin_loop();
    }
}
",
    ),
];

/// The shared run: exit code, JSON report, stderr.
fn many_programs() -> &'static (i32, Value, String, PathBuf) {
    static RUN: OnceLock<(i32, Value, String, PathBuf)> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = case_dir("many");
        for (name, text) in PROGRAMS {
            std::fs::write(dir.join(name), text).unwrap();
        }
        let out = interlock(&[
            "check",
            dir.to_str().unwrap(),
            "--timeout",
            "2",
            "--format",
            "json",
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let json = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\n{}", stderr(&out)));
        (out.status.code().unwrap_or(-1), json, stderr(&out), dir)
    })
}

fn file_of(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

/// (kind, line) of the findings in `file`.
fn findings_in(json: &Value, file: &str) -> Vec<(String, u64)> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["locations"][0]["file"] == file)
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                f["locations"][0]["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn one_bad_program_does_not_stop_the_others_and_the_exit_is_2() {
    let (code, json, stderr, dir) = many_programs();
    assert_eq!(*code, 2, "{stderr}");
    let not_checked: Vec<&str> = json["summary"]["not_checked"]
        .as_array()
        .unwrap_or_else(|| panic!("{json}"))
        .iter()
        .map(|e| e["file"].as_str().unwrap())
        .collect();
    for name in ["broken.rs", "exits.rs", "spins.rs"] {
        assert!(
            not_checked.contains(&file_of(dir, name).as_str()),
            "{name} in {not_checked:?}"
        );
    }
    assert_eq!(not_checked.len(), 3, "{not_checked:?}");
    // The diagnostic of the program that does not compile, at its line.
    assert!(
        stderr.contains(&format!("{}:2:18", file_of(dir, "broken.rs")))
            && stderr.contains("does not compile"),
        "{stderr}"
    );
    // The others were still explored.
    let abba = findings_in(json, &file_of(dir, "abba.rs"));
    assert!(abba.contains(&("deadlock".to_string(), 13)), "{abba:?}");
    assert_eq!(json["summary"]["complete"], false);
}

#[test]
fn a_program_that_aborts_is_a_finding_at_its_main() {
    let (_, json, _, dir) = many_programs();
    let found = findings_in(json, &file_of(dir, "aborts.rs"));
    assert_eq!(found, vec![("assertion-failure".to_string(), 3)]);
    let message = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["locations"][0]["file"] == file_of(dir, "aborts.rs"))
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("SIGABRT"), "{message}");
}

#[test]
fn a_program_runs_in_its_own_directory_with_its_modules_and_includes() {
    let (_, json, stderr, dir) = many_programs();
    let file = file_of(dir, "reads_beside.rs");
    assert!(findings_in(json, &file).is_empty(), "{json}\n{stderr}");
    assert!(
        !json["summary"]["not_checked"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["file"] == file.as_str()),
        "{json}"
    );
    // It wrote where it ran, beside itself, not into the build cache.
    assert!(dir.join("Cargo.toml").is_file());
    assert!(Path::new(CACHE_DIR)
        .read_dir()
        .unwrap()
        .flatten()
        .all(|e| std::fs::read_to_string(e.path().join("Cargo.toml"))
            .map_or(true, |t| !t.contains("not a manifest"))));
}

#[test]
fn a_program_past_its_time_is_not_used_and_its_children_are_stopped() {
    let (_, json, stderr, dir) = many_programs();
    let reason = json["summary"]["not_checked"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["file"] == file_of(dir, "spins.rs").as_str())
        .unwrap()["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.contains("time limit (2 s"), "{reason}");
    assert!(stderr.contains("ran past its time limit"), "{stderr}");
    #[cfg(target_os = "linux")]
    {
        let survivors: Vec<String> = std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
            .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
            .filter(|c| c.starts_with("sleep") && c.contains(CHILD_SECONDS))
            .collect();
        assert!(survivors.is_empty(), "left running: {survivors:?}");
    }
}

#[test]
fn a_program_that_exits_mid_exploration_is_not_clean() {
    let (_, _, stderr, dir) = many_programs();
    assert!(
        stderr.contains(&format!("`{}` exited", file_of(dir, "exits.rs"))),
        "{stderr}"
    );
}

#[test]
fn a_damaged_build_cache_is_rebuilt_and_said_so() {
    let dir = case_dir("damaged");
    let program = dir.join("clean.rs");
    std::fs::write(&program, "fn main() {\n    let _ = 1;\n}\n").unwrap();
    let program = program.to_str().unwrap();
    let first = interlock(&["check", program]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    // Damage every project's lock file that builds this program.
    let mut damaged = 0;
    for entry in Path::new(CACHE_DIR).read_dir().unwrap().flatten() {
        let manifest = std::fs::read_to_string(entry.path().join("Cargo.toml")).unwrap_or_default();
        let sources = Path::new(CACHE_DIR).join("sources").join(entry.file_name());
        let ours = sources
            .read_dir()
            .into_iter()
            .flatten()
            .flatten()
            .any(|s| std::fs::read_to_string(s.path()).is_ok_and(|t| t.contains("let _ = 1;")));
        if ours && !manifest.is_empty() {
            std::fs::write(entry.path().join("Cargo.lock"), "garbage [[[").unwrap();
            damaged += 1;
        }
    }
    assert_eq!(damaged, 1);
    let second = interlock(&["check", program]);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert!(
        stderr(&second).contains("looks damaged"),
        "{}",
        stderr(&second)
    );
}

// ---------------------------------------------------------------------------
// Arguments, paths and outputs (no build needed)

#[test]
fn bounds_are_checked_when_the_arguments_are_read() {
    for (args, words) in [
        (&["--preemption-bound", "256"][..], "at most 255"),
        (
            &["--preemption-bound", "many"][..],
            "not a number of preemptions",
        ),
        (&["--timeout", "18446744073709551615"][..], "from 1 to"),
        (&["--timeout", "0"][..], "from 1 to"),
        (&["--max-executions", "0"][..], "at least 1"),
    ] {
        let mut all = vec!["check", "fixtures/races"];
        all.extend_from_slice(args);
        let out = interlock(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(words), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn paths_that_are_not_programs_are_named_for_what_they_are() {
    let out = interlock(&["check", "/dev/null"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("a character device"),
        "{}",
        stderr(&out)
    );
    let out = interlock(&["check", "no/such/program.rs"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no such file"), "{}", stderr(&out));
}

#[cfg(unix)]
#[test]
fn a_walk_ends_on_link_loops_and_fifos_and_says_what_it_passed_by() {
    let dir = case_dir("walk");
    std::os::unix::fs::symlink(".", dir.join("x")).unwrap();
    std::os::unix::fs::symlink("..", dir.join("up")).unwrap();
    let fifo = std::ffi::CString::new(dir.join("x.rs").to_str().unwrap()).unwrap();
    // SAFETY: a valid C string naming a path in a fresh directory.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    // Named on its own, the FIFO is refused without being opened.
    let out = interlock(&["check", dir.join("x.rs").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("a FIFO"), "{}", stderr(&out));
    // Walked, nothing is left: exit 2, naming what was passed by.
    let out = interlock(&["check", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains("no program to check"), "{text}");
    assert!(text.contains("x.rs: a FIFO"), "{text}");
    assert!(text.contains("symbolic link to a directory"), "{text}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_report_that_cannot_be_written_is_an_error() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_interlock"))
        .args(["explain", "deadlock"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot write the report"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_output_naming_an_input_is_refused_and_the_input_kept() {
    let dir = case_dir("output");
    let program = dir.join("p.rs");
    std::fs::write(&program, "fn main() {}\n").unwrap();
    let p = program.to_str().unwrap();
    for args in [
        vec!["check", p, "--output", p],
        vec!["check", dir.to_str().unwrap(), "--output", p],
        vec!["check", p, "--timeline", p],
        vec!["scan", p, "--output", p],
    ] {
        let out = interlock(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("is an input"), "{}", stderr(&out));
        assert_eq!(std::fs::read_to_string(&program).unwrap(), "fn main() {}\n");
    }
}

#[test]
fn escape_sequences_in_arguments_never_reach_the_terminal() {
    let out = interlock(&["explain", "dead\u{1b}[2Jlock"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!out.stderr.contains(&0x1b), "{}", stderr(&out));
    assert!(stderr(&out).contains("\\u{1b}[2J"), "{}", stderr(&out));
    let out = interlock(&["check", "no\u{1b}]0;title\u{7}.rs"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!out.stderr.contains(&0x1b) && !out.stderr.contains(&0x07));
}

#[test]
fn explain_list_takes_no_kind() {
    let out = interlock(&["explain", "--list", "deadlock"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot be used with"),
        "{}",
        stderr(&out)
    );
}
