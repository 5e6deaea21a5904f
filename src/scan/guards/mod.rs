//! Guard lifetimes: an abstract interpretation of one function body that
//! knows, at every lock acquisition, call, `.await`, condvar operation and
//! atomic access, which guards are alive.
//!
//! It follows Rust's rules for when values are dropped:
//!
//! - a guard bound by `let g = ..` lives to the end of its block, or until
//!   `drop(g)`, a move into a callee (dropped when the callee returns, unless
//!   the callee hands it back), or an assignment over it; `let _ = ..` binds
//!   nothing, so the guard is a temporary;
//! - temporaries live to the end of their statement, except where Rust
//!   makes a smaller temporary scope: `if`/`while` conditions, match guards
//!   and arm bodies, the right side of `&&`/`||`, `if`/`else`/loop bodies;
//! - the temporaries of a `match` scrutinee live through every arm; those of
//!   an `if let` scrutinee through the `else` too before edition 2024 (not
//!   in 2024); those of a `while let` scrutinee through the body; those of a
//!   `for` loop's iterator expression through the whole loop; tail
//!   expression temporaries outlive their block before 2024;
//! - `place = value` evaluates the value first, and drops the old value of
//!   the place after.
//!
//! The result ([`FnFacts`]) is the function's events in order, each with the
//! guards held then. Calls are resolved here; what callees do is joined in
//! by [`super::summary`].
//!
//! The files: [`facts`] (what it yields), [`state`] (the interpreter's
//! state), [`scopes`] (drop scopes), [`patterns`], [`expressions`],
//! [`control_flow`], [`closures`] (and spawns), [`calls`].

mod calls;
mod closures;
mod control_flow;
mod expressions;
mod facts;
mod patterns;
mod scopes;
mod state;

use closures::*;
use expressions::*;
pub use facts::*;
use patterns::*;
use state::*;
// The interpreter's owner of a guard, not the item owner of `ir`.
use state::Owner;

use std::ops::Range;
use std::rc::Rc;
use std::sync::Arc;

use super::api::{diverges, lock_method, passes_guard, spawns, LockFlavor};
use super::calls::Scope;
use super::discover::Edition;
use super::ir::*;
use super::lock_names::{Place, Root, INDEX};
use super::tables::{FnId, ReturnRoot, Tables};
use crate::event::LockMode;

/// The type of a value a foreign type's method returned: known to be
/// another crate's, though not which (see `Interp::foreign`).
const FOREIGN: &str = "<foreign>";

/// Evaluations one function may take (closures inlined at many call sites
/// and loops walked twice multiply).
const FUEL: u32 = 400_000;
/// How deep closures are inlined into one another.
const MAX_INLINE: usize = 4;

/// Analyses function `f`.
pub fn interpret(tables: &Tables, f: FnId) -> FnFacts {
    let info = &tables.fns[f as usize];
    let Some(body) = info.def.body.as_ref() else {
        return FnFacts::default();
    };
    let file = &tables.files[info.file];
    let mut i = Interp {
        claims: 0,
        t: tables,
        f,
        krate: info.krate,
        edition: file.edition,
        scope: Scope {
            krate: info.krate,
            module: &info.def.module,
            self_ty: info.self_ty.as_ref(),
            generics: &info.def.generics,
        },
        out: FnFacts {
            ctxs: vec![Ctx {
                parent: 0,
                body: 0,
                call: 0,
                arg: 0,
                held: Vec::new(),
            }],
            ..FnFacts::default()
        },
        cur: 0,
        locals: Vec::new(),
        live: Vec::new(),
        dead: false,
        temps: Vec::new(),
        next_temp: 0,
        ctx: 0,
        loop_depth: 0,
        control: Vec::new(),
        closures: Vec::new(),
        inlining: Vec::new(),
        next_local: 0,
        loops: Vec::new(),
        fuel: FUEL,
        in_async: info.def.is_async,
        in_while_let: 0,
        segment: 0,
    };
    i.out.bodies.push(Body {
        agent: AgentKind::Function,
        is_async: info.def.is_async,
        events: Vec::new(),
        spawned_by: None,
        joined_at: None,
        last_segment: 0,
    });
    i.bind_params();
    let scope = i.push_temp();
    let value = i.block(body, true);
    if !i.dead {
        let guards = value.guards.clone();
        i.event(EventKind::Return { guards }, body.end);
    }
    i.pop_temp(scope, &[]);
    i.detach_unused_closures();
    i.out.truncated = i.fuel == 0;
    i.out
}

#[allow(dead_code)]
fn _assert_send() {
    fn send<T: Send>() {}
    send::<FnFacts>();
    let _ = Arc::new(());
}
