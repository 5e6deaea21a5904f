//! `interlock::gpu` for models: simulated GPU streams that a program run by
//! the runtime (a [`Builder::check`](crate::Builder::check) model, or a
//! program given to `interlock check`) drives as it would drive CUDA or
//! PyTorch.
//!
//! Nothing runs on a GPU and nothing here blocks: every call is recorded as
//! an [`Op`] of the calling host thread, in the order the host threads made
//! them, and a `Gpu` step of that thread in the execution's trace. When the
//! execution ends, the stream replay (`analysis::streams`) checks the calls
//! with the host threads' happens-before order: whatever orders two host
//! threads (a lock, a join, a channel, a release/acquire pair) orders their
//! GPU calls too, and what does not order them (two read guards, a
//! `Relaxed` flag) leaves their GPU calls unordered.
//!
//! Under loom, a GPU call is a point where another host thread may run (as a
//! call into a driver that serializes its callers would be): the order in
//! which host threads record and wait on events, or enqueue work on the
//! legacy default stream, is explored like any interleaving. This holds for
//! the calls made through the handles of one [`Device`]: make it once and
//! clone it into the threads.
//!
//! ```
//! use interlock::gpu::{Device, Space};
//! use interlock::{Builder, Kind};
//!
//! let report = Builder::new().check(|| {
//!     let device = Device::new();
//!     let side = device.stream(false); // non-blocking, as PyTorch's side streams
//!     let x = device.alloc("x", Space::Device);
//!     side.launch("produce").writes(&x);
//!     device.default_stream().launch("consume").reads(&x);
//! });
//! assert_eq!(report.findings()[0].kind, Kind::StreamRace);
//! ```

use std::fmt;
use std::sync::Arc;

use super::recorder::{call, Ctx, Exec};
use crate::analysis::streams::{
    BufferId, DefaultStream, EventId, OpKind, Recorded, Setup, Space, StreamId,
};
use crate::event::{Action, Site};
use crate::runtime::execution;
use crate::runtime::Engine;

/// A GPU, as the CUDA runtime presents one: its default stream, streams,
/// memory and events.
///
/// The default stream's mode is the program's (`nvcc --default-stream`): a
/// model uses [`Device::new`] (legacy) or [`Device::per_thread`] throughout.
/// Every `Device` made in one execution is the same device; make it once and
/// clone it into the host threads, so that loom explores the order of their
/// calls. Outside a model the calls record nothing.
#[derive(Clone)]
pub struct Device {
    exec: Exec,
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Device").finish_non_exhaustive()
    }
}

impl Device {
    /// The device with the legacy default stream (CUDA's default, and
    /// PyTorch's): work on it waits for every blocking stream, and blocking
    /// streams wait for it.
    #[track_caller]
    pub fn new() -> Device {
        Device::with_mode(DefaultStream::Legacy)
    }

    /// The device as a program built with `--default-stream per-thread`
    /// sees it: each host thread's default stream is an ordinary stream.
    #[track_caller]
    pub fn per_thread() -> Device {
        Device::with_mode(DefaultStream::PerThread)
    }

    #[track_caller]
    fn with_mode(mode: DefaultStream) -> Device {
        let exec = execution::current();
        if let Some(exec) = &exec {
            let mut rec = exec.recording();
            let setup = rec.gpu.setup.get_or_insert_with(|| Setup::new(mode));
            let existing = setup.default_stream;
            drop(rec);
            if existing != mode {
                panic!(
                    "interlock::gpu: the default stream is {} in this program and cannot also be {}: \
                     use `Device::new()` (legacy) or `Device::per_thread()` throughout",
                    existing.as_str(),
                    mode.as_str()
                );
            }
        }
        Device {
            exec: exec.map(|exec| {
                let turn =
                    (exec.engine == Engine::Loom).then(|| loom::sync::atomic::AtomicUsize::new(0));
                Arc::new(Ctx { exec, turn })
            }),
        }
    }

    /// The default stream (stream 0): in per-thread mode, the stream of
    /// whichever host thread uses the handle, as `cudaStreamPerThread`.
    pub fn default_stream(&self) -> Stream {
        Stream {
            exec: self.exec.clone(),
            id: StreamId::DEFAULT,
            number: 0,
        }
    }

    /// A new stream: `blocking` as `cudaStreamCreate` (the legacy default
    /// stream synchronizes with it), or not, as
    /// `cudaStreamCreateWithFlags(.., cudaStreamNonBlocking)` and every
    /// PyTorch side stream. Streams are numbered 1, 2, ... in the order they
    /// are created.
    pub fn stream(&self, blocking: bool) -> Stream {
        let Some(ctx) = &self.exec else {
            return Stream {
                exec: None,
                id: StreamId::DEFAULT,
                number: 0,
            };
        };
        let mut rec = ctx.exec.recording();
        let setup = rec.gpu.setup();
        let number = setup.streams.len() as u64;
        let id = setup.stream(number, blocking);
        Stream {
            exec: self.exec.clone(),
            id,
            number,
        }
    }

    /// `stream(true)`.
    pub fn blocking_stream(&self) -> Stream {
        self.stream(true)
    }

    /// `stream(false)`.
    pub fn non_blocking_stream(&self) -> Stream {
        self.stream(false)
    }

    /// Allocates a buffer that no stream owns: `cudaMalloc` (device),
    /// `cudaHostAlloc` (pinned) or ordinary host memory (pageable). `name`
    /// is what reports call it (a second buffer of the same name is
    /// `name#2`).
    #[track_caller]
    pub fn alloc(&self, name: &str, space: Space) -> Buffer {
        alloc(&self.exec, name, space, None, Site::caller())
    }

    /// `cudaFree`: the host frees the buffer at the call. Checked strictly:
    /// it orders nothing by itself, so every use on a stream must be ordered
    /// before it (a synchronize) or the memory may be reused under it.
    #[track_caller]
    pub fn free(&self, buffer: &Buffer) {
        let id = buffer.id;
        call(&self.exec, Site::caller(), |_| OpKind::Free {
            buffer: id,
            stream: None,
        });
    }

    /// A new event (`cudaEventCreate`), named in reports by `name`.
    pub fn event(&self, name: &str) -> Event {
        let id = match &self.exec {
            Some(ctx) => {
                let mut rec = ctx.exec.recording();
                let names = &mut rec.gpu.setup().names;
                let unique = Recorded::unique(&names.events, name);
                names.event(&unique)
            }
            None => EventId(0),
        };
        Event {
            exec: self.exec.clone(),
            id,
        }
    }

    /// `cudaDeviceSynchronize`: the calling thread waits for all work on
    /// every stream.
    #[track_caller]
    pub fn synchronize(&self) {
        call(&self.exec, Site::caller(), |_| OpKind::DeviceSync);
    }

    /// `cudaMemcpy`: a synchronous copy on the default stream.
    #[track_caller]
    pub fn memcpy(&self, dst: &Buffer, src: &Buffer) {
        memcpy(
            &self.exec,
            StreamId::DEFAULT,
            dst,
            src,
            false,
            Site::caller(),
        );
    }

    /// `cudaMemset`: a synchronous memset on the default stream.
    #[track_caller]
    pub fn memset(&self, dst: &Buffer) {
        let dst = dst.id;
        call(&self.exec, Site::caller(), |_| OpKind::Memset {
            stream: StreamId::DEFAULT,
            dst,
            is_async: false,
        });
    }
}

impl Default for Device {
    #[track_caller]
    fn default() -> Self {
        Device::new()
    }
}

fn alloc(exec: &Exec, name: &str, space: Space, stream: Option<StreamId>, site: Site) -> Buffer {
    let mut id = BufferId(0);
    call(exec, site, |gpu| {
        let names = &mut gpu.setup().names;
        let unique = Recorded::unique(&names.buffers, name);
        id = names.buffer(&unique);
        gpu.homes.insert(id, stream);
        OpKind::Alloc {
            buffer: id,
            space,
            stream,
        }
    });
    Buffer {
        exec: exec.clone(),
        id,
        home: stream,
    }
}

fn memcpy(exec: &Exec, stream: StreamId, dst: &Buffer, src: &Buffer, is_async: bool, site: Site) {
    let (dst, src) = (dst.id, src.id);
    call(exec, site, |_| OpKind::Memcpy {
        stream,
        src,
        dst,
        is_async,
    });
}

/// A stream: work enqueued on it runs in order, after what the calling
/// thread did before enqueueing it, and unordered with other streams unless
/// an event, a synchronize or the legacy default stream orders it.
#[derive(Clone)]
pub struct Stream {
    exec: Exec,
    id: StreamId,
    number: u64,
}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Stream({})", self.number)
    }
}

impl Stream {
    /// The stream's number in reports: 0 for the default stream, then 1, 2, ...
    pub fn number(&self) -> u64 {
        self.number
    }

    /// Launches a kernel, enqueued at this call: declare what it reads and
    /// writes on the returned [`Launch`]
    /// (`stream.launch("step").reads(&x).writes(&y);`).
    #[track_caller]
    pub fn launch(&self, name: &str) -> Launch {
        Launch::new(self, name, false, Site::caller())
    }

    /// Launches a kernel `name` that reads `reads` and writes `writes`.
    #[track_caller]
    pub fn kernel(&self, name: &str, reads: &[&Buffer], writes: &[&Buffer]) {
        let mut launch = Launch::new(self, name, false, Site::caller());
        for buffer in reads {
            launch = launch.reads(buffer);
        }
        for buffer in writes {
            launch = launch.writes(buffer);
        }
    }

    /// `cudaLaunchHostFunc`: a host function that runs on the stream, after
    /// the work before it and before the work after it, enqueued at this
    /// call. Declare what it reads and writes on the returned [`Launch`];
    /// nothing is run.
    #[track_caller]
    pub fn host_fn(&self, name: &str) -> Launch {
        Launch::new(self, name, true, Site::caller())
    }

    /// `cudaMemcpyAsync` (PyTorch `dst.copy_(src, non_blocking=True)`): the
    /// copy runs on the stream later; the host learns nothing of it.
    #[track_caller]
    pub fn memcpy_async(&self, dst: &Buffer, src: &Buffer) {
        memcpy(&self.exec, self.id, dst, src, true, Site::caller());
    }

    /// A copy on the stream that returns once it completed (`cudaMemcpyAsync`
    /// and a synchronize, PyTorch `copy_` without `non_blocking`).
    #[track_caller]
    pub fn memcpy(&self, dst: &Buffer, src: &Buffer) {
        memcpy(&self.exec, self.id, dst, src, false, Site::caller());
    }

    /// `cudaMemsetAsync`.
    #[track_caller]
    pub fn memset_async(&self, dst: &Buffer) {
        self.memset_as(dst, true, Site::caller());
    }

    /// A memset on the stream that returns once it completed.
    #[track_caller]
    pub fn memset(&self, dst: &Buffer) {
        self.memset_as(dst, false, Site::caller());
    }

    fn memset_as(&self, dst: &Buffer, is_async: bool, site: Site) {
        let (stream, dst) = (self.id, dst.id);
        call(&self.exec, site, |_| OpKind::Memset {
            stream,
            dst,
            is_async,
        });
    }

    /// `cudaEventRecord(event, stream)`: the same as `event.record(stream)`.
    #[track_caller]
    pub fn record_event(&self, event: &Event) {
        record(&self.exec, event.id, self.id, Site::caller());
    }

    /// `cudaStreamWaitEvent`: later work on this stream waits for the work
    /// before the event's most recent record *at this call*; an event never
    /// recorded orders nothing.
    #[track_caller]
    pub fn wait_event(&self, event: &Event) {
        let (stream, event) = (self.id, event.id);
        call(&self.exec, Site::caller(), |_| OpKind::StreamWaitEvent {
            stream,
            event,
        });
    }

    /// `cudaStreamSynchronize`: the calling thread waits for the work
    /// enqueued on the stream so far.
    #[track_caller]
    pub fn synchronize(&self) {
        let stream = self.id;
        call(&self.exec, Site::caller(), |_| OpKind::StreamSync {
            stream,
        });
    }

    /// `cudaStreamQuery`. A model does not know how far the GPU got, so the
    /// query always reports the work done (`true`), and, as a successful
    /// query does, orders the calling thread after it.
    #[track_caller]
    pub fn query(&self) -> bool {
        let stream = self.id;
        call(&self.exec, Site::caller(), |_| OpKind::StreamQuery {
            stream,
            ready: true,
        });
        true
    }

    /// A stream-ordered allocation of device memory (`cudaMallocAsync`,
    /// PyTorch's caching allocator on the current stream): it may be given
    /// memory freed on this stream at once.
    #[track_caller]
    pub fn alloc(&self, name: &str) -> Buffer {
        alloc(
            &self.exec,
            name,
            Space::Device,
            Some(self.id),
            Site::caller(),
        )
    }

    /// A stream-ordered free (`cudaFreeAsync`): the memory may be handed to
    /// the next allocation on this stream at once, so uses on other streams
    /// must be ordered before it (an event, or `record_stream`).
    #[track_caller]
    pub fn free(&self, buffer: &Buffer) {
        let (stream, buffer) = (self.id, buffer.id);
        call(&self.exec, Site::caller(), |_| OpKind::Free {
            buffer,
            stream: Some(stream),
        });
    }
}

/// A kernel launch or host function, enqueued when it was made
/// ([`Stream::launch`], [`Stream::host_fn`]); [`reads`](Launch::reads) and
/// [`writes`](Launch::writes) declare the buffers it accesses.
pub struct Launch {
    exec: Exec,
    /// The op and the trace step that record the launch.
    at: Option<(usize, usize)>,
}

impl fmt::Debug for Launch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Launch").finish_non_exhaustive()
    }
}

impl Launch {
    fn new(stream: &Stream, name: &str, host_fn: bool, site: Site) -> Launch {
        let stream_id = stream.id;
        let at = call(&stream.exec, site, |gpu| {
            let name = gpu.setup().names.label(name);
            let (reads, writes) = (Vec::new(), Vec::new());
            if host_fn {
                OpKind::HostFn {
                    stream: stream_id,
                    name,
                    reads,
                    writes,
                }
            } else {
                OpKind::Kernel {
                    stream: stream_id,
                    name,
                    reads,
                    writes,
                }
            }
        });
        Launch {
            exec: stream.exec.clone(),
            at,
        }
    }

    /// The kernel (or host function) reads `buffer`.
    pub fn reads(self, buffer: &Buffer) -> Launch {
        self.declare(buffer, false)
    }

    /// The kernel (or host function) writes `buffer`.
    pub fn writes(self, buffer: &Buffer) -> Launch {
        self.declare(buffer, true)
    }

    fn declare(self, buffer: &Buffer, write: bool) -> Launch {
        if let (Some(ctx), Some((op, step))) = (&self.exec, self.at) {
            let mut rec = ctx.exec.recording();
            let rec = &mut *rec;
            if let Some(recorded) = rec.gpu.ops.get_mut(op) {
                if let OpKind::Kernel { reads, writes, .. } | OpKind::HostFn { reads, writes, .. } =
                    &mut recorded.kind
                {
                    if write { writes } else { reads }.push(buffer.id);
                }
                let text = rec.gpu.describe(&rec.gpu.ops[op].kind);
                if let Some(Action::Gpu { call, .. }) =
                    rec.trace.events.get_mut(step).map(|e| &mut e.action)
                {
                    *call = text;
                }
            }
        }
        self
    }
}

fn record(exec: &Exec, event: EventId, stream: StreamId, site: Site) {
    call(exec, site, |_| OpKind::EventRecord { event, stream });
}

/// Memory on the device or the host. The handle is cheap to clone; dropping
/// it frees nothing ([`Buffer::free`], [`Stream::free`] and
/// [`Device::free`] do).
#[derive(Clone)]
pub struct Buffer {
    exec: Exec,
    id: BufferId,
    home: Option<StreamId>,
}

impl fmt::Debug for Buffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Buffer({})", self.id.0)
    }
}

impl Buffer {
    /// The host thread reads the buffer (pinned or pageable memory, or a
    /// device buffer through managed memory).
    #[track_caller]
    pub fn host_read(&self) {
        let buffer = self.id;
        call(&self.exec, Site::caller(), |_| OpKind::HostRead { buffer });
    }

    /// The host thread writes the buffer.
    #[track_caller]
    pub fn host_write(&self) {
        let buffer = self.id;
        call(&self.exec, Site::caller(), |_| OpKind::HostWrite { buffer });
    }

    /// PyTorch's `tensor.record_stream(stream)`: the memory is not reused
    /// after the free until the work enqueued on `stream` by then is done.
    #[track_caller]
    pub fn record_stream(&self, stream: &Stream) {
        let (buffer, stream) = (self.id, stream.id);
        call(&self.exec, Site::caller(), |_| OpKind::RecordStream {
            buffer,
            stream,
        });
    }

    /// Frees the buffer as it was allocated: on its stream when it was
    /// allocated on one (a PyTorch tensor's last reference going away),
    /// with `cudaFree` otherwise.
    #[track_caller]
    pub fn free(&self) {
        let (buffer, stream) = (self.id, self.home);
        call(&self.exec, Site::caller(), |_| OpKind::Free {
            buffer,
            stream,
        });
    }
}

/// A GPU event: a record snapshots a stream's work so far.
#[derive(Clone)]
pub struct Event {
    exec: Exec,
    id: EventId,
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Event({})", self.id.0)
    }
}

impl Event {
    /// `cudaEventRecord`: the event now stands for the work enqueued on
    /// `stream` so far, replacing its previous record.
    #[track_caller]
    pub fn record(&self, stream: &Stream) {
        record(&self.exec, self.id, stream.id, Site::caller());
    }

    /// `cudaEventSynchronize`: the calling thread waits for the work before
    /// the event's most recent record (none: nothing).
    #[track_caller]
    pub fn synchronize(&self) {
        let event = self.id;
        call(&self.exec, Site::caller(), |_| OpKind::EventSync { event });
    }

    /// `cudaEventQuery`. As [`Stream::query`]: the model reports the work
    /// done (`true`), which orders the calling thread after it.
    #[track_caller]
    pub fn query(&self) -> bool {
        let event = self.id;
        call(&self.exec, Site::caller(), |_| OpKind::EventQuery {
            event,
            ready: true,
        });
        true
    }
}
