//! Verdicts without a counterexample: verified, inapplicable, shadowed (by
//! which higher-priority rules), or the error of a right-hand side whose
//! specs contradict each other.

use std::time::Duration;

use loweq_dsl::Diagnostic;
use z3::ast::Bool;

use super::encoded::Encoded;
use super::query::{Answer, Queries};
use super::Outcome;
use crate::cancel::Cancel;
use crate::condition::{Condition, Origin, Side};
use crate::report::Verdict;

/// No counterexample: do the assumptions hold anywhere? Verified where
/// they do; where they do not, inapplicable (the rule cannot match here, or
/// this expansion's choice of chained rules does not apply), shadowed (by
/// which rules) or an error (the right-hand side's specs contradict each
/// other), the left-hand side judged on its own facts.
pub(super) fn without_counterexample(
    cond: &Condition,
    e: &Encoded<'_>,
    q: &mut Queries<'_>,
    timeout: Duration,
    cancel: &Cancel,
) -> Outcome {
    match q.check(&[]) {
        Answer::Sat(_) => Outcome::new(Verdict::Verified, q.count, None),
        Answer::Unknown(r) => Outcome::new(
            Verdict::Unknown,
            q.count,
            Some(format!("{r} checking that the rule applies")),
        ),
        // Nowhere. Because the rule cannot match here, or this expansion's
        // choice of chained rules does not apply (inapplicable), or
        // because the right-hand side's specs contradict each other,
        // which would make anything "verified" (an error)?
        Answer::Unsat => {
            let again_with = |logic: Option<&'static str>, base: Vec<Bool>, count: u32| {
                let mut q2 = Queries {
                    base,
                    logic,
                    timeout,
                    cancel,
                    count,
                    unknowns: 0,
                };
                (q2.check(&[]), q2.count)
            };
            let again = |base: Vec<Bool>, count: u32| again_with(e.lhs_logic, base, count);
            let wellformed = &e.wellformed;
            let (selected_away, count) = again_with(
                q.logic,
                wellformed
                    .iter()
                    .cloned()
                    .chain(e.defined.clone())
                    .collect(),
                q.count,
            );
            match selected_away {
                Answer::Sat(_) => inapplicable(count),
                Answer::Unknown(r) => Outcome::new(
                    Verdict::Unknown,
                    count,
                    Some(format!("{r} checking that the rule applies")),
                ),
                Answer::Unsat => {
                    let base = |extra: Vec<Bool>| -> Vec<Bool> {
                        e.lhs_wellformed.iter().cloned().chain(extra).collect()
                    };
                    match again(base(e.lhs.clone()), count) {
                        (Answer::Unsat, count) if e.priority.is_empty() => inapplicable(count),
                        (Answer::Unsat, count) => {
                            shadowed(&e.plain, &e.priority, |extra| again(base(extra), 0), count)
                        }
                        (Answer::Unknown(r), count) => Outcome::new(
                            Verdict::Unknown,
                            count,
                            Some(format!("{r} checking that the rule applies")),
                        ),
                        (Answer::Sat(_), count) => {
                            let mut o = Outcome::new(Verdict::Error, count, None);
                            o.error = Some(contradiction(cond));
                            o
                        }
                    }
                }
            }
        }
    }
}

/// The left-hand side cannot hold with the priority assumptions: without
/// them, is it only shadowed, and by which rules? The rules named are a
/// minimal set whose not matching leaves no input.
fn shadowed(
    plain: &[Bool],
    priority: &[(String, Bool)],
    mut check: impl FnMut(Vec<Bool>) -> (Answer, u32),
    mut count: u32,
) -> Outcome {
    let mut ask = |extra: Vec<Bool>| {
        let (a, n) = check(extra);
        count += n;
        a
    };
    match ask(plain.to_vec()) {
        Answer::Unsat => return inapplicable(count),
        Answer::Unknown(r) => {
            return Outcome::new(
                Verdict::Unknown,
                count,
                Some(format!("{r} checking that the rule applies")),
            )
        }
        Answer::Sat(_) => {}
    }
    let mut needed: Vec<&(String, Bool)> = priority.iter().collect();
    let mut exact = true;
    let mut i = 0;
    while i < needed.len() {
        let without: Vec<Bool> = plain
            .iter()
            .cloned()
            .chain(
                needed
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, (_, b))| b.clone()),
            )
            .collect();
        match ask(without) {
            Answer::Unsat => {
                needed.remove(i);
            }
            Answer::Unknown(_) => {
                exact = false;
                i += 1;
            }
            Answer::Sat(_) => i += 1,
        }
    }
    let mut names: Vec<String> = needed.iter().map(|(n, _)| n.clone()).collect();
    names.dedup();
    let mut o = Outcome::new(
        Verdict::Shadowed,
        count,
        Some(format!(
            "every input it matches here is taken by {}",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    );
    o.shadowed_by = names;
    o.exact = exact;
    o
}

/// The outcome of an instantiation whose left-hand side cannot match,
/// after `queries` queries.
pub(super) fn inapplicable(queries: u32) -> Outcome {
    Outcome::new(
        Verdict::Inapplicable,
        queries,
        Some("the left-hand side cannot match at this type".into()),
    )
}

/// The right-hand side's specs admit no behaviour for inputs the rule
/// matches: a proof would be vacuous.
pub(super) fn contradiction(cond: &Condition) -> Diagnostic {
    let span = cond
        .assumptions_on(Side::Rhs)
        .next()
        .or(cond.assumptions.first())
        .map(|c| c.span)
        .unwrap_or_default();
    let mut d = Diagnostic::new(
        "the specs of the right-hand side contradict each other where the rule applies",
        span,
    )
    .with_label("one of the specs involved")
    .with_note("no machine behaviour satisfies them, so nothing about the rule could be proved");
    let terms: Vec<String> = cond
        .assumptions_on(Side::Rhs)
        .filter_map(|c| match &c.origin {
            Origin::Provide(t) | Origin::Match(t) => Some(format!("`{t}`")),
            _ => None,
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !terms.is_empty() {
        d = d.with_note(format!(
            "the terms on the right-hand side: {}",
            terms.join(", ")
        ));
    }
    d
}
