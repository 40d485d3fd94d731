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

/// Every file under `dir` (recursively), sorted.
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// A digest of the code that decides verdicts (the sources and manifests
/// of the semantics, front end and verifier crates, and the lock file):
/// the result cache keeps outcomes per fingerprint, so a loweq built from
/// other code never trusts them.
fn fingerprint(root: &Path) -> String {
    use sha2::{Digest, Sha256};
    let mut files = Vec::new();
    for krate in ["semantics", "dsl", "verify"] {
        let src = root.join(krate).join("src");
        println!("cargo:rerun-if-changed={}", src.display());
        files_under(&src, &mut files);
        files.push(root.join(krate).join("Cargo.toml"));
    }
    files.push(root.join("Cargo.lock"));
    files.sort();
    let mut h = Sha256::new();
    h.update(std::env::var("CARGO_PKG_VERSION").unwrap_or_default());
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f.strip_prefix(root).unwrap_or(f);
        h.update(rel.to_string_lossy().as_bytes());
        h.update([0]);
        h.update(std::fs::read(f).unwrap_or_default());
        h.update([0]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.parent().unwrap();
    println!("cargo:rustc-env=LOWEQ_FINGERPRINT={}", fingerprint(root));
    let specs = isle_files(root, "semantics/spec");
    let rules = isle_files(root, "rules");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("shipped.rs");
    std::fs::write(
        out,
        table("SPEC_FILES", &specs) + &table("RULE_FILES", &rules),
    )
    .unwrap();
}
