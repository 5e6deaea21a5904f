//! `interlock::thread`: `std::thread` whose threads are agents of the model.
//!
//! Under the loom engine threads are loom's, so their interleavings are
//! explored; under the std engine they are real threads that inherit the
//! execution that records them.

use std::fmt;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::event::{Action, AgentId, Site};
use crate::runtime::control::Stop;
use crate::runtime::execution::{self, bump, Blocker, Execution};
use crate::runtime::raw::std_poll;
use crate::runtime::wind_down::Wait;
use crate::runtime::Engine;

/// loom explores at most this many threads besides the model's main thread.
pub(crate) const LOOM_MAX_SPAWNED: usize = 4;

/// Spawns a thread, as `std::thread::spawn`.
#[track_caller]
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new()
        .spawn_at(f, Site::caller())
        .expect("failed to spawn thread")
}

/// Thread factory, as `std::thread::Builder`: names show up in reports.
#[derive(Debug, Default)]
pub struct Builder {
    name: Option<String>,
    stack_size: Option<usize>,
}

impl Builder {
    pub fn new() -> Self {
        Builder::default()
    }

    pub fn name(mut self, name: String) -> Self {
        self.name = Some(name);
        self
    }

    pub fn stack_size(mut self, size: usize) -> Self {
        self.stack_size = Some(size);
        self
    }

    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.spawn_at(f, Site::caller())
    }

    fn spawn_at<F, T>(self, f: F, site: Site) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let Some(exec) = execution::current() else {
            let mut builder = std::thread::Builder::new();
            if let Some(name) = self.name {
                builder = builder.name(name);
            }
            return Ok(JoinHandle {
                inner: Inner::Std(builder.spawn(f)?),
                exec: None,
                child: None,
                thread: Thread { name: None },
            });
        };
        exec.stop_if_wound_down();
        if exec.engine == Engine::Loom
            && exec.spawned.fetch_add(1, Ordering::Relaxed) >= LOOM_MAX_SPAWNED
        {
            Stop::TooManyThreads.raise();
        }
        let child = exec.register_child(self.name.clone(), site);
        let thread = Thread {
            name: Some(exec.recording().trace.agent_name(child).to_string()),
        };
        let inner = match exec.engine {
            Engine::Loom => {
                let exec = Arc::clone(&exec);
                Inner::Loom(loom::thread::spawn(move || {
                    exec.adopt(child);
                    exec.run_thread(child, f)
                }))
            }
            Engine::Std => {
                exec.live.fetch_add(1, Ordering::SeqCst);
                let inherited = Arc::clone(&exec);
                let mut builder = std::thread::Builder::new();
                if let Some(name) = self.name {
                    builder = builder.name(name);
                }
                if let Some(size) = self.stack_size {
                    builder = builder.stack_size(size);
                }
                Inner::Std(builder.spawn(move || {
                    let _current = execution::enter(Some(Arc::clone(&inherited)));
                    inherited.adopt(child);
                    let _done = ThreadDone(&inherited, child);
                    f()
                })?)
            }
        };
        Ok(JoinHandle {
            inner,
            exec: Some(exec),
            child: Some(child),
            thread,
        })
    }
}

/// Std engine: a thread that ends, normally or by unwinding, is no longer live.
struct ThreadDone<'a>(&'a Arc<Execution>, AgentId);

impl Drop for ThreadDone<'_> {
    fn drop(&mut self) {
        self.0.finish(self.1);
        self.0.live.fetch_sub(1, Ordering::SeqCst);
        bump(&self.0.progress);
    }
}

enum Inner<T> {
    /// A panic that winds the execution down comes back through `join`.
    Loom(loom::thread::JoinHandle<std::thread::Result<T>>),
    Std(std::thread::JoinHandle<T>),
}

/// An owned permission to join a thread, as `std::thread::JoinHandle`.
pub struct JoinHandle<T> {
    inner: Inner<T>,
    exec: Option<Arc<Execution>>,
    child: Option<AgentId>,
    thread: Thread,
}

impl<T> JoinHandle<T> {
    /// Waits for the thread to finish; its history happens-before what follows.
    #[track_caller]
    pub fn join(self) -> std::thread::Result<T> {
        self.join_at(Site::caller())
    }

    fn join_at(self, site: Site) -> std::thread::Result<T> {
        let waiting = match (&self.exec, self.child) {
            (Some(exec), Some(child)) => Some((
                exec,
                child,
                exec.record_blocking(None, Blocker::Join { child }, site.clone()),
            )),
            _ => None,
        };
        let result = match self.inner {
            Inner::Loom(handle) => match (&self.exec, self.child) {
                (Some(exec), Some(child)) if exec.wind_down.is_some() => {
                    exec.stop_if_wound_down();
                    let agent = exec.agent();
                    exec.block(agent, Wait::Join { child });
                    let result = handle.join();
                    exec.unblock_raw(agent);
                    exec.stop_if_wound_down();
                    result.and_then(|r| r)
                }
                _ => handle.join().and_then(|r| r),
            },
            Inner::Std(handle) => {
                if let Some(exec) = &self.exec {
                    std_poll(exec, || handle.is_finished());
                }
                handle.join()
            }
        };
        if let Some((exec, child, agent)) = waiting {
            exec.unblock(agent);
            exec.record(Action::Join { child }, site);
        }
        result
    }

    pub fn thread(&self) -> &Thread {
        &self.thread
    }

    pub fn is_finished(&self) -> bool {
        match &self.inner {
            Inner::Loom(_) => self
                .exec
                .as_ref()
                .zip(self.child)
                .is_some_and(|(e, c)| e.recording().finished.contains(&c)),
            Inner::Std(handle) => handle.is_finished(),
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("thread", &self.thread)
            .finish()
    }
}

/// A handle to a thread, as `std::thread::Thread` (name only).
#[derive(Clone, Debug)]
pub struct Thread {
    name: Option<String>,
}

impl Thread {
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

/// The running thread.
pub fn current() -> Thread {
    match execution::current() {
        Some(exec) => {
            let agent = exec.agent();
            Thread {
                name: Some(exec.recording().trace.agent_name(agent).to_string()),
            }
        }
        None => Thread {
            name: std::thread::current().name().map(str::to_string),
        },
    }
}

/// Gives other threads a chance to run; under loom, a scheduling point.
pub fn yield_now() {
    execution::with_current(|e| e.stop_if_wound_down());
    match execution::with_current(|e| e.engine) {
        Some(Engine::Loom) => loom::thread::yield_now(),
        _ => std::thread::yield_now(),
    }
}

/// Sleeps; under loom time does not pass, so this only yields.
pub fn sleep(duration: Duration) {
    match execution::with_current(|e| e.engine) {
        Some(Engine::Loom) => loom::thread::yield_now(),
        _ => std::thread::sleep(duration),
    }
}

/// Creates a scope for spawning threads that borrow from the caller, as
/// `std::thread::scope`: every thread spawned in it is joined before it returns.
#[track_caller]
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    let scope = Scope {
        handles: std::sync::Mutex::new(Vec::new()),
        _scope: std::marker::PhantomData,
        _env: std::marker::PhantomData,
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&scope)));
    let site = Site::caller();
    let handles = std::mem::take(&mut *scope.handles.lock().unwrap_or_else(|e| e.into_inner()));
    let mut a_thread_panicked = false;
    for handle in handles {
        let pending = handle.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(handle) = pending {
            a_thread_panicked |= handle.join_at(site.clone()).is_err();
        }
    }
    match result {
        Err(payload) => std::panic::resume_unwind(payload),
        Ok(_) if a_thread_panicked => panic!("a scoped thread panicked"),
        Ok(value) => value,
    }
}

type SharedHandle = Arc<std::sync::Mutex<Option<JoinHandle<()>>>>;

/// A scope to spawn borrowing threads in; see [`scope`].
pub struct Scope<'scope, 'env: 'scope> {
    handles: std::sync::Mutex<Vec<SharedHandle>>,
    _scope: std::marker::PhantomData<&'scope mut &'scope ()>,
    _env: std::marker::PhantomData<&'env mut &'env ()>,
}

impl<'scope> Scope<'scope, '_> {
    /// Spawns a thread that may borrow anything that outlives the scope.
    #[track_caller]
    pub fn spawn<F, T>(&'scope self, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let result: Arc<std::sync::Mutex<Option<T>>> = Arc::new(std::sync::Mutex::new(None));
        let slot = Arc::clone(&result);
        let job: Box<dyn FnOnce() + Send + 'scope> = Box::new(move || {
            let value = f();
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(value);
        });
        // SAFETY: `scope` joins every thread spawned here before it returns,
        // so nothing the job borrows is gone while it runs (as in std).
        let job: Box<dyn FnOnce() + Send + 'static> = unsafe { std::mem::transmute(job) };
        let handle = Builder::new()
            .spawn_at(job, Site::caller())
            .expect("failed to spawn thread");
        let thread = handle.thread.clone();
        let shared = Arc::new(std::sync::Mutex::new(Some(handle)));
        self.handles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arc::clone(&shared));
        ScopedJoinHandle {
            handle: shared,
            result,
            thread,
            _scope: std::marker::PhantomData,
        }
    }
}

/// An owned permission to join a scoped thread.
pub struct ScopedJoinHandle<'scope, T> {
    handle: SharedHandle,
    result: Arc<std::sync::Mutex<Option<T>>>,
    thread: Thread,
    _scope: std::marker::PhantomData<&'scope ()>,
}

impl<T> ScopedJoinHandle<'_, T> {
    /// Waits for the thread to finish and returns its result.
    #[track_caller]
    pub fn join(self) -> std::thread::Result<T> {
        let site = Site::caller();
        let pending = self.handle.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(handle) = pending {
            handle.join_at(site)?;
        }
        let value = self.result.lock().unwrap_or_else(|e| e.into_inner()).take();
        value.ok_or_else(|| {
            Box::new("the scoped thread did not finish") as Box<dyn std::any::Any + Send>
        })
    }

    pub fn thread(&self) -> &Thread {
        &self.thread
    }
}
