//! `loweq merge`: the JSON reports of a run's shards read and combined into
//! the report of the whole run.

use std::process::ExitCode;

use loweq::doc::Doc;
use loweq::{format, run, shard};

use super::{emit, fail};
use crate::MergeArgs;

/// Runs `loweq merge`; its exit status is the one `loweq merge --help` describes.
pub fn execute(args: MergeArgs) -> ExitCode {
    if let Err(e) = format::check_outputs(&args.outputs) {
        return fail(&e);
    }
    let mut reports = Vec::new();
    for path in &args.reports {
        let name = path.display().to_string();
        let text = match run::read_file(path, "json") {
            Ok(t) => t,
            Err(e) => return fail(&format!("cannot read `{name}`: {e}")),
        };
        match serde_json::from_str::<Doc>(&text) {
            Ok(d) => reports.push((name, d)),
            Err(e) => {
                return fail(&format!(
                    "`{name}` is not a JSON report of `loweq verify`: {e}"
                ))
            }
        }
    }
    let doc = match shard::merge(reports) {
        Ok(d) => d,
        Err(e) => return fail(&e),
    };
    emit(&args.format.render(&doc));
    if let Err(e) = format::write_outputs(&doc, &args.outputs) {
        return fail(&e);
    }
    ExitCode::from(doc.exit_code() as u8)
}
