//! Ending a failed execution under loom so that exploration can go on
//! (`keep_going`).
//!
//! loom ends the whole exploration at the first panic, and at the first
//! execution in which every thread is blocked. To go past a failure, the
//! runtime ends the failing execution itself, in a way loom takes for an
//! ordinary one: every thread runs to its end.
//!
//! - A deadlock is seen one step before loom would see it: a thread about to
//!   block checks whether every other live thread is blocked for good (on a
//!   lock held against it, on a condvar nobody notified since it began to
//!   wait, on a join of a thread still running). Nothing running could wake
//!   any of them, which is loom's "every thread is blocked", early.
//! - A panic is caught where the thread's closure ends.
//!
//! Then the execution is wound down: its recording is set aside for the
//! analyses (what follows is not the program's behaviour), the locks are
//! released, the condvars waited on are notified, and each thread unwinds
//! with a control panic at its next step, until all have ended.
//!
//! A loom guard must not be dropped while its thread unwinds: it would poison
//! loom's inner std lock (the next `lock` then panics inside loom with the
//! lock still taken), and during loom's own panics it calls back into loom.
//! So while an execution can be wound down, the loom guards live here rather
//! than in the guards the program holds: a guard dropped during unwinding
//! leaves its loom guard here, and the wind-down drops it later, outside any
//! panic. loom lets any thread release a mutex or a write lock; a read lock
//! only its reader can release.

use std::collections::HashMap;
use std::sync::Mutex;

use super::control::Stop;
use super::raw::GuardKind;
use crate::event::{AgentId, LockMode};

/// Why an execution was wound down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cause {
    /// Every thread was (about to be) blocked for good.
    Deadlock,
    /// A thread asked for a lock it holds.
    SelfDeadlock,
    /// A thread panicked (a failed assertion, an `unwrap`).
    Panic,
}

impl Cause {
    /// The failure a panic stands for: a self-deadlock, or the program's own
    /// panic; none for the runtime's other control payloads (a thread told
    /// to stop, a fallback to real threads).
    pub fn of_panic(payload: &(dyn std::any::Any + Send)) -> Option<Cause> {
        match Stop::of(payload) {
            Some(Stop::SelfDeadlock) => Some(Cause::SelfDeadlock),
            Some(_) => None,
            None => Some(Cause::Panic),
        }
    }

    /// The failure an execution that ended with `payload` shows: as
    /// [`Cause::of_panic`], except that a thread stopped because its
    /// execution was found deadlocked, or loom's own report of every thread
    /// blocked, stands for that deadlock.
    pub fn of_ending(payload: &(dyn std::any::Any + Send)) -> Option<Cause> {
        if Stop::of(payload) == Some(Stop::Deadlocked)
            || super::panic_hook::message_of(payload).starts_with("deadlock;")
        {
            Some(Cause::Deadlock)
        } else {
            Cause::of_panic(payload)
        }
    }
}

/// What a thread is blocked in, at loom's level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Acquiring the raw lock at this address.
    Lock { lock: usize, mode: LockMode },
    /// Waiting on the loom condvar at this address; `notified` once a
    /// `notify_all` reached that condvar since.
    Condvar { condvar: usize, notified: bool },
    /// Joining this thread.
    Join { child: AgentId },
}

/// A loom guard kept on behalf of the program's guard that names it by id.
struct Kept {
    id: u64,
    owner: AgentId,
    lock: usize,
    mode: LockMode,
    guard: GuardKind<'static>,
}

#[derive(Default)]
struct State {
    kept: Vec<Kept>,
    next_id: u64,
    waits: HashMap<AgentId, Wait>,
    /// Per condvar: wakes sent by `notify_one` that no waiter has come back
    /// with yet.
    pending: HashMap<usize, u32>,
    cause: Option<Cause>,
    /// Threads whose panic is unwinding. `std::thread::panicking` cannot
    /// say: every loom thread is a coroutine of one OS thread, so while one
    /// unwinds, all of them look as if they were panicking.
    unwinding: Vec<AgentId>,
}

/// The loom side of one execution that can be wound down.
#[derive(Default)]
pub(crate) struct WindDown {
    state: Mutex<State>,
}

// SAFETY: a `WindDown` exists only for loom executions, whose threads are all
// coroutines of the one OS thread that runs the model: the loom guards it
// keeps are never touched from another OS thread.
unsafe impl Send for WindDown {}
unsafe impl Sync for WindDown {}

impl Drop for WindDown {
    fn drop(&mut self) {
        // Guards still kept when the execution goes (a guard the program
        // leaked) belong to a loom execution that is over: releasing them
        // would reach into the next one.
        let st = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        for kept in st.kept.drain(..) {
            std::mem::forget(kept.guard);
        }
    }
}

impl WindDown {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps `guard` (of the raw lock at `lock`, held by `owner`); returns
    /// the id the program's guard names it by.
    pub fn keep(&self, owner: AgentId, lock: usize, mode: LockMode, guard: GuardKind<'_>) -> u64 {
        // SAFETY: only the lifetime changes. The guard borrows the raw lock at
        // `lock`, which outlives it: it is taken back (`take`) or dropped
        // (`release`) while the lock exists, and a raw lock dropped first
        // forgets its guards (`forget_lock`) before its memory goes.
        let guard: GuardKind<'static> = unsafe { std::mem::transmute(guard) };
        let mut st = self.state();
        st.next_id += 1;
        let id = st.next_id;
        st.kept.push(Kept {
            id,
            owner,
            lock,
            mode,
            guard,
        });
        id
    }

    pub fn set_unwinding(&self, agent: AgentId, unwinding: bool) {
        let mut st = self.state();
        st.unwinding.retain(|a| *a != agent);
        if unwinding {
            st.unwinding.push(agent);
        }
    }

    pub fn is_unwinding(&self, agent: AgentId) -> bool {
        self.state().unwinding.contains(&agent)
    }

    /// Gives back the guard kept under `id`, if the wind-down has not
    /// released it already.
    pub fn take(&self, id: u64) -> Option<GuardKind<'static>> {
        let mut st = self.state();
        let i = st.kept.iter().position(|k| k.id == id)?;
        Some(st.kept.swap_remove(i).guard)
    }

    /// The raw lock at `lock` is going away: its guards can no longer be
    /// dropped (they would touch freed memory), so they are forgotten.
    pub fn forget_lock(&self, lock: usize) {
        let mut st = self.state();
        let mut i = 0;
        while i < st.kept.len() {
            if st.kept[i].lock == lock {
                std::mem::forget(st.kept.swap_remove(i).guard);
            } else {
                i += 1;
            }
        }
    }

    pub fn set_wait(&self, agent: AgentId, wait: Wait) {
        self.state().waits.insert(agent, wait);
    }

    pub fn clear_wait(&self, agent: AgentId) {
        self.state().waits.remove(&agent);
    }

    /// A notify is sent to the condvar at `condvar`. `notify_all` wakes
    /// every waiter; `notify_one` wakes one, and which one is loom's choice
    /// (a waiter preempted before loom registered it is not in loom's queue
    /// yet), so until a waiter comes back from its wait with that wake, all
    /// of them may run.
    pub fn notified(&self, condvar: usize, all: bool) {
        let mut st = self.state();
        let mut waiters = 0;
        for wait in st.waits.values_mut() {
            if let Wait::Condvar {
                condvar: c,
                notified,
            } = wait
            {
                if *c == condvar {
                    waiters += 1;
                    *notified |= all;
                }
            }
        }
        if !all && waiters > 0 {
            let pending = st.pending.entry(condvar).or_insert(0);
            *pending = (*pending + 1).min(waiters);
        }
    }

    /// A waiter came back from its wait on the condvar at `condvar`: a wake
    /// sent by `notify_one`, if one was pending, is spent.
    pub fn woke(&self, condvar: usize) {
        if let Some(pending) = self.state().pending.get_mut(&condvar) {
            *pending = pending.saturating_sub(1);
        }
    }

    /// Whether a thread blocked in `wait` stays blocked whatever the threads
    /// still running do (`finished` threads will never run again).
    fn blocked_for_good(st: &State, agent: AgentId, wait: &Wait, finished: &[AgentId]) -> bool {
        match *wait {
            Wait::Lock { lock, mode } => st.kept.iter().any(|k| {
                k.lock == lock
                    && k.owner != agent
                    && (k.mode == LockMode::Exclusive || mode == LockMode::Exclusive)
            }),
            Wait::Condvar { condvar, notified } => {
                !notified && st.pending.get(&condvar).is_none_or(|p| *p == 0)
            }
            Wait::Join { child } => !finished.contains(&child),
        }
    }

    /// Whether the execution is deadlocked once `agent` blocks in `wait`
    /// (`None`: once `agent` has ended): every other live thread is blocked
    /// for good, and so is `agent`'s own wait.
    pub fn deadlocked_after(
        &self,
        agent: AgentId,
        wait: Option<&Wait>,
        live: &[AgentId],
        finished: &[AgentId],
    ) -> bool {
        let st = self.state();
        if st.cause.is_some() {
            return false;
        }
        if let Some(wait) = wait {
            if !Self::blocked_for_good(&st, agent, wait, finished) {
                return false;
            }
        }
        let mut others = live.iter().filter(|a| **a != agent).peekable();
        // A thread ending alone is no deadlock.
        if wait.is_none() && others.peek().is_none() {
            return false;
        }
        others.all(|other| {
            st.waits
                .get(other)
                .is_some_and(|w| Self::blocked_for_good(&st, *other, w, finished))
        })
    }

    /// Records why the execution is wound down; false if it already was.
    pub fn begin(&self, cause: Cause) -> bool {
        let mut st = self.state();
        if st.cause.is_some() {
            return false;
        }
        st.cause = Some(cause);
        true
    }

    pub fn cause(&self) -> Option<Cause> {
        self.state().cause
    }

    /// Releases what `me` may release (every mutex and write lock kept here,
    /// and `me`'s read locks) and notifies every condvar a thread waits on.
    /// While any thread unwinds, the locks stay kept: a loom guard dropped
    /// then would poison loom's inner lock. The last thread to end its
    /// unwinding releases them.
    pub fn release(&self, me: AgentId) {
        let guards: Vec<GuardKind<'static>> = if std::thread::panicking() {
            Vec::new()
        } else {
            let mut st = self.state();
            let (go, stay): (Vec<Kept>, Vec<Kept>) = std::mem::take(&mut st.kept)
                .into_iter()
                .partition(|k| k.mode == LockMode::Exclusive || k.owner == me);
            st.kept = stay;
            go.into_iter().map(|k| k.guard).collect()
        };
        // Dropping a loom guard releases its lock without a scheduling point.
        drop(guards);
        // A thread registered as waiting on a condvar may not be parked in
        // loom yet: loom's wait begins with a scheduling point, where it may
        // have been preempted. A notify now would find no waiter, and the
        // thread would park for good. Yielding lets every such thread run
        // until it parks (loom runs yielded threads last).
        let condvar_waits = self
            .state()
            .waits
            .iter()
            .any(|(a, w)| *a != me && matches!(w, Wait::Condvar { .. }));
        if condvar_waits {
            loom::thread::yield_now();
        }
        // A notify is a scheduling point: a woken thread may run, return from
        // its wait and free its condvar. So each condvar is picked while a
        // thread is still registered as waiting in it (and so inside it).
        let mut notified = Vec::new();
        loop {
            let condvar = {
                let st = self.state();
                let next = st.waits.values().find_map(|w| match w {
                    Wait::Condvar { condvar, .. } if !notified.contains(condvar) => Some(*condvar),
                    _ => None,
                });
                match next {
                    Some(c) => c,
                    None => break,
                }
            };
            notified.push(condvar);
            // SAFETY: a thread waits inside the condvar at this address (its
            // wait is registered until `cv.wait` returns to it), so it is alive.
            let cv = unsafe { &*(condvar as *const loom::sync::Condvar) };
            cv.notify_all();
        }
    }
}
