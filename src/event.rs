//! The event vocabulary every front end speaks and every analysis reads.
//!
//! A [`Trace`] is what one execution (or one recorded GPU program) did: the
//! agents that ran (threads, GPU streams), the objects they touched (locks,
//! condvars, atomics, tracked cells, counted resources, buffers, ...), and the
//! events in the order they happened. Every event carries the [`Site`] that
//! caused it, so every finding can point at source.

use std::borrow::Cow;
use std::fmt;

/// A place in source: file, line and column, both counted from 1.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Site {
    pub file: Cow<'static, str>,
    pub line: u32,
    pub column: u32,
}

impl Site {
    pub fn new(file: impl Into<Cow<'static, str>>, line: u32, column: u32) -> Self {
        Site {
            file: file.into(),
            line,
            column,
        }
    }

    /// A site for things that have no source position (synthetic events).
    pub fn unknown() -> Self {
        Site::new("<unknown>", 0, 0)
    }

    pub fn is_unknown(&self) -> bool {
        self.line == 0
    }

    /// The caller's position, as `#[track_caller]` functions see it.
    #[track_caller]
    pub fn caller() -> Self {
        Site::from(std::panic::Location::caller())
    }
}

impl From<&'static std::panic::Location<'static>> for Site {
    fn from(location: &'static std::panic::Location<'static>) -> Self {
        Site::new(location.file(), location.line(), location.column())
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// An agent: something that runs a sequence of operations in program order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AgentKind {
    /// A host thread.
    Thread,
    /// A GPU stream: operations on it run in order, like a thread's.
    Stream,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agent {
    pub id: AgentId,
    pub kind: AgentKind,
    /// How a reader names it: `main`, `thread 2`, `worker-1`, `stream 1`.
    pub name: String,
}

/// An object the agents share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    Mutex,
    RwLock,
    Condvar,
    Barrier,
    Channel,
    Atomic,
    /// Non-atomic shared state whose accesses are checked for data races.
    Cell,
    /// A counted resource (a pool of units, a semaphore) under the banker's check.
    Resource,
    /// GPU memory (device, pinned or pageable host memory).
    Buffer,
    /// A GPU event.
    GpuEvent,
}

impl ObjectKind {
    pub fn is_lock(self) -> bool {
        matches!(self, ObjectKind::Mutex | ObjectKind::RwLock)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    pub id: ObjectId,
    pub kind: ObjectKind,
    /// How a reader names it: the binding or field it was created into where
    /// that is known (`Bank.accounts`, `fork_a`), its creation site otherwise.
    pub name: String,
    pub site: Site,
    /// The units of a counted resource (a pool, a semaphore's permits).
    pub capacity: Option<u64>,
}

/// How a lock is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LockMode {
    /// A mutex, or a write guard of a rwlock.
    Exclusive,
    /// A read guard of a rwlock.
    Shared,
}

/// Memory ordering of an atomic operation or fence, as in `std::sync::atomic`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemoryOrder {
    Relaxed,
    Release,
    Acquire,
    AcqRel,
    SeqCst,
}

impl MemoryOrder {
    /// Whether a load (or the read half of a read-modify-write) with this
    /// ordering synchronizes with a release it reads from.
    pub fn acquires(self) -> bool {
        matches!(
            self,
            MemoryOrder::Acquire | MemoryOrder::AcqRel | MemoryOrder::SeqCst
        )
    }

    /// Whether a store (or the write half of a read-modify-write) with this
    /// ordering publishes the agent's history to a later acquire.
    pub fn releases(self) -> bool {
        matches!(
            self,
            MemoryOrder::Release | MemoryOrder::AcqRel | MemoryOrder::SeqCst
        )
    }
}

/// What an agent did. Objects are referred to by id; their kind is in the
/// trace's object table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// The agent started `child`; everything before happens-before the child.
    Spawn { child: AgentId },
    /// The agent waited for `child` to finish; the child's history happens-before what follows.
    Join { child: AgentId },
    /// The agent asked for a lock and may block (used for wait-for graphs).
    LockRequest { lock: ObjectId, mode: LockMode },
    /// The agent now holds the lock.
    LockAcquire { lock: ObjectId, mode: LockMode },
    /// The agent gave the lock back.
    LockRelease { lock: ObjectId, mode: LockMode },
    /// The agent released `mutex` and went to sleep on `condvar`.
    CondvarWait { condvar: ObjectId, mutex: ObjectId },
    /// The agent woke from `condvar` (it reacquires `mutex` with a `LockAcquire` after this).
    CondvarWake { condvar: ObjectId, mutex: ObjectId },
    /// The agent notified one or all waiters of `condvar`.
    CondvarNotify { condvar: ObjectId, all: bool },
    /// The agent arrived at the barrier for its `generation`th use.
    BarrierArrive { barrier: ObjectId, generation: u64 },
    /// The agent left the barrier: every arrival of the generation happens-before this.
    BarrierDepart { barrier: ObjectId, generation: u64 },
    /// The agent sent message number `message` on a channel.
    Send { channel: ObjectId, message: u64 },
    /// The agent received message number `message`; its send happens-before this.
    Receive { channel: ObjectId, message: u64 },
    /// An atomic load; `value` is what it read where the front end knows it.
    AtomicLoad {
        atomic: ObjectId,
        order: MemoryOrder,
        value: Option<u64>,
    },
    /// An atomic store.
    AtomicStore {
        atomic: ObjectId,
        order: MemoryOrder,
        value: Option<u64>,
    },
    /// An atomic read-modify-write (`fetch_add`, `swap`, a successful `compare_exchange`).
    AtomicRmw {
        atomic: ObjectId,
        order: MemoryOrder,
    },
    /// A memory fence.
    Fence { order: MemoryOrder },
    /// A read of non-atomic shared state.
    Read { cell: ObjectId },
    /// A write of non-atomic shared state.
    Write { cell: ObjectId },
    /// The agent declared it may hold up to `max` units of a counted resource.
    ResourceClaim { resource: ObjectId, max: u64 },
    /// The agent asked for `units` of a counted resource and may block.
    ResourceRequest { resource: ObjectId, units: u64 },
    /// The agent was granted `units`.
    ResourceAcquire { resource: ObjectId, units: u64 },
    /// The agent gave `units` back.
    ResourceRelease { resource: ObjectId, units: u64 },
    /// The agent panicked (a failed assertion, an `unwrap` on `None`, ...).
    Panic { message: String },
    /// The agent made a GPU call (`interlock::gpu`): op number `op` of the
    /// execution's GPU ops, and how a reader names the call.
    Gpu { op: u32, call: String },
}

/// One step of one agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub agent: AgentId,
    pub action: Action,
    pub site: Site,
}

/// Everything one execution did, in the order it happened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    pub agents: Vec<Agent>,
    pub objects: Vec<Object>,
    pub events: Vec<Event>,
}

impl Trace {
    pub fn new() -> Self {
        Trace::default()
    }

    /// Adds a thread and returns its id.
    pub fn thread(&mut self, name: impl Into<String>) -> AgentId {
        self.agent(AgentKind::Thread, name)
    }

    /// Adds an agent of any kind and returns its id.
    pub fn agent(&mut self, kind: AgentKind, name: impl Into<String>) -> AgentId {
        let id = AgentId(self.agents.len() as u32);
        self.agents.push(Agent {
            id,
            kind,
            name: name.into(),
        });
        id
    }

    /// Adds an object and returns its id.
    pub fn object(&mut self, kind: ObjectKind, name: impl Into<String>, site: Site) -> ObjectId {
        let id = ObjectId(self.objects.len() as u32);
        self.objects.push(Object {
            id,
            kind,
            name: name.into(),
            site,
            capacity: None,
        });
        id
    }

    /// Appends an event.
    pub fn push(&mut self, agent: AgentId, action: Action, site: Site) {
        self.events.push(Event {
            agent,
            action,
            site,
        });
    }

    pub fn agent_name(&self, id: AgentId) -> &str {
        self.agents
            .get(id.0 as usize)
            .map_or("<unknown agent>", |a| a.name.as_str())
    }

    pub fn object_name(&self, id: ObjectId) -> &str {
        self.objects
            .get(id.0 as usize)
            .map_or("<unknown object>", |o| o.name.as_str())
    }

    pub fn object_kind(&self, id: ObjectId) -> Option<ObjectKind> {
        self.objects.get(id.0 as usize).map(|o| o.kind)
    }

    /// Describes an event for a reader, e.g. "lock `fork_a`".
    pub fn describe(&self, action: &Action) -> String {
        let name = |id: &ObjectId| format!("`{}`", self.object_name(*id));
        match action {
            Action::Spawn { child } => format!("spawn {}", self.agent_name(*child)),
            Action::Join { child } => format!("join {}", self.agent_name(*child)),
            Action::LockRequest { lock, mode } => match (self.object_kind(*lock), mode) {
                (Some(ObjectKind::RwLock), LockMode::Shared) => {
                    format!("wait to read {}", name(lock))
                }
                (Some(ObjectKind::RwLock), LockMode::Exclusive) => {
                    format!("wait to write {}", name(lock))
                }
                _ => format!("wait for {}", name(lock)),
            },
            Action::LockAcquire { lock, mode } => match (self.object_kind(*lock), mode) {
                (Some(ObjectKind::RwLock), LockMode::Shared) => format!("read {}", name(lock)),
                (Some(ObjectKind::RwLock), LockMode::Exclusive) => format!("write {}", name(lock)),
                _ => format!("lock {}", name(lock)),
            },
            Action::LockRelease { lock, .. } => format!("unlock {}", name(lock)),
            Action::CondvarWait { condvar, mutex } => {
                format!("wait on {} (releasing {})", name(condvar), name(mutex))
            }
            Action::CondvarWake { condvar, .. } => format!("wake from {}", name(condvar)),
            Action::CondvarNotify { condvar, all } => {
                format!(
                    "{} {}",
                    if *all { "notify_all" } else { "notify_one" },
                    name(condvar)
                )
            }
            Action::BarrierArrive { barrier, .. } => format!("arrive at {}", name(barrier)),
            Action::BarrierDepart { barrier, .. } => format!("leave {}", name(barrier)),
            Action::Send { channel, .. } => format!("send on {}", name(channel)),
            Action::Receive { channel, .. } => format!("receive on {}", name(channel)),
            Action::AtomicLoad {
                atomic,
                order,
                value,
            } => match value {
                Some(v) => format!("load {} ({order:?}) = {v}", name(atomic)),
                None => format!("load {} ({order:?})", name(atomic)),
            },
            Action::AtomicStore {
                atomic,
                order,
                value,
            } => match value {
                Some(v) => format!("store {} = {v} ({order:?})", name(atomic)),
                None => format!("store {} ({order:?})", name(atomic)),
            },
            Action::AtomicRmw { atomic, order } => format!("update {} ({order:?})", name(atomic)),
            Action::Fence { order } => format!("fence ({order:?})"),
            Action::Read { cell } => format!("read {}", name(cell)),
            Action::Write { cell } => format!("write {}", name(cell)),
            Action::ResourceClaim { resource, max } => {
                format!("claim up to {max} of {}", name(resource))
            }
            Action::ResourceRequest { resource, units } => {
                format!("request {units} of {}", name(resource))
            }
            Action::ResourceAcquire { resource, units } => {
                format!("take {units} of {}", name(resource))
            }
            Action::ResourceRelease { resource, units } => {
                format!("give back {units} of {}", name(resource))
            }
            Action::Panic { message } => format!("panic: {message}"),
            Action::Gpu { call, .. } => call.clone(),
        }
    }
}
