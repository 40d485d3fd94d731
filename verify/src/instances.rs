//! Type instantiation: choose one `instantiate` signature for every term
//! occurrence that has them, keep the combinations that width inference
//! accepts, and name each by the signature of the first such occurrence.

use loweq_dsl::{Diagnostic, Program};
use loweq_semantics::graph::NodeId;
use loweq_semantics::infer::{Inference, Mode, TypeError, Typing};
use loweq_semantics::ty::{ModelType, Ty};

use crate::condition::{Condition, Side};

/// One type instantiation of a condition.
#[derive(Clone, Debug)]
pub struct Instance {
    /// Its name: `i8`, `i64->i8`, `i8,i64->i8`, or `default` without signatures.
    pub label: String,
    /// The complete typing.
    pub typing: Typing,
}

/// The instantiations of a condition.
#[derive(Clone, Debug, Default)]
pub struct Instances {
    /// Those that type-check.
    pub typed: Vec<Instance>,
    /// Signatures of the first instantiated term that no combination
    /// types, with the type error: the rule is ill-typed there, and that is
    /// reported rather than dropped.
    pub failed: Vec<(String, Diagnostic)>,
    /// Signatures of the first instantiated term at which a term of the
    /// left-hand side has no signature at all (`uextend` has none with an
    /// `i8` result): the pattern cannot match there, with the reason.
    pub unmatchable: Vec<(String, String)>,
}

/// The instantiations of a condition. An error when none type-checks.
pub fn instances(program: &Program, cond: &Condition) -> Result<Instances, Diagnostic> {
    let graph = &cond.graph;
    let enums = &program.enums;
    // The root's arguments are typed even where no formula mentions them
    // (a coverage expansion), so that every expansion is named alike.
    let mut roots = cond.roots();
    roots.extend(&cond.root_args);
    let facts: Vec<_> = cond.assumptions.iter().map(|c| c.node).collect();
    let to_diag = |e: TypeError| Diagnostic::new(format!("type error: {}", e.message), e.span);
    let mut inf = Inference::new(graph, enums, &roots, &facts).map_err(to_diag)?;
    for (n, ty) in &cond.required {
        inf.require(graph, *n, ty).map_err(to_diag)?;
    }
    let base = inf.clone();
    let refuting = refuting_facts(cond);
    let mut search = Search {
        program,
        cond,
        roots: &roots,
        refuting: &refuting,
        found: Vec::new(),
        first_error: None,
        chosen: Vec::new(),
        primary: Vec::new(),
    };
    if let Some(first) = cond.slots.first() {
        let n = program.term(first.term).signatures.len();
        search.primary = vec![Primary::default(); n];
    }
    search.go(inf, 0);
    if search.found.is_empty() {
        let e = search.first_error.unwrap_or_else(|| {
            let names: Vec<&str> = cond
                .slots
                .iter()
                .map(|s| program.term(s.term).name.as_str())
                .collect();
            Diagnostic::new(
                format!(
                    "no combination of the signatures of {} fits this rule",
                    names.join(", ")
                ),
                cond.assumptions.first().map(|c| c.span).unwrap_or_default(),
            )
        });
        return Err(e);
    }
    let unmatchable = search
        .primary
        .iter()
        .enumerate()
        .filter(|(_, p)| p.admitted && !p.typed && p.error.is_none())
        .filter_map(|(i, p)| {
            let slot = &cond.slots[0];
            let term = program.term(slot.term);
            let gap = p.gap.as_ref()?;
            Some((
                sig_label(program, slot.term, &term.signatures[i]),
                format!(
                    "no signature of `{gap}` fits `{}` at this type, so the left-hand side cannot match",
                    term.name
                ),
            ))
        })
        .collect();
    let mut failed: Vec<(String, Diagnostic)> = search
        .primary
        .iter()
        .enumerate()
        .filter(|(_, p)| p.admitted && !p.typed && (p.error.is_some() || p.gap.is_none()))
        .map(|(i, p)| {
            let slot = &cond.slots[0];
            let term = program.term(slot.term);
            let d = p.error.clone().unwrap_or_else(|| {
                let first = cond.assumptions.first().map(|c| c.span).unwrap_or_default();
                match &p.missing {
                    // Where its spec is, if the condition used it.
                    Some(name) => Diagnostic::new(
                        format!("no signature of `{name}` fits `{}` at this type", term.name),
                        cond.assumptions
                            .iter()
                            .chain(&cond.obligations)
                            .find(|c| names(&c.origin, name))
                            .map_or(first, |c| c.span),
                    )
                    .with_note(format!(
                        "the generated code applies `{name}` at every type the rule matches: give it a signature for this one, or narrow the rule's types"
                    )),
                    None => {
                        let others: Vec<&str> = cond.slots[1..]
                            .iter()
                            .map(|s| program.term(s.term).name.as_str())
                            .collect();
                        Diagnostic::new(
                            format!(
                                "no signature of {} fits `{}` at this type",
                                others.join(", "),
                                term.name
                            ),
                            first,
                        )
                    }
                }
            });
            (sig_label(program, slot.term, &term.signatures[i]), d)
        })
        .collect();
    failed.extend(unnamed_widths(program, cond, &base, &refuting, &roots));
    failed.extend(condition_widths(
        program,
        cond,
        &search.primary,
        &refuting,
        &roots,
    )?);
    Ok(Instances {
        typed: name(program, cond, search.found),
        failed,
        unmatchable,
    })
}

/// Signatures of the first instantiated term that the rule's own facts
/// admit but that a condition about another rule (a higher-priority rule
/// not matching, with what its terms' specs say of their Skolem outputs)
/// ruled out before the search could try them: its specs type only at
/// other widths (a guard's `(= result v)` with a 64-bit result pins `v`
/// to 64 bits). The generated code applies the rule at such a width, so
/// it is an error there, never a width quietly left out (review 6).
fn condition_widths(
    program: &Program,
    cond: &Condition,
    primary: &[Primary],
    refuting: &[NodeId],
    roots: &[NodeId],
) -> Result<Vec<(String, Diagnostic)>, Diagnostic> {
    let Some(first) = cond.slots.first() else {
        return Ok(Vec::new());
    };
    let Some(own) = own_inference(program, cond, roots)? else {
        return Ok(Vec::new());
    };
    let (graph, enums) = (&cond.graph, &program.enums);
    let term = program.term(first.term);
    let occ = &cond.occurrences[first.occurrence];
    let mut out = Vec::new();
    for (i, sig) in term.signatures.iter().enumerate() {
        if primary[i].admitted || primary[i].typed {
            continue;
        }
        let mut next = own.inf.clone();
        let fits = occ
            .args
            .iter()
            .zip(&sig.args)
            .chain(std::iter::once((&occ.result, &sig.ret)))
            .all(|(&n, ty)| next.require(graph, n, ty).is_ok());
        if !fits || next.refutes(graph, enums, refuting) {
            continue;
        }
        let label = sig_label(program, first.term, sig);
        out.push((label.clone(), own.error(&label)));
    }
    Ok(out)
}

/// The rule's own typing constraints, without those of its conditions
/// about other rules (priority, coverage, and what they say of Skolem
/// outputs), to tell a width the rule cannot have from one that only such
/// a condition rules out. `None` when the rule has no such condition.
struct Own {
    inf: Inference,
    /// Where a condition's clause is, and which condition it is.
    span: loweq_semantics::span::Span,
    who: String,
}

impl Own {
    /// The error for a width only a condition rules out.
    fn error(&self, label: &str) -> Diagnostic {
        Diagnostic::new(
            format!("this rule can fire at {label}, but {} does not type there", self.who),
            self.span,
        )
        .with_note(format!(
            "the specs that condition uses (its guards' and extractors') type only at other widths, so they would leave {label} out of this rule's instantiations; the generated code applies the rule at {label} too: without a typing there it would go unchecked"
        ))
        .with_note("say the other rule's widths in its pattern with terms that have signatures, or give its terms specs that type at every width")
    }
}

fn own_inference(
    program: &Program,
    cond: &Condition,
    roots: &[NodeId],
) -> Result<Option<Own>, Diagnostic> {
    use crate::condition::Origin;
    let about = |c: &&crate::condition::Clause| {
        matches!(
            c.origin,
            Origin::Priority(_) | Origin::Skolem(_) | Origin::Coverage(_)
        )
    };
    let Some(clause) = cond.assumptions.iter().chain(&cond.obligations).find(about) else {
        return Ok(None);
    };
    let who = cond
        .assumptions
        .iter()
        .chain(&cond.obligations)
        .find_map(|c| match &c.origin {
            Origin::Priority(r) => Some(format!("the condition that rule `{r}` does not match")),
            Origin::Coverage(t) => Some(format!("the condition that some rule of `{t}` matches")),
            _ => None,
        })
        .unwrap_or_else(|| "a condition about another rule".into());
    let graph = &cond.graph;
    let enums = &program.enums;
    let own: Vec<NodeId> = cond
        .assumptions
        .iter()
        .filter(|c| !about(c))
        .map(|c| c.node)
        .collect();
    // The rule's own formulas, and its root's arguments (typed even where
    // no formula mentions them, as in `instances`).
    let mut own_roots: Vec<NodeId> = own.clone();
    own_roots.extend(
        cond.obligations
            .iter()
            .filter(|c| !about(c))
            .map(|c| c.node),
    );
    own_roots.extend(roots.iter().filter(|n| cond.root_args.contains(n)));
    let to_diag = |e: TypeError| Diagnostic::new(format!("type error: {}", e.message), e.span);
    let mut inf = Inference::new(graph, enums, &own_roots, &own).map_err(to_diag)?;
    for (n, ty) in &cond.required {
        // A node only a condition mentions may not take its type here.
        let _ = inf.require(graph, *n, ty);
    }
    Ok(Some(Own {
        inf,
        span: clause.span,
        who,
    }))
}

/// The label of a signature on its own (the polymorphic arguments and the
/// result): the name of the instantiations of a rule whose first
/// instantiated term takes this signature (`i8`, `i8,i64->i8`), before any
/// suffix that tells twins apart. Also used for instantiations that have no
/// typing, and by `loweq coverage` to match instantiations to signatures.
pub fn sig_label(
    program: &Program,
    term: cranelift_isle::sema::TermId,
    sig: &loweq_dsl::Signature,
) -> String {
    let t = &program.terms.terms[term.index()];
    let widths: Vec<u32> = sig
        .args
        .iter()
        .zip(&t.arg_tys)
        .filter(|(_, &ty)| matches!(program.model(ty), Some(ModelType::BitVec(None))))
        .map(|(a, _)| a)
        .chain(std::iter::once(&sig.ret))
        .filter_map(|m| match m {
            ModelType::BitVec(Some(w)) => Some(*w),
            _ => None,
        })
        .collect();
    label_of(&widths)
}

/// The widths at which the rule's root can apply but that no signature of
/// the first instantiated term names, when that term is not an IR
/// operation: each an error, labelled by the width.
///
/// The instantiations are named by the first instantiated term's
/// signatures, so a width it has none for is never searched. For an IR
/// operation that is right (the instruction does not exist there); for any
/// other term (`(my_add x y)`, an extern extractor instantiated at 32 bits
/// only, under `(fits_in_64 ty)`) the generated code still applies the rule
/// at that width, unchecked. The candidates are the root's own signatures
/// or, for `lower`, which has none, every width from 8 to 64 on its
/// polymorphic bitvector arguments and result; a width at which the pattern's own facts are
/// false (`(has_type $I32 ...)` at i64) is no such width. Where no term has
/// signatures, inference alone types the rule, at the width its specs pin;
/// every other candidate width is an error with the type error there.
fn unnamed_widths(
    program: &Program,
    cond: &Condition,
    base: &Inference,
    refuting: &[NodeId],
    roots: &[NodeId],
) -> Vec<(String, Diagnostic)> {
    let first = cond.slots.first();
    if first.is_some_and(|f| is_ir_operation(program, f.term)) {
        return Vec::new();
    }
    let Some(root_result) = cond.root_result else {
        return Vec::new();
    };
    let Some(root) = cond
        .occurrences
        .iter()
        .find(|o| o.result == root_result && o.args == cond.root_args)
    else {
        return Vec::new();
    };
    let graph = &cond.graph;
    let enums = &program.enums;
    let decl = &program.terms.terms[root.term.index()];
    let nodes: Vec<NodeId> = root
        .args
        .iter()
        .chain(std::iter::once(&root.result))
        .copied()
        .collect();
    // Each candidate: its label and the type of each root node it fixes.
    let candidates: Vec<(String, Vec<(NodeId, ModelType)>)> =
        if program.term(root.term).signatures.is_empty() {
            // Only the lowering entry point has widths of its own without
            // signatures: the IR's, i8 to i64. A root of a file's own
            // (`test`) has no widths but those its terms' signatures name.
            if program.term(root.term).name != "lower" {
                return Vec::new();
            }
            let polymorphic: Vec<NodeId> = nodes
                .iter()
                .zip(decl.arg_tys.iter().chain(std::iter::once(&decl.ret_ty)))
                .filter(|(_, &ty)| matches!(program.model(ty), Some(ModelType::BitVec(None))))
                .map(|(&n, _)| n)
                .collect();
            if polymorphic.is_empty() {
                return Vec::new();
            }
            [8, 16, 32, 64]
                .into_iter()
                .map(|w| {
                    let fixed = polymorphic
                        .iter()
                        .map(|&n| (n, ModelType::BitVec(Some(w))))
                        .collect();
                    (format!("i{w}"), fixed)
                })
                .collect()
        } else {
            program
                .term(root.term)
                .signatures
                .iter()
                .map(|sig| {
                    let types = sig.args.iter().chain(std::iter::once(&sig.ret)).cloned();
                    (
                        sig_label(program, root.term, sig),
                        nodes.iter().copied().zip(types).collect(),
                    )
                })
                .collect()
        };
    let own = own_inference(program, cond, roots).ok().flatten();
    let mut out = Vec::new();
    for (label, fixed) in candidates {
        let mut inf = base.clone();
        // The root cannot have these types: not a width of this rule,
        // unless only a condition about another rule says so (review 6).
        if !fixed
            .iter()
            .all(|(n, ty)| inf.require(graph, *n, ty).is_ok())
        {
            if let Some(own) = &own {
                let mut mine = own.inf.clone();
                let fits = fixed
                    .iter()
                    .all(|(n, ty)| mine.require(graph, *n, ty).is_ok());
                if fits && !mine.refutes(graph, enums, refuting) {
                    out.push((label.clone(), own.error(&label)));
                }
            }
            continue;
        }
        // The pattern's facts exclude it: inapplicable, as the search says
        // of any width it refutes.
        if inf.clone().refutes(graph, enums, refuting) {
            continue;
        }
        let Some(first) = first else {
            // No term has signatures: inference alone gave the one typing,
            // at the width the specs pin (a right-hand-side spec over 32
            // bits). The rule fires at this width too; if its specs type
            // here, inference found this typing, else that is the error.
            let Err(e) = inf.solve(graph, enums, roots, Mode::Complete) else {
                continue;
            };
            let d = Diagnostic::new(
                format!("this rule can fire at {label}, where its specs do not type: {}", e.message),
                e.span,
            )
            .with_note(format!(
                "no term of the rule has `instantiate` signatures, so its widths come from inference alone; the generated code applies the rule at {label} too: without a typing there it would go unchecked"
            ));
            out.push((label, d));
            continue;
        };
        let term = program.term(first.term);
        let occ = &cond.occurrences[first.occurrence];
        // Some signature fits: the search names and checks this width.
        let named = term.signatures.iter().any(|sig| {
            let mut next = inf.clone();
            occ.args
                .iter()
                .zip(&sig.args)
                .chain(std::iter::once((&occ.result, &sig.ret)))
                .all(|(&n, ty)| next.require(graph, n, ty).is_ok())
        });
        if named {
            continue;
        }
        let at = term
            .signatures
            .last()
            .map(|s| s.span)
            .or(term.spec.as_ref().map(|s| s.span))
            .unwrap_or(term.span);
        let d = Diagnostic::new(
            format!(
                "`{}` has no signature at {label}, where this rule can fire; add one to its `instantiate`",
                term.name
            ),
            at,
        )
        .with_note(format!(
            "the rule's instantiations are named by the signatures of `{}`, and the generated code applies the rule at {label} too: without a signature there it would go unchecked",
            term.name
        ));
        out.push((label, d));
    }
    out
}

/// The assumptions that decide whether the rule can apply at a width: the
/// left-hand side's (patterns, guards, the root's require and match) and
/// this expansion's choices (the chosen rule of a chained term, the matches
/// of partial right-hand-side terms). Not what the right-hand side's specs
/// provide: a width at which only those are contradictory is one where the
/// rule fires and its right-hand side's specs contradict each other, an
/// error, never a width to leave out. Nor priority assumptions: a width
/// only they exclude is shadowed, which the solver decides. Nor what a
/// condition about another rule says of its Skolem outputs: a spec there
/// that types only at some width (a guard's `(= result v)` with a 64-bit
/// result) says nothing of where this rule applies (review 6: it made a
/// lower rule's other widths vanish).
fn refuting_facts(cond: &Condition) -> Vec<NodeId> {
    use crate::condition::Origin;
    cond.assumptions
        .iter()
        .filter(|c| {
            c.side != Side::Rhs && !matches!(c.origin, Origin::Priority(_) | Origin::Skolem(_))
        })
        .map(|c| c.node)
        .collect()
}

/// What became of one signature of the first instantiated term.
#[derive(Clone, Debug, Default)]
struct Primary {
    admitted: bool,
    typed: bool,
    error: Option<Diagnostic>,
    /// A term of the left-hand side none of whose signatures fits.
    gap: Option<String>,
    /// Any other term none of whose signatures fits.
    missing: Option<String>,
}

/// Whether a clause comes from the spec of the term `name`.
fn names(origin: &crate::condition::Origin, name: &str) -> bool {
    use crate::condition::Origin;
    matches!(origin, Origin::Provide(t) | Origin::Require(t) | Origin::Match(t) if t == name)
}

struct Search<'a> {
    program: &'a Program,
    cond: &'a Condition,
    roots: &'a [NodeId],
    /// The facts that may show an instantiation cannot apply (see
    /// [`refuting_facts`]).
    refuting: &'a [NodeId],
    found: Vec<(Vec<String>, Typing)>,
    first_error: Option<Diagnostic>,
    chosen: Vec<usize>,
    /// Per signature of the first slot: whether the pattern admits it,
    /// whether some combination typed, and the first type error.
    primary: Vec<Primary>,
}

impl Search<'_> {
    fn go(&mut self, inf: Inference, slot: usize) {
        let graph = &self.cond.graph;
        let enums = &self.program.enums;
        if slot == self.cond.slots.len() {
            let snapshot = inf.clone();
            match inf.solve(graph, enums, self.roots, Mode::Complete) {
                Ok(typing) => {
                    let labels = self.slot_labels(&typing);
                    self.found.push((labels, typing));
                    if let Some(&i) = self.chosen.first() {
                        self.primary[i].typed = true;
                    }
                }
                // Ill-typed, but its facts cannot hold here anyway (a chained
                // rule for another type): inapplicable, not an error.
                Err(_) if snapshot.refutes(graph, enums, self.refuting) => {
                    if let Some(&i) = self.chosen.first() {
                        self.primary[i].typed = true;
                    }
                }
                Err(e) => {
                    let primary_unset = self
                        .chosen
                        .first()
                        .is_some_and(|&i| self.primary[i].error.is_none());
                    if self.first_error.is_none() || primary_unset {
                        let sigs: Vec<String> = self
                            .chosen
                            .iter()
                            .zip(&self.cond.slots)
                            .map(|(&i, s)| {
                                let sig = &self.program.term(s.term).signatures[i];
                                format!(
                                    "{} {}",
                                    self.program.term(s.term).name,
                                    show_sig(self.program, sig)
                                )
                            })
                            .collect();
                        let mut d = Diagnostic::new(format!("type error: {}", e.message), e.span);
                        if !sigs.is_empty() {
                            d = d.with_note(format!("with {}", sigs.join(", ")));
                        }
                        if let Some(&i) = self.chosen.first() {
                            self.primary[i].error.get_or_insert_with(|| d.clone());
                        }
                        self.first_error.get_or_insert(d);
                    }
                }
            }
            return;
        }
        let s = &self.cond.slots[slot];
        let occ = &self.cond.occurrences[s.occurrence];
        let mut admitted = false;
        for (i, sig) in self.program.term(s.term).signatures.iter().enumerate() {
            let mut next = inf.clone();
            let ok = occ
                .args
                .iter()
                .zip(&sig.args)
                .chain(std::iter::once((&occ.result, &sig.ret)))
                .all(|(&n, ty)| next.require(graph, n, ty).is_ok());
            if ok {
                admitted = true;
                if slot == 0 {
                    self.primary[i].admitted = true;
                }
                self.chosen.push(i);
                self.go(next, slot + 1);
                self.chosen.pop();
            }
        }
        // No signature of a nested term fits, but the facts chosen so far
        // cannot hold anyway (`(ty_16_to_64 ty)` at i8, where no `uextend`
        // produces an i8): inapplicable there, not an error.
        if !admitted && slot > 0 {
            if let Some(&i) = self.chosen.first() {
                if inf.refutes(graph, enums, self.refuting) {
                    self.primary[i].typed = true;
                } else if occ.side == Side::Lhs && is_ir_operation(self.program, s.term) {
                    // An IR operation with no signature here: the input it
                    // matches does not exist at this type (`(fits_in_64 ty)`
                    // admits i8, but no `uextend` has an i8 result), so the
                    // rule is inapplicable there, with that reason.
                    //
                    // Any other pattern term is no such term: an extractor
                    // (or a macro whose expansion has signatures of its own)
                    // whose signatures leave a type out says nothing of what
                    // the generated code matches, which calls it at every
                    // type; that stays an error, never an instantiation
                    // quietly left unchecked.
                    let name = &self.program.term(s.term).name;
                    self.primary[i].gap.get_or_insert_with(|| name.clone());
                } else {
                    let name = &self.program.term(s.term).name;
                    self.primary[i].missing.get_or_insert_with(|| name.clone());
                }
            }
        }
    }

    /// The label of every slot's chosen signature (the root's types when
    /// there are no slots).
    fn slot_labels(&self, typing: &Typing) -> Vec<String> {
        let widths = |nodes: &[(NodeId, bool)]| -> String {
            let ws: Vec<u32> = nodes
                .iter()
                .filter(|(_, shown)| *shown)
                .filter_map(|&(n, _)| typing.ty(n).and_then(Ty::width))
                .collect();
            label_of(&ws)
        };
        if self.cond.slots.is_empty() {
            let nodes: Vec<(NodeId, bool)> = self
                .cond
                .root_args
                .iter()
                .copied()
                .chain(self.cond.root_result)
                .map(|n| (n, true))
                .collect();
            return vec![widths(&nodes)];
        }
        self.cond
            .slots
            .iter()
            .map(|s| {
                let occ = &self.cond.occurrences[s.occurrence];
                let term = &self.program.terms.terms[s.term.index()];
                // Arguments whose ISLE type fixes the width (an `Imm64`) say
                // nothing about the instantiation; leave them out.
                let polymorphic =
                    |ty| matches!(self.program.model(ty), Some(ModelType::BitVec(None)));
                let nodes: Vec<(NodeId, bool)> = occ
                    .args
                    .iter()
                    .zip(&term.arg_tys)
                    .map(|(&n, &ty)| (n, polymorphic(ty)))
                    .chain(std::iter::once((occ.result, true)))
                    .collect();
                widths(&nodes)
            })
            .collect()
    }
}

/// Whether `term` is an IR operation: an extractor macro whose spec is
/// what it means (its expansion, over `inst_data`, applies no term with a
/// spec; only the shipped semantics may define one). Its signatures are
/// the types the instruction exists at.
fn is_ir_operation(program: &Program, term: cranelift_isle::sema::TermId) -> bool {
    let info = program.term(term);
    info.template.is_some() && info.spec.is_some() && !info.obligation
}

/// `i8` when every width is 8; `i64->i8` and `i8,i64->i8` otherwise (the
/// last width is the result); `default` without bitvectors.
pub(crate) fn label_of(widths: &[u32]) -> String {
    match widths {
        [] => "default".into(),
        [w, rest @ ..] if rest.iter().all(|x| x == w) => format!("i{w}"),
        [args @ .., ret] => {
            let mut a: Vec<String> = args.iter().map(|w| format!("i{w}")).collect();
            a.dedup();
            format!("{}->i{ret}", a.join(","))
        }
    }
}

fn show_sig(program: &Program, sig: &loweq_dsl::Signature) -> String {
    let args: Vec<String> = sig
        .args
        .iter()
        .map(|a| a.display(&program.enums).to_string())
        .collect();
    format!(
        "(args {}) (ret {})",
        args.join(" "),
        sig.ret.display(&program.enums)
    )
}

/// Names each instance by its first slot's label; where several share one,
/// adds the first other slot whose label tells them apart.
fn name(program: &Program, cond: &Condition, found: Vec<(Vec<String>, Typing)>) -> Vec<Instance> {
    let primary: Vec<&String> = found.iter().map(|(l, _)| &l[0]).collect();
    let mut out = Vec::new();
    for (i, (labels, typing)) in found.iter().enumerate() {
        let twins: Vec<usize> = (0..found.len())
            .filter(|&j| primary[j] == primary[i])
            .collect();
        let mut label = labels[0].clone();
        if twins.len() > 1 {
            // Signatures inside chained rules are details of the expansion:
            // instances that differ only there share a label (and their
            // verdicts are merged).
            let distinguishing = (1..labels.len()).find(|&k| {
                !cond.slots[k].chained && twins.iter().any(|&j| found[j].0[k] != labels[k])
            });
            match distinguishing {
                Some(k) => {
                    let term = &program.term(cond.slots[k].term).name;
                    label = format!("{label} ({term} {})", labels[k]);
                }
                None if cond.slots.iter().any(|s| s.chained) => {}
                None => {
                    label = format!(
                        "{label} #{}",
                        twins.iter().position(|&j| j == i).unwrap_or(0) + 1
                    )
                }
            }
        }
        out.push(Instance {
            label,
            typing: typing.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::label_of;

    #[test]
    fn labels() {
        assert_eq!(label_of(&[8, 8, 8]), "i8");
        assert_eq!(label_of(&[64, 8]), "i64->i8");
        assert_eq!(label_of(&[8, 64, 8]), "i8,i64->i8");
        assert_eq!(label_of(&[]), "default");
    }
}
