//! `loweq conform`: the instruction specs checked against the machines,
//! listed, reported or timed.

use std::process::ExitCode;

use loweq::shipped::Arch;

use super::{emit, fail};
use crate::{ConformArgs, TextOrJson};

/// Runs `loweq conform`; its exit status is the one `loweq conform --help` describes.
pub fn execute(args: ConformArgs) -> ExitCode {
    use loweq::conform;
    let arches = match args.arch {
        Some(a) => vec![a],
        None => Arch::ALL.to_vec(),
    };
    if args.list {
        return match conform::list(&arches) {
            Ok(s) => {
                emit(&s);
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        };
    }
    if args.vectors == 0 {
        return fail("--vectors must be at least 1");
    }
    let options = loweq_conform::Options {
        vectors: args.vectors,
        seed: args.seed,
        insts: args.insts,
    };
    let run = match conform::run(&arches, &options) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    if args.bench {
        emit(&conform::bench(&run));
    } else {
        match args.format {
            TextOrJson::Text => emit(&conform::text(&run)),
            TextOrJson::Json => match serde_json::to_string_pretty(&conform::json(&run)) {
                Ok(s) => emit(&(s + "\n")),
                Err(e) => return fail(&format!("cannot write JSON: {e}")),
            },
        }
    }
    ExitCode::from(run.exit_code())
}
