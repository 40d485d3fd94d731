//! What a person sees when an instruction spec disagrees with the machine:
//! the text report of `loweq conform` for deliberately wrong copies of
//! x86-64 specs (a sign-extending load modelled as zero-extending; a
//! displacement zero-extended; ADD without `(modifies x64_flags)`),
//! snapshotted.

#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

use loweq::conform::{text, ArchOutcome, ConformRun};
use loweq::shipped::{self, Arch};
use loweq_conform::{Isa, Options};
use loweq_semantics::span::SourceMap;

/// The shipped x86-64 program with `edits` (old, new) applied to the
/// instruction specs.
fn program(edits: &[(&str, &str)]) -> loweq_dsl::Program {
    let mut sources = SourceMap::new();
    let mut done = 0;
    for mut f in shipped::specs(Arch::X64)
        .into_iter()
        .chain(shipped::rules(Arch::X64))
    {
        if f.name.contains("spec/x64/") {
            let mut t = f.text.clone();
            for (old, new) in edits {
                if t.contains(old) {
                    t = t.replace(old, new);
                    done += 1;
                }
            }
            f = loweq_semantics::span::SourceFile::new(f.name.clone(), t);
        }
        sources.add(f);
    }
    assert_eq!(done, edits.len(), "every edit applies");
    loweq_dsl::load(sources).unwrap_or_else(|_| panic!("the edited specs load"))
}

/// The report without its timings; the run exits 1 (a disagreement).
fn report(program: &loweq_dsl::Program, insts: &[&str]) -> String {
    let (file, table) = loweq_conform::map::shipped("x64").unwrap();
    let options = Options {
        vectors: 40,
        insts: insts.iter().map(|s| s.to_string()).collect(),
        ..Options::default()
    };
    let make = || Isa::X64.machine();
    let r = loweq_conform::run(program, Isa::X64, file, table, &options, &make).unwrap();
    let run = ConformRun {
        arches: vec![ArchOutcome::Ran(r)],
    };
    assert_eq!(run.exit_code(), 1);
    let out = text(&run);
    out.lines()
        .map(|l| match l.rfind("; ") {
            Some(i) if l.ends_with("vectors/s)") => format!("{}; <time>", &l[..i]),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_zero_extending_sign_extending_load() {
    let p = program(&[(
        "(= result (sext_low! from to (:value isa_load))))",
        "(= result (zext_low! from (:value isa_load))))",
    )]);
    insta::assert_snapshot!(report(&p, &["x64_movsx_load"]));
}

#[test]
fn a_zero_extended_displacement() {
    let p = program(&[(
        "((ImmReg d base) (bvadd base (sign_ext 64 d)))",
        "((ImmReg d base) (bvadd base (zero_ext 64 d)))",
    )]);
    insta::assert_snapshot!(report(&p, &["x64_mov_store"]));
}

#[test]
fn a_flag_writer_without_modifies() {
    let p = program(&[(
        "(bvadd x y)) a c)))\n    (modifies x64_flags))",
        "(bvadd x y)) a c))))",
    )]);
    insta::assert_snapshot!(report(&p, &["x64_add"]));
}
