//! The scanner's own small syntax tree: what the lock analysis needs of a
//! Rust function, and nothing else.
//!
//! syn's tree holds spans that cannot leave the thread that parsed them, and
//! most of it (literals, operators, attributes) says nothing about locks. Each
//! file is lowered to this tree on the thread that parsed it ([`super::lower`]);
//! the analysis then runs on any thread, once every file's items are known.

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

/// A name (identifier or path segment), interned: copying names costs
/// nothing, and each distinct name is stored once per process.
pub type Sym = &'static str;

type NameSet = HashSet<&'static str, rustc_hash::FxBuildHasher>;

/// Every name met, once per process.
static NAMES: OnceLock<Mutex<NameSet>> = OnceLock::new();

thread_local! {
    /// The names this thread has met: most lookups end here, with no lock.
    static SEEN: RefCell<NameSet> = RefCell::new(HashSet::default());
}

/// The interned copy of a name.
pub fn intern(s: &str) -> Sym {
    SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        if let Some(&name) = seen.get(s) {
            return name;
        }
        let all = NAMES.get_or_init(Mutex::default);
        let mut all = all.lock().unwrap_or_else(|e| e.into_inner());
        let name = match all.get(s) {
            Some(&name) => name,
            None => {
                let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
                all.insert(leaked);
                leaked
            }
        };
        seen.insert(name);
        name
    })
}

/// A position in a file: line and column, both from 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

/// A type, as far as the analysis follows types.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub enum Ty {
    /// `a::b::Name<Args>`: the segments and the last segment's type arguments.
    Path {
        segs: Vec<Sym>,
        args: Vec<Ty>,
    },
    /// `&T`, `&mut T`.
    Ref(Box<Ty>),
    /// `*const T`, `*mut T`.
    Ptr(Box<Ty>),
    Tuple(Vec<Ty>),
    /// `[T]`, `[T; N]`.
    Slice(Box<Ty>),
    /// `impl A + B`.
    Impl(Vec<Ty>),
    /// `dyn A + B`.
    Dyn(Vec<Ty>),
    /// Function pointers and the like.
    Fn,
    /// `_`, or not known.
    #[default]
    Infer,
}

impl Ty {
    pub fn named(name: &str) -> Ty {
        Ty::Path {
            segs: vec![intern(name)],
            args: Vec::new(),
        }
    }

    pub fn generic(name: &str, arg: Ty) -> Ty {
        Ty::Path {
            segs: vec![intern(name)],
            args: vec![arg],
        }
    }

    /// The last path segment, for path types.
    pub fn name(&self) -> Option<Sym> {
        match self {
            Ty::Path { segs, .. } => segs.last().copied(),
            _ => None,
        }
    }

    pub fn args(&self) -> &[Ty] {
        match self {
            Ty::Path { args, .. } => args,
            _ => &[],
        }
    }

    pub fn is_known(&self) -> bool {
        !matches!(self, Ty::Infer)
    }
}

/// A path in an expression: one or two segments (nearly all of them) are
/// kept inline, longer ones on the heap.
#[derive(Clone, Debug)]
pub struct SymPath {
    inline: [Sym; 2],
    len: u8,
    heap: Vec<Sym>,
}

impl SymPath {
    pub fn new(segments: impl ExactSizeIterator<Item = Sym>) -> SymPath {
        let n = segments.len();
        if n <= 2 {
            let mut inline = [""; 2];
            for (slot, s) in inline.iter_mut().zip(segments) {
                *slot = s;
            }
            SymPath {
                inline,
                len: n as u8,
                heap: Vec::new(),
            }
        } else {
            SymPath {
                inline: [""; 2],
                len: 0,
                heap: segments.collect(),
            }
        }
    }

    pub fn as_slice(&self) -> &[Sym] {
        if self.heap.is_empty() {
            &self.inline[..self.len as usize]
        } else {
            &self.heap
        }
    }
}

impl std::ops::Deref for SymPath {
    type Target = [Sym];

    fn deref(&self) -> &[Sym] {
        self.as_slice()
    }
}

/// Binary operators the analysis tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `&&`: its right side is a temporary scope of its own.
    And,
    /// `||`
    Or,
    Other,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    /// A path: a local variable, a constant, a function, `Self::X`.
    Path(SymPath),
    Lit,
    Field(Box<Expr>, Sym),
    Index(Box<Expr>, Box<Expr>),
    MethodCall {
        recv: Box<Expr>,
        method: Sym,
        args: Vec<Expr>,
    },
    Call {
        func: Box<Expr>,
        args: Vec<Expr>,
    },
    /// A macro call whose arguments parse as expressions (`println!`,
    /// `assert!`, `vec!`, ...); `args` is empty when they do not.
    Macro {
        path: Vec<Sym>,
        args: Vec<Expr>,
    },
    Ref {
        expr: Box<Expr>,
        mutable: bool,
    },
    Deref(Box<Expr>),
    /// `!x`, `-x`.
    Unary(Box<Expr>),
    Binary(Box<Expr>, BinOp, Box<Expr>),
    /// `place = value`.
    Assign(Box<Expr>, Box<Expr>),
    /// `place += value` and the like.
    CompoundAssign(Box<Expr>, Box<Expr>),
    Cast(Box<Expr>, Ty),
    /// A block, `unsafe`, `const` or labelled block.
    Block(Block),
    /// `async { .. }`, `async move { .. }`.
    Async(Block),
    If {
        cond: Box<Expr>,
        then: Block,
        els: Option<Box<Expr>>,
    },
    /// `let PAT = EXPR` inside an `if` or `while` condition.
    Let {
        pat: Pat,
        expr: Box<Expr>,
    },
    Match {
        scrutinee: Box<Expr>,
        arms: Vec<Arm>,
    },
    While {
        cond: Box<Expr>,
        body: Block,
    },
    Loop(Block),
    For {
        pat: Pat,
        iter: Box<Expr>,
        body: Block,
    },
    Closure(Box<Closure>),
    Await(Box<Expr>),
    Try(Box<Expr>),
    Return(Option<Box<Expr>>),
    Break(Option<Box<Expr>>),
    Continue,
    Struct {
        path: Vec<Sym>,
        fields: Vec<(Sym, Expr)>,
        rest: Option<Box<Expr>>,
    },
    Tuple(Vec<Expr>),
    Array(Vec<Expr>),
    /// Anything else: its parts are evaluated in order, its value is plain.
    Other(Vec<Expr>),
}

#[derive(Clone, Debug, Default)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    /// The closing brace: where the block's locals are dropped.
    pub end: Pos,
}

#[derive(Clone, Debug)]
pub enum Stmt {
    Let {
        pat: Pat,
        ty: Option<Ty>,
        init: Option<Expr>,
        els: Option<Block>,
        pos: Pos,
    },
    Expr {
        expr: Expr,
        semi: bool,
    },
}

#[derive(Clone, Debug)]
pub struct Arm {
    pub pat: Pat,
    pub guard: Option<Expr>,
    pub body: Expr,
}

#[derive(Clone, Debug)]
pub struct Closure {
    pub params: Vec<(Pat, Option<Ty>)>,
    pub body: Expr,
    pub is_move: bool,
    pub is_async: bool,
}

#[derive(Clone, Debug)]
pub enum Pat {
    /// `x`, `mut x`, `ref x`, `x @ sub`.
    Bind {
        name: Sym,
        by_ref: bool,
        sub: Option<Box<Pat>>,
    },
    /// `_`: binds nothing, moves nothing.
    Wild,
    Tuple(Vec<Pat>),
    /// `Some(x)`, `Ok(g)`, `Foo(a, b)`.
    TupleStruct {
        path: Vec<Sym>,
        elems: Vec<Pat>,
    },
    Struct {
        path: Vec<Sym>,
        fields: Vec<(Sym, Pat)>,
    },
    Or(Vec<Pat>),
    /// `&p`, `&mut p`.
    Ref(Box<Pat>),
    /// Literals, ranges, paths to constants and variants, `..`.
    Other,
}

impl Pat {
    /// Every name the pattern binds.
    pub fn bindings(&self, out: &mut Vec<Sym>) {
        match self {
            Pat::Bind { name, sub, .. } => {
                out.push(*name);
                if let Some(sub) = sub {
                    sub.bindings(out);
                }
            }
            Pat::Tuple(elems) | Pat::TupleStruct { elems, .. } => {
                elems.iter().for_each(|p| p.bindings(out))
            }
            Pat::Struct { fields, .. } => fields.iter().for_each(|(_, p)| p.bindings(out)),
            Pat::Or(alts) => {
                if let Some(first) = alts.first() {
                    first.bindings(out)
                }
            }
            Pat::Ref(p) => p.bindings(out),
            Pat::Wild | Pat::Other => {}
        }
    }
}

/// `self`, `&self`, `&mut self`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelfParam {
    Value,
    Ref,
    RefMut,
}

/// What a function belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owner {
    Free,
    /// A method or associated function of `impl [Trait for] Type`.
    Impl {
        self_ty: Ty,
        trait_name: Option<Sym>,
    },
    /// A method declared in a trait (a default method when it has a body).
    Trait {
        name: Sym,
    },
}

#[derive(Clone, Debug)]
pub struct FnDef {
    pub name: Sym,
    pub module: Vec<Sym>,
    pub owner: Owner,
    /// Where the name is.
    pub pos: Pos,
    /// The first line of the item (attributes and doc comments included) and its last.
    pub lines: (u32, u32),
    pub self_param: Option<SelfParam>,
    /// Parameters after `self`.
    pub params: Vec<(Pat, Ty)>,
    pub ret: Option<Ty>,
    pub is_async: bool,
    /// Callable from outside the crate as far as the source says: `pub`,
    /// or a trait's method (and its implementations).
    pub is_pub: bool,
    /// Type parameters (of the function and its impl or trait) and their trait bounds.
    pub generics: Vec<(Sym, Vec<Ty>)>,
    pub body: Option<Block>,
    /// What the body calls, sorted: `(type, name)` for `Type::name(..)`,
    /// `("", name)` for methods and plain function names.
    pub called: Vec<(Sym, Sym)>,
    /// The body takes a lock, touches an atomic or a condvar, or spawns:
    /// it matters, and so do its callers.
    pub direct: bool,
    /// The body calls a closure it was given (or something it cannot
    /// name): it matters to the closures its callers pass.
    pub invokes: bool,
}

#[derive(Clone, Debug)]
pub struct StructDef {
    pub name: Sym,
    pub module: Vec<Sym>,
    /// Named fields, or `0`, `1`, ... for tuple structs.
    pub fields: Vec<(Sym, Ty)>,
}

#[derive(Clone, Debug)]
pub struct StaticDef {
    pub name: Sym,
    pub module: Vec<Sym>,
    pub ty: Ty,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub struct TraitDef {
    pub name: Sym,
    pub module: Vec<Sym>,
    /// Methods with a default body.
    pub defaults: Vec<Sym>,
}

#[derive(Clone, Debug)]
pub struct ImplDef {
    pub module: Vec<Sym>,
    pub self_ty: Ty,
    pub trait_name: Option<Sym>,
    pub methods: Vec<Sym>,
}

/// `use a::b::c as d;` in `module`: `d` stands for `a::b::c`; a glob
/// (`use a::b::*`) has no alias.
#[derive(Clone, Debug)]
pub struct UseDef {
    pub module: Vec<Sym>,
    pub alias: Option<Sym>,
    pub path: Vec<Sym>,
}

/// Everything the scanner keeps of one parsed file.
#[derive(Clone, Debug, Default)]
pub struct FileItems {
    pub fns: Vec<FnDef>,
    pub structs: Vec<StructDef>,
    pub aliases: Vec<(Vec<Sym>, Sym, Ty)>,
    pub statics: Vec<StaticDef>,
    pub traits: Vec<TraitDef>,
    pub impls: Vec<ImplDef>,
    pub uses: Vec<UseDef>,
    /// Items (functions, impls, traits, modules, structs) by lines: the
    /// first line (attributes and doc comments included), the line of the
    /// item's keyword, the last line. Inline suppressions apply to them.
    pub spans: Vec<(u32, u32, u32)>,
}
