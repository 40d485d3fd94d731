//! The overlap check: rules of one term and one priority must not both
//! match an input, and a higher-priority rule must not take every input of
//! a lower-priority one that is more constrained than it.
//!
//! cranelift-isle's own check (`cranelift_isle::overlap::check`) asks
//! [`Rule::may_overlap`] of every pair of a term's rules, which takes
//! minutes for a term with tens of thousands of rules. This check asks
//! the same question of the same rule sets and reports the same errors,
//! but first splits each term's rules into groups by the constraint they
//! put on one binding site (the first argument must be the constant 3, or
//! the enum variant `A`): two rules with different constraints at one
//! site cannot both match, so only rules within a group are compared. A
//! rule that leaves the site unconstrained goes into every group. Sites
//! are taken in the order of how well they split a sample of the rules
//! (a site every rule constrains alike splits nothing), and a group
//! is split again at the next site while that pays; the pairs left are
//! compared as cranelift-isle compares them. Time is about linear in the
//! number of rules when their patterns tell them apart, and quadratic
//! only where they do not (where overlap errors are likely anyway).

use std::collections::{BTreeSet, HashMap, HashSet};

use cranelift_isle::error::{Error, Span};
use cranelift_isle::lexer::Pos;
use cranelift_isle::sema::{TermEnv, TermId, TermKind};
use cranelift_isle::trie_again::{self, Binding, BindingId, Constraint, Overlap, Rule, RuleSet};

/// Groups at most this large are compared pair by pair.
const SMALL: usize = 16;
/// How many sites one group tries before it is compared pair by pair.
const TRIES: usize = 8;
/// How many rules of a term are sampled to rank its sites.
const SAMPLE: usize = 256;

/// Builds cranelift-isle's rule sets and checks them for overlap; the
/// errors are those `cranelift_isle::overlap::check` gives.
pub fn check(terms: &TermEnv) -> Result<Vec<(TermId, RuleSet)>, Vec<Error>> {
    let (sets, mut errors) = trie_again::build(terms);
    let mut found = Found::default();
    for (term, set) in &sets {
        let multi = match &terms.terms[term.index()].kind {
            TermKind::Decl { flags, .. } => flags.multi,
            _ => false,
        };
        // A multi-constructor returns every match, so overlap is fine.
        if multi {
            continue;
        }
        for (a, b) in candidate_pairs(set) {
            found.pair(&set.rules[a], &set.rules[b]);
        }
    }
    errors.extend(found.errors());
    if errors.is_empty() {
        Ok(sets)
    } else {
        Err(errors)
    }
}

/// The pairs `(a, b)`, `a < b`, of rules of `set` that the split into
/// groups cannot tell apart: every pair that may overlap is among them.
pub fn candidate_pairs(set: &RuleSet) -> Vec<(usize, usize)> {
    let sites = ranked_sites(set);
    let mut pairs = HashSet::new();
    let all: Vec<usize> = (0..set.rules.len()).collect();
    split(&set.rules, &sites, 0, all, &mut pairs);
    let mut pairs: Vec<_> = pairs.into_iter().collect();
    pairs.sort_unstable();
    pairs
}

/// The binding sites a pattern can constrain, those that split a sample
/// of the rules best first: the fewest pairs left within the parts, as
/// [`split`] counts them. A site that every rule constrains alike (the
/// opcode of a term whose rules all match one instruction) splits
/// nothing and comes last, however many rules constrain it. Expressions
/// (constants, constructor calls, values built on the right-hand side)
/// are left out: they are rarely matched, and there is one per
/// right-hand side.
fn ranked_sites(set: &RuleSet) -> Vec<BindingId> {
    let step = set.rules.len().div_ceil(SAMPLE).max(1);
    let sample: Vec<&Rule> = set.rules.iter().step_by(step).collect();
    let mut ranked: Vec<(usize, usize, BindingId)> = set
        .bindings
        .iter()
        .enumerate()
        .filter(|(_, b)| {
            matches!(
                b,
                Binding::Argument { .. }
                    | Binding::Extractor { .. }
                    | Binding::Iterator { .. }
                    | Binding::MatchVariant { .. }
                    | Binding::ExtractStruct { .. }
                    | Binding::MatchSome { .. }
                    | Binding::MatchTuple { .. }
            )
        })
        .filter_map(|(i, _)| BindingId::try_from(i).ok())
        .filter_map(|site| {
            let mut by: HashMap<Constraint, usize> = HashMap::new();
            let mut wild = 0;
            for r in &sample {
                match r.get_constraint(site) {
                    Some(c) => *by.entry(c).or_default() += 1,
                    None => wild += 1,
                }
            }
            let constrained = sample.len() - wild;
            if constrained == 0 {
                return None;
            }
            let left: usize = if by.len() < 2 {
                pairs_of(sample.len())
            } else {
                by.values().map(|&g| pairs_of(g + wild)).sum()
            };
            Some((left, constrained, site))
        })
        .collect();
    ranked.sort_by_key(|&(left, n, site)| (left, std::cmp::Reverse(n), site));
    ranked.into_iter().map(|(_, _, site)| site).collect()
}

/// The pairs among `n` rules.
fn pairs_of(n: usize) -> usize {
    n * n.saturating_sub(1) / 2
}

/// Splits `group` at the first site from `next` on that pays, and
/// recurses; compares the rest pair by pair.
fn split(
    rules: &[Rule],
    sites: &[BindingId],
    next: usize,
    group: Vec<usize>,
    pairs: &mut HashSet<(usize, usize)>,
) {
    if group.len() > SMALL {
        for (k, &site) in sites.iter().enumerate().skip(next).take(TRIES) {
            let mut by: HashMap<Constraint, Vec<usize>> = HashMap::new();
            let mut wild = Vec::new();
            for &r in &group {
                match rules[r].get_constraint(site) {
                    Some(c) => by.entry(c).or_default().push(r),
                    None => wild.push(r),
                }
            }
            // The work left: the pairs within each part, the rules that
            // leave the site open being in every part.
            let left: usize = by.values().map(|g| pairs_of(g.len() + wild.len())).sum();
            if by.len() < 2 || left * 4 > pairs_of(group.len()) * 3 {
                continue;
            }
            let mut parts: Vec<Vec<usize>> = by.into_values().collect();
            parts.sort_unstable();
            for mut part in parts {
                part.extend(&wild);
                part.sort_unstable();
                split(rules, sites, k + 1, part, pairs);
            }
            return;
        }
    }
    for (i, &a) in group.iter().enumerate() {
        for &b in &group[i + 1..] {
            pairs.insert((a.min(b), a.max(b)));
        }
    }
}

/// What the pairs compared showed.
#[derive(Default)]
struct Found {
    /// Same-priority rules that may overlap, both ways.
    overlaps: HashMap<Pos, BTreeSet<Pos>>,
    /// A higher-priority rule, and the more constrained lower-priority
    /// rules it takes every input of.
    shadows: HashMap<Pos, Vec<Pos>>,
}

impl Found {
    fn pair(&mut self, a: &Rule, b: &Rule) {
        let Overlap::Yes { subset } = a.may_overlap(b) else {
            return;
        };
        if a.prio == b.prio {
            self.overlaps.entry(a.pos).or_default().insert(b.pos);
            self.overlaps.entry(b.pos).or_default().insert(a.pos);
        } else if subset {
            let (low, high) = if a.prio < b.prio { (a, b) } else { (b, a) };
            if high.total_constraints() <= low.total_constraints() {
                self.shadows.entry(high.pos).or_default().push(low.pos);
            }
        }
    }

    /// One error per rule that overlaps most (with the rules it overlaps),
    /// until no overlap is left unreported; one per shadowing rule; in
    /// source order.
    fn errors(mut self) -> Vec<Error> {
        let mut out = Vec::new();
        while let Some(pos) = self
            .overlaps
            .iter()
            .max_by_key(|(pos, with)| (with.len(), **pos))
            .map(|(pos, _)| *pos)
        {
            let with = self.overlaps.remove(&pos).unwrap_or_default();
            for other in &with {
                if let Some(back) = self.overlaps.get_mut(other) {
                    back.remove(&pos);
                    if back.is_empty() {
                        self.overlaps.remove(other);
                    }
                }
            }
            let mut rules = vec![Span::new_single(pos)];
            rules.extend(with.into_iter().map(Span::new_single));
            out.push(Error::OverlapError {
                msg: "rules are overlapping".into(),
                rules,
            });
        }
        for (mask, mut shadowed) in self.shadows {
            shadowed.sort();
            out.push(Error::ShadowedError {
                shadowed: shadowed.into_iter().map(Span::new_single).collect(),
                mask: Span::new_single(mask),
            });
        }
        out.sort_by_key(|e| match e {
            Error::ShadowedError { mask, .. } => mask.from,
            Error::OverlapError { rules, .. } => rules[0].from,
            _ => Pos::default(),
        });
        out
    }
}
