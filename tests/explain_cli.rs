//! `interlock explain`: the catalogue from the command line.

use interlock::finding::Kind;
use std::process::{Command, Output};

fn interlock(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_interlock"))
        .args(args)
        .output()
        .expect("the interlock binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn every_kind_prints_its_page() {
    for kind in Kind::ALL {
        let out = interlock(&["explain", kind.as_str()]);
        assert_eq!(out.status.code(), Some(0), "{kind}: {}", stderr(&out));
        let page = stdout(&out);
        assert_eq!(page, interlock::catalogue::entry(kind), "{kind}");
        assert!(page.starts_with(&format!("# {kind}\n")));
        for heading in [
            "## What it is",
            "## Example",
            "## The fix",
            "## How interlock finds it",
        ] {
            assert!(page.contains(heading), "{kind}: {heading}");
        }
        assert!(page.contains("```rust"), "{kind}: the example is Rust");
        let lines = page.lines().count();
        assert!(
            (30..=120).contains(&lines),
            "{kind}: {lines} lines: a page is meant to be read in one sitting"
        );
    }
    // Kinds are matched as `Kind::from_str` matches them.
    let out = interlock(&["explain", "Lock_Order_Inversion"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).starts_with("# lock-order-inversion"));
}

#[test]
fn list_shows_every_kind_with_severity_and_summary() {
    for args in [&["explain", "--list"][..], &["explain"][..]] {
        let out = interlock(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let text = stdout(&out);
        for kind in Kind::ALL {
            let line = text
                .lines()
                .find(|l| l.starts_with(&format!("{} ", kind.as_str())))
                .unwrap_or_else(|| panic!("{kind} is listed:\n{text}"));
            assert!(line.contains(&kind.severity().to_string()), "{line}");
            assert!(line.contains(kind.summary()), "{line}");
        }
    }
}

#[test]
fn an_unknown_kind_is_bad_input_with_a_suggestion() {
    let out = interlock(&["explain", "deadlok"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty(), "nothing on stdout");
    let err = stderr(&out);
    assert!(err.contains("unknown finding kind `deadlok`"), "{err}");
    assert!(err.contains("did you mean `deadlock`?"), "{err}");
    for kind in Kind::ALL {
        assert!(
            err.contains(kind.as_str()),
            "the known kinds are listed: {err}"
        );
    }

    let out = interlock(&["explain", "use-after-free"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("did you mean `stream-use-after-free`?"));

    let out = interlock(&["explain", "zebra"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("interlock explain --list"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn help_exits_zero() {
    let out = interlock(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("explain"));

    let out = interlock(&["explain", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("interlock explain deadlock"), "{text}");
    assert!(text.contains("--list"), "{text}");
}
