//! What a program checked by `interlock check` runs: its own `main` under a
//! [`Builder`](super::Builder) configured from the environment, with the
//! report written as JSON for the command line to render; and per-execution
//! statics, so that a `static` lock starts fresh in every execution.

use std::any::Any;
use std::collections::HashMap;
use std::fmt::Debug;
use std::ops::Deref;
use std::sync::{Mutex, OnceLock};

use super::execution;
use super::explore::Builder;
use super::Engine;

/// The environment variable with the run's settings (`key=value;...`).
pub const CONFIG_VAR: &str = "INTERLOCK_CHECK";
/// The environment variable naming the file the JSON report goes to.
pub const REPORT_VAR: &str = "INTERLOCK_REPORT";

/// A `main` that returns `()` or a `Result`: an `Err` is a failure like a panic.
pub trait MainOutcome {
    fn into_result(self);
}

impl MainOutcome for () {
    fn into_result(self) {}
}

impl<E: Debug> MainOutcome for Result<(), E> {
    fn into_result(self) {
        if let Err(e) = self {
            panic!("main returned an error: {e:?}");
        }
    }
}

/// The settings a checked program runs with.
pub fn builder_from_config(config: &str) -> Builder {
    let mut builder = Builder::new();
    for pair in config.split(';').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        builder = match key {
            "engine" => builder.engine(value.parse().unwrap_or(Engine::Loom)),
            "preemption_bound" if value == "none" => builder.preemption_bound(None),
            "preemption_bound" => match value.parse::<usize>() {
                Ok(b) => builder.preemption_bound(b),
                Err(_) => builder,
            },
            "max_executions" => match value.parse::<u64>() {
                Ok(m) => builder.max_executions(m),
                Err(_) => builder,
            },
            "keep_going" => builder.keep_going(value == "1"),
            "max_seconds" => match value.parse::<f64>() {
                Ok(s) if s.is_finite() && s > 0.0 => {
                    builder.max_duration(std::time::Duration::from_secs_f64(s))
                }
                _ => builder,
            },
            "progress" => builder.progress(value == "1"),
            _ => builder,
        };
    }
    builder
}

/// Runs a program's `main` through the model checker and writes the report.
pub fn check_main<R: MainOutcome + 'static>(main: fn() -> R) {
    let config = std::env::var(CONFIG_VAR).unwrap_or_default();
    let mut report = builder_from_config(&config).check(move || main().into_result());
    // Notes for the reader (a fallback to real threads, inferred claims)
    // travel with the findings to the command line.
    let notes = serde_json::Value::from(report.preamble.clone());
    report.extra.insert("notes".to_string(), notes);
    let json = report.to_json();
    match std::env::var_os(REPORT_VAR) {
        Some(path) => {
            if let Err(e) = std::fs::write(&path, json) {
                eprintln!("interlock: cannot write the report to {path:?}: {e}");
                std::process::exit(3);
            }
        }
        None => print!("{json}"),
    }
}

/// A `static` whose value is made anew in every execution (and once, outside
/// any), so that no state leaks from one explored interleaving to the next.
pub struct ModelStatic<T: 'static> {
    init: fn() -> T,
}

impl<T: 'static> ModelStatic<T> {
    pub const fn new(init: fn() -> T) -> Self {
        ModelStatic { init }
    }
}

/// A value owned by one execution. Statics only need `Sync`; the value is
/// never dropped (its execution may end on another thread than the one that
/// made it, and most values point back at their execution anyway), so `Send`
/// is not needed.
pub(crate) struct StaticValue(Box<dyn Any>);

impl Drop for StaticValue {
    fn drop(&mut self) {
        std::mem::forget(std::mem::replace(&mut self.0, Box::new(())));
    }
}

// SAFETY: the value is only handed out as `&T` where `T: Sync` (see `Deref`),
// and never dropped or moved out.
unsafe impl Send for StaticValue {}
unsafe impl Sync for StaticValue {}

type Statics = Mutex<HashMap<usize, StaticValue>>;

/// An execution's statics.
pub(crate) type StaticsOf = Statics;

fn outside_statics() -> &'static Statics {
    static STATICS: OnceLock<Statics> = OnceLock::new();
    STATICS.get_or_init(Default::default)
}

impl<T: Sync + 'static> Deref for ModelStatic<T> {
    type Target = T;

    fn deref(&self) -> &T {
        let key = self as *const Self as usize;
        let exec = execution::current();
        let statics: &Statics = match &exec {
            Some(exec) => &exec.statics,
            None => outside_statics(),
        };
        let existing = statics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .map(|v| v.0.as_ref() as *const dyn Any as *const T);
        let ptr = match existing {
            Some(ptr) => ptr,
            None => {
                // Made without the map locked: the initializer may use other statics.
                let value = StaticValue(Box::new((self.init)()));
                let mut map = statics.lock().unwrap_or_else(|e| e.into_inner());
                let entry = map.entry(key).or_insert(value);
                entry.0.as_ref() as *const dyn Any as *const T
            }
        };
        // SAFETY: values are boxed, never removed and never dropped (the map
        // lives as long as its execution, which outlives every use in it).
        unsafe { &*ptr }
    }
}

impl<T: Debug + Sync + 'static> Debug for ModelStatic<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Debug::fmt(&**self, f)
    }
}
