//! Counterexamples made small: the model's free variables, one at a time
//! in preferred order ([`preferred_order`]), fixed to zero, the fewest
//! significant bits or a single set bit, an integer to the value nearest
//! zero, an enum to its earliest variant that still fails, each step
//! keeping the counterexample.

use loweq_dsl::Program;
use loweq_semantics::graph::{NodeKind, VarId};
use loweq_semantics::value::Value;
use z3::ast::{Bool, Int, BV};
use z3::Model;

use super::query::{Answer, Queries};
use crate::condition::Condition;
use crate::encode::{bv_const, read, Encoder, Z};
use crate::instances::Instance;

/// The order in which counterexample variables are made small: the rule's
/// variables first, then the root's arguments, then everything else.
pub fn preferred_order(cond: &Condition) -> Vec<VarId> {
    let mut order = Vec::new();
    let mut listed = vec![false; cond.graph.vars.len()];
    let nodes = cond
        .inputs
        .iter()
        .map(|i| i.node)
        .chain(cond.root_args.iter().copied());
    for n in nodes {
        if let Some(v) = cond.graph.as_var(n) {
            if !std::mem::replace(&mut listed[v.0 as usize], true) {
                order.push(v);
            }
        }
    }
    for i in 0..cond.graph.vars.len() as u32 {
        if !listed[i as usize] {
            order.push(VarId(i));
        }
    }
    order
}

/// The variables the facts do not define from others under `model`, in
/// preferred order: those a derivation seeded from the model.
pub(super) fn free_vars(
    program: &Program,
    cond: &Condition,
    inst: &Instance,
    encoder: &Encoder<'_>,
    model: &Model,
) -> Vec<VarId> {
    let facts: Vec<_> = cond
        .assumptions
        .iter()
        .map(|c| c.node)
        .filter(|&n| !matches!(cond.graph.node(n).kind, NodeKind::Forall(_)))
        .collect();
    let seed = |v: VarId| encoder.var(v).and_then(|z| read(model, z));
    loweq_semantics::derive::derive(
        &cond.graph,
        &inst.typing,
        &program.enums,
        &facts,
        &preferred_order(cond),
        &seed,
    )
    .1
}

fn quantified(cond: &Condition) -> Vec<VarId> {
    cond.graph
        .nodes
        .iter()
        .filter_map(|n| match &n.kind {
            NodeKind::Forall(vs) => Some(vs.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// Makes the model's free bitvector variables small, one at a time in
/// preferred order: zero if possible, else the fewest significant bits,
/// else a single set bit. Every step keeps the counterexample, so the
/// result depends on the problem rather than on z3's first choice.
///
/// Only the variables that the facts do not define from others need it
/// (`free` lists them under a model, in preferred order): the rest follow,
/// and the explanation recomputes them. A deep rule has one variable per
/// term, but few free ones.
pub(super) fn shrink(
    q: &mut Queries,
    encoder: &Encoder<'_>,
    cond: &Condition,
    violated: Bool,
    model: Model,
    free: &dyn Fn(&Model) -> Vec<VarId>,
) -> Model {
    let bound = quantified(cond);
    let mut fixed = vec![violated];
    let mut model = model;
    let keep =
        |q: &mut Queries, fixed: &mut Vec<Bool>, c: Bool, model: &mut Model| -> Option<bool> {
            fixed.push(c);
            match q.check(fixed) {
                Answer::Sat(m) => {
                    *model = m;
                    Some(true)
                }
                Answer::Unsat => {
                    fixed.pop();
                    Some(false)
                }
                Answer::Unknown(_) => {
                    fixed.pop();
                    None
                }
            }
        };
    let mut tried = vec![false; cond.graph.vars.len()];
    'more: loop {
        let next: Vec<VarId> = free(&model)
            .into_iter()
            .filter(|v| !std::mem::replace(&mut tried[v.0 as usize], true))
            .collect();
        if next.is_empty() {
            break;
        }
        for v in next {
            if bound.contains(&v) {
                continue;
            }
            let mut leaves = Vec::new();
            if let Some(z) = encoder.var(v) {
                leaves_of(z, &mut leaves);
            }
            for leaf in leaves {
                let kept = match leaf {
                    Leaf::Bv(x) => shrink_bv(q, &mut fixed, &mut model, x, &keep),
                    Leaf::Variant(x, n) => shrink_variant(q, &mut fixed, &mut model, x, n, &keep),
                    Leaf::Int(x) => shrink_int(q, &mut fixed, &mut model, x, &keep),
                    // Booleans prefer false.
                    Leaf::Bool(b) => keep(q, &mut fixed, b.not(), &mut model).is_some(),
                };
                if !kept {
                    break 'more;
                }
            }
        }
    }
    if let Answer::Sat(m) = q.check(&fixed) {
        model = m;
    }
    model
}

/// The answer-keeping step of [`shrink`]: adds `c` to the fixed
/// constraints if the counterexample survives it (updating the model).
type Keep = dyn Fn(&mut Queries, &mut Vec<Bool>, Bool, &mut Model) -> Option<bool>;

/// A part of a variable that shrinking makes small.
enum Leaf {
    Bv(BV),
    Bool(Bool),
    /// An integer (a state such as the count of results).
    Int(Int),
    /// An enum's variant index, with the number of variants.
    Variant(BV, usize),
}

/// The bitvectors and booleans a variable is made of: itself, or the
/// fields of a struct or of an enum's variants. A variable that is a
/// boolean on its own is left to the solver: it is usually a condition.
fn leaves_of(z: &Z, out: &mut Vec<Leaf>) {
    fn fields(z: &Z, out: &mut Vec<Leaf>) {
        match z {
            Z::Bool(b) => out.push(Leaf::Bool(b.clone())),
            other => leaves_of(other, out),
        }
    }
    match z {
        Z::Bv(b) => out.push(Leaf::Bv(b.clone())),
        Z::Int(i) => out.push(Leaf::Int(i.clone())),
        Z::Struct(fs) => fs.iter().for_each(|(_, f)| fields(f, out)),
        // The variant first (the earliest variant that still gives a
        // counterexample), then its fields.
        Z::Enum {
            disc, fields: fs, ..
        } => {
            out.push(Leaf::Variant(disc.clone(), fs.len()));
            fs.iter().flatten().for_each(|f| fields(f, out));
        }
        Z::Bool(_) | Z::Unit => {}
    }
}

/// Makes one bitvector small (see [`shrink`]); false when the solver gave
/// up and shrinking should stop.
fn shrink_bv(
    q: &mut Queries,
    fixed: &mut Vec<Bool>,
    model: &mut Model,
    x: BV,
    keep: &Keep,
) -> bool {
    {
        let w = x.get_size();
        let Some(Value::Bv(cur)) = read(model, &Z::Bv(x.clone())) else {
            return true;
        };
        if cur.is_zero() {
            fixed.push(x.eq(BV::from_u64(0, w)));
            return true;
        }
        // Determined by the others? Then it stays.
        fixed.push(x.eq(bv_const(&cur)).not());
        let free = q.check(fixed);
        fixed.pop();
        match free {
            Answer::Unsat => {
                fixed.push(x.eq(bv_const(&cur)));
                return true;
            }
            Answer::Unknown(_) => return false,
            Answer::Sat(_) => {}
        }
        match keep(q, fixed, x.eq(BV::from_u64(0, w)), model) {
            Some(true) => return true,
            None => return false,
            Some(false) => {}
        }
        // The fewest significant bits: smallest k with x < 2^k.
        let Some(lo) = least(q, fixed, 1, i64::from(w), |k| x.bvult(bit(k as u32, w))) else {
            return false;
        };
        let lo = lo as u32;
        if lo < w {
            fixed.push(x.bvult(bit(lo, w)));
        }
        keep(q, fixed, x.eq(bit(lo - 1, w)), model).is_some()
    }
}

/// Makes an integer small (see [`shrink`]): zero if possible, else the
/// non-negative value nearest zero, else the negative one nearest zero;
/// false when the solver gave up and shrinking should stop.
fn shrink_int(
    q: &mut Queries,
    fixed: &mut Vec<Bool>,
    model: &mut Model,
    x: Int,
    keep: &Keep,
) -> bool {
    let value = |model: &Model| match read(model, &Z::Int(x.clone())) {
        Some(Value::Int(v)) => i64::try_from(v).ok(),
        _ => None,
    };
    let Some(cur) = value(model) else {
        return true;
    };
    if cur == 0 {
        fixed.push(x.eq(Int::from_i64(0)));
        return true;
    }
    match keep(q, fixed, x.eq(Int::from_i64(0)), model) {
        Some(true) => return true,
        None => return false,
        Some(false) => {}
    }
    let nonneg = match keep(q, fixed, x.ge(Int::from_i64(0)), model) {
        Some(b) => b,
        None => return false,
    };
    let Some(cur) = value(model) else {
        return true;
    };
    // The least magnitude on that side, between 1 and the current one.
    let within = |m: i64| {
        if nonneg {
            x.le(Int::from_i64(m))
        } else {
            x.ge(Int::from_i64(-m))
        }
    };
    let Some(lo) = least(q, fixed, 1, cur.saturating_abs(), within) else {
        return false;
    };
    let at = if nonneg { lo } else { -lo };
    keep(q, fixed, x.eq(Int::from_i64(at)), model).is_some()
}

/// The least `k` in `lo..=hi` for which the counterexample survives
/// `at_most(k)` (a constraint that holds for more values as `k` grows,
/// and for the current model at `hi`), by bisection; `None` when the
/// solver gave up.
fn least(
    q: &mut Queries,
    fixed: &mut Vec<Bool>,
    mut lo: i64,
    mut hi: i64,
    at_most: impl Fn(i64) -> Bool,
) -> Option<i64> {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        fixed.push(at_most(mid));
        let r = q.check(fixed);
        fixed.pop();
        match r {
            Answer::Sat(_) => hi = mid,
            Answer::Unsat => lo = mid + 1,
            Answer::Unknown(_) => return None,
        }
    }
    Some(lo)
}

/// Makes an enum's variant the earliest that still gives a
/// counterexample (see [`shrink`]); false when the solver gave up.
fn shrink_variant(
    q: &mut Queries,
    fixed: &mut Vec<Bool>,
    model: &mut Model,
    x: BV,
    variants: usize,
    keep: &Keep,
) -> bool {
    let w = x.get_size();
    let Some(Value::Bv(cur)) = read(model, &Z::Bv(x.clone())) else {
        return true;
    };
    let Some(cur) = cur.to_u128() else {
        return true;
    };
    let fix = |fixed: &mut Vec<Bool>| fixed.push(x.eq(BV::from_u64(cur as u64, w)));
    if cur == 0 {
        fix(fixed);
        return true;
    }
    // Determined by the others (a pattern that matches one variant)? Then
    // one query says so, where trying the earlier variants takes one each.
    fixed.push(x.eq(BV::from_u64(cur as u64, w)).not());
    let free = q.check(fixed);
    fixed.pop();
    match free {
        Answer::Unsat => {
            fix(fixed);
            return true;
        }
        Answer::Unknown(_) => return false,
        Answer::Sat(_) => {}
    }
    for i in 0..(variants as u128).min(cur) {
        match keep(q, fixed, x.eq(BV::from_u64(i as u64, w)), model) {
            Some(true) => return true,
            None => return false,
            Some(false) => {}
        }
    }
    fix(fixed);
    true
}

/// The bitvector `1 << i` of width `w`.
fn bit(i: u32, w: u32) -> BV {
    bv_const(&loweq_semantics::value::BitVec::new(
        w,
        num_bigint::BigUint::from(1u8) << i,
    ))
}
