//! The HTML timeline in a real browser: a report built by hand, rendered,
//! loaded from a file into headless Chromium, its DOM dumped and checked (a
//! column per agent, a row per step, the marked steps, source lines, text
//! that looks like markup kept as text), and screenshots taken in the light
//! and dark colour schemes.
//!
//! Needs Debian's `chromium` on PATH. Without it the tests print a note and
//! pass, unless `CI` is set (to anything but empty, `0` or `false`): there they
//! fail, so the check cannot go missing.
//! The page and the screenshots stay under `target/tmp/timeline_html/`.

use interlock::event::Site;
use interlock::finding::{Finding, Kind, TraceStep};
use interlock::report::{html, Report, Summary};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The program the trace points into; its lines carry `<`, `&` and quotes.
const SOURCE: &str = r#"use std::sync::{Arc, Mutex};
use std::thread;

fn transfer(from: &Mutex<i64>, to: &Mutex<i64>, amount: i64) {
    let mut a = from.lock().unwrap();
    let mut b = to.lock().unwrap();
    if *a < amount && amount > 0 { println!("short by \"{}\"", amount - *a); }
    *a -= amount;
    *b += amount;
}

fn main() {
    let (x, y) = (Arc::new(Mutex::new(100)), Arc::new(Mutex::new(0)));
    let (x1, y1) = (x.clone(), y.clone());
    let t1 = thread::spawn(move || transfer(&x1, &y1, 10));
    let (x2, y2) = (x.clone(), y.clone());
    let t2 = thread::spawn(move || transfer(&y2, &x2, 5));
    t1.join().unwrap();
    t2.join().unwrap();
}
"#;

/// The scratch directory of these tests.
fn scratch() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("timeline_html");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes the program and returns its path, relative to the current
/// directory where it can be (as `interlock check` names files).
fn source_file(name: &str) -> String {
    let path = scratch().join(name);
    std::fs::write(&path, SOURCE).unwrap();
    let cwd = std::env::current_dir().unwrap();
    path.strip_prefix(&cwd)
        .map(Path::to_path_buf)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// The steps of the deadlock: (agent, action, line, column, highlighted).
const STEPS: [(&str, &str, u32, u32, bool); 7] = [
    ("main", "spawn `thread 1`", 15, 14, false),
    ("main", "spawn `thread 2`", 17, 14, false),
    ("thread 1", "lock `x`", 5, 17, false),
    ("thread 2", "lock `y`", 5, 17, false),
    ("main", "join `thread 1`", 18, 5, false),
    (
        "thread 1",
        "lock `y`: blocked, `thread 2` holds it",
        6,
        17,
        true,
    ),
    (
        "thread 2",
        "lock `x`: blocked, `thread 1` holds it",
        6,
        17,
        true,
    ),
];

const AGENTS: [&str; 3] = ["main", "thread 1", "thread 2"];

fn report(file: &str) -> Report {
    let s = |line, column| Site::new(file.to_string(), line, column);
    let trace = STEPS
        .iter()
        .map(|&(agent, action, line, column, marked)| {
            let step = TraceStep::new(agent, action, &s(line, column));
            if marked {
                step.highlighted()
            } else {
                step
            }
        })
        .collect();
    let deadlock = Finding::new(
        Kind::Deadlock,
        "every live thread is blocked: `x` & `y` taken in opposite orders <b class=\"injected\">by \"transfer\"</b>",
    )
    .at(&s(6, 17), "`thread 1` waits for `y` while holding `x`")
    .at(&s(6, 17), "`thread 2` waits for `x` while holding `y`")
    .with_help("lock the two accounts in one global order (e.g. by address) in `transfer`")
    .with_note("the lock graph has the cycle x -> y -> x")
    .in_execution(7)
    .with_trace(trace);
    let race = Finding::new(Kind::DataRace, "`balance` read & written without an order")
        .at(&s(9, 5), "written here")
        .with_trace(vec![
            TraceStep::new("thread 1", "write `balance`", &s(9, 5)).highlighted(),
            TraceStep::new("worker \"io\" <2>", "read `balance`", &s(7, 8)).highlighted(),
        ]);
    Report::new(
        vec![deadlock, race],
        Summary {
            files: 1,
            executions: 42,
            complete: true,
            engine: Some("loom".into()),
            preemption_bound: Some(2),
            ..Summary::default()
        },
    )
}

// ---------------------------------------------------------------------------
// Chromium

/// The browser, or `None` (with a note) where it is missing outside CI.
fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("chromium"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let ci = std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"));
        if ci {
            panic!(
                "`chromium` is not on PATH, and CI must run the timeline's browser test: \
                 install Debian's `chromium` package (apt-get install -y chromium)"
            );
        }
        // Straight to stderr, past the test harness's capture, so the skip shows.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "note: skipping the timeline's browser test: `chromium` is not on PATH \
             (apt-get install -y chromium to run it; with CI set it fails instead)"
        );
    }
    found
}

/// Runs headless Chromium with a fresh profile on `page` with `extra`
/// arguments and returns what it printed on stdout.
fn run_chromium(browser: &Path, page: &Path, extra: &[String]) -> String {
    static RUN: AtomicUsize = AtomicUsize::new(0);
    let n = RUN.fetch_add(1, Ordering::Relaxed);
    let base = scratch().join(format!("run-{}-{n}", std::process::id()));
    let profile = base.join("profile");
    std::fs::create_dir_all(&profile).unwrap();
    let stdout_path = base.join("stdout");
    let stderr_path = base.join("stderr");

    let mut command = Command::new(browser);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap());
    let mut child = command.spawn().expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            child.wait().ok();
            panic!(
                "chromium did not finish in 120 s; stderr:\n{}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = std::fs::read_to_string(&stdout_path).unwrap();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert!(
        status.success(),
        "chromium failed ({status}); stderr:\n{stderr}"
    );
    std::fs::remove_dir_all(&base).ok();
    stdout
}

/// Renders the report to `name` under the scratch directory.
fn write_page(name: &str, report: &Report) -> PathBuf {
    let path = scratch().join(name);
    std::fs::write(&path, html::render(report)).unwrap();
    path
}

// ---------------------------------------------------------------------------
// The dumped DOM

/// Undoes the serializer's escapes in an attribute value or text.
fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

/// The value of attribute `name` in an opening tag.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let start = if tag.starts_with(&key) {
        key.len()
    } else {
        tag.find(&format!(" {key}"))? + 1 + key.len()
    };
    let end = start + tag[start..].find('"')?;
    Some(unescape(&tag[start..end]))
}

/// Each `<td ...>` of a row with its content up to the next cell.
fn cells(row: &str) -> Vec<(&str, &str)> {
    row.split("<td ")
        .skip(1)
        .map(|cell| {
            let tag_end = cell.find('>').unwrap();
            let content = &cell[tag_end + 1..];
            let content = &content[..content.find("</td>").unwrap_or(content.len())];
            (&cell[..tag_end], content)
        })
        .collect()
}

/// The first `<table class="timeline" ...>...</table>` from `from` on.
fn first_table(dom: &str) -> &str {
    let start = dom
        .find("<table class=\"timeline\"")
        .unwrap_or_else(|| panic!("no timeline table in the DOM:\n{dom}"));
    let end = start + dom[start..].find("</table>").unwrap();
    &dom[start..end]
}

#[test]
fn timeline_renders_in_headless_chromium() {
    let Some(browser) = chromium() else { return };
    let file = source_file("bank.rs");
    let page = write_page("deadlock.html", &report(&file));
    let dom = run_chromium(&browser, &page, &["--dump-dom".to_string()]);
    assert!(dom.contains("<html"), "no document:\n{dom}");

    // Two findings, the first open, the second folded.
    assert_eq!(dom.matches("<details class=\"finding").count(), 2, "{dom}");
    let first = &dom[dom.find("<details class=\"finding").unwrap()..];
    let tag = &first[..first.find('>').unwrap()];
    assert_eq!(attribute(tag, "data-kind").as_deref(), Some("deadlock"));
    assert!(tag.contains(" open"), "the first finding is open: {tag}");
    let second = &first[1..][first[1..].find("<details class=\"finding").unwrap()..];
    let tag = &second[..second.find('>').unwrap()];
    assert_eq!(attribute(tag, "data-kind").as_deref(), Some("data-race"));
    assert!(
        !tag.contains(" open"),
        "the second finding is folded: {tag}"
    );

    // Markup in the message stayed text.
    assert!(!dom.contains("<b class=\"injected\""), "{dom}");
    assert!(
        dom.contains("&lt;b class=\"injected\"&gt;by \"transfer\"&lt;/b&gt;"),
        "{dom}"
    );

    // The first timeline: a column per agent in order of first appearance.
    let table = first_table(&dom);
    let agents: Vec<String> = table
        .match_indices("<th class=\"agent\"")
        .map(|(i, _)| {
            let tag = &table[i..i + table[i..].find('>').unwrap()];
            attribute(tag, "data-agent").unwrap()
        })
        .collect();
    assert_eq!(agents, AGENTS, "{table}");

    // A row per step, the step in its agent's column, the others idle.
    let rows: Vec<&str> = table.split("<tr data-step=").skip(1).collect();
    assert_eq!(rows.len(), STEPS.len(), "{table}");
    for (i, (row, &(agent, action, line, column, marked))) in rows.iter().zip(&STEPS).enumerate() {
        let n = (i + 1).to_string();
        let cells = cells(row);
        assert_eq!(cells.len(), AGENTS.len(), "row {n}: {row}");
        let column_of = AGENTS.iter().position(|a| *a == agent).unwrap();
        for (c, (tag, content)) in cells.iter().enumerate() {
            assert_eq!(
                attribute(tag, "data-agent").as_deref(),
                Some(AGENTS[c]),
                "{row}"
            );
            let class = attribute(tag, "class").unwrap();
            if c != column_of {
                assert_eq!(class, "idle", "row {n}, column {c}: {row}");
                assert!(content.is_empty(), "{row}");
                continue;
            }
            assert_eq!(attribute(tag, "data-step").as_deref(), Some(n.as_str()));
            let expected = if marked { "step highlight" } else { "step" };
            assert_eq!(class, expected, "row {n}: {row}");
            assert_eq!(content.contains('▶'), marked, "row {n}: {row}");
            // The action (backquoted names as code), the place, the line.
            let first_word = action.split('`').next().unwrap();
            assert!(content.contains(first_word), "row {n}: {row}");
            assert!(
                strip_tags(content).contains(&format!("{file}:{line}:{column}")),
                "row {n}: {row}"
            );
            let source_line = SOURCE.lines().nth(line as usize - 1).unwrap().trim();
            let shown = content
                .split("<pre class=\"source\">")
                .nth(1)
                .unwrap_or_else(|| panic!("row {n} has no source line: {row}"));
            let text: String = strip_tags(shown);
            assert!(
                unescape(&text).contains(source_line),
                "row {n}: `{source_line}` in {shown}"
            );
        }
    }
    let marked: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.contains("class=\"step highlight\""))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(marked, [6, 7]);

    // A source line with `<`, `&` and quotes is shown as it is in the file.
    assert!(
        dom.contains("<span class=\"lineno\">7</span>"),
        "the data race's read points at line 7: {dom}"
    );
    let line7 = SOURCE.lines().nth(6).unwrap().trim();
    assert!(unescape(&strip_tags(&dom)).contains(line7), "{line7}");

    // The second timeline: its agent with quotes and brackets survives.
    let rest = &dom[dom.find("</table>").unwrap()..];
    let table = first_table(rest);
    assert!(
        table.contains("data-agent=\"worker &quot;io&quot; &lt;2&gt;\"")
            || table.contains("data-agent=\"worker &quot;io&quot; <2>\""),
        "{table}"
    );
    assert!(table.contains(">worker \"io\" &lt;2&gt;</th>"), "{table}");

    // The legend and the summary.
    assert!(dom.contains("class=\"legend\""), "{dom}");
    assert!(
        dom.contains(
            "2 errors, 0 warnings in 1 file (42 executions, loom engine, preemption bound 2)"
        ),
        "the summary line: {dom}"
    );
}

/// Text of an HTML fragment without its tags (entities left as they are).
fn strip_tags(fragment: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in fragment.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[test]
fn a_report_without_a_trace_says_so_in_the_browser() {
    let Some(browser) = chromium() else { return };
    let report = Report::new(
        vec![Finding::new(Kind::CondvarMisuse, "`wait` outside a loop")
            .at(&Site::new("gone.rs", 7, 5), "this `if` should be a `while`")],
        Summary {
            files: 1,
            complete: true,
            ..Summary::default()
        },
    );
    let page = write_page("untraced.html", &report);
    let dom = run_chromium(&browser, &page, &["--dump-dom".to_string()]);
    assert!(
        dom.contains("<p class=\"no-trace\">No counterexample to show"),
        "{dom}"
    );
    assert!(!dom.contains("<table"), "{dom}");
    assert!(dom.contains("gone.rs:7:5"), "{dom}");
}

/// Width and height of a PNG, from its IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.len() > 24, "a PNG of {} bytes", png.len());
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&png[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&png[16..20]), be(&png[20..24]))
}

#[test]
fn timeline_screenshots_in_light_and_dark() {
    let Some(browser) = chromium() else { return };
    let file = source_file("bank-shot.rs");
    let page = write_page("screenshot.html", &report(&file));
    for (name, scheme) in [
        ("timeline-light.png", None),
        ("timeline-dark.png", Some("--force-dark-mode")),
    ] {
        let png_path = scratch().join(name);
        std::fs::remove_file(&png_path).ok();
        let mut args = vec![
            format!("--screenshot={}", png_path.display()),
            "--window-size=1200,800".to_string(),
            "--force-device-scale-factor=1".to_string(),
            "--hide-scrollbars".to_string(),
        ];
        args.extend(scheme.map(String::from));
        run_chromium(&browser, &page, &args);
        let png = std::fs::read(&png_path)
            .unwrap_or_else(|e| panic!("no screenshot at {}: {e}", png_path.display()));
        assert_eq!(png_size(&png), (1200, 800), "{name}");
        // A blank or nearly blank page compresses to a few kilobytes.
        assert!(
            png.len() > 30_000,
            "{name} is only {} bytes: the page did not render",
            png.len()
        );
        eprintln!("screenshot: {} ({} bytes)", png_path.display(), png.len());
    }
}
