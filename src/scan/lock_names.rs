//! Lock identity: what a lock expression refers to, and how a reader names it.
//!
//! A [`Place`] is where the analysis sees a lock (or an atomic, or a
//! condvar): a root (a parameter, `self` included; a static; a local the
//! function created) and the fields and indexes after it. Two places with
//! the same root and path are the same lock *instance*: that is what a
//! double lock needs. The *class* is the name a reader would give the lock
//! (`Inner.state`, `REGISTRY`, `main::forks[]`): the struct that holds the
//! lock field and the field, whatever path reached it. The lock graph works
//! on classes, as lockdep does.

use std::sync::Arc;

use super::ir::{Sym, Ty};
use super::tables::{FnId, Tables};

/// The index step of a path (`v[i]`): never the same instance twice.
pub const INDEX: &str = "[]";

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Root {
    /// Parameter `i` of the function (`self` is 0 in methods).
    Param(u32),
    /// A static (index in the tables).
    Static(u32),
    /// A value the function created (`Arc::new(Mutex::new(..))`), by the
    /// function and a number within it.
    Local(FnId, u32),
    /// Not known: never the same instance as anything.
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Place {
    pub root: Root,
    pub path: Vec<Sym>,
    /// The root's type, to name the place from.
    pub root_ty: Arc<Ty>,
    /// How a reader calls the root: `self`, the local's or static's name.
    pub root_name: Sym,
    /// The crate whose types name the place.
    pub krate: u32,
    /// The function the root belongs to (for naming locals).
    pub func: FnId,
}

impl Place {
    pub fn new(root: Root, root_ty: Ty, root_name: &str, krate: usize, func: FnId) -> Place {
        Place {
            root,
            path: Vec::new(),
            root_ty: Arc::new(root_ty),
            root_name: super::ir::intern(root_name),
            krate: krate as u32,
            func,
        }
    }

    pub fn field(&self, name: &str) -> Place {
        let mut p = self.clone();
        p.path.push(super::ir::intern(name));
        p
    }

    /// Whether two places are certainly the same object.
    pub fn same_instance(&self, other: &Place) -> bool {
        self.root != Root::Unknown
            && self.root == other.root
            && self.path == other.path
            && !self.path.iter().any(|s| &**s == INDEX)
    }

    /// This place with its root (a parameter of the function it was seen
    /// in) replaced by `arg`, the caller's argument.
    pub fn substitute(&self, arg: &Place) -> Place {
        let mut p = arg.clone();
        p.path.extend(self.path.iter().cloned());
        p
    }
}

impl Tables {
    /// The class of a place: the reader's name of the lock, or `None` when
    /// the place says too little (a parameter of a bare lock type, whose
    /// class is the caller's argument's).
    pub fn class_of(&self, place: &Place) -> Option<String> {
        let krate = place.krate as usize;
        let func = &self.fns[place.func as usize];
        let root_label = || -> String {
            match &place.root {
                Root::Static(_) => place.root_name.to_string(),
                Root::Local(..) => format!("{}::{}", func.display, place.root_name),
                _ => place.root_name.to_string(),
            }
        };
        // Walk the path with the types: the name is the struct holding the
        // last field, and the field.
        let mut ty: Option<Ty> = Some((*place.root_ty).clone());
        let mut name: Option<String> = match &place.root {
            Root::Static(_) | Root::Local(..) => Some(root_label()),
            Root::Param(_) | Root::Unknown => None,
        };
        if matches!(place.root, Root::Param(_) | Root::Unknown)
            && place.path.is_empty()
            && !self.is_wrapper(krate, &place.root_ty)
        {
            return None;
        }
        for (i, step) in place.path.iter().enumerate() {
            if &**step == INDEX {
                let next = ty.as_ref().map(|t| self.element_ty(krate, t));
                if let Some(n) = &mut name {
                    n.push_str(INDEX);
                }
                ty = next.filter(Ty::is_known);
                continue;
            }
            let current = ty.as_ref().map(|t| self.data(krate, t).clone());
            // A lock wrapper is named by the field that holds it.
            if i > 0
                && current.as_ref().is_some_and(|t| self.is_wrapper(krate, t))
                && name.is_some()
            {
                return name;
            }
            let owner = current
                .as_ref()
                .and_then(|t| self.struct_def(krate, t))
                .map(|d| d.name);
            match owner {
                Some(owner) => {
                    ty = current.as_ref().and_then(|t| self.field_ty(krate, t, step));
                    name = Some(format!("{owner}.{step}"));
                }
                None => {
                    // A type the scan does not know: keep naming from what it knows.
                    let current_name = current.as_ref().and_then(|t| match t {
                        Ty::Path { segs, .. } if segs.len() == 1 && segs[0] != "Self" => {
                            Some(segs[0].to_string())
                        }
                        _ => None,
                    });
                    name = Some(match (name, current_name) {
                        (Some(n), _) => format!("{n}.{step}"),
                        (None, Some(t)) if !self.is_generic_name(func, &t) => format!("{t}.{step}"),
                        (None, _) => match &place.root {
                            Root::Param(_) if place.root_name == "self" => {
                                match func.self_ty.as_ref().and_then(|t| t.name()) {
                                    Some(t) => format!("{t}.{step}"),
                                    None => return None,
                                }
                            }
                            _ => return None,
                        },
                    });
                    ty = None;
                }
            }
        }
        if place.path.is_empty() {
            if let (Root::Param(_), true) = (&place.root, self.is_wrapper(krate, &place.root_ty)) {
                return None;
            }
        }
        name
    }

    fn is_generic_name(&self, func: &super::tables::FnInfo, name: &str) -> bool {
        func.def.generics.iter().any(|(g, _)| &**g == name) || name == "Self"
    }
}

#[cfg(test)]
mod tests {
    use crate::scan::discover::Edition;
    use crate::scan::{scan_sources, Options};

    /// The name of the lock of every double lock in `text`.
    fn names(text: &str) -> Vec<String> {
        let outcome = scan_sources(&[("n.rs", text)], Edition::E2021, &Options::default());
        outcome
            .report
            .findings
            .iter()
            .map(|f| {
                let m = &f.message;
                let start = m.find('`').unwrap();
                let rest = &m[start + 1..];
                let rest = &rest[rest.find('`').unwrap() + 1..];
                let open = rest.find('`').unwrap();
                let close = rest[open + 1..].find('`').unwrap();
                rest[open + 1..open + 1 + close].to_string()
            })
            .collect()
    }

    #[test]
    fn locks_are_named_by_the_struct_that_holds_them() {
        let text = "
            use std::sync::{Arc, Mutex};
            struct Inner { state: Mutex<u32> }
            struct Outer { inner: Arc<Inner> }
            impl Outer {
                fn f(&self) { let _a = self.inner.state.lock(); let _b = self.inner.state.lock(); }
            }
            fn g() { let m = Arc::new(Mutex::new(0)); let c = m.clone(); let _a = m.lock(); let _b = c.lock(); }
            static S: Mutex<()> = Mutex::new(());
            fn h() { let _a = S.lock(); let _b = S.lock(); }
        ";
        assert_eq!(names(text), vec!["Inner.state", "g::m", "S"]);
    }

    #[test]
    fn a_lock_wrapper_is_named_by_the_field_that_holds_it() {
        let text = "
            use std::sync::{Mutex, MutexGuard};
            struct Locked<T>(Mutex<T>);
            impl<T> Locked<T> { fn lock(&self) -> MutexGuard<'_, T> { self.0.lock().unwrap() } }
            struct Server { clients: Locked<Vec<u32>>, names: Locked<Vec<String>> }
            impl Server {
                fn f(&self) { let _a = self.clients.lock(); let _b = self.clients.lock(); }
                fn g(&self) { let _a = self.clients.lock(); let _b = self.names.lock(); }
            }
        ";
        assert_eq!(names(text), vec!["Server.clients"]);
    }
}
