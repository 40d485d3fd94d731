//! The interpreter and `conv_to`'s padding: a widening `conv_to` pads with
//! fresh, unconstrained bits, which the interpreter has no value for. An
//! instruction is deterministic, so a spec whose result reads the padding
//! is reported as not determining its result (evaluation is concrete: even
//! padding masked off later is read, and reported, never guessed); one that
//! truncates runs.

use loweq_runtest::{Applied, ApplyError, Arg, Specs};
use loweq_semantics::span::{SourceFile, SourceMap};
use loweq_semantics::value::BitVec;

const SPECS: &str = r#"
(type Value (primitive Value))
(model Value (type (bv)))

(decl widen (Value) Value)
(extern extractor widen widen)
(spec (widen x) (provide (= result (conv_to 16 x))))

(decl widen_masked (Value) Value)
(extern extractor widen_masked widen_masked)
(spec (widen_masked x) (provide (= result (bvand (conv_to 16 x) #x00ff))))

(decl narrow (Value) Value)
(extern extractor narrow narrow)
(spec (narrow x) (provide (= result (conv_to 8 x))))
"#;

fn program() -> loweq_dsl::Program {
    let mut sources = SourceMap::new();
    sources.add(SourceFile::new("padding.isle", SPECS));
    loweq_dsl::load(sources).unwrap_or_else(|d| panic!("the test specs load: {d:?}"))
}

fn bits(w: u32, v: u128) -> Arg {
    Arg::Bits(BitVec::from_u128(w, v))
}

#[test]
fn a_result_that_depends_on_padding_is_not_determined() {
    let program = program();
    let mut specs = Specs::new(&program);
    match specs.apply("widen", &[bits(8, 0x80)], 16) {
        Err(ApplyError::Spec(m)) => assert!(m.contains("does not determine its result"), "{m}"),
        other => panic!("expected an undetermined result, got {other:?}"),
    }
}

#[test]
fn truncation_runs_and_masked_padding_is_still_unknown() {
    let program = program();
    let mut specs = Specs::new(&program);
    assert_eq!(
        specs.apply("narrow", &[bits(16, 0x1234)], 8),
        Ok(Applied::Value(BitVec::from_u128(8, 0x34)))
    );
    // The padding is unknown, so the mask cannot be folded concretely:
    // the value is still undetermined rather than guessed.
    match specs.apply("widen_masked", &[bits(8, 0x80)], 16) {
        Err(ApplyError::Spec(m)) => assert!(m.contains("does not determine its result"), "{m}"),
        other => panic!("expected an undetermined result, got {other:?}"),
    }
}
