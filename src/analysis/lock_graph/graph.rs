//! The lock-acquisition graph: an edge `a → b` for every acquisition of `b`
//! made while `a` was held.
//!
//! Locks are interned to dense numbers so that the cycle search and the
//! filters compare integers, not names. Each edge keeps its *instances*: the
//! distinct ways it was drawn (thread, sites, modes, the other locks held,
//! fork/join segments). A loop that takes `a` then `b` a million times draws
//! one instance, not a million: instances that agree on all of those are the
//! same for every filter.

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

// Fx, not SipHash: building the graph hashes every acquisition's lock
// names and edge keys, and SipHash's resistance to chosen keys (which the
// analysis does not face) was most of the build time.
use rustc_hash::{FxHashMap, FxHashSet};

use super::facts::{Acquisition, LockKey, Segment};
use crate::event::{LockMode, Site};

/// One way an edge was drawn: acquisition `acquisition` (an index into the
/// facts) while holding its `held`th lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Instance {
    pub acquisition: usize,
    pub held: usize,
}

/// An edge `from → to` between interned locks, with its distinct instances.
#[derive(Clone, Debug)]
pub(crate) struct Edge {
    pub from: u32,
    pub to: u32,
    pub instances: Vec<Instance>,
}

/// The component of a lock that is on no cycle.
pub(crate) const NO_COMPONENT: u32 = u32::MAX;

/// The graph over one set of facts.
pub struct LockGraph<'f> {
    pub(crate) facts: &'f [Acquisition],
    /// Interned lock → its key.
    pub(crate) locks: Vec<&'f LockKey>,
    /// Per acquisition: the interned lock it takes.
    pub(crate) acquired: Vec<u32>,
    /// Per acquisition: the interned locks it held, with their modes.
    pub(crate) held: Vec<Vec<(u32, LockMode)>>,
    pub(crate) edges: Vec<Edge>,
    /// Per lock: whether some acquisition takes it exclusively, so that a
    /// writer can queue at it.
    pub(crate) has_writer: Vec<bool>,
    /// Per lock: its strongly connected component of two or more locks, or
    /// [`NO_COMPONENT`] when it is on no cycle.
    pub(crate) component: Vec<u32>,
    pub(crate) components: usize,
    pub(crate) largest_component: usize,
}

/// What makes two instances of one edge the same for every filter.
#[derive(PartialEq, Eq, Hash)]
struct InstanceKey<'f> {
    agent: Option<&'f str>,
    held_site: &'f Site,
    held_mode: LockMode,
    held_segment: Option<&'f Segment>,
    site: &'f Site,
    mode: LockMode,
    segment: Option<&'f Segment>,
    recursive: bool,
    others: &'f [(u32, LockMode)],
}

impl<'f> LockGraph<'f> {
    pub fn build(facts: &'f [Acquisition]) -> Self {
        let mut ids: FxHashMap<&'f LockKey, u32> =
            FxHashMap::with_capacity_and_hasher(facts.len().min(1 << 16), Default::default());
        let mut locks: Vec<&'f LockKey> = Vec::new();
        let mut intern = |key: &'f LockKey| {
            *ids.entry(key).or_insert_with(|| {
                locks.push(key);
                (locks.len() - 1) as u32
            })
        };
        let mut acquired = Vec::with_capacity(facts.len());
        let mut held = Vec::with_capacity(facts.len());
        for fact in facts {
            // Held locks first, so that locks are numbered in the order a
            // reader meets them ("`a`, then `b` inside it").
            held.push(
                fact.held
                    .iter()
                    .map(|h| (intern(&h.lock), h.flavor.mode))
                    .collect::<Vec<_>>(),
            );
            acquired.push(intern(&fact.lock));
        }

        let mut has_writer = vec![false; locks.len()];
        for (i, fact) in facts.iter().enumerate() {
            has_writer[acquired[i] as usize] |= fact.mode() == LockMode::Exclusive;
            for &(lock, mode) in &held[i] {
                has_writer[lock as usize] |= mode == LockMode::Exclusive;
            }
        }

        let mut edges: Vec<Edge> = Vec::new();
        let mut edge_ids: FxHashMap<(u32, u32), u32> = FxHashMap::default();
        for (i, fact) in facts.iter().enumerate() {
            // A try-lock never waits, so it is never the waiting side of a
            // cycle; what it holds afterwards is recorded by later facts.
            if !fact.flavor.blocking {
                continue;
            }
            let to = acquired[i];
            for (j, &(from, _)) in held[i].iter().enumerate() {
                if from == to {
                    continue; // re-locking a held lock: a double lock, not an order
                }
                let id = *edge_ids.entry((from, to)).or_insert_with(|| {
                    edges.push(Edge {
                        from,
                        to,
                        instances: Vec::new(),
                    });
                    (edges.len() - 1) as u32
                });
                edges[id as usize].instances.push(Instance {
                    acquisition: i,
                    held: j,
                });
            }
        }

        // Node `i` is lock `i`: only its strongly connected components are kept.
        let mut graph = DiGraph::<u32, u32>::with_capacity(locks.len(), edges.len());
        for lock in 0..locks.len() {
            graph.add_node(lock as u32);
        }
        for (id, edge) in edges.iter().enumerate() {
            graph.add_edge(
                NodeIndex::new(edge.from as usize),
                NodeIndex::new(edge.to as usize),
                id as u32,
            );
        }

        // Only edges inside a strongly connected component can be on a
        // cycle; only their instances are ever judged, so only they are
        // deduplicated (hashing every instance was most of the build).
        let mut component = vec![NO_COMPONENT; locks.len()];
        let mut components = 0;
        let mut largest_component = 0;
        for scc in tarjan_scc(&graph) {
            if scc.len() < 2 {
                continue;
            }
            for node in &scc {
                component[node.index()] = components as u32;
            }
            components += 1;
            largest_component = largest_component.max(scc.len());
        }
        let mut seen: FxHashSet<InstanceKey<'_>> = FxHashSet::default();
        for edge in &mut edges {
            let c = component[edge.from as usize];
            if c == NO_COMPONENT || c != component[edge.to as usize] || edge.instances.len() < 2 {
                continue;
            }
            seen.clear();
            edge.instances.retain(
                |&Instance {
                     acquisition: i,
                     held: j,
                 }| {
                    let fact = &facts[i];
                    let h = &fact.held[j];
                    seen.insert(InstanceKey {
                        agent: fact.agent.as_deref(),
                        held_site: &h.site,
                        held_mode: h.flavor.mode,
                        held_segment: h.segment.as_ref(),
                        site: &fact.site,
                        mode: fact.mode(),
                        segment: fact.segment.as_ref(),
                        recursive: fact.flavor.recursive,
                        others: &held[i],
                    })
                },
            );
        }
        drop(seen);

        LockGraph {
            facts,
            locks,
            acquired,
            held,
            edges,
            has_writer,
            component,
            components,
            largest_component,
        }
    }

    pub fn lock_count(&self) -> usize {
        self.locks.len()
    }

    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    pub fn lock(&self, node: u32) -> &'f LockKey {
        self.locks[node as usize]
    }

    /// Edge `id`: the held lock, the acquired lock, and the distinct
    /// instances that drew it.
    pub fn edge(&self, id: u32) -> (&'f LockKey, &'f LockKey, &[Instance]) {
        let e = &self.edges[id as usize];
        (self.lock(e.from), self.lock(e.to), &e.instances)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::lock_graph::facts::Held;

    fn at(line: u32) -> Site {
        Site::new("g.rs", line, 1)
    }

    fn nested(outer: &str, inner: &str, agent: &str, line: u32) -> Acquisition {
        Acquisition::new(LockKey::named(inner), LockMode::Exclusive, at(line + 1))
            .by(agent)
            .holding(Held::new(
                LockKey::named(outer),
                LockMode::Exclusive,
                at(line),
            ))
    }

    #[test]
    fn edges_go_from_each_held_lock_to_the_acquired_one() {
        let facts = vec![
            nested("a", "b", "t1", 10),
            nested("a", "b", "t1", 10),
            nested("a", "b", "t2", 10),
            nested("b", "c", "t1", 20).holding(Held::new(
                LockKey::named("a"),
                LockMode::Exclusive,
                at(5),
            )),
        ];
        let g = LockGraph::build(&facts);
        assert_eq!(g.lock_count(), 3);
        let edges: Vec<_> = (0..g.edge_count() as u32)
            .map(|i| {
                let (from, to, instances) = g.edge(i);
                (from.name.as_str(), to.name.as_str(), instances.len())
            })
            .collect();
        // Off any cycle, repeated instances are left as they are.
        assert_eq!(edges, vec![("a", "b", 3), ("b", "c", 1), ("a", "c", 1)]);
        assert!(g.has_writer.iter().all(|&w| w));
        assert_eq!(g.components, 0);
    }

    #[test]
    fn instances_on_a_cycle_are_kept_once_per_distinct_way() {
        let facts = vec![
            nested("a", "b", "t1", 10),
            nested("a", "b", "t1", 10),
            nested("a", "b", "t2", 10),
            nested("b", "a", "t2", 20),
        ];
        let g = LockGraph::build(&facts);
        assert_eq!(g.edge(0).2.len(), 2);
        assert_eq!((g.components, g.largest_component), (1, 2));
        assert_eq!(g.component[0], g.component[1]);
    }

    #[test]
    fn try_locks_and_relocks_draw_no_edge() {
        let mut try_lock = nested("a", "b", "t1", 10);
        try_lock.flavor.blocking = false;
        let facts = vec![try_lock, nested("a", "a", "t1", 20)];
        let g = LockGraph::build(&facts);
        assert_eq!(g.edge_count(), 0);
    }
}
