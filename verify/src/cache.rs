//! The verifier's side of the result cache: the key of an instantiated
//! query, what is kept of its outcome, and the values that let a kept
//! counterexample be explained again. Where entries live is the caller's
//! business ([`Store`]; the CLI keeps them in files).
//!
//! The key is a SHA-256 digest of everything the verdict depends on: the
//! query as built (every node of the formula graph with its operator and
//! arguments, every variable with its name and declared type, the typing
//! of the instantiation, the enums of the program, and the role of each
//! fact: assumption on which side, priority assumption about which rule,
//! obligation), the solver's version and the timeout. Spans and rule
//! names are not in it: they only shape how a result is shown, and that
//! is recomputed on every hit. The z3 encoding is a function of the query
//! and of loweq's own code; the store mixes in a fingerprint of that
//! code, so a loweq with a different encoder never reads these entries.
//!
//! Only exact outcomes are kept: never an unknown (a timeout or a
//! cancelled query), nor an outcome a timeout or cancellation shaped
//! ([`crate::solve::Outcome::exact`]).

use std::fmt::Write as _;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::condition::{Condition, Origin, Side};
use crate::encode::{bv_const, Encoder, Z};
use crate::instances::Instance;
use crate::report::Verdict;
use loweq_semantics::value::BitVec;
use z3::ast::{Bool, Int, BV};
use z3::Model;

/// The key of one instantiated query.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key(pub [u8; 32]);

impl Key {
    /// The key in hex.
    pub fn hex(&self) -> String {
        self.0.iter().fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    }
}

/// One value a counterexample's variable is made of: a boolean, an
/// integer, or a bitvector (width and value); the leaves of a struct or
/// enum are listed in order (an enum's discriminant first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Leaf {
    /// A boolean.
    Bool(bool),
    /// An integer, in decimal.
    Int(String),
    /// A bitvector.
    Bv(BitVec),
}

/// What is kept of one outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kept {
    /// The verdict: verified, counterexample, inapplicable, shadowed, or
    /// error (the right-hand side's specs contradict each other).
    pub verdict: Verdict,
    /// Queries the check made.
    pub queries: u32,
    /// How long the check took, in milliseconds (for estimating the cost
    /// of a run).
    pub millis: u64,
    /// Why, for inapplicable and shadowed verdicts.
    pub reason: Option<String>,
    /// For shadowed verdicts: the rules that take every input.
    pub shadowed_by: Vec<String>,
    /// For counterexamples: the values of every variable of the query.
    pub model: Vec<Leaf>,
}

/// Where kept outcomes live. Implementations must be safe to share
/// between the workers, and between processes sharing the store.
pub trait Store: Send + Sync {
    /// The outcome kept under `key`, if any (and if it can be trusted).
    fn get(&self, key: &Key) -> Option<Kept>;
    /// Keeps an outcome under `key`.
    fn put(&self, key: &Key, kept: &Kept);
}

/// Feeds text into a digest.
struct Hasher(Sha256);

impl std::fmt::Write for Hasher {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.update(s.as_bytes());
        Ok(())
    }
}

/// The digest of the program's part of every key (its enums), computed
/// once per run.
pub fn program_digest(program: &loweq_dsl::Program) -> [u8; 32] {
    let mut h = Hasher(Sha256::new());
    let _ = write!(h, "enums {:?}", program.enums);
    h.0.finalize().into()
}

/// The key of a condition at an instantiation, with a timeout.
pub fn key(program: &[u8; 32], cond: &Condition, inst: &Instance, timeout: Duration) -> Key {
    let mut h = Hasher(Sha256::new());
    h.0.update(b"loweq query v1\0");
    h.0.update(program);
    let _ = write!(h, "z3 {}\0", z3::full_version());
    let _ = write!(h, "timeout {}\0", timeout.as_millis());
    let _ = write!(h, "undecided {:?}\0", cond.undecided);
    for (i, n) in cond.graph.nodes.iter().enumerate() {
        let _ = write!(h, "n{i} {:?} {:?}\0", n.kind, n.args);
    }
    for (i, v) in cond.graph.vars.iter().enumerate() {
        let _ = write!(h, "v{i} {:?} {:?}\0", v.name, v.ty);
    }
    for c in &cond.assumptions {
        let side = match c.side {
            Side::Lhs => "lhs",
            Side::Rhs => "rhs",
            Side::Select => "select",
        };
        let priority = match &c.origin {
            Origin::Priority(name) => name.as_str(),
            _ => "",
        };
        let _ = write!(h, "assume {} {side} {priority:?}\0", c.node.0);
    }
    for c in &cond.obligations {
        let _ = write!(h, "prove {}\0", c.node.0);
    }
    let _ = inst.typing.write_canonical(&mut h);
    Key(h.0.finalize().into())
}

/// The bitvectors, booleans and integers a variable is made of, in a fixed
/// order (see [`Leaf`]).
fn leaves(z: &Z, out: &mut Vec<Z>) {
    match z {
        Z::Bool(_) | Z::Int(_) | Z::Bv(_) => out.push(z.clone()),
        Z::Unit => {}
        Z::Struct(fs) => fs.iter().for_each(|(_, f)| leaves(f, out)),
        Z::Enum { disc, fields, .. } => {
            out.push(Z::Bv(disc.clone()));
            fields.iter().flatten().for_each(|f| leaves(f, out));
        }
    }
}

/// Every leaf of every variable the encoder made, but those bound by a
/// quantifier, in variable order.
fn all_leaves(cond: &Condition, encoder: &Encoder<'_>) -> Vec<Z> {
    let bound: Vec<_> = cond
        .graph
        .nodes
        .iter()
        .filter_map(|n| match &n.kind {
            loweq_semantics::graph::NodeKind::Forall(vs) => Some(vs.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    let mut out = Vec::new();
    for i in 0..cond.graph.vars.len() as u32 {
        let v = loweq_semantics::graph::VarId(i);
        if bound.contains(&v) {
            continue;
        }
        if let Some(z) = encoder.var(v) {
            leaves(z, &mut out);
        }
    }
    out
}

/// The model's value of every variable of the query (empty if one cannot
/// be read: the counterexample is then not kept).
pub fn snapshot(cond: &Condition, encoder: &Encoder<'_>, model: &Model) -> Vec<Leaf> {
    let read = |z: &Z| -> Option<Leaf> {
        let v = match z {
            Z::Bool(b) => Leaf::Bool(model.eval(b, true)?.as_bool()?),
            Z::Int(i) => Leaf::Int(model.eval(i, true)?.to_string()),
            Z::Bv(b) => match crate::encode::read(model, z)? {
                loweq_semantics::value::Value::Bv(v) if v.width() == b.get_size() => Leaf::Bv(v),
                _ => return None,
            },
            _ => return None,
        };
        Some(v)
    };
    all_leaves(cond, encoder)
        .iter()
        .map(read)
        .collect::<Option<Vec<_>>>()
        .unwrap_or_default()
}

/// Equalities that fix every variable of the query to kept values; `None`
/// if they do not fit this query (the entry is then ignored).
pub fn pins(cond: &Condition, encoder: &Encoder<'_>, kept: &[Leaf]) -> Option<Vec<Bool>> {
    let zs = all_leaves(cond, encoder);
    if zs.len() != kept.len() || kept.is_empty() {
        return None;
    }
    zs.iter()
        .zip(kept)
        .map(|(z, leaf)| match (z, leaf) {
            (Z::Bool(b), Leaf::Bool(v)) => Some(b.eq(Bool::from_bool(*v))),
            (Z::Int(i), Leaf::Int(v)) => Some(i.eq(v.parse::<Int>().ok()?)),
            (Z::Bv(b), Leaf::Bv(v)) if b.get_size() == v.width() => {
                let c: BV = bv_const(v);
                Some(b.eq(c))
            }
            _ => None,
        })
        .collect()
}

/// Whether an outcome may be kept.
pub fn keepable(o: &crate::solve::Outcome) -> bool {
    o.exact
        && match o.verdict {
            Verdict::Verified | Verdict::Inapplicable | Verdict::Shadowed => true,
            Verdict::Error => o.error.is_some(),
            Verdict::Counterexample => !o.model.is_empty(),
            Verdict::Unknown => false,
        }
}
