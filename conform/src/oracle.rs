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

use std::collections::HashMap;

use loweq_dsl::Program;
use loweq_runtest::TermInstance;
use loweq_semantics::derive::{derive_traced, Def, Trace};
use loweq_semantics::eval::{EvalError, Evaluator};
use loweq_semantics::graph::{NodeId, VarId};
use loweq_semantics::tape::{Tape, TapeBuilder, TapeError};
use loweq_semantics::value::Value;

/// What the spec says for one vector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    /// The operands are outside the spec's `require`: the instruction is
    /// never emitted with them, so they are not run.
    Outside,
    /// The instruction traps.
    Trap,
    /// The result.
    Value(Value),
}

/// A compiled path through the spec.
struct Plan {
    tape: Tape,
    /// Outputs that must have these values for the tape to apply.
    guards: Vec<(usize, bool)>,
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
    trap: Option<VarId>,
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
    /// machine trapped.
    pub fn new(
        program: &'p Program,
        term: &str,
        fixed: Vec<Option<Value>>,
        trap: Option<&str>,
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
        let trap = match trap {
            Some(name) => Some(var(
                &inst,
                inst.state(program, name)
                    .ok_or_else(|| format!("the specs declare no state `{name}`"))?,
            )?),
            None => None,
        };
        let inputs = (0..fixed.len()).filter(|&i| fixed[i].is_none()).collect();
        Ok(Oracle {
            program,
            inst,
            params,
            inputs,
            fixed,
            result,
            trap,
            plans: Vec::new(),
            slow_reason: None,
            words: Vec::new(),
            slots: Vec::new(),
        })
    }

    /// What the spec says for `args`, one value per parameter that is not
    /// fixed, in order.
    pub fn eval(&mut self, args: &[Value]) -> Result<Expected, String> {
        if args.len() != self.inputs.len() {
            return Err(format!(
                "internal error: {} operands for {} parameters",
                args.len(),
                self.inputs.len()
            ));
        }
        for i in 0..self.plans.len() {
            if let Some(e) = self.replay(i, args)? {
                return Ok(e);
            }
        }
        self.slow(args)
    }

    /// Evaluates through plan `i`; `None` if its guards do not hold.
    fn replay(&mut self, i: usize, args: &[Value]) -> Result<Option<Expected>, String> {
        let plan = &self.plans[i];
        self.words.clear();
        for (k, a) in args.iter().enumerate() {
            if plan
                .tape
                .input_shape(k)
                .flatten(a, &mut self.words)
                .is_none()
            {
                return Ok(None);
            }
        }
        if plan.tape.run(&self.words, &mut self.slots).is_err() {
            return Ok(None);
        }
        let t = &plan.tape;
        let s = &self.slots;
        if plan.guards.iter().any(|&(o, b)| (t.word(s, o) != 0) != b) {
            return Ok(None);
        }
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

    /// Definitional evaluation, then a plan for the path it took.
    fn slow(&mut self, args: &[Value]) -> Result<Expected, String> {
        let mut seeds: HashMap<VarId, Value> = HashMap::new();
        let mut given = args.iter();
        for (i, &p) in self.params.iter().enumerate() {
            let v = match &self.fixed[i] {
                Some(v) => v.clone(),
                None => given.next().expect("checked length").clone(),
            };
            seeds.insert(p, v);
        }
        let inst = &self.inst;
        let enums = &self.program.enums;
        let (values, _, trace) = derive_traced(
            &inst.graph,
            &inst.typing,
            enums,
            &inst.facts,
            &self.params,
            &|v| seeds.get(&v).cloned(),
        );
        for p in &self.params {
            if values.get(p) != seeds.get(p) {
                return Err(format!(
                    "the spec of `{}` redefines its operand `{}`",
                    inst.term, inst.graph.vars[p.0 as usize].name
                ));
            }
        }
        let expected = self.judge(&values);
        if self.plans.len() < MAX_PLANS && self.slow_reason.is_none() {
            match self.plan(&trace) {
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
            None => Err(self.undetermined()),
        }
    }

    /// Compiles the path `trace` took.
    fn plan(&self, trace: &Trace) -> Result<Plan, TapeError> {
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
        for (v, def) in &trace.defs {
            match def {
                Def::Seed => {}
                _ if self.params.contains(v) => {
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
        let result = optional(tb.output(inst.result))?;
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
        Ok(Plan {
            tape: tb.finish(),
            guards,
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
    pub fn eval_slow(&mut self, args: &[Value]) -> Result<Expected, String> {
        let keep = std::mem::take(&mut self.plans);
        let reason = self.slow_reason.replace("testing".into());
        let r = self.slow(args);
        self.plans = keep;
        self.slow_reason = reason;
        r
    }
}
