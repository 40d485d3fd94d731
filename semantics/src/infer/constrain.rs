//! Constraint generation: what each node requires of the types of its
//! arguments and result. `if`/`switch` branches are constrained only once
//! chosen (or forced), so that untaken branches may be ill-typed.

use super::*;

impl Inference {
    /// Generates constraints for the nodes under `roots`, leaving the
    /// branches of `if` and `switch` for when they are chosen or forced.
    pub(super) fn constrain_tree(
        &mut self,
        graph: &Graph,
        enums: &Enums,
        roots: &[NodeId],
    ) -> Result<(), TypeError> {
        let mut stack: Vec<(NodeId, bool)> = roots.iter().rev().map(|&r| (r, false)).collect();
        while let Some((n, expanded)) = stack.pop() {
            if expanded {
                self.constrain(graph, enums, n)?;
                continue;
            }
            if std::mem::replace(&mut self.done[n.0 as usize], true) {
                continue;
            }
            stack.push((n, true));
            let node = graph.node(n);
            let eager: Vec<NodeId> = match node.kind {
                NodeKind::Op(Op::If) => vec![node.args[0]],
                NodeKind::Switch => (0..node.args.len() - 1)
                    .filter(|&i| i == 0 || i % 2 == 1)
                    .map(|i| node.args[i])
                    .collect(),
                _ => node.args.clone(),
            };
            for a in eager.into_iter().rev() {
                stack.push((a, false));
            }
        }
        Ok(())
    }

    pub(super) fn constrain(
        &mut self,
        graph: &Graph,
        enums: &Enums,
        n: NodeId,
    ) -> Result<(), TypeError> {
        let node = graph.node(n);
        let args = &node.args;
        match &node.kind {
            NodeKind::Var(v) => {
                let vt = self.var_t[v.0 as usize].expect("every variable is typed");
                let nt = self.node_type(n);
                self.unify(nt, vt)
                    .map_err(|(a, b)| conflict(node.span, format!("expected {b}, found {a}")))?;
            }
            NodeKind::Const(lit) => {
                let shape = match lit {
                    crate::Literal::Int(_) => Shape::Int,
                    crate::Literal::Bool(_) => Shape::Bool,
                    crate::Literal::Bv { width, .. } => Shape::Bv(self.fresh_w(Some(*width))),
                };
                self.expect(graph, n, shape)?;
            }
            NodeKind::Op(op) => self.constrain_op(graph, n, *op)?,
            NodeKind::Field(_) => {
                self.pending.push(Pending::Field(n));
            }
            NodeKind::IsVariant(v) => {
                self.expect(graph, n, Shape::Bool)?;
                self.variant_ref(graph, n, args[0], v)?;
            }
            NodeKind::VariantField(v, _) => self.variant_ref(graph, n, args[0], v)?,
            NodeKind::Match(variants) => {
                for &body in &args[1..] {
                    self.same(graph, n, body, "match arms must have one type")?;
                }
                if let Some(id) = variants.iter().find_map(|v| v.enum_id) {
                    self.expect(graph, args[0], Shape::Enum(id))?;
                }
                self.pending.push(Pending::Match(n));
            }
            NodeKind::MakeEnum(id, variant) => {
                self.expect(graph, n, Shape::Enum(*id))?;
                let fields = &enums.get(*id).variants[*variant].fields;
                if fields.len() != args.len() {
                    return Err(conflict(
                        node.span,
                        format!("variant takes {} fields, got {}", fields.len(), args.len()),
                    ));
                }
                for ((_, ft), &a) in fields.iter().zip(args) {
                    let t = self.instantiate_model(ft);
                    let at = self.node_type(a);
                    self.unify(at, t).map_err(|(found, exp)| {
                        conflict(graph.node(a).span, format!("expected {exp}, found {found}"))
                    })?;
                }
            }
            NodeKind::MakeStruct(names) => {
                let mut fields: Vec<(String, T)> = names
                    .iter()
                    .zip(args)
                    .map(|(name, &a)| (name.clone(), self.node_type(a)))
                    .collect();
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                self.expect(graph, n, Shape::Struct(fields))?;
            }
            NodeKind::As(ty) => {
                let t = self.instantiate_model(ty);
                let nt = self.node_type(n);
                self.unify(nt, t).map_err(|(found, exp)| {
                    conflict(node.span, format!("`as`: expected {exp}, found {found}"))
                })?;
                self.same(graph, n, args[0], "`as`")?;
            }
            NodeKind::Forall(_) => {
                self.expect(graph, args[0], Shape::Bool)?;
                self.expect(graph, n, Shape::Bool)?;
            }
            NodeKind::Switch => {
                for i in (1..args.len() - 1).step_by(2) {
                    self.same(
                        graph,
                        args[0],
                        args[i],
                        "switch case and scrutinee must have one type",
                    )?;
                }
                self.pending.push(Pending::Branch(n));
            }
        }
        Ok(())
    }

    pub(super) fn variant_ref(
        &mut self,
        graph: &Graph,
        n: NodeId,
        x: NodeId,
        v: &VariantRef,
    ) -> Result<(), TypeError> {
        if let Some(id) = v.enum_id {
            self.expect(graph, x, Shape::Enum(id))?;
        }
        self.pending.push(Pending::Variant(n));
        Ok(())
    }

    pub(super) fn constrain_op(
        &mut self,
        graph: &Graph,
        n: NodeId,
        op: Op,
    ) -> Result<(), TypeError> {
        let args = &graph.node(n).args;
        match op.typing() {
            OpTyping::Bool => {
                for &a in args {
                    self.expect(graph, a, Shape::Bool)?;
                }
                self.expect(graph, n, Shape::Bool)?;
            }
            OpTyping::Equal => {
                for &a in &args[1..] {
                    self.same(graph, args[0], a, "`=` compares values of one type")?;
                }
                self.expect(graph, n, Shape::Bool)?;
            }
            OpTyping::IntArith | OpTyping::IntCompare => {
                for &a in args {
                    self.expect(graph, a, Shape::Int)?;
                }
                let r = if op.typing() == OpTyping::IntArith {
                    Shape::Int
                } else {
                    Shape::Bool
                };
                self.expect(graph, n, r)?;
            }
            OpTyping::BvSame => {
                self.expect_bv(graph, n)?;
                for &a in args {
                    self.same(graph, n, a, &format!("`{op}` operands must have one width"))?;
                }
            }
            OpTyping::BvCompare => {
                self.expect_bv(graph, args[0])?;
                self.same(
                    graph,
                    args[0],
                    args[1],
                    &format!("`{op}` operands must have one width"),
                )?;
                self.expect(graph, n, Shape::Bool)?;
            }
            OpTyping::Extract => {
                self.expect(graph, args[0], Shape::Int)?;
                self.expect(graph, args[1], Shape::Int)?;
                self.expect_bv(graph, args[2])?;
                self.expect_bv(graph, n)?;
                self.pending.push(Pending::Width(n));
            }
            OpTyping::ToWidth => {
                self.expect(graph, args[0], Shape::Int)?;
                self.expect_bv(graph, args[1])?;
                self.expect_bv(graph, n)?;
                if let Some(&pad) = args.get(2) {
                    // `conv_to`'s padding has the result's width.
                    self.same(graph, n, pad, "`conv_to` padding")?;
                }
                self.pending.push(Pending::Width(n));
            }
            OpTyping::IntToBv => {
                self.expect(graph, args[0], Shape::Int)?;
                self.expect(graph, args[1], Shape::Int)?;
                self.expect_bv(graph, n)?;
                self.pending.push(Pending::Width(n));
            }
            OpTyping::BvToInt => {
                self.expect_bv(graph, args[0])?;
                self.expect(graph, n, Shape::Int)?;
            }
            OpTyping::Concat => {
                for &a in args {
                    self.expect_bv(graph, a)?;
                }
                self.expect_bv(graph, n)?;
                self.pending.push(Pending::Width(n));
            }
            OpTyping::Replicate => {
                self.expect_bv(graph, args[0])?;
                self.expect(graph, args[1], Shape::Int)?;
                self.expect_bv(graph, n)?;
                self.pending.push(Pending::Width(n));
            }
            OpTyping::If => {
                self.expect(graph, args[0], Shape::Bool)?;
                self.pending.push(Pending::Branch(n));
            }
        }
        Ok(())
    }
}
