//! Priority and chaining never hide a wrong rule.
//!
//! Property: take a seeded wrong rule (a case of `cases/wrong/` checked
//! against an architecture's shipped semantics) and either
//!
//! - add one shipped rule of that architecture with a higher priority and
//!   `(veri priority)`, or
//! - route one of the wrong rule's operands through a `(veri chain)` helper
//!   that returns it unchanged (a catch-all rule, and a higher-priority rule
//!   that inspects the operand's definition);
//!
//! then every instantiation that had a counterexample still has one: it is
//! never `verified`, `inapplicable` or `shadowed`. (A shipped rule that took
//! every input on which the wrong rule is wrong would legitimately hide it;
//! cranelift-isle rejects a higher-priority rule that is more general, and
//! the shipped rules match narrower forms than the seeded bugs need.)
//! Combinations that do not load (a shipped rule that needs helpers from
//! other rule files, an operand that is not a `Value`) are skipped.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use loweq::run::{self, GroupOutcome, Target};
use loweq::shipped::{self, Arch};
use loweq_verify::{Options, Verdict};
use proptest::prelude::*;

/// A seeded wrong case: its architecture and text.
struct Case {
    name: String,
    arch: Arch,
    text: String,
}

fn wrong_cases() -> Vec<Case> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("cases/wrong");
    let mut cases: Vec<Case> = std::fs::read_dir(&dir)
        .expect("cases/wrong exists")
        .filter_map(|e| {
            let path = e.ok()?.path();
            let text = std::fs::read_to_string(&path).ok()?;
            let arch = text
                .lines()
                .take_while(|l| l.starts_with(";;"))
                .find_map(|l| {
                    match l
                        .trim_start_matches(';')
                        .trim()
                        .strip_prefix("arch:")?
                        .trim()
                    {
                        "x64" => Some(Arch::X64),
                        "aarch64" => Some(Arch::Aarch64),
                        _ => None,
                    }
                })?;
            Some(Case {
                name: path.file_name()?.to_string_lossy().into_owned(),
                arch,
                text,
            })
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

/// The top-level forms of ISLE text, with comments removed.
fn forms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut cur = String::new();
    for line in text.lines() {
        let line = line.split(';').next().unwrap_or("");
        for c in line.chars() {
            if depth == 0 && c != '(' {
                continue;
            }
            cur.push(c);
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        out.push(std::mem::take(&mut cur));
                    }
                }
                _ => {}
            }
        }
        if depth > 0 {
            cur.push(' ');
        }
    }
    out
}

/// The elements of one s-expression form: atoms and sub-forms.
fn elements(form: &str) -> Vec<String> {
    let inner = &form[1..form.len() - 1];
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut cur = String::new();
    for c in inner.chars() {
        match c {
            '(' => {
                depth += 1;
                cur.push(c);
            }
            ')' => {
                depth -= 1;
                cur.push(c);
            }
            c if c.is_whitespace() && depth == 0 => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A rule form's parts: name, priority, pattern, right-hand side.
fn rule_parts(form: &str) -> Option<(Option<String>, i64, String, String)> {
    let els = elements(form);
    if els.first().map(String::as_str) != Some("rule") {
        return None;
    }
    let mut i = 1;
    let name = (!els.get(i)?.starts_with('(') && els[i].parse::<i64>().is_err()).then(|| {
        i += 1;
        els[i - 1].clone()
    });
    let prio = match els.get(i)?.parse::<i64>() {
        Ok(p) => {
            i += 1;
            p
        }
        Err(_) => 0,
    };
    Some((name, prio, els.get(i)?.clone(), els.get(i + 1)?.clone()))
}

/// The shipped rules of `arch`, as forms.
fn shipped_rules(arch: Arch) -> Vec<String> {
    shipped::rules(arch)
        .iter()
        .flat_map(|f| forms(&f.text))
        .filter(|f| rule_parts(f).is_some())
        .collect()
}

/// The verdict of every (rule, instantiation) of `text` against `arch`'s
/// semantics; `None` when it does not load.
fn verdicts(arch: Arch, text: &str) -> Option<Vec<(String, String, Verdict)>> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("loweq-priority-property-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join(format!("case{}.isle", N.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&path, text).ok()?;
    let options = Options {
        jobs: Some(1),
        ..Options::default()
    };
    let run = run::verify(
        &Target::ArchFiles(arch, vec![path.clone()]),
        &options,
        None,
        &|_| {},
    );
    let _ = std::fs::remove_file(&path);
    let run = run.ok()?;
    let mut out = Vec::new();
    for g in &run.groups {
        match &g.outcome {
            GroupOutcome::Rejected(_) => return None,
            GroupOutcome::Verified(_, r) => {
                for (rule, inst) in r.instances() {
                    out.push((rule.name.clone(), inst.label.clone(), inst.verdict));
                }
            }
        }
    }
    Some(out)
}

/// Every counterexample of `base` is still one in `changed`.
fn still_caught(
    what: &str,
    text: &str,
    base: &[(String, String, Verdict)],
    changed: &[(String, String, Verdict)],
) -> Result<(), TestCaseError> {
    for (rule, label, v) in base {
        if *v != Verdict::Counterexample {
            continue;
        }
        let now = changed
            .iter()
            .find(|(r, l, _)| r == rule && l == label)
            .map(|(_, _, v)| *v);
        prop_assert!(
            !matches!(
                now,
                Some(Verdict::Verified | Verdict::Inapplicable | Verdict::Shadowed)
            ),
            "{what}: `{rule}` at {label} went from counterexample to {:?}\n{text}",
            now
        );
    }
    Ok(())
}

fn with_priority_rule(case: &Case, shipped_rule: &str) -> Option<String> {
    let (name, _, pattern, rhs) = rule_parts(shipped_rule)?;
    let top = forms(&case.text)
        .iter()
        .filter_map(|f| rule_parts(f))
        .map(|(_, p, _, _)| p)
        .max()
        .unwrap_or(0);
    let name = format!("prop_{}", name.unwrap_or_else(|| "shipped".into()));
    Some(format!(
        "{}\n(rule {name} {} {pattern}\n      {rhs})\n(attr rule {name} (veri priority))\n",
        case.text,
        top + 1
    ))
}

/// Routes the `nth` variable of the first rule's right-hand side that the
/// pattern binds through a pass-through chained helper.
fn with_routed_operand(case: &Case, nth: usize, inspecting: bool) -> Option<String> {
    let all = forms(&case.text);
    let (index, (name, prio, pattern, rhs)) = all
        .iter()
        .enumerate()
        .find_map(|(i, f)| Some((i, rule_parts(f)?)))?;
    let bound: Vec<String> = pattern
        .split(|c: char| c == '(' || c == ')' || c.is_whitespace())
        .filter(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .filter(|t| t.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
        .map(str::to_string)
        .collect();
    let tokens: Vec<&str> = rhs
        .split(|c: char| c == '(' || c == ')' || c.is_whitespace())
        .filter(|t| bound.iter().any(|b| b == t))
        .collect();
    let var = *tokens.get(nth % tokens.len().max(1))?;
    // Replace whole tokens only.
    let mut routed = String::new();
    let mut word = String::new();
    for c in rhs.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$' {
            word.push(c);
            continue;
        }
        if word == var {
            routed.push_str(&format!("(prop_route {word})"));
        } else {
            routed.push_str(&word);
        }
        word.clear();
        routed.push(c);
    }
    let routed = routed.trim_end().to_string();
    let name = name.map(|n| format!("{n} ")).unwrap_or_default();
    let mut out = String::new();
    for (i, f) in all.iter().enumerate() {
        if i == index {
            out.push_str(&format!("(rule {name}{prio} {pattern} {routed})\n"));
        } else {
            out.push_str(f);
            out.push('\n');
        }
    }
    out.push_str("(decl prop_route (Value) Value)\n(attr prop_route (veri chain))\n");
    out.push_str("(rule prop_route_any (prop_route v) v)\n");
    if inspecting {
        out.push_str("(rule prop_route_add 1 (prop_route v @ (iadd _ _)) v)\n");
    }
    Some(out)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 16,
        max_global_rejects: 4096,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn priority_and_chaining_never_hide_a_wrong_rule(
        pick in any::<prop::sample::Index>(),
        other in any::<prop::sample::Index>(),
        route in any::<bool>(),
        inspecting in any::<bool>(),
    ) {
        let cases = wrong_cases();
        prop_assume!(!cases.is_empty());
        let case = &cases[pick.index(cases.len())];
        let Some(base) = verdicts(case.arch, &case.text) else {
            return Err(TestCaseError::fail(format!("{} does not load alone", case.name)));
        };
        prop_assume!(base.iter().any(|(_, _, v)| *v == Verdict::Counterexample));
        let (what, text) = if route {
            let text = with_routed_operand(case, other.index(8), inspecting);
            (format!("{} with an operand routed through a chained helper", case.name), text)
        } else {
            let rules = shipped_rules(case.arch);
            let rule = &rules[other.index(rules.len())];
            (
                format!("{} with a shipped rule given priority", case.name),
                with_priority_rule(case, rule),
            )
        };
        let Some(text) = text else { return Err(TestCaseError::reject("no transformation")) };
        let Some(changed) = verdicts(case.arch, &text) else {
            return Err(TestCaseError::reject("does not load"));
        };
        still_caught(&what, &text, &base, &changed)?;
    }
}
