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
        // 200 run, more drawn where the require excludes some; none for a
        // variant the require excludes entirely (never emitted).
        assert!(
            r.vectors == 200 || (r.vectors == 0 && r.outside == 200),
            "{} {}: {} vectors run, {} outside the require",
            r.term,
            r.variant,
            r.vectors,
            r.outside
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
