//! The syntax tree of a `.clif` file, as the pest grammar (`clif.pest`)
//! reads it: functions with their blocks and instructions, instruction
//! operands as plain tokens, run commands with their literals. Nothing here
//! knows what an opcode means; `check` does.

use loweq_semantics::span::{FileId, SourceMap, Span};
use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;
use pest::Parser;

use crate::diag::Diagnostic;

/// The pest parser generated from `clif.pest`, and its `Rule` enum (kept
/// private: the syntax tree below is the interface).
mod grammar {
    #![allow(missing_docs)]

    use pest_derive::Parser;

    #[derive(Parser)]
    #[grammar = "clif/clif.pest"]
    pub struct ClifParser;
}

use grammar::{ClifParser, Rule};

/// A file: header lines, then functions and run commands in source order.
#[derive(Clone, Debug, Default)]
pub struct SynFile {
    /// `test`, `target`, `set` and `feature` lines.
    pub headers: Vec<SynHeader>,
    /// Functions and run commands, in the order they appear.
    pub items: Vec<SynItem>,
}

/// A header line.
#[derive(Clone, Debug)]
pub struct SynHeader {
    /// `test`, `target`, `set` or `feature`.
    pub keyword: String,
    /// The rest of the line.
    pub text: String,
    /// The whole line.
    pub span: Span,
}

/// A function or a run command.
#[derive(Clone, Debug)]
pub enum SynItem {
    /// A function.
    Function(SynFunction),
    /// A `; run` comment.
    Run(SynRun),
}

/// A word with its place in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned {
    /// The text.
    pub text: String,
    /// Where it is.
    pub span: Span,
}

/// A function as written.
#[derive(Clone, Debug)]
pub struct SynFunction {
    /// Its name, with the `%`.
    pub name: Spanned,
    /// The `function ... {` line.
    pub header: Span,
    /// Parameter types (attributes such as `uext` are dropped).
    pub params: Vec<Spanned>,
    /// Return types.
    pub returns: Vec<Spanned>,
    /// The calling convention, if written.
    pub call_conv: Option<Spanned>,
    /// Preamble declarations (`ss0 = ...`): the entity names.
    pub preamble: Vec<Spanned>,
    /// Blocks in order.
    pub blocks: Vec<SynBlock>,
    /// Instructions before the first block header (an error).
    pub stray: Vec<SynInst>,
}

/// A block as written.
#[derive(Clone, Debug)]
pub struct SynBlock {
    /// `block3`.
    pub name: Spanned,
    /// Parameters: value number, value span, type.
    pub params: Vec<(u32, Span, Spanned)>,
    /// Instructions in order.
    pub insts: Vec<SynInst>,
}

/// An instruction as written.
#[derive(Clone, Debug)]
pub struct SynInst {
    /// The whole instruction.
    pub span: Span,
    /// Result values: number and span.
    pub results: Vec<(u32, Span)>,
    /// The opcode, without the type suffix.
    pub opcode: Spanned,
    /// The type suffix (`iadd.i32`).
    pub suffix: Option<Spanned>,
    /// The operands.
    pub operands: Vec<Token>,
}

/// One operand token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Where it is.
    pub span: Span,
}

/// The kinds of operand tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// `v7`.
    Value(u32),
    /// An integer literal, as written.
    Int(String),
    /// Anything else: condition codes, block names, flags, floats.
    Word(String),
    /// `block1(v1, 2)`.
    BlockCall(String, Vec<Token>),
    /// `[a, b]`.
    Bracket(Vec<Token>),
}

/// A `; run` command.
#[derive(Clone, Debug)]
pub struct SynRun {
    /// The whole comment.
    pub span: Span,
    /// The call and expectation; `None` for a bare `; run`.
    pub call: Option<SynCall>,
}

/// `%f(1, 2) == 3`.
#[derive(Clone, Debug)]
pub struct SynCall {
    /// The text after `run:`, trimmed.
    pub text: String,
    /// The function name, with `%`.
    pub function: Spanned,
    /// The arguments.
    pub args: Vec<Spanned>,
    /// `==` (true) or `!=` (false).
    pub equals: bool,
    /// The expected values.
    pub expected: Vec<Spanned>,
    /// Whether they were written in brackets.
    pub bracketed: bool,
}

/// Parses one file of `sources` into its syntax tree.
pub fn parse(sources: &SourceMap, file: FileId) -> Result<SynFile, Vec<Diagnostic>> {
    let text = &sources.file(file).text;
    let at = |start: usize, end: usize| Span::new(file, start, end);
    let pairs = parse_rule(Rule::file, text)
        .map_err(|(e, tokens)| vec![syntax_error(sources, file, 0, &e, &tokens)])?;
    let mut out = SynFile::default();
    let mut diags = Vec::new();
    for pair in pairs.flat_map(|p| p.into_inner()) {
        let span = pair.as_span();
        match pair.as_rule() {
            Rule::header => {
                let mut keyword = String::new();
                let mut rest = String::new();
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::header_kw => keyword = p.as_str().to_string(),
                        Rule::header_text => rest = p.as_str().trim().to_string(),
                        Rule::run_command => push_run(sources, file, p, &mut out, &mut diags),
                        _ => {}
                    }
                }
                out.headers.push(SynHeader {
                    keyword,
                    text: rest,
                    span: at(span.start(), span.end()),
                });
            }
            Rule::run_command => push_run(sources, file, pair, &mut out, &mut diags),
            Rule::function => {
                let f = function(sources, file, pair, &mut out, &mut diags);
                out.items.push(SynItem::Function(f));
            }
            _ => {}
        }
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(diags)
    }
}

fn spanned(file: FileId, p: &Pair<'_, Rule>) -> Spanned {
    let s = p.as_span();
    Spanned {
        text: p.as_str().to_string(),
        span: Span::new(file, s.start(), s.end()),
    }
}

fn function(
    sources: &SourceMap,
    file: FileId,
    pair: Pair<'_, Rule>,
    out: &mut SynFile,
    diags: &mut Vec<Diagnostic>,
) -> SynFunction {
    let start = pair.as_span().start();
    let mut f = SynFunction {
        name: Spanned {
            text: String::new(),
            span: Span::new(file, start, start),
        },
        header: Span::new(file, start, start),
        params: Vec::new(),
        returns: Vec::new(),
        call_conv: None,
        preamble: Vec::new(),
        blocks: Vec::new(),
        stray: Vec::new(),
    };
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::func_name => f.name = spanned(file, &p),
            Rule::signature => {
                f.header = Span::new(file, start, p.as_span().end());
                for s in p.into_inner() {
                    match s.as_rule() {
                        Rule::params => f.params = abi_types(file, s),
                        Rule::returns => f.returns = abi_types(file, s),
                        Rule::call_conv => f.call_conv = Some(spanned(file, &s)),
                        _ => {}
                    }
                }
            }
            Rule::run_command => push_run(sources, file, p, out, diags),
            Rule::preamble => {
                for e in p.into_inner() {
                    match e.as_rule() {
                        Rule::entity => f.preamble.push(spanned(file, &e)),
                        Rule::run_command => push_run(sources, file, e, out, diags),
                        _ => {}
                    }
                }
            }
            Rule::block_header => {
                let mut name = spanned(file, &p);
                let mut params = Vec::new();
                for b in p.into_inner() {
                    match b.as_rule() {
                        Rule::block_name => name = spanned(file, &b),
                        Rule::block_params => {
                            for bp in b.into_inner() {
                                let mut value = None;
                                let mut ty = None;
                                for x in bp.into_inner() {
                                    match x.as_rule() {
                                        Rule::value => value = Some(value_number(file, &x, diags)),
                                        Rule::type_name => ty = Some(spanned(file, &x)),
                                        _ => {}
                                    }
                                }
                                if let (Some((v, vs)), Some(ty)) = (value, ty) {
                                    params.push((v, vs, ty));
                                }
                            }
                        }
                        Rule::run_command => push_run(sources, file, b, out, diags),
                        _ => {}
                    }
                }
                f.blocks.push(SynBlock {
                    name,
                    params,
                    insts: Vec::new(),
                });
            }
            Rule::inst_line => {
                for i in p.into_inner() {
                    match i.as_rule() {
                        Rule::inst => {
                            let inst = instruction(file, i, diags);
                            match f.blocks.last_mut() {
                                Some(b) => b.insts.push(inst),
                                None => f.stray.push(inst),
                            }
                        }
                        Rule::run_command => push_run(sources, file, i, out, diags),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    f
}

fn abi_types(file: FileId, pair: Pair<'_, Rule>) -> Vec<Spanned> {
    pair.into_inner()
        .filter(|p| p.as_rule() == Rule::abi_param)
        .flat_map(|p| p.into_inner())
        .filter(|p| p.as_rule() == Rule::type_name)
        .map(|p| spanned(file, &p))
        .collect()
}

/// The number of a value token `vN`.
fn value_number(file: FileId, p: &Pair<'_, Rule>, diags: &mut Vec<Diagnostic>) -> (u32, Span) {
    let s = spanned(file, p);
    let n = s.text.get(1..).and_then(|d| d.parse::<u32>().ok());
    match n {
        Some(n) => (n, s.span),
        None => {
            diags.push(Diagnostic::new(
                format!("value number `{}` is too large", s.text),
                s.span,
            ));
            (0, s.span)
        }
    }
}

fn instruction(file: FileId, pair: Pair<'_, Rule>, diags: &mut Vec<Diagnostic>) -> SynInst {
    let s = pair.as_span();
    let span = Span::new(file, s.start(), s.end());
    let mut inst = SynInst {
        span,
        results: Vec::new(),
        opcode: Spanned {
            text: String::new(),
            span,
        },
        suffix: None,
        operands: Vec::new(),
    };
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::results => {
                for v in p.into_inner() {
                    inst.results.push(value_number(file, &v, diags));
                }
            }
            Rule::opcode => {
                for o in p.into_inner() {
                    match o.as_rule() {
                        Rule::opcode_name => inst.opcode = spanned(file, &o),
                        Rule::type_name => inst.suffix = Some(spanned(file, &o)),
                        _ => {}
                    }
                }
            }
            Rule::operands => {
                inst.operands = p
                    .into_inner()
                    .filter_map(|t| token(file, t, diags))
                    .collect();
            }
            _ => {}
        }
    }
    inst
}

fn token(file: FileId, p: Pair<'_, Rule>, diags: &mut Vec<Diagnostic>) -> Option<Token> {
    let s = p.as_span();
    let span = Span::new(file, s.start(), s.end());
    let kind = match p.as_rule() {
        Rule::value => TokenKind::Value(value_number(file, &p, diags).0),
        Rule::int_lit => TokenKind::Int(p.as_str().to_string()),
        Rule::word => TokenKind::Word(p.as_str().to_string()),
        Rule::block_call => {
            let mut name = String::new();
            let mut args = Vec::new();
            for a in p.into_inner() {
                if a.as_rule() == Rule::block_name {
                    name = a.as_str().to_string();
                } else if let Some(t) = token(file, a, diags) {
                    args.push(t);
                }
            }
            TokenKind::BlockCall(name, args)
        }
        Rule::bracket => TokenKind::Bracket(
            p.into_inner()
                .filter_map(|a| token(file, a, diags))
                .collect(),
        ),
        _ => return None,
    };
    Some(Token { kind, span })
}

fn push_run(
    sources: &SourceMap,
    file: FileId,
    pair: Pair<'_, Rule>,
    out: &mut SynFile,
    diags: &mut Vec<Diagnostic>,
) {
    let s = pair.as_span();
    let span = Span::new(file, s.start(), s.end());
    let text = pair.into_inner().find(|p| p.as_rule() == Rule::run_text);
    let call = match text {
        None => None,
        Some(t) => match run_call(sources, file, t.as_str(), t.as_span().start()) {
            Ok(c) => Some(c),
            Err(d) => {
                diags.push(d);
                return;
            }
        },
    };
    out.items.push(SynItem::Run(SynRun { span, call }));
}

/// Parses the text of a run command found at byte `offset` of the file.
fn run_call(
    sources: &SourceMap,
    file: FileId,
    text: &str,
    offset: usize,
) -> Result<SynCall, Diagnostic> {
    let pairs = parse_rule(Rule::run_line, text)
        .map_err(|(e, tokens)| syntax_error(sources, file, offset, &e, &tokens))?;
    let shift = |p: &Pair<'_, Rule>| {
        let s = p.as_span();
        Spanned {
            text: p.as_str().to_string(),
            span: Span::new(file, offset + s.start(), offset + s.end()),
        }
    };
    let mut call = SynCall {
        text: text.split(';').next().unwrap_or(text).trim().to_string(),
        function: Spanned {
            text: String::new(),
            span: Span::new(file, offset, offset),
        },
        args: Vec::new(),
        equals: true,
        expected: Vec::new(),
        bracketed: false,
    };
    for p in pairs.flat_map(|p| p.into_inner()) {
        match p.as_rule() {
            Rule::invocation => {
                for a in p.into_inner() {
                    match a.as_rule() {
                        Rule::func_name => call.function = shift(&a),
                        Rule::literal => call.args.push(shift(&a)),
                        _ => {}
                    }
                }
            }
            Rule::comparison => call.equals = p.as_str() == "==",
            Rule::expected => {
                call.bracketed = p.as_str().trim_start().starts_with('[');
                call.expected = p
                    .into_inner()
                    .filter(|l| l.as_rule() == Rule::literal)
                    .map(|l| shift(&l))
                    .collect();
            }
            _ => {}
        }
    }
    Ok(call)
}

/// Parses `text` as `rule`. On failure, parses again collecting the
/// literal tokens the grammar would have accepted at the error (pest only
/// reports rules by default), for the message.
fn parse_rule(
    rule: Rule,
    text: &str,
) -> Result<pest::iterators::Pairs<'_, Rule>, (pest::error::Error<Rule>, Vec<String>)> {
    // pest's switch for detailed errors is process-wide: hold a lock while
    // it is on, so that two threads reporting errors cannot turn it off
    // under each other. (Other parses running meanwhile only get slower.)
    static DETAIL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ClifParser::parse(rule, text).map_err(|e| {
        let guard = DETAIL
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        pest::set_error_detail(true);
        let detailed = ClifParser::parse(rule, text);
        pest::set_error_detail(false);
        drop(guard);
        let mut tokens: Vec<String> = detailed
            .err()
            .and_then(|d| d.parse_attempts())
            .map(|a| a.expected_tokens().iter().map(|t| t.to_string()).collect())
            .unwrap_or_default();
        tokens.sort();
        tokens.dedup();
        (e, tokens)
    })
}

/// What a grammar rule is, for "expected ..." messages.
fn describe(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "end of file",
        Rule::header | Rule::header_kw => "a `test`, `target` or `set` line",
        Rule::function => "`function`",
        Rule::func_name => "a function name such as `%f`",
        Rule::signature => "a signature `(i32, i64) -> i8`",
        Rule::params | Rule::returns | Rule::abi_param | Rule::type_name => "a type",
        Rule::param_attr => "a parameter attribute",
        Rule::call_conv => "a calling convention",
        Rule::block_header | Rule::block_name => "a block such as `block0(v0: i32):`",
        Rule::block_params => "block parameters",
        Rule::block_param => "a block parameter `v0: i32`",
        Rule::preamble | Rule::entity => "a declaration",
        Rule::inst_line | Rule::inst => "an instruction",
        Rule::results => "result values",
        Rule::opcode | Rule::opcode_name => "an opcode",
        Rule::operands => "operands",
        Rule::block_call => "a block call such as `block1(v2)`",
        Rule::bracket => "a `[...]` list",
        Rule::value => "a value such as `v0`",
        Rule::int_lit => "an integer",
        Rule::word => "an operand",
        Rule::run_command | Rule::run_kw | Rule::plain_comment => "a comment",
        Rule::invocation => "a call such as `%f(1, 2)`",
        Rule::expected => "the expected value",
        Rule::literal => "a literal",
        _ => return None,
    })
}

/// Turns a pest error into a diagnostic; `offset` is where the parsed text
/// starts in the file.
fn syntax_error(
    sources: &SourceMap,
    file: FileId,
    offset: usize,
    e: &pest::error::Error<Rule>,
    tokens: &[String],
) -> Diagnostic {
    let text = &sources.file(file).text;
    let pos = offset
        + match e.location {
            InputLocation::Pos(p) => p,
            InputLocation::Span((s, _)) => s,
        };
    let pos = pos.min(text.len());
    let found: String = text
        .get(pos..)
        .unwrap_or("")
        .chars()
        .take_while(|c| !c.is_whitespace())
        .take(20)
        .collect();
    let end = (pos + found.len()).max(pos);
    let span = Span::new(file, pos, end);
    let expected = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            // Punctuation first, then what the rules are; keywords only
            // when nothing else is expected (`;` only starts comments).
            let mut names: Vec<String> = tokens
                .iter()
                .filter(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_punctuation()))
                .filter(|t| t.as_str() != ";")
                .map(|t| format!("`{t}`"))
                .collect();
            for d in positives.iter().filter_map(|r| describe(*r)) {
                if !names.iter().any(|n| n == d) {
                    names.push(d.to_string());
                }
            }
            if names.is_empty() {
                names = tokens
                    .iter()
                    .filter(|t| t.len() > 1 && t.chars().all(|c| c.is_ascii_alphabetic()))
                    .filter(|t| t.as_str() != "run")
                    .map(|t| format!("`{t}`"))
                    .collect();
            }
            names
        }
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let message = if pos >= text.len() {
        "syntax error: unexpected end of file".to_string()
    } else if found.is_empty() {
        "syntax error: unexpected end of line".to_string()
    } else {
        format!("syntax error: unexpected `{found}`")
    };
    let label = match expected.as_slice() {
        [] => "not valid here".to_string(),
        [one] => format!("expected {one}"),
        [init @ .., last] => format!("expected {} or {last}", init.join(", ")),
    };
    Diagnostic::new(message, span).with_label(label)
}
