//! Generates one `#[test]` per `.isle` file under `cases/`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "isle") {
            println!("cargo:rerun-if-changed={}", p.display());
            out.push(p);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let mut files = Vec::new();
    collect(&root.join("cases"), &mut files);
    files.sort();
    let mut code = String::new();
    for f in files {
        let rel = f
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let name: String = rel
            .trim_start_matches("cases/")
            .trim_end_matches(".isle")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        writeln!(
            code,
            "#[test]\nfn {name}() {{\n    let report = loweq_tests::run_case({rel:?});\n    insta::with_settings!({{snapshot_path => concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/snapshots\"), prepend_module_to_snapshot => false, description => {rel:?}}}, {{\n        insta::assert_snapshot!({name:?}, report);\n    }});\n}}\n"
        )
        .unwrap();
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("cases.rs");
    std::fs::write(out, code).unwrap();
}
