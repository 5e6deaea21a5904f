//! Raw locks and condition variables for either engine, with no recording.
//!
//! Under loom they are loom's own primitives, so loom sees every blocking
//! point and explores around it. Under std they are built on a std mutex and
//! condvar that wait in short slices, so that a program whose threads are all
//! blocked (a real deadlock on real threads) is noticed and unwound instead of
//! hanging the run.

use std::mem::ManuallyDrop;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::control::Stop;
use super::execution::{self, bump, Execution};
use super::wind_down::Wait;
use super::Engine;
use crate::event::LockMode;

/// How long every thread must stay blocked, with no progress, before the std
/// engine calls it a deadlock.
const STD_DEADLOCK_AFTER: Duration = Duration::from_millis(300);
const STD_POLL: Duration = Duration::from_millis(5);

/// A raw lock. Under loom it also holds the execution when that execution
/// can be wound down (`keep_going`): its loom guards are then kept there.
pub(crate) enum RawLock {
    LoomMutex(loom::sync::Mutex<()>, Option<Arc<Execution>>),
    LoomRwLock(loom::sync::RwLock<()>, Option<Arc<Execution>>),
    Std(StdLock),
}

#[derive(Default)]
pub(crate) struct StdLock {
    state: std::sync::Mutex<StdLockState>,
    cv: std::sync::Condvar,
}

#[derive(Default)]
struct StdLockState {
    writer: bool,
    readers: u32,
}

impl RawLock {
    /// A lock for the engine of the current execution (std outside any).
    pub fn new(rwlock: bool) -> Self {
        let exec = execution::current();
        match exec.as_ref().map(|e| e.engine) {
            Some(Engine::Loom) => {
                let windable = exec.filter(|e| e.wind_down.is_some());
                if rwlock {
                    RawLock::LoomRwLock(loom::sync::RwLock::new(()), windable)
                } else {
                    RawLock::LoomMutex(loom::sync::Mutex::new(()), windable)
                }
            }
            _ => RawLock::Std(StdLock::default()),
        }
    }

    /// Where the lock lives, which names it in the wind-down's books.
    fn address(&self) -> usize {
        self as *const Self as usize
    }

    fn windable(&self) -> Option<&Arc<Execution>> {
        match self {
            RawLock::LoomMutex(_, exec) | RawLock::LoomRwLock(_, exec) => exec.as_ref(),
            RawLock::Std(_) => None,
        }
    }

    fn loom_acquire(&self, mode: LockMode) -> GuardKind<'_> {
        match self {
            RawLock::LoomMutex(m, _) => GuardKind::LoomMutex(m.lock().unwrap()),
            RawLock::LoomRwLock(l, _) => match mode {
                LockMode::Shared => GuardKind::LoomRead(l.read().unwrap()),
                LockMode::Exclusive => GuardKind::LoomWrite(l.write().unwrap()),
            },
            RawLock::Std(_) => unreachable!("a std lock under loom"),
        }
    }

    /// A loom guard kept by the wind-down of `exec`, for the program's guard.
    fn kept<'a>(
        &'a self,
        exec: &Arc<Execution>,
        kind: GuardKind<'a>,
        mode: LockMode,
    ) -> RawGuard<'a> {
        let wind = exec.wind_down.as_ref().expect("a windable execution");
        let id = wind.keep(exec.agent(), self.address(), mode, kind);
        // Woken into a wound-down execution: let go and unwind.
        exec.stop_if_wound_down();
        RawGuard::new(GuardKind::Kept {
            id,
            exec: Arc::clone(exec),
            _lock: std::marker::PhantomData,
        })
    }

    pub fn acquire(&self, mode: LockMode) -> RawGuard<'_> {
        if let Some(exec) = self.windable() {
            return self.acquire_windable(exec, mode);
        }
        let kind = match self {
            RawLock::LoomMutex(..) | RawLock::LoomRwLock(..) => self.loom_acquire(mode),
            RawLock::Std(l) => Self::std_acquire(l, mode),
        };
        RawGuard::new(kind)
    }

    // Kept out of line: the path to loom's lock runs on a coroutine stack,
    // where every page a deeper frame touches is a fault.
    #[inline(never)]
    fn acquire_windable<'a>(&'a self, exec: &Arc<Execution>, mode: LockMode) -> RawGuard<'a> {
        exec.stop_if_wound_down();
        let agent = exec.agent();
        exec.block(
            agent,
            Wait::Lock {
                lock: self.address(),
                mode,
            },
        );
        let kind = self.loom_acquire(mode);
        exec.unblock_raw(agent);
        self.kept(exec, kind, mode)
    }

    #[inline(never)]
    fn std_acquire(l: &StdLock, mode: LockMode) -> GuardKind<'_> {
        let exec = execution::current();
        let mut state = std_wait(exec.as_deref(), &l.state, &l.cv, |s: &mut StdLockState| {
            !s.writer && (mode == LockMode::Shared || s.readers == 0)
        });
        match mode {
            LockMode::Shared => state.readers += 1,
            LockMode::Exclusive => state.writer = true,
        }
        GuardKind::Std { lock: l, mode }
    }

    pub fn try_acquire(&self, mode: LockMode) -> Option<RawGuard<'_>> {
        if let Some(exec) = self.windable() {
            exec.stop_if_wound_down();
        }
        let kind = match self {
            RawLock::LoomMutex(m, _) => GuardKind::LoomMutex(m.try_lock().ok()?),
            RawLock::LoomRwLock(l, _) => match mode {
                LockMode::Shared => GuardKind::LoomRead(l.try_read().ok()?),
                LockMode::Exclusive => GuardKind::LoomWrite(l.try_write().ok()?),
            },
            RawLock::Std(l) => {
                let mut s = l.state.lock().unwrap_or_else(|e| e.into_inner());
                let free = !s.writer && (mode == LockMode::Shared || s.readers == 0);
                if !free {
                    return None;
                }
                match mode {
                    LockMode::Shared => s.readers += 1,
                    LockMode::Exclusive => s.writer = true,
                }
                GuardKind::Std { lock: l, mode }
            }
        };
        match self.windable() {
            Some(exec) => Some(self.kept(exec, kind, mode)),
            None => Some(RawGuard::new(kind)),
        }
    }
}

impl Drop for RawLock {
    fn drop(&mut self) {
        if let Some(wind) = self.windable().and_then(|e| e.wind_down.as_ref()) {
            wind.forget_lock(self.address());
        }
    }
}

// The loom guards are held for their `Drop`, which releases the lock.
#[allow(dead_code)]
pub(crate) enum GuardKind<'a> {
    LoomMutex(loom::sync::MutexGuard<'a, ()>),
    LoomRead(loom::sync::RwLockReadGuard<'a, ()>),
    LoomWrite(loom::sync::RwLockWriteGuard<'a, ()>),
    Std {
        lock: &'a StdLock,
        mode: LockMode,
    },
    /// A loom guard kept by the execution's wind-down under this id.
    Kept {
        id: u64,
        exec: Arc<Execution>,
        _lock: std::marker::PhantomData<&'a RawLock>,
    },
}

/// A held raw lock. Dropping it releases the lock, except while the thread
/// panics under loom: loom's guard destructors call back into loom, which
/// panics again during a deadlock's unwinding and aborts the process. The
/// execution is over by then, so the guard is forgotten instead.
pub(crate) struct RawGuard<'a> {
    kind: ManuallyDrop<GuardKind<'a>>,
}

impl<'a> RawGuard<'a> {
    fn new(kind: GuardKind<'a>) -> Self {
        RawGuard {
            kind: ManuallyDrop::new(kind),
        }
    }

    fn into_kind(mut self) -> GuardKind<'a> {
        // SAFETY: `self` is forgotten right after, so the kind is taken once.
        let kind = unsafe { ManuallyDrop::take(&mut self.kind) };
        std::mem::forget(self);
        kind
    }
}

impl Drop for RawGuard<'_> {
    fn drop(&mut self) {
        match &*self.kind {
            GuardKind::Std { lock, mode } => {
                let mut s = lock.state.lock().unwrap_or_else(|e| e.into_inner());
                match mode {
                    LockMode::Shared => s.readers -= 1,
                    LockMode::Exclusive => s.writer = false,
                }
                drop(s);
                lock.cv.notify_all();
                execution::with_current(|e| bump(&e.progress));
            }
            // While any thread unwinds (all loom threads share one OS
            // thread), the loom guard stays kept, for the wind-down.
            GuardKind::Kept { .. } if std::thread::panicking() => {}
            GuardKind::Kept { id, exec, .. } => {
                if let Some(wind) = exec.wind_down.as_ref() {
                    drop(wind.take(*id));
                }
            }
            _ if std::thread::panicking() => return,
            _ => {}
        }
        // SAFETY: dropped once, here; `self.kind` is not used again.
        unsafe { ManuallyDrop::drop(&mut self.kind) }
    }
}

/// Where a loom condvar lives, which names it in the wind-down's books.
fn condvar_address(cv: &loom::sync::Condvar) -> usize {
    cv as *const loom::sync::Condvar as usize
}

pub(crate) enum RawCondvar {
    Loom(loom::sync::Condvar, Option<Arc<Execution>>),
    Std {
        generation: std::sync::Mutex<u64>,
        cv: std::sync::Condvar,
    },
}

impl RawCondvar {
    pub fn new() -> Self {
        let exec = execution::current();
        match exec.as_ref().map(|e| e.engine) {
            Some(Engine::Loom) => RawCondvar::Loom(
                loom::sync::Condvar::new(),
                exec.filter(|e| e.wind_down.is_some()),
            ),
            _ => RawCondvar::Std {
                generation: std::sync::Mutex::new(0),
                cv: std::sync::Condvar::new(),
            },
        }
    }

    /// Releases `guard`'s lock, sleeps until notified, and takes the lock again.
    pub fn wait<'a>(&self, guard: RawGuard<'a>, lock: &'a RawLock) -> RawGuard<'a> {
        if let RawCondvar::Loom(cv, Some(exec)) = self {
            return Self::wait_windable(cv, exec, guard, lock);
        }
        match (self, guard.into_kind()) {
            (RawCondvar::Loom(cv, _), GuardKind::LoomMutex(g)) => {
                RawGuard::new(GuardKind::LoomMutex(cv.wait(g).unwrap()))
            }
            (RawCondvar::Std { generation, cv }, kind) => {
                let seen = *generation.lock().unwrap_or_else(|e| e.into_inner());
                drop(RawGuard::new(kind));
                let exec = execution::current();
                // Any notify after `seen` wakes every waiter that saw it:
                // spurious wake-ups are allowed by condvar semantics.
                drop(std_wait(exec.as_deref(), generation, cv, |g: &mut u64| {
                    *g != seen
                }));
                lock.acquire(LockMode::Exclusive)
            }
            (RawCondvar::Loom(..), other) => {
                drop(RawGuard::new(other));
                panic!("a condvar must be used with the mutex of the same model")
            }
        }
    }

    /// `wait` in an execution that can be wound down: the mutex's loom guard
    /// is taken from the wind-down for the wait and kept again after it.
    fn wait_windable<'a>(
        cv: &loom::sync::Condvar,
        exec: &Arc<Execution>,
        guard: RawGuard<'a>,
        lock: &'a RawLock,
    ) -> RawGuard<'a> {
        exec.stop_if_wound_down();
        let wind = exec.wind_down.as_ref().expect("a windable execution");
        let GuardKind::Kept { id, .. } = guard.into_kind() else {
            panic!("a condvar must be used with the mutex of the same model")
        };
        let agent = exec.agent();
        let Some(GuardKind::LoomMutex(g)) = wind.take(id) else {
            // Released by the wind-down already.
            exec.stop_if_wound_down();
            panic!("a condvar must be used with the mutex of the same model")
        };
        let wait = Wait::Condvar {
            condvar: condvar_address(cv),
            notified: false,
        };
        if exec.deadlocked_after(agent, Some(&wait)) {
            // Kept again so that the wind-down releases it.
            wind.keep(
                agent,
                lock.address(),
                LockMode::Exclusive,
                GuardKind::LoomMutex(g),
            );
            exec.wind_down_now(super::wind_down::Cause::Deadlock);
        }
        wind.set_wait(agent, wait);
        let g = cv.wait(g).unwrap();
        wind.woke(condvar_address(cv));
        exec.unblock_raw(agent);
        lock.kept(exec, GuardKind::LoomMutex(g), LockMode::Exclusive)
    }

    pub fn notify(&self, all: bool) {
        if let RawCondvar::Loom(cv, Some(exec)) = self {
            exec.stop_if_wound_down();
            if let Some(wind) = exec.wind_down.as_ref() {
                wind.notified(condvar_address(cv), all);
            }
        }
        match self {
            RawCondvar::Loom(cv, _) if all => cv.notify_all(),
            RawCondvar::Loom(cv, _) => cv.notify_one(),
            RawCondvar::Std { generation, cv } => {
                *generation.lock().unwrap_or_else(|e| e.into_inner()) += 1;
                cv.notify_all();
                execution::with_current(|e| bump(&e.progress));
            }
        }
    }
}

/// Std engine: waits on `cv` until `ready` holds, in short slices, counting
/// the thread as blocked. When every live thread is blocked and nothing has
/// moved for a while, the execution is deadlocked: mark it and unwind.
pub(crate) fn std_wait<'a, S>(
    exec: Option<&Execution>,
    mutex: &'a std::sync::Mutex<S>,
    cv: &std::sync::Condvar,
    mut ready: impl FnMut(&mut S) -> bool,
) -> std::sync::MutexGuard<'a, S> {
    let mut guard = mutex.lock().unwrap_or_else(|e| e.into_inner());
    if ready(&mut guard) {
        return guard;
    }
    let Some(exec) = exec else {
        while !ready(&mut guard) {
            guard = cv.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
        return guard;
    };
    let _waiting = Waiting::new(exec);
    let mut last_progress = exec.progress.load(Ordering::SeqCst);
    let mut since = Instant::now();
    loop {
        guard = cv
            .wait_timeout(guard, STD_POLL)
            .unwrap_or_else(|e| e.into_inner())
            .0;
        // Aborted first: once the execution is declared deadlocked, a lock
        // freed by another thread's unwinding must not let this one go on.
        if exec.aborted.load(Ordering::SeqCst) {
            drop(guard);
            Stop::Deadlocked.raise();
        }
        if ready(&mut guard) {
            return guard;
        }
        let progress = exec.progress.load(Ordering::SeqCst);
        if progress != last_progress {
            last_progress = progress;
            since = Instant::now();
        }
        if exec.all_stuck(progress) && since.elapsed() >= STD_DEADLOCK_AFTER {
            exec.aborted.store(true, Ordering::SeqCst);
        }
    }
}

/// Polls `done` in short slices as a blocked thread of a std execution (for
/// joins, which std cannot wait on with a timeout).
pub(crate) fn std_poll(exec: &Execution, mut done: impl FnMut() -> bool) {
    let mutex = std::sync::Mutex::new(());
    let cv = std::sync::Condvar::new();
    drop(std_wait(Some(exec), &mutex, &cv, |_| done()));
}

/// Registers the running thread as a waiter of a std execution while it waits.
struct Waiting<'a>(&'a Execution);

impl<'a> Waiting<'a> {
    fn new(exec: &'a Execution) -> Self {
        let progress = exec.progress.load(Ordering::SeqCst);
        exec.waiting(std::thread::current().id(), Some(progress));
        Waiting(exec)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting(std::thread::current().id(), None);
    }
}
