//! Lowering: syn's tree of one file to the scanner's items and bodies
//! ([`super::ir`]), on the thread that parsed it.
//!
//! Positions are read from the first token of each expression as it is
//! lowered (never with `Spanned::span`, which prints the whole expression to
//! find its bounds). Expressions nested deeper than `MAX_DEPTH` are cut off:
//! no real code nests that deep, and fuzzed code must not exhaust the stack.

use proc_macro2::Span;
use syn::punctuated::Punctuated;

use super::ir::*;

/// Deeper expressions, patterns and types are lowered as opaque.
const MAX_DEPTH: u32 = 160;

/// Lowers a parsed file whose module path (inside its crate) is `module`.
pub fn lower_file(file: &syn::File, module: &[Sym]) -> FileItems {
    let mut renames = Vec::new();
    collect_renames(&file.items, &mut Vec::new(), &mut renames);
    let mut lower = Lower {
        items: FileItems::default(),
        depth: 0,
        calls: Vec::new(),
        renames,
    };
    lower.items_in(&file.items, module);
    lower.items
}

fn pos(span: Span) -> Pos {
    let start = span.start();
    Pos {
        line: start.line as u32,
        column: start.column as u32 + 1,
    }
}

/// A small text buffer on the stack: identifiers are read without
/// allocating (proc-macro2 only shows them through `Display`).
struct NameBuf {
    bytes: [u8; 64],
    len: usize,
    spill: Option<String>,
}

impl std::fmt::Write for NameBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if let Some(spill) = &mut self.spill {
            spill.push_str(s);
        } else if self.len + s.len() <= self.bytes.len() {
            self.bytes[self.len..self.len + s.len()].copy_from_slice(s.as_bytes());
            self.len += s.len();
        } else {
            let mut spill = String::from_utf8_lossy(&self.bytes[..self.len]).into_owned();
            spill.push_str(s);
            self.spill = Some(spill);
        }
        Ok(())
    }
}

fn sym(ident: &syn::Ident) -> Sym {
    use std::fmt::Write;
    let mut buf = NameBuf {
        bytes: [0; 64],
        len: 0,
        spill: None,
    };
    let _ = write!(buf, "{ident}");
    let text = match &buf.spill {
        Some(s) => s.as_str(),
        None => std::str::from_utf8(&buf.bytes[..buf.len]).unwrap_or(""),
    };
    intern(text.strip_prefix("r#").unwrap_or(text))
}

fn path_syms(path: &syn::Path) -> Vec<Sym> {
    path.segments.iter().map(|s| sym(&s.ident)).collect()
}

fn member_sym(member: &syn::Member) -> Sym {
    match member {
        syn::Member::Named(ident) => sym(ident),
        syn::Member::Unnamed(index) => intern(&index.index.to_string()),
    }
}

fn member_pos(member: &syn::Member) -> Pos {
    match member {
        syn::Member::Named(ident) => pos(ident.span()),
        syn::Member::Unnamed(index) => pos(index.span),
    }
}

/// The first line of an item, its attributes and doc comments included.
fn first_line(attrs: &[syn::Attribute], fallback: Pos) -> u32 {
    attrs
        .iter()
        .map(|a| pos(a.pound_token.span).line)
        .min()
        .map_or(fallback.line, |l| l.min(fallback.line))
}

/// What the function being lowered calls.
#[derive(Default)]
struct Calls {
    names: Vec<(Sym, Sym)>,
    direct: bool,
    invokes: bool,
    params: Vec<Sym>,
}

struct Lower {
    items: FileItems,
    depth: u32,
    /// One per function being lowered (functions nest).
    calls: Vec<Calls>,
    /// `use a::B as C;` in the file: a type spelled `C` is `a::B`.
    renames: Vec<(Sym, Vec<Sym>)>,
}

/// The renaming `use`s of a file (`use std::sync::RwLock as StdRwLock`).
fn collect_renames(items: &[syn::Item], prefix: &mut Vec<Sym>, out: &mut Vec<(Sym, Vec<Sym>)>) {
    fn tree(t: &syn::UseTree, prefix: &mut Vec<Sym>, out: &mut Vec<(Sym, Vec<Sym>)>) {
        match t {
            syn::UseTree::Path(p) => {
                prefix.push(sym(&p.ident));
                tree(&p.tree, prefix, out);
                prefix.pop();
            }
            syn::UseTree::Rename(r) => {
                let mut path = prefix.clone();
                path.push(sym(&r.ident));
                out.push((sym(&r.rename), path));
            }
            syn::UseTree::Group(g) => g.items.iter().for_each(|t| tree(t, prefix, out)),
            _ => {}
        }
    }
    for item in items {
        match item {
            syn::Item::Use(u) => tree(&u.tree, prefix, out),
            syn::Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    collect_renames(items, prefix, out);
                }
            }
            _ => {}
        }
    }
}

impl Lower {
    // -----------------------------------------------------------------------
    // Items

    fn items_in(&mut self, items: &[syn::Item], module: &[Sym]) {
        for item in items {
            self.item(item, module);
        }
    }

    fn item(&mut self, item: &syn::Item, module: &[Sym]) {
        self.span_of(item);
        match item {
            syn::Item::Fn(f) => {
                let mut def =
                    self.function(&f.attrs, &f.sig, Some(&f.block), module, Owner::Free, &[]);
                def.is_pub = matches!(f.vis, syn::Visibility::Public(_));
                self.items.fns.push(def);
            }
            syn::Item::Impl(imp) => self.impl_block(imp, module),
            syn::Item::Trait(tr) => self.trait_def(tr, module),
            syn::Item::Struct(s) => {
                let fields = match &s.fields {
                    syn::Fields::Named(named) => named
                        .named
                        .iter()
                        .filter_map(|f| Some((sym(f.ident.as_ref()?), self.ty(&f.ty))))
                        .collect(),
                    syn::Fields::Unnamed(unnamed) => unnamed
                        .unnamed
                        .iter()
                        .enumerate()
                        .map(|(i, f)| (intern(&i.to_string()), self.ty(&f.ty)))
                        .collect(),
                    syn::Fields::Unit => Vec::new(),
                };
                self.items.structs.push(StructDef {
                    name: sym(&s.ident),
                    module: module.to_vec(),
                    fields,
                });
            }
            syn::Item::Static(s) => {
                let ty = self.ty(&s.ty);
                self.items.statics.push(StaticDef {
                    name: sym(&s.ident),
                    module: module.to_vec(),
                    ty,
                    pos: pos(s.ident.span()),
                });
            }
            syn::Item::Type(t) => {
                let ty = self.ty(&t.ty);
                self.items
                    .aliases
                    .push((module.to_vec(), sym(&t.ident), ty));
            }
            syn::Item::Use(u) => {
                let mut prefix = Vec::new();
                self.use_tree(&u.tree, module, &mut prefix);
            }
            syn::Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    let mut inner = module.to_vec();
                    inner.push(sym(&m.ident));
                    self.items_in(items, &inner);
                }
            }
            syn::Item::Macro(m) => self.item_macro(&m.mac, module),
            _ => {}
        }
    }

    /// Records the lines of an item that can carry an inline suppression.
    fn span_of(&mut self, item: &syn::Item) {
        let (attrs, keyword, end) = match item {
            syn::Item::Fn(f) => (
                &f.attrs,
                pos(f.sig.fn_token.span),
                pos(f.block.brace_token.span.close()),
            ),
            syn::Item::Impl(i) => (
                &i.attrs,
                pos(i.impl_token.span),
                pos(i.brace_token.span.close()),
            ),
            syn::Item::Trait(t) => (
                &t.attrs,
                pos(t.trait_token.span),
                pos(t.brace_token.span.close()),
            ),
            syn::Item::Mod(m) => match &m.content {
                Some((brace, _)) => (&m.attrs, pos(m.mod_token.span), pos(brace.span.close())),
                None => return,
            },
            syn::Item::Struct(s) => (&s.attrs, pos(s.struct_token.span), pos(s.struct_token.span)),
            _ => return,
        };
        let first = first_line(attrs, keyword);
        self.items.spans.push((first, keyword.line, end.line));
    }

    fn use_tree(&mut self, tree: &syn::UseTree, module: &[Sym], prefix: &mut Vec<Sym>) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(sym(&p.ident));
                self.use_tree(&p.tree, module, prefix);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let name = sym(&n.ident);
                let (alias, path) = if name == "self" {
                    (prefix.last().cloned(), prefix.clone())
                } else {
                    let mut path = prefix.clone();
                    path.push(name);
                    (Some(name), path)
                };
                self.items.uses.push(UseDef {
                    module: module.to_vec(),
                    alias,
                    path,
                });
            }
            syn::UseTree::Rename(r) => {
                let mut path = prefix.clone();
                let name = sym(&r.ident);
                if name != "self" {
                    path.push(name);
                }
                self.items.uses.push(UseDef {
                    module: module.to_vec(),
                    alias: Some(sym(&r.rename)),
                    path,
                });
            }
            syn::UseTree::Glob(_) => self.items.uses.push(UseDef {
                module: module.to_vec(),
                alias: None,
                path: prefix.clone(),
            }),
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.use_tree(tree, module, prefix);
                }
            }
        }
    }

    fn item_macro(&mut self, mac: &syn::Macro, module: &[Sym]) {
        let name = mac.path.segments.last().map(|s| s.ident.to_string());
        match name.as_deref() {
            Some("lazy_static") => {
                if let Ok(statics) = mac.parse_body_with(parse_lazy_statics) {
                    for (ident, ty) in statics {
                        let ty = self.ty(&ty);
                        self.items.statics.push(StaticDef {
                            name: sym(&ident),
                            module: module.to_vec(),
                            ty,
                            pos: pos(ident.span()),
                        });
                    }
                }
            }
            // Per-thread values are never shared between threads.
            Some("thread_local") => {}
            _ => {
                // Item-wrapping macros (`cfg_rt! { ... }` and the like).
                if matches!(mac.delimiter, syn::MacroDelimiter::Brace(_)) {
                    if let Ok(items) = mac.parse_body_with(parse_items) {
                        self.items_in(&items, module);
                    }
                }
            }
        }
    }

    fn impl_block(&mut self, imp: &syn::ItemImpl, module: &[Sym]) {
        let self_ty = self.ty(&imp.self_ty);
        let trait_name = imp
            .trait_
            .as_ref()
            .and_then(|(_, path, _)| path.segments.last())
            .map(|s| sym(&s.ident));
        let generics = self.generics(&imp.generics);
        let mut methods = Vec::new();
        for item in &imp.items {
            match item {
                syn::ImplItem::Fn(f) => {
                    let keyword = pos(f.sig.fn_token.span);
                    self.items.spans.push((
                        first_line(&f.attrs, keyword),
                        keyword.line,
                        pos(f.block.brace_token.span.close()).line,
                    ));
                    let mut def = self.function(
                        &f.attrs,
                        &f.sig,
                        Some(&f.block),
                        module,
                        Owner::Impl {
                            self_ty: self_ty.clone(),
                            trait_name,
                        },
                        &generics,
                    );
                    def.is_pub =
                        trait_name.is_some() || matches!(f.vis, syn::Visibility::Public(_));
                    methods.push(def.name);
                    self.items.fns.push(def);
                }
                syn::ImplItem::Macro(m) => self.item_macro(&m.mac, module),
                _ => {}
            }
        }
        self.items.impls.push(ImplDef {
            module: module.to_vec(),
            self_ty,
            trait_name,
            methods,
        });
    }

    fn trait_def(&mut self, tr: &syn::ItemTrait, module: &[Sym]) {
        let name = sym(&tr.ident);
        let mut generics = self.generics(&tr.generics);
        // `Self` is bounded by the trait itself and its supertraits.
        let mut bounds = vec![Ty::named(name)];
        bounds.extend(tr.supertraits.iter().filter_map(|b| self.bound(b)));
        generics.push(("Self", bounds));
        let mut defaults = Vec::new();
        for item in &tr.items {
            if let syn::TraitItem::Fn(f) = item {
                let keyword = pos(f.sig.fn_token.span);
                let end = f
                    .default
                    .as_ref()
                    .map_or(keyword.line, |b| pos(b.brace_token.span.close()).line);
                self.items
                    .spans
                    .push((first_line(&f.attrs, keyword), keyword.line, end));
                let mut def = self.function(
                    &f.attrs,
                    &f.sig,
                    f.default.as_ref(),
                    module,
                    Owner::Trait { name },
                    &generics,
                );
                def.is_pub = true;
                if def.body.is_some() {
                    defaults.push(def.name);
                }
                self.items.fns.push(def);
            }
        }
        self.items.traits.push(TraitDef {
            name,
            module: module.to_vec(),
            defaults,
        });
    }

    fn generics(&mut self, generics: &syn::Generics) -> Vec<(Sym, Vec<Ty>)> {
        let mut out: Vec<(Sym, Vec<Ty>)> = Vec::new();
        for param in &generics.params {
            if let syn::GenericParam::Type(t) = param {
                let bounds = t.bounds.iter().filter_map(|b| self.bound(b)).collect();
                out.push((sym(&t.ident), bounds));
            }
        }
        if let Some(clause) = &generics.where_clause {
            for predicate in &clause.predicates {
                if let syn::WherePredicate::Type(p) = predicate {
                    if let syn::Type::Path(tp) = &p.bounded_ty {
                        if tp.qself.is_none() && tp.path.segments.len() == 1 {
                            let name = sym(&tp.path.segments[0].ident);
                            let bounds: Vec<Ty> =
                                p.bounds.iter().filter_map(|b| self.bound(b)).collect();
                            match out.iter_mut().find(|(n, _)| *n == name) {
                                Some((_, existing)) => existing.extend(bounds),
                                None => out.push((name, bounds)),
                            }
                        }
                    }
                }
            }
        }
        out
    }

    fn bound(&mut self, bound: &syn::TypeParamBound) -> Option<Ty> {
        match bound {
            syn::TypeParamBound::Trait(t) => Some(self.path_ty(&t.path)),
            _ => None,
        }
    }

    fn function(
        &mut self,
        attrs: &[syn::Attribute],
        sig: &syn::Signature,
        body: Option<&syn::Block>,
        module: &[Sym],
        owner: Owner,
        outer_generics: &[(Sym, Vec<Ty>)],
    ) -> FnDef {
        let name_pos = pos(sig.ident.span());
        let mut self_param = None;
        let mut params = Vec::new();
        for input in &sig.inputs {
            match input {
                syn::FnArg::Receiver(r) => {
                    self_param = Some(match (&r.reference, &r.mutability) {
                        (Some(_), Some(_)) => SelfParam::RefMut,
                        (Some(_), None) => SelfParam::Ref,
                        (None, _) => match &*r.ty {
                            syn::Type::Reference(t) if t.mutability.is_some() => SelfParam::RefMut,
                            syn::Type::Reference(_) => SelfParam::Ref,
                            _ => SelfParam::Value,
                        },
                    });
                }
                syn::FnArg::Typed(t) => {
                    let pat = self.pat(&t.pat);
                    let ty = self.ty(&t.ty);
                    params.push((pat, ty));
                }
            }
        }
        let ret = match &sig.output {
            syn::ReturnType::Default => None,
            syn::ReturnType::Type(_, ty) => Some(self.ty(ty)),
        };
        let mut generics = outer_generics.to_vec();
        generics.extend(self.generics(&sig.generics));
        let mut param_names = Vec::new();
        for (p, _) in &params {
            p.bindings(&mut param_names);
        }
        self.calls.push(Calls {
            params: param_names,
            ..Calls::default()
        });
        let body = body.map(|b| self.block(b, module));
        let calls = self.calls.pop().unwrap_or_default();
        let mut called = calls.names;
        called.sort_unstable();
        called.dedup();
        let last = body.as_ref().map_or(name_pos.line, |b| b.end.line);
        FnDef {
            name: sym(&sig.ident),
            module: module.to_vec(),
            owner,
            pos: name_pos,
            lines: (first_line(attrs, pos(sig.fn_token.span)), last),
            self_param,
            params,
            ret,
            is_async: sig.asyncness.is_some(),
            is_pub: false,
            generics,
            body,
            called,
            direct: calls.direct,
            invokes: calls.invokes,
        }
    }

    fn note_call(&mut self, owner: Sym, name: Sym, method: bool) {
        if let Some(c) = self.calls.last_mut() {
            if super::api::makes_relevant(name) {
                c.direct = true;
            }
            if !method && c.params.contains(&name) {
                c.invokes = true;
            }
            c.names.push((owner, name));
        }
    }

    // -----------------------------------------------------------------------
    // Types

    fn path_ty(&mut self, path: &syn::Path) -> Ty {
        let mut segs = path_syms(path);
        if let [only] = segs.as_slice() {
            if let Some((_, target)) = self.renames.iter().find(|(alias, _)| alias == only) {
                segs = target.clone();
            }
        }
        let args = match path.segments.last().map(|s| &s.arguments) {
            Some(syn::PathArguments::AngleBracketed(a)) => a
                .args
                .iter()
                .filter_map(|arg| match arg {
                    syn::GenericArgument::Type(t) => Some(self.ty(t)),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        Ty::Path { segs, args }
    }

    fn ty(&mut self, ty: &syn::Type) -> Ty {
        if self.depth > MAX_DEPTH {
            return Ty::Infer;
        }
        self.depth += 1;
        let out = match ty {
            syn::Type::Path(p) if p.qself.is_none() => self.path_ty(&p.path),
            syn::Type::Reference(r) => Ty::Ref(Box::new(self.ty(&r.elem))),
            syn::Type::Ptr(p) => Ty::Ptr(Box::new(self.ty(&p.elem))),
            syn::Type::Paren(p) => self.ty(&p.elem),
            syn::Type::Group(g) => self.ty(&g.elem),
            syn::Type::Tuple(t) => Ty::Tuple(t.elems.iter().map(|e| self.ty(e)).collect()),
            syn::Type::Slice(s) => Ty::Slice(Box::new(self.ty(&s.elem))),
            syn::Type::Array(a) => Ty::Slice(Box::new(self.ty(&a.elem))),
            syn::Type::ImplTrait(i) => {
                Ty::Impl(i.bounds.iter().filter_map(|b| self.bound(b)).collect())
            }
            syn::Type::TraitObject(t) => {
                Ty::Dyn(t.bounds.iter().filter_map(|b| self.bound(b)).collect())
            }
            syn::Type::BareFn(_) => Ty::Fn,
            _ => Ty::Infer,
        };
        self.depth -= 1;
        out
    }

    // -----------------------------------------------------------------------
    // Patterns

    fn pat(&mut self, pat: &syn::Pat) -> Pat {
        if self.depth > MAX_DEPTH {
            return Pat::Other;
        }
        self.depth += 1;
        let out = match pat {
            syn::Pat::Ident(i) => {
                let name = sym(&i.ident);
                let constant = i.subpat.is_none()
                    && i.by_ref.is_none()
                    && i.mutability.is_none()
                    && name.starts_with(|c: char| c.is_ascii_uppercase());
                if constant {
                    // `None`, a unit variant or a constant: matched, not bound.
                    Pat::TupleStruct {
                        path: vec![name],
                        elems: Vec::new(),
                    }
                } else {
                    Pat::Bind {
                        name,
                        by_ref: i.by_ref.is_some(),
                        sub: i.subpat.as_ref().map(|(_, p)| Box::new(self.pat(p))),
                    }
                }
            }
            syn::Pat::Wild(_) => Pat::Wild,
            syn::Pat::Tuple(t) => Pat::Tuple(t.elems.iter().map(|p| self.pat(p)).collect()),
            syn::Pat::TupleStruct(t) => Pat::TupleStruct {
                path: path_syms(&t.path),
                elems: t.elems.iter().map(|p| self.pat(p)).collect(),
            },
            syn::Pat::Struct(s) => Pat::Struct {
                path: path_syms(&s.path),
                fields: s
                    .fields
                    .iter()
                    .map(|f| (member_sym(&f.member), self.pat(&f.pat)))
                    .collect(),
            },
            syn::Pat::Or(o) => Pat::Or(o.cases.iter().map(|p| self.pat(p)).collect()),
            syn::Pat::Reference(r) => Pat::Ref(Box::new(self.pat(&r.pat))),
            syn::Pat::Paren(p) => self.pat(&p.pat),
            syn::Pat::Type(t) => self.pat(&t.pat),
            syn::Pat::Slice(s) => Pat::Tuple(s.elems.iter().map(|p| self.pat(p)).collect()),
            syn::Pat::Path(p) if p.qself.is_none() => Pat::TupleStruct {
                path: path_syms(&p.path),
                elems: Vec::new(),
            },
            _ => Pat::Other,
        };
        self.depth -= 1;
        out
    }

    // -----------------------------------------------------------------------
    // Bodies

    fn block(&mut self, block: &syn::Block, module: &[Sym]) -> Block {
        let mut stmts = Vec::with_capacity(block.stmts.len());
        let mut previous_cfg: Option<String> = None;
        for stmt in &block.stmts {
            // `#[cfg(P)] let g = ..; #[cfg(not(P))] let g = ..;`: one build
            // has one of them, never both. The first is kept.
            let cfg = match stmt {
                syn::Stmt::Local(local) => cfg_predicate(&local.attrs),
                syn::Stmt::Macro(m) => cfg_predicate(&m.attrs),
                _ => None,
            };
            let alternative = match (&previous_cfg, &cfg) {
                (Some(p), Some(c)) => *c == format!("not({p})") || *p == format!("not({c})"),
                _ => false,
            };
            previous_cfg = if alternative { None } else { cfg };
            if alternative {
                continue;
            }
            match stmt {
                syn::Stmt::Local(local) => {
                    let (pat, ty) = match &local.pat {
                        syn::Pat::Type(t) => (self.pat(&t.pat), Some(self.ty(&t.ty))),
                        other => (self.pat(other), None),
                    };
                    let (init, els) = match &local.init {
                        Some(init) => (
                            Some(self.expr(&init.expr, module)),
                            init.diverge.as_ref().map(|(_, e)| match &**e {
                                syn::Expr::Block(b) => self.block(&b.block, module),
                                other => Block {
                                    stmts: vec![Stmt::Expr {
                                        expr: self.expr(other, module),
                                        semi: false,
                                    }],
                                    end: Pos::default(),
                                },
                            }),
                        ),
                        None => (None, None),
                    };
                    stmts.push(Stmt::Let {
                        pat,
                        ty,
                        init,
                        els,
                        pos: pos(local.let_token.span),
                    });
                }
                syn::Stmt::Item(item) => self.item(item, module),
                syn::Stmt::Expr(e, semi) => stmts.push(Stmt::Expr {
                    expr: self.expr(e, module),
                    semi: semi.is_some(),
                }),
                syn::Stmt::Macro(m) => stmts.push(Stmt::Expr {
                    expr: self.mac(&m.mac, module),
                    semi: m.semi_token.is_some(),
                }),
            }
        }
        Block {
            stmts,
            end: pos(block.brace_token.span.close()),
        }
    }

    fn boxed(&mut self, e: &syn::Expr, module: &[Sym]) -> Box<Expr> {
        Box::new(self.expr(e, module))
    }

    fn exprs<'a>(
        &mut self,
        es: impl IntoIterator<Item = &'a syn::Expr>,
        module: &[Sym],
    ) -> Vec<Expr> {
        es.into_iter().map(|e| self.expr(e, module)).collect()
    }

    fn mac(&mut self, mac: &syn::Macro, module: &[Sym]) -> Expr {
        let path = path_syms(&mac.path);
        let at = mac
            .path
            .segments
            .first()
            .map_or_else(Pos::default, |s| pos(s.ident.span()));
        let name = path.last().map(|s| &**s).unwrap_or("");
        let args = if matches!(
            name,
            "lazy_static" | "thread_local" | "quote" | "macro_rules"
        ) || !worth_parsing(mac.tokens.clone())
        {
            Vec::new()
        } else {
            match mac.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated) {
                Ok(list) => self.exprs(list.iter(), module),
                Err(_) => Vec::new(),
            }
        };
        Expr {
            kind: ExprKind::Macro { path, args },
            pos: at,
        }
    }

    fn expr(&mut self, e: &syn::Expr, module: &[Sym]) -> Expr {
        if self.depth > MAX_DEPTH {
            return Expr {
                kind: ExprKind::Other(Vec::new()),
                pos: Pos::default(),
            };
        }
        self.depth += 1;
        let out = self.expr_inner(e, module);
        self.depth -= 1;
        out
    }

    fn expr_inner(&mut self, e: &syn::Expr, module: &[Sym]) -> Expr {
        use syn::Expr as E;
        let (kind, at) = match e {
            E::Path(p) => {
                let at = p
                    .path
                    .segments
                    .first()
                    .map_or_else(Pos::default, |s| pos(s.ident.span()));
                if p.qself.is_some() {
                    (ExprKind::Other(Vec::new()), at)
                } else {
                    let segments = p.path.segments.iter().map(|s| sym(&s.ident));
                    (ExprKind::Path(SymPath::new(segments)), at)
                }
            }
            E::Lit(l) => (ExprKind::Lit, pos(l.lit.span())),
            E::Field(f) => {
                let base = self.boxed(&f.base, module);
                let at = if base.pos == Pos::default() {
                    member_pos(&f.member)
                } else {
                    base.pos
                };
                (ExprKind::Field(base, member_sym(&f.member)), at)
            }
            E::Index(i) => {
                let base = self.boxed(&i.expr, module);
                let at = base.pos;
                (ExprKind::Index(base, self.boxed(&i.index, module)), at)
            }
            E::MethodCall(m) => {
                let method = sym(&m.method);
                self.note_call("", method, true);
                let recv = self.boxed(&m.receiver, module);
                let at = if recv.pos == Pos::default() {
                    pos(m.method.span())
                } else {
                    recv.pos
                };
                let args = self.exprs(m.args.iter(), module);
                (ExprKind::MethodCall { recv, method, args }, at)
            }
            E::Call(c) => {
                if let E::Path(p) = &*c.func {
                    let segs = &p.path.segments;
                    if let Some(last) = segs.last() {
                        // `Type::f`: qualified by the type; `Self::f`,
                        // `module::f` and `f` by the name alone.
                        let owner = if segs.len() >= 2 {
                            let o = sym(&segs[segs.len() - 2].ident);
                            if o != "Self" && o.starts_with(|ch: char| ch.is_ascii_uppercase()) {
                                o
                            } else {
                                ""
                            }
                        } else {
                            ""
                        };
                        self.note_call(owner, sym(&last.ident), false);
                    }
                } else if let Some(calls) = self.calls.last_mut() {
                    // `(self.callback)(x)` and the like: it may be anything.
                    calls.invokes = true;
                }
                let func = self.boxed(&c.func, module);
                let at = func.pos;
                let args = self.exprs(c.args.iter(), module);
                (ExprKind::Call { func, args }, at)
            }
            E::Macro(m) => {
                let lowered = self.mac(&m.mac, module);
                (lowered.kind, lowered.pos)
            }
            E::Reference(r) => (
                ExprKind::Ref {
                    expr: self.boxed(&r.expr, module),
                    mutable: r.mutability.is_some(),
                },
                pos(r.and_token.span),
            ),
            E::RawAddr(r) => (
                ExprKind::Other(vec![self.expr(&r.expr, module)]),
                pos(r.and_token.span),
            ),
            E::Unary(u) => {
                let inner = self.boxed(&u.expr, module);
                let at = match &u.op {
                    syn::UnOp::Deref(t) => pos(t.span),
                    syn::UnOp::Not(t) => pos(t.span),
                    syn::UnOp::Neg(t) => pos(t.span),
                    _ => inner.pos,
                };
                match u.op {
                    syn::UnOp::Deref(_) => (ExprKind::Deref(inner), at),
                    _ => (ExprKind::Unary(inner), at),
                }
            }
            E::Binary(b) => {
                let lhs = self.boxed(&b.left, module);
                let rhs = self.boxed(&b.right, module);
                let at = lhs.pos;
                use syn::BinOp as B;
                let kind = match b.op {
                    B::And(_) => ExprKind::Binary(lhs, BinOp::And, rhs),
                    B::Or(_) => ExprKind::Binary(lhs, BinOp::Or, rhs),
                    B::AddAssign(_)
                    | B::SubAssign(_)
                    | B::MulAssign(_)
                    | B::DivAssign(_)
                    | B::RemAssign(_)
                    | B::BitXorAssign(_)
                    | B::BitAndAssign(_)
                    | B::BitOrAssign(_)
                    | B::ShlAssign(_)
                    | B::ShrAssign(_) => ExprKind::CompoundAssign(lhs, rhs),
                    _ => ExprKind::Binary(lhs, BinOp::Other, rhs),
                };
                (kind, at)
            }
            E::Assign(a) => {
                let lhs = self.boxed(&a.left, module);
                let at = lhs.pos;
                (ExprKind::Assign(lhs, self.boxed(&a.right, module)), at)
            }
            E::Cast(c) => {
                let inner = self.boxed(&c.expr, module);
                let at = inner.pos;
                let ty = self.ty(&c.ty);
                (ExprKind::Cast(inner, ty), at)
            }
            E::Block(b) => {
                let at = pos(b.block.brace_token.span.open());
                (ExprKind::Block(self.block(&b.block, module)), at)
            }
            E::Unsafe(u) => (
                ExprKind::Block(self.block(&u.block, module)),
                pos(u.unsafe_token.span),
            ),
            E::Const(c) => (
                ExprKind::Block(self.block(&c.block, module)),
                pos(c.const_token.span),
            ),
            E::TryBlock(t) => (
                ExprKind::Block(self.block(&t.block, module)),
                pos(t.try_token.span),
            ),
            E::Async(a) => (
                ExprKind::Async(self.block(&a.block, module)),
                pos(a.async_token.span),
            ),
            E::If(i) => {
                let cond = self.boxed(&i.cond, module);
                let then = self.block(&i.then_branch, module);
                let els = i.else_branch.as_ref().map(|(_, e)| self.boxed(e, module));
                (ExprKind::If { cond, then, els }, pos(i.if_token.span))
            }
            E::Let(l) => (
                ExprKind::Let {
                    pat: self.pat(&l.pat),
                    expr: self.boxed(&l.expr, module),
                },
                pos(l.let_token.span),
            ),
            E::Match(m) => {
                let scrutinee = self.boxed(&m.expr, module);
                let arms = m
                    .arms
                    .iter()
                    .map(|a| Arm {
                        pat: self.pat(&a.pat),
                        guard: a.guard.as_ref().map(|(_, g)| self.expr(g, module)),
                        body: self.expr(&a.body, module),
                    })
                    .collect();
                (ExprKind::Match { scrutinee, arms }, pos(m.match_token.span))
            }
            E::While(w) => (
                ExprKind::While {
                    cond: self.boxed(&w.cond, module),
                    body: self.block(&w.body, module),
                },
                pos(w.while_token.span),
            ),
            E::Loop(l) => (
                ExprKind::Loop(self.block(&l.body, module)),
                pos(l.loop_token.span),
            ),
            E::ForLoop(f) => (
                ExprKind::For {
                    pat: self.pat(&f.pat),
                    iter: self.boxed(&f.expr, module),
                    body: self.block(&f.body, module),
                },
                pos(f.for_token.span),
            ),
            E::Closure(c) => {
                let params = c
                    .inputs
                    .iter()
                    .map(|p| match p {
                        syn::Pat::Type(t) => (self.pat(&t.pat), Some(self.ty(&t.ty))),
                        other => (self.pat(other), None),
                    })
                    .collect();
                let body = self.expr(&c.body, module);
                (
                    ExprKind::Closure(Box::new(Closure {
                        params,
                        body,
                        is_move: c.capture.is_some(),
                        is_async: c.asyncness.is_some(),
                    })),
                    pos(c.or1_token.span),
                )
            }
            E::Await(a) => {
                let base = self.boxed(&a.base, module);
                let at = pos(a.await_token.span);
                (ExprKind::Await(base), at)
            }
            E::Try(t) => {
                let inner = self.boxed(&t.expr, module);
                let at = inner.pos;
                (ExprKind::Try(inner), at)
            }
            E::Return(r) => (
                ExprKind::Return(r.expr.as_ref().map(|e| self.boxed(e, module))),
                pos(r.return_token.span),
            ),
            E::Break(b) => (
                ExprKind::Break(b.expr.as_ref().map(|e| self.boxed(e, module))),
                pos(b.break_token.span),
            ),
            E::Continue(c) => (ExprKind::Continue, pos(c.continue_token.span)),
            E::Struct(s) => {
                let at = s
                    .path
                    .segments
                    .first()
                    .map_or_else(Pos::default, |seg| pos(seg.ident.span()));
                let fields = s
                    .fields
                    .iter()
                    .map(|f| (member_sym(&f.member), self.expr(&f.expr, module)))
                    .collect();
                (
                    ExprKind::Struct {
                        path: path_syms(&s.path),
                        fields,
                        rest: s.rest.as_ref().map(|r| self.boxed(r, module)),
                    },
                    at,
                )
            }
            E::Tuple(t) => (
                ExprKind::Tuple(self.exprs(t.elems.iter(), module)),
                pos(t.paren_token.span.open()),
            ),
            E::Array(a) => (
                ExprKind::Array(self.exprs(a.elems.iter(), module)),
                pos(a.bracket_token.span.open()),
            ),
            E::Repeat(r) => (
                ExprKind::Other(vec![self.expr(&r.expr, module)]),
                pos(r.bracket_token.span.open()),
            ),
            E::Range(r) => {
                let mut parts = Vec::new();
                if let Some(s) = &r.start {
                    parts.push(self.expr(s, module));
                }
                if let Some(e) = &r.end {
                    parts.push(self.expr(e, module));
                }
                let at = parts.first().map_or_else(Pos::default, |p| p.pos);
                (ExprKind::Other(parts), at)
            }
            E::Paren(p) => {
                let inner = self.expr(&p.expr, module);
                (inner.kind, inner.pos)
            }
            E::Group(g) => {
                let inner = self.expr(&g.expr, module);
                (inner.kind, inner.pos)
            }
            E::Yield(y) => {
                let parts = y.expr.iter().map(|e| self.expr(e, module)).collect();
                (ExprKind::Other(parts), pos(y.yield_token.span))
            }
            _ => (ExprKind::Other(Vec::new()), Pos::default()),
        };
        Expr { kind, pos: at }
    }
}

/// Whether a macro's tokens may hold something the analysis follows: a
/// call (other than of a few accessors that format and assert macros are
/// full of), a closure or an `.await`. Re-parsing a macro's tokens costs as
/// much as parsing them did; most `format!`, `assert!` and `log` arguments
/// are plain values.
fn worth_parsing(tokens: proc_macro2::TokenStream) -> bool {
    use proc_macro2::{Delimiter, TokenTree};
    let mut previous: Option<TokenTree> = None;
    for token in tokens {
        match &token {
            TokenTree::Group(g) => {
                if g.delimiter() == Delimiter::Parenthesis {
                    if let Some(TokenTree::Ident(name)) = &previous {
                        let boring = [
                            "len",
                            "clone",
                            "to_string",
                            "as_str",
                            "is_empty",
                            "is_some",
                            "is_none",
                            "unwrap",
                            "display",
                            "iter",
                            "into",
                            "as_ref",
                            "to_owned",
                            "Some",
                            "Ok",
                            "Err",
                            "format_args",
                            "stringify",
                            "concat",
                        ];
                        if !boring.iter().any(|b| name == b) {
                            return true;
                        }
                    }
                }
                if worth_parsing(g.stream()) {
                    return true;
                }
            }
            TokenTree::Punct(p) if p.as_char() == '|' => return true,
            TokenTree::Ident(i) if i == "await" => return true,
            _ => {}
        }
        previous = Some(token);
    }
    false
}

/// `lazy_static!`'s body: `[attrs] [pub] static ref NAME: TYPE = EXPR;`...
fn parse_lazy_statics(input: syn::parse::ParseStream) -> syn::Result<Vec<(syn::Ident, syn::Type)>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        input.call(syn::Attribute::parse_outer)?;
        input.parse::<syn::Visibility>()?;
        input.parse::<syn::Token![static]>()?;
        input.parse::<syn::Token![ref]>()?;
        let ident: syn::Ident = input.parse()?;
        input.parse::<syn::Token![:]>()?;
        let ty: syn::Type = input.parse()?;
        input.parse::<syn::Token![=]>()?;
        input.parse::<syn::Expr>()?;
        input.parse::<syn::Token![;]>()?;
        out.push((ident, ty));
    }
    Ok(out)
}

fn parse_items(input: syn::parse::ParseStream) -> syn::Result<Vec<syn::Item>> {
    let mut items = Vec::new();
    while !input.is_empty() {
        items.push(input.parse()?);
    }
    Ok(items)
}

/// The predicate of a statement's `#[cfg(..)]`, spaces removed.
fn cfg_predicate(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| match &a.meta {
        syn::Meta::List(list) if list.path.is_ident("cfg") => Some(
            list.tokens
                .to_string()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect(),
        ),
        _ => None,
    })
}
