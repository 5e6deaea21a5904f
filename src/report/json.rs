//! The report for scripts, exactly as the contract spells it:
//! `{"version": 1, "findings": [...], "summary": {...}}`, then the
//! command-specific fields of [`Report::extra`] at the top level.

use serde::Serialize;

use super::{Report, SkippedInput, Summary};
use crate::finding::Finding;

/// The version of the JSON shape; bumped only on an incompatible change.
pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    findings: &'a [Finding],
    summary: SummaryDocument<'a>,
    #[serde(flatten)]
    extra: serde_json::Map<String, serde_json::Value>,
}

/// The summary with what the run passed by and could not use, which only
/// exist in the JSON when there are some.
#[derive(Serialize)]
struct SummaryDocument<'a> {
    #[serde(flatten)]
    summary: &'a Summary,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    skipped: &'a [SkippedInput],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    not_checked: &'a [SkippedInput],
}

/// The JSON document of a report, pretty-printed, with a trailing newline.
pub fn render(report: &Report) -> String {
    // The contract's own keys win over an extra field of the same name.
    let extra = report
        .extra
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "version" | "findings" | "summary"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let document = Document {
        version: VERSION,
        findings: &report.findings,
        summary: SummaryDocument {
            summary: &report.summary,
            skipped: &report.skipped,
            not_checked: &report.not_checked,
        },
        extra,
    };
    let mut text =
        serde_json::to_string_pretty(&document).expect("a report always serializes to JSON");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Site;
    use crate::finding::{Kind, TraceStep};

    #[test]
    fn the_document_has_the_contract_keys_in_order() {
        let site = Site::new("src/bank.rs", 41, 9);
        let finding = Finding::new(Kind::LockOrderInversion, "opposite orders")
            .at(&site, "`Bank.log` taken while `Bank.accounts` is held")
            .with_trace(vec![TraceStep::new(
                "thread 1",
                "lock `Bank.accounts`",
                &site,
            )]);
        let mut report = Report::new(
            vec![finding],
            Summary {
                files: 12,
                complete: true,
                ..Summary::default()
            },
        );
        report
            .extra
            .insert("safe".into(), serde_json::Value::Bool(true));
        let text = render(&report);
        assert!(text.ends_with("}\n"));
        let order: Vec<usize> = ["\"version\"", "\"findings\"", "\"summary\"", "\"safe\""]
            .iter()
            .map(|k| text.find(k).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["version"], 1);
        assert_eq!(value["summary"]["files"], 12);
        assert_eq!(value["findings"][0]["trace"][0]["agent"], "thread 1");
        assert!(value["findings"][0]["trace"][0].get("highlight").is_none());
    }
}
