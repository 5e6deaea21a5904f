//! While a model runs, panics are the model's findings, not noise: the hook
//! records the first one (message, place, thread) and keeps stderr quiet.
//! Outside models it hands every panic to the hook that was there before.

use std::sync::Once;

use super::control::Stop;
use super::execution::{self, Cause, PanicRecord};
use super::Engine;
use crate::event::Site;

pub(crate) fn message_of(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_string()
    }
}

pub(crate) fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let handled = execution::with_current(|exec| {
                let file = info.location().map_or("", |l| l.file());
                // The coroutine library ends a loom thread with a panic: not
                // the program's.
                if exec.engine == Engine::Loom && file.contains("/generator-") {
                    return;
                }
                let inside_loom = exec.engine == Engine::Loom && file.contains("/loom-");
                let cause = Cause::of_panic(info.payload());
                if let Some(stop) = Stop::of(info.payload()) {
                    if cause.is_some() || stop == Stop::Deadlocked {
                        exec.panic_started(inside_loom, cause);
                    }
                    return;
                }
                let site = info
                    .location()
                    .map(|l| Site::new(l.file().to_string(), l.line(), l.column()))
                    .unwrap_or_else(Site::unknown);
                // Under loom, asking which thread runs means calling into
                // loom, which may be mid-panic itself (or already done with
                // this execution); the thread is filled in where its panic is
                // caught instead (`Execution::panicked_in`).
                let agent = (exec.engine == Engine::Std).then(|| exec.agent());
                exec.note_panic(PanicRecord {
                    message: message_of(info.payload()),
                    site,
                    agent,
                });
                exec.panic_started(inside_loom, cause);
            });
            if handled.is_none() {
                previous(info);
            }
        }));
    });
}
