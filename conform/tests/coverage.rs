//! Every instruction spec term is in its architecture's mapping table (run,
//! helper, or not runnable with the reason), whether or not the machines
//! are installed here; a new spec without its line is listed.

mod common;

use loweq_conform::coverage;
use loweq_conform::map::{self, Table};
use loweq_conform::Isa;
use loweq_semantics::span::SourceFile;

fn table(isa: Isa) -> Table {
    let (file, text) = map::shipped(isa.name()).unwrap();
    Table::parse(file, text).unwrap()
}

#[test]
fn every_instruction_spec_term_is_mapped() {
    for isa in Isa::ALL {
        let program = common::program(isa);
        let cov = coverage::check(&program, &table(isa), isa);
        assert!(cov.is_complete(), "conform/map/{}.toml:\n{cov}", isa.name());
        // The mapped jobs fit their terms.
        let (file, text) = map::shipped(isa.name()).unwrap();
        let (_, errors) = loweq_conform::plan::jobs(&program, &table(isa), isa, file, text);
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

#[test]
fn a_new_spec_without_a_mapping_is_listed() {
    let mut files = common::files(Isa::X64);
    files.push(SourceFile::new(
        "semantics/spec/x64/new.isle",
        "(decl x64_unmapped_term (OperandSize Reg) Reg)\n\
         (extern constructor x64_unmapped_term x64_unmapped_term)\n\
         (spec (x64_unmapped_term size a) (provide (= result (rev a))))\n",
    ));
    let program = common::load(files);
    let cov = coverage::check(&program, &table(Isa::X64), Isa::X64);
    assert_eq!(
        cov.missing
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        ["x64_unmapped_term"]
    );
    let message = cov.to_string();
    assert!(
        message.contains("x64_unmapped_term (semantics/spec/x64/new.isle:3:7)"),
        "{message}"
    );
}

/// A spec written next to the rules is an instruction spec all the same.
#[test]
fn a_spec_in_a_rule_file_without_a_mapping_is_listed() {
    let mut files = common::files(Isa::Aarch64);
    files.push(SourceFile::new(
        "rules/aarch64/new.isle",
        "(decl a64_unmapped_term (OperandSize Reg) Reg)\n\
         (extern constructor a64_unmapped_term a64_unmapped_term)\n\
         (spec (a64_unmapped_term size a) (provide (= result (rev a))))\n",
    ));
    let program = common::load(files);
    let cov = coverage::check(&program, &table(Isa::Aarch64), Isa::Aarch64);
    let missing: Vec<&str> = cov.missing.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(missing, ["a64_unmapped_term"]);
}

/// A spec term the run cannot check is listed with the reason, and the
/// others still run: one without a mapping, and one whose mapping does
/// not fit it.
#[test]
fn unmapped_and_unfitting_terms_are_listed_and_the_rest_runs() {
    let isa = Isa::X64;
    if common::machine_or_skip(isa).is_none() {
        return;
    }
    let mut files = common::files(isa);
    files.push(SourceFile::new(
        "semantics/spec/x64/new.isle",
        "(decl x64_unmapped_term (OperandSize Reg) Reg)\n\
         (extern constructor x64_unmapped_term x64_unmapped_term)\n\
         (spec (x64_unmapped_term size a) (provide (= result (rev a))))\n\
         (decl x64_unfitting_term (OperandSize Reg) Reg)\n\
         (extern constructor x64_unfitting_term x64_unfitting_term)\n\
         (spec (x64_unfitting_term size a) (provide (= result a)))\n",
    ));
    let program = common::load(files);
    let (_, shipped) = map::shipped(isa.name()).unwrap();
    // `x64_unfitting_term`'s entry names a parameter it does not have.
    let text = format!(
        "{shipped}\n[[inst]]\nterm = \"x64_unfitting_term\"\nregs = {{ b = \"rax\" }}\n\
         result = \"rax\"\nasm = \"Nop\"\n"
    );
    let options = loweq_conform::Options {
        vectors: 20,
        ..Default::default()
    };
    let make = || isa.machine();
    let report = loweq_conform::run(&program, isa, "t.toml", &text, &options, &make).unwrap();
    let names: Vec<&str> = report
        .coverage
        .missing
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(names, ["x64_unmapped_term"]);
    let pair = report
        .results
        .iter()
        .find(|r| r.term == "x64_unfitting_term")
        .expect("listed");
    let why = pair.error.as_deref().unwrap_or_default();
    assert!(why.contains("`b` is not a parameter"), "{why}");
    assert_eq!(report.errors(), 2);
    assert!(report
        .results
        .iter()
        .any(|r| r.term == "x64_add" && r.ok() && r.vectors == 20));
}

/// Every instruction term a shipped rule uses runs: none of them is listed
/// as not runnable (what `loweq conform` reports as unexercised).
#[test]
fn every_instruction_term_of_a_shipped_rule_runs() {
    for isa in Isa::ALL {
        let program = common::program(isa);
        let missed = coverage::unexercised(&program, &table(isa));
        assert!(
            missed.is_empty(),
            "{}: shipped rules use terms that cannot run: {missed:?}",
            isa.name()
        );
    }
    // A used term moved to `[[unrunnable]]` is found.
    let program = common::program(Isa::X64);
    let mut t = table(Isa::X64);
    t.insts.retain(|i| i.term.get_ref() != "x64_add");
    t.unrunnable.push(loweq_conform::map::Unrunnable {
        term: "x64_add".into(),
        reason: "a test".into(),
    });
    assert_eq!(coverage::unexercised(&program, &t), ["x64_add"]);
}

/// A helper is a term that computes operands: one with a register in its
/// signature stands for machine code and is an error.
#[test]
fn a_helper_with_a_register_in_its_signature_is_listed() {
    let mut files = common::files(Isa::X64);
    files.push(SourceFile::new(
        "semantics/spec/x64/new.isle",
        "(decl x64_hidden_term (OperandSize Reg) Reg)\n\
         (extern constructor x64_hidden_term x64_hidden_term)\n\
         (spec (x64_hidden_term size a) (provide (= result (rev a))))\n",
    ));
    let program = common::load(files);
    let mut t = table(Isa::X64);
    t.helpers.push("x64_hidden_term".into());
    let cov = coverage::check(&program, &t, Isa::X64);
    assert_eq!(
        cov.misfiled,
        [coverage::Misfiled {
            name: "x64_hidden_term".into(),
            ty: "Reg".into(),
        }]
    );
    assert!(cov.missing.is_empty() && !cov.is_complete());
    let message = cov.to_string();
    assert!(
        message.contains("helper `x64_hidden_term` has `Reg` in its signature"),
        "{message}"
    );
}
