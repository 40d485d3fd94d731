//! Extractor macros whose specs rules rely on: each spec must agree with
//! the macro's expansion (the condition is built by
//! [`crate::condition::agreement`], which says what agreeing means and why).
//!
//! The obligation is checked once per macro and type instantiation (the
//! types of its arguments and result) in a run, the first time an
//! instantiation of a rule relies on it, and cached. Its verdict is then
//! folded into the verdict of every rule instantiation that relies on it:
//! a spec that disagrees makes the rule's verdict a counterexample (the
//! macro's, naming it), since what was proved was about a pattern that
//! does not mean what the rule's author wrote; an unknown agreement makes
//! the verdict unknown, an error an error. An obligation that is
//! inapplicable (the expansion cannot match at that type) changes nothing:
//! a rule whose pattern uses the macro walks the same expansion. A rule
//! instantiation that is inapplicable even without the specs of the macros
//! it relies on needs none of them, and they are not checked for it.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use cranelift_isle::sema::TermId;
use loweq_dsl::{Diagnostic, Program};
use loweq_semantics::infer::Typing;
use loweq_semantics::span::Span;
use loweq_semantics::ty::{ModelType, Ty};

use crate::condition::{self, Condition, Origin};
use crate::report::{Disagreement, InstanceReport, MacroReport, Verdict};
use crate::solve::{self, Outcome};
use crate::{instances, Options};

/// A macro at one instantiation: the types of its arguments, then of its
/// result.
type Key = (TermId, Vec<Ty>);

/// Who relies on a macro's spec.
#[derive(Clone, Copy, Debug)]
pub(crate) enum User<'a> {
    /// An instantiation of the named rule.
    Rule(&'a str),
    /// The expansion of the named macro.
    Macro(&'a str),
}

/// The checked obligation of one macro at one instantiation.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The macro's name.
    pub name: String,
    /// The instantiation (`i8`).
    pub label: String,
    /// The macro's `extractor` definition.
    pub span: Span,
    /// The worst outcome over the typings of the expansion, with the
    /// macros inside the expansion folded in.
    pub outcome: Arc<Outcome>,
    /// Time spent, in milliseconds.
    pub millis: u64,
}

struct Entry {
    checked: OnceLock<Arc<Checked>>,
    /// The rules whose instantiations rely on it (`false`), and the
    /// macros whose expansions do (`true`).
    users: Mutex<BTreeSet<(bool, String)>>,
}

/// The obligations of one run, checked as rules need them.
pub(crate) struct Agreements<'p> {
    program: &'p Program,
    options: &'p Options,
    /// The program's part of result-cache keys, when there is a cache.
    digest: [u8; 32],
    entries: Mutex<HashMap<Key, Arc<Entry>>>,
}

impl<'p> Agreements<'p> {
    pub(crate) fn new(program: &'p Program, options: &'p Options) -> Agreements<'p> {
        Agreements {
            program,
            options,
            digest: match options.cache {
                Some(_) => crate::cache::program_digest(program),
                None => [0; 32],
            },
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Settles the obligations that an instantiation of `cond` relies on
    /// and folds them into its `outcome`, recording `user` as relying on
    /// them. Where the instantiation is inapplicable even
    /// without those macros' specs (and without priority assumptions,
    /// which may use them), the real pattern cannot match either: nothing
    /// is relied on, and the obligations are not checked for it.
    pub(crate) fn settle(
        &self,
        cond: &Condition,
        inst: &instances::Instance,
        outcome: &mut Outcome,
        user: User<'_>,
    ) {
        let keys = keys(cond, &inst.typing);
        if keys.is_empty() {
            return;
        }
        if outcome.verdict == Verdict::Inapplicable {
            let names: Vec<&str> = keys
                .iter()
                .map(|(t, _)| self.program.term(*t).name.as_str())
                .collect();
            let keep = |c: &condition::Clause| match &c.origin {
                Origin::Provide(t) | Origin::Match(t) | Origin::Require(t) => {
                    !names.contains(&t.as_str())
                }
                // Conditions about other rules, and what they say of
                // their Skolem outputs.
                Origin::Priority(_) | Origin::Skolem(_) => false,
                _ => true,
            };
            let applies = solve::can_apply(
                self.program,
                cond,
                inst,
                self.options.timeout,
                &self.options.cancel,
                &keep,
            );
            if applies == Some(false) {
                return;
            }
        }
        for key in keys {
            let c = self.get(key, user);
            fold(outcome, &c);
        }
    }

    /// The obligation of one macro at one instantiation, checked (blocking
    /// while another worker checks it).
    fn get(&self, key: Key, user: User<'_>) -> Arc<Checked> {
        let entry = {
            let mut entries = self.entries.lock().expect("not poisoned");
            entries
                .entry(key.clone())
                .or_insert_with(|| {
                    Arc::new(Entry {
                        checked: OnceLock::new(),
                        users: Mutex::new(BTreeSet::new()),
                    })
                })
                .clone()
        };
        let user = match user {
            User::Rule(r) => (false, r.to_string()),
            User::Macro(m) => (true, m.to_string()),
        };
        entry.users.lock().expect("not poisoned").insert(user);
        // Macros cannot be recursive (cranelift-isle rejects it), so
        // checking one never waits on itself.
        entry
            .checked
            .get_or_init(|| Arc::new(self.check(&key)))
            .clone()
    }

    /// Checks one macro at one instantiation.
    fn check(&self, (term, types): &Key) -> Checked {
        let start = Instant::now();
        let info = self.program.term(*term);
        let label = label(self.program, *term, types);
        let outcome = self.outcome(*term, types, &label);
        Checked {
            name: info.name.clone(),
            span: info.template.as_ref().map_or(info.span, |e| e.span),
            label,
            outcome: Arc::new(outcome),
            millis: start.elapsed().as_millis() as u64,
        }
    }

    fn outcome(&self, term: TermId, types: &[Ty], label: &str) -> Outcome {
        let program = self.program;
        let (mut cond, subject) = match condition::agreement(program, term) {
            Ok(c) => c,
            Err(d) => return Outcome::error(d),
        };
        for (&n, ty) in subject
            .args
            .iter()
            .chain(std::iter::once(&subject.result))
            .zip(types)
        {
            cond.required.push((n, model_of(ty)));
        }
        let found = match instances::instances(program, &cond) {
            Ok(f) => f,
            Err(d) => {
                return Outcome::error(d.with_note(format!(
                    "checking the spec of extractor macro `{}` against its expansion at {label}",
                    program.term(term).name
                )))
            }
        };
        let smt_name = format!("macro-{}", program.term(term).name);
        let mut worst: Option<Outcome> = None;
        for inst in &found.typed {
            let (mut o, _) = crate::check_cached(
                program,
                &cond,
                &[],
                inst,
                self.options,
                &self.digest,
                &smt_name,
            );
            // Where its expansion uses other macros' specs, those must agree
            // first.
            self.settle(&cond, inst, &mut o, User::Macro(&program.term(term).name));
            worst = Some(match worst {
                Some(w) if rank(w.verdict) >= rank(o.verdict) => w,
                _ => o,
            });
        }
        if let Some((_, d)) = found.failed.into_iter().next() {
            return Outcome::error(d);
        }
        worst.unwrap_or_else(|| {
            Outcome::error(Diagnostic::new(
                format!(
                    "the expansion of `{}` does not type at {label}",
                    program.term(term).name
                ),
                program.term(term).span,
            ))
        })
    }

    /// What was checked, one report per macro (in declaration order),
    /// instantiations by width.
    pub(crate) fn report(self) -> Vec<MacroReport> {
        let entries = self.entries.into_inner().expect("not poisoned");
        let mut by_term: Vec<(TermId, Vec<Ty>, Arc<Entry>)> =
            entries.into_iter().map(|((t, ty), e)| (t, ty, e)).collect();
        by_term.sort_by_key(|a| (a.0.index(), widths(&a.1)));
        let mut out: Vec<MacroReport> = Vec::new();
        for (term, _, entry) in by_term {
            let Some(checked) = entry.checked.get() else {
                continue;
            };
            let info = self.program.term(term);
            if out.last().map(|m| &m.name) != Some(&info.name) {
                out.push(MacroReport {
                    name: info.name.clone(),
                    span: checked.span,
                    instances: Vec::new(),
                    used_by: Vec::new(),
                    inside: Vec::new(),
                });
            }
            let m = out.last_mut().expect("just pushed");
            let o = &checked.outcome;
            m.instances.push(InstanceReport {
                label: checked.label.clone(),
                verdict: o.verdict,
                millis: checked.millis,
                queries: o.queries,
                counterexample: o.counterexample.clone(),
                reason: o.reason.clone(),
                error: o.error.clone(),
                shadowed_by: Vec::new(),
            });
            for (is_macro, u) in entry.users.lock().expect("not poisoned").iter() {
                let list = if *is_macro {
                    &mut m.inside
                } else {
                    &mut m.used_by
                };
                if !list.contains(u) {
                    list.push(u.clone());
                }
            }
        }
        for m in &mut out {
            m.used_by.sort();
            m.inside.sort();
        }
        out
    }
}

/// The macros, at their instantiations, whose specs `cond` uses in place
/// of their expansions under `typing`.
fn keys(cond: &Condition, typing: &Typing) -> Vec<Key> {
    let mut keys: Vec<Key> = Vec::new();
    for t in &cond.trusted {
        // Nodes no formula reaches are untyped: nothing relies on them.
        let types: Option<Vec<Ty>> = t
            .args
            .iter()
            .chain(std::iter::once(&t.result))
            .map(|&n| typing.ty(n).cloned())
            .collect();
        if let Some(types) = types {
            let key = (t.term, types);
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    keys
}

/// Folds the obligation of a macro that an instantiation relies on into
/// the instantiation's outcome (see the module doc).
pub(crate) fn fold(o: &mut Outcome, c: &Checked) {
    let a = &c.outcome;
    match a.verdict {
        // Inapplicable: the expansion cannot match at this type. A rule
        // whose pattern uses the macro walks the same expansion and is
        // inapplicable there too; a rule that uses it in a condition about
        // another rule is not affected.
        Verdict::Verified | Verdict::Shadowed | Verdict::Inapplicable => {}
        Verdict::Counterexample => {
            if o.verdict != Verdict::Error && !disagrees_already(o) {
                let mut cex = a
                    .counterexample
                    .clone()
                    .expect("a counterexample verdict has one");
                if cex.disagreement.is_none() {
                    cex.disagreement = Some(Disagreement {
                        name: c.name.clone(),
                        label: c.label.clone(),
                        span: c.span,
                    });
                }
                o.verdict = Verdict::Counterexample;
                o.counterexample = Some(cex);
                o.reason = None;
                o.shadowed_by.clear();
            }
        }
        Verdict::Unknown => {
            if matches!(
                o.verdict,
                Verdict::Verified | Verdict::Inapplicable | Verdict::Shadowed
            ) {
                o.verdict = Verdict::Unknown;
                o.shadowed_by.clear();
                o.reason = Some(format!(
                    "whether the spec of extractor macro `{}` agrees with its expansion at {} is unknown: {}",
                    c.name,
                    c.label,
                    a.reason.as_deref().unwrap_or("no reason given")
                ));
            }
        }
        Verdict::Error => {
            if o.verdict != Verdict::Error {
                o.verdict = Verdict::Error;
                o.counterexample = None;
                o.reason = None;
                o.shadowed_by.clear();
                o.error = a.error.clone();
            }
        }
    }
}

/// Whether the outcome is already a macro's disagreement (the first one
/// found stays).
fn disagrees_already(o: &Outcome) -> bool {
    o.counterexample
        .as_ref()
        .is_some_and(|c| c.disagreement.is_some())
}

fn rank(v: Verdict) -> u8 {
    match v {
        Verdict::Error => 5,
        Verdict::Counterexample => 4,
        Verdict::Unknown => 3,
        Verdict::Verified => 2,
        Verdict::Shadowed => 1,
        Verdict::Inapplicable => 0,
    }
}

/// The model type that pins a node to an inferred type.
fn model_of(ty: &Ty) -> ModelType {
    match ty {
        Ty::Bool => ModelType::Bool,
        Ty::Int => ModelType::Int,
        Ty::Unit => ModelType::Unit,
        Ty::Unspecified => ModelType::Unspecified,
        Ty::Bv(w) => ModelType::BitVec(Some(*w)),
        Ty::Struct(fields) => ModelType::Struct(
            fields
                .iter()
                .map(|(n, t)| (n.clone(), model_of(t)))
                .collect(),
        ),
        Ty::Enum(id) => ModelType::Enum(*id),
    }
}

fn widths(types: &[Ty]) -> Vec<u32> {
    types.iter().filter_map(Ty::width).collect()
}

/// The instantiation's name, as a rule whose first instantiated term is
/// the macro would get: the widths of its polymorphic arguments and of its
/// result.
fn label(program: &Program, term: TermId, types: &[Ty]) -> String {
    let t = &program.terms.terms[term.index()];
    let (args, ret) = types.split_at(types.len().saturating_sub(1));
    let ws: Vec<u32> = args
        .iter()
        .zip(&t.arg_tys)
        .filter(|(_, &ty)| matches!(program.model(ty), Some(ModelType::BitVec(None))))
        .map(|(a, _)| a)
        .chain(ret)
        .filter_map(Ty::width)
        .collect();
    instances::label_of(&ws)
}
