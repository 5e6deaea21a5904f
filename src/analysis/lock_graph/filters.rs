//! Filters for cycles that cannot deadlock.
//!
//! A cycle `l1 → l2 → ... → l1` deadlocks only if, at one moment, a thread
//! per edge holds the edge's first lock and waits for its second. Each edge
//! may have been drawn several ways (its instances); the cycle is kept when
//! some choice of one instance per edge passes every filter, pairwise:
//!
//! 1. **threads**: the instances come from different threads (a thread
//!    cannot wait for itself around a cycle; lockdep reports that as
//!    recursion, here it is a double lock). Unknown threads count as
//!    different from every thread.
//! 2. **gate locks**: no lock is held by two of them unless both hold it
//!    shared: a lock held around both sides (a gate) lets only one in. A
//!    counted gate (a semaphore admitting N) lets in at most N: a choice
//!    whose sides together hold more of it than it has cannot happen.
//! 3. **fork/join order**: neither side's request happens-before the other
//!    side's taking its held lock, in the spawn/join/barrier/channel order
//!    that every interleaving respects.
//! 4. **modes** (lockdep's strong-cycle rule): at every lock of the cycle the
//!    waiter really waits for the holder: one side is exclusive, or a writer
//!    can queue between two readers (some write acquisition of that lock
//!    exists, and the second read is not a recursive-safe one).
//!
//! When no choice passes, the first filter (in that order) that no choice
//! passes is named as the reason.

use super::facts::LockKey;
use super::graph::{Instance, LockGraph};
use crate::event::LockMode;

/// Why a cycle was not reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Suppression {
    /// Every way around the cycle takes two edges from one thread.
    SingleThread { agent: Option<String> },
    /// A lock held on two sides keeps them from running together.
    GateLock { gate: LockKey },
    /// Spawn/join (or a barrier, or a channel) orders the sides.
    ForkJoinOrdered,
    /// Only shared acquisitions meet at some lock, and no writer can queue there.
    SharedOnly { lock: LockKey },
    /// A counted resource held on every side admits fewer holders than the cycle needs.
    CountedGate { resource: LockKey, capacity: u64 },
    /// Suppressed once the locks every caller holds around the acquisitions
    /// are counted as held (the scanner's entry locks).
    HeldByEveryCaller(Box<Suppression>),
}

impl Suppression {
    pub fn describe(&self) -> String {
        match self {
            Suppression::SingleThread { agent: Some(agent) } => {
                format!("every edge of the cycle is taken by {agent}")
            }
            Suppression::SingleThread { agent: None } => {
                "every way around the cycle needs one thread twice".to_string()
            }
            Suppression::GateLock { gate } => {
                format!("`{gate}` is held around the acquisitions on both sides")
            }
            Suppression::ForkJoinOrdered => {
                "spawn/join orders the two sides: they never run at the same time".to_string()
            }
            Suppression::CountedGate { resource, capacity } => format!(
                "`{resource}` admits {capacity} at once, fewer than the threads the cycle needs"
            ),
            Suppression::HeldByEveryCaller(inner) => {
                format!("{} (every caller holds it)", inner.describe())
            }
            Suppression::SharedOnly { lock } => format!(
                "`{lock}` is only read on both sides and never written, so neither side waits there"
            ),
        }
    }
}

/// The outcome for one cycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Reported: the instance chosen for each edge, and why it stays.
    Kept {
        instances: Vec<Instance>,
        notes: Vec<String>,
    },
    Suppressed(Suppression),
}

/// The filters, cumulatively: each level applies the ones before it too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Threads,
    Gates,
    Order,
    Modes,
}

enum Outcome {
    Found(Vec<Instance>),
    None,
    /// The budget ran out before every choice was tried.
    Exhausted,
}

/// How many choices of instances one cycle may try per filter level.
const BUDGET: usize = 20_000;

/// Judges the cycle made of `edges` (ids in `graph`, in cycle order).
pub(crate) fn judge(graph: &LockGraph, edges: &[u32]) -> Verdict {
    let choices = Choices { graph, edges };
    match choices.search(Level::Modes) {
        Outcome::Found(instances) => {
            let notes = vec![choices.why_kept(&instances)];
            Verdict::Kept { instances, notes }
        }
        Outcome::Exhausted => {
            let instances = edges
                .iter()
                .map(|&e| graph.edges[e as usize].instances[0])
                .collect();
            let ways: usize = edges
                .iter()
                .map(|&e| graph.edges[e as usize].instances.len())
                .product();
            let notes = vec![format!(
                "kept to be safe: the {ways} ways these edges were taken were not all checked"
            )];
            Verdict::Kept { instances, notes }
        }
        Outcome::None => Verdict::Suppressed(choices.reason()),
    }
}

struct Choices<'a, 'f> {
    graph: &'a LockGraph<'f>,
    edges: &'a [u32],
}

impl Choices<'_, '_> {
    fn search(&self, level: Level) -> Outcome {
        let mut chosen = Vec::with_capacity(self.edges.len());
        let mut budget = BUDGET;
        match self.extend(level, &mut chosen, &mut budget) {
            Some(true) => Outcome::Found(chosen),
            Some(false) => Outcome::None,
            None => Outcome::Exhausted,
        }
    }

    /// Backtracking: picks an instance for the next edge that agrees with
    /// every one already chosen. Some(found) or None when out of budget.
    fn extend(&self, level: Level, chosen: &mut Vec<Instance>, budget: &mut usize) -> Option<bool> {
        let depth = chosen.len();
        if depth == self.edges.len() {
            // Close the cycle: the last edge's lock is the first edge's held one.
            let closes = level < Level::Modes || self.blocks(chosen[depth - 1], chosen[0]);
            return Some(closes);
        }
        for &candidate in &self.graph.edges[self.edges[depth] as usize].instances {
            if *budget == 0 {
                return None;
            }
            *budget -= 1;
            if level >= Level::Modes && depth > 0 && !self.blocks(chosen[depth - 1], candidate) {
                continue;
            }
            if chosen
                .iter()
                .any(|&other| !self.compatible(level, other, candidate))
            {
                continue;
            }
            if level >= Level::Gates && self.over_capacity(chosen, candidate).is_some() {
                continue;
            }
            chosen.push(candidate);
            if self.extend(level, chosen, budget)? {
                return Some(true);
            }
            chosen.pop();
        }
        Some(false)
    }

    /// Whether two instances (of different edges) can be in their
    /// hold-and-wait state at the same time, as far as `level` checks.
    fn compatible(&self, level: Level, a: Instance, b: Instance) -> bool {
        let fa = &self.graph.facts[a.acquisition];
        let fb = &self.graph.facts[b.acquisition];
        if matches!((&fa.agent, &fb.agent), (Some(x), Some(y)) if x == y) {
            return false;
        }
        if level >= Level::Gates && self.gate(a, b).is_some() {
            return false;
        }
        if level >= Level::Order && self.ordered(a, b) {
            return false;
        }
        true
    }

    /// A counted resource that `chosen` and `candidate` together hold more
    /// units of than it has: they cannot all be where they are at once.
    fn over_capacity(&self, chosen: &[Instance], candidate: Instance) -> Option<(LockKey, u64)> {
        let facts = self.graph.facts;
        facts[candidate.acquisition]
            .permits
            .iter()
            .find_map(|permit| {
                let together: u64 = chosen
                    .iter()
                    .chain(std::iter::once(&candidate))
                    .flat_map(|i| &facts[i.acquisition].permits)
                    .filter(|p| p.resource == permit.resource)
                    .map(|p| p.units)
                    .sum();
                (together > permit.capacity).then(|| (permit.resource.clone(), permit.capacity))
            })
    }

    /// A lock both hold, not both merely for reading.
    fn gate(&self, a: Instance, b: Instance) -> Option<u32> {
        let held_b = &self.graph.held[b.acquisition];
        self.graph.held[a.acquisition]
            .iter()
            .find_map(|&(lock, mode)| {
                held_b
                    .iter()
                    .any(|&(other, other_mode)| {
                        other == lock
                            && (mode == LockMode::Exclusive || other_mode == LockMode::Exclusive)
                    })
                    .then_some(lock)
            })
    }

    /// Whether one side's request happens-before the other side's taking
    /// its held lock (then they never hold-and-wait together).
    fn ordered(&self, a: Instance, b: Instance) -> bool {
        let facts = self.graph.facts;
        let request = |i: Instance| facts[i.acquisition].segment.as_ref();
        let taken = |i: Instance| facts[i.acquisition].held[i.held].segment.as_ref();
        let before = |x: Instance, y: Instance| match (request(x), taken(y)) {
            (Some(r), Some(t)) => r.before(t),
            _ => false,
        };
        before(a, b) || before(b, a)
    }

    /// Whether the waiter (`prev`, acquiring a lock) really waits for the
    /// holder (`next`, holding it).
    fn blocks(&self, prev: Instance, next: Instance) -> bool {
        let waiter = &self.graph.facts[prev.acquisition];
        let held_mode = self.graph.facts[next.acquisition].held[next.held]
            .flavor
            .mode;
        let lock = self.graph.acquired[prev.acquisition] as usize;
        waiter.mode() == LockMode::Exclusive
            || held_mode == LockMode::Exclusive
            || (self.graph.has_writer[lock] && !waiter.flavor.recursive)
    }

    /// The first filter that no choice of instances passes.
    fn reason(&self) -> Suppression {
        let single = match self.search(Level::Threads) {
            Outcome::Found(chosen) => chosen,
            _ => {
                let mut agents = self.edges.iter().flat_map(|&e| {
                    self.graph.edges[e as usize]
                        .instances
                        .iter()
                        .map(|i| self.graph.facts[i.acquisition].agent.clone())
                });
                let first = agents.next().flatten();
                let same = first.is_some() && agents.all(|a| a == first);
                return Suppression::SingleThread {
                    agent: if same { first } else { None },
                };
            }
        };
        if !matches!(self.search(Level::Gates), Outcome::Found(_)) {
            let counted =
                (1..single.len()).find_map(|k| self.over_capacity(&single[..k], single[k]));
            if let Some((resource, capacity)) = counted {
                return Suppression::CountedGate { resource, capacity };
            }
            let gate = single
                .iter()
                .enumerate()
                .find_map(|(i, &a)| single[i + 1..].iter().find_map(|&b| self.gate(a, b)))
                .map(|lock| self.graph.lock(lock).clone())
                .unwrap_or_else(|| LockKey::named("?"));
            return Suppression::GateLock { gate };
        }
        if !matches!(self.search(Level::Order), Outcome::Found(_)) {
            return Suppression::ForkJoinOrdered;
        }
        // Name a lock where only readers meet.
        let lock = self
            .edges
            .iter()
            .map(|&e| self.graph.edges[e as usize].to)
            .find(|&l| !self.graph.has_writer[l as usize])
            .or_else(|| self.edges.first().map(|&e| self.graph.edges[e as usize].to))
            .map(|l| self.graph.lock(l).clone())
            .unwrap_or_else(|| LockKey::named("?"));
        Suppression::SharedOnly { lock }
    }

    /// The note on a kept cycle: each filter, and why it let the cycle through.
    fn why_kept(&self, chosen: &[Instance]) -> String {
        let facts = self.graph.facts;
        let agents: Vec<&str> = chosen
            .iter()
            .filter_map(|i| facts[i.acquisition].agent.as_deref())
            .collect();
        let threads = if agents.len() == chosen.len() {
            format!(
                "the edges come from different threads ({})",
                agents.join(", ")
            )
        } else {
            "the threads are not known, so the edges count as different threads".to_string()
        };
        let all_segments = chosen.iter().all(|i| {
            let f = &facts[i.acquisition];
            f.segment.is_some() && f.held[i.held].segment.is_some()
        });
        let order = if all_segments {
            "spawn/join does not order them, so they can run at the same time"
        } else {
            "no spawn/join order is known between them"
        };
        let mut readers = Vec::new();
        for (k, &prev) in chosen.iter().enumerate() {
            let next = chosen[(k + 1) % chosen.len()];
            let waiter = facts[prev.acquisition].mode();
            let holder = facts[next.acquisition].held[next.held].flavor.mode;
            if waiter == LockMode::Shared && holder == LockMode::Shared {
                let lock = self.graph.lock(self.graph.acquired[prev.acquisition]);
                readers.push(format!("`{lock}`"));
            }
        }
        let modes = if readers.is_empty() {
            "at every lock one side is exclusive, so the other waits".to_string()
        } else {
            format!(
                "{} is read on both sides, but a writer queued between the readers makes the second read wait",
                readers.join(" and ")
            )
        };
        format!("reported because {threads}; no gate lock is held on two sides; {order}; {modes}")
    }
}
