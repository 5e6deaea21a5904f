//! Drives an engine over a model and gathers findings execution by execution.

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use super::control::Stop;
use super::execution::Cause;
use super::execution::{self, Execution};
use super::naming::{name_objects, SourceCache};
use super::Engine;
use super::{outcome, panic_hook};
use crate::analysis::lock_graph::{self, facts_from_trace, Acquisition, LockKey};
use crate::event::{LockMode, Site};
use crate::finding::{self, Finding, Kind};
use crate::report::{Report, Summary};

/// Prints progress to stderr about once a second.
struct Progress {
    start: std::time::Instant,
    last: std::time::Instant,
    printed: bool,
}

impl Progress {
    fn new() -> Self {
        let now = std::time::Instant::now();
        Progress {
            start: now,
            last: now,
            printed: false,
        }
    }

    fn tick(&mut self, executions: u64) {
        if self.last.elapsed().as_secs_f64() < 1.0 {
            return;
        }
        self.last = std::time::Instant::now();
        let rate = executions as f64 / self.start.elapsed().as_secs_f64();
        eprint!("\r  exploring: {executions} executions ({rate:.0}/s)   ");
        self.printed = true;
    }

    fn finish(&self) {
        if self.printed {
            eprint!("\r{:60}\r", "");
        }
    }
}

/// Defaults the command line shows in its help.
pub mod defaults {
    pub use super::DEFAULT_PREEMPTION_BOUND as PREEMPTION_BOUND;
}

/// Default preemption bound: every bug in a set of 50 classic programs
/// needed at most 2 preemptions, and unbounded search drowns on programs as
/// small as four dining philosophers.
pub const DEFAULT_PREEMPTION_BOUND: usize = 2;

/// Runs of the std engine by default: each is a real, scheduler-chosen interleaving.
pub const DEFAULT_STD_RUNS: u64 = 20;

/// Configures and runs a model check.
#[derive(Clone, Debug)]
pub struct Builder {
    preemption_bound: Option<usize>,
    max_executions: Option<u64>,
    engine: Engine,
    keep_going: bool,
    progress: bool,
    max_duration: Option<std::time::Duration>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            preemption_bound: Some(DEFAULT_PREEMPTION_BOUND),
            max_executions: None,
            engine: Engine::Loom,
            keep_going: false,
            progress: false,
            max_duration: None,
        }
    }
}

/// What the explorer knows between executions.
#[derive(Default)]
struct Exploration {
    executions: u64,
    findings: Vec<Finding>,
    sources: SourceCache,
    /// The execution that ran last, analysed when the next one starts.
    pending: Option<Arc<Execution>>,
    /// An execution ended in a failure (stop unless keep-going).
    failed: bool,
    /// Lock acquisitions made while other locks were held, gathered across
    /// executions (one of each), for the lock-order graph.
    lock_facts: Vec<Acquisition>,
    fact_keys: HashSet<FactKey>,
    /// Fingerprints of the lock nestings seen (see `Recording::nestings`).
    nestings: HashSet<u64>,
    /// Exploration was ended because an execution failed.
    stopped_at_failure: bool,
    /// Exploration was ended by the time limit.
    out_of_time: bool,
    /// The most each thread held of each pool at once, across executions
    /// (by thread and pool name): the claims of threads that declared none.
    peaks: std::collections::BTreeMap<(String, String), u64>,
    /// Grants made while some thread had no declared claim, checked against
    /// the inferred claims once exploration ends.
    undeclared: Vec<PendingGrant>,
    undeclared_seen: HashSet<(Site, Vec<Vec<u64>>)>,
}

/// A grant to re-check with inferred claims, with the names of its execution.
struct PendingGrant {
    who: String,
    pool: String,
    units: u64,
    site: Site,
    execution: u64,
    agents: Vec<String>,
    pools: Vec<String>,
    available: Vec<u64>,
    claims: Vec<Vec<Option<u64>>>,
    allocation: Vec<Vec<u64>>,
}

impl Exploration {
    /// Notes this execution's peaks and grants made without declared claims.
    fn gather_ledger(&mut self, rec: &execution::Recording, number: u64) {
        let trace = &rec.trace;
        for ((agent, pool), peak) in &rec.ledger.peak {
            let key = (
                trace.agent_name(*agent).to_string(),
                trace.object_name(*pool).to_string(),
            );
            let entry = self.peaks.entry(key).or_default();
            *entry = (*entry).max(*peak);
        }
        for (at, snapshot) in &rec.ledger.undeclared_grants {
            if self.undeclared.len() >= 10_000
                || !self
                    .undeclared_seen
                    .insert((at.site.clone(), snapshot.allocation.clone()))
            {
                continue;
            }
            self.undeclared.push(PendingGrant {
                who: trace.agent_name(at.agent).to_string(),
                pool: trace.object_name(at.pool).to_string(),
                units: at.units,
                site: at.site.clone(),
                execution: number,
                agents: snapshot
                    .agents
                    .iter()
                    .map(|a| trace.agent_name(*a).to_string())
                    .collect(),
                pools: snapshot
                    .pools
                    .iter()
                    .map(|p| trace.object_name(*p).to_string())
                    .collect(),
                available: snapshot.available.clone(),
                claims: snapshot.claims.clone(),
                allocation: snapshot.allocation.clone(),
            });
        }
    }

    /// Once exploration ends: each grant re-checked with the claims of
    /// threads that declared none inferred from what they held at most.
    fn inferred_claim_findings(&mut self) -> (Vec<Finding>, Option<String>) {
        use crate::analysis::banker;
        let mut findings = Vec::new();
        for grant in &self.undeclared {
            let state = super::ledger::claims_state(
                &grant.pools,
                grant.available.clone(),
                &grant.agents,
                &grant.claims,
                &grant.allocation,
                String::clone,
                String::clone,
                |agent, pool, _| {
                    self.peaks
                        .get(&(agent.clone(), pool.clone()))
                        .copied()
                        .unwrap_or(0)
                },
            );
            if banker::safety(&state).is_ok_and(|s| !s.is_safe()) {
                findings.push(
                    outcome::unsafe_finding(
                        &state,
                        &grant.who,
                        &grant.pool,
                        grant.units,
                        &grant.site,
                        true,
                    )
                    .in_execution(grant.execution),
                );
            }
        }
        finding::dedup(&mut findings);
        let inferred: Vec<String> = self
            .undeclared
            .iter()
            .flat_map(|g| {
                g.agents.iter().enumerate().flat_map(move |(a, agent)| {
                    g.pools
                        .iter()
                        .zip(&g.claims[a])
                        .filter(|(_, c)| c.is_none())
                        .map(move |(pool, _)| (agent.clone(), pool.clone()))
                })
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|(agent, pool)| {
                let peak = self
                    .peaks
                    .get(&(agent.clone(), pool.clone()))
                    .copied()
                    .unwrap_or(0);
                format!("{agent} may need {peak} of `{pool}`")
            })
            .collect();
        let note = (!inferred.is_empty()).then(|| {
            format!(
                "claims not declared with `Pool::claim` were inferred from the most each thread held: {}",
                inferred.join(", ")
            )
        });
        (findings, note)
    }
}

/// What makes two acquisitions the same edge source, whatever the execution.
type FactKey = (
    LockKey,
    LockMode,
    Site,
    Option<String>,
    Vec<(LockKey, LockMode, Site)>,
);

impl Exploration {
    /// Adds this execution's new lock-order facts; true when the graph grew.
    fn gather_lock_facts(&mut self, facts: Vec<Acquisition>) -> bool {
        let mut grew = false;
        for fact in facts.into_iter().filter(|f| !f.held.is_empty()) {
            let key = (
                fact.lock.clone(),
                fact.mode(),
                fact.site.clone(),
                fact.agent.clone(),
                fact.held
                    .iter()
                    .map(|h| (h.lock.clone(), h.flavor.mode, h.site.clone()))
                    .collect(),
            );
            if self.fact_keys.insert(key) {
                self.lock_facts.push(fact);
                grew = true;
            }
        }
        grew
    }
}

impl Builder {
    pub fn new() -> Self {
        Builder::default()
    }

    /// Most preemptions per execution the loom engine explores (`None`: unbounded).
    pub fn preemption_bound(mut self, bound: impl Into<Option<usize>>) -> Self {
        self.preemption_bound = bound.into();
        self
    }

    /// Stop after this many executions (the report then says it is incomplete).
    pub fn max_executions(mut self, max: u64) -> Self {
        self.max_executions = Some(max);
        self
    }

    pub fn engine(mut self, engine: Engine) -> Self {
        self.engine = engine;
        self
    }

    /// Explore on after a failure and gather everything (loom stops at the first).
    pub fn keep_going(mut self, keep_going: bool) -> Self {
        self.keep_going = keep_going;
        self
    }

    /// Stop exploring after this much wall-clock time (the report then says
    /// it is incomplete).
    pub fn max_duration(mut self, duration: std::time::Duration) -> Self {
        self.max_duration = Some(duration);
        self
    }

    /// Print the number of executions so far to stderr, about once a second,
    /// while an exploration runs longer than a second.
    pub fn progress(mut self, progress: bool) -> Self {
        self.progress = progress;
        self
    }

    /// Explores `f` and reports what went wrong.
    pub fn check<F>(&self, f: F) -> Report
    where
        F: Fn() + Sync + Send + 'static,
    {
        panic_hook::install();
        let f = Arc::new(f);
        match self.engine {
            Engine::Loom => self.check_loom(f),
            Engine::Std => self.check_std(f, None),
        }
    }

    fn check_loom<F>(&self, f: Arc<F>) -> Report
    where
        F: Fn() + Sync + Send + 'static,
    {
        let state = Arc::new(Mutex::new(Exploration::default()));
        let mut loom_builder = loom::model::Builder::new();
        loom_builder.preemption_bound = self.preemption_bound;
        let max = self.max_executions;
        let keep_going = self.keep_going;
        let deadline = self.max_duration.map(|d| std::time::Instant::now() + d);
        let progress_cell = Arc::new(Mutex::new(self.progress.then(Progress::new)));
        let progress_done = Arc::clone(&progress_cell);
        let (model_state, model_f) = (Arc::clone(&state), Arc::clone(&f));
        let restore = execution::enter(None);
        let result = catch_unwind(AssertUnwindSafe(|| {
            loom_builder.check(move || {
                let exec = {
                    let mut st = model_state.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(previous) = st.pending.take() {
                        analyse(&mut st, &previous, None);
                    }
                    if max.is_some_and(|m| st.executions >= m) {
                        Stop::ExecutionLimit.raise();
                    }
                    if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                        st.out_of_time = true;
                        Stop::ExecutionLimit.raise();
                    }
                    if st.failed && !keep_going {
                        st.stopped_at_failure = true;
                        Stop::ExecutionLimit.raise();
                    }
                    st.executions += 1;
                    // Locks taken in here must not outlive this block: a
                    // failing execution leaves this coroutine's stack behind.
                    let mut progress = progress_cell.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(progress) = progress.as_mut() {
                        progress.tick(st.executions);
                    }
                    let exec = Execution::with_wind_down(Engine::Loom, st.executions, keep_going);
                    st.pending = Some(Arc::clone(&exec));
                    exec
                };
                // Threads of this execution run on this OS thread and find
                // it here, even after the main closure has returned; the
                // previous execution is let go.
                execution::make_current(Some(Arc::clone(&exec)));
                // With keep_going a failure ends this execution only.
                let _ = exec.run_thread(crate::event::AgentId(0), || model_f());
            })
        }));
        drop(restore);
        if let Some(progress) = progress_done
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            progress.finish();
        }
        let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
        let mut incomplete = None;
        match result {
            Ok(()) => {
                if let Some(last) = st.pending.take() {
                    analyse(&mut st, &last, None);
                }
            }
            Err(payload)
                if Stop::of(payload.as_ref()) == Some(Stop::ExecutionLimit)
                    && st.stopped_at_failure =>
            {
                incomplete = Some(format!(
                    "stopped at the first failure, after {} executions (keep going to explore on)",
                    st.executions
                ));
            }
            Err(payload)
                if Stop::of(payload.as_ref()) == Some(Stop::ExecutionLimit) && st.out_of_time =>
            {
                incomplete = Some(format!(
                    "stopped after {} executions, at the time limit",
                    st.executions
                ));
            }
            Err(payload) if Stop::of(payload.as_ref()) == Some(Stop::ExecutionLimit) => {
                incomplete = Some(format!(
                    "stopped after {} executions (the --max-executions limit)",
                    st.executions
                ));
            }
            Err(payload) if Stop::of(payload.as_ref()) == Some(Stop::TooManyThreads) => {
                drop(st);
                let note = format!(
                    "the program spawns more than {} threads, more than loom can explore; it ran on real threads (the std engine) instead",
                    crate::thread::LOOM_MAX_SPAWNED
                );
                return self.check_std(f, Some(note));
            }
            Err(payload) => {
                // loom ends at the first failing execution (a panic, a
                // deadlock): what it did not reach was not checked.
                incomplete = Some(if keep_going {
                    format!(
                        "stopped in execution {}: loom ended the exploration at a failure the runtime could not end on its own",
                        st.executions
                    )
                } else {
                    format!(
                        "stopped at the first failure, in execution {}",
                        st.executions
                    )
                });
                if let Some(last) = st.pending.take() {
                    if analyse(&mut st, &last, Cause::of_ending(payload.as_ref())) {
                        // Wound down, but its threads could not all be ended.
                        incomplete = Some(format!(
                            "stopped in execution {}: after its failure, its threads could not all be ended (loom: {})",
                            st.executions,
                            panic_hook::message_of(payload.as_ref())
                        ));
                    }
                }
            }
        }
        let bound = match self.preemption_bound {
            Some(b) => format!("at most {b} preemptions per execution"),
            None => "no preemption bound".to_string(),
        };
        let (inferred, inferred_note) = st.inferred_claim_findings();
        st.findings.extend(inferred);
        finding::dedup(&mut st.findings);
        let findings = std::mem::take(&mut st.findings);
        let mut report = Report::new(
            findings,
            Summary {
                files: 0,
                executions: st.executions,
                complete: incomplete.is_none(),
                incomplete_reason: incomplete,
                engine: Some(Engine::Loom.to_string()),
                preemption_bound: self.preemption_bound,
            },
        );
        report.preamble.push(format!(
            "explored {} with loom ({bound})",
            crate::report::plural(report.summary.executions, "execution", "executions")
        ));
        report.preamble.extend(inferred_note);
        report
    }

    fn check_std<F>(&self, f: Arc<F>, note: Option<String>) -> Report
    where
        F: Fn() + Sync + Send + 'static,
    {
        let runs = self.max_executions.unwrap_or(DEFAULT_STD_RUNS);
        let mut st = Exploration::default();
        for number in 1..=runs {
            let exec = Execution::new(Engine::Std, number);
            st.executions = number;
            let result = {
                let _current = execution::enter(Some(Arc::clone(&exec)));
                catch_unwind(AssertUnwindSafe(|| {
                    f();
                    // Threads the program did not join still count: wait for
                    // them (or for them all to be stuck).
                    super::raw::std_poll(&exec, || {
                        exec.live.load(std::sync::atomic::Ordering::SeqCst) <= 1
                    });
                }))
            };
            let failure = if exec.aborted.load(std::sync::atomic::Ordering::SeqCst) {
                // However main ended, the execution was found stuck.
                Some(Cause::Deadlock)
            } else {
                result
                    .as_ref()
                    .err()
                    .and_then(|p| Cause::of_ending(p.as_ref()))
            };
            analyse(&mut st, &exec, failure);
            if st.failed && !self.keep_going {
                break;
            }
        }
        let (inferred, inferred_note) = st.inferred_claim_findings();
        st.findings.extend(inferred);
        finding::dedup(&mut st.findings);
        let mut report = Report::new(
            std::mem::take(&mut st.findings),
            Summary {
                files: 0,
                executions: st.executions,
                // Real threads sample interleavings; they never cover them all.
                complete: false,
                incomplete_reason: Some(format!(
                    "the std engine ran the program {} times on real threads: it samples interleavings, it does not explore them all",
                    st.executions
                )),
                engine: Some(Engine::Std.to_string()),
                preemption_bound: None,
            },
        );
        report.preamble.extend(note);
        report.preamble.extend(inferred_note);
        report
    }
}

/// Analyses one finished (or failed) execution into the exploration's
/// findings. An execution that was wound down is analysed as it was when it
/// failed, for that failure (not `failure`, what loom saw after); returns
/// whether it was.
fn analyse(st: &mut Exploration, exec: &Execution, failure: Option<Cause>) -> bool {
    let wound_down = exec.wound_down_by();
    let failure = wound_down.or(failure);
    let wound_down = wound_down.is_some();
    let mut rec = exec.recording();
    // Most executions of a model repeat lock nestings already seen: the lock
    // graph is only rebuilt from an execution that shows a new one.
    let mut new_nesting = false;
    for nesting in rec.nestings.drain(..) {
        new_nesting |= st.nestings.insert(nesting);
    }
    // Naming objects reads the source: worth it only when something will be
    // reported (or kept across executions by name). A clean execution is
    // checked with the placeholder names, and named and checked again only
    // if it turns out not to be clean.
    let needs_names = failure.is_some()
        || new_nesting
        || exec.engine == Engine::Std
        || rec.ledger.in_use()
        || !rec.gpu.is_empty();
    if !needs_names && quick_findings(&rec).is_empty() {
        return wound_down;
    }
    let keep = std::mem::take(&mut rec.named);
    name_objects(&mut rec.trace, &mut st.sources, &keep);
    rec.named = keep;
    let mut found = Vec::new();
    match failure {
        Some(Cause::SelfDeadlock) => found.extend(outcome::self_deadlock(&rec)),
        Some(Cause::Deadlock) => found.push(outcome::deadlock(&rec)),
        Some(Cause::Panic) => found.extend(outcome::assertion_failure(&rec)),
        None => {}
    }
    if failure.is_none() && exec.engine == Engine::Std {
        // A thread that panicked without bringing main down.
        found.extend(outcome::assertion_failure(&rec));
    }
    found.extend(crate::analysis::happens_before::data_races(&rec.trace));
    found.extend(crate::analysis::streams::replay(&rec.trace, &rec.gpu));
    found.extend(outcome::unsafe_state(&rec));
    st.gather_ledger(&rec, exec.number);
    // Observed failures end exploration (unless keeping going), as in loom;
    // potential ones (a lock-order cycle, an atomicity violation) do not.
    if found.iter().any(|f| {
        matches!(
            f.kind,
            Kind::Deadlock | Kind::AssertionFailure | Kind::DoubleLock | Kind::DataRace
        )
    }) {
        st.failed = true;
    }
    found.extend(crate::analysis::atomicity::atomicity_violations(&rec.trace));
    // A lock-order cycle does not stop exploration: it is reported in the
    // execution that completes it, and exploration goes on to confirm it as
    // an observed deadlock within the bounds.
    if new_nesting {
        let facts = facts_from_trace(&rec.trace);
        found.extend(
            lock_graph::relock_findings(&facts)
                .into_iter()
                .filter(|f| f.kind == Kind::RecursiveRead),
        );
        if st.gather_lock_facts(facts) {
            found.extend(lock_graph::lock_order_findings(&st.lock_facts));
        }
    }
    for mut f in found {
        f.execution = Some(exec.number);
        st.findings.push(f);
    }
    finding::dedup(&mut st.findings);
    wound_down
}

/// The analyses of a finished execution that need no names to run.
fn quick_findings(rec: &execution::Recording) -> Vec<Finding> {
    let mut found = crate::analysis::happens_before::data_races(&rec.trace);
    found.extend(crate::analysis::atomicity::atomicity_violations(&rec.trace));
    found
}

#[cfg(test)]
mod tests {
    use std::sync::{Mutex, Weak};

    use super::*;

    /// Every execution explored.
    static SEEN: Mutex<Vec<Weak<Execution>>> = Mutex::new(Vec::new());

    #[test]
    fn executions_are_let_go_once_analysed() {
        let report = Builder::new().check(|| {
            if let Some(exec) = execution::current() {
                SEEN.lock().unwrap().push(Arc::downgrade(&exec));
            }
            let m = Arc::new(crate::sync::Mutex::new(0));
            let m2 = Arc::clone(&m);
            let t = crate::thread::spawn(move || *m2.lock().unwrap() += 1);
            *m.lock().unwrap() += 1;
            t.join().unwrap();
        });
        assert!(report.is_clean(), "{report}");
        let seen = SEEN.lock().unwrap();
        assert!(seen.len() > 2, "{} executions", seen.len());
        // The last one may still be current on this thread.
        let alive = seen.iter().filter(|w| w.upgrade().is_some()).count();
        assert!(
            alive <= 1,
            "{alive} of {} executions still alive",
            seen.len()
        );
    }
}
