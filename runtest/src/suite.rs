//! Running the run commands of a checked `.clif` file: each one calls its
//! function through the interpreter and compares the results with the
//! expected values.

use loweq_dsl::clif::literal::int_bits;
use loweq_dsl::clif::{ClifFile, Expect, Run, Type};
use loweq_dsl::Program;
use loweq_semantics::value::BitVec;

use crate::apply::Specs;
use crate::interp::{self, Ended, RunError};
use crate::report::{Actual, Failure, FileReport, Outcome, RunResult};

/// Runs run commands against the IR specs of a program, caching the
/// instantiated specs across files.
pub struct Runner<'p> {
    specs: Specs<'p>,
    step_limit: usize,
}

impl<'p> Runner<'p> {
    /// A runner for the IR specs in `program`.
    pub fn new(program: &'p Program) -> Runner<'p> {
        Runner {
            specs: Specs::new(program),
            step_limit: interp::STEP_LIMIT,
        }
    }

    /// Stops each call after `limit` instructions (the default is
    /// [`interp::STEP_LIMIT`]).
    pub fn with_step_limit(mut self, limit: usize) -> Runner<'p> {
        self.step_limit = limit;
        self
    }

    /// The specs, for applying one operation directly.
    pub fn specs(&mut self) -> &mut Specs<'p> {
        &mut self.specs
    }

    /// Runs every run command of `file`.
    pub fn run_file(&mut self, file: &ClifFile) -> FileReport {
        let mut ready: Vec<Option<Result<(), String>>> = vec![None; file.functions.len()];
        let mut runs = Vec::new();
        for run in &file.runs {
            let Some(f) = file.functions.get(run.function) else {
                continue;
            };
            let outcome = match &f.body {
                Err(u) => Outcome::Skip(format!("unsupported: {u}")),
                Ok(body) => {
                    let prepared = ready[run.function]
                        .get_or_insert_with(|| interp::prepare(&mut self.specs, body));
                    match prepared {
                        Err(reason) => Outcome::Skip(format!("no spec applies: {reason}")),
                        Ok(()) => self.execute(file, run),
                    }
                }
            };
            runs.push(RunResult {
                span: run.span,
                text: run.text.clone(),
                function: f.name.clone(),
                function_span: f.span,
                typed_i8_to_i64: f.is_typed_i8_to_i64(),
                outcome,
            });
        }
        FileReport {
            file: file.file,
            runs,
        }
    }

    fn execute(&mut self, file: &ClifFile, run: &Run) -> Outcome {
        let f = &file.functions[run.function];
        let fail = |expected: Vec<BitVec>, actual: Actual| {
            Outcome::Fail(Failure {
                expected,
                equal: matches!(run.expect, Expect::Equal(_)),
                actual,
            })
        };
        let convert = |lits: &[loweq_dsl::clif::syntax::Spanned], types: &[Type]| {
            if lits.len() != types.len() {
                return Err(RunError {
                    message: format!("{} values for {} types", lits.len(), types.len()),
                    span: Some(run.span),
                });
            }
            lits.iter()
                .zip(types)
                .map(|(l, t)| {
                    let w = t.int_width().unwrap_or(0);
                    int_bits(&l.text, w).map_err(|_| RunError {
                        message: format!("`{}` is not an i{w}", l.text),
                        span: Some(l.span),
                    })
                })
                .collect::<Result<Vec<BitVec>, RunError>>()
        };
        let expected = match convert(run.expect.values(), &f.returns) {
            Ok(e) => e,
            Err(e) => return fail(Vec::new(), Actual::Error(e)),
        };
        let args = match convert(&run.args, &f.params) {
            Ok(a) => a,
            Err(e) => return fail(expected, Actual::Error(e)),
        };
        match interp::call(&mut self.specs, f, &args, self.step_limit) {
            Ok(Ended::Returned(values)) => {
                let equal = values == expected;
                let want = matches!(run.expect, Expect::Equal(_));
                if equal == want {
                    Outcome::Pass
                } else {
                    fail(expected, Actual::Values(values))
                }
            }
            Ok(Ended::Trapped { opcode, span }) => fail(expected, Actual::Trapped { opcode, span }),
            Ok(Ended::StepLimit { limit, span }) => Outcome::Timeout { limit, span },
            Err(e) => fail(expected, Actual::Error(e)),
        }
    }
}
