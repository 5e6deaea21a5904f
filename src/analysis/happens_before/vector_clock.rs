//! Vector clocks and epochs.
//!
//! A vector clock maps every agent to how much of that agent's history is
//! known: entry `a` of the clock of some event is the number of the last
//! *segment* of agent `a` that happens-before the event. An agent's history is
//! cut into segments at each point where it publishes what it knows (a lock
//! release, a spawn, a send, a release store, ...): everything the agent does
//! between two such points is learned by the others as one block, so one
//! number per segment is enough.
//!
//! An [`Epoch`] is the compact name of one event's segment, `tick@agent`
//! (FastTrack's epoch): the event happens-before a later event whose clock
//! `c` has `c[agent] >= tick`. Comparing an epoch against a clock is O(1),
//! which is what makes race detection on plain reads and writes cheap.

use crate::event::AgentId;
use std::fmt;

/// One agent's segment: `tick@agent`. Tick 0 means "nothing" and is known by
/// every clock, so an empty epoch never races.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Epoch {
    pub agent: u32,
    pub tick: u32,
}

impl Epoch {
    /// The epoch that every clock knows.
    pub const NONE: Epoch = Epoch { agent: 0, tick: 0 };

    pub fn new(agent: AgentId, tick: u32) -> Self {
        Epoch {
            agent: agent.0,
            tick,
        }
    }

    pub fn agent(self) -> AgentId {
        AgentId(self.agent)
    }

    pub fn is_none(self) -> bool {
        self.tick == 0
    }

    /// Whether this segment happens-before (or is) what `clock` describes.
    #[inline]
    pub fn le(self, clock: &VectorClock) -> bool {
        self.tick <= clock.get(self.agent())
    }
}

impl fmt::Display for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.tick, self.agent)
    }
}

/// A dense vector clock indexed by [`AgentId`]. Missing entries are 0, so
/// clocks of different lengths compare and join as if padded with zeros.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct VectorClock {
    ticks: Vec<u32>,
}

impl VectorClock {
    /// The clock that knows nothing.
    pub fn new() -> Self {
        VectorClock::default()
    }

    /// A zero clock with room for `agents` entries (no reallocation on join
    /// with clocks of that length).
    pub fn with_agents(agents: usize) -> Self {
        VectorClock {
            ticks: vec![0; agents],
        }
    }

    pub fn from_ticks(ticks: Vec<u32>) -> Self {
        VectorClock { ticks }
    }

    pub fn as_slice(&self) -> &[u32] {
        &self.ticks
    }

    pub fn len(&self) -> usize {
        self.ticks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ticks.is_empty()
    }

    #[inline]
    pub fn get(&self, agent: AgentId) -> u32 {
        self.ticks.get(agent.0 as usize).copied().unwrap_or(0)
    }

    pub fn set(&mut self, agent: AgentId, tick: u32) {
        let i = agent.0 as usize;
        if i >= self.ticks.len() {
            self.ticks.resize(i + 1, 0);
        }
        self.ticks[i] = tick;
    }

    /// Starts a new segment of `agent` and returns its tick.
    #[inline]
    pub fn increment(&mut self, agent: AgentId) -> u32 {
        let i = agent.0 as usize;
        if i >= self.ticks.len() {
            self.ticks.resize(i + 1, 0);
        }
        self.ticks[i] += 1;
        self.ticks[i]
    }

    /// The epoch of `agent`'s current segment.
    pub fn epoch(&self, agent: AgentId) -> Epoch {
        Epoch::new(agent, self.get(agent))
    }

    /// Pointwise maximum: afterwards this clock knows everything `other`
    /// knew. Returns whether anything was learned.
    #[inline]
    pub fn join(&mut self, other: &VectorClock) -> bool {
        self.join_slice(&other.ticks)
    }

    /// [`join`](Self::join) with a clock stored as a plain slice.
    #[inline]
    pub fn join_slice(&mut self, other: &[u32]) -> bool {
        if other.len() > self.ticks.len() {
            self.ticks.resize(other.len(), 0);
        }
        let mut learned = false;
        for (mine, &theirs) in self.ticks.iter_mut().zip(other) {
            if theirs > *mine {
                *mine = theirs;
                learned = true;
            }
        }
        learned
    }

    /// Makes this clock a copy of `other`, reusing its allocation.
    pub fn copy_from(&mut self, other: &VectorClock) {
        self.ticks.clear();
        self.ticks.extend_from_slice(&other.ticks);
    }

    /// Forgets everything (all zeros), keeping the allocation.
    pub fn clear(&mut self) {
        self.ticks.iter_mut().for_each(|t| *t = 0);
    }

    /// Pointwise `<=`: everything this clock knows, `other` knows too.
    pub fn le(&self, other: &VectorClock) -> bool {
        self.ticks
            .iter()
            .enumerate()
            .all(|(i, &t)| t <= other.ticks.get(i).copied().unwrap_or(0))
    }

    /// Strict happens-before between the events these clocks describe:
    /// `self <= other` and they differ.
    pub fn happens_before(&self, other: &VectorClock) -> bool {
        self.le(other) && !other.le(self)
    }

    /// Neither clock knows the other: the events may run in either order.
    pub fn concurrent(&self, other: &VectorClock) -> bool {
        !self.le(other) && !other.le(self)
    }
}

impl fmt::Display for VectorClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, t) in self.ticks.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{t}")?;
        }
        f.write_str("]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vc(ticks: &[u32]) -> VectorClock {
        VectorClock::from_ticks(ticks.to_vec())
    }

    #[test]
    fn join_is_the_pointwise_maximum_and_says_whether_it_learned() {
        let mut a = vc(&[1, 5, 0]);
        assert!(a.join(&vc(&[3, 2, 0, 7])));
        assert_eq!(a, vc(&[3, 5, 0, 7]));
        assert!(!a.join(&vc(&[1, 1])));
    }

    #[test]
    fn missing_entries_count_as_zero() {
        assert!(vc(&[1]).le(&vc(&[1, 0, 0])));
        assert!(vc(&[1, 0, 0]).le(&vc(&[1])));
        assert_eq!(vc(&[]).get(AgentId(9)), 0);
    }

    #[test]
    fn ordering_is_a_partial_order() {
        let a = vc(&[1, 0]);
        let b = vc(&[1, 1]);
        let c = vc(&[0, 2]);
        assert!(a.happens_before(&b));
        assert!(!b.happens_before(&a));
        assert!(!a.happens_before(&a));
        assert!(a.concurrent(&c));
        assert!(!a.concurrent(&b));
    }

    #[test]
    fn increment_starts_a_new_segment() {
        let mut a = VectorClock::new();
        assert_eq!(a.increment(AgentId(2)), 1);
        assert_eq!(a.increment(AgentId(2)), 2);
        assert_eq!(a.epoch(AgentId(2)), Epoch::new(AgentId(2), 2));
        assert_eq!(a, vc(&[0, 0, 2]));
    }

    #[test]
    fn an_epoch_is_known_once_its_tick_is_reached() {
        let e = Epoch::new(AgentId(1), 3);
        assert!(!e.le(&vc(&[9, 2])));
        assert!(e.le(&vc(&[0, 3])));
        assert!(Epoch::NONE.le(&VectorClock::new()));
    }

    #[test]
    fn copy_and_clear_keep_the_shape() {
        let mut a = vc(&[4, 4]);
        a.copy_from(&vc(&[1, 2, 3]));
        assert_eq!(a, vc(&[1, 2, 3]));
        a.clear();
        assert_eq!(a, vc(&[0, 0, 0]));
        assert_eq!(a.to_string(), "[0, 0, 0]");
    }
}
