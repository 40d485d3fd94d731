//! `:eval`: a term application or a spec expression on concrete values,
//! computed by the concrete evaluator from the specs (no solver).
//!
//! Syntax: `:eval [TYPE] EXPR [NAME=VALUE ...]`.
//!
//! - A term application `(term args...)` applies the term's spec to its
//!   arguments; arguments are values, variables or nested applications.
//! - Anything else is a spec expression (operators, macros, enum values),
//!   checked and resolved by the front end like a spec.
//!
//! Values: `#x80`, `#b101` (bitvectors of the width written), `0x80`, `128`,
//! `-1` (numbers: their width comes from where they are used, or from
//! `TYPE` such as `i8`), `true`, `false`, `Enum.Variant`, `$I8` (an
//! external constant with a model).

use std::collections::HashMap;
use std::fmt::Write as _;

use loweq_dsl::Program;
use loweq_runtest::{Clause, TermInstance};
use loweq_semantics::ty::ModelType;
use loweq_semantics::value::{BitVec, Value};
use loweq_semantics::Literal;
use num_bigint::BigInt;
use num_traits::Num;

use super::session::Session;
use super::sexp::{self, Sexp};
use super::units::{Origin, Unit};
use crate::values::{hex, show};

/// A value as written: typed, or a number waiting for a width.
#[derive(Clone, Debug)]
enum Arg {
    Value(Value),
    Number(BigInt),
}

/// What `:eval` was given.
struct Input<'a> {
    text: &'a str,
    width: Option<u32>,
    expr: Sexp,
    vars: HashMap<String, Arg>,
}

const USAGE: &str = "usage: :eval [TYPE] EXPR [NAME=VALUE ...], for example `:eval (ushr #x80 #x01)` or `:eval i8 (ushr x y) x=0x80 y=1`";

fn parse_input<'a>(program: &Program, text: &'a str) -> Result<Input<'a>, String> {
    let items =
        sexp::parse(text).map_err(|e| format!("{} (at column {})", e.message, e.offset + 1))?;
    let mut items = items.into_iter().peekable();
    let width = match items.peek().and_then(Sexp::atom).and_then(type_width) {
        Some(w) => {
            items.next();
            Some(w)
        }
        None => None,
    };
    let expr = items.next().ok_or_else(|| USAGE.to_string())?;
    let mut vars = HashMap::new();
    for item in items {
        let a = item
            .atom()
            .ok_or_else(|| format!("expected NAME=VALUE after the expression\n{USAGE}"))?;
        let (name, value) = a
            .split_once('=')
            .filter(|(n, v)| !n.is_empty() && !v.is_empty())
            .ok_or_else(|| format!("expected NAME=VALUE, got `{a}`\n{USAGE}"))?;
        let v = literal(program, value).ok_or_else(|| {
            format!(
                "`{value}` is not a value (`#x80`, `0x80`, `-1`, `true`, `Enum.Variant`, `$I8`)"
            )
        })??;
        vars.insert(name.to_string(), v);
    }
    Ok(Input {
        text,
        width,
        expr,
        vars,
    })
}

/// `i8` is 8, `i128` is 128.
fn type_width(a: &str) -> Option<u32> {
    let w: u32 = a.strip_prefix('i')?.parse().ok()?;
    (1..=128).contains(&w).then_some(w)
}

/// A literal value, if `a` is one.
fn literal(program: &Program, a: &str) -> Option<Result<Arg, String>> {
    let bits = |digits: &str, radix: u32, per: u32| -> Result<Arg, String> {
        let v = num_bigint::BigUint::from_str_radix(digits, radix)
            .map_err(|_| format!("`{a}` is not a bitvector literal"))?;
        Ok(Arg::Value(Value::Bv(BitVec::new(
            digits.len() as u32 * per,
            v,
        ))))
    };
    if let Some(d) = a.strip_prefix("#x") {
        return Some(bits(d, 16, 4));
    }
    if let Some(d) = a.strip_prefix("#b") {
        return Some(bits(d, 2, 1));
    }
    match a {
        "true" => return Some(Ok(Arg::Value(Value::Bool(true)))),
        "false" => return Some(Ok(Arg::Value(Value::Bool(false)))),
        _ => {}
    }
    let (neg, body) = match a.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, a),
    };
    let number = if let Some(h) = body.strip_prefix("0x") {
        BigInt::from_str_radix(h, 16).ok()
    } else if body.starts_with(|c: char| c.is_ascii_digit()) {
        body.parse::<BigInt>().ok()
    } else {
        None
    };
    if let Some(n) = number {
        return Some(Ok(Arg::Number(if neg { -n } else { n })));
    }
    if let Some(name) = a.strip_prefix('$') {
        let c = program.consts.get(name)?;
        return Some(Ok(Arg::Value(match c.value {
            Literal::Int(i) => Value::Int(BigInt::from(i)),
            Literal::Bv { value, width } => Value::Bv(BitVec::from_u128(width, value)),
            Literal::Bool(b) => Value::Bool(b),
        })));
    }
    let (e, v) = a.split_once('.')?;
    let id = program.enums.by_name(e)?;
    let def = program.enums.get(id);
    let variant = def.variant_index(v)?;
    if !def.variants[variant].fields.is_empty() {
        return Some(Err(format!(
            "`{a}` has fields: enum values with fields cannot be written here"
        )));
    }
    Some(Ok(Arg::Value(Value::Enum {
        enum_id: id,
        variant,
        fields: Vec::new(),
    })))
}

/// A number as a value of a model type.
fn number_as(n: &BigInt, ty: &ModelType, width: Option<u32>, what: &str) -> Result<Value, String> {
    let w = match ty {
        ModelType::Int => return Ok(Value::Int(n.clone())),
        ModelType::BitVec(Some(w)) => *w,
        ModelType::BitVec(None) => width.ok_or_else(|| {
            format!("cannot tell the width of {what} `{n}`: write it as `#x..`, or give a type (`:eval i8 ...`)")
        })?,
        _ => return Err(format!("{what} `{n}` is a number, where a value of another type is expected")),
    };
    let min = -(BigInt::from(1) << (w - 1));
    let max = BigInt::from(1) << w;
    if *n < min || *n >= max {
        return Err(format!("{what} `{n}` does not fit in {w} bits"));
    }
    Ok(Value::Bv(BitVec::from_int(w, n)))
}

/// Evaluates `:eval`'s arguments.
pub(super) fn eval(session: &Session, text: &str) -> Result<String, String> {
    let program = session.program();
    if text.trim().is_empty() {
        return Err(USAGE.into());
    }
    let input = parse_input(program, text)?;
    let head_term = input
        .expr
        .head()
        .and_then(|h| program.term_by_name(h))
        .filter(|t| program.term(*t).spec.is_some());
    if head_term.is_some() {
        let mut ev = Applications {
            program,
            input: &input,
            applied: Vec::new(),
        };
        ev.apply(&input.expr)?;
        let mut out = String::new();
        let n = ev.applied.len();
        for (i, a) in ev.applied.iter().enumerate() {
            let value = match &a.value {
                None => "no result: it traps".to_string(),
                Some(v) if i + 1 == n => result_line(program, v),
                Some(v) => format!("= {}", show(v, &program.enums, false)),
            };
            if i + 1 < n {
                let _ = writeln!(out, "{} {value}", a.text);
            } else {
                let _ = writeln!(out, "{}{}", a.text, bindings(program, &input));
                let _ = writeln!(out, "{value}");
            }
            for note in &a.notes {
                let _ = writeln!(out, "  {note}");
            }
        }
        return Ok(out);
    }
    if let Some(h) = input.expr.head() {
        if program.term_by_name(h).is_some() {
            return Err(format!("`{h}` has no spec: there is nothing to evaluate"));
        }
        let spec_syntax = loweq_semantics::op::Op::from_name(h).is_some()
            || h.ends_with(['!', '?'])
            || h.starts_with(':')
            || h.contains('.')
            || matches!(h, "let" | "with" | "match" | "switch" | "struct" | "as");
        if !spec_syntax {
            let mut m = format!("no term or spec operator `{h}`");
            if let Some(hint) = loweq_dsl::diag::did_you_mean(
                h,
                program
                    .term_info
                    .iter()
                    .map(|t| t.name.as_str())
                    .chain(loweq_semantics::op::Op::ALL.iter().map(|o| o.name())),
            ) {
                let _ = write!(m, "; {hint}");
            }
            return Err(m);
        }
    }
    spec_expression(session, &input)
}

/// `, where x = 0x80, y = 0x01`: the variables, when there are any.
fn bindings(program: &Program, input: &Input<'_>) -> String {
    let mut vars: Vec<(&String, &Arg)> = input.vars.iter().collect();
    if vars.is_empty() {
        return String::new();
    }
    vars.sort_by_key(|(n, _)| n.as_str());
    let shown: Vec<String> = vars
        .iter()
        .map(|(n, a)| match a {
            Arg::Value(v) => format!("{n} = {}", show(v, &program.enums, false)),
            Arg::Number(x) => format!("{n} = {x}"),
        })
        .collect();
    format!(", where {}", shown.join(", "))
}

/// `= 0x80 (unsigned 128, signed -128)`.
fn result_line(program: &Program, v: &Value) -> String {
    match v {
        Value::Bv(b) => {
            let u = b.unsigned().to_string();
            let s = b.signed().to_string();
            format!("= {} (unsigned {u}, signed {s})", hex(b))
        }
        other => format!("= {}", show(other, &program.enums, false)),
    }
}

/// One term application evaluated.
struct Applied {
    /// As written.
    text: String,
    /// `None` when it traps.
    value: Option<Value>,
    /// The states it modifies, and clauses that do not hold.
    notes: Vec<String>,
}

/// Evaluates term applications bottom-up.
struct Applications<'a> {
    program: &'a Program,
    input: &'a Input<'a>,
    /// Every application, innermost first.
    applied: Vec<Applied>,
}

impl Applications<'_> {
    fn source(&self, s: &Sexp) -> String {
        let r = s.range();
        self.input.text[r]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The value of an argument of declared model `ty`.
    fn arg(&mut self, s: &Sexp, ty: &ModelType) -> Result<Value, String> {
        let what = self.source(s);
        let a = match s {
            Sexp::Atom(_, a) => match literal(self.program, a) {
                Some(r) => r?,
                None => self.input.vars.get(a.as_str()).cloned().ok_or_else(|| {
                    format!("`{a}` is not a value and has no value: give it one (`{a}=0x80`)")
                })?,
            },
            Sexp::List(_, items)
                if items.len() == 1 && items[0].atom().is_some_and(|a| a.contains('.')) =>
            {
                let a = items[0].atom().unwrap_or_default();
                literal(self.program, a).ok_or_else(|| format!("`{a}` is not an enum value"))??
            }
            Sexp::List(..) => match self.apply(s)? {
                Some(v) => Arg::Value(v),
                None => return Err(format!("`{what}` traps: it has no value to pass on")),
            },
        };
        match a {
            Arg::Number(n) => number_as(&n, ty, self.input.width, "the number"),
            Arg::Value(v) => {
                let fits = matches!(
                    (&v, ty),
                    (Value::Bv(_), ModelType::BitVec(_))
                        | (Value::Int(_), ModelType::Int)
                        | (Value::Bool(_), ModelType::Bool)
                        | (Value::Enum { .. }, ModelType::Enum(_))
                ) || matches!(ty, ModelType::Auto | ModelType::Unspecified);
                if let (Value::Bv(b), ModelType::BitVec(Some(w))) = (&v, ty) {
                    if b.width() != *w {
                        return Err(format!(
                            "`{what}` has {} bits where (bv {w}) is expected",
                            b.width()
                        ));
                    }
                }
                if !fits {
                    return Err(format!(
                        "`{what}` is {}, where {} is expected",
                        kind(&v, self.program),
                        ty.display(&self.program.enums)
                    ));
                }
                Ok(v)
            }
        }
    }

    /// The value of a term application; `None` when it traps.
    fn apply(&mut self, s: &Sexp) -> Result<Option<Value>, String> {
        let program = self.program;
        let items = s.list().unwrap_or_default();
        let name = s
            .head()
            .ok_or_else(|| format!("`{}` is not a term application", self.source(s)))?;
        let tid = program.term_by_name(name).ok_or_else(|| {
            let mut m = format!("no term `{name}`");
            if let Some(h) = loweq_dsl::diag::did_you_mean(
                name,
                program.term_info.iter().map(|t| t.name.as_str()),
            ) {
                let _ = write!(m, "; {h}");
            }
            m
        })?;
        if program.term(tid).spec.is_none() {
            return Err(format!("`{name}` has no spec: it cannot be evaluated"));
        }
        let decl = &program.terms.terms[tid.index()];
        let args = &items[1..];
        if args.len() != decl.arg_tys.len() {
            return Err(format!(
                "`{name}` takes {} arguments, `{}` has {}",
                decl.arg_tys.len(),
                self.source(s),
                args.len()
            ));
        }
        let mut values = Vec::new();
        let mut widths = Vec::new();
        for (a, &ty) in args.iter().zip(&decl.arg_tys) {
            let model = program
                .model(ty)
                .cloned()
                .ok_or_else(|| format!("type `{}` has no model", program.type_name(ty)))?;
            let v = self.arg(a, &model)?;
            widths.push(match (&v, &model) {
                (Value::Bv(b), ModelType::BitVec(_)) => Some(b.width()),
                _ => None,
            });
            values.push(v);
        }
        let inst = TermInstance::with_result(program, name, &widths, None).or_else(|first| {
            match self.input.width {
                Some(w) => {
                    TermInstance::with_result(program, name, &widths, Some(w)).map_err(|_| first)
                }
                None => Err(first),
            }
        });
        let inst = inst.map_err(|e| format!("cannot evaluate `{}`: {e}", self.source(s)))?;
        let e = inst.evaluate(program, &values)?;
        let mut states = Vec::new();
        let mut traps = false;
        for &st in &inst.modified {
            let decl = &program.states[st];
            traps |= e.states[st] == Some(Value::Bool(true));
            let v = e.states[st]
                .as_ref()
                .map_or("undetermined".to_string(), |v| {
                    show(v, &program.enums, false)
                });
            states.push(format!("{} = {v}", decl.name));
        }
        for (clause, span) in &e.violated {
            let what = match clause {
                Clause::Require => "a precondition",
                Clause::Fact => "a clause",
            };
            states.push(format!(
                "warning: {what} of `{name}` is false for these values: {} ({})",
                program
                    .sources
                    .snippet(*span)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
                program.sources.location(*span)
            ));
        }
        let value = match e.result {
            Some(v) => Some(v),
            None if traps => None,
            None => {
                let mut m =
                    format!("the spec of `{name}` does not determine its result for these values");
                for s in &states {
                    let _ = write!(m, "\n  {s}");
                }
                return Err(m);
            }
        };
        self.applied.push(Applied {
            text: self.source(s),
            value: value.clone(),
            notes: states,
        });
        Ok(value)
    }
}

fn kind(v: &Value, program: &Program) -> String {
    match v {
        Value::Bv(b) => format!("(bv {})", b.width()),
        Value::Int(_) => "Int".into(),
        Value::Bool(_) => "Bool".into(),
        other => show(other, &program.enums, false),
    }
}

/// The result types to try for a spec expression, most likely first.
fn result_types(input: &Input<'_>, program: &Program) -> Vec<String> {
    use loweq_semantics::op::{Op, Typing};
    let guess = match &input.expr {
        Sexp::Atom(_, a) => match literal(program, a) {
            Some(Ok(Arg::Value(Value::Bool(_)))) => "__loweq_bool".to_string(),
            Some(Ok(Arg::Value(Value::Int(_)))) => "__loweq_int".into(),
            Some(Ok(Arg::Value(Value::Enum { enum_id, .. }))) => {
                program.enums.get(enum_id).name.clone()
            }
            _ => "__loweq_bv".into(),
        },
        s => match s.head().and_then(Op::from_name).map(Op::typing) {
            Some(Typing::Bool | Typing::Equal | Typing::IntCompare | Typing::BvCompare) => {
                "__loweq_bool".into()
            }
            Some(Typing::IntArith | Typing::BvToInt) => "__loweq_int".into(),
            _ => match s.head().and_then(|h| h.split_once('.')) {
                Some((e, _)) if program.enums.by_name(e).is_some() => e.to_string(),
                _ => "__loweq_bv".into(),
            },
        },
    };
    let mut out = vec![guess];
    for t in ["__loweq_bv", "__loweq_bool", "__loweq_int"] {
        if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    out
}

/// Evaluates a spec expression: it becomes the spec of a fresh term whose
/// parameters are the variables, loaded with the session's program.
fn spec_expression(session: &Session, input: &Input<'_>) -> Result<String, String> {
    let program = session.program();
    let mut names: Vec<&String> = input.vars.keys().collect();
    names.sort();
    let mut params = Vec::new();
    let mut values = Vec::new();
    for n in &names {
        let (ty, v) = match &input.vars[*n] {
            Arg::Value(v @ Value::Bv(_)) => ("__loweq_bv".to_string(), v.clone()),
            Arg::Value(v @ Value::Int(_)) => ("__loweq_int".into(), v.clone()),
            Arg::Value(v @ Value::Bool(_)) => ("__loweq_bool".into(), v.clone()),
            Arg::Value(v @ Value::Enum { enum_id, .. }) => {
                (program.enums.get(*enum_id).name.clone(), v.clone())
            }
            Arg::Value(other) => return Err(format!("`{n}` = {other:?} cannot be passed")),
            Arg::Number(x) => match input.width {
                Some(w) => (
                    "__loweq_bv".into(),
                    number_as(x, &ModelType::BitVec(Some(w)), Some(w), n)?,
                ),
                None => ("__loweq_int".into(), Value::Int(x.clone())),
            },
        };
        params.push(ty);
        values.push(v);
    }
    let widths: Vec<Option<u32>> = values
        .iter()
        .map(|v| v.as_bv().map(BitVec::width))
        .collect();
    let expr = &input.text[input.expr.range()];
    let vars: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
    let mut first_error = None;
    for ret in result_types(input, program) {
        let text = format!(
            "(spec (__loweq_eval {}) (provide (= result\n{expr}\n)))\n\
             (decl __loweq_eval ({}) {ret})\n\
             (extern constructor __loweq_eval __loweq_eval)\n\
             (type __loweq_bv (primitive __loweq_bv))\n(model __loweq_bv (type (bv)))\n\
             (type __loweq_int (primitive __loweq_int))\n(model __loweq_int (type Int))\n\
             (type __loweq_bool (primitive __loweq_bool))\n(model __loweq_bool (type Bool))\n",
            vars.join(" "),
            params.join(" "),
        );
        let extra = Unit::new("<eval>", Origin::Entry(0), text);
        let loaded = match session.load_with(extra) {
            Ok(p) => p,
            Err(e) => {
                first_error.get_or_insert(e);
                continue;
            }
        };
        let inst = match TermInstance::with_result(&loaded, "__loweq_eval", &widths, input.width) {
            Ok(i) => i,
            Err(_) => match TermInstance::with_result(&loaded, "__loweq_eval", &widths, None) {
                Ok(i) => i,
                Err(e) => {
                    first_error.get_or_insert(format!("error: {e}"));
                    continue;
                }
            },
        };
        let e = inst.evaluate(&loaded, &values)?;
        return match e.result {
            Some(v) => Ok(format!(
                "{}{}\n{}\n",
                expr.split_whitespace().collect::<Vec<_>>().join(" "),
                bindings(&loaded, input),
                result_line(&loaded, &v)
            )),
            None => Err("the expression has no value for these inputs".into()),
        };
    }
    Err(first_error.unwrap_or_else(|| USAGE.into()))
}
