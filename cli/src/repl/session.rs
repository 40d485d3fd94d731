//! A REPL session without a terminal: what is loaded, entries that add or
//! replace declarations and rules, verification of what they affect, and
//! the text of every reply. The terminal front end only reads lines and
//! prints replies, so all of this works, and is tested, without a terminal
//! (`cli/tests/repl.rs` pipes entries in; the benchmark calls
//! [`Session::submit`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use loweq_dsl::{Diagnostic, Program};
use loweq_semantics::span::SourceMap;
use loweq_verify::{Cancel, Options, Report, Verdict};

use super::sexp;
use super::units::{self, Origin, Unit};
use crate::render::Files;
use crate::run::{Group, GroupOutcome};
use crate::shipped::{self, Arch};
use crate::text;

/// How a session runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// The architecture whose shipped semantics are loaded; `None`: the
    /// user's files are self-contained.
    pub arch: Option<Arch>,
    /// Per-query solver timeout.
    pub timeout: Duration,
    /// Worker threads (`None`: all cores).
    pub jobs: Option<usize>,
    /// Replies for a person at a terminal: with timings.
    pub interactive: bool,
}

/// What the session has seen, for the exit status of a scripted session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// A verified rule had a counterexample.
    pub counterexample: bool,
    /// An entry or command failed, or a rule's verdict was an error.
    pub error: bool,
    /// A verdict was unknown (timeout, cancelled).
    pub unknown: bool,
}

impl Status {
    /// As `loweq verify`: 1 on a counterexample, else 2 on an error, else 3
    /// on an unknown, else 0.
    pub fn exit_code(self) -> u8 {
        if self.counterexample {
            1
        } else if self.error {
            2
        } else if self.unknown {
            3
        } else {
            0
        }
    }
}

/// The answer to one input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    /// What to print (ends with a newline unless empty).
    pub text: String,
    /// The session should end (`:quit`).
    pub quit: bool,
}

impl Reply {
    /// A reply of `text`, ending in exactly one newline (none if empty).
    pub(super) fn text(text: impl Into<String>) -> Reply {
        let mut text = text.into().trim_end().to_string();
        if !text.is_empty() {
            text.push('\n');
        }
        Reply { text, quit: false }
    }
}

/// The forms that may start an entry: ISLE's definitions.
const DEFINITIONS: &[&str] = &[
    "type",
    "decl",
    "rule",
    "extractor",
    "extern",
    "pragma",
    "spec",
    "model",
    "form",
    "instantiate",
    "macro",
    "state",
    "attr",
    "convert",
];

/// A REPL session.
pub struct Session {
    pub(super) config: Config,
    /// The units loaded, in order; their forms' liveness.
    pub(super) units: Vec<Unit>,
    pub(super) live: Vec<Vec<bool>>,
    /// Entries numbered so far.
    entries: usize,
    /// The loaded program, with the report of its last verification.
    pub(super) current: Group,
    /// The last verification, when it was of an earlier program.
    pub(super) last: Option<Group>,
    /// The last verdicts of every rule verified, by name.
    pub(super) verdicts: std::collections::HashMap<String, String>,
    pub(super) cancel: Cancel,
    pub(super) status: Status,
}

/// The program of a group the session made (always loaded).
pub(super) fn program_of(g: &Group) -> Option<(&Program, &Report)> {
    match &g.outcome {
        GroupOutcome::Verified(p, r) => Some((p, r)),
        GroupOutcome::Rejected(_) => None,
    }
}

/// The shipped spec files of an architecture, as units.
fn shipped_units(arch: Option<Arch>) -> Vec<Unit> {
    arch.map(shipped::specs)
        .unwrap_or_default()
        .into_iter()
        .map(|f| Unit::new(f.name.clone(), Origin::Shipped, f.text.clone()))
        .collect()
}

/// Ends `out` with one empty line, to set off what follows.
fn blank_line(out: &mut String) {
    let kept = out.trim_end_matches('\n').len();
    out.truncate(kept);
    out.push_str("\n\n");
}

/// Renders diagnostics against the sources they are about.
pub(super) fn render(sources: &SourceMap, diags: &[Diagnostic]) -> String {
    let files = Files::new(sources);
    diags.iter().map(|d| files.error(d)).collect()
}

impl Session {
    /// Starts a session: the shipped semantics of `config.arch`, then each
    /// file in turn (a file that does not load is reported and left out).
    /// Fails only when the shipped semantics do not load.
    pub fn start(config: Config, files: &[PathBuf]) -> Result<(Session, Reply), String> {
        let units = shipped_units(config.arch);
        let assembly = units::assemble(&units);
        let program = loweq_dsl::load(assembly.sources.clone()).map_err(|d| {
            format!(
                "the shipped semantics do not load (a bug in loweq):\n{}",
                render(&assembly.sources, &d)
            )
        })?;
        let current = Group {
            arch: config.arch,
            sources: assembly.sources,
            outcome: GroupOutcome::Verified(Box::new(program), Report::default()),
        };
        let mut session = Session {
            config,
            units,
            live: assembly.live,
            entries: 0,
            current,
            last: None,
            verdicts: Default::default(),
            cancel: Cancel::new(),
            status: Status::default(),
        };
        let mut text = String::new();
        for f in files {
            text.push_str(&session.load_file(f).text);
        }
        Ok((session, Reply::text(text)))
    }

    /// The token that cancels the running verification (for Ctrl-C).
    pub fn cancel_token(&self) -> Cancel {
        self.cancel.clone()
    }

    /// What the session has seen so far.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The loaded program.
    pub fn program(&self) -> &Program {
        program_of(&self.current)
            .map(|(p, _)| p)
            .expect("a session's program is always loaded")
    }

    /// Handles one complete input: a `:` command or an entry of ISLE
    /// declarations and rules.
    pub fn submit(&mut self, input: &str) -> Reply {
        if let Some((entry, command)) = abandoned(input) {
            let opened = sexp::parse(entry)
                .err()
                .map(|e| {
                    let before = &entry[..e.offset.min(entry.len())];
                    let line = before.matches('\n').count() + 1;
                    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                    format!(" (the `(` at line {line}, column {column} is not closed)")
                })
                .unwrap_or_default();
            let mut reply = self.error(format!(
                "error: the entry before `{}` was not finished{opened}; it was dropped",
                command.split_whitespace().next().unwrap_or(command)
            ));
            let then = self.command(&command[1..]);
            if !then.text.is_empty() {
                reply.text.push_str(&then.text);
            }
            reply.quit = then.quit;
            return reply;
        }
        let trimmed = input.trim();
        if let Some(cmd) = trimmed.strip_prefix(':') {
            return self.command(cmd);
        }
        if sexp::parse(trimmed).is_ok_and(|s| s.is_empty()) {
            return Reply::default();
        }
        self.entry(input)
    }

    /// An error reply; the session remembers it for its exit status.
    /// (The reply ends in a newline, so that another can follow it.)
    pub(super) fn error(&mut self, text: impl Into<String>) -> Reply {
        self.status.error = true;
        Reply::text(text)
    }

    fn entry(&mut self, input: &str) -> Reply {
        self.entries += 1;
        let n = self.entries;
        let unit = Unit::new(format!("<entry {n}>"), Origin::Entry(n), input);
        if let Ok(items) = sexp::parse(input) {
            for item in &items {
                let head = item.head();
                if head.is_some_and(|h| DEFINITIONS.contains(&h)) {
                    continue;
                }
                let mut sources = SourceMap::new();
                sources.add(loweq_semantics::span::SourceFile::new(
                    unit.name.clone(),
                    input,
                ));
                let r = item.range();
                let span = loweq_semantics::span::Span::new(
                    loweq_semantics::span::FileId(0),
                    r.start,
                    r.end,
                );
                let what = head.map_or("this".into(), |h| format!("`{h}`"));
                let d = Diagnostic::new(
                    format!("{what} does not start a declaration or a rule"),
                    span,
                )
                .with_label("expected (rule ...), (decl ...), (spec ...), (type ...), ...")
                .with_note(
                    "to evaluate an expression, use `:eval EXPR`; `:help` lists the commands",
                );
                return self.error(render(&sources, &[d]));
            }
        }
        let mut units = self.units.clone();
        units.push(unit);
        let focus = units.len() - 1;
        match self.change(units, Some(focus)) {
            Ok(text) => Reply::text(text),
            Err(text) => self.error(text),
        }
    }

    /// Reads a file and adds it to the session, or re-reads it in place
    /// when it is already loaded.
    pub(super) fn load_file(&mut self, path: &Path) -> Reply {
        let text = match crate::run::read_text(path) {
            Ok(t) => t,
            Err(e) => return self.error(format!("error: cannot read `{}`: {e}", path.display())),
        };
        let unit = Unit::new(
            path.display().to_string(),
            Origin::File(path.to_path_buf()),
            text,
        );
        let mut units = self.units.clone();
        let at = units
            .iter()
            .position(|u| u.origin == Origin::File(path.to_path_buf()));
        let focus = match at {
            Some(i) => {
                units[i] = unit;
                i
            }
            None => {
                units.push(unit);
                units.len() - 1
            }
        };
        match self.change(units, Some(focus)) {
            Ok(text) => Reply::text(format!("loaded {}\n{text}", path.display())),
            Err(text) => self.error(text),
        }
    }

    /// Loads `units` in place of the session's; on success, verifies the
    /// rules the change may affect (and every rule of unit `focus`), and
    /// says what `focus` replaced. On failure the session is unchanged and
    /// the error is the rendered diagnostics.
    pub(super) fn change(
        &mut self,
        units: Vec<Unit>,
        focus: Option<usize>,
    ) -> Result<String, String> {
        let assembly = units::assemble(&units);
        let program = match loweq_dsl::load(assembly.sources.clone()) {
            Ok(p) => p,
            Err(diags) => return Err(render(&assembly.sources, &diags)),
        };
        let chained = |name: &str| {
            program
                .term_by_name(name)
                .is_some_and(|t| program.term(t).chain)
        };
        let mut places = units::affected(
            Some((&self.units, &self.live)),
            &units,
            &assembly.live,
            &chained,
        );
        let mut out = String::new();
        if let Some(fu) = focus {
            for (f, form) in units[fu].forms.iter().enumerate() {
                if form.is_rule() && assembly.live[fu][f] && !places.contains(&(fu, f)) {
                    places.push((fu, f));
                }
            }
            for &((ou, of), (nu, _)) in &assembly.replaced {
                if nu != fu || ou == fu {
                    continue;
                }
                let old = &units[ou];
                let form = &old.forms[of];
                let key = form
                    .key
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                let (line, _) = assembly
                    .sources
                    .file(loweq_semantics::span::FileId(ou))
                    .line_col(form.range.start);
                let _ = writeln!(out, "replaced {key} ({}:{line})", old.name);
            }
        }
        let mut names = units::rule_names(&program, &units, &places);
        // A rule's verdict also depends on the higher-priority rules its
        // verification assumes do not match (`overlapped_by`), which it
        // need not mention: verify again every rule that such a rule
        // changed under, or whose set of them changed (a `(veri priority)`
        // added, a rule replaced by one that no longer overlaps).
        let overlaps = |p: &Program| -> std::collections::HashMap<String, Vec<String>> {
            p.rule_info
                .iter()
                .map(|r| {
                    let mut by: Vec<String> = r
                        .overlapped_by
                        .iter()
                        .map(|h| p.rule_info[h.index()].name.clone())
                        .collect();
                    by.sort();
                    (r.name.clone(), by)
                })
                .collect()
        };
        let now = overlaps(&program);
        let before = program_of(&self.current).map(|(p, _)| overlaps(p));
        let mut more: Vec<String> = now
            .iter()
            .filter(|(rule, by)| {
                !names.contains(rule)
                    && (by.iter().any(|h| names.contains(h))
                        || before.as_ref().and_then(|b| b.get(*rule)) != Some(*by))
            })
            .map(|(rule, _)| rule.clone())
            .collect();
        more.sort();
        names.extend(more);
        self.units = units;
        self.live = assembly.live;
        out.push_str(&self.verify(program, assembly.sources, names));
        Ok(out)
    }

    /// Verifies the named rules of `program`, makes it the session's
    /// program, and returns the verdicts: a line per rule, the first
    /// counterexample of each rule in full, errors and unknowns.
    fn verify(&mut self, program: Program, sources: SourceMap, names: Vec<String>) -> String {
        let start = Instant::now();
        let mut report = Report::default();
        let mut out = String::new();
        if !names.is_empty() {
            self.cancel.reset();
            let options = Options {
                timeout: self.config.timeout,
                jobs: self.config.jobs,
                rules: names,
                cancel: self.cancel.clone(),
                ..Options::default()
            };
            match loweq_verify::verify(&program, &options, &|_| {}) {
                Ok(r) => report = r,
                Err(d) => {
                    self.status.error = true;
                    out.push_str(&render(&sources, &[d]));
                }
            }
        }
        let verified = !report.rules.is_empty() || !report.excluded.is_empty();
        let group = Group {
            arch: self.config.arch,
            sources,
            outcome: GroupOutcome::Verified(Box::new(program), report),
        };
        let old = std::mem::replace(&mut self.current, group);
        if verified {
            self.last = None;
        } else if self.last.is_none() && program_of(&old).is_some_and(|(_, r)| !r.rules.is_empty())
        {
            self.last = Some(old);
        }
        if verified {
            out.push_str(&self.summarize(start.elapsed()));
        }
        out
    }

    /// The reply to a verification: what `loweq verify` prints, with only
    /// the first counterexample of each rule (`:why` shows them all).
    fn summarize(&mut self, took: Duration) -> String {
        let g = &self.current;
        let Some((program, report)) = program_of(g) else {
            return String::new();
        };
        let mut out = String::new();
        text::rule_lines(&mut out, g, report);
        let mut shown = report.clone();
        let mut hidden = 0;
        for r in &mut shown.rules {
            let mut first = true;
            for i in &mut r.instances {
                if i.counterexample.is_some() {
                    if !first {
                        i.counterexample = None;
                        hidden += 1;
                    }
                    first = false;
                }
            }
        }
        text::details(&mut out, g, program, &shown, &Files::new(&g.sources));
        if hidden > 0 {
            blank_line(&mut out);
            let _ = writeln!(
                out,
                "({hidden} more counterexample{}: `:why` shows them all)",
                if hidden == 1 { "" } else { "s" }
            );
        }
        if self.cancel.is_cancelled() {
            blank_line(&mut out);
            out.push_str("interrupted: the proofs still running were cancelled\n");
        }
        if self.config.interactive {
            let _ = writeln!(out, "({:.2} s)", took.as_secs_f64());
        }
        for r in &report.rules {
            self.verdicts.insert(r.name.clone(), text::verdicts(r));
        }
        for e in &report.excluded {
            self.verdicts
                .insert(e.name.clone(), format!("excluded: {}", e.reason));
        }
        self.status.counterexample |= report.count(Verdict::Counterexample) > 0;
        self.status.error |= report.count(Verdict::Error) > 0;
        self.status.unknown |= report.count(Verdict::Unknown) > 0;
        out
    }

    /// The group of the last verification.
    pub(super) fn last_verification(&self) -> &Group {
        self.last.as_ref().unwrap_or(&self.current)
    }

    /// Loads the session's units plus one more, without changing the
    /// session (for `:eval` of spec expressions).
    pub(super) fn load_with(&self, extra: Unit) -> Result<Program, String> {
        let mut units = self.units.clone();
        units.push(extra);
        let assembly = units::assemble(&units);
        loweq_dsl::load(assembly.sources.clone()).map_err(|d| render(&assembly.sources, &d))
    }

    /// The spec macros defined, by name.
    pub fn macros(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .units
            .iter()
            .zip(&self.live)
            .flat_map(|(u, live)| {
                u.forms
                    .iter()
                    .zip(live)
                    .filter(|(f, l)| **l && f.head == "macro")
                    .filter_map(|(f, _)| f.key.as_ref().map(|k| k.name.clone()))
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// Whether `line` is a `:` command of the REPL (`:help`, `:quit`, ...),
/// not text of an entry: a field (`:reg0`) is never a command's name.
pub fn is_command(line: &str) -> bool {
    line.trim_start()
        .strip_prefix(':')
        .and_then(|c| c.split_whitespace().next())
        .is_some_and(|name| super::commands::COMMANDS.iter().any(|c| c.0 == name))
}

/// An input whose last line is a command typed while an entry was still
/// open (`(rule (foo` then `:help`): the unfinished entry and the command.
/// Without this the command, and everything after it, became part of an
/// entry that never closes.
pub fn abandoned(input: &str) -> Option<(&str, &str)> {
    let body = input.trim_end();
    let (entry, last) = body.rsplit_once('\n')?;
    if !is_command(last) || entry.trim().is_empty() {
        return None;
    }
    (sexp::balance(entry) == sexp::Balance::Open).then_some((entry, last.trim()))
}
