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
use super::workspace::{self, Manifest, ManifestError, PathDep};
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
    /// What could not be read (a directory that cannot be listed, a FIFO
    /// named `.rs`), and why: never counted as scanned.
    pub skipped: Vec<(String, String)>,
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

/// `app/../libs/core` -> `libs/core`, without touching the disk (so that
/// findings name files the way a reader would).
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            _ => out.push(c.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Finds the files under `paths`, leaving out what `exclude` matches
/// (relative to each PATH). A PATH that does not exist or is not a regular
/// file or directory, or a malformed Cargo.toml given as a PATH, is an
/// error.
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
            if workspace::has_manifest(path) {
                walker.manifest(path, true)?;
            } else {
                let krate = walker.add_crate(String::new(), Edition::default());
                walker.walk(path, krate, &[], false);
            }
        } else if !meta.is_file() {
            // A FIFO or a device: reading it could block forever.
            return Err(Box::new(InputError::new(format!(
                "cannot scan `{}`: not a regular file or directory",
                path.display()
            ))));
        } else if path.file_name().is_some_and(|n| n == "Cargo.toml") {
            let dir = path.parent().unwrap_or(Path::new("."));
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            walker.manifest(dir, true)?;
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
    let absolute = canonical(file);
    let mut dir = absolute.parent();
    while let Some(d) = dir {
        if workspace::has_manifest(d) {
            if let Ok(Manifest {
                package: Some(package),
                ..
            }) = workspace::read(d)
            {
                let ws = workspace::enclosing_workspace(d, &package);
                let edition = workspace::edition_of(&package, ws.as_ref().map(|(_, w)| w));
                return (package.name, edition);
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

    /// Reads `dir/Cargo.toml`. `top`: given on the command line, so a
    /// manifest that cannot be used is an error rather than a warning.
    fn read_manifest(
        &mut self,
        dir: &Path,
        top: bool,
    ) -> Result<Option<Manifest>, Box<InputError>> {
        let manifest_path = dir.join("Cargo.toml");
        let error = match workspace::read(dir) {
            Ok(m) => return Ok(Some(m)),
            Err(ManifestError::Unreadable(e)) => {
                InputError::new(format!("cannot read `{}`: {e}", tidy(&manifest_path)))
            }
            Err(ManifestError::Malformed {
                message,
                span,
                text,
            }) => {
                let name = tidy(&manifest_path);
                InputError::at(
                    format!("malformed `{name}`: {message}"),
                    &name,
                    &text,
                    span,
                    "here",
                )
            }
        };
        if top {
            return Err(Box::new(error));
        }
        self.out.warnings.push(error.plain());
        Ok(None)
    }

    /// A crate or workspace directory.
    fn manifest(&mut self, dir: &Path, top: bool) -> Result<(), Box<InputError>> {
        if self.seen_crates.contains(&canonical(dir)) {
            return Ok(());
        }
        let Some(manifest) = self.read_manifest(dir, top)? else {
            return Ok(());
        };
        if manifest.workspace.is_some() {
            return self.workspace(dir, manifest);
        }
        let Some(package) = &manifest.package else {
            self.bare_manifest(dir);
            return Ok(());
        };
        let ws = workspace::enclosing_workspace(dir, package);
        let edition = workspace::edition_of(package, ws.as_ref().map(|(_, w)| w));
        self.package(dir, package, edition);
        Ok(())
    }

    /// A workspace root and its members as Cargo sees them: `members` (and
    /// `default-members`) expanded, `exclude` taken out, the root package,
    /// and every path dependency of a member that lies under the root.
    fn workspace(&mut self, root: &Path, manifest: Manifest) -> Result<(), Box<InputError>> {
        let table = manifest.workspace.clone().unwrap_or_default();
        let root_abs = canonical(root);
        let excluded = |dir: &Path| {
            let dir = canonical(dir);
            table
                .exclude
                .iter()
                .any(|e| dir.starts_with(root_abs.join(e)))
        };
        let mut queue: std::collections::VecDeque<PathBuf> = std::collections::VecDeque::new();
        if manifest.package.is_some() {
            queue.push_back(root.to_path_buf());
        }
        for member in table.members.iter().chain(&table.default_members) {
            let dirs = expand_member(root, member);
            let globbed = member.contains(['*', '?']);
            for dir in dirs {
                if globbed && (excluded(&dir) || !workspace::has_manifest(&dir)) {
                    continue;
                }
                if !workspace::has_manifest(&dir) {
                    self.out.warnings.push(format!(
                        "workspace member `{member}` of `{}` has no Cargo.toml: skipped",
                        tidy(&root.join("Cargo.toml"))
                    ));
                    continue;
                }
                queue.push_back(dir);
            }
        }
        let mut visited = HashSet::new();
        while let Some(dir) = queue.pop_front() {
            let key = canonical(&dir);
            if !visited.insert(key.clone()) || self.excluded(&dir) {
                continue;
            }
            let member = if key == root_abs {
                Some(manifest.clone())
            } else {
                self.read_manifest(&dir, false)?
            };
            let Some(member) = member else { continue };
            if key != root_abs && member.workspace.is_some() {
                // A workspace of its own inside this one.
                self.manifest(&dir, false)?;
                continue;
            }
            let Some(package) = &member.package else {
                self.bare_manifest(&dir);
                continue;
            };
            if self.seen_crates.contains(&key) {
                continue;
            }
            let edition = workspace::edition_of(package, Some(&table));
            self.package(&dir, package, edition);
            for dep in &member.path_deps {
                let path = match dep {
                    PathDep::Path(p) => lexical(&dir.join(p)),
                    PathDep::Workspace(name) => match table.path_dependencies.get(name) {
                        Some(p) => lexical(&root.join(p)),
                        None => continue,
                    },
                };
                // Cargo makes a path dependency a member only under the root.
                if canonical(&path).starts_with(&root_abs)
                    && !excluded(&path)
                    && workspace::has_manifest(&path)
                {
                    queue.push_back(path);
                }
            }
        }
        self.seen_crates.insert(root_abs);
        Ok(())
    }

    /// A directory whose Cargo.toml has neither `[package]` nor
    /// `[workspace]` (an empty one): Cargo would refuse it, but its sources
    /// are still worth reading, as one crate.
    fn bare_manifest(&mut self, dir: &Path) {
        if !self.seen_crates.insert(canonical(dir)) {
            return;
        }
        self.out.warnings.push(format!(
            "`{}` declares neither [package] nor [workspace]: its files are scanned as one crate",
            tidy(&dir.join("Cargo.toml"))
        ));
        let krate = self.add_crate(String::new(), Edition::default());
        let src = dir.join("src");
        if src.is_dir() {
            self.walk(&src, krate, &[], true);
        } else {
            self.walk(dir, krate, &[], false);
        }
    }

    /// A package's sources: `src/`, and targets declared outside it.
    fn package(&mut self, dir: &Path, package: &workspace::Package, edition: Edition) {
        if !self.seen_crates.insert(canonical(dir)) {
            return;
        }
        let krate = self.add_crate(package.name.clone(), edition);
        let src = dir.join("src");
        if src.is_dir() && !self.excluded(&src) {
            self.walk(&src, krate, &[], true);
        }
        for path in &package.target_paths {
            let file = dir.join(path);
            if !file.starts_with(&src) && file.is_file() && !self.excluded(&file) {
                let display = tidy(&file);
                self.file(&file, display, krate, Vec::new());
            }
        }
    }

    /// The `.rs` files under `dir`; outside a crate (`in_crate` false),
    /// directories with a Cargo.toml are read as crates. Directory symlinks
    /// are not followed (a link to `.` or `..` would loop), and only regular
    /// files are opened.
    fn walk(&mut self, dir: &Path, krate: usize, module: &[Sym], in_crate: bool) {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                self.out
                    .skipped
                    .push((tidy(dir), format!("cannot read directory: {e}")));
                return;
            }
        };
        let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(mut kind) = entry.file_type() else {
                continue;
            };
            if self.excluded(&path) {
                continue;
            }
            if kind.is_symlink() {
                match std::fs::metadata(&path) {
                    Ok(target) if target.is_file() => kind = target.file_type(),
                    Ok(target) if target.is_dir() => {
                        if !skipped_dir(&name) {
                            self.out.warnings.push(format!(
                                "`{}` is a link to a directory: not followed",
                                tidy(&path)
                            ));
                        }
                        continue;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        if name.ends_with(".rs") {
                            self.out
                                .skipped
                                .push((tidy(&path), format!("cannot read: {e}")));
                        }
                        continue;
                    }
                }
            }
            if kind.is_dir() {
                if skipped_dir(&name) {
                    continue;
                }
                if !in_crate && workspace::has_manifest(&path) {
                    let _ = self.manifest(&path, false);
                    continue;
                }
                let mut inner = module.to_vec();
                inner.push(super::ir::intern(&name));
                self.walk(&path, krate, &inner, in_crate);
            } else if name.ends_with(".rs") {
                if !kind.is_file() {
                    self.out
                        .skipped
                        .push((tidy(&path), "not a regular file".into()));
                    continue;
                }
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
        if !self.seen.insert(canonical(path)) {
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
    current.iter().map(|p| lexical(p)).collect()
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
