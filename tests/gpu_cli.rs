//! End-to-end tests of `interlock gpu`: exit codes, the JSON shape, the
//! human report's snippets, `--lenient`, sources from `file`/`line`, and
//! malformed traces naming the op's index.

use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

fn interlock(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_interlock"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("COLUMNS", "120")
        .output()
        .expect("the interlock binary runs")
}

/// A trace in the temp dir with a name no other test (or run) uses.
fn temp_trace(text: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("interlock-gpu-{}-{n}.json", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

fn json_of(args: &[&str]) -> (i32, Value) {
    let out = interlock(args);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), value)
}

fn stderr_of(text: &str) -> (i32, String) {
    let path = temp_trace(text);
    let out = interlock(&["gpu", path.to_str().unwrap()]);
    let _ = std::fs::remove_file(&path);
    assert!(out.stdout.is_empty(), "nothing on stdout for bad input");
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_race_exits_1_with_the_contracts_json() {
    let path = "fixtures/gpu/missing-event.json";
    let (code, r) = json_of(&["gpu", path, "--format", "json"]);
    assert_eq!(code, 1);
    assert_eq!(r["version"], 1);
    assert_eq!(
        r["summary"],
        json!({"files": 1, "executions": 0, "complete": true})
    );
    assert_eq!(r["ops"], 3);
    assert_eq!(r["streams"], 2);
    assert_eq!(r["default_stream"], "legacy");
    assert_eq!(r["lenient"], false);
    let findings = r["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    let f = &findings[0];
    assert_eq!(f["kind"], "stream-race");
    assert_eq!(f["severity"], "error");
    assert_eq!(
        f["message"],
        "stream race on `x`: kernel `produce` on stream 1 writes it (ops[1]) and kernel \
         `consume` on stream 0 reads it (ops[2]), and nothing orders the two"
    );
    assert_eq!(
        f["help"],
        "record an event on stream 1 after kernel `produce` (ops[1]) and make stream 0 wait \
         on it before kernel `consume` (ops[2])"
    );
    assert_eq!(
        f["locations"],
        json!([
            {"file": path, "line": 10, "column": 12,
             "label": "`x` written by kernel `produce` on stream 1 (ops[1])"},
            {"file": path, "line": 11, "column": 12,
             "label": "`x` read by kernel `consume` on stream 0 (ops[2]), unordered with ops[1]"}
        ])
    );
    let trace = f["trace"].as_array().unwrap();
    assert_eq!(trace[0]["agent"], "stream 1");
    assert_eq!(trace[0]["action"], "kernel `produce` writes `x`");
    assert_eq!(trace[0]["highlight"], true);
    assert_eq!(trace[1]["agent"], "stream 0");
    assert!(f["notes"][0].as_str().unwrap().contains("non-blocking"));
}

#[test]
fn a_clean_trace_exits_0() {
    let (code, r) = json_of(&["gpu", "fixtures/gpu/event.json", "--format", "json"]);
    assert_eq!(code, 0);
    assert_eq!(r["findings"], json!([]));
    let out = interlock(&["gpu", "fixtures/gpu/event.json"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("5 ops, 2 streams (legacy default stream)"),
        "{text}"
    );
    assert!(
        text.contains("no concurrency bugs found in 1 file"),
        "{text}"
    );
}

#[test]
fn the_human_report_shows_the_op_in_the_trace() {
    let out = interlock(&["gpu", "fixtures/gpu/pinned-source-overwrite.json"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    for wanted in [
        "stream-race",
        r#"{"op": "host_write", "buffer": "staging"}"#,
        "help: synchronize stream 1",
        "pinned memory",
        "interleaving",
    ] {
        assert!(text.contains(wanted), "missing {wanted:?} in:\n{text}");
    }
}

#[test]
fn sarif_works_too() {
    let (code, r) = json_of(&[
        "gpu",
        "fixtures/gpu/free-without-record-stream.json",
        "--format",
        "sarif",
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        r["runs"][0]["results"][0]["ruleId"],
        "stream-use-after-free"
    );
}

const HOST_FREE: &str = r#"{"version": 1, "streams": [{"id": 1, "blocking": false}], "ops": [
  {"op": "alloc", "buffer": "x", "space": "device"},
  {"op": "kernel", "stream": 1, "name": "use", "reads": ["x"], "file": "train.py", "line": 40},
  {"op": "free", "buffer": "x", "file": "train.py", "line": 41}
]}"#;

#[test]
fn lenient_treats_free_as_a_device_synchronize() {
    let path = temp_trace(HOST_FREE);
    let p = path.to_str().unwrap();
    let (code, r) = json_of(&["gpu", p, "--format", "json"]);
    assert_eq!(code, 1);
    let f = &r["findings"][0];
    assert_eq!(f["kind"], "stream-use-after-free");
    // Ops with a source are located there and named by it.
    assert_eq!(f["locations"][0]["file"], "train.py");
    assert_eq!(f["locations"][0]["line"], 41);
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("(ops[1], train.py:40)"),
        "{f}"
    );
    let (code, r) = json_of(&["gpu", p, "--lenient", "--format", "json"]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["lenient"], true);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn output_goes_to_a_file_when_asked() {
    let out_path =
        std::env::temp_dir().join(format!("interlock-gpu-out-{}.json", std::process::id()));
    let out = interlock(&[
        "gpu",
        "fixtures/gpu/two-streams-write.json",
        "--format",
        "json",
        "--output",
        out_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    assert_eq!(r["findings"][0]["kind"], "stream-race");
    assert!(r["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("`backward_a` on stream 1 writes it"));
    let _ = std::fs::remove_file(&out_path);
}

#[test]
fn malformed_traces_exit_2_naming_the_op() {
    let cases = [
        (
            r#"{"version": 1, "ops": [
  {"op": "device_sync"},
  {"op": "kernel", "stream": 4, "name": "k"}
]}"#,
            "ops[1] (`kernel`): stream 4 is not declared",
        ),
        (
            r#"{"version": 1, "ops": [
  {"op": "device_sync"},
  {"op": "memcpy", "stream": 0, "src": "a", "dst": "b"}
]}"#,
            "ops[1] (`memcpy`): missing `async`",
        ),
        (
            r#"{"version": 1, "ops": [
  {"op": "device_sync"},
  {"op": "launch", "stream": 0}
]}"#,
            "ops[1]: unknown op `launch`",
        ),
        (
            r#"{"version": 1, "ops": [
  {"op": "alloc", "buffer": "x"},
  {"op": "alloc", "buffer": "x"}
]}"#,
            "malformed trace: ops[1]: `x` is allocated again while live (allocated at ops[0])",
        ),
        (
            "{\"version\": 1, \"ops\": [\n  {\"op\": \"device_sync\"}\n  {\"op\": \"device_sync\"}\n]}",
            "malformed JSON: expected `,` or `]`",
        ),
    ];
    for (text, wanted) in cases {
        let (code, stderr) = stderr_of(text);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(stderr.contains(".json:3:"), "the op's line: {stderr}");
        assert!(stderr.contains(wanted), "wanted {wanted:?} in:\n{stderr}");
    }
}

#[test]
fn a_missing_file_or_bad_arguments_exit_2() {
    let out = interlock(&["gpu", "no/such/trace.json"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("cannot read `no/such/trace.json`: no such file"),
        "{stderr}"
    );
    let out = interlock(&["gpu"]);
    assert_eq!(out.status.code(), Some(2));
    let out = interlock(&["gpu", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("--lenient"), "{help}");
    assert!(help.contains("stream_wait_event"), "{help}");
}

#[test]
fn a_key_written_twice_is_an_error_not_the_last_value() {
    // Two streams writing one buffer race; a second `"stream"` in the second
    // op would make both ops run on stream 1 and the race disappear.
    let racy = r#"{"version": 1, "streams": [{"id": 1}, {"id": 2}], "ops": [
  {"op": "kernel", "stream": 1, "name": "a", "writes": ["x"]},
  {"op": "kernel", "stream": 2, "name": "b", "writes": ["x"], "stream": 1}
]}"#;
    let (code, stderr) = stderr_of(racy);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(".json:3:63: duplicate key `stream` in ops[1]"),
        "{stderr}"
    );
    assert!(stderr.contains("already given on line 3"), "{stderr}");
    // A second `ops` would empty the trace.
    let emptied = r#"{"version": 1, "streams": [{"id": 1}], "ops": [
  {"op": "kernel", "stream": 1, "name": "a", "writes": ["x"]},
  {"op": "kernel", "stream": 0, "name": "b", "reads": ["x"]}
],
"ops": []}"#;
    let (code, stderr) = stderr_of(emptied);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(".json:5:1: duplicate key `ops` in the trace"),
        "{stderr}"
    );
}

#[test]
fn a_byte_order_mark_is_accepted() {
    let text = std::fs::read_to_string("fixtures/gpu/missing-event.json").unwrap();
    let path = temp_trace(&format!("\u{feff}{text}"));
    let (code, r) = json_of(&["gpu", path.to_str().unwrap(), "--format", "json"]);
    let _ = std::fs::remove_file(&path);
    assert_eq!(code, 1);
    assert_eq!(r["findings"][0]["kind"], "stream-race");
    let (plain, _) = json_of(&["gpu", "fixtures/gpu/missing-event.json", "--format", "json"]);
    assert_eq!(plain, 1);
}

#[test]
fn the_example_in_the_help_is_a_trace_that_parses() {
    let out = interlock(&["gpu", "--help"]);
    let help = String::from_utf8(out.stdout).unwrap();
    let start = help.find("  {\n").expect("an example in the help");
    let end = start + help[start..].find("\n  }\n").expect("its end") + 4;
    let path = temp_trace(&help[start..end]);
    let (code, r) = json_of(&["gpu", path.to_str().unwrap(), "--format", "json"]);
    let _ = std::fs::remove_file(&path);
    assert_eq!(code, 1, "the example shows a race");
    assert_eq!(r["ops"], 3);
    assert_eq!(r["findings"][0]["kind"], "stream-race");
}

#[test]
fn a_long_trace_names_the_ops_of_a_race_far_apart() {
    // The racing write comes first and the read after thousands of ops: the
    // checker keeps no op, and the report reads back the two it names.
    let mut ops =
        vec![r#"{"op": "kernel", "stream": 1, "name": "fill", "writes": ["x"]}"#.to_string()];
    for i in 0..5000 {
        ops.push(format!(
            r#"{{"op": "kernel", "stream": 0, "name": "k{}", "writes": ["y{i}"]}}"#,
            i % 7
        ));
    }
    ops.push(r#"{"op": "host_read", "buffer": "x", "line": 77}"#.to_string());
    let text = format!(
        "{{\"version\": 1, \"streams\": [{{\"id\": 1, \"blocking\": false}}], \"ops\": [\n{}\n]}}",
        ops.join(",\n")
    );
    let path = temp_trace(&text);
    let (code, r) = json_of(&["gpu", path.to_str().unwrap(), "--format", "json"]);
    let _ = std::fs::remove_file(&path);
    assert_eq!(code, 1);
    assert_eq!(r["ops"], 5002);
    let findings = r["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{r}");
    let f = &findings[0];
    assert_eq!(
        f["message"],
        "stream race on `x`: kernel `fill` on stream 1 writes it (ops[0]) and the host reads \
         it (ops[5001], line 77), and nothing orders the two"
    );
    let lines: Vec<u64> = f["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 5003], "the ops' places in the trace");
}

#[test]
fn a_directory_or_a_fifo_is_refused_as_not_a_regular_file() {
    let out = interlock(&["gpu", "fixtures/gpu"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("not a regular file"), "{stderr}");
    // A FIFO would block the reader until something writes to it.
    let fifo = std::env::temp_dir().join(format!("interlock-gpu-fifo-{}.json", std::process::id()));
    let made = Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let out = interlock(&["gpu", fifo.to_str().unwrap()]);
        let _ = std::fs::remove_file(&fifo);
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains("not a regular file"), "{stderr}");
    }
}
