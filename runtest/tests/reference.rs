//! The IR specs, evaluated concretely, agree with the plain-Rust reference
//! implementation of every operation (`loweq-reference`) on random operands
//! at every width from 8 to 64 bits (and i128 for `iconcat`/`isplit`):
//! the same path the interpreter takes for each instruction.

mod common;

use std::cell::RefCell;

use loweq_dsl::clif::IntCC;
use loweq_dsl::Program;
use loweq_reference::strategy::case;
use loweq_reference::{mask, reference, Case, Outcome};
use loweq_runtest::{Applied, Arg, Specs};
use loweq_semantics::value::BitVec;
use proptest::prelude::*;

thread_local! {
    static SPECS: RefCell<Specs<'static>> = {
        let program: &'static Program = Box::leak(Box::new(common::program()));
        RefCell::new(Specs::new(program))
    };
}

/// The spec's operands for a case.
fn args(c: &Case) -> Vec<Arg> {
    let mut out = Vec::new();
    if let Some(cc) = c.cond {
        out.push(Arg::Cond(
            IntCC::from_clif(cc).expect("a CLIF condition code"),
        ));
    }
    out.extend(
        c.args
            .iter()
            .map(|&(w, v)| Arg::Bits(BitVec::from_u128(w, v))),
    );
    out
}

/// What the spec says about a case.
fn spec(c: &Case) -> Result<Outcome, String> {
    SPECS.with(|s| match s.borrow_mut().apply(c.op, &args(c), c.ret) {
        Ok(Applied::Trap) => Ok(Outcome::Trap),
        Ok(Applied::Value(b)) => b
            .to_u128()
            .map(Outcome::Value)
            .ok_or_else(|| "a result wider than 128 bits".into()),
        Err(e) => Err(e.to_string()),
    })
}

fn agree(c: Case) -> Result<(), TestCaseError> {
    let want =
        reference(&c).ok_or_else(|| TestCaseError::fail(format!("not valid CLIF: {c:?}")))?;
    let got = spec(&c).map_err(|e| TestCaseError::fail(format!("{c:?}: {e}")))?;
    if let Outcome::Value(v) = got {
        prop_assert_eq!(v & !mask(c.ret), 0, "result wider than its type");
    }
    prop_assert_eq!(got, want, "{:?}", c);
    Ok(())
}

macro_rules! agreement {
    ($($test:ident: $op:literal,)*) => {
        proptest! {
            $(
                #[test]
                fn $test(c in case($op)) {
                    agree(c)?;
                }
            )*
        }

        /// Every opcode the reference knows has a test above.
        #[test]
        fn every_op_is_tested() {
            let tested = [$($op),*];
            for op in loweq_reference::ops::all() {
                assert!(tested.contains(&op), "no agreement test for `{op}`");
            }
        }
    };
}

loweq_reference::for_each_op!(agreement);

/// The trapping corners, explicitly, at every width.
#[test]
fn division_traps_exactly_where_clif_does() {
    for w in [8u32, 16, 32, 64] {
        let min = 1u128 << (w - 1);
        let m = mask(w);
        let c = |op, x, y| Case {
            op,
            cond: None,
            args: vec![(w, x), (w, y)],
            ret: w,
        };
        for (op, x, y, want) in [
            ("udiv", 5, 0, Outcome::Trap),
            ("urem", 5, 0, Outcome::Trap),
            ("sdiv", 5, 0, Outcome::Trap),
            ("srem", 5, 0, Outcome::Trap),
            ("sdiv", min, m, Outcome::Trap),
            ("srem", min, m, Outcome::Value(0)),
            ("sdiv", min, 1, Outcome::Value(min)),
            ("udiv", min, m, Outcome::Value(0)),
        ] {
            assert_eq!(spec(&c(op, x, y)), Ok(want), "{op}.i{w} {x:#x}, {y:#x}");
            assert_eq!(
                reference(&c(op, x, y)),
                Some(want),
                "{op}.i{w} {x:#x}, {y:#x}"
            );
        }
    }
}
