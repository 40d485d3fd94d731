//! Turning a model into a counterexample a person can act on: the rule's
//! inputs, every term application on both sides recomputed by the concrete
//! evaluator, the violated conditions, and a hint when junk register bits
//! are what broke the rule.

use std::cell::RefCell;
use std::collections::HashMap;

use loweq_dsl::Program;

use loweq_semantics::derive::derive;
use loweq_semantics::eval::Evaluator;
use loweq_semantics::graph::{NodeId, NodeKind, VarId};
use loweq_semantics::op::Op;
use loweq_semantics::value::{BitVec, Value};
use z3::Model;

use crate::condition::{Condition, Origin, Side};
use crate::encode::{read, Encoder};
use crate::instances::Instance;
use crate::report::{CallValues, Counterexample, Failure, InputValue, Padding, TermValue};
use crate::solve::preferred_order;

/// How a clause is described to the user.
pub fn describe(origin: &Origin) -> String {
    match origin {
        Origin::Provide(t) => format!("the provide of `{t}`"),
        Origin::Require(t) => format!("the require of `{t}`"),
        Origin::Match(t) => format!("the match of `{t}`"),
        Origin::Pattern => "a pattern of the rule".into(),
        Origin::StateDefault(s) => format!("the default of state `{s}`"),
        Origin::Priority(r) => format!("that rule `{r}` does not match"),
        Origin::StateUpdate(s) => format!("how state `{s}` follows from the terms that modify it"),
        Origin::OperandComputed(t) => format!(
            "that the operand `{t}` did not trap (the instruction being lowered runs only after its operands were computed)"
        ),
        Origin::StateKept(s, t) => format!(
            "that the code of `{t}` leaves state `{s}` as its default says (the spec of `{t}`, which its callers assume, does not modify it)"
        ),
        Origin::Agreement(what) => what.clone(),
        Origin::Skolem(t) => format!(
            "what the spec of `{t}` says of its outputs, in a condition about another rule"
        ),
        Origin::Coverage(t) => format!(
            "that some rule of `{t}` matches its arguments (where none does, the generated instruction selector panics)"
        ),
    }
}

/// Values of the variables, and of every node computed from them so far
/// (one evaluator per assignment: nodes are evaluated once, not once per
/// question).
struct Assignment<'a> {
    values: HashMap<VarId, Value>,
    evaluator: RefCell<Evaluator<'a>>,
}

impl Assignment<'_> {
    fn get(&self, n: NodeId) -> Option<Value> {
        let values = &self.values;
        self.evaluator
            .borrow_mut()
            .eval(n, &|v| values.get(&v).cloned())
            .ok()
    }
}

struct Ctx<'a> {
    program: &'a Program,
    cond: &'a Condition,
    inst: &'a Instance,
}

impl Ctx<'_> {
    fn facts(&self) -> Vec<NodeId> {
        self.cond
            .assumptions
            .iter()
            .map(|c| c.node)
            .filter(|&n| !matches!(self.cond.graph.node(n).kind, NodeKind::Forall(_)))
            .collect()
    }

    fn derive(&self, seed: &dyn Fn(VarId) -> Option<Value>) -> Assignment<'_> {
        self.derive_from(&[], seed)
    }

    /// Derives with the variables `first` seeded before all others.
    fn derive_from(
        &self,
        first: &[VarId],
        seed: &dyn Fn(VarId) -> Option<Value>,
    ) -> Assignment<'_> {
        let mut order = first.to_vec();
        order.extend(
            preferred_order(self.cond)
                .into_iter()
                .filter(|v| !first.contains(v)),
        );
        let values = derive(
            &self.cond.graph,
            &self.inst.typing,
            &self.program.enums,
            &self.facts(),
            &order,
            seed,
        )
        .0;
        Assignment {
            values,
            evaluator: RefCell::new(Evaluator::new(
                &self.cond.graph,
                &self.inst.typing,
                &self.program.enums,
            )),
        }
    }

    fn eval(&self, env: &Assignment<'_>, n: NodeId) -> Option<Value> {
        env.get(n)
    }

    /// The part of a false formula that is false: the conclusion of an
    /// implication whose premise holds, the false conjunct of an `and`, the
    /// taken branch of an `if`.
    fn culprit(&self, env: &Assignment<'_>, mut n: NodeId) -> NodeId {
        let is = |n: NodeId, b: bool| self.eval(env, n) == Some(Value::Bool(b));
        loop {
            let n2 = self.inst.typing.redirect(n).unwrap_or(n);
            let node = self.cond.graph.node(n2);
            let next = match node.kind {
                NodeKind::Op(Op::Imp) if is(node.args[0], true) => Some(node.args[1]),
                NodeKind::Op(Op::And) => node.args.iter().copied().find(|&a| is(a, false)),
                NodeKind::Op(Op::If) => match self.eval(env, node.args[0]) {
                    Some(Value::Bool(c)) => Some(node.args[if c { 1 } else { 2 }]),
                    _ => None,
                },
                _ => None,
            };
            match next {
                Some(m) => n = m,
                None => return n2,
            }
        }
    }

    /// Whether every obligation holds under `env`, by concrete evaluation.
    fn all_hold(&self, env: &Assignment<'_>) -> bool {
        self.cond
            .obligations
            .iter()
            .all(|c| self.eval(env, c.node) == Some(Value::Bool(true)))
    }

    /// The violated obligations under `env`. Those the evaluator cannot
    /// decide (quantified ones) are asked of `solver`.
    fn failures(
        &self,
        env: &Assignment<'_>,
        solver: &mut dyn FnMut(NodeId) -> Option<bool>,
    ) -> Vec<Failure> {
        let mut out = Vec::new();
        for c in &self.cond.obligations {
            let holds = match self.eval(env, c.node) {
                Some(Value::Bool(b)) => Some(b),
                // The model violates the obligations; if this is the only
                // one, it is the one violated even when z3 cannot reduce a
                // quantified formula to a constant.
                _ => solver(c.node).or((self.cond.obligations.len() == 1).then_some(false)),
            };
            if holds != Some(false) {
                continue;
            }
            let node = self.cond.graph.node(self.culprit(env, c.node));
            // A `require` names its call only when the term is called more
            // than once (which of them?); a coverage check always does.
            let ambiguous = match &c.origin {
                Origin::Require(t) => {
                    self.cond
                        .occurrences
                        .iter()
                        .filter(|o| o.side == Side::Rhs && &self.program.term(o.term).name == t)
                        .count()
                        > 1
                }
                _ => true,
            };
            let call = c
                .call
                .as_ref()
                .filter(|_| ambiguous)
                .map(|call| CallValues {
                    text: call.text.clone(),
                    args: call
                        .args
                        .iter()
                        .filter_map(|(text, n)| Some((text.clone(), self.eval(env, *n)?)))
                        .collect(),
                });
            let parts = match node.kind {
                // Which rules of a chained term failed to match says less
                // than the call that none matches, with its arguments.
                _ if matches!(c.origin, Origin::Coverage(_)) && call.is_some() => Vec::new(),
                NodeKind::Op(_) => node
                    .args
                    .iter()
                    .zip(&node.arg_spans)
                    .filter_map(|(&a, &s)| Some((s, self.eval(env, a)?)))
                    .collect(),
                _ => Vec::new(),
            };
            out.push(Failure {
                what: describe(&c.origin),
                span: node.span,
                parts,
                call,
            });
        }
        out
    }
}

/// Asks the solver whether the rule holds for every input once the
/// register (first node) holds the value (second node) zero-extended, or
/// sign-extended when the flag is set.
pub type CleanCheck<'a> = dyn FnMut(&mut Encoder<'_>, NodeId, NodeId, bool) -> bool + 'a;

/// Builds the counterexample for `model`. `clean` decides whether the
/// junk-bits hint is given (see [`junk_hint`]).
pub fn explain(
    program: &Program,
    cond: &Condition,
    chain: &[String],
    inst: &Instance,
    encoder: &mut Encoder<'_>,
    model: &Model,
    clean: &mut CleanCheck<'_>,
) -> Counterexample {
    let ctx = Ctx {
        program,
        cond,
        inst,
    };
    let model_values: HashMap<VarId, Value> = (0..cond.graph.vars.len() as u32)
        .map(VarId)
        .filter_map(|v| Some((v, encoder.var(v).and_then(|z| read(model, z))?)))
        .collect();
    let from_model = |v: VarId| model_values.get(&v).cloned();
    let env = ctx.derive(&from_model);
    let mut notes = cond.notes.clone();

    let register_of = |n: NodeId| {
        cond.occurrences
            .iter()
            .find(|o| o.converter && o.side == Side::Rhs && o.args.first() == Some(&n))
    };
    let inputs = cond
        .inputs
        .iter()
        .filter_map(|i| {
            Some(InputValue {
                name: i.name.clone(),
                value: ctx.eval(&env, i.node)?,
                register: register_of(i.node).and_then(|o| ctx.eval(&env, o.result)),
            })
        })
        .collect();

    let term_value = |o: &crate::condition::Occurrence| {
        let traps = o.trap.is_some_and(|(when, copy)| {
            ctx.eval(&env, when) == Some(Value::Bool(true))
                && ctx.eval(&env, copy) == Some(Value::Bool(true))
        });
        let parts = if o.side == Side::Lhs {
            spec_parts(&ctx, &env, o)
        } else {
            Vec::new()
        };
        Some(TermValue {
            text: o.text.clone(),
            args: o.args.iter().filter_map(|&a| ctx.eval(&env, a)).collect(),
            value: ctx.eval(&env, o.result)?,
            traps,
            parts,
        })
    };
    let is_root = |o: &&crate::condition::Occurrence| {
        Some(o.result) == cond.root_result && o.args == cond.root_args
    };
    // Pairs of nodes the assumptions say are equal: a term whose provide
    // makes its result an argument that another term matched is a wrapper
    // (`has_type`, an implicit conversion): its value is that term's.
    let mut equal = std::collections::HashSet::new();
    let mut stack: Vec<NodeId> = cond.assumptions.iter().map(|c| c.node).collect();
    while let Some(n) = stack.pop() {
        let node = cond.graph.node(n);
        match node.kind {
            NodeKind::Op(Op::And) => stack.extend(node.args.iter().copied()),
            NodeKind::Op(Op::Eq) if node.args.len() == 2 => {
                equal.insert((node.args[0], node.args[1]));
                equal.insert((node.args[1], node.args[0]));
            }
            _ => {}
        }
    }
    // Which left-hand-side occurrences give each node its value.
    let mut defines: HashMap<NodeId, Vec<usize>> = HashMap::new();
    for (i, o) in cond.occurrences.iter().enumerate() {
        if o.side == Side::Lhs {
            defines.entry(o.result).or_default().push(i);
        }
    }
    let wrapper = |i: usize, o: &crate::condition::Occurrence| {
        o.args.iter().any(|&a| {
            (a == o.result || equal.contains(&(o.result, a)))
                && defines.get(&a).is_some_and(|ds| ds.iter().any(|&d| d != i))
        })
    };
    // The root term's value is the right-hand side's; it is not shown as IR.
    // Nor are values that are not bitvectors (types), or wrappers.
    let lhs = cond
        .occurrences
        .iter()
        .enumerate()
        .filter(|&(i, o)| o.side == Side::Lhs && !is_root(&o) && !wrapper(i, o))
        .filter_map(|(_, o)| term_value(o))
        .filter(|t| matches!(t.value, Value::Bv(_)))
        .collect();
    let rhs = cond
        .occurrences
        .iter()
        .filter(|o| o.side == Side::Rhs && !o.converter)
        .filter_map(term_value)
        .collect();

    let mut solver = |n: NodeId| match encoder.node(n) {
        Ok(crate::encode::Z::Bool(b)) => model.eval(&b, true).and_then(|v| v.as_bool()),
        _ => None,
    };
    let failures = ctx.failures(&env, &mut solver);
    // A consumer that reads a state written in emission order (the flags)
    // at a version other than the one it takes: which terms wrote it.
    for (n, note) in &cond.order_notes {
        if ctx.eval(&env, *n) == Some(Value::Bool(false)) {
            notes.push(note.clone());
        }
    }
    if failures.is_empty() {
        notes.push(
            "internal: the concrete evaluator finds no violated condition in this model; the SMT encoding and the evaluator disagree (please report)".into(),
        );
    }
    if ctx
        .facts()
        .iter()
        .any(|&f| ctx.eval(&env, f) == Some(Value::Bool(false)))
    {
        notes.push("internal: the concrete evaluator finds an assumption false in this model (please report)".into());
    }
    if let Some(hint) = junk_hint(&ctx, &env, &from_model, encoder, clean) {
        notes.push(hint);
    }
    let paddings = paddings(&ctx, &env);
    if let Some(hint) = padding_hint(&ctx, &env, &paddings) {
        notes.push(hint);
    }
    let result_width = cond
        .root_args
        .first()
        .and_then(|&a| inst.typing.ty(a))
        .and_then(|t| t.width());
    Counterexample {
        chain: chain.to_vec(),
        inputs,
        paddings: paddings.into_iter().map(|(p, _)| p).collect(),
        lhs,
        rhs,
        result_width,
        failures,
        notes,
        disagreement: None,
    }
}

/// The operands of what an IR operation's spec provides its result to be,
/// when they are computed (not a variable or a literal): `(shift_amount!
/// x y)` in `ushr`'s `(= result (bvlshr x (shift_amount! x y)))`.
fn spec_parts(
    ctx: &Ctx<'_>,
    env: &Assignment<'_>,
    o: &crate::condition::Occurrence,
) -> Vec<(loweq_semantics::span::Span, Value)> {
    let graph = &ctx.cond.graph;
    let mut out = Vec::new();
    for &p in &o.provides {
        let node = graph.node(p);
        if node.kind != NodeKind::Op(Op::Eq) || node.args.len() != 2 {
            continue;
        }
        let defined = match (node.args[0], node.args[1]) {
            (r, e) | (e, r) if r == o.result => e,
            _ => continue,
        };
        let defined = ctx.inst.typing.redirect(defined).unwrap_or(defined);
        let def = graph.node(defined);
        if !matches!(def.kind, NodeKind::Op(_)) {
            continue;
        }
        for (&a, &span) in def.args.iter().zip(&def.arg_spans) {
            let a = ctx.inst.typing.redirect(a).unwrap_or(a);
            if matches!(graph.node(a).kind, NodeKind::Var(_) | NodeKind::Const(_)) {
                continue;
            }
            if let Some(v @ Value::Bv(_)) = ctx.eval(env, a) {
                out.push((span, v));
            }
        }
    }
    out
}

/// If making some input's register clean (zero- or sign-extended) fixes the
/// counterexample, and the solver agrees that with it clean the rule holds
/// for every input, say so: the junk upper bits reached the result. (When
/// the rule is also wrong for clean registers, say for a wrong `match`,
/// the junk is not the fault, and no hint is given.)
fn junk_hint(
    ctx: &Ctx<'_>,
    env: &Assignment<'_>,
    from_model: &dyn Fn(VarId) -> Option<Value>,
    encoder: &mut Encoder<'_>,
    holds_clean: &mut CleanCheck<'_>,
) -> Option<String> {
    let cond = ctx.cond;
    for input in &cond.inputs {
        let Some(Value::Bv(value)) = ctx.eval(env, input.node) else {
            continue;
        };
        let Some(occ) = cond
            .occurrences
            .iter()
            .find(|o| o.converter && o.side == Side::Rhs && o.args.first() == Some(&input.node))
        else {
            continue;
        };
        let Some(reg_var) = cond.graph.as_var(occ.result) else {
            continue;
        };
        let Some(Value::Bv(reg)) = env.values.get(&reg_var) else {
            continue;
        };
        if reg.width() <= value.width() {
            continue;
        }
        let clean: [(BitVec, &str); 2] = [
            (value.zext(reg.width()), "zero"),
            (value.sext(reg.width()), "sign"),
        ];
        if reg == &clean[0].0 || reg == &clean[1].0 {
            continue;
        }
        for (candidate, how) in clean {
            let seed = |v: VarId| {
                if v == reg_var {
                    Some(Value::Bv(candidate.clone()))
                } else {
                    from_model(v)
                }
            };
            let env2 = ctx.derive(&seed);
            if env2.values.get(&reg_var) == Some(&Value::Bv(candidate.clone()))
                && ctx.all_hold(&env2)
                && holds_clean(encoder, occ.result, input.node, how == "sign")
            {
                return Some(format!(
                    "the upper {} bits of `{}`'s register reached the result: with them {how}-extended the rule holds for every input; {how}-extend `{}` first",
                    reg.width() - value.width(),
                    input.name,
                    input.name
                ));
            }
        }
    }
    None
}

/// The widening `conv_to`s whose values the assignment determines, with
/// their padding variables.
fn paddings(ctx: &Ctx<'_>, env: &Assignment<'_>) -> Vec<(Padding, VarId)> {
    let graph = &ctx.cond.graph;
    let mut out = Vec::new();
    for (i, node) in graph.nodes.iter().enumerate() {
        let (NodeKind::Op(Op::ConvTo), [_, x, pad]) = (&node.kind, node.args.as_slice()) else {
            continue;
        };
        let Some(pad_var) = graph.as_var(*pad) else {
            continue;
        };
        let n = NodeId(i as u32);
        let (Some(Value::Bv(x)), Some(value)) = (ctx.eval(env, *x), ctx.eval(env, n)) else {
            continue;
        };
        let widens = value.as_bv().is_some_and(|v| v.width() > x.width());
        if !widens || !env.values.contains_key(&pad_var) {
            continue;
        }
        // Padding variables are named `<term>#<k>.padding`.
        let name = &graph.vars[pad_var.0 as usize].name;
        let term = name.split_once('#').map_or("", |(t, _)| t).to_string();
        out.push((
            Padding {
                span: node.span,
                term,
                value,
                operand_bits: x.width(),
            },
            pad_var,
        ));
    }
    out
}

/// If clearing the fresh bits of every widening `conv_to` makes the
/// obligations hold, say so: the padding reached the result.
fn padding_hint(
    ctx: &Ctx<'_>,
    env: &Assignment<'_>,
    paddings: &[(Padding, VarId)],
) -> Option<String> {
    let nonzero: Vec<&(Padding, VarId)> = paddings
        .iter()
        .filter(|(p, _)| {
            p.value.as_bv().is_some_and(|v| {
                v.extract(v.width() - 1, p.operand_bits) != BitVec::zero(v.width() - p.operand_bits)
            })
        })
        .collect();
    let (first, _) = nonzero.first()?;
    let mut env2 = env.values.clone();
    for (p, var) in &nonzero {
        let w = p.value.as_bv()?.width();
        env2.insert(*var, Value::Bv(BitVec::zero(w)));
    }
    // Recompute everything else from the paddings (the cleared ones and the
    // others as they were), seeded before anything that could define them.
    let vars: Vec<VarId> = paddings.iter().map(|(_, v)| *v).collect();
    let cleared = ctx.derive_from(&vars, &|v| env2.get(&v).cloned());
    let assumed = ctx
        .facts()
        .iter()
        .all(|&f| ctx.eval(&cleared, f) == Some(Value::Bool(true)));
    if vars.iter().any(|v| cleared.values.get(v) != env2.get(v))
        || !assumed
        || !ctx.all_hold(&cleared)
    {
        return None;
    }
    let text = ctx.program.sources.snippet(first.span);
    let place = if first.term.is_empty() {
        String::new()
    } else {
        format!(" in the spec of `{}`", first.term)
    };
    Some(format!(
        "the fresh upper bits of `{text}`{place} reached the result: with them zero the rule holds for these inputs (a widening `conv_to` pads with unconstrained bits; use `zero_ext` or `sign_ext` where the bits must be defined)"
    ))
}
