//! The three report formats, on reports built by hand: findings pointing into
//! a source file written here and into a file that does not exist, a trace,
//! command-specific fields.

use interlock::event::Site;
use interlock::finding::{Finding, Kind, TraceStep};
use interlock::report::{self, human, Format, Report, Summary};
use serde_json::{json, Value};
use std::path::PathBuf;

const SOURCE: &str = "\
use std::sync::{Arc, Mutex};
use std::thread;

fn main() {
    let a = Arc::new(Mutex::new(0));
    let b = Arc::new(Mutex::new(0));
    let (a2, b2) = (a.clone(), b.clone());
    let t = thread::spawn(move || {
        let _x = b2.lock().unwrap();
        let _y = a2.lock().unwrap();
    });
    let _x = a.lock().unwrap();
    let _y = b.lock().unwrap();
    t.join().unwrap();
}
";

/// Writes the source under the test's temporary directory and returns its
/// path, relative to the current directory where it can be.
fn source_file(name: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report_formats");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, SOURCE).unwrap();
    let cwd = std::env::current_dir().unwrap();
    path.strip_prefix(&cwd)
        .map(|p| p.to_path_buf())
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

fn deadlock(file: &str) -> Finding {
    let s = |line, column| Site::new(file.to_string(), line, column);
    Finding::new(Kind::Deadlock, "every live thread is blocked")
        .at(&s(13, 14), "`main` waits for `b` while holding `a`")
        .at(&s(10, 18), "`thread 1` waits for `a` while holding `b`")
        .at(&Site::new("no/such/file.rs", 3, 1), "spawned here")
        .at(&s(400, 1), "past the end of the file")
        .with_help("take `a` and `b` in the same order in every thread")
        .with_note("the lock graph has the cycle a -> b -> a")
        .in_execution(3)
        .with_trace(vec![
            TraceStep::new("main", "spawn thread 1", &s(8, 13)),
            TraceStep::new("main", "lock `a`", &s(12, 14)),
            TraceStep::new("thread 1", "lock `b`", &s(9, 18)),
            TraceStep::new("thread 1", "lock `a`", &s(10, 18)).highlighted(),
            TraceStep::new("main", "lock `b`", &s(13, 14)).highlighted(),
        ])
}

fn report(file: &str) -> Report {
    let warning = Finding::new(Kind::CondvarMisuse, "`wait` outside a loop")
        .at(&Site::new("gone.rs", 7, 5), "this `if` should be a `while`");
    let mut report = Report::new(
        vec![deadlock(file), warning],
        Summary {
            files: 1,
            executions: 3456,
            complete: false,
            incomplete_reason: Some("preemption bound 2 reached".into()),
            engine: Some("loom".into()),
            preemption_bound: Some(2),
        },
    );
    report.extra.insert("safe".into(), json!(false));
    report
        .extra
        .insert("safe_sequence".into(), json!(["P1", "P3"]));
    report
}

#[test]
fn human_report_shows_snippets_labels_trace_and_summary() {
    let file = source_file("human.rs");
    let mut r = report(&file);
    r.preamble = vec!["TABLE  need  available".into(), "P0     1 2   3 3".into()];
    let text = human::render_with_width(&r, false, 120);

    assert!(
        text.starts_with("TABLE  need  available\nP0     1 2   3 3\n"),
        "{text}"
    );
    // The diagnostic: code, severity, message, snippet lines, labels.
    assert!(text.contains("error[interlock::deadlock]"), "{text}");
    assert!(text.contains("× every live thread is blocked"), "{text}");
    assert!(text.contains(&format!("[{file}:13:14]")), "{text}");
    assert!(
        text.contains("13 │     let _y = b.lock().unwrap();"),
        "{text}"
    );
    assert!(
        text.contains("10 │         let _y = a2.lock().unwrap();"),
        "{text}"
    );
    assert!(
        text.contains("`main` waits for `b` while holding `a`"),
        "{text}"
    );
    assert!(
        text.contains("`thread 1` waits for `a` while holding `b`"),
        "{text}"
    );
    // Places that cannot be shown fall back to plain lines.
    assert!(
        text.contains("  --> no/such/file.rs:3:1: spawned here"),
        "{text}"
    );
    assert!(
        text.contains(&format!("  --> {file}:400:1: past the end of the file")),
        "{text}"
    );
    assert!(
        text.contains("help: take `a` and `b` in the same order"),
        "{text}"
    );
    assert!(
        text.contains("note: the lock graph has the cycle a -> b -> a"),
        "{text}"
    );
    assert!(text.contains("note: first seen in execution 3"), "{text}");
    // The warning.
    assert!(
        text.contains("warning[interlock::condvar-misuse]"),
        "{text}"
    );
    assert!(
        text.contains("--> gone.rs:7:5: this `if` should be a `while`"),
        "{text}"
    );

    // The interleaving: a column per agent, a row per step, marked steps.
    assert!(
        text.contains("interleaving (2 agents, 5 steps; ▶ marks"),
        "{text}"
    );
    let header = text.lines().find(|l| l.contains("│   main")).expect(&text);
    assert!(header.contains("│   thread 1"), "{text}");
    let row4 = text
        .lines()
        .find(|l| l.trim_start().starts_with("4 │"))
        .expect(&text);
    assert!(row4.contains(&format!("▶ lock `a` ({file}:10)")), "{text}");
    let col = |s: &str, needle: &str| s.find(needle).map(|i| s[..i].chars().count());
    assert!(
        col(row4, "▶") > col(header, "thread 1").map(|c| c - 3),
        "step 4 is in the `thread 1` column:\n{text}"
    );
    let row2 = text
        .lines()
        .find(|l| l.trim_start().starts_with("2 │"))
        .expect(&text);
    assert!(row2.contains(&format!("  lock `a` ({file}:12)")) && !row2.contains('▶'));
    // Where full paths make the table too wide, its cells name files by their base names.
    let name = file.rsplit('/').next().unwrap();
    let wide = format!("{file}:10)").chars().count() * 2 + 30;
    let table = human::render_with_width(&r, false, wide.min(110));
    assert!(
        table.contains(&format!("▶ lock `a` ({name}:10)")),
        "{table}"
    );
    assert!(table.contains("│   thread 1"), "{table}");

    // The summary and the incomplete line.
    assert!(
        text.contains(
            "1 error, 1 warning in 1 file (3456 executions, loom engine, preemption bound 2)"
        ),
        "{text}"
    );
    assert!(
        text.contains("exploration stopped early: preemption bound 2 reached"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "no colour was asked for");
    assert_eq!(
        text,
        human::render_with_width(&r, false, 120),
        "deterministic"
    );
}

#[test]
fn human_trace_falls_back_to_one_line_per_step() {
    let file = source_file("narrow.rs");
    let r = report(&file);
    let narrow = human::render_with_width(&r, false, 50);
    assert!(
        narrow.contains(&format!("4 ▶ thread 1: lock `a` ({file}:10)")),
        "{narrow}"
    );
    assert!(!narrow.contains("│   main"), "{narrow}");

    let site = Site::new("many.rs", 1, 1);
    let steps = (1..=7)
        .map(|i| TraceStep::new(format!("t{i}"), "lock `m`", &site))
        .collect();
    let many = Report::new(
        vec![Finding::new(Kind::DataRace, "race").with_trace(steps)],
        Summary {
            files: 1,
            complete: true,
            ..Summary::default()
        },
    );
    let text = human::render_with_width(&many, false, 300);
    assert!(text.contains("interleaving (7 agents, 7 steps)"), "{text}");
    assert!(text.contains("7   t7: lock `m` (many.rs:1)"), "{text}");
}

#[test]
fn clean_reports_say_so() {
    let clean = Report::new(
        Vec::new(),
        Summary {
            files: 3,
            complete: true,
            ..Summary::default()
        },
    );
    let text = human::render(&clean, false);
    assert_eq!(text, "no concurrency bugs found in 3 files\n");

    let explored = Report::new(
        Vec::new(),
        Summary {
            files: 1,
            executions: 514,
            complete: false,
            incomplete_reason: None,
            engine: Some("loom".into()),
            preemption_bound: None,
        },
    );
    let text = human::render(&explored, false);
    assert!(text.contains("no concurrency bugs found in 1 file (514 executions, loom engine)"));
    assert!(text.contains("exploration stopped early"), "{text}");
    let colored = human::render(&explored, true);
    assert!(colored.contains('\x1b'));
}

#[test]
fn json_report_is_shaped_as_the_contract() {
    let file = "src/bank.rs";
    let site = Site::new(file, 41, 9);
    let finding = Finding::new(
        Kind::LockOrderInversion,
        "locks `Bank.accounts` and `Bank.log` are taken in opposite orders",
    )
    .at(&site, "`Bank.log` taken while `Bank.accounts` is held")
    .with_trace(vec![TraceStep::new(
        "thread 1",
        "lock `Bank.accounts`",
        &Site::new(file, 40, 9),
    )])
    .in_execution(2);
    let mut r = Report::new(
        vec![finding, Finding::new(Kind::RecursiveRead, "read twice")],
        Summary {
            files: 12,
            executions: 0,
            complete: true,
            ..Summary::default()
        },
    );
    r.extra.insert("safe".into(), json!(true));
    r.extra.insert("version".into(), json!(99)); // never overrides the contract's key

    let text = report::render(&r, Format::Json, true);
    assert!(text.ends_with("}\n"));
    assert!(
        text.contains("\n  \"version\": 1,"),
        "pretty-printed: {text}"
    );
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        value,
        json!({
            "version": 1,
            "findings": [
                {
                    "kind": "lock-order-inversion",
                    "severity": "error",
                    "message": "locks `Bank.accounts` and `Bank.log` are taken in opposite orders",
                    "locations": [
                        {"file": "src/bank.rs", "line": 41, "column": 9,
                         "label": "`Bank.log` taken while `Bank.accounts` is held"}
                    ],
                    "trace": [
                        {"agent": "thread 1", "action": "lock `Bank.accounts`",
                         "file": "src/bank.rs", "line": 40, "column": 9}
                    ],
                    "execution": 2
                },
                {"kind": "recursive-read", "severity": "warning", "message": "read twice", "locations": []}
            ],
            "summary": {"files": 12, "executions": 0, "complete": true},
            "safe": true
        })
    );
    let keys: Vec<&str> = ["\"version\"", "\"findings\"", "\"summary\"", "\"safe\""].to_vec();
    let positions: Vec<usize> = keys.iter().map(|k| text.find(k).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");

    let incomplete = report::render(&report("x.rs"), Format::Json, false);
    let value: Value = serde_json::from_str(&incomplete).unwrap();
    assert_eq!(value["summary"]["complete"], false);
    assert_eq!(
        value["summary"]["incomplete_reason"],
        "preemption bound 2 reached"
    );
    assert_eq!(value["safe_sequence"], json!(["P1", "P3"]));
    assert_eq!(value["findings"][0]["trace"][3]["highlight"], true);
}

// ---------------------------------------------------------------------------
// SARIF

fn object<'a>(v: &'a Value, what: &str) -> &'a serde_json::Map<String, Value> {
    v.as_object()
        .unwrap_or_else(|| panic!("{what} must be an object: {v}"))
}

fn array<'a>(v: &'a Value, what: &str) -> &'a Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("{what} must be an array: {v}"))
}

fn string<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what} must be a string: {v}"))
}

/// `message` and `multiformatMessageString`: an object with a string `text`.
fn check_message(v: &Value, what: &str) {
    string(&object(v, what)["text"], &format!("{what}.text"));
}

fn check_level(v: &Value, what: &str) {
    let level = string(v, what);
    assert!(
        ["none", "note", "warning", "error"].contains(&level),
        "{what} `{level}` is not a SARIF level"
    );
}

/// `location`: optional id (integer >= -1), physicalLocation, message.
fn check_location(v: &Value, what: &str) {
    let loc = object(v, what);
    if let Some(id) = loc.get("id") {
        assert!(id.as_i64().is_some_and(|i| i >= -1), "{what}.id: {id}");
    }
    if let Some(message) = loc.get("message") {
        check_message(message, &format!("{what}.message"));
    }
    if let Some(physical) = loc.get("physicalLocation") {
        let physical = object(physical, "physicalLocation");
        let artifact = object(&physical["artifactLocation"], "artifactLocation");
        let uri = string(&artifact["uri"], "artifactLocation.uri");
        assert!(!uri.contains('\\') && !uri.starts_with("./"), "uri `{uri}`");
        if let Some(region) = physical.get("region") {
            let region = object(region, "region");
            for key in ["startLine", "startColumn", "endLine", "endColumn"] {
                if let Some(n) = region.get(key) {
                    assert!(
                        n.as_u64().is_some_and(|n| n >= 1),
                        "{what} region.{key} = {n}"
                    );
                }
            }
        }
    }
}

/// The requirements of the SARIF 2.1.0 schema that code scanning relies on.
fn check_sarif(log: &Value) -> (Vec<Value>, Vec<Value>) {
    let log = object(log, "sarifLog");
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(
        log["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    let runs = array(&log["runs"], "runs");
    assert_eq!(runs.len(), 1);
    let run = object(&runs[0], "run");
    let driver = object(&object(&run["tool"], "tool")["driver"], "driver");
    assert_eq!(driver["name"], "interlock");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    if let Some(uri) = driver.get("informationUri") {
        string(uri, "informationUri");
    }
    let rules = array(&driver["rules"], "rules");
    for (i, rule) in rules.iter().enumerate() {
        let r = object(rule, "rule");
        string(&r["id"], "rule.id");
        string(&r["name"], "rule.name");
        for key in ["shortDescription", "fullDescription"] {
            check_message(&r[key], key);
        }
        let help = object(&r["help"], "help");
        string(&help["text"], "help.text");
        string(&help["markdown"], "help.markdown");
        check_level(
            &r["defaultConfiguration"]["level"],
            "defaultConfiguration.level",
        );
        assert!(
            rules[..i].iter().all(|other| other["id"] != r["id"]),
            "rule ids are unique"
        );
    }
    let results = array(&run["results"], "results");
    for result in results {
        let res = object(result, "result");
        check_message(&res["message"], "result.message");
        let rule_id = string(&res["ruleId"], "ruleId");
        let index = res["ruleIndex"]
            .as_u64()
            .expect("ruleIndex is a non-negative integer");
        assert_eq!(
            rules[index as usize]["id"], rule_id,
            "ruleIndex points at ruleId"
        );
        check_level(&res["level"], "result.level");
        for key in ["locations", "relatedLocations"] {
            if let Some(list) = res.get(key) {
                for loc in array(list, key) {
                    check_location(loc, key);
                }
            }
        }
        if let Some(flows) = res.get("codeFlows") {
            for flow in array(flows, "codeFlows") {
                let threads = array(&object(flow, "codeFlow")["threadFlows"], "threadFlows");
                assert!(
                    !threads.is_empty(),
                    "a code flow has at least one thread flow"
                );
                for thread in threads {
                    let steps = array(
                        &object(thread, "threadFlow")["locations"],
                        "threadFlow.locations",
                    );
                    assert!(!steps.is_empty(), "a thread flow has at least one location");
                    for step in steps {
                        let step = object(step, "threadFlowLocation");
                        if let Some(loc) = step.get("location") {
                            check_location(loc, "threadFlowLocation.location");
                        }
                        if let Some(order) = step.get("executionOrder") {
                            assert!(order.as_i64().is_some_and(|o| o >= -1));
                        }
                        if let Some(importance) = step.get("importance") {
                            let i = string(importance, "importance");
                            assert!(["important", "essential", "unimportant"].contains(&i));
                        }
                    }
                }
            }
        }
        if let Some(prints) = res.get("partialFingerprints") {
            for (_, v) in object(prints, "partialFingerprints") {
                string(v, "partialFingerprint");
            }
        }
    }
    (rules.clone(), results.clone())
}

#[test]
fn sarif_report_meets_the_schema_and_code_scanning() {
    let file = source_file("sarif.rs");
    let r = report(&file);
    let text = report::render(&r, Format::Sarif, false);
    assert!(text.ends_with("}\n"));
    let log: Value = serde_json::from_str(&text).unwrap();
    let (rules, results) = check_sarif(&log);

    // One rule per kind, in order, with the catalogue's help.
    assert_eq!(rules.len(), Kind::ALL.len());
    for (rule, kind) in rules.iter().zip(Kind::ALL) {
        assert_eq!(rule["id"], kind.as_str());
        assert_eq!(rule["shortDescription"]["text"], kind.summary());
        assert_eq!(rule["help"]["markdown"], interlock::catalogue::entry(kind));
        let fix = interlock::catalogue::section(kind, "The fix").unwrap();
        assert!(string(&rule["help"]["text"], "help.text").contains(fix));
        let level = if kind.severity() == interlock::Severity::Error {
            "error"
        } else {
            "warning"
        };
        assert_eq!(rule["defaultConfiguration"]["level"], level);
    }
    assert_eq!(rules[1]["name"], "LockOrderInversion");

    assert_eq!(results.len(), 2);
    let first = &results[0];
    assert_eq!(first["ruleId"], "deadlock");
    assert_eq!(first["ruleIndex"], 0);
    assert_eq!(first["level"], "error");
    assert_eq!(first["message"]["text"], "every live thread is blocked");
    let primary = &first["locations"][0]["physicalLocation"];
    let uri = string(&primary["artifactLocation"]["uri"], "uri");
    assert!(uri.ends_with("report_formats/sarif.rs"), "{uri}");
    if !file.starts_with('/') {
        assert_eq!(uri, file.replace('\\', "/"), "relative paths stay relative");
    }
    assert_eq!(
        primary["region"],
        json!({"startLine": 13, "startColumn": 14})
    );
    let related = array(&first["relatedLocations"], "relatedLocations");
    assert_eq!(related.len(), 3);
    assert_eq!(related[0]["id"], 1);
    assert_eq!(
        related[0]["message"]["text"],
        "`thread 1` waits for `a` while holding `b`"
    );
    assert_eq!(
        related[1]["physicalLocation"]["artifactLocation"]["uri"],
        "no/such/file.rs"
    );
    let flows = array(&first["codeFlows"][0]["threadFlows"], "threadFlows");
    assert_eq!(flows.len(), 2, "one thread flow per agent");
    assert_eq!(flows[1]["id"], "thread 1");
    assert_eq!(flows[1]["locations"][1]["importance"], "essential");
    assert_eq!(flows[1]["locations"][1]["executionOrder"], 4);
    let fingerprint = string(&first["partialFingerprints"]["interlock/v1"], "fingerprint");
    assert_eq!(fingerprint.len(), 16);
    assert_eq!(results[1]["level"], "warning");
    assert_eq!(results[1]["ruleIndex"], 8);

    // Stable from one run to the next, and it says the run was cut short.
    assert_eq!(text, report::render(&r, Format::Sarif, false));
    let notes = &log["runs"][0]["invocations"][0]["toolExecutionNotifications"];
    assert!(string(&notes[0]["message"]["text"], "notification").contains("stopped early"));
}

#[test]
fn sarif_omits_regions_without_a_line_and_allows_empty_runs() {
    let finding = Finding::new(Kind::UnsafeState, "granting P1 leaves the state unsafe")
        .at(&Site::new("state.toml", 0, 0), "the grant");
    let r = Report::new(
        vec![finding],
        Summary {
            files: 1,
            complete: true,
            ..Summary::default()
        },
    );
    let log: Value = serde_json::from_str(&report::render(&r, Format::Sarif, false)).unwrap();
    let (_, results) = check_sarif(&log);
    let physical = &results[0]["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], "state.toml");
    assert!(physical.get("region").is_none(), "{physical}");

    let empty = Report::new(
        Vec::new(),
        Summary {
            files: 0,
            complete: true,
            ..Summary::default()
        },
    );
    let log: Value = serde_json::from_str(&report::render(&empty, Format::Sarif, false)).unwrap();
    let (_, results) = check_sarif(&log);
    assert!(results.is_empty());
}
