//! The loweq command-line tool, as a library: the shipped files, running
//! verification over them or the user's files, running CLIF runtest files
//! against the IR specs, running the instruction specs against the machines
//! (`conform`), the coverage of the IR operations by the rules
//! (`coverage`), the interactive REPL, and the output formats.
//! This is the only crate that knows how results are printed.

pub mod cache;
pub mod changed;
pub mod conform;
pub mod coverage;
pub mod doc;
pub mod flags;
pub mod format;
pub mod github;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod progress;
pub mod render;
pub mod repl;
pub mod run;
pub mod runtest;
pub mod sarif;
pub mod shard;
pub mod shipped;
pub mod text;
pub mod values;
