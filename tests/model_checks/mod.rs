//! Checks shared by the model tests (`runtime_models`, `gpu_models`,
//! `resource_models`, `keep_going`). Each test binary uses some of them.
#![allow(dead_code)]

use interlock::{Kind, Report};

/// The kinds of the report's findings, in order.
pub fn kinds(report: &Report) -> Vec<Kind> {
    report.findings().iter().map(|f| f.kind).collect()
}

/// A finding of `kind` has a location at `line` of the test file `file`.
pub fn assert_found_at(report: &Report, kind: Kind, file: &str, line: u32) {
    let found = report
        .findings()
        .iter()
        .filter(|f| f.kind == kind)
        .any(|f| {
            f.locations
                .iter()
                .any(|l| l.line == line && l.file.ends_with(file))
        });
    assert!(found, "expected {kind} at line {line}, got:\n{report}");
}

/// The line of `source` that ends with the comment `// NAME`.
pub fn marker(source: &str, name: &str) -> u32 {
    let wanted = format!("// {name}");
    let index = source
        .lines()
        .position(|l| l.trim_end().ends_with(&wanted) && !l.contains("marker("))
        .unwrap_or_else(|| panic!("no line marked `{wanted}`"));
    index as u32 + 1
}
