//! The engine's input: GPU operations with the host thread that issued each,
//! and the tables (streams, names) they refer to by id.
//!
//! Nothing here knows about JSON: the trace reader (`input::gpu_trace`) and
//! models run by the runtime both build [`Op`]s and feed them to the
//! [`Checker`](super::Checker) one at a time.

use std::collections::HashMap;
use std::fmt;

use crate::event::Site;

/// A stream, by its index in [`Setup::streams`]; index 0 is the default stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId(pub u32);

impl StreamId {
    /// The default stream (legacy or per-thread, as [`Setup::default_stream`] says).
    pub const DEFAULT: StreamId = StreamId(0);
}

/// A buffer, by its index in [`Names::buffers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BufferId(pub u32);

/// A GPU event, by its index in [`Names::events`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(pub u32);

/// A lock (or any synchronization object) between host threads, by its index
/// in [`Names::locks`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LockId(pub u32);

/// The name of a kernel or host function, by its index in [`Names::labels`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabelId(pub u32);

/// How the default stream (stream 0) behaves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DefaultStream {
    /// One legacy default stream for the whole device: an operation on it
    /// first waits for all blocking streams, then all blocking streams wait
    /// for it. Non-blocking streams take no part.
    #[default]
    Legacy,
    /// Each host thread has its own default stream, an ordinary stream that
    /// synchronizes with nothing implicitly.
    PerThread,
}

impl DefaultStream {
    pub fn as_str(self) -> &'static str {
        match self {
            DefaultStream::Legacy => "legacy",
            DefaultStream::PerThread => "per-thread",
        }
    }
}

/// Where a buffer's memory lives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Space {
    #[default]
    Device,
    /// Page-locked host memory: async copies read and write it from the GPU,
    /// after the call has returned.
    Pinned,
    /// Ordinary host memory: an async copy from it stages the source before
    /// returning, and an async copy into it returns only once it completed.
    Pageable,
}

impl Space {
    pub fn as_str(self) -> &'static str {
        match self {
            Space::Device => "device",
            Space::Pinned => "pinned",
            Space::Pageable => "pageable",
        }
    }
}

/// A declared stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamDecl {
    /// The id a reader knows it by (`stream 1`): the trace's id, a handle.
    pub id: u64,
    /// Whether the legacy default stream synchronizes with it
    /// (`cudaStreamCreate`; `cudaStreamNonBlocking` makes it false).
    pub blocking: bool,
}

/// Names interned to dense ids.
#[derive(Clone, Debug, Default)]
pub struct Interner {
    names: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Interner {
    /// The id of `name`, adding it when new.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        id
    }

    /// The id of `name`, when it has one.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("?", String::as_str)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// How a reader names the buffers, events, locks and kernels of a program.
#[derive(Clone, Debug, Default)]
pub struct Names {
    pub buffers: Interner,
    pub events: Interner,
    pub locks: Interner,
    pub labels: Interner,
}

impl Names {
    pub fn buffer(&mut self, name: &str) -> BufferId {
        BufferId(self.buffers.intern(name))
    }
    pub fn event(&mut self, name: &str) -> EventId {
        EventId(self.events.intern(name))
    }
    pub fn lock(&mut self, name: &str) -> LockId {
        LockId(self.locks.intern(name))
    }
    pub fn label(&mut self, name: &str) -> LabelId {
        LabelId(self.labels.intern(name))
    }
    pub fn buffer_name(&self, id: BufferId) -> &str {
        self.buffers.name(id.0)
    }
    pub fn event_name(&self, id: EventId) -> &str {
        self.events.name(id.0)
    }
    pub fn lock_name(&self, id: LockId) -> &str {
        self.locks.name(id.0)
    }
    pub fn label_name(&self, id: LabelId) -> &str {
        self.labels.name(id.0)
    }
}

/// What a program declares before its first operation: the default stream's
/// mode, its streams, how `free` behaves, and the names of things.
#[derive(Clone, Debug)]
pub struct Setup {
    pub default_stream: DefaultStream,
    /// Index 0 is the default stream; the others as declared.
    pub streams: Vec<StreamDecl>,
    /// Treat a `free` without a stream (`cudaFree`) as a device synchronize
    /// first, as CUDA usually does in practice (`interlock gpu --lenient`).
    /// Strict (false): it orders nothing, so every use must be ordered
    /// before it by the program itself.
    pub free_synchronizes: bool,
    pub names: Names,
}

impl Setup {
    /// Stream 0 and nothing else.
    pub fn new(default_stream: DefaultStream) -> Self {
        Setup {
            default_stream,
            streams: vec![StreamDecl {
                id: 0,
                blocking: true,
            }],
            free_synchronizes: false,
            names: Names::default(),
        }
    }

    /// Declares a stream and returns its index.
    pub fn stream(&mut self, id: u64, blocking: bool) -> StreamId {
        self.streams.push(StreamDecl { id, blocking });
        StreamId(self.streams.len() as u32 - 1)
    }

    /// The index of the stream a reader knows as `id`.
    pub fn stream_by_id(&self, id: u64) -> Option<StreamId> {
        self.streams
            .iter()
            .position(|s| s.id == id)
            .map(|i| StreamId(i as u32))
    }

    /// The declaration of a stream.
    pub fn decl(&self, stream: StreamId) -> Option<&StreamDecl> {
        self.streams.get(stream.0 as usize)
    }
}

/// One operation as the host issued it. `thread` is the host thread that
/// made the call: it orders the call after what that thread did before
/// (the host-to-stream edge at enqueue), and a synchronize orders that
/// thread's later work after the GPU work it waited for.
#[derive(Clone, Debug, PartialEq)]
pub struct Op {
    pub thread: u32,
    pub kind: OpKind,
    /// Where the program made the call, when known. The file may be empty
    /// when only the line is known.
    pub site: Option<Site>,
    /// Where the op is written down (its place in a recorded trace), used
    /// for locations when `site` has no file.
    pub origin: Option<Site>,
}

impl Op {
    /// An op of host thread 0 with no location.
    pub fn new(kind: OpKind) -> Self {
        Op {
            thread: 0,
            kind,
            site: None,
            origin: None,
        }
    }

    pub fn on_thread(mut self, thread: u32) -> Self {
        self.thread = thread;
        self
    }

    pub fn at(mut self, site: Site) -> Self {
        self.site = Some(site);
        self
    }

    pub fn from_origin(mut self, origin: Site) -> Self {
        self.origin = Some(origin);
        self
    }
}

/// The operations, as in the trace format.
#[derive(Clone, Debug, PartialEq)]
pub enum OpKind {
    /// `cudaMalloc` (no stream) or a stream-ordered allocation on `stream`
    /// (`cudaMallocAsync`, PyTorch's caching allocator), which may hand out
    /// memory freed on that stream at once.
    Alloc {
        buffer: BufferId,
        space: Space,
        stream: Option<StreamId>,
    },
    /// `cudaFree` (no stream: the host frees it at the call) or a
    /// stream-ordered free on `stream`.
    Free {
        buffer: BufferId,
        stream: Option<StreamId>,
    },
    Kernel {
        stream: StreamId,
        name: LabelId,
        reads: Vec<BufferId>,
        writes: Vec<BufferId>,
    },
    Memcpy {
        stream: StreamId,
        src: BufferId,
        dst: BufferId,
        is_async: bool,
    },
    Memset {
        stream: StreamId,
        dst: BufferId,
        is_async: bool,
    },
    EventRecord {
        event: EventId,
        stream: StreamId,
    },
    StreamWaitEvent {
        stream: StreamId,
        event: EventId,
    },
    EventSync {
        event: EventId,
    },
    /// `cudaEventQuery`: `ready` is whether it returned success.
    EventQuery {
        event: EventId,
        ready: bool,
    },
    StreamSync {
        stream: StreamId,
    },
    /// `cudaStreamQuery`: `ready` is whether it returned success.
    StreamQuery {
        stream: StreamId,
        ready: bool,
    },
    DeviceSync,
    HostRead {
        buffer: BufferId,
    },
    HostWrite {
        buffer: BufferId,
    },
    /// PyTorch's `tensor.record_stream(stream)`: the buffer's memory is not
    /// reused after its free until the work enqueued on `stream` by then is done.
    RecordStream {
        buffer: BufferId,
        stream: StreamId,
    },
    /// `cudaLaunchHostFunc`: runs on the stream, after the work before it
    /// and before the work after it.
    HostFn {
        stream: StreamId,
        name: LabelId,
        reads: Vec<BufferId>,
        writes: Vec<BufferId>,
    },
    ThreadSpawn {
        child: u32,
    },
    ThreadJoin {
        child: u32,
    },
    /// Acquires `lock`: what was released into it happens-before what follows.
    Lock {
        lock: LockId,
    },
    /// Releases `lock`: what came before happens-before its next acquirer.
    Unlock {
        lock: LockId,
    },
    /// A step of a host thread's own synchronization (`lock \`m\``,
    /// `store \`ready\` (Relaxed)`), as the text `step` says. It orders
    /// nothing in the checker: a program's replay takes the order between
    /// host threads from happens-before, and adds these steps so that a
    /// finding's interleaving shows what the threads did between the two
    /// accesses.
    HostStep {
        step: LabelId,
    },
}

impl OpKind {
    /// The op's name in the trace format.
    pub fn name(&self) -> &'static str {
        match self {
            OpKind::Alloc { .. } => "alloc",
            OpKind::Free { .. } => "free",
            OpKind::Kernel { .. } => "kernel",
            OpKind::Memcpy { .. } => "memcpy",
            OpKind::Memset { .. } => "memset",
            OpKind::EventRecord { .. } => "event_record",
            OpKind::StreamWaitEvent { .. } => "stream_wait_event",
            OpKind::EventSync { .. } => "event_sync",
            OpKind::EventQuery { .. } => "event_query",
            OpKind::StreamSync { .. } => "stream_sync",
            OpKind::StreamQuery { .. } => "stream_query",
            OpKind::DeviceSync => "device_sync",
            OpKind::HostRead { .. } => "host_read",
            OpKind::HostWrite { .. } => "host_write",
            OpKind::RecordStream { .. } => "record_stream",
            OpKind::HostFn { .. } => "host_fn",
            OpKind::ThreadSpawn { .. } => "thread_spawn",
            OpKind::ThreadJoin { .. } => "thread_join",
            OpKind::Lock { .. } => "lock",
            OpKind::Unlock { .. } => "unlock",
            OpKind::HostStep { .. } => "host_step",
        }
    }

    /// The stream the op is enqueued on, for ops that run on a stream.
    pub fn stream(&self) -> Option<StreamId> {
        match *self {
            OpKind::Alloc { stream, .. } | OpKind::Free { stream, .. } => stream,
            OpKind::Kernel { stream, .. }
            | OpKind::Memcpy { stream, .. }
            | OpKind::Memset { stream, .. }
            | OpKind::EventRecord { stream, .. }
            | OpKind::StreamWaitEvent { stream, .. }
            | OpKind::HostFn { stream, .. } => Some(stream),
            _ => None,
        }
    }

    /// Every stream the op names (including the one a sync or
    /// `record_stream` refers to), for validation.
    pub fn streams(&self) -> Option<StreamId> {
        match *self {
            OpKind::StreamSync { stream }
            | OpKind::StreamQuery { stream, .. }
            | OpKind::RecordStream { stream, .. } => Some(stream),
            _ => self.stream(),
        }
    }

    /// Whether the op is synchronization (what an explanation shows first
    /// when it must leave steps out).
    pub fn is_sync(&self) -> bool {
        matches!(
            self,
            OpKind::EventRecord { .. }
                | OpKind::StreamWaitEvent { .. }
                | OpKind::EventSync { .. }
                | OpKind::EventQuery { ready: true, .. }
                | OpKind::StreamSync { .. }
                | OpKind::StreamQuery { ready: true, .. }
                | OpKind::DeviceSync
                | OpKind::RecordStream { .. }
                | OpKind::ThreadSpawn { .. }
                | OpKind::ThreadJoin { .. }
                | OpKind::Lock { .. }
                | OpKind::Unlock { .. }
                | OpKind::HostStep { .. }
        )
    }
}

/// An op the engine cannot make sense of (a trace error, not a finding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpError {
    /// The op's index in the sequence given to the checker.
    pub index: usize,
    pub message: String,
    /// How to fix it, where there is a simple answer.
    pub help: Option<String>,
}

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ops[{}]: {}", self.index, self.message)
    }
}

impl std::error::Error for OpError {}
