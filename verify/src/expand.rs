//! Expansion plans: which rule of each `(veri chain)` term a verification
//! condition inlines. A rule that calls chained terms is verified once per
//! combination of their rules; each combination is a [`Plan`]. Every call
//! of a term with rules that is not partial (chained, or with a spec the
//! callers assume) also gets a plan of its own that proves the call
//! covered by some rule of the term.

use cranelift_isle::sema::{Expr, RuleId, TermId};
use loweq_dsl::{Diagnostic, Program};

/// How deep chained terms may call chained terms.
const MAX_DEPTH: usize = 8;

/// How many expansions one rule may have unless told otherwise
/// (`Options::max_expansions`, `--max-expansions`).
pub const DEFAULT_MAX_EXPANSIONS: usize = 100_000;

/// What an expansion does at one call of a chained term.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// Inline this rule of the term.
    Rule(RuleId),
    /// Prove that some rule of the term matches the call's arguments (else
    /// the generated selector panics), and check nothing else: later
    /// chained calls in this expansion are left opaque.
    Cover(TermId),
    /// At a call of a term that [`needs_coverage`] without being chained:
    /// assume its spec (its rules are verified against that spec on their
    /// own); the expansion that chose [`Choice::Cover`] here instead proves
    /// that one of them matches.
    Assume(TermId),
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

/// What remains to walk in one branch of the enumeration.
#[derive(Clone, Copy)]
enum Task<'a> {
    /// Walk an expression (its arguments, then the call itself).
    Walk(&'a Expr, usize),
    /// Reached a call of this term, at this chaining depth.
    Call(TermId, usize),
}

/// The expansions of a rule, enumerated lazily (depth first), so that a
/// rule with many expansions is verified in constant memory: each is built,
/// checked and dropped before the next. Yields an error, and then nothing,
/// when chaining nests too deep or when there are more than the limit.
pub struct Plans<'a> {
    program: &'a Program,
    /// Branches not yet walked: the choices so far and the tasks left,
    /// last to walk on top.
    branches: Vec<(Vec<Choice>, Vec<Task<'a>>)>,
    limit: usize,
    count: usize,
    done: bool,
}

/// The expansions of `rule`, at most `limit` of them.
pub fn plans(program: &Program, rule: RuleId, limit: usize) -> Plans<'_> {
    let r = &program.terms.rules[rule.index()];
    let mut tasks = vec![Task::Walk(&r.rhs, 0)];
    tasks.extend(r.iflets.iter().rev().map(|il| Task::Walk(&il.rhs, 0)));
    Plans {
        program,
        branches: vec![(Vec::new(), tasks)],
        limit,
        count: 0,
        done: false,
    }
}

impl Iterator for Plans<'_> {
    type Item = Result<Plan, Diagnostic>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let plan = self.step();
        match &plan {
            Some(Ok(_)) => {
                self.count += 1;
                if self.count > self.limit {
                    self.done = true;
                    return Some(Err(Diagnostic::global(format!(
                        "this rule has more than {} expansions through chained terms",
                        self.limit
                    ))
                    .with_note(
                        "raise the limit with --max-expansions, or split the chained helpers",
                    )));
                }
            }
            Some(Err(_)) => self.done = true,
            None => self.done = true,
        }
        plan
    }
}

impl<'a> Plans<'a> {
    /// Walks branches until one is complete (a plan) or one fails.
    fn step(&mut self) -> Option<Result<Plan, Diagnostic>> {
        let program = self.program;
        while let Some((choices, mut tasks)) = self.branches.pop() {
            loop {
                let Some(task) = tasks.pop() else {
                    return Some(Ok(Plan { choices }));
                };
                match task {
                    Task::Walk(Expr::Term(_, tid, args), depth) => {
                        tasks.push(Task::Call(*tid, depth));
                        tasks.extend(args.iter().rev().map(|a| Task::Walk(a, depth)));
                    }
                    Task::Walk(Expr::Let { bindings, body, .. }, depth) => {
                        tasks.push(Task::Walk(body, depth));
                        tasks.extend(bindings.iter().rev().map(|(_, _, v)| Task::Walk(v, depth)));
                    }
                    Task::Walk(_, _) => {}
                    Task::Call(tid, depth) => {
                        let info = program.term(tid);
                        if !info.chain {
                            if needs_coverage(program, tid) {
                                // Two branches: the spec assumed (walked
                                // first), and the call's coverage proved.
                                let mut c = choices.clone();
                                c.push(Choice::Cover(tid));
                                self.branches.push((c, Vec::new()));
                                let mut c = choices;
                                c.push(Choice::Assume(tid));
                                self.branches.push((c, tasks));
                                break;
                            }
                            continue;
                        }
                        if depth >= MAX_DEPTH {
                            return Some(Err(Diagnostic::new(
                                format!(
                                    "chaining through `{}` nests more than {MAX_DEPTH} deep",
                                    info.name
                                ),
                                info.span,
                            )
                            .with_note("is a chained term calling itself?")));
                        }
                        // One branch per rule of the term, and one that
                        // checks the call is covered (which takes no more
                        // choices); pushed so that they are walked in that
                        // order: coverage first, then the rules.
                        for rid in rules_of(program, tid).into_iter().rev() {
                            let rule = &program.terms.rules[rid.index()];
                            let mut t = tasks.clone();
                            t.push(Task::Walk(&rule.rhs, depth + 1));
                            t.extend(
                                rule.iflets
                                    .iter()
                                    .rev()
                                    .map(|il| Task::Walk(&il.rhs, depth + 1)),
                            );
                            let mut c = choices.clone();
                            c.push(Choice::Rule(rid));
                            self.branches.push((c, t));
                        }
                        if !is_partial(program, tid) {
                            let mut c = choices.clone();
                            c.push(Choice::Cover(tid));
                            self.branches.push((c, Vec::new()));
                        }
                        break;
                    }
                }
            }
        }
        None
    }
}

/// Whether a call of `term` must be shown covered by its rules: it is an
/// internal constructor (it has rules) that is not `partial`, so where no
/// rule matches the generated selector panics. A chained term's rules are
/// inlined; a term with a spec is assumed to meet it where it is called
/// (its rules are each verified against it), and whether one of them
/// matches is proved at every call, as for chained terms.
pub fn needs_coverage(program: &Program, term: TermId) -> bool {
    let info = program.term(term);
    (info.chain || info.spec.is_some())
        && !is_partial(program, term)
        && matches!(
            program.terms.terms[term.index()].kind,
            cranelift_isle::sema::TermKind::Decl {
                constructor_kind: Some(cranelift_isle::sema::ConstructorKind::InternalConstructor),
                ..
            }
        )
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

/// Whether `rule` calls one of `terms` on its right-hand side or in the
/// right-hand side of a guard.
pub fn rule_calls(rule: &cranelift_isle::sema::Rule, terms: &[TermId]) -> bool {
    fn calls(e: &Expr, terms: &[TermId]) -> bool {
        match e {
            Expr::Term(_, t, args) => terms.contains(t) || args.iter().any(|a| calls(a, terms)),
            Expr::Let { bindings, body, .. } => {
                bindings.iter().any(|(_, _, v)| calls(v, terms)) || calls(body, terms)
            }
            _ => false,
        }
    }
    calls(&rule.rhs, terms) || rule.iflets.iter().any(|il| calls(&il.rhs, terms))
}
