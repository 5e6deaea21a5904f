//! What a `Cargo.toml` says about where sources are: the package (name,
//! edition, targets outside `src/`), the workspace (members, exclusions,
//! inherited edition) and the path dependencies that Cargo makes members.
//!
//! Only what the scanner needs is read; everything else in the manifest is
//! ignored, so a manifest Cargo would reject for other reasons still scans.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::discover::Edition;

/// A package's `edition` key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EditionKey {
    Given(Edition),
    /// `edition.workspace = true`: the workspace's `[workspace.package]`.
    Inherited,
    /// No key: Cargo's default, 2015.
    Missing,
}

#[derive(Clone, Debug)]
pub struct Package {
    /// As paths name it (`my_crate`, dashes made underscores).
    pub name: String,
    pub edition: EditionKey,
    /// `[lib] path` and `[[bin]] path`, relative to the manifest's directory.
    pub target_paths: Vec<String>,
    /// `package.workspace`: where the workspace root is, when not above.
    pub workspace_root: Option<String>,
}

/// A path dependency, as declared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathDep {
    /// `{ path = ".." }`, relative to the manifest's directory.
    Path(String),
    /// `{ workspace = true }`: the path, if any, is in `[workspace.dependencies]`.
    Workspace(String),
}

#[derive(Clone, Debug, Default)]
pub struct WorkspaceTable {
    pub members: Vec<String>,
    pub exclude: Vec<String>,
    pub default_members: Vec<String>,
    /// `[workspace.package] edition`.
    pub edition: Option<Edition>,
    /// `[workspace.dependencies]` that have a path (relative to the root).
    pub path_dependencies: HashMap<String, String>,
}

#[derive(Clone, Debug)]
pub struct Manifest {
    pub package: Option<Package>,
    pub workspace: Option<WorkspaceTable>,
    /// Every path dependency: normal, dev, build and target-specific.
    pub path_deps: Vec<PathDep>,
}

/// Why a manifest could not be used.
pub enum ManifestError {
    Unreadable(String),
    /// The TOML message and the byte range it points at, with the text.
    Malformed {
        message: String,
        span: std::ops::Range<usize>,
        text: String,
    },
}

/// Reads `dir/Cargo.toml`. Only regular files are opened: a FIFO named
/// `Cargo.toml` would block the read forever.
pub fn read(dir: &Path) -> Result<Manifest, ManifestError> {
    let path = dir.join("Cargo.toml");
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => return Err(ManifestError::Unreadable("not a regular file".into())),
        Err(e) => return Err(ManifestError::Unreadable(e.to_string())),
    }
    let text =
        std::fs::read_to_string(&path).map_err(|e| ManifestError::Unreadable(e.to_string()))?;
    let table = match text.parse::<toml::Table>() {
        Ok(table) => table,
        Err(e) => {
            return Err(ManifestError::Malformed {
                message: e.message().to_string(),
                span: e.span().unwrap_or(0..0),
                text,
            })
        }
    };
    Ok(Manifest::from_table(&table))
}

/// Whether `dir` has a `Cargo.toml` that is a regular file.
pub fn has_manifest(dir: &Path) -> bool {
    dir.join("Cargo.toml").is_file()
}

fn strings(value: Option<&toml::Value>) -> Vec<String> {
    value
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl Manifest {
    fn from_table(table: &toml::Table) -> Manifest {
        let package = table
            .get("package")
            .and_then(|p| p.as_table())
            .map(|p| Package {
                name: p
                    .get("name")
                    .and_then(|n| n.as_str())
                    .unwrap_or("")
                    .replace('-', "_"),
                edition: match p.get("edition") {
                    Some(toml::Value::String(s)) => {
                        Edition::parse(s).map_or(EditionKey::Missing, EditionKey::Given)
                    }
                    Some(toml::Value::Table(t)) if t.get("workspace").is_some() => {
                        EditionKey::Inherited
                    }
                    _ => EditionKey::Missing,
                },
                target_paths: target_paths(table),
                workspace_root: p
                    .get("workspace")
                    .and_then(|w| w.as_str())
                    .map(str::to_string),
            });
        let workspace = table
            .get("workspace")
            .and_then(|w| w.as_table())
            .map(|w| WorkspaceTable {
                members: strings(w.get("members")),
                exclude: strings(w.get("exclude")),
                default_members: strings(w.get("default-members")),
                edition: w
                    .get("package")
                    .and_then(|p| p.get("edition"))
                    .and_then(|e| e.as_str())
                    .and_then(Edition::parse),
                path_dependencies: w
                    .get("dependencies")
                    .and_then(|d| d.as_table())
                    .map(|deps| {
                        deps.iter()
                            .filter_map(|(name, spec)| {
                                let path = spec.get("path")?.as_str()?;
                                Some((name.clone(), path.to_string()))
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        let mut path_deps = Vec::new();
        collect_path_deps(table, &mut path_deps);
        if let Some(targets) = table.get("target").and_then(|t| t.as_table()) {
            for target in targets.values().filter_map(|t| t.as_table()) {
                collect_path_deps(target, &mut path_deps);
            }
        }
        Manifest {
            package,
            workspace,
            path_deps,
        }
    }
}

/// `[lib] path` and every `[[bin]] path`.
fn target_paths(table: &toml::Table) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(path) = table
        .get("lib")
        .and_then(|l| l.get("path"))
        .and_then(|p| p.as_str())
    {
        out.push(path.to_string());
    }
    if let Some(bins) = table.get("bin").and_then(|b| b.as_array()) {
        out.extend(
            bins.iter()
                .filter_map(|b| b.get("path").and_then(|p| p.as_str()))
                .map(str::to_string),
        );
    }
    out
}

/// The path dependencies of one table of dependency tables (the manifest,
/// or one `[target.'cfg(..)']`).
fn collect_path_deps(table: &toml::Table, out: &mut Vec<PathDep>) {
    for key in [
        "dependencies",
        "dev-dependencies",
        "build-dependencies",
        "dev_dependencies",
        "build_dependencies",
    ] {
        let Some(deps) = table.get(key).and_then(|d| d.as_table()) else {
            continue;
        };
        for (name, spec) in deps {
            if let Some(path) = spec.get("path").and_then(|p| p.as_str()) {
                out.push(PathDep::Path(path.to_string()));
            } else if spec.get("workspace").and_then(|w| w.as_bool()) == Some(true) {
                out.push(PathDep::Workspace(name.clone()));
            }
        }
    }
}

/// The workspace root above a member at `dir`: the one `package.workspace`
/// names, or the nearest directory above whose manifest has `[workspace]`.
pub fn enclosing_workspace(dir: &Path, package: &Package) -> Option<(PathBuf, WorkspaceTable)> {
    if let Some(root) = &package.workspace_root {
        let root = dir.join(root);
        return read(&root)
            .ok()
            .and_then(|m| m.workspace)
            .map(|w| (root, w));
    }
    let absolute = std::fs::canonicalize(dir).ok()?;
    let mut above = absolute.parent();
    while let Some(d) = above {
        if has_manifest(d) {
            if let Ok(Manifest {
                workspace: Some(w), ..
            }) = read(d)
            {
                return Some((d.to_path_buf(), w));
            }
        }
        above = d.parent();
    }
    None
}

/// The edition a package compiles with, `workspace` giving what it inherits.
pub fn edition_of(package: &Package, workspace: Option<&WorkspaceTable>) -> Edition {
    match package.edition {
        EditionKey::Given(e) => e,
        EditionKey::Inherited => workspace.and_then(|w| w.edition).unwrap_or(Edition::E2015),
        EditionKey::Missing => Edition::E2015,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_members_inherited_edition_and_every_kind_of_path_dependency() {
        let table: toml::Table = r#"
            [package]
            name = "my-app"
            edition.workspace = true
            [dependencies]
            core = { path = "crates/core" }
            serde = "1"
            shared = { workspace = true }
            [dev-dependencies]
            testkit = { path = "testkit" }
            [target.'cfg(unix)'.build-dependencies]
            gen = { path = "gen" }
            [workspace]
            members = ["crates/*"]
            exclude = ["crates/old"]
            default-members = ["."]
            [workspace.package]
            edition = "2018"
            [workspace.dependencies]
            shared = { path = "shared" }
            serde = "1"
        "#
        .parse()
        .unwrap();
        let m = Manifest::from_table(&table);
        let package = m.package.as_ref().unwrap();
        assert_eq!(package.name, "my_app");
        assert_eq!(package.edition, EditionKey::Inherited);
        let ws = m.workspace.as_ref().unwrap();
        assert_eq!(edition_of(package, Some(ws)), Edition::E2018);
        assert_eq!(ws.members, ["crates/*"]);
        assert_eq!(ws.exclude, ["crates/old"]);
        assert_eq!(ws.default_members, ["."]);
        assert_eq!(ws.path_dependencies.len(), 1);
        assert_eq!(
            m.path_deps,
            [
                PathDep::Path("crates/core".into()),
                PathDep::Workspace("shared".into()),
                PathDep::Path("testkit".into()),
                PathDep::Path("gen".into()),
            ]
        );
    }
}
