//! The GPU programs under `fixtures/gpu/` (`.rs` files that drive
//! `interlock::gpu`) get the verdicts their headers declare when
//! `interlock check` runs them: every expected kind is found, located on the
//! lines marked `// <- KIND`, no other error is, `clean` means no finding,
//! and every buggy program has a clean `_fixed` twin.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

const DIR: &str = "fixtures/gpu";

/// Where the scratch project that builds the programs lives between runs.
const CACHE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/interlock-check-cache");

/// A program and what its header and markers declare.
struct Program {
    path: String,
    expected: BTreeSet<String>,
    /// Per kind, the lines marked `// <- KIND`.
    marked: BTreeMap<String, BTreeSet<u64>>,
}

fn programs() -> Vec<Program> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(root.join(DIR))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("rs"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|file| {
            let name = file.file_name().unwrap().to_str().unwrap();
            let path = format!("{DIR}/{name}");
            let source = std::fs::read_to_string(file).unwrap();
            let expect = source
                .lines()
                .take_while(|l| l.starts_with("//!"))
                .find_map(|l| l.trim_start_matches("//!").trim().strip_prefix("expect:"))
                .unwrap_or_else(|| panic!("{path}: no `//! expect:` line in the header"));
            let expected: BTreeSet<String> = expect
                .split(',')
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty())
                .collect();
            let mut marked: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
            for (i, line) in source.lines().enumerate() {
                if let Some((_, kind)) = line.split_once("// <- ") {
                    marked
                        .entry(kind.trim().to_string())
                        .or_default()
                        .insert(i as u64 + 1);
                }
            }
            Program {
                path,
                expected,
                marked,
            }
        })
        .collect()
}

#[test]
fn every_gpu_program_gets_the_verdict_its_header_declares() {
    let programs = programs();
    assert!(
        programs.len() >= 4,
        "at least 4 GPU programs, found {}",
        programs.len()
    );
    let mut problems = Vec::new();
    for p in &programs {
        let buggy = !p.expected.contains("clean");
        if buggy {
            let twin = p.path.replace(".rs", "_fixed.rs");
            match programs.iter().find(|t| t.path == twin) {
                Some(t) if t.expected.contains("clean") => {}
                _ => problems.push(format!("{}: no clean twin `{twin}`", p.path)),
            }
            for kind in &p.expected {
                if !p.marked.contains_key(kind) {
                    problems.push(format!("{}: no line marked `// <- {kind}`", p.path));
                }
            }
        } else if !p.marked.is_empty() {
            problems.push(format!("{}: a clean program marks lines", p.path));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let out = Command::new(env!("CARGO_BIN_EXE_interlock"))
        .args(["check", DIR, "--format", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("INTERLOCK_CACHE_DIR", CACHE_DIR)
        .output()
        .expect("the interlock binary runs");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
    assert_eq!(
        report["summary"]["files"].as_u64(),
        Some(programs.len() as u64),
        "every program was checked\nstderr:\n{stderr}"
    );
    assert_eq!(out.status.code(), Some(1), "stderr:\n{stderr}");
    let findings = report["findings"].as_array().cloned().unwrap_or_default();

    for p in &programs {
        // Per kind: the lines of this file its findings point at.
        let mut found: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
        for f in &findings {
            let lines: BTreeSet<u64> = f["locations"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|l| l["file"].as_str() == Some(p.path.as_str()))
                .filter_map(|l| l["line"].as_u64())
                .collect();
            if !lines.is_empty() {
                let kind = f["kind"].as_str().unwrap().to_string();
                found.entry(kind).or_default().extend(lines);
            }
        }
        if p.expected.contains("clean") {
            if !found.is_empty() {
                problems.push(format!("{}: expected clean, found {found:?}", p.path));
            }
            continue;
        }
        for kind in &p.expected {
            match found.get(kind) {
                None => problems.push(format!(
                    "{}: expected {kind}, found {:?}",
                    p.path,
                    found.keys().collect::<Vec<_>>()
                )),
                Some(lines) if Some(lines) != p.marked.get(kind) => problems.push(format!(
                    "{}: {kind} at lines {lines:?}, the marked lines are {:?}",
                    p.path, p.marked[kind]
                )),
                Some(_) => {}
            }
        }
        for kind in found.keys().filter(|k| !p.expected.contains(*k)) {
            problems.push(format!("{}: unexpected {kind}", p.path));
        }
    }
    // Findings outside the programs would mean the report lost its mapping.
    for f in &findings {
        let located = f["locations"].as_array().into_iter().flatten().any(|l| {
            programs
                .iter()
                .any(|p| l["file"].as_str() == Some(p.path.as_str()))
        });
        if !located {
            problems.push(format!("a finding located in no program: {}", f["message"]));
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n\nstderr:\n{stderr}",
        problems.join("\n")
    );
}
