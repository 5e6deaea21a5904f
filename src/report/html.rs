//! The HTML timeline of a report's counterexamples (`interlock check --timeline FILE.html`).
//!
//! One self-contained page: inline CSS, a few lines of inline script (open every
//! finding before printing), nothing fetched. Each finding that comes with an
//! interleaving gets a header (kind, severity, message, places, help, notes)
//! and a table with a column per agent, in order of first appearance, and a row
//! per step, numbered from 1 as in the terminal report. A step's cell shows its
//! action, its place `file:line:col` and that line of source, read relative to
//! the current directory when the file is readable. The steps the finding is
//! about carry the class `highlight` and a ▶ marker.
//!
//! Stable hooks for tests and scripts: `details.finding[data-kind][data-severity]`,
//! `table.timeline[data-agents][data-steps]`, `th.agent[data-agent]`,
//! `tr[data-step]`, `td.step[data-step][data-agent]` (with `highlight` on the
//! marked ones), `td.idle[data-agent]`, `p.no-trace`.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::{plural, Report};
use crate::finding::{Finding, Location, TraceStep};

/// The marker of the steps a finding is about, as in the terminal report.
const MARKER: &str = "▶";

/// Renders the whole page.
pub fn render(report: &Report) -> String {
    let mut sources = Sources::default();
    let mut out = String::with_capacity(16 * 1024);
    let traced: Vec<(usize, &Finding)> = report
        .findings
        .iter()
        .enumerate()
        .filter(|(_, f)| trace_of(f).is_some())
        .collect();
    let untraced: Vec<(usize, &Finding)> = report
        .findings
        .iter()
        .enumerate()
        .filter(|(_, f)| trace_of(f).is_none())
        .collect();

    out.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta name=\"color-scheme\" content=\"light dark\">\n");
    let title = match traced.first() {
        Some((_, f)) => format!("interlock timeline: {}", f.kind),
        None => "interlock timeline".to_string(),
    };
    let _ = writeln!(out, "<title>{}</title>", escape(&title));
    out.push_str("<style>\n");
    out.push_str(CSS);
    out.push_str("</style>\n</head>\n<body>\n");

    out.push_str("<header class=\"page\">\n<h1>interlock timeline</h1>\n");
    let _ = writeln!(
        out,
        "<p class=\"summary\">{}</p>",
        escape(&summary_line(report))
    );
    if let Some(reason) = report.summary.incompleteness() {
        let _ = writeln!(
            out,
            "<p class=\"incomplete\">exploration stopped early: {}; interleavings past that point were not checked</p>",
            rich(reason)
        );
    }
    out.push_str("</header>\n");

    if !report.preamble.is_empty() {
        out.push_str("<pre class=\"preamble\">");
        for line in &report.preamble {
            out.push_str(&escape(line));
            out.push('\n');
        }
        out.push_str("</pre>\n");
    }

    out.push_str("<main>\n");
    if traced.is_empty() {
        let text = if report.findings.is_empty() {
            "No concurrency bugs were found, so there is no counterexample to show."
        } else {
            "No counterexample to show: none of this report's findings comes with an interleaving."
        };
        let _ = writeln!(out, "<p class=\"no-trace\">{text}</p>");
    } else {
        if report.findings.len() > 1 {
            render_contents(&mut out, report);
        }
        out.push_str(LEGEND);
        for (n, (index, finding)) in traced.iter().enumerate() {
            render_finding(&mut out, finding, *index, n == 0, &mut sources);
        }
    }
    if !untraced.is_empty() {
        let heading = if traced.is_empty() {
            "Findings"
        } else {
            "Findings without an interleaving"
        };
        let _ = writeln!(out, "<section class=\"untraced\">\n<h2>{heading}</h2>");
        for (index, finding) in &untraced {
            render_finding(&mut out, finding, *index, false, &mut sources);
        }
        out.push_str("</section>\n");
    }
    out.push_str("</main>\n");
    out.push_str(SCRIPT);
    out.push_str("</body>\n</html>\n");
    out
}

/// A finding's interleaving, when it has a non-empty one.
fn trace_of(finding: &Finding) -> Option<&[TraceStep]> {
    finding.trace.as_deref().filter(|t| !t.is_empty())
}

// ---------------------------------------------------------------------------
// Text

/// Escapes text for HTML element content and double- or single-quoted
/// attribute values. NUL, which HTML cannot carry, becomes U+FFFD.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Escaped text in which each `name` in backquotes becomes `<code>name</code>`;
/// text with an unmatched backquote is only escaped.
fn rich(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    if parts.len() % 2 == 0 {
        return escape(text);
    }
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i % 2 == 1 && !part.is_empty() {
            out.push_str("<code>");
            out.push_str(&escape(part));
            out.push_str("</code>");
        } else if i % 2 == 1 {
            out.push_str("``");
        } else {
            out.push_str(&escape(part));
        }
    }
    out
}

/// A place, escaped, with a line-break opportunity after each `/` and none in
/// the file name, so that a narrow column wraps a long path between its
/// directories.
fn breakable_path(text: &str) -> String {
    let (dirs, name) = match text.rfind(['/', '\\']) {
        Some(i) => text.split_at(i + 1),
        None => ("", text),
    };
    let mut out = String::new();
    for ch in escape(dirs).chars() {
        out.push(ch);
        if ch == '/' || ch == '\\' {
            out.push_str("<wbr>");
        }
    }
    out.push_str("<span class=\"file\">");
    out.push_str(&escape(name));
    out.push_str("</span>");
    out
}

/// `file:line:col` (or `file:line` without a column), or `None` for a place
/// with no line, as the terminal report leaves those out of its steps.
fn place(file: &str, line: u32, column: u32) -> Option<String> {
    if line == 0 || file.is_empty() {
        None
    } else if column == 0 {
        Some(format!("{file}:{line}"))
    } else {
        Some(format!("{file}:{line}:{column}"))
    }
}

/// The closing line of the terminal report: counts and what was covered.
fn summary_line(report: &Report) -> String {
    let coverage = report.summary.coverage();
    if report.findings.is_empty() {
        format!("no concurrency bugs found in {coverage}")
    } else {
        format!("{} in {coverage}", report.counts())
    }
}

// ---------------------------------------------------------------------------
// Source lines

/// Files read once per page; `None` for one that cannot be read.
#[derive(Default)]
struct Sources {
    files: HashMap<String, Option<String>>,
}

impl Sources {
    /// Line `line` (from 1) of `file`, without its line ending.
    fn line(&mut self, file: &str, line: u32) -> Option<String> {
        if line == 0 || file.is_empty() {
            return None;
        }
        let text = self
            .files
            .entry(file.to_string())
            .or_insert_with(|| std::fs::read_to_string(file).ok())
            .as_deref()?;
        text.split('\n')
            .nth(line as usize - 1)
            .map(|l| l.trim_end_matches('\r').to_string())
    }

    /// The line as a `<pre class="source">` block, the expression at `column`
    /// marked, leading indentation dropped; empty when there is no such line.
    fn block(&mut self, file: &str, line: u32, column: u32) -> String {
        match self.line(file, line) {
            Some(text) if !text.trim().is_empty() => format!(
                "<pre class=\"source\"><code><span class=\"lineno\">{line}</span>{}</code></pre>",
                source_html(&text, column)
            ),
            _ => String::new(),
        }
    }
}

/// A source line, escaped, without its indentation, with the expression that
/// starts at `column` (counted in characters from 1) in `<mark class="at">`.
fn source_html(line: &str, column: u32) -> String {
    let indent = line.len() - line.trim_start().len();
    let indent_chars = line[..indent].chars().count();
    let text = line.trim();
    let col = column as usize;
    if col == 0 || col <= indent_chars {
        return escape(text);
    }
    let start = match text.char_indices().nth(col - 1 - indent_chars) {
        Some((i, _)) => i,
        None => return escape(text),
    };
    let tail = &text[start..];
    let mut len = expression_len(tail);
    if len == 0 {
        len = tail.chars().next().map_or(0, char::len_utf8);
    }
    format!(
        "{}<mark class=\"at\">{}</mark>{}",
        escape(&text[..start]),
        escape(&tail[..len]),
        escape(&tail[len..])
    )
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

// ---------------------------------------------------------------------------
// Findings

fn finding_id(index: usize) -> String {
    format!("finding-{}", index + 1)
}

/// Links to every finding, in report order.
fn render_contents(out: &mut String, report: &Report) {
    out.push_str("<nav class=\"contents\" aria-label=\"findings\">\n<ol>\n");
    for (index, finding) in report.findings.iter().enumerate() {
        let steps = match trace_of(finding) {
            Some(trace) => plural(trace.len() as u64, "step", "steps"),
            None => "no interleaving".to_string(),
        };
        let _ = writeln!(
            out,
            "<li><a href=\"#{id}\"><span class=\"badge {sev}\">{sev}</span> <span class=\"kind\">{kind}</span></a> {msg} <span class=\"muted\">({steps})</span></li>",
            id = finding_id(index),
            sev = finding.severity,
            kind = finding.kind,
            msg = rich(&finding.message),
        );
    }
    out.push_str("</ol>\n</nav>\n");
}

fn render_finding(
    out: &mut String,
    finding: &Finding,
    index: usize,
    open: bool,
    sources: &mut Sources,
) {
    let trace = trace_of(finding);
    let _ = writeln!(
        out,
        "<details class=\"finding{}\" id=\"{}\" data-kind=\"{}\" data-severity=\"{}\"{}>",
        if trace.is_some() { "" } else { " untraced" },
        finding_id(index),
        finding.kind,
        finding.severity,
        if open { " open" } else { "" }
    );
    let _ = writeln!(
        out,
        "<summary><span class=\"badge {sev}\">{sev}</span> <span class=\"kind\">{kind}</span> <span class=\"message\">{msg}</span></summary>",
        sev = finding.severity,
        kind = finding.kind,
        msg = rich(&finding.message),
    );
    out.push_str("<div class=\"body\">\n");

    if !finding.locations.is_empty() {
        out.push_str("<ul class=\"locations\">\n");
        for (i, location) in finding.locations.iter().enumerate() {
            render_location(out, location, i == 0, sources);
        }
        out.push_str("</ul>\n");
    }
    if let Some(help) = &finding.help {
        let _ = writeln!(
            out,
            "<p class=\"help\"><span class=\"tag\">help:</span> {}</p>",
            rich(help)
        );
    }
    for note in &finding.notes {
        let _ = writeln!(
            out,
            "<p class=\"note\"><span class=\"tag\">note:</span> {}</p>",
            rich(note)
        );
    }
    if let Some(execution) = finding.execution {
        let _ = writeln!(
            out,
            "<p class=\"note\"><span class=\"tag\">note:</span> first seen in execution {execution}</p>"
        );
    }
    let _ = writeln!(
        out,
        "<p class=\"explain\">More on this kind: <code>interlock explain {}</code></p>",
        finding.kind
    );

    match trace {
        Some(trace) => render_timeline(out, trace, sources),
        None => {
            out.push_str("<p class=\"no-trace\">No interleaving comes with this finding.</p>\n")
        }
    }
    out.push_str("</div>\n</details>\n");
}

fn render_location(out: &mut String, location: &Location, primary: bool, sources: &mut Sources) {
    let where_ = if location.line == 0 {
        location.file.clone()
    } else {
        place(&location.file, location.line, location.column)
            .unwrap_or_else(|| location.file.clone())
    };
    let _ = write!(
        out,
        "<li class=\"location{}\"><code class=\"loc\">{}</code>",
        if primary { " primary" } else { "" },
        escape(&where_)
    );
    if !location.label.is_empty() {
        let _ = write!(
            out,
            " <span class=\"label\">{}</span>",
            rich(&location.label)
        );
    }
    out.push_str(&sources.block(&location.file, location.line, location.column));
    out.push_str("</li>\n");
}

/// The interleaving: a column per agent, a row per step.
fn render_timeline(out: &mut String, trace: &[TraceStep], sources: &mut Sources) {
    let mut agents: Vec<&str> = Vec::new();
    for step in trace {
        if !agents.contains(&step.agent.as_str()) {
            agents.push(&step.agent);
        }
    }
    let mut heading = format!(
        "interleaving ({}, {}",
        plural(agents.len() as u64, "agent", "agents"),
        plural(trace.len() as u64, "step", "steps"),
    );
    if trace.iter().any(|s| s.highlight) {
        heading.push_str(&format!("; {MARKER} marks the steps this finding is about"));
    }
    heading.push(')');
    let _ = writeln!(out, "<h3 class=\"trace-heading\">{}</h3>", escape(&heading));

    out.push_str("<div class=\"scroll\">\n");
    let _ = writeln!(
        out,
        "<table class=\"timeline\" data-agents=\"{}\" data-steps=\"{}\" style=\"min-width: {}rem\">",
        agents.len(),
        trace.len(),
        4 + 15 * agents.len()
    );
    out.push_str("<thead><tr><th class=\"num\" scope=\"col\">#</th>");
    for agent in &agents {
        let _ = write!(
            out,
            "<th class=\"agent\" scope=\"col\" data-agent=\"{a}\">{a}</th>",
            a = escape(agent)
        );
    }
    out.push_str("</tr></thead>\n<tbody>\n");

    let mut last_place: HashMap<&str, (&str, u32, u32)> = HashMap::new();

    for (i, step) in trace.iter().enumerate() {
        let n = i + 1;
        let _ = write!(
            out,
            "<tr data-step=\"{n}\"{}><th class=\"num\" scope=\"row\">{n}</th>",
            if step.highlight {
                " class=\"highlight\""
            } else {
                ""
            }
        );
        for agent in &agents {
            if step.agent != *agent {
                let _ = write!(
                    out,
                    "<td class=\"idle\" data-agent=\"{}\"></td>",
                    escape(agent)
                );
                continue;
            }
            let _ = write!(
                out,
                "<td class=\"step{}\" data-step=\"{n}\" data-agent=\"{}\">",
                if step.highlight { " highlight" } else { "" },
                escape(agent)
            );
            out.push_str("<div class=\"action\">");
            if step.highlight {
                let _ = write!(
                    out,
                    "<span class=\"marker\" title=\"a step this finding is about\">{MARKER}</span> "
                );
            }
            out.push_str(&rich(&step.action));
            out.push_str("</div>");
            if let Some(at) = place(&step.file, step.line, step.column) {
                let _ = write!(
                    out,
                    "<div class=\"where\"><code class=\"loc\">{}</code></div>",
                    breakable_path(&at)
                );
                // A run of steps at one place shows its line once, at the
                // first of them (and again at any marked one).
                let here = (step.file.as_str(), step.line, step.column);
                if step.highlight || last_place.get(agent) != Some(&here) {
                    out.push_str(&sources.block(&step.file, step.line, step.column));
                }
                last_place.insert(agent, here);
            }
            out.push_str("</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</div>\n");
}

// ---------------------------------------------------------------------------
// Fixed parts of the page

const LEGEND: &str = "\
<section class=\"legend\" aria-label=\"legend\">
<h2>Legend</h2>
<ul>
<li><span class=\"swatch agent-swatch\">main</span> a column per thread or stream, in order of first appearance</li>
<li><span class=\"swatch num-swatch\">3</span> a row per step, in the order the steps ran</li>
<li><span class=\"swatch highlight-swatch\"><span class=\"marker\">▶</span> step</span> a step the finding is about: a conflicting access, a blocked acquisition</li>
<li><code class=\"loc\">file:line:col</code> where the step is, with that source line and the expression marked</li>
</ul>
</section>
";

/// Opens every finding for printing and restores them afterwards.
const SCRIPT: &str = "\
<script>
(function () {
  var closed = [];
  window.addEventListener('beforeprint', function () {
    closed = Array.prototype.filter.call(document.querySelectorAll('details.finding'), function (d) { return !d.open; });
    closed.forEach(function (d) { d.open = true; });
  });
  window.addEventListener('afterprint', function () {
    closed.forEach(function (d) { d.open = false; });
    closed = [];
  });
})();
</script>
";

const CSS: &str = r#":root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1f2328; --muted: #59636e; --border: #d1d9e0; --panel: #f6f8fa;
  --code-bg: #eff2f5; --at-bg: #cfe6ff; --at-fg: inherit;
  --error: #cf222e; --error-bg: #ffebe9; --warning: #9a6700; --warning-bg: #fff8c5;
  --lifeline: #d1d9e0;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --border: #3d444d; --panel: #151b23;
    --code-bg: #212830; --at-bg: #1f4b7a;
    --error: #ff7b72; --error-bg: #3c1618; --warning: #e3b341; --warning-bg: #3a2e0b;
    --lifeline: #3d444d;
  }
}
* { box-sizing: border-box; }
html { background: var(--bg); color: var(--fg); }
body {
  margin: 0 auto; padding: 1.25rem 1.5rem 3rem; max-width: 90rem;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
code, pre, .loc { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 0.88em; }
code { background: var(--code-bg); padding: 0 0.25em; border-radius: 3px; }
h1 { font-size: 1.5rem; margin: 0 0 0.25rem; }
h2 { font-size: 1.05rem; margin: 0 0 0.5rem; }
h3.trace-heading { font-size: 0.95rem; font-weight: 600; margin: 1rem 0 0.5rem; }
.muted, .explain { color: var(--muted); }
.explain { font-size: 0.9em; margin: 0.5rem 0 0; }
header.page { border-bottom: 1px solid var(--border); margin-bottom: 1rem; padding-bottom: 0.5rem; }
header.page p { margin: 0.25rem 0; }
.incomplete { color: var(--warning); font-weight: 600; }
.incomplete::before { content: "\26A0\FE0E  "; }
pre.preamble { background: var(--panel); border: 1px solid var(--border); border-radius: 6px; padding: 0.5rem 0.75rem; overflow-x: auto; }
p.no-trace { font-size: 1.05rem; padding: 0.75rem 1rem; border: 1px dashed var(--border); border-radius: 6px; background: var(--panel); }
nav.contents ol { margin: 0 0 1rem; padding-left: 1.5rem; }
nav.contents a { color: inherit; text-decoration: none; }
nav.contents a:hover .kind { text-decoration: underline; }
.legend { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.25rem 1rem; border: 1px solid var(--border); border-radius: 6px; padding: 0.4rem 0.75rem; margin-bottom: 1rem; background: var(--panel); font-size: 0.85rem; }
.legend h2 { font-size: 0.85rem; margin: 0; }
.legend ul { list-style: none; margin: 0; padding: 0; display: contents; }
.legend li { white-space: nowrap; }
.legend li > * { margin-right: 0.3rem; }
@media (max-width: 60rem) { .legend li { white-space: normal; } }
.swatch { display: inline-block; text-align: center; padding: 0 0.4rem; border: 1px solid var(--border); border-radius: 4px; background: var(--bg); white-space: nowrap; }
.agent-swatch { font-weight: 700; border-bottom: 3px solid var(--fg); }
.num-swatch { color: var(--muted); font-weight: 600; font-variant-numeric: tabular-nums; }
.highlight-swatch { background: var(--error-bg); border-color: var(--error); box-shadow: inset 4px 0 0 var(--error); padding-left: 0.6rem; font-weight: 700; }
.highlight-swatch .marker { color: var(--error); }
.badge { display: inline-block; font-size: 0.78rem; font-weight: 700; text-transform: uppercase; letter-spacing: 0.03em; padding: 0.05rem 0.45rem; border-radius: 999px; border: 1px solid currentColor; vertical-align: 0.1em; }
.badge.error { color: var(--error); background: var(--error-bg); }
.badge.warning { color: var(--warning); background: var(--warning-bg); }
.kind { font-weight: 700; font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; }
details.finding { --hl: var(--error); --hl-bg: var(--error-bg); border: 1px solid var(--border); border-left: 4px solid var(--hl); border-radius: 6px; margin: 0 0 1rem; background: var(--bg); }
details.finding[data-severity="warning"] { --hl: var(--warning); --hl-bg: var(--warning-bg); }
details.finding > summary { cursor: pointer; padding: 0.6rem 0.9rem; font-size: 1.05rem; line-height: 1.6; }
details.finding[open] > summary { border-bottom: 1px solid var(--border); }
details.finding > .body { padding: 0.5rem 0.9rem 0.9rem; }
ul.locations { list-style: none; margin: 0.25rem 0 0.5rem; padding: 0; }
li.location { margin: 0.35rem 0; }
li.location .loc::before { content: "--> "; color: var(--muted); }
li.location.primary .loc { font-weight: 700; }
p.help, p.note { margin: 0.3rem 0; }
.tag { font-weight: 700; }
p.help .tag { color: #0a7e8c; }
@media (prefers-color-scheme: dark) { p.help .tag { color: #56d4dd; } }
pre.source { margin: 0.25rem 0 0; padding: 0.2rem 0.5rem; background: var(--code-bg); border-radius: 4px; white-space: pre-wrap; overflow-wrap: anywhere; }
pre.source code { background: none; padding: 0; font-size: inherit; }
pre.source .lineno { color: var(--muted); user-select: none; display: inline-block; min-width: 2.5em; padding-right: 0.6em; text-align: right; }
mark.at { background: var(--at-bg); color: inherit; border-radius: 2px; text-decoration: underline; text-decoration-color: var(--muted); text-underline-offset: 2px; }
.scroll { overflow-x: auto; }
table.timeline { border-collapse: separate; border-spacing: 0.4rem 0.3rem; table-layout: fixed; width: 100%; font-size: 0.92rem; margin: 0 -0.4rem; }
table.timeline th, table.timeline td { padding: 0.4rem 0.6rem; vertical-align: top; text-align: left; overflow-wrap: anywhere; }
table.timeline thead th { position: sticky; top: 0; z-index: 1; background: var(--panel); }
th.agent { font-size: 1rem; border-bottom: 3px solid var(--fg); border-radius: 6px 6px 0 0; }
th.num { width: 2.6rem; text-align: right !important; color: var(--muted); font-weight: 600; font-variant-numeric: tabular-nums; padding-left: 0 !important; padding-right: 0.2rem !important; }
thead th.num { background: none !important; }
td.idle { background: repeating-linear-gradient(to bottom, var(--lifeline) 0 6px, transparent 6px 10px) center / 2px 100% no-repeat; }
td.step { background: var(--panel); border: 1px solid var(--border); border-radius: 6px; }
td.step .action { font-weight: 500; }
td.step .where { color: var(--muted); font-size: 0.9em; }
td.step .where .loc { font-size: 1em; }
td.step .where .file { white-space: nowrap; }
td.step.highlight { background: var(--hl-bg); border-color: var(--hl); box-shadow: inset 5px 0 0 var(--hl); padding-left: 0.95rem; }
td.step.highlight .action { font-weight: 700; }
.marker { color: var(--hl); font-weight: 700; }
tr.highlight th.num { color: var(--hl); }
tr.highlight th.num::before { content: "\25B6  "; font-size: 0.8em; }
section.untraced { margin-top: 1.5rem; }
@media print {
  :root {
    --bg: #ffffff; --fg: #000000; --muted: #444c56; --border: #9aa4ae; --panel: #f2f4f6;
    --code-bg: #f2f4f6; --at-bg: #dbeafe; --error: #b0151f; --error-bg: #fde4e2;
    --warning: #7a5200; --warning-bg: #fdf3c4; --lifeline: #b8c0c8;
  }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  .scroll { overflow: visible; }
  table.timeline { font-size: 9pt; }
  table.timeline thead th { position: static; }
  tr { break-inside: avoid; }
  details.finding { break-inside: auto; }
  details.finding > summary { list-style: none; }
  nav.contents { display: none; }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Site;
    use crate::finding::{Kind, TraceStep};
    use crate::report::Summary;

    fn count(haystack: &str, needle: &str) -> usize {
        haystack.matches(needle).count()
    }

    fn site(file: &str, line: u32, column: u32) -> Site {
        Site::new(file.to_string(), line, column)
    }

    fn summary() -> Summary {
        Summary {
            files: 1,
            executions: 12,
            complete: true,
            engine: Some("loom".into()),
            preemption_bound: Some(2),
            ..Summary::default()
        }
    }

    fn deadlock(file: &str) -> Finding {
        Finding::new(Kind::Deadlock, "every live thread is blocked")
            .at(&site(file, 4, 14), "`main` waits for `b`")
            .with_help("take `a` and `b` in one order")
            .in_execution(3)
            .with_trace(vec![
                TraceStep::new("main", "lock `a`", &site(file, 3, 14)),
                TraceStep::new("thread 1", "lock `b`", &site(file, 7, 18)),
                TraceStep::new("thread 1", "lock `a`", &site(file, 8, 18)).highlighted(),
                TraceStep::new("main", "lock `b`", &site(file, 4, 14)).highlighted(),
            ])
    }

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("a\0b"), "a\u{FFFD}b");
        assert_eq!(escape("plain ▶ text"), "plain ▶ text");
    }

    #[test]
    fn backquotes_become_code_and_the_rest_is_escaped() {
        assert_eq!(
            rich("lock `a<b>` & `c`"),
            "lock <code>a&lt;b&gt;</code> &amp; <code>c</code>"
        );
        // An unmatched backquote is left as text.
        assert_eq!(rich("it's `odd"), "it&#39;s `odd");
        assert_eq!(rich("empty `` pair"), "empty `` pair");
    }

    #[test]
    fn the_expression_at_the_column_is_marked() {
        assert_eq!(
            source_html("    let g = m.lock().unwrap();", 13),
            "let g = <mark class=\"at\">m.lock().unwrap()</mark>;"
        );
        assert_eq!(
            source_html("    if a < b && c > \"d\" {", 8),
            "if <mark class=\"at\">a</mark> &lt; b &amp;&amp; c &gt; &quot;d&quot; {"
        );
        // No column, a column in the indentation or past the end: the line alone.
        assert_eq!(source_html("  x < y", 0), "x &lt; y");
        assert_eq!(source_html("  x < y", 1), "x &lt; y");
        assert_eq!(source_html("  x", 40), "x");
    }

    #[test]
    fn columns_are_agents_and_rows_are_steps() {
        let report = Report::new(vec![deadlock("no/such/file.rs")], summary());
        let html = render(&report);
        assert!(html.starts_with("<!doctype html>"), "{html}");
        assert_eq!(count(&html, "<table class=\"timeline\""), 1);
        assert!(
            html.contains("data-agents=\"2\" data-steps=\"4\""),
            "{html}"
        );
        let main = html.find("<th class=\"agent\" scope=\"col\" data-agent=\"main\">main</th>");
        let t1 =
            html.find("<th class=\"agent\" scope=\"col\" data-agent=\"thread 1\">thread 1</th>");
        assert!(main.is_some() && t1.is_some() && main < t1, "{html}");
        assert_eq!(count(&html, "<td class=\"step"), 4);
        assert_eq!(count(&html, "<td class=\"idle\""), 4);
        for (n, agent) in [(1, "main"), (2, "thread 1"), (3, "thread 1"), (4, "main")] {
            assert!(
                html.contains(&format!("data-step=\"{n}\" data-agent=\"{agent}\">")),
                "step {n} by {agent}: {html}"
            );
        }
        // Step 1 is in the first column: its row has the step cell before the idle one.
        let row1 = &html[html.find("<tr data-step=\"1\"").unwrap()..];
        let row1 = &row1[..row1.find("</tr>").unwrap()];
        assert!(
            row1.find("class=\"step\"").unwrap() < row1.find("class=\"idle\"").unwrap(),
            "{row1}"
        );
        // The marked steps: class, row class and the marker.
        assert_eq!(count(&html, "<td class=\"step highlight\""), 2);
        assert_eq!(count(&html, "<tr data-step=\"3\" class=\"highlight\">"), 1);
        assert_eq!(count(&html, "<span class=\"marker\" title="), 2);
        assert!(html
            .contains("interleaving (2 agents, 4 steps; ▶ marks the steps this finding is about)"));
        // Places, even where the file cannot be read.
        assert!(html.contains(
            "<code class=\"loc\">no/<wbr>such/<wbr><span class=\"file\">file.rs:8:18</span></code>"
        ));
        assert!(
            !html.contains("<pre class=\"source\">"),
            "no file, no source lines"
        );
        // The header of the finding.
        assert!(html.contains("data-kind=\"deadlock\" data-severity=\"error\" open>"));
        assert!(html.contains("<span class=\"badge error\">error</span>"));
        assert!(html.contains("help:</span> take <code>a</code> and <code>b</code> in one order"));
        assert!(html.contains("first seen in execution 3"));
        assert!(html.contains(
            "1 error, 0 warnings in 1 file (12 executions, loom engine, preemption bound 2)"
        ));
        assert!(html.contains("class=\"legend\""));
        assert!(!html.contains("class=\"no-trace\""));
    }

    #[test]
    fn the_page_is_self_contained() {
        let report = Report::new(vec![deadlock("x.rs")], summary());
        let html = render(&report);
        for outside in ["http:", "https:", "//", "<link", " src=", "@import", "url("] {
            let found = html
                .match_indices(outside)
                .map(|(i, _)| &html[i.saturating_sub(30)..(i + 30).min(html.len())])
                .collect::<Vec<_>>();
            assert!(found.is_empty(), "`{outside}` in the page: {found:?}");
        }
        assert_eq!(count(&html, "<script>"), 1);
        assert!(html.contains("@media (prefers-color-scheme: dark)"));
        assert!(html.contains("@media print"));
    }

    #[test]
    fn source_lines_are_read_and_everything_is_escaped() {
        let dir = std::env::temp_dir().join(format!("interlock-html-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("quotes.rs");
        std::fs::write(
            &path,
            "fn main() {\n    if a < b && s == \"</td>\" { x.lock(); }\r\n    let t = '<';\n}\n",
        )
        .unwrap();
        let file = path.to_string_lossy().into_owned();
        let evil = "<script>alert('x')</script> & \"quoted\"";
        let finding = Finding::new(Kind::DataRace, format!("race on `v<T>` {evil}"))
            .at(&site(&file, 2, 8), evil)
            .with_help(evil)
            .with_note(evil)
            .with_trace(vec![
                TraceStep::new("<b>main</b>", format!("write {evil}"), &site(&file, 2, 8))
                    .highlighted(),
                TraceStep::new("thread \"1\"", "read", &site(&file, 3, 13)).highlighted(),
            ]);
        let html = render(&Report::new(vec![finding], summary()));
        std::fs::remove_dir_all(&dir).ok();

        assert_eq!(count(&html, "<script>"), 1, "only the page's own script");
        assert!(!html.contains("<b>"));
        assert!(!html.contains("</td>\""));
        assert!(html
            .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;"));
        assert!(html.contains("race on <code>v&lt;T&gt;</code>"));
        assert!(
            html.contains("data-agent=\"&lt;b&gt;main&lt;/b&gt;\">&lt;b&gt;main&lt;/b&gt;</th>")
        );
        assert!(html.contains("data-agent=\"thread &quot;1&quot;\""));
        // The source lines, escaped, with the expression at the column marked.
        assert!(
            html.contains(
                "<span class=\"lineno\">2</span>if <mark class=\"at\">a</mark> &lt; b &amp;&amp; s == &quot;&lt;/td&gt;&quot; { x.lock(); }</code>"
            ),
            "{html}"
        );
        assert!(
            html.contains(
                "<span class=\"lineno\">3</span>let t = <mark class=\"at\">&#39;&lt;&#39;</mark>;"
            ),
            "{html}"
        );
    }

    #[test]
    fn a_run_of_steps_at_one_place_shows_its_line_once() {
        let dir = std::env::temp_dir().join(format!("interlock-html-run-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("run.rs");
        std::fs::write(&path, "fn main() {\n    let n = *m.lock().unwrap();\n}\n").unwrap();
        let file = path.to_string_lossy().into_owned();
        let at = site(&file, 2, 14);
        let finding = Finding::new(Kind::DataRace, "race").with_trace(vec![
            TraceStep::new("main", "wait for `m`", &at),
            TraceStep::new("thread 1", "lock `m`", &at),
            TraceStep::new("main", "lock `m`", &at),
            TraceStep::new("main", "read `m`", &at).highlighted(),
            TraceStep::new("main", "unlock `m`", &at),
        ]);
        let html = render(&Report::new(vec![finding], summary()));
        std::fs::remove_dir_all(&dir).ok();
        // main's first step, thread 1's step, main's marked step.
        assert_eq!(count(&html, "<pre class=\"source\">"), 3, "{html}");
        // Every step still names its place.
        assert_eq!(
            count(&html, "<span class=\"file\">run.rs:2:14</span>"),
            5,
            "{html}"
        );
    }

    #[test]
    fn a_report_without_a_trace_says_so() {
        let clean = render(&Report::new(Vec::new(), summary()));
        assert!(clean.contains("<p class=\"no-trace\">No concurrency bugs were found"));
        assert!(!clean.contains("<table"));
        assert!(clean.contains("no concurrency bugs found in 1 file"));

        let warning = Finding::new(Kind::CondvarMisuse, "`wait` outside a loop")
            .at(&site("gone.rs", 7, 5), "this `if` should be a `while`");
        let html = render(&Report::new(vec![warning], summary()));
        assert!(
            html.contains("<p class=\"no-trace\">No counterexample to show"),
            "{html}"
        );
        assert!(html.contains("data-kind=\"condvar-misuse\" data-severity=\"warning\">"));
        assert!(html.contains("<code class=\"loc\">gone.rs:7:5</code>"));
        assert!(!html.contains("<table"));
    }

    #[test]
    fn the_first_traced_finding_is_open_and_the_others_fold() {
        let untraced = Finding::new(Kind::CondvarMisuse, "`wait` outside a loop");
        let second = Finding::new(Kind::DataRace, "race on `x`").with_trace(vec![
            TraceStep::new("stream 1", "kernel `k` writes `x`", &site("a.rs", 1, 1)),
            TraceStep::new("stream 2", "kernel `j` reads `x`", &site("a.rs", 2, 1)).highlighted(),
        ]);
        let mut summary = summary();
        summary.complete = false;
        summary.incomplete_reason = Some("`max-executions` 10 reached".into());
        let report = Report::new(vec![untraced, deadlock("a.rs"), second], summary);
        let html = render(&report);
        // Report order among the traced ones, the untraced one after them.
        let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("{s}: {html}"));
        let first = at("id=\"finding-2\" data-kind=\"deadlock\" data-severity=\"error\" open>");
        let third = at("id=\"finding-3\" data-kind=\"data-race\" data-severity=\"error\">");
        let one = at("<details class=\"finding untraced\" id=\"finding-1\" data-kind=\"condvar-misuse\" data-severity=\"warning\">");
        assert!(first < third && third < one);
        assert_eq!(count(&html, " open>"), 1);
        assert_eq!(count(&html, "<table class=\"timeline\""), 2);
        assert!(html.contains("<a href=\"#finding-1\">"));
        assert!(html.contains("exploration stopped early: <code>max-executions</code> 10 reached"));
        assert!(html.contains("2 errors, 1 warning in 1 file"));
    }
}
