//! Every shipped rule verifies, at every instantiation that applies, for
//! both backends; every shipped rule of a backend is checked (none is
//! silently excluded except chained helpers); and each backend lowers
//! every IR operation at every type (`loweq coverage --arch x64` and
//! `--arch aarch64` are complete); every flags producer and consumer
//! uses the flags register, state written in emission order.

use cranelift_isle::sema::{Pattern, TermId};
use loweq::run::{self, GroupOutcome, Target};
use loweq::shipped::Arch;
use loweq_verify::{Options, Verdict};

/// Verifies the shipped rules of `arch`, and that they cover every cell
/// of `loweq coverage`.
fn check(arch: Arch) {
    let run = run::verify(
        &Target::Shipped(vec![arch]),
        &Options::default(),
        None,
        &|_| {},
    )
    .expect("shipped files load");
    let report = loweq::text::report(&run);
    assert_eq!(run.groups.len(), 1);
    let GroupOutcome::Verified(program, r) = &run.groups[0].outcome else {
        panic!("shipped {} files do not load:\n{report}", arch.name());
    };
    assert!(
        r.rules.len() >= 15,
        "expected the first slice of rules for {}:\n{report}",
        arch.name()
    );
    for rule in &r.rules {
        assert!(
            rule.instances
                .iter()
                .any(|i| i.verdict == Verdict::Verified),
            "{}: rule `{}` verified nowhere:\n{report}",
            arch.name(),
            rule.name
        );
        for i in &rule.instances {
            assert!(
                matches!(i.verdict, Verdict::Verified | Verdict::Inapplicable),
                "{}: rule `{}` at {} is {}:\n{report}",
                arch.name(),
                rule.name,
                i.label,
                i.verdict.name()
            );
        }
    }
    for e in &r.excluded {
        assert!(
            e.reason.contains("veri chain"),
            "{}: rule `{}` is excluded: {}",
            arch.name(),
            e.name,
            e.reason
        );
    }
    assert_eq!(run::exit_code(&run), 0, "{report}");
    let coverage = loweq::coverage::coverage(program, r);
    let table = loweq::coverage::report::text(&[loweq::coverage::report::ArchCoverage {
        arch,
        sources: run.groups[0].sources.clone(),
        coverage: coverage.clone(),
    }]);
    assert!(coverage.complete(), "{table}");
    assert!(coverage.cells.len() >= 180, "{table}");
}

#[test]
fn every_shipped_x64_rule_verifies_and_every_op_is_covered() {
    check(Arch::X64);
}

#[test]
fn every_shipped_aarch64_rule_verifies_and_every_op_is_covered() {
    check(Arch::Aarch64);
}

/// Whether a pattern mentions a term.
fn mentions(p: &Pattern, term: TermId) -> bool {
    match p {
        Pattern::Term(_, t, args) => *t == term || args.iter().any(|a| mentions(a, term)),
        Pattern::BindPattern(_, _, sub) => mentions(sub, term),
        Pattern::And(_, subs) => subs.iter().any(|s| mentions(s, term)),
        _ => false,
    }
}

/// Every IR operation of the first slice is lowered, at every width, by
/// some verified rule of each backend.
#[test]
fn every_op_is_lowered_at_every_width() {
    let ops = [
        "iconst", "iadd", "isub", "ineg", "band", "bor", "bxor", "bnot", "ishl", "ushr", "sshr",
    ];
    for arch in Arch::ALL {
        let run = run::verify(
            &Target::Shipped(vec![arch]),
            &Options::default(),
            None,
            &|_| {},
        )
        .expect("loads");
        let GroupOutcome::Verified(program, r) = &run.groups[0].outcome else {
            panic!("does not load")
        };
        for op in ops {
            let term = program.term_by_name(op).expect("op term");
            for width in ["i8", "i16", "i32", "i64"] {
                let covered = r.rules.iter().any(|rule| {
                    let Some(id) = program.rule_info.iter().position(|ri| ri.name == rule.name)
                    else {
                        return false;
                    };
                    let lowers_op = program.terms.rules[id]
                        .args
                        .iter()
                        .any(|a| mentions(a, term));
                    // `i8` or `i8,i16->i8`, but not `i16`.
                    let at_width = |l: &str| {
                        l == width
                            || l.starts_with(&format!("{width},"))
                            || l.starts_with(&format!("{width} "))
                    };
                    lowers_op
                        && rule
                            .instances
                            .iter()
                            .any(|i| i.verdict == Verdict::Verified && at_width(&i.label))
                });
                assert!(
                    covered,
                    "{}: no verified rule lowers `{op}` at {width}",
                    arch.name()
                );
            }
        }
    }
}

/// Every shipped instruction spec that takes a flags value (an operand of
/// ISLE type `Flags`) requires it to be what the flags register, a state
/// written in emission order, holds where the instruction is emitted, and
/// every one that returns a flags value writes the register with it:
/// otherwise an instruction emitted between a producer and its consumer
/// could clobber the flags unchecked (docs/spec-conventions.md, "State
/// written in emission order").
#[test]
fn every_flags_producer_and_consumer_uses_the_flags_register() {
    use loweq_semantics::expr::{Expr, ExprKind};
    use loweq_semantics::span::SourceMap;
    fn reads_ordered(e: &Expr, program: &loweq_dsl::Program) -> bool {
        let mut found = false;
        e.walk(&mut |x| {
            if let ExprKind::State(s) = x.kind {
                found |= program.states[s.0].ordered;
            }
        });
        found
    }
    for arch in [Arch::X64, Arch::Aarch64] {
        let mut sources = SourceMap::new();
        for f in loweq::shipped::specs(arch)
            .into_iter()
            .chain(loweq::shipped::rules(arch))
        {
            sources.add(f);
        }
        let program = loweq_dsl::load(sources).expect("shipped files load");
        let (mut consumers, mut producers) = (0, 0);
        for (i, term) in program.terms.terms.iter().enumerate() {
            let info = &program.term_info[i];
            let Some(spec) = &info.spec else { continue };
            if term
                .arg_tys
                .iter()
                .any(|&t| program.type_name(t) == "Flags")
            {
                consumers += 1;
                assert!(
                    spec.requires.iter().any(|r| reads_ordered(r, &program)),
                    "{}: `{}` takes flags but no `require` reads the flags register",
                    arch.name(),
                    info.name
                );
            }
            if program.type_name(term.ret_ty) == "Flags" {
                producers += 1;
                assert!(
                    spec.modifies
                        .iter()
                        .any(|m| program.states[m.state.0].ordered)
                        && spec.provides.iter().any(|p| reads_ordered(p, &program)),
                    "{}: `{}` returns flags but does not write the flags register with them",
                    arch.name(),
                    info.name
                );
            }
        }
        assert!(
            consumers >= 2 && producers >= 3,
            "{}: {consumers} consumers and {producers} producers of flags found",
            arch.name()
        );
    }
}
