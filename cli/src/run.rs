//! Running verification for the CLI: which files make up each program, and
//! the results of every group (one per architecture, or the user's files).

use std::path::{Path, PathBuf};
use std::time::Instant;

use cranelift_isle::sema::RuleId;
use loweq_dsl::{Diagnostic, Program};
use loweq_semantics::span::{SourceFile, SourceMap};
use loweq_verify::{Excluded, Options, Phase, Progress, Report, SmtSink, Verdict};

use crate::changed::{self, Rev};
use crate::shard::{assign, Plan, Shard, Unit};
use crate::shipped::{self, Arch};

/// What to verify.
#[derive(Clone, Debug)]
pub enum Target {
    /// The shipped rules of these architectures.
    Shipped(Vec<Arch>),
    /// The user's rule files, against an architecture's shipped semantics.
    ArchFiles(Arch, Vec<PathBuf>),
    /// The user's files alone: they declare their own types, terms and specs.
    Files(Vec<PathBuf>),
}

/// One program: the files loaded together and verified together.
pub struct Group {
    /// The architecture, unless the files are self-contained.
    pub arch: Option<Arch>,
    /// The loaded files.
    pub sources: SourceMap,
    /// The outcome.
    pub outcome: GroupOutcome,
}

/// What happened to a group.
pub enum GroupOutcome {
    /// Loaded and verified.
    Verified(Box<Program>, Report),
    /// Did not load: parse, type or spec errors.
    Rejected(Vec<Diagnostic>),
}

/// A whole run.
pub struct Run {
    /// The groups, in order.
    pub groups: Vec<Group>,
    /// Problems of the run as a whole (it checked nothing), beside those of
    /// its groups.
    pub problems: Vec<Diagnostic>,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// For one shard of a run (`--shard I/N`): the plan all shards share.
    pub shard: Option<crate::shard::Plan>,
    /// Per group, the rules not checked in this run (`--changed-since`),
    /// with the reason.
    pub skipped: Vec<Vec<Excluded>>,
    /// What a person should know about how the run chose its rules.
    pub notes: Vec<String>,
}

/// How a run chooses its rules beyond the options of the verifier.
#[derive(Clone, Debug, Default)]
pub struct How {
    /// This shard's share only.
    pub shard: Option<Shard>,
    /// Only the rules whose meaning may have changed since this revision.
    pub changed_since: Option<Rev>,
}

/// The process exit code of a run: 1 if any rule is wrong, else 2 if any
/// input was bad, else 3 if anything is unknown, else 0.
pub fn exit_code(run: &Run) -> i32 {
    let mut cex = false;
    let mut bad = !run.problems.is_empty();
    let mut unknown = false;
    for g in &run.groups {
        match &g.outcome {
            GroupOutcome::Rejected(_) => bad = true,
            GroupOutcome::Verified(_, report) => {
                cex |= report.count(Verdict::Counterexample) > 0;
                bad |= report.count(Verdict::Error) > 0;
                unknown |= report.count(Verdict::Unknown) > 0;
            }
        }
    }
    if cex {
        1
    } else if bad {
        2
    } else if unknown {
        3
    } else {
        0
    }
}

/// Reads a text file; the error says why not (for text that is not UTF-8,
/// where the first bad byte is), to follow "cannot read `FILE`: ".
pub fn read_text(path: &Path) -> Result<String, String> {
    read_file(path, "isle")
}

/// [`read_text`] of a file whose name ends in `.EXT` (the files a
/// directory given in its place should be named by).
pub fn read_file(path: &Path, ext: &str) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::IsADirectory => {
            format!(
                "it is a directory; name the files in it, as in `{}/*.{ext}`",
                path.display().to_string().trim_end_matches('/')
            )
        }
        _ => io_reason(&e),
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let before = String::from_utf8_lossy(&bytes[..at]);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!(
            "not UTF-8 text: the byte 0x{:02x} at offset {at} (line {line}, column {column}) is not valid UTF-8",
            bytes[at]
        )
    })
}

/// Why an operation on a file failed, in words, without the operating
/// system's error number (`No such file or directory (os error 2)` is
/// `no such file or directory`).
pub fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => return "no such file or directory".into(),
        K::PermissionDenied => return "permission denied".into(),
        K::IsADirectory => return "it is a directory".into(),
        K::NotADirectory => return "a part of the path is not a directory".into(),
        K::ReadOnlyFilesystem => return "the file system is read-only".into(),
        K::StorageFull => return "no space left on the device".into(),
        _ => {}
    }
    let text = e.to_string();
    let text = match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

fn read_files(paths: &[PathBuf]) -> Result<Vec<SourceFile>, Diagnostic> {
    paths
        .iter()
        .map(|p| {
            read_text(p)
                .map(|text| SourceFile::user(p.display().to_string(), text))
                .map_err(|e| Diagnostic::global(format!("cannot read `{}`: {e}", p.display())))
        })
        .collect()
}

/// Whether ISLE text has a `(rule ...)` form (outside comments).
fn has_rule(text: &str) -> bool {
    let code: String = text
        .lines()
        .map(|l| l.split(';').next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    code.split('(').skip(1).any(|after| {
        after.trim_start().strip_prefix("rule").is_some_and(|rest| {
            rest.is_empty() || rest.starts_with(|c: char| c.is_whitespace() || c == '(' || c == ')')
        })
    })
}

/// The source files of each group of a target.
pub fn groups(target: &Target) -> Result<Vec<(Option<Arch>, SourceMap)>, Diagnostic> {
    let map = |files: Vec<SourceFile>| {
        let mut m = SourceMap::new();
        for f in files {
            m.add(f);
        }
        m
    };
    Ok(match target {
        Target::Shipped(archs) => archs
            .iter()
            .map(|&a| {
                let mut files = shipped::specs(a);
                files.extend(shipped::rules(a));
                (Some(a), map(files))
            })
            .collect(),
        Target::ArchFiles(a, paths) => {
            let mut files = shipped::specs(*a);
            let user = read_files(paths)?;
            if !user.iter().any(|f| has_rule(&f.text)) {
                let names: Vec<String> = user.iter().map(|f| format!("`{}`", f.name)).collect();
                return Err(Diagnostic::global(format!(
                    "no rules to verify: {} {} no `(rule ...)`",
                    names.join(", "),
                    if names.len() == 1 { "has" } else { "have" }
                ))
                .with_note(format!(
                    "with --arch, the files given replace the shipped {} rules; to verify those, leave the files out: `loweq verify --arch {}`",
                    a.name(),
                    a.name()
                )));
            }
            files.extend(user);
            vec![(Some(*a), map(files))]
        }
        Target::Files(paths) => vec![(None, map(read_files(paths)?))],
    })
}

/// Writes each query to `dir/<arch>-<rule>-<instantiation>.smt2`.
fn smt_writer(dir: &Path, arch: Option<Arch>) -> SmtSink {
    let dir = dir.to_path_buf();
    let arch = arch.map_or("files", |a| a.name());
    std::sync::Arc::new(move |rule: &str, label: &str, text: &str| {
        let safe = |s: &str| {
            s.replace(
                |c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '.',
                "_",
            )
        };
        let path = dir.join(format!("{arch}-{}-{}.smt2", safe(rule), safe(label)));
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("warning: cannot write {}: {e}", path.display());
        }
    })
}

/// With --arch and files that have rules but none for `lower`, ISLE
/// complains about the shipped declaration of `lower`: say why.
fn explain_missing_rules(target: &Target, mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    if let Target::ArchFiles(a, _) = target {
        for d in &mut diags {
            if d.message
                .contains("no rules, extractor, or external definition for declaration 'lower'")
            {
                d.notes.push(format!(
                    "none of the files given has a rule for `lower`; with --arch they replace the shipped {} rules",
                    a.name()
                ));
            }
        }
    }
    diags
}

/// A group's files and what loading them gave.
type Loaded = (Option<Arch>, SourceMap, Result<Program, Vec<Diagnostic>>);

/// Loads and verifies every group of a target. With `--rule` names, each
/// group verifies the named rules it has; a name no group has is an error.
pub fn verify(
    target: &Target,
    options: &Options,
    smt_dir: Option<&Path>,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Run, Diagnostic> {
    verify_with(target, options, smt_dir, progress, &How::default())
}

/// The options of each loaded group: `--rule` names kept to those the
/// group has (`None`: the group has none of those named, and checks
/// nothing).
fn group_options(options: &Options, program: &Program) -> Option<Options> {
    let mut opts = options.clone();
    opts.rules
        .retain(|n| program.rule_info.iter().any(|r| &r.name == n));
    if !options.rules.is_empty() && opts.rules.is_empty() {
        return None;
    }
    Some(opts)
}

/// The plan of a sharded run over the loaded groups (of each, only the
/// rules in `only`, when given), and each group's share (rule ids of this
/// shard).
fn plan(
    loaded: &[Loaded],
    options: &Options,
    shard: Shard,
    only: &[Option<Vec<RuleId>>],
) -> Result<(Plan, Vec<Vec<RuleId>>), Diagnostic> {
    let mut units = Vec::new();
    let mut ids = Vec::new();
    for (g, (arch, _, program)) in loaded.iter().enumerate() {
        let Ok(program) = program else { continue };
        let Some(opts) = group_options(options, program) else {
            continue;
        };
        for (rule, cost) in loweq_verify::estimate(program, &opts)? {
            if only[g].as_ref().is_some_and(|o| !o.contains(&rule)) {
                continue;
            }
            units.push(Unit {
                arch: arch.map(|a| a.name().to_string()),
                rule: program.rule(rule).name.clone(),
                shard: 0,
                cost,
            });
            ids.push((g, rule));
        }
    }
    let costs: Vec<u64> = units.iter().map(|u| u.cost).collect();
    let mut mine = vec![Vec::new(); loaded.len()];
    for ((u, owner), (g, rule)) in units.iter_mut().zip(assign(&costs, shard.count)).zip(ids) {
        u.shard = owner + 1;
        if u.shard == shard.index {
            mine[g].push(rule);
        }
    }
    let plan = Plan {
        index: shard.index,
        count: shard.count,
        rules: units,
    };
    Ok((plan, mine))
}

/// Which of a group's selected rules changed since `rev`: the rules to
/// verify, and those skipped with the reason.
fn changed_rules(
    rev: &Rev,
    program: &Program,
    options: &Options,
    notes: &mut Vec<String>,
) -> Result<(Vec<RuleId>, Vec<Excluded>), Diagnostic> {
    let selected = loweq_verify::selected(program, options)?;
    let decision = changed::decide(rev, program, &selected, &shipped::is_shipped)
        .map_err(Diagnostic::global)?;
    notes.extend(decision.note);
    let skipped = decision
        .skipped
        .into_iter()
        .map(|(r, reason)| {
            let info = program.rule(r);
            Excluded {
                name: info.name.clone(),
                span: info.span,
                reason,
            }
        })
        .collect();
    Ok((decision.verify, skipped))
}

/// [`verify`], with the choices of rules `how` makes: only those changed
/// since a revision, and of those only a shard's share.
pub fn verify_with(
    target: &Target,
    options: &Options,
    smt_dir: Option<&Path>,
    progress: &(dyn Fn(Progress) + Sync),
    how: &How,
) -> Result<Run, Diagnostic> {
    let start = Instant::now();
    let groups = groups(target)?;
    let files: usize = groups.iter().map(|(_, s)| s.len()).sum();
    let mut loaded_files = 0;
    let mut loaded: Vec<Loaded> = Vec::new();
    for (arch, sources) in groups {
        progress(Progress {
            phase: Phase::Loading,
            done: loaded_files,
            total: files,
        });
        let done = loaded_files;
        loaded_files += sources.len();
        let program = loweq_dsl::load_with(sources.clone(), &|stage| {
            progress(Progress {
                phase: Phase::LoadingStage(stage),
                done,
                total: files,
            })
        });
        let program = program.map_err(|ds| explain_missing_rules(target, ds));
        loaded.push((arch, sources, program));
    }
    progress(Progress {
        phase: Phase::Loading,
        done: files,
        total: files,
    });
    let has_rule = |p: &Program, n: &String| p.rule_info.iter().any(|r| &r.name == n);
    let all_loaded = loaded.iter().all(|(_, _, p)| p.is_ok());
    for name in &options.rules {
        let found = loaded
            .iter()
            .any(|(_, _, p)| p.as_ref().is_ok_and(|p| has_rule(p, name)));
        if !found && all_loaded {
            let mut d = Diagnostic::global(format!("no rule named `{name}`"));
            let names: Vec<&str> = loaded
                .iter()
                .filter_map(|(_, _, p)| p.as_ref().ok())
                .flat_map(|p| p.rule_info.iter().map(|r| r.name.as_str()))
                .collect();
            if let Some(h) = loweq_dsl::diag::did_you_mean(name, names) {
                d = d.with_note(h);
            }
            return Err(d);
        }
    }
    let mut notes = Vec::new();
    let mut changed: Vec<Option<Vec<RuleId>>> = vec![None; loaded.len()];
    let mut skipped: Vec<Vec<Excluded>> = vec![Vec::new(); loaded.len()];
    if let Some(rev) = &how.changed_since {
        for (g, (_, _, program)) in loaded.iter().enumerate() {
            let Ok(program) = program else { continue };
            let Some(opts) = group_options(options, program) else {
                continue;
            };
            let (verify, skip) = changed_rules(rev, program, &opts, &mut notes)?;
            changed[g] = Some(verify);
            skipped[g] = skip;
        }
    }
    let (plan, mut shares) = match how.shard {
        Some(s) => {
            let (plan, shares) = self::plan(&loaded, options, s, &changed)?;
            (Some(plan), shares.into_iter().map(Some).collect())
        }
        None => (None, changed),
    };
    let mut out = Vec::new();
    for ((arch, sources, program), share) in loaded.into_iter().zip(shares.iter_mut()) {
        let outcome = match program {
            Err(diags) => GroupOutcome::Rejected(diags),
            Ok(program) => {
                let report = match group_options(options, &program) {
                    None => Report::default(),
                    Some(mut opts) => {
                        if let Some(dir) = smt_dir {
                            opts.smt = Some(smt_writer(dir, arch));
                        }
                        opts.subset = share.take();
                        loweq_verify::verify(&program, &opts, progress)?
                    }
                };
                GroupOutcome::Verified(Box::new(program), report)
            }
        };
        out.push(Group {
            arch,
            sources,
            outcome,
        });
    }
    // A shard may have no share of a run that has work, and nothing may
    // have changed: neither is a run that checked nothing.
    let accounted = skipped.iter().any(|s| !s.is_empty());
    let problems = match &plan {
        Some(p) if !p.rules.is_empty() => Vec::new(),
        _ if accounted => Vec::new(),
        _ => nothing_checked(&out, options).into_iter().collect(),
    };
    Ok(Run {
        groups: out,
        problems,
        seconds: start.elapsed().as_secs_f64(),
        shard: plan,
        skipped,
        notes,
    })
}

/// A run that checked no (rule, instantiation) must not look like success:
/// the reason why, unless some input was rejected (which says why already).
fn nothing_checked(groups: &[Group], options: &Options) -> Option<Diagnostic> {
    let mut rules = 0;
    for g in groups {
        match &g.outcome {
            GroupOutcome::Rejected(_) => return None,
            GroupOutcome::Verified(program, report) => {
                if report.instances().next().is_some() {
                    return None;
                }
                rules += program.terms.rules.len();
            }
        }
    }
    let why = "a run that checks nothing fails, so that an empty or mistaken input is never taken for success";
    let d = if rules == 0 {
        Diagnostic::global("nothing to verify: the input has no rules")
    } else if !options.rules.is_empty() {
        Diagnostic::global(
            "nothing was verified: every rule named with `--rule` is left out of verification",
        )
        .with_note("the report lists the rules left out, with the reason")
    } else {
        Diagnostic::global("nothing was verified: every rule is left out of verification")
            .with_note("the report lists the rules left out, with the reason; a rule is verified when its root term has a spec")
    };
    Some(d.with_note(why))
}
