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
];

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
            Err(diags) => prop_assert!(diags.iter().all(|d| !d.message.starts_with("internal error"))),
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
