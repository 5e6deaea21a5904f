//! Front ends that read files (banker states, and later GPU traces and
//! configuration), and the one error type they share: an [`InputError`]
//! points at the offending place in the file so a user can fix it.

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode, SourceSpan};
use std::fmt;
use std::path::Path;

#[cfg(feature = "cli")]
pub mod banker_state;
#[cfg(feature = "cli")]
pub mod gpu_trace;

/// Input that could not be used: a missing or malformed file, a name that
/// does not exist, a count out of range. Commands exit with code 2 on it.
#[derive(Debug)]
pub struct InputError {
    pub message: String,
    /// The file and its text, when the error is inside a file.
    pub source: Option<NamedSource<String>>,
    /// Where in the text, with a short label.
    pub span: Option<(SourceSpan, String)>,
    pub help: Option<String>,
}

impl InputError {
    pub fn new(message: impl Into<String>) -> Self {
        InputError {
            message: message.into(),
            source: None,
            span: None,
            help: None,
        }
    }

    /// An error at `span` (byte offsets) of the file `name` whose text is `text`.
    pub fn at(
        message: impl Into<String>,
        name: &str,
        text: &str,
        span: std::ops::Range<usize>,
        label: impl Into<String>,
    ) -> Self {
        let end = span.end.min(text.len());
        let start = span.start.min(end);
        InputError {
            message: message.into(),
            source: Some(NamedSource::new(name, text.to_string())),
            span: Some(((start, end - start).into(), label.into())),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Reads a file, turning I/O failures into errors that name the path.
    pub fn read(path: &Path) -> Result<String, Box<InputError>> {
        std::fs::read_to_string(path).map_err(|e| {
            let what = match e.kind() {
                std::io::ErrorKind::NotFound => "no such file".to_string(),
                _ => e.to_string(),
            };
            Box::new(InputError::new(format!(
                "cannot read `{}`: {what}",
                path.display()
            )))
        })
    }

    /// A copy fit for a terminal: its texts through
    /// [`printable`](crate::report::printable), and control characters of
    /// the source shown as `?` (byte for byte, so that the span stays right).
    pub fn printable(&self) -> InputError {
        use crate::report::printable;
        let source = self.source.as_ref().map(|s| {
            let text: String = s
                .inner()
                .chars()
                .map(|c| {
                    if c.is_ascii_control() && !matches!(c, '\n' | '\t' | '\r') {
                        '?'
                    } else {
                        c
                    }
                })
                .collect();
            NamedSource::new(printable(s.name()), text)
        });
        InputError {
            message: printable(&self.message).into_owned(),
            source,
            span: self
                .span
                .as_ref()
                .map(|(span, label)| (*span, printable(label).into_owned())),
            help: self.help.as_deref().map(|h| printable(h).into_owned()),
        }
    }

    /// The 1-based line and column of the span's start, when there is one.
    pub fn line_column(&self) -> Option<(usize, usize)> {
        let source = self.source.as_ref()?;
        let (span, _) = self.span.as_ref()?;
        let text = source.inner();
        let offset = span.offset().min(text.len());
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Some((line, column))
    }

    /// `file:line:column: message`, for plain (non-graphical) output.
    pub fn plain(&self) -> String {
        match (&self.source, self.line_column()) {
            (Some(source), Some((line, column))) => {
                format!("{}:{line}:{column}: {}", source.name(), self.message)
            }
            _ => self.message.clone(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InputError {}

impl Diagnostic for InputError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("interlock::input"))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h.as_str()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (span, label) = self.span.as_ref()?;
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some(label.clone()),
            *span,
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_know_their_line_and_column() {
        let text = "a = 1\nb = oops\n";
        let e = InputError::at("bad value", "s.toml", text, 10..14, "here");
        assert_eq!(e.line_column(), Some((2, 5)));
        assert_eq!(e.plain(), "s.toml:2:5: bad value");
    }
}
