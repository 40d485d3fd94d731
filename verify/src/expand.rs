//! Expansion plans: which rule of each `(veri chain)` term a verification
//! condition inlines. A rule that calls chained terms is verified once per
//! combination of their rules; each combination is a [`Plan`].

use cranelift_isle::sema::{Expr, RuleId, TermId};
use loweq_dsl::{Diagnostic, Program};

/// How deep chained terms may call chained terms.
const MAX_DEPTH: usize = 8;
/// How many expansions one rule may have.
const MAX_PLANS: usize = 512;

/// What an expansion does at one call of a chained term.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// Inline this rule of the term.
    Rule(RuleId),
    /// Prove that some rule of the term matches the call's arguments (else
    /// the generated selector panics), and check nothing else: later
    /// chained calls in this expansion are left opaque.
    Cover(TermId),
}

/// One expansion: what to do at each chained call, in the order the
/// condition builder meets them (arguments before calls, `if-let`s before
/// the right-hand side).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The choices.
    pub choices: Vec<Choice>,
}

impl Plan {
    /// Whether this expansion only checks that a chained term is covered.
    pub fn covers(&self) -> bool {
        matches!(self.choices.last(), Some(Choice::Cover(_)))
    }
}

/// A plan being built; a closed one (ending in `Cover`) takes no more choices.
type Partial = (Vec<Choice>, bool);

/// All expansions of `rule`.
pub fn plans(program: &Program, rule: RuleId) -> Result<Vec<Plan>, Diagnostic> {
    let r = &program.terms.rules[rule.index()];
    let mut acc: Vec<Partial> = vec![(Vec::new(), false)];
    for il in &r.iflets {
        acc = walk(program, &il.rhs, acc, 0)?;
    }
    acc = walk(program, &r.rhs, acc, 0)?;
    Ok(acc
        .into_iter()
        .map(|(choices, _)| Plan { choices })
        .collect())
}

/// Whether a term is declared `partial` (may fail without panicking).
pub fn is_partial(program: &Program, term: TermId) -> bool {
    matches!(
        program.terms.terms[term.index()].kind,
        cranelift_isle::sema::TermKind::Decl {
            flags: cranelift_isle::sema::TermFlags { partial: true, .. },
            ..
        }
    )
}

/// The rules of a term, highest priority first, then in source order.
pub fn rules_of(program: &Program, term: TermId) -> Vec<RuleId> {
    let mut rules: Vec<_> = program
        .terms
        .rules
        .iter()
        .filter(|r| r.root_term == term)
        .collect();
    rules.sort_by_key(|r| (std::cmp::Reverse(r.prio), r.id.index()));
    rules.into_iter().map(|r| r.id).collect()
}

fn walk(
    program: &Program,
    e: &Expr,
    acc: Vec<Partial>,
    depth: usize,
) -> Result<Vec<Partial>, Diagnostic> {
    match e {
        Expr::Term(_, tid, args) => {
            let mut acc = acc;
            for a in args {
                acc = walk(program, a, acc, depth)?;
            }
            let info = program.term(*tid);
            if !info.chain {
                return Ok(acc);
            }
            if depth >= MAX_DEPTH {
                return Err(Diagnostic::new(
                    format!(
                        "chaining through `{}` nests more than {MAX_DEPTH} deep",
                        info.name
                    ),
                    info.span,
                )
                .with_note("is a chained term calling itself?"));
            }
            // Closed plans pass the call by; open ones branch over the
            // term's rules, plus one branch that checks the call is covered.
            let (closed, open): (Vec<Partial>, Vec<Partial>) = acc.into_iter().partition(|p| p.1);
            let mut out = closed;
            if open.is_empty() {
                return Ok(out);
            }
            if !is_partial(program, *tid) {
                out.extend(open.iter().map(|(c, _)| {
                    let mut c = c.clone();
                    c.push(Choice::Cover(*tid));
                    (c, true)
                }));
            }
            for rid in rules_of(program, *tid) {
                let rule = &program.terms.rules[rid.index()];
                let mut branch: Vec<Partial> = open
                    .iter()
                    .map(|(c, _)| {
                        let mut c = c.clone();
                        c.push(Choice::Rule(rid));
                        (c, false)
                    })
                    .collect();
                for il in &rule.iflets {
                    branch = walk(program, &il.rhs, branch, depth + 1)?;
                }
                branch = walk(program, &rule.rhs, branch, depth + 1)?;
                out.extend(branch);
                if out.len() > MAX_PLANS {
                    return Err(Diagnostic::new(
                        format!(
                            "chaining through `{}` gives more than {MAX_PLANS} expansions",
                            info.name
                        ),
                        info.span,
                    ));
                }
            }
            Ok(out)
        }
        Expr::Let { bindings, body, .. } => {
            let mut acc = acc;
            for (_, _, v) in bindings {
                acc = walk(program, v, acc, depth)?;
            }
            walk(program, body, acc, depth)
        }
        _ => Ok(acc),
    }
}
