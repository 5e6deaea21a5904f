//! `interlock banker FILE.toml`: the banker's algorithm on a resource-allocation
//! state, explained step by step.
//!
//! The report's preamble teaches the algorithm: the Allocation, Max, Need (and
//! Request) tables, the safety check with the work vector after each step,
//! each `[[grant]]`'s verdict and why, and deadlock detection over the
//! outstanding requests. Findings: `unsafe-state` when the state is unsafe or a
//! grant would make it so, `deadlock` when processes are deadlocked.

use clap::Args;
use serde_json::{json, Map, Value};
use std::path::PathBuf;

use super::{Failure, OutputArgs};
use crate::analysis::banker::{self, Detection, Safety, Shortfall, State, Step, Verdict};
use crate::finding::{Finding, Kind};
use crate::input::banker_state::{self, BankerFile};
use crate::input::InputError;
use crate::report::{Report, Summary};

pub const AFTER_HELP: &str = "\
The state file (TOML):

  available = { A = 3, B = 3, C = 2 }     # free units; or: total = { A = 10, B = 5, C = 7 }

  [process.P0]
  max        = { A = 7, B = 5, C = 3 }    # the most P0 may ever hold
  allocation = { A = 0, B = 1, C = 0 }    # what P0 holds now
  # request  = { A = 1 }                  # what P0 is blocked waiting for (deadlock detection)

  [[grant]]                               # requests to evaluate, in order
  process = \"P1\"
  request = { A = 1, B = 0, C = 2 }

A resource missing from a table counts as 0. Processes keep the order of the file.

Exit codes: 0 safe, no request refused as unsafe, no deadlock; 1 otherwise;
2 the file could not be used.";

#[derive(Args, Debug)]
pub struct BankerArgs {
    /// The resource-allocation state (TOML).
    #[arg(value_name = "FILE.toml")]
    pub file: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: &BankerArgs) -> Result<i32, Failure> {
    let file = banker_state::load(&args.file).map_err(Failure::Input)?;
    let report = report(&file).map_err(Failure::Input)?;
    super::emit(&report, &args.output)
}

/// Runs the safety check, every grant and deadlock detection on a parsed
/// state file, and builds the report (findings, teaching preamble, JSON extras).
pub fn report(file: &BankerFile) -> Result<Report, Box<InputError>> {
    let analysis_error = |e: banker::StateError| Box::new(InputError::new(e.to_string()));
    let state = &file.state;
    let mut text = Text::new(state);
    let mut findings = Vec::new();
    let mut extra = Map::new();

    text.header(file);

    // 1. Safety of the state as written.
    let safety = banker::safety(state).map_err(analysis_error)?;
    text.safety(state, &safety, "Need");
    extra.insert("safe".into(), json!(safety.is_safe()));
    extra.insert(
        "safe_sequence".into(),
        if safety.is_safe() {
            json!(text.names(&safety.sequence()))
        } else {
            Value::Null
        },
    );
    if !safety.is_safe() {
        let stuck = text.names(&safety.unfinished());
        let mut finding = Finding::new(
            Kind::UnsafeState,
            format!(
                "the state is unsafe: no order of the processes lets {} finish",
                join(&stuck)
            ),
        )
        .at(
            &file.available_site,
            if file.from_total {
                format!(
                    "Total = {}, so Available = {}",
                    vector(&state.total().unwrap_or_default()),
                    vector(&state.available)
                )
            } else {
                format!("Available = {}", vector(&state.available))
            },
        );
        for s in &safety.stuck {
            finding = finding.at(
                &file.process_sites[s.process],
                text.shortfall(s, "may still need"),
            );
        }
        findings.push(
            finding
                .with_note(format!(
                    "safety check: {}",
                    progress(&text, &safety.steps, &state.available)
                ))
                .with_help(
                    "an unsafe state is not yet a deadlock, but some requests within the declared \
                     maximums now lead to one; the banker's algorithm never grants a request that \
                     leads here: lower an allocation or a max, or add units",
                ),
        );
    }

    // 2. The grants, each against the state the previous one left.
    let mut current = state.clone();
    let mut requests = Vec::new();
    if !file.grants.is_empty() {
        text.blank();
        text.line("Requests, each checked against the state the previous ones left:");
    }
    for (i, grant) in file.grants.iter().enumerate() {
        let p = grant.process;
        let name = &state.processes[p];
        let outcome = banker::request(&current, p, &grant.request).map_err(analysis_error)?;
        let asked = text.named(&grant.request);
        text.line(format!(
            "  {}. {name} requests {}: {}",
            i + 1,
            vector(&grant.request),
            outcome.verdict.as_str()
        ));
        text.line(format!("     {}.", capitalized(&outcome.reason)));
        match &outcome.verdict {
            Verdict::Granted { state: next, .. } => {
                text.line(format!(
                    "     Available is now {}; {name} holds {}",
                    vector(&next.available),
                    vector(&next.allocation[p])
                ));
                current = next.clone();
            }
            Verdict::Unsafe { safety: after } => {
                // Unsafe implies the request fits in what is available.
                let would: Vec<u64> = current
                    .available
                    .iter()
                    .zip(&grant.request)
                    .map(|(a, r)| a - r)
                    .collect();
                text.line(format!(
                    "     Had it been granted, Available would be {}: {}.",
                    vector(&would),
                    progress(&text, &after.steps, &would)
                ));
                text.line(format!("     The state is unchanged; {name} waits."));
                let stuck = text.names(&after.unfinished());
                let mut finding = Finding::new(
                    Kind::UnsafeState,
                    format!("granting {name}'s request {asked} would leave the state unsafe"),
                )
                .at(
                    &grant.site,
                    format!("refused: afterwards {} could not be sure to finish", join(&stuck)),
                )
                .with_note(outcome.reason.clone());
                for s in &after.stuck {
                    finding = finding.with_note(text.shortfall(s, "would still need"));
                }
                findings.push(finding.with_help(format!(
                    "make {name} wait until other processes have released units, then check the request again"
                )));
            }
            Verdict::Wait => text.line("     The state is unchanged."),
            Verdict::Invalid => text.line(format!(
                "     The state is unchanged: {name} broke its promise; a process that exceeds its claim is an error, not a wait."
            )),
        }
        requests.push(json!({
            "process": name,
            "request": text.object(&grant.request),
            "verdict": outcome.verdict.as_str(),
            "reason": outcome.reason,
        }));
    }
    extra.insert("requests".into(), Value::Array(requests));

    // 3. Deadlock detection over the outstanding requests of the state as written.
    let detection = banker::detect(state).map_err(analysis_error)?;
    text.detection(state, &detection);
    extra.insert(
        "deadlocked".into(),
        json!(text.names(&detection.deadlocked_processes())),
    );
    if detection.is_deadlocked() {
        let names = text.names(&detection.deadlocked_processes());
        let mut finding = Finding::new(
            Kind::Deadlock,
            format!(
                "{} {} deadlocked: each waits for units that only the others hold",
                join(&names),
                if names.len() == 1 { "is" } else { "are" }
            ),
        );
        for s in &detection.deadlocked {
            let site = file.request_sites[s.process]
                .as_ref()
                .unwrap_or(&file.process_sites[s.process]);
            finding = finding.at(
                site,
                format!(
                    "{} requests {} while holding {}",
                    state.processes[s.process],
                    text.named(&state.request_of(s.process)),
                    text.named(&state.allocation[s.process])
                ),
            );
        }
        for s in &detection.deadlocked {
            finding = finding.with_note(text.shortfall(s, "waits for"));
        }
        findings.push(finding.with_help(
            "abort or preempt one of them so that what it holds is released; a banker that \
             grants only requests leaving the state safe never gets here",
        ));
    }

    let mut report = Report::new(
        findings,
        Summary {
            files: 1,
            executions: 0,
            complete: true,
            ..Summary::default()
        },
    );
    report.extra = extra;
    report.preamble = text.lines;
    Ok(report)
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `(3, 3, 2)`
fn vector(v: &[u64]) -> String {
    let parts: Vec<String> = v.iter().map(u64::to_string).collect();
    format!("({})", parts.join(", "))
}

fn join(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// How far a safety check got: "P1, P3 can finish (Work = (7, 4, 3)), then
/// no other process can", or "no process can finish (Work = (2, 1, 0))".
fn progress(text: &Text, steps: &[Step], available: &[u64]) -> String {
    match steps.last() {
        None => format!("no process can finish (Work = {})", vector(available)),
        Some(last) => {
            let order = text.names(&steps.iter().map(|s| s.process).collect::<Vec<_>>());
            format!(
                "{} can finish (Work = {}), then no other process can",
                order.join(", "),
                vector(&last.work)
            )
        }
    }
}

/// The preamble being written, with the state's names at hand.
struct Text {
    processes: Vec<String>,
    resources: Vec<String>,
    /// Width of the process-name column.
    name_width: usize,
    lines: Vec<String>,
}

impl Text {
    fn new(state: &State) -> Self {
        Text {
            processes: state.processes.clone(),
            resources: state.resources.clone(),
            name_width: state
                .processes
                .iter()
                .map(|p| p.chars().count())
                .max()
                .unwrap_or(0),
            lines: Vec::new(),
        }
    }

    fn line(&mut self, line: impl Into<String>) {
        self.lines.push(line.into());
    }

    fn blank(&mut self) {
        self.lines.push(String::new());
    }

    fn names(&self, ps: &[usize]) -> Vec<String> {
        ps.iter().map(|&p| self.processes[p].clone()).collect()
    }

    /// `{ A = 1, C = 2 }`, as written in the state file (zeros left out).
    fn named(&self, v: &[u64]) -> String {
        let parts: Vec<String> = self
            .resources
            .iter()
            .zip(v)
            .filter(|(_, n)| **n > 0)
            .map(|(r, n)| format!("{r} = {n}"))
            .collect();
        if parts.is_empty() {
            "nothing".into()
        } else {
            format!("{{ {} }}", parts.join(", "))
        }
    }

    /// A JSON object of counts by resource name.
    fn object(&self, v: &[u64]) -> Value {
        Value::Object(
            self.resources
                .iter()
                .zip(v)
                .map(|(r, n)| (r.clone(), json!(n)))
                .collect(),
        )
    }

    /// "P0 may still need 5 of drives, but at most 4 can ever be free", for findings.
    fn shortfall(&self, s: &Shortfall, verb: &str) -> String {
        format!(
            "{} {verb} {} of {}, but at most {} can ever be free",
            self.processes[s.process], s.needed, self.resources[s.resource], s.free
        )
    }

    /// "P0 needs 5 of drives; Work has 4", for the step-by-step text.
    fn short_of(&self, s: &Shortfall, verb: &str) -> String {
        format!(
            "    {} {verb} {} of {}; Work has {}",
            self.processes[s.process], s.needed, self.resources[s.resource], s.free
        )
    }

    fn pad(&self, name: &str) -> String {
        format!("{name:<width$}", width = self.name_width)
    }

    fn header(&mut self, file: &BankerFile) {
        let state = &file.state;
        let resources = self.resources.join(", ");
        self.line(format!(
            "Banker's state: {} process{}, {} resource type{} ({resources})",
            state.process_count(),
            if state.process_count() == 1 { "" } else { "es" },
            state.resource_count(),
            if state.resource_count() == 1 { "" } else { "s" },
        ));
        self.blank();
        self.lines
            .extend(crate::report::banker_tables::matrices(state));
        self.line("(Need = Max - Allocation: what each process may still ask for.)");
        self.blank();
        let total = state.total().unwrap_or_default();
        if file.from_total {
            self.line(format!("Total     = {}", vector(&total)));
            self.line(format!(
                "Available = {} (Total minus what the processes hold)",
                vector(&state.available)
            ));
        } else {
            self.line(format!("Available = {}", vector(&state.available)));
            self.line(format!(
                "Total     = {} (Available plus what the processes hold)",
                vector(&total)
            ));
        }
    }

    /// Side-by-side matrices: a title per group, a resource name per column,
    /// a process per row (`-` where a row is absent).
    /// The steps of a reduction: who finishes, why, and the work vector after.
    fn steps(&mut self, state: &State, steps: &[Step], start: &[u64], wants: &str) {
        let mut work = start.to_vec();
        for (i, step) in steps.iter().enumerate() {
            let p = step.process;
            let fits = if wants == "Need" {
                format!(
                    "Need {} <= Work {}",
                    vector(&state.need_of(p)),
                    vector(&work)
                )
            } else {
                match &state.request[p] {
                    Some(r) => format!("Request {} <= Work {}", vector(r), vector(&work)),
                    None => "no Request".to_string(),
                }
            };
            self.line(format!(
                "  {:>2}. {}  {fits}: runs to completion and releases {}; Work = {}",
                i + 1,
                self.pad(&self.processes[p]),
                vector(&state.allocation[p]),
                vector(&step.work)
            ));
            work.clone_from(&step.work);
        }
    }

    fn safety(&mut self, state: &State, safety: &Safety, wants: &str) {
        self.blank();
        self.line(format!(
            "Safety check: Work starts as Available = {}; repeatedly, a process whose Need fits in Work can finish and give back its Allocation.",
            vector(&state.available)
        ));
        self.steps(state, &safety.steps, &state.available, wants);
        if safety.is_safe() {
            let order = self.names(&safety.sequence());
            self.line(format!("Safe. Safe sequence: {}", order.join(", ")));
        } else {
            let work = safety
                .steps
                .last()
                .map_or_else(|| state.available.clone(), |s| s.work.clone());
            self.line(format!(
                "  No remaining process's Need fits in Work = {}:",
                vector(&work)
            ));
            for s in &safety.stuck {
                let line = self.short_of(s, "needs");
                self.line(line);
            }
            let stuck = self.names(&safety.unfinished());
            self.line(format!(
                "Unsafe: no safe sequence exists; {} cannot be sure to finish.",
                join(&stuck)
            ));
        }
    }

    fn detection(&mut self, state: &State, detection: &Detection) {
        self.blank();
        if state.request.iter().all(Option::is_none) {
            self.line(
                "Deadlock detection: no process has an outstanding `request`, so none is blocked: no deadlock.",
            );
            return;
        }
        self.line(format!(
            "Deadlock detection (state as written): Work starts as Available = {}; a process whose Request fits in Work (or that has none) can finish and give back its Allocation.",
            vector(&state.available)
        ));
        if !detection.idle.is_empty() {
            let idle = self.names(&detection.idle);
            self.line(format!(
                "  {} hold{} nothing, so cannot be part of a deadlock.",
                join(&idle),
                if idle.len() == 1 { "s" } else { "" }
            ));
        }
        self.steps(state, &detection.steps, &state.available, "Request");
        if detection.is_deadlocked() {
            let work = detection
                .steps
                .last()
                .map_or_else(|| state.available.clone(), |s| s.work.clone());
            self.line(format!(
                "  No remaining process's Request fits in Work = {}:",
                vector(&work)
            ));
            for s in &detection.deadlocked {
                let line = self.short_of(s, "waits for");
                self.line(line);
            }
            let names = self.names(&detection.deadlocked_processes());
            self.line(format!("Deadlocked: {}", names.join(", ")));
        } else {
            self.line("No deadlock: every process holding resources can finish.");
        }
        if !detection.blocked.is_empty() {
            let blocked = self.names(&detection.blocked);
            self.line(format!(
                "Blocked but holding nothing: {} (waiting on units the deadlocked processes hold)",
                blocked.join(", ")
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXTBOOK: &str = "\
available = { A = 3, B = 3, C = 2 }
[process.P0]
max        = { A = 7, B = 5, C = 3 }
allocation = { A = 0, B = 1, C = 0 }
[process.P1]
max        = { A = 3, B = 2, C = 2 }
allocation = { A = 2, B = 0, C = 0 }
[process.P2]
max        = { A = 9, B = 0, C = 2 }
allocation = { A = 3, B = 0, C = 2 }
[process.P3]
max        = { A = 2, B = 2, C = 2 }
allocation = { A = 2, B = 1, C = 1 }
[process.P4]
max        = { A = 4, B = 3, C = 3 }
allocation = { A = 0, B = 0, C = 2 }
";

    fn build(text: &str) -> Report {
        report(&banker_state::parse("s.toml", text).unwrap()).unwrap()
    }

    #[test]
    fn the_preamble_teaches_the_textbook_example() {
        let r = build(TEXTBOOK);
        let text = r.preamble.join("\n");
        println!("{text}");
        assert!(r.findings.is_empty());
        assert!(text.contains("Allocation   Max     Need"), "{text}");
        assert!(text.contains("  P0  0 1 0        7 5 3   7 4 3"), "{text}");
        assert!(text.contains("Available = (3, 3, 2)"), "{text}");
        assert!(text.contains(
            "   1. P1  Need (1, 2, 2) <= Work (3, 3, 2): runs to completion and releases (2, 0, 0); Work = (5, 3, 2)"
        ));
        assert!(text.contains("Safe sequence: P1, P3, P4, P0, P2"), "{text}");
        assert_eq!(r.extra["safe"], json!(true));
        assert_eq!(
            r.extra["safe_sequence"],
            json!(["P1", "P3", "P4", "P0", "P2"])
        );
        assert_eq!(r.extra["deadlocked"], json!([]));
        assert_eq!(r.extra["requests"], json!([]));
    }

    #[test]
    fn grants_are_explained_and_unsafe_ones_are_findings() {
        let text = format!(
            "{TEXTBOOK}\
[[grant]]
process = \"P1\"
request = {{ A = 1, C = 2 }}
[[grant]]
process = \"P4\"
request = {{ A = 3, B = 3 }}
[[grant]]
process = \"P0\"
request = {{ B = 2 }}
[[grant]]
process = \"P3\"
request = {{ A = 1 }}
"
        );
        let r = build(&text);
        let preamble = r.preamble.join("\n");
        println!("{preamble}");
        let verdicts: Vec<&str> = r.extra["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["verdict"].as_str().unwrap())
            .collect();
        assert_eq!(verdicts, ["granted", "wait", "unsafe", "invalid"]);
        assert_eq!(
            r.extra["requests"][0]["request"],
            json!({"A": 1, "B": 0, "C": 2})
        );
        assert_eq!(r.findings.len(), 1);
        let f = &r.findings[0];
        assert_eq!(f.kind, Kind::UnsafeState);
        assert_eq!(
            f.message,
            "granting P0's request { B = 2 } would leave the state unsafe"
        );
        assert_eq!(
            (f.locations[0].file.as_str(), f.locations[0].line),
            ("s.toml", 23)
        );
        assert!(
            preamble.contains("  1. P1 requests (1, 0, 2): granted"),
            "{preamble}"
        );
        assert!(
            preamble.contains("Available is now (2, 3, 0)"),
            "{preamble}"
        );
        assert!(
            preamble.contains("  4. P3 requests (1, 0, 0): invalid"),
            "{preamble}"
        );
    }

    #[test]
    fn deadlocks_point_at_the_requests() {
        let r = build(
            "available = { A = 0, B = 0 }
[process.P0]
max = { A = 1, B = 1 }
allocation = { A = 1 }
request = { B = 1 }
[process.P1]
max = { A = 1, B = 1 }
allocation = { B = 1 }
request = { A = 1 }
[process.P2]
max = { A = 1 }
request = { A = 1 }
",
        );
        let text = r.preamble.join("\n");
        println!("{text}");
        assert_eq!(r.extra["deadlocked"], json!(["P0", "P1"]));
        assert_eq!(r.extra["safe"], json!(false));
        assert_eq!(r.extra["safe_sequence"], Value::Null);
        let kinds: Vec<Kind> = r.findings.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, [Kind::UnsafeState, Kind::Deadlock]);
        let lines: Vec<u32> = r.findings[1].locations.iter().map(|l| l.line).collect();
        assert_eq!(lines, [5, 9]);
        assert!(text.contains("Deadlocked: P0, P1"), "{text}");
        assert!(text.contains("Blocked but holding nothing: P2"), "{text}");
        assert!(text.contains("Request"), "{text}");
    }
}
