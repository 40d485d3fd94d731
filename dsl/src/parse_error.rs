//! cranelift-isle's parse errors in words: an unclosed form at its `(`,
//! the messages it builds from Rust's `Debug` and `ParseIntError` text
//! rewritten, and an expression missing before a `)` said so.

use cranelift_isle::lexer::Pos;
use loweq_semantics::op::{Op, FLOAT_OPS};
use loweq_semantics::span::{FileId, SourceMap, Span};

use crate::diag::{did_you_mean, Diagnostic};
use crate::load::pos_span;

/// A parse error `d` of file `id`, or, when a `(` of the file before the
/// error is never closed, that: cranelift-isle reports an unclosed form
/// where it runs out of input ("Invalid expression" at the end of the
/// file), far from the `(` to fix.
pub(crate) fn unclosed_or(sources: &SourceMap, id: FileId, d: Diagnostic) -> Diagnostic {
    let text = &sources.file(id).text;
    let Some((outer, inner)) = crate::limits::unclosed(text) else {
        return d;
    };
    let at = match d.span {
        Some(s) if s.file == id => s.start,
        _ => return d,
    };
    if at < outer {
        return d;
    }
    let end = text.len();
    let mut u = Diagnostic::new(
        "a `(` is not closed before the end of the file",
        Span::new(id, outer, outer + 1),
    )
    .with_label("this form is never closed");
    if inner != outer {
        u = u.with_secondary(
            Span::new(id, inner, inner + 1),
            "the innermost `(` still open",
        );
    }
    if text[at..].trim().is_empty() {
        u = u.with_secondary(Span::new(id, end, end), "the file ends here");
    } else if let Some(s) = d.span {
        u = u.with_secondary(
            s,
            format!(
                "the parser stopped here: {}",
                d.message.trim_start_matches("parse error: ")
            ),
        );
    }
    u.with_note("add the missing `)`; every form must close before the file ends")
}

pub(crate) fn parse_error(sources: &SourceMap, msg: &str, pos: Pos) -> Diagnostic {
    let span = pos_span(sources, pos);
    let token = |sources: &SourceMap| -> String {
        let mut s = Span::new(span.file, span.start, span.start);
        s.end = sources.file(span.file).form_end(span.start);
        sources.snippet(s).to_string()
    };
    if pos.file >= sources.len() {
        return Diagnostic::global(format!("parse error: {msg}"));
    }
    // "Invalid rule name: ParseError { msg: \"...\", span: ... }": the
    // inner error, at its own place.
    for outer in ["Invalid rule name: ", "Invalid modifies condition: "] {
        if let Some((inner, offset)) = msg.strip_prefix(outer).and_then(debug_parse_error) {
            let at = Pos {
                file: pos.file,
                offset: offset.unwrap_or(pos.offset),
            };
            let what = outer.trim_end_matches(": ").to_lowercase();
            let mut d = parse_error(sources, &inner, at);
            d.message = format!("{what}: {}", d.message.trim_start_matches("parse error: "));
            return d;
        }
    }
    if matches!(
        msg,
        "invalid digit found in string" | "number too large to fit in target type"
    ) {
        let shown = token(sources);
        let why = match msg {
            "invalid digit found in string" => {
                "is not a number (a name cannot start with a digit or `-`)"
            }
            _ => "does not fit in 128 bits",
        };
        return Diagnostic::new(format!("parse error: `{shown}` {why}"), span)
            .with_label("read as an integer literal");
    }
    if msg == "Invalid expression"
        && sources.file(span.file).text.get(span.start..span.start + 1) == Some(")")
    {
        return Diagnostic::new("parse error: an expression is missing before this `)`", span)
            .with_label("expected an expression here")
            .with_note("a rule ends with its right-hand side, the expression it builds: `(rule (pattern ...) (expression ...))`");
    }
    // "Unexpected spec expression" at `(sym ...`: name the unknown operator.
    if msg == "Unexpected spec expression" {
        let text = &sources.file(span.file).text;
        let after = text.get(span.start..).unwrap_or("");
        if let Some(rest) = after.strip_prefix('(') {
            let sym: String = rest
                .trim_start()
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '(' && *c != ')')
                .collect();
            if !sym.is_empty() {
                let mut d = Diagnostic::new(format!("unknown spec operator `{sym}`"), span)
                    .with_label("not an operator, macro call (`name!`), field (`:name`), variant test (`Name?`) or enum value (`Enum.Variant`)");
                let names = Op::ALL
                    .iter()
                    .map(|o| o.name())
                    .chain(FLOAT_OPS.iter().copied())
                    .chain(["let", "with", "match", "switch", "struct", "as", "macro"]);
                if let Some(hint) = did_you_mean(&sym, names) {
                    d = d.with_note(hint);
                }
                return d;
            }
        }
    }
    if msg == "cannot parse integer from empty string" {
        let text = &sources.file(span.file).text;
        if text.get(span.start..span.start + 1) == Some("-") {
            return Diagnostic::new("`-` must start a number here", span)
                .with_label("ISLE reads `-` as the sign of an integer literal")
                .with_note("to subtract, add a negative number: `(+ w -1)`");
        }
    }
    if msg == "Unexpected EOF" {
        return Diagnostic::new("a `(` is not closed before the end of the file", span)
            .with_label("the file ends here");
    }
    if let Some(tok) = msg.strip_prefix("Unexpected token ") {
        let shown = match tok {
            "RParen" => "`)`".to_string(),
            "LParen" => "`(`".to_string(),
            _ => format!("`{}`", token(sources)),
        };
        return Diagnostic::new(format!("parse error: unexpected {shown}"), span);
    }
    Diagnostic::new(format!("parse error: {msg}"), span)
}

/// The message and offset of a cranelift-isle `ParseError` printed with
/// `{:?}` (`ParseError { msg: "...", span: Span { from: Pos { file: 0,
/// offset: 137 }, ... } }`), as some of its messages embed one.
fn debug_parse_error(text: &str) -> Option<(String, Option<usize>)> {
    let rest = text.strip_prefix("ParseError { msg: \"")?;
    let mut inner = String::new();
    let mut chars = rest.chars();
    loop {
        match chars.next()? {
            '\\' => inner.push(chars.next()?),
            '"' => break,
            c => inner.push(c),
        }
    }
    let after: String = chars.collect();
    let offset = after
        .split_once("offset: ")
        .and_then(|(_, o)| o.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|o| o.parse().ok());
    Some((inner, offset))
}

/// cranelift-isle's message for a rule that needs one value to match two
/// constraints, which prints them with `{:?}` (`ConstInt { val: 1, ty:
/// TypeId(1) }`), in words.
pub(crate) fn unreachable_message(msg: &str) -> String {
    let Some(both) = msg.strip_prefix("rule requires binding to match both ") else {
        return msg.to_string();
    };
    // The constraints are `Name { ... }` or `Name`; split at the ` and `
    // outside braces.
    let mut depth = 0usize;
    let mut split = None;
    for (i, c) in both.char_indices() {
        match c {
            '{' | '(' => depth += 1,
            '}' | ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 && both[i..].starts_with(" and ") => {
                split = Some(i);
                break;
            }
            _ => {}
        }
    }
    let Some(i) = split else {
        return msg.to_string();
    };
    format!(
        "it needs one value to be both {} and {}",
        constraint_words(&both[..i]),
        constraint_words(&both[i + 5..])
    )
}

/// One `trie_again::Constraint` printed with `{:?}`, in words.
fn constraint_words(debug: &str) -> String {
    let field = |name: &str| -> Option<String> {
        let (_, rest) = debug.split_once(&format!("{name}: "))?;
        Some(
            rest.split([',', ' ', '}'])
                .next()
                .unwrap_or_default()
                .to_string(),
        )
    };
    let kind = debug.split([' ', '{']).next().unwrap_or_default();
    match kind {
        "ConstInt" | "ConstBool" => match field("val") {
            Some(v) => format!("`{v}`"),
            None => "a constant".into(),
        },
        "ConstPrim" => "a constant".into(),
        "Variant" => "an enum variant".into(),
        "Struct" => "a struct".into(),
        "Some" => "`Some` (a fallible extractor's match)".into(),
        _ => "a constraint".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_printed_errors_are_read_back() {
        let text = r#"ParseError { msg: "Identifier 'a-b!c' contains \"x\"", span: Span { from: Pos { file: 0, offset: 137 }, to: Pos { file: 0, offset: 138 } } }"#;
        assert_eq!(
            debug_parse_error(text),
            Some(("Identifier 'a-b!c' contains \"x\"".to_string(), Some(137)))
        );
        assert_eq!(debug_parse_error("something else"), None);
    }

    #[test]
    fn unreachable_constraints_are_said_in_words() {
        assert_eq!(
            unreachable_message("rule requires binding to match both ConstInt { val: 1, ty: TypeId(1) } and ConstInt { val: -2, ty: TypeId(1) }"),
            "it needs one value to be both `1` and `-2`"
        );
        assert_eq!(
            unreachable_message("rule requires binding to match both Variant { ty: TypeId(3), variant: VariantId(0), fields: TupleIndex(0) } and ConstPrim { val: Sym(4) }"),
            "it needs one value to be both an enum variant and a constant"
        );
        assert_eq!(unreachable_message("other"), "other");
    }
}
