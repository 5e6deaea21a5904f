//! Reads a banker's state (`interlock banker FILE.toml`):
//!
//! ```toml
//! available = { A = 3, B = 3, C = 2 }        # or: total = { A = 10, B = 5, C = 7 }
//!
//! [process.P0]
//! max        = { A = 7, B = 5, C = 3 }
//! allocation = { A = 0, B = 1, C = 0 }
//! # request  = { ... }                        # outstanding request, for deadlock detection
//!
//! [[grant]]                                   # requests to evaluate, in order
//! process = "P1"
//! request = { A = 1, B = 0, C = 2 }
//! ```
//!
//! Resources are declared by `available` (free units) or `total` (units in
//! the system; what is free is the total minus all allocations). A resource
//! missing from a table counts as 0. Resources and processes keep the order
//! of the file. Every error points at the line that causes it.

use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::InputError;
use crate::analysis::banker::State;
use crate::event::Site;

/// A request to evaluate with the resource-request algorithm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// Index of the asking process in the state.
    pub process: usize,
    /// Units of each resource, in resource order.
    pub request: Vec<u64>,
    /// The `[[grant]]` header.
    pub site: Site,
}

/// A banker's state file, read and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankerFile {
    pub state: State,
    /// The `[[grant]]` entries, in file order.
    pub grants: Vec<Grant>,
    /// Whether resources were declared by `total` rather than `available`.
    pub from_total: bool,
    /// The `available` (or `total`) key.
    pub available_site: Site,
    /// Each process's `[process.NAME]` header (or wherever the name first appears).
    pub process_sites: Vec<Site>,
    /// Each process's `request` key, where it has one.
    pub request_sites: Vec<Option<Site>>,
}

/// Reads and parses a state file; errors name the path as given.
pub fn load(path: &Path) -> Result<BankerFile, Box<InputError>> {
    let text = InputError::read(path)?;
    parse(&path.display().to_string(), &text)
}

/// Parses the text of a state file called `name` (used in errors and sites).
pub fn parse(name: &str, text: &str) -> Result<BankerFile, Box<InputError>> {
    Reader { name, text }.read()
}

const TOP_KEYS: &str = "a banker's state has `available` (or `total`), `[process.NAME]` tables with `max`, `allocation` and optionally `request`, and `[[grant]]` tables with `process` and `request`";

struct Reader<'a> {
    name: &'a str,
    text: &'a str,
}

type Value<'i> = Spanned<DeValue<'i>>;

/// `with_help` for the boxed errors this module returns.
trait Help {
    fn help(self, help: impl Into<String>) -> Self;
}

impl Help for Box<InputError> {
    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// A parsed table of counts: one per resource, with where each came from
/// (the entry, or the whole table for resources it leaves out).
struct Counts {
    values: Vec<u64>,
    spans: Vec<Range<usize>>,
}

impl<'a> Reader<'a> {
    fn err(
        &self,
        message: impl Into<String>,
        span: Range<usize>,
        label: impl Into<String>,
    ) -> Box<InputError> {
        Box::new(InputError::at(message, self.name, self.text, span, label))
    }

    fn site(&self, offset: usize) -> Site {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Site::new(
            self.name.to_string(),
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(column).unwrap_or(u32::MAX),
        )
    }

    fn read(&self) -> Result<BankerFile, Box<InputError>> {
        let doc = DeTable::parse(self.text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            self.err(
                format!("malformed TOML: {}", e.message().trim_end()),
                span,
                "here",
            )
        })?;
        let doc = doc.get_ref();

        let mut declared: Option<(&Spanned<std::borrow::Cow<'_, str>>, &Value<'_>)> = None;
        for (key, value) in doc.iter() {
            match key.get_ref().as_ref() {
                "available" | "total" => {
                    if let Some((first, _)) = declared {
                        let later = if first.span().start < key.span().start {
                            key
                        } else {
                            first
                        };
                        return Err(self
                            .err(
                                "both `available` and `total` are given",
                                later.span(),
                                "give only one of them",
                            )
                            .help("`available` lists the free units; `total` lists all units, and what is free is the total minus the allocations"));
                    }
                    declared = Some((key, value));
                }
                "process" | "grant" => {}
                other => {
                    return Err(self
                        .err(
                            format!("unknown key `{other}`"),
                            key.span(),
                            "not part of a banker's state",
                        )
                        .help(TOP_KEYS))
                }
            }
        }
        let Some((declared_key, declared_value)) = declared else {
            return Err(self
                .err(
                    "no `available` or `total` table declares the resources",
                    0..0,
                    "expected here",
                )
                .help("e.g. `available = { A = 3, B = 3, C = 2 }`"));
        };
        let from_total = declared_key.get_ref().as_ref() == "total";
        let which = if from_total { "total" } else { "available" };
        let table = self.table(declared_value, &format!("`{which}`"))?;
        let mut entries: Vec<_> = table.iter().collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        if entries.is_empty() {
            return Err(self.err(
                format!("`{which}` declares no resources"),
                declared_value.span(),
                "name each resource with its number of units",
            ));
        }
        let resources: Vec<String> = entries
            .iter()
            .map(|(k, _)| k.get_ref().to_string())
            .collect();
        let mut declared_counts = Vec::with_capacity(entries.len());
        let mut declared_spans = Vec::with_capacity(entries.len());
        for (_, v) in &entries {
            declared_counts.push(self.count(v)?);
            declared_spans.push(v.span());
        }

        // Processes, in file order.
        let mut state = State::new(resources.clone(), Vec::new());
        let mut process_sites = Vec::new();
        let mut request_sites = Vec::new();
        let mut allocation_spans: Vec<Vec<Range<usize>>> = Vec::new();
        if let Some(processes) = doc.get("process") {
            let processes = self.table(processes, "`process`")?;
            let mut list: Vec<_> = processes.iter().collect();
            list.sort_by_key(|(k, _)| k.span().start);
            for (key, value) in list {
                let pname = key.get_ref().to_string();
                let body = self.table(value, &format!("process `{pname}`"))?;
                let (mut max, mut allocation, mut request) = (None, None, None);
                for (k, v) in body.iter() {
                    match k.get_ref().as_ref() {
                        "max" => max = Some(v),
                        "allocation" => allocation = Some(v),
                        "request" => request = Some((k, v)),
                        other => {
                            return Err(self
                                .err(
                                    format!("unknown key `{other}` in process `{pname}`"),
                                    k.span(),
                                    "expected `max`, `allocation` or `request`",
                                )
                                .help(TOP_KEYS))
                        }
                    }
                }
                let Some(max) = max else {
                    return Err(self
                        .err(
                            format!("process `{pname}` has no `max`"),
                            key.span(),
                            "its maximum claim is missing",
                        )
                        .help("add e.g. `max = { A = 7, B = 5, C = 3 }`: the most it may ever hold of each resource"));
                };
                let max = self.counts(max, &resources, &format!("the `max` of `{pname}`"))?;
                let allocation = match allocation {
                    Some(a) => {
                        self.counts(a, &resources, &format!("the `allocation` of `{pname}`"))?
                    }
                    None => Counts {
                        values: vec![0; resources.len()],
                        spans: vec![key.span(); resources.len()],
                    },
                };
                for (r, resource) in resources.iter().enumerate() {
                    if allocation.values[r] > max.values[r] {
                        return Err(self
                            .err(
                                format!(
                                    "`{pname}` holds {} of {resource}, more than its maximum claim of {}",
                                    allocation.values[r], max.values[r]
                                ),
                                allocation.spans[r].clone(),
                                format!("above max {resource} = {}", max.values[r]),
                            )
                            .help("a process never holds more than it declared it may claim: raise `max` or lower `allocation`"));
                    }
                }
                let request = match request {
                    Some((k, v)) => {
                        let counts =
                            self.counts(v, &resources, &format!("the `request` of `{pname}`"))?;
                        request_sites.push(Some(self.site(k.span().start)));
                        Some(counts.values)
                    }
                    None => {
                        request_sites.push(None);
                        None
                    }
                };
                process_sites.push(self.site(key.span().start));
                allocation_spans.push(allocation.spans);
                state = state.with_process(pname, max.values, allocation.values, request);
            }
        }
        if state.process_count() == 0 {
            return Err(self
                .err(
                    "no processes",
                    declared_key.span(),
                    "resources are declared, but nobody uses them",
                )
                .help(
                    "add a `[process.NAME]` table with `max` and `allocation` for each process",
                ));
        }

        // What is free: as given, or the total minus all allocations.
        let mut available = declared_counts.clone();
        for (r, resource) in resources.iter().enumerate() {
            let mut held: u64 = 0;
            for (row, spans) in state.allocation.iter().zip(&allocation_spans) {
                held = held.checked_add(row[r]).ok_or_else(|| {
                    self.err(
                        format!(
                            "the allocations of {resource} add up to more than {}",
                            u64::MAX
                        ),
                        spans[r].clone(),
                        "the sum overflows here",
                    )
                })?;
            }
            if from_total {
                available[r] = declared_counts[r].checked_sub(held).ok_or_else(|| {
                    self.err(
                        format!(
                            "the processes hold {held} of {resource}, more than its total of {}",
                            declared_counts[r]
                        ),
                        declared_spans[r].clone(),
                        format!("{held} allocated"),
                    )
                    .help("`total` counts every unit, free or held: it must be at least the sum of the allocations")
                })?;
            } else if declared_counts[r].checked_add(held).is_none() {
                return Err(self.err(
                    format!(
                        "{resource}: {} available plus {held} allocated is more than {}",
                        declared_counts[r],
                        u64::MAX
                    ),
                    declared_spans[r].clone(),
                    "the total overflows",
                ));
            }
        }
        state.available = available;
        state
            .validate()
            .map_err(|e| self.err(e.to_string(), declared_key.span(), "in this state"))?;

        let grants = match doc.get("grant") {
            Some(g) => self.grants(g, &state)?,
            None => Vec::new(),
        };

        Ok(BankerFile {
            state,
            grants,
            from_total,
            available_site: self.site(declared_key.span().start),
            process_sites,
            request_sites,
        })
    }

    fn grants(&self, value: &Value<'_>, state: &State) -> Result<Vec<Grant>, Box<InputError>> {
        let DeValue::Array(items) = value.get_ref() else {
            return Err(self
                .err(
                    format!(
                        "`grant` must be a list of tables, found {}",
                        value.get_ref().type_str()
                    ),
                    value.span(),
                    "here",
                )
                .help("write each request as a `[[grant]]` table with `process` and `request`"));
        };
        let mut grants = Vec::new();
        for item in items.iter() {
            let table = self.table(item, "a `[[grant]]` entry")?;
            let (mut process, mut request) = (None, None);
            for (k, v) in table.iter() {
                match k.get_ref().as_ref() {
                    "process" => process = Some(v),
                    "request" => request = Some(v),
                    other => {
                        return Err(self.err(
                            format!("unknown key `{other}` in a grant"),
                            k.span(),
                            "expected `process` or `request`",
                        ))
                    }
                }
            }
            let Some(process) = process else {
                return Err(self.err(
                    "a grant without `process`",
                    item.span(),
                    "which process asks?",
                ));
            };
            let DeValue::String(pname) = process.get_ref() else {
                return Err(self.err(
                    format!(
                        "`process` must be a process name (a string), found {}",
                        process.get_ref().type_str()
                    ),
                    process.span(),
                    "here",
                ));
            };
            let Some(index) = state.process_index(pname) else {
                return Err(self
                    .err(
                        format!("unknown process `{pname}`"),
                        process.span(),
                        "no such process",
                    )
                    .help(format!("the processes are: {}", state.processes.join(", "))));
            };
            let Some(request) = request else {
                return Err(self.err(
                    format!("the grant for `{pname}` has no `request`"),
                    item.span(),
                    "what does it ask for?",
                ));
            };
            let counts = self.counts(
                request,
                &state.resources,
                &format!("the request of `{pname}`"),
            )?;
            grants.push(Grant {
                process: index,
                request: counts.values,
                site: self.site(item.span().start),
            });
        }
        Ok(grants)
    }

    fn table<'v, 'i>(
        &self,
        value: &'v Value<'i>,
        what: &str,
    ) -> Result<&'v DeTable<'i>, Box<InputError>> {
        match value.get_ref() {
            DeValue::Table(t) => Ok(t),
            other => Err(self.err(
                format!("{what} must be a table, found {}", other.type_str()),
                value.span(),
                "expected `{ NAME = count, ... }`",
            )),
        }
    }

    /// A table of counts over the declared resources; missing ones are 0.
    fn counts(
        &self,
        value: &Value<'_>,
        resources: &[String],
        what: &str,
    ) -> Result<Counts, Box<InputError>> {
        let table = self.table(value, what)?;
        let mut counts = Counts {
            values: vec![0; resources.len()],
            spans: vec![value.span(); resources.len()],
        };
        for (k, v) in table.iter() {
            let Some(r) = resources.iter().position(|r| r == k.get_ref().as_ref()) else {
                return Err(self
                    .err(
                        format!("unknown resource `{}` in {what}", k.get_ref()),
                        k.span(),
                        "not declared",
                    )
                    .help(format!(
                        "the resources declared by `available` or `total` are: {}",
                        resources.join(", ")
                    )));
            };
            counts.values[r] = self.count(v)?;
            counts.spans[r] = v.span();
        }
        Ok(counts)
    }

    /// A count of units: a whole number from 0 to `u64::MAX`.
    fn count(&self, value: &Value<'_>) -> Result<u64, Box<InputError>> {
        match value.get_ref() {
            DeValue::Integer(i) => {
                let text = i.as_str();
                let (negative, digits) = match text.strip_prefix('-') {
                    Some(rest) => (true, rest),
                    None => (false, text.strip_prefix('+').unwrap_or(text)),
                };
                match u64::from_str_radix(digits, i.radix()) {
                    Ok(0) => Ok(0),
                    Ok(_) if negative => Err(self.err(
                        format!("negative count {}", &self.text[value.span()]),
                        value.span(),
                        "counts of units are 0 or more",
                    )),
                    Ok(n) => Ok(n),
                    Err(_) if negative => Err(self.err(
                        format!("negative count {}", &self.text[value.span()]),
                        value.span(),
                        "counts of units are 0 or more",
                    )),
                    Err(_) => Err(self.err(
                        format!(
                            "count {} is too large (at most {})",
                            &self.text[value.span()],
                            u64::MAX
                        ),
                        value.span(),
                        "does not fit in 64 bits",
                    )),
                }
            }
            DeValue::Float(_) => Err(self.err(
                format!("count {} is not a whole number", &self.text[value.span()]),
                value.span(),
                "expected a whole number of units",
            )),
            other => Err(self.err(
                format!("expected a count of units, found {}", other.type_str()),
                value.span(),
                "expected a whole number of units",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXTBOOK: &str = r#"# five processes, three resources
available = { A = 3, B = 3, C = 2 }

[process.P0]
max        = { A = 7, B = 5, C = 3 }
allocation = { A = 0, B = 1, C = 0 }

[process.P1]
max        = { A = 3, B = 2, C = 2 }
allocation = { A = 2 }

[process.Zed]
max        = { A = 9, C = 2 }
allocation = { A = 3, B = 0, C = 2 }
request    = { C = 1 }

[process.Alpha]
max        = { A = 2, B = 2, C = 2 }
allocation = { A = 2, B = 1, C = 1 }

[[grant]]
process = "P1"
request = { A = 1, C = 2 }

[[grant]]
process = "Alpha"
request = { B = 1 }
"#;

    fn plain(text: &str) -> String {
        parse("s.toml", text).unwrap_err().plain()
    }

    #[test]
    fn reads_the_contract_format_in_file_order() {
        let f = parse("s.toml", TEXTBOOK).unwrap();
        let s = &f.state;
        assert_eq!(s.resources, vec!["A", "B", "C"]);
        assert_eq!(s.processes, vec!["P0", "P1", "Zed", "Alpha"]);
        assert_eq!(s.available, vec![3, 3, 2]);
        assert_eq!(s.max[2], vec![9, 0, 2]);
        assert_eq!(s.allocation[1], vec![2, 0, 0]);
        assert_eq!(s.request, vec![None, None, Some(vec![0, 0, 1]), None]);
        assert!(!f.from_total);
        assert_eq!(f.available_site, Site::new("s.toml", 2, 1));
        assert_eq!(f.process_sites[0], Site::new("s.toml", 4, 10));
        assert_eq!(f.request_sites[2], Some(Site::new("s.toml", 15, 1)));
        assert_eq!(f.request_sites[0], None);
        assert_eq!(
            f.grants,
            vec![
                Grant {
                    process: 1,
                    request: vec![1, 0, 2],
                    site: Site::new("s.toml", 21, 1)
                },
                Grant {
                    process: 3,
                    request: vec![0, 1, 0],
                    site: Site::new("s.toml", 25, 1)
                },
            ]
        );
    }

    #[test]
    fn resources_keep_file_order_too() {
        let f = parse(
            "s.toml",
            "available = { Z = 1, A = 2 }\n[process.b]\nmax = { A = 1 }\n[process.a]\nmax = {}\n",
        )
        .unwrap();
        assert_eq!(f.state.resources, vec!["Z", "A"]);
        assert_eq!(f.state.processes, vec!["b", "a"]);
        assert_eq!(f.state.max, vec![vec![0, 1], vec![0, 0]]);
        assert_eq!(f.state.allocation, vec![vec![0, 0], vec![0, 0]]);
    }

    #[test]
    fn total_gives_available_minus_allocations() {
        let f = parse(
            "s.toml",
            "total = { A = 10, B = 5 }\n[process.P0]\nmax = { A = 7, B = 5 }\nallocation = { A = 4, B = 1 }\n[process.P1]\nmax = { A = 3 }\nallocation = { A = 3 }\n",
        )
        .unwrap();
        assert!(f.from_total);
        assert_eq!(f.state.available, vec![3, 4]);
        assert_eq!(f.state.total().unwrap(), vec![10, 5]);
    }

    #[test]
    fn errors_point_at_the_offending_line() {
        let base = "available = { A = 3 }\n[process.P0]\n";
        assert_eq!(
            plain(&format!(
                "{base}max = {{ A = 3 }}\nallocation = {{ A = 4 }}\n"
            )),
            "s.toml:4:20: `P0` holds 4 of A, more than its maximum claim of 3"
        );
        assert_eq!(
            plain(&format!("{base}max = {{ B = 3 }}\n")),
            "s.toml:3:9: unknown resource `B` in the `max` of `P0`"
        );
        assert_eq!(
            plain(&format!("{base}max = {{ A = -1 }}\n")),
            "s.toml:3:13: negative count -1"
        );
        assert_eq!(
            plain(&format!("{base}max = {{ A = 1.5 }}\n")),
            "s.toml:3:13: count 1.5 is not a whole number"
        );
        assert_eq!(
            plain(&format!("{base}max = {{ A = \"3\" }}\n")),
            "s.toml:3:13: expected a count of units, found string"
        );
        assert_eq!(
            plain(&format!("{base}max = {{ A = 99999999999999999999 }}\n")),
            "s.toml:3:13: count 99999999999999999999 is too large (at most 18446744073709551615)"
        );
        assert_eq!(
            plain(&format!("{base}allocation = {{ A = 1 }}\n")),
            "s.toml:2:10: process `P0` has no `max`"
        );
        assert_eq!(
            plain(&format!(
                "{base}max = {{ A = 3 }}\nalocation = {{ A = 1 }}\n"
            )),
            "s.toml:4:1: unknown key `alocation` in process `P0`"
        );
        assert_eq!(
            plain(&format!("{base}max = {{ A = 3\n")),
            "s.toml:3:14: malformed TOML: unclosed inline table, expected `}`"
        );
        assert_eq!(
            plain(&format!(
                "{base}max = {{ A = 3 }}\n[[grant]]\nprocess = \"P9\"\nrequest = {{ A = 1 }}\n"
            )),
            "s.toml:5:11: unknown process `P9`"
        );
        assert_eq!(
            plain("total = { A = 2 }\n[process.P0]\nmax = { A = 3 }\nallocation = { A = 3 }\n"),
            "s.toml:1:15: the processes hold 3 of A, more than its total of 2"
        );
        assert_eq!(
            plain("available = { A = 9223372036854775807 }\n[process.P0]\nmax = { A = 9223372036854775807 }\nallocation = { A = 9223372036854775807 }\n[process.P1]\nmax = { A = 9223372036854775807 }\nallocation = { A = 9223372036854775807 }\n"),
            "s.toml:1:19: A: 9223372036854775807 available plus 18446744073709551614 allocated is more than 18446744073709551615"
        );
        assert_eq!(
            plain("available = { A = 1 }\ntotal = { A = 1 }\n"),
            "s.toml:2:1: both `available` and `total` are given"
        );
        assert_eq!(
            plain("[process.P0]\nmax = { A = 1 }\n"),
            "s.toml:1:1: no `available` or `total` table declares the resources"
        );
        assert_eq!(plain("available = { A = 1 }\n"), "s.toml:1:1: no processes");
        assert_eq!(
            plain("available = { A = 1 }\nprocesses = 3\n"),
            "s.toml:2:1: unknown key `processes`"
        );
    }

    #[test]
    fn missing_files_are_named() {
        let e = load(Path::new("/nonexistent/state.toml")).unwrap_err();
        assert_eq!(
            e.plain(),
            "cannot read `/nonexistent/state.toml`: no such file"
        );
    }
}
