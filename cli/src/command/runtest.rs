//! `loweq runtest`: CLIF runtest files run against the IR specs.

use std::process::ExitCode;

use super::{emit, fail};
use crate::RuntestArgs;

/// Runs `loweq runtest`; its exit status is the one `loweq runtest --help` describes.
pub fn execute(args: RuntestArgs) -> ExitCode {
    let program = match loweq::runtest::ir_program() {
        Ok(p) => p,
        Err(diags) => {
            let msgs: Vec<String> = diags.into_iter().map(|d| d.message).collect();
            return fail(&format!(
                "the shipped IR specs do not load (a bug in loweq):\n  {}",
                msgs.join("\n  ")
            ));
        }
    };
    if args.max_steps == 0 {
        return fail("--max-steps must be at least 1");
    }
    let run = loweq::runtest::run(&program, &args.files, args.max_steps);
    emit(&loweq::runtest::report(&run, args.quiet));
    ExitCode::from(run.exit_code())
}
