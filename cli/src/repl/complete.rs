//! The line editor's helper: tab completion of commands, term names, type
//! names, enum variants and macros; an entry is complete when its
//! parentheses balance (so Enter inside an open `(` starts a new line).

use std::borrow::Cow;

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::{CmdKind, Highlighter, MatchingBracketHighlighter};
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use super::commands::COMMANDS;
use super::session::Session;
use super::sexp::{self, Balance};

/// The names completion offers, refreshed after every input.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Term names.
    pub terms: Vec<String>,
    /// ISLE type names.
    pub types: Vec<String>,
    /// `Enum.Variant`s.
    pub variants: Vec<String>,
    /// Spec macros, with their `!`.
    pub macros: Vec<String>,
}

impl Names {
    /// The names of a session's program.
    pub fn of(session: &Session) -> Names {
        let program = session.program();
        let mut types: Vec<String> = program
            .types
            .types
            .iter()
            .map(|t| t.name(&program.types).to_string())
            .filter(|n| !n.starts_with("__"))
            .collect();
        // Variants are terms named `Enum.Variant`.
        let (mut variants, mut terms): (Vec<String>, Vec<String>) = program
            .term_info
            .iter()
            .map(|t| t.name.clone())
            .filter(|n| !n.starts_with("__"))
            .partition(|n| n.contains('.'));
        variants.sort();
        terms.sort();
        terms.dedup();
        types.sort();
        types.dedup();
        Names {
            terms,
            types,
            variants,
            macros: session
                .macros()
                .into_iter()
                .map(|m| format!("{m}!"))
                .collect(),
        }
    }

    fn all(&self) -> impl Iterator<Item = &String> {
        self.terms
            .iter()
            .chain(&self.types)
            .chain(&self.variants)
            .chain(&self.macros)
    }
}

/// The REPL's rustyline helper.
pub struct ReplHelper {
    /// What to complete.
    pub names: Names,
    files: FilenameCompleter,
    brackets: MatchingBracketHighlighter,
}

impl ReplHelper {
    /// A helper offering these names.
    pub fn new(names: Names) -> ReplHelper {
        ReplHelper {
            names,
            files: FilenameCompleter::new(),
            brackets: MatchingBracketHighlighter::new(),
        }
    }
}

/// The start of the word that ends at `pos`.
fn word_start(line: &str, pos: usize) -> usize {
    line[..pos]
        .rfind(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .map_or(0, |i| i + 1)
}

/// The names that start with `word`.
fn starting<'a>(names: impl IntoIterator<Item = &'a str>, word: &str) -> Vec<String> {
    names
        .into_iter()
        .filter(|n| n.starts_with(word))
        .map(str::to_string)
        .collect()
}

/// Completion candidates for the word ending at `pos`: `(start, names)`.
pub fn candidates(names: &Names, line: &str, pos: usize) -> (usize, Vec<String>) {
    let start = word_start(line, pos);
    let word = &line[start..pos];
    let head = line.trim_start();
    let commands: Vec<String> = COMMANDS.iter().map(|c| format!(":{}", c.0)).collect();
    let mut out: Vec<String> = if head.starts_with(':') && start == line.len() - head.len() {
        starting(commands.iter().map(String::as_str), word)
    } else if head.starts_with(":arch ") {
        starting(["x64", "aarch64", "none"], word)
    } else if head.starts_with(":type ") {
        starting(names.types.iter().map(String::as_str), word)
    } else if head.starts_with(":spec ") {
        starting(names.terms.iter().map(String::as_str), word)
    } else {
        starting(names.all().map(String::as_str), word)
    };
    out.sort();
    out.dedup();
    (start, out)
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        if line.trim_start().starts_with(":load ") {
            return self.files.complete(line, pos, ctx);
        }
        let (start, found) = candidates(&self.names, line, pos);
        Ok((
            start,
            found
                .into_iter()
                .map(|c| Pair {
                    display: c.clone(),
                    replacement: c,
                })
                .collect(),
        ))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Highlighter for ReplHelper {
    fn highlight<'l>(&self, line: &'l str, pos: usize) -> Cow<'l, str> {
        self.brackets.highlight(line, pos)
    }

    fn highlight_char(&self, line: &str, pos: usize, kind: CmdKind) -> bool {
        self.brackets.highlight_char(line, pos, kind)
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        let last = ctx.input().rsplit('\n').next().unwrap_or_default();
        Ok(match sexp::balance(ctx.input()) {
            // A command typed inside an unfinished entry runs (the
            // session drops the entry and says so).
            Balance::Open if super::session::is_command(last) => ValidationResult::Valid(None),
            Balance::Open => ValidationResult::Incomplete,
            Balance::Complete => ValidationResult::Valid(None),
        })
    }
}

impl Helper for ReplHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            terms: vec!["a64_lsl".into(), "a64_lsr".into(), "operand_size".into()],
            types: vec!["OperandSize".into(), "Reg".into()],
            variants: vec!["OperandSize.Size32".into(), "OperandSize.Size64".into()],
            macros: vec!["w!".into()],
        }
    }

    #[test]
    fn completes_terms_types_variants_and_commands() {
        let n = names();
        assert_eq!(
            candidates(&n, "(rule (lower x) (a64_ls", 23),
            (17, vec!["a64_lsl".to_string(), "a64_lsr".to_string()])
        );
        assert_eq!(candidates(&n, "(Operand", 8).1.len(), 3);
        assert_eq!(
            candidates(&n, "(f (OperandSize.Size3", 21).1,
            vec!["OperandSize.Size32".to_string()]
        );
        assert_eq!(candidates(&n, ":sp", 3), (0, vec![":spec".to_string()]));
        assert_eq!(candidates(&n, ":type Re", 8).1, vec!["Reg".to_string()]);
        assert_eq!(
            candidates(&n, ":spec op", 8).1,
            vec!["operand_size".to_string()]
        );
        assert_eq!(candidates(&n, ":arch x", 7).1, vec!["x64".to_string()]);
    }
}
