//! `loweq runtest`: reading `.clif` files, running them through the shipped
//! IR specs, and the text report: a line per run command, the failures in
//! full, the skipped ones grouped by reason, and the totals.

use std::fmt::Write as _;
use std::path::PathBuf;

use codespan_reporting::diagnostic::{Diagnostic as Cs, Label};
use loweq_dsl::{clif, Diagnostic};
use loweq_runtest::report::{Actual, Failure};
use loweq_runtest::{skip_reasons, FileReport, Outcome, Runner, Totals};
use loweq_semantics::span::{SourceFile, SourceMap, Span};
use loweq_semantics::value::BitVec;

use crate::render::Files;
use crate::shipped;
use crate::values::with_readings;

/// What happened to one file.
pub enum FileOutcome {
    /// It could not be read.
    Unreadable(PathBuf, String),
    /// It is malformed.
    Rejected(Vec<Diagnostic>),
    /// Its run commands ran.
    Ran(FileReport),
}

/// A whole `loweq runtest` run.
pub struct RuntestRun {
    /// Every file that could be read.
    pub sources: SourceMap,
    /// One outcome per file, in the order given.
    pub files: Vec<FileOutcome>,
}

impl RuntestRun {
    /// The reports of the files that ran.
    pub fn reports(&self) -> impl Iterator<Item = &FileReport> {
        self.files.iter().filter_map(|f| match f {
            FileOutcome::Ran(r) => Some(r),
            _ => None,
        })
    }

    /// 1 if a run command failed, else 2 if a file was unreadable or
    /// malformed or nothing ran (no run command, or all skipped), else 3
    /// if a run command reached the step limit, else 0.
    pub fn exit_code(&self) -> u8 {
        let t = Totals::of(self.reports());
        if t.failed > 0 {
            1
        } else if self.files.iter().any(|f| !matches!(f, FileOutcome::Ran(_)))
            || self.nothing_ran().is_some()
        {
            2
        } else if t.timeouts > 0 {
            3
        } else {
            0
        }
    }

    /// Why the run checked nothing although every file was read and
    /// parsed: no run command at all, or every one skipped. A run that
    /// checks nothing is not a success (as for `loweq verify`).
    pub fn nothing_ran(&self) -> Option<String> {
        if self.files.iter().any(|f| !matches!(f, FileOutcome::Ran(_))) {
            return None;
        }
        let t = Totals::of(self.reports());
        if t.passed + t.failed + t.timeouts > 0 {
            return None;
        }
        Some(match t.skipped {
            0 => "nothing was run: the files have no `; run:` command".to_string(),
            n => format!(
                "nothing was run: {} skipped, for the reasons above",
                if n == 1 {
                    "the one run command was".to_string()
                } else {
                    format!("all {n} run commands were")
                }
            ),
        })
    }
}

/// Loads the shipped IR specs; an error means loweq itself is broken.
pub fn ir_program() -> Result<loweq_dsl::Program, Vec<Diagnostic>> {
    let mut sources = SourceMap::new();
    for f in shipped::ir_specs() {
        sources.add(f);
    }
    loweq_dsl::load(sources)
}

/// Runs the files whose texts are given (name as shown, text or the error
/// reading it) against `program`.
pub fn run_texts(
    program: &loweq_dsl::Program,
    inputs: Vec<(String, Result<String, String>)>,
) -> RuntestRun {
    run_texts_with(program, inputs, loweq_runtest::interp::STEP_LIMIT)
}

/// [`run_texts`], stopping each call after `max_steps` instructions.
pub fn run_texts_with(
    program: &loweq_dsl::Program,
    inputs: Vec<(String, Result<String, String>)>,
    max_steps: usize,
) -> RuntestRun {
    let mut runner = Runner::new(program).with_step_limit(max_steps);
    let mut sources = SourceMap::new();
    let mut files = Vec::new();
    for (name, text) in inputs {
        let text = match text {
            Ok(t) => t,
            Err(e) => {
                files.push(FileOutcome::Unreadable(PathBuf::from(name), e));
                continue;
            }
        };
        let id = sources.add(SourceFile::new(name, text));
        files.push(match clif::parse(&sources, id) {
            Ok(f) => FileOutcome::Ran(runner.run_file(&f)),
            Err(d) => FileOutcome::Rejected(d),
        });
    }
    RuntestRun { sources, files }
}

/// Reads and runs `paths`, stopping each call after `max_steps`
/// instructions.
pub fn run(program: &loweq_dsl::Program, paths: &[PathBuf], max_steps: usize) -> RuntestRun {
    let inputs = paths
        .iter()
        .map(|p| {
            let text = crate::run::read_file(p, "clif");
            (p.display().to_string(), text)
        })
        .collect();
    run_texts_with(program, inputs, max_steps)
}

fn location(sources: &SourceMap, span: Span) -> String {
    let f = sources.file(span.file);
    format!("{}:{}", f.name, f.line_col(span.start).0)
}

fn values(vs: &[BitVec]) -> String {
    match vs {
        [one] => with_readings(one),
        _ => {
            let parts: Vec<String> = vs.iter().map(with_readings).collect();
            format!("[{}]", parts.join(", "))
        }
    }
}

/// `expected 0x03 (3), got 0x02 (2)`.
fn mismatch(sources: &SourceMap, f: &Failure) -> String {
    let want = if f.equal {
        values(&f.expected)
    } else {
        format!("anything but {}", values(&f.expected))
    };
    let got = match &f.actual {
        Actual::Values(v) => values(v),
        Actual::Trapped { opcode, span } => {
            format!("a trap in `{opcode}` at {}", location(sources, *span))
        }
        Actual::Error(e) => format!("an error: {}", e.message),
    };
    format!("expected {want}, got {got}")
}

/// The text report; with `quiet`, only failures, errors and totals.
pub fn report(run: &RuntestRun, quiet: bool) -> String {
    let sources = &run.sources;
    let rendered = Files::new(sources);
    let mut out = String::new();
    let mut details = String::new();
    for file in &run.files {
        match file {
            FileOutcome::Unreadable(path, e) => {
                let _ = writeln!(details, "\nerror: cannot read `{}`: {e}", path.display());
            }
            FileOutcome::Rejected(diags) => {
                for d in diags {
                    details.push('\n');
                    details.push_str(&rendered.error(d));
                }
            }
            FileOutcome::Ran(report) => {
                for r in &report.runs {
                    let at = location(sources, r.span);
                    match &r.outcome {
                        Outcome::Pass if !quiet => {
                            let _ = writeln!(out, "pass {at}: {}", r.text);
                        }
                        Outcome::Skip(reason) if !quiet => {
                            let _ = writeln!(out, "skip {at}: {}: {reason}", r.text);
                        }
                        Outcome::Timeout { limit, .. } => {
                            let _ = writeln!(
                                out,
                                "timeout {at}: {}: stopped after {limit} instructions; a longer run needs a higher --max-steps",
                                r.text
                            );
                        }
                        Outcome::Fail(f) => {
                            let _ =
                                writeln!(out, "FAIL {at}: {}: {}", r.text, mismatch(sources, f));
                            details.push('\n');
                            details.push_str(&failure(&rendered, r, f, sources));
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    out.push_str(&details);
    let reasons = skip_reasons(run.reports());
    if !reasons.is_empty() {
        out.push_str("\nskipped, by reason:\n");
        for (reason, n) in &reasons {
            let _ = writeln!(out, "{n:>6}  {reason}");
        }
    }
    let t = Totals::of(run.reports());
    if t.narrow > 0 {
        let _ = writeln!(
            out,
            "\nrun lines of functions typed i8..i64: {} of {} executed ({:.1}%)",
            t.narrow_executed,
            t.narrow,
            100.0 * t.narrow_executed as f64 / t.narrow as f64
        );
    }
    let bad = run
        .files
        .iter()
        .filter(|f| !matches!(f, FileOutcome::Ran(_)))
        .count();
    if bad > 0 {
        let _ = writeln!(
            out,
            "{bad} file{} could not be run",
            if bad == 1 { "" } else { "s" }
        );
    }
    if let Some(why) = run.nothing_ran() {
        let _ = writeln!(out, "\nerror: {why}");
    }
    let timeouts = if t.timeouts > 0 {
        format!(", {} timed out", t.timeouts)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "{} passed, {} failed, {} skipped{timeouts}",
        t.passed, t.failed, t.skipped
    );
    out
}

/// A failed run command in full: the run line, the trapping instruction
/// if any, the function.
fn failure(
    rendered: &Files,
    r: &loweq_runtest::RunResult,
    f: &Failure,
    sources: &SourceMap,
) -> String {
    let mut labels =
        vec![Label::primary(r.span.file.0, r.span.start..r.span.end)
            .with_message(mismatch(sources, f))];
    match &f.actual {
        Actual::Trapped { span, .. } => {
            labels.push(
                Label::secondary(span.file.0, span.start..span.end)
                    .with_message("this instruction trapped"),
            );
        }
        Actual::Error(e) => {
            if let Some(span) = e.span {
                labels.push(
                    Label::secondary(span.file.0, span.start..span.end)
                        .with_message(e.message.clone()),
                );
            }
        }
        Actual::Values(_) => {}
    }
    let d = Cs::error()
        .with_message(format!("run failed: {}", r.text))
        .with_labels(labels)
        .with_notes(vec![format!(
            "function {} at {}",
            r.function,
            location(sources, r.function_span)
        )]);
    rendered.render_raw(&d)
}
