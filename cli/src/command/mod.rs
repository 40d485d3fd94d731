//! The bodies of `loweq`'s commands, one module per command (the result
//! cache's directory and notes in `cache`), and what they share: the
//! target a command's files and `--arch` name, the report on standard
//! output, errors and the worker count.

use std::path::PathBuf;
use std::process::ExitCode;

use loweq::run::Target;
use loweq::shipped::Arch;
use loweq::{flags, progress};
use loweq_verify::Options;

use crate::When;

pub mod bench;
mod cache;
pub mod conform;
pub mod coverage;
pub mod merge;
pub mod repl;
pub mod runtest;
pub mod verify;

/// What a command checks: the shipped rules, or FILEs with or without an
/// architecture's shipped semantics.
pub fn target(files: Vec<PathBuf>, arch: Option<Arch>) -> Target {
    match (files.is_empty(), arch) {
        (true, Some(a)) => Target::Shipped(vec![a]),
        (true, None) => Target::Shipped(Arch::ALL.to_vec()),
        (false, Some(a)) => Target::ArchFiles(a, files),
        (false, None) => Target::Files(files),
    }
}

/// Writes to stdout; a reader that went away (`loweq verify | head`) is not
/// an error.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!(
                "error: cannot write the report: {}",
                loweq::run::io_reason(&e)
            );
        }
    }
}

/// Prints `message` as an error; exit status 2.
pub fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// The worker count to use, after printing any warning about it.
pub fn jobs(requested: Option<usize>) -> Result<Option<usize>, String> {
    let (jobs, warning) = flags::jobs(requested)?;
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
    Ok(jobs)
}

/// The solver options every verifying command takes (`--timeout`,
/// `--max-expansions`, `--jobs`), checked; the rest at their defaults.
pub fn solver_options(
    timeout: f64,
    max_expansions: usize,
    requested_jobs: Option<usize>,
) -> Result<Options, String> {
    Ok(Options {
        timeout: flags::timeout(timeout)?,
        max_expansions: flags::max_expansions(max_expansions)?,
        jobs: jobs(requested_jobs)?,
        ..Options::default()
    })
}

/// The progress display `--progress` asks for, on standard error.
pub fn progress_bar(when: When) -> progress::Reporter {
    use std::io::IsTerminal;
    let show = match when {
        When::Always => true,
        When::Never => false,
        When::Auto => std::io::stderr().is_terminal(),
    };
    progress::Reporter::new(show, std::io::stderr().is_terminal())
}
