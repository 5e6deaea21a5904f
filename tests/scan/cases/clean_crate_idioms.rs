//! Idioms of well-known crates that are not lock bugs, each of which the
//! scanner once reported.

use std::collections::VecDeque;
use std::sync::atomic::{fence, AtomicIsize, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

pub struct Selector {
    signalled: Mutex<VecDeque<usize>>,
}

impl Selector {
    /// `continue` leaves the `if let`'s scrutinee (and its guard) behind.
    pub fn wait(&self) -> usize {
        loop {
            std::thread::yield_now();
            let token = if let Some(token) = self.signalled.lock().unwrap().pop_front() {
                token
            } else {
                continue;
            };
            return token;
        }
    }

    /// A guard bound in the loop body is dropped by `continue`.
    pub fn retry(&self) -> usize {
        let mut tries = 0;
        loop {
            let queue = &*self.signalled.lock().unwrap();
            if queue.is_empty() && tries < 3 {
                tries += 1;
                continue;
            }
            return queue.len();
        }
    }
}

pub struct Notifier {
    wakers: Mutex<Vec<usize>>,
}

impl Notifier {
    /// One build has the first `let`, another the second: never both.
    pub fn wake(&self) {
        #[cfg(feature = "std")]
        let mut wakers = self.wakers.lock().unwrap();
        #[cfg(not(feature = "std"))]
        let mut wakers = self.wakers.lock().unwrap();
        wakers.clear();
    }
}

/// A thread pool's own scope: what `spawn` is given runs on another thread.
pub struct Scope {
    jobs: Mutex<Vec<Box<dyn FnOnce(&Scope) + Send>>>,
}

impl Scope {
    pub fn spawn<F: FnOnce(&Scope) + Send + 'static>(&self, job: F) {
        self.jobs.lock().unwrap().push(Box::new(job));
    }

    pub fn run(&self) {
        let job = self.jobs.lock().unwrap().pop();
        if let Some(job) = job {
            job(self);
        }
    }
}

fn countdown(s: &Scope, max: &'static Mutex<usize>, n: usize) {
    let mut data = max.lock().unwrap();
    *data += 1;
    if n > 0 {
        s.spawn(move |s| countdown(s, max, n - 1));
    }
}

pub fn start(s: &Scope) {
    static MAX: Mutex<usize> = Mutex::new(0);
    countdown(s, &MAX, 3);
}

/// A crate's own async lock, wrapping its queue of waiters.
pub struct AsyncMutex<T> {
    inner: Mutex<T>,
}

impl<T> AsyncMutex<T> {
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        self.inner.lock().unwrap()
    }
}

pub struct File {
    state: AsyncMutex<u64>,
}

async fn flush() {}

impl File {
    /// Awaited at once: an async lock, which may be held across `.await`.
    pub async fn sync_all(&self) {
        let mut state = self.state.lock().await;
        flush().await;
        *state += 1;
    }
}

/// The park/unpark handshake through a wrapper: take and release the mutex
/// the sleeper checks under, then notify.
pub struct Lock<T>(Mutex<T>);

impl<T> Lock<T> {
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.0.lock().unwrap()
    }
}

pub struct Parker {
    state: AtomicUsize,
    mutex: Lock<()>,
    condvar: Condvar,
}

impl Parker {
    pub fn park(&self) {
        let mut m = self.mutex.lock();
        while self.state.load(Ordering::SeqCst) == 0 {
            m = self.condvar.wait(m).unwrap();
        }
    }

    pub fn unpark(&self) {
        self.state.store(1, Ordering::SeqCst);
        drop(self.mutex.lock());
        self.condvar.notify_one();
    }
}

/// The owner's index of a work-stealing deque: read `Relaxed`, published
/// after a fence with an ordering picked at build time.
pub struct Worker {
    back: AtomicIsize,
}

impl Worker {
    pub fn push(&self) {
        let b = self.back.load(Ordering::Relaxed);
        fence(Ordering::Release);
        let order = if cfg!(sanitize) {
            Ordering::Release
        } else {
            Ordering::Relaxed
        };
        self.back.store(b.wrapping_add(1), order);
    }
}
