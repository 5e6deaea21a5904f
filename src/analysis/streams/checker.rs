//! The checker: GPU semantics on vector clocks, one op at a time.
//!
//! Every host thread and every stream is an agent with a [`VectorClock`].
//! Program order is each agent's own entry; the semantics of CUDA (which
//! PyTorch follows) draw the edges between agents:
//!
//! - **enqueue**: an op enqueued on a stream runs after everything the
//!   calling host thread did before the call (its clock joins the thread's);
//! - **legacy default stream**: an op on it first waits for every blocking
//!   stream, and every later op on a blocking stream waits for it;
//!   non-blocking streams take no part; a per-thread default stream is an
//!   ordinary stream;
//! - **events**: a record snapshots the stream's clock and replaces the
//!   previous snapshot; a stream wait joins the snapshot current *at the
//!   call* (none yet: nothing); a later record does not change what an
//!   earlier wait waited for;
//! - **synchronize**: stream, event and device synchronize (and a query that
//!   returned success) join the host thread's clock with the stream's, the
//!   event's snapshot, or every stream's;
//! - **copies**: an async copy gives the host no ordering; a synchronous one
//!   joins the host with the stream after it. An async copy *from* pageable
//!   memory stages the source on the host during the call, and one *into*
//!   pageable memory returns only once it completed (CUDA's documented
//!   behaviour), so only pinned memory is read or written behind the host's back;
//! - **host functions** are ops of their stream;
//! - **host threads**: spawn, join, and lock/unlock (acquire/release of any
//!   synchronization object) order them as for ordinary threads.
//!
//! Buffers are checked as FastTrack checks cells: the last write's epoch and
//! each agent's last access since it are enough to find an unordered pair.
//! A free checks every remembered use against the clock of the free (for a
//! stream-ordered free, joined with the clocks of the streams named by
//! `record_stream`); the next stream-ordered allocation on the freeing stream
//! is where the memory may be handed out again.
//!
//! The checker keeps state per agent, event, lock and buffer, never per op:
//! memory grows with what is live, not with the length of the trace. A freed
//! buffer keeps a tombstone of a few bytes (to report a use after its free)
//! until its id is allocated again.

use std::collections::{HashMap, HashSet};

use super::ops::{
    BufferId, DefaultStream, EventId, LockId, Op, OpError, OpKind, Setup, Space, StreamId,
};
use crate::analysis::happens_before::VectorClock;
use crate::event::AgentId;

/// At most this many hazards are kept; further ones are counted only.
pub const MAX_HAZARDS: usize = 1000;

const NONE: u32 = u32::MAX;

/// What an agent is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// A host thread.
    Host { thread: u32 },
    /// A stream. `thread` is the owning thread of a per-thread default stream.
    Stream {
        stream: StreamId,
        thread: Option<u32>,
    },
}

#[derive(Clone, Debug)]
struct AgentInfo {
    role: Role,
    name: String,
}

/// How an op touched a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccessKind {
    Read,
    Write,
    /// A stream-ordered allocation: the memory becomes this buffer's at this
    /// point of the stream (and may still be in use by its previous owner before).
    Alloc,
    Free,
}

/// One op's access to a buffer: the op, the agent that ran it, and the
/// agent's segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    /// The op's index in the sequence given to the checker.
    pub op: usize,
    pub agent: AgentId,
    pub tick: u32,
    pub kind: AccessKind,
    /// The op's kind and name, so that a loop's repetitions of one race
    /// count once.
    label: u64,
}

/// What went wrong between two accesses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HazardKind {
    /// Two accesses, at least one a write, that nothing orders.
    Race,
    /// A free (`later`) that a use on another agent (`earlier`) is not
    /// ordered before.
    FreeWhileInUse,
    /// A use (`later`) after the buffer was freed (`earlier`).
    UseAfterFree,
}

/// A pair of accesses to one buffer that the program does not order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hazard {
    pub kind: HazardKind,
    pub buffer: BufferId,
    pub earlier: Access,
    pub later: Access,
    /// For a [`HazardKind::FreeWhileInUse`] by a stream-ordered free: the
    /// next allocation on the freeing stream, which may be given the memory.
    pub reuse: Option<usize>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Life {
    /// Used without an `alloc` (it existed before the trace began).
    #[default]
    Implicit,
    Live,
    Freed {
        op: usize,
        agent: u32,
        tick: u32,
    },
}

#[derive(Clone, Debug, Default)]
struct Buffer {
    life: Life,
    space: Space,
    alloc_op: Option<usize>,
    /// The last write (or stream-ordered allocation).
    write: Option<Access>,
    /// Each agent's last access since the last write, and that write: one
    /// entry per agent at most.
    uses: Vec<Access>,
    /// Agents named by `record_stream` since the allocation.
    recorded: Vec<u32>,
}

#[derive(Clone, Debug)]
struct Record {
    clock: VectorClock,
    op: usize,
}

/// Hazards found so far, deduplicated.
#[derive(Debug, Default)]
struct Found {
    hazards: Vec<Hazard>,
    seen: HashSet<(u8, u32, u32, u64, u32, u64)>,
    dropped: u64,
    /// (freeing stream's agent, hazard): frees whose memory the next
    /// allocation on that stream may reuse.
    pending_reuse: Vec<(u32, usize)>,
}

impl Found {
    /// Records a hazard unless it repeats one; returns its index when kept.
    fn report(
        &mut self,
        kind: HazardKind,
        buffer: BufferId,
        earlier: Access,
        later: Access,
    ) -> Option<usize> {
        let key = (
            kind as u8,
            buffer.0,
            earlier.agent.0,
            earlier.label | (earlier.kind as u64) << 60,
            later.agent.0,
            later.label | (later.kind as u64) << 60,
        );
        if self.hazards.len() >= MAX_HAZARDS {
            // Past the cap, hazards are counted but no longer deduplicated,
            // so that memory stays bounded.
            if !self.seen.contains(&key) {
                self.dropped += 1;
            }
            return None;
        }
        if !self.seen.insert(key) {
            return None;
        }
        self.hazards.push(Hazard {
            kind,
            buffer,
            earlier,
            later,
            reuse: None,
        });
        Some(self.hazards.len() - 1)
    }
}

/// The GPU checker. Feed it ops in the order the host issued them with
/// [`step`](Checker::step); read [`hazards`](Checker::hazards) or turn them
/// into findings with [`findings`](Checker::findings).
#[derive(Debug)]
pub struct Checker {
    setup: Setup,
    agents: Vec<AgentInfo>,
    clocks: Vec<VectorClock>,
    hosts: HashMap<u32, u32>,
    /// Per stream index: its agent (the default stream's only in legacy mode).
    streams: Vec<u32>,
    /// Per host thread: its per-thread default stream's agent.
    per_thread: HashMap<u32, u32>,
    /// Agents of blocking streams other than the legacy default stream.
    blocking: Vec<u32>,
    events: Vec<Option<Record>>,
    locks: Vec<VectorClock>,
    buffers: Vec<Buffer>,
    found: Found,
    next: usize,
    live: usize,
    /// A clock to compute in without allocating.
    scratch: VectorClock,
}

impl Checker {
    pub fn new(setup: Setup) -> Self {
        Checker {
            setup,
            agents: Vec::new(),
            clocks: Vec::new(),
            hosts: HashMap::new(),
            streams: Vec::new(),
            per_thread: HashMap::new(),
            blocking: Vec::new(),
            events: Vec::new(),
            locks: Vec::new(),
            buffers: Vec::new(),
            found: Found::default(),
            next: 0,
            live: 0,
            scratch: VectorClock::new(),
        }
    }

    /// The setup, with the names a report uses.
    pub fn setup(&self) -> &Setup {
        &self.setup
    }

    /// The setup, to declare streams or intern names while checking.
    pub fn setup_mut(&mut self) -> &mut Setup {
        &mut self.setup
    }

    /// How many ops have been checked.
    pub fn ops(&self) -> usize {
        self.next
    }

    /// The hazards found so far, in the order their later access happened
    /// (at most [`MAX_HAZARDS`]; repeats of one pair of ops' kinds and names
    /// on the same agents are left out).
    pub fn hazards(&self) -> &[Hazard] {
        &self.found.hazards
    }

    /// Hazards found beyond [`MAX_HAZARDS`] (counted without deduplication).
    pub fn dropped(&self) -> u64 {
        self.found.dropped
    }

    /// Buffers allocated and not yet freed (those used without an `alloc` not counted).
    pub fn live_buffers(&self) -> usize {
        self.live
    }

    /// How many agents (host threads and streams) have been seen.
    pub fn agent_count(&self) -> usize {
        self.agents.len()
    }

    /// How a reader names an agent: `host`, `host thread 2`, `stream 1`.
    pub fn agent_name(&self, agent: AgentId) -> &str {
        self.agents
            .get(agent.0 as usize)
            .map_or("?", |a| a.name.as_str())
    }

    pub fn role(&self, agent: AgentId) -> Option<Role> {
        self.agents.get(agent.0 as usize).map(|a| a.role)
    }

    /// The agent an op runs on: its stream's, or its host thread's. `None`
    /// for a stream or thread the checker has not seen.
    pub fn agent_of(&self, op: &Op) -> Option<AgentId> {
        let agent = match op.kind.stream() {
            Some(stream) => self.known_stream_agent(stream, op.thread),
            None => self.hosts.get(&op.thread).copied(),
        };
        agent.map(AgentId)
    }

    /// The agent of `stream` as seen from host thread `thread`, when it has one.
    pub fn stream_agent_of(&self, stream: StreamId, thread: u32) -> Option<AgentId> {
        self.known_stream_agent(stream, thread).map(AgentId)
    }

    /// The agent of host thread `thread`, when it has one.
    pub fn host_agent_of(&self, thread: u32) -> Option<AgentId> {
        self.hosts.get(&thread).copied().map(AgentId)
    }

    /// The current clock of an agent.
    pub fn clock(&self, agent: AgentId) -> Option<&VectorClock> {
        self.clocks.get(agent.0 as usize)
    }

    /// Host thread `thread` learns `clock` (a clock of this checker's
    /// agents, such as another host thread's at an earlier point): the
    /// ordering between host threads that a front end found itself (the
    /// runtime's replay takes it from happens-before).
    pub(crate) fn learn(&mut self, thread: u32, clock: &VectorClock) {
        let host = self.host(thread);
        self.clocks[host as usize].join(clock);
    }

    /// The current clock of host thread `thread`, when it has issued an op.
    pub(crate) fn host_clock(&self, thread: u32) -> Option<&VectorClock> {
        let host = self.hosts.get(&thread)?;
        self.clocks.get(*host as usize)
    }

    /// Whether `stream` is a blocking stream under the legacy default stream.
    pub fn is_blocking(&self, stream: StreamId) -> bool {
        self.setup.decl(stream).is_some_and(|d| d.blocking)
    }

    fn known_stream_agent(&self, stream: StreamId, thread: u32) -> Option<u32> {
        if stream == StreamId::DEFAULT && self.setup.default_stream == DefaultStream::PerThread {
            self.per_thread.get(&thread).copied()
        } else {
            self.streams
                .get(stream.0 as usize)
                .copied()
                .filter(|&a| a != NONE)
        }
    }

    fn new_agent(&mut self, role: Role) -> u32 {
        let id = self.agents.len() as u32;
        let name = match role {
            Role::Host { thread: 0 } => "host".to_string(),
            Role::Host { thread } => format!("host thread {thread}"),
            Role::Stream {
                thread: Some(t), ..
            } if t != 0 => format!("stream 0 (host thread {t})"),
            Role::Stream { stream, .. } => {
                let id = self.setup.decl(stream).map_or(stream.0 as u64, |d| d.id);
                format!("stream {id}")
            }
        };
        self.agents.push(AgentInfo { role, name });
        self.clocks.push(VectorClock::new());
        id
    }

    fn host(&mut self, thread: u32) -> u32 {
        if let Some(&a) = self.hosts.get(&thread) {
            return a;
        }
        let a = self.new_agent(Role::Host { thread });
        self.hosts.insert(thread, a);
        a
    }

    fn stream_agent(&mut self, stream: StreamId, thread: u32) -> u32 {
        if let Some(a) = self.known_stream_agent(stream, thread) {
            return a;
        }
        if stream == StreamId::DEFAULT && self.setup.default_stream == DefaultStream::PerThread {
            let a = self.new_agent(Role::Stream {
                stream,
                thread: Some(thread),
            });
            self.per_thread.insert(thread, a);
            return a;
        }
        let a = self.new_agent(Role::Stream {
            stream,
            thread: None,
        });
        let i = stream.0 as usize;
        if self.streams.len() <= i {
            self.streams.resize(i + 1, NONE);
        }
        self.streams[i] = a;
        if stream != StreamId::DEFAULT && self.is_blocking(stream) {
            self.blocking.push(a);
        }
        a
    }

    /// `clocks[dst] ⊔= clocks[src]`.
    fn join(&mut self, dst: u32, src: u32) {
        join_clocks(&mut self.clocks, dst as usize, src as usize);
    }

    /// The edges of enqueueing an op on `stream` from host agent `host`:
    /// the stream learns what the host did before the call, and the legacy
    /// default stream's barrier. Returns the stream's agent.
    fn enqueue(&mut self, host: u32, stream: StreamId, thread: u32) -> u32 {
        let a = self.stream_agent(stream, thread);
        self.join(a, host);
        if self.setup.default_stream == DefaultStream::Legacy {
            if stream == StreamId::DEFAULT {
                for i in 0..self.blocking.len() {
                    let b = self.blocking[i];
                    self.join(a, b);
                }
            } else if self.is_blocking(stream) {
                if let Some(&legacy) = self.streams.first().filter(|&&l| l != NONE) {
                    self.join(a, legacy);
                }
            }
        }
        a
    }

    fn tick(&mut self, agent: u32) -> u32 {
        self.clocks[agent as usize].increment(AgentId(agent))
    }

    fn device_sync(&mut self, host: u32) {
        for a in 0..self.agents.len() {
            if matches!(self.agents[a].role, Role::Stream { .. }) {
                self.join(host, a as u32);
            }
        }
    }

    fn buffer(&mut self, id: BufferId) -> &mut Buffer {
        let i = id.0 as usize;
        if self.buffers.len() <= i {
            self.buffers.resize_with(i + 1, Buffer::default);
        }
        &mut self.buffers[i]
    }

    fn space(&self, id: BufferId) -> Space {
        self.buffers
            .get(id.0 as usize)
            .map_or(Space::Device, |b| b.space)
    }

    fn error(&self, message: impl Into<String>) -> OpError {
        OpError {
            index: self.next,
            message: message.into(),
            help: None,
        }
    }

    /// Checks one op. An error means the op makes no sense (an undeclared
    /// stream, a live buffer allocated again); the checker is unchanged then.
    pub fn step(&mut self, op: &Op) -> Result<(), OpError> {
        if let Some(stream) = op.kind.streams() {
            if self.setup.decl(stream).is_none() {
                return Err(self.error(format!(
                    "stream index {} is not declared (the setup has {} streams)",
                    stream.0,
                    self.setup.streams.len()
                )));
            }
        }
        if let OpKind::Alloc { buffer, .. } = op.kind {
            if let Some(b) = self.buffers.get(buffer.0 as usize) {
                if b.life == Life::Live {
                    let name = self.setup.names.buffer_name(buffer);
                    let mut e = self.error(match b.alloc_op {
                        Some(at) => format!(
                            "`{name}` is allocated again while live (allocated at ops[{at}])"
                        ),
                        None => format!("`{name}` is allocated again while live"),
                    });
                    e.help = Some(format!("a `free` of `{name}` is missing before this op"));
                    return Err(e);
                }
            }
        }
        let index = self.next;
        let thread = op.thread;
        let host = self.host(thread);
        let label = label_of(&op.kind);
        match op.kind {
            OpKind::Alloc {
                buffer,
                space,
                stream,
            } => {
                let at = match stream {
                    None => None,
                    Some(stream) => {
                        let a = self.enqueue(host, stream, thread);
                        let tick = self.tick(a);
                        Some(access(index, a, tick, AccessKind::Alloc, label))
                    }
                };
                self.live += 1;
                let b = self.buffer(buffer);
                *b = Buffer {
                    life: Life::Live,
                    space,
                    alloc_op: Some(index),
                    write: at,
                    uses: at.into_iter().collect(),
                    recorded: Vec::new(),
                };
                if let Some(at) = at {
                    let stream_agent = at.agent.0;
                    let found = &mut self.found;
                    found.pending_reuse.retain(|&(agent, h)| {
                        if agent == stream_agent {
                            found.hazards[h].reuse.get_or_insert(index);
                            false
                        } else {
                            true
                        }
                    });
                }
            }
            OpKind::Free { buffer, stream } => {
                let (agent, tick) = match stream {
                    None => {
                        if self.setup.free_synchronizes {
                            self.device_sync(host);
                        }
                        (host, self.tick(host))
                    }
                    Some(stream) => {
                        let a = self.enqueue(host, stream, thread);
                        (a, self.tick(a))
                    }
                };
                self.free(index, buffer, (agent, tick), stream.is_some(), label);
            }
            OpKind::Kernel {
                stream,
                ref reads,
                ref writes,
                ..
            }
            | OpKind::HostFn {
                stream,
                ref reads,
                ref writes,
                ..
            } => {
                let a = self.enqueue(host, stream, thread);
                let tick = self.tick(a);
                for &r in reads {
                    self.access(index, r, a, tick, AccessKind::Read, label);
                }
                for &w in writes {
                    self.access(index, w, a, tick, AccessKind::Write, label);
                }
            }
            OpKind::Memcpy {
                stream,
                src,
                dst,
                is_async,
            } => {
                let staged = is_async && self.space(src) == Space::Pageable;
                if staged {
                    // The call copies a pageable source into a staging
                    // buffer before it returns: the host reads it.
                    let tick = self.tick(host);
                    self.access(index, src, host, tick, AccessKind::Read, label);
                }
                let a = self.enqueue(host, stream, thread);
                let tick = self.tick(a);
                if !staged {
                    self.access(index, src, a, tick, AccessKind::Read, label);
                }
                self.access(index, dst, a, tick, AccessKind::Write, label);
                if !is_async || self.space(dst) == Space::Pageable {
                    self.join(host, a);
                }
            }
            OpKind::Memset {
                stream,
                dst,
                is_async,
            } => {
                let a = self.enqueue(host, stream, thread);
                let tick = self.tick(a);
                self.access(index, dst, a, tick, AccessKind::Write, label);
                if !is_async {
                    self.join(host, a);
                }
            }
            OpKind::EventRecord { event, stream } => {
                let a = self.enqueue(host, stream, thread);
                let i = event.0 as usize;
                if self.events.len() <= i {
                    self.events.resize_with(i + 1, || None);
                }
                let clock = &self.clocks[a as usize];
                match &mut self.events[i] {
                    // A new record replaces the snapshot (reusing its allocation).
                    Some(record) => {
                        record.clock.copy_from(clock);
                        record.op = index;
                    }
                    slot @ None => {
                        *slot = Some(Record {
                            clock: clock.clone(),
                            op: index,
                        })
                    }
                }
            }
            OpKind::StreamWaitEvent { stream, event } => {
                let a = self.enqueue(host, stream, thread);
                if let Some(record) = self.events.get(event.0 as usize).and_then(Option::as_ref) {
                    self.clocks[a as usize].join(&record.clock);
                }
            }
            OpKind::EventSync { event } | OpKind::EventQuery { event, ready: true } => {
                if let Some(record) = self.events.get(event.0 as usize).and_then(Option::as_ref) {
                    self.clocks[host as usize].join(&record.clock);
                }
            }
            OpKind::EventQuery { ready: false, .. } | OpKind::StreamQuery { ready: false, .. } => {}
            OpKind::StreamSync { stream }
            | OpKind::StreamQuery {
                stream,
                ready: true,
            } => {
                if let Some(a) = self.known_stream_agent(stream, thread) {
                    self.join(host, a);
                }
            }
            OpKind::DeviceSync => self.device_sync(host),
            OpKind::HostRead { buffer } => {
                let tick = self.tick(host);
                self.access(index, buffer, host, tick, AccessKind::Read, label);
            }
            OpKind::HostWrite { buffer } => {
                let tick = self.tick(host);
                self.access(index, buffer, host, tick, AccessKind::Write, label);
            }
            OpKind::RecordStream { buffer, stream } => {
                let a = self.stream_agent(stream, thread);
                let b = self.buffer(buffer);
                if !b.recorded.contains(&a) {
                    b.recorded.push(a);
                }
            }
            OpKind::ThreadSpawn { child } => {
                let c = self.host(child);
                self.join(c, host);
            }
            OpKind::ThreadJoin { child } => {
                let c = self.host(child);
                self.join(host, c);
            }
            OpKind::Lock { lock } => {
                let l = self.lock(lock);
                let (clocks, locks) = (&mut self.clocks, &self.locks);
                clocks[host as usize].join(&locks[l]);
            }
            OpKind::Unlock { lock } => {
                let l = self.lock(lock);
                self.locks[l].join(&self.clocks[host as usize]);
            }
            // Shown in interleavings only; the host order is the caller's.
            OpKind::HostStep { .. } => {}
        }
        self.next += 1;
        Ok(())
    }

    /// The op that recorded `event` last, when it has been recorded.
    pub fn last_record(&self, event: EventId) -> Option<usize> {
        self.events
            .get(event.0 as usize)
            .and_then(Option::as_ref)
            .map(|r| r.op)
    }

    fn lock(&mut self, lock: LockId) -> usize {
        let i = lock.0 as usize;
        if self.locks.len() <= i {
            self.locks.resize_with(i + 1, VectorClock::new);
        }
        i
    }

    /// An access by `agent` in its segment `tick` (its clock is the agent's current one).
    fn access(
        &mut self,
        index: usize,
        buffer: BufferId,
        agent: u32,
        tick: u32,
        kind: AccessKind,
        label: u64,
    ) {
        let now = access(index, agent, tick, kind, label);
        let i = buffer.0 as usize;
        if self.buffers.len() <= i {
            self.buffers.resize_with(i + 1, Buffer::default);
        }
        let clock = &self.clocks[agent as usize];
        let b = &mut self.buffers[i];
        let found = &mut self.found;
        if let Life::Freed { op, agent, tick } = b.life {
            let free = Access {
                op,
                agent: AgentId(agent),
                tick,
                kind: AccessKind::Free,
                label: 0,
            };
            found.report(HazardKind::UseAfterFree, buffer, free, now);
            return;
        }
        let unordered = |a: &Access| a.agent.0 != agent && a.tick > clock.get(a.agent);
        match kind {
            AccessKind::Read => {
                if let Some(w) = b.write.filter(unordered) {
                    found.report(HazardKind::Race, buffer, w, now);
                }
                match b.uses.iter_mut().find(|u| u.agent.0 == agent) {
                    Some(mine) => *mine = now,
                    None => b.uses.push(now),
                }
            }
            _ => {
                for u in b.uses.iter().filter(|u| unordered(u)) {
                    found.report(HazardKind::Race, buffer, *u, now);
                }
                b.uses.clear();
                b.uses.push(now);
                b.write = Some(now);
            }
        }
    }

    /// A free by `agent` in segment `tick`: every remembered use on another
    /// agent must be ordered before it (or before the end of the work the
    /// buffer's `record_stream` streams had enqueued by now).
    fn free(
        &mut self,
        index: usize,
        buffer: BufferId,
        (agent, tick): (u32, u32),
        stream_ordered: bool,
        label: u64,
    ) {
        let now = access(index, agent, tick, AccessKind::Free, label);
        let i = buffer.0 as usize;
        if self.buffers.len() <= i {
            self.buffers.resize_with(i + 1, Buffer::default);
        }
        let b = &mut self.buffers[i];
        if let Life::Freed { op, agent, tick } = b.life {
            let free = Access {
                op,
                agent: AgentId(agent),
                tick,
                kind: AccessKind::Free,
                label: 0,
            };
            self.found
                .report(HazardKind::UseAfterFree, buffer, free, now);
            return;
        }
        if b.life == Life::Live {
            self.live -= 1;
        }
        let clock = &mut self.scratch;
        clock.copy_from(&self.clocks[agent as usize]);
        for &r in &b.recorded {
            clock.join(&self.clocks[r as usize]);
        }
        for u in &b.uses {
            if u.kind != AccessKind::Alloc && u.agent.0 != agent && u.tick > clock.get(u.agent) {
                let kept = self
                    .found
                    .report(HazardKind::FreeWhileInUse, buffer, *u, now);
                if let (Some(h), true) = (kept, stream_ordered) {
                    // The next allocation on this stream may be given the memory.
                    self.found.pending_reuse.push((agent, h));
                }
            }
        }
        b.life = Life::Freed {
            op: index,
            agent,
            tick,
        };
        b.write = None;
        b.uses = Vec::new();
        b.recorded = Vec::new();
    }
}

fn access(op: usize, agent: u32, tick: u32, kind: AccessKind, label: u64) -> Access {
    Access {
        op,
        agent: AgentId(agent),
        tick,
        kind,
        label,
    }
}

/// An op's kind and name as one number, for deduplication.
fn label_of(kind: &OpKind) -> u64 {
    let tag = match kind {
        OpKind::Alloc { .. } => 1,
        OpKind::Free { .. } => 2,
        OpKind::Kernel { .. } => 3,
        OpKind::Memcpy { .. } => 4,
        OpKind::Memset { .. } => 5,
        OpKind::HostRead { .. } => 6,
        OpKind::HostWrite { .. } => 7,
        OpKind::HostFn { .. } => 8,
        _ => 0,
    };
    let name = match kind {
        OpKind::Kernel { name, .. } | OpKind::HostFn { name, .. } => name.0 as u64,
        _ => 0,
    };
    tag << 32 | name
}

/// `clocks[dst] ⊔= clocks[src]` for two entries of one vector.
fn join_clocks(clocks: &mut [VectorClock], dst: usize, src: usize) {
    if dst == src {
        return;
    }
    if dst < src {
        let (low, high) = clocks.split_at_mut(src);
        low[dst].join(&high[0]);
    } else {
        let (low, high) = clocks.split_at_mut(dst);
        high[0].join(&low[src]);
    }
}
