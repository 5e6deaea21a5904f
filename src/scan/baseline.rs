//! Baselines: the findings a team accepts for now, so that a gate fails on
//! new findings only.
//!
//! A baseline file is JSON: `{"version": 1, "findings": [{"kind", "file",
//! "message", "fingerprint"}]}`. A finding's fingerprint is built from its
//! kind, its files, its message and its location labels, not from line
//! numbers, so that edits elsewhere in a file do not make old findings new.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

use crate::finding::Finding;
use crate::input::InputError;

pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: String,
    pub file: String,
    pub message: String,
    pub fingerprint: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<Entry>,
}

/// 64-bit FNV-1a.
fn fnv(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in part.as_bytes().iter().chain(std::iter::once(&0xff)) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// The line-independent identity of a finding.
pub fn fingerprint(finding: &Finding) -> String {
    let mut parts: Vec<&str> = vec![finding.kind.as_str(), &finding.message];
    let mut places: Vec<(&str, &str)> = finding
        .locations
        .iter()
        .map(|l| (l.file.as_str(), l.label.as_str()))
        .collect();
    places.sort_unstable();
    for (file, label) in &places {
        parts.push(file);
        parts.push(label);
    }
    format!("{:016x}", fnv(&parts))
}

impl Baseline {
    pub fn of(findings: &[Finding]) -> Baseline {
        Baseline {
            version: VERSION,
            findings: findings
                .iter()
                .map(|f| Entry {
                    kind: f.kind.as_str().to_string(),
                    file: f
                        .locations
                        .first()
                        .map(|l| l.file.clone())
                        .unwrap_or_default(),
                    message: f.message.clone(),
                    fingerprint: fingerprint(f),
                })
                .collect(),
        }
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into());
        text.push('\n');
        text
    }

    pub fn load(path: &Path) -> Result<Baseline, Box<InputError>> {
        let text = InputError::read(path)?;
        let name = path.display().to_string();
        serde_json::from_str::<Baseline>(&text).map_err(|e| {
            let offset = offset_of(&text, e.line(), e.column());
            Box::new(
                InputError::at(
                    format!("invalid baseline `{name}`: {e}"),
                    &name,
                    &text,
                    offset..offset + 1,
                    "here",
                )
                .with_help("write a baseline with `interlock scan --write-baseline FILE`"),
            )
        })
    }

    /// Removes the findings the baseline holds (each entry once); returns
    /// how many were removed.
    pub fn filter(&self, findings: &mut Vec<Finding>) -> usize {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for e in &self.findings {
            *counts.entry(e.fingerprint.as_str()).or_default() += 1;
        }
        let before = findings.len();
        findings.retain(|f| {
            let print = fingerprint(f);
            match counts.get_mut(print.as_str()) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    false
                }
                _ => true,
            }
        });
        before - findings.len()
    }
}

/// The byte offset of a 1-based line and column.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return (offset + column.saturating_sub(1)).min(text.len());
        }
        offset += l.len();
    }
    text.len().saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Site;
    use crate::finding::Kind;

    #[test]
    fn fingerprints_ignore_lines_and_baselines_filter_once_each() {
        let a = Finding::new(Kind::DoubleLock, "m").at(&Site::new("a.rs", 3, 1), "here");
        let moved = Finding::new(Kind::DoubleLock, "m").at(&Site::new("a.rs", 9, 5), "here");
        let other = Finding::new(Kind::DoubleLock, "n").at(&Site::new("a.rs", 3, 1), "here");
        assert_eq!(fingerprint(&a), fingerprint(&moved));
        assert_ne!(fingerprint(&a), fingerprint(&other));
        let baseline = Baseline::of(std::slice::from_ref(&a));
        let mut findings = vec![moved.clone(), moved, other.clone()];
        assert_eq!(baseline.filter(&mut findings), 1);
        assert_eq!(findings.len(), 2);
        let text = baseline.to_json();
        let back: Baseline = serde_json::from_str(&text).unwrap();
        assert_eq!(back, baseline);
    }
}
