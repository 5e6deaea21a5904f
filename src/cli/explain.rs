//! `interlock explain KIND`: prints the catalogue page of a finding kind (what
//! it is, a minimal example, the fix, how interlock finds it), or with no kind
//! (or `--list`) every kind with its severity and one-line summary.

use clap::Args;

use super::{Failure, EXIT_CLEAN};
use crate::catalogue;
use crate::finding::{Kind, UnknownKind};
use crate::input::InputError;

pub const AFTER_HELP: &str = "\
Examples:
  interlock explain deadlock               what a deadlock is, an example, the fix
  interlock explain lock-order-inversion
  interlock explain --list                 every kind, its severity and what it means

The pages are Markdown; `interlock explain data-race > data-race.md` keeps one.";

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The finding kind, as reports name it (e.g. `deadlock`, `data-race`).
    #[arg(value_name = "KIND")]
    pub kind: Option<String>,
    /// List every finding kind with its severity and a one-line summary.
    #[arg(long, conflicts_with = "kind")]
    pub list: bool,
}

pub fn run(args: &ExplainArgs) -> Result<i32, Failure> {
    let text = match (&args.kind, args.list) {
        (Some(name), false) => {
            let kind: Kind = name.parse().map_err(|e| unknown(name, e))?;
            let mut page = catalogue::entry(kind).to_string();
            if !page.ends_with('\n') {
                page.push('\n');
            }
            page
        }
        _ => list(),
    };
    super::write_stdout(text.as_bytes())?;
    Ok(EXIT_CLEAN)
}

/// Every kind, its severity and its summary, one per line.
pub fn list() -> String {
    let width = Kind::ALL
        .iter()
        .map(|k| k.as_str().len())
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for kind in Kind::ALL {
        text.push_str(&format!(
            "{:width$}  {:7}  {}\n",
            kind.as_str(),
            kind.severity().to_string(),
            kind.summary()
        ));
    }
    text.push_str("\nRun `interlock explain KIND` for a kind's page.\n");
    text
}

fn unknown(name: &str, error: UnknownKind) -> Failure {
    let help = match closest(name) {
        Some(kind) => format!(
            "did you mean `{kind}`? Run `interlock explain {kind}`, or `interlock explain --list` for every kind"
        ),
        None => "run `interlock explain --list` for every kind and what it means".to_string(),
    };
    let message = crate::report::printable(&error.to_string()).into_owned();
    Failure::Input(Box::new(InputError::new(message).with_help(help)))
}

/// The kind nearest to a misspelt name: one that contains it or is contained
/// in it, or else the one at the smallest edit distance, if that is small.
pub fn closest(name: &str) -> Option<Kind> {
    let wanted = name.trim().to_ascii_lowercase().replace(['_', ' '], "-");
    if wanted.is_empty() {
        return None;
    }
    let (best, distance) = Kind::ALL
        .iter()
        .map(|&k| (k, edit_distance(&wanted, k.as_str())))
        .min_by_key(|&(_, d)| d)?;
    let limit = (wanted.chars().count() / 3).max(2);
    if distance <= limit {
        return Some(best);
    }
    if wanted.len() >= 3 {
        let containing = Kind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str().contains(&wanted) || wanted.contains(k.as_str()));
        if containing.is_some() {
            return containing;
        }
    }
    None
}

/// Levenshtein distance, counting characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspellings_find_their_kind() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(closest("deadlok"), Some(Kind::Deadlock));
        assert_eq!(closest("datarace"), Some(Kind::DataRace));
        assert_eq!(closest("double_lock"), Some(Kind::DoubleLock));
        assert_eq!(closest("lock-order"), Some(Kind::LockOrderInversion));
        assert_eq!(closest("use-after-free"), Some(Kind::StreamUseAfterFree));
        assert_eq!(closest("zebra"), None);
    }

    #[test]
    fn the_list_names_every_kind() {
        let list = list();
        for kind in Kind::ALL {
            assert!(list.contains(kind.as_str()) && list.contains(kind.summary()));
        }
    }
}
