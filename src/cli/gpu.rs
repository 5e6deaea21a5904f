//! `interlock gpu TRACE.json`: checks a recorded GPU stream trace for stream
//! synchronization races and uses after free.
//!
//! The trace reader (`input::gpu_trace`) reads the JSON one op at a time
//! into the checker (`gpu::Checker`), which replays them with vector clocks
//! and keeps nothing per op; when it found hazards, the reader reads again
//! only the ops the findings name. This file builds the report. Findings
//! about ops without a `file`/`line` of their own point into the trace
//! itself, so the human report shows the op's line of JSON.

use clap::Args;
use serde_json::json;
use std::path::PathBuf;

use super::{Failure, OutputArgs};
use crate::finding::plural;
use crate::gpu::{Checker, DefaultStream};
use crate::input::gpu_trace::{self, GpuTrace};
use crate::input::InputError;
use crate::report::{Report, Summary};

pub const AFTER_HELP: &str = "\
The trace (JSON, format version 1):

  {
    \"version\": 1,
    \"default_stream\": \"legacy\",
    \"streams\": [{\"id\": 1, \"blocking\": false}],
    \"ops\": [
      {\"op\": \"alloc\", \"buffer\": \"x\", \"space\": \"device\"},
      {\"op\": \"kernel\", \"stream\": 1, \"name\": \"produce\", \"writes\": [\"x\"]},
      {\"op\": \"kernel\", \"stream\": 0, \"name\": \"consume\", \"reads\": [\"x\"], \"line\": 12}
    ]
  }

`default_stream` is \"legacy\" (the default) or \"per-thread\"; stream 0 is
always there and is not declared.
Ops: alloc, free, kernel, memcpy, memset, event_record, stream_wait_event,
event_sync, event_query, stream_sync, stream_query, device_sync, host_read,
host_write, record_stream, host_fn, thread_spawn, thread_join, lock, unlock.
Every op may carry `thread` (host thread, default 0), `file` and `line`.
The format, the semantics and how to record a trace: docs/gpu.md.

Exit codes: 0 no race or use after free; 1 at least one; 2 the trace could not
be used (malformed JSON, an unknown op or field, an undeclared stream, ...:
the message names the op's index, e.g. ops[3]).";

#[derive(Args, Debug)]
pub struct GpuArgs {
    /// The recorded trace (JSON).
    #[arg(value_name = "TRACE.json")]
    pub trace: PathBuf,
    /// Treat a `free` without a stream as a device synchronize first, as
    /// cudaFree usually behaves. By default it orders nothing: every use on
    /// a stream must be ordered before it by the program.
    #[arg(long)]
    pub lenient: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: &GpuArgs) -> Result<i32, Failure> {
    let trace = gpu_trace::load(&args.trace).map_err(Failure::Input)?;
    let report = report(trace, args.lenient).map_err(Failure::Input)?;
    super::emit(&report, &args.output)
}

/// Checks a trace and builds the report. `lenient` makes a `free` without
/// a stream a device synchronize.
pub fn report(mut trace: GpuTrace, lenient: bool) -> Result<Report, Box<InputError>> {
    trace.setup.free_synchronizes = lenient;
    let mut checker = Checker::new(trace.setup.clone());
    let read = trace.check(&mut checker)?;
    let kept = trace.kept_ops(&mut checker)?;
    let findings = checker.findings_from(&kept);

    let setup = checker.setup();
    let threads = read.threads;
    let mode = match setup.default_stream {
        DefaultStream::Legacy => "legacy default stream",
        DefaultStream::PerThread => "per-thread default stream",
    };
    let mut report = Report::new(
        findings,
        Summary {
            files: 1,
            executions: 0,
            complete: true,
            ..Summary::default()
        },
    );
    report.preamble.push(format!(
        "GPU trace {}: {}, {} ({mode}), {}, {}; {}.",
        trace.name,
        plural(read.ops as u64, "op", "ops"),
        plural(setup.streams.len() as u64, "stream", "streams"),
        plural(threads as u64, "host thread", "host threads"),
        plural(setup.names.buffers.len() as u64, "buffer", "buffers"),
        if lenient {
            "`free` synchronizes the device (--lenient)"
        } else {
            "`free` without a stream is strict"
        }
    ));
    report.extra.insert("ops".into(), json!(read.ops));
    report
        .extra
        .insert("streams".into(), json!(setup.streams.len()));
    report.extra.insert(
        "default_stream".into(),
        json!(setup.default_stream.as_str()),
    );
    report.extra.insert("lenient".into(), json!(lenient));
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Kind;

    fn build(text: &str, lenient: bool) -> Report {
        report(
            gpu_trace::parse("t.json", text.to_string()).unwrap(),
            lenient,
        )
        .unwrap()
    }

    const FREE: &str = r#"{"version": 1, "streams": [{"id": 1}], "ops": [
  {"op": "alloc", "buffer": "x", "space": "device"},
  {"op": "kernel", "stream": 1, "name": "use", "reads": ["x"]},
  {"op": "free", "buffer": "x"}
]}"#;

    #[test]
    fn lenient_makes_free_a_device_synchronize() {
        let strict = build(FREE, false);
        assert_eq!(strict.findings.len(), 1);
        assert_eq!(strict.findings[0].kind, Kind::StreamUseAfterFree);
        assert_eq!(strict.extra["lenient"], json!(false));
        let lenient = build(FREE, true);
        assert!(lenient.findings.is_empty());
        assert!(
            lenient.preamble[0].contains("--lenient"),
            "{:?}",
            lenient.preamble
        );
    }

    #[test]
    fn locations_point_into_the_trace_at_each_op() {
        let r = build(FREE, false);
        let f = &r.findings[0];
        let places: Vec<(&str, u32, u32)> = f
            .locations
            .iter()
            .map(|l| (l.file.as_str(), l.line, l.column))
            .collect();
        assert_eq!(places, [("t.json", 4, 10), ("t.json", 3, 10)]);
        assert!(
            f.locations[1].label.contains("ops[1]"),
            "{}",
            f.locations[1].label
        );
    }
}
