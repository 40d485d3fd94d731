//! The memory states of an instruction spec (docs/memory.md): the access
//! a spec states, read off its facts field by field, and the value a
//! state is seeded with.

use loweq_semantics::eval::Evaluator;
use loweq_semantics::graph::{Graph, NodeId, NodeKind, VarId};
use loweq_semantics::infer::Typing;
use loweq_semantics::op::Op;
use loweq_semantics::ty::{Enums, ModelType};
use loweq_semantics::value::Value;

use crate::plan::AccessKind;

/// A memory access, as the spec states it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    /// Load or store.
    pub kind: AccessKind,
    /// Whether the access happens.
    pub active: bool,
    /// The address (when it happens).
    pub addr: u64,
    /// How many bits (when it happens).
    pub bits: u32,
    /// For a store, the value written (zero-extended to 64 bits).
    pub value: Option<u64>,
}

/// The value a memory state is seeded with: the fields of the access,
/// and what memory holds (a load) or what is written (a store).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Seed {
    /// Whether the access happens.
    pub active: bool,
    /// The address.
    pub addr: u64,
    /// How many bits.
    pub bits: u32,
    /// The value.
    pub value: u64,
}

impl Seed {
    /// The seed for an access with this value.
    pub fn of(a: &Access, value: u64) -> Seed {
        Seed {
            active: a.active,
            addr: a.addr,
            bits: a.bits,
            value,
        }
    }

    /// The word of a field (`active`, `addr`, `bits`, `value`).
    pub(super) fn word(&self, field: &str) -> u128 {
        match field {
            "active" => u128::from(self.active),
            "addr" => u128::from(self.addr),
            "bits" => u128::from(self.bits),
            _ => u128::from(self.value),
        }
    }
}

/// A memory state of the term.
pub(super) struct EffectVar {
    pub(super) var: VarId,
    pub(super) kind: AccessKind,
    pub(super) name: String,
    pub(super) model: ModelType,
}

/// A field of a memory state that a fact states.
pub(super) struct Found {
    pub(super) effect: usize,
    pub(super) field: String,
    /// The node that gives the value; `None` for a Bool fact on its own.
    pub(super) node: Option<NodeId>,
    pub(super) value: Value,
}

fn redirect(typing: &Typing, n: NodeId) -> NodeId {
    typing.redirect(n).unwrap_or(n)
}

/// The memory state and field `(:field state)` reads, if `n` is one.
fn state_field<'g>(
    graph: &'g Graph,
    typing: &Typing,
    effects: &[EffectVar],
    n: NodeId,
) -> Option<(usize, &'g str)> {
    let node = graph.node(redirect(typing, n));
    let NodeKind::Field(f) = &node.kind else {
        return None;
    };
    let v = graph.as_var(redirect(typing, node.args[0]))?;
    let k = effects.iter().position(|e| e.var == v)?;
    Some((k, f.as_str()))
}

/// Reads the fields of memory states off a fact: `(:f s)` and `(not (:f
/// s))` state a Bool field, `(= (:f s) e)` (either way round) a field
/// whose value `e` has under `env`; `and` is split, and `=>`, `if` and
/// `match` are followed where their condition is known (recorded in
/// `conds` with the word it has: a Bool, or an enum's variant).
#[allow(clippy::too_many_arguments)]
pub(super) fn read_fields(
    graph: &Graph,
    typing: &Typing,
    enums: &Enums,
    effects: &[EffectVar],
    ev: &mut Evaluator<'_>,
    env: &dyn Fn(VarId) -> Option<Value>,
    n: NodeId,
    found: &mut Vec<Found>,
    conds: &mut Vec<(NodeId, u128)>,
) {
    let n = redirect(typing, n);
    let node = graph.node(n);
    if let Some((effect, field)) = state_field(graph, typing, effects, n) {
        found.push(Found {
            effect,
            field: field.to_string(),
            node: None,
            value: Value::Bool(true),
        });
        return;
    }
    match &node.kind {
        NodeKind::Op(Op::And) => {
            for &a in &node.args {
                read_fields(graph, typing, enums, effects, ev, env, a, found, conds);
            }
        }
        NodeKind::Op(Op::Not) => {
            if let Some((effect, field)) = state_field(graph, typing, effects, node.args[0]) {
                found.push(Found {
                    effect,
                    field: field.to_string(),
                    node: None,
                    value: Value::Bool(false),
                });
            }
        }
        NodeKind::Op(Op::Eq) if node.args.len() == 2 => {
            for (a, b) in [(node.args[0], node.args[1]), (node.args[1], node.args[0])] {
                if let Some((effect, field)) = state_field(graph, typing, effects, a) {
                    if let Ok(value) = ev.eval(b, env) {
                        found.push(Found {
                            effect,
                            field: field.to_string(),
                            node: Some(b),
                            value,
                        });
                        return;
                    }
                }
            }
        }
        NodeKind::Op(Op::Imp | Op::If) => {
            if let Ok(Value::Bool(b)) = ev.eval(node.args[0], env) {
                conds.push((node.args[0], u128::from(b)));
                let next = match (&node.kind, b) {
                    (NodeKind::Op(Op::Imp), false) => None,
                    (NodeKind::Op(Op::Imp), true) | (_, true) => Some(node.args[1]),
                    (_, false) => Some(node.args[2]),
                };
                if let Some(m) = next {
                    read_fields(graph, typing, enums, effects, ev, env, m, found, conds);
                }
            }
        }
        NodeKind::Match(arms) => {
            if let Ok(Value::Enum {
                enum_id, variant, ..
            }) = ev.eval(node.args[0], env)
            {
                let name = &enums.get(enum_id).variants[variant].name;
                if let Some(k) = arms.iter().position(|r| &r.name == name) {
                    conds.push((node.args[0], variant as u128));
                    read_fields(
                        graph,
                        typing,
                        enums,
                        effects,
                        ev,
                        env,
                        node.args[1 + k],
                        found,
                        conds,
                    );
                }
            }
        }
        _ => {}
    }
}
