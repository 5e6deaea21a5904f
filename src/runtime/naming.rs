//! Names objects the way a reader of the program would: by the binding or
//! field they were created into (`let accounts = Mutex::new(..)` is
//! `accounts`), with an index when one line creates several (`forks[2]`),
//! and by kind and line when the source says nothing.

use std::collections::HashMap;

use crate::event::{ObjectKind, Site, Trace};

/// Source lines by file, read once per run, and the name found at each
/// creation site (every execution creates its objects at the same sites).
#[derive(Default)]
pub(crate) struct SourceCache {
    files: HashMap<String, Option<Vec<String>>>,
    names: HashMap<(ObjectKind, Site), String>,
}

impl SourceCache {
    pub fn line(&mut self, file: &str, line: u32) -> Option<&str> {
        let lines = self.files.entry(file.to_string()).or_insert_with(|| {
            std::fs::read_to_string(file)
                .ok()
                .map(|text| text.lines().map(str::to_string).collect())
        });
        lines
            .as_ref()?
            .get(line.checked_sub(1)? as usize)
            .map(String::as_str)
    }

    /// The name an object of `kind` created at `site` gets (before indexing).
    fn base_name(&mut self, kind: ObjectKind, site: &Site) -> String {
        if let Some(name) = self.names.get(&(kind, site.clone())) {
            return name.clone();
        }
        let name = name_at(self, &site.file, site.line, site.column)
            .unwrap_or_else(|| format!("{} at line {}", kind_word(kind), site.line));
        self.names.insert((kind, site.clone()), name.clone());
        name
    }
}

/// Renames the trace's objects after their bindings.
pub(crate) fn name_objects(
    trace: &mut Trace,
    sources: &mut SourceCache,
    keep: &std::collections::HashSet<crate::event::ObjectId>,
) {
    // How many objects of one kind each site created, to index them.
    let mut per_site: HashMap<(ObjectKind, &Site), (usize, usize)> = HashMap::new();
    for object in &trace.objects {
        per_site.entry((object.kind, &object.site)).or_default().0 += 1;
    }
    let mut names = Vec::with_capacity(trace.objects.len());
    for object in &trace.objects {
        let (count, seen) = per_site
            .get_mut(&(object.kind, &object.site))
            .expect("counted above");
        let index = *seen;
        *seen += 1;
        if keep.contains(&object.id) {
            names.push(None);
            continue;
        }
        let base = sources.base_name(object.kind, &object.site);
        names.push(Some(if *count > 1 {
            format!("{base}[{index}]")
        } else {
            base
        }));
    }
    for (object, name) in trace.objects.iter_mut().zip(names) {
        if let Some(name) = name {
            object.name = name;
        }
    }
}

/// The binding at a site; a field alone on its line (a struct literal
/// spread over lines) is qualified with the struct named lines above.
fn name_at(sources: &mut SourceCache, file: &str, line: u32, column: u32) -> Option<String> {
    let text = sources.line(file, line)?;
    let name = binding_before(text, column as usize)?;
    let before: String = text
        .chars()
        .take(column.saturating_sub(1) as usize)
        .collect();
    let field_alone = before.trim_start().starts_with(name.as_str())
        && before.trim_start()[name.len()..]
            .trim_start()
            .starts_with(':')
        && !name.contains('.');
    if !field_alone {
        return Some(name);
    }
    // Walk up to the `{` that opens the literal this field is in.
    let mut depth = 0i32;
    for above in (line.saturating_sub(20).max(1)..line).rev() {
        let text = sources.line(file, above)?.to_string();
        for (i, c) in text.char_indices().rev() {
            match c {
                '}' => depth += 1,
                '{' if depth > 0 => depth -= 1,
                '{' => {
                    let ty: String = text[..i]
                        .trim_end()
                        .chars()
                        .rev()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect();
                    return Some(if ty.starts_with(|c: char| c.is_ascii_uppercase()) {
                        format!("{ty}.{name}")
                    } else {
                        name
                    });
                }
                _ => {}
            }
        }
    }
    Some(name)
}

pub(crate) fn kind_word(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Mutex => "mutex",
        ObjectKind::RwLock => "rwlock",
        ObjectKind::Condvar => "condvar",
        ObjectKind::Barrier => "barrier",
        ObjectKind::Channel => "channel",
        ObjectKind::Atomic => "atomic",
        ObjectKind::Cell => "cell",
        ObjectKind::Resource => "pool",
        ObjectKind::Buffer => "buffer",
        ObjectKind::GpuEvent => "event",
    }
}

/// The name bound by the code before `column` (1-based) on a line:
/// `let (mut) NAME (: T) =`, `static NAME`, `NAME: value` in a struct
/// literal, or `NAME = value`.
/// `Type { field: Mutex::new(..) }` on one line: where the field starts and
/// its name as `Type.field` (or `field` when the type is not on the line).
fn field_before(before: &str) -> Option<(usize, String)> {
    let colon = before
        .char_indices()
        .rev()
        .find(|&(i, c)| {
            c == ':' && !before[..i].ends_with(':') && !before[i + 1..].starts_with(':')
        })?
        .0;
    let head = before[..colon].trim_end();
    let start = head
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
        .last()?
        .0;
    let field = &head[start..];
    let rest = head[..start].trim_end();
    // A field of a struct literal follows `{` or `,`; anything else (a
    // type ascription `let x: T`) is not one.
    if !(rest.ends_with('{') || rest.ends_with(',')) {
        return None;
    }
    let brace = rest.rfind('{')?;
    let ty: String = rest[..brace]
        .trim_end()
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let name = if ty.starts_with(|c: char| c.is_ascii_uppercase()) {
        format!("{ty}.{field}")
    } else {
        field.to_string()
    };
    Some((start, name))
}

fn binding_before(line: &str, column: usize) -> Option<String> {
    let before: String = line.chars().take(column.saturating_sub(1)).collect();
    let ident_end = |s: &str| -> Option<String> {
        let s = s.trim_end();
        let start = s
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
            .last()
            .map(|(i, _)| i)?;
        let name = &s[start..];
        (!name.is_empty() && !name.chars().next()?.is_ascii_digit()).then(|| name.to_string())
    };
    let keyword_at = ["let ", "static ", "const "]
        .iter()
        .filter_map(|k| before.rfind(k).map(|p| (p, *k)))
        .max();
    if let Some(field) = field_before(&before) {
        // `let account = Account { balance: Mutex::new(..) }`: the field is nearer.
        if keyword_at.is_none_or(|(p, k)| field.0 > p + k.len()) {
            return Some(field.1);
        }
    }
    if let Some(keyword) = keyword_at.map(|(_, k)| k) {
        if let Some(pos) = before.rfind(keyword) {
            let rest = before[pos + keyword.len()..].trim_start();
            let rest = rest.strip_prefix("mut ").unwrap_or(rest).trim_start();
            if rest.starts_with('(') {
                if let Some(end) = rest.find(')') {
                    return Some(rest[..=end].to_string());
                }
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                return Some(name);
            }
        }
    }
    let bytes = before.as_bytes();
    for i in (0..bytes.len()).rev() {
        let c = bytes[i];
        let prev = if i > 0 { bytes[i - 1] } else { b' ' };
        let next = bytes.get(i + 1).copied().unwrap_or(b' ');
        let separator = (c == b':' && prev != b':' && next != b':')
            || (c == b'='
                && !matches!(prev, b'=' | b'!' | b'<' | b'>')
                && !matches!(next, b'=' | b'>'));
        if separator {
            return ident_end(&before[..i]);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::binding_before;

    #[test]
    fn names_come_from_bindings_fields_and_statics() {
        let at = |line: &str, what: &str| binding_before(line, line.find(what).unwrap() + 1);
        assert_eq!(
            at("    let accounts = Arc::new(Mutex::new(0));", "Mutex"),
            Some("accounts".into())
        );
        assert_eq!(
            at("let mut g: Mutex<u8> = Mutex::new(1);", "Mutex::new"),
            Some("g".into())
        );
        assert_eq!(
            at("        log: RwLock::new(vec![]),", "RwLock"),
            Some("log".into())
        );
        assert_eq!(
            at("Bank { log: RwLock::new(vec![]) }", "RwLock"),
            Some("Bank.log".into())
        );
        assert_eq!(
            at("let a = Account { balance: Mutex::new(5) };", "Mutex"),
            Some("Account.balance".into())
        );
        assert_eq!(
            at("let (tx, rx) = mpsc::channel();", "mpsc"),
            Some("(tx, rx)".into())
        );
        assert_eq!(
            at(
                "static READY: AtomicBool = AtomicBool::new(false);",
                "AtomicBool::new"
            ),
            Some("READY".into())
        );
        assert_eq!(
            at("    self.state = Mutex::new(0);", "Mutex"),
            Some("state".into())
        );
        assert_eq!(at("    spawn(Mutex::new(0));", "Mutex"), None);
        assert_eq!(
            at(
                "let forks: Vec<_> = (0..3).map(|_| Mutex::new(())).collect();",
                "Mutex"
            ),
            Some("forks".into())
        );
    }
}
