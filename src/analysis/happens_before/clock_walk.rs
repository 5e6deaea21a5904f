//! The clock machine: walks a trace in order and keeps every agent's vector
//! clock up to date with the synchronization it has seen.
//!
//! Each agent's own entry starts at 1 and moves on after every event by which
//! it *publishes* its history (a release, a spawn, a send, an arrival at a
//! barrier, a notify, ...): the clock it published covers the events up to
//! and including the publishing one, and nothing after. Acquiring events
//! (an acquire, a join, a receive, a departure from a barrier, a wake-up)
//! join the published clock into the agent's own.
//!
//! Objects keep the clocks that were published into them, so one step costs
//! at most a couple of joins of `agents` entries and allocates nothing once an
//! object has been seen.

use std::collections::HashMap;

use super::vector_clock::VectorClock;
use crate::event::{Action, AgentId, Event, LockMode, MemoryOrder, ObjectId, Trace};

/// Which kinds of synchronization order events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Edges {
    /// Everything: spawn/join, locks, condvars, barriers, channels, atomics
    /// and fences, counted resources.
    All,
    /// Only the orderings that hold in *every* interleaving of the program:
    /// spawn/join, barriers and channels. Locks, condvars and atomics order
    /// events only in the interleaving that happened to run, so a filter that
    /// asks "could these two run at the same time?" must not use them.
    ForkJoin,
}

/// The clocks an object keeps, by role:
/// - lock: `first` = joined clocks of exclusive releases, `second` = joined
///   clocks of shared (read) releases;
/// - atomic: `first` = the clock a reader acquires (the release sequence of
///   the latest store), `head` = the agent heading that release sequence;
/// - condvar and counted resource: `first` = joined clocks of notifies /
///   releases.
///
/// Clocks start empty and grow on first use, so unused objects cost nothing.
#[derive(Clone, Debug, Default)]
struct ObjectClocks {
    first: VectorClock,
    second: VectorClock,
    head: Option<u32>,
}

/// Per-agent fence state.
#[derive(Clone, Debug, Default)]
struct Fences {
    /// The agent's clock at its latest release fence: what its later relaxed
    /// stores publish.
    release: Option<VectorClock>,
    /// Everything its relaxed loads have read so far: what a later acquire
    /// fence acquires. Only grows: an acquire fence synchronizes with the
    /// stores read by every load sequenced before it.
    acquire: VectorClock,
}

/// How many agents and objects a trace names (ids in events may run past the
/// declared tables; clocks are sized to cover them).
pub(crate) fn dimensions(trace: &Trace) -> (usize, usize) {
    let mut agents = trace.agents.len();
    let mut objects = trace.objects.len();
    let mut see_agent = |a: AgentId| agents = agents.max(a.0 as usize + 1);
    for event in &trace.events {
        see_agent(event.agent);
        if let Action::Spawn { child } | Action::Join { child } = event.action {
            see_agent(child);
        }
        if let Some(object) = object_of(&event.action) {
            objects = objects.max(object.0 as usize + 1);
        }
        if let Action::CondvarWait { mutex, .. } | Action::CondvarWake { mutex, .. } = event.action
        {
            objects = objects.max(mutex.0 as usize + 1);
        }
    }
    (agents, objects)
}

/// The object an action is about, where it is about one (for a condvar wait
/// or wake, the condvar; the mutex is named in the action too).
pub(crate) fn object_of(action: &Action) -> Option<ObjectId> {
    match *action {
        Action::LockRequest { lock, .. }
        | Action::LockAcquire { lock, .. }
        | Action::LockRelease { lock, .. } => Some(lock),
        Action::CondvarWait { condvar, .. }
        | Action::CondvarWake { condvar, .. }
        | Action::CondvarNotify { condvar, .. } => Some(condvar),
        Action::BarrierArrive { barrier, .. } | Action::BarrierDepart { barrier, .. } => {
            Some(barrier)
        }
        Action::Send { channel, .. } | Action::Receive { channel, .. } => Some(channel),
        Action::AtomicLoad { atomic, .. }
        | Action::AtomicStore { atomic, .. }
        | Action::AtomicRmw { atomic, .. } => Some(atomic),
        Action::Read { cell } | Action::Write { cell } => Some(cell),
        Action::ResourceClaim { resource, .. }
        | Action::ResourceRequest { resource, .. }
        | Action::ResourceAcquire { resource, .. }
        | Action::ResourceRelease { resource, .. } => Some(resource),
        Action::Spawn { .. }
        | Action::Join { .. }
        | Action::Fence { .. }
        | Action::Panic { .. }
        | Action::Gpu { .. } => None,
    }
}

/// The clock machine. Built for one trace (its dimensions), stepped through
/// its events in order.
pub(crate) struct Walker {
    edges: Edges,
    /// Each agent's clock.
    clocks: Vec<VectorClock>,
    /// Whether an agent's clock learned something from another agent since
    /// the flag was last cleared (the recorder snapshots the clock then).
    learned: Vec<bool>,
    objects: Vec<ObjectClocks>,
    fences: Vec<Fences>,
    /// The clock of the latest SeqCst fence: SeqCst fences form one total
    /// order, and each acquires what the previous ones published.
    seq_cst: VectorClock,
    /// Joined clocks of the arrivals of each (barrier, generation).
    barriers: HashMap<(u32, u64), VectorClock>,
    /// Where each sent message's clock starts in `message_clocks`.
    messages: HashMap<(u32, u64), usize>,
    /// Published clocks of sent messages, `agents` entries each, in one
    /// buffer so that a send does not allocate.
    message_clocks: Vec<u32>,
    agents: usize,
}

impl Walker {
    pub(crate) fn new(trace: &Trace, edges: Edges) -> Self {
        let (agents, objects) = dimensions(trace);
        let clocks = (0..agents)
            .map(|a| {
                // An agent's first segment is 1, so that tick 0 can mean "no event".
                let mut clock = VectorClock::with_agents(agents);
                clock.set(AgentId(a as u32), 1);
                clock
            })
            .collect();
        Walker {
            edges,
            clocks,
            learned: vec![false; agents],
            objects: vec![ObjectClocks::default(); objects],
            fences: vec![Fences::default(); agents],
            seq_cst: VectorClock::new(),
            barriers: HashMap::new(),
            messages: HashMap::new(),
            message_clocks: Vec::new(),
            agents,
        }
    }

    pub(crate) fn agents(&self) -> usize {
        self.agents
    }

    #[inline]
    pub(crate) fn clock(&self, agent: AgentId) -> &VectorClock {
        &self.clocks[agent.0 as usize]
    }

    /// The current segment number of `agent`.
    #[inline]
    pub(crate) fn tick(&self, agent: AgentId) -> u32 {
        self.clocks[agent.0 as usize].get(agent)
    }

    /// Whether `agent`'s clock learned from another agent since the last
    /// call; clears the flag.
    #[inline]
    pub(crate) fn take_learned(&mut self, agent: AgentId) -> bool {
        std::mem::take(&mut self.learned[agent.0 as usize])
    }

    /// Applies one event's synchronization to the clocks.
    pub(crate) fn step(&mut self, event: &Event) {
        let agent = event.agent;
        let a = agent.0 as usize;
        let all = self.edges == Edges::All;
        match event.action {
            Action::Spawn { child } => {
                let c = child.0 as usize;
                if c != a {
                    // Everything the parent did so far happens-before the child.
                    let (parent, child_clock) = pair_mut(&mut self.clocks, a, c);
                    self.learned[c] |= child_clock.join(parent);
                    self.publish(agent);
                }
            }
            Action::Join { child } => {
                let c = child.0 as usize;
                if c != a {
                    let (parent, child_clock) = pair_mut(&mut self.clocks, a, c);
                    self.learned[a] |= parent.join(child_clock);
                    // The parent read the child's clock without the child
                    // publishing; should the child (wrongly) go on, its later
                    // events must not count as known.
                    child_clock.increment(child);
                }
            }
            Action::LockRelease { lock, mode } if all => {
                self.release_lock(agent, lock, mode);
            }
            Action::LockAcquire { lock, mode } if all => {
                // A write acquire waits for every earlier holder, readers
                // included; a read acquire waits only for earlier writers.
                let object = &self.objects[lock.0 as usize];
                let clock = &mut self.clocks[a];
                let mut learned = clock.join(&object.first);
                if mode == LockMode::Exclusive {
                    learned |= clock.join(&object.second);
                }
                self.learned[a] |= learned;
            }
            Action::CondvarWait { mutex, .. } if all => {
                // Waiting releases the mutex; the wake-up reacquires it with
                // its own LockAcquire.
                self.release_lock(agent, mutex, LockMode::Exclusive);
            }
            Action::CondvarNotify { condvar, .. } if all => {
                self.objects[condvar.0 as usize].first.join(&self.clocks[a]);
                self.publish(agent);
            }
            Action::CondvarWake { condvar, .. } if all => {
                // Joins every notify so far: the one that woke this waiter
                // is among them (a spurious wake-up over-approximates).
                self.acquire_from_object(agent, condvar);
            }
            Action::BarrierArrive {
                barrier,
                generation,
            } => {
                self.barriers
                    .entry((barrier.0, generation))
                    .or_insert_with(|| VectorClock::with_agents(self.agents))
                    .join(&self.clocks[a]);
                self.publish(agent);
            }
            Action::BarrierDepart {
                barrier,
                generation,
            } => {
                if let Some(arrivals) = self.barriers.get(&(barrier.0, generation)) {
                    self.learned[a] |= self.clocks[a].join(arrivals);
                }
            }
            Action::Send { channel, message } => {
                let start = self.message_clocks.len();
                self.message_clocks
                    .extend_from_slice(self.clocks[a].as_slice());
                self.message_clocks.resize(start + self.agents, 0);
                self.messages.insert((channel.0, message), start);
                self.publish(agent);
            }
            Action::Receive { channel, message } => {
                if let Some(&start) = self.messages.get(&(channel.0, message)) {
                    let sent = &self.message_clocks[start..start + self.agents];
                    self.learned[a] |= self.clocks[a].join_slice(sent);
                }
            }
            Action::AtomicLoad { atomic, order, .. } if all => {
                self.atomic_read(agent, atomic, order);
            }
            Action::AtomicStore { atomic, order, .. } if all => {
                let object = &mut self.objects[atomic.0 as usize];
                if order.releases() {
                    // A release store heads a new release sequence.
                    object.first.copy_from(&self.clocks[a]);
                    object.head = Some(agent.0);
                    self.publish(agent);
                } else {
                    // A relaxed store by another agent ends the release
                    // sequence (the head's own relaxed stores continue it).
                    if object.head != Some(agent.0) {
                        object.first.clear();
                        object.head = None;
                    }
                    // After a release fence, a relaxed store publishes the
                    // clock the agent had at the fence.
                    if let Some(fence) = &self.fences[a].release {
                        object.first.join(fence);
                        object.head = Some(agent.0);
                    }
                }
            }
            Action::AtomicRmw { atomic, order } if all => {
                // The read half: reads the latest value in modification order.
                self.atomic_read(agent, atomic, order);
                // The write half continues the release sequence: it joins into
                // the atomic's clock rather than replacing it.
                let object = &mut self.objects[atomic.0 as usize];
                if order.releases() {
                    object.first.join(&self.clocks[a]);
                    object.head = Some(agent.0);
                    self.publish(agent);
                } else if let Some(fence) = &self.fences[a].release {
                    object.first.join(fence);
                }
            }
            Action::Fence { order } if all => {
                let fences = &mut self.fences[a];
                let clock = &mut self.clocks[a];
                let mut learned = false;
                if order.acquires() {
                    // Acquire what earlier relaxed loads read.
                    learned |= clock.join(&fences.acquire);
                }
                if order == MemoryOrder::SeqCst {
                    learned |= clock.join(&self.seq_cst);
                    self.seq_cst.copy_from(clock);
                }
                self.learned[a] |= learned;
                if order.releases() {
                    let at_fence = fences.release.get_or_insert_with(VectorClock::new);
                    at_fence.copy_from(clock);
                    self.publish(agent);
                }
            }
            Action::ResourceRelease { resource, .. } if all => {
                // A counted resource (a semaphore) orders a release before the
                // acquisitions that may have used the released units.
                self.objects[resource.0 as usize]
                    .first
                    .join(&self.clocks[a]);
                self.publish(agent);
            }
            Action::ResourceAcquire { resource, .. } if all => {
                self.acquire_from_object(agent, resource);
            }
            _ => {}
        }
    }

    /// Ends the agent's current segment: what it published covers events up
    /// to here and no further.
    #[inline]
    fn publish(&mut self, agent: AgentId) {
        self.clocks[agent.0 as usize].increment(agent);
    }

    fn release_lock(&mut self, agent: AgentId, lock: ObjectId, mode: LockMode) {
        let object = &mut self.objects[lock.0 as usize];
        let clock = &self.clocks[agent.0 as usize];
        match mode {
            LockMode::Exclusive => object.first.join(clock),
            LockMode::Shared => object.second.join(clock),
        };
        self.publish(agent);
    }

    fn acquire_from_object(&mut self, agent: AgentId, object: ObjectId) {
        let a = agent.0 as usize;
        self.learned[a] |= self.clocks[a].join(&self.objects[object.0 as usize].first);
    }

    /// A load, or the read half of a read-modify-write. "The store it read"
    /// is approximated by the latest store or RMW in trace order, whose
    /// release sequence the atomic's clock holds.
    fn atomic_read(&mut self, agent: AgentId, atomic: ObjectId, order: MemoryOrder) {
        let a = agent.0 as usize;
        let published = &self.objects[atomic.0 as usize].first;
        if order.acquires() {
            self.learned[a] |= self.clocks[a].join(published);
        } else {
            // A relaxed read acquires nothing now, but a later acquire fence
            // of this agent will.
            self.fences[a].acquire.join(published);
        }
    }
}

/// Two distinct elements of a slice, one mutable, one shared.
fn pair_mut<T>(items: &mut [T], first: usize, second: usize) -> (&mut T, &mut T) {
    debug_assert_ne!(first, second);
    if first < second {
        let (left, right) = items.split_at_mut(second);
        (&mut left[first], &mut right[0])
    } else {
        let (left, right) = items.split_at_mut(first);
        (&mut right[0], &mut left[second])
    }
}
