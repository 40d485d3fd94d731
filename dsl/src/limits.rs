//! Limits on the shape of the input, checked where the input is read, so
//! that every later step (cranelift-isle's parser, inference, encoding,
//! evaluation, explanation) only ever sees input of bounded depth and size
//! and runs in bounded time and stack. Each limit is far above what real
//! rules and specs need; going past one is a diagnostic at the place.

use loweq_semantics::span::{FileId, SourceMap, Span};

use crate::diag::Diagnostic;

/// How deeply parentheses may nest in an ISLE file. cranelift-isle's
/// parser recurses once per level; real files nest a dozen levels deep.
pub const MAX_NESTING: usize = 256;

/// How deep one spec expression may nest once its macros are expanded.
pub const MAX_SPEC_DEPTH: usize = 512;

/// How many expressions one spec may have once its macros are expanded.
/// The largest shipped spec has a few hundred.
pub const MAX_SPEC_SIZE: usize = 50_000;

/// How deep a rule's pattern may nest once extractor macros are expanded.
pub const MAX_PATTERN_DEPTH: usize = 512;

/// The offsets of the parentheses of `text` that structure it, each with
/// whether it opens, skipping comments (`;` to the end of the line,
/// `(; ... ;)` blocks, which nest).
fn parens(text: &str) -> impl Iterator<Item = (usize, bool)> + '_ {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            match bytes[i] {
                b';' => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b'(' if bytes.get(i + 1) == Some(&b';') => {
                    let mut comments = 1;
                    i += 2;
                    while i < bytes.len() && comments > 0 {
                        if bytes[i] == b'(' && bytes.get(i + 1) == Some(&b';') {
                            comments += 1;
                            i += 1;
                        } else if bytes[i] == b';' && bytes.get(i + 1) == Some(&b')') {
                            comments -= 1;
                            i += 1;
                        }
                        i += 1;
                    }
                }
                b @ (b'(' | b')') => {
                    i += 1;
                    return Some((i - 1, b == b'('));
                }
                _ => i += 1,
            }
        }
        None
    })
}

/// Checks how deeply the parentheses of file `id` nest, skipping comments
/// (`;` to the end of the line, `(; ... ;)` blocks, which nest).
pub fn check_nesting(sources: &SourceMap, id: FileId) -> Option<Diagnostic> {
    let mut depth = 0usize;
    for (i, open) in parens(&sources.file(id).text) {
        if !open {
            depth = depth.saturating_sub(1);
            continue;
        }
        depth += 1;
        if depth > MAX_NESTING {
            return Some(
                Diagnostic::new(
                    format!("parentheses nest more than {MAX_NESTING} levels deep"),
                    Span::new(id, i, i + 1),
                )
                .with_label(format!("level {depth} opens here"))
                .with_note(format!(
                    "loweq reads forms nested at most {MAX_NESTING} deep, which keeps every later step fast; split the expression with `let`, a macro or a helper term"
                )),
            );
        }
    }
    None
}

/// The offsets of the outermost and the innermost `(` of `text` that are
/// never closed (the same offset when only one is open), or `None` when
/// every `(` is closed. A `)` too many is not counted: cranelift-isle
/// reports it where it is.
pub fn unclosed(text: &str) -> Option<(usize, usize)> {
    let mut open = Vec::new();
    for (i, opens) in parens(text) {
        if opens {
            open.push(i);
        } else {
            open.pop();
        }
    }
    Some((*open.first()?, *open.last()?))
}

/// What resolving one spec has used of [`MAX_SPEC_SIZE`] and
/// [`MAX_SPEC_DEPTH`].
#[derive(Debug, Default)]
pub struct Budget {
    nodes: usize,
    nesting: usize,
    exhausted: bool,
}

impl Budget {
    /// Whether a limit was hit (then nothing more is resolved).
    pub fn exhausted(&self) -> bool {
        self.exhausted
    }

    /// Enters one expression at `at`, inside the macro calls `expansions`
    /// (outermost first, with the span of each call). The first time a
    /// limit is passed, the diagnostic: at the outermost macro call, naming
    /// the macros being expanded, or at the expression itself.
    pub fn enter(
        &mut self,
        at: Span,
        expansions: &[(String, Span)],
    ) -> Result<(), Option<Diagnostic>> {
        if self.exhausted {
            return Err(None);
        }
        self.nodes += 1;
        self.nesting += 1;
        let (what, why) = if self.nodes > MAX_SPEC_SIZE {
            (
                format!("larger than {MAX_SPEC_SIZE} expressions"),
                "every call of a macro copies its body, so a macro that calls another twice doubles with every level: bind the inner call once with `let`",
            )
        } else if self.nesting > MAX_SPEC_DEPTH {
            (
                format!("nest deeper than {MAX_SPEC_DEPTH} levels"),
                "a macro's body nests inside its caller's, so nesting adds up over the levels: bind the inner call with `let` to keep it flat",
            )
        } else {
            return Ok(());
        };
        self.exhausted = true;
        self.nesting -= 1;
        let d = match expansions.first() {
            None => Diagnostic::new(format!("this spec is {what}"), at)
                .with_note("split it over helper terms"),
            Some((outer, call)) => {
                let mut chain: Vec<String> =
                    expansions.iter().map(|(n, _)| format!("{n}!")).collect();
                chain.dedup();
                if chain.len() > 8 {
                    let last = chain.len() - 1;
                    chain.splice(4..last, ["...".to_string()]);
                }
                let shown = chain.join(" > ");
                let what = what.replace("nest", "nesting");
                Diagnostic::new(
                    format!("expanding macro `{outer}!` makes this spec {what}"),
                    *call,
                )
                .with_label("expanded here")
                .with_note(format!("while expanding {shown}"))
                .with_note(why)
            }
        };
        Err(Some(d))
    }

    /// Leaves the expression entered last.
    pub fn leave(&mut self) {
        self.nesting = self.nesting.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use loweq_semantics::span::SourceFile;

    fn nesting(text: &str) -> Option<Diagnostic> {
        let mut sources = SourceMap::new();
        let id = sources.add(SourceFile::new("t.isle", text));
        check_nesting(&sources, id)
    }

    #[test]
    fn nesting_is_counted_outside_comments() {
        let ok = format!("{}x{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        assert_eq!(nesting(&ok), None);
        let deep = format!("; ((((\n(; (((( (; (( ;) ;){ok}");
        assert_eq!(nesting(&deep), None);
        let too_deep = format!("({ok})");
        let d = nesting(&too_deep).expect("too deep");
        let span = d.span.expect("a place");
        assert_eq!(span.start, MAX_NESTING);
        assert!(d.label.contains(&format!("level {}", MAX_NESTING + 1)));
    }

    #[test]
    fn unclosed_finds_the_outermost_and_innermost_open_paren() {
        assert_eq!(unclosed("(a (b) c) ; (\n(; ( ;)"), None);
        assert_eq!(unclosed("(a)\n(rule (b x)\n"), Some((4, 4)));
        assert_eq!(unclosed("(a (b (c) (d"), Some((0, 10)));
        // A `)` too many is cranelift-isle's to report.
        assert_eq!(unclosed("(a))"), None);
    }

    #[test]
    fn the_budget_names_the_macro_being_expanded() {
        let mut b = Budget::default();
        let calls = vec![
            ("outer".to_string(), Span::default()),
            ("inner".to_string(), Span::default()),
        ];
        let mut first = None;
        for _ in 0..=MAX_SPEC_SIZE {
            if let Err(d) = b.enter(Span::default(), &calls) {
                first = d;
                break;
            }
            b.leave();
        }
        let d = first.expect("the limit is reported once");
        assert!(d.message.contains("macro `outer!`"), "{}", d.message);
        assert!(d.notes[0].contains("outer! > inner!"), "{:?}", d.notes);
        assert!(b.exhausted());
        assert_eq!(b.enter(Span::default(), &calls), Err(None));
    }
}
