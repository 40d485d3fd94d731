//! Which side of a lowering rule each state belongs to.
//!
//! The terms whose specs modify a state decide it: a term that is only
//! matched (an extractor: an IR operation such as `udiv`) makes it the
//! IR's, a term that is only constructed (an instruction such as `div`)
//! the machine's. A rule is checked by comparing the two sides' states
//! (`lower`'s spec: `(= isa_trap clif_trap)`), so a state that terms of
//! both kinds modify would let the code a rule emits set what it is
//! checked against: that is an error here, at load. Within a rule the
//! verifier then keeps each state to its side's terms (a term that is both
//! matched and constructed decides nothing here, and is checked where it
//! is applied).

use cranelift_isle::sema::{TermEnv, TermId, TermKind};
use loweq_semantics::expr::{StateDecl, StateOwner};
use loweq_semantics::span::Span;

use crate::diag::Diagnostic;
use crate::program::TermInfo;

/// The side a term's modifications put a state on, from the term's kinds.
fn side_of(terms: &TermEnv, tid: TermId) -> Option<StateOwner> {
    match &terms.terms[tid.index()].kind {
        TermKind::Decl {
            extractor_kind: Some(_),
            constructor_kind: None,
            ..
        } => Some(StateOwner::Ir),
        TermKind::Decl {
            extractor_kind: None,
            constructor_kind: Some(_),
            ..
        } => Some(StateOwner::Machine),
        _ => None,
    }
}

/// Sets [`StateDecl::owner`] of every state; a state modified by terms of
/// both sides is an error.
pub(super) fn state_owners(
    terms: &TermEnv,
    info: &[TermInfo],
    states: &mut [StateDecl],
    diags: &mut Vec<Diagnostic>,
) {
    // For each state, the first term of each side that modifies it.
    let mut first: Vec<[Option<(usize, Span)>; 2]> = vec![[None, None]; states.len()];
    for (i, t) in info.iter().enumerate() {
        let Some(spec) = &t.spec else { continue };
        let Some(side) = side_of(terms, TermId(i)) else {
            continue;
        };
        for m in &spec.modifies {
            first[m.state.0][side as usize].get_or_insert((i, m.span));
        }
    }
    for (state, [ir, machine]) in states.iter_mut().zip(first) {
        state.owner = match (ir, machine) {
            (Some(_), None) => Some(StateOwner::Ir),
            (None, Some(_)) => Some(StateOwner::Machine),
            (None, None) => None,
            (Some((ir, ir_at)), Some((m, m_at))) => {
                let name = &state.name;
                diags.push(
                    Diagnostic::new(
                        format!(
                            "state `{name}` is modified by `{}`, a term that is only constructed (the machine's side), and by `{}`, a term that is only matched (the IR's side)",
                            info[m].name, info[ir].name
                        ),
                        m_at,
                    )
                    .with_label(format!("`{}` modifies `{name}` here", info[m].name))
                    .with_secondary(ir_at, format!("`{}` modifies it here", info[ir].name))
                    .with_note("a rule is checked by comparing the IR's state with the machine's: the code a rule emits must not set what it is checked against; give each side a state of its own"),
                );
                None
            }
        };
    }
}
