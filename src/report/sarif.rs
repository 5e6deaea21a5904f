//! The report for code scanning: SARIF 2.1.0, one run, one rule per finding
//! kind (with the catalogue page as its help), one result per finding.
//!
//! Paths become relative URIs with forward slashes; a trace becomes a code
//! flow with one thread flow per agent; each result carries a partial
//! fingerprint built from its kind and places so that code scanning can follow
//! it from one upload to the next.

use serde_json::{json, Map, Value};

use super::Report;
use crate::catalogue;
use crate::finding::{Finding, Kind, Location, Severity, TraceStep};

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub const SARIF_VERSION: &str = "2.1.0";
/// The key of interlock's own fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "interlock/v1";
/// Where to learn about the tool (`tool.driver.informationUri`): the
/// package's homepage or repository when the manifest names one.
pub const INFORMATION_URI: &str = match (
    option_env!("CARGO_PKG_HOMEPAGE"),
    option_env!("CARGO_PKG_REPOSITORY"),
) {
    (Some(home), _) if !home.is_empty() => home,
    (_, Some(repository)) if !repository.is_empty() => repository,
    _ => "https://crates.io/crates/interlock",
};

/// The SARIF log of a report, pretty-printed, with a trailing newline.
pub fn render(report: &Report) -> String {
    let rules: Vec<Value> = Kind::ALL.iter().map(|&k| rule(k)).collect();
    let results: Vec<Value> = report.findings.iter().map(result).collect();

    let mut invocation = json!({ "executionSuccessful": true });
    if !report.summary.complete {
        let reason = report
            .summary
            .incomplete_reason
            .as_deref()
            .unwrap_or("a bound or limit was reached");
        invocation["toolExecutionNotifications"] = json!([{
            "level": "warning",
            "message": { "text": format!("exploration stopped early: {reason}") },
        }]);
    }

    let mut properties = Map::new();
    properties.insert(
        "summary".into(),
        serde_json::to_value(&report.summary).unwrap_or(Value::Null),
    );

    let log = json!({
        "$schema": SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {
                "driver": {
                    "name": "interlock",
                    "informationUri": INFORMATION_URI,
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "invocations": [invocation],
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": properties,
        }]
    });
    let mut text = serde_json::to_string_pretty(&log).expect("a SARIF log always serializes");
    text.push('\n');
    text
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// `lock-order-inversion` -> `LockOrderInversion`.
pub fn pascal_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// A rule's `name`: its id in PascalCase. SARIF wants the name to differ
/// from the opaque `id` (compared without case), so a one-word kind says
/// what it found in two words.
pub fn rule_name(kind: Kind) -> String {
    let name = pascal_case(kind.as_str());
    if !name.eq_ignore_ascii_case(kind.as_str()) {
        return name;
    }
    match kind {
        Kind::Deadlock => "ThreadsDeadlocked".into(),
        _ => format!("{name}Found"),
    }
}

fn rule(kind: Kind) -> Value {
    let what = catalogue::section(kind, "What it is").unwrap_or(kind.summary());
    let fix = catalogue::section(kind, "The fix").unwrap_or("");
    let help_text =
        format!("{what}\n\nThe fix:\n{fix}\n\nRun `interlock explain {kind}` for an example.");
    json!({
        "id": kind.as_str(),
        "name": rule_name(kind),
        "shortDescription": { "text": kind.summary() },
        "fullDescription": { "text": what },
        "help": {
            "text": help_text,
            "markdown": catalogue::entry(kind),
        },
        "defaultConfiguration": { "level": level(kind.severity()) },
        "properties": {
            "tags": ["concurrency"],
            "problem.severity": level(kind.severity()),
        },
    })
}

/// A path as a relative URI reference: forward slashes, no `./`, and the few
/// characters a URI cannot hold percent-encoded. An absolute path under the
/// current directory is made relative to it; one outside stays a `file:` URI.
pub fn uri(file: &str) -> String {
    let mut path = file.replace('\\', "/");
    let absolute = path.starts_with('/') || path.as_bytes().get(1) == Some(&b':');
    let mut prefix = "";
    if absolute {
        let relative = std::env::current_dir().ok().and_then(|cwd| {
            let cwd = cwd.to_string_lossy().replace('\\', "/");
            let cwd = cwd.trim_end_matches('/');
            path.strip_prefix(cwd)
                .and_then(|rest| rest.strip_prefix('/'))
                .map(str::to_string)
        });
        match relative {
            Some(rest) => path = rest,
            None => {
                prefix = if path.starts_with('/') {
                    "file://"
                } else {
                    "file:///"
                }
            }
        }
    }
    while let Some(rest) = path.strip_prefix("./") {
        path = rest.to_string();
    }
    let mut encoded = String::from(prefix);
    for byte in path.bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&byte);
        if keep {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// A physical location, or `None` for a place with no file.
fn physical(file: &str, line: u32, column: u32) -> Option<Value> {
    if file.is_empty() || file.starts_with('<') {
        return None;
    }
    let mut location = json!({ "artifactLocation": { "uri": uri(file) } });
    if line >= 1 {
        let mut region = json!({ "startLine": line });
        if column >= 1 {
            region["startColumn"] = json!(column);
        }
        location["region"] = region;
    }
    Some(location)
}

fn location(loc: &Location, id: Option<usize>) -> Value {
    let mut value = json!({});
    if let Some(id) = id {
        value["id"] = json!(id);
    }
    if let Some(p) = physical(&loc.file, loc.line, loc.column) {
        value["physicalLocation"] = p;
    }
    if !loc.label.is_empty() {
        value["message"] = json!({ "text": loc.label });
    }
    value
}

fn step_location(step: &TraceStep) -> Value {
    let mut value = json!({ "message": { "text": format!("{}: {}", step.agent, step.action) } });
    if let Some(p) = physical(&step.file, step.line, step.column) {
        value["physicalLocation"] = p;
    }
    value
}

fn code_flow(trace: &[TraceStep]) -> Value {
    let mut agents: Vec<&str> = Vec::new();
    for step in trace {
        if !agents.contains(&step.agent.as_str()) {
            agents.push(&step.agent);
        }
    }
    let thread_flows: Vec<Value> = agents
        .iter()
        .map(|agent| {
            let locations: Vec<Value> = trace
                .iter()
                .enumerate()
                .filter(|(_, s)| s.agent == *agent)
                .map(|(i, s)| {
                    json!({
                        "location": step_location(s),
                        "executionOrder": i + 1,
                        "importance": if s.highlight { "essential" } else { "important" },
                    })
                })
                .collect();
            json!({
                "id": agent,
                "message": { "text": agent },
                "locations": locations,
            })
        })
        .collect();
    json!({
        "message": { "text": "the interleaving that shows the finding" },
        "threadFlows": thread_flows,
    })
}

/// 64-bit FNV-1a: stable across platforms, versions and runs.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// A hash of what makes a finding the same bug: its kind and its places.
pub fn fingerprint(finding: &Finding) -> String {
    let (kind, places) = finding.identity();
    let mut key = kind.as_str().to_string();
    for (file, line, column) in places {
        key.push('\n');
        key.push_str(&uri(file));
        key.push_str(&format!(":{line}:{column}"));
    }
    format!("{:016x}", fnv1a(key.as_bytes()))
}

fn result(finding: &Finding) -> Value {
    let rule_index = Kind::ALL
        .iter()
        .position(|&k| k == finding.kind)
        .expect("every kind is in Kind::ALL");
    let mut result = json!({
        "ruleId": finding.kind.as_str(),
        "ruleIndex": rule_index,
        "level": level(finding.severity),
        "message": { "text": finding.message },
    });

    let mut locations = finding.locations.iter();
    if let Some(first) = locations.next() {
        result["locations"] = json!([location(first, None)]);
    } else if let Some(step) = finding.trace.as_deref().and_then(|t| {
        t.iter()
            .find(|s| s.highlight && s.line >= 1)
            .or_else(|| t.iter().find(|s| s.line >= 1))
    }) {
        result["locations"] = json!([step_location(step)]);
    }
    let related: Vec<Value> = locations
        .enumerate()
        .map(|(i, l)| location(l, Some(i + 1)))
        .collect();
    if !related.is_empty() {
        result["relatedLocations"] = json!(related);
    }
    if let Some(trace) = finding.trace.as_deref().filter(|t| !t.is_empty()) {
        result["codeFlows"] = json!([code_flow(trace)]);
    }
    result["partialFingerprints"] = json!({ FINGERPRINT_KEY: fingerprint(finding) });

    let mut properties = Map::new();
    if let Some(help) = &finding.help {
        properties.insert("help".into(), json!(help));
    }
    if !finding.notes.is_empty() {
        properties.insert("notes".into(), json!(finding.notes));
    }
    if let Some(execution) = finding.execution {
        properties.insert("execution".into(), json!(execution));
    }
    if !properties.is_empty() {
        result["properties"] = Value::Object(properties);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_uris() {
        assert_eq!(pascal_case("lock-order-inversion"), "LockOrderInversion");
        assert_eq!(pascal_case("deadlock"), "Deadlock");
        for kind in Kind::ALL {
            assert!(!rule_name(kind).eq_ignore_ascii_case(kind.as_str()));
        }
        assert_eq!(uri("./src\\a b.rs"), "src/a%20b.rs");
        assert_eq!(uri("/nowhere/x.rs"), "file:///nowhere/x.rs");
        let cwd = std::env::current_dir().unwrap();
        let inside = cwd.join("src").join("x.rs");
        assert_eq!(uri(&inside.to_string_lossy()), "src/x.rs");
    }

    #[test]
    fn fingerprints_ignore_location_order_and_messages() {
        use crate::event::Site;
        let a = Site::new("a.rs", 1, 1);
        let b = Site::new("a.rs", 2, 1);
        let one = Finding::new(Kind::DataRace, "one").at(&a, "x").at(&b, "y");
        let two = Finding::new(Kind::DataRace, "two").at(&b, "y").at(&a, "x");
        let other = Finding::new(Kind::Deadlock, "one").at(&a, "x").at(&b, "y");
        assert_eq!(fingerprint(&one), fingerprint(&two));
        assert_ne!(fingerprint(&one), fingerprint(&other));
    }
}
