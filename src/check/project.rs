//! The scratch cargo project the programs are built in: one binary per
//! program, built together in release, cached between runs so that only
//! what changed is rebuilt.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::input::InputError;

/// Where the scratch projects and their shared build directory live.
pub fn cache_dir() -> PathBuf {
    // Absolute: programs run in their own directories, and find their
    // report's path from there.
    let absolute = |dir: PathBuf| match std::env::current_dir() {
        Ok(cwd) if dir.is_relative() => cwd.join(dir),
        _ => dir,
    };
    if let Some(dir) = std::env::var_os("INTERLOCK_CACHE_DIR") {
        return absolute(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    absolute(base.join("interlock").join("check"))
}

/// Where the instrumented sources of a set live: outside its project
/// directory, so that cargo hands rustc their absolute paths, and the sites
/// a program records can be read back from whatever directory it runs in.
fn sources_dir(set: &str) -> PathBuf {
    cache_dir().join("sources").join(set)
}

/// The instrumented source of one program of a set.
pub fn source_path(set: &str, bin: &str) -> PathBuf {
    sources_dir(set).join(format!("{bin}.rs"))
}

/// The interlock library the programs link against.
fn library_dir() -> PathBuf {
    std::env::var_os("INTERLOCK_SOURCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// A compiler error, at the line and column of the instrumented binary's source.
#[derive(Clone, Debug)]
pub struct CompileError {
    pub message: String,
    pub line: usize,
    pub column: usize,
    pub label: String,
}

/// What building gave each binary.
pub struct Built {
    pub executables: BTreeMap<String, PathBuf>,
    pub errors: BTreeMap<String, Vec<CompileError>>,
}

/// The first error of a crate that is not one of the programs (the runtime
/// library or a dependency): "crate: message".
fn foreign_error(target: &str, message: &serde_json::Value) -> Option<String> {
    (message["level"].as_str() == Some("error")).then(|| {
        format!(
            "{target}: {}",
            message["message"].as_str().unwrap_or("error")
        )
    })
}

/// Writes the project for `bins` (name -> source) and builds it. A project
/// whose build fails outside the programs (a damaged manifest, lock file or
/// source copy) is written anew once and built again, saying so.
pub fn build(set: &str, bins: &BTreeMap<String, String>) -> Result<Built, Box<InputError>> {
    match build_once(set, bins) {
        Err(error) if error.message.starts_with(FOREIGN_FAILURE) => {
            let dir = cache_dir().join(set);
            eprintln!(
                "interlock: the build cache `{}` looks damaged ({}); rebuilding it",
                dir.display(),
                error.message
            );
            std::fs::remove_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
            let _ = std::fs::remove_dir_all(sources_dir(set));
            build_once(set, bins)
        }
        result => result,
    }
}

/// How an error of a build that failed outside the programs starts.
const FOREIGN_FAILURE: &str = "building the programs failed";

fn build_once(set: &str, bins: &BTreeMap<String, String>) -> Result<Built, Box<InputError>> {
    let root = cache_dir();
    let dir = root.join(set);
    let src = sources_dir(set);
    for made in [&dir, &src] {
        std::fs::create_dir_all(made).map_err(|e| io_error(made, e))?;
    }
    let mut manifest = format!(
        "[package]\nname = \"{set}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\nautobins = false\n\n\
         [dependencies]\ninterlock = {{ path = {:?}, default-features = false }}\n\n\
         [profile.release]\ndebug = \"line-tables-only\"\nincremental = true\n\n[workspace]\n",
        library_dir().display().to_string()
    );
    for name in bins.keys() {
        let path = toml::Value::String(source_path(set, name).display().to_string());
        manifest.push_str(&format!(
            "\n[[bin]]\nname = \"{name}\"\npath = {path}\ntest = false\n"
        ));
    }
    write_if_changed(&dir.join("Cargo.toml"), &manifest)?;
    // Binaries of earlier runs would be built too: keep only this run's.
    if let Ok(entries) = std::fs::read_dir(&src) {
        for entry in entries.flatten() {
            let stem = entry
                .path()
                .file_stem()
                .map(|s| s.to_string_lossy().to_string());
            if stem.is_some_and(|s| !bins.contains_key(&s)) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    for (name, source) in bins {
        write_if_changed(&src.join(format!("{name}.rs")), source)?;
    }
    let mut child = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "build",
            "--release",
            "--bins",
            "--keep-going",
            "--message-format=json",
        ])
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", root.join("target"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| {
            Box::new(
                InputError::new(format!("cannot run cargo to build the programs: {e}")).with_help(
                    "interlock check builds each program with cargo; make sure cargo is on PATH",
                ),
            )
        })?;
    let mut built = Built {
        executables: BTreeMap::new(),
        errors: BTreeMap::new(),
    };
    let mut foreign = None;
    let stdout = child.stdout.take().expect("piped stdout");
    for line in std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
    {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let target = message["target"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        match message["reason"].as_str() {
            Some("compiler-artifact") => {
                if let Some(exe) = message["executable"].as_str() {
                    built.executables.insert(target, PathBuf::from(exe));
                }
            }
            Some("compiler-message") if bins.contains_key(&target) => {
                if let Some(error) = compile_error(&message["message"]) {
                    built.errors.entry(target).or_default().push(error);
                }
            }
            Some("compiler-message") if foreign.is_none() => {
                foreign = foreign_error(&target, &message["message"]);
            }
            _ => {}
        }
    }
    let status = child.wait().map_err(|e| io_error(&dir, e))?;
    if !status.success() && built.errors.is_empty() {
        let why = match foreign {
            Some(error) => format!("{FOREIGN_FAILURE} in a crate they depend on: {error}"),
            None => {
                format!("{FOREIGN_FAILURE} (cargo exited with {status}) without an error in them")
            }
        };
        return Err(Box::new(InputError::new(why).with_help(format!(
            "run `cargo build --release --manifest-path {}` to see why",
            dir.join("Cargo.toml").display()
        ))));
    }
    Ok(built)
}

fn compile_error(message: &serde_json::Value) -> Option<CompileError> {
    if message["level"].as_str() != Some("error") {
        return None;
    }
    let spans = message["spans"].as_array()?;
    let primary = spans
        .iter()
        .find(|s| s["is_primary"].as_bool() == Some(true))
        .or_else(|| spans.first());
    let (line, column, label) = match primary {
        Some(span) => (
            span["line_start"].as_u64().unwrap_or(0) as usize,
            span["column_start"].as_u64().unwrap_or(0) as usize,
            span["label"].as_str().unwrap_or_default().to_string(),
        ),
        None => (0, 0, String::new()),
    };
    Some(CompileError {
        message: message["message"].as_str().unwrap_or("error").to_string(),
        line,
        column,
        label,
    })
}

fn write_if_changed(path: &Path, text: &str) -> Result<(), Box<InputError>> {
    // Unchanged files keep their modification time, so cargo rebuilds nothing.
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    std::fs::write(path, text).map_err(|e| io_error(path, e))
}

fn io_error(path: &Path, e: std::io::Error) -> Box<InputError> {
    Box::new(
        InputError::new(format!("cannot write `{}`: {e}", path.display()))
            .with_help("set INTERLOCK_CACHE_DIR to a writable directory for the programs' build"),
    )
}
