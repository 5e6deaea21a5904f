//! One execution of a model: the trace being recorded, who is who, and what
//! each thread is blocked on.
//!
//! Under loom every thread of an execution is a coroutine on the OS thread
//! that runs the model, so an OS thread-local names the current execution
//! and a `std::sync::Mutex` guards the recording: no loom operation ever runs
//! while that guard is held, so holding it cannot block a coroutine switch.
//! Under the std engine each spawned thread inherits the execution from its
//! parent.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::control::Stop;
pub(crate) use super::wind_down::Cause;
use super::wind_down::{Wait, WindDown};
use super::Engine;
use crate::event::{Action, AgentId, AgentKind, LockMode, ObjectId, ObjectKind, Site, Trace};

/// Identifies the running thread under either engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ThreadKey {
    Loom(loom::thread::ThreadId),
    Std(std::thread::ThreadId),
}

/// What a thread is waiting for, while it waits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Blocker {
    Lock { lock: ObjectId, mode: LockMode },
    Condvar { condvar: ObjectId, mutex: ObjectId },
    Join { child: AgentId },
    Barrier { barrier: ObjectId },
    Receive { channel: ObjectId },
    Send { channel: ObjectId },
    Resource { resource: ObjectId, units: u64 },
}

/// A panic seen while a model ran: its message, where, and which thread.
#[derive(Clone, Debug)]
pub(crate) struct PanicRecord {
    pub message: String,
    pub site: Site,
    pub agent: Option<AgentId>,
}

/// The recording's maps have small integer keys (thread keys, agents):
/// std's SipHash resists chosen keys and costs more than the rest of
/// recording a step, and these keys are the runtime's own.
pub(crate) type SmallMap<K, V> = rustc_hash::FxHashMap<K, V>;

/// The mutable part of an execution.
#[derive(Default)]
pub(crate) struct Recording {
    pub trace: Trace,
    agents: SmallMap<ThreadKey, AgentId>,
    /// What each blocked thread waits for, and where it started waiting.
    pub blocked: SmallMap<AgentId, (Blocker, Site)>,
    /// The first panic; later ones are usually its echoes (`join().unwrap()`).
    pub panic: Option<PanicRecord>,
    /// Threads finished (their closure returned or unwound).
    pub finished: Vec<AgentId>,
    /// Locks each thread holds now, in the order taken.
    pub held: SmallMap<AgentId, Vec<(ObjectId, LockMode, Site)>>,
    /// A re-acquisition that would block the thread on itself: the lock,
    /// the mode asked for, where, and where it was first taken.
    pub self_deadlock: Option<SelfDeadlock>,
    /// A fingerprint of each request made while holding other locks (its
    /// thread, lock, mode and site, and the locks held with theirs): the
    /// lock graph only needs rebuilding when an execution shows one not
    /// seen before, and most executions repeat the ones before. A hash, not
    /// the request: recording it must cost next to nothing.
    pub nestings: Vec<u64>,
    /// Counted resources, claims and holdings, for the banker's checks.
    pub ledger: super::ledger::Ledger,
    /// Objects named by the program itself (a pool's name), kept as they are.
    pub named: std::collections::HashSet<ObjectId>,
    /// The GPU calls of the execution (`interlock::gpu`), for the stream checker.
    /// Boxed: most programs use no GPU, and a smaller execution touches
    /// fewer pages of loom's fresh coroutine stacks.
    pub gpu: Box<crate::analysis::streams::Recorded>,
}

/// A thread asking for a lock it already holds in a mode that cannot be shared.
#[derive(Clone, Debug)]
pub(crate) struct SelfDeadlock {
    pub agent: AgentId,
    pub lock: ObjectId,
    pub requested: LockMode,
    pub site: Site,
    pub held_mode: LockMode,
    pub held_site: Site,
}

/// A running (or finished) execution.
pub(crate) struct Execution {
    pub engine: Engine,
    /// Counted from 1.
    pub number: u64,
    /// Boxed, as is the whole execution: each execution is set up on a
    /// fresh loom coroutine stack, and every page of it touched costs a
    /// fault, more than recording the execution's steps.
    recording: Mutex<Box<Recording>>,
    /// Threads spawned so far (loom allows 4 besides the model's main thread).
    pub spawned: AtomicUsize,
    /// Std engine: threads alive, to notice when all are stuck.
    pub live: AtomicUsize,
    /// Std engine: each waiting thread and the progress count it last saw
    /// when it found it could not go on. A thread that was woken but has not
    /// run yet still shows an older count, so a slow scheduler is not taken
    /// for a deadlock.
    pub waiters: Mutex<HashMap<std::thread::ThreadId, u64>>,
    /// Std engine: bumped on every step that can unblock someone.
    pub progress: AtomicU64,
    /// Std engine: set once every thread is blocked for good; blocked threads unwind.
    pub aborted: AtomicBool,
    /// Loom: loom itself panicked in this execution (see `panic_started`).
    loom_failed: AtomicBool,
    /// Values of the program's statics in this execution (see `ModelStatic`).
    pub statics: super::harness::StaticsOf,
    /// Loom with `keep_going`: how a failing execution is ended early.
    pub wind_down: Option<WindDown>,
    /// The recording as it was when the execution failed, set aside while
    /// its threads wind down (see `wind_down`).
    frozen: Mutex<Option<Box<Recording>>>,
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<Execution>>> = const { RefCell::new(None) };
}

/// Runs `f` with the execution this thread belongs to, if any.
pub(crate) fn with_current<R>(f: impl FnOnce(&Arc<Execution>) -> R) -> Option<R> {
    CURRENT
        .try_with(|c| c.borrow().as_ref().map(f))
        .ok()
        .flatten()
}

pub(crate) fn current() -> Option<Arc<Execution>> {
    with_current(Arc::clone)
}

/// Makes `execution` the current one on this OS thread until the guard drops.
pub(crate) fn enter(execution: Option<Arc<Execution>>) -> EnterGuard {
    let previous = CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), execution));
    EnterGuard { previous }
}

/// Makes `execution` the current one on this OS thread, with no way back:
/// the one it replaces is dropped.
pub(crate) fn make_current(execution: Option<Arc<Execution>>) {
    let previous = CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), execution));
    drop(previous);
}

pub(crate) struct EnterGuard {
    previous: Option<Arc<Execution>>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = CURRENT.try_with(|c| *c.borrow_mut() = previous);
    }
}

impl Execution {
    pub fn new(engine: Engine, number: u64) -> Arc<Self> {
        Self::with_wind_down(engine, number, false)
    }

    /// An execution that, with `windable` (loom, `keep_going`), is ended
    /// early when it fails, so that exploration can go on.
    pub fn with_wind_down(engine: Engine, number: u64, windable: bool) -> Arc<Self> {
        let mut recording = Box::<Recording>::default();
        recording.trace.thread("main");
        Arc::new(Execution {
            engine,
            number,
            recording: Mutex::new(recording),
            spawned: AtomicUsize::new(0),
            live: AtomicUsize::new(1),
            waiters: Mutex::new(HashMap::new()),
            progress: AtomicU64::new(0),
            aborted: AtomicBool::new(false),
            loom_failed: AtomicBool::new(false),
            statics: Default::default(),
            wind_down: (windable && engine == Engine::Loom).then(WindDown::default),
            frozen: Mutex::new(None),
        })
    }

    /// Std engine: notes that the running thread waits and saw `progress`
    /// when it last found it could not go on (`None`: it stopped waiting).
    pub fn waiting(&self, thread: std::thread::ThreadId, progress: Option<u64>) {
        let mut waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        match progress {
            Some(p) => {
                waiters.insert(thread, p);
            }
            None => {
                waiters.remove(&thread);
            }
        }
    }

    /// Std engine: every live thread waits, and each has seen `progress`
    /// (nothing happened since any of them last checked).
    pub fn all_stuck(&self, progress: u64) -> bool {
        self.waiting(std::thread::current().id(), Some(progress));
        let waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        waiters.len() >= self.live.load(Ordering::SeqCst)
            && waiters.values().all(|p| *p == progress)
    }

    pub fn recording(&self) -> MutexGuard<'_, Box<Recording>> {
        // A panic while recording cannot leave the trace half-written in a
        // way that matters to the report, so a poisoned lock is still usable.
        self.recording.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The key of the running thread. Must not be called from inside loom's
    /// own panics (loom's state may be borrowed then).
    pub fn thread_key(&self) -> ThreadKey {
        match self.engine {
            Engine::Loom => ThreadKey::Loom(loom::thread::current().id()),
            Engine::Std => ThreadKey::Std(std::thread::current().id()),
        }
    }

    /// The agent of the running thread; the model's main thread is agent 0.
    pub fn agent(&self) -> AgentId {
        let key = self.thread_key();
        let mut rec = self.recording();
        rec.agent_of(key)
    }

    /// Records that the running thread did `action` at `site`.
    pub fn record(&self, action: Action, site: Site) -> AgentId {
        let key = self.thread_key();
        let mut rec = self.recording();
        let agent = rec.agent_of(key);
        rec.trace.push(agent, action, site);
        agent
    }

    /// [`Execution::record`] for a thread already known (the holder of a
    /// guard): asking loom which thread runs costs more than the record.
    pub fn record_by(&self, agent: AgentId, action: Action, site: Site) {
        self.recording().trace.push(agent, action, site);
    }

    /// Records a step and marks the thread as blocked on `blocker` until
    /// [`Execution::unblock`].
    pub fn record_blocking(&self, action: Option<Action>, blocker: Blocker, site: Site) -> AgentId {
        let key = self.thread_key();
        let mut rec = self.recording();
        let agent = rec.agent_of(key);
        if let Some(action) = action {
            rec.trace.push(agent, action, site.clone());
        }
        rec.blocked.insert(agent, (blocker, site));
        agent
    }

    pub fn unblock(&self, agent: AgentId) {
        self.recording().blocked.remove(&agent);
    }

    /// Records a lock request. A request that the thread's own guard would
    /// block forever is recorded as a self-deadlock and unwinds the thread
    /// (with [`Stop::SelfDeadlock`]) instead of hanging the model.
    pub fn lock_request(&self, lock: ObjectId, mode: LockMode, site: Site) -> AgentId {
        let key = self.thread_key();
        let mut rec = self.recording();
        let agent = rec.agent_of(key);
        rec.trace
            .push(agent, Action::LockRequest { lock, mode }, site.clone());
        let conflict = rec.held.get(&agent).and_then(|held| {
            held.iter()
                .find(|(l, m, _)| {
                    *l == lock && (*m == LockMode::Exclusive || mode == LockMode::Exclusive)
                })
                .cloned()
        });
        if let Some(held) = rec.held.get(&agent).filter(|h| !h.is_empty()) {
            let nesting = rustc_hash::FxBuildHasher.hash_one((agent, lock, mode, &site, held));
            rec.nestings.push(nesting);
        }
        if let Some((_, held_mode, held_site)) = conflict {
            rec.self_deadlock = Some(SelfDeadlock {
                agent,
                lock,
                requested: mode,
                site,
                held_mode,
                held_site,
            });
            drop(rec);
            Stop::SelfDeadlock.raise();
        }
        rec.blocked
            .insert(agent, (Blocker::Lock { lock, mode }, site));
        agent
    }

    /// Whether `agent` holds `lock` in `mode` now.
    pub fn holds(&self, agent: AgentId, lock: ObjectId, mode: LockMode) -> bool {
        self.recording()
            .held
            .get(&agent)
            .is_some_and(|held| held.iter().any(|(l, m, _)| *l == lock && *m == mode))
    }

    pub fn lock_acquired(&self, agent: AgentId, lock: ObjectId, mode: LockMode, site: Site) {
        let mut rec = self.recording();
        rec.blocked.remove(&agent);
        rec.trace
            .push(agent, Action::LockAcquire { lock, mode }, site.clone());
        rec.held.entry(agent).or_default().push((lock, mode, site));
    }

    pub fn lock_released(&self, lock: ObjectId, mode: LockMode, site: Site) {
        let key = self.thread_key();
        let mut rec = self.recording();
        let agent = rec.agent_of(key);
        rec.lock_released(agent, lock, mode, site);
    }

    /// [`Execution::lock_released`] by the guard's holder, already known.
    pub fn lock_released_by(&self, agent: AgentId, lock: ObjectId, mode: LockMode, site: Site) {
        self.recording().lock_released(agent, lock, mode, site);
    }

    /// A counted resource with the name the program gave it.
    pub fn register_pool(&self, id: ObjectId, name: &str, total: u64) {
        let mut rec = self.recording();
        if let Some(object) = rec.trace.objects.get_mut(id.0 as usize) {
            object.name = name.to_string();
            object.capacity = Some(total);
        }
        rec.named.insert(id);
        rec.ledger.add_pool(id, total);
    }

    pub fn resource_claim(&self, pool: ObjectId, max: u64, site: Site) -> AgentId {
        let key = self.thread_key();
        let mut rec = self.recording();
        let agent = rec.agent_of(key);
        rec.trace.push(
            agent,
            Action::ResourceClaim {
                resource: pool,
                max,
            },
            site,
        );
        rec.ledger.claim(agent, pool, max);
        agent
    }

    /// Records a request for `units`; returns the thread and the claim and
    /// holding it asks against.
    pub fn resource_request(
        &self,
        pool: ObjectId,
        units: u64,
        site: Site,
    ) -> (AgentId, Option<u64>, u64) {
        let key = self.thread_key();
        let mut rec = self.recording();
        let agent = rec.agent_of(key);
        rec.trace.push(
            agent,
            Action::ResourceRequest {
                resource: pool,
                units,
            },
            site.clone(),
        );
        rec.blocked.insert(
            agent,
            (
                Blocker::Resource {
                    resource: pool,
                    units,
                },
                site,
            ),
        );
        rec.ledger.waiting.insert(agent, (pool, units));
        let claim = rec.ledger.claim_of(agent, pool);
        let held = rec.ledger.held(agent, pool);
        (agent, claim, held)
    }

    pub fn resource_granted(&self, agent: AgentId, pool: ObjectId, units: u64, site: Site) {
        let mut rec = self.recording();
        rec.blocked.remove(&agent);
        rec.ledger.waiting.remove(&agent);
        let event = rec.trace.events.len();
        rec.trace.push(
            agent,
            Action::ResourceAcquire {
                resource: pool,
                units,
            },
            site.clone(),
        );
        rec.ledger.grant(agent, pool, units, site, event);
    }

    pub fn resource_released(&self, agent: AgentId, pool: ObjectId, units: u64, site: Site) {
        let mut rec = self.recording();
        rec.trace.push(
            agent,
            Action::ResourceRelease {
                resource: pool,
                units,
            },
            site,
        );
        rec.ledger.release(agent, pool, units);
    }

    pub fn register_object(&self, kind: ObjectKind, site: Site) -> ObjectId {
        // Named from the source when the execution is analysed (see naming).
        self.recording().trace.object(kind, String::new(), site)
    }

    /// Adds a thread spawned by the running one; returns the child's agent.
    pub fn register_child(&self, name: Option<String>, site: Site) -> AgentId {
        let key = self.thread_key();
        let mut rec = self.recording();
        let parent = rec.agent_of(key);
        let number = rec.trace.agents.len();
        let child = rec.trace.agent(
            AgentKind::Thread,
            name.unwrap_or_else(|| format!("thread {number}")),
        );
        rec.trace.push(parent, Action::Spawn { child }, site);
        child
    }

    /// Called first thing in a spawned thread: ties its key to its agent.
    pub fn adopt(&self, agent: AgentId) {
        let key = self.thread_key();
        self.recording().agents.insert(key, agent);
    }

    pub fn finish(&self, agent: AgentId) {
        self.recording().finished.push(agent);
    }

    /// Names the thread of the first panic, where it is caught.
    pub fn panicked_in(&self, agent: AgentId) {
        if let Some(panic) = self.recording().panic.as_mut() {
            panic.agent.get_or_insert(agent);
        }
    }

    /// Runs `f` as agent `agent`'s body: a panic escaping it is attributed
    /// to that thread, then goes on unwinding.
    pub fn run_as<R>(&self, agent: AgentId, f: impl FnOnce() -> R) -> R {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            Ok(r) => r,
            Err(payload) => {
                self.panicked_in(agent);
                std::panic::resume_unwind(payload)
            }
        }
    }

    /// Keeps the first panic of the execution.
    pub fn note_panic(&self, record: PanicRecord) {
        let mut rec = self.recording();
        if rec.panic.is_none() {
            rec.panic = Some(record);
        }
    }
}

/// Winding down a failed loom execution (see `wind_down`).
impl Execution {
    /// Threads of the execution that have not ended, and those that have.
    fn threads(&self) -> (Vec<AgentId>, Vec<AgentId>) {
        let rec = self.recording();
        let live = rec
            .trace
            .agents
            .iter()
            .filter(|a| a.kind == AgentKind::Thread && !rec.finished.contains(&a.id))
            .map(|a| a.id)
            .collect();
        (live, rec.finished.clone())
    }

    /// Whether the execution is deadlocked once `agent` blocks in `wait`
    /// (`None`: once it has ended).
    pub fn deadlocked_after(&self, agent: AgentId, wait: Option<&Wait>) -> bool {
        let Some(wind) = self.wind_down.as_ref() else {
            return false;
        };
        let (live, finished) = self.threads();
        wind.deadlocked_after(agent, wait, &live, &finished)
    }

    /// `agent` is about to block in `wait`: if that leaves no thread able to
    /// run, the execution is deadlocked and wound down here, instead of
    /// loom's ending the whole exploration.
    pub fn block(&self, agent: AgentId, wait: Wait) {
        if self.deadlocked_after(agent, Some(&wait)) {
            self.wind_down_now(Cause::Deadlock);
        }
        if let Some(wind) = self.wind_down.as_ref() {
            wind.set_wait(agent, wait);
        }
    }

    /// `agent` came back from a blocking loom operation.
    pub fn unblock_raw(&self, agent: AgentId) {
        if let Some(wind) = self.wind_down.as_ref() {
            wind.clear_wait(agent);
        }
    }

    /// Starts winding the execution down for `cause` (once): the recording
    /// is set aside as it is now, the analyses' view of the execution.
    fn begin_wind_down(&self, cause: Cause) {
        let Some(wind) = self.wind_down.as_ref() else {
            return;
        };
        if !wind.begin(cause) {
            return;
        }
        self.aborted.store(true, Ordering::SeqCst);
        let mut rec = self.recording();
        // What the threads do from here on is kept apart; they still need
        // their names to find themselves.
        let mut trace = Trace::default();
        trace.agents = rec.trace.agents.clone();
        let rest = Recording {
            trace,
            agents: rec.agents.clone(),
            finished: rec.finished.clone(),
            ..Recording::default()
        };
        let failed = std::mem::replace(&mut *rec, Box::new(rest));
        drop(rec);
        *self.frozen.lock().unwrap_or_else(|e| e.into_inner()) = Some(failed);
    }

    /// Winds the execution down for `cause`, from the running thread: it
    /// lets go of its locks and unwinds.
    pub fn wind_down_now(&self, cause: Cause) -> ! {
        self.begin_wind_down(cause);
        if let Some(wind) = self.wind_down.as_ref() {
            wind.release(self.agent());
        }
        Stop::Deadlocked.raise()
    }

    /// A thread of a wound-down execution, at a step where it may stop:
    /// lets go of its locks and unwinds (unless it is unwinding already).
    pub fn stop_if_wound_down(&self) {
        let Some(wind) = self.wind_down.as_ref() else {
            return;
        };
        if !self.aborted.load(Ordering::SeqCst) {
            return;
        }
        let agent = self.agent();
        if !wind.is_unwinding(agent) {
            wind.release(agent);
            Stop::Deadlocked.raise();
        }
    }

    /// The panic hook saw a panic start in the running thread (after noting
    /// it). One raised inside loom (its deadlock check, its limits) means
    /// loom's state can no longer be used: that execution cannot be wound
    /// down. Any other is the thread's own: it unwinds, and a failure
    /// (`cause`) winds the execution down now, before the unwinding runs
    /// other threads (a drop that takes a lock is a scheduling point).
    pub fn panic_started(&self, inside_loom: bool, cause: Option<Cause>) {
        let Some(wind) = self.wind_down.as_ref() else {
            return;
        };
        if inside_loom {
            self.loom_failed.store(true, Ordering::SeqCst);
            return;
        }
        // The recording may be held by the code that panicked.
        let Ok(mut rec) = self.recording.try_lock() else {
            return;
        };
        let agent = rec.agent_of(self.thread_key());
        if let Some(panic) = rec.panic.as_mut() {
            panic.agent.get_or_insert(agent);
        }
        drop(rec);
        wind.set_unwinding(agent, true);
        if let Some(cause) = cause {
            self.begin_wind_down(cause);
        }
    }

    /// Runs the body of thread `agent`. Unless the execution can be wound
    /// down, a panic goes on to loom, which ends the exploration. Otherwise
    /// the panic ends this execution only: it is wound down, and `Err` is
    /// what `join` returns, as with std.
    pub fn run_thread<R>(&self, agent: AgentId, f: impl FnOnce() -> R) -> std::thread::Result<R> {
        let Some(wind) = self.wind_down.as_ref() else {
            let result = self.run_as(agent, f);
            self.finish(agent);
            return Ok(result);
        };
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run_as(agent, f)));
        wind.set_unwinding(agent, false);
        if result.is_err() && self.loom_failed.load(Ordering::SeqCst) {
            // loom itself gave up on this execution: it ends the exploration.
            std::panic::resume_unwind(result.err().expect("an error"));
        }
        self.finish(agent);
        match &result {
            Ok(_) => {
                if self.deadlocked_after(agent, None) {
                    self.begin_wind_down(Cause::Deadlock);
                    wind.release(agent);
                }
            }
            Err(payload) => {
                if Stop::of(payload.as_ref()) == Some(Stop::TooManyThreads) {
                    // The whole run moves to the std engine.
                    std::panic::resume_unwind(result.err().expect("an error"));
                }
                // Begun where the panic started (`panic_started`), unless
                // the recording was busy then.
                if let Some(cause) = Cause::of_panic(payload.as_ref()) {
                    self.begin_wind_down(cause);
                }
                wind.release(agent);
            }
        }
        result
    }

    /// The failure that wound the execution down; and the recording of the
    /// execution put back as it was then.
    pub fn wound_down_by(&self) -> Option<Cause> {
        if let Some(failed) = self.frozen.lock().unwrap_or_else(|e| e.into_inner()).take() {
            *self.recording() = failed;
        }
        self.wind_down.as_ref()?.cause()
    }
}

impl Recording {
    fn lock_released(&mut self, agent: AgentId, lock: ObjectId, mode: LockMode, site: Site) {
        self.trace
            .push(agent, Action::LockRelease { lock, mode }, site);
        if let Some(held) = self.held.get_mut(&agent) {
            if let Some(i) = held.iter().rposition(|(l, m, _)| *l == lock && *m == mode) {
                held.remove(i);
            }
        }
    }

    fn agent_of(&mut self, key: ThreadKey) -> AgentId {
        if let Some(agent) = self.agents.get(&key) {
            return *agent;
        }
        // The first thread seen is the model's main thread (agent 0).
        let agent = if self.agents.is_empty() {
            AgentId(0)
        } else {
            let n = self.trace.agents.len();
            self.trace.thread(format!("thread {n}"))
        };
        self.agents.insert(key, agent);
        agent
    }
}

/// Marks a `Relaxed` counter update; the counters only steer the std engine's
/// deadlock watch, never the model's semantics.
pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}
