//! Shared by the integration tests: the shipped specs and rules of an
//! architecture read from the repository, and the machines.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use loweq_conform::{ArchReport, Isa, Options};
use loweq_dsl::Program;
use loweq_machine::{Machine, MachineError};
use loweq_semantics::span::{SourceFile, SourceMap};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate is in the workspace")
        .to_path_buf()
}

fn isle_files(dir: &str) -> Vec<SourceFile> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.retain(|p| p.extension().is_some_and(|e| e == "isle"));
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = format!("{dir}/{}", p.file_name().unwrap().to_string_lossy());
            SourceFile::new(
                name,
                std::fs::read_to_string(&p).expect("a readable spec file"),
            )
        })
        .collect()
}

/// The files of an architecture's program: IR specs, lowering, the
/// instruction specs and the shipped rules; `edit` may change a file's text.
pub fn files(isa: Isa) -> Vec<SourceFile> {
    let mut files = Vec::new();
    for dir in ["semantics/spec/clif", "semantics/spec/lower"] {
        files.extend(isle_files(dir));
    }
    files.extend(isle_files(&format!("semantics/spec/{}", isa.name())));
    files.extend(isle_files(&format!("rules/{}", isa.name())));
    files
}

/// Loads files into a program, panicking with the diagnostics.
pub fn load(files: Vec<SourceFile>) -> Program {
    let mut sources = SourceMap::new();
    for f in files {
        sources.add(f);
    }
    match loweq_dsl::load(sources) {
        Ok(p) => p,
        Err(diags) => panic!(
            "the specs do not load:\n{}",
            diags
                .iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

/// The shipped program of an architecture.
pub fn program(isa: Isa) -> Program {
    load(files(isa))
}

/// The machine of an architecture, or `None` with a clear message when it
/// is not installed here; on CI (`CI=true`) a missing machine fails.
pub fn machine_or_skip(isa: Isa) -> Option<()> {
    match isa.machine() {
        Ok(_) => Some(()),
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true and the {} machine is missing: {e}", isa.name());
            }
            eprintln!(
                "SKIPPED: {} conformance: {e} (on CI this is a failure)",
                isa.name()
            );
            None
        }
    }
}

fn make(isa: Isa) -> impl Fn() -> Result<Box<dyn Machine>, MachineError> + Sync {
    move || isa.machine()
}

/// Runs the conformance of `program` against the shipped table.
pub fn run(program: &Program, isa: Isa, options: &Options) -> ArchReport {
    let (file, text) = loweq_conform::map::shipped(isa.name()).expect("a shipped table");
    loweq_conform::run(program, isa, file, text, options, &make(isa))
        .unwrap_or_else(|e| panic!("conformance of {} did not run: {e}", isa.name()))
}

/// A report's failures, one line each.
pub fn failures(report: &ArchReport) -> Vec<String> {
    let coverage = report.coverage.to_string();
    let coverage = coverage.lines().map(String::from);
    report
        .results
        .iter()
        .filter(|r| !r.ok())
        .map(|r| {
            format!(
                "{} {}: {}/{} agree; {}{}",
                r.term,
                r.variant,
                r.agreed,
                r.vectors,
                r.error.clone().unwrap_or_default(),
                r.first
                    .as_ref()
                    .map(|d| format!(
                        "{} with {:?}: spec {:?}, machine {:?}",
                        d.listing, d.inputs, d.spec, d.machine
                    ))
                    .unwrap_or_default()
            )
        })
        .chain(coverage)
        .collect()
}
