//! The result cache's files (`loweq verify`, on by default): one file per
//! kept outcome in `$XDG_CACHE_HOME/loweq` (else `~/.cache/loweq`), or the
//! directory of `--cache-dir`.
//!
//! A file is named by the SHA-256 of the query's key
//! ([`loweq_verify::cache`]) and of loweq's build fingerprint (a digest
//! of the verifier's source, made by `build.rs`), so a loweq built from
//! other code never reads it. Its first line is `loweq-cache 1` and the
//! SHA-256 of the rest, a JSON object that repeats the name's hash; a file
//! that is truncated, corrupted, from another version or not ours fails
//! one of these checks, is ignored (its query is solved again) and
//! rewritten. Files are written to a temporary file in the same directory
//! and renamed into place, so runs that share the directory never read
//! half a file.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use loweq_semantics::value::BitVec;
use loweq_verify::cache::{Kept, Key, Leaf, Store};
use loweq_verify::Verdict;
use num_bigint::BigUint;
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

use crate::run::io_reason;

/// The first word of every cache file, and the format's version.
const MAGIC: &str = "loweq-cache 1";

/// The digest of the verifier's code this binary was built from.
pub const FINGERPRINT: &str = env!("LOWEQ_FINGERPRINT");

/// The default cache directory: `$XDG_CACHE_HOME/loweq`, else
/// `$HOME/.cache/loweq`.
pub fn default_dir() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty());
    match xdg {
        Some(d) => Some(PathBuf::from(d).join("loweq")),
        None => std::env::var_os("HOME")
            .filter(|v| !v.is_empty())
            .map(|h| PathBuf::from(h).join(".cache").join("loweq")),
    }
}

/// A cache directory.
#[derive(Debug)]
pub struct DirStore {
    dir: PathBuf,
    /// Files found and not trusted.
    rejected: AtomicUsize,
    /// Files that could not be written.
    unwritten: AtomicUsize,
}

impl DirStore {
    /// Opens (creating it if needed) a cache directory, and checks that
    /// files can be written there; the error says why not.
    pub fn open(dir: &Path) -> Result<DirStore, String> {
        let entries = dir.join("v1");
        std::fs::create_dir_all(&entries)
            .map_err(|e| format!("cannot create `{}`: {}", entries.display(), io_reason(&e)))?;
        let probe = entries.join(format!(".probe.{}", std::process::id()));
        std::fs::write(&probe, b"")
            .map_err(|e| format!("cannot write in `{}`: {}", entries.display(), io_reason(&e)))?;
        let _ = std::fs::remove_file(&probe);
        Ok(DirStore {
            dir: entries,
            rejected: AtomicUsize::new(0),
            unwritten: AtomicUsize::new(0),
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        self.dir.parent().unwrap_or(&self.dir)
    }

    /// How many files were found but not trusted.
    pub fn rejected(&self) -> usize {
        self.rejected.load(Ordering::Relaxed)
    }

    /// How many outcomes could not be written.
    pub fn unwritten(&self) -> usize {
        self.unwritten.load(Ordering::Relaxed)
    }

    /// The name of a key's file: the hash of the key and the fingerprint.
    fn name(key: &Key) -> String {
        let mut h = Sha256::new();
        h.update(key.0);
        h.update(FINGERPRINT.as_bytes());
        hex(&h.finalize())
    }

    /// The path of a key's file.
    pub fn path(&self, key: &Key) -> PathBuf {
        let name = Self::name(key);
        self.dir.join(&name[..2]).join(name)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A kept outcome as the JSON of a cache file.
fn to_json(name: &str, k: &Kept) -> Json {
    let model: Vec<Json> = k
        .model
        .iter()
        .map(|l| match l {
            Leaf::Bool(b) => json!(["b", b]),
            Leaf::Int(i) => json!(["i", i]),
            Leaf::Bv(v) => json!(["v", v.width(), v.unsigned().to_str_radix(16)]),
        })
        .collect();
    json!({
        "name": name,
        "verdict": k.verdict.name(),
        "queries": k.queries,
        "millis": k.millis,
        "reason": k.reason,
        "shadowed_by": k.shadowed_by,
        "model": model,
    })
}

/// Reads a cache file's JSON back; `None` for anything unexpected.
fn from_json(name: &str, v: &Json) -> Option<Kept> {
    if v.get("name")?.as_str()? != name {
        return None;
    }
    let verdict = match v.get("verdict")?.as_str()? {
        "verified" => Verdict::Verified,
        "counterexample" => Verdict::Counterexample,
        "inapplicable" => Verdict::Inapplicable,
        "shadowed" => Verdict::Shadowed,
        "error" => Verdict::Error,
        _ => return None,
    };
    let reason = match v.get("reason")? {
        Json::Null => None,
        r => Some(r.as_str()?.to_string()),
    };
    let shadowed_by = v
        .get("shadowed_by")?
        .as_array()?
        .iter()
        .map(|n| n.as_str().map(str::to_string))
        .collect::<Option<Vec<_>>>()?;
    let model = v
        .get("model")?
        .as_array()?
        .iter()
        .map(|l| {
            let l = l.as_array()?;
            Some(match (l.first()?.as_str()?, l.len()) {
                ("b", 2) => Leaf::Bool(l[1].as_bool()?),
                ("i", 2) => {
                    let i = l[1].as_str()?;
                    let digits = i.strip_prefix('-').unwrap_or(i);
                    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                        return None;
                    }
                    Leaf::Int(i.to_string())
                }
                ("v", 3) => {
                    let width = u32::try_from(l[1].as_u64()?).ok().filter(|w| *w > 0)?;
                    let value = BigUint::parse_bytes(l[2].as_str()?.as_bytes(), 16)?;
                    if value.bits() > u64::from(width) {
                        return None;
                    }
                    Leaf::Bv(BitVec::new(width, value))
                }
                _ => return None,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    if (verdict == Verdict::Counterexample) == model.is_empty() {
        return None;
    }
    Some(Kept {
        verdict,
        queries: u32::try_from(v.get("queries")?.as_u64()?).ok()?,
        millis: v.get("millis")?.as_u64()?,
        reason,
        shadowed_by,
        model,
    })
}

/// Parses a cache file: the header, its checksum, the JSON.
fn parse(name: &str, text: &str) -> Option<Kept> {
    let (head, body) = text.split_once('\n')?;
    let sum = head.strip_prefix(MAGIC)?.strip_prefix(' ')?;
    if hex(&Sha256::digest(body.as_bytes())) != sum {
        return None;
    }
    from_json(name, &serde_json::from_str(body).ok()?)
}

impl Store for DirStore {
    fn get(&self, key: &Key) -> Option<Kept> {
        let path = self.path(key);
        let bytes = std::fs::read(&path).ok()?;
        let kept = std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| parse(&Self::name(key), text));
        if kept.is_none() {
            self.rejected.fetch_add(1, Ordering::Relaxed);
        }
        kept
    }

    fn put(&self, key: &Key, kept: &Kept) {
        let name = Self::name(key);
        let body = to_json(&name, kept).to_string();
        let text = format!("{MAGIC} {}\n{body}", hex(&Sha256::digest(body.as_bytes())));
        let path = self.path(key);
        let written = path
            .parent()
            .ok_or_else(|| std::io::Error::other("no directory"))
            .and_then(std::fs::create_dir_all)
            .and_then(|_| write_atomically(&path, &text));
        if written.is_err() {
            self.unwritten.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Writes to a temporary file beside `path` (named by process and thread,
/// so concurrent writers never share one), then renames it into place.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let tmp = path.with_extension(format!(
        "tmp.{}.{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept() -> Kept {
        Kept {
            verdict: Verdict::Counterexample,
            queries: 7,
            millis: 12,
            reason: None,
            shadowed_by: vec![],
            model: vec![
                Leaf::Bool(true),
                Leaf::Int("-3".into()),
                Leaf::Bv(BitVec::new(8, BigUint::from(0x80u32))),
            ],
        }
    }

    #[test]
    fn files_read_back_and_damaged_ones_are_refused() {
        let dir = std::env::temp_dir().join(format!("loweq-cache-unit-{}", std::process::id()));
        let store = DirStore::open(&dir).expect("a cache directory");
        let key = Key([7; 32]);
        assert_eq!(store.get(&key), None);
        store.put(&key, &kept());
        assert_eq!(store.get(&key), Some(kept()));
        let path = store.path(&key);
        let text = std::fs::read_to_string(&path).expect("written");
        // Truncated, one digit changed, another key's file, not ours.
        let changed = text.replacen("\"queries\":7", "\"queries\":8", 1);
        let other_key = Key([8; 32]);
        store.put(&other_key, &kept());
        let other = std::fs::read_to_string(store.path(&other_key)).expect("written");
        for bad in [&text[..text.len() / 2], &changed, &other, "{}", ""] {
            std::fs::write(&path, bad).expect("written");
            assert_eq!(store.get(&key), None, "{bad}");
        }
        assert_eq!(store.rejected(), 5);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
