//! Reports: the findings of one run and what the run covered, rendered for
//! people (human), scripts (json) and code scanning (sarif).

use serde::{Deserialize, Serialize};

use crate::finding::{Finding, Severity};

/// What a run covered, for the summary line and the JSON `summary` object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Summary {
    /// Source files (or input files) the run read.
    pub files: usize,
    /// Executions explored (0 for static analyses).
    pub executions: u64,
    /// False when exploration stopped at a bound or limit before covering everything.
    pub complete: bool,
    /// Why the run is incomplete, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incomplete_reason: Option<String>,
    /// The engine that ran the program (`loom` or `std`), for dynamic runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// The preemption bound used by the loom engine, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preemption_bound: Option<usize>,
}

/// A file a run did not check, and why.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedInput {
    pub file: String,
    pub reason: String,
}

impl Summary {
    /// What the run covered: `3 files (1200 executions, loom engine, preemption bound 2)`.
    pub fn coverage(&self) -> String {
        let mut details = Vec::new();
        if self.executions > 0 {
            details.push(plural(self.executions, "execution", "executions"));
        }
        if let Some(engine) = &self.engine {
            details.push(format!("{engine} engine"));
        }
        if let Some(bound) = self.preemption_bound {
            details.push(format!("preemption bound {bound}"));
        }
        // A model run from a test reads no files: say what ran instead.
        let files = match self.files {
            0 if self.executions > 0 => "the model".to_string(),
            n => plural(n as u64, "file", "files"),
        };
        if details.is_empty() {
            files
        } else {
            format!("{files} ({})", details.join(", "))
        }
    }

    /// Why the run stopped before covering everything, when it did.
    pub fn incompleteness(&self) -> Option<&str> {
        (!self.complete).then(|| {
            self.incomplete_reason
                .as_deref()
                .unwrap_or("a bound or limit was reached")
        })
    }
}

/// Text safe to print on a terminal: control characters (other than newline
/// and tab) and the invisible bidirectional overrides are written as
/// `\u{..}` escapes, so that a file name or a program's message cannot move
/// the cursor, recolour the screen or reorder what a reader sees.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let hostile = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(hostile) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if hostile(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

pub(crate) use crate::finding::plural;

/// The result of one command or one model run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub summary: Summary,
    /// Command-specific top-level JSON fields (the banker's `safe`, `safe_sequence`, ...).
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// Text shown before the findings in the human report (the banker's tables, ...).
    pub preamble: Vec<String>,
    /// Paths passed by on purpose (not programs, links not followed, not
    /// regular files), each with why; JSON `summary.skipped`.
    pub skipped: Vec<SkippedInput>,
    /// Inputs asked for that could not be used (a program that does not
    /// compile, or ran out of time before an execution ended), which make
    /// the exit 2; JSON `summary.not_checked`.
    pub not_checked: Vec<SkippedInput>,
}

impl Report {
    /// `1 error, 2 warnings`.
    pub fn counts(&self) -> String {
        format!(
            "{}, {}",
            plural(self.count(Severity::Error) as u64, "error", "errors"),
            plural(self.count(Severity::Warning) as u64, "warning", "warnings")
        )
    }

    pub fn new(findings: Vec<Finding>, summary: Summary) -> Self {
        Report {
            findings,
            summary,
            ..Report::default()
        }
    }

    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// No finding of error severity.
    pub fn is_clean(&self) -> bool {
        !self.has_errors()
    }

    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// The contract's JSON (`interlock --format json`).
    pub fn to_json(&self) -> String {
        json::render(self)
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}

/// Output formats of every command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Human,
    Json,
    Sarif,
}

pub mod banker_tables;
pub mod html;
pub mod human;
pub mod json;
pub mod sarif;

/// Renders a report; `color` asks for terminal colours in the human format.
pub fn render(report: &Report, format: Format, color: bool) -> String {
    match format {
        Format::Human => human::render(report, color),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
    }
}
