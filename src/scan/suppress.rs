//! Inline suppressions: `// interlock: allow(kind, ...)` on the line of a
//! finding, on the comment lines just above it, or above (or on the first
//! line of) an enclosing item: a function, impl, trait, module or struct.
//! `allow(all)` allows every kind.

use crate::finding::{Finding, Kind};

/// One `interlock: allow(...)` comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allow {
    pub line: u32,
    /// Kinds allowed; empty means all.
    pub kinds: Vec<Kind>,
    /// The comment is the whole line (not trailing code).
    pub own_line: bool,
}

/// The suppression facts of one file.
#[derive(Clone, Debug, Default)]
pub struct FileAllows {
    pub allows: Vec<Allow>,
    /// Lines holding only a comment or an attribute (or blank).
    pub comment_lines: Vec<u32>,
    /// Items: first line, keyword line, last line.
    pub spans: Vec<(u32, u32, u32)>,
    /// Allow comments whose kind names are not kinds: `(line, name)`.
    pub unknown: Vec<(u32, String)>,
}

impl FileAllows {
    /// Reads the allow comments of a file's text. Cheap when there are none.
    pub fn scan(text: &str) -> FileAllows {
        let mut out = FileAllows::default();
        if !text.contains("interlock:") {
            return out;
        }
        for (i, line) in text.lines().enumerate() {
            let number = i as u32 + 1;
            let trimmed = line.trim_start();
            if trimmed.is_empty()
                || trimmed.starts_with("//")
                || trimmed.starts_with("#[")
                || trimmed.starts_with("/*")
                || trimmed.starts_with('*')
            {
                out.comment_lines.push(number);
            }
            let Some(at) = line.find("interlock:") else {
                continue;
            };
            let before = &line[..at];
            let Some(comment) = before.find("//").or_else(|| before.rfind("/*")) else {
                continue;
            };
            // Doc comments (`///`, `//!`, `/**`, `/*!`) document; they do not allow.
            if matches!(line.as_bytes().get(comment + 2), Some(b'/' | b'!' | b'*')) {
                continue;
            }
            let rest = line[at + "interlock:".len()..].trim_start();
            let Some(rest) = rest.strip_prefix("allow") else {
                continue;
            };
            let Some(rest) = rest.trim_start().strip_prefix('(') else {
                continue;
            };
            let Some(close) = rest.find(')') else {
                continue;
            };
            let mut kinds = Vec::new();
            let mut all = false;
            for name in rest[..close]
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
            {
                if name == "all" {
                    all = true;
                } else {
                    match name.parse::<Kind>() {
                        Ok(kind) => kinds.push(kind),
                        Err(_) => out.unknown.push((number, name.to_string())),
                    }
                }
            }
            if all {
                kinds.clear();
            } else if kinds.is_empty() {
                continue;
            }
            out.allows.push(Allow {
                line: number,
                kinds,
                own_line: line[..comment].trim().is_empty(),
            });
        }
        out
    }

    fn allows_at(&self, line: u32, kind: Kind) -> bool {
        self.allows
            .iter()
            .any(|a| a.line == line && (a.kinds.is_empty() || a.kinds.contains(&kind)))
    }

    /// An allow on `line`, or in the run of comment lines right above it.
    fn allows_line(&self, line: u32, kind: Kind) -> bool {
        if self.allows_at(line, kind) {
            return true;
        }
        let mut l = line;
        while l > 1 && self.comment_lines.binary_search(&(l - 1)).is_ok() {
            l -= 1;
            if self.allows.iter().any(|a| {
                a.line == l && a.own_line && (a.kinds.is_empty() || a.kinds.contains(&kind))
            }) {
                return true;
            }
        }
        false
    }

    /// Whether a finding of `kind` at `line` is allowed.
    pub fn allows(&self, line: u32, kind: Kind) -> bool {
        if self.allows.is_empty() {
            return false;
        }
        if self.allows_line(line, kind) {
            return true;
        }
        self.spans.iter().any(|&(first, keyword, last)| {
            (first..=last).contains(&line)
                && ((first..=keyword).any(|l| self.allows_at(l, kind))
                    || self.allows_line(first, kind))
        })
    }
}

/// Whether some location of `finding` is allowed in its file (`allows`
/// gives a file's suppressions by its display name).
pub fn suppressed<'a>(finding: &Finding, allows: impl Fn(&str) -> Option<&'a FileAllows>) -> bool {
    finding
        .locations
        .iter()
        .any(|l| allows(&l.file).is_some_and(|a| a.allows(l.line, finding.kind)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_on_the_line_above_and_on_items() {
        let text = "\
fn a() {
    x(); // ALLOW(double-lock)
    // ALLOW(recursive-read, lock-order-inversion)
    y();
}
// ALLOW(all)
#[inline]
fn b() {
    z();
}
// ALLOW(not-a-kind)
";
        // Spelled at run time, so that scanning this file finds no allow.
        let text = text.replace("ALLOW", &format!("{}: allow", "interlock"));
        let mut a = FileAllows::scan(&text);
        a.spans = vec![(1, 1, 5), (6, 8, 10)];
        assert!(a.allows(2, Kind::DoubleLock));
        assert!(!a.allows(2, Kind::RecursiveRead));
        assert!(a.allows(4, Kind::RecursiveRead));
        assert!(a.allows(4, Kind::LockOrderInversion));
        assert!(!a.allows(4, Kind::DoubleLock));
        assert!(
            a.allows(9, Kind::CondvarMisuse),
            "allow(all) above the item"
        );
        assert!(!a.allows(1, Kind::CondvarMisuse));
        assert_eq!(a.unknown, vec![(11, "not-a-kind".to_string())]);
    }
}
