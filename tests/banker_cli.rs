//! End-to-end tests of `interlock banker`: the fixtures' verdicts, the JSON
//! fields of the contract, the teaching text, and the errors for bad input.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/banker");

fn interlock(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_interlock"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the interlock binary runs")
}

fn fixture(name: &str) -> String {
    format!("fixtures/banker/{name}")
}

fn json_of(path: &str) -> (i32, Value) {
    let out = interlock(&["banker", path, "--format", "json"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{path}: not JSON ({e}):\n{stdout}"));
    (out.status.code().unwrap(), value)
}

fn kinds(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect()
}

/// A file in the temp dir with a name no other test (or run) uses.
fn temp_file(text: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let path =
        std::env::temp_dir().join(format!("interlock-banker-{}-{n}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn every_fixture_gets_the_verdict_its_header_expects() {
    let mut seen = 0;
    for entry in std::fs::read_dir(FIXTURES).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let expect = text
            .lines()
            .take_while(|l| l.starts_with('#'))
            .find_map(|l| l.strip_prefix("# expect:"))
            .unwrap_or_else(|| panic!("{name}: no `# expect:` line in its header"))
            .trim();
        let mut wanted: Vec<String> = if expect == "clean" {
            Vec::new()
        } else {
            expect.split(',').map(|k| k.trim().to_string()).collect()
        };
        wanted.sort();
        let (code, report) = json_of(&fixture(&name));
        let mut found = kinds(&report);
        found.sort();
        found.dedup();
        assert_eq!(found, wanted, "{name}");
        assert_eq!(code, if wanted.is_empty() { 0 } else { 1 }, "{name}");
        seen += 1;
    }
    assert!(seen >= 6, "only {seen} fixtures");
}

#[test]
fn a_safe_state_reports_its_safe_sequence() {
    let (code, r) = json_of(&fixture("textbook-safe.toml"));
    assert_eq!(code, 0);
    assert_eq!(r["version"], 1);
    assert_eq!(r["findings"], json!([]));
    assert_eq!(r["summary"]["files"], 1);
    assert_eq!(r["summary"]["complete"], true);
    assert_eq!(r["safe"], true);
    assert_eq!(r["safe_sequence"], json!(["P1", "P3", "P4", "P0", "P2"]));
    assert_eq!(r["requests"], json!([]));
    assert_eq!(r["deadlocked"], json!([]));
}

#[test]
fn an_unsafe_state_is_an_error_pointing_at_the_state() {
    let path = fixture("textbook-unsafe.toml");
    let (code, r) = json_of(&path);
    assert_eq!(code, 1);
    assert_eq!(r["safe"], false);
    assert_eq!(r["safe_sequence"], Value::Null);
    assert_eq!(r["deadlocked"], json!([]));
    let f = &r["findings"][0];
    assert_eq!(f["kind"], "unsafe-state");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["locations"][0]["file"], path.as_str());
    // The `total` line, then each process that cannot finish.
    assert_eq!(f["locations"][0]["line"], 8);
    assert_eq!(f["locations"].as_array().unwrap().len(), 6);
}

#[test]
fn grants_get_each_verdict_with_a_reason() {
    let path = fixture("grants.toml");
    let (code, r) = json_of(&path);
    assert_eq!(code, 1);
    assert_eq!(r["safe"], true);
    let requests = r["requests"].as_array().unwrap();
    let summary: Vec<(&str, &str)> = requests
        .iter()
        .map(|q| {
            (
                q["process"].as_str().unwrap(),
                q["verdict"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("P1", "granted"),
            ("P4", "wait"),
            ("P0", "unsafe"),
            ("P3", "invalid")
        ]
    );
    assert_eq!(requests[0]["request"], json!({"A": 1, "B": 0, "C": 2}));
    for q in requests {
        assert!(!q["reason"].as_str().unwrap().is_empty(), "{q}");
    }
    assert!(requests[1]["reason"]
        .as_str()
        .unwrap()
        .contains("only 2 are free"));
    assert!(requests[3]["reason"]
        .as_str()
        .unwrap()
        .contains("may claim only 0 more"));
    // Only the unsafe grant is a finding, at its `[[grant]]` line.
    assert_eq!(kinds(&r), ["unsafe-state"]);
    let f = &r["findings"][0];
    assert!(f["message"].as_str().unwrap().contains("P0"), "{f}");
    assert_eq!(f["locations"][0]["file"], path.as_str());
    assert_eq!(f["locations"][0]["line"], 41);
}

#[test]
fn deadlocked_processes_are_named_at_their_requests() {
    let (code, r) = json_of(&fixture("detect-deadlock.toml"));
    assert_eq!(code, 1);
    assert_eq!(r["deadlocked"], json!(["P1", "P2", "P3", "P4"]));
    let deadlock = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "deadlock")
        .expect("a deadlock finding");
    let lines: Vec<u64> = deadlock["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [16, 21, 26, 31]);

    let (code, r) = json_of(&fixture("detect-no-deadlock.toml"));
    assert_eq!(code, 0);
    assert_eq!(r["deadlocked"], json!([]));
    assert_eq!(r["safe_sequence"], json!(["P0", "P2", "P3", "P4", "P1"]));
}

#[test]
fn unsafe_is_not_deadlocked() {
    let (code, r) = json_of(&fixture("unsafe-not-deadlocked.toml"));
    assert_eq!(code, 1);
    assert_eq!(r["safe"], false);
    assert_eq!(r["deadlocked"], json!([]));
    assert_eq!(kinds(&r), ["unsafe-state"]);
}

#[test]
fn the_human_report_teaches_the_algorithm() {
    let out = interlock(&["banker", &fixture("grants.toml")]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    for wanted in [
        "Allocation",
        "Max",
        "Need",
        "  P0  0 1 0",
        "Available = (3, 3, 2)",
        "Work = (5, 3, 2)",
        "Safe sequence: P1, P3, P4, P0, P2",
        "P1 requests (1, 0, 2): granted",
        "P4 requests (3, 3, 0): wait",
        "P0 requests (0, 2, 0): unsafe",
        "P3 requests (1, 0, 0): invalid",
    ] {
        assert!(text.contains(wanted), "missing {wanted:?} in:\n{text}");
    }
    let out = interlock(&["banker", &fixture("detect-deadlock.toml")]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Request"), "{text}");
    assert!(text.contains("Deadlocked: P1, P2, P3, P4"), "{text}");
}

#[test]
fn output_goes_to_the_file_asked_for() {
    let out_path = temp_file("");
    let out_str = out_path.to_str().unwrap();
    let out = interlock(&[
        "banker",
        &fixture("textbook-safe.toml"),
        "--format",
        "json",
        "--output",
        out_str,
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    assert_eq!(r["safe"], true);
    let _ = std::fs::remove_file(out_path);
}

/// Runs `banker` on `text` and returns stderr, checking exit code 2.
fn bad_input(text: &str) -> (String, String) {
    let path = temp_file(text);
    let name = path.to_str().unwrap().to_string();
    let out = interlock(&["banker", &name]);
    let _ = std::fs::remove_file(&path);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(out.stdout.is_empty());
    (name, String::from_utf8(out.stderr).unwrap())
}

const HEAD: &str = "available = { A = 3, B = 2 }\n\n[process.P0]\n";

#[test]
fn bad_input_exits_2_naming_the_line() {
    let cases: &[(&str, String, &str)] = &[
        (
            "malformed TOML",
            format!("{HEAD}max = {{ A = 3\n"),
            ":4:14: malformed TOML",
        ),
        (
            "unknown process",
            format!(
                "{HEAD}max = {{ A = 1 }}\n\n[[grant]]\nprocess = \"P7\"\nrequest = {{ A = 1 }}\n"
            ),
            ":7:11: unknown process `P7`",
        ),
        (
            "unknown resource",
            format!("{HEAD}max = {{ A = 1, C = 2 }}\n"),
            ":4:16: unknown resource `C`",
        ),
        (
            "negative count",
            format!("{HEAD}max = {{ A = 1 }}\nallocation = {{ B = -2 }}\n"),
            ":5:20: negative count -2",
        ),
        (
            "overflow",
            format!("{HEAD}max = {{ A = 18446744073709551616 }}\n"),
            ":4:13: count 18446744073709551616 is too large",
        ),
        (
            "allocation above max",
            format!("{HEAD}max = {{ A = 1 }}\nallocation = {{ A = 2 }}\n"),
            ":5:20: `P0` holds 2 of A, more than its maximum claim of 1",
        ),
        (
            "non-integer",
            format!("{HEAD}max = {{ A = 1.5 }}\n"),
            ":4:13: count 1.5 is not a whole number",
        ),
        (
            "missing max",
            format!("{HEAD}allocation = {{ A = 1 }}\n"),
            ":3:10: process `P0` has no `max`",
        ),
        (
            "allocations above total",
            "total = { A = 1 }\n[process.P0]\nmax = { A = 2 }\nallocation = { A = 2 }\n".into(),
            ":1:15: the processes hold 2 of A, more than its total of 1",
        ),
    ];
    for (what, text, wanted) in cases {
        let (name, stderr) = bad_input(text);
        assert!(
            stderr.contains(&format!("{name}{wanted}")),
            "{what}: expected `{name}{wanted}` in:\n{stderr}"
        );
    }
}

#[test]
fn a_missing_file_exits_2() {
    let missing = std::env::temp_dir().join("interlock-banker-no-such-file.toml");
    let out = interlock(&["banker", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("no such file"), "{stderr}");
    assert!(stderr.contains(&*missing.to_string_lossy()), "{stderr}");
    assert!(Path::new(FIXTURES).is_dir());
}
