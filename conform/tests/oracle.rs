//! The compiled tapes give what definitional evaluation gives, for every
//! mapped (instruction, variant) of both architectures.

mod common;

use loweq_conform::oracle::Oracle;
use loweq_conform::plan::{self, Param};
use loweq_conform::vectors::{self, Rng};
use loweq_conform::Isa;
use loweq_semantics::value::{BitVec, Value};

#[test]
fn tapes_agree_with_derivation() {
    for isa in Isa::ALL {
        let program = common::program(isa);
        let (file, text) = loweq_conform::map::shipped(isa.name()).unwrap();
        let table = loweq_conform::map::Table::parse(file, text).unwrap();
        let jobs = plan::jobs(&program, &table, isa, file, text).unwrap();
        for job in jobs {
            let fixed = job.fixed();
            let mut oracle =
                Oracle::new(&program, &job.term, fixed, table.trap.as_deref()).unwrap();
            let mut rng = Rng::new(3, &job.term);
            let mut compiled = 0;
            for i in 0..64 {
                let mut args = Vec::new();
                for p in &job.params {
                    match p {
                        Param::Fixed(_) => {}
                        Param::Reg { width, .. } => {
                            let e = vectors::edges(*width);
                            let x = if i % 2 == 0 {
                                e[rng.below(e.len())] | (rng.bits() << 1 << (*width - 1))
                            } else {
                                rng.bits()
                            };
                            args.push(Value::Bv(BitVec::from_u128(64, u128::from(x))));
                        }
                        Param::Flags(bits) => {
                            let word = rng.bits();
                            args.push(Value::Struct(
                                bits.iter()
                                    .map(|(f, b)| (f.clone(), Value::Bool(word >> b & 1 == 1)))
                                    .collect(),
                            ));
                        }
                        Param::Imm { ty, .. } => {
                            let c = vectors::immediate_candidates(ty, 8, &mut rng).unwrap();
                            args.push(c[rng.below(c.len())].clone());
                        }
                    }
                }
                let fast = oracle.eval(&args);
                if oracle.compiled() {
                    compiled += 1;
                }
                let slow = oracle.eval_slow(&args);
                assert_eq!(fast, slow, "{} {} on {args:?}", job.term, job.label());
                assert!(slow.is_ok(), "{} {}: {slow:?}", job.term, job.label());
            }
            assert!(compiled > 0, "{} {} never compiled", job.term, job.label());
        }
    }
}
