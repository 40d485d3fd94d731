//! The result cache as `loweq verify` uses it: its directory opened (or a
//! warning and no cache), and what it did, on stderr.

use std::path::Path;
use std::sync::Arc;

use loweq::cache::{self, DirStore};
use loweq::run;

/// The cache directory to use, if it can be: a warning says why not.
pub fn open_cache(dir: Option<&Path>) -> Option<Arc<DirStore>> {
    let Some(dir) = dir.map(Path::to_path_buf).or_else(cache::default_dir) else {
        eprintln!("warning: no cache directory ($XDG_CACHE_HOME and $HOME are unset); verifying without the result cache (--cache-dir DIR names one)");
        return None;
    };
    match DirStore::open(&dir) {
        Ok(s) => Some(Arc::new(s)),
        Err(e) => {
            eprintln!(
                "warning: cannot use the cache directory: {e}; verifying without the result cache"
            );
            None
        }
    }
}

/// What the cache did, on stderr: answers taken from it, files refused.
pub fn cache_notes(store: &DirStore, run: &run::Run) {
    let mut hits = 0;
    let mut all = 0;
    for g in &run.groups {
        if let run::GroupOutcome::Verified(_, r) = &g.outcome {
            hits += r.from_cache;
            all += r.checked;
        }
    }
    if hits > 0 {
        eprintln!(
            "note: {hits} of {all} checks answered from the cache in `{}`",
            store.dir().display()
        );
    }
    if store.rejected() > 0 {
        eprintln!(
            "warning: {} cache files were damaged or not loweq's: ignored, and written again",
            store.rejected()
        );
    }
    if store.unwritten() > 0 {
        eprintln!(
            "warning: {} results could not be written to the cache in `{}`",
            store.unwritten(),
            store.dir().display()
        );
    }
}
