//! The shipped instruction specs agree with the machines: every mapped
//! (instruction, variant) of both architectures, 200 vectors each.

mod common;

use loweq_conform::{Isa, Options};

fn conforms(isa: Isa) {
    if common::machine_or_skip(isa).is_none() {
        return;
    }
    let program = common::program(isa);
    let options = Options {
        vectors: 200,
        ..Options::default()
    };
    let report = common::run(&program, isa, &options);
    let failures = common::failures(&report);
    assert!(
        failures.is_empty(),
        "{} specs disagree with the machine:\n{}",
        isa.name(),
        failures.join("\n")
    );
    for r in &report.results {
        assert!(
            r.vectors >= 200 || r.vectors + r.outside >= 200,
            "{} {}: only {} vectors",
            r.term,
            r.variant,
            r.vectors
        );
        assert_eq!(r.slow, None, "{} {} is not compiled", r.term, r.variant);
    }
}

#[test]
fn x64_specs_agree_with_the_processor() {
    conforms(Isa::X64);
}

#[test]
fn aarch64_specs_agree_with_qemu() {
    conforms(Isa::Aarch64);
}
