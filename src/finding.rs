//! Findings: the one type every analysis produces and every reporter renders.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::event::Site;

/// A finding kind, spelled as in the contract (`lock-order-inversion`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Deadlock,
    LockOrderInversion,
    DoubleLock,
    RecursiveRead,
    DataRace,
    AtomicityViolation,
    AssertionFailure,
    UnsafeState,
    CondvarMisuse,
    GuardAcrossAwait,
    StreamRace,
    StreamUseAfterFree,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::Deadlock,
        Kind::LockOrderInversion,
        Kind::DoubleLock,
        Kind::RecursiveRead,
        Kind::DataRace,
        Kind::AtomicityViolation,
        Kind::AssertionFailure,
        Kind::UnsafeState,
        Kind::CondvarMisuse,
        Kind::GuardAcrossAwait,
        Kind::StreamRace,
        Kind::StreamUseAfterFree,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Deadlock => "deadlock",
            Kind::LockOrderInversion => "lock-order-inversion",
            Kind::DoubleLock => "double-lock",
            Kind::RecursiveRead => "recursive-read",
            Kind::DataRace => "data-race",
            Kind::AtomicityViolation => "atomicity-violation",
            Kind::AssertionFailure => "assertion-failure",
            Kind::UnsafeState => "unsafe-state",
            Kind::CondvarMisuse => "condvar-misuse",
            Kind::GuardAcrossAwait => "guard-across-await",
            Kind::StreamRace => "stream-race",
            Kind::StreamUseAfterFree => "stream-use-after-free",
        }
    }

    /// The contract's severity of each kind.
    pub fn severity(self) -> Severity {
        match self {
            Kind::RecursiveRead | Kind::CondvarMisuse | Kind::GuardAcrossAwait => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// One line saying what the kind means.
    pub fn summary(self) -> &'static str {
        match self {
            Kind::Deadlock => "an execution where every live thread is blocked (includes lost wake-ups)",
            Kind::LockOrderInversion => {
                "a cycle in the lock-acquisition graph: a deadlock waiting for the wrong interleaving"
            }
            Kind::DoubleLock => "a thread acquires a lock it already holds",
            Kind::RecursiveRead => {
                "a read lock taken again while its read guard lives (deadlocks under writer priority)"
            }
            Kind::DataRace => {
                "two accesses to the same non-atomic location, at least one a write, unordered by happens-before"
            }
            Kind::AtomicityViolation => {
                "a value read, then written back based on the read, with another thread's write in between"
            }
            Kind::AssertionFailure => "an assertion or panic in some interleaving",
            Kind::UnsafeState => "a resource grant that leaves the banker's state unsafe",
            Kind::CondvarMisuse => {
                "wait outside a loop on its predicate, or notify without holding the mutex"
            }
            Kind::GuardAcrossAwait => "a lock guard alive across `.await`",
            Kind::StreamRace => {
                "two GPU operations (or a GPU operation and a host access) on the same buffer, at least one a write, unordered"
            }
            Kind::StreamUseAfterFree => {
                "a buffer freed or reused while an operation on another stream may still use it"
            }
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a kind name that is not in the catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownKind(pub String);

impl fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown finding kind `{}`; the kinds are: ", self.0)?;
        for (i, kind) in Kind::ALL.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(kind.as_str())?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownKind {}

impl FromStr for Kind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == wanted)
            .ok_or_else(|| UnknownKind(s.to_string()))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A labelled place in source that a finding points at.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Location {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub label: String,
}

impl Location {
    pub fn new(site: &Site, label: impl Into<String>) -> Self {
        Location {
            file: site.file.to_string(),
            line: site.line,
            column: site.column,
            label: label.into(),
        }
    }
}

/// One step of the interleaving that explains a finding.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TraceStep {
    /// The thread or stream that took the step, named as a reader knows it.
    pub agent: String,
    /// What it did, e.g. "lock `Bank.accounts`".
    pub action: String,
    pub file: String,
    pub line: u32,
    pub column: u32,
    /// Whether this step is one the finding is about (highlighted in timelines).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub highlight: bool,
}

impl TraceStep {
    pub fn new(agent: impl Into<String>, action: impl Into<String>, site: &Site) -> Self {
        TraceStep {
            agent: agent.into(),
            action: action.into(),
            file: site.file.to_string(),
            line: site.line,
            column: site.column,
            highlight: false,
        }
    }

    pub fn highlighted(mut self) -> Self {
        self.highlight = true;
        self
    }
}

/// A concurrency bug found by some analysis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: Kind,
    pub severity: Severity,
    pub message: String,
    /// The first location is the primary one.
    pub locations: Vec<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Vec<TraceStep>>,
    /// The execution (counted from 1) in which the finding was first seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<u64>,
    /// How to fix it, in a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Further explanation (why a cycle was kept, the tables at an unsafe grant, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Finding {
    /// A finding with the kind's contract severity.
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Finding {
            kind,
            severity: kind.severity(),
            message: message.into(),
            locations: Vec::new(),
            trace: None,
            execution: None,
            help: None,
            notes: Vec::new(),
        }
    }

    pub fn at(mut self, site: &Site, label: impl Into<String>) -> Self {
        self.locations.push(Location::new(site, label));
        self
    }

    pub fn with_location(mut self, location: Location) -> Self {
        self.locations.push(location);
        self
    }

    pub fn with_trace(mut self, trace: Vec<TraceStep>) -> Self {
        self.trace = Some(trace);
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn in_execution(mut self, execution: u64) -> Self {
        self.execution = Some(execution);
        self
    }

    /// What makes two findings the same bug: the kind and the places, in any order.
    pub fn identity(&self) -> (Kind, Vec<(&str, u32, u32)>) {
        let mut places: Vec<_> = self
            .locations
            .iter()
            .map(|l| (l.file.as_str(), l.line, l.column))
            .collect();
        places.sort_unstable();
        places.dedup();
        (self.kind, places)
    }
}

/// Removes findings that repeat an earlier one (same kind, same places),
/// keeping the first, which is the one seen in the earliest execution.
pub fn dedup(findings: &mut Vec<Finding>) {
    let mut seen = std::collections::HashSet::new();
    findings.retain(|f| {
        let (kind, places) = f.identity();
        let key: (Kind, Vec<(String, u32, u32)>) = (
            kind,
            places
                .into_iter()
                .map(|(f, l, c)| (f.to_string(), l, c))
                .collect(),
        );
        seen.insert(key)
    });
}

/// `1 error`, `2 errors`: a count with its noun, for messages and summaries.
pub(crate) fn plural(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in Kind::ALL {
            assert_eq!(kind.as_str().parse::<Kind>(), Ok(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::String(kind.as_str().into())
            );
        }
        assert_eq!("Double_Lock".parse::<Kind>(), Ok(Kind::DoubleLock));
        assert!("deadlocks".parse::<Kind>().is_err());
    }

    #[test]
    fn dedup_keeps_the_first_of_the_same_bug_in_any_location_order() {
        let a = Site::new("a.rs", 1, 1);
        let b = Site::new("a.rs", 2, 1);
        let first = Finding::new(Kind::DataRace, "one")
            .at(&a, "x")
            .at(&b, "y")
            .in_execution(1);
        let again = Finding::new(Kind::DataRace, "two")
            .at(&b, "y")
            .at(&a, "x")
            .in_execution(5);
        let other = Finding::new(Kind::Deadlock, "three").at(&a, "x");
        let mut findings = vec![first.clone(), again, other.clone()];
        dedup(&mut findings);
        assert_eq!(findings, vec![first, other]);
    }
}
