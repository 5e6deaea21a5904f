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
//! The JSON is parsed with serde_json; a small scanner over the same text
//! finds where each op is written, so that findings about an op without a
//! `file`/`line` of its own point into the trace, and every error names the
//! op's index (`ops[3]`) and shows it. Top-level `expect`, `expect_ops` and
//! `description` (used by the fixtures) are accepted and ignored, and so is
//! any key that starts with `_`.

use std::ops::Range;
use std::path::Path;

use serde_json::{Map, Value};

use super::InputError;
use crate::event::Site;
use crate::gpu::{BufferId, DefaultStream, Op, OpError, OpKind, Setup, Space, StreamId};

/// A trace, read and checked for form (the engine checks the rest).
#[derive(Debug)]
pub struct GpuTrace {
    /// The path as given, used in locations and errors.
    pub name: String,
    pub text: String,
    pub setup: Setup,
    pub ops: Vec<Op>,
    /// Where each op is written in `text`.
    pub spans: Vec<Range<usize>>,
}

/// Reads and parses a trace; errors name the path as given.
pub fn load(path: &Path) -> Result<GpuTrace, Box<InputError>> {
    let text = InputError::read(path)?;
    parse(&path.display().to_string(), text)
}

/// Parses the text of a trace called `name` (used in errors and locations).
pub fn parse(name: &str, text: String) -> Result<GpuTrace, Box<InputError>> {
    let (setup, ops, spans) = Reader {
        name,
        text: &text,
        spans: Vec::new(),
    }
    .read()?;
    Ok(GpuTrace {
        name: name.to_string(),
        text,
        setup,
        ops,
        spans,
    })
}

impl GpuTrace {
    /// An error the engine found in an op, pointing at the op.
    pub fn op_error(&self, e: &OpError) -> Box<InputError> {
        let span = self.spans.get(e.index).cloned().unwrap_or(0..0);
        let mut err = InputError::at(
            format!("malformed trace: {e}"),
            &self.name,
            &self.text,
            span,
            format!("ops[{}]", e.index),
        );
        err.help = e.help.clone();
        Box::new(err)
    }
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

const COMMON: &[&str] = &["op", "thread", "file", "line", "column"];

/// The fields of each op besides the common ones: (op, required, optional).
const OPS: &[(&str, &[&str], &[&str])] = &[
    ("alloc", &["buffer"], &["space", "stream"]),
    ("free", &["buffer"], &["stream"]),
    ("kernel", &["stream", "name"], &["reads", "writes"]),
    ("memcpy", &["stream", "src", "dst", "async"], &[]),
    ("memset", &["stream", "dst", "async"], &[]),
    ("event_record", &["event", "stream"], &[]),
    ("stream_wait_event", &["stream", "event"], &[]),
    ("event_sync", &["event"], &[]),
    ("event_query", &["event"], &["ready"]),
    ("stream_sync", &["stream"], &[]),
    ("stream_query", &["stream"], &["ready"]),
    ("device_sync", &[], &[]),
    ("host_read", &["buffer"], &[]),
    ("host_write", &["buffer"], &[]),
    ("record_stream", &["buffer", "stream"], &[]),
    ("host_fn", &["stream", "name"], &["reads", "writes"]),
    ("thread_spawn", &["child"], &[]),
    ("thread_join", &["child"], &[]),
    ("lock", &["lock"], &[]),
    ("unlock", &["lock"], &[]),
];

struct Reader<'a> {
    name: &'a str,
    text: &'a str,
    spans: Vec<Range<usize>>,
}

type Boxed = Box<InputError>;

/// What the reader makes of a trace: the setup, the ops, and where each op is.
type Parsed = (Setup, Vec<Op>, Vec<Range<usize>>);

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

impl<'a> Reader<'a> {
    fn err(&self, message: impl Into<String>, span: Range<usize>, label: &str) -> Boxed {
        Box::new(InputError::at(message, self.name, self.text, span, label))
    }

    fn read(mut self) -> Result<Parsed, Boxed> {
        let doc: Value = serde_json::from_str(self.text).map_err(|e| {
            let offset = offset_of(self.text, e.line(), e.column());
            let message = e.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(m, _)| m);
            self.err(
                format!("malformed JSON: {message}"),
                offset..offset + 1,
                "here",
            )
        })?;
        let bytes = self.text.as_bytes();
        let start = skip_ws(bytes, 0);
        let Value::Object(top) = &doc else {
            return Err(self
                .err(
                    format!("a GPU trace is a JSON object, not {}", type_name(&doc)),
                    start..skip_value(bytes, start),
                    "expected `{`",
                )
                .help(r#"e.g. {"version": 1, "streams": [], "ops": [...]}"#));
        };
        let members = object_members(bytes, start);
        let key_span = |key: &str| {
            members
                .iter()
                .find(|m| m.key == key)
                .map_or(start..start + 1, |m| m.key_start..m.value_end)
        };
        for m in &members {
            if !TOP_KEYS.contains(&m.key) && !m.key.starts_with('_') {
                return Err(self
                    .err(
                        format!("unknown key `{}` in the trace", m.key),
                        m.key_start..m.value_start,
                        "not part of a GPU trace",
                    )
                    .help(format!("the keys are: {}", TOP_KEYS.join(", "))));
            }
        }

        match top.get("version") {
            Some(v) if v.as_u64() == Some(1) => {}
            Some(v) => {
                return Err(self
                    .err(
                        format!("unsupported trace version {v}"),
                        key_span("version"),
                        "this reader knows version 1",
                    )
                    .help("write `\"version\": 1`"))
            }
            None => {
                return Err(self
                    .err(
                        "the trace has no `version`",
                        start..start + 1,
                        "expected `\"version\": 1` here",
                    )
                    .help("add `\"version\": 1`"))
            }
        }

        let mode = match top.get("default_stream") {
            None => DefaultStream::Legacy,
            Some(Value::String(s)) if s == "legacy" => DefaultStream::Legacy,
            Some(Value::String(s)) if s == "per-thread" || s == "per_thread" => {
                DefaultStream::PerThread
            }
            Some(other) => {
                return Err(self
                    .err(
                        format!("`default_stream` must be \"legacy\" or \"per-thread\", not {other}"),
                        key_span("default_stream"),
                        "here",
                    )
                    .help("\"legacy\": stream 0 synchronizes with blocking streams (CUDA's default); \"per-thread\": compiled with --default-stream per-thread"))
            }
        };
        let mut setup = Setup::new(mode);

        let default_file = match top.get("file") {
            None => None,
            Some(Value::String(f)) => Some(f.clone()),
            Some(other) => {
                return Err(self.err(
                    format!(
                        "`file` must be a string (the program's source file), not {}",
                        type_name(other)
                    ),
                    key_span("file"),
                    "here",
                ))
            }
        };

        if let Some(streams) = top.get("streams") {
            self.streams(&mut setup, streams, &members)?;
        }

        let Some(ops_value) = top.get("ops") else {
            return Err(self
                .err(
                    "the trace has no `ops`",
                    start..start + 1,
                    "expected `\"ops\": [...]`",
                )
                .help("`ops` lists the operations in the order the host issued them"));
        };
        let Value::Array(ops) = ops_value else {
            return Err(self.err(
                format!("`ops` must be an array, not {}", type_name(ops_value)),
                key_span("ops"),
                "here",
            ));
        };
        let ops_start = members
            .iter()
            .find(|m| m.key == "ops")
            .map_or(start, |m| m.value_start);
        let items = array_items(bytes, ops_start);
        self.spans = items.clone();
        let mut lines = LineCounter::new(self.text);
        let mut out = Vec::with_capacity(ops.len());
        for (index, value) in ops.iter().enumerate() {
            let span = items
                .get(index)
                .cloned()
                .unwrap_or(ops_start..ops_start + 1);
            let op = self.op(&mut setup, index, value, &span, &default_file, &mut lines)?;
            out.push(op);
        }
        Ok((setup, out, self.spans))
    }

    fn streams(
        &self,
        setup: &mut Setup,
        streams: &Value,
        members: &[Member<'_>],
    ) -> Result<(), Boxed> {
        let bytes = self.text.as_bytes();
        let at = members
            .iter()
            .find(|m| m.key == "streams")
            .map_or(0, |m| m.value_start);
        let Value::Array(list) = streams else {
            return Err(self
                .err(
                    format!("`streams` must be an array, not {}", type_name(streams)),
                    at..skip_value(bytes, at),
                    "here",
                )
                .help(r#"e.g. "streams": [{"id": 1, "blocking": false}]"#));
        };
        let items = array_items(bytes, at);
        for (i, s) in list.iter().enumerate() {
            let span = items.get(i).cloned().unwrap_or(at..at + 1);
            let fail = |message: String| {
                self.err(format!("streams[{i}]: {message}"), span.clone(), "this stream")
                    .help(r#"each stream is {"id": N, "blocking": true|false}; stream 0 is the default stream and is not declared"#)
            };
            let Value::Object(fields) = s else {
                return Err(fail(format!("a stream is an object, not {}", type_name(s))));
            };
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

    fn op(
        &self,
        setup: &mut Setup,
        index: usize,
        value: &Value,
        span: &Range<usize>,
        default_file: &Option<String>,
        lines: &mut LineCounter<'_>,
    ) -> Result<Op, Boxed> {
        let bytes = self.text.as_bytes();
        let label = format!("ops[{index}]");
        let Value::Object(fields) = value else {
            return Err(self
                .err(
                    format!("ops[{index}]: an op is an object, not {}", type_name(value)),
                    span.clone(),
                    &label,
                )
                .help(
                    r#"e.g. {"op": "kernel", "stream": 1, "name": "produce", "writes": ["x"]}"#,
                ));
        };
        let members = object_members(bytes, span.start);
        let member_span = |key: &str| {
            members
                .iter()
                .find(|m| m.key == key)
                .map_or(span.clone(), |m| m.key_start..m.value_end)
        };
        let op_name = match fields.get("op") {
            Some(Value::String(s)) => s.as_str(),
            Some(other) => {
                return Err(self.err(
                    format!(
                        "ops[{index}]: `op` must be a string, not {}",
                        type_name(other)
                    ),
                    member_span("op"),
                    &label,
                ))
            }
            None => {
                return Err(self
                    .err(format!("ops[{index}]: missing `op`"), span.clone(), &label)
                    .help(op_list()))
            }
        };
        let Some(&(_, required, optional)) = OPS.iter().find(|(n, _, _)| *n == op_name) else {
            return Err(self
                .err(
                    format!("ops[{index}]: unknown op `{op_name}`"),
                    member_span("op"),
                    &label,
                )
                .help(op_list()));
        };
        let fields_help = || {
            let mut all: Vec<String> = required.iter().map(|f| format!("`{f}`")).collect();
            all.extend(optional.iter().map(|f| format!("`{f}` (optional)")));
            all.extend(
                ["thread", "file", "line"]
                    .iter()
                    .map(|f| format!("`{f}` (optional)")),
            );
            format!("`{op_name}` takes {}", all.join(", "))
        };
        for m in &members {
            if !COMMON.contains(&m.key)
                && !required.contains(&m.key)
                && !optional.contains(&m.key)
                && !m.key.starts_with('_')
            {
                return Err(self
                    .err(
                        format!("ops[{index}] (`{op_name}`): unknown field `{}`", m.key),
                        m.key_start..m.value_end,
                        &label,
                    )
                    .help(fields_help()));
            }
        }
        for f in required {
            if !fields.contains_key(*f) {
                return Err(self
                    .err(
                        format!("ops[{index}] (`{op_name}`): missing `{f}`"),
                        span.clone(),
                        &label,
                    )
                    .help(fields_help()));
            }
        }

        let cx = OpReader {
            reader: self,
            fields,
            index,
            op_name,
            label: &label,
            member_span: &member_span,
        };
        let thread = match fields.get("thread") {
            None => 0,
            Some(_) => cx.u32("thread", "a host thread id")?,
        };
        let line = match fields.get("line") {
            None => None,
            Some(_) => Some(cx.u32("line", "a line number")?).filter(|&l| l > 0),
        };
        let column = match fields.get("column") {
            None => 0,
            Some(_) => cx.u32("column", "a column number")?,
        };
        let file = match fields.get("file") {
            None => default_file.clone(),
            Some(Value::String(f)) => Some(f.clone()),
            Some(other) => {
                return Err(cx.fail(
                    "file",
                    format!("`file` must be a string, not {}", type_name(other)),
                ))
            }
        };
        let kind = cx.kind(setup)?;

        // Where the op is written: at its `op` value, so that a snippet
        // underlines the op's name.
        let at = members
            .iter()
            .find(|m| m.key == "op")
            .map_or(span.start, |m| m.value_start);
        let (l, c) = lines.line_column(at);
        let mut op =
            Op::new(kind)
                .on_thread(thread)
                .from_origin(Site::new(self.name.to_string(), l, c));
        if let Some(line) = line {
            op.site = Some(Site::new(file.unwrap_or_default(), line, column));
        }
        Ok(op)
    }
}

/// `with_help` for boxed errors.
trait Help {
    fn help(self, help: impl Into<String>) -> Self;
}

impl Help for Box<InputError> {
    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

fn op_list() -> String {
    let names: Vec<&str> = OPS.iter().map(|(n, _, _)| *n).collect();
    format!("the ops are: {}", names.join(", "))
}

/// Reads the fields of one op.
struct OpReader<'r, 'a> {
    reader: &'r Reader<'a>,
    fields: &'r Map<String, Value>,
    index: usize,
    op_name: &'r str,
    label: &'r str,
    member_span: &'r dyn Fn(&str) -> Range<usize>,
}

impl OpReader<'_, '_> {
    fn fail(&self, field: &str, message: String) -> Boxed {
        self.reader.err(
            format!("ops[{}] (`{}`): {message}", self.index, self.op_name),
            (self.member_span)(field),
            self.label,
        )
    }

    fn u32(&self, field: &str, what: &str) -> Result<u32, Boxed> {
        let v = &self.fields[field];
        v.as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                self.fail(
                    field,
                    format!("`{field}` must be {what} (a non-negative integer), not {v}"),
                )
            })
    }

    fn bool(&self, field: &str, default: Option<bool>) -> Result<bool, Boxed> {
        match (self.fields.get(field), default) {
            (None, Some(d)) => Ok(d),
            (Some(Value::Bool(b)), _) => Ok(*b),
            (v, _) => Err(self.fail(
                field,
                format!(
                    "`{field}` must be true or false, not {}",
                    v.map_or("missing".to_string(), Value::to_string)
                ),
            )),
        }
    }

    fn string(&self, field: &str, what: &str) -> Result<&str, Boxed> {
        match self.fields.get(field) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            v => Err(self.fail(
                field,
                format!(
                    "`{field}` must be {what} (a non-empty string), not {}",
                    v.map_or("missing".to_string(), Value::to_string)
                ),
            )),
        }
    }

    fn buffer(&self, setup: &mut Setup, field: &str) -> Result<BufferId, Boxed> {
        let name = self.string(field, "a buffer name")?;
        Ok(setup.names.buffer(name))
    }

    fn buffers(&self, setup: &mut Setup, field: &str) -> Result<Vec<BufferId>, Boxed> {
        match self.fields.get(field) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) if !s.is_empty() => Ok(setup.names.buffer(s)),
                    other => Err(self.fail(
                        field,
                        format!("`{field}` must list buffer names (strings), not {other}"),
                    )),
                })
                .collect(),
            Some(other) => Err(self.fail(
                field,
                format!(
                    "`{field}` must be an array of buffer names, not {}",
                    type_name(other)
                ),
            )),
        }
    }

    fn stream(&self, setup: &Setup, field: &str) -> Result<StreamId, Boxed> {
        let v = &self.fields[field];
        let Some(id) = v.as_u64() else {
            return Err(self.fail(
                field,
                format!("`{field}` must be a stream id (a non-negative integer), not {v}"),
            ));
        };
        setup.stream_by_id(id).ok_or_else(|| {
            let declared: Vec<String> = setup.streams.iter().map(|s| s.id.to_string()).collect();
            self.fail(field, format!("stream {id} is not declared"))
                .help(format!(
                    "declare it in `streams` (e.g. {{\"id\": {id}, \"blocking\": false}}); the streams are: {}",
                    declared.join(", ")
                ))
        })
    }

    fn optional_stream(&self, setup: &Setup, field: &str) -> Result<Option<StreamId>, Boxed> {
        match self.fields.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.stream(setup, field).map(Some),
        }
    }

    fn kind(&self, setup: &mut Setup) -> Result<OpKind, Boxed> {
        Ok(match self.op_name {
            "alloc" => OpKind::Alloc {
                buffer: self.buffer(setup, "buffer")?,
                space: match self.fields.get("space") {
                    None => Space::Device,
                    Some(Value::String(s)) if s == "device" => Space::Device,
                    Some(Value::String(s)) if s == "pinned" => Space::Pinned,
                    Some(Value::String(s)) if s == "pageable" => Space::Pageable,
                    Some(v) => {
                        return Err(self.fail(
                            "space",
                            format!(
                                "`space` must be \"device\", \"pinned\" or \"pageable\", not {v}"
                            ),
                        ))
                    }
                },
                stream: self.optional_stream(setup, "stream")?,
            },
            "free" => OpKind::Free {
                buffer: self.buffer(setup, "buffer")?,
                stream: self.optional_stream(setup, "stream")?,
            },
            "kernel" | "host_fn" => {
                let stream = self.stream(setup, "stream")?;
                let name = setup.names.label(self.string("name", "a name")?);
                let reads = self.buffers(setup, "reads")?;
                let writes = self.buffers(setup, "writes")?;
                if self.op_name == "kernel" {
                    OpKind::Kernel {
                        stream,
                        name,
                        reads,
                        writes,
                    }
                } else {
                    OpKind::HostFn {
                        stream,
                        name,
                        reads,
                        writes,
                    }
                }
            }
            "memcpy" => OpKind::Memcpy {
                stream: self.stream(setup, "stream")?,
                src: self.buffer(setup, "src")?,
                dst: self.buffer(setup, "dst")?,
                is_async: self.bool("async", None)?,
            },
            "memset" => OpKind::Memset {
                stream: self.stream(setup, "stream")?,
                dst: self.buffer(setup, "dst")?,
                is_async: self.bool("async", None)?,
            },
            "event_record" => OpKind::EventRecord {
                event: setup.names.event(self.string("event", "an event name")?),
                stream: self.stream(setup, "stream")?,
            },
            "stream_wait_event" => OpKind::StreamWaitEvent {
                stream: self.stream(setup, "stream")?,
                event: setup.names.event(self.string("event", "an event name")?),
            },
            "event_sync" => OpKind::EventSync {
                event: setup.names.event(self.string("event", "an event name")?),
            },
            "event_query" => OpKind::EventQuery {
                event: setup.names.event(self.string("event", "an event name")?),
                ready: self.bool("ready", Some(true))?,
            },
            "stream_sync" => OpKind::StreamSync {
                stream: self.stream(setup, "stream")?,
            },
            "stream_query" => OpKind::StreamQuery {
                stream: self.stream(setup, "stream")?,
                ready: self.bool("ready", Some(true))?,
            },
            "device_sync" => OpKind::DeviceSync,
            "host_read" => OpKind::HostRead {
                buffer: self.buffer(setup, "buffer")?,
            },
            "host_write" => OpKind::HostWrite {
                buffer: self.buffer(setup, "buffer")?,
            },
            "record_stream" => OpKind::RecordStream {
                buffer: self.buffer(setup, "buffer")?,
                stream: self.stream(setup, "stream")?,
            },
            "thread_spawn" => OpKind::ThreadSpawn {
                child: self.u32("child", "a host thread id")?,
            },
            "thread_join" => OpKind::ThreadJoin {
                child: self.u32("child", "a host thread id")?,
            },
            "lock" => OpKind::Lock {
                lock: setup.names.lock(self.string("lock", "a lock name")?),
            },
            "unlock" => OpKind::Unlock {
                lock: setup.names.lock(self.string("lock", "a lock name")?),
            },
            other => unreachable!("op `{other}` is in OPS"),
        })
    }
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

/// Lines and columns of increasing offsets, in one pass over the text.
struct LineCounter<'t> {
    text: &'t str,
    offset: usize,
    line: u32,
    line_start: usize,
}

impl<'t> LineCounter<'t> {
    fn new(text: &'t str) -> Self {
        LineCounter {
            text,
            offset: 0,
            line: 1,
            line_start: 0,
        }
    }

    /// 1-based line and column (in characters) of `offset`; offsets must
    /// not decrease between calls.
    fn line_column(&mut self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.text.len()).max(self.offset);
        let bytes = self.text.as_bytes();
        for (i, &b) in bytes.iter().enumerate().take(offset).skip(self.offset) {
            if b == b'\n' {
                self.line += 1;
                self.line_start = i + 1;
            }
        }
        self.offset = offset;
        let column = self.text[self.line_start..offset].chars().count() + 1;
        (self.line, column as u32)
    }
}

// ---------------------------------------------------------------------------
// A scanner for where things are in JSON text that serde_json has already
// accepted: the members of an object and the items of an array, by byte range.

struct Member<'t> {
    /// The key as written between its quotes.
    key: &'t str,
    key_start: usize,
    value_start: usize,
    value_end: usize,
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// From an opening quote to just after the closing one.
fn skip_string(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// From the start of a value to just after it.
fn skip_value(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        Some(b'"') => skip_string(b, i),
        Some(b'{') | Some(b'[') => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = skip_string(b, j);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return j + 1;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            b.len()
        }
        Some(_) => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                j += 1;
            }
            j
        }
        None => i,
    }
}

/// The members of the object starting at `i` (empty when it is not one).
fn object_members(b: &[u8], i: usize) -> Vec<Member<'_>> {
    let mut out = Vec::new();
    if b.get(i) != Some(&b'{') {
        return out;
    }
    let mut j = skip_ws(b, i + 1);
    while j < b.len() && b[j] == b'"' {
        let key_start = j;
        let key_end = skip_string(b, j);
        let key =
            std::str::from_utf8(&b[key_start + 1..key_end.saturating_sub(1).max(key_start + 1)])
                .unwrap_or("");
        j = skip_ws(b, key_end);
        if b.get(j) == Some(&b':') {
            j = skip_ws(b, j + 1);
        }
        let value_start = j;
        let value_end = skip_value(b, j);
        out.push(Member {
            key,
            key_start,
            value_start,
            value_end,
        });
        j = skip_ws(b, value_end);
        if b.get(j) == Some(&b',') {
            j = skip_ws(b, j + 1);
        } else {
            break;
        }
    }
    out
}

/// The byte ranges of the items of the array starting at `i`.
fn array_items(b: &[u8], i: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    if b.get(i) != Some(&b'[') {
        return out;
    }
    let mut j = skip_ws(b, i + 1);
    while j < b.len() && b[j] != b']' {
        let end = skip_value(b, j);
        out.push(j..end);
        j = skip_ws(b, end);
        if b.get(j) == Some(&b',') {
            j = skip_ws(b, j + 1);
        } else {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<GpuTrace, Boxed> {
        parse("t.json", text.to_string())
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
        let t = read(SMALL).unwrap();
        assert_eq!(t.ops.len(), 3);
        assert_eq!(t.setup.streams.len(), 2);
        assert_eq!(t.setup.streams[1].id, 7);
        assert!(!t.setup.streams[1].blocking);
        let origin = |i: usize| t.ops[i].origin.clone().unwrap();
        assert_eq!((origin(0).line, origin(0).column), (7, 12));
        assert_eq!(origin(2).line, 10);
        assert_eq!(t.ops[1].site, Some(Site::new("p.py", 4, 0)));
        assert_eq!(t.ops[2].site, Some(Site::new("", 12, 0)));
        assert_eq!(t.ops[2].thread, 2);
        assert!(matches!(
            t.ops[1].kind,
            OpKind::Kernel {
                stream: StreamId(1),
                ..
            }
        ));
        assert_eq!(
            &t.text[t.spans[0].clone()],
            r#"{"op": "alloc", "buffer": "x", "space": "device"}"#
        );
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
        let t = read(
            r#"{"version": 1, "ops": [
  {"op": "alloc", "buffer": "x"},
  {"op": "alloc", "buffer": "x"}
]}"#,
        )
        .unwrap();
        let mut checker = crate::gpu::Checker::new(t.setup.clone());
        checker.step(&t.ops[0]).unwrap();
        let e = checker.step(&t.ops[1]).unwrap_err();
        let e = t.op_error(&e);
        assert_eq!(
            e.plain(),
            "t.json:3:3: malformed trace: ops[1]: `x` is allocated again while live (allocated at ops[0])"
        );
        assert!(e.help.unwrap().contains("`free`"));
    }

    #[test]
    fn the_scanner_finds_members_and_items() {
        let text = r#"{"a": [1, {"b": "]"}, "x\"y"], "c" : {"d": [ ]}}"#;
        let b = text.as_bytes();
        let m = object_members(b, 0);
        assert_eq!(m.iter().map(|m| m.key).collect::<Vec<_>>(), ["a", "c"]);
        let items = array_items(b, m[0].value_start);
        let items: Vec<&str> = items.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(items, ["1", r#"{"b": "]"}"#, r#""x\"y""#]);
        assert_eq!(&text[m[1].value_start..m[1].value_end], r#"{"d": [ ]}"#);
    }
}
