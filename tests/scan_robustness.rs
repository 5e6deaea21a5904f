//! No input makes the scanner panic: odd but valid Rust, broken Rust,
//! pathological nesting, and mutated copies of the test cases (what the
//! `fuzz/` target does at length, here in a few seconds on stable).

use interlock::scan::{discover::Edition, scan_sources, Options};

fn scan(text: &str) -> interlock::scan::Outcome {
    scan_sources(&[("odd.rs", text)], Edition::E2021, &Options::default())
}

fn kinds(text: &str) -> Vec<String> {
    scan(text)
        .report
        .findings
        .iter()
        .map(|f| f.kind.as_str().to_string())
        .collect()
}

#[test]
fn empty_and_broken_inputs_are_skipped_or_clean() {
    for text in [
        "",
        "\n\n",
        "// only a comment",
        "/* unterminated",
        "fn main( {",
        "}}}}",
        "fn f() { let x = ; }",
        "\u{feff}fn main() {}",
        "fn 𝔣() {}",
        "#![no_std] #![cfg_attr(x, y)]",
        "impl<T> X for T where T: ?Sized {}",
        "r#\"(((((\"#",
        "fn f() { let s = r#\"((((((\"#; let b = b'('; let c = '\"'; }",
    ] {
        let outcome = scan(text);
        assert!(outcome.report.findings.is_empty(), "{text:?}");
    }
    let outcome = scan("fn main( {");
    assert_eq!(outcome.skipped.len(), 1);
    assert_eq!(outcome.skipped[0].line, 1);
}

#[test]
fn pathological_nesting_is_refused_or_cut_off_not_a_crash() {
    let deep_parens = format!("fn f() {{ {}1{} }}", "(".repeat(20_000), ")".repeat(20_000));
    assert_eq!(scan(&deep_parens).skipped.len(), 1);

    let deep_blocks = format!("fn f() {{ {} }}", "{ ".repeat(200) + &"} ".repeat(200));
    assert!(scan(&deep_blocks).skipped.is_empty());

    let long_sum = format!("fn f() -> u64 {{ {} }}", vec!["1"; 50_000].join(" + "));
    assert!(scan(&long_sum).report.findings.is_empty());

    let long_not = format!("fn f(b: bool) -> bool {{ {}b }}", "!".repeat(20_000));
    assert!(scan(&long_not).report.findings.is_empty());

    let long_chain = format!(
        "fn f(m: &std::sync::Mutex<Vec<u8>>) {{ m.lock().unwrap(){}; }}",
        ".clone()".repeat(5_000)
    );
    assert!(scan(&long_chain).report.findings.is_empty());

    // Nested loops that carry a guard: the work is bounded.
    let mut nested = String::from("fn f(m: &std::sync::Mutex<u8>) { let mut g = None; ");
    for _ in 0..40 {
        nested.push_str("loop { g = Some(m.lock()); ");
    }
    nested.push_str(&"} ".repeat(40));
    nested.push('}');
    let _ = scan(&nested);

    // Mutual recursion through many functions.
    let mut ring = String::from("use std::sync::Mutex; static M: Mutex<u8> = Mutex::new(0);\n");
    for i in 0..300 {
        ring.push_str(&format!(
            "fn f{i}() {{ let _g = M.lock(); f{}(); }}\n",
            (i + 1) % 300
        ));
    }
    assert!(kinds(&ring).iter().all(|k| k == "double-lock"));
}

#[test]
fn odd_but_valid_rust_is_read() {
    let text = r#"
        #![allow(unused)]
        use std::sync::{Arc, Mutex};
        macro_rules! m { ($($t:tt)*) => { $($t)* } }
        m! { fn from_macro() {} }
        trait Tr { type A; const C: usize = 1; fn f(&self) -> Self::A; }
        struct S<const N: usize, T: ?Sized>(Mutex<[u8; N]>, Box<T>);
        impl<const N: usize> S<N, dyn Fn()> {
            fn g(&self) -> impl Iterator<Item = u8> + '_ { self.0.lock().unwrap().to_vec().into_iter() }
        }
        union U { a: u32, b: f32 }
        extern "C" { fn ext(x: i32) -> i32; }
        async fn a() -> u8 { async { 1 }.await }
        fn gen<T>(x: T) -> T where for<'a> &'a T: Sized { x }
        fn closures() -> impl Fn(u8) -> Box<dyn Fn(u8) -> u8> { |a| Box::new(move |b| a + b) }
        fn ranges(v: &[u8]) -> &[u8] { &v[..] }
        fn lets(x: Option<(u8, u8)>) { let Some((a, ..)) = x else { return }; if let Some((b, _)) = x && b > a {} }
        fn yields() { let _ = |x: u8| -> u8 { x }; }
        fn arc() { let a = Arc::new(Mutex::new(0)); let b = Arc::clone(&a); std::thread::scope(|s| { s.spawn(|| *b.lock().unwrap() += 1); }); }
    "#;
    let outcome = scan(text);
    assert!(outcome.skipped.is_empty(), "{:?}", outcome.skipped);
    assert!(outcome.report.findings.is_empty());
}

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const SNIPPETS: &[&str] = &[
    ".lock().unwrap()",
    "drop(g);",
    "{",
    "}",
    "let g = ",
    ".await",
    "match x {",
    "=> ",
    "|| ",
    "loop {",
    "break;",
    "return;",
    "if let Some(x) = ",
    "while let Some(x) = ",
    ".read()",
    ".write()",
    "std::thread::spawn(move || ",
    ".load(Ordering::SeqCst)",
    ".store(1, Ordering::SeqCst)",
    "cv.wait(g)",
    "self.",
    "?",
    ";",
    "(",
    ")",
];

#[test]
fn mutated_cases_never_panic() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scan/cases");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut scanned = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let chars: Vec<char> = text.chars().collect();
        for round in 0..24 {
            let mut mutated = chars.clone();
            for _ in 0..1 + round % 4 {
                let at = rng.below(mutated.len());
                match rng.below(3) {
                    0 => {
                        let len = rng.below(40).min(mutated.len() - at);
                        mutated.drain(at..at + len);
                    }
                    1 => {
                        let snippet = SNIPPETS[rng.below(SNIPPETS.len())];
                        for (i, c) in snippet.chars().enumerate() {
                            mutated.insert(at + i, c);
                        }
                    }
                    _ => {
                        let len = rng.below(60).min(mutated.len() - at);
                        let copy: Vec<char> = mutated[at..at + len].to_vec();
                        let to = rng.below(mutated.len());
                        for (i, c) in copy.into_iter().enumerate() {
                            mutated.insert(to + i, c);
                        }
                    }
                }
                if mutated.is_empty() {
                    break;
                }
            }
            let text: String = mutated.into_iter().collect();
            for edition in [Edition::E2021, Edition::E2024] {
                let outcome = scan_sources(&[("m.rs", &text)], edition, &Options::default());
                for f in &outcome.report.findings {
                    assert!(!f.locations.is_empty());
                    assert!(f.locations.iter().all(|l| l.line >= 1));
                }
                scanned += 1;
            }
        }
    }
    assert!(scanned > 500);
}
