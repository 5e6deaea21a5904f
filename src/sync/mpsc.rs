//! `interlock::sync::mpsc`: std's channels, built on the engine's lock and
//! condvar; each send happens-before the receive of the same message.

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

pub use std::sync::mpsc::{RecvError, SendError, TryRecvError};

use crate::event::{Action, LockMode, ObjectKind, Site};
use crate::runtime::execution::Blocker;
use crate::runtime::handle::Handle;
use crate::runtime::raw::{RawCondvar, RawLock};

struct Channel<T> {
    handle: Handle,
    lock: RawLock,
    cv: RawCondvar,
    state: UnsafeCell<State<T>>,
}

struct State<T> {
    queue: VecDeque<(T, u64)>,
    senders: usize,
    receiver: bool,
    bound: Option<usize>,
    sent: u64,
}

// SAFETY: `state` is only touched while `lock` is held.
unsafe impl<T: Send> Send for Channel<T> {}
unsafe impl<T: Send> Sync for Channel<T> {}

impl<T> Channel<T> {
    /// Runs `f` on the state with the lock held, waiting on the condvar
    /// (recorded as blocked on `blocker`) while `wait` says so.
    fn locked<R>(
        &self,
        site: &Site,
        blocker: Option<Blocker>,
        wait: impl Fn(&State<T>) -> bool,
        f: impl FnOnce(&mut State<T>) -> R,
    ) -> R {
        let mut guard = self.lock.acquire(LockMode::Exclusive);
        // SAFETY: the lock is held whenever `state` is read or written.
        if wait(unsafe { &*self.state.get() }) {
            let agent =
                blocker.and_then(|b| self.handle.record_blocking(site.clone(), |_| None, |_| b));
            while wait(unsafe { &*self.state.get() }) {
                guard = self.cv.wait(guard, &self.lock);
            }
            self.handle.unblock(agent);
        }
        let result = f(unsafe { &mut *self.state.get() });
        drop(guard);
        self.cv.notify(true);
        result
    }
}

fn new_channel<T>(bound: Option<usize>, site: Site) -> (Sender<T>, Receiver<T>) {
    let channel = Arc::new(Channel {
        handle: Handle::new(ObjectKind::Channel, site),
        lock: RawLock::new(false),
        cv: RawCondvar::new(),
        state: UnsafeCell::new(State {
            queue: VecDeque::new(),
            senders: 1,
            receiver: true,
            // A rendezvous channel is modelled as a buffer of one.
            bound: bound.map(|b| b.max(1)),
            sent: 0,
        }),
    });
    (
        Sender {
            channel: Arc::clone(&channel),
        },
        Receiver { channel },
    )
}

/// An unbounded channel, as `std::sync::mpsc::channel`.
#[track_caller]
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    new_channel(None, Site::caller())
}

/// A bounded channel, as `std::sync::mpsc::sync_channel`.
#[track_caller]
pub fn sync_channel<T>(bound: usize) -> (SyncSender<T>, Receiver<T>) {
    let (sender, receiver) = new_channel(Some(bound), Site::caller());
    (SyncSender(sender), receiver)
}

pub struct Sender<T> {
    channel: Arc<Channel<T>>,
}

impl<T> Sender<T> {
    #[track_caller]
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        let site = Site::caller();
        let blocker = self
            .channel
            .handle
            .id()
            .map(|channel| Blocker::Send { channel });
        let outcome = self.channel.locked(
            &site,
            blocker,
            |s| s.receiver && s.bound.is_some_and(|b| s.queue.len() >= b),
            |s| {
                if !s.receiver {
                    return Err(value);
                }
                s.sent += 1;
                let message = s.sent;
                s.queue.push_back((value, message));
                // Recorded under the channel's lock: the receive of this
                // message cannot come first in the trace.
                self.channel
                    .handle
                    .record(site.clone(), |channel| Action::Send { channel, message });
                Ok(())
            },
        );
        outcome.map_err(SendError)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        let site = Site::unknown();
        self.channel
            .locked(&site, None, |_| false, |s| s.senders += 1);
        Sender {
            channel: Arc::clone(&self.channel),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let site = Site::unknown();
        self.channel
            .locked(&site, None, |_| false, |s| s.senders -= 1);
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sender { .. }")
    }
}

/// The sending half of a bounded channel.
pub struct SyncSender<T>(Sender<T>);

impl<T> SyncSender<T> {
    /// Sends, blocking while the channel is full.
    #[track_caller]
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.0.send(value)
    }
}

impl<T> Clone for SyncSender<T> {
    fn clone(&self) -> Self {
        SyncSender(self.0.clone())
    }
}

impl<T> fmt::Debug for SyncSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SyncSender { .. }")
    }
}

pub struct Receiver<T> {
    channel: Arc<Channel<T>>,
}

impl<T> Receiver<T> {
    /// Receives, blocking while the channel is empty and a sender lives.
    #[track_caller]
    pub fn recv(&self) -> Result<T, RecvError> {
        let site = Site::caller();
        let blocker = self
            .channel
            .handle
            .id()
            .map(|channel| Blocker::Receive { channel });
        let got = self.channel.locked(
            &site,
            blocker,
            |s| s.queue.is_empty() && s.senders > 0,
            |s| {
                let (value, message) = s.queue.pop_front()?;
                self.channel
                    .handle
                    .record(site.clone(), |channel| Action::Receive { channel, message });
                Some(value)
            },
        );
        got.ok_or(RecvError)
    }

    #[track_caller]
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let site = Site::caller();
        self.channel.locked(
            &site,
            None,
            |_| false,
            |s| match s.queue.pop_front() {
                Some((value, message)) => {
                    self.channel
                        .handle
                        .record(site.clone(), |channel| Action::Receive { channel, message });
                    Ok(value)
                }
                None if s.senders == 0 => Err(TryRecvError::Disconnected),
                None => Err(TryRecvError::Empty),
            },
        )
    }

    /// Receives until every sender is gone.
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { receiver: self }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let site = Site::unknown();
        self.channel
            .locked(&site, None, |_| false, |s| s.receiver = false);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Receiver { .. }")
    }
}

pub struct Iter<'a, T> {
    receiver: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;

    #[track_caller]
    fn next(&mut self) -> Option<T> {
        self.receiver.recv().ok()
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

pub struct IntoIter<T> {
    receiver: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.receiver.recv().ok()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    fn into_iter(self) -> IntoIter<T> {
        IntoIter { receiver: self }
    }
}
