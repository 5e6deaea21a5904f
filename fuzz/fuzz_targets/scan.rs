//! The scanner on arbitrary text: it may skip a file, it must never panic.
//!
//! `cargo fuzz run scan` (nightly). Seed the corpus with the scanner's own
//! test cases: `cargo fuzz run scan ../tests/scan/cases`.
#![no_main]

use interlock::scan::{discover::Edition, scan_sources, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Two editions: temporaries' scopes differ, so the interpreter differs.
    for edition in [Edition::E2021, Edition::E2024] {
        let outcome = scan_sources(&[("fuzz.rs", text)], edition, &Options::default());
        // Every finding points somewhere in the input.
        for finding in &outcome.report.findings {
            assert!(!finding.locations.is_empty());
        }
    }
});
