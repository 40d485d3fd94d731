//! `loweq coverage`: for every IR operation of `semantics/spec/clif/` and
//! every type it has, which rules lower it and whether they verified.
//!
//! A rule lowers the outermost IR operation of its `lower` pattern (the
//! first term with `instantiate` signatures, which also names the rule's
//! instantiations). A *cell* is an operation at one type: the type CLIF
//! controls it by, the result's, or, for an operation whose result type
//! never varies (`icmp`, the stores), its first operand's. A cell holds
//! every signature of the operation at that type (`ishl` at i8 has four,
//! one per amount type), and is
//!
//! - *verified* when every signature has a *general* rule verified there
//!   (one that matches every instruction of the operation: its operands are
//!   variables, or patterns that only read their type, and it has no
//!   `if-let`) and every rule that applies there verified;
//! - *unverified* when a rule that applies there did not verify
//!   (counterexample, unknown or error);
//! - *uncovered* otherwise: a signature no rule lowers, or that only rules
//!   matching some of its instructions (an immediate operand) lower.
//!
//! Inapplicable and shadowed instantiations do not lower a cell.

use loweq_dsl::Program;
use loweq_semantics::expr::{Expr, ExprKind, LocalId};
use loweq_semantics::op::Op;
use loweq_semantics::span::Span;
use loweq_semantics::ty::ModelType;
use loweq_verify::{Report, Verdict};

use cranelift_isle::sema::{ExtractorKind, Pattern, Rule, TermId, TermKind};

pub mod report;

/// The directory whose operations are the rows of the table.
const IR_SPECS: &str = "semantics/spec/clif/";

/// One rule's verdict at one signature of a cell.
#[derive(Clone, Debug)]
pub struct RuleAt {
    /// The rule's name.
    pub rule: String,
    /// Its source.
    pub span: Span,
    /// Whether it matches every instruction of the operation.
    pub general: bool,
    /// The instantiation's name.
    pub label: String,
    /// Its verdict there.
    pub verdict: Verdict,
}

/// One signature of a cell and the rules that apply there.
#[derive(Clone, Debug)]
pub struct SigCell {
    /// The signature's instantiation label (`i8,i64->i8`).
    pub label: String,
    /// The rules that apply (neither inapplicable nor shadowed).
    pub rules: Vec<RuleAt>,
}

/// A cell's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Lowered at every signature by a general verified rule, and every
    /// rule that applies verified.
    Verified,
    /// Some signature has no general verified rule.
    Uncovered,
    /// A rule that applies did not verify.
    Unverified,
}

impl Status {
    /// The status's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Status::Verified => "verified",
            Status::Uncovered => "uncovered",
            Status::Unverified => "unverified",
        }
    }
}

/// An IR operation at one type.
#[derive(Clone, Debug)]
pub struct Cell {
    /// The operation's term name.
    pub op: String,
    /// The type's width.
    pub width: u32,
    /// Its signatures, in declaration order.
    pub sigs: Vec<SigCell>,
}

impl Cell {
    /// The distinct rules that apply somewhere in the cell.
    pub fn rules(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for r in self.sigs.iter().flat_map(|s| &s.rules) {
            if !names.contains(&r.rule.as_str()) {
                names.push(&r.rule);
            }
        }
        names
    }

    /// The rules at a signature that did not verify.
    pub fn failures(&self) -> impl Iterator<Item = &RuleAt> {
        self.sigs
            .iter()
            .flat_map(|s| &s.rules)
            .filter(|r| r.verdict != Verdict::Verified)
    }

    /// The signatures without a general verified rule.
    pub fn missing(&self) -> impl Iterator<Item = &SigCell> {
        self.sigs.iter().filter(|s| {
            !s.rules
                .iter()
                .any(|r| r.general && r.verdict == Verdict::Verified)
        })
    }

    /// The cell's verdict.
    pub fn status(&self) -> Status {
        if self.failures().next().is_some() {
            Status::Unverified
        } else if self.missing().next().is_some() {
            Status::Uncovered
        } else {
            Status::Verified
        }
    }
}

/// The coverage of one program.
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    /// Every cell, by operation (in declaration order), then width.
    pub cells: Vec<Cell>,
    /// The verified rules that lower no IR operation (their root is not
    /// `lower`, or their pattern names no operation).
    pub other_rules: Vec<String>,
}

impl Coverage {
    /// How many cells have the status.
    pub fn count(&self, s: Status) -> usize {
        self.cells.iter().filter(|c| c.status() == s).count()
    }

    /// Whether every cell verified.
    pub fn complete(&self) -> bool {
        self.cells.iter().all(|c| c.status() == Status::Verified)
    }
}

/// The IR operations: terms declared in `semantics/spec/clif/` with
/// `instantiate` signatures.
fn ir_ops(program: &Program) -> Vec<TermId> {
    (0..program.term_info.len())
        .map(TermId)
        .filter(|&t| {
            let info = program.term(t);
            !info.signatures.is_empty()
                && program
                    .sources
                    .file(info.span.file)
                    .name
                    .starts_with(IR_SPECS)
        })
        .collect()
}

fn width(m: &ModelType) -> Option<u32> {
    match m {
        ModelType::BitVec(Some(w)) => Some(*w),
        _ => None,
    }
}

/// The controlling width of each signature of an operation: the result's,
/// unless every signature has the same result width; then the first
/// argument whose width the signature chooses.
fn controlling_widths(program: &Program, op: TermId) -> Vec<Option<u32>> {
    let sigs = &program.term(op).signatures;
    let rets: Vec<Option<u32>> = sigs.iter().map(|s| width(&s.ret)).collect();
    if sigs.len() > 1 && rets.iter().any(|r| *r != rets[0]) {
        return rets;
    }
    let arg_tys = &program.terms.terms[op.index()].arg_tys;
    sigs.iter()
        .map(|s| {
            s.args
                .iter()
                .zip(arg_tys)
                .find(|(_, &ty)| matches!(program.model(ty), Some(ModelType::BitVec(None))))
                .and_then(|(a, _)| width(a))
                .or_else(|| width(&s.ret))
        })
        .collect()
}

/// The outermost IR operation in a pattern, with its operand patterns,
/// and whether everything on the way to it matches every instruction of
/// the operation: each term it is nested in is an infallible extractor
/// or has a spec whose `match` reads only types ([`about_types`]),
/// and their other arguments, and the other patterns of an `and`, are
/// open ([`open`]) or about types (a type pattern only decides which cells
/// the rule is in). A fallible extractor around the operation
/// (`(even_value (iadd x y))`) makes the rule lower only some of its
/// instructions.
fn find_op<'p>(
    program: &Program,
    pat: &'p Pattern,
    ops: &[TermId],
) -> Option<(TermId, &'p [Pattern], bool)> {
    match pat {
        Pattern::BindPattern(_, _, sub) => find_op(program, sub, ops),
        Pattern::And(_, subs) => subs.iter().enumerate().find_map(|(i, s)| {
            let (op, args, path) = find_op(program, s, ops)?;
            let others = subs
                .iter()
                .enumerate()
                .all(|(j, o)| j == i || open(program, o));
            Some((op, args, path && others))
        }),
        Pattern::Term(_, t, args) if ops.contains(t) => Some((*t, args, true)),
        Pattern::Term(_, t, args) => args.iter().enumerate().find_map(|(i, a)| {
            let (op, op_args, path) = find_op(program, a, ops)?;
            let arg_tys = &program.terms.terms[t.index()].arg_tys;
            let total = infallible(program, *t)
                || program.term(*t).spec.as_ref().is_some_and(|s| {
                    let types: Vec<LocalId> = s
                        .params
                        .iter()
                        .zip(arg_tys)
                        .filter(|(_, &ty)| program.type_name(ty) == "Type")
                        .map(|(&l, _)| l)
                        .collect();
                    s.matches.iter().all(|m| about_types(m, &types))
                });
            let others = args.iter().enumerate().all(|(j, o)| {
                j == i
                    || arg_tys
                        .get(j)
                        .is_some_and(|&ty| program.type_name(ty) == "Type")
                    || open(program, o)
            });
            Some((op, op_args, path && total && others))
        }),
        _ => None,
    }
}

/// Whether a `match` clause reads only types: `Type` parameters (`types`)
/// and the widths of the others (`has_type`'s `(< 1 (widthof inst))`). Such
/// a clause decides which cells a rule is in (where it fails, the rule is
/// inapplicable), not which instructions of a cell it lowers.
fn about_types(e: &Expr, types: &[LocalId]) -> bool {
    match &e.kind {
        ExprKind::Const(_) => true,
        ExprKind::Local(l) => types.contains(l),
        ExprKind::Op(Op::WidthOf, args) => args
            .iter()
            .all(|a| matches!(a.kind, ExprKind::Local(_)) || about_types(a, types)),
        ExprKind::Op(_, args) => args.iter().all(|a| about_types(a, types)),
        _ => false,
    }
}

/// Whether an operand pattern matches every operand: a variable, a
/// wildcard, or extractors that read only the operand's type (their
/// arguments are all `Type`s, and they are infallible, or their spec has
/// no `match`, or what they match is itself a `Type`), whose own arguments are open or
/// constant types (`(value_type $I8)`, `(value_type (ty_8_or_16 t))`).
fn open(program: &Program, pat: &Pattern) -> bool {
    match pat {
        Pattern::Var(..) | Pattern::Wildcard(_) => true,
        Pattern::BindPattern(_, _, sub) => open(program, sub),
        Pattern::And(_, subs) => subs.iter().all(|s| open(program, s)),
        Pattern::Term(_, t, args) => {
            let term = &program.terms.terms[t.index()];
            let reads_type = !term.arg_tys.is_empty()
                && term
                    .arg_tys
                    .iter()
                    .all(|&ty| program.type_name(ty) == "Type");
            // A predicate on a type (`ty_8_or_16`, matching a `Type`) may
            // fail, but on the type alone, which each instantiation fixes:
            // it decides where the rule applies, not which instructions.
            let on_type = program.type_name(term.ret_ty) == "Type";
            let total = on_type
                || infallible(program, *t)
                || program
                    .term(*t)
                    .spec
                    .as_ref()
                    .is_some_and(|s| s.matches.is_empty());
            reads_type && total && args.iter().all(|a| open(program, a) || type_constant(a))
        }
        Pattern::ConstBool(..) | Pattern::ConstInt(..) | Pattern::ConstPrim(..) => false,
    }
}

/// Whether `t` is an external extractor declared `infallible`: it matches
/// every input (a `match` in its spec is proved wherever a rule uses it).
fn infallible(program: &Program, t: TermId) -> bool {
    matches!(
        program.terms.terms[t.index()].kind,
        TermKind::Decl {
            extractor_kind: Some(ExtractorKind::ExternalExtractor {
                infallible: true,
                ..
            }),
            ..
        }
    )
}

/// Whether a pattern in a `Type` position is a constant type (`$I8`): it
/// restricts the instantiations the rule applies at, and matches every
/// instruction at those, like a type predicate.
fn type_constant(pat: &Pattern) -> bool {
    match pat {
        Pattern::BindPattern(_, _, sub) => type_constant(sub),
        Pattern::ConstInt(..) | Pattern::ConstPrim(..) => true,
        _ => false,
    }
}

/// The IR operation a rule lowers, and whether it lowers all of its
/// instructions.
fn lowered(program: &Program, rule: &Rule, ops: &[TermId]) -> Option<(TermId, bool)> {
    if program.term(rule.root_term).name != "lower" {
        return None;
    }
    let (op, operands, path) = rule.args.iter().find_map(|a| find_op(program, a, ops))?;
    let general = rule.iflets.is_empty() && path && operands.iter().all(|p| open(program, p));
    Some((op, general))
}

/// Whether an instantiation label names the signature labelled `sig`
/// (twins get a suffix after a space).
fn label_is(label: &str, sig: &str) -> bool {
    label == sig || label.strip_prefix(sig).is_some_and(|r| r.starts_with(' '))
}

/// The coverage of a verified program.
pub fn coverage(program: &Program, report: &Report) -> Coverage {
    let ops = ir_ops(program);
    let mut cov = Coverage::default();
    // Per operation, its cells: (width, index in `cov.cells`).
    let mut rows: Vec<(TermId, Vec<(u32, usize)>)> = Vec::new();
    for &op in &ops {
        let info = program.term(op);
        let widths = controlling_widths(program, op);
        let mut cells: Vec<(u32, usize)> = Vec::new();
        for (sig, w) in info.signatures.iter().zip(widths) {
            let Some(w) = w else { continue };
            let label = loweq_verify::instances::sig_label(program, op, sig);
            let at = match cells.iter().find(|(cw, _)| *cw == w) {
                Some(&(_, ci)) => ci,
                None => {
                    cov.cells.push(Cell {
                        op: info.name.clone(),
                        width: w,
                        sigs: Vec::new(),
                    });
                    cells.push((w, cov.cells.len() - 1));
                    cov.cells.len() - 1
                }
            };
            cov.cells[at].sigs.push(SigCell {
                label,
                rules: Vec::new(),
            });
        }
        rows.push((op, cells));
    }
    for rr in &report.rules {
        let rule = program
            .rule_info
            .iter()
            .position(|r| r.name == rr.name)
            .map(|i| &program.terms.rules[i]);
        let Some((op, general)) = rule.and_then(|r| lowered(program, r, &ops)) else {
            cov.other_rules.push(rr.name.clone());
            continue;
        };
        let cells: Vec<usize> = rows
            .iter()
            .filter(|(o, _)| *o == op)
            .flat_map(|(_, cs)| cs.iter().map(|c| c.1))
            .collect();
        for inst in &rr.instances {
            if matches!(inst.verdict, Verdict::Inapplicable | Verdict::Shadowed) {
                continue;
            }
            let at = RuleAt {
                rule: rr.name.clone(),
                span: rr.span,
                general,
                label: inst.label.clone(),
                verdict: inst.verdict,
            };
            let mut placed = false;
            for &c in &cells {
                for s in &mut cov.cells[c].sigs {
                    if label_is(&inst.label, &s.label) {
                        s.rules.push(at.clone());
                        placed = true;
                    }
                }
            }
            // An instantiation no signature names (a rule that could not be
            // instantiated at all): a failure counts against every cell of
            // the operation; a success proves nothing about any of them.
            if !placed && inst.verdict != Verdict::Verified {
                for &c in &cells {
                    for s in &mut cov.cells[c].sigs {
                        s.rules.push(at.clone());
                    }
                }
            }
        }
    }
    cov.cells.sort_by_key(|c| {
        let row = ops
            .iter()
            .position(|&o| program.term(o).name == c.op)
            .unwrap_or(usize::MAX);
        (row, c.width)
    });
    cov
}

#[cfg(test)]
mod tests {
    use super::{label_is, Cell, RuleAt, SigCell, Status};
    use loweq_semantics::span::Span;
    use loweq_verify::Verdict;

    fn at(rule: &str, general: bool, verdict: Verdict) -> RuleAt {
        RuleAt {
            rule: rule.into(),
            span: Span::default(),
            general,
            label: "i8".into(),
            verdict,
        }
    }

    fn cell(sigs: Vec<Vec<RuleAt>>) -> Cell {
        Cell {
            op: "op".into(),
            width: 8,
            sigs: sigs
                .into_iter()
                .map(|rules| SigCell {
                    label: "i8".into(),
                    rules,
                })
                .collect(),
        }
    }

    #[test]
    fn a_cell_is_verified_only_when_every_signature_has_a_general_verified_rule() {
        use Verdict::*;
        let c = cell(vec![vec![
            at("a", true, Verified),
            at("b", false, Verified),
        ]]);
        assert_eq!(c.status(), Status::Verified);
        assert_eq!(c.rules(), vec!["a", "b"]);
        // Only a partial rule at one signature.
        let c = cell(vec![
            vec![at("a", true, Verified)],
            vec![at("b", false, Verified)],
        ]);
        assert_eq!(c.status(), Status::Uncovered);
        assert_eq!(c.missing().count(), 1);
        // No rule at one signature.
        let c = cell(vec![vec![at("a", true, Verified)], vec![]]);
        assert_eq!(c.status(), Status::Uncovered);
        // A rule that applies and did not verify, general or not.
        for v in [Counterexample, Unknown, Error] {
            let c = cell(vec![vec![at("a", true, Verified), at("b", false, v)]]);
            assert_eq!(c.status(), Status::Unverified);
            assert_eq!(c.failures().count(), 1);
        }
        let c = cell(vec![vec![at("a", true, Counterexample)]]);
        assert_eq!(c.status(), Status::Unverified);
    }

    #[test]
    fn labels_match_their_signature_and_its_twins_only() {
        assert!(label_is("i8", "i8"));
        assert!(label_is("i8 (iconst i8)", "i8"));
        assert!(label_is("i8 #2", "i8"));
        assert!(!label_is("i8,i64->i8", "i8"));
        assert!(!label_is("i8", "i8,i64->i8"));
        assert!(!label_is("i16", "i1"));
    }
}
