//! Checking a parsed file: types of signatures, blocks and values; every
//! instruction against its opcode (`inst`); control flow; run commands
//! against the functions they call. A construct outside the subset makes
//! its function unsupported; a mistake is a diagnostic.

use std::collections::{HashMap, HashSet};

use loweq_semantics::span::{FileId, Span};

use super::inst::{check_apply, check_control, known, type_of, Checked, Values};
use super::ir::{Block, Body, ClifFile, Expect, Function, Inst, InstKind, Run, Unsupported};
use super::literal::{int_bits, LiteralError};
use super::opcode;
use super::syntax::{Spanned, SynCall, SynFile, SynFunction, SynItem, SynRun};
use super::types::{Parsed, Type};
use crate::diag::{did_you_mean, Diagnostic};

/// Checks the syntax tree of `file`.
pub fn check(file: FileId, syn: SynFile) -> Result<ClifFile, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let mut functions: Vec<Function> = Vec::new();
    let mut names: HashMap<String, usize> = HashMap::new();
    for item in &syn.items {
        if let SynItem::Function(f) = item {
            let checked = function(f, &mut diags);
            if let Some(&first) = names.get(&checked.name) {
                diags.push(
                    Diagnostic::new(
                        format!("a second function named `{}`", checked.name),
                        f.name.span,
                    )
                    .with_secondary(functions[first].span, "the first one"),
                );
            }
            names.insert(checked.name.clone(), functions.len());
            functions.push(checked);
        }
    }
    let mut runs = Vec::new();
    let mut preceding = None;
    let mut index = 0;
    for item in &syn.items {
        match item {
            SynItem::Function(_) => {
                preceding = Some(index);
                index += 1;
            }
            SynItem::Run(r) => {
                if let Some(run) = run(r, preceding, &functions, &names, &mut diags) {
                    runs.push(run);
                }
            }
        }
    }
    if diags.is_empty() {
        Ok(ClifFile {
            file,
            headers: syn.headers,
            functions,
            runs,
        })
    } else {
        Err(diags)
    }
}

/// Why a body could not be checked.
enum Stop {
    /// Outside the subset.
    Unsupported(Unsupported),
    /// Wrong; diagnostics were recorded.
    Invalid,
}

fn function(f: &SynFunction, diags: &mut Vec<Diagnostic>) -> Function {
    let mut types = |list: &[Spanned]| -> Vec<Type> {
        list.iter()
            .map(|s| match Type::parse(&s.text) {
                Parsed::Type(t) => t,
                Parsed::Unknown => {
                    diags.push(Diagnostic::new(
                        format!("unknown type `{}`", s.text),
                        s.span,
                    ));
                    Type::Unsupported(s.text.clone())
                }
            })
            .collect()
    };
    let params = types(&f.params);
    let returns = types(&f.returns);
    let body = match body(f, &params, &returns, diags) {
        Ok(b) => Ok(b),
        Err(Stop::Unsupported(u)) => Err(u),
        Err(Stop::Invalid) => Err(Unsupported {
            reason: "invalid function".into(),
            span: f.header,
        }),
    };
    Function {
        name: f.name.text.clone(),
        span: f.header,
        params,
        returns,
        body,
    }
}

fn fail(diags: &mut Vec<Diagnostic>, d: Diagnostic) -> Stop {
    diags.push(d);
    Stop::Invalid
}

fn stop(c: Checked, diags: &mut Vec<Diagnostic>) -> Stop {
    match c {
        Checked::Unsupported(u) => Stop::Unsupported(u),
        Checked::Error(d) => fail(diags, d),
        Checked::Done(_) | Checked::Wait => Stop::Invalid,
    }
}

fn body(
    f: &SynFunction,
    params: &[Type],
    returns: &[Type],
    diags: &mut Vec<Diagnostic>,
) -> Result<Body, Stop> {
    let sig = f
        .params
        .iter()
        .zip(params)
        .chain(f.returns.iter().zip(returns));
    for (s, t) in sig {
        if let Some(reason) = t.unsupported_reason() {
            return Err(Stop::Unsupported(Unsupported {
                reason,
                span: s.span,
            }));
        }
    }
    if let Some(e) = f.preamble.first() {
        return Err(Stop::Unsupported(Unsupported {
            reason: "preamble declarations (stack slots, global values, function references)"
                .into(),
            span: e.span,
        }));
    }
    if let Some(i) = f.stray.first() {
        return Err(fail(
            diags,
            Diagnostic::new("an instruction before the first block", i.span)
                .with_label("put a block header such as `block0:` before it"),
        ));
    }
    if f.blocks.is_empty() {
        return Err(fail(
            diags,
            Diagnostic::new("a function without blocks", f.header),
        ));
    }
    // Blocks and their parameters.
    let mut block_index: HashMap<String, usize> = HashMap::new();
    let mut block_params: Vec<Vec<Type>> = Vec::new();
    let mut values = Values {
        defined: HashSet::new(),
        types: HashMap::new(),
    };
    let mut define = |v: u32, span: Span, diags: &mut Vec<Diagnostic>| -> Result<(), Stop> {
        if !values.defined.insert(v) {
            return Err(fail(
                diags,
                Diagnostic::new(format!("value `v{v}` is defined twice"), span),
            ));
        }
        Ok(())
    };
    for (i, b) in f.blocks.iter().enumerate() {
        if block_index.insert(b.name.text.clone(), i).is_some() {
            return Err(fail(
                diags,
                Diagnostic::new(
                    format!("a second block named `{}`", b.name.text),
                    b.name.span,
                ),
            ));
        }
        let mut types = Vec::new();
        for (v, vspan, ty) in &b.params {
            define(*v, *vspan, diags)?;
            types.push(type_of(&ty.text, ty.span).map_err(|c| stop(c, diags))?);
        }
        block_params.push(types);
        for inst in &b.insts {
            if !known(&inst.opcode.text) {
                return Err(Stop::Unsupported(Unsupported {
                    reason: format!("instruction `{}`", inst.opcode.text),
                    span: inst.opcode.span,
                }));
            }
            for &(v, span) in &inst.results {
                define(v, span, diags)?;
            }
        }
    }
    if block_params[0] != params {
        return Err(fail(
            diags,
            Diagnostic::new(
                "the entry block's parameters do not match the function's",
                f.blocks[0].name.span,
            )
            .with_secondary(f.header, "the signature"),
        ));
    }
    for (b, types) in f.blocks.iter().zip(&block_params) {
        for ((v, _, _), t) in b.params.iter().zip(types) {
            values.types.insert(*v, t.clone());
        }
    }
    // Instructions, until every one is typed: a value may be used above
    // its definition when the blocks are not in dominance order.
    let mut done: Vec<Vec<Option<Inst>>> =
        f.blocks.iter().map(|b| vec![None; b.insts.len()]).collect();
    let mut pending: Vec<(usize, usize)> = f
        .blocks
        .iter()
        .enumerate()
        .flat_map(|(bi, b)| (0..b.insts.len()).map(move |ii| (bi, ii)))
        .collect();
    while !pending.is_empty() {
        let mut waiting = Vec::new();
        for &(bi, ii) in &pending {
            let syn = &f.blocks[bi].insts[ii];
            let checked = match opcode::lookup(&syn.opcode.text) {
                Some(info) => check_apply(info, syn, &values),
                None => check_control(syn, &values, &block_index, &block_params, returns),
            };
            match checked {
                Checked::Done(inst) => {
                    if let InstKind::Apply { results, .. } = &inst.kind {
                        for (v, t) in results {
                            values.types.insert(v.0, t.clone());
                        }
                    }
                    done[bi][ii] = Some(inst);
                }
                Checked::Wait => waiting.push((bi, ii)),
                other => return Err(stop(other, diags)),
            }
        }
        if waiting.len() == pending.len() {
            let (bi, ii) = waiting[0];
            return Err(fail(
                diags,
                Diagnostic::new(
                    "the operands of this instruction are never defined before it needs them",
                    f.blocks[bi].insts[ii].span,
                ),
            ));
        }
        pending = waiting;
    }
    // Terminators: last in each block, and only there.
    let mut blocks = Vec::new();
    for (b, (insts, params)) in f.blocks.iter().zip(done.into_iter().zip(block_params)) {
        let insts: Vec<Inst> = insts.into_iter().flatten().collect();
        let n = insts.len();
        for (i, inst) in insts.iter().enumerate() {
            let terminator = !matches!(inst.kind, InstKind::Apply { .. });
            if terminator && i + 1 < n {
                return Err(fail(
                    diags,
                    Diagnostic::new(
                        format!(
                            "`{}` must be the last instruction of its block",
                            inst.opcode
                        ),
                        inst.span,
                    ),
                ));
            }
            if !terminator && i + 1 == n {
                return Err(fail(
                    diags,
                    Diagnostic::new(
                        format!(
                            "block `{}` does not end in `return`, `jump` or `brif`",
                            b.name.text
                        ),
                        inst.span,
                    ),
                ));
            }
        }
        if n == 0 {
            return Err(fail(
                diags,
                Diagnostic::new(format!("block `{}` is empty", b.name.text), b.name.span),
            ));
        }
        let params = b
            .params
            .iter()
            .zip(params)
            .map(|((v, _, _), t)| (super::ir::ValueId(*v), t))
            .collect();
        blocks.push(Block {
            name: b.name.text.clone(),
            params,
            insts,
        });
    }
    Ok(Body { blocks })
}

/// Resolves a run command; `preceding` is the function just before it.
fn run(
    r: &SynRun,
    preceding: Option<usize>,
    functions: &[Function],
    names: &HashMap<String, usize>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Run> {
    let Some(call) = &r.call else {
        return bare_run(r, preceding, functions, diags);
    };
    let Some(&index) = names.get(&call.function.text) else {
        let mut d = Diagnostic::new(
            format!("no function `{}` in this file", call.function.text),
            call.function.span,
        );
        if let Some(h) = did_you_mean(&call.function.text, names.keys().map(|k| k.as_str())) {
            d = d.with_note(h);
        }
        diags.push(d);
        return None;
    };
    let f = &functions[index];
    let before = diags.len();
    check_literals(call, f, diags);
    if diags.len() > before {
        return None;
    }
    let expect = if call.equals {
        Expect::Equal(call.expected.clone())
    } else {
        Expect::NotEqual(call.expected.clone())
    };
    Some(Run {
        span: r.span,
        text: call.text.clone(),
        function: index,
        args: call.args.clone(),
        expect,
    })
}

/// `; run` on its own: the preceding function, which takes nothing and
/// returns an integer, must return a non-zero value.
fn bare_run(
    r: &SynRun,
    preceding: Option<usize>,
    functions: &[Function],
    diags: &mut Vec<Diagnostic>,
) -> Option<Run> {
    let Some(index) = preceding else {
        diags.push(Diagnostic::new(
            "`; run` without a call must follow the function it runs",
            r.span,
        ));
        return None;
    };
    let f = &functions[index];
    let int_result = matches!(f.returns.as_slice(), [t] if t.int_width().is_some());
    if !f.params.is_empty() || !int_result {
        diags.push(
            Diagnostic::new(
                format!("`; run` without a call needs `{}` to be `() -> iN`", f.name),
                r.span,
            )
            .with_secondary(f.span, "the function")
            .with_note(format!("write `; run: {}(...) == ...`", f.name)),
        );
        return None;
    }
    Some(Run {
        span: r.span,
        text: format!("{}() != 0", f.name),
        function: index,
        args: Vec::new(),
        expect: Expect::NotEqual(vec![Spanned {
            text: "0".into(),
            span: r.span,
        }]),
    })
}

/// Checks the arguments and expected values of a call against the
/// function's signature, when the signature is all integers.
fn check_literals(call: &SynCall, f: &Function, diags: &mut Vec<Diagnostic>) {
    let ints = |ts: &[Type]| ts.iter().map(Type::int_width).collect::<Option<Vec<u32>>>();
    let (Some(params), Some(returns)) = (ints(&f.params), ints(&f.returns)) else {
        return;
    };
    if call.args.len() != params.len() {
        diags.push(
            Diagnostic::new(
                format!(
                    "`{}` takes {} argument{}, {} given",
                    f.name,
                    params.len(),
                    if params.len() == 1 { "" } else { "s" },
                    call.args.len()
                ),
                call.function.span,
            )
            .with_secondary(f.span, "the function"),
        );
        return;
    }
    if call.expected.len() != returns.len() || (returns.len() != 1 && !call.bracketed) {
        let shape = if returns.len() == 1 {
            "one value".to_string()
        } else {
            format!("a list of {} values, `[a, b]`", returns.len())
        };
        let span = call.expected.first().map_or(call.function.span, |e| e.span);
        diags.push(
            Diagnostic::new(
                format!("`{}` returns {} values", f.name, returns.len()),
                span,
            )
            .with_label(format!("expected {shape}")),
        );
        return;
    }
    let literals = call
        .args
        .iter()
        .zip(&params)
        .chain(call.expected.iter().zip(&returns));
    for (lit, &w) in literals {
        match int_bits(&lit.text, w) {
            Ok(_) => {}
            Err(LiteralError::NotInteger) => diags.push(Diagnostic::new(
                format!("`{}` is not an integer literal", lit.text),
                lit.span,
            )),
            Err(LiteralError::OutOfRange) => diags.push(Diagnostic::new(
                format!("`{}` does not fit in i{w}", lit.text),
                lit.span,
            )),
        }
    }
}
