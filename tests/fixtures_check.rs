//! The teaching fixtures under `fixtures/{races,deadlocks,condvars,atomics}`
//! get the verdicts their headers declare.
//!
//! `interlock check` runs once over all four directories (one build for every
//! program), and each fixture's `//! expect: ...` line is held against the
//! findings located in that file: every expected kind is there, no other kind
//! of error severity is, `clean` means no error at all, and every buggy
//! fixture has a `_fixed` twin that is clean.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const DIRS: &[&str] = &[
    "fixtures/races",
    "fixtures/deadlocks",
    "fixtures/condvars",
    "fixtures/atomics",
    "fixtures/banker",
];

/// Where the scratch project that builds the fixtures lives between runs.
const CACHE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/interlock-check-cache");

/// The finding kinds of the contract, and whether each is an error.
const KINDS: &[(&str, bool)] = &[
    ("deadlock", true),
    ("lock-order-inversion", true),
    ("double-lock", true),
    ("recursive-read", false),
    ("data-race", true),
    ("atomicity-violation", true),
    ("assertion-failure", true),
    ("unsafe-state", true),
    ("condvar-misuse", false),
    ("guard-across-await", false),
    ("stream-race", true),
    ("stream-use-after-free", true),
];

/// Verdicts the checker is known to get wrong on these fixtures: (fixture,
/// extra kind it reports, why the header is right). The header keeps the
/// correct verdict; the extra kind is tolerated here, and this test fails
/// once the checker stops reporting it, so that the entry gets removed.
const KNOWN_MISREPORTS: &[(&str, &str, &str)] = &[(
    "fixtures/deadlocks/rwlock_upgrade_fixed.rs",
    "atomicity-violation",
    "the write after the dropped read guard is `entry(..).or_insert(..)`, which \
         checks again under the write lock; a write through a guard counts as a blind \
         write that acts on the earlier read",
)];

/// A fixture and what its header declares.
struct Fixture {
    path: String,
    expected: BTreeSet<String>,
    lesson_lines: usize,
}

fn fixtures() -> Vec<Fixture> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in DIRS {
        collect(&root.join(dir), &mut files);
    }
    files.sort();
    files
        .iter()
        .map(|file| {
            let path = file
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let source = std::fs::read_to_string(file).unwrap();
            let header: Vec<&str> = source
                .lines()
                .take_while(|l| l.starts_with("//!"))
                .map(|l| l.trim_start_matches("//!").trim())
                .collect();
            let expect = header
                .iter()
                .find_map(|l| l.strip_prefix("expect:"))
                .unwrap_or_else(|| panic!("{path}: no `//! expect:` line in the header"));
            let expected: BTreeSet<String> = expect
                .split(',')
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty())
                .collect();
            assert!(!expected.is_empty(), "{path}: `expect:` names nothing");
            for kind in &expected {
                assert!(
                    kind == "clean" || KINDS.iter().any(|(k, _)| k == kind),
                    "{path}: `{kind}` is not a finding kind"
                );
            }
            assert!(
                !expected.contains("clean") || expected.len() == 1,
                "{path}: `clean` cannot be combined with finding kinds"
            );
            let lesson_lines = header
                .iter()
                .filter(|l| !l.is_empty() && !l.starts_with("expect:"))
                .count();
            Fixture {
                path,
                expected,
                lesson_lines,
            }
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().and_then(|e| e.to_str()) == Some("rs") {
            out.push(path);
        }
    }
}

fn is_error(kind: &str) -> bool {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .is_none_or(|(_, error)| *error)
}

/// Runs the checker once over every fixture directory.
fn check_all() -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_interlock"))
        .arg("check")
        .args(DIRS)
        .args(["--format", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("INTERLOCK_CACHE_DIR", CACHE_DIR)
        .output()
        .expect("the interlock binary runs");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
    (out.status.code().unwrap_or(-1), value, stderr)
}

/// The kinds found in `path`, each with its severity, from findings that
/// have a location in that file.
fn found_in(findings: &[Value], path: &str) -> BTreeMap<String, bool> {
    let mut kinds = BTreeMap::new();
    for f in findings {
        let here = f["locations"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|l| l["file"].as_str() == Some(path));
        if here {
            let kind = f["kind"].as_str().unwrap().to_string();
            let error = f["severity"].as_str() == Some("error");
            *kinds.entry(kind).or_insert(false) |= error;
        }
    }
    kinds
}

#[test]
fn every_fixture_gets_the_verdict_its_header_declares() {
    let fixtures = fixtures();
    assert!(
        fixtures.len() >= 24,
        "at least 24 teaching programs, found {}",
        fixtures.len()
    );

    // Headers first: they need no build.
    let mut problems = Vec::new();
    for f in &fixtures {
        if f.lesson_lines < 3 {
            problems.push(format!(
                "{}: the header should teach the lesson (what goes wrong, why, the fix), not only `expect:`",
                f.path
            ));
        }
        let buggy = !f.expected.contains("clean");
        if buggy {
            let twin = f.path.replace(".rs", "_fixed.rs");
            match fixtures.iter().find(|t| t.path == twin) {
                None => problems.push(format!("{}: no fixed twin `{twin}`", f.path)),
                Some(t) if !t.expected.contains("clean") => problems.push(format!(
                    "{}: its twin `{twin}` must be `expect: clean`",
                    f.path
                )),
                Some(_) => {}
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let (code, report, stderr) = check_all();
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        report["summary"]["files"].as_u64(),
        Some(fixtures.len() as u64),
        "every fixture is a program that was checked\nstderr:\n{stderr}"
    );
    assert_eq!(
        code, 1,
        "some fixtures have bugs, so the exit code is 1\nstderr:\n{stderr}"
    );

    // A program that was not built or did not report would look clean.
    let reasons = report["summary"]["incomplete_reason"]
        .as_str()
        .unwrap_or("");
    for f in &fixtures {
        for reason in reasons
            .split("; ")
            .filter(|r| r.starts_with(&format!("{}:", f.path)))
        {
            let acceptable =
                reason.contains("stopped at the first failure") || reason.contains("std engine");
            if !acceptable {
                problems.push(format!("{}: not fully checked: {reason}", f.path));
            }
        }
    }

    let mut tolerated = Vec::new();
    for f in &fixtures {
        let found = found_in(&findings, &f.path);
        for kind in f.expected.iter().filter(|k| *k != "clean") {
            if !found.contains_key(kind) {
                problems.push(format!(
                    "{}: expected {kind} (located in this file), found {:?}",
                    f.path,
                    found.keys().collect::<Vec<_>>()
                ));
            }
        }
        for (kind, &error) in &found {
            if !error || !is_error(kind) || f.expected.contains(kind) {
                continue;
            }
            let known = KNOWN_MISREPORTS
                .iter()
                .find(|(path, k, _)| *path == f.path && k == kind);
            match known {
                Some(entry) => tolerated.push(*entry),
                None => problems.push(format!(
                    "{}: expected {}, but the checker also reports {kind}",
                    f.path,
                    f.expected.iter().cloned().collect::<Vec<_>>().join(", ")
                )),
            }
        }
    }
    for entry in KNOWN_MISREPORTS {
        if !tolerated.contains(entry) {
            problems.push(format!(
                "{}: the checker no longer reports {}; remove it from KNOWN_MISREPORTS",
                entry.0, entry.1
            ));
        } else {
            eprintln!(
                "known misreport: {} reports {} ({})",
                entry.0, entry.1, entry.2
            );
        }
    }

    // Findings outside the fixtures would mean the report lost its mapping.
    for finding in &findings {
        let located = finding["locations"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|l| {
                fixtures
                    .iter()
                    .any(|f| l["file"].as_str() == Some(f.path.as_str()))
            });
        if !located {
            problems.push(format!(
                "a finding with no location in any fixture: {}",
                finding["message"]
            ));
        }
    }

    assert!(
        problems.is_empty(),
        "{}\n\nstderr:\n{stderr}",
        problems.join("\n")
    );
}
