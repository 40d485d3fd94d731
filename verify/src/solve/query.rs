//! Queries: one check of a set of base facts on a fresh solver, with its
//! timeout, cancellation and, for pure bitvector queries, the strategies
//! tried in turn ([`QF_BV_STRATEGIES`]); the reason of an unknown answer;
//! the query in SMT-LIB.

use std::time::Duration;

use z3::ast::Bool;
use z3::{Model, Params, SatResult, Solver, Tactic};

use super::CANCELLED;
use crate::cancel::Cancel;

/// The answer to one query.
pub(super) enum Answer {
    /// Satisfiable, with a model.
    Sat(Model),
    /// Unsatisfiable.
    Unsat,
    /// Not answered, with the reason.
    Unknown(String),
}

/// Runs queries over a fixed set of base facts.
pub(super) struct Queries<'c> {
    /// The facts every query asserts.
    pub(super) base: Vec<Bool>,
    /// The logic of the queries (`QF_BV` for pure bitvector ones), or
    /// none for z3's default solver.
    pub(super) logic: Option<&'static str>,
    /// The time each query may take.
    pub(super) timeout: Duration,
    /// Stops the queries.
    pub(super) cancel: &'c Cancel,
    /// Queries made.
    pub(super) count: u32,
    /// Queries answered `unknown`.
    pub(super) unknowns: u32,
}

impl Queries<'_> {
    /// Checks the base facts together with `extra`, on a fresh solver.
    /// Pure bitvector queries try two strategies in turn (see
    /// [`QF_BV_STRATEGIES`]), each on a fresh solver, the last with the
    /// rest of the time.
    pub(super) fn check(&mut self, extra: &[Bool]) -> Answer {
        self.count += 1;
        let answer = self.answer(extra);
        if matches!(answer, Answer::Unknown(_)) {
            self.unknowns += 1;
        }
        answer
    }

    /// The answer of [`Queries::check`].
    fn answer(&self, extra: &[Bool]) -> Answer {
        if self.logic != Some("QF_BV") {
            let solver = self
                .logic
                .and_then(Solver::new_for_logic)
                .unwrap_or_default();
            return self.run(&solver, extra, self.timeout, None);
        }
        let start = std::time::Instant::now();
        let mut answer = Answer::Unknown(String::new());
        for (i, (strategy, budget)) in QF_BV_STRATEGIES.iter().enumerate() {
            let left = self.timeout.saturating_sub(start.elapsed());
            if left.is_zero() {
                break;
            }
            let last = i + 1 == QF_BV_STRATEGIES.len();
            answer = self.run(&strategy(), extra, left, *budget);
            match &answer {
                Answer::Unknown(r) if !last && r == OVER_BUDGET => continue,
                _ => break,
            }
        }
        if let Answer::Unknown(r) = &answer {
            if r.is_empty() || r == OVER_BUDGET {
                return Answer::Unknown(format!("the solver timed out after {:?}", self.timeout));
            }
        }
        answer
    }

    /// One check of the base facts and `extra` on `solver`, stopped after
    /// `time` or, with a budget, after that many of z3's resource units.
    fn run(&self, solver: &Solver, extra: &[Bool], time: Duration, budget: Option<u32>) -> Answer {
        let mut params = Params::new();
        let ms = u32::try_from(time.as_millis()).unwrap_or(u32::MAX).max(1);
        params.set_u32("timeout", ms);
        if let Some(units) = budget {
            params.set_u32("rlimit", units);
        }
        // z3 would otherwise take SIGINT for itself during a check, stopping
        // that one query; Ctrl-C belongs to the caller (see `Cancel`).
        params.set_bool("ctrl_c", false);
        solver.set_params(&params);
        for b in self.base.iter().chain(extra) {
            solver.assert(b);
        }
        let start = std::time::Instant::now();
        let Some(result) = self.cancel.run(Some(time), || solver.check()) else {
            return Answer::Unknown(CANCELLED.into());
        };
        // z3 says "canceled" both when the time is up and when the budget
        // is used up; the time tells which.
        let in_time = start.elapsed() < time;
        match result {
            SatResult::Unsat => Answer::Unsat,
            SatResult::Sat => match solver.get_model() {
                Some(m) => Answer::Sat(m),
                None => Answer::Unknown("the solver found a model but did not return it".into()),
            },
            SatResult::Unknown => {
                let r = solver.get_reason_unknown().unwrap_or_default();
                Answer::Unknown(if self.cancel.is_cancelled() {
                    CANCELLED.into()
                } else {
                    unknown_reason(&r, budget.is_some() && in_time, self.timeout)
                })
            }
        }
    }
}

/// Why a query that was not cancelled is unknown, from z3's reason `r`:
/// [`OVER_BUDGET`] when a budgeted query stopped before its time was up,
/// a timeout when its time was up (z3's timer says "timeout" or
/// "canceled"; the watchdog's interrupt, for a timer z3 missed,
/// "interrupted"), else z3 gave up.
fn unknown_reason(r: &str, budgeted_in_time: bool, timeout: Duration) -> String {
    if budgeted_in_time && (r.contains("resource") || r.contains("canceled")) {
        OVER_BUDGET.into()
    } else if r.contains("timeout") || r.contains("canceled") || r.contains("interrupted") {
        format!("the solver timed out after {timeout:?}")
    } else if r.is_empty() {
        "the solver gave up".into()
    } else {
        format!("the solver gave up ({r})")
    }
}

/// A way to make a solver.
type Strategy = fn() -> Solver;

/// The reason of an unknown answer from a strategy that used up its
/// budget (not reported: the next strategy runs).
const OVER_BUDGET: &str = "over budget";

/// The strategies a pure bitvector query tries, in turn, each with its
/// budget of z3's resource units (the last without one); all within the
/// query's timeout. Budgets count work, not time, so that the choice does
/// not depend on how loaded the machine is.
///
/// First z3's `qfbv` tactic after substituting away every variable that an
/// equation defines (`solve-eqs`). A rule's two sides often compute the
/// same term over different variables that the facts equate (a register
/// and the value it holds); substituting first makes the terms identical,
/// where `qfbv`'s own preprocessing (which solves only equations of
/// variables that occur rarely) may leave the solver to prove two 128-bit
/// multipliers equal: seconds against microseconds for a signed 64-bit
/// `smulhi`. Some queries go the other way (a narrow remainder: a third of
/// a second with `qfbv` alone, far longer after the substitution), hence
/// `qfbv` alone next. Two million units are about a second of z3's work.
const QF_BV_STRATEGIES: &[(Strategy, Option<u32>)] =
    &[(substituted_qf_bv, Some(2_000_000)), (plain_qf_bv, None)];

fn substituted_qf_bv() -> Solver {
    Tactic::new("simplify")
        .and_then(&Tactic::new("propagate-values"))
        .and_then(&Tactic::new("solve-eqs"))
        .and_then(&Tactic::new("qfbv"))
        .solver()
}

fn plain_qf_bv() -> Solver {
    Solver::new_for_logic("QF_BV").unwrap_or_default()
}

/// The verification query in SMT-LIB, for debugging the encoding.
pub(super) fn smt2(base: &[Bool], violated: &Bool) -> String {
    let solver = Solver::new();
    for b in base {
        solver.assert(b);
    }
    solver.assert(violated);
    solver.to_smt2()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupt_of_the_watchdog_is_a_timeout() {
        let t = Duration::from_millis(300);
        assert_eq!(
            unknown_reason("interrupted", false, t),
            "the solver timed out after 300ms"
        );
        assert_eq!(
            unknown_reason("canceled", false, t),
            "the solver timed out after 300ms"
        );
        assert_eq!(unknown_reason("canceled", true, t), OVER_BUDGET);
        assert_eq!(
            unknown_reason("max. resource limit exceeded", true, t),
            OVER_BUDGET
        );
        assert_eq!(
            unknown_reason("incomplete quantifiers", false, t),
            "the solver gave up (incomplete quantifiers)"
        );
        assert_eq!(unknown_reason("", false, t), "the solver gave up");
    }
}
