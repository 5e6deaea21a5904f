//! Configuration: `interlock.toml`, or `[package.metadata.interlock]` /
//! `[workspace.metadata.interlock]` in Cargo.toml.
//!
//! ```toml
//! allow = ["recursive-read"]              # kinds not reported
//! deny = ["guard-across-await"]           # kinds that fail the gate (reported as errors)
//! exclude = ["benches", "src/generated"]  # paths not scanned (globs: * ? **)
//! lock-order = [["Bank.accounts", "Bank.log"]]  # declared orders, checked
//! ```
//!
//! A malformed file, an unknown key or an unknown kind is an input error
//! that points at the place in the file.

use serde::Deserialize;
use std::path::{Path, PathBuf};

use crate::finding::Kind;
use crate::input::InputError;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    pub allow: Vec<Kind>,
    pub deny: Vec<Kind>,
    pub exclude: Vec<String>,
    pub lock_orders: Vec<Vec<String>>,
    /// The file it came from, and the directory excludes are relative to.
    pub source: Option<PathBuf>,
    pub base: Option<PathBuf>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    #[serde(default)]
    allow: Vec<toml::Spanned<String>>,
    #[serde(default)]
    deny: Vec<toml::Spanned<String>>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default, alias = "lock_order")]
    lock_order: Vec<Vec<toml::Spanned<String>>>,
}

#[derive(Deserialize)]
struct Manifest {
    package: Option<MetadataHolder>,
    workspace: Option<MetadataHolder>,
}

#[derive(Deserialize)]
struct MetadataHolder {
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Metadata {
    interlock: Option<RawConfig>,
}

fn located(e: toml::de::Error, name: &str, text: &str) -> Box<InputError> {
    let span = e.span().unwrap_or(0..0);
    Box::new(
        InputError::at(
            format!(
                "invalid configuration in `{name}`: {}",
                e.message().trim_end()
            ),
            name,
            text,
            span,
            "here",
        )
        .with_help(
            "the keys are `allow`, `deny` (lists of finding kinds), `exclude` (paths) and \
             `lock-order` (lists of lock names, first to last)",
        ),
    )
}

fn kinds(
    list: &[toml::Spanned<String>],
    name: &str,
    text: &str,
) -> Result<Vec<Kind>, Box<InputError>> {
    list.iter()
        .map(|k| {
            k.get_ref().parse::<Kind>().map_err(|e| {
                Box::new(InputError::at(
                    format!("invalid configuration in `{name}`: {e}"),
                    name,
                    text,
                    k.span(),
                    "not a finding kind",
                ))
            })
        })
        .collect()
}

fn convert(raw: RawConfig, name: &str, text: &str) -> Result<Config, Box<InputError>> {
    let allow = kinds(&raw.allow, name, text)?;
    let deny = kinds(&raw.deny, name, text)?;
    if let Some(both) = raw.deny.iter().find(|d| {
        allow.contains(&d.get_ref().parse().unwrap_or(Kind::Deadlock))
            && raw.allow.iter().any(|a| a.get_ref() == d.get_ref())
    }) {
        return Err(Box::new(InputError::at(
            format!(
                "invalid configuration in `{name}`: `{}` is both allowed and denied",
                both.get_ref()
            ),
            name,
            text,
            both.span(),
            "also in `allow`",
        )));
    }
    let mut lock_orders = Vec::new();
    for order in &raw.lock_order {
        if order.len() < 2 {
            let span = order.first().map_or(0..0, |o| o.span());
            return Err(Box::new(InputError::at(
                format!("invalid configuration in `{name}`: a lock order needs two locks or more"),
                name,
                text,
                span,
                "this order",
            )));
        }
        let names: Vec<String> = order
            .iter()
            .map(|o| o.get_ref().trim().to_string())
            .collect();
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return Err(Box::new(InputError::at(
                    format!(
                        "invalid configuration in `{name}`: `{n}` appears twice in one lock order"
                    ),
                    name,
                    text,
                    order[i].span(),
                    "again",
                )));
            }
        }
        lock_orders.push(names);
    }
    Ok(Config {
        allow,
        deny,
        exclude: raw.exclude,
        lock_orders,
        source: None,
        base: None,
    })
}

/// Reads an `interlock.toml`.
pub fn load_file(path: &Path) -> Result<Config, Box<InputError>> {
    let text = InputError::read(path)?;
    let name = path.display().to_string();
    let raw: RawConfig = toml::from_str(&text).map_err(|e| located(e, &name, &text))?;
    let mut config = convert(raw, &name, &text)?;
    config.source = Some(path.to_path_buf());
    config.base = path.parent().map(Path::to_path_buf);
    Ok(config)
}

/// The interlock section of a Cargo.toml, if it has one.
pub fn load_manifest(path: &Path) -> Result<Option<Config>, Box<InputError>> {
    let text = InputError::read(path)?;
    if !text.contains("interlock") {
        return Ok(None);
    }
    let name = path.display().to_string();
    let manifest: Manifest = match toml::from_str(&text) {
        Ok(m) => m,
        Err(e) => {
            // A manifest cargo itself would reject is the user's to fix;
            // one whose interlock section is wrong is ours to report.
            if e.span()
                .is_some_and(|s| text[..s.start.min(text.len())].contains("metadata.interlock"))
            {
                return Err(located(e, &name, &text));
            }
            return Ok(None);
        }
    };
    let raw = manifest
        .package
        .and_then(|p| p.metadata)
        .and_then(|m| m.interlock)
        .or_else(|| {
            manifest
                .workspace
                .and_then(|w| w.metadata)
                .and_then(|m| m.interlock)
        });
    match raw {
        Some(raw) => {
            let mut config = convert(raw, &name, &text)?;
            config.source = Some(path.to_path_buf());
            config.base = path.parent().map(Path::to_path_buf);
            Ok(Some(config))
        }
        None => Ok(None),
    }
}

/// Finds the configuration for a scan of `paths`: `interlock.toml` in the
/// first PATH's directory or above, else the nearest Cargo.toml with an
/// interlock section.
pub fn find(paths: &[PathBuf]) -> Result<Config, Box<InputError>> {
    let Some(first) = paths.first() else {
        return Ok(Config::default());
    };
    let start = if first.is_dir() {
        first.clone()
    } else {
        first.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let start = if start.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        start
    };
    let absolute = std::fs::canonicalize(&start).unwrap_or(start.clone());
    let mut manifest_config = None;
    let mut dir: Option<&Path> = Some(&absolute);
    let mut relative = start.clone();
    while let Some(d) = dir {
        let file = d.join("interlock.toml");
        if file.is_file() {
            return load_file(&display_path(&relative.join("interlock.toml"), &file));
        }
        let manifest = d.join("Cargo.toml");
        if manifest_config.is_none() && manifest.is_file() {
            manifest_config =
                load_manifest(&display_path(&relative.join("Cargo.toml"), &manifest))?;
        }
        dir = d.parent();
        relative = relative.join("..");
    }
    Ok(manifest_config.unwrap_or_default())
}

/// The short relative spelling when it names the same file, else the absolute one.
fn display_path(relative: &Path, absolute: &Path) -> PathBuf {
    let tidy: PathBuf = relative
        .components()
        .filter(|c| *c != std::path::Component::CurDir)
        .collect();
    if tidy.as_os_str().len() < absolute.as_os_str().len() && tidy.exists() {
        tidy
    } else {
        absolute.to_path_buf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, Box<InputError>> {
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| located(e, "interlock.toml", text))?;
        convert(raw, "interlock.toml", text)
    }

    #[test]
    fn kinds_orders_and_excludes_are_read() {
        let c = parse(
            "allow = [\"recursive-read\"]\ndeny = [\"guard-across-await\"]\nexclude = [\"benches\"]\n\
             lock-order = [[\"A.a\", \"B.b\"]]\n",
        )
        .unwrap();
        assert_eq!(c.allow, vec![Kind::RecursiveRead]);
        assert_eq!(c.deny, vec![Kind::GuardAcrossAwait]);
        assert_eq!(c.exclude, vec!["benches".to_string()]);
        assert_eq!(
            c.lock_orders,
            vec![vec!["A.a".to_string(), "B.b".to_string()]]
        );
    }

    #[test]
    fn errors_point_at_the_offending_value() {
        let e = parse("allow = [\"dubble-lock\"]\n").unwrap_err();
        assert_eq!(e.line_column(), Some((1, 10)));
        assert!(e.message.contains("unknown finding kind"), "{}", e.message);
        let e = parse("allw = []\n").unwrap_err();
        assert_eq!(e.line_column(), Some((1, 1)));
        let e = parse("lock-order = [[\"A\"]]\n").unwrap_err();
        assert!(e.message.contains("two locks"));
    }
}
