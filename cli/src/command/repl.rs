//! `loweq repl`: the session's configuration and history file from the
//! flags, then the terminal front end.

use std::process::ExitCode;

use loweq::flags;
use loweq::shipped::Arch;

use super::{fail, jobs};
use crate::ReplArgs;

/// Runs `loweq repl`; its exit status is the one `loweq repl --help` describes.
pub fn execute(args: ReplArgs) -> ExitCode {
    let checked = flags::timeout(args.timeout).and_then(|t| Ok((t, jobs(args.jobs)?)));
    let (timeout, jobs) = match checked {
        Ok(v) => v,
        Err(e) => return fail(&e),
    };
    let arch = match (args.arch, args.files.is_empty()) {
        (Some(a), _) => Some(a),
        (None, true) => Some(Arch::Aarch64),
        (None, false) => None,
    };
    let config = loweq::repl::Config {
        arch,
        timeout,
        jobs,
        interactive: false,
    };
    let history = match args.no_history {
        true => None,
        false => args.history.or_else(loweq::repl::terminal::default_history),
    };
    loweq::repl::terminal::run(config, &args.files, history)
}
