//! The fields of one op: which each op takes, and what they must hold.

use std::ops::Range;

use serde_json::{Map, Value};

use super::json_scan::{duplicate, object_members, Pos};
use super::{duplicate_key, json_error, type_name, Fail, GpuTrace, Located};
use crate::event::Site;
use crate::gpu::{BufferId, Op, OpKind, Setup, Space, StreamId};

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

impl GpuTrace {
    /// Parses one op, whose text `text` starts at `at`.
    pub(super) fn op(
        &self,
        setup: &mut Setup,
        index: usize,
        text: &[u8],
        at: Pos,
    ) -> Result<Op, Fail> {
        let base = at.offset;
        let span = base..base + text.len();
        let label = format!("ops[{index}]");
        let value: Value = serde_json::from_slice(text)
            .map_err(|e| json_error(&e, &String::from_utf8_lossy(text), base))?;
        let Value::Object(fields) = &value else {
            return Err(Box::new(
                Located::new(
                    format!(
                        "ops[{index}]: an op is an object, not {}",
                        type_name(&value)
                    ),
                    span,
                    &label,
                )
                .help(r#"e.g. {"op": "kernel", "stream": 1, "name": "produce", "writes": ["x"]}"#),
            ));
        };
        let members = object_members(text, 0);
        let member_span = |key: &str| {
            members
                .iter()
                .find(|m| m.key == key)
                .map_or(span.clone(), |m| base + m.key_start..base + m.value_end)
        };
        if let Some((first, second)) = duplicate(&members) {
            let line = at.advanced(text, first.key_start).line;
            return Err(duplicate_key(
                &format!("ops[{index}]"),
                second.key,
                line,
                base + second.key_start..base + second.value_end,
            ));
        }
        let op_name = match fields.get("op") {
            Some(Value::String(s)) => s.as_str(),
            Some(other) => {
                return Err(Box::new(Located::new(
                    format!(
                        "ops[{index}]: `op` must be a string, not {}",
                        type_name(other)
                    ),
                    member_span("op"),
                    &label,
                )))
            }
            None => {
                return Err(Box::new(
                    Located::new(format!("ops[{index}]: missing `op`"), span, &label)
                        .help(op_list()),
                ))
            }
        };
        let Some(&(_, required, optional)) = OPS.iter().find(|(n, _, _)| *n == op_name) else {
            return Err(Box::new(
                Located::new(
                    format!("ops[{index}]: unknown op `{op_name}`"),
                    member_span("op"),
                    &label,
                )
                .help(op_list()),
            ));
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
                return Err(Box::new(
                    Located::new(
                        format!("ops[{index}] (`{op_name}`): unknown field `{}`", m.key),
                        base + m.key_start..base + m.value_end,
                        &label,
                    )
                    .help(fields_help()),
                ));
            }
        }
        for f in required {
            if !fields.contains_key(*f) {
                return Err(Box::new(
                    Located::new(
                        format!("ops[{index}] (`{op_name}`): missing `{f}`"),
                        span.clone(),
                        &label,
                    )
                    .help(fields_help()),
                ));
            }
        }

        let cx = OpReader {
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
            None => self.default_file.clone(),
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
        let name_at = members
            .iter()
            .find(|m| m.key == "op")
            .map_or(at, |m| at.advanced(text, m.value_start));
        let mut op = Op::new(kind).on_thread(thread).from_origin(Site::new(
            self.name.to_string(),
            name_at.line,
            name_at.column,
        ));
        if let Some(line) = line {
            op.site = Some(Site::new(file.unwrap_or_default(), line, column));
        }
        Ok(op)
    }
}

fn op_list() -> String {
    let names: Vec<&str> = OPS.iter().map(|(n, _, _)| *n).collect();
    format!("the ops are: {}", names.join(", "))
}

/// Reads the fields of one op.
struct OpReader<'r> {
    fields: &'r Map<String, Value>,
    index: usize,
    op_name: &'r str,
    label: &'r str,
    member_span: &'r dyn Fn(&str) -> Range<usize>,
}

impl OpReader<'_> {
    fn fail(&self, field: &str, message: String) -> Fail {
        Box::new(Located::new(
            format!("ops[{}] (`{}`): {message}", self.index, self.op_name),
            (self.member_span)(field),
            self.label,
        ))
    }

    fn u32(&self, field: &str, what: &str) -> Result<u32, Fail> {
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

    fn bool(&self, field: &str, default: Option<bool>) -> Result<bool, Fail> {
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

    fn string(&self, field: &str, what: &str) -> Result<&str, Fail> {
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

    fn buffer(&self, setup: &mut Setup, field: &str) -> Result<BufferId, Fail> {
        let name = self.string(field, "a buffer name")?;
        Ok(setup.names.buffer(name))
    }

    fn buffers(&self, setup: &mut Setup, field: &str) -> Result<Vec<BufferId>, Fail> {
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

    fn stream(&self, setup: &Setup, field: &str) -> Result<StreamId, Fail> {
        let v = &self.fields[field];
        let Some(id) = v.as_u64() else {
            return Err(self.fail(
                field,
                format!("`{field}` must be a stream id (a non-negative integer), not {v}"),
            ));
        };
        setup.stream_by_id(id).ok_or_else(|| {
            let declared: Vec<String> = setup.streams.iter().map(|s| s.id.to_string()).collect();
            let mut e = self.fail(field, format!("stream {id} is not declared"));
            e.help = Some(format!(
                "declare it in `streams` (e.g. {{\"id\": {id}, \"blocking\": false}}); the streams are: {}",
                declared.join(", ")
            ));
            e
        })
    }

    fn optional_stream(&self, setup: &Setup, field: &str) -> Result<Option<StreamId>, Fail> {
        match self.fields.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.stream(setup, field).map(Some),
        }
    }

    fn kind(&self, setup: &mut Setup) -> Result<OpKind, Fail> {
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
