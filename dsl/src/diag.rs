//! Diagnostics: what the front end and the verifier report about the input.
//! They carry spans; only the CLI decides how to print them.

use loweq_semantics::span::Span;

/// One problem found in the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// A one-line description.
    pub message: String,
    /// Where the problem is, when it has a place.
    pub span: Option<Span>,
    /// What the primary span is about (may be empty).
    pub label: String,
    /// Other places worth showing, with what each is.
    pub secondary: Vec<(Span, String)>,
    /// Extra lines: hints, suggestions.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic at `span`.
    pub fn new(message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            message: cut_long_words(message.into()),
            span: Some(span),
            label: String::new(),
            secondary: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A diagnostic with no place in the source.
    pub fn global(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            message: cut_long_words(message.into()),
            span: None,
            label: String::new(),
            secondary: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Sets the primary label.
    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = cut_long_words(label.into());
        self
    }

    /// Adds a secondary place.
    pub fn with_secondary(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.secondary.push((span, cut_long_words(label.into())));
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(cut_long_words(note.into()));
        self
    }
}

/// Words (runs without whitespace) longer than this are cut in a
/// diagnostic's text.
const LONG_WORD: usize = 200;
/// How much of a long word is kept.
const KEPT: usize = 100;

/// `text` with every word longer than [`LONG_WORD`] characters cut to its
/// first [`KEPT`] and `...`, its closing quotes and punctuation kept: a
/// name or token of the input can be any length (a 200 KB identifier),
/// and a message quotes it.
pub fn cut_long_words(text: String) -> String {
    if !text
        .split_whitespace()
        .any(|w| w.len() > LONG_WORD && w.chars().count() > LONG_WORD)
    {
        return text;
    }
    let mut out = String::with_capacity(LONG_WORD * 4);
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let start = rest
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..end];
        if word.chars().count() > LONG_WORD {
            out.extend(word.chars().take(KEPT));
            out.push_str("...");
            let closing: Vec<char> = word
                .chars()
                .rev()
                .take(3)
                .take_while(|c| "`'\")]}:,;.".contains(*c))
                .collect();
            out.extend(closing.into_iter().rev());
        } else {
            out.push_str(word);
        }
        rest = &rest[end..];
    }
    out
}

/// Up to three names from `candidates` close to `name` (by edit distance),
/// for "did you mean" notes.
pub fn suggestions<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|&(d, c)| d <= limit && c != name)
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

/// A "did you mean" note for `name`, if any candidate is close.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let s = suggestions(name, candidates);
    if s.is_empty() {
        return None;
    }
    let quoted: Vec<String> = s.iter().map(|c| format!("`{c}`")).collect();
    Some(format!("did you mean {}?", quoted.join(" or ")))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names() {
        let names = ["bvadd", "bvsub", "bvand", "concat"];
        // Closest first: `bvadd` is one edit away, `bvand` two.
        assert_eq!(suggestions("bvadd2", names), vec!["bvadd", "bvand"]);
        assert_eq!(suggestions("concta", names), vec!["concat"]);
        assert_eq!(did_you_mean("zzzzzz", names), None);
    }

    #[test]
    fn long_words_are_cut_and_short_ones_kept() {
        let short = "unknown term `abc` (did you mean `abd`?)".to_string();
        assert_eq!(cut_long_words(short.clone()), short);
        let long = format!("unbound variable `{}` here", "é".repeat(1000));
        assert_eq!(
            cut_long_words(long),
            format!("unbound variable `{}...` here", "é".repeat(99))
        );
    }
}
