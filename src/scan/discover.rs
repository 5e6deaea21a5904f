//! Discovery: which `.rs` files a scan reads, which crate each belongs to,
//! its module path and its edition.
//!
//! A PATH is a crate or workspace directory (its Cargo.toml gives the
//! edition, the members and the source roots), a directory of `.rs` files
//! (crates found inside it are read as crates), or a single file. `target/`
//! and hidden directories are skipped, and so are the paths the
//! configuration excludes.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use super::ir::Sym;
use crate::input::InputError;

/// The Rust edition, as far as it changes how long temporaries live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Edition {
    E2015,
    E2018,
    #[default]
    E2021,
    E2024,
}

impl Edition {
    pub fn parse(s: &str) -> Option<Edition> {
        Some(match s {
            "2015" => Edition::E2015,
            "2018" => Edition::E2018,
            "2021" => Edition::E2021,
            "2024" => Edition::E2024,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Edition::E2015 => "2015",
            Edition::E2018 => "2018",
            Edition::E2021 => "2021",
            Edition::E2024 => "2024",
        }
    }
}

/// A crate (or a loose directory of files, which counts as one).
#[derive(Clone, Debug)]
pub struct CrateInfo {
    /// The name paths use (`my_crate`), empty for loose files.
    pub name: String,
    pub edition: Edition,
}

/// One file to scan.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Where to read it.
    pub path: PathBuf,
    /// How findings name it: as given on the command line, or relative to it.
    pub display: String,
    pub krate: usize,
    pub module: Vec<Sym>,
}

#[derive(Clone, Debug, Default)]
pub struct Discovery {
    pub crates: Vec<CrateInfo>,
    pub files: Vec<SourceFile>,
    /// Problems that do not stop the scan (an unreadable nested Cargo.toml).
    pub warnings: Vec<String>,
}

/// Path patterns: `*` and `?` within a component, `**` for any number of
/// components. A pattern matches a path when it matches the path or one of
/// its leading directories (so `benches` excludes everything under it).
#[derive(Clone, Debug, Default)]
pub struct Globs {
    patterns: Vec<Vec<String>>,
}

impl Globs {
    pub fn new(patterns: &[String]) -> Self {
        Globs {
            patterns: patterns
                .iter()
                .map(|p| {
                    p.trim_start_matches("./")
                        .split(['/', '\\'])
                        .filter(|c| !c.is_empty() && *c != ".")
                        .map(str::to_string)
                        .collect()
                })
                .filter(|p: &Vec<String>| !p.is_empty())
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether `path` (relative, `/`-separated components) is matched.
    pub fn matches(&self, path: &str) -> bool {
        let parts: Vec<&str> = path
            .split(['/', '\\'])
            .filter(|c| !c.is_empty() && *c != ".")
            .collect();
        self.patterns.iter().any(|p| glob_prefix(p, &parts))
    }
}

/// Whether `pattern` matches `parts` or a leading part of it.
fn glob_prefix(pattern: &[String], parts: &[&str]) -> bool {
    match pattern.split_first() {
        None => true,
        Some((first, rest)) if first == "**" => {
            (0..=parts.len()).any(|skip| glob_prefix(rest, &parts[skip..]))
        }
        Some((first, rest)) => match parts.split_first() {
            Some((part, tail)) => {
                wildcard(first.as_bytes(), part.as_bytes()) && glob_prefix(rest, tail)
            }
            None => false,
        },
    }
}

/// `*` and `?` matching within one component.
pub fn wildcard(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

/// `a/./b` -> `a/b`, and no leading `./`.
fn tidy(path: &Path) -> String {
    let mut out = PathBuf::new();
    for c in path.components() {
        if c != Component::CurDir {
            out.push(c.as_os_str());
        }
    }
    let s = out.to_string_lossy().into_owned();
    if s.is_empty() {
        ".".to_string()
    } else {
        s
    }
}

fn skipped_dir(name: &str) -> bool {
    name.starts_with('.') || name == "target"
}

struct Walker<'a> {
    out: Discovery,
    seen: HashSet<PathBuf>,
    seen_crates: HashSet<PathBuf>,
    exclude: &'a Globs,
    /// The PATH being discovered, to which excludes are relative.
    root: PathBuf,
}

/// Finds the files under `paths`, leaving out what `exclude` matches
/// (relative to each PATH). A PATH that does not exist, or a malformed
/// Cargo.toml given as a PATH, is an error.
pub fn discover(paths: &[PathBuf], exclude: &Globs) -> Result<Discovery, Box<InputError>> {
    let mut walker = Walker {
        out: Discovery::default(),
        seen: HashSet::new(),
        seen_crates: HashSet::new(),
        exclude,
        root: PathBuf::new(),
    };
    for path in paths {
        walker.root = path.clone();
        let meta = std::fs::metadata(path).map_err(|e| {
            let what = match e.kind() {
                std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
                _ => e.to_string(),
            };
            Box::new(InputError::new(format!(
                "cannot scan `{}`: {what}",
                path.display()
            )))
        })?;
        if meta.is_dir() {
            if path.join("Cargo.toml").is_file() {
                walker.manifest(path, None, true)?;
            } else {
                let krate = walker.add_crate(String::new(), Edition::default());
                walker.plain_dir(path, krate, &[]);
            }
        } else if path.file_name().is_some_and(|n| n == "Cargo.toml") {
            let dir = path.parent().unwrap_or(Path::new("."));
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            walker.manifest(dir, None, true)?;
        } else {
            let (name, edition) = enclosing_crate(path);
            let krate = walker.add_crate(name, edition);
            walker.file(path, tidy(path), krate, Vec::new());
        }
    }
    Ok(walker.out)
}

/// The crate name and edition of the Cargo.toml nearest above a loose file.
fn enclosing_crate(file: &Path) -> (String, Edition) {
    let absolute = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let mut dir = absolute.parent();
    while let Some(d) = dir {
        let manifest = d.join("Cargo.toml");
        if let Ok(text) = std::fs::read_to_string(&manifest) {
            if let Ok(table) = text.parse::<toml::Table>() {
                if let Some(package) = table.get("package").and_then(|p| p.as_table()) {
                    let name = package
                        .get("name")
                        .and_then(|n| n.as_str())
                        .unwrap_or("")
                        .replace('-', "_");
                    let edition = package
                        .get("edition")
                        .and_then(|e| e.as_str())
                        .and_then(Edition::parse)
                        .unwrap_or(Edition::E2015);
                    return (name, edition);
                }
            }
            break;
        }
        dir = d.parent();
    }
    (String::new(), Edition::default())
}

impl Walker<'_> {
    fn add_crate(&mut self, name: String, edition: Edition) -> usize {
        self.out.crates.push(CrateInfo { name, edition });
        self.out.crates.len() - 1
    }

    fn excluded(&self, path: &Path) -> bool {
        if self.exclude.is_empty() {
            return false;
        }
        let relative = path.strip_prefix(&self.root).unwrap_or(path);
        self.exclude.matches(&relative.to_string_lossy())
    }

    /// A crate or workspace directory. `top`: given on the command line, so
    /// a malformed manifest is an error rather than a warning.
    fn manifest(
        &mut self,
        dir: &Path,
        workspace_edition: Option<Edition>,
        top: bool,
    ) -> Result<(), Box<InputError>> {
        let key = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        if !self.seen_crates.insert(key) {
            return Ok(());
        }
        let manifest_path = dir.join("Cargo.toml");
        let text = match std::fs::read_to_string(&manifest_path) {
            Ok(text) => text,
            Err(e) => {
                let message = format!("cannot read `{}`: {e}", manifest_path.display());
                if top {
                    return Err(Box::new(InputError::new(message)));
                }
                self.out.warnings.push(message);
                return Ok(());
            }
        };
        let table = match text.parse::<toml::Table>() {
            Ok(table) => table,
            Err(e) => {
                let name = tidy(&manifest_path);
                let span = e.span().unwrap_or(0..0);
                let error = InputError::at(
                    format!("malformed `{name}`: {}", e.message()),
                    &name,
                    &text,
                    span,
                    "here",
                );
                if top {
                    return Err(Box::new(error));
                }
                self.out.warnings.push(error.plain());
                return Ok(());
            }
        };
        let workspace = table.get("workspace").and_then(|w| w.as_table());
        let ws_edition = workspace
            .and_then(|w| w.get("package"))
            .and_then(|p| p.get("edition"))
            .and_then(|e| e.as_str())
            .and_then(Edition::parse)
            .or(workspace_edition);

        if let Some(package) = table.get("package").and_then(|p| p.as_table()) {
            let name = package
                .get("name")
                .and_then(|n| n.as_str())
                .unwrap_or("")
                .replace('-', "_");
            let edition = match package.get("edition") {
                Some(toml::Value::String(s)) => Edition::parse(s).unwrap_or_default(),
                Some(toml::Value::Table(t)) if t.get("workspace").is_some() => {
                    ws_edition.unwrap_or(Edition::E2015)
                }
                _ => Edition::E2015,
            };
            let krate = self.add_crate(name, edition);
            let src = dir.join("src");
            if src.is_dir() && !self.excluded(&src) {
                self.walk(&src, krate, &[], true);
            }
            // Targets declared outside `src/`.
            let mut extra: Vec<&str> = Vec::new();
            if let Some(path) = table
                .get("lib")
                .and_then(|l| l.get("path"))
                .and_then(|p| p.as_str())
            {
                extra.push(path);
            }
            if let Some(bins) = table.get("bin").and_then(|b| b.as_array()) {
                extra.extend(
                    bins.iter()
                        .filter_map(|b| b.get("path").and_then(|p| p.as_str())),
                );
            }
            for path in extra {
                let file = dir.join(path);
                if !file.starts_with(&src) && file.is_file() && !self.excluded(&file) {
                    let display = tidy(&file);
                    self.file(&file, display, krate, Vec::new());
                }
            }
        }

        if let Some(workspace) = workspace {
            let excluded: Vec<String> = workspace
                .get("exclude")
                .and_then(|e| e.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let excluded = Globs::new(&excluded);
            let members = workspace
                .get("members")
                .and_then(|m| m.as_array())
                .cloned()
                .unwrap_or_default();
            for member in members.iter().filter_map(|m| m.as_str()) {
                for member_dir in expand_member(dir, member) {
                    let relative = member_dir.strip_prefix(dir).unwrap_or(&member_dir);
                    if excluded.matches(&relative.to_string_lossy())
                        || self.excluded(&member_dir)
                        || !member_dir.join("Cargo.toml").is_file()
                    {
                        continue;
                    }
                    self.manifest(&member_dir, ws_edition, false)?;
                }
            }
        }
        Ok(())
    }

    /// A directory without a Cargo.toml: every `.rs` file, and crates inside.
    fn plain_dir(&mut self, dir: &Path, krate: usize, module: &[Sym]) {
        self.walk(dir, krate, module, false);
    }

    fn walk(&mut self, dir: &Path, krate: usize, module: &[Sym], in_crate: bool) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            self.out
                .warnings
                .push(format!("cannot read directory `{}`", tidy(dir)));
            return;
        };
        let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if self.excluded(&path) {
                continue;
            }
            if kind.is_dir() {
                if skipped_dir(&name) {
                    continue;
                }
                if !in_crate && path.join("Cargo.toml").is_file() {
                    let _ = self.manifest(&path, None, false);
                    continue;
                }
                let mut inner = module.to_vec();
                inner.push(super::ir::intern(&name));
                self.walk(&path, krate, &inner, in_crate);
            } else if kind.is_file() && name.ends_with(".rs") {
                let stem = &name[..name.len() - 3];
                let mut file_module = module.to_vec();
                let root = in_crate && module.is_empty() && matches!(stem, "lib" | "main");
                if stem != "mod" && !root {
                    file_module.push(super::ir::intern(stem));
                }
                let display = tidy(&path);
                self.file(&path, display, krate, file_module);
            }
        }
    }

    fn file(&mut self, path: &Path, display: String, krate: usize, module: Vec<Sym>) {
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if !self.seen.insert(key) {
            return;
        }
        self.out.files.push(SourceFile {
            path: path.to_path_buf(),
            display,
            krate,
            module,
        });
    }
}

/// The directories a workspace `members` entry names (`crates/*` and the like).
fn expand_member(root: &Path, member: &str) -> Vec<PathBuf> {
    let parts: Vec<&str> = member
        .split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let mut current = vec![root.to_path_buf()];
    for part in parts {
        let mut next = Vec::new();
        for dir in &current {
            if part.contains(['*', '?']) {
                if let Ok(entries) = std::fs::read_dir(dir) {
                    let mut found: Vec<PathBuf> = entries
                        .filter_map(Result::ok)
                        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                        .filter(|e| {
                            let name = e.file_name().to_string_lossy().into_owned();
                            !skipped_dir(&name) && wildcard(part.as_bytes(), name.as_bytes())
                        })
                        .map(|e| e.path())
                        .collect();
                    found.sort();
                    next.extend(found);
                }
            } else if part == ".." {
                next.push(dir.join(".."));
            } else {
                next.push(dir.join(part));
            }
        }
        current = next;
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_components_and_leading_directories() {
        let g = Globs::new(&[
            "benches".into(),
            "src/gen/*.rs".into(),
            "**/fixtures".into(),
        ]);
        assert!(g.matches("benches/b.rs"));
        assert!(g.matches("./benches"));
        assert!(g.matches("src/gen/a.rs"));
        assert!(!g.matches("src/gen.rs"));
        assert!(g.matches("tests/deep/fixtures/x.rs"));
        assert!(!g.matches("src/lib.rs"));
        assert!(wildcard(b"a*c", b"abbbc"));
        assert!(!wildcard(b"a*c", b"abbb"));
    }
}
