//! `loweq repl` with entries piped in: every command, the verdicts of
//! entered rules, replacement, re-verification, and the error paths, with
//! the exit status of a scripted session.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Runs `loweq repl ARGS` with `input` on standard input; returns the
/// output and the exit status.
fn repl(args: &[&str], input: &str) -> (String, i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_loweq"))
        .arg("repl")
        .arg("--no-history")
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .expect("a pipe")
        .write_all(input.as_bytes())
        .expect("writes");
    let o = child.wait_with_output().expect("finishes");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.is_empty(), "nothing on stderr, got: {err}");
    (out, o.status.code().expect("exits"))
}

/// A scratch file under cargo's temporary directory.
fn scratch(name: &str, text: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("repl");
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let p = dir.join(name);
    std::fs::write(&p, text).expect("writes");
    p
}

const IADD: &str = "(rule my_iadd (lower (has_type (fits_in_64 ty) (iadd x y)))
      (a64_add (operand_size ty) x y))
";

/// `ushr` of a narrow value without zero-extending it first.
const USHR_BAD: &str = "(rule ushr_bad (lower (has_type (ty_8_or_16 ty) (ushr x y)))
      (a64_lsr (OperandSize.Size32) x
               (a64_and_imm (OperandSize.Size32) y (imm_logic_shift_mask ty))))
";

/// The same rule for i8 alone, zero-extending first: correct.
const USHR_FIXED: &str = "(rule ushr_bad (lower (has_type $I8 (ushr x y)))
      (a64_lsr (OperandSize.Size32) (a64_uxtb x)
               (a64_and_imm (OperandSize.Size32) y (imm_logic_shift_mask $I8))))
";

#[test]
fn a_correct_rule_is_verified_without_prompts_or_colours() {
    let (out, code) = repl(&[], IADD);
    assert_eq!(
        out,
        "[aarch64] my_iadd (<entry 1>:1): verified at i8, i16, i32, i64\n"
    );
    assert_eq!(code, 0);
}

#[test]
fn a_wrong_rule_prints_its_first_counterexample_then_why_and_smt_show_more() {
    let (out, code) = repl(
        &[],
        &format!("{USHR_BAD}:why\n:smt\n:smt ushr_bad i16\n:smt nothing\n"),
    );
    assert_eq!(code, 1, "{out}");
    let (entry, rest) = out.split_once("more counterexamples").expect("a note");
    assert_eq!(entry.matches("is wrong for").count(), 1, "{entry}");
    assert!(entry.contains("error: [aarch64] rule `ushr_bad` is wrong for i8"));
    assert!(entry.contains("--> <entry 1>:1:1"), "{entry}");
    assert!(entry.contains("held in register 0x0000_0000_0000_0100"));
    assert!(!entry.contains('\x1b'), "no colours");
    // `:why`: every counterexample.
    assert_eq!(rest.matches("is wrong for").count(), 8, "{rest}");
    // `:smt`: the query of the first counterexample, and one chosen.
    assert!(rest.contains("; rule `ushr_bad` at i8\n"), "{rest}");
    assert!(rest.contains("; rule `ushr_bad` at i16\n"), "{rest}");
    assert!(rest.contains("(check-sat)"));
    assert!(rest.contains("error: no query of the last verification matches `nothing`"));
}

#[test]
fn a_rule_of_the_same_name_replaces_the_earlier_one() {
    let input = format!("{USHR_BAD}{USHR_FIXED}:rules\n:rules bad\n:rules zzz\n");
    let (out, code) = repl(&[], &input);
    assert!(
        out.contains("replaced rule `ushr_bad` (<entry 1>:1)"),
        "{out}"
    );
    assert!(
        out.contains("[aarch64] ushr_bad (<entry 2>:1): verified at i8"),
        "{out}"
    );
    // `:rules` lists the rule once, with its last verdicts.
    let listing: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("ushr_bad ("))
        .collect();
    assert_eq!(listing.len(), 2, "{out}");
    assert!(listing[0].starts_with("ushr_bad (<entry 2>:1): verified at i8"));
    assert!(out.contains("no rule matches `zzz`"));
    assert_eq!(code, 1, "a counterexample was seen in the session");
}

#[test]
fn an_error_points_into_the_entry_and_the_session_goes_on() {
    let input = format!("(rule broken (lower (nonexistent x)) x)\n{IADD}");
    let (out, code) = repl(&[], &input);
    assert!(
        out.contains(
            "error: type error: Unknown term in pattern: 'nonexistent'\n  --> <entry 1>:1:21"
        ),
        "{out}"
    );
    assert!(
        out.contains("[aarch64] my_iadd (<entry 2>:1): verified"),
        "{out}"
    );
    assert_eq!(code, 2);
}

#[test]
fn malformed_entries_are_errors() {
    let (out, code) = repl(
        &[],
        "(ushr x y)\n(rule r (lower x) x))\n(decl f (Reg) Reg\n",
    );
    assert!(
        out.contains("error: `ushr` does not start a declaration or a rule"),
        "{out}"
    );
    assert!(out.contains("use `:eval EXPR`"));
    assert!(out.contains("<entry 2>:1:"), "the stray `)`: {out}");
    assert!(
        out.contains("<entry 3>:"),
        "the unclosed `(` at the end of input: {out}"
    );
    assert_eq!(code, 2);
}

#[test]
fn changing_a_spec_reverifies_the_rules_that_use_it() {
    let input = "\
(decl my_double (OperandSize Reg) Reg)
(extern constructor my_double my_double)
(spec (my_double size a) (provide (= result (bvshl a #x0000000000000002))))
(rule twice (lower (has_type (fits_in_64 ty) (iadd x x))) (my_double (operand_size ty) x))
(spec (my_double size a) (provide (= result (bvadd a a))))
(rule other (lower (has_type (fits_in_64 ty) (isub x y))) (a64_sub (operand_size ty) x y))
";
    let (out, code) = repl(&[], input);
    assert!(
        out.contains("[aarch64] twice (<entry 4>:1): counterexample at i8"),
        "{out}"
    );
    assert!(
        out.contains("replaced spec `my_double` (<entry 3>:1)"),
        "{out}"
    );
    assert!(
        out.contains("[aarch64] twice (<entry 4>:1): verified at i8"),
        "{out}"
    );
    // Only `twice` calls `my_double`: `other` is verified once, when entered.
    assert_eq!(out.matches("] other (").count(), 1, "{out}");
    assert_eq!(code, 1);
}

#[test]
fn eval_applies_terms_and_spec_expressions() {
    let input = "\
:eval (a64_lsr (OperandSize.Size32) #x0000000000000100 #x0000000000000001)
:eval (ushr #x80 #x01)
:eval i8 (ushr x y) x=0x80 y=1
:eval (a64_lsr (operand_size $I8) x y) x=0x100 y=1
:eval (udiv #x05 #x00)
:eval (bvsub x #x01) x=#x00
:eval (shift_amount! x y) x=#x80 y=#x09
:eval (= x y) x=1 y=2
";
    let (out, code) = repl(&[], input);
    let expected = "\
(a64_lsr (OperandSize.Size32) #x0000000000000100 #x0000000000000001)
= 0x0000_0000_0000_0080 (unsigned 128, signed 128)
(ushr #x80 #x01)
= 0x40 (unsigned 64, signed 64)
(ushr x y), where x = 128, y = 1
= 0x40 (unsigned 64, signed 64)
(operand_size $I8) = OperandSize.Size32
(a64_lsr (operand_size $I8) x y), where x = 256, y = 1
= 0x0000_0000_0000_0080 (unsigned 128, signed 128)
(udiv #x05 #x00)
no result: it traps
  clif_trap = true
(bvsub x #x01), where x = 0x00
= 0xff (unsigned 255, signed -1)
(shift_amount! x y), where x = 0x80, y = 0x09
= 0x01 (unsigned 1, signed 1)
(= x y), where x = 1, y = 2
= false
";
    assert_eq!(out, expected);
    assert_eq!(code, 0);
}

#[test]
fn eval_errors() {
    let input = "\
:eval
:eval (ushr x #x01)
:eval (ushr 0x80 1)
:eval (a64_lsr 1)
:eval (a64_lsr (OperandSize.Size32) #x01 #x01)
:eval (a64_lsr (OperandSize.Size32) 0x100 1) y
:eval (a64_lsr (OperandSize.Size32) 0x100 1) y=zz
:eval (a64_lsr (OperandSize.Nope) 0x100 1)
:eval (a64_lsrr 1 2 3)
:eval (nope 1 2)
:eval (bvadd (bvaddd #x01 #x02) #x01)
:eval (ushr (udiv #x01 #x00) #x01)
:eval (a64_and_imm (OperandSize.Size32) 0x100 0x0)
";
    let (out, code) = repl(&[], input);
    for expected in [
        "error: usage: :eval [TYPE] EXPR",
        "error: `x` is not a value and has no value: give it one (`x=0x80`)",
        "error: cannot tell the width of the number `128`",
        "error: `a64_lsr` takes 3 arguments, `(a64_lsr 1)` has 1",
        "error: `#x01` has 8 bits where (bv 64) is expected",
        "error: expected NAME=VALUE, got `y`",
        "error: `zz` is not a value",
        "error: `OperandSize.Nope` is not an enum value",
        "error: no term or spec operator `a64_lsrr`; did you mean `a64_lsr`",
        "error: no term or spec operator `nope`",
        "error: unknown spec operator `bvaddd`\n  --> <eval>:2:8",
        "error: `(udiv #x01 #x00)` traps: it has no value to pass on",
        // `a64_and_imm` requires a valid logical immediate.
        "warning: a precondition of `a64_and_imm` is false for these values",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    assert_eq!(code, 2);
}

#[test]
fn spec_and_type_describe_terms_and_types() {
    let input = ":spec a64_lsr\n:spec ushr\n:type OperandSize\n:type Reg\n:type a64_lsr\n:spec a64_lsrr\n:type Regg\n:spec\n:type\n";
    let (out, code) = repl(&[], input);
    for expected in [
        "--> semantics/spec/aarch64/shift.isle:",
        "(decl a64_lsr (OperandSize Reg Reg) Reg)",
        "(spec (a64_lsr size a b)",
        "types: (OperandSize = OperandSize, Reg = (bv 64), Reg = (bv 64)) -> Reg = (bv 64)",
        "(instantiate ushr bv_shift_8_to_64)",
        "(form bv_shift_8_to_64",
        "signatures: ((bv 8) (bv 8)) -> (bv 8);",
        "(type OperandSize (enum Size32 Size64))",
        "  OperandSize.Size32\n  OperandSize.Size64",
        "model: (bv 64)",
        "error: no term named `a64_lsrr`; did you mean `a64_lsr`",
        "error: no type named `Regg`; did you mean `Reg`",
        "error: usage: :spec NAME",
        "error: usage: :type NAME",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    assert_eq!(
        out.matches("(decl a64_lsr ").count(),
        2,
        ":type of a term is its :spec"
    );
    assert_eq!(code, 2);
}

#[test]
fn load_and_reload_reverify_what_changed() {
    let file = scratch("rules.isle", &format!("{IADD}\n{USHR_BAD}"));
    let path = file.display().to_string();
    let fixed = format!("{IADD}\n{USHR_FIXED}");
    let bad = scratch("bad.isle", "(rule r (lower x)\n  (nonexistent x))\n");
    let (out, code) = repl(
        &[],
        &format!(
            ":load {path}\n:rules\n:reload\n:load /nonexistent/x.isle\n:load\n:load {}\n",
            bad.display()
        ),
    );
    assert!(
        out.contains(&format!("--> {}:2:3", bad.display())),
        "an error in a loaded file points into it: {out}"
    );
    assert!(out.contains(&format!("loaded {path}")), "{out}");
    assert!(out.contains("] my_iadd ("), "{out}");
    assert!(out.contains("counterexample at i8"), "{out}");
    assert!(out.contains("reloaded 1 file(s): nothing changed"), "{out}");
    assert!(
        out.contains("error: cannot read `/nonexistent/x.isle`"),
        "{out}"
    );
    assert!(out.contains("error: usage: :load FILE"), "{out}");
    assert_eq!(code, 1);

    // A session started with the file, which is then fixed on disk.
    let mut child = Command::new(env!("CARGO_BIN_EXE_loweq"))
        .args(["repl", "--no-history", "--arch", "aarch64", &path])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("runs");
    let mut stdin = child.stdin.take().expect("a pipe");
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("a pipe"));
    // Wait for the file's verdicts, fix the file, then ask for a reload.
    let mut out = String::new();
    while !out.contains("] ushr_bad (") {
        let n = std::io::BufRead::read_line(&mut stdout, &mut out).expect("reads");
        assert!(n > 0, "the session ended early: {out}");
    }
    std::fs::write(&file, &fixed).expect("writes");
    stdin.write_all(b":reload\n").expect("writes");
    drop(stdin);
    std::io::Read::read_to_string(&mut stdout, &mut out).expect("reads");
    assert_eq!(child.wait().expect("finishes").code(), Some(1));
    let after = out
        .split_once("reloaded 1 file(s)")
        .map(|x| x.1)
        .unwrap_or("");
    assert!(after.contains("] ushr_bad ("), "the changed rule: {out}");
    assert!(after.contains("verified at i8"), "{out}");
    assert!(
        !after.contains("] my_iadd ("),
        "the unchanged rule is not re-verified: {out}"
    );
}

#[test]
fn arch_and_timeout() {
    let slow =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/slow.isle"))
            .expect("reads");
    let input = format!(
        ":arch\n:arch x64\n:eval (x64_add (OperandSize.Size32) #x0000000000000001 #x0000000000000002)\n:arch sparc\n:arch none\n:timeout\n:timeout 0.01\n:timeout -1\n{slow}"
    );
    let (out, code) = repl(&[], &input);
    for expected in [
        "arch: aarch64",
        "arch: x64",
        "error: unknown architecture `sparc`: x64, aarch64 or none",
        "arch: none",
        "timeout: 10 s",
        "timeout: 0.01 s",
        "error: the timeout must be a number of seconds above 0 and at most a day, got `-1`",
        "mba_identity (<entry 8>:1): unknown at i64",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    assert_eq!(code, 2, "an error beats an unknown");
    let (out, code) = repl(&["--timeout", "0.01", "cli/tests/data/slow.isle"], "");
    assert!(out.contains("loaded cli/tests/data/slow.isle"), "{out}");
    assert!(out.contains("unknown at"), "{out}");
    assert_eq!(code, 3, "only unknowns");
}

#[test]
fn switching_arch_keeps_the_session_when_the_rules_do_not_fit() {
    let (out, code) = repl(&[], &format!("{IADD}:arch x64\n:rules\n"));
    assert!(
        out.contains("Unknown term in expression: 'a64_add'"),
        "{out}"
    );
    assert!(out.contains("still on aarch64"), "{out}");
    assert!(out.contains("my_iadd (<entry 1>:1): verified"), "{out}");
    assert_eq!(code, 2);
}

#[test]
fn help_unknown_commands_and_quit() {
    let (out, code) = repl(
        &[],
        ":help\n:frobnicate\n:rule\n:quit\n(this is never read\n",
    );
    for c in [
        ":eval", ":spec", ":type", ":rules", ":why", ":smt", ":load", ":reload", ":arch",
        ":timeout", ":help", ":quit",
    ] {
        assert!(out.contains(&format!("  {c} ")), "{c} in:\n{out}");
    }
    assert!(
        out.contains("error: unknown command `:frobnicate`"),
        "{out}"
    );
    assert!(
        out.contains("error: unknown command `:rule`; did you mean `rules`?"),
        "{out}"
    );
    assert!(!out.contains("this is never read"));
    assert_eq!(code, 2);
}

#[test]
fn nothing_to_show_yet() {
    let (out, code) = repl(&[], ":why\n:smt\n:rules\n:reload\n; a comment\n\n");
    assert_eq!(
        out,
        "no verification yet\nno query yet: enter a rule first\nno rules loaded: enter one, or `:load FILE`\nno files loaded\n"
    );
    assert_eq!(code, 0);
}

#[test]
fn declarations_of_a_chained_term_and_multi_line_entries() {
    // Piped input is read line by line: an entry ends on the first line
    // where its parentheses balance.
    let input = "\
;; A helper, inlined into the rules that call it.
(decl my_zext (Type Reg) Reg) (attr my_zext (veri chain)) (rule my_zext_8 (my_zext $I8 r)
      (a64_uxtb r))
(rule my_ushr (lower (has_type $I8 (ushr x y)))
      (a64_lsr (OperandSize.Size32) (my_zext $I8 x)
               (a64_and_imm (OperandSize.Size32) y (imm_logic_shift_mask $I8))))
(rule my_zext_8 (my_zext $I8 r) (a64_sxtb r))
";
    let (out, code) = repl(&[], input);
    assert!(
        out.contains(
            "my_zext_8 (<entry 1>:1): excluded: verified through the rules that call `my_zext`"
        ),
        "{out}"
    );
    assert!(
        out.contains("] my_ushr (<entry 2>:1): verified at i8"),
        "{out}"
    );
    // Replacing the chained rule re-verifies its caller, which breaks.
    assert!(
        out.contains("replaced rule `my_zext_8` (<entry 1>:1)"),
        "{out}"
    );
    assert!(
        out.contains("] my_ushr (<entry 2>:1): counterexample at i8"),
        "{out}"
    );
    assert_eq!(code, 1);
}

/// Found in the third review round: replacing a higher-priority
/// `(veri priority)` rule did not verify again the rule whose proof assumed
/// it does not match, which kept a stale "verified" for a rule that is now
/// wrong (`lo` is wrong exactly for `iconst 0`, which the first `hi` took).
#[test]
fn replacing_a_priority_rule_reverifies_the_rules_it_overlaps() {
    let input =
        "(rule hi 1 (lower (has_type $I64 (iconst 0))) (x64_mov_imm (OperandSize.Size64) 0))
(attr rule hi (veri priority))
(rule lo (lower (has_type $I64 (iconst k)))
      (let ((r Reg (x64_mov_imm (OperandSize.Size64) k)))
          (x64_add (OperandSize.Size64) r
              (x64_setcc (CC.E) (x64_test (OperandSize.Size64) r r)))))
(rule hi 1 (lower (has_type $I64 (iconst 1))) (x64_mov_imm (OperandSize.Size64) 1))
:rules
";
    let (out, code) = repl(&["--arch", "x64"], input);
    assert!(
        out.contains("[x64] lo (<entry 3>:1): inapplicable at i8, i16, i32; verified at i64"),
        "{out}"
    );
    assert!(
        out.contains("[x64] lo (<entry 3>:1): inapplicable at i8, i16, i32; counterexample at i64"),
        "{out}"
    );
    assert!(
        out.contains("\nlo (<entry 3>:1): inapplicable at i8, i16, i32; counterexample at i64"),
        "{out}"
    );
    assert_eq!(code, 1, "{out}");
}

/// Found in the third review round: an `attr` entry was taken to be about
/// its whole text, so `(attr ch (veri chain))` re-verified nothing, and the
/// caller stayed "verified" although it now inlines `ch`'s wrong rule.
#[test]
fn an_attr_entry_reverifies_the_rules_of_its_term() {
    let input = "(decl ch (Value) Reg)
(spec (ch x) (provide (= result x)))
(rule ch_rule (ch x) (x64_neg (OperandSize.Size64) x))
(rule c (lower (has_type $I64 (ineg x))) (x64_neg (OperandSize.Size64) (ch x)))
(attr ch (veri chain))
:rules
";
    let (out, code) = repl(&["--arch", "x64"], input);
    assert!(
        out.contains("[x64] c (<entry 4>:1): verified at i64"),
        "{out}"
    );
    assert!(
        out.contains("[x64] c (<entry 4>:1): inapplicable at i8, i16, i32; counterexample at i64"),
        "{out}"
    );
    assert!(
        out.contains("\nc (<entry 4>:1): inapplicable at i8, i16, i32; counterexample at i64"),
        "{out}"
    );
    assert_eq!(code, 1, "{out}");
}

#[test]
fn changing_the_spec_of_an_implicit_conversion_reverifies_the_rules_that_use_it() {
    // Review 4: `r` never names `put_in_reg`; cranelift-isle inserts it
    // where the IR values `x` and `y` are passed as registers. Its new spec
    // (every register 0) makes `r` wrong, and the session said nothing:
    // `:rules` still listed `r` verified.
    let input = "(rule r (lower (has_type $I64 (iadd x y))) (x64_add (OperandSize.Size64) x y))
(spec (put_in_reg v) (provide (= result #x0000000000000000)))
:rules
";
    let (out, code) = repl(&["--arch", "x64"], input);
    assert!(
        out.contains("[x64] r (<entry 1>:1): inapplicable at i8, i16, i32; verified at i64"),
        "{out}"
    );
    assert!(out.contains("replaced spec `put_in_reg`"), "{out}");
    assert!(
        out.contains("\nr (<entry 1>:1): inapplicable at i8, i16, i32; counterexample at i64"),
        "{out}"
    );
    assert_eq!(code, 1, "{out}");
}

#[test]
fn a_command_inside_an_unfinished_entry_drops_the_entry_and_runs() {
    // `:rules` after `(rule (foo` became a line of an entry that never
    // closed, and so did every later line; at the end of the input the
    // entry was reported as "parse error: Unexpected pattern" at an empty
    // line. A field (`:reg0`) at the start of a line is not a command.
    let input = "(rule (foo\n   (bar x)\n:rules zz\n(rule (lower\n:reg0 x)\n:quit\n";
    let (out, code) = repl(&[], input);
    assert!(
        out.starts_with("error: the entry before `:rules` was not finished (the `(` at line 1, column 7 is not closed); it was dropped\nno rule matches `zz`\n"),
        "{out}"
    );
    assert!(!out.contains("Unexpected pattern"), "{out}");
    // `:reg0 x)` stayed in the second entry, which `:quit` then dropped.
    assert!(
        out.contains("error: the entry before `:quit` was not finished"),
        "{out}"
    );
    assert_eq!(code, 2, "{out}");
}

#[test]
fn an_entry_unfinished_at_the_end_of_the_input_points_at_its_paren() {
    let (out, code) = repl(&[], "(rule r (lower (has_type ty (iadd x y)))\n");
    assert!(
        out.contains("error: a `(` is not closed before the end of the file"),
        "{out}"
    );
    assert!(out.contains("--> <entry 1>:1:1"), "{out}");
    assert_eq!(code, 2, "{out}");
}
