//! Coverage of the instruction specs: every term with a spec in an
//! architecture's spec or rule files (`semantics/spec/<arch>/`,
//! `rules/<arch>/`) must be in its
//! mapping table, as an instruction that runs, a helper, or an instruction
//! that cannot run (with the reason); and which instruction terms the
//! shipped rules use.

use std::collections::BTreeSet;

use cranelift_isle::sema::{Expr, Pattern, TermId};
use loweq_dsl::Program;
use loweq_semantics::ty::ModelType;

use crate::isa::Isa;
use crate::map::Table;

/// A term with a spec in the architecture's spec files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecTerm {
    /// The term.
    pub name: String,
    /// Where its spec is (`file:line:col`).
    pub location: String,
}

/// What is wrong with a table's coverage.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Spec terms the table does not mention.
    pub missing: Vec<SpecTerm>,
    /// Table entries for terms without a spec in the architecture's files.
    pub stale: Vec<String>,
    /// Terms the table mentions more than once.
    pub duplicate: Vec<String>,
    /// Helpers that take or give a type some run instruction gives (a
    /// register, the flags): they stand for machine code, so they must be
    /// run or listed as not runnable with the reason.
    pub misfiled: Vec<Misfiled>,
}

/// A helper whose signature says it stands for machine code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Misfiled {
    /// The term.
    pub name: String,
    /// The type in its signature that an instruction gives (`Reg`).
    pub ty: String,
}

impl Coverage {
    /// Whether nothing is wrong.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
            && self.stale.is_empty()
            && self.duplicate.is_empty()
            && self.misfiled.is_empty()
    }

    /// How many things are wrong.
    pub fn len(&self) -> usize {
        self.missing.len() + self.stale.len() + self.duplicate.len() + self.misfiled.len()
    }

    /// Whether nothing is wrong (as [`Coverage::is_complete`]).
    pub fn is_empty(&self) -> bool {
        self.is_complete()
    }
}

impl std::fmt::Display for Coverage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.missing.is_empty() {
            writeln!(
                f,
                "instruction spec terms without a conformance mapping (add an [[inst]], \
                 a `helpers` entry, or an [[unrunnable]] with the reason):"
            )?;
            for t in &self.missing {
                writeln!(f, "  {} ({})", t.name, t.location)?;
            }
        }
        if !self.stale.is_empty() {
            writeln!(
                f,
                "mapping entries for terms without a spec in this architecture's files: {}",
                self.stale.join(", ")
            )?;
        }
        if !self.duplicate.is_empty() {
            writeln!(
                f,
                "terms mapped more than once: {}",
                self.duplicate.join(", ")
            )?;
        }
        for m in &self.misfiled {
            writeln!(
                f,
                "helper `{}` has `{}` in its signature, a type an instruction gives: it stands \
                 for machine code (make it an [[inst]], or an [[unrunnable]] with the reason)",
                m.name, m.ty
            )?;
        }
        Ok(())
    }
}

/// The terms with a spec written in `semantics/spec/<arch>/`, or in the
/// architecture's rule files (`rules/<arch>/`: a spec written next to the
/// rules is an instruction spec all the same).
pub fn spec_terms(program: &Program, isa: Isa) -> Vec<SpecTerm> {
    let dirs = [
        format!("semantics/spec/{}/", isa.name()),
        format!("rules/{}/", isa.name()),
    ];
    let mut out = Vec::new();
    for info in &program.term_info {
        let Some(spec) = &info.spec else { continue };
        let file = program.sources.file(spec.span.file);
        let name = file.name.replace('\\', "/");
        if dirs.iter().any(|d| name.contains(d.as_str())) {
            out.push(SpecTerm {
                name: info.name.clone(),
                location: program.sources.location(spec.span),
            });
        }
    }
    out
}

/// Every term a table names, with how many times.
fn table_terms(table: &Table) -> Vec<String> {
    let mut names: Vec<String> = table
        .insts
        .iter()
        .map(|i| i.term.get_ref().clone())
        .collect();
    names.extend(table.helpers.iter().cloned());
    names.extend(table.unrunnable.iter().map(|u| u.term.clone()));
    names
}

/// Checks that `table` covers the spec terms of `isa` in `program`.
pub fn check(program: &Program, table: &Table, isa: Isa) -> Coverage {
    let specs = spec_terms(program, isa);
    let named = table_terms(table);
    let mut cov = Coverage::default();
    for t in &specs {
        if !named.contains(&t.name) {
            cov.missing.push(t.clone());
        }
    }
    let mut seen = BTreeSet::new();
    for n in &named {
        if !seen.insert(n.clone()) && !cov.duplicate.contains(n) {
            cov.duplicate.push(n.clone());
        }
        if !specs.iter().any(|t| &t.name == n) && !cov.stale.contains(n) {
            cov.stale.push(n.clone());
        }
    }
    cov.misfiled = misfiled_helpers(program, table);
    cov
}

/// Helpers with a type in their signature that a run instruction gives:
/// what instructions give is read off the table's `[[inst]]` terms, so a
/// helper may compute sizes, immediates and conditions, never registers or
/// flags.
fn misfiled_helpers(program: &Program, table: &Table) -> Vec<Misfiled> {
    let decl = |name: &str| {
        program
            .term_by_name(name)
            .map(|t| &program.terms.terms[t.index()])
    };
    let given: BTreeSet<_> = table
        .insts
        .iter()
        .filter_map(|i| decl(i.term.get_ref()))
        .map(|d| d.ret_ty)
        .filter(|&ty| program.model(ty) != Some(&ModelType::Unit))
        .collect();
    let mut out = Vec::new();
    for h in &table.helpers {
        let Some(d) = decl(h) else { continue };
        let tys = d.arg_tys.iter().chain(std::iter::once(&d.ret_ty));
        if let Some(&ty) = tys.into_iter().find(|ty| given.contains(ty)) {
            out.push(Misfiled {
                name: h.clone(),
                ty: program.type_name(ty).to_string(),
            });
        }
    }
    out
}

/// The terms listed as not runnable that shipped rules use: instruction
/// terms no vector exercises.
pub fn unexercised(program: &Program, table: &Table) -> Vec<String> {
    let used = rule_terms(program);
    table
        .unrunnable
        .iter()
        .filter(|u| used.contains(&u.term))
        .map(|u| u.term.clone())
        .collect()
}

fn pattern_terms(p: &Pattern, out: &mut BTreeSet<TermId>) {
    match p {
        Pattern::Term(_, t, args) => {
            out.insert(*t);
            for a in args {
                pattern_terms(a, out);
            }
        }
        Pattern::BindPattern(_, _, p) => pattern_terms(p, out),
        Pattern::And(_, ps) => {
            for p in ps {
                pattern_terms(p, out);
            }
        }
        _ => {}
    }
}

fn expr_terms(e: &Expr, out: &mut BTreeSet<TermId>) {
    match e {
        Expr::Term(_, t, args) => {
            out.insert(*t);
            for a in args {
                expr_terms(a, out);
            }
        }
        Expr::Let { bindings, body, .. } => {
            for (_, _, e) in bindings {
                expr_terms(e, out);
            }
            expr_terms(body, out);
        }
        _ => {}
    }
}

/// The names of the terms the program's rules use.
pub fn rule_terms(program: &Program) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for rule in &program.terms.rules {
        for p in &rule.args {
            pattern_terms(p, &mut ids);
        }
        for il in &rule.iflets {
            pattern_terms(&il.lhs, &mut ids);
            expr_terms(&il.rhs, &mut ids);
        }
        expr_terms(&rule.rhs, &mut ids);
    }
    ids.into_iter()
        .map(|t| program.term(t).name.clone())
        .collect()
}
