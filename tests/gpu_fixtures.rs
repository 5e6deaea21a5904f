//! Every GPU trace fixture gets the verdict its `expect` field names: the
//! finding kinds, and the two ops (`expect_ops`) of the first finding; and
//! every buggy fixture has a clean twin.

use serde_json::Value;
use std::process::Command;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/gpu");

/// The op indices a location's label names first (`ops[3]`).
fn op_of(label: &str) -> Option<usize> {
    let start = label.find("ops[")? + 4;
    let end = start + label[start..].find(']')?;
    label[start..end].parse().ok()
}

fn check(path: &str) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_interlock"))
        .args(["gpu", path, "--format", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the interlock binary runs");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "{path}: not JSON ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), value)
}

#[test]
fn every_fixture_gets_the_verdict_it_expects() {
    let mut entries: Vec<_> = std::fs::read_dir(FIXTURES)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("json"))
        .collect();
    entries.sort();
    let mut buggy = 0;
    let mut clean = 0;
    for path in &entries {
        let name = path.file_name().unwrap().to_str().unwrap();
        let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let expect = fixture["expect"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no \"expect\""));
        assert!(
            fixture["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{name}: no \"description\""
        );
        let (code, report) = check(&format!("fixtures/gpu/{name}"));
        let findings = report["findings"].as_array().unwrap();
        let mut kinds: Vec<&str> = findings
            .iter()
            .map(|f| f["kind"].as_str().unwrap())
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        if expect == "clean" {
            assert!(findings.is_empty(), "{name}: {report:#}");
            assert_eq!(code, 0, "{name}");
            clean += 1;
            continue;
        }
        let mut wanted: Vec<&str> = expect.split(',').map(str::trim).collect();
        wanted.sort_unstable();
        assert_eq!(kinds, wanted, "{name}: {report:#}");
        assert_eq!(code, 1, "{name}");
        let mut expected_ops: Vec<usize> = fixture["expect_ops"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: a buggy fixture names its ops in \"expect_ops\""))
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        expected_ops.sort_unstable();
        let first = &findings[0];
        let mut ops: Vec<usize> = first["locations"]
            .as_array()
            .unwrap()
            .iter()
            .take(2)
            .map(|l| op_of(l["label"].as_str().unwrap()).unwrap())
            .collect();
        ops.sort_unstable();
        assert_eq!(ops, expected_ops, "{name}: {first:#}");
        // Without file/line, every location points into the trace itself.
        for l in first["locations"].as_array().unwrap() {
            assert_eq!(l["file"], format!("fixtures/gpu/{name}"), "{name}");
            assert!(l["line"].as_u64().unwrap() > 1);
        }
        assert!(first["trace"].as_array().is_some_and(|t| !t.is_empty()));
        buggy += 1;
    }
    assert!(buggy >= 10 && clean >= 10, "{buggy} buggy, {clean} clean");
}

#[test]
fn every_buggy_fixture_has_a_clean_twin() {
    let names: Vec<String> = std::fs::read_dir(FIXTURES)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    for name in &names {
        let text = std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap();
        let fixture: Value = serde_json::from_str(&text).unwrap();
        if fixture["expect"] == "clean" {
            continue;
        }
        // A twin is a clean fixture whose description names this one, or
        // that this one's description names.
        let twin = names.iter().any(|other| {
            let t: Value = serde_json::from_str(
                &std::fs::read_to_string(format!("{FIXTURES}/{other}")).unwrap(),
            )
            .unwrap();
            let d = t["description"].as_str().unwrap_or("");
            let mine = fixture["description"].as_str().unwrap_or("");
            t["expect"] == "clean" && (d.contains(name.as_str()) || mine.contains(other.as_str()))
        });
        assert!(twin, "{name} has no clean twin");
    }
}
