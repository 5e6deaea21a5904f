//! Raw locks and condition variables for either engine, with no recording.
//!
//! Under loom they are loom's own primitives, so loom sees every blocking
//! point and explores around it. Under std they are built on a std mutex and
//! condvar that wait in short slices, so that a program whose threads are all
//! blocked (a real deadlock on real threads) is noticed and unwound instead of
//! hanging the run.

use std::mem::ManuallyDrop;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::engine::Engine;
use super::execution::{self, bump, Execution};
use crate::event::LockMode;

/// Thrown (with `panic_any`) in threads of a std-engine execution that was
/// found deadlocked, so that they unwind and the run can report.
pub(crate) struct Deadlocked;

/// How long every thread must stay blocked, with no progress, before the std
/// engine calls it a deadlock.
const STD_DEADLOCK_AFTER: Duration = Duration::from_millis(300);
const STD_POLL: Duration = Duration::from_millis(5);

pub(crate) enum RawLock {
    LoomMutex(loom::sync::Mutex<()>),
    LoomRwLock(loom::sync::RwLock<()>),
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
        match execution::with_current(|e| e.engine) {
            Some(Engine::Loom) if rwlock => RawLock::LoomRwLock(loom::sync::RwLock::new(())),
            Some(Engine::Loom) => RawLock::LoomMutex(loom::sync::Mutex::new(())),
            _ => RawLock::Std(StdLock::default()),
        }
    }

    pub fn acquire(&self, mode: LockMode) -> RawGuard<'_> {
        let kind = match self {
            RawLock::LoomMutex(m) => GuardKind::LoomMutex(m.lock().unwrap()),
            RawLock::LoomRwLock(l) => match mode {
                LockMode::Shared => GuardKind::LoomRead(l.read().unwrap()),
                LockMode::Exclusive => GuardKind::LoomWrite(l.write().unwrap()),
            },
            RawLock::Std(l) => {
                let exec = execution::current();
                let mut state =
                    std_wait(exec.as_deref(), &l.state, &l.cv, |s: &mut StdLockState| {
                        !s.writer && (mode == LockMode::Shared || s.readers == 0)
                    });
                match mode {
                    LockMode::Shared => state.readers += 1,
                    LockMode::Exclusive => state.writer = true,
                }
                GuardKind::Std { lock: l, mode }
            }
        };
        RawGuard::new(kind)
    }

    pub fn try_acquire(&self, mode: LockMode) -> Option<RawGuard<'_>> {
        let kind = match self {
            RawLock::LoomMutex(m) => GuardKind::LoomMutex(m.try_lock().ok()?),
            RawLock::LoomRwLock(l) => match mode {
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
        Some(RawGuard::new(kind))
    }
}

// The loom guards are held for their `Drop`, which releases the lock.
#[allow(dead_code)]
pub(crate) enum GuardKind<'a> {
    LoomMutex(loom::sync::MutexGuard<'a, ()>),
    LoomRead(loom::sync::RwLockReadGuard<'a, ()>),
    LoomWrite(loom::sync::RwLockWriteGuard<'a, ()>),
    Std { lock: &'a StdLock, mode: LockMode },
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
            _ if std::thread::panicking() => return,
            _ => {}
        }
        // SAFETY: dropped once, here; `self.kind` is not used again.
        unsafe { ManuallyDrop::drop(&mut self.kind) }
    }
}

pub(crate) enum RawCondvar {
    Loom(loom::sync::Condvar),
    Std {
        generation: std::sync::Mutex<u64>,
        cv: std::sync::Condvar,
    },
}

impl RawCondvar {
    pub fn new() -> Self {
        match execution::with_current(|e| e.engine) {
            Some(Engine::Loom) => RawCondvar::Loom(loom::sync::Condvar::new()),
            _ => RawCondvar::Std {
                generation: std::sync::Mutex::new(0),
                cv: std::sync::Condvar::new(),
            },
        }
    }

    /// Releases `guard`'s lock, sleeps until notified, and takes the lock again.
    pub fn wait<'a>(&self, guard: RawGuard<'a>, lock: &'a RawLock) -> RawGuard<'a> {
        match (self, guard.into_kind()) {
            (RawCondvar::Loom(cv), GuardKind::LoomMutex(g)) => {
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
            (RawCondvar::Loom(_), other) => {
                drop(RawGuard::new(other));
                panic!("a condvar must be used with the mutex of the same model")
            }
        }
    }

    pub fn notify(&self, all: bool) {
        match self {
            RawCondvar::Loom(cv) if all => cv.notify_all(),
            RawCondvar::Loom(cv) => cv.notify_one(),
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
            std::panic::panic_any(Deadlocked);
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
