//! Embeds the shipped spec files (`semantics/spec/<group>/*.isle`) and rules
//! (`rules/<arch>/*.isle`) so that the binary works from any directory.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn isle_files(root: &Path, dir: &str) -> Vec<(String, String, PathBuf)> {
    let mut out = Vec::new();
    let Ok(groups) = std::fs::read_dir(root.join(dir)) else {
        return out;
    };
    for group in groups.flatten() {
        let group_path = group.path();
        if !group_path.is_dir() {
            continue;
        }
        println!("cargo:rerun-if-changed={}", group_path.display());
        let group_name = group.file_name().to_string_lossy().into_owned();
        for f in std::fs::read_dir(&group_path)
            .into_iter()
            .flatten()
            .flatten()
        {
            let p = f.path();
            if p.extension().is_some_and(|e| e == "isle") {
                let name = format!("{dir}/{group_name}/{}", f.file_name().to_string_lossy());
                out.push((group_name.clone(), name, p));
            }
        }
    }
    out.sort();
    out
}

fn table(name: &str, files: &[(String, String, PathBuf)]) -> String {
    let mut s = format!("/// `(group, path, text)` of every embedded file.\npub const {name}: &[(&str, &str, &str)] = &[\n");
    for (group, path, abs) in files {
        println!("cargo:rerun-if-changed={}", abs.display());
        writeln!(
            s,
            "    ({group:?}, {path:?}, include_str!({:?})),",
            abs.display().to_string()
        )
        .unwrap();
    }
    s.push_str("];\n");
    s
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.parent().unwrap();
    let specs = isle_files(root, "semantics/spec");
    let rules = isle_files(root, "rules");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("shipped.rs");
    std::fs::write(
        out,
        table("SPEC_FILES", &specs) + &table("RULE_FILES", &rules),
    )
    .unwrap();
}
