//! Lock-order inversions as findings: one per strongly connected group of
//! locks, whatever the number of elementary cycles inside it.
//!
//! Four locks taken in a few inconsistent orders make many overlapping
//! cycles, yet one fix (one global order for the group) ends them all: one
//! finding per group, headed by its shortest kept cycle (the interleaving
//! told in the trace), listing where every other edge of a kept cycle was
//! drawn.

use std::collections::HashSet;

use super::facts::Acquisition;
use super::graph::{Instance, LockGraph};
use super::relock::path_locations;
use super::sentences::{cycle_help, cycle_message, cycle_path, quoted_list, verb, who};
use crate::event::Site;
use crate::finding::{Finding, Kind, TraceStep};

/// A kept cycle: its edges (ids in the graph, in cycle order), the
/// instance chosen for each, and why it was kept.
pub(crate) struct KeptCycle<'a> {
    pub edges: &'a [u32],
    pub instances: &'a [Instance],
    pub notes: &'a [String],
}

/// Other cycles named in a group's note, at most.
const CYCLES_NAMED: usize = 5;
/// Locks of a group named in its message, at most.
const LOCKS_NAMED: usize = 8;
/// Edges of a group whose places are listed, at most: past that a reader
/// needs the order, not every place.
const EDGES_LISTED: usize = 64;

/// One finding per strongly connected group of the kept cycles, in the
/// order the search found them (shortest first, so each group's first is
/// its headline).
pub(crate) fn inversion_findings(graph: &LockGraph, kept: &[KeptCycle]) -> Vec<Finding> {
    let mut groups: Vec<(u32, Vec<&KeptCycle>)> = Vec::new();
    for cycle in kept {
        let component = graph.component[graph.edges[cycle.edges[0] as usize].from as usize];
        match groups.iter_mut().find(|(c, _)| *c == component) {
            Some((_, members)) => members.push(cycle),
            None => groups.push((component, vec![cycle])),
        }
    }
    groups
        .into_iter()
        .map(|(_, members)| group_finding(graph, &members))
        .collect()
}

fn group_finding(graph: &LockGraph, members: &[&KeptCycle]) -> Finding {
    let headline = members[0];
    let (edges, instances) = from_first_asked(graph, headline);
    let names = lock_names(graph, &edges);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    // Every lock of the group's kept cycles, as a reader meets them.
    let mut all: Vec<u32> = Vec::new();
    let mut in_all = vec![false; graph.lock_count()];
    for cycle in members {
        for &e in cycle.edges {
            let from = graph.edges[e as usize].from;
            if !std::mem::replace(&mut in_all[from as usize], true) {
                all.push(from);
            }
        }
    }
    // A group of hundreds of locks is named by its first few.
    let named: Vec<String> = all
        .iter()
        .take(LOCKS_NAMED)
        .map(|&l| graph.lock(l).to_string())
        .collect();
    let named: Vec<&str> = named.iter().map(String::as_str).collect();
    let among = if all.len() > LOCKS_NAMED {
        format!("{} locks: {}, ...", all.len(), named.join(", "))
    } else {
        quoted_list(&named)
    };
    let mut message = cycle_message(&names);
    if members.len() > 1 {
        message.push_str(&format!(
            " (the shortest of {} cycles among {among})",
            members.len()
        ));
    }
    let mut finding = Finding::new(Kind::LockOrderInversion, message);
    let mut held_steps = Vec::new();
    let mut wait_steps = Vec::new();
    let mut told_edges: HashSet<u32> = HashSet::new();
    for (&edge, &instance) in edges.iter().zip(&instances) {
        finding = edge_locations(finding, graph, instance);
        told_edges.insert(edge);
        let fact = &graph.facts[instance.acquisition];
        let held = &fact.held[instance.held];
        let agent = who(&fact.agent);
        held_steps.push(TraceStep::new(
            agent,
            format!("{} `{}`", verb(held.flavor.mode), held.lock),
            &held.site,
        ));
        let via = match fact.path.first() {
            Some(call) => format!(" (in `{}`)", call.callee),
            None => String::new(),
        };
        wait_steps.push(
            TraceStep::new(
                agent,
                format!("wait to {} `{}`{via}", verb(fact.mode()), fact.lock),
                &fact.site,
            )
            .highlighted(),
        );
    }
    // Where each other edge of the group was drawn: each must go for the
    // group to be free of deadlock.
    let mut untold = 0;
    for cycle in &members[1..] {
        for (&edge, &instance) in cycle.edges.iter().zip(cycle.instances) {
            if told_edges.insert(edge) {
                if told_edges.len() <= EDGES_LISTED {
                    finding = edge_locations(finding, graph, instance);
                } else {
                    untold += 1;
                }
            }
        }
    }
    let help = if all.len() > LOCKS_NAMED {
        format!(
            "pick one global order for these {} locks and take them in that order everywhere, \
             or take them together under one lock",
            all.len()
        )
    } else {
        cycle_help(&named)
    };
    finding = finding
        .with_trace(held_steps.into_iter().chain(wait_steps).collect())
        .with_help(help);
    if untold > 0 {
        finding = finding.with_note(format!(
            "the group has {} more lock-order edges than the {EDGES_LISTED} listed",
            untold
        ));
    }
    for note in headline.notes {
        finding = finding.with_note(note.clone());
    }
    if members.len() > 1 {
        let others: Vec<String> = members[1..]
            .iter()
            .take(CYCLES_NAMED)
            .map(|cycle| {
                let names = lock_names(graph, cycle.edges);
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                cycle_path(&names)
            })
            .collect();
        let more = members.len() - 1 - others.len();
        finding = finding.with_note(format!(
            "the same locks also close {}: {}{}; one global order for the group ends them all",
            crate::finding::plural((members.len() - 1) as u64, "other cycle", "other cycles"),
            others.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    finding
}

/// The names of the locks around a cycle, each held while the next is taken.
fn lock_names(graph: &LockGraph, edges: &[u32]) -> Vec<String> {
    edges
        .iter()
        .map(|&e| graph.lock(graph.edges[e as usize].from).to_string())
        .collect()
}

/// The cycle turned to start at the edge asked for first in the source, so
/// that the story starts where a reader would.
fn from_first_asked(graph: &LockGraph, cycle: &KeptCycle) -> (Vec<u32>, Vec<Instance>) {
    let asked = |i: &Instance| -> &Site { graph.facts[i.acquisition].asked_at() };
    let start = (0..cycle.instances.len())
        .min_by(|&a, &b| {
            let (a, b) = (asked(&cycle.instances[a]), asked(&cycle.instances[b]));
            (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column))
        })
        .unwrap_or(0);
    fn turn<T: Copy>(v: &[T], start: usize) -> Vec<T> {
        v[start..].iter().chain(&v[..start]).copied().collect()
    }
    (turn(cycle.edges, start), turn(cycle.instances, start))
}

/// The places of one edge: where the second lock is asked for (and the
/// calls to where it is taken), and where the first was taken. A line
/// already told with the same words is not told again (two instances
/// locked by one helper).
fn edge_locations(mut finding: Finding, graph: &LockGraph, instance: Instance) -> Finding {
    let fact: &Acquisition = &graph.facts[instance.acquisition];
    let held = &fact.held[instance.held];
    let agent = who(&fact.agent);
    let (taken, first) = (&fact.lock, &held.lock);
    let ask = match fact.path.first() {
        Some(call) => format!(
            "calls `{}`, which takes `{taken}`, while `{first}` is held ({agent})",
            call.callee
        ),
        None => format!("`{taken}` taken while `{first}` is held ({agent})"),
    };
    let mut places = vec![
        (fact.asked_at().clone(), ask),
        (held.site.clone(), format!("`{first}` taken here ({agent})")),
    ];
    places.extend(path_locations(fact));
    if let Some((function, site)) = &held.taken_in {
        places.push((
            site.clone(),
            format!("`{first}` taken here, in `{function}`"),
        ));
    }
    for (site, label) in places {
        let told = finding
            .locations
            .iter()
            .any(|l| l.file == *site.file && l.line == site.line && l.label == label);
        if !told {
            finding = finding.at(&site, label);
        }
    }
    finding
}
