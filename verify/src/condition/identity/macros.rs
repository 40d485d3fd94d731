//! Extractor macros with specs (the IR operations): the expansion decides
//! whether one matches, its spec what the values are; in a condition about
//! another rule, the Skolem outputs its expansion made are defined by its
//! spec, or the definition is open.

use cranelift_isle::sema::{Pattern, Rule, TermId};
use loweq_dsl::Diagnostic;
use loweq_semantics::graph::NodeId;
use loweq_semantics::span::Span;

use crate::condition::{Builder, Role, Side, Trusted, Vars};

impl Builder<'_> {
    /// An extractor macro with a spec, applied to `value`: its expansion
    /// decides whether it matches, its spec what the values are.
    #[allow(clippy::too_many_arguments)]
    pub(in crate::condition) fn macro_pattern(
        &mut self,
        rule: &Rule,
        tid: TermId,
        args: &[Pattern],
        value: NodeId,
        vars: &mut Vars,
        text: String,
    ) -> Result<(), Diagnostic> {
        let span = self.rule_span(rule);
        if self.in_condition() {
            if let Some(why) = self.several_results(tid, value) {
                self.cannot_match(why);
                return Ok(());
            }
        }
        let template = self.p.term(tid).template.clone().expect("caller checked");
        let mut tvars: Vars = vec![None; template.vars];
        // The macro's own application goes before those of its expansion
        // where that has no term with a spec (over `inst_data`): it is the
        // one that names the instantiations.
        let marks = (self.c.occurrences.len(), self.c.slots.len());
        let outer = self.template.replace(tid);
        let skolem_mark = self.macro_skolems.len();
        let walked = self.pattern(rule, &template.pattern, value, &mut tvars);
        self.template = outer;
        walked?;
        let term = &self.p.terms.terms[tid.index()];
        let mut outs = Vec::new();
        for (i, (arg, &ty)) in template.args.iter().zip(&term.arg_tys).enumerate() {
            match arg.and_then(|v| tvars[v.index()]) {
                Some(n) => outs.push(n),
                None => {
                    self.counter += 1;
                    let name = format!("{}#{}.{}", self.p.term(tid).name, self.counter, i);
                    outs.push(self.fresh_typed(name, ty, span)?);
                }
            }
        }
        if self.p.term(tid).obligation {
            // Its spec stands for its expansion here: an obligation.
            self.c.trusted.push(Trusted {
                term: tid,
                args: outs.clone(),
                result: value,
            });
        }
        let skolems = self.macro_skolems.split_off(skolem_mark);
        if self.in_condition() && !skolems.is_empty() {
            // The expansion applied a structural extractor the rule did
            // not (`result_type` of the instruction being lowered): its
            // outputs are Skolem functions of the entity, which this
            // macro's spec, its meaning, must define by equations (`(= ty
            // (widthof inst))`: the type of an instruction is the width
            // of its result, fixed by the instantiation); its `match` says
            // where the extractor succeeds (an instruction with a result).
            self.macro_skolem(tid, &outs, value, &skolems, span)?;
        } else if self.in_condition() {
            // Whether the macro matches is its expansion's business; its
            // provide says what the values are, which the rule's own
            // patterns established. Its match and require restrict it.
            let inst = self.instantiate_spec(tid, &outs, value)?;
            let list = self.collect.as_mut().expect("in a condition");
            list.extend(inst.matches);
            list.extend(inst.requires);
        } else {
            self.apply(
                tid,
                outs.clone(),
                value,
                Side::Lhs,
                text,
                Role::Callee,
                span,
            )?;
            // Where the expansion applies terms with signatures (`iadd`),
            // the first of those names the instantiations: every type the
            // generated code matches the expansion at is checked, and one
            // the macro's signatures leave out is an error ("no signature
            // of `my_iadd` fits"), never dropped.
            if !self.p.term(tid).obligation {
                self.hoist(marks);
            }
        }
        for (sub, &o) in args.iter().zip(&outs) {
            self.pattern(rule, sub, o, vars)?;
        }
        Ok(())
    }

    /// In a condition, the spec of macro `tid` (arguments `outs`, result
    /// `value`) where walking its expansion made the Skolem outputs
    /// `skolems` ([`Self::defined_by_macro`]): each must be an argument of
    /// the macro that its provide defines by an equation from what is not
    /// an output; then the definitions are assumed (they constrain only
    /// the Skolem variables) and the rest of the spec is part of the
    /// condition. Otherwise the definition is open, as for any structural
    /// extractor the rule did not apply.
    fn macro_skolem(
        &mut self,
        tid: TermId,
        outs: &[NodeId],
        value: NodeId,
        skolems: &[NodeId],
        span: Span,
    ) -> Result<(), Diagnostic> {
        let spec = self.p.term(tid).spec.clone().expect("caller checked");
        let mut free = Vec::new();
        for sk in skolems {
            match outs.iter().position(|o| o == sk) {
                Some(i) => free.push(spec.params[i]),
                None => {
                    self.open_definition(value);
                    return Ok(());
                }
            }
        }
        if crate::condition::skolem::definitions(&spec, &free).is_none() {
            self.open_definition(value);
            return Ok(());
        }
        let mut bindings = vec![None; spec.locals.len()];
        for (&l, &a) in spec.params.iter().zip(outs) {
            bindings[l.0] = Some(a);
        }
        bindings[spec.result.0] = Some(value);
        self.skolem(tid, &spec, &bindings, &free, &[], span)
    }

    /// Moves the last occurrence, and its slot if it has one, to the
    /// positions `marks` (occurrence, slot), after the ones before them.
    fn hoist(&mut self, (occurrence, slot): (usize, usize)) {
        let last = self.c.occurrences.len() - 1;
        if last == occurrence {
            return;
        }
        let moved = self.c.occurrences.remove(last);
        self.c.occurrences.insert(occurrence, moved);
        let own = self
            .c
            .slots
            .last()
            .is_some_and(|s| s.occurrence == last)
            .then(|| self.c.slots.pop())
            .flatten();
        for s in &mut self.c.slots[slot..] {
            if s.occurrence >= occurrence {
                s.occurrence += 1;
            }
        }
        if let Some(mut s) = own {
            s.occurrence = occurrence;
            self.c.slots.insert(slot, s);
        }
    }
}
