//! `interlock scan` from the command line: exit codes, the JSON and SARIF
//! the contract promises, configuration (and its errors), inline allows,
//! baselines, and files that do not parse.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn interlock_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_interlock"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the interlock binary runs")
}

fn interlock(args: &[&str]) -> Output {
    interlock_in(Path::new(ROOT), args)
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", stdout(o)))
}

/// A fresh directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("interlock-scan-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    dir
}

/// A crate with one double lock at `src/lib.rs:6` and one recursive read
/// (a warning) at `src/lib.rs:11`.
fn buggy_crate(name: &str) -> PathBuf {
    let dir = temp_dir(name);
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"buggy\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("src/lib.rs"),
        "use std::sync::{Mutex, RwLock};\n\
         pub struct S { m: Mutex<u32>, r: RwLock<u32> }\n\
         impl S {\n\
         \x20   pub fn twice(&self) {\n\
         \x20       let _a = self.m.lock().unwrap();\n\
         \x20       let _b = self.m.lock().unwrap();\n\
         \x20   }\n\
         \x20   pub fn reads(&self) -> u32 {\n\
         \x20       let a = self.r.read().unwrap();\n\
         \x20       let b = *a + 1;\n\
         \x20       b + *self.r.read().unwrap()\n\
         \x20   }\n\
         }\n",
    )
    .unwrap();
    dir
}

fn kinds_and_lines(report: &Value) -> Vec<(String, u64)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                f["locations"][0]["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn findings_of_error_severity_exit_1_and_json_follows_the_contract() {
    let dir = buggy_crate("json");
    let out = interlock_in(&dir, &["scan", "--format", "json"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["version"], 1);
    assert_eq!(report["summary"]["files"], 1);
    assert_eq!(report["summary"]["executions"], 0);
    assert_eq!(report["summary"]["complete"], true);
    assert_eq!(
        kinds_and_lines(&report),
        vec![
            ("double-lock".to_string(), 6),
            ("recursive-read".to_string(), 11)
        ]
    );
    let first = &report["findings"][0];
    assert_eq!(first["severity"], "error");
    assert_eq!(first["locations"][0]["file"], "src/lib.rs");
    assert_eq!(
        first["locations"][1]["line"], 5,
        "where the lock was first taken"
    );
    assert!(first["locations"][0]["label"]
        .as_str()
        .unwrap()
        .contains("S.m"));
    assert!(first["trace"].as_array().unwrap().len() >= 2);
    assert_eq!(report["findings"][1]["severity"], "warning");
}

#[test]
fn a_clean_crate_and_warnings_only_exit_0() {
    let dir = temp_dir("clean");
    std::fs::write(
        dir.join("src/lib.rs"),
        "use std::sync::Mutex;\npub fn f(m: &Mutex<u32>) -> u32 { *m.lock().unwrap() }\n",
    )
    .unwrap();
    let out = interlock(&["scan", dir.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert!(
        stdout(&out).contains("no concurrency bugs found"),
        "{}",
        stdout(&out)
    );

    let dir = buggy_crate("warnings-only");
    std::fs::write(dir.join("interlock.toml"), "allow = [\"double-lock\"]\n").unwrap();
    let out = interlock_in(&dir, &["scan", "--format", "json"]);
    assert_eq!(code(&out), 0, "a warning does not fail the gate");
    assert_eq!(
        kinds_and_lines(&json(&out)),
        vec![("recursive-read".to_string(), 11)]
    );
}

#[test]
fn human_output_shows_the_path_with_snippets() {
    let out = interlock(&["scan", "tests/scan/cases/interprocedural.rs"]);
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    assert!(text.contains("error[interlock::double-lock]"), "{text}");
    assert!(
        text.contains("calls `register` while `REGISTRY` is held"),
        "{text}"
    );
    assert!(
        text.contains("`REGISTRY` locked here, in `register`"),
        "{text}"
    );
    assert!(text.contains("interleaving"), "{text}");
}

#[test]
fn sarif_is_produced_for_code_scanning() {
    let dir = buggy_crate("sarif");
    let out = interlock_in(&dir, &["scan", "--format", "sarif"]);
    assert_eq!(code(&out), 1);
    let log = json(&out);
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "interlock");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["ruleId"], "double-lock");
    assert_eq!(results[0]["level"], "error");
    let place = &results[0]["locations"][0]["physicalLocation"];
    assert_eq!(place["artifactLocation"]["uri"], "src/lib.rs");
    assert_eq!(place["region"]["startLine"], 6);
}

#[test]
fn output_goes_to_a_file_when_asked() {
    let dir = buggy_crate("output");
    let file = dir.join("report.json");
    let out = interlock_in(
        &dir,
        &[
            "scan",
            "--format",
            "json",
            "--output",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).is_empty());
    let report: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    assert_eq!(report["findings"].as_array().unwrap().len(), 2);
}

#[test]
fn missing_paths_and_bad_configuration_exit_2_with_a_located_diagnostic() {
    let out = interlock(&["scan", "does/not/exist"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("does/not/exist"), "{}", stderr(&out));

    let dir = buggy_crate("badconfig");
    std::fs::write(
        dir.join("interlock.toml"),
        "exclude = [\"benches\"]\nallow = [\"double-lock\", \"dubble-lock\"]\n",
    )
    .unwrap();
    let out = interlock_in(&dir, &["scan"]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("interlock.toml:2:"), "{err}");
    assert!(err.contains("unknown finding kind `dubble-lock`"), "{err}");

    std::fs::write(dir.join("interlock.toml"), "alow = []\n").unwrap();
    let out = interlock_in(&dir, &["scan"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("interlock.toml:1:1"),
        "{}",
        stderr(&out)
    );

    std::fs::write(dir.join("interlock.toml"), "lock-order = [\"A\"\n").unwrap();
    let out = interlock_in(&dir, &["scan"]);
    assert_eq!(code(&out), 2, "malformed TOML");

    let out = interlock_in(&dir, &["scan", "--config", "nope.toml"]);
    assert_eq!(code(&out), 2);
}

#[test]
fn configuration_in_cargo_metadata_is_read_and_checked() {
    let dir = buggy_crate("metadata");
    let manifest = "[package]\nname = \"buggy\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                    [package.metadata.interlock]\nallow = [\"recursive-read\"]\ndeny = [\"double-lock\"]\n";
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    let out = interlock_in(&dir, &["scan", "--format", "json"]);
    assert_eq!(
        kinds_and_lines(&json(&out)),
        vec![("double-lock".to_string(), 6)]
    );
    let bad = manifest.replace("recursive-read", "recursive-reed");
    std::fs::write(dir.join("Cargo.toml"), bad).unwrap();
    let out = interlock_in(&dir, &["scan"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("Cargo.toml:7:"), "{}", stderr(&out));
}

#[test]
fn denied_warnings_fail_the_gate_and_excluded_paths_are_not_read() {
    let dir = buggy_crate("deny");
    std::fs::write(
        dir.join("interlock.toml"),
        "allow = [\"double-lock\"]\ndeny = [\"recursive-read\"]\n",
    )
    .unwrap();
    let out = interlock_in(&dir, &["scan", "--format", "json"]);
    assert_eq!(code(&out), 1);
    assert_eq!(json(&out)["findings"][0]["severity"], "error");

    // Excluding every file leaves nothing checked: not a pass.
    std::fs::write(dir.join("interlock.toml"), "exclude = [\"src/lib.rs\"]\n").unwrap();
    let out = interlock_in(&dir, &["scan", "--format", "json"]);
    assert_eq!(code(&out), 2);
    assert!(stdout(&out).is_empty());
}

#[test]
fn declared_lock_orders_are_checked() {
    let dir = temp_dir("order");
    std::fs::write(
        dir.join("src/lib.rs"),
        "use std::sync::Mutex;\n\
         pub struct Bank { accounts: Mutex<u32>, log: Mutex<u32> }\n\
         impl Bank {\n\
         \x20   pub fn audit(&self) {\n\
         \x20       let _log = self.log.lock().unwrap();\n\
         \x20       let _accounts = self.accounts.lock().unwrap();\n\
         \x20   }\n\
         }\n",
    )
    .unwrap();
    let out = interlock_in(&dir, &["scan", "--format", "json"]);
    assert_eq!(code(&out), 0, "one order alone is no cycle");
    std::fs::write(
        dir.join("interlock.toml"),
        "lock-order = [[\"Bank.accounts\", \"Bank.log\"]]\n",
    )
    .unwrap();
    let out = interlock_in(&dir, &["scan", "--format", "json"]);
    assert_eq!(code(&out), 1);
    let report = json(&out);
    assert_eq!(
        kinds_and_lines(&report),
        vec![("lock-order-inversion".to_string(), 6)]
    );
    assert!(report["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("declared order"));
}

#[test]
fn inline_allows_apply_to_the_line_and_the_enclosing_item() {
    let dir = buggy_crate("allow");
    let lib = dir.join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    let on_line = text.replace(
        "let _b = self.m.lock().unwrap();",
        "let _b = self.m.lock().unwrap(); // interlock: allow(double-lock)",
    );
    std::fs::write(&lib, &on_line).unwrap();
    let out = interlock_in(&dir, &["scan", "--format", "json"]);
    assert_eq!(
        kinds_and_lines(&json(&out)),
        vec![("recursive-read".to_string(), 11)]
    );
    assert_eq!(json(&out)["scan"]["allowed"], 1);

    let on_item = text.replace(
        "    pub fn reads",
        "    // interlock: allow(recursive-read)\n    pub fn reads",
    );
    std::fs::write(&lib, on_item).unwrap();
    let out = interlock_in(&dir, &["scan", "--format", "json"]);
    assert_eq!(
        kinds_and_lines(&json(&out)),
        vec![("double-lock".to_string(), 6)]
    );

    let wrong_kind = text.replace(
        "impl S {",
        "// interlock: allow(condvar-misuse, not-a-kind)\nimpl S {",
    );
    std::fs::write(&lib, wrong_kind).unwrap();
    let out = interlock_in(&dir, &["scan", "--format", "json"]);
    assert_eq!(json(&out)["findings"].as_array().unwrap().len(), 2);
    assert!(stderr(&out).contains("not-a-kind"), "{}", stderr(&out));
}

#[test]
fn baselines_hold_back_known_findings_and_let_new_ones_fail() {
    let dir = buggy_crate("baseline");
    let out = interlock_in(
        &dir,
        &[
            "scan",
            "--write-baseline",
            "baseline.json",
            "--format",
            "json",
        ],
    );
    assert_eq!(code(&out), 0, "writing a baseline accepts what is there");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("baseline.json")).unwrap()).unwrap();
    assert_eq!(saved["version"], 1);
    assert_eq!(saved["findings"].as_array().unwrap().len(), 2);

    // Lines move: the baseline still holds the old findings back.
    let lib = dir.join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, format!("// a new first line\n{text}")).unwrap();
    let out = interlock_in(
        &dir,
        &["scan", "--baseline", "baseline.json", "--format", "json"],
    );
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert!(json(&out)["findings"].as_array().unwrap().is_empty());
    assert!(
        stderr(&out).contains("2 findings in the baseline"),
        "{}",
        stderr(&out)
    );

    // A new bug fails the gate.
    let text = std::fs::read_to_string(&lib).unwrap();
    let worse = text.replace(
        "    pub fn reads",
        "    pub fn thrice(&self) { let _a = self.m.lock().unwrap(); let _c = self.m.try_lock(); let _b = self.m.lock().unwrap(); }\n    pub fn reads",
    );
    std::fs::write(&lib, worse).unwrap();
    let out = interlock_in(
        &dir,
        &["scan", "--baseline", "baseline.json", "--format", "json"],
    );
    assert_eq!(code(&out), 1);
    assert_eq!(json(&out)["findings"].as_array().unwrap().len(), 1);

    std::fs::write(
        dir.join("broken.json"),
        "{\"version\": 1,\n \"findings\": [oops]}",
    )
    .unwrap();
    let out = interlock_in(&dir, &["scan", "--baseline", "broken.json"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("broken.json:2:"), "{}", stderr(&out));
}

#[test]
fn unparsable_files_are_warnings_and_the_rest_is_scanned() {
    let dir = buggy_crate("unparsable");
    std::fs::write(dir.join("src/broken.rs"), "fn main( {\n").unwrap();
    let out = interlock_in(&dir, &["scan", "--format", "json"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("src/broken.rs:1:"), "{err}");
    assert!(err.contains("cannot parse"), "{err}");
    let report = json(&out);
    assert_eq!(report["summary"]["files"], 1);
    assert_eq!(report["scan"]["skipped"].as_array().unwrap().len(), 1);
    assert_eq!(report["findings"].as_array().unwrap().len(), 2);
}

#[test]
fn a_file_that_is_not_utf8_is_scanned_with_a_warning_not_counted_lock_free() {
    let dir = temp_dir("latin1");
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"latin\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    // `// caf\xe9` in Latin-1, above a double lock.
    let mut text = b"// caf\xe9\nuse std::sync::Mutex;\n".to_vec();
    text.extend_from_slice(
        b"pub fn f(m: &Mutex<u8>) {\n    let a = m.lock().unwrap();\n    let b = m.lock().unwrap();\n    drop((a, b));\n}\n",
    );
    std::fs::write(dir.join("src/lib.rs"), text).unwrap();
    let out = interlock_in(&dir, &["scan", "--format", "json"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("src/lib.rs: not UTF-8"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        kinds_and_lines(&json(&out)),
        [("double-lock".to_string(), 5)]
    );
}

/// `cargo metadata --no-deps` of the workspace at `dir`: each member's
/// manifest directory.
fn cargo_members(dir: &Path) -> Vec<PathBuf> {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(dir)
        .output()
        .expect("cargo runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let metadata = json(&out);
    metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            Path::new(p["manifest_path"].as_str().unwrap())
                .parent()
                .unwrap()
                .to_path_buf()
        })
        .collect()
}

fn rs_files_under(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| {
                    let path = e.path();
                    if path.is_dir() {
                        rs_files_under(&path)
                    } else {
                        usize::from(path.extension().is_some_and(|x| x == "rs"))
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn a_workspace_is_scanned_as_cargo_sees_it_members_from_path_dependencies_included() {
    let root = Path::new(ROOT).join("tests/scan/crates/pathdeps");
    let members = cargo_members(&root);
    // The root lists two members; the other four are path dependencies.
    assert_eq!(members.len(), 6, "{members:?}");
    let files: usize = members.iter().map(|m| rs_files_under(&m.join("src"))).sum();

    let out = interlock(&["scan", "tests/scan/crates/pathdeps", "--format", "json"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["scan"]["crates"], members.len());
    assert_eq!(report["summary"]["files"], files);
    assert!(
        stderr(&out).contains(&format!("scanned {files} files in 6 crates")),
        "{}",
        stderr(&out)
    );
    // Found only through a path dependency of a path dependency; the
    // excluded crate and the nested workspace (the same bug) are not read.
    let found: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["locations"][0]["file"].as_str().unwrap())
        .collect();
    assert_eq!(found, ["tests/scan/crates/pathdeps/libs/util/src/lib.rs"]);
    assert_eq!(kinds_and_lines(&report), [("double-lock".to_string(), 12)]);
}

#[test]
fn a_member_that_does_not_exist_and_an_empty_manifest_are_warnings_not_silence() {
    let dir = temp_dir("members");
    std::fs::write(
        dir.join("Cargo.toml"),
        "[workspace]\nmembers = [\"gone\", \"bare\"]\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("bare/src")).unwrap();
    std::fs::write(dir.join("bare/Cargo.toml"), "").unwrap();
    std::fs::write(
        dir.join("bare/src/lib.rs"),
        "use std::sync::Mutex;\npub fn f(m: &Mutex<u8>) {\n    let a = m.lock().unwrap();\n    let b = m.lock().unwrap();\n    drop((a, b));\n}\n",
    )
    .unwrap();
    let out = interlock_in(&dir, &["scan", "--format", "json"]);
    let err = stderr(&out);
    assert!(err.contains("member `gone`"), "{err}");
    assert!(err.contains("neither [package] nor [workspace]"), "{err}");
    assert_eq!(code(&out), 1, "{err}");
    assert_eq!(
        kinds_and_lines(&json(&out)),
        [("double-lock".to_string(), 4)]
    );

    // An empty Cargo.toml given directly does not hide its `src/` either.
    let out = interlock_in(&dir.join("bare"), &["scan", "--format", "json"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
}

#[test]
fn nothing_left_to_scan_exits_2() {
    let dir = temp_dir("nothing");
    let out = interlock_in(&dir, &["scan"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no `.rs` file found"),
        "{}",
        stderr(&out)
    );

    std::fs::write(
        dir.join("src/broken.rs"),
        "static M: std::sync::Mutex<u8> = std::sync::Mutex::new(0);\nfn main( {\n",
    )
    .unwrap();
    let out = interlock_in(&dir, &["scan", "--format", "json"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("src/broken.rs:2:"), "{err}");
    assert!(err.contains("every file was skipped"), "{err}");
}

#[cfg(unix)]
#[test]
fn fifos_and_dangling_links_are_skipped_never_opened() {
    let dir = buggy_crate("fifo");
    let fifo = dir.join("src/pipe.rs");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mkfifo is not available");
        return;
    }
    std::os::unix::fs::symlink(dir.join("src/nowhere.rs"), dir.join("src/dangling.rs")).unwrap();
    std::os::unix::fs::symlink(&dir, dir.join("src/loop")).unwrap();
    let out = interlock_in(&dir, &["scan", "--format", "json"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("src/pipe.rs: skipped: not a regular file"),
        "{err}"
    );
    assert!(err.contains("src/dangling.rs: skipped"), "{err}");
    assert!(err.contains("src/loop` is a link to a directory"), "{err}");
    let report = json(&out);
    assert_eq!(report["scan"]["skipped"].as_array().unwrap().len(), 2);
    assert_eq!(report["summary"]["files"], 1);

    // Named on the command line, a FIFO is input that cannot be used.
    let out = interlock_in(&dir, &["scan", "src/pipe.rs"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn paths_can_be_single_files_plain_directories_and_workspaces() {
    let out = interlock(&["scan", "tests/scan/crates/workspace", "--format", "json"]);
    assert_eq!(code(&out), 1);
    let report = json(&out);
    assert_eq!(
        report["summary"]["files"], 3,
        "target/ and hidden directories are skipped"
    );
    let files: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["locations"][0]["file"].as_str().unwrap())
        .collect();
    assert!(files
        .iter()
        .all(|f| f.starts_with("tests/scan/crates/workspace/crates/app/")));

    let out = interlock(&[
        "scan",
        "tests/scan/cases/condvar_misuse.rs",
        "tests/scan/cases/recursive_read.rs",
        "--format",
        "json",
    ]);
    assert_eq!(json(&out)["summary"]["files"], 2);

    let out = interlock(&["scan", "tests/scan/cases", "--format", "json"]);
    assert_eq!(code(&out), 1);
    assert!(json(&out)["summary"]["files"].as_u64().unwrap() >= 20);
}

#[test]
fn reports_are_the_same_whatever_the_number_of_threads() {
    let one = interlock(&[
        "scan",
        "tests/scan/cases",
        "--format",
        "json",
        "--jobs",
        "1",
    ]);
    let four = interlock(&[
        "scan",
        "tests/scan/cases",
        "--format",
        "json",
        "--jobs",
        "4",
    ]);
    assert_eq!(code(&one), 1);
    assert_eq!(stdout(&one), stdout(&four));
}
