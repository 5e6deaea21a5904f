//! Reads a recorded GPU trace (`interlock gpu TRACE.json`, format version 1):
//!
//! ```json
//! {
//!   "version": 1,
//!   "default_stream": "legacy",
//!   "streams": [{"id": 1, "blocking": false}],
//!   "ops": [
//!     {"op": "alloc", "buffer": "x", "space": "device"},
//!     {"op": "kernel", "stream": 1, "name": "produce", "writes": ["x"]},
//!     {"op": "kernel", "stream": 0, "name": "consume", "reads": ["x"], "line": 12}
//!   ]
//! }
//! ```
//!
//! A trace can be far larger than memory should grow for it (a training
//! run records millions of ops), so it is never held whole: a first pass
//! walks the top level and keeps the small members (`version`, `streams`,
//! ...) while skipping `ops`; [`GpuTrace::check`] then reads the ops one at
//! a time into the stream checker, which keeps state per stream and buffer,
//! never per op; and when the checker found hazards, [`GpuTrace::kept_ops`]
//! reads again only the ops the findings name and a short window before
//! each. Each op's text is parsed by serde_json; the scanner (`json_scan`)
//! knows where it is, so that findings about an op without a `file`/`line`
//! of its own point into the trace, and every error names the op's index
//! (`ops[3]`) and its place.
//!
//! A key written twice in one object is an error (serde_json would keep the
//! last one, so a second `"stream"` would silently change an op, and a
//! second `"ops"` would replace them all). A UTF-8 byte order mark is
//! skipped. Top-level `expect`, `expect_ops` and `description` (used by the
//! fixtures) are accepted and ignored, and so is any key that starts with `_`.

mod json_scan;
mod op_fields;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::InputError;
use crate::gpu::{Checker, DefaultStream, Hazard, Op, OpError, OpLog, Setup};
use json_scan::{array_items, duplicate, object_members, skip_value, Pos, ScanError, Scanner};

/// How many ops before a hazard's later op are read again to explain it
/// (the waits and records between the two, the interleaving's steps).
/// A finding shows at most `MAX_STEPS` of them.
const WINDOW: usize = 256;

/// A trace file whose text above this size is not read whole to show an
/// error in context: the error gives its line and column only.
const SNIPPET_LIMIT: u64 = 64 << 20;

/// Where the text of a trace comes from: a file, read again for each pass,
/// or a text in memory (tests, small inputs).
#[derive(Debug)]
enum Source {
    File(PathBuf),
    Text(String),
}

/// A trace whose top level has been read and checked for form; its ops are
/// read on demand ([`check`](GpuTrace::check), [`ops`](GpuTrace::ops)).
#[derive(Debug)]
pub struct GpuTrace {
    /// The path as given, used in locations and errors.
    pub name: String,
    source: Source,
    /// The streams and the default stream's mode; names are added as ops are read.
    pub setup: Setup,
    /// The top-level `file`: the source file of ops that give only a `line`.
    default_file: Option<String>,
    /// Where the `ops` array opens (its `[`).
    ops_at: Pos,
    /// Whether the text starts with a byte order mark (offsets count after it).
    bom: bool,
}

/// What reading the ops through the checker saw.
#[derive(Clone, Debug, Default)]
pub struct OpsRead {
    pub ops: usize,
    /// The host threads that issued ops.
    pub threads: usize,
}

/// An error at `span` (byte offsets after any byte order mark), before it
/// is shown with the text around it.
struct Located {
    message: String,
    span: Range<usize>,
    label: String,
    help: Option<String>,
}

impl Located {
    fn new(message: impl Into<String>, span: Range<usize>, label: impl Into<String>) -> Self {
        Located {
            message: message.into(),
            span,
            label: label.into(),
            help: None,
        }
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

type Fail = Box<Located>;

/// Takes one op's index, text and place.
type EachOp<'a> = dyn FnMut(usize, &[u8], Pos) -> Result<(), Fail> + 'a;

/// Reads and checks the top level of a trace; errors name the path as given.
pub fn load(path: &Path) -> Result<GpuTrace, Box<InputError>> {
    let name = path.display().to_string();
    // Only a regular file is read: a FIFO or a device would block or never end.
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => {
            return Err(Box::new(InputError::new(format!(
                "cannot read `{name}`: not a regular file"
            ))))
        }
        Ok(_) => {}
        Err(_) => {
            InputError::read(path)?;
        }
    }
    GpuTrace::open(name, Source::File(path.to_path_buf()))
}

/// Reads the top level of the text of a trace called `name` (used in
/// errors and locations).
pub fn parse(name: &str, text: String) -> Result<GpuTrace, Box<InputError>> {
    GpuTrace::open(name.to_string(), Source::Text(text))
}

/// The members of the top level, as the first pass found them.
struct TopMember {
    key: String,
    key_start: usize,
    value_start: usize,
    value_end: usize,
    /// The value's text (`None` for `ops`, which is skipped).
    text: Option<String>,
}

const TOP_KEYS: &[&str] = &[
    "version",
    "default_stream",
    "streams",
    "ops",
    "file",
    "expect",
    "expect_ops",
    "description",
];

/// A JSON type's name for messages.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The type of the value that starts with `byte`, for messages.
fn type_of_first(byte: Option<u8>) -> &'static str {
    match byte {
        Some(b'[') => "an array",
        Some(b'{') => "an object",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        Some(b'-' | b'0'..=b'9') => "a number",
        None => "empty",
        Some(_) => "JSON",
    }
}

/// serde_json's error in a value whose text starts at `base`.
fn json_error(e: &serde_json::Error, text: &str, base: usize) -> Fail {
    let offset = base + offset_of(text, e.line(), e.column());
    let message = e.to_string();
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(m, _)| m);
    Box::new(Located::new(
        format!("malformed JSON: {message}"),
        offset..offset + 1,
        "here",
    ))
}

fn scan_error(e: ScanError) -> Fail {
    match e {
        ScanError::Io(e) => Box::new(Located::new(
            format!("cannot read the trace: {e}"),
            0..0,
            "",
        )),
        ScanError::Syntax { at, expected } => Box::new(Located::new(
            format!("malformed JSON: expected {expected}"),
            at.offset..at.offset + 1,
            "here",
        )),
        ScanError::TooLong { at } => Box::new(
            Located::new(
                format!(
                    "a value longer than {} MiB starts here (an op, or a top-level member)",
                    json_scan::MAX_VALUE >> 20
                ),
                at.offset..at.offset + 1,
                "here",
            )
            .help("an op is a small object; is a bracket or a quote missing?"),
        ),
    }
}

/// The text of a string token (with its quotes) as a string.
fn decode_key(raw: &[u8], at: usize) -> Result<String, Fail> {
    serde_json::from_slice::<String>(raw).map_err(|e| {
        let text = String::from_utf8_lossy(raw);
        json_error(&e, &text, at)
    })
}

/// The message for a key written twice, at the second one.
fn duplicate_key(what: &str, key: &str, first_line: u32, span: Range<usize>) -> Fail {
    Box::new(
        Located::new(
            format!("duplicate key `{key}` in {what}"),
            span,
            "written again here",
        )
        .help(format!(
            "`{key}` is already given on line {first_line}; a JSON reader would keep only the \
             last one, so remove one of the two"
        )),
    )
}

impl Source {
    /// A scanner at the start of the text, past any byte order mark.
    fn scanner(&self) -> io::Result<Scanner<Box<dyn BufRead + '_>>> {
        let reader: Box<dyn BufRead + '_> = match self {
            Source::File(path) => Box::new(BufReader::with_capacity(1 << 16, File::open(path)?)),
            Source::Text(text) => Box::new(text.as_bytes()),
        };
        Scanner::new(reader)
    }

    /// A scanner at `pos` (found by an earlier pass).
    fn scanner_at(&self, pos: Pos, bom: bool) -> io::Result<Scanner<Box<dyn BufRead + '_>>> {
        let skip = pos.offset + if bom { 3 } else { 0 };
        let reader: Box<dyn BufRead + '_> = match self {
            Source::File(path) => {
                let mut file = File::open(path)?;
                file.seek(SeekFrom::Start(skip as u64))?;
                Box::new(BufReader::with_capacity(1 << 16, file))
            }
            Source::Text(text) => Box::new(text.as_bytes().get(skip..).unwrap_or_default()),
        };
        Ok(Scanner::resume(reader, pos))
    }

    /// The whole text past any byte order mark, when it is small enough to
    /// show an error in context.
    fn text(&self) -> Option<String> {
        let mut text = match self {
            Source::File(path) => {
                let file = File::open(path).ok()?;
                if file.metadata().ok()?.len() > SNIPPET_LIMIT {
                    return None;
                }
                let mut bytes = Vec::new();
                file.take(SNIPPET_LIMIT).read_to_end(&mut bytes).ok()?;
                String::from_utf8_lossy(&bytes).into_owned()
            }
            Source::Text(text) => text.clone(),
        };
        if text.starts_with('\u{feff}') {
            text.drain(..3);
        }
        Some(text)
    }

    /// The line and column of `offset`, counted in one pass over the text.
    fn place(&self, offset: usize) -> Option<Pos> {
        let mut scanner = self.scanner().ok()?;
        let mut pos = Pos::START;
        let mut chunk = vec![0u8; 1 << 16];
        let reader = scanner.reader_mut();
        while pos.offset < offset {
            let want = (offset - pos.offset).min(chunk.len());
            let n = reader.read(&mut chunk[..want]).ok()?;
            if n == 0 {
                break;
            }
            pos = pos.advanced(&chunk[..n], n);
        }
        Some(pos)
    }
}

impl GpuTrace {
    fn open(name: String, source: Source) -> Result<GpuTrace, Box<InputError>> {
        let bom = match &source {
            Source::Text(text) => text.starts_with('\u{feff}'),
            Source::File(path) => {
                let mut head = [0u8; 3];
                let n = File::open(path)
                    .and_then(|mut f| f.read(&mut head))
                    .unwrap_or(0);
                n == 3 && head == *b"\xEF\xBB\xBF"
            }
        };
        let mut trace = GpuTrace {
            name,
            source,
            setup: Setup::new(DefaultStream::Legacy),
            default_file: None,
            ops_at: Pos::START,
            bom,
        };
        trace.top().map_err(|e| trace.error(*e))?;
        Ok(trace)
    }

    /// An error as the user sees it: with the text around it when the trace
    /// is small enough to show, with its line and column otherwise.
    fn error(&self, e: Located) -> Box<InputError> {
        let mut err = match self.source.text() {
            Some(text) => InputError::at(e.message, &self.name, &text, e.span, e.label),
            None => match self.source.place(e.span.start) {
                Some(pos) => InputError::new(format!(
                    "{}:{}:{}: {}",
                    self.name, pos.line, pos.column, e.message
                )),
                None => InputError::new(format!("{}: {}", self.name, e.message)),
            },
        };
        err.help = e.help;
        Box::new(err)
    }

    /// The first pass: the top-level members, `ops` skipped.
    fn top(&mut self) -> Result<(), Fail> {
        let mut s = self
            .source
            .scanner()
            .map_err(ScanError::from)
            .map_err(scan_error)?;
        s.skip_ws().map_err(ScanError::from).map_err(scan_error)?;
        let start = s.pos().offset;
        let first = s.peek().map_err(ScanError::from).map_err(scan_error)?;
        if first != Some(b'{') {
            return Err(Box::new(
                Located::new(
                    format!("a GPU trace is a JSON object, not {}", type_of_first(first)),
                    start..start + 1,
                    "expected `{`",
                )
                .help(r#"e.g. {"version": 1, "streams": [], "ops": [...]}"#),
            ));
        }
        let mut members: Vec<TopMember> = Vec::new();
        let mut lines: Vec<u32> = Vec::new();
        let mut ops_at = None;
        let mut ops_first = None;
        (|| -> Result<(), ScanError> {
            s.expect(b'{', "`{`")?;
            if s.closes(b'}')? {
                return Ok(());
            }
            loop {
                s.skip_ws()?;
                let key_at = s.pos();
                let mut raw = Vec::new();
                s.string(&mut Some(&mut raw))?;
                s.expect(b':', "`:`")?;
                s.skip_ws()?;
                let value_start = s.pos().offset;
                let key = String::from_utf8_lossy(&raw).into_owned();
                let text = if key == "\"ops\"" {
                    ops_at.get_or_insert(s.pos());
                    ops_first.get_or_insert(s.peek()?);
                    s.value(None)?;
                    None
                } else {
                    let mut value = Vec::new();
                    s.value(Some(&mut value))?;
                    Some(String::from_utf8_lossy(&value).into_owned())
                };
                members.push(TopMember {
                    key,
                    key_start: key_at.offset,
                    value_start,
                    value_end: s.pos().offset,
                    text,
                });
                lines.push(key_at.line);
                if !s.next_item(b'}')? {
                    return Ok(());
                }
            }
        })()
        .map_err(scan_error)?;
        s.skip_ws().map_err(ScanError::from).map_err(scan_error)?;
        if s.peek()
            .map_err(ScanError::from)
            .map_err(scan_error)?
            .is_some()
        {
            let at = s.pos().offset;
            return Err(Box::new(Located::new(
                "malformed JSON: trailing characters after the trace's object",
                at..at + 1,
                "here",
            )));
        }
        // Keys as written become keys as meant (escapes resolved).
        for m in &mut members {
            m.key = decode_key(m.key.as_bytes(), m.key_start)?;
        }
        for (i, m) in members.iter().enumerate() {
            // Every value is JSON, also those that are ignored.
            if let Some(text) = &m.text {
                serde_json::from_str::<serde::de::IgnoredAny>(text)
                    .map_err(|e| json_error(&e, text, m.value_start))?;
            }
            if let Some(first) = members[..i].iter().position(|f| f.key == m.key) {
                return Err(duplicate_key(
                    "the trace",
                    &m.key,
                    lines[first],
                    m.key_start..m.value_end,
                ));
            }
            if !TOP_KEYS.contains(&m.key.as_str()) && !m.key.starts_with('_') {
                return Err(Box::new(
                    Located::new(
                        format!("unknown key `{}` in the trace", m.key),
                        m.key_start..m.value_start,
                        "not part of a GPU trace",
                    )
                    .help(format!("the keys are: {}", TOP_KEYS.join(", "))),
                ));
            }
        }
        let value = |key: &str| -> Result<Option<(Value, &TopMember)>, Fail> {
            let Some(m) = members.iter().find(|m| m.key == key) else {
                return Ok(None);
            };
            let text = m.text.as_deref().unwrap_or("null");
            let v = serde_json::from_str(text).map_err(|e| json_error(&e, text, m.value_start))?;
            Ok(Some((v, m)))
        };
        let key_span = |m: &TopMember| m.key_start..m.value_end;

        match value("version")? {
            Some((v, _)) if v.as_u64() == Some(1) => {}
            Some((v, m)) => {
                return Err(Box::new(
                    Located::new(
                        format!("unsupported trace version {v}"),
                        key_span(m),
                        "this reader knows version 1",
                    )
                    .help("write `\"version\": 1`"),
                ))
            }
            None => {
                return Err(Box::new(
                    Located::new(
                        "the trace has no `version`",
                        start..start + 1,
                        "expected `\"version\": 1` here",
                    )
                    .help("add `\"version\": 1`"),
                ))
            }
        }

        let mode = match value("default_stream")? {
            None => DefaultStream::Legacy,
            Some((Value::String(s), _)) if s == "legacy" => DefaultStream::Legacy,
            Some((Value::String(s), _)) if s == "per-thread" || s == "per_thread" => {
                DefaultStream::PerThread
            }
            Some((other, m)) => return Err(Box::new(
                Located::new(
                    format!("`default_stream` must be \"legacy\" or \"per-thread\", not {other}"),
                    key_span(m),
                    "here",
                )
                .help(
                    "\"legacy\": stream 0 synchronizes with blocking streams (CUDA's default); \
                         \"per-thread\": compiled with --default-stream per-thread",
                ),
            )),
        };
        self.setup = Setup::new(mode);

        self.default_file = match value("file")? {
            None => None,
            Some((Value::String(f), _)) => Some(f),
            Some((other, m)) => {
                return Err(Box::new(Located::new(
                    format!(
                        "`file` must be a string (the program's source file), not {}",
                        type_name(&other)
                    ),
                    key_span(m),
                    "here",
                )))
            }
        };

        if let Some(m) = members.iter().find(|m| m.key == "streams") {
            let text = m.text.as_deref().unwrap_or("null");
            let v: Value =
                serde_json::from_str(text).map_err(|e| json_error(&e, text, m.value_start))?;
            streams(&mut self.setup, &v, text, m.value_start)?;
        }

        let Some(ops_at) = ops_at else {
            return Err(Box::new(
                Located::new(
                    "the trace has no `ops`",
                    start..start + 1,
                    "expected `\"ops\": [...]`",
                )
                .help("`ops` lists the operations in the order the host issued them"),
            ));
        };
        if ops_first != Some(Some(b'[')) {
            let m = members
                .iter()
                .find(|m| m.key == "ops")
                .expect("`ops` was seen");
            let first = ops_first.flatten();
            return Err(Box::new(Located::new(
                format!("`ops` must be an array, not {}", type_of_first(first)),
                key_span(m),
                "here",
            )));
        }
        self.ops_at = ops_at;
        Ok(())
    }
}

impl GpuTrace {
    /// Reads the ops in order; `wanted` says which to hand to `each` (the
    /// others are skipped unparsed), with their index, text and place.
    fn each_op(
        &self,
        wanted: &mut dyn FnMut(usize) -> bool,
        each: &mut EachOp<'_>,
    ) -> Result<usize, Fail> {
        let io = |e: io::Error| scan_error(ScanError::from(e));
        let mut s = self.source.scanner_at(self.ops_at, self.bom).map_err(io)?;
        s.expect(b'[', "`[`").map_err(scan_error)?;
        if s.closes(b']').map_err(io)? {
            return Ok(0);
        }
        let mut text = Vec::new();
        let mut index = 0;
        loop {
            s.skip_ws().map_err(io)?;
            let at = s.pos();
            if wanted(index) {
                text.clear();
                s.value(Some(&mut text)).map_err(scan_error)?;
                each(index, &text, at)?;
            } else {
                s.value(None).map_err(scan_error)?;
            }
            index += 1;
            if !s.next_item(b']').map_err(scan_error)? {
                return Ok(index);
            }
        }
    }

    /// Streams every op through `checker`, one at a time: an op the checker
    /// cannot use (an undeclared stream, a live buffer allocated again) is
    /// an error at the op.
    pub fn check(&self, checker: &mut Checker) -> Result<OpsRead, Box<InputError>> {
        let mut threads = BTreeSet::new();
        let ops = self
            .each_op(&mut |_| true, &mut |index, text, at| {
                let op = self.op(checker.setup_mut(), index, text, at)?;
                threads.insert(op.thread);
                checker
                    .step(&op)
                    .map_err(|e| op_error(&e, at.offset..at.offset + text.len()))
            })
            .map_err(|e| self.error(*e))?;
        Ok(OpsRead {
            ops,
            threads: threads.len().max(1),
        })
    }

    /// Every op, read into memory (for tests and small traces; names are
    /// added to [`setup`](GpuTrace::setup)).
    pub fn ops(&mut self) -> Result<Vec<Op>, Box<InputError>> {
        let mut setup = self.setup.clone();
        let mut out = Vec::new();
        self.each_op(&mut |_| true, &mut |index, text, at| {
            out.push(self.op(&mut setup, index, text, at)?);
            Ok(())
        })
        .map_err(|e| self.error(*e))?;
        self.setup = setup;
        Ok(out)
    }

    /// The ops that the findings of `checker`'s hazards name, read again:
    /// both ops of each hazard, the allocation that may reuse a freed
    /// buffer, and the [`WINDOW`] ops before each hazard's later op.
    pub fn kept_ops(&self, checker: &mut Checker) -> Result<KeptOps, Box<InputError>> {
        let wanted = Wanted::of(checker.hazards());
        let mut kept = KeptOps::default();
        if wanted.ranges.is_empty() {
            return Ok(kept);
        }
        self.each_op(&mut |i| wanted.contains(i), &mut |index, text, at| {
            let op = self.op(checker.setup_mut(), index, text, at)?;
            kept.ops.insert(index, op);
            Ok(())
        })
        .map_err(|e| self.error(*e))?;
        Ok(kept)
    }
}

/// An error the checker found in an op, at the op.
fn op_error(e: &OpError, span: Range<usize>) -> Fail {
    let mut located = Located::new(
        format!("malformed trace: {e}"),
        span,
        format!("ops[{}]", e.index),
    );
    located.help = e.help.clone();
    Box::new(located)
}

/// Which ops to read again, as sorted, disjoint index ranges.
struct Wanted {
    ranges: Vec<Range<usize>>,
}

impl Wanted {
    fn of(hazards: &[Hazard]) -> Wanted {
        let mut ranges: Vec<Range<usize>> = Vec::new();
        for h in hazards {
            let (e, l) = (h.earlier.op, h.later.op);
            ranges.push(e..e + 1);
            ranges.push(l.saturating_sub(WINDOW).max(e)..l + 1);
            if let Some(r) = h.reuse {
                ranges.push(r..r + 1);
            }
        }
        ranges.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
        for r in ranges {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        Wanted { ranges: merged }
    }

    fn contains(&self, index: usize) -> bool {
        let after = self.ranges.partition_point(|r| r.start <= index);
        after > 0 && index < self.ranges[after - 1].end
    }
}

/// The ops a trace's findings name, by index (see [`GpuTrace::kept_ops`]).
#[derive(Debug, Default)]
pub struct KeptOps {
    ops: BTreeMap<usize, Op>,
}

impl KeptOps {
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

impl OpLog for KeptOps {
    fn op(&self, index: usize) -> Option<&Op> {
        self.ops.get(&index)
    }

    fn ops_in(&self, range: Range<usize>) -> Vec<(usize, &Op)> {
        if range.start >= range.end {
            return Vec::new();
        }
        self.ops.range(range).map(|(&i, op)| (i, op)).collect()
    }
}

/// The `streams` member's value, whose text starts at `base`.
fn streams(setup: &mut Setup, streams: &Value, text: &str, base: usize) -> Result<(), Fail> {
    let bytes = text.as_bytes();
    let at = skip_ws_start(bytes);
    let Value::Array(list) = streams else {
        return Err(Box::new(
            Located::new(
                format!("`streams` must be an array, not {}", type_name(streams)),
                base + at..base + skip_value(bytes, at),
                "here",
            )
            .help(r#"e.g. "streams": [{"id": 1, "blocking": false}]"#),
        ));
    };
    let items = array_items(bytes, at);
    for (i, s) in list.iter().enumerate() {
        let local = items.get(i).cloned().unwrap_or(at..at + 1);
        let span = base + local.start..base + local.end;
        let fail = |message: String| {
            Box::new(
                Located::new(format!("streams[{i}]: {message}"), span.clone(), "this stream")
                    .help(
                        r#"each stream is {"id": N, "blocking": true|false}; stream 0 is the default stream and is not declared"#,
                    ),
            )
        };
        let Value::Object(fields) = s else {
            return Err(fail(format!("a stream is an object, not {}", type_name(s))));
        };
        let members = object_members(bytes, local.start);
        if let Some((_, second)) = duplicate(&members) {
            return Err(fail(format!("`{}` is given twice", second.key)));
        }
        if let Some(k) = fields
            .keys()
            .find(|k| !["id", "blocking"].contains(&k.as_str()) && !k.starts_with('_'))
        {
            return Err(fail(format!("unknown field `{k}`")));
        }
        let id = match fields.get("id") {
            Some(v) => v
                .as_u64()
                .ok_or_else(|| fail(format!("`id` must be a non-negative integer, not {v}")))?,
            None => return Err(fail("missing `id`".into())),
        };
        let blocking = match fields.get("blocking") {
            None => true,
            Some(Value::Bool(b)) => *b,
            Some(v) => return Err(fail(format!("`blocking` must be true or false, not {v}"))),
        };
        if id == 0 {
            return Err(fail(
                "stream 0 is the default stream: it is always present and not declared".into(),
            ));
        }
        if setup.stream_by_id(id).is_some() {
            return Err(fail(format!("stream {id} is declared twice")));
        }
        setup.stream(id, blocking);
    }
    Ok(())
}

fn skip_ws_start(bytes: &[u8]) -> usize {
    json_scan::skip_ws(bytes, 0)
}

/// Byte offset of serde_json's 1-based line and column (column 0: line start).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let rest = &text[start..];
    let col = rest
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(rest.len(), |(i, _)| i);
    (start + col).min(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Site;
    use crate::gpu::{OpKind, StreamId};

    fn read(text: &str) -> Result<(GpuTrace, Vec<Op>), Box<InputError>> {
        let mut trace = parse("t.json", text.to_string())?;
        let ops = trace.ops()?;
        Ok((trace, ops))
    }

    fn error(text: &str) -> String {
        read(text).unwrap_err().plain()
    }

    const SMALL: &str = r#"{
  "version": 1,
  "description": "ignored",
  "expect": "stream-race",
  "streams": [{"id": 7, "blocking": false}],
  "ops": [
    {"op": "alloc", "buffer": "x", "space": "device"},
    {"op": "kernel", "stream": 7, "name": "produce", "writes": ["x"], "file": "p.py", "line": 4},
    {
      "op": "kernel", "stream": 0, "name": "consume", "reads": ["x"], "line": 12, "thread": 2
    }
  ]
}"#;

    #[test]
    fn a_trace_reads_into_setup_and_ops_with_their_places() {
        let (t, ops) = read(SMALL).unwrap();
        assert_eq!(ops.len(), 3);
        assert_eq!(t.setup.streams.len(), 2);
        assert_eq!(t.setup.streams[1].id, 7);
        assert!(!t.setup.streams[1].blocking);
        let origin = |i: usize| ops[i].origin.clone().unwrap();
        assert_eq!((origin(0).line, origin(0).column), (7, 12));
        assert_eq!(origin(2).line, 10);
        assert_eq!(ops[1].site, Some(Site::new("p.py", 4, 0)));
        assert_eq!(ops[2].site, Some(Site::new("", 12, 0)));
        assert_eq!(ops[2].thread, 2);
        assert!(matches!(
            ops[1].kind,
            OpKind::Kernel {
                stream: StreamId(1),
                ..
            }
        ));
    }

    #[test]
    fn malformed_json_points_at_the_error() {
        let e = error("{\n  \"version\": 1,\n  \"ops\": [,]\n}");
        assert!(e.starts_with("t.json:3:11: malformed JSON: "), "{e}");
    }

    #[test]
    fn errors_name_the_op_index_and_what_is_wrong() {
        let cases = [
            (
                r#"{"op": "kernal", "stream": 0, "name": "k"}"#,
                "ops[1]: unknown op `kernal`",
            ),
            (
                r#"{"op": "kernel", "name": "k"}"#,
                "ops[1] (`kernel`): missing `stream`",
            ),
            (
                r#"{"op": "kernel", "stream": 3, "name": "k"}"#,
                "ops[1] (`kernel`): stream 3 is not declared",
            ),
            (
                r#"{"op": "kernel", "stream": 0, "name": "k", "wirtes": ["x"]}"#,
                "ops[1] (`kernel`): unknown field `wirtes`",
            ),
            (
                r#"{"op": "memcpy", "stream": 0, "src": "a", "dst": "b", "async": "yes"}"#,
                "ops[1] (`memcpy`): `async` must be true or false",
            ),
            (
                r#"{"op": "alloc", "buffer": "x", "space": "gpu"}"#,
                "ops[1] (`alloc`): `space` must be",
            ),
            (
                r#"{"op": "host_read", "buffer": 3}"#,
                "ops[1] (`host_read`): `buffer` must be a buffer name",
            ),
            (r#"[1]"#, "ops[1]: an op is an object, not an array"),
            (r#"{"stream": 0}"#, "ops[1]: missing `op`"),
        ];
        for (op, wanted) in cases {
            let text = format!(
                "{{\"version\": 1, \"ops\": [\n  {{\"op\": \"device_sync\"}},\n  {op}\n]}}"
            );
            let e = error(&text);
            assert!(e.starts_with("t.json:3:"), "{e}");
            assert!(e.contains(wanted), "{e}\nwanted: {wanted}");
        }
    }

    #[test]
    fn top_level_errors_say_what_is_wrong() {
        assert!(error(r#"{"ops": []}"#).contains("no `version`"));
        assert!(error(r#"{"version": 2, "ops": []}"#).contains("unsupported trace version 2"));
        assert!(error(r#"{"version": 1}"#).contains("no `ops`"));
        assert!(error(r#"{"version": 1, "ops": [], "opz": 1}"#).contains("unknown key `opz`"));
        assert!(error(r#"{"version": 1, "ops": [], "default_stream": "x"}"#)
            .contains("`default_stream` must be"));
        assert!(
            error(r#"{"version": 1, "ops": [], "streams": [{"id": 0}]}"#)
                .contains("streams[0]: stream 0 is the default stream")
        );
        assert!(
            error(r#"{"version": 1, "ops": [], "streams": [{"id": 1}, {"id": 1}]}"#)
                .contains("streams[1]: stream 1 is declared twice")
        );
        assert!(error("[]").contains("a GPU trace is a JSON object, not an array"));
        assert!(read(
            r#"{"version": 1, "ops": [], "_comment": "ok", "default_stream": "per-thread"}"#
        )
        .is_ok());
    }

    #[test]
    fn engine_errors_point_at_the_op() {
        let t = parse(
            "t.json",
            r#"{"version": 1, "ops": [
  {"op": "alloc", "buffer": "x"},
  {"op": "alloc", "buffer": "x"}
]}"#
            .to_string(),
        )
        .unwrap();
        let mut checker = Checker::new(t.setup.clone());
        let e = t.check(&mut checker).unwrap_err();
        assert_eq!(
            e.plain(),
            "t.json:3:3: malformed trace: ops[1]: `x` is allocated again while live (allocated at ops[0])"
        );
        assert!(e.help.unwrap().contains("`free`"));
    }

    #[test]
    fn a_key_written_twice_is_an_error_at_the_second() {
        let e = error(
            r#"{"version": 1, "streams": [{"id": 1}], "ops": [
  {"op": "kernel", "stream": 1, "name": "k", "writes": ["x"], "stream": 0}
]}"#,
        );
        assert!(
            e.starts_with("t.json:2:63: duplicate key `stream` in ops[0]"),
            "{e}"
        );
        let e = error("{\"version\": 1, \"ops\": [{\"op\": \"device_sync\"}],\n \"ops\": []}");
        assert!(
            e.starts_with("t.json:2:2: duplicate key `ops` in the trace"),
            "{e}"
        );
        let e = read(r#"{"version": 1, "version": 1, "ops": []}"#).unwrap_err();
        assert!(e.help.unwrap().contains("already given on line 1"));
        let e = error(r#"{"version": 1, "streams": [{"id": 1, "id": 2}], "ops": []}"#);
        assert!(e.contains("streams[0]: `id` is given twice"), "{e}");
    }

    #[test]
    fn a_byte_order_mark_is_skipped_and_places_count_after_it() {
        let (_, ops) =
            read("\u{feff}{\"version\": 1, \"ops\": [{\"op\": \"device_sync\"}]}").unwrap();
        let origin = ops[0].origin.clone().unwrap();
        assert_eq!((origin.line, origin.column), (1, 31));
        let e = error("\u{feff}{\"version\": 1, \"ops\": [{\"op\": \"nope\"}]}");
        assert!(
            e.starts_with("t.json:1:25: ops[0]: unknown op `nope`"),
            "{e}"
        );
    }

    #[test]
    fn the_ops_may_come_before_the_streams() {
        let (t, ops) = read(
            r#"{"ops": [{"op": "kernel", "stream": 4, "name": "k"}], "streams": [{"id": 4}], "version": 1}"#,
        )
        .unwrap();
        assert_eq!(ops.len(), 1);
        assert_eq!(t.setup.streams.len(), 2);
    }

    #[test]
    fn trailing_text_and_a_non_array_ops_are_errors() {
        assert!(error(r#"{"version": 1, "ops": []} x"#).contains("trailing characters"));
        assert!(
            error(r#"{"version": 1, "ops": {}}"#).contains("`ops` must be an array, not an object")
        );
        assert!(error("").contains("a GPU trace is a JSON object, not empty"));
    }

    #[test]
    fn only_the_wanted_ops_are_read_again() {
        let ops: Vec<String> = (0..1000)
            .map(|i| format!(r#"{{"op": "host_write", "buffer": "b{i}"}}"#))
            .collect();
        let text = format!(
            r#"{{"version": 1, "ops": [{{"op": "kernel", "stream": 0, "name": "k", "writes": ["x"]}}, {}, {{"op": "host_read", "buffer": "x"}}]}}"#,
            ops.join(", ")
        );
        let t = parse("t.json", text).unwrap();
        let mut checker = Checker::new(t.setup.clone());
        let read = t.check(&mut checker).unwrap();
        assert_eq!(read.ops, 1002);
        assert_eq!(
            checker.hazards().len(),
            1,
            "the host read races with the kernel"
        );
        let kept = t.kept_ops(&mut checker).unwrap();
        assert!(kept.op(0).is_some() && kept.op(1001).is_some());
        assert!(kept.op(10).is_none(), "outside the window");
        assert_eq!(kept.len(), 1 + WINDOW + 1);
        let findings = checker.findings_from(&kept);
        assert!(
            findings[0].message.contains("kernel `k`"),
            "{}",
            findings[0].message
        );
    }

    /// Edits a valid trace: deletes, inserts a JSON-significant byte, or
    /// repeats a slice (a key written twice, an op twice).
    fn edited(base: &str, edits: &[(usize, u8, usize)]) -> String {
        const BYTES: &[u8] = b"{}[],:\" 0-1aeu\\\n";
        let mut bytes = base.as_bytes().to_vec();
        for &(at, what, n) in edits {
            let at = at % (bytes.len() + 1);
            match what % 3 {
                0 => {
                    let end = (at + n % 8).min(bytes.len());
                    bytes.drain(at..end);
                }
                1 => bytes.insert(at, BYTES[n % BYTES.len()]),
                _ => {
                    let end = (at + n % 40).min(bytes.len());
                    let slice = bytes[at..end].to_vec();
                    bytes.splice(at..at, slice);
                }
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// No panic, and no trace accepted unless all of it was read: what
        /// the reader accepts, serde_json reads as the same number of ops;
        /// what serde_json rejects, the reader rejects.
        #[test]
        fn an_edited_trace_is_read_whole_or_refused(
            edits in proptest::collection::vec((0usize..400, 0u8..3, 0usize..64), 1..4)
        ) {
            let text = edited(SMALL, &edits);
            let result = parse("t.json", text.clone()).and_then(|t| {
                let mut checker = Checker::new(t.setup.clone());
                t.check(&mut checker)
            });
            let reference: Result<Value, _> = serde_json::from_str(&text);
            match (&result, &reference) {
                (Ok(read), Ok(doc)) => {
                    let ops = doc["ops"].as_array().map(Vec::len);
                    proptest::prop_assert_eq!(Some(read.ops), ops, "{}", text);
                }
                (Ok(_), Err(e)) => {
                    proptest::prop_assert!(false, "accepted what serde_json rejects ({}): {}", e, text);
                }
                (Err(_), _) => {}
            }
        }
    }
}
