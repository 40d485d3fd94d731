//! The CLIF parser never panics: runtest text mutated at random (characters
//! deleted, inserted, lines duplicated or dropped, the text cut short) is
//! either parsed or rejected with diagnostics that have valid spans.

use std::path::Path;
use std::sync::OnceLock;

use loweq_dsl::clif;
use loweq_semantics::span::{SourceFile, SourceMap};
use proptest::prelude::*;

/// A sample with most of the syntax the parser knows.
const SAMPLE: &str = "test run
target x86_64 has_bmi1
set opt_level=speed

function %f(i32, i64 sext) -> i8, i32 fast {
    ss0 = explicit_slot 8
block0(v0: i32, v1: i64):
    v2 = iconst.i8 -1 ; a comment
    v3 = icmp_imm slt v0, 0x7fff_ffff
    v4, v5 = isplit v6
    v6 = iconcat v1, v1
    brif v3, block1(v0), block2
block1(v7: i32):
    jump block2
block2:
    return v2, v0
}
; run: %f(1, -2) == [0, 1]
; run: %f(0x10, 3) != [1, 2] ; trailing
; print: %f(1, 2)
";

/// The base texts: the sample, the runtest crate's test data, and
/// Cranelift's runtests when they are next to the repository (read in
/// place).
fn bases() -> &'static [String] {
    static BASES: OnceLock<Vec<String>> = OnceLock::new();
    BASES.get_or_init(read_bases)
}

fn read_bases() -> Vec<String> {
    let mut out = vec![SAMPLE.to_string()];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = root.join("runtest/tests/data");
    let shared = root.join("../shared/clif-runtests");
    for sub in [dir.clone(), dir.join("malformed"), shared] {
        let mut paths: Vec<_> = std::fs::read_dir(&sub)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        paths.sort();
        for p in paths
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "clif"))
        {
            if let Ok(t) = std::fs::read_to_string(p) {
                out.push(t);
            }
        }
    }
    out
}

/// One random edit.
#[derive(Clone, Debug)]
enum Edit {
    Delete(usize),
    Insert(usize, char),
    DuplicateLine(usize),
    DropLine(usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let chars = prop::sample::select(
        "(){}[]:;,=%.-_+!0123456789xvabcdefijklnorstuz \t\n\r\u{e9}\u{1F600}"
            .chars()
            .collect::<Vec<_>>(),
    );
    prop_oneof![
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), chars).prop_map(|(i, c)| Edit::Insert(i, c)),
        any::<usize>().prop_map(Edit::DuplicateLine),
        any::<usize>().prop_map(Edit::DropLine),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

/// Applies an edit to the text, as characters (so it stays valid UTF-8).
fn apply(text: &str, e: &Edit) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    match *e {
        Edit::Delete(i) if !chars.is_empty() => {
            chars.remove(i % chars.len());
        }
        Edit::Insert(i, c) => chars.insert(i % (chars.len() + 1), c),
        Edit::DuplicateLine(i) if !lines.is_empty() => {
            let k = i % lines.len();
            lines.insert(k, lines[k]);
            return lines.concat();
        }
        Edit::DropLine(i) if !lines.is_empty() => {
            lines.remove(i % lines.len());
            return lines.concat();
        }
        Edit::Truncate(i) => chars.truncate(i % (chars.len() + 1)),
        _ => {}
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn mutated_text_never_panics(base in any::<prop::sample::Index>(), edits in prop::collection::vec(edit(), 1..6)) {
        let mut text = base.get(bases()).clone();
        for e in &edits {
            text = apply(&text, e);
        }
        let mut sources = SourceMap::new();
        let id = sources.add(SourceFile::new("mutated.clif", text.clone()));
        if let Err(diags) = clif::parse(&sources, id) {
            prop_assert!(!diags.is_empty());
            for d in diags {
                let span = d.span.expect("parser diagnostics have a place");
                prop_assert!(span.start <= span.end && span.end <= text.len());
                prop_assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
            }
        }
    }
}

#[test]
fn the_sample_parses() {
    let mut sources = SourceMap::new();
    let id = sources.add(SourceFile::new("sample.clif", SAMPLE));
    let file = clif::parse(&sources, id).expect("the sample is valid");
    assert_eq!(file.functions.len(), 1);
    // The stack slot makes the function unsupported, not invalid.
    let reason = file.functions[0]
        .body
        .as_ref()
        .err()
        .map(|u| u.reason.clone());
    assert_eq!(
        reason.as_deref(),
        Some("preamble declarations (stack slots, global values, function references)")
    );
    assert_eq!(file.runs.len(), 2);
}
