//! `cargo bench -p loweq --bench inputs`: the hostile and odd inputs of
//! issue 7, each run through the `loweq` binary, with the wall-clock time,
//! the peak memory (maximum resident set) and the outcome: a Markdown
//! table row per input.
//!
//! Every run is under an address-space limit (4 GB) and a time limit
//! (120 s), so that a regression ends in a row that says so instead of
//! taking the machine down, and has an empty result cache of its own. `LOWEQ_BIN=path` measures another build of
//! the binary (an older one, for a before/after comparison);
//! `LOWEQ_INPUTS=word,...` runs only the inputs whose name contains one
//! of the words. The targets: every input within 30 s and 2 GB; the
//! 20,000-rule files loaded in under 10 s (`--rule r0` loads them whole
//! and checks one rule), and the time per instantiation not growing with
//! the number of rules (the 2,000-rule rows against the 20,000-rule ones).

use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "../tests/common/rlimit.rs"]
mod rlimit;

const MEMORY: u64 = 4 << 30;
const TIME: Duration = Duration::from_secs(120);

/// One input: a name, the arguments (`{}` is the generated file), and the
/// file's text if it has one.
struct Input {
    name: String,
    args: Vec<String>,
    file: Option<(&'static str, Vec<u8>)>,
}

fn input(name: impl Into<String>, args: &[&str], file: Option<(&'static str, Vec<u8>)>) -> Input {
    Input {
        name: name.into(),
        args: args.iter().map(|s| s.to_string()).collect(),
        file,
    }
}

fn isle(text: String) -> Option<(&'static str, Vec<u8>)> {
    Some(("isle", text.into_bytes()))
}

/// A lowering rule whose pattern nests `n` levels of `bnot`.
fn deep_rule(n: usize) -> String {
    format!(
        "(rule deep (lower (has_type (fits_in_64 ty) {}x{}))\n      (x64_not (operand_size_of_type_32_64 ty) x))\n",
        "(bnot ".repeat(n),
        ")".repeat(n)
    )
}

/// `levels` macros, each twice the one before, used by one spec.
fn doubling_macros(levels: usize) -> String {
    let mut s = String::from(
        "(type Value (primitive Value))\n(model Value (type (bv 8)))\n(macro (m0 x) (bvadd x x))\n",
    );
    for i in 1..=levels {
        s += &format!("(macro (m{i} x) (bvadd (m{p}! x) (m{p}! x)))\n", p = i - 1);
    }
    s += &format!(
        "(decl test (Value) Value)\n(spec (test x) (provide (= result (m{levels}! x))))\n\
         (decl id (Value) Value)\n(extern constructor id id)\n(spec (id x) (provide (= result x)))\n\
         (rule r (test x) (id x))\n"
    );
    s
}

/// `n` rules of one term, each for one constant.
fn one_term(n: usize) -> String {
    let mut s = String::from(
        "(model u64 (type (bv 64)))\n(decl test (u64) u64)\n(spec (test x) (provide (= result x)))\n",
    );
    for i in 0..n {
        s += &format!("(rule r{i} (test {i}) {i})\n");
    }
    s
}

/// Rules of one term, one per constant, until the file has `bytes`.
fn one_term_of_size(bytes: usize) -> String {
    let mut s = one_term(0);
    let mut i = 0;
    while s.len() < bytes {
        s += &format!("(rule r{i} (test {i}) {i})\n");
        i += 1;
    }
    s
}

/// Rules of 1,000 terms, round robin, one per constant, until the file
/// has `bytes` (no term near cranelift-isle's limit of distinct values).
fn terms_of_size(bytes: usize) -> String {
    let terms = 1000;
    let mut s = String::from("(model u64 (type (bv 64)))\n");
    for t in 0..terms {
        s += &format!("(decl t{t} (u64) u64)\n(spec (t{t} x) (provide (= result x)))\n");
    }
    let mut i = 0;
    while s.len() < bytes {
        s += &format!("(rule r{i} (t{} {i}) {i})\n", i % terms);
        i += 1;
    }
    s
}

/// `n` x86-64 lowering rules that differ only in an immediate, behind
/// sites every rule constrains alike (the opcode, the type).
fn x64_immediates(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "(rule r{i} 5 (lower (has_type (fits_in_64 ty) (iadd x (iconst (simm32 {k})))))\n      (x64_add_imm (operand_size_of_type_32_64 ty) x {k}))\n",
                k = i + 100
            )
        })
        .collect()
}

/// `n` terms, each with a spec and one rule (about 120 bytes each).
fn many_terms(n: usize) -> String {
    let mut s = String::from("(type Value (primitive Value))\n(model Value (type (bv 32)))\n");
    for i in 0..n {
        s += &format!(
            "(decl f{i} (Value) Value)\n(spec (f{i} x) (provide (= result (bvadd x #x{:08x}))))\n(rule r{i} (f{i} x) (g{} x))\n",
            i % 10,
            i % 10
        );
    }
    for j in 0..10 {
        s += &format!(
            "(decl g{j} (Value) Value)\n(extern constructor g{j} g{j})\n(spec (g{j} x) (provide (= result (bvadd x #x{j:08x}))))\n"
        );
    }
    s
}

/// `n` helper terms proved against the x86-64 instruction specs.
fn many_x64(n: usize) -> String {
    let mut s = String::from(
        "(rule iadd (lower (has_type (fits_in_64 ty) (iadd x y)))\n      (x64_add (operand_size_of_type_32_64 ty) x y))\n",
    );
    for i in 0..n {
        s += &format!(
            "(decl t{i} (Reg Reg) Reg)\n(spec (t{i} a b) (provide (= result (bvadd a b))))\n(rule r{i} (t{i} a b) (x64_add (OperandSize.Size64) a b))\n"
        );
    }
    s
}

/// Bytes from a fixed linear congruential sequence.
fn random_bytes(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 56) as u8
        })
        .collect()
}

fn deep_clif(n: usize) -> Vec<u8> {
    format!(
        "function %f(i8) -> i8 {{\nblock0(v0: i8):\n    v1 = iadd {}v0{}\n    return v1\n}}\n; run: %f(1) == 2\n",
        "(".repeat(n),
        ")".repeat(n)
    )
    .into_bytes()
}

const UEXT: &str = "(decl a64_uext_val (Value) Reg)
(extern constructor a64_uext_val a64_uext_val)
(spec (a64_uext_val v) (provide (= result (zero_ext 64 v))))
(rule iadd_uext (lower (has_type (fits_in_64 ty) (iadd x (uextend y))))
      (a64_add (operand_size ty) x (a64_uext_val y)))
";

fn inputs() -> Vec<Input> {
    let mut v = vec![
        input(
            "rule nested 1,000 deep",
            &["verify", "--arch", "x64", "{}"],
            isle(deep_rule(1000)),
        ),
        input(
            "rule nested 2,000 deep",
            &["verify", "--arch", "x64", "{}"],
            isle(deep_rule(2000)),
        ),
        input(
            "wrong rule nested 250 deep",
            &["verify", "--arch", "x64", "{}"],
            isle(deep_rule(250)),
        ),
        input(
            "macros doubling 20 levels",
            &["verify", "{}"],
            isle(doubling_macros(20)),
        ),
        input(
            "macros doubling 23 levels",
            &["verify", "{}"],
            isle(doubling_macros(23)),
        ),
        input(
            "shipped rules, --jobs 1000",
            &["verify", "--jobs", "1000"],
            None,
        ),
        input(
            "shipped rules, --jobs 100000",
            &["verify", "--jobs", "100000"],
            None,
        ),
        input(
            "20 MB of rules of one term",
            &["verify", "{}"],
            isle(one_term_of_size(20_000_000)),
        ),
        input(
            "20 MB of rules of 1,000 terms, load",
            &["verify", "--rule", "r0", "{}"],
            isle(terms_of_size(20_000_000)),
        ),
    ];
    for n in [2_000, 20_000] {
        let k = format!("{},{:03}", n / 1000, 0);
        let one = one_term(n);
        let mb = |t: &String| format!("{:.1} MB", t.len() as f64 / 1e6);
        v.push(input(
            format!("{k} rules of one term ({}), load", mb(&one)),
            &["verify", "--rule", "r0", "{}"],
            isle(one.clone()),
        ));
        v.push(input(
            format!("{k} rules of one term ({})", mb(&one)),
            &["verify", "{}"],
            isle(one),
        ));
        let many = many_terms(n);
        v.push(input(
            format!("{k} terms with a rule each ({}), load", mb(&many)),
            &["verify", "--rule", "r0", "{}"],
            isle(many.clone()),
        ));
        v.push(input(
            format!("{k} terms with a rule each ({})", mb(&many)),
            &["verify", "{}"],
            isle(many),
        ));
        let imm = x64_immediates(n);
        v.push(input(
            format!(
                "{k} x64 rules differing in an immediate ({}), load",
                mb(&imm)
            ),
            &["verify", "--arch", "x64", "--rule", "r0", "{}"],
            isle(imm),
        ));
        let x64 = many_x64(n);
        v.push(input(
            format!("{k} rules against x64 specs ({})", mb(&x64)),
            &["verify", "--arch", "x64", "{}"],
            isle(x64),
        ));
    }
    v.extend([
        input(
            "random bytes (64 KB)",
            &["verify", "{}"],
            Some(("isle", random_bytes(64 << 10))),
        ),
        input(
            "empty file, --arch x64",
            &["verify", "--arch", "x64", "{}"],
            isle(";; nothing yet\n".into()),
        ),
        input(
            ".clif line nested 100,000 deep",
            &["runtest", "{}"],
            Some(("clif", deep_clif(100_000))),
        ),
        input(
            "runtest loop of 2^32 iterations",
            &["runtest", "runtest/tests/data/steps.clif"],
            None,
        ),
        input(
            "aarch64 iadd_uext",
            &["verify", "--arch", "aarch64", "{}"],
            isle(UEXT.into()),
        ),
        input(
            "rhs (= n 20) against n < 10",
            &[
                "verify",
                "tests/cases/malformed/rhs_equality_contradicts_lhs.isle",
            ],
            None,
        ),
        input(
            "second instantiate",
            &["verify", "tests/cases/malformed/instantiate_twice.isle"],
            None,
        ),
        input(
            "hard query, --timeout 0.3",
            &[
                "verify",
                "--timeout",
                "0.3",
                "cli/tests/data/ci/unknown.isle",
            ],
            None,
        ),
        input(
            "a name of 200 KB",
            &["verify", "{}"],
            isle(format!(
                "(decl f (u8) u8)\n(rule (f x) ({} x))\n",
                "a".repeat(200_000)
            )),
        ),
        input("--timeout -1", &["verify", "--timeout", "-1"], None),
        input("bench --runs 0", &["bench", "--runs", "0"], None),
    ]);
    v
}

/// What one run gave.
struct Measured {
    seconds: f64,
    max_rss_kb: i64,
    outcome: String,
}

// The child is reaped by `wait4`, which also gives its peak memory.
#[allow(clippy::zombie_processes)]
fn run(bin: &Path, root: &Path, args: &[String], cache: &Path) -> Measured {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .current_dir(root)
        // A result cache of its own, empty: every run verifies.
        .env("XDG_CACHE_HOME", cache)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    rlimit::limit_address_space(&mut cmd, MEMORY);
    let start = Instant::now();
    let mut child = cmd.spawn().expect("the loweq binary runs");
    let pid = child.id() as libc::pid_t;
    let drain = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            r.read_to_end(&mut buf).ok();
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("piped")));
    let err = drain(Box::new(child.stderr.take().expect("piped")));
    let mut killed = false;
    let (status, rusage) = loop {
        let mut status = 0;
        // SAFETY: plain wait4 on our own child, with out-pointers to locals.
        let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut rusage) };
        if r == pid {
            break (std::process::ExitStatus::from_raw(status), rusage);
        }
        if !killed && start.elapsed() > TIME {
            let _ = child.kill();
            killed = true;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let seconds = start.elapsed().as_secs_f64();
    let (out, err) = (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    );
    let said = |text: &str| {
        text.lines()
            .map(str::trim)
            .find(|l| {
                l.starts_with("error")
                    || l.starts_with("unknown:")
                    || l.contains("panicked")
                    || l.contains("memory allocation")
                    || l.starts_with("timeout ")
                    || l.starts_with("FAIL")
            })
            .map(str::to_string)
    };
    let summary = out
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .to_string();
    let first = said(&out).or_else(|| said(&err)).unwrap_or(summary);
    let mut first: String = first.chars().take(110).collect();
    first = first.replace('|', "\\|");
    let outcome = if killed {
        format!("killed after {} s", TIME.as_secs())
    } else if let Some(sig) = status.signal() {
        format!("signal {sig}: {first}")
    } else {
        format!("exit {}: {first}", status.code().unwrap_or(-1))
    };
    Measured {
        seconds,
        max_rss_kb: rusage.ru_maxrss,
        outcome,
    }
}

fn main() {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let bin = std::env::var_os("LOWEQ_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_loweq")));
    let only: Vec<String> = std::env::var("LOWEQ_INPUTS")
        .map(|s| s.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("loweq-inputs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    // Arguments like `--bench` that cargo passes are not ours.
    println!("binary: {}", bin.display());
    println!("| input | time | peak memory | outcome |");
    println!("|---|---:|---:|---|");
    for (i, inp) in inputs().into_iter().enumerate() {
        if !only.is_empty() && !only.iter().any(|w| inp.name.contains(w.as_str())) {
            continue;
        }
        let path = inp.file.map(|(ext, bytes)| {
            let p = dir.join(format!("input{i}.{ext}"));
            std::fs::write(&p, bytes).expect("writable scratch");
            p
        });
        let args: Vec<String> = inp
            .args
            .iter()
            .map(|a| match (&path, a.as_str()) {
                (Some(p), "{}") => p.display().to_string(),
                _ => a.clone(),
            })
            .collect();
        let m = run(&bin, &root, &args, &dir.join(format!("cache{i}")));
        println!(
            "| {} | {:.2} s | {} MB | {} |",
            inp.name,
            m.seconds,
            m.max_rss_kb / 1024,
            m.outcome
        );
        if let Some(p) = path {
            let _ = std::fs::remove_file(p);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
