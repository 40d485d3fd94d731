//! The front end never panics: valid inputs (the shipped spec files and
//! rules) are mutated at random, and loading them must give a program or
//! diagnostics, never a crash or an internal error.

use loweq::shipped::{self, Arch};
use loweq_semantics::span::{SourceFile, SourceMap};
use proptest::prelude::*;

/// Fragments that are likely to land in interesting places.
const SNIPPETS: &[&str] = &[
    "(",
    ")",
    "((",
    "))",
    " ",
    "\n",
    "x",
    "-",
    "-1",
    "#x",
    "#b2",
    "#x0g",
    "$",
    "@",
    "_",
    "!",
    "?",
    ".",
    ":",
    "(spec (f x))",
    "(rule (lower x) x)",
    "(decl f (Value) Value)",
    "(model Value (type (bv 0)))",
    "(bvadd x",
    "(extract 99 0 x)",
    "(zero_ext 0 x)",
    "(macro (m x) (m! x))",
    "(let ((x x)) x)",
    "(switch x)",
    "(match x)",
    "(with () x)",
    "(as x (bv))",
    "(:f x)",
    "(Enum.V)",
    "(V? x)",
    "(instantiate iadd)",
    "(form f ((args) (ret (bv 8))))",
    "(state s (type Bool) (default s))",
    "(attr iadd (veri chain))",
    "(attr rule r (veri priority))",
    "999999999999999999999999999999999999999",
    "(type T (enum A B))",
    "(convert Value Reg put_in_reg)",
    "é",
    ";",
    "(extractor (f x) (g x))",
    "a-b!c",
    "9x",
    "(and 1 2)",
    "(modifies s a-b)",
];

/// Whether a message shows Rust's `Debug` text of some value
/// (`ParseError { msg: .. }`, `ConstInt { val: 1, ty: TypeId(1) }`), or
/// an operating system error number: words meant for loweq's developers,
/// not its users.
fn rust_debug_text(message: &str) -> bool {
    [
        "{ msg:",
        "{ val:",
        "TypeId(",
        "VariantId(",
        "Pos {",
        "Sym(",
        "(os error ",
    ]
    .iter()
    .any(|p| message.contains(p))
}

fn base_files() -> Vec<SourceFile> {
    let mut files = shipped::specs(Arch::Aarch64);
    files.extend(shipped::rules(Arch::Aarch64));
    files
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete {
        file: usize,
        at: usize,
        len: usize,
    },
    Insert {
        file: usize,
        at: usize,
        snippet: usize,
    },
    DuplicateLine {
        file: usize,
        line: usize,
    },
    SwapLines {
        file: usize,
        a: usize,
        b: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<usize>(), 1usize..40).prop_map(|(file, at, len)| Mutation::Delete {
            file,
            at,
            len
        }),
        (any::<usize>(), any::<usize>(), any::<usize>())
            .prop_map(|(file, at, snippet)| Mutation::Insert { file, at, snippet }),
        (any::<usize>(), any::<usize>())
            .prop_map(|(file, line)| Mutation::DuplicateLine { file, line }),
        (any::<usize>(), any::<usize>(), any::<usize>())
            .prop_map(|(file, a, b)| Mutation::SwapLines { file, a, b }),
    ]
}

fn floor_char(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(files: &mut [(String, String)], m: &Mutation) {
    let n = files.len();
    match *m {
        Mutation::Delete { file, at, len } => {
            let text = &mut files[file % n].1;
            let start = floor_char(text, at % (text.len() + 1));
            let end = floor_char(text, start + len);
            text.replace_range(start..end, "");
        }
        Mutation::Insert { file, at, snippet } => {
            let text = &mut files[file % n].1;
            let at = floor_char(text, at % (text.len() + 1));
            text.insert_str(at, SNIPPETS[snippet % SNIPPETS.len()]);
        }
        Mutation::DuplicateLine { file, line } => {
            let text = &mut files[file % n].1;
            let mut lines: Vec<String> = text.lines().map(String::from).collect();
            if !lines.is_empty() {
                let i = line % lines.len();
                lines.insert(i, lines[i].clone());
            }
            *text = lines.join("\n");
        }
        Mutation::SwapLines { file, a, b } => {
            let text = &mut files[file % n].1;
            let mut lines: Vec<String> = text.lines().map(String::from).collect();
            if !lines.is_empty() {
                let (i, j) = (a % lines.len(), b % lines.len());
                lines.swap(i, j);
            }
            *text = lines.join("\n");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn mutated_inputs_never_crash_the_front_end(mutations in proptest::collection::vec(mutation(), 1..4)) {
        let mut files: Vec<(String, String)> = base_files().into_iter().map(|f| (f.name, f.text)).collect();
        for m in &mutations {
            apply(&mut files, m);
        }
        let mut sources = SourceMap::new();
        for (name, text) in files {
            sources.add(SourceFile::new(name, text));
        }
        if let Err(diags) = loweq_dsl::load(sources) {
            prop_assert!(!diags.is_empty(), "a failed load must say why");
            for d in &diags {
                prop_assert!(!d.message.starts_with("internal error"), "{}: {:?}", d.message, d.notes);
                prop_assert!(!rust_debug_text(&d.message), "{}", d.message);
            }
        }
    }
}

fn case_files() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/cases/verify");
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("cases/verify")
        .flatten()
        .map(|e| {
            let p = e.path();
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).expect("readable"),
            )
        })
        .collect();
    files.sort();
    files
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, .. ProptestConfig::default() })]

    /// The whole pipeline, verification included, survives mutated
    /// self-contained cases: every outcome is a report or diagnostics.
    #[test]
    fn mutated_cases_never_crash_the_verifier(pick in any::<usize>(), mutations in proptest::collection::vec(mutation(), 1..3)) {
        let all = case_files();
        let mut files = vec![all[pick % all.len()].clone()];
        for m in &mutations {
            apply(&mut files, m);
        }
        let mut sources = SourceMap::new();
        for (name, text) in files {
            sources.add(SourceFile::new(name, text));
        }
        let options = loweq_verify::Options { jobs: Some(1), timeout: std::time::Duration::from_secs(5), ..Default::default() };
        match loweq_dsl::load(sources) {
            Err(diags) => {
                prop_assert!(diags.iter().all(|d| !d.message.starts_with("internal error")));
                prop_assert!(diags.iter().all(|d| !rust_debug_text(&d.message)), "{diags:?}");
            }
            Ok(program) => {
                let report = loweq_verify::verify(&program, &options, &|_| {}).expect("no bad options");
                for (_, inst) in report.instances() {
                    if let Some(d) = &inst.error {
                        prop_assert!(!d.message.starts_with("internal error"), "{}", d.message);
                    }
                    if let Some(c) = &inst.counterexample {
                        prop_assert!(c.notes.iter().all(|n| !n.starts_with("internal")), "{:?}", c.notes);
                    }
                }
            }
        }
    }
}

/// Inputs shaped to exhaust resources (issue 7): nesting around the depth
/// limit, macros that double at every level (or share the inner call with
/// `let`, which keeps them linear), and files with many rules.
#[derive(Debug, Clone)]
enum Stress {
    /// A rule pattern, or a spec, nested `depth` deep.
    Deep { depth: usize, in_spec: bool },
    /// `levels` macros, each calling the one below `fanout` times, the
    /// inner call bound once with `let` or copied.
    Macros {
        levels: usize,
        fanout: usize,
        let_bound: bool,
    },
    /// `rules` rules, each of its own term.
    Many { rules: usize },
}

const PRELUDE: &str = "(type Value (primitive Value))\n(model Value (type (bv 8)))\n\
    (decl neg (Value) Value)\n(extern extractor neg neg)\n(spec (neg x) (provide (= result (bvneg x))))\n\
    (decl id (Value) Value)\n(extern constructor id id)\n(spec (id x) (provide (= result x)))\n";

impl Stress {
    fn text(&self) -> String {
        let mut t = PRELUDE.to_string();
        match *self {
            Stress::Deep { depth, in_spec } => {
                let nest =
                    |op: &str| format!("{}x{}", format!("({op} ").repeat(depth), ")".repeat(depth));
                let (spec, pattern) = if in_spec {
                    (nest("bvnot"), "x".to_string())
                } else {
                    ("x".to_string(), nest("neg"))
                };
                t += &format!(
                    "(decl test (Value) Value)\n(spec (test x) (provide (= result {spec})))\n"
                );
                t += &format!("(rule deep (test {pattern}) (id x))\n");
            }
            Stress::Macros {
                levels,
                fanout,
                let_bound,
            } => {
                t += "(macro (m0 x) (bvadd x #x01))\n";
                for i in 1..=levels {
                    let body = if let_bound {
                        format!(
                            "(let ((t (m{}! x))) (bvadd {}))",
                            i - 1,
                            vec!["t"; fanout.max(2)].join(" ")
                        )
                    } else {
                        let calls = vec![format!("(m{}! x)", i - 1); fanout];
                        if fanout == 1 {
                            format!("(bvnot {})", calls[0])
                        } else {
                            format!("(bvadd {})", calls.join(" "))
                        }
                    };
                    t += &format!("(macro (m{i} x) {body})\n");
                }
                t += &format!("(decl test (Value) Value)\n(spec (test x) (provide (= result (m{levels}! x))))\n");
                t += "(rule r (test x) (id x))\n";
            }
            Stress::Many { rules } => {
                for i in 0..rules {
                    t += &format!("(decl t{i} (Value) Value)\n(spec (t{i} x) (provide (= result x)))\n(rule r{i} (t{i} x) (id x))\n");
                }
            }
        }
        t
    }

    /// Whether the input is past its limit for sure, not merely near it
    /// (where [`Stress::expected_error`] is the only error it may give).
    fn must_fail(&self) -> bool {
        match *self {
            Stress::Macros {
                levels,
                fanout,
                let_bound,
            } => {
                let size = (fanout.max(1) as f64).powi(levels as i32);
                !let_bound && fanout > 1 && size > 2.0 * loweq_dsl::limits::MAX_SPEC_SIZE as f64
            }
            _ => self.expected_error().is_some(),
        }
    }

    /// The diagnostic the front end must give, if any; for macros near
    /// the limit, the one it may give (a level copies its body `fanout`
    /// times, and the body has a few expressions besides the calls, so
    /// `fanout^levels` only bounds the size from below).
    fn expected_error(&self) -> Option<&'static str> {
        match *self {
            Stress::Deep { depth, in_spec } => {
                // The rule's own forms add two levels, the spec's three.
                let around = if in_spec { 3 } else { 2 };
                (depth + around > loweq_dsl::limits::MAX_NESTING)
                    .then_some("parentheses nest more than")
            }
            Stress::Macros {
                levels,
                fanout,
                let_bound,
            } => {
                let size = (fanout.max(1) as f64).powi(levels as i32);
                (!let_bound && fanout > 1 && 8.0 * size > loweq_dsl::limits::MAX_SPEC_SIZE as f64)
                    .then_some("expanding macro `m")
            }
            Stress::Many { .. } => None,
        }
    }
}

fn stress(max_rules: usize, max_levels: usize) -> impl Strategy<Value = Stress> {
    prop_oneof![
        (240usize..270, any::<bool>()).prop_map(|(depth, in_spec)| Stress::Deep { depth, in_spec }),
        (1usize..max_levels, 1usize..4, any::<bool>()).prop_map(|(levels, fanout, let_bound)| {
            Stress::Macros {
                levels,
                fanout,
                let_bound,
            }
        }),
        (1usize..max_rules).prop_map(|rules| Stress::Many { rules }),
    ]
}

fn load_stress(s: &Stress) -> Result<loweq_dsl::Program, Vec<loweq_dsl::Diagnostic>> {
    let mut sources = SourceMap::new();
    sources.add(SourceFile::new("stress.isle", s.text()));
    loweq_dsl::load(sources)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// Inputs shaped to exhaust resources load, or get the diagnostic of
    /// the limit they pass, never a crash or an internal error.
    #[test]
    fn stress_inputs_load_or_hit_a_limit(s in stress(3000, 40)) {
        match (load_stress(&s), s.expected_error()) {
            (Ok(_), None) => {}
            (Ok(_), Some(e)) => prop_assert!(!s.must_fail(), "expected `{e}` for {s:?}"),
            (Err(diags), expected) => {
                for d in &diags {
                    prop_assert!(!d.message.starts_with("internal error"), "{}", d.message);
                }
                let e = expected.unwrap_or("(none expected)");
                prop_assert!(diags.iter().any(|d| d.message.contains(e)), "{s:?}: {diags:#?}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, .. ProptestConfig::default() })]

    /// The same shapes, smaller, through verification too.
    #[test]
    fn stress_inputs_never_crash_the_verifier(s in stress(40, 12)) {
        let options = loweq_verify::Options { jobs: Some(1), timeout: std::time::Duration::from_secs(5), ..Default::default() };
        if let Ok(program) = load_stress(&s) {
            let report = loweq_verify::verify(&program, &options, &|_| {}).expect("no bad options");
            for (_, inst) in report.instances() {
                if let Some(d) = &inst.error {
                    prop_assert!(!d.message.starts_with("internal error"), "{}", d.message);
                }
            }
        }
    }
}
