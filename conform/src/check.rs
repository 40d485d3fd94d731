//! Running one architecture's conformance: for every job, vectors, the
//! spec's verdict on each, the machine's, and the comparison.

use std::sync::Mutex;
use std::time::Instant;

use loweq_dsl::Program;
use loweq_machine::{flags, Batch, Machine, MachineError, Outcomes};
use loweq_semantics::ty::ModelType;
use loweq_semantics::value::{BitVec, Value};
use rayon::prelude::*;

use crate::coverage;
use crate::isa::Isa;
use crate::map::Table;
use crate::oracle::{Expected, Oracle};
use crate::plan::{self, Job, Output, Param};
use crate::report::{ArchReport, Disagreement, Input, InstResult, NotRun, Observed};
use crate::vectors::{self, RegSpec, Rng};

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Vectors per (instruction, variant).
    pub vectors: usize,
    /// The seed of the random vectors.
    pub seed: u64,
    /// Only these terms (all when empty).
    pub insts: Vec<String>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            vectors: 10_000,
            seed: 0,
            insts: Vec::new(),
        }
    }
}

/// Why a run could not start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConformError {
    /// The mapping table does not parse.
    #[error("{0}")]
    Table(#[from] crate::map::TableError),
    /// A mapping entry does not fit its term.
    #[error("{0}")]
    Plan(#[from] crate::plan::PlanError),
    /// The table does not cover the architecture's spec terms.
    #[error("{file}: {coverage}")]
    Coverage {
        /// The table.
        file: String,
        /// What is missing.
        coverage: String,
    },
    /// `--inst` named a term the table does not run.
    #[error("no instruction term `{0}` in the {1} mapping (see `loweq conform --list`)")]
    UnknownInst(String, &'static str),
    /// The machine is not available here.
    #[error("{0}")]
    Unavailable(MachineError),
}

/// Immediates drawn per job: the code is assembled once per entry.
const POOL: usize = 64;

/// The machine flags word for four condition-flag bits (bit 0..3: x86
/// CF ZF SF OF; AArch64 N Z C V) and junk for the others.
fn machine_flags(isa: Isa, bits: u8, junk: u64) -> u64 {
    let pick = |i: u8, f: u64| if bits >> i & 1 == 1 { f } else { 0 };
    match isa {
        Isa::X64 => {
            pick(0, flags::X64_CF)
                | pick(1, flags::X64_ZF)
                | pick(2, flags::X64_SF)
                | pick(3, flags::X64_OF)
                | (junk & (flags::X64_PF | flags::X64_AF))
        }
        Isa::Aarch64 => {
            pick(0, flags::A64_N)
                | pick(1, flags::A64_Z)
                | pick(2, flags::A64_C)
                | pick(3, flags::A64_V)
        }
    }
}

fn hex(v: &Value) -> String {
    match v {
        Value::Bv(b) => b.hex_grouped(),
        Value::Bool(b) => b.to_string(),
        Value::Struct(fs) => {
            let parts: Vec<String> = fs.iter().map(|(n, v)| format!("{n}: {}", hex(v))).collect();
            format!("{{{}}}", parts.join(", "))
        }
        other => format!("{other:?}"),
    }
}

/// The spec's value of a flags struct held in the machine's flags word.
fn flags_value(bits: &[(String, u32)], word: u64) -> Value {
    Value::Struct(
        bits.iter()
            .map(|(f, b)| (f.clone(), Value::Bool(word >> b & 1 == 1)))
            .collect(),
    )
}

/// A flags word's fields, `c=1 n=0 v=0 z=1`.
fn flags_text(bits: &[(String, u32)], word: u64) -> String {
    bits.iter()
        .map(|(f, b)| format!("{f}={}", word >> b & 1))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The flags word a flags struct stands for, if it is one.
fn flags_word(bits: &[(String, u32)], v: &Value) -> Option<u64> {
    let Value::Struct(fields) = v else {
        return None;
    };
    let mut word = 0;
    for (f, b) in bits {
        let (_, x) = fields.iter().find(|(n, _)| n == f)?;
        if x.as_bool()? {
            word |= 1 << b;
        }
    }
    Some(word)
}

fn imm_value(ty: &ModelType, v: i64) -> Option<Value> {
    match ty {
        ModelType::BitVec(Some(w)) => Some(Value::Bv(BitVec::from_int(*w, &v.into()))),
        ModelType::Bool => Some(Value::Bool(v != 0)),
        _ => None,
    }
}

/// One vector, before and after.
struct Vector {
    regs: Vec<u64>,
    flags: u64,
    pool: usize,
    expected: Result<Expected, String>,
}

/// The machines of a run, shared by the worker threads.
struct Machines<'a> {
    idle: Mutex<Vec<Box<dyn Machine>>>,
    make: &'a (dyn Fn() -> Result<Box<dyn Machine>, MachineError> + Sync),
}

impl Machines<'_> {
    fn with<T>(&self, f: impl FnOnce(&mut dyn Machine) -> T) -> Result<T, MachineError> {
        let m = self.idle.lock().map(|mut v| v.pop()).unwrap_or(None);
        let mut m = match m {
            Some(m) => m,
            None => (self.make)()?,
        };
        let r = f(m.as_mut());
        if let Ok(mut v) = self.idle.lock() {
            v.push(m);
        }
        Ok(r)
    }
}

/// Runs the conformance of `isa`: `table` (its file name and text) maps the
/// instruction terms of `program` (the architecture's specs and shipped
/// rules) to code; `make` makes a machine (one per worker thread).
pub fn run(
    program: &Program,
    isa: Isa,
    file: &str,
    text: &str,
    options: &Options,
    make: &(dyn Fn() -> Result<Box<dyn Machine>, MachineError> + Sync),
) -> Result<ArchReport, ConformError> {
    let start = Instant::now();
    let table = Table::parse(file, text)?;
    let cov = coverage::check(program, &table, isa);
    if !cov.is_complete() {
        return Err(ConformError::Coverage {
            file: file.to_string(),
            coverage: cov.to_string().trim_end().to_string(),
        });
    }
    let mut jobs = plan::jobs(program, &table, isa, file, text)?;
    for name in &options.insts {
        if !jobs.iter().any(|j| &j.term == name) {
            return Err(ConformError::UnknownInst(name.clone(), isa.name()));
        }
    }
    if !options.insts.is_empty() {
        jobs.retain(|j| options.insts.contains(&j.term));
    }
    // Fail early, before any work, when the machine is missing.
    let first = make().map_err(ConformError::Unavailable)?;
    let machine_name = first.name();
    let machines = Machines {
        idle: Mutex::new(vec![first]),
        make,
    };
    let used = coverage::rule_terms(program);
    let results: Vec<InstResult> = jobs
        .par_iter()
        .map(|job| run_job(program, &table, isa, job, options, &machines))
        .collect();
    let not_run = table
        .unrunnable
        .iter()
        .map(|u| NotRun {
            term: u.term.clone(),
            reason: u.reason.clone(),
            used_by_rules: used.contains(&u.term),
        })
        .collect();
    Ok(ArchReport {
        isa,
        machine: machine_name,
        results,
        not_run,
        seconds: start.elapsed().as_secs_f64(),
    })
}

fn run_job(
    program: &Program,
    table: &Table,
    isa: Isa,
    job: &Job,
    options: &Options,
    machines: &Machines<'_>,
) -> InstResult {
    let mut result = InstResult {
        term: job.term.clone(),
        variant: job.label(),
        code: job.code_text.clone(),
        vectors: 0,
        agreed: 0,
        outside: 0,
        first: None,
        error: None,
        slow: None,
        spec_seconds: 0.0,
        machine_seconds: 0.0,
    };
    let t0 = Instant::now();
    let prepared = prepare(program, table, isa, job, options);
    result.spec_seconds = t0.elapsed().as_secs_f64();
    let (pool, vectors, slow) = match prepared {
        Ok(p) => p,
        Err(e) => {
            result.error = Some(e);
            return result;
        }
    };
    result.slow = slow;
    if !job.emitted {
        let inside = vectors
            .iter()
            .filter(|v| !matches!(v.expected, Ok(Expected::Outside)))
            .count();
        result.outside = vectors.len() - inside;
        if inside > 0 {
            result.error = Some(format!(
                "the mapping has no code for this variant, but the spec's require admits \
                 {inside} of {} vectors",
                vectors.len()
            ));
        }
        return result;
    }
    // The batch: one group per immediate, in pool order.
    let mut batch = Batch::new(job.regs.clone());
    let mut order = Vec::new();
    let mut codes = Vec::new();
    for (p, imms) in pool.iter().enumerate() {
        let members: Vec<usize> = (0..vectors.len())
            .filter(|&i| {
                vectors[i].pool == p && !matches!(vectors[i].expected, Ok(Expected::Outside))
            })
            .collect();
        let code = match job.render(isa, imms) {
            Ok(c) => c,
            Err(e) => {
                result.error = Some(e);
                return result;
            }
        };
        codes.push(code.clone());
        if members.is_empty() {
            continue;
        }
        batch.group(code);
        for &i in &members {
            batch.push(&vectors[i].regs, vectors[i].flags);
            order.push(i);
        }
    }
    result.outside = vectors
        .iter()
        .filter(|v| matches!(v.expected, Ok(Expected::Outside)))
        .count();
    let t1 = Instant::now();
    let ran = machines.with(|m| -> Result<(), MachineError> {
        let outcomes = m.run(&batch)?;
        compare(
            job,
            &vectors,
            &order,
            &outcomes,
            &pool,
            &codes,
            m,
            &mut result,
        );
        Ok(())
    });
    if let Err(e) | Ok(Err(e)) = ran {
        result.error = Some(e.to_string());
    }
    result.machine_seconds = t1.elapsed().as_secs_f64();
    result
}

/// Compares the machine's outcomes with the spec's verdicts.
#[allow(clippy::too_many_arguments)]
fn compare(
    job: &Job,
    vectors: &[Vector],
    order: &[usize],
    outcomes: &Outcomes,
    pool: &[Vec<Value>],
    codes: &[Vec<String>],
    machine: &mut dyn Machine,
    result: &mut InstResult,
) {
    result.vectors = order.len();
    for (k, &i) in order.iter().enumerate() {
        let v = &vectors[i];
        let out = outcomes.get(k);
        let observed = match (out.fault, &job.result) {
            (Some(f), _) => Observed::Trap(f.to_string()),
            (None, Output::Reg(r)) => Observed::Value(out.regs[*r]),
            (None, Output::Flags(bits)) => Observed::Flags(flags_text(bits, out.flags)),
        };
        let spec = match (&v.expected, &job.result) {
            (Ok(Expected::Trap), _) => Observed::Trap("trap".into()),
            (Ok(Expected::Value(Value::Bv(b))), Output::Reg(_)) if b.width() == 64 => {
                Observed::Value(b.to_u128().unwrap_or(0) as u64)
            }
            (Ok(Expected::Value(f)), Output::Flags(bits)) if flags_word(bits, f).is_some() => {
                Observed::Flags(flags_text(bits, flags_word(bits, f).unwrap_or(0)))
            }
            (Ok(Expected::Value(other)), _) => Observed::Error(format!(
                "the result is {}, not what the mapping reads",
                hex(other)
            )),
            (Ok(Expected::Outside), _) => continue,
            (Err(e), _) => Observed::Error(e.clone()),
        };
        let agree = match (&spec, &observed) {
            (Observed::Trap(_), Observed::Trap(_)) => true,
            (Observed::Value(a), Observed::Value(b)) => a == b,
            (Observed::Flags(a), Observed::Flags(b)) => a == b,
            _ => false,
        };
        if agree {
            result.agreed += 1;
        } else if result.first.is_none() {
            let code = &codes[v.pool];
            result.first = Some(Disagreement {
                listing: machine
                    .listing(code)
                    .unwrap_or_else(|e| format!("{} ({e})", code.join("; "))),
                inputs: inputs(job, v, &pool[v.pool]),
                result_reg: match &job.result {
                    Output::Reg(r) => job.regs[*r].clone(),
                    Output::Flags(_) => "flags".into(),
                },
                spec,
                machine: observed,
            });
        }
    }
}

type Prepared = (Vec<Vec<Value>>, Vec<Vector>, Option<String>);

/// The immediate pool and the vectors with the spec's verdicts.
fn prepare(
    program: &Program,
    table: &Table,
    isa: Isa,
    job: &Job,
    options: &Options,
) -> Result<Prepared, String> {
    let fixed = job.fixed();
    let mut oracle = Oracle::new(program, &job.term, fixed, table.trap.as_deref())?;
    let mut rng = Rng::new(options.seed, &format!("{} {}", job.term, job.label()));
    let pool = pool(job, &mut oracle, &mut rng)?;
    // Register operands (and the fresh destination), in `job.regs` order.
    let mut specs = vec![RegSpec { width: 64 }; job.regs.len()];
    for p in &job.params {
        if let Param::Reg { reg, width } = p {
            specs[*reg].width = (*width).min(64);
        }
    }
    let regs = vectors::registers(&specs, options.vectors, &mut rng);
    let mut out = Vec::with_capacity(regs.len());
    let mut args = Vec::new();
    for (i, r) in regs.into_iter().enumerate() {
        let p = i % pool.len();
        let flags = machine_flags(isa, vectors::flag_bits(i), rng.bits());
        args.clear();
        let mut imm = pool[p].iter();
        for param in &job.params {
            match param {
                Param::Fixed(_) => {}
                Param::Reg { reg, .. } => {
                    args.push(Value::Bv(BitVec::from_u128(64, u128::from(r[*reg]))))
                }
                Param::Imm { .. } => args.push(imm.next().expect("one per immediate").clone()),
                Param::Flags(bits) => args.push(flags_value(bits, flags)),
            }
        }
        let expected = oracle.eval(&args);
        out.push(Vector {
            flags,
            regs: r,
            pool: p,
            expected,
        });
    }
    let slow = if oracle.compiled() {
        None
    } else {
        Some(
            oracle
                .slow_reason
                .clone()
                .unwrap_or_else(|| "no tape".into()),
        )
    };
    Ok((pool, out, slow))
}

/// Up to [`POOL`] tuples of immediates that the spec's `require` accepts
/// (with every register zero); one empty tuple without immediates.
fn pool(job: &Job, oracle: &mut Oracle<'_>, rng: &mut Rng) -> Result<Vec<Vec<Value>>, String> {
    let imms = job.imms();
    if imms.is_empty() {
        return Ok(vec![Vec::new()]);
    }
    let mut cands = Vec::new();
    for &i in &imms {
        let Param::Imm { ty, values } = &job.params[i] else {
            unreachable!("an immediate")
        };
        let c = match values {
            Some(vs) => vs
                .iter()
                .map(|&v| imm_value(ty, v))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    format!("`values` for `{}` need a bitvector or Bool", job.names[i])
                })?,
            None => vectors::immediate_candidates(ty, POOL, rng)
                .ok_or_else(|| format!("`{}` is not an immediate type", job.names[i]))?,
        };
        cands.push(c);
    }
    let total: usize = cands.iter().map(Vec::len).product();
    let tries = total.min(POOL * 64);
    let mut out: Vec<Vec<Value>> = Vec::new();
    let mut args = Vec::new();
    for t in 0..tries {
        if out.len() >= POOL {
            break;
        }
        // Interleave like the register edges: every value of every
        // immediate early.
        let mut rest = t;
        let mut sum = 0;
        let tuple: Vec<Value> = cands
            .iter()
            .map(|c| {
                sum += rest % c.len();
                rest /= c.len();
                c[sum % c.len()].clone()
            })
            .collect();
        if out.contains(&tuple) {
            continue;
        }
        args.clear();
        let mut it = tuple.iter();
        for p in &job.params {
            match p {
                Param::Fixed(_) => {}
                Param::Reg { .. } => args.push(Value::Bv(BitVec::zero(64))),
                Param::Imm { .. } => args.push(it.next().expect("one per immediate").clone()),
                Param::Flags(bits) => args.push(flags_value(bits, 0)),
            }
        }
        if !matches!(oracle.eval(&args), Ok(Expected::Outside)) {
            out.push(tuple);
        }
    }
    if out.is_empty() {
        return Err(
            "no immediate the generator tried satisfies the spec's `require`; \
                    give `values` in the mapping"
                .into(),
        );
    }
    Ok(out)
}

/// The inputs of a vector, for a disagreement.
fn inputs(job: &Job, v: &Vector, imms: &[Value]) -> Vec<Input> {
    let mut out = Vec::new();
    let mut imm = imms.iter();
    for (i, p) in job.params.iter().enumerate() {
        match p {
            Param::Fixed(_) => {}
            Param::Reg { reg, .. } => out.push(Input {
                name: job.names[i].clone(),
                place: Some(job.regs[*reg].clone()),
                value: BitVec::from_u128(64, u128::from(v.regs[*reg])).hex_grouped(),
            }),
            Param::Imm { .. } => out.push(Input {
                name: job.names[i].clone(),
                place: Some("immediate".into()),
                value: imm.next().map(hex).unwrap_or_default(),
            }),
            Param::Flags(bits) => out.push(Input {
                name: job.names[i].clone(),
                place: Some("flags".into()),
                value: flags_text(bits, v.flags),
            }),
        }
    }
    if let (true, Output::Reg(r)) = (job.fresh_result, &job.result) {
        out.push(Input {
            name: "old value".into(),
            place: Some(job.regs[*r].clone()),
            value: BitVec::from_u128(64, u128::from(v.regs[*r])).hex_grouped(),
        });
    }
    out.push(Input {
        name: "flags".into(),
        place: None,
        value: format!("{:#x}", v.flags),
    });
    out
}
