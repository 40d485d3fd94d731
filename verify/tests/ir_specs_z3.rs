//! The z3 encoding of every IR spec agrees with the plain-Rust reference
//! implementation (`loweq-reference`): with the operands pinned to random
//! values, the spec's clauses are satisfiable, and together with "the
//! result differs from the reference" (or "it does not trap", where the
//! reference traps) they are unsatisfiable. The specs are instantiated
//! exactly as the CLIF interpreter instantiates them
//! (`loweq_runtest::TermInstance`).
//!
//! Also: every `instantiate` signature of every IR term types and encodes.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use loweq_dsl::Program;
use loweq_reference::strategy::case;
use loweq_reference::{reference, Case, Outcome};
use loweq_runtest::TermInstance;
use loweq_semantics::ty::ModelType;
use loweq_semantics::value::BitVec;
use loweq_verify::encode::{bv_const, EncodeError, Encoder, Z};
use proptest::prelude::*;
use z3::ast::{Bool, BV};
use z3::{SatResult, Solver};

type Key = (&'static str, Vec<Option<u32>>, u32);

thread_local! {
    static PROGRAM: &'static Program = Box::leak(Box::new(loweq_reference::ir_program()));
    static INSTANCES: RefCell<HashMap<Key, Rc<TermInstance>>> = RefCell::new(HashMap::new());
}

/// The spec of `c.op` at the case's types (cached per thread).
fn instance(program: &Program, c: &Case) -> Rc<TermInstance> {
    let mut widths: Vec<Option<u32>> = Vec::new();
    if c.cond.is_some() {
        widths.push(None);
    }
    widths.extend(c.args.iter().map(|&(w, _)| Some(w)));
    let key = (c.op, widths, c.ret);
    INSTANCES.with(|cache| {
        cache
            .borrow_mut()
            .entry(key.clone())
            .or_insert_with(|| match TermInstance::new(program, c.op, &key.1, c.ret) {
                Ok(i) => Rc::new(i),
                Err(e) => panic!("{c:?}: {e}"),
            })
            .clone()
    })
}

/// Checks `facts` and `extra` together on a fresh solver.
fn check(facts: &[Bool], extra: &[Bool]) -> SatResult {
    let solver = Solver::new_for_logic("QF_BV").unwrap_or_default();
    for b in facts.iter().chain(extra) {
        solver.assert(b);
    }
    solver.check()
}

fn encode_failed(e: EncodeError) -> TestCaseError {
    TestCaseError::fail(e.message)
}

/// Checks one case in z3.
fn agree(c: &Case) -> Result<(), TestCaseError> {
    let want = reference(c).ok_or_else(|| TestCaseError::fail(format!("not valid CLIF: {c:?}")))?;
    let program = PROGRAM.with(|p| *p);
    let inst = instance(program, c);
    let mut enc = Encoder::new(&inst.graph, &inst.typing, &program.enums);
    let mut facts = Vec::new();
    for &f in &inst.facts {
        facts.push(enc.bool(f).map_err(encode_failed)?);
    }
    // Pin the operands.
    let mut params = inst.params.iter();
    if let Some(cc) = c.cond {
        let p = params.next().expect("a condition parameter");
        let id = program.enums.by_name("IntCC").expect("the IntCC enum");
        let name = loweq_dsl::clif::IntCC::from_clif(cc)
            .expect("a condition code")
            .isle_name();
        let variant = program
            .enums
            .get(id)
            .variant_index(name)
            .expect("a variant");
        let Z::Enum { disc, .. } = enc.node(*p).map_err(encode_failed)? else {
            return Err(TestCaseError::fail("the condition is not an enum"));
        };
        facts.push(disc.eq(BV::from_u64(variant as u64, disc.get_size())));
    }
    for (p, &(w, v)) in params.zip(&c.args) {
        let Z::Bv(x) = enc.node(*p).map_err(encode_failed)? else {
            return Err(TestCaseError::fail("an operand is not a bitvector"));
        };
        facts.push(x.eq(bv_const(&BitVec::from_u128(w, v))));
    }
    facts.extend(enc.wellformed().iter().cloned());
    // The clauses must not be contradictory for these operands (else the
    // next check would pass for nothing).
    prop_assert_eq!(
        check(&facts, &[]),
        SatResult::Sat,
        "{:?}: the spec has no model",
        c
    );
    let trap = match inst.state(program, "clif_trap") {
        Some(t) => enc.bool(t).map_err(encode_failed)?,
        None => Bool::from_bool(false),
    };
    let Z::Bv(result) = enc.node(inst.result).map_err(encode_failed)? else {
        return Err(TestCaseError::fail("the result is not a bitvector"));
    };
    let wrong = match want {
        Outcome::Trap => trap.not(),
        Outcome::Value(v) => {
            let expected = bv_const(&BitVec::from_u128(c.ret, v));
            Bool::or(&[trap, result.eq(&expected).not()])
        }
    };
    prop_assert_eq!(
        check(&facts, &[wrong]),
        SatResult::Unsat,
        "{:?}: expected {:?}",
        c,
        want
    );
    Ok(())
}

macro_rules! agreement {
    ($($test:ident: $op:literal,)*) => {
        proptest! {
            #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
            $(
                #[test]
                fn $test(c in case($op)) {
                    agree(&c)?;
                }
            )*
        }

        /// Every opcode the reference knows has a test above.
        #[test]
        fn every_op_is_tested() {
            let tested = [$($op),*];
            for op in loweq_reference::ops::all() {
                assert!(tested.contains(&op), "no z3 agreement test for `{op}`");
            }
        }
    };
}

loweq_reference::for_each_op!(agreement);

/// The trapping corners of division, explicitly, at every width.
#[test]
fn division_traps_exactly_where_clif_does() {
    for w in [8u32, 16, 32, 64] {
        let min = 1u128 << (w - 1);
        let minus_one = loweq_reference::mask(w);
        for (op, x, y) in [
            ("udiv", 5, 0),
            ("urem", 5, 0),
            ("sdiv", 5, 0),
            ("srem", 5, 0),
            ("sdiv", min, minus_one),
            ("srem", min, minus_one),
            ("sdiv", min, 1),
            ("udiv", min, minus_one),
        ] {
            let c = Case {
                op,
                cond: None,
                args: vec![(w, x), (w, y)],
                ret: w,
            };
            if let Err(e) = agree(&c) {
                panic!("{op}.i{w} {x:#x}, {y:#x}: {e}");
            }
        }
    }
}

/// Every `instantiate` signature of every IR term types completely and its
/// clauses are satisfiable: the verifier can use each of them.
#[test]
fn every_signature_types_and_encodes() {
    let program = PROGRAM.with(|p| *p);
    let mut checked = 0;
    for info in &program.term_info {
        if info.spec.is_none() {
            continue;
        }
        for sig in &info.signatures {
            let width = |m: &ModelType| match m {
                ModelType::BitVec(w) => *w,
                _ => None,
            };
            let args: Vec<Option<u32>> = sig.args.iter().map(width).collect();
            let ret = width(&sig.ret).expect("IR terms return bitvectors");
            let inst = TermInstance::new(program, &info.name, &args, ret)
                .unwrap_or_else(|e| panic!("{} at {args:?} -> {ret}: {e}", info.name));
            let mut enc = Encoder::new(&inst.graph, &inst.typing, &program.enums);
            let mut facts = Vec::new();
            for &f in &inst.facts {
                facts.push(
                    enc.bool(f)
                        .unwrap_or_else(|e| panic!("{}: {}", info.name, e.message)),
                );
            }
            facts.extend(enc.wellformed().iter().cloned());
            assert_eq!(
                check(&facts, &[]),
                SatResult::Sat,
                "{} at {args:?}",
                info.name
            );
            checked += 1;
        }
    }
    // 42 terms, most with 4 signatures, some with 16.
    assert!(checked > 200, "only {checked} signatures");
}
