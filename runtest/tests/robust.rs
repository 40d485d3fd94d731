//! Running never panics: the test data, with random edits to its lines,
//! goes through the parser, the checker and the interpreter.

mod common;

use loweq_dsl::clif;
use loweq_runtest::Runner;
use loweq_semantics::span::{SourceFile, SourceMap};
use proptest::prelude::*;

/// Replacements for a token: other opcodes, types, values, literals.
const WORDS: &[&str] = &[
    "iadd",
    "sdiv",
    "udiv",
    "srem",
    "urem",
    "bswap",
    "iconcat",
    "isplit",
    "select",
    "icmp",
    "ishl",
    "rotr",
    "bmask",
    "uextend.i64",
    "sextend.i16",
    "ireduce.i8",
    "iconst.i128",
    "clz",
    "cls",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "f32",
    "v0",
    "v1",
    "v2",
    "v9",
    "0",
    "-1",
    "0x80",
    "18446744073709551615",
    "block0",
    "block1",
    "jump",
    "brif",
    "return",
    "slt",
    "ugt",
    ",",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn edited_programs_run_or_are_rejected(
        base in any::<prop::sample::Index>(),
        edits in prop::collection::vec(
            (any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<prop::sample::Index>()),
            1..3,
        ),
    ) {
        let files = common::clif_files(&common::root().join("runtest/tests/data"));
        let text = std::fs::read_to_string(base.get(&files)).expect("readable test data");
        let mut lines: Vec<Vec<String>> = text
            .lines()
            .map(|l| l.split(' ').map(str::to_string).collect())
            .collect();
        // Replace one token of a random line with a random word.
        for (line, token, word) in &edits {
            let l = line.get_mut(&mut lines);
            if !l.is_empty() {
                *token.get_mut(l) = word.get(WORDS).to_string();
            }
        }
        let text: String = lines.iter().map(|l| l.join(" ") + "\n").collect();
        let mut sources = SourceMap::new();
        let id = sources.add(SourceFile::new("edited.clif", text));
        if let Ok(file) = clif::parse(&sources, id) {
            let program = common::program();
            let mut runner = Runner::new(&program).with_step_limit(2_000);
            let report = runner.run_file(&file);
            prop_assert_eq!(report.runs.len(), file.runs.len());
        }
    }
}
