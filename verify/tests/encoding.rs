//! The z3 encoding and the concrete evaluator agree: for every operator,
//! random widths and random operands, the value the evaluator computes is
//! the only value z3 allows for the encoded expression.

use loweq_semantics::eval::Evaluator;
use loweq_semantics::graph::{Graph, NodeId};
use loweq_semantics::infer::{infer, Mode};
use loweq_semantics::op::{Op, Typing};
use loweq_semantics::span::Span;
use loweq_semantics::ty::{Enums, ModelType};
use loweq_semantics::value::{BitVec, Value};
use loweq_semantics::Literal;
use loweq_verify::encode::{equal, value, Encoder};
use num_bigint::BigInt;
use proptest::prelude::*;
use z3::{SatResult, Solver};

/// A tiny deterministic generator driven by proptest's seed.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn width(&mut self) -> u32 {
        [1, 3, 8, 13, 16, 32, 33, 64, 100, 128][self.below(10) as usize]
    }
    fn bv(&mut self, w: u32) -> BitVec {
        let raw = (u128::from(self.next()) << 64) | u128::from(self.next());
        // Bias towards the values where bugs live: 0, 1, all ones, top bit.
        let special = match self.below(6) {
            0 => Some(BitVec::zero(w)),
            1 => Some(BitVec::from_u128(w, 1)),
            2 => Some(BitVec::ones(w)),
            3 => Some(BitVec::from_u128(w, 1).shl(&BitVec::from_u128(32, u128::from(w - 1)))),
            _ => None,
        };
        special.unwrap_or_else(|| BitVec::from_u128(w, raw))
    }
    fn small_bv(&mut self, w: u32) -> BitVec {
        BitVec::from_u128(w, u128::from(self.below(u64::from(w) + 3)))
    }
    fn int(&mut self) -> BigInt {
        BigInt::from(self.next() as i64 >> self.below(60))
    }
}

/// One operator application with concrete operands.
struct Case {
    graph: Graph,
    node: NodeId,
    vars: Vec<(NodeId, Value)>,
    required: Vec<(NodeId, ModelType)>,
}

impl Case {
    fn new() -> Case {
        Case {
            graph: Graph::new(),
            node: NodeId(0),
            vars: Vec::new(),
            required: Vec::new(),
        }
    }

    fn var(&mut self, v: Value) -> NodeId {
        let ty = match &v {
            Value::Bool(_) => ModelType::Bool,
            Value::Int(_) => ModelType::Int,
            Value::Bv(b) => ModelType::BitVec(Some(b.width())),
            _ => unreachable!("only primitive operands"),
        };
        let name = format!("v{}", self.vars.len());
        let n = self.graph.var(name, Some(ty.clone()), Span::default());
        self.vars.push((n, v));
        self.required.push((n, ty));
        n
    }

    fn int_const(&mut self, i: u32) -> NodeId {
        self.graph
            .constant(Literal::Int(i128::from(i)), Span::default())
    }
}

fn build(op: Op, g: &mut Gen) -> Case {
    let mut c = Case::new();
    let args: Vec<NodeId> = match op.typing() {
        Typing::Bool => {
            let n = match op {
                Op::Not => 1,
                Op::Imp => 2,
                _ => g.below(4) as usize,
            };
            (0..n)
                .map(|_| {
                    let b = g.below(2) == 1;
                    c.var(Value::Bool(b))
                })
                .collect()
        }
        Typing::Equal => {
            let w = g.width();
            let a = if g.below(2) == 0 {
                g.bv(w)
            } else {
                g.small_bv(w)
            };
            let b = if g.below(3) == 0 { a.clone() } else { g.bv(w) };
            vec![c.var(Value::Bv(a)), c.var(Value::Bv(b))]
        }
        Typing::IntArith | Typing::IntCompare => {
            let n = match op {
                Op::Sub => 1 + g.below(2) as usize,
                Op::Add | Op::Mul => 1 + g.below(3) as usize,
                _ => 2,
            };
            (0..n)
                .map(|_| {
                    let i = g.int();
                    c.var(Value::Int(i))
                })
                .collect()
        }
        Typing::BvSame | Typing::BvCompare => {
            let w = g.width();
            let n = match op.arity() {
                loweq_semantics::op::Arity::Exactly(k) => k,
                _ => 2 + g.below(3) as usize,
            };
            let shifty = matches!(
                op,
                Op::BvShl | Op::BvLshr | Op::BvAshr | Op::Rotl | Op::Rotr
            );
            (0..n)
                .map(|i| {
                    let v = if shifty && i == 1 && g.below(2) == 0 {
                        g.small_bv(w)
                    } else {
                        g.bv(w)
                    };
                    c.var(Value::Bv(v))
                })
                .collect()
        }
        Typing::Extract => {
            let w = g.width();
            let lo = g.below(u64::from(w)) as u32;
            let hi = lo + g.below(u64::from(w - lo)) as u32;
            let x = g.bv(w);
            vec![c.int_const(hi), c.int_const(lo), c.var(Value::Bv(x))]
        }
        Typing::ToWidth => {
            let w = g.width().min(100);
            let target = match op {
                Op::ConvTo => 1 + g.below(u64::from(2 * w)) as u32,
                _ => w + g.below(40) as u32,
            };
            let x = g.bv(w);
            let mut args = vec![c.int_const(target), c.var(Value::Bv(x))];
            if op == Op::ConvTo {
                // The padding: its bits above `x` are the fresh bits of a
                // widening conversion; the evaluator and z3 read the same.
                let pad = g.bv(target);
                args.push(c.var(Value::Bv(pad)));
            }
            args
        }
        Typing::IntToBv => {
            let w = g.width();
            let i = g.int();
            vec![c.int_const(w), c.var(Value::Int(i))]
        }
        Typing::BvToInt => {
            let w = g.width();
            let x = g.bv(w);
            vec![c.var(Value::Bv(x))]
        }
        Typing::Concat => {
            let n = 2 + g.below(2);
            (0..n)
                .map(|_| {
                    let w = g.width().min(64);
                    let x = g.bv(w);
                    c.var(Value::Bv(x))
                })
                .collect()
        }
        Typing::Replicate => {
            let w = [1, 4, 8, 16][g.below(4) as usize];
            let x = g.bv(w);
            let k = 1 + g.below(4) as u32;
            vec![c.var(Value::Bv(x)), c.int_const(k)]
        }
        Typing::If => {
            let w = g.width();
            let cond = g.below(2) == 1;
            let (a, b) = (g.bv(w), g.bv(w));
            vec![
                c.var(Value::Bool(cond)),
                c.var(Value::Bv(a)),
                c.var(Value::Bv(b)),
            ]
        }
    };
    c.node = c.graph.op(op, args, Span::default());
    c
}

/// Checks one case: the evaluator's value is the only one z3 allows.
fn agree(op: Op, seed: u64) -> Result<(), String> {
    let mut g = Gen(seed);
    let c = build(op, &mut g);
    let enums = Enums::default();
    let typing = infer(
        &c.graph,
        &enums,
        &[c.node],
        &[],
        &c.required,
        Mode::Complete,
    )
    .map_err(|e| format!("{op}: inference failed: {}", e.message))?;
    let env = |v: loweq_semantics::graph::VarId| {
        c.vars
            .iter()
            .find(|(n, _)| c.graph.as_var(*n) == Some(v))
            .map(|(_, val)| val.clone())
    };
    let expected = Evaluator::new(&c.graph, &typing, &enums)
        .eval(c.node, &env)
        .map_err(|e| format!("{op}: evaluator failed: {e}"))?;
    let mut enc = Encoder::new(&c.graph, &typing, &enums);
    let _ = enc.node(c.node).map_err(|e| e.message.clone())?;
    // The bitvector solver is much quicker to start than the general one.
    let solver = if enc.beyond_bv {
        Solver::new()
    } else {
        Solver::new_for_logic("QF_BV").unwrap_or_default()
    };
    for (n, v) in &c.vars {
        let z = enc.node(*n).map_err(|e| e.message)?;
        solver.assert(equal(&z, &value(v).expect("primitive")));
    }
    let z = enc.node(c.node).map_err(|e| e.message)?;
    solver.assert(equal(&z, &value(&expected).expect("primitive")).not());
    match solver.check() {
        SatResult::Unsat => Ok(()),
        r => {
            let operands: Vec<String> = c.vars.iter().map(|(_, v)| format!("{v:?}")).collect();
            Err(format!(
                "{op} of {operands:?}: evaluator says {expected:?}, z3 says {r:?} to anything else"
            ))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn z3_encoding_matches_the_evaluator(seed in any::<u64>()) {
        for &op in Op::ALL {
            if let Err(e) = agree(op, seed) {
                prop_assert!(false, "{}", e);
            }
        }
    }
}

/// The special cases where SMT-LIB and intuition part ways are pinned.
#[test]
fn division_by_zero_and_shift_edges_agree() {
    for seed in 0..200 {
        for op in [
            Op::BvUdiv,
            Op::BvUrem,
            Op::BvSdiv,
            Op::BvSrem,
            Op::BvAshr,
            Op::Rotr,
            Op::Cls,
            Op::Clz,
        ] {
            agree(op, seed).unwrap();
        }
    }
}
