//! One term's spec on its own, at fixed types: a formula graph with a
//! variable per parameter, one for the result and one per state, the
//! spec's clauses instantiated over them, and a complete typing.
//!
//! This is what the interpreter evaluates for every instruction, and what
//! the z3 conformance tests of `loweq-verify` encode, so that both check
//! the same formulas.

use std::collections::HashMap;

use loweq_dsl::Program;
use loweq_semantics::derive::derive;
use loweq_semantics::eval::{EvalError, Evaluator};
use loweq_semantics::graph::{Graph, NodeId, VarId};
use loweq_semantics::infer::{infer, Mode, Typing};
use loweq_semantics::op::Op;
use loweq_semantics::span::Span;
use loweq_semantics::ty::ModelType;
use loweq_semantics::value::{BitVec, Value};

/// A term's spec instantiated at fixed types.
pub struct TermInstance {
    /// The term's name.
    pub term: String,
    /// The graph.
    pub graph: Graph,
    /// Its typing.
    pub typing: Typing,
    /// What the spec states: its `provide` and `match` clauses, and the
    /// default of every state it does not modify.
    pub facts: Vec<NodeId>,
    /// Its `require` clauses: preconditions on the operands.
    pub requires: Vec<NodeId>,
    /// The parameter variables, in order.
    pub params: Vec<NodeId>,
    /// The result variable.
    pub result: NodeId,
    /// The state variables, indexed like `Program::states`.
    pub states: Vec<NodeId>,
    /// The states the spec modifies (indices into `Program::states`), in
    /// the order of its `modifies` clauses.
    pub modified: Vec<usize>,
}

/// Which kind of clause of a spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clause {
    /// A `provide` or `match` clause, or a state default.
    Fact,
    /// A `require` clause: a precondition on the operands.
    Require,
}

/// What a spec gives for concrete operands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    /// The result, when the spec determines it.
    pub result: Option<Value>,
    /// The value of every state, indexed like `Program::states`, when the
    /// spec determines it.
    pub states: Vec<Option<Value>>,
    /// The clauses that are false for these values, with their sources.
    pub violated: Vec<(Clause, Span)>,
}

/// Why a term cannot be instantiated at the types asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InstanceError {
    /// There is no term of that name, or it has no spec.
    NoSpec(String),
    /// The spec does not type at these types, or a type has no model.
    Type(String),
}

impl std::fmt::Display for InstanceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InstanceError::NoSpec(m) | InstanceError::Type(m) => f.write_str(m),
        }
    }
}

impl TermInstance {
    /// Instantiates the spec of `term`. `args[i]` is the width of
    /// parameter `i` when it is a bitvector of a width the term leaves open
    /// (`None` keeps the parameter's declared model: an enum, an `Imm64`);
    /// `ret` is the result's width.
    pub fn new(
        program: &Program,
        term: &str,
        args: &[Option<u32>],
        ret: u32,
    ) -> Result<TermInstance, InstanceError> {
        TermInstance::with_result(program, term, args, Some(ret))
    }

    /// Like [`TermInstance::new`], with `ret: None` keeping the result's
    /// declared model (an instruction's `Reg`, a flags struct).
    pub fn with_result(
        program: &Program,
        term: &str,
        args: &[Option<u32>],
        ret: Option<u32>,
    ) -> Result<TermInstance, InstanceError> {
        let tid = program
            .term_by_name(term)
            .ok_or_else(|| InstanceError::NoSpec(format!("no term `{term}` in the specs")))?;
        let info = program.term(tid);
        let spec = info
            .spec
            .as_ref()
            .ok_or_else(|| InstanceError::NoSpec(format!("`{term}` has no spec")))?;
        let decl = &program.terms.terms[tid.index()];
        if decl.arg_tys.len() != args.len() || spec.params.len() != args.len() {
            return Err(InstanceError::Type(format!(
                "`{term}` takes {} operands, the instruction has {}",
                decl.arg_tys.len(),
                args.len()
            )));
        }
        let model = |ty| {
            program.model(ty).cloned().ok_or_else(|| {
                InstanceError::Type(format!("type `{}` has no model", program.type_name(ty)))
            })
        };
        let mut graph = Graph::new();
        let states: Vec<NodeId> = program
            .states
            .iter()
            .map(|s| graph.var(s.name.clone(), Some(s.ty.clone()), s.span))
            .collect();
        let mut bindings = vec![None; spec.locals.len()];
        let mut params = Vec::new();
        let mut required = Vec::new();
        for ((&ty, &local), width) in decl.arg_tys.iter().zip(&spec.params).zip(args) {
            let declared = model(ty)?;
            let l = &spec.locals[local.0];
            let n = graph.var(format!("{term}.{}", l.name), Some(declared.clone()), l.span);
            match (width, &declared) {
                (Some(w), ModelType::BitVec(_)) => required.push((n, ModelType::BitVec(Some(*w)))),
                (Some(_), other) => {
                    return Err(InstanceError::Type(format!(
                        "operand `{}` of `{term}` is {}, not a bitvector",
                        l.name,
                        other.display(&program.enums)
                    )))
                }
                (None, _) => {}
            }
            bindings[local.0] = Some(n);
            params.push(n);
        }
        let result = graph.var(
            format!("{term}.result"),
            Some(model(decl.ret_ty)?),
            spec.span,
        );
        if let Some(ret) = ret {
            required.push((result, ModelType::BitVec(Some(ret))));
        }
        bindings[spec.result.0] = Some(result);
        // A state written in emission order (the flags) has a version before
        // the instruction, which its `require` reads (a consumer's "the
        // flags I take are the machine's"), and the one it leaves. Run on
        // its own, nothing defines the first: such a require is not
        // checked here (it is about the order of emission, which only a
        // rule has).
        let before: Vec<NodeId> = program
            .states
            .iter()
            .zip(&states)
            .map(|(s, &n)| {
                if s.ordered {
                    graph.var(format!("{}@before", s.name), Some(s.ty.clone()), s.span)
                } else {
                    n
                }
            })
            .collect();
        let inst = graph.instantiate_ordered(spec, &bindings, &states, &before, term);
        let mut modified = Vec::new();
        for (st, _) in &inst.modifies {
            if !modified.contains(&st.0) {
                modified.push(st.0);
            }
        }
        let mut facts = inst.provides.clone();
        facts.extend(&inst.matches);
        // Every state the spec does not modify keeps its default, as in a
        // verification condition.
        for (i, s) in program.states.iter().enumerate() {
            let conds: Vec<NodeId> = inst
                .modifies
                .iter()
                .filter(|(st, _)| st.0 == i)
                .map(|(_, c)| *c)
                .collect();
            let Some(default) = s.default.provides.first() else {
                continue;
            };
            let default = graph.instantiate_expr(&s.default, default, &[], &states, &s.name);
            let fact = if conds.is_empty() {
                default
            } else {
                let any = graph.op(Op::Or, conds, s.span);
                let none = graph.op(Op::Not, vec![any], s.span);
                graph.op(Op::Imp, vec![none, default], s.span)
            };
            facts.push(fact);
        }
        let requires = inst.requires.clone();
        let mut roots = facts.clone();
        roots.extend(&requires);
        roots.extend(&params);
        roots.push(result);
        roots.extend(&states);
        for &f in facts.iter().chain(&requires) {
            required.push((f, ModelType::Bool));
        }
        let typing = infer(
            &graph,
            &program.enums,
            &roots,
            &facts,
            &required,
            Mode::Complete,
        )
        .map_err(|e| {
            let at = program.sources.location(e.span);
            InstanceError::Type(format!("{} ({at})", e.message))
        })?;
        Ok(TermInstance {
            term: term.to_string(),
            graph,
            typing,
            facts,
            requires,
            params,
            result,
            states,
            modified,
        })
    }

    /// Computes the result and the states from concrete operands (one value
    /// per parameter) by definitional evaluation, then evaluates every
    /// clause under the values found. A result the spec leaves free (as it
    /// does when the term traps) is taken as zero for the clauses.
    pub fn evaluate(&self, program: &Program, args: &[Value]) -> Result<Evaluation, String> {
        let term = &self.term;
        let var = |n: NodeId| {
            self.graph
                .as_var(n)
                .ok_or_else(|| "internal error: a parameter is not a variable".to_string())
        };
        let params = self
            .params
            .iter()
            .map(|&n| var(n))
            .collect::<Result<Vec<_>, _>>()?;
        let result = var(self.result)?;
        let seeds: HashMap<VarId, Value> =
            params.iter().copied().zip(args.iter().cloned()).collect();
        let (mut values, _) = derive(
            &self.graph,
            &self.typing,
            &program.enums,
            &self.facts,
            &params,
            &|v| seeds.get(&v).cloned(),
        );
        for (p, a) in params.iter().zip(args) {
            if values.get(p) != Some(a) {
                return Err(format!(
                    "the spec of `{term}` redefines its operand `{}`",
                    self.graph.vars[p.0 as usize].name
                ));
            }
        }
        let result_value = values.get(&result).cloned();
        let states = self
            .states
            .iter()
            .map(|&n| var(n).map(|v| values.get(&v).cloned()))
            .collect::<Result<Vec<_>, _>>()?;
        if let (None, Some(w)) = (
            &result_value,
            self.typing.ty(self.result).and_then(|t| t.width()),
        ) {
            values.insert(result, Value::Bv(BitVec::zero(w)));
        }
        let mut ev = Evaluator::new(&self.graph, &self.typing, &program.enums);
        let env = |v: VarId| values.get(&v).cloned();
        let mut violated = Vec::new();
        for (clauses, what) in [
            (&self.facts, Clause::Fact),
            (&self.requires, Clause::Require),
        ] {
            for &c in clauses {
                match ev.eval(c, &env) {
                    Ok(Value::Bool(true)) | Err(EvalError::Unbound(_)) => {}
                    Ok(_) => violated.push((what, self.graph.node(c).span)),
                    Err(e) => return Err(format!("cannot evaluate the spec of `{term}`: {e}")),
                }
            }
        }
        Ok(Evaluation {
            result: result_value,
            states,
            violated,
        })
    }

    /// The variable of state `name`, if the program declares it.
    pub fn state(&self, program: &Program, name: &str) -> Option<NodeId> {
        program
            .states
            .iter()
            .position(|s| s.name == name)
            .map(|i| self.states[i])
    }
}
