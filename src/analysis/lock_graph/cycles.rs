//! Bounded search for the elementary cycles of the lock graph.
//!
//! A graph can have exponentially many elementary cycles, so the search is
//! bounded three ways, and says when a bound cut it short:
//!
//! - only strongly connected components of two or more locks can hold a
//!   cycle, and a cycle never leaves its component;
//! - cycles of two locks (the common ABBA inversion) are all found, by
//!   looking up the reverse of every edge: O(edges · log degree);
//! - longer cycles are found by depth-first search, shortest first (all
//!   cycles of length 3, then 4, ... up to [`SearchLimits::max_length`]),
//!   each rooted at its smallest lock so that it is found once; every edge
//!   the search looks at counts against [`SearchLimits::max_steps`], and the
//!   search stops after [`SearchLimits::max_cycles`] cycles.
//!
//! The work is thus at most `max_steps` after an O(locks + edges) setup,
//! whatever the graph.

use super::graph::{LockGraph, NO_COMPONENT};

/// How far the cycle search may go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SearchLimits {
    /// The longest cycle looked for, in locks. Deadlocks of more than a few
    /// threads are rare, and each extra lock multiplies the search.
    pub max_length: usize,
    /// Stop after this many cycles (kept or filtered out).
    pub max_cycles: usize,
    /// Stop after looking at this many edges in the depth-first search.
    pub max_steps: usize,
}

impl Default for SearchLimits {
    fn default() -> Self {
        SearchLimits {
            max_length: 6,
            max_cycles: 10_000,
            max_steps: 5_000_000,
        }
    }
}

/// What the search covered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchStats {
    pub locks: usize,
    pub edges: usize,
    /// Strongly connected components of two or more locks.
    pub components: usize,
    pub largest_component: usize,
    /// Cycles found (before filtering).
    pub cycles: usize,
    /// Edges looked at by the depth-first search.
    pub steps: usize,
    /// Whether a limit stopped the search before it had seen every cycle
    /// up to `max_length`.
    pub truncated: bool,
}

/// The elementary cycles of `graph` within `limits`, each as the edge ids
/// around it, starting from the edge that leaves its smallest lock.
pub(crate) fn find_cycles(
    graph: &LockGraph,
    limits: &SearchLimits,
    stats: &mut SearchStats,
) -> Vec<Vec<u32>> {
    let n = graph.lock_count();
    stats.locks = n;
    stats.edges = graph.edge_count();

    stats.components = graph.components;
    stats.largest_component = graph.largest_component;
    let component = &graph.component;

    let adjacency = Adjacency::within_components(graph, component);
    let mut search = Search {
        adjacency: &adjacency,
        limits,
        stats,
        cycles: Vec::new(),
        on_path: vec![false; n],
    };
    search.two_cycles(n);
    for length in 3..=limits.max_length {
        if search.stats.truncated {
            break;
        }
        for start in 0..n as u32 {
            if component[start as usize] == NO_COMPONENT {
                continue;
            }
            if !search.cycles_of_length(start, length) {
                break;
            }
        }
    }
    search.stats.cycles = search.cycles.len();
    search.cycles
}

/// Edges inside components, grouped by source and sorted by target
/// (compressed rows: the targets of lock `u` are `out[start[u]..start[u+1]]`).
struct Adjacency {
    start: Vec<usize>,
    /// (target lock, edge id)
    out: Vec<(u32, u32)>,
}

impl Adjacency {
    fn within_components(graph: &LockGraph, component: &[u32]) -> Self {
        let n = component.len();
        let inside = |from: u32, to: u32| {
            let c = component[from as usize];
            c != NO_COMPONENT && c == component[to as usize]
        };
        let mut start = vec![0usize; n + 1];
        for e in &graph.edges {
            if inside(e.from, e.to) {
                start[e.from as usize + 1] += 1;
            }
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut out = vec![(0, 0); start[n]];
        for (id, e) in graph.edges.iter().enumerate() {
            if inside(e.from, e.to) {
                out[fill[e.from as usize]] = (e.to, id as u32);
                fill[e.from as usize] += 1;
            }
        }
        for u in 0..n {
            out[start[u]..start[u + 1]].sort_unstable();
        }
        Adjacency { start, out }
    }

    fn of(&self, lock: u32) -> &[(u32, u32)] {
        &self.out[self.start[lock as usize]..self.start[lock as usize + 1]]
    }

    /// The edge `from → to`, if there is one inside a component.
    fn edge(&self, from: u32, to: u32) -> Option<u32> {
        let out = self.of(from);
        out.binary_search_by_key(&to, |&(t, _)| t)
            .ok()
            .map(|i| out[i].1)
    }
}

struct Search<'a> {
    adjacency: &'a Adjacency,
    limits: &'a SearchLimits,
    stats: &'a mut SearchStats,
    cycles: Vec<Vec<u32>>,
    on_path: Vec<bool>,
}

impl Search<'_> {
    /// Records a cycle; false once the cycle limit is reached.
    fn record(&mut self, cycle: Vec<u32>) -> bool {
        if self.cycles.len() >= self.limits.max_cycles {
            self.stats.truncated = true;
            return false;
        }
        self.cycles.push(cycle);
        true
    }

    fn two_cycles(&mut self, n: usize) {
        if self.limits.max_length < 2 {
            return;
        }
        for u in 0..n as u32 {
            for &(v, forward) in self.adjacency.of(u) {
                if v <= u {
                    continue;
                }
                if let Some(back) = self.adjacency.edge(v, u) {
                    if !self.record(vec![forward, back]) {
                        return;
                    }
                }
            }
        }
    }

    /// All cycles of exactly `length` locks whose smallest lock is `start`.
    /// False when a limit stopped the search.
    fn cycles_of_length(&mut self, start: u32, length: usize) -> bool {
        let adjacency = self.adjacency;
        // Only locks above `start` may be on the path: a cycle through a
        // smaller lock was found from that lock.
        let first_above = |lock: u32| {
            let out = adjacency.of(lock);
            out.partition_point(|&(t, _)| t < start)
        };
        let mut nodes = vec![start];
        let mut edges: Vec<u32> = Vec::with_capacity(length);
        let mut cursors = vec![first_above(start)];
        self.on_path[start as usize] = true;
        let mut ok = true;
        while let Some(cursor) = cursors.last_mut() {
            let u = *nodes.last().unwrap_or(&start);
            let out = adjacency.of(u);
            if *cursor == out.len() {
                cursors.pop();
                self.on_path[u as usize] = false;
                nodes.pop();
                edges.pop();
                continue;
            }
            let (v, e) = out[*cursor];
            *cursor += 1;
            self.stats.steps += 1;
            if self.stats.steps > self.limits.max_steps {
                self.stats.truncated = true;
                ok = false;
                break;
            }
            if v == start {
                if edges.len() + 1 == length {
                    let mut cycle = edges.clone();
                    cycle.push(e);
                    if !self.record(cycle) {
                        ok = false;
                        break;
                    }
                }
                continue;
            }
            if self.on_path[v as usize] || edges.len() + 1 >= length {
                continue;
            }
            self.on_path[v as usize] = true;
            nodes.push(v);
            edges.push(e);
            cursors.push(first_above(v));
        }
        for &u in &nodes {
            self.on_path[u as usize] = false;
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::lock_graph::facts::{Acquisition, Held, LockKey};
    use crate::event::{LockMode, Site};

    fn edge(from: &str, to: &str) -> Acquisition {
        let site = Site::new("c.rs", 1, 1);
        Acquisition::new(LockKey::named(to), LockMode::Exclusive, site.clone()).holding(Held::new(
            LockKey::named(from),
            LockMode::Exclusive,
            site,
        ))
    }

    fn cycles_of(pairs: &[(&str, &str)], limits: SearchLimits) -> (Vec<Vec<String>>, SearchStats) {
        let facts: Vec<_> = pairs.iter().map(|(a, b)| edge(a, b)).collect();
        let graph = LockGraph::build(&facts);
        let mut stats = SearchStats::default();
        let cycles = find_cycles(&graph, &limits, &mut stats)
            .into_iter()
            .map(|c| c.iter().map(|&e| graph.edge(e).0.name.clone()).collect())
            .collect();
        (cycles, stats)
    }

    #[test]
    fn finds_each_elementary_cycle_once_shortest_first() {
        let (cycles, stats) = cycles_of(
            &[("a", "b"), ("b", "a"), ("b", "c"), ("c", "a"), ("c", "d")],
            SearchLimits::default(),
        );
        assert_eq!(cycles, vec![vec!["a", "b"], vec!["a", "b", "c"]]);
        assert_eq!(stats.components, 1);
        assert_eq!(stats.largest_component, 3);
        assert_eq!(stats.cycles, 2);
        assert!(!stats.truncated);
    }

    #[test]
    fn acyclic_graphs_have_no_cycles_and_cost_no_search() {
        let (cycles, stats) = cycles_of(
            &[("a", "b"), ("b", "c"), ("a", "c")],
            SearchLimits::default(),
        );
        assert!(cycles.is_empty());
        assert_eq!(stats.components, 0);
        assert_eq!(stats.steps, 0);
    }

    #[test]
    fn the_length_bound_is_respected() {
        let ring = [("a", "b"), ("b", "c"), ("c", "d"), ("d", "a")];
        let limits = SearchLimits {
            max_length: 3,
            ..SearchLimits::default()
        };
        let (cycles, _) = cycles_of(&ring, limits);
        assert!(cycles.is_empty());
        let (cycles, _) = cycles_of(&ring, SearchLimits::default());
        assert_eq!(cycles, vec![vec!["a", "b", "c", "d"]]);
    }

    #[test]
    fn the_cycle_and_step_bounds_truncate_and_say_so() {
        // A complete graph on 8 locks has thousands of elementary cycles.
        let names: Vec<String> = (0..8).map(|i| format!("l{i}")).collect();
        let mut pairs = Vec::new();
        for a in &names {
            for b in &names {
                if a != b {
                    pairs.push((a.as_str(), b.as_str()));
                }
            }
        }
        let limits = SearchLimits {
            max_cycles: 50,
            ..SearchLimits::default()
        };
        let (cycles, stats) = cycles_of(&pairs, limits);
        assert_eq!(cycles.len(), 50);
        assert!(stats.truncated);
        let limits = SearchLimits {
            max_steps: 100,
            ..SearchLimits::default()
        };
        let (cycles, stats) = cycles_of(&pairs, limits);
        assert!(cycles.len() >= 28);
        assert!(
            cycles[..28].iter().all(|c| c.len() == 2),
            "every two-lock cycle, found without search"
        );
        assert!(stats.truncated && stats.steps <= 101);
    }

    /// Every simple cycle of a small graph, by brute force: each sequence of
    /// distinct locks starting at its smallest whose consecutive pairs (and
    /// last-to-first) are edges.
    fn brute_force(n: usize, edges: &[(usize, usize)]) -> Vec<Vec<usize>> {
        fn extend(
            path: &mut Vec<usize>,
            n: usize,
            edges: &[(usize, usize)],
            out: &mut Vec<Vec<usize>>,
        ) {
            let last = *path.last().unwrap();
            if path.len() >= 2 && edges.contains(&(last, path[0])) {
                out.push(path.clone());
            }
            for next in path[0] + 1..n {
                if !path.contains(&next) && edges.contains(&(last, next)) {
                    path.push(next);
                    extend(path, n, edges, out);
                    path.pop();
                }
            }
        }
        let mut out = Vec::new();
        for start in 0..n {
            extend(&mut vec![start], n, edges, &mut out);
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn finds_exactly_the_simple_cycles_of_small_graphs(
            pairs in proptest::collection::vec((0usize..6, 0usize..6), 0..20)
        ) {
            let mut pairs: Vec<_> = pairs.into_iter().filter(|(a, b)| a != b).collect();
            pairs.sort();
            pairs.dedup();
            let names: Vec<String> = (0..6).map(|i| format!("l{i}")).collect();
            // Make lock i the i-th interned lock, whatever the edges.
            let mut facts: Vec<_> = names
                .iter()
                .map(|n| Acquisition::new(LockKey::named(n.clone()), LockMode::Exclusive, Site::unknown()))
                .collect();
            facts.extend(pairs.iter().map(|&(a, b)| edge(&names[a], &names[b])));
            let graph = LockGraph::build(&facts);
            let mut stats = SearchStats::default();
            let mut found: Vec<Vec<usize>> = find_cycles(&graph, &SearchLimits::default(), &mut stats)
                .iter()
                .map(|c| c.iter().map(|&e| graph.edges[e as usize].from as usize).collect())
                .collect();
            let mut expected = brute_force(6, &pairs);
            found.sort();
            expected.sort();
            proptest::prop_assert_eq!(found, expected);
            proptest::prop_assert!(!stats.truncated);
        }
    }
}
