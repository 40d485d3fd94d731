//! Loading ISLE with cranelift-isle: lexing, parsing, its semantic analysis
//! (`TypeEnv`, `TermEnv`) and its overlap check, with every error turned
//! into a [`Diagnostic`] with a span.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use cranelift_isle::ast::Def;
use cranelift_isle::error::Error as IsleError;
use cranelift_isle::lexer::{Lexer, Pos};
use std::collections::{HashMap, HashSet};

use cranelift_isle::sema::{Pattern, RuleId, TermEnv, TermId, TypeEnv};
use loweq_semantics::span::{FileId, SourceMap, Span};

use crate::diag::Diagnostic;
use crate::program::Template;

/// The span of the form starting at a cranelift-isle position.
pub fn pos_span(sources: &SourceMap, pos: Pos) -> Span {
    if pos.file >= sources.len() {
        return Span::default();
    }
    sources.form_span(FileId(pos.file), pos.offset)
}

thread_local! {
    /// Set while [`guard`] runs cranelift-isle on this thread.
    static GUARDED: Cell<bool> = const { Cell::new(false) };
}

/// Installs, once, a panic hook that stays silent for panics inside
/// [`guard`] (they become diagnostics; their raw text must not reach the
/// terminal) and defers to the previous hook for every other panic.
fn silence_guarded_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !GUARDED.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, turning a panic inside cranelift-isle into a diagnostic: the
/// front end must never crash on user input.
pub(crate) fn guard<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, Diagnostic> {
    silence_guarded_panics();
    let outer = GUARDED.with(|g| g.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(outer));
    result.map_err(|payload| {
        let detail = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Diagnostic::global(format!(
            "internal error: cranelift-isle crashed during {what}"
        ))
        .with_note(detail)
        .with_note("this is a bug; please report it with the input that caused it")
    })
}

/// Parses every file; returns the definitions of all files that parsed and
/// one diagnostic per file that did not.
pub fn parse(sources: &SourceMap) -> (Vec<Def>, Vec<Diagnostic>) {
    let mut defs = Vec::new();
    let mut diags = Vec::new();
    for (id, file) in sources.files() {
        // cranelift-isle's parser recurses once per level of nesting.
        if let Some(d) = crate::limits::check_nesting(sources, id) {
            diags.push(d);
            continue;
        }
        let parsed = guard("parsing", || {
            let lexer = Lexer::new(id.0, &file.text)?;
            cranelift_isle::parser::parse(lexer)
        });
        match parsed {
            Ok(Ok(mut ds)) => defs.append(&mut ds),
            Ok(Err(err)) => diags.push(crate::parse_error::unclosed_or(
                sources,
                id,
                isle_error(sources, err),
            )),
            Err(d) => diags.push(d),
        }
    }
    (defs, diags)
}

/// What cranelift-isle's analysis gives the spec pass.
pub struct Analysis {
    /// The type environment.
    pub types: TypeEnv,
    /// The term environment the verifier reads (see [`analyze`]).
    pub terms: TermEnv,
    /// The expansion of every extractor macro that has a spec.
    pub templates: HashMap<TermId, Template>,
    /// `(lower, higher)`: rule `higher`, of higher priority and marked
    /// `(veri priority)`, may match an input that rule `lower` matches.
    pub overlaps: Vec<(RuleId, RuleId)>,
}

/// Runs cranelift-isle's semantic analysis and overlap check.
///
/// The overlap check sees the rules as the generated instruction selector
/// will: with extractor macros expanded. Verification sees extractor macros
/// that have a spec as terms (so that `iadd`, a macro over `inst_data`, is
/// checked through its spec) and expands the others; that is the
/// environment returned. The expansion of each macro with a spec, one level
/// deep and resolved by cranelift-isle in that same environment, comes with
/// it: it is what decides whether the generated code matches (see
/// [`Template`]). `stage` is told as the analysis and the overlap check
/// start.
pub fn analyze(
    sources: &SourceMap,
    defs: &[Def],
    stage: &dyn Fn(crate::Stage),
) -> Result<Analysis, Vec<Diagnostic>> {
    let convert = |errs: Vec<IsleError>| {
        errs.into_iter()
            .map(|e| isle_error(sources, e))
            .collect::<Vec<_>>()
    };
    let sema = |expand: bool, defs: &[Def]| -> Result<(TypeEnv, TermEnv), Vec<Diagnostic>> {
        let mut types = guard("type analysis", || TypeEnv::from_ast(defs))
            .map_err(|d| vec![d])?
            .map_err(convert)?;
        let terms = guard("term analysis", || {
            TermEnv::from_ast(&mut types, defs, expand)
        })
        .map_err(|d| vec![d])?
        .map_err(convert)?;
        Ok((types, terms))
    };
    stage(crate::Stage::Analysing);
    let (expanded_types, expanded) = sema(true, defs)?;
    stage(crate::Stage::Overlaps);
    let rule_sets = guard("the overlap check", || crate::overlap::check(&expanded))
        .map_err(|d| vec![isle_limit(sources, &expanded_types, &expanded, d)])?
        .map_err(convert)?;
    // Only the rule sets of terms with a `(veri priority)` rule are read
    // again; the rest, and the expanded environment, go before the second
    // analysis (for 20 MB of rules they are a gigabyte).
    let marked = priority_marked(defs);
    let rule_sets = with_marked_rules(rule_sets, &marked, &expanded_types, &expanded);
    drop(expanded);
    drop(expanded_types);
    // The probes of the macro expansions go last, so that every other rule
    // has the id it has without them; their rules are removed once read.
    let probes = template_probes(defs);
    let with_probes = {
        let mut with_probes = defs.to_vec();
        with_probes.extend(probes.iter().flat_map(|p| p.defs.iter().cloned()));
        guard("extractor expansion", || {
            expand_unspecified_extractors(sources, &with_probes)
        })
        .map_err(|d| vec![d])?
        .map_err(|d| vec![d])?
    };
    stage(crate::Stage::Analysing);
    let (types, mut terms) = sema(false, &with_probes)?;
    drop(with_probes);
    let templates = read_templates(sources, &types, &terms, &probes);
    remove_probes(&types, &mut terms, &probes);
    let overlaps = priority_overlaps(&marked, &types, &terms, &rule_sets);
    Ok(Analysis {
        types,
        terms,
        templates,
        overlaps,
    })
}

/// A synthetic rule that makes cranelift-isle resolve one level of a
/// macro's expansion: `(probe (and in BODY))`, where `BODY` is the macro's
/// body with `a0`, `a1`, ... in place of its parameters. It is resolved in
/// the verification environment, so the macros with specs in the body stay
/// terms (`(iadd a0 (ishl a1 a2))`): each is modelled through its own spec
/// and expansion where the template is walked.
struct Probe {
    /// The probe's name.
    name: String,
    /// The macro.
    term: String,
    /// Its arity.
    arity: usize,
    /// Its parameters' names.
    params: Vec<String>,
    /// The synthetic `decl` and `rule`.
    defs: Vec<Def>,
}

const PROBE_PREFIX: &str = "__loweq_template_";

fn probe_arg(i: usize) -> String {
    format!("__loweq_a{i}")
}

fn template_probes(defs: &[Def]) -> Vec<Probe> {
    use cranelift_isle::ast::{Decl, Expr, Ident, Pattern, Rule};
    let specified: HashSet<&str> = defs
        .iter()
        .filter_map(|d| match d {
            Def::Spec(s) => Some(s.term.0.as_str()),
            _ => None,
        })
        .collect();
    let decls: HashMap<&str, &Decl> = defs
        .iter()
        .filter_map(|d| match d {
            Def::Decl(decl) => Some((decl.term.0.as_str(), decl)),
            _ => None,
        })
        .collect();
    let mut probes = Vec::new();
    for d in defs {
        let Def::Extractor(ex) = d else { continue };
        let term = ex.term.0.as_str();
        let Some(decl) = decls.get(term) else {
            continue;
        };
        if !specified.contains(term) || decl.arg_tys.len() != ex.args.len() {
            continue;
        }
        let pos = ex.pos;
        let name = format!("{PROBE_PREFIX}{term}");
        let ident = |s: &str| Ident(s.to_string(), pos);
        let input = "__loweq_in";
        let args: Vec<Pattern> = (0..ex.args.len())
            .map(|i| Pattern::Var {
                var: ident(&probe_arg(i)),
                pos,
            })
            .collect();
        let Some(body) = ex
            .template
            .make_macro_template(&ex.args)
            .subst_macro_args(&args)
        else {
            continue;
        };
        let pattern = Pattern::Term {
            sym: ident(&name),
            args: vec![Pattern::And {
                subpats: vec![
                    Pattern::Var {
                        var: ident(input),
                        pos,
                    },
                    body,
                ],
                pos,
            }],
            pos,
        };
        probes.push(Probe {
            name: name.clone(),
            term: term.to_string(),
            arity: ex.args.len(),
            params: ex.args.iter().map(|a| a.0.clone()).collect(),
            defs: vec![
                Def::Decl(Decl {
                    term: ident(&name),
                    arg_tys: vec![decl.ret_ty.clone()],
                    ret_ty: decl.ret_ty.clone(),
                    pure: false,
                    multi: false,
                    partial: false,
                    rec: false,
                    pos,
                }),
                Def::Rule(Rule {
                    pattern,
                    iflets: vec![],
                    expr: Expr::Var {
                        name: ident(input),
                        pos,
                    },
                    pos,
                    prio: None,
                    name: None,
                }),
            ],
        });
    }
    probes
}

fn probe_id(types: &TypeEnv, terms: &TermEnv, name: &str) -> Option<TermId> {
    terms.get_term_by_name(
        types,
        &cranelift_isle::ast::Ident(name.to_string(), Pos::default()),
    )
}

/// Reads each probe's resolved pattern back as the macro's [`Template`].
fn read_templates(
    sources: &SourceMap,
    types: &TypeEnv,
    terms: &TermEnv,
    probes: &[Probe],
) -> HashMap<TermId, Template> {
    let mut out = HashMap::new();
    for probe in probes {
        let Some(root) = probe_id(types, terms, &probe.name) else {
            continue;
        };
        let Some(rule) = terms.rules.iter().find(|r| r.root_term == root) else {
            continue;
        };
        let Some(Pattern::And(_, parts)) = rule.args.first() else {
            continue;
        };
        let Some(pattern) = parts.get(1).cloned() else {
            continue;
        };
        let Some(macro_id) = probe_id(types, terms, &probe.term) else {
            continue;
        };
        let args = (0..probe.arity)
            .map(|i| {
                let name = probe_arg(i);
                rule.vars
                    .iter()
                    .find(|v| types.syms[v.name.index()] == name)
                    .map(|v| v.id)
            })
            .collect();
        // The probe's variables at the parameters are named as the macro
        // names them.
        let names = rule
            .vars
            .iter()
            .map(|v| {
                let name = &types.syms[v.name.index()];
                (0..probe.arity)
                    .find(|&i| *name == probe_arg(i))
                    .map_or_else(|| name.clone(), |i| probe.params[i].clone())
            })
            .collect();
        out.insert(
            macro_id,
            Template {
                pattern,
                args,
                vars: rule.vars.len(),
                names,
                span: crate::pass::rule_span(sources, rule.pos),
            },
        );
    }
    out
}

/// Removes the probes' rules, which come after every other rule. Their
/// terms stay (a term id is an index, and cranelift-isle numbers enum
/// variants after every declared term); nothing refers to them.
fn remove_probes(types: &TypeEnv, terms: &mut TermEnv, probes: &[Probe]) {
    let ids: HashSet<TermId> = probes
        .iter()
        .filter_map(|p| probe_id(types, terms, &p.name))
        .collect();
    if let Some(first) = terms.rules.iter().position(|r| ids.contains(&r.root_term)) {
        debug_assert!(terms.rules[first..]
            .iter()
            .all(|r| ids.contains(&r.root_term)));
        terms.rules.truncate(first);
    }
}

/// The names of the rules marked `(veri priority)`.
fn priority_marked(defs: &[Def]) -> HashSet<String> {
    use cranelift_isle::ast::{AttrKind, AttrTarget};
    defs.iter()
        .filter_map(|d| match d {
            Def::Attr(a) if a.kinds.contains(&AttrKind::Priority) => match &a.target {
                AttrTarget::Rule(name) => Some(name.0.clone()),
                AttrTarget::Term(_) => None,
            },
            _ => None,
        })
        .collect()
}

/// The rule sets of the terms that have a rule named in `marked`.
fn with_marked_rules(
    mut rule_sets: Vec<(TermId, cranelift_isle::trie_again::RuleSet)>,
    marked: &HashSet<String>,
    types: &TypeEnv,
    terms: &TermEnv,
) -> Vec<(TermId, cranelift_isle::trie_again::RuleSet)> {
    if marked.is_empty() {
        return Vec::new();
    }
    let at: HashSet<Pos> = terms
        .rules
        .iter()
        .filter(|r| {
            r.name
                .is_some_and(|sym| marked.contains(&types.syms[sym.index()]))
        })
        .map(|r| r.pos)
        .collect();
    rule_sets.retain(|(_, set)| set.rules.iter().any(|r| at.contains(&r.pos)));
    rule_sets
}

/// The pairs of rules of one term where the higher-priority one is marked
/// `(veri priority)` and cranelift-isle's overlap analysis says both may
/// match one input.
fn priority_overlaps(
    marked: &HashSet<String>,
    types: &TypeEnv,
    terms: &TermEnv,
    rule_sets: &[(TermId, cranelift_isle::trie_again::RuleSet)],
) -> Vec<(RuleId, RuleId)> {
    use cranelift_isle::trie_again::Overlap;
    if marked.is_empty() {
        return Vec::new();
    }
    let by_pos: HashMap<Pos, RuleId> = terms.rules.iter().map(|r| (r.pos, r.id)).collect();
    let mut out = Vec::new();
    for (_, set) in rule_sets {
        let rules: Vec<_> = set
            .rules
            .iter()
            .filter_map(|r| by_pos.get(&r.pos).map(|&id| (id, r)))
            .collect();
        for &(hid, high) in &rules {
            let is_marked = terms.rules[hid.index()]
                .name
                .is_some_and(|sym| marked.contains(types.syms[sym.index()].as_str()));
            if !is_marked {
                continue;
            }
            for &(lid, low) in &rules {
                if low.prio < high.prio && !matches!(low.may_overlap(high), Overlap::No) {
                    out.push((lid, hid));
                }
            }
        }
    }
    out.sort();
    out
}

/// cranelift-isle's rule trie numbers the values a term's rules bind with
/// 16 bits and the fields of a tuple with 8; past that it panics on an
/// integer conversion. Says which limit a crash of the overlap check most
/// likely is, and where.
fn isle_limit(
    sources: &SourceMap,
    types: &TypeEnv,
    terms: &TermEnv,
    crash: Diagnostic,
) -> Diagnostic {
    if !crash.notes.iter().any(|n| n.contains("TryFromIntError")) {
        return crash;
    }
    let name = |t: &cranelift_isle::sema::Term| types.syms[t.name.index()].clone();
    if let Some(t) = terms.terms.iter().find(|t| t.arg_tys.len() > 255) {
        return Diagnostic::new(
            format!(
                "term `{}` has {} arguments; cranelift-isle allows at most 255",
                name(t),
                t.arg_tys.len()
            ),
            pos_span(sources, t.decl_pos),
        );
    }
    let mut counts = vec![0usize; terms.terms.len()];
    for r in &terms.rules {
        counts[r.root_term.index()] += 1;
    }
    let Some((busiest, &rules)) = counts.iter().enumerate().max_by_key(|(_, &n)| n) else {
        return crash;
    };
    let t = &terms.terms[busiest];
    Diagnostic::new(
        format!(
            "too many rules for one term: the {rules} rules of `{}` bind more than 65536 distinct values, the most cranelift-isle's rule trie can number",
            name(t)
        ),
        pos_span(sources, t.decl_pos),
    )
    .with_label("the term with the most rules")
    .with_note("split the rules over several terms (a helper term per group), or share constants between them")
}

/// How deep extractor macros may nest in one another.
const EXTRACTOR_DEPTH: usize = 32;

/// Expands, in rule patterns, the extractor macros that have no spec: the
/// verifier reasons about a macro with a spec through its spec, and about
/// one without through what it expands to. A pattern that grows deeper
/// than [`crate::limits::MAX_PATTERN_DEPTH`] is an error at its rule.
fn expand_unspecified_extractors(
    sources: &SourceMap,
    defs: &[Def],
) -> Result<Vec<Def>, Diagnostic> {
    use cranelift_isle::ast::{Extractor, Pattern};
    let specified: HashSet<&str> = defs
        .iter()
        .filter_map(|d| match d {
            Def::Spec(s) => Some(s.term.0.as_str()),
            _ => None,
        })
        .collect();
    let macros: HashMap<&str, Pattern> = defs
        .iter()
        .filter_map(|d| match d {
            Def::Extractor(Extractor {
                term,
                args,
                template,
                ..
            }) if !specified.contains(term.0.as_str()) => {
                Some((term.0.as_str(), template.make_macro_template(args)))
            }
            _ => None,
        })
        .collect();
    /// Expands `p`, which sits `nesting` levels deep in its rule, inside
    /// `depth` macro expansions; `Err` names the macro whose expansion
    /// went too deep.
    fn expand(
        p: &Pattern,
        macros: &HashMap<&str, Pattern>,
        depth: usize,
        nesting: usize,
    ) -> Result<Pattern, String> {
        let limit = crate::limits::MAX_PATTERN_DEPTH;
        Ok(match p {
            Pattern::Term { sym, args, pos } => {
                if nesting > limit {
                    return Err(sym.0.clone());
                }
                let args = args
                    .iter()
                    .map(|a| expand(a, macros, depth, nesting + 1))
                    .collect::<Result<Vec<Pattern>, String>>()?;
                if depth < EXTRACTOR_DEPTH {
                    if let Some(template) = macros.get(sym.0.as_str()) {
                        if let Some(e) = template.subst_macro_args(&args) {
                            return expand(&e, macros, depth + 1, nesting)
                                .map_err(|_| sym.0.clone());
                        }
                    }
                }
                Pattern::Term {
                    sym: sym.clone(),
                    args,
                    pos: *pos,
                }
            }
            Pattern::BindPattern { var, subpat, pos } => Pattern::BindPattern {
                var: var.clone(),
                subpat: Box::new(expand(subpat, macros, depth, nesting + 1)?),
                pos: *pos,
            },
            Pattern::And { subpats, pos } => Pattern::And {
                subpats: subpats
                    .iter()
                    .map(|s| expand(s, macros, depth, nesting + 1))
                    .collect::<Result<_, _>>()?,
                pos: *pos,
            },
            other => other.clone(),
        })
    }
    defs.iter()
        .map(|d| match d {
            Def::Rule(r) if !macros.is_empty() => {
                let too_deep = |name: String| {
                    Diagnostic::new(
                        format!(
                            "expanding extractor `{name}` makes this rule's pattern nest deeper than {} levels",
                            crate::limits::MAX_PATTERN_DEPTH
                        ),
                        crate::pass::rule_span(sources, r.pos),
                    )
                };
                let mut r = r.clone();
                r.pattern = expand(&r.pattern, &macros, 0, 0).map_err(too_deep)?;
                for il in &mut r.iflets {
                    il.pattern = expand(&il.pattern, &macros, 0, 0).map_err(too_deep)?;
                }
                Ok(Def::Rule(r))
            }
            other => Ok(other.clone()),
        })
        .collect()
}

/// Converts a cranelift-isle error into a diagnostic, improving the messages
/// of the common cases.
pub fn isle_error(sources: &SourceMap, err: IsleError) -> Diagnostic {
    match err {
        IsleError::IoError { context, .. } => Diagnostic::global(context),
        IsleError::ParseError { msg, span } => {
            crate::parse_error::parse_error(sources, &msg, span.from)
        }
        IsleError::TypeError { msg, span } => {
            Diagnostic::new(format!("type error: {msg}"), pos_span(sources, span.from))
        }
        IsleError::UnreachableError { msg, span } => Diagnostic::new(
            format!(
                "unreachable rule: {}",
                crate::parse_error::unreachable_message(&msg)
            ),
            pos_span(sources, span.from),
        )
        .with_label("this rule can never match"),
        IsleError::RecursionError { msg, span } => Diagnostic::new(
            format!("recursion error: {msg}"),
            pos_span(sources, span.from),
        ),
        IsleError::OverlapError { msg, rules } => {
            let mut spans = rules.iter().map(|s| pos_span(sources, s.from));
            let first = spans.next().unwrap_or_default();
            let mut d = Diagnostic::new(format!("rules overlap: {msg}"), first)
                .with_label("this rule")
                .with_note("give one of them a higher priority, or make their patterns disjoint");
            for s in spans {
                d = d.with_secondary(s, "overlaps with this rule");
            }
            d
        }
        IsleError::ShadowedError { shadowed, mask } => {
            let mut d = Diagnostic::new(
                "a more general, higher-priority rule shadows other rules",
                pos_span(sources, mask.from),
            )
            .with_label("this rule always matches first");
            for s in shadowed {
                d = d.with_secondary(pos_span(sources, s.from), "never matches");
            }
            d
        }
    }
}
