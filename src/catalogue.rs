//! The finding catalogue: one Markdown page per kind, written in
//! `docs/findings/<kind>.md` and embedded here so that `interlock explain`
//! and SARIF rule help work without the source tree.

use crate::finding::Kind;

/// The catalogue page of a kind (Markdown).
pub fn entry(kind: Kind) -> &'static str {
    match kind {
        Kind::Deadlock => include_str!("../docs/findings/deadlock.md"),
        Kind::LockOrderInversion => include_str!("../docs/findings/lock-order-inversion.md"),
        Kind::DoubleLock => include_str!("../docs/findings/double-lock.md"),
        Kind::RecursiveRead => include_str!("../docs/findings/recursive-read.md"),
        Kind::DataRace => include_str!("../docs/findings/data-race.md"),
        Kind::AtomicityViolation => include_str!("../docs/findings/atomicity-violation.md"),
        Kind::AssertionFailure => include_str!("../docs/findings/assertion-failure.md"),
        Kind::UnsafeState => include_str!("../docs/findings/unsafe-state.md"),
        Kind::CondvarMisuse => include_str!("../docs/findings/condvar-misuse.md"),
        Kind::GuardAcrossAwait => include_str!("../docs/findings/guard-across-await.md"),
        Kind::StreamRace => include_str!("../docs/findings/stream-race.md"),
        Kind::StreamUseAfterFree => include_str!("../docs/findings/stream-use-after-free.md"),
    }
}

/// The body of the section headed `## {heading}` in a kind's page, trimmed.
pub fn section(kind: Kind, heading: &str) -> Option<&'static str> {
    let page = entry(kind);
    let marker = format!("## {heading}");
    let start = page.find(&marker)? + marker.len();
    let rest = &page[start..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    Some(rest[..end].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_page_with_the_sections_explain_and_sarif_use() {
        for kind in Kind::ALL {
            let page = entry(kind);
            assert!(
                page.starts_with(&format!("# {}", kind.as_str())),
                "{kind}: a page starts with `# {kind}`"
            );
            for heading in ["What it is", "Example", "The fix", "How interlock finds it"] {
                let body = section(kind, heading);
                assert!(
                    body.is_some_and(|b| !b.is_empty()),
                    "{kind}: section `{heading}` is missing or empty"
                );
            }
        }
    }
}
