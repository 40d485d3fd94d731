//! Running one architecture's conformance: for every job, vectors, the
//! spec's verdict on each, the machine's, and the comparison.

use std::sync::Mutex;
use std::time::Instant;

use loweq_dsl::Program;
use loweq_machine::{flags, Batch, Machine, MachineError, Outcomes, MEMORY_WINDOW};
use loweq_semantics::ty::ModelType;
use loweq_semantics::value::{BitVec, Value};
use rayon::prelude::*;

use crate::coverage;
use crate::isa::Isa;
use crate::map::Table;
use crate::memory::{access_note, memory_vector, window_text, writes};
use crate::oracle::{Expected, Oracle};
use crate::plan::{self, Job, KeptFlags, Output, Param};
use crate::report::{ArchReport, Disagreement, Input, InstResult, NotRun, Observed};
use crate::vectors::{self, RegSpec, Rng};

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Vectors run per (instruction, variant): where the spec's
    /// require excludes some, more are drawn (at most four times as many).
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
    /// `--inst` named a term the table does not run; the last field is
    /// empty or suggests near names (`; did you mean `x64_add`?`).
    #[error("no instruction term `{0}` in the {1} mapping{2} (see `loweq conform --list`)")]
    UnknownInst(String, &'static str, String),
    /// The machine is not available here.
    #[error("{0}")]
    Unavailable(MachineError),
    /// The table's `flags_state` is not a flags register of the specs.
    #[error("{0}: {1}")]
    FlagsState(String, String),
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
pub(crate) struct Vector {
    pub(crate) regs: Vec<u64>,
    pub(crate) flags: u64,
    pub(crate) pool: usize,
    /// The memory window before the code (empty without memory).
    pub(crate) memory: Vec<u8>,
    pub(crate) expected: Result<Expected, String>,
    /// The memory window after the code, as the spec says.
    pub(crate) expected_memory: Vec<u8>,
    /// Why the spec's access must fault (it runs past the window).
    pub(crate) fault: Option<String>,
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
    plan::flags_state(program, &table).map_err(|e| ConformError::FlagsState(file.into(), e))?;
    let (mut jobs, mut unplanned) = plan::jobs(program, &table, isa, file, text);
    for name in &options.insts {
        if !table.insts.iter().any(|i| i.term.get_ref() == name) {
            let names = table.insts.iter().map(|i| i.term.get_ref().as_str());
            let hint = loweq_dsl::diag::did_you_mean(name, names)
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            return Err(ConformError::UnknownInst(name.clone(), isa.name(), hint));
        }
    }
    if !options.insts.is_empty() {
        jobs.retain(|j| options.insts.contains(&j.term));
        unplanned.retain(|e| options.insts.contains(&e.term));
    }
    // Fail early, before any work, when the machine is missing.
    let first = make().map_err(ConformError::Unavailable)?;
    let machine_name = first.name();
    let machines = Machines {
        idle: Mutex::new(vec![first]),
        make,
    };
    let used = coverage::rule_terms(program);
    let mut results: Vec<InstResult> = jobs
        .par_iter()
        .map(|job| run_job(program, &table, isa, job, options, &machines))
        .collect();
    // Entries that do not fit their terms: listed, with why.
    for e in unplanned {
        let mut r = InstResult::new(&e.term, "-", Vec::new());
        r.error = Some(e.to_string());
        results.push(r);
    }
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
        coverage: if options.insts.is_empty() {
            cov
        } else {
            coverage::Coverage::default()
        },
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
    let mut result = InstResult::new(&job.term, &job.label(), job.code_text.clone());
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
    let mut batch = if job.effects.is_empty() {
        Batch::new(job.regs.clone())
    } else {
        Batch::with_memory(job.regs.clone())
    };
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
            let v = &vectors[i];
            batch.push_with_memory(&v.regs, v.flags, &v.memory);
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

/// What the spec says for a vector, as the report shows it.
fn spec_observed(job: &Job, v: &Vector) -> Option<Observed> {
    let memory = !job.effects.is_empty();
    Some(match (&v.expected, &job.result) {
        (Ok(Expected::Outside), _) => return None,
        (Ok(Expected::Trap), _) => Observed::Trap("trap".into()),
        (Err(e), _) => Observed::Error(e.clone()),
        (Ok(_), _) if v.fault.is_some() => Observed::Trap(v.fault.clone().unwrap_or_default()),
        (Ok(Expected::Value(Value::Bv(b))), Output::Reg(_)) if b.width() == 64 => {
            let value = b.to_u128().unwrap_or(0) as u64;
            if memory {
                Observed::Memory {
                    value: Some(value),
                    writes: writes(&v.memory, &v.expected_memory),
                }
            } else {
                Observed::Value(value)
            }
        }
        (Ok(Expected::Value(Value::Unit)), Output::Nothing) => Observed::Memory {
            value: None,
            writes: writes(&v.memory, &v.expected_memory),
        },
        (Ok(Expected::Value(f)), Output::Flags(bits)) if flags_word(bits, f).is_some() => {
            Observed::Flags(flags_text(bits, flags_word(bits, f).unwrap_or(0)))
        }
        (Ok(Expected::Value(other)), _) => Observed::Error(format!(
            "the result is {}, not what the mapping reads",
            hex(other)
        )),
    })
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
    result.keeps_flags = job.keeps_flags.as_ref().map(|k| k.state.clone());
    let memory = !job.effects.is_empty();
    for (k, &i) in order.iter().enumerate() {
        let v = &vectors[i];
        let out = outcomes.get(k);
        let value = match &job.result {
            Output::Reg(r) => Some(out.regs[*r]),
            _ => None,
        };
        let observed = match (out.fault, &job.result) {
            (Some(f), _) => Observed::Trap(f.to_string()),
            (None, _) if memory => Observed::Memory {
                value,
                writes: writes(&v.memory, &out.memory_bytes()),
            },
            (None, Output::Reg(r)) => Observed::Value(out.regs[*r]),
            (None, Output::Flags(bits)) => Observed::Flags(flags_text(bits, out.flags)),
            (None, Output::Nothing) => Observed::Error("nothing to compare".into()),
        };
        let Some(spec) = spec_observed(job, v) else {
            continue;
        };
        let agree = match (&spec, &observed) {
            (Observed::Trap(_), Observed::Trap(_)) => true,
            (Observed::Error(_), _) => false,
            (a, b) => a == b,
        };
        // The result agrees, and the code ran to its end: the flags the
        // spec does not modify must be as they were.
        let changed = job
            .keeps_flags
            .as_ref()
            .filter(|k| agree && out.fault.is_none() && (out.flags ^ v.flags) & k.mask() != 0);
        if agree && changed.is_none() {
            result.agreed += 1;
        } else if result.first.is_none() {
            let code = &codes[v.pool];
            let listing = machine
                .listing(code)
                .unwrap_or_else(|e| format!("{} ({e})", code.join("; ")));
            let inputs = inputs(job, v, &pool[v.pool]);
            result.first = Some(match changed {
                Some(k) => flags_changed(job, k, v.flags, out.flags, listing, inputs),
                None => Disagreement {
                    note: memory
                        .then(|| access_note(job, v, &spec, &observed))
                        .flatten(),
                    listing,
                    inputs,
                    result_reg: match &job.result {
                        Output::Reg(r) => job.regs[*r].clone(),
                        Output::Flags(_) => "flags".into(),
                        Output::Nothing => "memory".into(),
                    },
                    spec,
                    machine: observed,
                },
            });
        }
    }
}

/// The disagreement of an instruction whose spec does not modify the flags
/// register but whose code changed the flags from `before` to `after`.
fn flags_changed(
    job: &Job,
    k: &KeptFlags,
    before: u64,
    after: u64,
    listing: String,
    inputs: Vec<Input>,
) -> Disagreement {
    let (before, after) = (flags_text(&k.bits, before), flags_text(&k.bits, after));
    Disagreement {
        listing,
        inputs,
        result_reg: "flags".into(),
        spec: Observed::Flags(before.clone()),
        machine: Observed::Flags(after.clone()),
        note: Some(format!(
            "the spec of `{}` lacks `(modifies {})`, so it says the flags are left as they \
             were ({before}), but the machine changed them to {after}. If the instruction \
             writes the flags, declare `(modifies {})` (a provide that leaves the state \
             unconstrained says it clobbers them)",
            job.term, k.state, k.state
        )),
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
    let mut oracle = Oracle::new(
        program,
        &job.term,
        fixed,
        table.trap.as_deref(),
        &job.effects,
    )?;
    let mut rng = Rng::new(options.seed, &format!("{} {}", job.term, job.label()));
    let pool = pool(job, &mut oracle, &mut rng)?;
    // Register operands (and the fresh destination), in `job.regs` order.
    let mut specs = vec![RegSpec { width: 64 }; job.regs.len()];
    let leaves = job.leaves();
    for (_, p) in &leaves {
        if let Param::Reg { reg, width } = p {
            specs[*reg].width = (*width).min(64);
        }
    }
    let placeholders = oracle.placeholder_states();
    let mut out = Vec::with_capacity(options.vectors);
    // `--vectors` counts vectors run: when the require excludes some,
    // more are drawn (up to four times as many in all). A variant
    // without code only shows that the require excludes them all.
    let limit = if job.emitted {
        options.vectors.saturating_mul(4)
    } else {
        options.vectors
    };
    let mut inside = 0;
    let mut regs = vectors::registers(&specs, options.vectors, &mut rng).into_iter();
    while out.len() < limit {
        let i = out.len();
        let mut r = match regs.next() {
            Some(r) => r,
            None if inside >= options.vectors || i >= limit => break,
            None => {
                let more = (options.vectors - inside).min(limit - i);
                regs = vectors::more_registers(&specs, i, more, &mut rng).into_iter();
                continue;
            }
        };
        let p = i % pool.len();
        let flags = machine_flags(isa, vectors::flag_bits(i), rng.bits());
        let mut v = Vector {
            regs: Vec::new(),
            flags,
            pool: p,
            memory: Vec::new(),
            expected: Ok(Expected::Outside),
            expected_memory: Vec::new(),
            fault: None,
        };
        let args = |r: &[u64]| job.args(&leaf_values(&leaves, r, &pool[p], flags));
        if oracle.has_effects() && !job.emitted {
            // Only whether the require admits it matters.
            v.expected = oracle.eval(&args(&r), &placeholders);
        } else if oracle.has_effects() {
            v.memory = vectors::memory(i, &mut rng);
            v.expected = memory_vector(job, &mut oracle, &mut r, &args, &mut v, i, &mut rng);
        } else {
            v.expected = oracle.eval(&args(&r), &[]);
        }
        v.regs = r;
        if !matches!(v.expected, Ok(Expected::Outside)) {
            inside += 1;
        }
        out.push(v);
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

/// A value per leaf of the job: registers from `regs`, immediates from
/// the pool entry, flags from the flags word.
fn leaf_values(
    leaves: &[(String, &Param)],
    regs: &[u64],
    imms: &[Value],
    flags: u64,
) -> Vec<Value> {
    let mut imm = imms.iter();
    leaves
        .iter()
        .map(|(_, p)| match p {
            Param::Reg { reg, .. } => Value::Bv(BitVec::from_u128(64, u128::from(regs[*reg]))),
            Param::Imm { .. } => imm.next().cloned().unwrap_or(Value::Unit),
            Param::Flags(bits) => flags_value(bits, flags),
            Param::Fixed(_) | Param::Variant { .. } => Value::Unit,
        })
        .collect()
}

/// Up to [`POOL`] tuples of immediates that the spec's `require` accepts
/// (with every register zero); one empty tuple without immediates.
fn pool(job: &Job, oracle: &mut Oracle<'_>, rng: &mut Rng) -> Result<Vec<Vec<Value>>, String> {
    let imms = job.imms();
    if imms.is_empty() {
        return Ok(vec![Vec::new()]);
    }
    let leaves = job.leaves();
    let placeholders = oracle.placeholder_states();
    let mut cands = Vec::new();
    for &i in &imms {
        let (path, Param::Imm { ty, values }) = &leaves[i] else {
            unreachable!("an immediate")
        };
        let c = match values {
            Some(vs) => vs
                .iter()
                .map(|&v| imm_value(ty, v))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| format!("`values` for `{path}` need a bitvector or Bool"))?,
            None => vectors::immediate_candidates(ty, POOL, rng)
                .ok_or_else(|| format!("`{path}` is not an immediate type"))?,
        };
        cands.push(c);
    }
    let total: usize = cands.iter().map(Vec::len).product();
    let tries = total.min(POOL * 64);
    let mut out: Vec<Vec<Value>> = Vec::new();
    for t in 0..tries {
        if out.len() >= POOL {
            break;
        }
        // Interleave like the register edges: every value of every
        // immediate early; then, with several immediates, random
        // combinations, so that a `require` that admits few values of one
        // (a scale of 0 to 3) does not pair them with few of the others.
        let interleave = cands.len() == 1 || (t < tries / 2 && out.len() < POOL / 2);
        let tuple: Vec<Value> = if interleave {
            let mut rest = t;
            let mut sum = 0;
            cands
                .iter()
                .map(|c| {
                    sum += rest % c.len();
                    rest /= c.len();
                    c[sum % c.len()].clone()
                })
                .collect()
        } else {
            cands
                .iter()
                .map(|c| c[rng.below(c.len())].clone())
                .collect()
        };
        if out.contains(&tuple) {
            continue;
        }
        let zeros = vec![0; job.regs.len()];
        let args = job.args(&leaf_values(&leaves, &zeros, &tuple, 0));
        if !matches!(oracle.eval(&args, &placeholders), Ok(Expected::Outside)) {
            out.push(tuple);
        }
    }
    if out.is_empty() && !job.emitted {
        // A variant without code: the require should exclude everything,
        // which the vectors then show with any immediates.
        let first: Vec<Value> = cands.iter().map(|c| c[0].clone()).collect();
        return Ok(vec![first]);
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
    for (path, p) in job.leaves() {
        match p {
            Param::Reg { reg, .. } => out.push(Input {
                name: path,
                place: Some(job.regs[*reg].clone()),
                value: BitVec::from_u128(64, u128::from(v.regs[*reg])).hex_grouped(),
            }),
            Param::Imm { .. } => out.push(Input {
                name: path,
                place: Some("immediate".into()),
                value: imm.next().map(hex).unwrap_or_default(),
            }),
            Param::Flags(bits) => out.push(Input {
                name: path,
                place: Some("flags".into()),
                value: flags_text(bits, v.flags),
            }),
            Param::Fixed(_) | Param::Variant { .. } => {}
        }
    }
    if let (true, Output::Reg(r)) = (job.fresh_result, &job.result) {
        out.push(Input {
            name: "old value".into(),
            place: Some(job.regs[*r].clone()),
            value: BitVec::from_u128(64, u128::from(v.regs[*r])).hex_grouped(),
        });
    }
    if !v.memory.is_empty() {
        out.push(Input {
            name: "memory".into(),
            place: Some(BitVec::from_u128(64, u128::from(MEMORY_WINDOW)).hex_grouped()),
            value: window_text(&v.memory),
        });
    }
    out.push(Input {
        name: "flags".into(),
        place: None,
        value: format!("{:#x}", v.flags),
    });
    out
}
