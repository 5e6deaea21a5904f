//! A tolerant second parse for 2015-edition syntax that syn's grammar no
//! longer accepts: anonymous parameters in trait methods
//! (`fn visit(&self, u8);`, allowed before the 2018 edition). (Trait
//! objects without `dyn`, `Box<Fn(u8) + Send>`, syn parses as they are.)
//!
//! The file's tokens are rewritten, not its text: `u8` becomes `_: u8`
//! with the tokens keeping their spans, so every line and column the
//! findings point at stays where it was in the file.

use proc_macro2::{Delimiter, Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};

/// The file parsed with every anonymous parameter named `_`, when that
/// makes it parse.
pub fn parse_tolerant(text: &str) -> Option<syn::File> {
    let tokens: TokenStream = text.parse().ok()?;
    let (tokens, changed) = name_parameters(tokens);
    if !changed {
        return None;
    }
    syn::parse2(tokens).ok()
}

/// Rewrites, anywhere in `tokens`, the parameter lists that follow
/// `fn NAME` (and its generics), and adds `dyn` to trait objects written
/// without it. Returns whether anything changed.
fn name_parameters(tokens: TokenStream) -> (TokenStream, bool) {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::new();
    let mut changed = false;
    // After `fn NAME`: the next parenthesized group is the parameter list.
    let mut awaiting_params = false;
    let mut after_fn = false;
    // Inside the function's generics (`fn g<F: Fn(u8)>`): not yet.
    let mut generics = 0i32;
    for (i, tree) in trees.iter().enumerate() {
        if awaiting_params {
            if let TokenTree::Punct(p) = tree {
                let arrow =
                    i > 0 && matches!(&trees[i - 1], TokenTree::Punct(q) if q.as_char() == '-');
                match p.as_char() {
                    '<' => generics += 1,
                    '>' if !arrow => generics -= 1,
                    _ => {}
                }
            }
        }
        match tree {
            TokenTree::Ident(ident) if ident == "fn" => {
                after_fn = true;
                out.push(tree.clone());
                continue;
            }
            TokenTree::Ident(_) if after_fn => {
                awaiting_params = true;
                generics = 0;
            }
            TokenTree::Ident(ident) if bare_trait_object(&trees, i) => {
                out.push(TokenTree::Ident(Ident::new("dyn", ident.span())));
                changed = true;
            }
            TokenTree::Group(group) => {
                let (inner, inner_changed) = if awaiting_params
                    && generics <= 0
                    && group.delimiter() == Delimiter::Parenthesis
                {
                    awaiting_params = false;
                    let (named, named_changed) = name_list(group.stream());
                    let (inner, nested) = name_parameters(named);
                    (inner, named_changed || nested)
                } else {
                    name_parameters(group.stream())
                };
                changed |= inner_changed;
                let mut rebuilt = Group::new(group.delimiter(), inner);
                rebuilt.set_span(group.span());
                out.push(TokenTree::Group(rebuilt));
                after_fn = false;
                continue;
            }
            _ => {}
        }
        after_fn = false;
        out.push(tree.clone());
    }
    (out.into_iter().collect(), changed)
}

/// Whether `trees[i]` starts a trait object written without `dyn` in a
/// type: `Fn(..)`, `FnMut(..)` or `FnOnce(..)` right after `<`, `&` or
/// `mut` (`Box<Fn(u8) + Send>`, `&mut FnMut()`), or any path right after
/// `<` that a `+` follows (`Box<Handler + Send>`). After `:` or `+` it is
/// a bound, and stays as it is.
fn bare_trait_object(trees: &[TokenTree], i: usize) -> bool {
    let TokenTree::Ident(ident) = &trees[i] else {
        return false;
    };
    let previous = i.checked_sub(1).map(|p| &trees[p]);
    let after_angle = matches!(previous, Some(TokenTree::Punct(p)) if p.as_char() == '<');
    let after_reference = matches!(previous, Some(TokenTree::Punct(p)) if p.as_char() == '&')
        || matches!(previous, Some(TokenTree::Ident(m)) if m == "mut");
    let closure_trait = matches!(ident.to_string().as_str(), "Fn" | "FnMut" | "FnOnce")
        && matches!(trees.get(i + 1), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis);
    if closure_trait && (after_angle || after_reference) {
        return true;
    }
    if !after_angle || ident == "dyn" || ident == "impl" {
        return false;
    }
    // A path (`a::b::Trait`), then `+`.
    let mut j = i + 1;
    while let Some(TokenTree::Punct(p)) = trees.get(j) {
        if p.as_char() != ':' {
            break;
        }
        j += 1;
        if matches!(trees.get(j), Some(TokenTree::Ident(_))) {
            j += 1;
        }
    }
    matches!(trees.get(j), Some(TokenTree::Punct(p)) if p.as_char() == '+')
}

/// One parameter list: each parameter with no `:` of its own at the top
/// level (and that is not `self`) gets `_:` in front.
fn name_list(list: TokenStream) -> (TokenStream, bool) {
    let mut params: Vec<Vec<TokenTree>> = vec![Vec::new()];
    let mut angle = 0i32;
    let mut previous_joint_minus = false;
    for tree in list {
        if let TokenTree::Punct(p) = &tree {
            match p.as_char() {
                '<' => angle += 1,
                '>' if !previous_joint_minus => angle -= 1,
                ',' if angle <= 0 => {
                    params.push(Vec::new());
                    previous_joint_minus = false;
                    continue;
                }
                _ => {}
            }
            previous_joint_minus = p.as_char() == '-' && p.spacing() == Spacing::Joint;
        } else {
            previous_joint_minus = false;
        }
        if let Some(last) = params.last_mut() {
            last.push(tree);
        }
    }
    let mut changed = false;
    let mut out: Vec<TokenTree> = Vec::new();
    let count = params.len();
    for (i, param) in params.into_iter().enumerate() {
        if !param.is_empty() && !has_own_colon(&param) && !is_self(&param) {
            let span = param.first().map_or_else(Span::call_site, TokenTree::span);
            out.push(TokenTree::Ident(Ident::new("_", span)));
            let mut colon = Punct::new(':', Spacing::Alone);
            colon.set_span(span);
            out.push(TokenTree::Punct(colon));
            changed = true;
        }
        out.extend(param);
        if i + 1 < count {
            out.push(TokenTree::Punct(Punct::new(',', Spacing::Alone)));
        }
    }
    (out.into_iter().collect(), changed)
}

/// A `:` on its own (not half of a `::`) outside any `<..>`.
fn has_own_colon(param: &[TokenTree]) -> bool {
    let mut angle = 0i32;
    let mut previous: Option<&Punct> = None;
    for tree in param {
        let TokenTree::Punct(p) = tree else {
            previous = None;
            continue;
        };
        match p.as_char() {
            '<' => angle += 1,
            '>' if previous.is_none_or(|q| q.as_char() != '-') => angle -= 1,
            ':' if angle == 0
                && p.spacing() == Spacing::Alone
                && !previous
                    .is_some_and(|q| q.as_char() == ':' && q.spacing() == Spacing::Joint) =>
            {
                return true
            }
            _ => {}
        }
        previous = Some(p);
    }
    false
}

/// `self`, `&self`, `&'a mut self`, `mut self`.
fn is_self(param: &[TokenTree]) -> bool {
    matches!(param.last(), Some(TokenTree::Ident(i)) if i == "self")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_parameters_are_named_and_lines_kept() {
        let text = "trait Visit {\n    fn visit(&self, u8, Vec<(u8, u16)>, ::std::string::String);\n    fn named(&mut self, x: u8) -> Box<Fn(u8) -> u8 + Send>;\n    fn other(&self, Box<Handler + Send>, &mut FnMut());\n}\nfn g<F: Fn(u8) + Send>(f: F) {}\n";
        assert!(syn::parse_file(text).is_err());
        let file = parse_tolerant(text).expect("parses once named");
        let syn::Item::Trait(item) = &file.items[0] else {
            panic!("a trait");
        };
        let syn::TraitItem::Fn(visit) = &item.items[0] else {
            panic!("a method");
        };
        assert_eq!(visit.sig.inputs.len(), 4);
        assert_eq!(item.items.len(), 3);
        assert_eq!(visit.sig.ident.span().start().line, 2);
        // A file that parses is not touched; one that is broken stays broken.
        assert!(parse_tolerant("fn f(x: u8) {}").is_none());
        assert!(parse_tolerant("fn f(u8 {").is_none());
    }
}
