//! Expansion plans: which rule of each `(veri chain)` term a verification
//! condition inlines. A rule that calls chained terms is verified once per
//! combination of their rules; each combination is a [`Plan`].

use cranelift_isle::sema::{Expr, RuleId, TermId};
use loweq_dsl::{Diagnostic, Program};

/// How deep chained terms may call chained terms.
const MAX_DEPTH: usize = 8;
/// How many expansions one rule may have.
const MAX_PLANS: usize = 512;

/// One expansion: the rules chosen for the chained calls, in the order the
/// condition builder meets them (arguments before calls, `if-let`s before
/// the right-hand side).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The chosen rules.
    pub choices: Vec<RuleId>,
}

/// All expansions of `rule`.
pub fn plans(program: &Program, rule: RuleId) -> Result<Vec<Plan>, Diagnostic> {
    let r = &program.terms.rules[rule.index()];
    let mut acc = vec![Vec::new()];
    for il in &r.iflets {
        acc = walk(program, &il.rhs, acc, 0)?;
    }
    acc = walk(program, &r.rhs, acc, 0)?;
    Ok(acc.into_iter().map(|choices| Plan { choices }).collect())
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
    acc: Vec<Vec<RuleId>>,
    depth: usize,
) -> Result<Vec<Vec<RuleId>>, Diagnostic> {
    match e {
        Expr::Term(_, tid, args) => {
            let mut acc = acc;
            for a in args {
                acc = walk(program, a, acc, depth)?;
            }
            if !program.term(*tid).chain {
                return Ok(acc);
            }
            let info = program.term(*tid);
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
            let mut out = Vec::new();
            for rid in rules_of(program, *tid) {
                let rule = &program.terms.rules[rid.index()];
                let mut branch: Vec<Vec<RuleId>> = acc
                    .iter()
                    .map(|p| {
                        let mut p = p.clone();
                        p.push(rid);
                        p
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
