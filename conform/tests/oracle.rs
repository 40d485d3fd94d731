//! The compiled tapes give what definitional evaluation gives, for every
//! mapped (instruction, variant) of both architectures: the result, and
//! for instructions that access memory, the accesses too.

mod common;

use loweq_conform::oracle::{Oracle, Seed};
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
        let (jobs, errors) = plan::jobs(&program, &table, isa, file, text);
        assert!(errors.is_empty(), "{errors:?}");
        for job in jobs {
            let fixed = job.fixed();
            let mut oracle = Oracle::new(
                &program,
                &job.term,
                fixed,
                table.trap.as_deref(),
                &job.effects,
            )
            .unwrap();
            let mut rng = Rng::new(3, &job.term);
            let mut compiled = 0;
            for i in 0..64 {
                let mut leaves = Vec::new();
                for (_, p) in job.leaves() {
                    match p {
                        Param::Reg { width, .. } => {
                            let e = vectors::edges(*width);
                            let x = if i % 2 == 0 {
                                e[rng.below(e.len())] | (rng.bits() << 1 << (*width - 1))
                            } else {
                                rng.bits()
                            };
                            leaves.push(Value::Bv(BitVec::from_u128(64, u128::from(x))));
                        }
                        Param::Flags(bits) => {
                            let word = rng.bits();
                            leaves.push(Value::Struct(
                                bits.iter()
                                    .map(|(f, b)| (f.clone(), Value::Bool(word >> b & 1 == 1)))
                                    .collect(),
                            ));
                        }
                        Param::Imm { ty, .. } => {
                            let c = vectors::immediate_candidates(ty, 8, &mut rng).unwrap();
                            leaves.push(c[rng.below(c.len())].clone());
                        }
                        Param::Fixed(_) | Param::Variant { .. } => unreachable!("not leaves"),
                    }
                }
                let args = job.args(&leaves);
                // Memory: the accesses, fast and slow; the states seeded
                // with them and a random value.
                let accesses = oracle.accesses(&args);
                let slow_accesses = oracle.accesses_slow(&args);
                assert_eq!(accesses, slow_accesses, "{} {}", job.term, job.label());
                let states: Vec<Seed> = match &accesses {
                    Ok(a) => a
                        .iter()
                        .map(|a| Seed::of(a, a.value.unwrap_or(rng.bits())))
                        .collect(),
                    Err(_) => oracle.placeholder_states(),
                };
                let fast = oracle.eval(&args, &states);
                if oracle.compiled() {
                    compiled += 1;
                }
                let slow = oracle.eval_slow(&args, &states);
                assert_eq!(fast, slow, "{} {} on {args:?}", job.term, job.label());
                assert!(slow.is_ok(), "{} {}: {slow:?}", job.term, job.label());
            }
            assert!(compiled > 0, "{} {} never compiled", job.term, job.label());
        }
    }
}
