//! `cargo bench -p loweq --bench repl`: how fast the REPL answers.
//!
//! - start-up: a session with the shipped AArch64 semantics loaded, in the
//!   process and as `loweq repl` end to end (spawn, load, `:quit`);
//! - a one-rule entry against the shipped AArch64 semantics, start-up
//!   excluded: a new rule in an empty session, and re-entering the shipped
//!   `ushr_narrow` (chained through `zext32` and `narrow_amount`, 16
//!   instantiations) with every AArch64 shift rule loaded.
//!
//! Prints the best and the median of several runs. Targets (issue 12):
//! an entry under 300 ms, start-up under 1 s.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use loweq::repl::{Config, Session};
use loweq::shipped::Arch;

const RUNS: usize = 10;

const IADD: &str = "(rule bench_iadd (lower (has_type (fits_in_64 ty) (iadd x y)))
      (a64_add (operand_size ty) x y))";

const USHR_NARROW: &str = "(rule ushr_narrow 1 (lower (has_type (ty_8_or_16 ty) (ushr x y)))
      (a64_lsr (OperandSize.Size32) (zext32 ty x) (narrow_amount ty y)))";

fn config() -> Config {
    Config {
        arch: Some(Arch::Aarch64),
        timeout: Duration::from_secs(10),
        jobs: None,
        interactive: false,
    }
}

fn start() -> Session {
    Session::start(config(), &[])
        .expect("the shipped semantics load")
        .0
}

/// Best and median of `RUNS` timings of `f`.
fn measure(mut f: impl FnMut()) -> (f64, f64) {
    let mut times: Vec<f64> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[0], times[RUNS / 2])
}

fn line(what: &str, (best, median): (f64, f64)) {
    println!("{what:<58} best {best:7.1} ms   median {median:7.1} ms");
}

fn main() {
    line(
        "start-up, in process (aarch64 semantics loaded)",
        measure(|| {
            start();
        }),
    );
    line(
        "start-up, `loweq repl` end to end (spawn, load, :quit)",
        measure(|| {
            let mut child = Command::new(env!("CARGO_BIN_EXE_loweq"))
                .args(["repl", "--no-history"])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .expect("runs");
            let mut stdin = child.stdin.take().expect("a pipe");
            stdin.write_all(b":quit\n").expect("writes");
            drop(stdin);
            assert!(child.wait().expect("finishes").success());
        }),
    );

    let mut s = start();
    line(
        "one-rule entry: a new rule (4 instantiations)",
        measure(|| {
            let r = s.submit(IADD);
            assert!(
                r.text.contains("verified at i8, i16, i32, i64"),
                "{}",
                r.text
            );
        }),
    );

    let mut s = start();
    let shift = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rules/aarch64/shift.isle");
    let loaded = s.submit(&format!(":load {}", shift.display()));
    assert!(loaded.text.contains("] ushr_narrow ("), "{}", loaded.text);
    line(
        "one-rule entry: ushr_narrow re-entered (16 instantiations)",
        measure(|| {
            let r = s.submit(USHR_NARROW);
            assert!(r.text.contains("] ushr_narrow (<entry"), "{}", r.text);
            assert!(!r.text.contains("counterexample"), "{}", r.text);
        }),
    );
    let t = Instant::now();
    let r = s.submit(":eval (a64_lsr (OperandSize.Size32) #x0000000000000100 #x0000000000000001)");
    assert!(r.text.contains("0x0000_0000_0000_0080"), "{}", r.text);
    println!(
        "{:<58} {:7.1} ms",
        ":eval of one instruction",
        t.elapsed().as_secs_f64() * 1000.0
    );
}
