//! `loweq verify --changed-since REV`: verify only the rules whose meaning
//! may have changed since a git revision, and say why the others were not.
//!
//! A rule's *meaning* is the text of every top-level form its verdict can
//! depend on, layout and comments aside: the rule itself; every form that
//! declares, specifies, models or instantiates a name it mentions (`decl`,
//! `spec`, `extern`, `extractor`, `model`, `type`, `instantiate`, `form`,
//! `macro`, `attr`, and the `convert` forms between its types), and so on
//! through the names those mention, to a fixpoint; the rules of the
//! `(veri chain)` terms it reaches (they are inlined) and of the other
//! terms whose calls must be shown covered by their rules (a helper with a
//! spec and rules, not `partial`: where none of its rules matches, the
//! generated constructor panics), but those of the rule's own root term
//! unless it is chained; the higher-priority
//! rules its verification assumes do not match (`(veri priority)`, as
//! cranelift-isle's overlap analysis pairs them); and every `state`, whose
//! default every condition assumes. Names are matched as text, so the
//! closure can only be too large: a rule is skipped only when the digest
//! of its meaning is the same in the files at REV as now.
//!
//! The files at REV come from git (`git cat-file`), by the path each file
//! has in the repository; a file that is not in REV is new (its rules are
//! verified). A shipped file that the current repository does not have
//! (loweq run from another project) is taken as unchanged. When the files
//! at REV do not load, or a file beside the ones verified was deleted or
//! renamed since REV, every rule is verified, and a note says why.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use cranelift_isle::sema::RuleId;
use loweq_dsl::Program;
use loweq_semantics::span::{SourceFile, SourceMap};
use sha2::{Digest, Sha256};

use crate::repl::sexp::{self, Form, Sexp};

/// A git revision of the repository the run is in.
#[derive(Clone, Debug)]
pub struct Rev {
    /// As given on the command line.
    pub name: String,
    /// The commit it names.
    commit: String,
    /// The repository's top directory.
    top: PathBuf,
}

fn git(dir: &Path, args: &[&str]) -> Result<std::process::Output, String> {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("--changed-since needs git, which cannot be run: {e}"))
}

impl Rev {
    /// The revision `name` of the repository that holds the current
    /// directory; the error says why there is none.
    pub fn open(name: &str) -> Result<Rev, String> {
        let cwd = std::env::current_dir().map_err(|e| format!("no current directory: {e}"))?;
        let top = git(&cwd, &["rev-parse", "--show-toplevel"])?;
        if !top.status.success() {
            return Err(format!(
                "--changed-since needs a git repository, and `{}` is not in one",
                cwd.display()
            ));
        }
        let top = PathBuf::from(String::from_utf8_lossy(&top.stdout).trim());
        let spec = format!("{name}^{{commit}}");
        let commit = git(&top, &["rev-parse", "--verify", "--quiet", &spec])?;
        if !commit.status.success() || name.starts_with('-') {
            return Err(format!(
                "--changed-since `{name}`: git knows no such revision in `{}`",
                top.display()
            ));
        }
        Ok(Rev {
            name: name.to_string(),
            commit: String::from_utf8_lossy(&commit.stdout).trim().to_string(),
            top,
        })
    }

    /// The path of a loaded file in the repository: a user's file by where
    /// it is, a shipped file (`rules/x64/arith.isle`) by its name from the
    /// top, if the repository has it now or had it at REV.
    fn repo_path(&self, name: &str, shipped: bool) -> Option<String> {
        if shipped {
            let in_rev = self.exists(name);
            return (in_rev || self.top.join(name).exists()).then(|| name.to_string());
        }
        let abs = std::fs::canonicalize(name).ok()?;
        let top = std::fs::canonicalize(&self.top).ok()?;
        abs.strip_prefix(top)
            .ok()
            .map(|p| p.to_string_lossy().replace('\\', "/"))
    }

    fn exists(&self, path: &str) -> bool {
        git(
            &self.top,
            &["cat-file", "-e", &format!("{}:{path}", self.commit)],
        )
        .is_ok_and(|o| o.status.success())
    }

    /// A file's text at REV: `None` if it is not in REV. A shipped file
    /// that this repository does not have is taken as it is now.
    fn text(&self, name: &str, now: &str, shipped: bool) -> Result<Option<String>, String> {
        let Some(path) = self.repo_path(name, shipped) else {
            return Ok(if shipped { Some(now.to_string()) } else { None });
        };
        if !self.exists(&path) {
            return Ok(None);
        }
        let o = git(
            &self.top,
            &["cat-file", "blob", &format!("{}:{path}", self.commit)],
        )?;
        if !o.status.success() {
            return Err(format!(
                "cannot read `{path}` at `{}`: {}",
                self.name,
                String::from_utf8_lossy(&o.stderr).trim()
            ));
        }
        Ok(Some(String::from_utf8_lossy(&o.stdout).into_owned()))
    }

    /// Files deleted or renamed since REV in the directories of `paths`.
    fn gone_beside(&self, paths: &[String]) -> Result<Vec<String>, String> {
        let mut dirs: BTreeSet<String> = BTreeSet::new();
        for p in paths {
            let dir = Path::new(p)
                .parent()
                .map_or(String::new(), |d| d.to_string_lossy().into_owned());
            dirs.insert(if dir.is_empty() { ".".into() } else { dir });
        }
        if dirs.is_empty() {
            return Ok(Vec::new());
        }
        let mut args = vec![
            "diff",
            "--name-only",
            "--no-renames",
            "--diff-filter=D",
            &self.commit,
            "--",
        ];
        let dirs: Vec<String> = dirs.into_iter().collect();
        args.extend(dirs.iter().map(String::as_str));
        let o = git(&self.top, &args)?;
        if !o.status.success() {
            return Err(format!(
                "git cannot compare `{}` with the working tree: {}",
                self.name,
                String::from_utf8_lossy(&o.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| l.ends_with(".isle"))
            .map(str::to_string)
            .collect())
    }
}

/// The top-level forms of a program's files, indexed for closures.
struct Forms {
    /// Each form, and its text without layout and comments.
    forms: Vec<(Form, String)>,
    /// For a name: the forms that declare or define something about it.
    defs: HashMap<String, Vec<usize>>,
    /// For a term: the forms of its rules.
    rules_of: HashMap<String, Vec<usize>>,
    /// The `state` forms.
    states: Vec<usize>,
    /// For a rule name: its form.
    rule_form: HashMap<String, usize>,
    /// The terms whose rules a caller's verdict depends on: the chained
    /// terms (their rules are inlined) and the other terms whose calls
    /// must be shown covered by their rules
    /// ([`loweq_verify::expand::needs_coverage`]: a helper with a spec).
    chained: HashSet<String>,
    /// The `(veri chain)` terms alone.
    inlined: HashSet<String>,
    /// For a rule name: the higher-priority rules it may assume do not
    /// match.
    overlapped_by: HashMap<String, Vec<String>>,
}

/// A form's text: atoms and parentheses, nothing else.
fn canonical(s: &Sexp, out: &mut String) {
    match s {
        Sexp::Atom(_, a) => out.push_str(a),
        Sexp::List(_, items) => {
            out.push('(');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                canonical(item, out);
            }
            out.push(')');
        }
    }
}

impl Forms {
    fn of(program: &Program) -> Forms {
        let mut f = Forms {
            forms: Vec::new(),
            defs: HashMap::new(),
            rules_of: HashMap::new(),
            states: Vec::new(),
            rule_form: HashMap::new(),
            chained: HashSet::new(),
            inlined: HashSet::new(),
            overlapped_by: HashMap::new(),
        };
        // Forms per file, to find each rule's by its place.
        let mut by_file: Vec<Vec<usize>> = Vec::new();
        for (_, file) in program.sources.files() {
            let mut here = Vec::new();
            for s in sexp::parse(&file.text).unwrap_or_default() {
                let Some(form) = sexp::describe(&s) else {
                    continue;
                };
                let mut text = String::new();
                canonical(&s, &mut text);
                here.push(f.forms.len());
                f.forms.push((form, text));
            }
            by_file.push(here);
        }
        for (i, (form, _)) in f.forms.iter().enumerate() {
            let mut under: Vec<String> = Vec::new();
            match form.head.as_str() {
                "rule" => {
                    if let Some(root) = &form.subject {
                        f.rules_of.entry(root.clone()).or_default().push(i);
                    }
                    continue;
                }
                "state" => f.states.push(i),
                "convert" => under.extend(form.mentions.iter().cloned()),
                // `(attr TERM ...)` and `(attr rule NAME ...)`: about
                // TERM or NAME only (not the words of the attribute).
                "attr" => {
                    let target = match form.subject.as_deref() {
                        Some("rule") => form
                            .key
                            .as_ref()
                            .and_then(|k| k.name.split_whitespace().nth(1).map(str::to_string)),
                        other => other.map(str::to_string),
                    };
                    if let Some(t) = target {
                        f.defs.entry(t).or_default().push(i);
                    }
                    continue;
                }
                _ => {}
            }
            under.extend(form.key.iter().map(|k| k.name.clone()));
            under.extend(form.subject.iter().cloned());
            under.sort();
            under.dedup();
            for n in under {
                f.defs.entry(n).or_default().push(i);
            }
        }
        for info in &program.rule_info {
            let file = info.span.file.0;
            let at = info.span.start;
            let form = by_file.get(file).and_then(|ids| {
                ids.iter()
                    .copied()
                    .find(|&i| f.forms[i].0.range.contains(&at))
            });
            if let Some(i) = form {
                f.rule_form.insert(info.name.clone(), i);
            }
            let by: Vec<String> = info
                .overlapped_by
                .iter()
                .map(|h| program.rule_info[h.index()].name.clone())
                .collect();
            f.overlapped_by.insert(info.name.clone(), by);
        }
        for (i, t) in program.term_info.iter().enumerate() {
            let id = cranelift_isle::sema::TermId(i);
            if t.chain || loweq_verify::expand::needs_coverage(program, id) {
                f.chained.insert(t.name.clone());
            }
            if t.chain {
                f.inlined.insert(t.name.clone());
            }
        }
        f
    }

    /// The digest of a rule's meaning; `None` if its form is not found.
    fn meaning(&self, rule: &str) -> Option<[u8; 32]> {
        let start = *self.rule_form.get(rule)?;
        // The rule's own root term is not called by it: its other rules
        // matter only through priority (below) unless it is chained.
        let root = self.forms[start].0.subject.clone();
        let mut set: BTreeSet<usize> = BTreeSet::new();
        let mut names: Vec<String> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut rules: Vec<String> = vec![rule.to_string()];
        let add = |i: usize, set: &mut BTreeSet<usize>, names: &mut Vec<String>| {
            if set.insert(i) {
                names.extend(self.forms[i].0.mentions.iter().cloned());
            }
        };
        add(start, &mut set, &mut names);
        for &s in &self.states {
            add(s, &mut set, &mut names);
        }
        loop {
            // Rules brought in bring the rules they assume do not match.
            while let Some(r) = rules.pop() {
                for h in self.overlapped_by.get(&r).into_iter().flatten() {
                    if let Some(&i) = self.rule_form.get(h) {
                        if !set.contains(&i) {
                            rules.push(h.clone());
                        }
                        add(i, &mut set, &mut names);
                    }
                }
            }
            let Some(n) = names.pop() else { break };
            if !seen.insert(n.clone()) {
                continue;
            }
            for &i in self.defs.get(&n).into_iter().flatten() {
                add(i, &mut set, &mut names);
            }
            let own_root = root.as_deref() == Some(n.as_str());
            if self.chained.contains(&n) && (!own_root || self.inlined.contains(&n)) {
                for &i in self.rules_of.get(&n).into_iter().flatten() {
                    if !set.contains(&i) {
                        if let Some(k) = &self.forms[i].0.key {
                            rules.push(k.name.clone());
                        }
                    }
                    add(i, &mut set, &mut names);
                }
            }
        }
        let mut texts: Vec<&str> = set.iter().map(|&i| self.forms[i].1.as_str()).collect();
        texts.sort_unstable();
        let mut h = Sha256::new();
        for t in texts {
            h.update(t.as_bytes());
            h.update([0]);
        }
        Some(h.finalize().into())
    }
}

/// What changed-rules mode decided for one group.
pub struct Decision {
    /// The selected rules to verify.
    pub verify: Vec<RuleId>,
    /// The selected rules not verified, with the reason.
    pub skipped: Vec<(RuleId, String)>,
    /// Why every rule is verified, when that is so for a reason beyond
    /// the rules themselves.
    pub note: Option<String>,
}

/// Decides which of a group's selected rules to verify. `shipped` says
/// which of its files are shipped with loweq (by name).
pub fn decide(
    rev: &Rev,
    program: &Program,
    selected: &[RuleId],
    shipped: &dyn Fn(&str) -> bool,
) -> Result<Decision, String> {
    let all = |note: String| Decision {
        verify: selected.to_vec(),
        skipped: Vec::new(),
        note: Some(note),
    };
    let mut old = SourceMap::new();
    let mut paths = Vec::new();
    for (_, f) in program.sources.files() {
        let was = rev.text(&f.name, &f.text, shipped(&f.name))?;
        if let Some(p) = rev.repo_path(&f.name, shipped(&f.name)) {
            paths.push(p);
        }
        let mut file = SourceFile::new(f.name.clone(), was.unwrap_or_default());
        file.semantics = f.semantics;
        old.add(file);
    }
    let gone = rev.gone_beside(&paths)?;
    if !gone.is_empty() {
        return Ok(all(format!(
            "{} deleted since `{}`: every rule is verified",
            gone.iter()
                .map(|g| format!("`{g}`"))
                .collect::<Vec<_>>()
                .join(", "),
            rev.name
        )));
    }
    let Ok(before) = loweq_dsl::load(old) else {
        return Ok(all(format!(
            "the files at `{}` do not load: every rule is verified",
            rev.name
        )));
    };
    let (now, then) = (Forms::of(program), Forms::of(&before));
    let mut d = Decision {
        verify: Vec::new(),
        skipped: Vec::new(),
        note: None,
    };
    for &r in selected {
        let name = &program.rule(r).name;
        let same = match (now.meaning(name), then.meaning(name)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        };
        if same {
            d.skipped.push((
                r,
                format!(
                    "unchanged since `{}`: nothing it depends on changed",
                    rev.name
                ),
            ));
        } else {
            d.verify.push(r);
        }
    }
    Ok(d)
}
