//! Lock orders a project declares (its configuration's `lock-order`): an
//! acquisition of a lock while holding one the order puts after it.

use std::collections::{HashMap, HashSet};

use super::facts::Acquisition;
use super::relock::path_locations;
use super::sentences::who;
use crate::event::Site;
use crate::finding::{Finding, Kind};

/// Each acquisition against one of the `declared` orders (lock names, first
/// to be taken first), once per pair of sites.
pub(crate) fn declared_order_findings(
    facts: &[Acquisition],
    declared: &[Vec<String>],
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut seen: HashSet<(&Site, &Site)> = HashSet::new();
    for order in declared {
        let rank: HashMap<&str, usize> = order
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let spelled: Vec<String> = order.iter().map(|n| format!("`{n}`")).collect();
        for fact in facts {
            let taken = &fact.lock.name;
            let Some(&t) = rank.get(taken.as_str()) else {
                continue;
            };
            for held in &fact.held {
                let first = &held.lock.name;
                if rank.get(first.as_str()).is_none_or(|&r| r <= t) {
                    continue;
                }
                if !seen.insert((&fact.site, &held.site)) {
                    continue;
                }
                let inside = match fact.path.last() {
                    Some(call) => format!(" (in `{}`)", call.callee),
                    None => String::new(),
                };
                let mut finding = Finding::new(
                    Kind::LockOrderInversion,
                    format!(
                        "{} takes `{taken}` while holding `{first}`, against the declared order \
                         ({})",
                        who(&fact.agent),
                        spelled.join(" before ")
                    ),
                )
                .at(fact.asked_at(), format!("`{taken}` taken here{inside}"))
                .at(&held.site, format!("`{first}` taken here, still held"));
                for (site, label) in path_locations(fact) {
                    finding = finding.at(&site, label);
                }
                out.push(finding.with_help(format!(
                    "take `{taken}` before `{first}`, as the configuration's lock order says"
                )));
            }
        }
    }
    out
}
