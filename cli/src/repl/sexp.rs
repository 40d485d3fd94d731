//! S-expressions as the REPL needs them, before cranelift-isle sees the
//! text: whether an entry's parentheses balance yet (multi-line input), its
//! top-level forms with their byte ranges, and what each form declares.
//!
//! The lexical rules are ISLE's: `;` comments to the end of the line,
//! nested `(; ... ;)` block comments, and `@` as a token of its own.

use std::ops::Range;

/// A parsed s-expression with the byte range it covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sexp {
    /// A symbol or number.
    Atom(Range<usize>, String),
    /// A parenthesised list.
    List(Range<usize>, Vec<Sexp>),
}

impl Sexp {
    /// The byte range.
    pub fn range(&self) -> Range<usize> {
        match self {
            Sexp::Atom(r, _) | Sexp::List(r, _) => r.clone(),
        }
    }

    /// The atom's text.
    pub fn atom(&self) -> Option<&str> {
        match self {
            Sexp::Atom(_, s) => Some(s),
            Sexp::List(..) => None,
        }
    }

    /// The list's items.
    pub fn list(&self) -> Option<&[Sexp]> {
        match self {
            Sexp::List(_, items) => Some(items),
            Sexp::Atom(..) => None,
        }
    }

    /// The head symbol of a list.
    pub fn head(&self) -> Option<&str> {
        self.list().and_then(|l| l.first()).and_then(Sexp::atom)
    }

    /// Every atom inside, in order.
    pub fn atoms(&self) -> Vec<&str> {
        let mut out = Vec::new();
        fn walk<'a>(s: &'a Sexp, out: &mut Vec<&'a str>) {
            match s {
                Sexp::Atom(_, a) => out.push(a),
                Sexp::List(_, items) => items.iter().for_each(|i| walk(i, out)),
            }
        }
        walk(self, &mut out);
        out
    }
}

/// Whether an entry is complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Balance {
    /// Every `(` is closed (or there are more `)` than `(`: an error the
    /// entry will report, not a reason to wait for more lines).
    Complete,
    /// A `(` or a block comment is still open: read another line.
    Open,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Open(usize),
    Close(usize),
    Atom(Range<usize>),
}

/// A lexical or structural problem, at a byte offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SexpError {
    /// Where.
    pub offset: usize,
    /// What.
    pub message: String,
}

fn tokens(text: &str) -> Result<Vec<Token>, SexpError> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            c if c.is_ascii_whitespace() => i += 1,
            b';' => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
            }
            b'(' if b.get(i + 1) == Some(&b';') => {
                let start = i;
                let mut depth = 0usize;
                loop {
                    if i >= b.len() {
                        return Err(SexpError {
                            offset: start,
                            message: "unterminated block comment".into(),
                        });
                    }
                    if b[i] == b'(' && b.get(i + 1) == Some(&b';') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b';' && b.get(i + 1) == Some(&b')') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b'(' => {
                out.push(Token::Open(i));
                i += 1;
            }
            b')' => {
                out.push(Token::Close(i));
                i += 1;
            }
            b'@' => {
                out.push(Token::Atom(i..i + 1));
                i += 1;
            }
            _ => {
                let start = i;
                while i < b.len()
                    && !b[i].is_ascii_whitespace()
                    && !matches!(b[i], b'(' | b')' | b';' | b'@')
                {
                    i += 1;
                }
                out.push(Token::Atom(start..i));
            }
        }
    }
    Ok(out)
}

/// Whether `text` is a complete entry: its parentheses and block comments
/// are closed.
pub fn balance(text: &str) -> Balance {
    let Ok(toks) = tokens(text) else {
        return Balance::Open;
    };
    let mut depth = 0i64;
    for t in toks {
        match t {
            Token::Open(_) => depth += 1,
            Token::Close(_) => depth -= 1,
            Token::Atom(_) => {}
        }
    }
    if depth > 0 {
        Balance::Open
    } else {
        Balance::Complete
    }
}

/// Parses the top-level s-expressions of `text`.
pub fn parse(text: &str) -> Result<Vec<Sexp>, SexpError> {
    let mut stack: Vec<(usize, Vec<Sexp>)> = vec![(0, Vec::new())];
    for t in tokens(text)? {
        match t {
            Token::Open(at) => stack.push((at, Vec::new())),
            Token::Close(at) => {
                if stack.len() == 1 {
                    return Err(SexpError {
                        offset: at,
                        message: "unexpected `)`: nothing to close".into(),
                    });
                }
                let (start, items) = stack.pop().expect("more than one level");
                let list = Sexp::List(start..at + 1, items);
                stack.last_mut().expect("the top level").1.push(list);
            }
            Token::Atom(r) => {
                let a = Sexp::Atom(r.clone(), text[r].to_string());
                stack.last_mut().expect("the top level").1.push(a);
            }
        }
    }
    if stack.len() > 1 {
        let (start, _) = stack.last().expect("more than one level");
        return Err(SexpError {
            offset: *start,
            message: "this `(` is not closed".into(),
        });
    }
    Ok(stack.pop().expect("the top level").1)
}

/// What a top-level form declares, for replacing an earlier declaration of
/// the same thing: its kind (`rule`, `decl`, `spec`, ...) and name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// The form's kind: its head, with the sub-kind of `extern`.
    pub kind: String,
    /// The name it declares.
    pub name: String,
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} `{}`", self.kind, self.name)
    }
}

/// A top-level form of a unit of text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Form {
    /// Its byte range.
    pub range: Range<usize>,
    /// Its head (`rule`, `decl`, ...).
    pub head: String,
    /// What it declares, when a later form can replace it.
    pub key: Option<Key>,
    /// For a rule, its root term; for other forms, the term or type they
    /// are about (the key's name).
    pub subject: Option<String>,
    /// The names it mentions, for finding what a change affects.
    pub mentions: Vec<String>,
    /// Its atoms, space-separated: the form without its layout and
    /// comments, to tell whether it changed.
    pub normalized: String,
}

impl Form {
    /// Whether the form is a rule.
    pub fn is_rule(&self) -> bool {
        self.head == "rule"
    }
}

/// The names an atom mentions: itself, without a macro's `!` or a
/// variant test's `?`, and both parts of `Enum.Variant`. An atom that
/// starts like a number is lexed the way ISLE lexes it: the number ends
/// at the first character that cannot be a digit, and what follows is a
/// token of its own (`1foo` is the integer 1 and the name `foo`), which
/// may be a name.
fn mention_names(atom: &str, out: &mut Vec<String>) {
    if atom.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        let rest = atom.strip_prefix('-').unwrap_or(atom);
        let rest = ["0x", "0X", "0o", "0O", "0b", "0B"]
            .iter()
            .find_map(|p| rest.strip_prefix(p))
            .unwrap_or(rest);
        let after = rest.trim_start_matches(|c: char| c.is_ascii_hexdigit() || c == '_');
        if !after.is_empty() && after.len() < atom.len() {
            mention_names(after, out);
        }
        return;
    }
    let a = atom.trim_end_matches(['!', '?']);
    if a.is_empty() || a.starts_with('#') {
        return;
    }
    out.push(a.to_string());
    if let Some((e, v)) = a.split_once('.') {
        out.push(e.to_string());
        out.push(v.to_string());
    }
}

/// The first atom of a list item, or of its head when it is a list:
/// `(spec (name args) ...)` names `name`.
fn name_of(s: &Sexp) -> Option<&str> {
    s.atom().or_else(|| s.head())
}

/// Describes one top-level form.
pub fn describe(s: &Sexp) -> Option<Form> {
    let items = s.list()?;
    let head = items.first()?.atom()?.to_string();
    let rest = &items[1..];
    let key = |kind: &str, name: Option<&str>| {
        name.map(|n| Key {
            kind: kind.to_string(),
            name: n.to_string(),
        })
    };
    let (key, subject) = match head.as_str() {
        "rule" => {
            let mut it = rest.iter().peekable();
            let name = it.next_if(|x| x.atom().is_some_and(|a| !is_int(a)));
            let _prio = it.next_if(|x| x.atom().is_some_and(is_int));
            let root = it.next().and_then(Sexp::head).map(str::to_string);
            (key("rule", name.and_then(Sexp::atom)), root)
        }
        "decl" => {
            let name = rest
                .iter()
                .filter_map(Sexp::atom)
                .find(|a| !matches!(*a, "pure" | "multi" | "partial" | "rec" | "nodebug"));
            (key("decl", name), name.map(str::to_string))
        }
        "extern" => {
            let kind = rest.first().and_then(Sexp::atom).unwrap_or("");
            let name = rest[1.min(rest.len())..]
                .iter()
                .filter_map(Sexp::atom)
                .find(|a| *a != "infallible");
            (
                key(&format!("extern {kind}"), name),
                name.map(str::to_string),
            )
        }
        "spec" | "model" | "type" | "extractor" | "instantiate" | "form" | "macro" | "state" => {
            let name = rest.first().and_then(name_of);
            (key(&head, name), name.map(str::to_string))
        }
        "convert" => {
            let names: Vec<&str> = rest.iter().filter_map(Sexp::atom).collect();
            let k = (names.len() == 3).then(|| Key {
                kind: "convert".into(),
                name: format!("{} {}", names[0], names[1]),
            });
            (k, names.get(2).map(|s| s.to_string()))
        }
        // Several attributes may name one term: only an identical one is
        // replaced.
        "attr" => {
            let text = s.atoms()[1..].join(" ");
            (
                Some(Key {
                    kind: "attr".into(),
                    name: text,
                }),
                rest.first().and_then(Sexp::atom).map(str::to_string),
            )
        }
        _ => (None, None),
    };
    let atoms = s.atoms();
    let normalized = atoms.join(" ");
    let mut mentions = Vec::new();
    for a in atoms.into_iter().skip(1) {
        mention_names(a, &mut mentions);
    }
    mentions.sort();
    mentions.dedup();
    Some(Form {
        range: s.range(),
        head,
        key,
        subject,
        mentions,
        normalized,
    })
}

fn is_int(a: &str) -> bool {
    let a = a.strip_prefix('-').unwrap_or(a);
    !a.is_empty() && a.bytes().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balance_counts_parentheses_outside_comments() {
        assert_eq!(balance("(rule (a b)"), Balance::Open);
        assert_eq!(balance("(rule (a b))"), Balance::Complete);
        assert_eq!(balance("(rule ; (\n a)"), Balance::Complete);
        assert_eq!(balance("(; open comment"), Balance::Open);
        assert_eq!(balance("(a (; ( ;) b)"), Balance::Complete);
        assert_eq!(balance("a))"), Balance::Complete);
        assert_eq!(balance(""), Balance::Complete);
    }

    #[test]
    fn parse_reports_stray_parentheses() {
        assert_eq!(parse("(a b))").unwrap_err().offset, 5);
        assert_eq!(parse("x (a (b)").unwrap_err().offset, 2);
        let p = parse("(a (b c)) d").unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].range(), 0..9);
        assert_eq!(p[1].atom(), Some("d"));
    }

    fn form(text: &str) -> Form {
        describe(&parse(text).unwrap()[0]).unwrap()
    }

    #[test]
    fn forms_have_keys_and_subjects() {
        let r = form("(rule my_add 1 (lower (iadd x y)) (a64_add x y))");
        assert_eq!(r.key.unwrap().to_string(), "rule `my_add`");
        assert_eq!(r.subject.as_deref(), Some("lower"));
        let r = form("(rule (lower (iadd x y)) (a64_add x y))");
        assert_eq!(r.key, None);
        assert_eq!(r.subject.as_deref(), Some("lower"));
        assert!(r.mentions.contains(&"a64_add".to_string()));
        let d = form("(decl pure partial f (u8) u8)");
        assert_eq!(d.key.unwrap().name, "f");
        // `rec` is a modifier too, not the name.
        let d = form("(decl pure partial rec f (u8) u8)");
        assert_eq!(d.key.unwrap().name, "f");
        assert_eq!(d.subject.as_deref(), Some("f"));
        // ISLE lexes `1g` as the integer 1 and the name `g`, and `0x1fh`
        // as 0x1f and `h`; numbers alone mention nothing.
        let n = form("(spec (f x) (provide (= result (g 1g 0x1fh -2k 12 0x1f -3))))");
        for m in ["g", "h", "k"] {
            assert!(n.mentions.contains(&m.to_string()), "{m}: {:?}", n.mentions);
        }
        assert!(
            !n.mentions
                .iter()
                .any(|m| m.starts_with(|c: char| c.is_ascii_digit() || c == '-')),
            "{:?}",
            n.mentions
        );
        let e = form("(extern extractor infallible g g_impl)");
        assert_eq!(e.key.unwrap().to_string(), "extern extractor `g`");
        let s = form("(spec (a64_lsr size a b) (provide (= result (w! (OperandSize.Size32)))))");
        assert_eq!(s.key.unwrap().to_string(), "spec `a64_lsr`");
        for m in ["w", "OperandSize", "Size32", "OperandSize.Size32"] {
            assert!(s.mentions.contains(&m.to_string()), "{m}: {:?}", s.mentions);
        }
        assert_eq!(form("(pragma x)").key, None);
    }
}
