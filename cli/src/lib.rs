//! The loweq command-line tool, as a library: the shipped files, running
//! verification over them or the user's files, running CLIF runtest files
//! against the IR specs, running the instruction specs against the machines
//! (`conform`), the coverage of the IR operations by the rules
//! (`coverage`), the interactive REPL, and the output formats.
//! This is the only crate that knows how results are printed.

pub mod conform;
pub mod coverage;
pub mod flags;
pub mod json;
pub mod progress;
pub mod render;
pub mod repl;
pub mod run;
pub mod runtest;
pub mod shipped;
pub mod text;
pub mod values;
