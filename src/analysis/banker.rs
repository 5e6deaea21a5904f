//! The banker's algorithm (Dijkstra) and deadlock detection (Coffman,
//! Habermann) over a resource-allocation state with multi-instance resources.
//!
//! A [`State`] says, for `n` processes and `m` resource types, how many units
//! of each type are free (`available`), how many each process may claim at most
//! (`max`), how many it holds (`allocation`), and optionally what it is waiting
//! for right now (`request`). From it:
//!
//! - [`safety`] decides whether the state is *safe*: whether some order lets
//!   every process obtain its remaining claim (`need = max - allocation`),
//!   finish and give everything back. It returns that order step by step with
//!   the work vector after each step, or the processes that cannot finish.
//! - [`request`] is the resource-request algorithm: it grants a request only
//!   when the process stays within its claim, the units are free, and the
//!   state after the grant is still safe.
//! - [`detect`] finds the processes that are deadlocked *now*: it uses the
//!   outstanding requests instead of the remaining claims, so an unsafe state
//!   is not necessarily a deadlocked one.
//!
//! All arithmetic is checked; a state whose counts do not add up (allocation
//! above max, a total that does not fit in `u64`, ragged rows) is refused with
//! a [`StateError`] instead of giving a wrong answer.
//!
//! The checks run in `O(n·m + n²)` time: each process remembers the first
//! resource it was short of, and since work only grows, a later pass resumes
//! comparing there. The order found is the classic one: pass over the
//! processes in their order, let every process finish that can, and repeat
//! until all have finished or a pass finishes none.

use std::fmt;

/// A resource-allocation state.
///
/// Rows of `max`, `allocation` and `request` are indexed by process, columns
/// by resource, both in the order of `processes` and `resources`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    /// Resource type names, in column order.
    pub resources: Vec<String>,
    /// Process names, in row order (the order of the input file).
    pub processes: Vec<String>,
    /// Free units of each resource type.
    pub available: Vec<u64>,
    /// The most units of each type each process may hold at once (its claim).
    pub max: Vec<Vec<u64>>,
    /// The units each process holds now.
    pub allocation: Vec<Vec<u64>>,
    /// What each process is blocked waiting for, where it is (deadlock detection).
    pub request: Vec<Option<Vec<u64>>>,
}

/// A state whose numbers cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateError {
    /// A vector or matrix row has the wrong number of entries.
    Shape {
        /// What is the wrong size, e.g. "the allocation of `P0`".
        what: String,
        expected: usize,
        found: usize,
    },
    /// A process holds more of a resource than its maximum claim.
    AllocationAboveMax {
        process: usize,
        resource: usize,
        allocation: u64,
        max: u64,
    },
    /// Available plus all allocations of a resource does not fit in `u64`.
    Overflow { resource: usize },
    /// A process index out of range.
    NoSuchProcess { process: usize },
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateError::Shape {
                what,
                expected,
                found,
            } => write!(f, "{what} has {found} entries, expected {expected}"),
            StateError::AllocationAboveMax {
                process,
                resource,
                allocation,
                max,
            } => write!(
                f,
                "process #{process} holds {allocation} units of resource #{resource}, above its maximum claim of {max}"
            ),
            StateError::Overflow { resource } => write!(
                f,
                "the total units of resource #{resource} do not fit in a 64-bit count"
            ),
            StateError::NoSuchProcess { process } => write!(f, "there is no process #{process}"),
        }
    }
}

impl std::error::Error for StateError {}

impl State {
    /// A state with the given resources and free units, and no processes yet.
    pub fn new(resources: Vec<String>, available: Vec<u64>) -> Self {
        State {
            resources,
            available,
            ..State::default()
        }
    }

    /// Adds a process (builder style); see [`State::validate`] for the rules.
    pub fn with_process(
        mut self,
        name: impl Into<String>,
        max: Vec<u64>,
        allocation: Vec<u64>,
        request: Option<Vec<u64>>,
    ) -> Self {
        self.processes.push(name.into());
        self.max.push(max);
        self.allocation.push(allocation);
        self.request.push(request);
        self
    }

    /// Number of processes.
    pub fn process_count(&self) -> usize {
        self.processes.len()
    }

    /// Number of resource types.
    pub fn resource_count(&self) -> usize {
        self.resources.len()
    }

    /// Checks that every row has one entry per resource, that no process
    /// holds more than it claims, and that the total units of each resource
    /// (available plus all allocations) fit in `u64`, which makes every sum
    /// the algorithms form fit as well.
    pub fn validate(&self) -> Result<(), StateError> {
        let m = self.resources.len();
        let n = self.processes.len();
        let shape = |what: String, expected: usize, found: usize| {
            if expected == found {
                Ok(())
            } else {
                Err(StateError::Shape {
                    what,
                    expected,
                    found,
                })
            }
        };
        shape("the available vector".into(), m, self.available.len())?;
        shape("the max matrix".into(), n, self.max.len())?;
        shape("the allocation matrix".into(), n, self.allocation.len())?;
        shape("the request list".into(), n, self.request.len())?;
        for p in 0..n {
            let name = &self.processes[p];
            shape(format!("the max of `{name}`"), m, self.max[p].len())?;
            shape(
                format!("the allocation of `{name}`"),
                m,
                self.allocation[p].len(),
            )?;
            if let Some(r) = &self.request[p] {
                shape(format!("the request of `{name}`"), m, r.len())?;
            }
            for r in 0..m {
                let (allocation, max) = (self.allocation[p][r], self.max[p][r]);
                if allocation > max {
                    return Err(StateError::AllocationAboveMax {
                        process: p,
                        resource: r,
                        allocation,
                        max,
                    });
                }
            }
        }
        self.total().map(|_| ())
    }

    /// Total units of each resource: available plus everything allocated.
    pub fn total(&self) -> Result<Vec<u64>, StateError> {
        let mut total = self.available.clone();
        for row in &self.allocation {
            for (r, (t, a)) in total.iter_mut().zip(row).enumerate() {
                *t = t
                    .checked_add(*a)
                    .ok_or(StateError::Overflow { resource: r })?;
            }
        }
        Ok(total)
    }

    /// What process `p` may still ask for: `max - allocation`.
    ///
    /// Saturates at 0 where a (not validated) state holds more than it claims.
    pub fn need_of(&self, p: usize) -> Vec<u64> {
        self.max[p]
            .iter()
            .zip(&self.allocation[p])
            .map(|(max, a)| max.saturating_sub(*a))
            .collect()
    }

    /// The need matrix: `max - allocation`, row by row.
    pub fn need(&self) -> Vec<Vec<u64>> {
        (0..self.processes.len()).map(|p| self.need_of(p)).collect()
    }

    /// The outstanding request of process `p`, zeros where it has none.
    pub fn request_of(&self, p: usize) -> Vec<u64> {
        self.request[p]
            .clone()
            .unwrap_or_else(|| vec![0; self.resources.len()])
    }

    /// The index of a process by name.
    pub fn process_index(&self, name: &str) -> Option<usize> {
        self.processes.iter().position(|p| p == name)
    }
}

/// One process finishing in a safety check or a detection run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The process that can obtain what it needs, finish and give back its allocation.
    pub process: usize,
    /// The work vector (free units) after it has given everything back.
    pub work: Vec<u64>,
}

/// Where a process that cannot finish falls short.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shortfall {
    pub process: usize,
    /// The first resource of which it needs more than the final work vector has.
    pub resource: usize,
    /// How many units it needs of that resource.
    pub needed: u64,
    /// How many units the final work vector has.
    pub free: u64,
}

/// The outcome of the safety algorithm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Safety {
    /// The processes that finished, in order, with the work vector after each.
    /// When the state is safe this is a safe sequence.
    pub steps: Vec<Step>,
    /// The processes that cannot finish, in process order (empty iff safe).
    pub stuck: Vec<Shortfall>,
}

impl Safety {
    pub fn is_safe(&self) -> bool {
        self.stuck.is_empty()
    }

    /// The processes in the order they finished (a safe sequence when safe).
    pub fn sequence(&self) -> Vec<usize> {
        self.steps.iter().map(|s| s.process).collect()
    }

    /// The processes that cannot finish.
    pub fn unfinished(&self) -> Vec<usize> {
        self.stuck.iter().map(|s| s.process).collect()
    }
}

/// The banker's safety algorithm: can every process finish, in some order,
/// given its remaining need?
pub fn safety(state: &State) -> Result<Safety, StateError> {
    state.validate()?;
    let needs = state.need();
    let pending: Vec<usize> = (0..state.process_count()).collect();
    Ok(reduce(
        &state.available,
        &state.allocation,
        |p| needs[p].as_slice(),
        pending,
    ))
}

/// Runs the reduction shared by the safety and detection algorithms: starting
/// from `available`, repeatedly let each pending process whose `wants` fits in
/// the work vector finish and release its allocation. The caller has checked
/// (by [`State::validate`]) that every sum fits in `u64`.
fn reduce<'a>(
    available: &[u64],
    allocation: &[Vec<u64>],
    wants: impl Fn(usize) -> &'a [u64],
    mut pending: Vec<usize>,
) -> Safety {
    let m = available.len();
    let mut work = available.to_vec();
    // For each process, the first resource not yet known to fit: work only
    // grows, so resources before it keep fitting.
    let mut cursor = vec![0usize; allocation.len()];
    let mut steps = Vec::with_capacity(pending.len());
    loop {
        let before = pending.len();
        pending.retain(|&p| {
            let want = wants(p);
            let mut r = cursor[p];
            while r < m && want[r] <= work[r] {
                r += 1;
            }
            cursor[p] = r;
            if r < m {
                return true;
            }
            for (w, a) in work.iter_mut().zip(&allocation[p]) {
                // validate() showed available + all allocations fits.
                *w = w.checked_add(*a).expect("validated totals fit in u64");
            }
            steps.push(Step {
                process: p,
                work: work.clone(),
            });
            false
        });
        if pending.is_empty() || pending.len() == before {
            break;
        }
    }
    let stuck = pending
        .into_iter()
        .map(|p| {
            let resource = cursor[p];
            Shortfall {
                process: p,
                resource,
                needed: wants(p)[resource],
                free: work[resource],
            }
        })
        .collect();
    Safety { steps, stuck }
}

/// The verdict of the resource-request algorithm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The request was granted; the state after it (still safe) and a safe
    /// sequence from there.
    Granted { state: State, safety: Safety },
    /// The units are not free now; the process must wait (the state is unchanged).
    Wait,
    /// The units are free but granting them would leave the state unsafe;
    /// the process must wait (the state is unchanged). `safety` is the check
    /// of the state as it would have been.
    Unsafe { safety: Safety },
    /// The process asks for more than its remaining claim: an error on its
    /// part, never granted.
    Invalid,
}

impl Verdict {
    /// The contract's spelling: `granted`, `wait`, `unsafe` or `invalid`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Granted { .. } => "granted",
            Verdict::Wait => "wait",
            Verdict::Unsafe { .. } => "unsafe",
            Verdict::Invalid => "invalid",
        }
    }
}

/// The resource-request algorithm's answer: a verdict and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestOutcome {
    pub verdict: Verdict,
    /// One sentence for a reader, naming the process and the deciding numbers.
    pub reason: String,
}

/// The banker's resource-request algorithm: may process `p` have `request` now?
///
/// 1. A request above the process's remaining need is [`Verdict::Invalid`].
/// 2. A request above what is available must [`Verdict::Wait`].
/// 3. Otherwise the grant is tried: if the resulting state is safe the request
///    is [`Verdict::Granted`] (with that state), else it is refused as
///    [`Verdict::Unsafe`] and the state stays as it was.
pub fn request(state: &State, p: usize, request: &[u64]) -> Result<RequestOutcome, StateError> {
    state.validate()?;
    if p >= state.process_count() {
        return Err(StateError::NoSuchProcess { process: p });
    }
    let m = state.resource_count();
    if request.len() != m {
        return Err(StateError::Shape {
            what: "the request".into(),
            expected: m,
            found: request.len(),
        });
    }
    let name = &state.processes[p];
    let need = state.need_of(p);
    if let Some(r) = (0..m).find(|&r| request[r] > need[r]) {
        let reason = format!(
            "{name} asks for {} of {} but may claim only {} more (max {}, holds {}): a process may never ask beyond its declared maximum",
            request[r],
            state.resources[r],
            need[r],
            state.max[p][r],
            state.allocation[p][r],
        );
        return Ok(RequestOutcome {
            verdict: Verdict::Invalid,
            reason,
        });
    }
    if let Some(r) = (0..m).find(|&r| request[r] > state.available[r]) {
        let reason = format!(
            "{name} asks for {} of {} but only {} {} free: it must wait until other processes release some",
            request[r],
            state.resources[r],
            state.available[r],
            if state.available[r] == 1 { "is" } else { "are" },
        );
        return Ok(RequestOutcome {
            verdict: Verdict::Wait,
            reason,
        });
    }
    // Pretend to grant it. request <= need keeps allocation <= max, and the
    // totals are unchanged, so the new state is valid.
    let mut next = state.clone();
    for ((free, held), asked) in next
        .available
        .iter_mut()
        .zip(next.allocation[p].iter_mut())
        .zip(request)
    {
        *free -= asked;
        *held += asked;
    }
    let after = safety(&next)?;
    if after.is_safe() {
        let order: Vec<&str> = after
            .sequence()
            .into_iter()
            .map(|q| state.processes[q].as_str())
            .collect();
        let reason = format!(
            "the units are free and the state after the grant is safe: {} can finish in that order",
            order.join(", ")
        );
        Ok(RequestOutcome {
            verdict: Verdict::Granted {
                state: next,
                safety: after,
            },
            reason,
        })
    } else {
        let stuck: Vec<&str> = after
            .unfinished()
            .into_iter()
            .map(|q| state.processes[q].as_str())
            .collect();
        let already = !safety(state)?.is_safe();
        let reason = format!(
            "the units are free, but after the grant no order lets {} finish{}: {name} must wait",
            join_names(&stuck),
            if already {
                " (the state was already unsafe before this request)"
            } else {
                ""
            },
        );
        Ok(RequestOutcome {
            verdict: Verdict::Unsafe { safety: after },
            reason,
        })
    }
}

fn join_names(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The outcome of deadlock detection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detection {
    /// Processes that hold nothing: they cannot be part of a deadlock, so
    /// the algorithm counts them as finished from the start.
    pub idle: Vec<usize>,
    /// The processes whose outstanding request can be met, in the order they
    /// finish, with the work vector after each gives its allocation back.
    pub steps: Vec<Step>,
    /// The deadlocked processes, in process order, with what each waits for.
    pub deadlocked: Vec<Shortfall>,
    /// Processes that hold nothing but whose request cannot be met even
    /// after every process that can finish has: blocked by the deadlock,
    /// though not part of it.
    pub blocked: Vec<usize>,
}

impl Detection {
    pub fn is_deadlocked(&self) -> bool {
        !self.deadlocked.is_empty()
    }

    /// The deadlocked processes.
    pub fn deadlocked_processes(&self) -> Vec<usize> {
        self.deadlocked.iter().map(|s| s.process).collect()
    }
}

/// Deadlock detection with multi-instance resources: which processes can
/// never proceed, given what each holds and what each is waiting for?
///
/// A process with no outstanding request can run to completion and release
/// what it holds; a process whose request fits in the free units can too.
/// Whatever remains, holding something, is deadlocked.
pub fn detect(state: &State) -> Result<Detection, StateError> {
    state.validate()?;
    let requests: Vec<Vec<u64>> = (0..state.process_count())
        .map(|p| state.request_of(p))
        .collect();
    let (idle, holding): (Vec<usize>, Vec<usize>) =
        (0..state.process_count()).partition(|&p| state.allocation[p].iter().all(|&a| a == 0));
    let reduced = reduce(
        &state.available,
        &state.allocation,
        |p| requests[p].as_slice(),
        holding,
    );
    let work = reduced
        .steps
        .last()
        .map_or_else(|| state.available.clone(), |s| s.work.clone());
    let blocked = idle
        .iter()
        .copied()
        .filter(|&p| requests[p].iter().zip(&work).any(|(r, w)| r > w))
        .collect();
    Ok(Detection {
        idle,
        steps: reduced.steps,
        deadlocked: reduced.stuck,
        blocked,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn names(prefix: &str, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i}")).collect()
    }

    fn abc(available: [u64; 3]) -> State {
        State::new(vec!["A".into(), "B".into(), "C".into()], available.to_vec())
    }

    /// The classic five processes on A (10 units), B (5), C (7).
    fn textbook() -> State {
        abc([3, 3, 2])
            .with_process("P0", vec![7, 5, 3], vec![0, 1, 0], None)
            .with_process("P1", vec![3, 2, 2], vec![2, 0, 0], None)
            .with_process("P2", vec![9, 0, 2], vec![3, 0, 2], None)
            .with_process("P3", vec![2, 2, 2], vec![2, 1, 1], None)
            .with_process("P4", vec![4, 3, 3], vec![0, 0, 2], None)
    }

    #[test]
    fn need_is_max_minus_allocation() {
        assert_eq!(
            textbook().need(),
            vec![
                vec![7, 4, 3],
                vec![1, 2, 2],
                vec![6, 0, 0],
                vec![0, 1, 1],
                vec![4, 3, 1],
            ]
        );
        assert_eq!(textbook().total().unwrap(), vec![10, 5, 7]);
    }

    #[test]
    fn textbook_state_is_safe_step_by_step() {
        // Work (3,3,2): pass 1: P0 needs 7 A, no; P1 (1,2,2) yes -> (5,3,2);
        // P2 needs 6 A, no; P3 (0,1,1) yes -> (7,4,3); P4 (4,3,1) yes -> (7,4,5).
        // Pass 2: P0 (7,4,3) yes -> (7,5,5); P2 (6,0,0) yes -> (10,5,7).
        let s = safety(&textbook()).unwrap();
        assert!(s.is_safe());
        assert_eq!(s.sequence(), vec![1, 3, 4, 0, 2]);
        let works: Vec<Vec<u64>> = s.steps.iter().map(|s| s.work.clone()).collect();
        assert_eq!(
            works,
            vec![
                vec![5, 3, 2],
                vec![7, 4, 3],
                vec![7, 4, 5],
                vec![7, 5, 5],
                vec![10, 5, 7],
            ]
        );
    }

    #[test]
    fn single_resource_safe_and_unsafe() {
        // 12 tape drives: P0 max 10 holds 5, P1 max 4 holds 2, P2 max 9 holds 2; 3 free.
        // P1 needs 2 <= 3 -> 5 free; P0 needs 5 <= 5 -> 10; P2 needs 7 <= 10 -> 12.
        let drives = |p2_holds: u64, free: u64| {
            State::new(vec!["drives".into()], vec![free])
                .with_process("P0", vec![10], vec![5], None)
                .with_process("P1", vec![4], vec![2], None)
                .with_process("P2", vec![9], vec![p2_holds], None)
        };
        let s = safety(&drives(2, 3)).unwrap();
        assert!(s.is_safe());
        assert_eq!(s.sequence(), vec![1, 0, 2]);
        assert_eq!(s.steps.last().unwrap().work, vec![12]);
        // Giving P2 one more drive: 2 free; P1 needs 2 -> 4 free; P0 needs 5,
        // P2 needs 6: neither can finish.
        let s = safety(&drives(3, 2)).unwrap();
        assert!(!s.is_safe());
        assert_eq!(s.sequence(), vec![1]);
        assert_eq!(s.unfinished(), vec![0, 2]);
        assert_eq!(
            s.stuck[0],
            Shortfall {
                process: 0,
                resource: 0,
                needed: 5,
                free: 4
            }
        );
    }

    #[test]
    fn multi_resource_unsafe_state() {
        // A: 2 units, B: 2 units; each process holds one of each kind it
        // needs and may still ask for the rest.
        let s = State::new(vec!["A".into(), "B".into()], vec![0, 0])
            .with_process("P0", vec![2, 1], vec![1, 1], None)
            .with_process("P1", vec![1, 2], vec![1, 1], None);
        let r = safety(&s).unwrap();
        assert!(!r.is_safe());
        assert!(r.steps.is_empty());
        assert_eq!(r.unfinished(), vec![0, 1]);
        assert_eq!(
            (r.stuck[1].resource, r.stuck[1].needed, r.stuck[1].free),
            (1, 1, 0)
        );
    }

    #[test]
    fn a_request_within_need_and_available_that_stays_safe_is_granted() {
        // P1 asks (1,0,2): <= need (1,2,2), <= available (3,3,2). After: available
        // (2,3,0), P1 holds (3,0,2) needs (0,2,0). P1 -> (5,3,2), P3 -> (7,4,3),
        // P4 -> (7,4,5), P0 -> (7,5,5), P2 -> (10,5,7): safe.
        let out = request(&textbook(), 1, &[1, 0, 2]).unwrap();
        let Verdict::Granted { state, safety } = &out.verdict else {
            panic!("expected a grant, got {out:?}");
        };
        assert_eq!(state.available, vec![2, 3, 0]);
        assert_eq!(state.allocation[1], vec![3, 0, 2]);
        assert_eq!(safety.sequence(), vec![1, 3, 4, 0, 2]);
        assert_eq!(out.verdict.as_str(), "granted");
        assert!(out.reason.contains("P1, P3, P4, P0, P2"), "{}", out.reason);
    }

    #[test]
    fn a_request_above_available_must_wait() {
        // After granting P1 (1,0,2), available is (2,3,0); P4 asking (3,3,0)
        // is within its need (4,3,1) but A has only 2 free.
        let Verdict::Granted { state, .. } = request(&textbook(), 1, &[1, 0, 2]).unwrap().verdict
        else {
            panic!()
        };
        let out = request(&state, 4, &[3, 3, 0]).unwrap();
        assert_eq!(out.verdict, Verdict::Wait);
        assert!(out.reason.contains("only 2 are free"), "{}", out.reason);
    }

    #[test]
    fn a_request_that_would_leave_the_state_unsafe_is_refused() {
        // After the P1 grant, P0 asks (0,2,0): <= need (7,4,3) and <= available
        // (2,3,0). Then available (2,1,0): P0 needs (7,2,3), P1 (0,2,0), P2
        // (6,0,0), P3 (0,1,1), P4 (4,3,1): nobody fits, unsafe.
        let Verdict::Granted { state, .. } = request(&textbook(), 1, &[1, 0, 2]).unwrap().verdict
        else {
            panic!()
        };
        let out = request(&state, 0, &[0, 2, 0]).unwrap();
        let Verdict::Unsafe { safety } = &out.verdict else {
            panic!("expected unsafe, got {out:?}");
        };
        assert!(safety.steps.is_empty());
        assert_eq!(safety.unfinished(), vec![0, 1, 2, 3, 4]);
        assert!(out.reason.contains("P0 must wait"), "{}", out.reason);
        assert!(!out.reason.contains("already unsafe"), "{}", out.reason);
    }

    #[test]
    fn a_request_beyond_the_claim_is_invalid() {
        // P3's need is (0,1,1); asking 1 of A exceeds it.
        let out = request(&textbook(), 3, &[1, 0, 0]).unwrap();
        assert_eq!(out.verdict, Verdict::Invalid);
        assert!(
            out.reason.contains("may claim only 0 more"),
            "{}",
            out.reason
        );
        // Invalid is checked before wait: P0 asking 8 of A (need 7, free 3).
        assert_eq!(
            request(&textbook(), 0, &[8, 0, 0]).unwrap().verdict,
            Verdict::Invalid
        );
    }

    #[test]
    fn request_rejects_bad_arguments() {
        assert_eq!(
            request(&textbook(), 9, &[0, 0, 0]),
            Err(StateError::NoSuchProcess { process: 9 })
        );
        assert!(matches!(
            request(&textbook(), 0, &[0, 0]),
            Err(StateError::Shape { .. })
        ));
    }

    #[test]
    fn invalid_states_are_refused() {
        let s = abc([0, 0, 0]).with_process("P0", vec![1, 1, 1], vec![2, 0, 0], None);
        assert_eq!(
            safety(&s),
            Err(StateError::AllocationAboveMax {
                process: 0,
                resource: 0,
                allocation: 2,
                max: 1
            })
        );
        let s =
            State::new(vec!["A".into()], vec![u64::MAX]).with_process("P0", vec![1], vec![1], None);
        assert_eq!(detect(&s), Err(StateError::Overflow { resource: 0 }));
        let mut s = abc([0, 0, 0]);
        s.available.pop();
        assert!(matches!(safety(&s), Err(StateError::Shape { .. })));
    }

    #[test]
    fn an_unsafe_state_need_not_be_deadlocked() {
        // The unsafe drives state: nobody is waiting for anything yet, so no
        // deadlock, even though a bad sequence of future requests could cause one.
        let s = State::new(vec!["drives".into()], vec![2])
            .with_process("P0", vec![10], vec![5], None)
            .with_process("P1", vec![4], vec![2], Some(vec![1]))
            .with_process("P2", vec![9], vec![3], None);
        assert!(!safety(&s).unwrap().is_safe());
        let d = detect(&s).unwrap();
        assert!(!d.is_deadlocked());
        assert_eq!(d.steps.len(), 3);
    }

    /// A classic detection example: A has 7 units, B 2, C 6.
    fn detection_example(p2_request: [u64; 3]) -> State {
        abc([0, 0, 0])
            .with_process("P0", vec![0, 1, 0], vec![0, 1, 0], Some(vec![0, 0, 0]))
            .with_process("P1", vec![4, 0, 2], vec![2, 0, 0], Some(vec![2, 0, 2]))
            .with_process(
                "P2",
                vec![3, 0, 4],
                vec![3, 0, 3],
                Some(p2_request.to_vec()),
            )
            .with_process("P3", vec![2, 1, 1], vec![2, 1, 1], Some(vec![1, 0, 0]))
            .with_process("P4", vec![0, 0, 2], vec![0, 0, 2], Some(vec![0, 0, 2]))
    }

    #[test]
    fn detection_without_a_deadlock() {
        // Work (0,0,0): P0 requests nothing -> (0,1,0); P1 (2,0,2) no; P2 none -> (3,1,3);
        // P3 (1,0,0) -> (5,2,4); P4 (0,0,2) -> (5,2,6); pass 2: P1 -> (7,2,6).
        let d = detect(&detection_example([0, 0, 0])).unwrap();
        assert!(!d.is_deadlocked());
        assert_eq!(
            d.steps.iter().map(|s| s.process).collect::<Vec<_>>(),
            vec![0, 2, 3, 4, 1]
        );
        assert_eq!(d.steps.last().unwrap().work, vec![7, 2, 6]);
    }

    #[test]
    fn detection_with_a_deadlock() {
        // P2 now asks for one more C: P0 finishes -> (0,1,0); nobody else fits.
        let d = detect(&detection_example([0, 0, 1])).unwrap();
        assert!(d.is_deadlocked());
        assert_eq!(d.deadlocked_processes(), vec![1, 2, 3, 4]);
        assert_eq!(d.steps.len(), 1);
        assert_eq!(d.steps[0].work, vec![0, 1, 0]);
        assert!(d.blocked.is_empty());
    }

    #[test]
    fn processes_holding_nothing_are_never_deadlocked() {
        // P0 and P1 hold one unit each and want the other's; P2 holds nothing
        // and wants one of A too: it is blocked by the deadlock, not part of it.
        let s = State::new(vec!["A".into(), "B".into()], vec![0, 0])
            .with_process("P0", vec![1, 1], vec![1, 0], Some(vec![0, 1]))
            .with_process("P1", vec![1, 1], vec![0, 1], Some(vec![1, 0]))
            .with_process("P2", vec![1, 0], vec![0, 0], Some(vec![1, 0]));
        let d = detect(&s).unwrap();
        assert_eq!(d.deadlocked_processes(), vec![0, 1]);
        assert_eq!(d.idle, vec![2]);
        assert_eq!(d.blocked, vec![2]);
    }

    #[test]
    fn the_check_is_fast_on_a_large_chain() {
        // 1,000 processes x 100 resources, arranged so that each pass finishes
        // only the last pending process: the worst case for repeated scans.
        let (n, m) = (1000usize, 100usize);
        let mut s = State::new(names("R", m), vec![1; m]);
        for i in 0..n {
            // Process i needs (n - i) units of every resource and holds 1 of
            // each; after processes n-1..i+1 finish there are (n - i) free.
            let hold = 1;
            let need = (n - i) as u64;
            s = s.with_process(format!("P{i}"), vec![hold + need; m], vec![hold; m], None);
        }
        let start = std::time::Instant::now();
        let r = safety(&s).unwrap();
        let took = start.elapsed();
        assert!(r.is_safe());
        assert_eq!(r.sequence(), (0..n).rev().collect::<Vec<_>>());
        // Generous even for an unoptimized build.
        assert!(took.as_secs_f64() < 2.0, "took {took:?}");
    }

    /// Random valid states: up to 8 processes, 4 resources, small counts.
    fn states() -> impl Strategy<Value = State> {
        (1usize..=4, 1usize..=8).prop_flat_map(|(m, n)| {
            let row = move || proptest::collection::vec(0u64..6, m);
            (
                row(),
                proptest::collection::vec((row(), row(), proptest::option::of(row())), n),
            )
                .prop_map(move |(available, procs)| {
                    let mut s = State::new(names("R", m), available);
                    for (i, (a, b, req)) in procs.into_iter().enumerate() {
                        // max >= allocation: allocation a, max a + b.
                        let max = a.iter().zip(&b).map(|(x, y)| x + y).collect();
                        s = s.with_process(format!("P{i}"), max, a, req);
                    }
                    s
                })
        })
    }

    /// Checks that replaying `steps` from `available` never needs more than
    /// the work vector and that each step's work is what it says.
    fn replay(state: &State, wants: &[Vec<u64>], steps: &[Step]) {
        let mut work = state.available.clone();
        let mut seen = vec![false; state.process_count()];
        for step in steps {
            let p = step.process;
            assert!(!seen[p], "process {p} finishes twice");
            seen[p] = true;
            for r in 0..state.resource_count() {
                assert!(wants[p][r] <= work[r], "step {p} needs more than work");
                work[r] += state.allocation[p][r];
            }
            assert_eq!(work, step.work);
        }
    }

    proptest! {
        #[test]
        fn safe_sequences_replay(state in states()) {
            let s = safety(&state).unwrap();
            replay(&state, &state.need(), &s.steps);
            prop_assert_eq!(s.steps.len() + s.stuck.len(), state.process_count());
            if s.is_safe() {
                prop_assert_eq!(s.steps.last().map(|s| s.work.clone()).unwrap_or(state.available.clone()), state.total().unwrap());
            }
            // Every stuck process really cannot go on with the final work.
            let work = s.steps.last().map_or(state.available.clone(), |s| s.work.clone());
            for st in &s.stuck {
                prop_assert!(st.needed > st.free);
                prop_assert_eq!(st.free, work[st.resource]);
            }
        }

        #[test]
        fn grants_never_exceed_availability_or_claims(
            state in states(),
            p in 0usize..8,
            req in proptest::collection::vec(0u64..6, 4),
        ) {
            let p = p % state.process_count();
            let req = &req[..state.resource_count()];
            let out = request(&state, p, req).unwrap();
            let need = state.need_of(p);
            match &out.verdict {
                Verdict::Granted { state: next, safety: after } => {
                    for r in 0..state.resource_count() {
                        prop_assert!(req[r] <= state.available[r]);
                        prop_assert!(req[r] <= need[r]);
                        prop_assert_eq!(next.available[r], state.available[r] - req[r]);
                        prop_assert_eq!(next.allocation[p][r], state.allocation[p][r] + req[r]);
                    }
                    prop_assert!(after.is_safe());
                    replay(next, &next.need(), &after.steps);
                    prop_assert_eq!(next.total().unwrap(), state.total().unwrap());
                }
                Verdict::Wait => {
                    prop_assert!((0..req.len()).all(|r| req[r] <= need[r]));
                    prop_assert!((0..req.len()).any(|r| req[r] > state.available[r]));
                }
                Verdict::Unsafe { safety: after } => {
                    prop_assert!(!after.is_safe());
                    prop_assert!((0..req.len()).all(|r| req[r] <= need[r] && req[r] <= state.available[r]));
                }
                Verdict::Invalid => {
                    prop_assert!((0..req.len()).any(|r| req[r] > need[r]));
                }
            }
        }

        #[test]
        fn detection_reductions_replay(state in states()) {
            let d = detect(&state).unwrap();
            let requests: Vec<Vec<u64>> = (0..state.process_count()).map(|p| state.request_of(p)).collect();
            replay(&state, &requests, &d.steps);
            prop_assert_eq!(d.idle.len() + d.steps.len() + d.deadlocked.len(), state.process_count());
            for st in &d.deadlocked {
                prop_assert!(state.allocation[st.process].iter().any(|&a| a > 0));
                prop_assert!(st.needed > st.free);
            }
            // A safe state with requests within need has no deadlock.
            let within = (0..state.process_count()).all(|p| {
                requests[p].iter().zip(state.need_of(p)).all(|(r, n)| *r <= n)
            });
            if within && safety(&state).unwrap().is_safe() {
                prop_assert!(!d.is_deadlocked());
            }
        }
    }
}
