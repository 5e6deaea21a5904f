//! The scanner on thousands of odd programs: every case file with one line
//! deleted, or one line repeated. Most mutants still parse (a `let` gone, a
//! guard dropped twice, a lock taken before its binding); none may make the
//! scanner panic, and every finding must point at a line of its input.
//! (`fuzz/` holds a cargo-fuzz target for open-ended runs on nightly.)

use std::path::Path;

use interlock::scan::{discover::Edition, scan_sources, Options};

fn mutants(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for i in 0..lines.len() {
        if lines[i].trim().is_empty() || lines[i].trim_start().starts_with("//") {
            continue;
        }
        let mut deleted = lines.clone();
        deleted.remove(i);
        out.push(deleted.join("\n"));
        let mut repeated = lines.clone();
        repeated.insert(i, lines[i]);
        out.push(repeated.join("\n"));
    }
    out
}

#[test]
fn mutated_cases_never_panic_and_findings_point_into_the_input() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scan/cases"));
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    let (mut scanned, mut parsed, mut with_findings) = (0, 0, 0);
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, mutant) in mutants(&text).iter().enumerate() {
            let lines = mutant.lines().count() as u32 + 1;
            // Both editions on every fourth mutant: scopes of temporaries differ.
            let editions: &[Edition] = if n % 4 == 0 {
                &[Edition::E2021, Edition::E2024]
            } else {
                &[Edition::E2021]
            };
            for &edition in editions {
                let outcome = scan_sources(&[("mutant.rs", mutant)], edition, &Options::default());
                scanned += 1;
                if syn::parse_file(mutant).is_ok() {
                    parsed += 1;
                }
                with_findings += usize::from(!outcome.report.findings.is_empty());
                for finding in &outcome.report.findings {
                    assert!(
                        !finding.locations.is_empty(),
                        "{}: {finding:?}",
                        file.display()
                    );
                    for l in &finding.locations {
                        assert!(
                            l.line >= 1 && l.line <= lines,
                            "{} mutant {n}: line {} of {lines}: {}",
                            file.display(),
                            l.line,
                            finding.message
                        );
                    }
                }
            }
        }
    }
    // The mutants are worth it only if many of them are still Rust.
    assert!(scanned > 1000, "{scanned} mutants");
    assert!(parsed * 3 > scanned, "{parsed} of {scanned} parse");
    eprintln!("{scanned} mutants scanned, {parsed} parse, {with_findings} with findings");
}
