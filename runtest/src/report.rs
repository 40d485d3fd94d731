//! What running the run commands of a file gave: one result per command,
//! and the totals over many files.

use loweq_semantics::span::{FileId, Span};
use loweq_semantics::value::BitVec;

use crate::interp::RunError;

/// The result of one run command.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// The `; run:` comment.
    pub span: Span,
    /// The command as written (`%f(1) == 2`).
    pub text: String,
    /// The function it calls.
    pub function: String,
    /// The function's `function ... {` line.
    pub function_span: Span,
    /// Whether the function's parameters and results are all `i8` to `i64`.
    pub typed_i8_to_i64: bool,
    /// Pass, fail or skip.
    pub outcome: Outcome,
}

/// Pass, fail, skip or timeout.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// The results were as expected.
    Pass,
    /// They were not.
    Fail(Failure),
    /// The function is outside what can be run; the reason.
    Skip(String),
    /// The call executed more instructions than the step limit allows (a
    /// long loop, or an endless one); not a failure of the specs.
    Timeout {
        /// The limit.
        limit: usize,
        /// Where the call was stopped.
        span: Span,
    },
}

/// A failed run command.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The values in the command.
    pub expected: Vec<BitVec>,
    /// Whether the command said `==` (else `!=`).
    pub equal: bool,
    /// What happened instead.
    pub actual: Actual,
}

/// What a failed run produced.
#[derive(Clone, Debug)]
pub enum Actual {
    /// Values that do not meet the expectation.
    Values(Vec<BitVec>),
    /// A trap.
    Trapped {
        /// The trapping instruction, as written.
        opcode: String,
        /// Where it is.
        span: Span,
    },
    /// The run could not be completed (a spec gave no result, say).
    Error(RunError),
}

/// The results of one file.
#[derive(Clone, Debug)]
pub struct FileReport {
    /// The file.
    pub file: FileId,
    /// One per run command, in order.
    pub runs: Vec<RunResult>,
}

/// Counts over many files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Run commands that passed.
    pub passed: usize,
    /// That failed.
    pub failed: usize,
    /// That were skipped.
    pub skipped: usize,
    /// That reached the step limit.
    pub timeouts: usize,
    /// Run commands of functions typed `i8` to `i64`.
    pub narrow: usize,
    /// Of those, the ones executed (passed or failed).
    pub narrow_executed: usize,
}

impl Totals {
    /// Counts the runs of `reports`.
    pub fn of<'a>(reports: impl IntoIterator<Item = &'a FileReport>) -> Totals {
        let mut t = Totals::default();
        for r in reports.into_iter().flat_map(|f| &f.runs) {
            let executed = match r.outcome {
                Outcome::Pass => {
                    t.passed += 1;
                    true
                }
                Outcome::Fail(_) => {
                    t.failed += 1;
                    true
                }
                Outcome::Skip(_) => {
                    t.skipped += 1;
                    false
                }
                Outcome::Timeout { .. } => {
                    t.timeouts += 1;
                    true
                }
            };
            if r.typed_i8_to_i64 {
                t.narrow += 1;
                t.narrow_executed += usize::from(executed);
            }
        }
        t
    }
}

/// The reasons runs were skipped, with how many each, most frequent first.
pub fn skip_reasons<'a>(reports: impl IntoIterator<Item = &'a FileReport>) -> Vec<(String, usize)> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for r in reports.into_iter().flat_map(|f| &f.runs) {
        if let Outcome::Skip(reason) = &r.outcome {
            match counts.iter_mut().find(|(s, _)| s == reason) {
                Some((_, n)) => *n += 1,
                None => counts.push((reason.clone(), 1)),
            }
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
}
