//! The scanner on small programs written for it, one bug class per file
//! and a fixed twin for each (`*_clean.rs`).
//!
//! Each finding the scanner must report is marked in the source with
//! `// expect: KIND` on the line of its primary location (the second lock,
//! the `.await`, the store, ...); a file without marks must give no finding
//! at all. Crate fixtures (with their own Cargo.toml, for editions and
//! workspaces) live in `tests/scan/crates/` and follow the same rule.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use interlock::scan::{self, Options};

const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scan/cases");
const CRATES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scan/crates");

/// `(file name, line, kind)` of every `// expect: kind` mark under `path`.
fn expected(path: &Path) -> BTreeSet<(String, u32, String)> {
    let mut out = BTreeSet::new();
    let files: Vec<PathBuf> = if path.is_dir() {
        walk(path)
    } else {
        vec![path.to_path_buf()]
    };
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        for (i, line) in text.lines().enumerate() {
            if let Some(at) = line.find("// expect: ") {
                for kind in line[at + "// expect: ".len()..].split(',') {
                    out.insert((name.clone(), i as u32 + 1, kind.trim().to_string()));
                }
            }
        }
    }
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// `(file name, line, kind)` of every finding's primary location.
fn found(path: &Path) -> (BTreeSet<(String, u32, String)>, String) {
    let outcome = scan::scan(&Options {
        paths: vec![path.to_path_buf()],
        jobs: Some(2),
        ..Options::default()
    })
    .unwrap();
    assert!(
        outcome.skipped.is_empty(),
        "{}: files skipped: {:?}",
        path.display(),
        outcome.skipped
    );
    let mut out = BTreeSet::new();
    for f in &outcome.report.findings {
        let l = &f.locations[0];
        let name = Path::new(&l.file)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        out.insert((name, l.line, f.kind.as_str().to_string()));
    }
    let text = outcome
        .report
        .findings
        .iter()
        .map(|f| {
            format!(
                "  {} at {}:{}: {}\n",
                f.kind, f.locations[0].file, f.locations[0].line, f.message
            )
        })
        .collect();
    (out, text)
}

fn check(path: &Path) -> Result<(), String> {
    let want = expected(path);
    let (got, text) = found(path);
    if want == got {
        return Ok(());
    }
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    Err(format!(
        "{}:\n  missing: {missing:?}\n  unexpected: {extra:?}\n{text}",
        path.display()
    ))
}

#[test]
fn every_case_gives_exactly_its_marked_findings() {
    let mut failures = Vec::new();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(CASES)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "the cases are there");
    for case in &cases {
        if let Err(e) = check(case) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_crate_fixture_gives_exactly_its_marked_findings() {
    let mut failures = Vec::new();
    let mut crates: Vec<PathBuf> = std::fs::read_dir(CRATES)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    crates.sort();
    for dir in &crates {
        if let Err(e) = check(dir) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_bug_case_has_a_clean_twin() {
    for entry in std::fs::read_dir(CASES).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name.ends_with("_clean") || name.starts_with("odd_") || name.starts_with("clean_") {
            continue;
        }
        let twin = path.with_file_name(format!("{name}_clean.rs"));
        assert!(twin.exists(), "{} has no clean twin", path.display());
        assert!(
            !expected(&path).is_empty(),
            "{} marks no finding",
            path.display()
        );
        assert!(
            expected(&twin).is_empty(),
            "{} marks findings",
            twin.display()
        );
    }
}
