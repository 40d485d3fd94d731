//! Sharing one run between the jobs of a CI matrix: `--shard I/N` verifies
//! a deterministic, balanced share of the rules, and `loweq merge` puts
//! the shards' JSON reports back together into the report of the whole.
//!
//! The unit of a share is a rule with all its instantiations: whether a
//! rule is inapplicable or shadowed at *every* instantiation (an error) is
//! decided over all of them, so they stay together. Rules are shared out
//! by their estimated work ([`loweq_verify::estimate`], the size of their
//! queries): the largest first, each to the shard with the least so far.
//! The estimate depends only on the inputs, not on timings or a cache, so
//! every shard computes the same plan on its own machine. Each shard's
//! report carries the plan, which `loweq merge` checks and follows.

use serde::{Deserialize, Serialize};

use crate::doc::{Diag, Doc, Entry};

/// `--shard I/N`: share I (from 1) of N.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which share, from 1.
    pub index: usize,
    /// How many.
    pub count: usize,
}

/// Parses `I/N`.
pub fn parse(s: &str) -> Result<Shard, String> {
    let bad = || format!("expected I/N with 1 <= I <= N, as in `--shard 2/3`; got `{s}`");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let index: usize = i.trim().parse().map_err(|_| bad())?;
    let count: usize = n.trim().parse().map_err(|_| bad())?;
    if count == 0 || index == 0 || index > count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

/// The shard (from 0) of each unit, given their costs: the costliest
/// first (ties in order), each to the shard with the least work so far
/// (ties to the lowest).
pub fn assign(costs: &[u64], count: usize) -> Vec<usize> {
    let count = count.max(1);
    let mut order: Vec<usize> = (0..costs.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(costs[i]), i));
    let mut load = vec![0u64; count];
    let mut owner = vec![0; costs.len()];
    for i in order {
        let least = (0..count).min_by_key(|&s| (load[s], s)).unwrap_or_default();
        owner[i] = least;
        load[least] = load[least].saturating_add(costs[i]);
    }
    owner
}

/// One rule of a sharded run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// Its architecture (`None` for self-contained files).
    pub arch: Option<String>,
    /// The rule.
    pub rule: String,
    /// The shard that verifies it (from 1).
    pub shard: usize,
    /// Its estimated work.
    pub cost: u64,
}

/// The plan of a sharded run, in a shard's report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// This report's share (from 1).
    pub index: usize,
    /// How many shards.
    pub count: usize,
    /// Every rule of the whole run, in report order, with its shard.
    pub rules: Vec<Unit>,
}

impl Plan {
    /// How many rules, and what share of the estimated work, this shard
    /// has.
    pub fn share(&self) -> (usize, f64) {
        let mine = self.rules.iter().filter(|u| u.shard == self.index);
        let (n, work) = mine.fold((0, 0u64), |(n, w), u| (n + 1, w + u.cost));
        let all: u64 = self.rules.iter().map(|u| u.cost).sum();
        (
            n,
            if all == 0 {
                0.0
            } else {
                work as f64 / all as f64
            },
        )
    }
}

/// Merges the reports of the shards of one run (`name`s say which file
/// each came from) into the report of the whole run, as if unsharded.
/// A single report that is not a shard's is returned as it is.
pub fn merge(reports: Vec<(String, Doc)>) -> Result<Doc, String> {
    if reports.is_empty() {
        return Err("no reports to merge".into());
    }
    if reports.len() == 1 && reports[0].1.shard.is_none() {
        return Ok(reports
            .into_iter()
            .next()
            .map(|(_, d)| d)
            .unwrap_or_default());
    }
    let mut plans = Vec::new();
    for (name, d) in &reports {
        match &d.shard {
            Some(p) => plans.push(p),
            None => {
                return Err(format!(
                    "`{name}` is the report of a whole run, not of a shard (--shard I/N): there is nothing to merge it with"
                ))
            }
        }
    }
    let (first_name, first) = (&reports[0].0, plans[0]);
    for ((name, _), p) in reports.iter().zip(&plans).skip(1) {
        if p.count != first.count || p.rules != first.rules {
            return Err(format!(
                "`{name}` and `{first_name}` are shards of different runs: their plans differ (other inputs, options or loweq versions)"
            ));
        }
    }
    let mut by_index: Vec<Option<usize>> = vec![None; first.count];
    for (i, ((name, _), p)) in reports.iter().zip(&plans).enumerate() {
        match by_index.get_mut(p.index - 1) {
            Some(Some(other)) => {
                return Err(format!(
                    "`{name}` and `{}` are both shard {}/{}",
                    reports[*other].0, p.index, p.count
                ))
            }
            Some(slot) => *slot = Some(i),
            None => {
                return Err(format!(
                    "`{name}`: shard {}/{} is out of range",
                    p.index, p.count
                ))
            }
        }
    }
    let missing: Vec<String> = by_index
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| format!("{}/{}", i + 1, first.count))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "missing the report of shard {}",
            missing.join(", ")
        ));
    }
    // Every shard's results are its own rules'.
    for ((name, d), p) in reports.iter().zip(&plans) {
        if let Some(e) = d.results.iter().find(|e| {
            !p.rules
                .iter()
                .any(|u| u.shard == p.index && u.rule == e.rule && u.arch == e.arch)
        }) {
            return Err(format!(
                "`{name}` has results for rule `{}`, which its plan gives to another shard",
                e.rule
            ));
        }
    }
    let mut results: Vec<Entry> = Vec::new();
    for u in &first.rules {
        let Some(owner) = by_index.get(u.shard - 1).copied().flatten() else {
            return Err(format!(
                "the plan gives `{}` to a shard that does not exist",
                u.rule
            ));
        };
        results.extend(
            reports[owner]
                .1
                .results
                .iter()
                .filter(|e| e.rule == u.rule && e.arch == u.arch)
                .cloned(),
        );
    }
    let mut diagnostics: Vec<Diag> = Vec::new();
    for (_, d) in &reports {
        for g in &d.diagnostics {
            if !diagnostics.contains(g) {
                diagnostics.push(g.clone());
            }
        }
    }
    let seconds = reports
        .iter()
        .map(|(_, d)| d.summary.seconds)
        .fold(0.0, f64::max);
    let mut doc = Doc {
        results,
        excluded: reports[0].1.excluded.clone(),
        skipped: reports[0].1.skipped.clone(),
        macros: merge_macros(&reports),
        diagnostics,
        ..Doc::default()
    };
    doc.summary = doc.count(seconds);
    Ok(doc)
}

/// The macro obligations of the shards: one entry per (macro,
/// instantiation), relied on by the rules of every shard that checked it,
/// in the order an unsharded run gives them.
fn merge_macros(reports: &[(String, Doc)]) -> Vec<crate::doc::MacroEntry> {
    let mut out: Vec<crate::doc::MacroEntry> = Vec::new();
    for (_, d) in reports {
        for m in &d.macros {
            let same = |o: &&mut crate::doc::MacroEntry| {
                o.arch == m.arch && o.file == m.file && o.line == m.line && o.label == m.label
            };
            match out.iter_mut().find(|o| same(o)) {
                Some(o) => {
                    for (list, more) in [
                        (&mut o.relied_on_by, &m.relied_on_by),
                        (&mut o.inside, &m.inside),
                    ] {
                        list.extend(
                            more.iter()
                                .filter(|u| !list.contains(u))
                                .cloned()
                                .collect::<Vec<_>>(),
                        );
                        list.sort();
                    }
                }
                None => out.push(m.clone()),
            }
        }
    }
    out.sort_by_key(|m| {
        (
            crate::doc::group_rank(m.arch.as_deref()),
            m.file.clone(),
            m.line,
            crate::doc::widths(&m.label),
        )
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_flags_parse_and_bad_ones_say_why() {
        assert_eq!(parse("2/3"), Ok(Shard { index: 2, count: 3 }));
        for bad in ["0/3", "4/3", "1/0", "a/b", "1", "", "-1/2"] {
            assert!(parse(bad).unwrap_err().contains("expected I/N"), "{bad}");
        }
    }

    #[test]
    fn shares_are_deterministic_and_balanced() {
        let costs = [50, 10, 10, 40, 30, 30, 5, 5, 20, 1];
        let owners = assign(&costs, 3);
        assert_eq!(owners, assign(&costs, 3));
        let mut load = [0u64; 3];
        for (c, o) in costs.iter().zip(&owners) {
            load[*o] += c;
        }
        let (max, min) = (load.iter().max().copied(), load.iter().min().copied());
        // Within the largest unit of each other (the greedy bound).
        assert!(max.zip(min).is_some_and(|(a, b)| a - b <= 50), "{load:?}");
        // More shards than units: some get nothing, none gets two.
        let owners = assign(&[3, 2], 5);
        assert_eq!(owners, vec![0, 1]);
    }
}
