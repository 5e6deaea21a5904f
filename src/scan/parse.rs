//! Reading and parsing files in parallel (std threads, one work queue).
//!
//! Each file is read, parsed with syn and lowered to the scanner's items on
//! the thread that parsed it (syn's tree cannot leave that thread). A file
//! that is not UTF-8, nests deeper than any real code, or does not parse is
//! skipped with the reason; nothing stops the scan.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::discover::SourceFile;
use super::ir::FileItems;
use super::suppress::FileAllows;

/// What parsing one file gave.
#[derive(Debug)]
pub enum Parsed {
    Ok {
        items: Box<FileItems>,
        allows: FileAllows,
        lines: usize,
    },
    /// Skipped: why, and where when known.
    Skipped {
        line: usize,
        column: usize,
        reason: String,
    },
}

/// Brackets nested deeper than this are not real code.
const MAX_NESTING: usize = 256;
/// Parser threads run on stacks this large: syn parses recursively.
const STACK: usize = 256 << 20;

/// How many threads to use by default.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs `work` over `0..count` on `jobs` threads, results in index order.
pub fn parallel<T: Send>(count: usize, jobs: usize, work: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let jobs = jobs.clamp(1, count.max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, T)>> = Mutex::new(Vec::with_capacity(count));
    let run = || {
        let mut mine = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= count {
                break;
            }
            mine.push((i, work(i)));
        }
        if let Ok(mut all) = results.lock() {
            all.extend(mine);
        }
    };
    std::thread::scope(|s| {
        let mut handles = Vec::new();
        for _ in 0..jobs {
            let builder = std::thread::Builder::new().stack_size(STACK);
            match builder.spawn_scoped(s, run) {
                Ok(h) => handles.push(h),
                Err(_) => break,
            }
        }
        if handles.is_empty() {
            run();
        }
        for h in handles {
            let _ = h.join();
        }
    });
    let mut all = results.into_inner().unwrap_or_default();
    all.sort_unstable_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, t)| t).collect()
}

/// A file read from disk: its text, or why it could not be used.
pub type Read = Result<Source, String>;

/// A file's text.
#[derive(Debug)]
pub struct Source {
    pub text: String,
    /// The file is not UTF-8: the text has its invalid bytes replaced (a
    /// Latin-1 comment should not hide the locks around it).
    pub not_utf8: bool,
}

/// Reads every file (in parallel). Only regular files are opened: reading
/// a FIFO would block the scan.
pub fn read_all(files: &[SourceFile], jobs: usize) -> Vec<Read> {
    parallel(files.len(), jobs, |i| read(&files[i].path))
}

fn read(path: &std::path::Path) -> Read {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => return Err("not a regular file".into()),
        Err(e) => return Err(format!("cannot read: {e}")),
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) => Source {
            text,
            not_utf8: false,
        },
        Err(e) => Source {
            text: String::from_utf8_lossy(e.as_bytes()).into_owned(),
            not_utf8: true,
        },
    })
}

/// What a file must mention to hold a lock, an atomic or a condvar. A
/// crate none of whose files mention any of these cannot take a lock, so
/// nothing in it can be a finding, nor lead to one elsewhere (crates do
/// not call back into the crates that depend on them).
const MARKERS: &[&str] = &[
    "Mutex", "RwLock", "Condvar", "Atomic", "lock(", ".read()", ".write()", "_read(",
];

/// Whether a file's text mentions a lock, an atomic or a condvar.
pub fn mentions_locks(text: &str) -> bool {
    MARKERS.iter().any(|m| text.contains(m))
}

/// Parses the files whose entry in `wanted` is true (the others are
/// `None`), from the texts read. A file that could not be read is skipped
/// whether wanted or not: it was never seen to be lock-free.
pub fn parse_all(
    files: &[SourceFile],
    texts: &[Read],
    wanted: &[bool],
    jobs: usize,
) -> Vec<Option<Parsed>> {
    parallel(files.len(), jobs, |i| {
        let text = match &texts[i] {
            Ok(_) if !wanted[i] => return None,
            Ok(source) => &source.text,
            Err(reason) => {
                return Some(Parsed::Skipped {
                    line: 0,
                    column: 0,
                    reason: reason.clone(),
                })
            }
        };
        let module = &files[i].module;
        let result = std::panic::catch_unwind(|| parse_text(text, module));
        // Spans of this thread's files are no longer needed.
        proc_macro2::extra::invalidate_current_thread_spans();
        Some(result.unwrap_or_else(|_| Parsed::Skipped {
            line: 0,
            column: 0,
            reason: "internal error while reading this file".into(),
        }))
    })
}

/// Parses and lowers one file's text.
pub fn parse_text(text: &str, module: &[super::ir::Sym]) -> Parsed {
    if let Some(line) = too_deep(text) {
        return Parsed::Skipped {
            line,
            column: 0,
            reason: format!("brackets nest deeper than {MAX_NESTING} levels"),
        };
    }
    // 2015-edition code syn's grammar no longer takes (anonymous trait
    // method parameters) gets a second, tolerant parse before it is skipped.
    let parsed =
        syn::parse_file(text).or_else(|e| super::old_syntax::parse_tolerant(text).ok_or(e));
    match parsed {
        Ok(ast) => {
            let mut items = super::lower::lower_file(&ast, module);
            drop(ast);
            let mut allows = FileAllows::scan(text);
            allows.spans = std::mem::take(&mut items.spans);
            Parsed::Ok {
                items: Box::new(items),
                allows,
                lines: text.bytes().filter(|&b| b == b'\n').count()
                    + usize::from(!text.is_empty() && !text.ends_with('\n')),
            }
        }
        Err(e) => {
            let start = e.span().start();
            Parsed::Skipped {
                line: start.line,
                column: start.column + 1,
                reason: e.to_string(),
            }
        }
    }
}

/// The line where brackets first nest deeper than [`MAX_NESTING`], if they
/// do (strings, chars and comments are skipped roughly: this only guards
/// the parser's stack).
fn too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut line = 1;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => line += 1,
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(line);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'\'' if bytes.get(i + 2) == Some(&b'\'') => {
                // A char literal such as '"' or '('.
                i += 3;
                continue;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    } else if bytes[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let deep = format!("fn f() {{ {}1{} }}", "(".repeat(400), ")".repeat(400));
        assert!(matches!(parse_text(&deep, &[]), Parsed::Skipped { .. }));
        let shallow = "fn f() { let s = \"((((\"; (1) }";
        assert!(matches!(parse_text(shallow, &[]), Parsed::Ok { .. }));
    }

    #[test]
    fn parallel_keeps_the_order() {
        let out = parallel(100, 4, |i| i * 2);
        assert_eq!(out, (0..100).map(|i| i * 2).collect::<Vec<_>>());
    }
}
