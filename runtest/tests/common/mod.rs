//! Shared by the integration tests: the IR specs, loaded from the
//! repository, and running `.clif` files through them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use loweq_dsl::{clif, Diagnostic, Program};
use loweq_runtest::{FileReport, Runner};
use loweq_semantics::span::{SourceFile, SourceMap};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate is in the workspace")
        .to_path_buf()
}

/// The IR specs (`semantics/spec/clif/*.isle`), loaded.
pub fn program() -> Program {
    loweq_reference::ir_program()
}

/// The `.clif` files of a directory, sorted.
pub fn clif_files(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.retain(|p| p.extension().is_some_and(|e| e == "clif"));
    paths.sort();
    paths
}

/// Parses and runs one file; the source map holds it as file 0.
pub fn run(
    runner: &mut Runner<'_>,
    path: &Path,
) -> (SourceMap, Result<FileReport, Vec<Diagnostic>>) {
    let text = std::fs::read_to_string(path).expect("a readable .clif file");
    let mut sources = SourceMap::new();
    let id = sources.add(SourceFile::new(path.display().to_string(), text));
    let report = clif::parse(&sources, id).map(|f| runner.run_file(&f));
    (sources, report)
}
