//! Odd but valid Rust: macros, nested closures, generics, async, `impl
//! Trait`, labelled loops, let-else, const blocks, raw identifiers. The
//! scanner must read it all without failing, and still see the locks.
#![allow(dead_code)]
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};

macro_rules! locked {
    ($m:expr) => {
        $m.lock().unwrap()
    };
}

pub struct Shared<T> {
    inner: Mutex<Vec<T>>,
    index: RwLock<HashMap<String, usize>>,
}

impl<T: Clone + Send + 'static> Shared<T> {
    pub fn nested(&self) -> impl Fn() -> usize + '_ {
        move || {
            let outer = |k: &str| {
                let inner = |k: &str| self.index.read().unwrap().get(k).copied();
                inner(k).unwrap_or(0)
            };
            outer("a") + outer("b")
        }
    }

    pub fn in_macro(&self) {
        let guard = self.inner.lock().unwrap();
        println!("{} {}", guard.len(), self.inner.lock().unwrap().len()); // expect: double-lock
    }

    pub fn through_user_macro(&self) -> usize {
        let n = locked!(self.inner).len();
        n
    }

    pub async fn later(&self) -> usize {
        let fut = async { self.index.read().unwrap().len() };
        fut.await
    }

    pub fn labelled(&self) {
        'outer: for i in 0..3 {
            loop {
                let g = self.inner.lock().unwrap();
                if g.len() > i {
                    break 'outer;
                }
                drop(g);
                continue 'outer;
            }
        }
    }

    pub fn let_else(&self, key: &str) -> usize {
        let Some(&i) = self.index.read().unwrap().get(key) else {
            return 0;
        };
        let r#type = i;
        r#type + const { 1 }
    }

    pub fn generic_call<F: FnOnce(&mut Vec<T>)>(&self, f: F) {
        let mut guard = self.inner.lock().unwrap();
        f(&mut guard);
    }
}

pub fn spawn_all<T: Send + 'static>(items: Vec<T>, shared: Arc<Mutex<Vec<T>>>) -> impl Future<Output = ()> {
    async move {
        for item in items {
            let s = shared.clone();
            std::thread::spawn(move || s.lock().unwrap().push(item));
        }
    }
}

pub fn tuple_struct_and_unsafe(p: *const u8) -> u8 {
    struct Wrapper(Mutex<u8>);
    let w = Wrapper(Mutex::new(unsafe { p.read() }));
    let v = *w.0.lock().unwrap();
    v
}

pub fn closures_returning_closures() -> Box<dyn Fn(&Mutex<u32>) -> u32> {
    Box::new(|m| {
        let add = |x: u32| move |y: u32| x + y;
        add(1)(*m.lock().unwrap())
    })
}

pub fn matches_and_ranges(x: &Mutex<Option<u32>>) -> bool {
    matches!(*x.lock().unwrap(), Some(1..=5) | None)
}
