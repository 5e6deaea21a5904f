//! The banker's view of a running program: counted resources (pools), what
//! each thread declared it may need (its claim), and what it holds. Every
//! grant is checked with the banker's safety algorithm.

use std::collections::{BTreeMap, BTreeSet};

use crate::analysis::banker::{self, State};
use crate::event::{AgentId, ObjectId, Site, Trace};

/// The tables at one grant, by agent and pool id (named once the trace is).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Snapshot {
    pub agents: Vec<AgentId>,
    pub pools: Vec<ObjectId>,
    pub available: Vec<u64>,
    /// `None` where the thread declared no claim on the pool.
    pub claims: Vec<Vec<Option<u64>>>,
    pub allocation: Vec<Vec<u64>>,
}

impl Snapshot {
    /// The banker's state, claims as declared or, where none was, as given
    /// by `undeclared` (agent, pool, allocation now) -> max.
    pub fn state(
        &self,
        pool_name: impl Fn(ObjectId) -> String,
        agent_name: impl Fn(AgentId) -> String,
        undeclared: impl Fn(AgentId, ObjectId, u64) -> u64,
    ) -> State {
        claims_state(
            &self.pools,
            self.available.clone(),
            &self.agents,
            &self.claims,
            &self.allocation,
            |p| pool_name(*p),
            |a| agent_name(*a),
            |a, p, held| undeclared(*a, *p, held),
        )
    }

    /// [`Snapshot::state`] with the names of the trace.
    pub fn named_state(
        &self,
        trace: &Trace,
        undeclared: impl Fn(AgentId, ObjectId, u64) -> u64,
    ) -> State {
        self.state(
            |p| trace.object_name(p).to_string(),
            |a| trace.agent_name(a).to_string(),
            undeclared,
        )
    }

    pub fn has_undeclared(&self) -> bool {
        self.claims.iter().flatten().any(Option::is_none)
    }
}

/// A grant that left the state unsafe.
#[derive(Clone, Debug)]
pub(crate) struct UnsafeGrant {
    pub agent: AgentId,
    pub pool: ObjectId,
    pub units: u64,
    pub site: Site,
    /// The trace index of the grant.
    pub event: usize,
    pub snapshot: Snapshot,
}

#[derive(Default)]
pub(crate) struct Ledger {
    /// Each pool and its total units, in creation order.
    pools: BTreeMap<ObjectId, u64>,
    claims: BTreeMap<(AgentId, ObjectId), u64>,
    held: BTreeMap<(AgentId, ObjectId), u64>,
    /// The most each thread held of each pool at once in this execution.
    pub peak: BTreeMap<(AgentId, ObjectId), u64>,
    /// Outstanding requests of blocked threads.
    pub waiting: BTreeMap<AgentId, (ObjectId, u64)>,
    /// The first grant (checked with declared claims) that left the state unsafe.
    pub unsafe_grant: Option<UnsafeGrant>,
    /// Grants made while some thread had no declared claim, for the check
    /// against inferred claims once exploration ends.
    pub undeclared_grants: Vec<(UnsafeGrantSite, Snapshot)>,
}

/// Where a grant happened and to whom (for grants checked later).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct UnsafeGrantSite {
    pub agent: AgentId,
    pub pool: ObjectId,
    pub units: u64,
    pub site: Site,
    pub event: usize,
}

impl Ledger {
    /// Whether the program uses counted resources at all.
    pub fn in_use(&self) -> bool {
        !self.pools.is_empty()
    }

    pub fn add_pool(&mut self, pool: ObjectId, total: u64) {
        self.pools.insert(pool, total);
    }

    pub fn claim(&mut self, agent: AgentId, pool: ObjectId, max: u64) {
        self.claims.insert((agent, pool), max);
    }

    pub fn claim_of(&self, agent: AgentId, pool: ObjectId) -> Option<u64> {
        self.claims.get(&(agent, pool)).copied()
    }

    pub fn held(&self, agent: AgentId, pool: ObjectId) -> u64 {
        self.held.get(&(agent, pool)).copied().unwrap_or(0)
    }

    pub fn release(&mut self, agent: AgentId, pool: ObjectId, units: u64) {
        let held = self.held.entry((agent, pool)).or_default();
        *held = held.saturating_sub(units);
    }

    /// Records a grant and checks the state it leaves with declared claims.
    pub fn grant(&mut self, agent: AgentId, pool: ObjectId, units: u64, site: Site, event: usize) {
        let held = self.held.entry((agent, pool)).or_default();
        *held += units;
        let held = *held;
        let peak = self.peak.entry((agent, pool)).or_default();
        *peak = (*peak).max(held);
        self.waiting.remove(&agent);
        let snapshot = self.snapshot();
        let at = UnsafeGrantSite {
            agent,
            pool,
            units,
            site: site.clone(),
            event,
        };
        if snapshot.has_undeclared() && self.undeclared_grants.len() < 10_000 {
            self.undeclared_grants.push((at, snapshot.clone()));
        }
        if self.unsafe_grant.is_some() || !self.claims.keys().any(|(_, p)| *p == pool) {
            return;
        }
        // Threads without a claim are taken to need nothing more: only
        // declared claims can make a grant unsafe during exploration.
        let state = snapshot.state(|p| p.0.to_string(), |a| a.0.to_string(), |_, _, held| held);
        if banker::safety(&state).is_ok_and(|s| !s.is_safe()) {
            self.unsafe_grant = Some(UnsafeGrant {
                agent,
                pool,
                units,
                site,
                event,
                snapshot,
            });
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        let pools: Vec<ObjectId> = self.pools.keys().copied().collect();
        let agents: Vec<AgentId> = self
            .held
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|((a, _), _)| *a)
            .chain(self.claims.keys().map(|(a, _)| *a))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let available = pools
            .iter()
            .map(|p| {
                let held: u64 = self
                    .held
                    .iter()
                    .filter(|((_, q), _)| q == p)
                    .map(|(_, n)| n)
                    .sum();
                self.pools[p].saturating_sub(held)
            })
            .collect();
        Snapshot {
            claims: agents
                .iter()
                .map(|a| pools.iter().map(|p| self.claim_of(*a, *p)).collect())
                .collect(),
            allocation: agents
                .iter()
                .map(|a| pools.iter().map(|p| self.held(*a, *p)).collect())
                .collect(),
            agents,
            pools,
            available,
        }
    }

    /// The state of a blocked program, outstanding requests included, for
    /// the banker's deadlock detection.
    pub fn blocked_state(&self, trace: &Trace) -> State {
        let mut snapshot = self.snapshot();
        for agent in self.waiting.keys() {
            if !snapshot.agents.contains(agent) {
                snapshot.agents.push(*agent);
                snapshot.claims.push(vec![None; snapshot.pools.len()]);
                snapshot.allocation.push(vec![0; snapshot.pools.len()]);
            }
        }
        let mut state = snapshot.named_state(trace, |_, _, held| held);
        state.request = snapshot
            .agents
            .iter()
            .map(|a| {
                self.waiting.get(a).map(|(pool, units)| {
                    snapshot
                        .pools
                        .iter()
                        .map(|p| if p == pool { *units } else { 0 })
                        .collect()
                })
            })
            .collect();
        state
    }
}

/// A banker's state from each thread's claims and holdings, per pool; a
/// claim not declared is `undeclared(thread, pool, held)`, and no thread's
/// maximum is below what it holds.
#[allow(clippy::too_many_arguments)]
pub(crate) fn claims_state<A, P>(
    pools: &[P],
    available: Vec<u64>,
    agents: &[A],
    claims: &[Vec<Option<u64>>],
    allocation: &[Vec<u64>],
    pool_name: impl Fn(&P) -> String,
    agent_name: impl Fn(&A) -> String,
    undeclared: impl Fn(&A, &P, u64) -> u64,
) -> State {
    let mut state = State::new(pools.iter().map(pool_name).collect(), available);
    for (a, agent) in agents.iter().enumerate() {
        let max = claims[a]
            .iter()
            .zip(pools)
            .zip(&allocation[a])
            .map(|((claim, pool), held)| {
                claim
                    .unwrap_or_else(|| undeclared(agent, pool, *held))
                    .max(*held)
            })
            .collect();
        state = state.with_process(agent_name(agent), max, allocation[a].clone(), None);
    }
    state
}
