//! `loweq conform` end to end: the report, JSON, exit codes.

use std::process::{Command, Output};

fn loweq(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loweq"))
        .args(args)
        .output()
        .expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn one_instruction_agrees_and_exits_0() {
    let o = loweq(&[
        "conform",
        "--arch",
        "x64",
        "--inst",
        "x64_shl",
        "--vectors",
        "50",
    ]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    for size in ["Size8", "Size16", "Size32", "Size64"] {
        assert!(
            out.lines().any(|l| l.contains("x64_shl")
                && l.contains(size)
                && l.ends_with("50 vectors agree")),
            "{out}"
        );
    }
    assert!(
        out.contains("[x64] 1 instructions, 4 variants, 200 vectors: 0 disagree, 0 errors;"),
        "{out}"
    );
    let j = loweq(&[
        "conform",
        "--arch",
        "x64",
        "--inst",
        "x64_add",
        "--vectors",
        "20",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&j.stdout).expect("JSON");
    assert_eq!(v["arches"][0]["arch"], "x64");
    assert_eq!(v["arches"][0]["vectors"], 80);
    assert_eq!(v["arches"][0]["results"][0]["agreed"], 20);
}

#[test]
fn bad_input_exits_2() {
    let o = loweq(&["conform", "--inst", "no_such_instruction"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no_such_instruction"));
    let o = loweq(&["conform", "--vectors", "0"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn list_names_the_mapped_terms() {
    let o = loweq(&["conform", "--list"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        out.contains("  x64_add\n") && out.contains("  a64_add\n"),
        "{out}"
    );
    // Loads and stores run against a memory window.
    assert!(out.contains("  x64_mov_load\n"), "{out}");
}

#[test]
fn a_missing_machine_exits_2_with_how_to_install_it() {
    // No QEMU and no AArch64 tools on an empty PATH.
    let o = Command::new(env!("CARGO_BIN_EXE_loweq"))
        .args(["conform", "--arch", "aarch64", "--vectors", "10"])
        .env("PATH", "")
        .output()
        .expect("runs");
    // The report, on stdout, says it where the architecture's part would be.
    let err = stdout(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("AArch64 under QEMU is not available"), "{err}");
    assert!(
        err.contains("apt-get install qemu-user binutils-aarch64-linux-gnu"),
        "{err}"
    );
}

#[test]
fn a_mistyped_instruction_term_gets_near_names() {
    for args in [
        &["conform", "--arch", "x64", "--inst", "x64_ad"][..],
        &["conform", "--inst", "x64_ad"],
    ] {
        let o = loweq(args);
        let all = stdout(&o) + &String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {all}");
        assert!(all.contains("did you mean `x64_add`"), "{args:?}: {all}");
        assert!(all.contains("loweq conform --list"), "{args:?}: {all}");
    }
}
