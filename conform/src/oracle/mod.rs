//! What a spec says an instruction computes: the spec of an instruction
//! term instantiated once per job (its enum parameters fixed), then
//! evaluated for every vector.
//!
//! The first vector is evaluated the way `loweq runtest` evaluates IR
//! specs: definitional evaluation (`loweq_semantics::derive`) finds the
//! result and the trap state from the operands, and every clause is
//! checked. Its trace, which definitions were used under which
//! conditions, is then compiled into a tape (`loweq_semantics::tape`) with
//! the enum parameters folded in, and later vectors run the tape: when the
//! conditions come out the same, the tape's values are exactly what
//! derivation would find, and the clauses are checked on them the same
//! way. Vectors that take other conditions get their own tape; a spec the
//! tape cannot compile is evaluated the slow way throughout.
//!
//! An instruction that accesses memory records the access in a state
//! (`isa_load`, `isa_store`: docs/memory.md), whose fields the spec
//! defines one by one: `(:active s)`, `(= (:addr s) e)`, .... Evaluation
//! then has two steps. [`Oracle::accesses`] reads the access off the spec
//! (whether it happens, the address, the bits and, for a store, the value),
//! from the facts of that form that the operands reach; the caller then
//! decides what memory holds there, and [`Oracle::eval`] evaluates the
//! spec with the states seeded with whole values (a load's `value` is what
//! the caller's memory holds at the spec's address), checking every clause
//! as for any other instruction.

use std::collections::HashMap;

use loweq_dsl::Program;
use loweq_runtest::TermInstance;
use loweq_semantics::derive::{derive, derive_traced, Def, Trace};
use loweq_semantics::eval::{EvalError, Evaluator};
use loweq_semantics::graph::{NodeId, VarId};
use loweq_semantics::tape::{Shape, Tape, TapeBuilder, TapeError};
use loweq_semantics::ty::{ModelType, Ty};
use loweq_semantics::value::{BitVec, Value};

use crate::plan::{AccessKind, Effect};

mod effects;

use effects::{read_fields, EffectVar, Found};
pub use effects::{Access, Seed};

/// What the spec says for one vector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    /// The operands are outside the spec's `require`: the instruction is
    /// never emitted with them, so they are not run.
    Outside,
    /// The instruction traps.
    Trap,
    /// The result (`Unit` for an instruction whose result is its effect
    /// on memory).
    Value(Value),
}

/// Where a field of a memory state comes from in a compiled tape.
#[derive(Clone, Debug)]
enum FieldOut {
    /// An output of the tape.
    Output(usize),
    /// A constant (`(:active s)` on its own is true).
    Const(u128),
}

/// A compiled path through the spec.
struct Plan {
    tape: Tape,
    /// Outputs that must have these values for the tape to apply.
    guards: Vec<(usize, bool)>,
    /// Conditions the reading of the memory states followed (a Bool's
    /// value, an enum's variant), which must come out the same.
    access_guards: Vec<(usize, u128)>,
    /// Per memory state, where each field stated comes from.
    access: Vec<Vec<(String, FieldOut)>>,
    /// Per memory state input, the field of each of its words (the
    /// tape's order).
    state_words: Vec<Vec<String>>,
    requires: Vec<usize>,
    facts: Vec<(usize, NodeId)>,
    result: Option<usize>,
    trap: Option<usize>,
}

/// The most paths kept per job.
const MAX_PLANS: usize = 16;

/// A term's spec, ready to evaluate at one variant.
pub struct Oracle<'p> {
    program: &'p Program,
    inst: TermInstance,
    params: Vec<VarId>,
    /// The parameters given per vector (the others are fixed).
    inputs: Vec<usize>,
    fixed: Vec<Option<Value>>,
    result: VarId,
    /// Whether the result is Unit (a store): nothing to determine.
    unit_result: bool,
    trap: Option<VarId>,
    effects: Vec<EffectVar>,
    plans: Vec<Plan>,
    /// Why no tape could be compiled, if none could.
    pub slow_reason: Option<String>,
    words: Vec<u128>,
    slots: Vec<u128>,
}

fn var(inst: &TermInstance, n: NodeId) -> Result<VarId, String> {
    inst.graph
        .as_var(n)
        .ok_or_else(|| "internal error: a parameter is not a variable".to_string())
}

impl<'p> Oracle<'p> {
    /// Instantiates `term`'s spec; `fixed[i]` is the value of parameter
    /// `i` when the variant fixes it; `trap` names the state that says the
    /// machine trapped; `effects` are the memory states it modifies.
    pub fn new(
        program: &'p Program,
        term: &str,
        fixed: Vec<Option<Value>>,
        trap: Option<&str>,
        effects: &[Effect],
    ) -> Result<Oracle<'p>, String> {
        let widths = vec![None; fixed.len()];
        let inst =
            TermInstance::with_result(program, term, &widths, None).map_err(|e| e.to_string())?;
        let params = inst
            .params
            .iter()
            .map(|&n| var(&inst, n))
            .collect::<Result<Vec<_>, _>>()?;
        let result = var(&inst, inst.result)?;
        let state = |name: &str| -> Result<(VarId, ModelType), String> {
            let i = program
                .states
                .iter()
                .position(|s| s.name == name)
                .ok_or_else(|| format!("the specs declare no state `{name}`"))?;
            Ok((var(&inst, inst.states[i])?, program.states[i].ty.clone()))
        };
        let trap = match trap {
            Some(name) => Some(state(name)?.0),
            None => None,
        };
        let effects = effects
            .iter()
            .map(|e| {
                let (var, model) = state(&e.state)?;
                Ok(EffectVar {
                    var,
                    kind: e.kind,
                    name: e.state.clone(),
                    model,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let unit_result = inst.typing.ty(inst.result) == Some(&Ty::Unit);
        let inputs = (0..fixed.len()).filter(|&i| fixed[i].is_none()).collect();
        Ok(Oracle {
            program,
            inst,
            params,
            inputs,
            fixed,
            result,
            unit_result,
            trap,
            effects,
            plans: Vec::new(),
            slow_reason: None,
            words: Vec::new(),
            slots: Vec::new(),
        })
    }

    /// Whether the term accesses memory.
    pub fn has_effects(&self) -> bool {
        !self.effects.is_empty()
    }

    /// The name of memory state `k` (`isa_load`).
    pub fn state_name(&self, k: usize) -> &str {
        &self.effects[k].name
    }

    /// The value of memory state `k` seeded with `seed`.
    fn state_value(&self, k: usize, seed: &Seed) -> Value {
        let ModelType::Struct(fields) = &self.effects[k].model else {
            return Value::Unit;
        };
        let mut out: Vec<(String, Value)> = fields
            .iter()
            .map(|(n, t)| {
                let w = match t {
                    ModelType::BitVec(Some(w)) => *w,
                    _ => 1,
                };
                let v = match n.as_str() {
                    "active" => Value::Bool(seed.active),
                    _ => Value::Bv(BitVec::from_u128(w, seed.word(n))),
                };
                (n.clone(), v)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Value::Struct(out)
    }

    /// Memory states with every field zero: for evaluating only what does
    /// not depend on them (the `require`, the accesses).
    pub fn placeholder_states(&self) -> Vec<Seed> {
        vec![Seed::default(); self.effects.len()]
    }

    fn check_args(&self, args: &[Value], states: &[Seed]) -> Result<(), String> {
        if args.len() != self.inputs.len() || states.len() != self.effects.len() {
            return Err(format!(
                "internal error: {} operands and {} states for {} parameters and {} states",
                args.len(),
                states.len(),
                self.inputs.len(),
                self.effects.len()
            ));
        }
        Ok(())
    }

    /// What the spec says for `args`, one value per parameter that is not
    /// fixed, in order, with the memory states seeded with `states` (one
    /// per memory state the term modifies; none for other terms).
    pub fn eval(&mut self, args: &[Value], states: &[Seed]) -> Result<Expected, String> {
        self.check_args(args, states)?;
        for i in 0..self.plans.len() {
            if let Some(e) = self.replay(i, args, states)? {
                return Ok(e);
            }
        }
        self.slow(args, states)
    }

    /// The memory accesses the spec states for `args` (one per memory
    /// state the term modifies).
    pub fn accesses(&mut self, args: &[Value]) -> Result<Vec<Access>, String> {
        if self.effects.is_empty() {
            return Ok(Vec::new());
        }
        let states = self.placeholder_states();
        self.check_args(args, &states)?;
        for i in 0..self.plans.len() {
            if let Some(a) = self.replay_accesses(i, args, &states)? {
                return Ok(a);
            }
        }
        // Derivation without the states, then the facts read.
        let seeds = self.seeds(args, &[]);
        let inst = &self.inst;
        let enums = &self.program.enums;
        let (values, _) = derive(
            &inst.graph,
            &inst.typing,
            enums,
            &inst.facts,
            &self.params,
            &|v| seeds.get(&v).cloned(),
        );
        let (found, _) = self.read(&values);
        let words = found
            .iter()
            .filter_map(|f| {
                let w = match &f.value {
                    Value::Bool(b) => u128::from(*b),
                    v => v.as_bv()?.to_u128()?,
                };
                Some((f.effect, f.field.as_str(), w))
            })
            .collect::<Vec<_>>();
        self.build_accesses(&words)
    }

    /// The accesses from the fields found (their values as words).
    fn build_accesses(&self, found: &[(usize, &str, u128)]) -> Result<Vec<Access>, String> {
        let term = &self.inst.term;
        let mut out = Vec::new();
        for (k, e) in self.effects.iter().enumerate() {
            let get = |f: &str| {
                found
                    .iter()
                    .find(|(j, g, _)| *j == k && *g == f)
                    .map(|(_, _, v)| *v)
            };
            let missing = |what: &str, f: &str| {
                format!(
                    "the spec of `{term}` does not say {what} for these operands \
                     (`(:{f} {})`)",
                    e.name
                )
            };
            let active = match get("active") {
                Some(b) => b != 0,
                None => return Err(missing("whether it accesses memory", "active")),
            };
            let number = |f: &str, what: &str| -> Result<u64, String> {
                get(f).map(|u| u as u64).ok_or_else(|| missing(what, f))
            };
            let mut a = Access {
                kind: e.kind,
                active,
                addr: 0,
                bits: 0,
                value: None,
            };
            if active {
                a.addr = number("addr", "the address")?;
                a.bits = number("bits", "how many bits it accesses")? as u32;
                if e.kind == AccessKind::Store {
                    a.value = Some(number("value", "what it stores")?);
                }
            }
            out.push(a);
        }
        Ok(out)
    }

    /// The fields of the memory states the facts state under `values`.
    fn read(&self, values: &HashMap<VarId, Value>) -> (Vec<Found>, Vec<(NodeId, u128)>) {
        let inst = &self.inst;
        let enums = &self.program.enums;
        let mut ev = Evaluator::new(&inst.graph, &inst.typing, enums);
        let env = |v: VarId| values.get(&v).cloned();
        let mut found = Vec::new();
        let mut conds = Vec::new();
        for &f in &inst.facts {
            read_fields(
                &inst.graph,
                &inst.typing,
                enums,
                &self.effects,
                &mut ev,
                &env,
                f,
                &mut found,
                &mut conds,
            );
        }
        (found, conds)
    }

    /// Runs plan `i` on the inputs; false if they do not fit its shapes.
    fn run(&mut self, i: usize, args: &[Value], states: &[Seed]) -> bool {
        let plan = &self.plans[i];
        self.words.clear();
        for (k, a) in args.iter().enumerate() {
            if plan
                .tape
                .input_shape(k)
                .flatten(a, &mut self.words)
                .is_none()
            {
                return false;
            }
        }
        for (seed, fields) in states.iter().zip(&plan.state_words) {
            self.words.extend(fields.iter().map(|f| seed.word(f)));
        }
        if plan.tape.run(&self.words, &mut self.slots).is_err() {
            return false;
        }
        let t = &plan.tape;
        let s = &self.slots;
        plan.guards.iter().all(|&(o, b)| (t.word(s, o) != 0) == b)
    }

    /// The accesses through plan `i`; `None` if its guards do not hold.
    fn replay_accesses(
        &mut self,
        i: usize,
        args: &[Value],
        states: &[Seed],
    ) -> Result<Option<Vec<Access>>, String> {
        if !self.run(i, args, states) {
            return Ok(None);
        }
        let plan = &self.plans[i];
        let (t, s) = (&plan.tape, &self.slots);
        if plan.access_guards.iter().any(|&(o, w)| t.word(s, o) != w) {
            return Ok(None);
        }
        let mut found = Vec::new();
        for (k, fields) in plan.access.iter().enumerate() {
            for (f, out) in fields {
                let w = match out {
                    FieldOut::Output(o) => t.word(s, *o),
                    FieldOut::Const(w) => *w,
                };
                found.push((k, f.as_str(), w));
            }
        }
        self.build_accesses(&found).map(Some)
    }

    /// Evaluates through plan `i`; `None` if its guards do not hold.
    fn replay(
        &mut self,
        i: usize,
        args: &[Value],
        states: &[Seed],
    ) -> Result<Option<Expected>, String> {
        if !self.run(i, args, states) {
            return Ok(None);
        }
        let plan = &self.plans[i];
        let t = &plan.tape;
        let s = &self.slots;
        if plan.requires.iter().any(|&o| t.word(s, o) == 0) {
            return Ok(Some(Expected::Outside));
        }
        if let Some(&(_, node)) = plan.facts.iter().find(|&&(o, _)| t.word(s, o) == 0) {
            return Err(self.false_clause(node));
        }
        let trapped = plan.trap.is_some_and(|o| t.word(s, o) != 0);
        if trapped {
            return Ok(Some(Expected::Trap));
        }
        match plan.result {
            Some(o) => Ok(Some(Expected::Value(t.value(s, o)))),
            None if self.unit_result => Ok(Some(Expected::Value(Value::Unit))),
            None => Err(self.undetermined()),
        }
    }

    fn false_clause(&self, node: NodeId) -> String {
        format!(
            "a clause of the spec of `{}` is false for these operands ({})",
            self.inst.term,
            self.program
                .sources
                .location(self.inst.graph.node(node).span)
        )
    }

    fn undetermined(&self) -> String {
        format!(
            "the spec of `{}` does not determine its result",
            self.inst.term
        )
    }

    /// The seed of every parameter, and of the memory states given.
    fn seeds(&self, args: &[Value], states: &[Seed]) -> HashMap<VarId, Value> {
        let mut seeds: HashMap<VarId, Value> = HashMap::new();
        let mut given = args.iter();
        for (i, &p) in self.params.iter().enumerate() {
            let v = match &self.fixed[i] {
                Some(v) => v.clone(),
                None => given.next().expect("checked length").clone(),
            };
            seeds.insert(p, v);
        }
        for (k, (e, v)) in self.effects.iter().zip(states).enumerate() {
            seeds.insert(e.var, self.state_value(k, v));
        }
        seeds
    }

    /// Definitional evaluation, then a plan for the path it took.
    fn slow(&mut self, args: &[Value], states: &[Seed]) -> Result<Expected, String> {
        let seeds = self.seeds(args, states);
        let inst = &self.inst;
        let enums = &self.program.enums;
        let mut order = self.params.clone();
        order.extend(self.effects.iter().map(|e| e.var));
        let (values, _, trace) = derive_traced(
            &inst.graph,
            &inst.typing,
            enums,
            &inst.facts,
            &order,
            &|v| seeds.get(&v).cloned(),
        );
        for p in &order {
            if values.get(p) != seeds.get(p) {
                return Err(format!(
                    "the spec of `{}` redefines its operand `{}`",
                    inst.term, inst.graph.vars[p.0 as usize].name
                ));
            }
        }
        let expected = self.judge(&values);
        if self.plans.len() < MAX_PLANS && self.slow_reason.is_none() {
            let (found, conds) = self.read(&values);
            match self.plan(&trace, &found, &conds) {
                Ok(p) => self.plans.push(p),
                Err(e) => self.slow_reason = Some(e.to_string()),
            }
        }
        expected
    }

    /// The verdict on the values derivation found.
    fn judge(&self, values: &HashMap<VarId, Value>) -> Result<Expected, String> {
        let inst = &self.inst;
        let enums = &self.program.enums;
        let mut ev = Evaluator::new(&inst.graph, &inst.typing, enums);
        let env = |v: VarId| values.get(&v).cloned();
        for &r in &inst.requires {
            match ev.eval(r, &env) {
                Ok(Value::Bool(false)) => return Ok(Expected::Outside),
                Ok(_) | Err(EvalError::Unbound(_)) => {}
                Err(e) => return Err(format!("cannot evaluate the spec: {e}")),
            }
        }
        for &f in &inst.facts {
            match ev.eval(f, &env) {
                Ok(Value::Bool(false)) => return Err(self.false_clause(f)),
                Ok(_) | Err(EvalError::Unbound(_)) => {}
                Err(e) => return Err(format!("cannot evaluate the spec: {e}")),
            }
        }
        let trapped = match self.trap {
            None => false,
            Some(t) => match values.get(&t) {
                Some(Value::Bool(b)) => *b,
                _ => {
                    return Err(format!(
                        "the spec of `{}` does not say whether it traps",
                        inst.term
                    ))
                }
            },
        };
        if trapped {
            return Ok(Expected::Trap);
        }
        match values.get(&self.result) {
            Some(v) => Ok(Expected::Value(v.clone())),
            None if self.unit_result => Ok(Expected::Value(Value::Unit)),
            None => Err(self.undetermined()),
        }
    }

    /// Compiles the path `trace` took; `found` and `conds` are how the
    /// memory states' fields were read on it.
    fn plan(
        &self,
        trace: &Trace,
        found: &[Found],
        conds: &[(NodeId, u128)],
    ) -> Result<Plan, TapeError> {
        let inst = &self.inst;
        let mut tb = TapeBuilder::new(&inst.graph, &inst.typing, &self.program.enums);
        for (i, &p) in self.params.iter().enumerate() {
            match &self.fixed[i] {
                Some(v) => tb.fix(p, v.clone()),
                None => {
                    tb.input(p)?;
                }
            }
        }
        let mut state_inputs = Vec::new();
        for e in &self.effects {
            state_inputs.push(tb.input(e.var)?);
        }
        let inputs: Vec<VarId> = self
            .params
            .iter()
            .copied()
            .chain(self.effects.iter().map(|e| e.var))
            .collect();
        for (v, def) in &trace.defs {
            match def {
                Def::Seed => {}
                _ if inputs.contains(v) => {
                    return Err(TapeError::Unsupported(
                        "a parameter defined by a fact".into(),
                    ))
                }
                Def::Node { node, slice } => tb.define(*v, *node, *slice),
                Def::Bool(b) => tb.fix(*v, Value::Bool(*b)),
            }
        }
        let mut guards = Vec::new();
        for &(n, b) in &trace.guards {
            guards.push((tb.output(n)?, b));
        }
        let mut access_guards = Vec::new();
        for &(n, w) in conds {
            access_guards.push((tb.output(n)?, w));
        }
        let mut access = vec![Vec::new(); self.effects.len()];
        for f in found {
            let out = match (f.node, &f.value) {
                (Some(n), _) => FieldOut::Output(tb.output(n)?),
                (None, Value::Bool(b)) => FieldOut::Const(u128::from(*b)),
                (None, _) => {
                    return Err(TapeError::Unsupported("a field that is not a Bool".into()))
                }
            };
            access[f.effect].push((f.field.clone(), out));
        }
        // Clauses that need a variable no definition reaches cannot be
        // checked, as in the slow path.
        let optional = |r: Result<usize, TapeError>| match r {
            Ok(o) => Ok(Some(o)),
            Err(TapeError::Unbound(_)) => Ok(None),
            Err(e) => Err(e),
        };
        let mut requires = Vec::new();
        for &r in &inst.requires {
            requires.extend(optional(tb.output(r))?);
        }
        let mut facts = Vec::new();
        for &f in &inst.facts {
            if let Some(o) = optional(tb.output(f))? {
                facts.push((o, f));
            }
        }
        let result = if self.unit_result {
            None
        } else {
            optional(tb.output(inst.result))?
        };
        let trap = match self.trap {
            None => None,
            Some(t) => {
                let node = inst
                    .states
                    .iter()
                    .copied()
                    .find(|&n| inst.graph.as_var(n) == Some(t))
                    .expect("the trap is a state");
                Some(tb.output(node)?)
            }
        };
        let tape = tb.finish();
        // A memory state's words: its fields in the tape's order, a word
        // each.
        let mut state_words = Vec::new();
        for k in state_inputs {
            let Shape::Struct(fields) = tape.input_shape(k) else {
                return Err(TapeError::Unsupported(
                    "a memory state that is not a struct".into(),
                ));
            };
            let mut names = Vec::new();
            for (n, shape) in fields {
                if !matches!(shape, Shape::Word(_)) {
                    return Err(TapeError::Unsupported(
                        "a memory state's nested field".into(),
                    ));
                }
                names.push(n.clone());
            }
            state_words.push(names);
        }
        Ok(Plan {
            tape,
            guards,
            access_guards,
            access,
            state_words,
            requires,
            facts,
            result,
            trap,
        })
    }

    /// Whether vectors are evaluated by a compiled tape.
    pub fn compiled(&self) -> bool {
        !self.plans.is_empty()
    }

    /// Evaluates `args` the slow way only (for tests of the fast way).
    pub fn eval_slow(&mut self, args: &[Value], states: &[Seed]) -> Result<Expected, String> {
        self.check_args(args, states)?;
        let keep = std::mem::take(&mut self.plans);
        let reason = self.slow_reason.replace("testing".into());
        let r = self.slow(args, states);
        self.plans = keep;
        self.slow_reason = reason;
        r
    }

    /// The accesses the slow way only (for tests of the fast way).
    pub fn accesses_slow(&mut self, args: &[Value]) -> Result<Vec<Access>, String> {
        let keep = std::mem::take(&mut self.plans);
        let r = self.accesses(args);
        self.plans = keep;
        r
    }
}
