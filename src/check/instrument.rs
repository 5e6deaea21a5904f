//! Rewrites a program written against `std::sync` and `std::thread` so that
//! it runs on interlock's runtime, keeping every line where it was: sites in
//! the report map straight back to the original file.
//!
//! The rewrite is a list of text edits found with syn, so comments, strings
//! and formatting stay as they are:
//! - `std::sync`, `std::thread` and `core::sync` paths (in expressions,
//!   types, patterns and macro bodies) point at `interlock`;
//! - `use` items that import from them are flattened onto their own lines;
//! - a `static` holding a lock or an atomic becomes a per-execution static,
//!   so that no state leaks from one explored interleaving to the next;
//! - `fn main` is renamed and a new `main` is appended after the last line.

use proc_macro2::{LineColumn, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::visit::Visit;

/// The renamed entry point; the appended `main` runs it under the checker.
pub const USER_MAIN: &str = "__interlock_user_main";

/// Types of the runtime whose state a `static` must not carry across executions.
const RECORDED_TYPES: &[&str] = &[
    "Mutex",
    "RwLock",
    "Condvar",
    "Barrier",
    "AtomicBool",
    "AtomicUsize",
    "AtomicIsize",
    "AtomicU8",
    "AtomicU16",
    "AtomicU32",
    "AtomicU64",
    "AtomicI8",
    "AtomicI16",
    "AtomicI32",
    "AtomicI64",
    "TrackedCell",
];

/// A replacement of `original[start..end]`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Edit {
    start: usize,
    end: usize,
    text: String,
}

/// The instrumented program and how to map its columns back.
#[derive(Clone, Debug)]
pub struct Instrumented {
    pub source: String,
    /// Per original line (0-based): the edits on it as (column, removed, inserted) in bytes.
    line_edits: Vec<Vec<(usize, usize, usize)>>,
}

impl Instrumented {
    /// Maps a 1-based column of the instrumented line back to the original.
    pub fn original_column(&self, line: u32, column: u32) -> u32 {
        let Some(edits) = line
            .checked_sub(1)
            .and_then(|l| self.line_edits.get(l as usize))
        else {
            return column;
        };
        let column = column.saturating_sub(1) as i64;
        let mut shift: i64 = 0;
        for &(start, removed, inserted) in edits {
            let new_start = start as i64 + shift;
            if column < new_start {
                break;
            }
            if column < new_start + inserted as i64 {
                return start as u32 + 1;
            }
            shift += inserted as i64 - removed as i64;
        }
        (column - shift).max(0) as u32 + 1
    }
}

/// Why a file cannot be instrumented.
#[derive(Clone, Debug)]
pub enum InstrumentError {
    /// syn could not parse it: the message and the 1-based line and column.
    Parse {
        message: String,
        line: usize,
        column: usize,
    },
    /// It has no `fn main` at the top level.
    NoMain,
}

pub fn instrument(text: &str) -> Result<Instrumented, InstrumentError> {
    let file = syn::parse_file(text).map_err(|e| {
        let start = e.span().start();
        InstrumentError::Parse {
            message: e.to_string(),
            line: start.line,
            column: start.column + 1,
        }
    })?;
    let lines = LineIndex::new(text);
    let mut finder = EditFinder {
        text,
        lines: &lines,
        edits: Vec::new(),
        has_main: false,
    };
    finder.visit_file(&file);
    if !finder.has_main {
        return Err(InstrumentError::NoMain);
    }
    let mut edits = finder.edits;
    edits.sort_by_key(|e| (e.start, e.end));
    edits.dedup_by(|b, a| b.start < a.end); // an edit inside another is already covered
    let mut source = String::with_capacity(text.len() + 256);
    let mut line_edits = vec![Vec::new(); text.lines().count() + 1];
    let mut at = 0;
    for edit in &edits {
        source.push_str(&text[at..edit.start]);
        source.push_str(&edit.text);
        let (line, column) = lines.line_column(edit.start);
        if let Some(list) = line_edits.get_mut(line) {
            list.push((column, edit.end - edit.start, edit.text.len()));
        }
        at = edit.end;
    }
    source.push_str(&text[at..]);
    if !source.ends_with('\n') {
        source.push('\n');
    }
    source.push_str(&format!(
        "fn main() {{ ::interlock::runtime::check_main({USER_MAIN}) }}\n"
    ));
    Ok(Instrumented { source, line_edits })
}

/// Byte offsets of line starts, to turn span positions into offsets.
struct LineIndex {
    starts: Vec<usize>,
    text_len: usize,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex {
            starts,
            text_len: text.len(),
        }
    }

    /// Byte offset of a span position (1-based line, 0-based char column).
    fn offset(&self, text: &str, at: LineColumn) -> usize {
        let Some(&start) = self.starts.get(at.line.saturating_sub(1)) else {
            return self.text_len;
        };
        let line = &text[start..];
        start
            + line
                .char_indices()
                .nth(at.column)
                .map_or(line.len(), |(i, _)| i)
    }

    /// 0-based line and byte column of an offset.
    fn line_column(&self, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        (line, offset - self.starts[line])
    }
}

struct EditFinder<'a> {
    text: &'a str,
    lines: &'a LineIndex,
    edits: Vec<Edit>,
    has_main: bool,
}

impl EditFinder<'_> {
    fn range(&self, span: Span) -> (usize, usize) {
        (
            self.lines.offset(self.text, span.start()),
            self.lines.offset(self.text, span.end()),
        )
    }

    fn replace(&mut self, span: Span, text: impl Into<String>) {
        let (start, end) = self.range(span);
        self.edits.push(Edit {
            start,
            end,
            text: text.into(),
        });
    }

    fn insert(&mut self, at: usize, text: impl Into<String>) {
        self.edits.push(Edit {
            start: at,
            end: at,
            text: text.into(),
        });
    }

    /// Scans a macro body for `std::sync`/`std::thread`/`core::sync` paths.
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, tree) in trees.iter().enumerate() {
            match tree {
                TokenTree::Group(group) => self.scan_tokens(group.stream()),
                TokenTree::Ident(root) => {
                    let next = |k: usize| trees.get(i + k);
                    let colons = matches!((next(1), next(2)),
                        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))) if a.as_char() == ':' && b.as_char() == ':');
                    let module = match next(3) {
                        Some(TokenTree::Ident(m)) => m.to_string(),
                        _ => continue,
                    };
                    let preceded_by_colons = i >= 1
                        && matches!(&trees[i - 1], TokenTree::Punct(p) if p.as_char() == ':');
                    if colons && !preceded_by_colons && redirected(&root.to_string(), &module) {
                        self.replace(root.span(), "interlock");
                    }
                }
                _ => {}
            }
        }
    }
}

/// Whether `root::module` is one interlock provides.
fn redirected(root: &str, module: &str) -> bool {
    matches!(
        (root, module),
        ("std", "sync") | ("std", "thread") | ("core", "sync")
    )
}

/// One imported path of a `use` tree, flattened.
struct UsePath {
    segments: Vec<String>,
    /// `None` for `self` (import the module itself).
    leaf: Option<String>,
    rename: Option<String>,
}

fn flatten(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<UsePath>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) if n.ident == "self" => out.push(UsePath {
            segments: prefix.clone(),
            leaf: None,
            rename: None,
        }),
        syn::UseTree::Name(n) => out.push(UsePath {
            segments: prefix.clone(),
            leaf: Some(n.ident.to_string()),
            rename: None,
        }),
        syn::UseTree::Rename(r) => out.push(UsePath {
            segments: prefix.clone(),
            leaf: if r.ident == "self" {
                None
            } else {
                Some(r.ident.to_string())
            },
            rename: Some(r.rename.to_string()),
        }),
        syn::UseTree::Glob(_) => out.push(UsePath {
            segments: prefix.clone(),
            leaf: Some("*".to_string()),
            rename: None,
        }),
        syn::UseTree::Group(g) => {
            for item in &g.items {
                flatten(item, prefix, out);
            }
        }
    }
}

impl UsePath {
    fn render(&self, leading_colon: bool) -> String {
        let mut segments = self.segments.clone();
        if self.is_redirected() {
            segments[0] = "interlock".to_string();
        }
        let mut path = if leading_colon {
            "::".to_string()
        } else {
            String::new()
        };
        path.push_str(&segments.join("::"));
        if let Some(leaf) = &self.leaf {
            if !path.is_empty() && !path.ends_with("::") {
                path.push_str("::");
            }
            path.push_str(leaf);
        }
        if let Some(rename) = &self.rename {
            path.push_str(&format!(" as {rename}"));
        }
        path
    }

    fn is_redirected(&self) -> bool {
        (self.segments.len() >= 2 && redirected(&self.segments[0], &self.segments[1]))
            || (self.segments.len() == 1
                && self
                    .leaf
                    .as_deref()
                    .is_some_and(|l| redirected(&self.segments[0], l)))
    }
}

fn mentions_recorded_type(ty: &syn::Type) -> bool {
    let text = quote_tokens(ty);
    RECORDED_TYPES.iter().any(|name| {
        text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|word| word == *name)
    })
}

fn quote_tokens(node: &impl ToTokens) -> String {
    node.to_token_stream().to_string()
}

impl<'ast> Visit<'ast> for EditFinder<'_> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_file(&mut self, file: &'ast syn::File) {
        for item in &file.items {
            if let syn::Item::Fn(f) = item {
                if f.sig.ident == "main" {
                    self.has_main = true;
                    self.replace(f.sig.ident.span(), USER_MAIN);
                }
            }
        }
        syn::visit::visit_file(self, file);
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut paths = Vec::new();
        flatten(&item.tree, &mut Vec::new(), &mut paths);
        if !paths.iter().any(UsePath::is_redirected) {
            return;
        }
        // Rewrite `use ... ;` (after the visibility) as one `use` per path,
        // on as many lines as it took, so that later lines stay in place.
        let (start, _) = self.range(syn::spanned::Spanned::span(&item.use_token));
        let (_, end) = self.range(syn::spanned::Spanned::span(&item.semi_token));
        let vis = match &item.vis {
            syn::Visibility::Inherited => String::new(),
            vis => format!("{} ", quote_tokens(vis)),
        };
        let leading = item.leading_colon.is_some();
        let rendered: Vec<String> = paths
            .iter()
            .map(|p| format!("use {};", p.render(leading)))
            .collect();
        let mut text = rendered.join(&format!(" {vis}"));
        let newlines = self.text[start..end].matches('\n').count();
        text.push_str(&"\n".repeat(newlines));
        self.edits.push(Edit { start, end, text });
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<_> = path.segments.iter().collect();
        if segments.len() >= 2
            && redirected(
                &segments[0].ident.to_string(),
                &segments[1].ident.to_string(),
            )
        {
            self.replace(segments[0].ident.span(), "interlock");
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.scan_tokens(mac.tokens.clone());
        syn::visit::visit_macro(self, mac);
    }

    fn visit_item_static(&mut self, item: &'ast syn::ItemStatic) {
        syn::visit::visit_item_static(self, item);
        if !matches!(item.mutability, syn::StaticMutability::None)
            || !mentions_recorded_type(&item.ty)
        {
            return;
        }
        let (ty_start, ty_end) = self.range(syn::spanned::Spanned::span(&*item.ty));
        let (expr_start, expr_end) = self.range(syn::spanned::Spanned::span(&*item.expr));
        self.insert(ty_start, "::interlock::runtime::ModelStatic<");
        self.insert(ty_end, ">");
        self.insert(expr_start, "::interlock::runtime::ModelStatic::new(|| ");
        self.insert(expr_end, ")");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(text: &str) -> String {
        instrument(text).expect("instruments").source
    }

    #[test]
    fn paths_and_uses_point_at_interlock_and_lines_stay() {
        let text = "use std::sync::{Arc, Mutex};\nuse std::{collections::HashMap,\n    thread};\n\nfn main() {\n    let m = Arc::new(std::sync::Mutex::new(0));\n    let t = std::thread::spawn(|| {});\n    let _h: HashMap<u8, u8> = HashMap::new();\n    println!(\"{:?}\", std::sync::atomic::Ordering::SeqCst);\n}\n";
        let out = rewrite(text);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "use interlock::sync::Arc; use interlock::sync::Mutex;"
        );
        assert_eq!(
            lines[1],
            "use std::collections::HashMap; use interlock::thread;"
        );
        assert_eq!(lines[2], "");
        assert_eq!(lines[4], "fn __interlock_user_main() {");
        assert_eq!(
            lines[5],
            "    let m = Arc::new(interlock::sync::Mutex::new(0));"
        );
        assert_eq!(lines[6], "    let t = interlock::thread::spawn(|| {});");
        assert!(lines[8].contains("interlock::sync::atomic::Ordering::SeqCst"));
        assert_eq!(out.lines().count(), text.lines().count() + 1);
        assert!(out
            .ends_with("fn main() { ::interlock::runtime::check_main(__interlock_user_main) }\n"));
    }

    #[test]
    fn statics_holding_locks_become_per_execution() {
        let text = "use std::sync::Mutex;\nstatic COUNT: Mutex<u32> = Mutex::new(0);\nstatic NAME: &str = \"x\";\nfn main() {}\n";
        let out = rewrite(text);
        assert!(out.contains("static COUNT: ::interlock::runtime::ModelStatic<Mutex<u32>> = ::interlock::runtime::ModelStatic::new(|| Mutex::new(0));"), "{out}");
        assert!(out.contains("static NAME: &str = \"x\";"));
    }

    #[test]
    fn columns_map_back_across_edits() {
        let text = "fn main() { let t = std::thread::spawn(|| {}); }\n";
        let inst = instrument(text).unwrap();
        // `spawn` is at column 34 of the original line (1-based).
        let original = text.find("spawn").unwrap() as u32 + 1;
        let rewritten_line = inst.source.lines().next().unwrap();
        let rewritten = rewritten_line.find("spawn").unwrap() as u32 + 1;
        assert_ne!(original, rewritten);
        assert_eq!(inst.original_column(1, rewritten), original);
        // Before any edit nothing moves.
        assert_eq!(inst.original_column(1, 1), 1);
    }

    #[test]
    fn files_without_main_and_unparsable_files_are_told_apart() {
        assert!(matches!(
            instrument("fn helper() {}"),
            Err(InstrumentError::NoMain)
        ));
        match instrument("fn main( {") {
            Err(InstrumentError::Parse { line, .. }) => assert_eq!(line, 1),
            other => panic!("{other:?}"),
        }
    }
}
