//! The report for people: the preamble, each finding as a diagnostic with
//! source snippets, the interleaving that explains it thread by thread, and a
//! closing line that says what was found and what was covered.
//!
//! Output is deterministic for a given report, working directory and width:
//! files are read relative to the current directory, and the width comes from
//! `COLUMNS` (100 when unset).

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use super::{plural, Report};
use crate::finding::{Finding, Severity, TraceStep};

/// Width used when `COLUMNS` is unset or unusable.
pub const DEFAULT_WIDTH: usize = 100;

/// More agents than this and the interleaving is listed one step per line.
const MAX_TABLE_AGENTS: usize = 5;

/// Renders the report for a terminal (`color`) or for a log or file.
pub fn render(report: &Report, color: bool) -> String {
    render_with_width(report, color, terminal_width())
}

/// [`render`] at a given width (columns), independent of the environment.
pub fn render_with_width(report: &Report, color: bool, width: usize) -> String {
    // Messages and names can carry a program's text (a panic message, a
    // file name): none of it may drive the terminal.
    let report = &printable_report(report);
    let width = width.clamp(40, 400);
    let style = Style { color };
    let mut sources = SourceCache::default();
    let mut out = String::new();

    for line in &report.preamble {
        out.push_str(line);
        out.push('\n');
    }
    if !report.preamble.is_empty() {
        out.push('\n');
    }

    for finding in &report.findings {
        render_finding(&mut out, finding, &mut sources, style, width);
        out.push('\n');
    }

    render_summary(&mut out, report, style);
    out
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0)
        .unwrap_or(DEFAULT_WIDTH)
}

/// ANSI styling, or none.
#[derive(Clone, Copy)]
struct Style {
    color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn severity(self, severity: Severity, text: &str) -> String {
        match severity {
            Severity::Error => self.paint("1;31", text),
            Severity::Warning => self.paint("1;33", text),
        }
    }
}

// ---------------------------------------------------------------------------
// Source files

/// File contents read once per render; `None` for a file that cannot be read.
#[derive(Default)]
struct SourceCache {
    files: HashMap<String, Option<Arc<str>>>,
}

impl SourceCache {
    fn get(&mut self, file: &str) -> Option<Arc<str>> {
        self.files
            .entry(file.to_string())
            .or_insert_with(|| {
                std::fs::read_to_string(file)
                    .ok()
                    .map(|text| Arc::from(without_controls(&text)))
            })
            .clone()
    }
}

/// Byte range of the text a location points at: from its line and column to
/// the end of the expression there. `None` when the line is out of range.
fn span_of(text: &str, line: u32, column: u32) -> Option<(usize, usize)> {
    if line == 0 {
        return None;
    }
    let mut start = 0usize;
    for _ in 1..line {
        start += text[start..].find('\n')? + 1;
    }
    if start > text.len() || (start == text.len() && line > 1) {
        return None;
    }
    let rest = &text[start..];
    let line_text = rest.split('\n').next().unwrap_or("").trim_end_matches('\r');
    let col = if column == 0 {
        line_text.len() - line_text.trim_start().len()
    } else {
        line_text
            .char_indices()
            .nth(column as usize - 1)
            .map_or(line_text.len(), |(i, _)| i)
    };
    let tail = &line_text[col..];
    let mut len = expression_len(tail);
    if len == 0 {
        len = tail.chars().next().map_or(0, char::len_utf8);
    }
    Some((start + col, len))
}

/// The length of the expression at the start of `text`: up to whitespace,
/// `;`, `,` or `{` outside brackets, or an unmatched closing bracket.
fn expression_len(text: &str) -> usize {
    let mut depth = 0usize;
    for (i, ch) in text.char_indices() {
        match ch {
            '(' | '[' => depth += 1,
            ')' | ']' => {
                if depth == 0 {
                    return i;
                }
                depth -= 1;
            }
            ';' | ',' | '{' if depth == 0 => return i,
            c if c.is_whitespace() && depth == 0 => return i,
            _ => {}
        }
    }
    text.len()
}

/// A file as drawn for one finding, and where each of its spans (by start
/// in the file) lies in it, if it is shown.
struct Drawn {
    text: Arc<str>,
    spans: HashMap<usize, Option<(usize, usize)>>,
    /// Bytes cut from the start of each windowed line (0-based), so that
    /// columns can be told as in the file.
    cut: Columns,
}

/// Per 0-based line: how many bytes of the file's line more than of the
/// drawn one come before what is drawn.
type Columns = HashMap<usize, usize>;

/// Lines longer than this (in bytes) are drawn as a window around what they
/// point at: miette cannot draw lines past column 65535, and draws long
/// ones slowly.
const LONG_LINE: usize = 240;

/// Bytes of context kept on each side of a span in a long line.
const WINDOW_MARGIN: usize = 60;

fn has_long_line(text: &str) -> bool {
    text.split('\n').any(|line| line.len() > LONG_LINE)
}

/// Whether miette can draw a snippet at `offset` of `text`: the line there
/// is not a long one.
pub fn drawable(text: Option<&str>, offset: usize) -> bool {
    let Some(text) = text else {
        return true;
    };
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    end - start <= LONG_LINE && !has_long_line(text)
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// `text` with every long line cut short, keeping the number of lines (so
/// line numbers stay right): a line with spans keeps a window around the
/// first of them, others keep their start. Returns the new text and each
/// span's place in it (`None` for a span outside its line's window).
fn window_long_lines(
    text: &str,
    spans: &[(usize, usize)],
) -> (String, Vec<Option<(usize, usize)>>, Columns) {
    let mut out = String::new();
    let mut mapped = vec![None; spans.len()];
    let mut cut = Columns::new();
    let mut line_start = 0;
    for (number, piece) in text.split_inclusive('\n').enumerate() {
        let line_end = line_start + piece.trim_end_matches('\n').len();
        let line = &text[line_start..line_end];
        let new_start = out.len();
        let on_line: Vec<usize> = (0..spans.len())
            .filter(|&i| spans[i].0 >= line_start && spans[i].0 <= line_end)
            .collect();
        if line.len() <= LONG_LINE {
            out.push_str(line);
            for i in on_line {
                mapped[i] = Some((spans[i].0 - line_start + new_start, spans[i].1));
            }
        } else {
            let (from, to) = match on_line.first() {
                Some(&i) => {
                    let (start, len) = spans[i];
                    let end = start + len.min(LONG_LINE / 2);
                    (
                        floor_boundary(text, start.saturating_sub(WINDOW_MARGIN).max(line_start)),
                        ceil_boundary(text, (end + WINDOW_MARGIN).min(line_end)),
                    )
                }
                None => (line_start, ceil_boundary(text, line_start + LONG_LINE / 2)),
            };
            if from > line_start {
                out.push('…');
                // miette counts columns in bytes; the ellipsis takes some.
                cut.insert(number, (from - line_start).saturating_sub('…'.len_utf8()));
            }
            let window_start = out.len();
            out.push_str(&text[from..to]);
            if to < line_end {
                out.push('…');
            }
            for i in on_line {
                let (start, len) = spans[i];
                if start >= from && start < to {
                    let len = len.min(to - start);
                    mapped[i] = Some((start - from + window_start, len));
                }
            }
        }
        out.push_str(&piece[line.len()..]);
        line_start += piece.len();
    }
    (out, mapped, cut)
}

/// Text with ASCII control characters other than newline and tab shown as
/// `?`, byte for byte (so that offsets into it stay right).
fn without_controls(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_control() && c != '\n' && c != '\t' && c != '\r' {
                '?'
            } else {
                c
            }
        })
        .collect()
}

/// The report with every text it shows passed through [`printable`].
fn printable_report(report: &Report) -> Report {
    use super::printable;
    let mut report = report.clone();
    for line in &mut report.preamble {
        *line = printable(line).into_owned();
    }
    for finding in &mut report.findings {
        finding.message = printable(&finding.message).into_owned();
        if let Some(help) = &mut finding.help {
            *help = printable(help).into_owned();
        }
        for note in &mut finding.notes {
            *note = printable(note).into_owned();
        }
        for location in &mut finding.locations {
            location.label = printable(&location.label).into_owned();
        }
        for step in finding.trace.iter_mut().flatten() {
            step.action = printable(&step.action).into_owned();
            step.agent = printable(&step.agent).into_owned();
        }
    }
    if let Some(reason) = &mut report.summary.incomplete_reason {
        *reason = printable(reason).into_owned();
    }
    report
}

/// Several files seen as one source: each file at its own base offset, so
/// that one diagnostic can show labels in all of them.
struct MultiSource {
    files: Vec<(String, usize, Arc<str>, Columns)>,
    end: usize,
}

impl MultiSource {
    fn new() -> Self {
        MultiSource {
            files: Vec::new(),
            end: 0,
        }
    }

    /// The base offset of `name`, adding it with `text` when it is new.
    fn base(&mut self, name: &str, drawn: &Drawn) -> usize {
        if let Some((_, base, _, _)) = self.files.iter().find(|(n, _, _, _)| n == name) {
            return *base;
        }
        let base = self.end;
        self.end = base + drawn.text.len() + 1;
        self.files.push((
            name.to_string(),
            base,
            drawn.text.clone(),
            drawn.cut.clone(),
        ));
        base
    }
}

impl SourceCode for MultiSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let offset = span.offset();
        let (name, base, text, cut) = self
            .files
            .iter()
            .find(|(_, base, text, _)| offset >= *base && offset + span.len() <= base + text.len())
            .ok_or(MietteError::OutOfBounds)?;
        let local = SourceSpan::new((offset - base).into(), span.len());
        let contents =
            text.as_ref()
                .read_span(&local, context_lines_before, context_lines_after)?;
        let global = SourceSpan::new(
            (contents.span().offset() + base).into(),
            contents.span().len(),
        );
        Ok(Box::new(MietteSpanContents::new_named(
            super::printable(name).into_owned(),
            contents.data(),
            global,
            contents.line(),
            contents.column() + cut.get(&contents.line()).copied().unwrap_or(0),
            contents.line_count(),
        )))
    }
}

// ---------------------------------------------------------------------------
// Findings

/// A finding as miette sees it: code, severity, message and labelled spans.
struct FindingDiagnostic<'a> {
    finding: &'a Finding,
    code: String,
    source: Option<MultiSource>,
    labels: Vec<LabeledSpan>,
}

impl fmt::Debug for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FindingDiagnostic")
            .field("code", &self.code)
            .field("message", &self.finding.message)
            .finish()
    }
}

impl fmt::Display for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl std::error::Error for FindingDiagnostic<'_> {}

impl Diagnostic for FindingDiagnostic<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
}

fn render_finding(
    out: &mut String,
    finding: &Finding,
    sources: &mut SourceCache,
    style: Style,
    width: usize,
) {
    let mut source = MultiSource::new();
    let mut labels = Vec::new();
    let mut unplaced = Vec::new();
    // Each file as drawn for this finding: long lines cut to a window
    // around the spans on them (miette cannot draw very long lines).
    let mut drawn: HashMap<&str, Drawn> = HashMap::new();
    for location in &finding.locations {
        if drawn.contains_key(location.file.as_str()) {
            continue;
        }
        let Some(text) = sources.get(&location.file) else {
            continue;
        };
        let spans: Vec<(usize, usize)> = finding
            .locations
            .iter()
            .filter(|l| l.file == location.file)
            .filter_map(|l| span_of(&text, l.line, l.column))
            .collect();
        let (shown, mapped, cut) = if has_long_line(&text) {
            let (shown, mapped, cut) = window_long_lines(&text, &spans);
            (Arc::from(shown), mapped, cut)
        } else {
            let mapped = spans.iter().map(|&s| Some(s)).collect();
            (text.clone(), mapped, Columns::new())
        };
        let spans = spans
            .into_iter()
            .zip(mapped)
            .map(|((start, _), m)| (start, m))
            .collect();
        let file = Drawn {
            text: shown,
            spans,
            cut,
        };
        drawn.insert(location.file.as_str(), file);
    }
    for (i, location) in finding.locations.iter().enumerate() {
        let placed = sources.get(&location.file).and_then(|text| {
            let (start, _) = span_of(&text, location.line, location.column)?;
            let file = drawn.get(location.file.as_str())?;
            let (start, len) = (*file.spans.get(&start)?)?;
            let base = source.base(&location.file, file);
            Some(SourceSpan::new((base + start).into(), len))
        });
        match placed {
            Some(span) => {
                let label = Some(location.label.clone()).filter(|l| !l.is_empty());
                labels.push(if i == 0 {
                    LabeledSpan::new_primary_with_span(label, span)
                } else {
                    LabeledSpan::new_with_span(label, span)
                });
            }
            None => unplaced.push(location),
        }
    }

    let diagnostic = FindingDiagnostic {
        finding,
        code: format!("{}[interlock::{}]", finding.severity, finding.kind),
        source: (!labels.is_empty()).then_some(source),
        labels,
    };
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .with_urls(false)
        .with_width(width);
    let mut text = String::new();
    if handler.render_report(&mut text, &diagnostic).is_err() {
        // A snippet that cannot be drawn still leaves a readable finding.
        text = format!("{}\n\n  {}\n", diagnostic.code, finding.message);
    }
    out.push_str(text.trim_end_matches('\n'));
    out.push('\n');

    for location in unplaced {
        // A place with no line (a whole input file) is named by its file alone.
        let file = super::printable(&location.file);
        let mut line = if location.line == 0 {
            format!("  --> {file}")
        } else {
            format!("  --> {file}:{}:{}", location.line, location.column)
        };
        if !location.label.is_empty() {
            line.push_str(": ");
            line.push_str(&location.label);
        }
        out.push_str(&line);
        out.push('\n');
    }
    if let Some(help) = &finding.help {
        push_wrapped(out, &style.paint("36", "help:"), "help:", help, width);
    }
    for note in &finding.notes {
        push_wrapped(out, &style.paint("1", "note:"), "note:", note, width);
    }
    if let Some(execution) = finding.execution {
        let note = format!("first seen in execution {execution}");
        push_wrapped(out, &style.paint("1", "note:"), "note:", &note, width);
    }
    if let Some(trace) = finding.trace.as_deref().filter(|t| !t.is_empty()) {
        out.push('\n');
        render_trace(out, trace, finding.severity, style, width);
    }
}

/// `  tag text`, wrapped at `width` with continuation lines under the text.
fn push_wrapped(out: &mut String, painted_tag: &str, tag: &str, text: &str, width: usize) {
    let indent = " ".repeat(2 + tag.chars().count() + 1);
    let room = width.saturating_sub(indent.len()).max(20);
    let mut first = true;
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split(' ') {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > room {
                push_line(out, &mut first, painted_tag, &indent, &line);
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        push_line(out, &mut first, painted_tag, &indent, &line);
    }
}

fn push_line(out: &mut String, first: &mut bool, painted_tag: &str, indent: &str, line: &str) {
    if *first {
        out.push_str("  ");
        out.push_str(painted_tag);
        out.push(' ');
        *first = false;
    } else {
        out.push_str(indent);
    }
    out.push_str(line);
    out.push('\n');
}

// ---------------------------------------------------------------------------
// Interleavings

fn step_text(step: &TraceStep, file: &str) -> String {
    if step.line == 0 || file.is_empty() {
        step.action.clone()
    } else {
        let file = super::printable(file);
        format!("{} ({file}:{})", step.action, step.line)
    }
}

fn width_of(s: &str) -> usize {
    s.chars().count()
}

/// The last component of a path.
fn base_name(file: &str) -> &str {
    file.rsplit(['/', '\\']).next().unwrap_or(file)
}

/// The trace's files by their base names, unless two of them share one.
fn short_names(trace: &[TraceStep]) -> Option<Vec<&str>> {
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for step in trace {
        let short = base_name(&step.file);
        if *seen.entry(short).or_insert(&step.file) != step.file {
            return None;
        }
    }
    Some(trace.iter().map(|s| base_name(&s.file)).collect())
}

/// The interleaving as a table with a column per agent and a row per step,
/// or, with many agents or too little width, as one line per step.
fn render_trace(
    out: &mut String,
    trace: &[TraceStep],
    severity: Severity,
    style: Style,
    width: usize,
) {
    let mut agents: Vec<&str> = Vec::new();
    for step in trace {
        if !agents.contains(&step.agent.as_str()) {
            agents.push(&step.agent);
        }
    }
    let marker = "▶";
    let mut heading = format!(
        "  interleaving ({}, {}",
        plural(agents.len() as u64, "agent", "agents"),
        plural(trace.len() as u64, "step", "steps"),
    );
    if trace.iter().any(|s| s.highlight) {
        heading.push_str(&format!("; {marker} marks the steps this finding is about"));
    }
    heading.push_str("):\n");
    out.push_str(&heading);

    let full: Vec<String> = trace.iter().map(|s| step_text(s, &s.file)).collect();
    if agents.len() <= MAX_TABLE_AGENTS {
        let mut candidates = vec![full.clone()];
        if let Some(short) = short_names(trace) {
            candidates.push(
                trace
                    .iter()
                    .zip(short)
                    .map(|(s, f)| step_text(s, f))
                    .collect(),
            );
        }
        for cells in &candidates {
            if let Some(table) = trace_table(trace, &agents, cells, severity, style, width) {
                out.push_str(&table);
                return;
            }
        }
    }

    let number_width = trace.len().to_string().len();
    for (i, (step, cell)) in trace.iter().zip(&full).enumerate() {
        let mark = if step.highlight {
            style.severity(severity, marker)
        } else {
            " ".to_string()
        };
        out.push_str(&format!(
            "  {:>nw$} {mark} {}: {cell}\n",
            i + 1,
            step.agent,
            nw = number_width
        ));
    }
}

/// The table, or `None` when it is wider than `width`.
fn trace_table(
    trace: &[TraceStep],
    agents: &[&str],
    cells: &[String],
    severity: Severity,
    style: Style,
    width: usize,
) -> Option<String> {
    let number_width = trace.len().to_string().len();
    // Each column: a marker slot of 2, then the widest cell or agent name.
    let columns: Vec<usize> = agents
        .iter()
        .map(|agent| {
            trace
                .iter()
                .zip(cells)
                .filter(|(s, _)| s.agent == *agent)
                .map(|(_, c)| 2 + width_of(c))
                .chain(std::iter::once(2 + width_of(agent)))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let table_width = 3 + number_width + columns.iter().map(|w| w + 3).sum::<usize>();
    if table_width > width {
        return None;
    }

    let mut out = String::new();
    let mut line = format!("  {} ", " ".repeat(number_width));
    for (agent, w) in agents.iter().zip(&columns) {
        line.push_str("│ ");
        line.push_str(&style.paint("1", &pad(&format!("  {agent}"), *w)));
        line.push(' ');
    }
    out.push_str(line.trim_end());
    out.push('\n');
    let mut rule = format!("  {}─", "─".repeat(number_width));
    for w in &columns {
        rule.push_str(&format!("┼{}", "─".repeat(w + 2)));
    }
    out.push_str(&rule);
    out.push('\n');

    for (i, (step, cell)) in trace.iter().zip(cells).enumerate() {
        let mut line = format!("  {:>nw$} ", i + 1, nw = number_width);
        for (agent, w) in agents.iter().zip(&columns) {
            line.push_str("│ ");
            if step.agent == *agent {
                if step.highlight {
                    line.push_str(&style.severity(severity, "▶"));
                    line.push(' ');
                    line.push_str(&style.paint("1", &pad(cell, w - 2)));
                } else {
                    line.push_str(&pad(&format!("  {cell}"), *w));
                }
            } else {
                line.push_str(&" ".repeat(*w));
            }
            line.push(' ');
        }
        // Trailing padding and an empty last column are trimmed; with colour
        // the padding sits inside the escape codes, which is harmless.
        out.push_str(line.trim_end().trim_end_matches('│').trim_end());
        out.push('\n');
    }
    Some(out)
}

fn pad(text: &str, w: usize) -> String {
    let n = width_of(text);
    if n >= w {
        text.to_string()
    } else {
        format!("{text}{}", " ".repeat(w - n))
    }
}

// ---------------------------------------------------------------------------
// Summary

fn render_summary(out: &mut String, report: &Report, style: Style) {
    let summary = &report.summary;
    if report.findings.is_empty() {
        let line = format!("no concurrency bugs found in {}", summary.coverage());
        out.push_str(&style.paint("1;32", &line));
    } else {
        let counts = report.counts();
        let counts = if report.count(Severity::Error) > 0 {
            style.severity(Severity::Error, &counts)
        } else {
            style.severity(Severity::Warning, &counts)
        };
        out.push_str(&format!("{counts} in {}", summary.coverage()));
    }
    out.push('\n');
    if let Some(reason) = summary.incompleteness() {
        let line = format!(
            "exploration stopped early: {reason}; interleavings past that point were not checked"
        );
        out.push_str(&style.paint("33", &line));
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_drawn_as_a_window_around_their_span() {
        let long = format!("let x = {}m.lock();", " ".repeat(70_000));
        let text = format!("fn main() {{\n{long}\n}}\n");
        let (start, len) = span_of(&text, 2, 70_009).unwrap();
        assert_eq!(&text[start..start + len], "m.lock()");
        let (shown, mapped, cut) = window_long_lines(&text, &[(start, len)]);
        assert_eq!(shown.lines().count(), 3);
        assert!(shown.len() < 400, "{}", shown.len());
        let (s, l) = mapped[0].unwrap();
        assert_eq!(&shown[s..s + l], "m.lock()");
        // The line's drawn start plus the cut is the span's real column.
        let line_start = shown.find('\n').unwrap() + 1;
        assert_eq!(s - line_start + cut[&1], 70_008);
    }

    #[test]
    fn a_finding_past_column_65535_renders_without_panic() {
        use crate::event::Site;
        use crate::finding::{Finding, Kind};
        let dir = std::env::temp_dir().join(format!("interlock-wide-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("wide.rs");
        let long = format!("let x = {}m.lock();", " ".repeat(70_000));
        std::fs::write(&file, format!("fn main() {{\n{long}\n}}\n")).unwrap();
        let name = file.display().to_string();
        let site = Site::new(name.clone(), 2, 70_009);
        let finding = Finding::new(Kind::DoubleLock, "locked twice").at(&site, "here");
        let report = Report::new(vec![finding], Default::default());
        let text = render_with_width(&report, false, 100);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(text.contains(&format!("{name}:2:70009")), "{text}");
        assert!(text.contains("m.lock()"), "{text}");
        assert!(text.lines().all(|l| l.chars().count() < 400), "{text}");
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        use crate::event::Site;
        use crate::finding::{Finding, Kind};
        let site = Site::new("a\u{1b}[2Jb.rs", 1, 1);
        let finding = Finding::new(
            Kind::AssertionFailure,
            "main panicked: \u{1b}[31mred\u{202e}",
        )
        .at(&site, "\u{7}bell");
        let report = Report::new(vec![finding], Default::default());
        let text = render_with_width(&report, false, 100);
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202e}'),
            "{text}"
        );
        assert!(text.contains("\\u{1b}[31mred"), "{text}");
    }

    #[test]
    fn spans_cover_the_expression_at_a_column() {
        let text = "fn main() {\n    let g = m.lock().unwrap();\n}\n";
        let (start, len) = span_of(text, 2, 13).unwrap();
        assert_eq!(&text[start..start + len], "m.lock().unwrap()");
        let (start, len) = span_of(text, 2, 0).unwrap();
        assert_eq!(&text[start..start + len], "let");
        assert!(span_of(text, 9, 1).is_none());
        assert!(span_of(text, 0, 1).is_none());
    }
}
