//! Flags as values: a spec whose result is the flags is compared with the
//! machine's NZCV field by field, and a flags parameter is loaded into NZCV
//! before the code runs. Checked with specs written here in the shape of
//! AArch64's: a right one agrees, wrong ones are caught. The compares
//! declare `(modifies a64_nzcv)`: without it, conformance checks that the
//! code leaves NZCV as it was (`wrong_specs.rs`).

mod common;

use loweq_conform::{Isa, Options};
use loweq_machine::{Machine, MachineError};
use loweq_semantics::span::SourceFile;

const SPECS: &str = "
(type TFlags (primitive TFlags))
(model TFlags (type (struct (n Bool) (z Bool) (c Bool) (v Bool))))

(macro (t_subs x y)
    (let ((r (bvsub x y)))
        (struct
            (n (= (extract 63 63 r) #b1))
            (z (= r #x0000000000000000))
            (c (bvuge x y))
            (v (not (= (sign_ext 65 r) (bvsub (sign_ext 65 x) (sign_ext 65 y))))))))

;; CMP Xn, Xm.
(decl t_cmp (Reg Reg) TFlags)
(extern constructor t_cmp t_cmp)
(spec (t_cmp a b) (provide (= result (t_subs! a b)) (= a64_nzcv result)) (modifies a64_nzcv))

;; The same with x86's borrow as the carry: wrong for AArch64.
(decl t_cmp_borrow (Reg Reg) TFlags)
(extern constructor t_cmp_borrow t_cmp_borrow)
(spec (t_cmp_borrow a b)
    (provide (= result (struct (n (:n (t_subs! a b))) (z (:z (t_subs! a b)))
                               (c (bvult a b)) (v (:v (t_subs! a b)))))
             (= a64_nzcv result))
    (modifies a64_nzcv))

;; CSEL Xd, Xn, Xm, HS.
(decl t_csel_hs (Reg Reg TFlags) Reg)
(extern constructor t_csel_hs t_csel_hs)
(spec (t_csel_hs a b f) (provide (= result (if (:c f) a b))))

;; CSEL on the inverted condition: wrong.
(decl t_csel_hs_inverted (Reg Reg TFlags) Reg)
(extern constructor t_csel_hs_inverted t_csel_hs_inverted)
(spec (t_csel_hs_inverted a b f) (provide (= result (if (:c f) b a))))
";

const TABLE: &str = "
[[inst]]
term = \"t_cmp\"
regs = { a = \"x1\", b = \"x2\" }
result = \"flags\"
asm = \"cmp {a}, {b}\"

[[inst]]
term = \"t_cmp_borrow\"
regs = { a = \"x1\", b = \"x2\" }
result = \"flags\"
asm = \"cmp {a}, {b}\"

[[inst]]
term = \"t_csel_hs\"
regs = { a = \"x1\", b = \"x2\" }
flags = \"f\"
result = \"x0\"
asm = \"csel {result}, {a}, {b}, hs\"

[[inst]]
term = \"t_csel_hs_inverted\"
regs = { a = \"x1\", b = \"x2\" }
flags = \"f\"
result = \"x0\"
asm = \"csel {result}, {a}, {b}, hs\"
";

fn make() -> Result<Box<dyn Machine>, MachineError> {
    Isa::Aarch64.machine()
}

#[test]
fn flags_in_and_out_are_compared() {
    let isa = Isa::Aarch64;
    if common::machine_or_skip(isa).is_none() {
        return;
    }
    let mut files = common::files(isa);
    files.push(SourceFile::new(
        "semantics/spec/aarch64/test_flags.isle",
        SPECS,
    ));
    let program = common::load(files);
    let (_, shipped) = loweq_conform::map::shipped(isa.name()).unwrap();
    // The table's flags (N Z C V at bits 31..28) come from the shipped
    // table when it has them.
    let flags = if shipped.contains("[flags]") {
        ""
    } else {
        "\n[flags]\nn = 31\nz = 30\nc = 29\nv = 28\n"
    };
    let text = format!("{shipped}\n{TABLE}{flags}");
    let options = Options {
        vectors: 200,
        insts: ["t_cmp", "t_cmp_borrow", "t_csel_hs", "t_csel_hs_inverted"]
            .map(String::from)
            .to_vec(),
        ..Options::default()
    };
    let report = loweq_conform::run(&program, isa, "test.toml", &text, &options, &make)
        .unwrap_or_else(|e| panic!("{e}"));
    let wrong: Vec<&str> = report
        .results
        .iter()
        .filter(|r| !r.ok())
        .map(|r| r.term.as_str())
        .collect();
    assert_eq!(
        wrong,
        ["t_cmp_borrow", "t_csel_hs_inverted"],
        "{:#?}",
        common::failures(&report)
    );
    assert!(report.results.iter().all(|r| r.error.is_none()));
}

/// The table's `flags_state` must be a state of the specs whose fields
/// `[flags]` places; `loweq conform` refuses to run otherwise, since the
/// check that instructions leave the flags alone would be lost.
#[test]
fn a_flags_state_that_is_not_the_flags_register_is_an_error() {
    let isa = Isa::X64;
    let program = common::program(isa);
    let (file, shipped) = loweq_conform::map::shipped(isa.name()).unwrap();
    let line = "flags_state = \"x64_flags\"";
    assert!(shipped.contains(line), "the shipped table names x64_flags");
    let state = |name: &str| {
        let text = shipped.replace(line, &format!("flags_state = \"{name}\""));
        let table = loweq_conform::map::Table::parse(file, &text).unwrap();
        loweq_conform::plan::flags_state(&program, &table)
    };
    let kept = state("x64_flags").unwrap().expect("a flags register");
    assert_eq!(kept.mask(), 1 | 1 << 6 | 1 << 7 | 1 << 11);
    let e = state("no_such_state").unwrap_err();
    assert!(e.contains("not a state the specs declare"), "{e}");
    let e = state("isa_trap").unwrap_err();
    assert!(e.contains("not a flags struct"), "{e}");
}
