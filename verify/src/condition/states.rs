//! State: which states a term's spec may mention, and how the state of the
//! whole rule follows from the terms that modify it.
//!
//! Each modifying term constrains its own copy of the state. A state that
//! nobody modifies satisfies its default; one that some term modifies is
//! what that term says; a `Bool` state modified by several terms (a trap)
//! holds if any of them says so. Several modifications of any other state
//! cannot be combined yet and are an error.
//!
//! A trap of an *operand* is not the rule's. An IR operation that the
//! pattern matches on an operand of the instruction being lowered, directly
//! or through other operands (`udiv` in `(iadd (udiv a b) c)`), is a
//! separate instruction: Cranelift lowers an instruction that may trap on
//! its own, before the instruction that uses its value, and that one runs
//! only if the operand did not trap. So the modification of a `Bool` state
//! (a trap) by such a term is an assumption that it did not happen (on the
//! side of the pattern it is in: the rule's, or the chained rule's), not a
//! part of the state the root's spec reads. What is an operand is decided by
//! instruction identity only: an IR entity among the outputs of a
//! structural extractor of the shipped semantics (`inst_data`'s fields;
//! not a user's, which may return anything) applied to the instruction
//! being lowered (the root term's IR arguments) or to another operand, and
//! not itself one of those instructions. The root instruction's own
//! modifications, the right-hand side's, and those of what a
//! self-contained file's IR operations (extractors whose specs modify a
//! state) nest in it combine into the state. What a term matched on any
//! other IR entity (a term made it, a user's extractor without such a spec
//! returned it) modifies is its own copy, neither the rule's nor assumed
//! away (review 6). Other states
//! (a nested load's effect, docs/memory.md) are always the rule's: the
//! load is fused into it. A coverage expansion makes no such assumption:
//! the instruction selector runs on every IR program, including those where
//! the operand traps.
//!
//! A state written in emission order (`StateDecl::ordered`: the flags) is
//! not combined: it is a sequence of versions. The first is the state's
//! variable, constrained by its default; each right-hand-side term that
//! modifies it, applied in the order the generated code emits it (the
//! order the builder visits terms: `let` bindings, then arguments left to
//! right, then the call; chained rules inline at their call), makes a new
//! version, its own copy, which its provide constrains (a clobbering
//! instruction leaves it free). Every term reads the version current
//! where it is emitted: its `require` clauses (a consumer's "the flags I
//! take are the flags the machine has") read the version before it, its
//! provide the version it wrote. A term that writes such a state in a
//! pattern or a guard is an error: the generated matcher evaluates those
//! in an order of its own. So is a term the generated code does not emit
//! where the rule writes it (a `pure` term, an enum variant, a struct:
//! built where first used) that writes or, in its `require`, reads one.

use std::collections::HashSet;

use cranelift_isle::sema::{TermId, Type};
use loweq_dsl::Diagnostic;
use loweq_semantics::expr::{ExprKind, StateId, StateOwner};
use loweq_semantics::graph::{NodeId, NodeKind};
use loweq_semantics::op::Op;
use loweq_semantics::span::Span;
use loweq_semantics::ty::ModelType;

use super::identity::Output;
use super::{Builder, Modification, Origin, Role, Side};

impl Builder<'_> {
    /// State `i`'s default, over the rule's current versions of the states.
    fn state_default(&mut self, i: usize) -> NodeId {
        let s = &self.p.states[i];
        self.c.graph.instantiate_expr(
            &s.default,
            &s.default.provides[0],
            &[],
            &self.states,
            &s.name,
        )
    }

    /// A callee's provide and match may only mention states it modifies:
    /// what an assumption mentions it constrains, and an unmodified state
    /// is also constrained by its default.
    pub(super) fn check_state_use(&self, tid: TermId, span: Span) -> Result<(), Diagnostic> {
        let info = self.p.term(tid);
        let Some(spec) = &info.spec else {
            return Ok(());
        };
        let mut offending = None;
        for e in spec.provides.iter().chain(&spec.matches) {
            e.walk(&mut |x| {
                if let ExprKind::State(s) = x.kind {
                    if offending.is_none() && !spec.modifies.iter().any(|m| m.state == s) {
                        offending = Some((s, x.span));
                    }
                }
            });
        }
        match offending {
            None => Ok(()),
            Some((s, at)) => {
                let name = &self.p.states[s.0].name;
                Err(Diagnostic::new(
                    format!("the spec of `{}` mentions state `{name}` without `(modifies {name})`", info.name),
                    at,
                )
                .with_secondary(span, "used here")
                .with_note(format!(
                    "what a provide mentions, it constrains; a term that sets `{name}` must say `(modifies {name})`"
                )))
            }
        }
    }

    /// Assumes, for every state, its default or its combination from the
    /// terms that modify it.
    pub(super) fn finish_states(&mut self) -> Result<(), Diagnostic> {
        for m in &self.modifies {
            self.check_owner(m)?;
        }
        let operands = self.operand_entities();
        let (computed, modifies): (Vec<Modification>, Vec<Modification>) =
            std::mem::take(&mut self.modifies)
                .into_iter()
                .partition(|m| self.is_operand_trap(m, &operands));
        // A term matched on an IR entity that is neither the instruction
        // being lowered nor known to be an operand (a term made it: a
        // guard's constructor returned it; or a user's extractor, which
        // may return anything, did) is about another instruction: it may
        // run after the rule's code, or never. What it modifies is its own
        // copy, neither part of the rule's state nor assumed away (review 6:
        // its trap, taken for the rule's, let code that faulted exactly
        // there verify; its load, code that loaded from its address; the
        // same through an extractor, not only a constructor). Dropping a
        // modification that is not the rule's own is safe: the rule must
        // then be right whether it happened or not.
        // (An extractor macro's agreement has no root: nothing is dropped.)
        let roots: HashSet<NodeId> = self.c.root_args.iter().map(|&a| self.ir_root(a)).collect();
        // A self-contained file's IR operations are extractors with specs
        // that modify states (no `inst_data`): what one nests in another
        // applied to the instruction being lowered stays the rule's, as
        // before (`verify/nested_division_checked.isle`).
        let mut nested = roots.clone();
        loop {
            let before = nested.len();
            for ((tid, input), a) in &self.applied {
                let modifies = self
                    .p
                    .term(*tid)
                    .spec
                    .as_ref()
                    .is_some_and(|s| !s.modifies.is_empty());
                if modifies && nested.contains(&self.ir_root(*input)) {
                    let outs: Vec<NodeId> = a.outs.iter().map(|&o| self.ir_root(o)).collect();
                    nested.extend(outs);
                }
            }
            if nested.len() == before {
                break;
            }
        }
        let modifies = modifies
            .into_iter()
            .filter(|m| {
                let Some(n) = m.matched else {
                    return true;
                };
                let r = self.ir_root(n);
                roots.is_empty() || nested.contains(&r) || operands.contains(&r)
            })
            .collect();
        self.modifies = modifies;
        if !self.covering {
            for m in computed {
                let g = &mut self.c.graph;
                let span = self.p.states[m.state.0].span;
                let trapped = g.op(Op::And, vec![m.cond, m.copy], span);
                let not = g.op(Op::Not, vec![trapped], span);
                self.assume_on(m.side, not, Origin::OperandComputed(m.term), span);
            }
        }
        let identified = self.root_identified_by();
        for (i, s) in self.p.states.iter().enumerate() {
            let state = self.states[i];
            let default = self.state_default(i);
            let mods: Vec<(NodeId, NodeId, Side, String)> = self
                .modifies
                .iter()
                .filter(|m| m.state.0 == i)
                .map(|m| (m.cond, m.copy, m.side, m.term.clone()))
                .collect();
            if mods.is_empty() {
                if self.is_instruction_state(i) && !self.says_instruction(&identified, i) {
                    // What the instruction being lowered does is not
                    // known: whether it traps, how many results it has.
                    continue;
                }
                self.assume_on(
                    Side::Lhs,
                    default,
                    Origin::StateDefault(s.name.clone()),
                    s.span,
                );
                continue;
            }
            if mods.len() > 1 && s.ty != ModelType::Bool {
                let terms: Vec<String> = mods.iter().map(|m| format!("`{}`", m.3)).collect();
                return Err(Diagnostic::new(
                    format!("state `{}` is modified by {}", s.name, terms.join(" and ")),
                    s.span,
                )
                .with_note("loweq combines several modifications only of a Bool state (a trap happens if any term traps)"));
            }
            let on_lhs = mods.iter().any(|m| m.2 == Side::Lhs);
            let on_rhs = mods.iter().any(|m| m.2 != Side::Lhs);
            if on_lhs && on_rhs {
                let terms: Vec<String> = mods.iter().map(|m| format!("`{}`", m.3)).collect();
                return Err(Diagnostic::new(
                    format!(
                        "state `{}` is modified on both sides of the rule (by {})",
                        s.name,
                        terms.join(", ")
                    ),
                    s.span,
                )
                .with_note("IR state and machine state must be distinct, or the rule could set what it is checked against"));
            }
            let side = if on_rhs { Side::Rhs } else { Side::Lhs };
            let span = s.span;
            let g = &mut self.c.graph;
            let conds: Vec<NodeId> = mods.iter().map(|m| m.0).collect();
            let any = g.op(Op::Or, conds, span);
            let value = if let [(_, copy, _, _)] = mods.as_slice() {
                *copy
            } else {
                let parts = mods
                    .iter()
                    .map(|m| g.op(Op::And, vec![m.0, m.1], span))
                    .collect();
                g.op(Op::Or, parts, span)
            };
            let is = g.op(Op::Eq, vec![state, value], span);
            let set = g.op(Op::Imp, vec![any, is], span);
            let none = g.op(Op::Not, vec![any], span);
            let keep = g.op(Op::Imp, vec![none, default], span);
            self.assume_on(side, set, Origin::StateUpdate(s.name.clone()), span);
            self.assume_on(side, keep, Origin::StateDefault(s.name.clone()), span);
            if let Some(root) = self.root_hides(i) {
                // The callers assume the root's spec, which cannot modify
                // the state: the code its rules emit must leave it as the
                // default says (no trap, no access).
                let default = self.state_default(i);
                let name = self.p.term(root).name.clone();
                let phase = std::mem::replace(&mut self.phase, Side::Rhs);
                self.oblige(default, Origin::StateKept(s.name.clone(), name), span);
                self.phase = phase;
            }
        }
        Ok(())
    }

    /// The root term, if the rule's right-hand side (its code) modifies
    /// state `i`, which is not written in emission order, and the root has
    /// callers. A root's spec may not declare `modifies` of such a state
    /// (`apply`), so its callers, which assume that spec, take the state
    /// as the rest of their own code leaves it: a helper whose rule faults
    /// was verified, and so was the rule calling it, whose code then
    /// faulted where the IR did not (review 6).
    fn root_hides(&self, i: usize) -> Option<TermId> {
        let root = self.root_term?;
        let emitted = self
            .modifies
            .iter()
            .any(|m| m.state.0 == i && m.side != Side::Lhs && m.matched.is_none());
        (emitted && !self.p.states[i].ordered && self.has_callers(root)).then_some(root)
    }

    /// The error for a root whose `require` reads a state not written in
    /// emission order, if `tid` has callers: its rules would assume it of
    /// the state their own code leaves, while each caller proves it of the
    /// state of its whole rule (review 6: a helper requiring that the
    /// machine did not trap assumed away its own fault, and its caller,
    /// whose other code did not trap, proved the require). `lower` has no
    /// callers: its require is about the rule's own states.
    pub(super) fn root_require_reads_state(&self, tid: TermId) -> Option<Diagnostic> {
        let p = self.p;
        let spec = p.term(tid).spec.as_ref()?;
        let mut read = None;
        for e in &spec.requires {
            e.walk(&mut |x| {
                if let ExprKind::State(s) = x.kind {
                    if read.is_none() && !p.states[s.0].ordered {
                        read = Some((s, x.span));
                    }
                }
            });
        }
        let (s, at) = read?;
        if !self.has_callers(tid) {
            return None;
        }
        let (name, term) = (&p.states[s.0].name, &p.term(tid).name);
        Some(
            Diagnostic::new(
                format!("the require of `{term}`, a term with rules and callers, reads state `{name}`"),
                at,
            )
            .with_note(format!(
                "`{term}`'s rules would assume it of the `{name}` their own code leaves, while its callers prove it of the `{name}` of their whole rule: a require of such a term may read only its arguments and states written in emission order"
            )),
        )
    }

    /// A state is modified only on its own side (`StateDecl::owner`): the
    /// IR's by terms matched in patterns (of the rule or of a chained
    /// rule), the machine's by the code the rule emits, or the rule could
    /// set what it is checked against. A term both matched and constructed
    /// counts as what it is applied as: called in a guard it is a
    /// constructor, which cannot make the IR fault (review 5); matched in a
    /// chained rule's pattern it emits nothing. Nor is the machine's state
    /// modified in a chained rule's guard: the generated code calls a
    /// guard's terms before it knows that the rule applies, and where a
    /// later guard fails it tries the next rule with their code already
    /// emitted, which the expansion choosing that rule does not contain
    /// (review 6: a fault emitted by a failed guard was lost).
    fn check_owner(&self, m: &Modification) -> Result<(), Diagnostic> {
        let decl = &self.p.states[m.state.0];
        let matched = m.matched.is_some();
        let wrong = match decl.owner {
            Some(StateOwner::Ir) => m.side == Side::Rhs || !matched,
            Some(StateOwner::Machine) => m.side == Side::Lhs || matched || m.guard,
            None => false,
        };
        if !wrong {
            return Ok(());
        }
        let (owner, place) = match decl.owner {
            Some(StateOwner::Ir) if m.side == Side::Rhs => ("the IR's", "on the right-hand side"),
            Some(StateOwner::Ir) => ("the IR's", "called in a guard (a constructor)"),
            _ if matched => ("the machine's", "matched in a pattern"),
            _ if m.side == Side::Select => ("the machine's", "in a guard of a chained rule"),
            _ => ("the machine's", "in the pattern or a guard"),
        };
        Err(Diagnostic::new(
            format!("`{}` modifies `{}`, {owner} state, {place}", m.term, decl.name),
            m.span,
        )
        .with_secondary(decl.span, "declared here")
        .with_note(format!(
            "`{}` is {owner} (the terms that modify it say so): a rule is checked by comparing the IR's state with the machine's, so each side may modify only its own",
            decl.name
        )))
    }

    /// What says which instruction this rule lowers, if anything: an IR
    /// operation (an extractor macro with a spec whose expansion inspects
    /// the instruction's definition, `iadd` over `inst_data`) applied to
    /// the root term's IR arguments gives `Some(None)`; otherwise the
    /// external extractors with specs that the rule's own patterns apply
    /// there (not a converter between IR types, `def_inst`, nor an
    /// infallible one, `value_type`: those match any), `Some(Some(terms))`
    /// when there are some; `None` for a rule whose pattern does not say
    /// (`(lower i)`, `(lower (has_type ty i))`). The states such terms
    /// modify describe that instruction (a trap, its number of results,
    /// its memory access): their defaults would claim it has none, which
    /// nothing says (review 5). Outside a rule (an extractor macro's
    /// agreement), nothing is lowered: `Some(None)`.
    fn root_identified_by(&self) -> Option<Option<Vec<TermId>>> {
        let roots: HashSet<NodeId> = self.c.root_args.iter().map(|&a| self.ir_root(a)).collect();
        if roots.is_empty() {
            return Some(None);
        }
        let on_root = |n: NodeId| roots.contains(&self.ir_root(n));
        // An IR operation, whose walk inspected the root's definition
        // (its opcode): `iadd` over `inst_data`.
        if self.defined_by_ir_operation.iter().any(|&n| on_root(n)) {
            return Some(None);
        }
        // The rule's own patterns applied an external extractor with a
        // spec that recognises instructions (an extractor macro's walk is
        // not recorded there).
        let terms: Vec<TermId> = self
            .applied
            .iter()
            .filter(|((tid, input), a)| {
                let info = self.p.term(*tid);
                a.assumed
                    && on_root(*input)
                    && info.spec.is_some()
                    && !info.converter
                    && !self.infallible(*tid)
            })
            .map(|((tid, _), _)| *tid)
            .collect();
        (!terms.is_empty()).then_some(Some(terms))
    }

    /// Whether what identifies the instruction being lowered
    /// ([`Self::root_identified_by`]) says what it does to state `i`, so
    /// that, where nothing modifies `i`, its default holds. An IR
    /// operation does: its spec is the shipped meaning of the instruction,
    /// listing every state it modifies. An external extractor with a spec
    /// does where it is declared with the state (in the shipped semantics,
    /// or in the file that declares the state: a self-contained file's own
    /// IR), or where its declaring file tags it `describes_instruction`
    /// (a claim that its spec declares every effect of the instructions it
    /// matches): a user's extractor whose spec is about values
    /// (`(= ty (widthof result))`, matching every instruction with a
    /// result) says nothing of traps or results, and taking its silence
    /// for "none" verified a rule that lowers `isplit` into one register
    /// and a `udiv` without its trap (review 6).
    fn says_instruction(&self, identified: &Option<Option<Vec<TermId>>>, i: usize) -> bool {
        match identified {
            None => false,
            Some(None) => true,
            Some(Some(terms)) => {
                let state_file = self.p.states[i].span.file;
                terms.iter().any(|&t| {
                    let info = self.p.term(t);
                    info.tags
                        .iter()
                        .any(|g| g == loweq_dsl::program::DESCRIBES_INSTRUCTION)
                        || self.p.in_semantics(info.span)
                        || info.span.file == state_file
                })
            }
        }
    }

    /// Whether state `i` describes the instruction an extractor matches:
    /// the IR's (`StateDecl::owner`: IR operations modify it), such as
    /// `clif_trap`, `clif_results`, `clif_load`.
    fn is_instruction_state(&self, i: usize) -> bool {
        let decl = &self.p.states[i];
        !decl.ordered && decl.owner == Some(StateOwner::Ir)
    }

    /// Whether modification `m` is the trap of an operand of the
    /// instruction being lowered: a `Bool` state, modified by a term that
    /// a pattern (of the rule or of a chained rule) applied to one of
    /// `operands`.
    fn is_operand_trap(&self, m: &Modification, operands: &HashSet<NodeId>) -> bool {
        self.p.states[m.state.0].ty == ModelType::Bool
            && m.side != Side::Rhs
            && m.matched
                .is_some_and(|n| operands.contains(&self.ir_root(n)))
    }

    /// The IR entities that are operands of the instruction being lowered,
    /// directly or through other operands, as the patterns established
    /// them: IR entities among the outputs of the shipped semantics'
    /// structural extractors (`inst_data`) applied to the root term's IR
    /// arguments or to another operand; not those arguments themselves. Empty outside a rule (an
    /// extractor macro's agreement has no root).
    fn operand_entities(&self) -> HashSet<NodeId> {
        let roots: HashSet<NodeId> = self.c.root_args.iter().map(|&a| self.ir_root(a)).collect();
        let mut seen = roots.clone();
        let mut stack: Vec<NodeId> = roots.iter().copied().collect();
        while let Some(entity) = stack.pop() {
            for ((tid, input), outputs) in &self.structural {
                // Only the shipped semantics' structural extractor says
                // what an instruction's operands are: a user's external
                // extractor without a spec may return anything, the
                // instruction itself included.
                if self.ir_root(*input) != entity || !self.p.in_semantics(self.p.term(*tid).span) {
                    continue;
                }
                let arg_tys = &self.p.terms.terms[tid.index()].arg_tys;
                let mut found = Vec::new();
                for (out, &ty) in outputs.iter().zip(arg_tys) {
                    match *out {
                        Output::Plain(n) if self.is_ir_type(ty) => found.push(n),
                        Output::Plain(_) => {}
                        Output::Enum(index) => {
                            let s = &self.c.structures[index];
                            let Type::Enum { variants, .. } =
                                &self.p.types.types[s.enum_ty.index()]
                            else {
                                continue;
                            };
                            for &((v, f), n) in &s.fields {
                                if self.is_ir_type(variants[v].fields.types()[f]) {
                                    found.push(n);
                                }
                            }
                        }
                    }
                }
                for n in found {
                    let r = self.ir_root(n);
                    if seen.insert(r) {
                        stack.push(r);
                    }
                }
            }
        }
        seen.retain(|e| !roots.contains(e));
        seen
    }

    /// The states a term's spec reads: `(after, before)`, where `before`
    /// is what its `require` clauses read and `after` the rest. They differ
    /// only for states written in emission order: a callee reads their
    /// current version; the root's require (assumed) reads the initial
    /// version and its provide (proved) the final one; a condition about
    /// another rule reads a fresh version of its own, which constrains
    /// nothing the rule computes.
    pub(super) fn ordered_versions(
        &mut self,
        tid: TermId,
        role: Role,
        prefix: &str,
        span: Span,
    ) -> Result<(Vec<NodeId>, Vec<NodeId>), Diagnostic> {
        if role == Role::Callee {
            self.reads_in_place(tid, span)?;
        }
        let mut after = self.states.clone();
        let mut before = self.states.clone();
        for (i, decl) in self.p.states.iter().enumerate() {
            if !decl.ordered {
                continue;
            }
            match role {
                Role::Callee => {
                    after[i] = self.versions[i];
                    before[i] = self.versions[i];
                }
                Role::Root => {
                    after[i] = self.versions[i];
                    self.root_leaves(tid, i, span)?;
                }
                Role::Condition => {
                    let v = self.c.graph.var(
                        format!("{}@{prefix}", decl.name),
                        Some(decl.ty.clone()),
                        span,
                    );
                    after[i] = v;
                    before[i] = v;
                }
            }
        }
        Ok((after, before))
    }

    /// A root whose spec does not declare `(modifies s)` of a state written
    /// in emission order promises its callers that it leaves `s` as it
    /// found it: a rule of it that writes `s` is an error, where the term
    /// has callers (`lower` has none: nothing runs after it that could
    /// read what it left).
    fn root_leaves(&self, tid: TermId, i: usize, span: Span) -> Result<(), Diagnostic> {
        let info = self.p.term(tid);
        let declared = info
            .spec
            .as_ref()
            .is_some_and(|spec| spec.modifies.iter().any(|m| m.state.0 == i));
        if declared || self.writers[i].is_empty() || !self.has_callers(tid) {
            return Ok(());
        }
        let name = &self.p.states[i].name;
        Err(Diagnostic::new(
            format!(
                "this rule of `{}` writes `{name}` (by `{}`), but the spec of `{}` does not declare `(modifies {name})`",
                info.name, self.writers[i][0], info.name
            ),
            span,
        )
        .with_secondary(info.span, "declared here")
        .with_note(format!(
            "`{name}` is written in emission order: the callers of `{}` assume its spec, so they would read `{name}` as if the call had not written it; add `(modifies {name})` to its spec",
            info.name
        )))
    }

    /// Whether some rule calls `tid` (on its right-hand side or in a guard).
    fn has_callers(&self, tid: TermId) -> bool {
        self.p
            .terms
            .rules
            .iter()
            .any(|r| crate::expand::rule_calls(r, &[tid]))
    }

    /// Records that `tid`, applied as `text`, wrote state `state` (written
    /// in emission order) where `cond` holds, giving it the version `copy`.
    pub(super) fn write_version(
        &mut self,
        tid: TermId,
        state: StateId,
        cond: NodeId,
        copy: NodeId,
        text: &str,
        span: Span,
    ) -> Result<(), Diagnostic> {
        let p = self.p;
        let name = &p.states[state.0].name;
        if self.phase != Side::Rhs {
            return Err(Diagnostic::new(
                format!("`{text}` writes `{name}` in a pattern or a guard"),
                span,
            )
            .with_note(format!(
                "`{name}` is written in emission order, and the generated matcher evaluates patterns and guards in an order of its own: write it only on a right-hand side"
            )));
        }
        if let Some(why) = self.not_emitted_in_place(tid) {
            return Err(Diagnostic::new(
                format!("`{text}` writes `{name}`, but `{}` {why}", p.term(tid).name),
                span,
            )
            .with_secondary(p.term(tid).span, "declared here")
            .with_note(format!(
                "the generated code builds such a term where its result is first used, and may share one call among its uses, so it is not emitted where each use is: a term that writes `{name}`, written in emission order, may not be one"
            )));
        }
        let old = self.versions[state.0];
        let g = &mut self.c.graph;
        let always = matches!(
            g.node(cond).kind,
            NodeKind::Const(loweq_semantics::Literal::Bool(true))
        );
        self.versions[state.0] = if always {
            copy
        } else {
            g.op(Op::If, vec![cond, copy, old], span)
        };
        // An implicit conversion is shown as written (`x`): name the
        // converter, which is what writes.
        let shown = if p.term(tid).converter {
            format!("({} {text})", p.term(tid).name)
        } else {
            text.to_string()
        };
        self.writers[state.0].push(shown);
        Ok(())
    }

    /// Whether the spec of `tid` writes a state written in emission order,
    /// or reads one in its `require`: where it is applied then matters.
    pub(super) fn uses_ordered_state(&self, tid: TermId) -> bool {
        let p = self.p;
        let Some(spec) = &p.term(tid).spec else {
            return false;
        };
        let mut reads = false;
        for e in &spec.requires {
            e.walk(&mut |x| {
                if let ExprKind::State(s) = x.kind {
                    reads |= p.states[s.0].ordered;
                }
            });
        }
        reads || spec.modifies.iter().any(|m| p.states[m.state.0].ordered)
    }

    /// A term whose `require` reads a state written in emission order must
    /// be emitted where the rule applies it: a `pure` term is called where
    /// its result is first used, after terms the rule wrote after it, so
    /// it would read another version than the one it is checked against.
    fn reads_in_place(&self, tid: TermId, span: Span) -> Result<(), Diagnostic> {
        let p = self.p;
        let Some(spec) = &p.term(tid).spec else {
            return Ok(());
        };
        let Some(why) = self.not_emitted_in_place(tid) else {
            return Ok(());
        };
        let mut read = None;
        for e in &spec.requires {
            e.walk(&mut |x| {
                if let ExprKind::State(s) = x.kind {
                    if read.is_none() && p.states[s.0].ordered {
                        read = Some((s, x.span));
                    }
                }
            });
        }
        let Some((s, at)) = read else {
            return Ok(());
        };
        let (name, term) = (&p.states[s.0].name, &p.term(tid).name);
        Err(Diagnostic::new(format!("`{term}` reads `{name}`, but `{term}` {why}"), span)
            .with_secondary(at, "read here")
            .with_note(format!(
                "the generated code calls such a term where its result is first used, which may be after terms written after it: a term that reads `{name}`, written in emission order, may not be one"
            )))
    }

    /// Why the generated code does not call `tid` where the rule applies
    /// it, if it does not: cranelift-isle emits a `pure` term, an enum
    /// variant or a struct (data, no code) where its result is first used,
    /// and shares one among identical uses; only the other terms are called
    /// in the order of the right-hand side (review 5).
    fn not_emitted_in_place(&self, tid: TermId) -> Option<&'static str> {
        use cranelift_isle::sema::{TermFlags, TermKind};
        match self.p.terms.terms[tid.index()].kind {
            TermKind::Decl {
                flags: TermFlags { pure: true, .. },
                ..
            } => Some("is declared `pure`"),
            TermKind::EnumVariant { .. } => Some("is an enum variant"),
            TermKind::Struct => Some("is a struct"),
            TermKind::Decl { .. } => None,
        }
    }

    /// For each `require` of the callee `tid` that reads a state written
    /// in emission order: what the counterexample says of the version it
    /// reads, should the require fail.
    pub(super) fn order_notes(&mut self, tid: TermId, requires: &[NodeId]) {
        let p = self.p;
        let Some(spec) = &p.term(tid).spec else {
            return;
        };
        let reader = &p.term(tid).name;
        for (e, &n) in spec.requires.iter().zip(requires) {
            let mut read: Vec<usize> = Vec::new();
            e.walk(&mut |x| {
                if let ExprKind::State(s) = x.kind {
                    if p.states[s.0].ordered && !read.contains(&s.0) {
                        read.push(s.0);
                    }
                }
            });
            for i in read {
                let name = &p.states[i].name;
                let note = match self.writers[i].as_slice() {
                    [] => format!(
                        "`{name}` where `{reader}` reads it has not been written by the rule: it holds whatever the code before left there"
                    ),
                    [.., last] => format!(
                        "`{name}` where `{reader}` reads it was last written by `{last}` (writes of `{name}` in emission order: {})",
                        self.writers[i]
                            .iter()
                            .map(|w| format!("`{w}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                self.c.order_notes.push((n, note));
            }
        }
    }
}
