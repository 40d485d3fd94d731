//! Type instantiation: choose one `instantiate` signature for every term
//! occurrence that has them, keep the combinations that width inference
//! accepts, and name each by the signature of the first such occurrence.

use loweq_dsl::{Diagnostic, Program};
use loweq_semantics::infer::{Inference, Mode, TypeError, Typing};
use loweq_semantics::ty::Ty;

use crate::condition::Condition;

/// One type instantiation of a condition.
#[derive(Clone, Debug)]
pub struct Instance {
    /// Its name: `i8`, `i64->i8`, `i8,i64->i8`, or `default` without signatures.
    pub label: String,
    /// The complete typing.
    pub typing: Typing,
}

/// The instantiations of a condition. An error when none type-checks.
pub fn instances(program: &Program, cond: &Condition) -> Result<Vec<Instance>, Diagnostic> {
    let graph = &cond.graph;
    let enums = &program.enums;
    let roots = cond.roots();
    let facts: Vec<_> = cond.assumptions.iter().map(|c| c.node).collect();
    let to_diag = |e: TypeError| Diagnostic::new(format!("type error: {}", e.message), e.span);
    let mut inf = Inference::new(graph, enums, &roots, &facts).map_err(to_diag)?;
    for (n, ty) in &cond.required {
        inf.require(graph, enums, *n, ty).map_err(to_diag)?;
    }
    let mut search = Search {
        program,
        cond,
        roots: &roots,
        found: Vec::new(),
        first_error: None,
        chosen: Vec::new(),
    };
    search.go(inf, 0);
    if search.found.is_empty() {
        let e = search.first_error.unwrap_or_else(|| {
            let names: Vec<&str> = cond
                .slots
                .iter()
                .map(|s| program.term(s.term).name.as_str())
                .collect();
            Diagnostic::new(
                format!(
                    "no combination of the signatures of {} fits this rule",
                    names.join(", ")
                ),
                cond.assumptions.first().map(|c| c.span).unwrap_or_default(),
            )
        });
        return Err(e);
    }
    let mut found = search.found;
    disambiguate(&mut found);
    Ok(found)
}

struct Search<'a> {
    program: &'a Program,
    cond: &'a Condition,
    roots: &'a [loweq_semantics::graph::NodeId],
    found: Vec<Instance>,
    first_error: Option<Diagnostic>,
    chosen: Vec<usize>,
}

impl Search<'_> {
    fn go(&mut self, inf: Inference, slot: usize) {
        let graph = &self.cond.graph;
        let enums = &self.program.enums;
        if slot == self.cond.slots.len() {
            match inf.solve(graph, enums, self.roots, Mode::Complete) {
                Ok(typing) => {
                    let label = self.label(&typing);
                    self.found.push(Instance { label, typing });
                }
                Err(e) => {
                    if self.first_error.is_none() {
                        let sigs: Vec<String> = self
                            .chosen
                            .iter()
                            .zip(&self.cond.slots)
                            .map(|(&i, s)| {
                                let sig = &self.program.term(s.term).signatures[i];
                                format!(
                                    "{} {}",
                                    self.program.term(s.term).name,
                                    show_sig(self.program, sig)
                                )
                            })
                            .collect();
                        let mut d = Diagnostic::new(format!("type error: {}", e.message), e.span);
                        if !sigs.is_empty() {
                            d = d.with_note(format!("with {}", sigs.join(", ")));
                        }
                        self.first_error = Some(d);
                    }
                }
            }
            return;
        }
        let s = &self.cond.slots[slot];
        let occ = &self.cond.occurrences[s.occurrence];
        for (i, sig) in self.program.term(s.term).signatures.iter().enumerate() {
            let mut next = inf.clone();
            let ok = occ
                .args
                .iter()
                .zip(&sig.args)
                .chain(std::iter::once((&occ.result, &sig.ret)))
                .all(|(&n, ty)| next.require(graph, enums, n, ty).is_ok());
            if ok {
                self.chosen.push(i);
                self.go(next, slot + 1);
                self.chosen.pop();
            }
        }
    }

    fn label(&self, typing: &Typing) -> String {
        let nodes: Vec<_> = match self.cond.slots.first() {
            Some(s) => {
                let occ = &self.cond.occurrences[s.occurrence];
                occ.args.iter().copied().chain([occ.result]).collect()
            }
            None => self
                .cond
                .root_args
                .iter()
                .copied()
                .chain(self.cond.root_result)
                .collect(),
        };
        let widths: Vec<u32> = nodes
            .iter()
            .filter_map(|&n| typing.ty(n).and_then(Ty::width))
            .collect();
        label_of(&widths)
    }
}

/// `i8` when every width is 8; `i64->i8` and `i8,i64->i8` otherwise (the
/// last width is the result); `default` without bitvectors.
fn label_of(widths: &[u32]) -> String {
    match widths {
        [] => "default".into(),
        [w, rest @ ..] if rest.iter().all(|x| x == w) => format!("i{w}"),
        [args @ .., ret] => {
            let mut a: Vec<String> = args.iter().map(|w| format!("i{w}")).collect();
            a.dedup();
            format!("{}->i{ret}", a.join(","))
        }
    }
}

fn show_sig(program: &Program, sig: &loweq_dsl::Signature) -> String {
    let args: Vec<String> = sig
        .args
        .iter()
        .map(|a| a.display(&program.enums).to_string())
        .collect();
    format!(
        "(args {}) (ret {})",
        args.join(" "),
        sig.ret.display(&program.enums)
    )
}

fn disambiguate(found: &mut [Instance]) {
    for i in 0..found.len() {
        let same = found[..i]
            .iter()
            .filter(|f| f.label == found[i].label)
            .count();
        if same > 0 {
            found[i].label = format!("{}#{}", found[i].label, same + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::label_of;

    #[test]
    fn labels() {
        assert_eq!(label_of(&[8, 8, 8]), "i8");
        assert_eq!(label_of(&[64, 8]), "i64->i8");
        assert_eq!(label_of(&[8, 64, 8]), "i8,i64->i8");
        assert_eq!(label_of(&[]), "default");
    }
}
