//! Paths in a program that name files beside it keep meaning those files,
//! although the program is built from a copy in the build cache:
//! `mod helper;` gets `#[path = "/its/dir/helper.rs"]`, and a relative
//! `include_str!`, `include_bytes!` or `include!` gets the absolute path.
//!
//! Edits stay on their line, so lines still map one to one; the columns they
//! shift are undone by [`Relocated::column_before`].

use proc_macro2::{Delimiter, LineColumn, TokenStream, TokenTree};
use std::path::{Path, PathBuf};

/// The source with its paths made absolute, and how to map columns back.
#[derive(Clone, Debug)]
pub struct Relocated {
    pub source: String,
    /// Per line (0-based): (byte column, bytes removed, bytes inserted), in order.
    line_edits: Vec<Vec<(usize, usize, usize)>>,
}

impl Relocated {
    /// The 1-based column of `source` before relocation.
    pub fn column_before(&self, line: u32, column: u32) -> u32 {
        let Some(edits) = line
            .checked_sub(1)
            .and_then(|l| self.line_edits.get(l as usize))
        else {
            return column;
        };
        let column = i64::from(column.saturating_sub(1));
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

/// A replacement of `source[start..end]`.
struct Edit {
    start: usize,
    end: usize,
    text: String,
}

/// Makes the file paths of `source`, a program that lives in `dir` (an
/// absolute directory), absolute. Source that does not tokenize is left as
/// it is (the compiler will say why).
pub fn relocate(source: &str, dir: &Path) -> Relocated {
    let unchanged = || Relocated {
        source: source.to_string(),
        line_edits: Vec::new(),
    };
    let Ok(tokens) = source.parse::<TokenStream>() else {
        return unchanged();
    };
    let lines = Lines::new(source);
    let mut finder = Finder {
        lines: &lines,
        file_dir: dir,
        edits: Vec::new(),
    };
    finder.tokens(tokens, dir, true);
    let mut edits = finder.edits;
    if edits.is_empty() {
        return unchanged();
    }
    edits.sort_by_key(|e| e.start);
    let mut out = String::with_capacity(source.len() + 128 * edits.len());
    let mut line_edits = vec![Vec::new(); source.lines().count() + 1];
    let mut at = 0;
    for edit in &edits {
        if edit.start < at {
            continue;
        }
        out.push_str(&source[at..edit.start]);
        out.push_str(&edit.text);
        let line = source[..edit.start].matches('\n').count();
        let line_start = source[..edit.start].rfind('\n').map_or(0, |i| i + 1);
        if let Some(list) = line_edits.get_mut(line) {
            list.push((
                edit.start - line_start,
                edit.end - edit.start,
                edit.text.len(),
            ));
        }
        at = edit.end;
    }
    out.push_str(&source[at..]);
    Relocated {
        source: out,
        line_edits,
    }
}

struct Finder<'a> {
    lines: &'a Lines,
    /// Includes resolve against the file they are written in: the program's.
    file_dir: &'a Path,
    edits: Vec<Edit>,
}

impl Finder<'_> {
    /// Walks one token list. `module_dir` is where `mod x;` finds `x.rs`;
    /// `items` says whether the list holds items (a file or a module body),
    /// where `mod` declarations can be.
    fn tokens(&mut self, tokens: TokenStream, module_dir: &Path, items: bool) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        // Where the current item starts, and its `#[path = "..."]`, if any.
        let mut item_start: Option<usize> = None;
        let mut path_attr: Option<(usize, String)> = None;
        let mut i = 0;
        while i < tokens.len() {
            let token = &tokens[i];
            if item_start.is_none() {
                item_start = Some(i);
            }
            match token {
                TokenTree::Punct(p) if p.as_char() == '#' => {
                    // `#![...]` belongs to the enclosing module, not to an item.
                    if let (Some(TokenTree::Punct(bang)), Some(TokenTree::Group(_))) =
                        (tokens.get(i + 1), tokens.get(i + 2))
                    {
                        if bang.as_char() == '!' {
                            item_start = None;
                            i += 3;
                            continue;
                        }
                    }
                    if let Some(TokenTree::Group(g)) = tokens.get(i + 1) {
                        if let Some(found) = path_attribute(g.stream()) {
                            path_attr = Some((i + 1, found));
                        }
                        self.tokens(g.stream(), module_dir, false);
                        i += 2;
                        continue;
                    }
                }
                TokenTree::Ident(id) if items && id == "mod" => {
                    if let (Some(TokenTree::Ident(name)), Some(next)) =
                        (tokens.get(i + 1), tokens.get(i + 2))
                    {
                        let name = name.to_string();
                        match next {
                            TokenTree::Punct(p) if p.as_char() == ';' => {
                                self.module_file(
                                    &tokens,
                                    item_start.unwrap_or(i),
                                    path_attr.take(),
                                    module_dir,
                                    &name,
                                );
                                item_start = None;
                                i += 3;
                                continue;
                            }
                            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => {
                                let inner = match path_attr.take() {
                                    Some((_, path)) => module_dir.join(path),
                                    None => module_dir.join(name.trim_start_matches("r#")),
                                };
                                self.tokens(g.stream(), &inner, true);
                                item_start = None;
                                i += 3;
                                continue;
                            }
                            _ => {}
                        }
                    }
                }
                TokenTree::Ident(id)
                    if matches!(
                        id.to_string().as_str(),
                        "include_str" | "include_bytes" | "include"
                    ) =>
                {
                    if let (Some(TokenTree::Punct(bang)), Some(TokenTree::Group(g))) =
                        (tokens.get(i + 1), tokens.get(i + 2))
                    {
                        if bang.as_char() == '!' {
                            self.include(g.stream());
                            i += 3;
                            continue;
                        }
                    }
                }
                TokenTree::Group(g) => {
                    self.tokens(g.stream(), module_dir, false);
                    if g.delimiter() == Delimiter::Brace {
                        item_start = None;
                        path_attr = None;
                    }
                }
                TokenTree::Punct(p) if p.as_char() == ';' => {
                    item_start = None;
                    path_attr = None;
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// `mod name;`: an absolute `#[path]` where the compiler would look.
    fn module_file(
        &mut self,
        tokens: &[TokenTree],
        item_start: usize,
        path_attr: Option<(usize, String)>,
        module_dir: &Path,
        name: &str,
    ) {
        match path_attr {
            Some((group, path)) => {
                if Path::new(&path).is_absolute() {
                    return;
                }
                // Rewrite the literal inside `#[path = "..."]`.
                if let TokenTree::Group(g) = &tokens[group] {
                    if let Some(TokenTree::Literal(lit)) = g.stream().into_iter().nth(2) {
                        self.replace_literal(lit.span(), &module_dir.join(path));
                    }
                }
            }
            None => {
                let name = name.trim_start_matches("r#");
                let flat = module_dir.join(format!("{name}.rs"));
                let nested = module_dir.join(name).join("mod.rs");
                let file = if !flat.is_file() && nested.is_file() {
                    nested
                } else {
                    flat
                };
                let Some(literal) = literal_of(&file) else {
                    return;
                };
                let start = self.lines.offset(tokens[item_start].span().start());
                self.edits.push(Edit {
                    start,
                    end: start,
                    text: format!("#[path = {literal}] "),
                });
            }
        }
    }

    /// `include_str!("x")` and the like, with a relative literal path.
    fn include(&mut self, args: TokenStream) {
        let Some(TokenTree::Literal(lit)) = args.into_iter().next() else {
            return;
        };
        let Ok(path) = syn::parse_str::<syn::LitStr>(&lit.to_string()) else {
            return;
        };
        let path = path.value();
        if Path::new(&path).is_absolute() {
            return;
        }
        let target = self.file_dir.join(path);
        self.replace_literal(lit.span(), &target);
    }

    fn replace_literal(&mut self, span: proc_macro2::Span, target: &Path) {
        let Some(literal) = literal_of(target) else {
            return;
        };
        self.edits.push(Edit {
            start: self.lines.offset(span.start()),
            end: self.lines.offset(span.end()),
            text: literal,
        });
    }
}

/// `path = "x"` inside `#[...]`: the path.
fn path_attribute(stream: TokenStream) -> Option<String> {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    match tokens.as_slice() {
        [TokenTree::Ident(key), TokenTree::Punct(eq), TokenTree::Literal(lit)]
            if key == "path" && eq.as_char() == '=' =>
        {
            syn::parse_str::<syn::LitStr>(&lit.to_string())
                .ok()
                .map(|l| l.value())
        }
        _ => None,
    }
}

/// A Rust string literal for a path (`None` for a path that is not UTF-8).
fn literal_of(path: &Path) -> Option<String> {
    let text = path.to_str()?;
    // `{:?}` escapes quotes, backslashes and control characters the way a
    // Rust literal reads them back.
    Some(format!("{text:?}"))
}

/// Byte offsets of line starts, to turn span positions into offsets.
struct Lines {
    starts: Vec<usize>,
    text: String,
}

impl Lines {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines {
            starts,
            text: text.to_string(),
        }
    }

    /// The byte offset of a span position (1-based line, column in chars).
    fn offset(&self, at: LineColumn) -> usize {
        let start = self
            .starts
            .get(at.line.saturating_sub(1))
            .copied()
            .unwrap_or(self.text.len());
        let line = &self.text[start..];
        start
            + line
                .char_indices()
                .nth(at.column)
                .map_or(line.len(), |(i, _)| i)
    }
}

/// The directory a program lives in, absolute, so that its relative paths
/// can be resolved from anywhere.
pub fn program_dir(program: &Path) -> PathBuf {
    let absolute = std::fs::canonicalize(program).unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|cwd| cwd.join(program))
            .unwrap_or_else(|_| program.to_path_buf())
    });
    absolute
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_and_include_paths_become_absolute_on_their_line() {
        let dir = Path::new("/work/prog");
        let source = "#![allow(dead_code)]\nmod helper;\npub mod other;\n#[path = \"x/y.rs\"] mod z;\nmod inline { mod deep; }\nfn main() { let s = include_str!(\"input.txt\"); }\n";
        let relocated = relocate(source, dir);
        let lines: Vec<&str> = relocated.source.lines().skip(1).collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0], "#[path = \"/work/prog/helper.rs\"] mod helper;");
        assert_eq!(lines[1], "#[path = \"/work/prog/other.rs\"] pub mod other;");
        assert_eq!(lines[2], "#[path = \"/work/prog/x/y.rs\"] mod z;");
        assert_eq!(
            lines[3],
            "mod inline { #[path = \"/work/prog/inline/deep.rs\"] mod deep; }"
        );
        assert_eq!(
            lines[4],
            "fn main() { let s = include_str!(\"/work/prog/input.txt\"); }"
        );
        // `let` on line 5 is at column 13 before and after; `;` after the
        // literal moved right by the inserted path.
        assert_eq!(relocated.column_before(6, 13), 13);
        let semicolon = lines[4].rfind(';').unwrap() as u32 + 1;
        let original = source.lines().nth(5).unwrap().rfind(';').unwrap() as u32 + 1;
        assert_eq!(relocated.column_before(6, semicolon), original);
    }

    #[test]
    fn absolute_paths_and_paths_in_strings_stay() {
        let dir = Path::new("/work/prog");
        let source = "#[path = \"/abs/h.rs\"] mod h;\nfn main() { let s = \"mod x;\"; let b = include_bytes!(\"/etc/hosts\"); }\n";
        assert_eq!(relocate(source, dir).source, source);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        /// Whatever the mix of module declarations, includes and other code
        /// (with non-ASCII text before them): lines stay lines, and every
        /// column after an edit maps back to where it was.
        #[test]
        fn relocation_keeps_lines_and_maps_columns_back(
            lines in proptest::collection::vec(0usize..8, 1..12)
        ) {
            const PIECES: &[&str] = &[
                "mod helper;",
                "pub(crate) mod ünï;",
                "#[path = \"a/b.rs\"] mod c;",
                "const S: &str = include_str!(\"data é.txt\");",
                "const B: &[u8] = include_bytes!(r\"x\\y\");",
                "fn f() { let s = \"mod x;\"; }",
                "mod inline { mod deep; }",
                "// é mod z;",
            ];
            let source: String = lines
                .iter()
                .map(|&i| format!("{} /*Z*/\n", PIECES[i]))
                .collect();
            let relocated = relocate(&source, Path::new("/d ir/\u{e9}"));
            proptest::prop_assert_eq!(relocated.source.lines().count(), source.lines().count());
            for (n, (before, after)) in source.lines().zip(relocated.source.lines()).enumerate() {
                // Columns count bytes, as the instrumented program's do.
                let column = |line: &str| line.rfind("/*Z*/").unwrap() as u32 + 1;
                proptest::prop_assert_eq!(
                    relocated.column_before(n as u32 + 1, column(after)),
                    column(before),
                    "{} -> {}", before, after
                );
            }
        }
    }
}
