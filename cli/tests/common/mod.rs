//! Running the `loweq` binary under resource limits, for the tests that
//! feed it hostile input: an address-space limit (setrlimit), so that a
//! regression ends in an allocation failure instead of taking the machine
//! down, and a wall-clock limit after which the process is killed.

#![allow(dead_code)]

mod rlimit;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The address space a run may use: the bound of 2 GB.
pub const MEMORY: u64 = 2 << 30;
/// How long a run may take before it is killed (debug builds included).
pub const TIME: Duration = Duration::from_secs(60);

/// The workspace root, where the tests run the binary.
pub fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// A scratch directory of this test binary.
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// What a limited run gave.
pub struct Limited {
    /// Exit status and output.
    pub output: Output,
    /// Wall-clock time.
    pub elapsed: Duration,
}

impl Limited {
    /// Standard output.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    /// Standard error.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// The exit code (`None` when killed by a signal).
    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }
}

/// Runs `loweq ARGS` in the workspace root with at most [`MEMORY`] of
/// address space; panics if it runs longer than [`TIME`].
pub fn loweq_limited(args: &[&str]) -> Limited {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_loweq"));
    cmd.args(args)
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    rlimit::limit_address_space(&mut cmd, MEMORY);
    let start = Instant::now();
    let mut child = cmd.spawn().expect("the loweq binary runs");
    // Drain the pipes while waiting, so a chatty child cannot block.
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut buf).ok();
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut buf).ok();
        buf
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > TIME {
            let _ = child.kill();
            let _ = child.wait();
            panic!("loweq {args:?} ran longer than {TIME:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    Limited {
        output: Output {
            status,
            stdout: reader.join().expect("stdout reader"),
            stderr: err_reader.join().expect("stderr reader"),
        },
        elapsed,
    }
}

/// A report with its timings taken out, so that runs compare: `"millis": N`, `"seconds": N` and ` in N.NN s`.
pub fn redact(s: &str) -> String {
    s.lines()
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with("\"millis\":") || t.starts_with("\"seconds\":") {
                return String::from("(time)");
            }
            match l.rfind(" errors in ") {
                Some(at) => format!("{} errors in (time)", &l[..at]),
                None => l.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `git ARGS` in `dir` with a fixed author; panics with git's stderr if it fails.
pub fn git(dir: &std::path::Path, args: &[&str]) {
    let o = std::process::Command::new("git")
        .args(["-c", "user.name=loweq", "-c", "user.email=loweq@invalid"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}
