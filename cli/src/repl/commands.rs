//! The `:` commands of the REPL.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use loweq_dsl::diag::did_you_mean;
use loweq_semantics::span::FileId;
use loweq_semantics::ty::ModelType;
use loweq_verify::{Options, RuleReport};

use super::eval;
use super::session::{program_of, Reply, Session};
use super::units::{Origin, Unit};
use crate::render::Files;
use crate::shipped::Arch;
use crate::text;

/// Every command: name, arguments, what it does.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    (
        "eval",
        "[TYPE] EXPR [NAME=VALUE ...]",
        "evaluate a term application or spec expression on concrete values",
    ),
    (
        "spec",
        "NAME",
        "the declaration, spec and signatures of a term",
    ),
    ("type", "NAME", "an ISLE type and its model"),
    (
        "rules",
        "[PATTERN]",
        "the rules loaded, with their last verdicts",
    ),
    (
        "why",
        "",
        "every counterexample of the last verification, in full",
    ),
    (
        "smt",
        "[RULE|TYPE]",
        "the last verification query, in SMT-LIB",
    ),
    ("load", "FILE", "load a file of rules or declarations"),
    (
        "reload",
        "",
        "re-read every loaded file, re-verify what changed",
    ),
    (
        "arch",
        "x64|aarch64|none",
        "switch to another backend's semantics",
    ),
    (
        "timeout",
        "[SECS]",
        "show or set the per-query solver timeout",
    ),
    ("help", "", "this list"),
    ("quit", "", "leave (Ctrl-D does too)"),
];

fn help() -> String {
    let mut out = String::from(
        "Enter ISLE declarations (type, decl, spec, rule, macro, ...): they are added to the\n\
         session, a declaration replaces an earlier one of the same name, and a rule is\n\
         verified at once. An entry ends when its parentheses balance.\n\n",
    );
    for (name, args, what) in COMMANDS {
        let usage = format!(":{name} {args}");
        let _ = writeln!(out, "  {usage:<42} {what}");
    }
    out.push_str("\nCtrl-C cancels a running proof or clears the line; Ctrl-D quits.\n");
    out
}

impl Session {
    /// Runs one command (the text after `:`).
    pub(super) fn command(&mut self, line: &str) -> Reply {
        let (name, args) = match line.trim().split_once(char::is_whitespace) {
            Some((n, a)) => (n, a.trim()),
            None => (line.trim(), ""),
        };
        match name {
            "help" | "h" | "?" => Reply::text(help()),
            "quit" | "q" | "exit" => Reply {
                text: String::new(),
                quit: true,
            },
            "eval" => match eval::eval(self, args) {
                Ok(t) => Reply::text(t),
                Err(e) => self.error(error_text(&e)),
            },
            "spec" => self.spec(args),
            "type" => self.type_info(args),
            "rules" => Reply::text(self.rules(args)),
            "why" => self.why(),
            "smt" => self.smt(args),
            "load" if args.is_empty() => self.error("error: usage: :load FILE"),
            "load" => self.load_file(Path::new(args)),
            "reload" => self.reload(),
            "arch" => self.arch(args),
            "timeout" => self.timeout(args),
            _ => {
                let mut m = format!("error: unknown command `:{name}`");
                if let Some(h) = did_you_mean(name, COMMANDS.iter().map(|c| c.0)) {
                    let _ = write!(m, "; {h}");
                }
                m.push_str("\n`:help` lists the commands");
                self.error(m)
            }
        }
    }

    /// The forms of live units whose subject is `name` and whose head is
    /// one of `heads`, with their places, in source order.
    fn forms_about(&self, name: &str, heads: &[&str]) -> String {
        let sources = &self.current.sources;
        let mut out = String::new();
        for (u, unit) in self.units.iter().enumerate() {
            for (f, form) in unit.forms.iter().enumerate() {
                let about = form.subject.as_deref() == Some(name)
                    || form.key.as_ref().is_some_and(|k| k.name == name);
                if !self.live[u][f] || !about || !heads.contains(&form.head.as_str()) {
                    continue;
                }
                let (line, _) = sources.file(FileId(u)).line_col(form.range.start);
                let _ = writeln!(out, "--> {}:{line}", unit.name);
                let _ = writeln!(out, "{}", &unit.text[form.range.clone()]);
            }
        }
        out
    }

    fn unknown_name<'a>(
        &mut self,
        what: &str,
        name: &str,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Reply {
        let mut m = format!("error: no {what} named `{name}`");
        if let Some(h) = did_you_mean(name, candidates) {
            let _ = write!(m, "; {h}");
        }
        self.error(m)
    }

    fn spec(&mut self, name: &str) -> Reply {
        if name.is_empty() {
            return self.error("error: usage: :spec NAME");
        }
        let program = self.program();
        let Some(tid) = program.term_by_name(name) else {
            let names: Vec<String> = program.term_info.iter().map(|t| t.name.clone()).collect();
            return self.unknown_name("term", name, names.iter().map(String::as_str));
        };
        let info = program.term(tid);
        let decl = &program.terms.terms[tid.index()];
        let mut out = self.forms_about(
            name,
            &[
                "decl",
                "extern",
                "extractor",
                "spec",
                "instantiate",
                "attr",
                "convert",
            ],
        );
        // Named signature sets used by `instantiate`.
        for unit in &self.units {
            for form in &unit.forms {
                if form.head == "instantiate" && form.subject.as_deref() == Some(name) {
                    for m in &form.mentions {
                        if m != name {
                            out.push_str(&self.forms_about(m, &["form"]));
                        }
                    }
                }
            }
        }
        let program = self.program();
        let model = |ty| {
            program.model(ty).map_or("no model".to_string(), |m| {
                m.display(&program.enums).to_string()
            })
        };
        let args: Vec<String> = decl
            .arg_tys
            .iter()
            .map(|&t| format!("{} = {}", program.type_name(t), model(t)))
            .collect();
        let _ = writeln!(
            out,
            "types: ({}) -> {} = {}",
            args.join(", "),
            program.type_name(decl.ret_ty),
            model(decl.ret_ty)
        );
        if info.spec.is_none() {
            out.push_str("no spec: rules rooted here are not verified on their own\n");
        }
        if !info.signatures.is_empty() {
            let sigs: Vec<String> = info
                .signatures
                .iter()
                .map(|s| {
                    let a: Vec<String> = s
                        .args
                        .iter()
                        .map(|t| t.display(&program.enums).to_string())
                        .collect();
                    format!("({}) -> {}", a.join(" "), s.ret.display(&program.enums))
                })
                .collect();
            let _ = writeln!(out, "signatures: {}", sigs.join("; "));
        }
        if info.chain {
            out.push_str("chained: its rules are inlined into the rules that call it\n");
        }
        Reply::text(out)
    }

    fn type_info(&mut self, name: &str) -> Reply {
        if name.is_empty() {
            return self.error("error: usage: :type NAME");
        }
        let program = self.program();
        let found = program
            .types
            .types
            .iter()
            .position(|t| t.name(&program.types) == name)
            .map(cranelift_isle::sema::TypeId);
        let Some(ty) = found else {
            if program.term_by_name(name).is_some() {
                return self.spec(name);
            }
            let names: Vec<String> = program
                .types
                .types
                .iter()
                .map(|t| t.name(&program.types).to_string())
                .collect();
            return self.unknown_name("type", name, names.iter().map(String::as_str));
        };
        let mut out = self.forms_about(name, &["type", "model"]);
        let program = self.program();
        match program.model(ty) {
            None => out.push_str("no model: specs cannot mention values of this type\n"),
            Some(m) => {
                let _ = writeln!(out, "model: {}", m.display(&program.enums));
                if let ModelType::Enum(id) = m {
                    for v in &program.enums.get(*id).variants {
                        let fields: Vec<String> = v
                            .fields
                            .iter()
                            .map(|(n, t)| format!(" ({n} {})", t.display(&program.enums)))
                            .collect();
                        let _ = writeln!(out, "  {}.{}{}", name, v.name, fields.concat());
                    }
                }
            }
        }
        Reply::text(out)
    }

    fn rules(&self, pattern: &str) -> String {
        let program = self.program();
        let mut out = String::new();
        let mut n = 0;
        for info in &program.rule_info {
            if !pattern.is_empty() && !matches(pattern, &info.name) {
                continue;
            }
            n += 1;
            let verdicts = self
                .verdicts
                .get(&info.name)
                .map_or("not verified", String::as_str);
            let _ = writeln!(
                out,
                "{} ({}): {verdicts}",
                info.name,
                location(&self.current.sources, info.span)
            );
        }
        if n == 0 {
            out = if pattern.is_empty() {
                "no rules loaded: enter one, or `:load FILE`\n".into()
            } else {
                format!("no rule matches `{pattern}`\n")
            };
        }
        out
    }

    fn why(&mut self) -> Reply {
        let g = self.last_verification();
        let Some((program, report)) = program_of(g).filter(|(_, r)| !r.rules.is_empty()) else {
            return Reply::text("no verification yet");
        };
        if report.count(loweq_verify::Verdict::Counterexample) == 0 {
            return Reply::text("no counterexample in the last verification");
        }
        let mut only = report.clone();
        for r in &mut only.rules {
            r.instances.retain(|i| i.counterexample.is_some());
        }
        only.rules.retain(|r| !r.instances.is_empty());
        let mut out = String::new();
        text::every_detail(&mut out, g, program, &only, &Files::new(&g.sources));
        Reply::text(out.trim_start().to_string())
    }

    /// The SMT-LIB of one query of the last verification: queries are not
    /// kept (writing them out costs more than solving), so the rule is
    /// verified again with a sink for its queries.
    fn smt(&mut self, args: &str) -> Reply {
        let words: Vec<&str> = args.split_whitespace().collect();
        let g = self.last_verification();
        let Some((program, report)) = program_of(g).filter(|(_, r)| !r.rules.is_empty()) else {
            return Reply::text("no query yet: enter a rule first");
        };
        let failing = |r: &&RuleReport| r.instances.iter().any(|i| i.counterexample.is_some());
        let rule = report
            .rules
            .iter()
            .find(|r| words.contains(&r.name.as_str()))
            .or_else(|| report.rules.iter().find(failing))
            .or(report.rules.last())
            .expect("the report has rules");
        let label = rule
            .instances
            .iter()
            .find(|i| words.contains(&i.label.as_str()))
            .or_else(|| rule.instances.iter().find(|i| i.counterexample.is_some()))
            .or(rule.instances.last())
            .map(|i| i.label.clone())
            .unwrap_or_default();
        let queries: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
        let sink = queries.clone();
        let options = Options {
            timeout: self.config.timeout,
            jobs: self.config.jobs,
            rules: vec![rule.name.clone()],
            smt: Some(Arc::new(move |r: &str, l: &str, t: &str| {
                sink.lock().unwrap_or_else(|e| e.into_inner()).push((
                    r.to_string(),
                    l.to_string(),
                    t.to_string(),
                ));
            })),
            cancel: self.cancel.clone(),
            ..Options::default()
        };
        self.cancel.reset();
        if let Err(d) = loweq_verify::verify(program, &options, &|_| {}) {
            let text = super::session::render(&g.sources, &[d]);
            return self.error(text);
        }
        let queries = queries.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let unknown_word = words.iter().find(|w| **w != rule.name && **w != label);
        let pick = queries.iter().find(|q| {
            q.1 == label && (q.0 == rule.name || q.0.starts_with(&format!("{}.", rule.name)))
        });
        match (unknown_word, pick) {
            (None, Some((r, l, text))) => Reply::text(format!("; rule `{r}` at {l}\n{text}")),
            _ => {
                let labels: Vec<&str> = rule.instances.iter().map(|i| i.label.as_str()).collect();
                let rules: Vec<&str> = report.rules.iter().map(|r| r.name.as_str()).collect();
                self.error(format!(
                    "error: no query of the last verification matches `{args}`: its rules are {}; the instantiations of `{}` are {}",
                    rules.join(", "),
                    rule.name,
                    labels.join(", ")
                ))
            }
        }
    }

    fn reload(&mut self) -> Reply {
        let mut units = self.units.clone();
        let mut n = 0;
        for u in &mut units {
            if let Origin::File(path) = &u.origin {
                match crate::run::read_text(path) {
                    Ok(text) => *u = Unit::new(u.name.clone(), u.origin.clone(), text),
                    Err(e) => {
                        return self.error(format!("error: cannot read `{}`: {e}", path.display()))
                    }
                }
                n += 1;
            }
        }
        if n == 0 {
            return Reply::text("no files loaded");
        }
        match self.change(units, None) {
            Ok(t) if t.is_empty() => Reply::text(format!("reloaded {n} file(s): nothing changed")),
            Ok(t) => Reply::text(format!("reloaded {n} file(s)\n{t}")),
            Err(t) => self.error(t),
        }
    }

    fn arch(&mut self, name: &str) -> Reply {
        let arch = match name {
            "x64" => Some(Arch::X64),
            "aarch64" => Some(Arch::Aarch64),
            "none" => None,
            "" => {
                let now = self.config.arch.map_or("none", Arch::name);
                return Reply::text(format!("arch: {now}"));
            }
            other => {
                return self.error(format!(
                    "error: unknown architecture `{other}`: x64, aarch64 or none"
                ))
            }
        };
        let mut units: Vec<Unit> = arch
            .map(crate::shipped::specs)
            .unwrap_or_default()
            .into_iter()
            .map(|f| Unit::new(f.name.clone(), Origin::Shipped, f.text.clone()))
            .collect();
        units.extend(
            self.units
                .iter()
                .filter(|u| u.origin != Origin::Shipped)
                .cloned(),
        );
        let before = self.config.arch;
        self.config.arch = arch;
        match self.change(units, None) {
            Ok(t) => Reply::text(format!("arch: {}\n{t}", arch.map_or("none", Arch::name))),
            Err(t) => {
                self.config.arch = before;
                self.error(format!(
                    "{t}\nstill on {}",
                    before.map_or("none", Arch::name)
                ))
            }
        }
    }

    fn timeout(&mut self, secs: &str) -> Reply {
        if secs.is_empty() {
            return Reply::text(format!("timeout: {} s", self.config.timeout.as_secs_f64()));
        }
        match secs.parse::<f64>().ok().and_then(|s| {
            Duration::try_from_secs_f64(s)
                .ok()
                .filter(|d| s > 0.0 && *d <= Duration::from_secs(86_400))
        }) {
            Some(d) => {
                self.config.timeout = d;
                Reply::text(format!("timeout: {} s", d.as_secs_f64()))
            }
            None => self.error(format!(
                "error: the timeout must be a number of seconds above 0 and at most a day, got `{secs}`"
            )),
        }
    }

    /// The paths of the files loaded.
    pub fn files(&self) -> Vec<PathBuf> {
        self.units
            .iter()
            .filter_map(|u| match &u.origin {
                Origin::File(p) => Some(p.clone()),
                _ => None,
            })
            .collect()
    }
}

fn error_text(e: &str) -> String {
    if e.starts_with("error") {
        e.to_string()
    } else {
        format!("error: {e}")
    }
}

fn location(
    sources: &loweq_semantics::span::SourceMap,
    span: loweq_semantics::span::Span,
) -> String {
    let f = sources.file(span.file);
    format!("{}:{}", f.name, f.line_col(span.start).0)
}

/// A `*` and `?` glob when the pattern has them, else a substring test.
fn matches(pattern: &str, name: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return name.contains(pattern);
    }
    fn glob(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => glob(&p[1..], s) || (!s.is_empty() && glob(p, &s[1..])),
            (Some(b'?'), Some(_)) => glob(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => glob(&p[1..], &s[1..]),
            _ => false,
        }
    }
    glob(pattern.as_bytes(), name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns() {
        assert!(matches("shr", "ushr_narrow"));
        assert!(matches("*_narrow", "ushr_narrow"));
        assert!(!matches("*_narrow", "ushr_narrow_x"));
        assert!(matches("u?hr*", "ushr_narrow"));
    }
}
