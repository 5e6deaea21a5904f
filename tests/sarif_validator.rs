//! The SARIF interlock writes is accepted by Microsoft's validator with the
//! rules code-scanning services apply (`--rule-kind "Sarif;Gh"`): no error
//! and no warning.
//!
//! The validator is the npm package `@microsoft/sarif-multitool`, installed
//! under `target/tools/sarif-multitool` (by `.ci/run`, or here when it is
//! missing). The test is skipped, saying why, only when npm is absent.

use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const PACKAGE: &str = "@microsoft/sarif-multitool";

fn install_dir() -> PathBuf {
    Path::new(ROOT).join("target/tools/sarif-multitool")
}

/// The validator's executable, installed when missing; `Err` says why
/// there is none.
fn validator() -> Result<PathBuf, String> {
    let dir = install_dir();
    // The package resolves to the binary for this platform.
    let locate = || {
        Command::new("node")
            .args(["-p", &format!("require('{PACKAGE}')")])
            .current_dir(&dir)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
            .filter(|p| p.is_file())
    };
    if let Some(path) = locate() {
        return executable(path);
    }
    if Command::new("npm").arg("--version").output().is_err() {
        return Err("npm is not installed (`.ci/run` installs the validator)".into());
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let out = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir)
        .arg(PACKAGE)
        .output()
        .map_err(|e| format!("npm does not run: {e}"))?;
    assert!(
        out.status.success(),
        "npm install {PACKAGE} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    executable(locate().expect("the validator is installed"))
}

/// npm may leave the package's install script (a `chmod`) unrun.
fn executable(path: PathBuf) -> Result<PathBuf, String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut permissions = std::fs::metadata(&path)
            .map_err(|e| e.to_string())?
            .permissions();
        if permissions.mode() & 0o100 == 0 {
            permissions.set_mode(permissions.mode() | 0o100);
            std::fs::set_permissions(&path, permissions).map_err(|e| e.to_string())?;
        }
    }
    Ok(path)
}

/// Runs interlock with `args` and returns its SARIF (stdout).
fn sarif_of(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_interlock"))
        .args(args)
        .current_dir(ROOT)
        .output()
        .expect("interlock runs");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("SARIF is UTF-8")
}

/// The validator's complaints about `log`: lines with `: error ` or
/// `: warning ` and a rule id.
fn complaints(validator: &Path, name: &str, log: &str) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("interlock-sarif-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join(format!("{name}.sarif"));
    let output = dir.join(format!("{name}.validation.sarif"));
    std::fs::write(&input, log).unwrap();
    let _ = std::fs::remove_file(&output);
    let out = Command::new(validator)
        .args(["validate", "--rule-kind", "Sarif;Gh", "--output"])
        .arg(&output)
        .arg(&input)
        .output()
        .expect("the validator runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("Analysis completed successfully"),
        "the validator did not finish:\n{text}"
    );
    text.lines()
        .filter(|l| l.contains(": error ") || l.contains(": warning "))
        .map(str::to_string)
        .collect()
}

#[test]
fn sarif_passes_the_code_scanning_validator_without_an_error_or_a_warning() {
    let validator = match validator() {
        Ok(path) => path,
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    // Findings with locations, code flows and related locations; a GPU
    // trace's findings; and a clean run with no result.
    let logs = [
        (
            "scan",
            sarif_of(&["scan", "tests/scan/cases", "--format", "sarif"]),
        ),
        (
            "gpu",
            sarif_of(&[
                "gpu",
                "fixtures/gpu/d2h-non-blocking-read.json",
                "--format",
                "sarif",
            ]),
        ),
        (
            "clean",
            sarif_of(&[
                "scan",
                "tests/scan/cases/temporaries_clean.rs",
                "--format",
                "sarif",
            ]),
        ),
    ];
    for (name, log) in &logs {
        assert!(log.contains("\"results\""), "{name}: {log}");
        let found = complaints(&validator, name, log);
        assert!(found.is_empty(), "{name}:\n{}", found.join("\n"));
    }
}
