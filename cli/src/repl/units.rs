//! The text a session is made of, and how it becomes one program.
//!
//! A session is an ordered list of *units*: the shipped spec files of its
//! architecture, the user's files, and every entry typed at the prompt, each
//! its own source file (so that a diagnostic's span points into the entry
//! it is about). Assembling them gives the source map that is loaded:
//!
//! - a later form that declares the same thing as an earlier one (a rule of
//!   the same name, a spec of the same term, ...) *replaces* it: the earlier
//!   form is blanked out (spaces, newlines kept, so every other span stays
//!   put);
//! - a declared term that nothing defines yet (no rule, extractor or
//!   `extern`), such as `lower` before the first rule is entered, gets an
//!   `extern constructor` in a last, synthetic unit: cranelift-isle rejects
//!   undefined terms, and a session must load before its first rule.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

use loweq_dsl::Program;
use loweq_semantics::span::{FileId, SourceFile, SourceMap};

use super::sexp::{self, Form, Key};

/// Where a unit's text comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A shipped spec file.
    Shipped,
    /// A user's file, read from this path.
    File(PathBuf),
    /// The entry with this number.
    Entry(usize),
}

/// One unit of text.
#[derive(Clone, Debug)]
pub struct Unit {
    /// The name diagnostics show.
    pub name: String,
    /// Where it comes from.
    pub origin: Origin,
    /// The text.
    pub text: String,
    /// Its top-level forms (empty when the text does not parse as
    /// s-expressions; loading then reports why).
    pub forms: Vec<Form>,
}

impl Unit {
    /// A unit; its forms are found here.
    pub fn new(name: impl Into<String>, origin: Origin, text: impl Into<String>) -> Unit {
        let text = text.into();
        let forms = sexp::parse(&text)
            .map(|items| items.iter().filter_map(sexp::describe).collect())
            .unwrap_or_default();
        Unit {
            name: name.into(),
            origin,
            text,
            forms,
        }
    }
}

/// A form's place: unit index and form index.
pub type Place = (usize, usize);

/// Units assembled into sources.
pub struct Assembly {
    /// The sources to load: one file per unit, in order, then the
    /// synthetic unit when there is one.
    pub sources: SourceMap,
    /// Per unit, whether each form is live (not replaced by a later one).
    pub live: Vec<Vec<bool>>,
    /// Replacements: the earlier form and the one that replaced it.
    pub replaced: Vec<(Place, Place)>,
}

/// The name of the synthetic unit that defines undefined terms.
pub const STUBS: &str = "<undefined terms>";

/// Assembles units into the sources of one program.
pub fn assemble(units: &[Unit]) -> Assembly {
    let mut latest: HashMap<&Key, Place> = HashMap::new();
    let mut replaced = Vec::new();
    for (u, unit) in units.iter().enumerate() {
        for (f, form) in unit.forms.iter().enumerate() {
            if let Some(k) = &form.key {
                if let Some(old) = latest.insert(k, (u, f)) {
                    replaced.push((old, (u, f)));
                }
            }
        }
    }
    let mut live: Vec<Vec<bool>> = units.iter().map(|u| vec![true; u.forms.len()]).collect();
    for ((u, f), _) in &replaced {
        live[*u][*f] = false;
    }
    let mut sources = SourceMap::new();
    for (u, unit) in units.iter().enumerate() {
        let mut text = unit.text.clone();
        for (f, form) in unit.forms.iter().enumerate() {
            if !live[u][f] {
                text = blank(&text, form.range.clone());
            }
        }
        // Only a shipped unit is the semantics, whatever a file's path.
        let mut file = SourceFile::new(unit.name.clone(), text);
        file.semantics = matches!(unit.origin, Origin::Shipped);
        sources.add(file);
    }
    let stubs = stubs(units, &live);
    if !stubs.is_empty() {
        sources.add(SourceFile::new(STUBS, stubs));
    }
    Assembly {
        sources,
        live,
        replaced,
    }
}

/// `text` with the bytes of `range` turned into spaces, line breaks kept.
fn blank(text: &str, range: std::ops::Range<usize>) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for b in &mut bytes[range] {
        if *b != b'\n' && *b != b'\r' {
            *b = b' ';
        }
    }
    // Only whole forms are blanked, and forms start and end at ASCII
    // parentheses, so the text stays UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// `extern constructor`s for the declared terms that nothing defines.
fn stubs(units: &[Unit], live: &[Vec<bool>]) -> String {
    let mut declared = BTreeSet::new();
    let mut defined = HashSet::new();
    for (u, unit) in units.iter().enumerate() {
        for (f, form) in unit.forms.iter().enumerate() {
            if !live[u][f] {
                continue;
            }
            match (form.head.as_str(), &form.key, &form.subject) {
                ("decl", Some(k), _) => {
                    declared.insert(k.name.as_str());
                }
                ("rule" | "extractor" | "extern", _, Some(s)) => {
                    defined.insert(s.as_str());
                }
                _ => {}
            }
        }
    }
    declared
        .into_iter()
        .filter(|d| !defined.contains(d))
        .map(|d| format!("(extern constructor {d} {d})\n"))
        .collect()
}

/// The live forms of an assembly, each identified by its atoms (so that
/// whitespace and comments do not count as changes).
fn live_forms<'a>(
    units: &'a [Unit],
    live: &[Vec<bool>],
) -> impl Iterator<Item = (Place, &'a Form, String)> + 'a {
    let live = live.to_vec();
    units.iter().enumerate().flat_map(move |(u, unit)| {
        let live = live[u].clone();
        unit.forms
            .iter()
            .enumerate()
            .filter(move |(f, _)| live[*f])
            .map(move |(f, form)| ((u, f), form, form.normalized.clone()))
    })
}

/// The rule forms of `new` that a change from `old` may affect: rules that
/// are new or changed, and rules that mention (directly, or through
/// declarations, specs, macros, types or `(veri chain)` rules that do)
/// anything that changed. `chained` says whether a term is `(veri chain)`:
/// such a term's rules are inlined in the rules that call it.
pub fn affected(
    old: Option<(&[Unit], &[Vec<bool>])>,
    new: &[Unit],
    new_live: &[Vec<bool>],
    chained: &dyn Fn(&str) -> bool,
) -> Vec<Place> {
    let before: HashMap<String, usize> = match old {
        Some((units, live)) => {
            let mut m = HashMap::new();
            for (_, _, text) in live_forms(units, live) {
                *m.entry(text).or_insert(0) += 1;
            }
            m
        }
        None => HashMap::new(),
    };
    let now: Vec<(Place, &Form, String)> = live_forms(new, new_live).collect();
    let mut after: HashMap<&str, usize> = HashMap::new();
    for (_, _, text) in &now {
        *after.entry(text.as_str()).or_insert(0) += 1;
    }
    // The names whose meaning changed: what a changed form is about.
    let mut changed: HashSet<String> = HashSet::new();
    // What a changed form is about. An `attr` is about its target: the term
    // (`(attr ch (veri chain))` changes how every call of `ch` is checked)
    // or the rule (`(attr rule hi (veri priority))`), not its whole text.
    // A `convert` is about its two types: rules apply the conversion
    // without naming it, wherever a term of one type meets the other
    // (changing `put_in_reg`'s spec changes every rule that passes an IR
    // value where a register is taken).
    let subject = |f: &Form| -> Vec<String> {
        if f.head == "attr" {
            let Some(key) = f.key.as_ref() else {
                return Vec::new();
            };
            let words: Vec<&str> = key.name.split_whitespace().collect();
            let target = match words.first() {
                Some(&"rule") => words.get(1),
                first => first,
            };
            return target.map(|t| t.to_string()).into_iter().collect();
        }
        if f.head == "convert" {
            if let Some(key) = &f.key {
                return key.name.split_whitespace().map(str::to_string).collect();
            }
        }
        f.key
            .as_ref()
            .map(|k| k.name.clone())
            .or(f.subject.clone())
            .into_iter()
            .collect()
    };
    let mut picked = Vec::new();
    for (place, form, text) in &now {
        let is_new = before.get(text).copied().unwrap_or(0) < after[text.as_str()];
        if is_new {
            if form.is_rule() {
                picked.push(*place);
                if let Some(root) = &form.subject {
                    if chained(root) {
                        changed.insert(root.clone());
                    }
                }
            } else {
                changed.extend(subject(form));
            }
        }
    }
    if let Some((units, live)) = old {
        let now_texts: HashSet<&str> = now.iter().map(|(_, _, t)| t.as_str()).collect();
        for (_, form, text) in live_forms(units, live) {
            if !now_texts.contains(text.as_str()) {
                if form.is_rule() {
                    changed.extend(form.subject.clone().filter(|r| chained(r)));
                } else {
                    changed.extend(subject(form));
                }
            }
        }
    }
    // Spread the change through what mentions it.
    loop {
        let mut grew = false;
        for (_, form, _) in &now {
            if !form.mentions.iter().any(|m| changed.contains(m)) {
                continue;
            }
            let subjects = if form.is_rule() {
                form.subject
                    .clone()
                    .filter(|r| chained(r))
                    .into_iter()
                    .collect()
            } else {
                subject(form)
            };
            for s in subjects {
                grew |= changed.insert(s);
            }
        }
        if !grew {
            break;
        }
    }
    for (place, form, _) in &now {
        if form.is_rule()
            && !picked.contains(place)
            && form.mentions.iter().any(|m| changed.contains(m))
        {
            picked.push(*place);
        }
    }
    picked.sort();
    picked
}

/// The names (as `loweq verify --rule` takes them) of the program's rules
/// written by the given forms.
pub fn rule_names(program: &Program, units: &[Unit], places: &[Place]) -> Vec<String> {
    let mut names = Vec::new();
    for info in &program.rule_info {
        let FileId(file) = info.span.file;
        let hit = places.iter().any(|&(u, f)| {
            u == file
                && units
                    .get(u)
                    .and_then(|unit| unit.forms.get(f))
                    .is_some_and(|form| form.range.contains(&info.span.start))
        });
        if hit && !names.contains(&info.name) {
            names.push(info.name.clone());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: usize, text: &str) -> Unit {
        Unit::new(format!("<entry {n}>"), Origin::Entry(n), text)
    }

    #[test]
    fn a_later_form_replaces_an_earlier_one_in_place() {
        let units = vec![
            entry(1, "(decl f (u8) u8)\n(rule r (f x) x)"),
            entry(2, "(rule r (f x) 1)"),
        ];
        let a = assemble(&units);
        assert_eq!(a.replaced, vec![((0, 1), (1, 0))]);
        let first = &a.sources.file(FileId(0)).text;
        assert_eq!(first.len(), units[0].text.len());
        assert!(first.starts_with("(decl f (u8) u8)\n  "), "{first:?}");
        assert!(!first.contains("rule"));
        assert_eq!(a.sources.len(), 2, "f has a rule: no stubs");
    }

    #[test]
    fn undefined_terms_get_an_extern_constructor() {
        let a = assemble(&[entry(
            1,
            "(decl f (u8) u8)\n(decl g (u8) u8)\n(rule (g x) x)",
        )]);
        assert_eq!(a.sources.len(), 2);
        assert_eq!(a.sources.file(FileId(1)).text, "(extern constructor f f)\n");
    }

    #[test]
    fn changes_reach_the_rules_that_mention_them() {
        let old = vec![entry(
            1,
            "(spec (h x) (provide (= result x)))\n(rule a (f x) (h x))\n(rule b (f2 x) x)\n(rule c (f3 x) (g x))",
        )];
        let old_live = assemble(&old).live;
        let mut new = old.clone();
        new.push(entry(2, "(spec (h x) (provide (= result #x00)))"));
        let new_live = assemble(&new).live;
        let picked = affected(Some((&old, &old_live)), &new, &new_live, &|_| false);
        assert_eq!(picked, vec![(0, 1)], "only `a` calls `h`");
        // Through a chained term: `c` calls `g`, whose rule calls `h`.
        let mut chained = old.clone();
        chained.push(entry(2, "(rule g1 (g x) (h x))"));
        let chained_live = assemble(&chained).live;
        let mut next = chained.clone();
        next.push(entry(3, "(spec (h x) (provide (= result #x00)))"));
        let next_live = assemble(&next).live;
        let picked = affected(Some((&chained, &chained_live)), &next, &next_live, &|t| {
            t == "g"
        });
        assert_eq!(picked, vec![(0, 1), (0, 3), (1, 0)]);
    }
}
