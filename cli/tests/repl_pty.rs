//! `loweq repl` at a terminal (a pseudo-terminal driven by rexpect): a
//! correct rule shows `verified`, a wrong one its counterexample, Tab
//! completes a partial term name, Ctrl-C cancels a slow proof and returns
//! to the prompt, and the history is there in the next session.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rexpect::session::{spawn_command, PtySession};

const PROMPT: &str = "loweq> ";

/// Generous: a debug build on a busy machine.
const TIMEOUT_MS: u64 = 120_000;

fn start(history: &Path, timeout_ms: u64) -> PtySession {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_loweq"));
    cmd.args(["repl", "--timeout", "600", "--history"])
        .arg(history)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .env("TERM", "xterm");
    let mut p = spawn_command(cmd, Some(timeout_ms)).expect("starts under a pseudo-terminal");
    p.exp_string("`:help` lists the commands")
        .expect("a banner");
    p.exp_string(PROMPT).expect("a prompt");
    p
}

fn history_file() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("repl-pty");
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let h = dir.join("history");
    let _ = std::fs::remove_file(&h);
    h
}

#[test]
fn a_terminal_session() {
    let history = history_file();
    let mut p = start(&history, TIMEOUT_MS);

    p.send_line(
        "(rule my_iadd (lower (has_type (fits_in_64 ty) (iadd x y))) (a64_add (operand_size ty) x y))",
    )
    .expect("types");
    p.exp_string("verified")
        .expect("a correct rule is verified");
    p.exp_string("at i8, i16, i32, i64").expect("at every type");
    p.exp_string(PROMPT).expect("a prompt");

    p.send_line("(rule ushr_bad (lower (has_type (ty_8_or_16 ty) (ushr x y))) (a64_lsr (OperandSize.Size32) x (a64_and_imm (OperandSize.Size32) y (imm_logic_shift_mask ty))))")
        .expect("types");
    p.exp_string("rule `ushr_bad` is wrong for i8")
        .expect("a wrong rule shows its counterexample");
    p.exp_string("held in register")
        .expect("with the registers");
    p.exp_string(PROMPT).expect("a prompt");

    // Tab completes `operand_si` to the only term it can be.
    keys_then(
        &mut p,
        &[":spec operand_si", "\t"],
        "(decl operand_size (Type) OperandSize)",
    );

    // Ctrl-C during a slow proof. Keep pressing it: the first press may
    // come before the proof starts.
    p.send_line(":load cli/tests/data/slow.isle")
        .expect("types");
    let began = Instant::now();
    let mut seen = String::new();
    while !seen.contains("interrupted") && began.elapsed() < Duration::from_millis(TIMEOUT_MS) {
        std::thread::sleep(Duration::from_millis(500));
        p.send_control('c').expect("presses Ctrl-C");
        let deadline = Instant::now() + Duration::from_secs(1);
        while !seen.contains("interrupted") && Instant::now() < deadline {
            match p.try_read() {
                Some(c) => seen.push(c),
                None => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }
    assert!(
        seen.contains("interrupted"),
        "Ctrl-C cancels the proof: {seen}"
    );
    assert!(seen.contains("cancelled"), "the verdict says so: {seen}");
    p.exp_string(PROMPT).expect("and the prompt returns");

    p.send_line(":rules").expect("types");
    p.exp_string("mba_identity").expect("the rules so far");
    p.exp_string(PROMPT).expect("a prompt");
    p.send_line(":quit").expect("types");
    p.exp_eof().expect("quits");

    let saved = std::fs::read_to_string(&history).expect("the history is saved");
    assert!(saved.contains(":spec operand_size"), "{saved}");

    // The next session recalls it: Up twice skips `:quit` to `:rules`.
    let mut p = start(&history, TIMEOUT_MS);
    keys_then(&mut p, &["\x1b[A", "\x1b[A"], "no rules loaded");
    p.send_control('d').expect("presses Ctrl-D");
    p.exp_eof().expect("Ctrl-D quits");
}

/// Presses `keys`, then Enter; expects `shown`, then the prompt.
fn keys_then(p: &mut PtySession, keys: &[&str], shown: &str) {
    for k in keys {
        p.send(k).expect("types");
    }
    p.send_line("").expect("presses Enter");
    p.exp_string(shown)
        .unwrap_or_else(|e| panic!("expected {shown:?} after {keys:?}: {e}"));
    p.exp_string(PROMPT).expect("a prompt");
}
