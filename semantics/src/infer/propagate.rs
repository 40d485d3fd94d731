//! Propagation: static values, facts that pin integers, and the pending
//! constraints that wait for them (widths of `extract` and friends, fields,
//! enum variants, static branches).

use super::*;

impl Inference {
    pub(super) fn bv_width(&mut self, n: NodeId) -> Option<u32> {
        match self.shape(self.node_t[n.0 as usize]?)? {
            Shape::Bv(w) => self.width(w),
            _ => None,
        }
    }

    pub(super) fn node_w(&mut self, n: NodeId) -> W {
        let t = self.node_type(n);
        match self.shape(t) {
            Some(Shape::Bv(w)) => w,
            _ => unreachable!("constrained as a bitvector"),
        }
    }

    /// The static value of a node, if it has one now.
    pub fn static_value(&mut self, graph: &Graph, n: NodeId) -> Option<Value> {
        // Within one question nothing changes, so a node shared by many
        // parents (a `let` binding) is evaluated once: without this, a
        // chain of doubling `let`s would take exponential time.
        let mut memo = HashMap::new();
        self.static_depth(graph, n, 0, &mut memo)
    }

    pub(super) fn static_depth(
        &mut self,
        graph: &Graph,
        n: NodeId,
        depth: u32,
        memo: &mut HashMap<NodeId, Option<Value>>,
    ) -> Option<Value> {
        if depth > 200 {
            return None;
        }
        if let Some(v) = memo.get(&n) {
            return v.clone();
        }
        let v = self.static_node(graph, n, depth, memo);
        memo.insert(n, v.clone());
        v
    }

    fn static_node(
        &mut self,
        graph: &Graph,
        n: NodeId,
        depth: u32,
        memo: &mut HashMap<NodeId, Option<Value>>,
    ) -> Option<Value> {
        if let Some(&t) = self.redirects.get(&n) {
            return self.static_depth(graph, t, depth + 1, memo);
        }
        let node = graph.node(n);
        match &node.kind {
            NodeKind::Const(lit) => Some(literal_value(lit)),
            NodeKind::Var(v) => self.statics.get(v).cloned(),
            NodeKind::Op(Op::WidthOf) => {
                let w = self.bv_width(node.args[0])?;
                Some(Value::Int(w.into()))
            }
            NodeKind::Op(Op::If) => {
                let c = self
                    .static_depth(graph, node.args[0], depth + 1, memo)?
                    .as_bool()?;
                self.static_depth(graph, node.args[if c { 1 } else { 2 }], depth + 1, memo)
            }
            NodeKind::Op(op)
                if matches!(
                    op.typing(),
                    OpTyping::Bool | OpTyping::IntArith | OpTyping::IntCompare | OpTyping::Equal
                ) =>
            {
                let args = node
                    .args
                    .iter()
                    .map(|&a| self.static_depth(graph, a, depth + 1, memo))
                    .collect::<Option<Vec<_>>>()?;
                if args.iter().any(|a| matches!(a, Value::Bv(_))) {
                    return None;
                }
                apply(*op, &args).ok()
            }
            NodeKind::Switch => {
                let x = self.static_depth(graph, node.args[0], depth + 1, memo)?;
                for i in (1..node.args.len() - 1).step_by(2) {
                    if self.static_depth(graph, node.args[i], depth + 1, memo)? == x {
                        return self.static_depth(graph, node.args[i + 1], depth + 1, memo);
                    }
                }
                None
            }
            _ => None,
        }
    }

    pub(super) fn conjuncts(graph: &Graph, n: NodeId, out: &mut Vec<NodeId>) {
        match graph.node(n).kind {
            NodeKind::Op(Op::And) => graph
                .node(n)
                .args
                .iter()
                .for_each(|&a| Self::conjuncts(graph, a, out)),
            _ => out.push(n),
        }
    }

    /// Pins integer/boolean variables from assumed `(= v static)` facts.
    pub(super) fn propagate_facts(&mut self, graph: &Graph) -> bool {
        let mut conj = Vec::new();
        for &f in &self.facts.clone() {
            Self::conjuncts(graph, f, &mut conj);
        }
        // An implication whose premise is statically true is its conclusion
        // (a state set unconditionally: `(=> (or true) (= s copy))`).
        let mut i = 0;
        while i < conj.len() {
            let node = graph.node(conj[i]);
            if node.kind == NodeKind::Op(Op::Imp)
                && node.args.len() == 2
                && self.static_value(graph, node.args[0]) == Some(Value::Bool(true))
            {
                Self::conjuncts(graph, node.args[1], &mut conj);
            }
            i += 1;
        }
        let mut progress = false;
        for c in conj {
            let node = graph.node(c);
            if node.kind != NodeKind::Op(Op::Eq) || node.args.len() != 2 {
                continue;
            }
            for (a, b) in [(node.args[0], node.args[1]), (node.args[1], node.args[0])] {
                let Some(v) = graph.as_var(a) else { continue };
                if self.statics.contains_key(&v) {
                    continue;
                }
                if let Some(val @ (Value::Int(_) | Value::Bool(_))) = self.static_value(graph, b) {
                    self.statics.insert(v, val);
                    progress = true;
                }
            }
        }
        progress
    }

    pub(super) fn step(&mut self, graph: &Graph, enums: &Enums) -> Result<bool, TypeError> {
        let mut progress = self.propagate_facts(graph);
        let pending = std::mem::take(&mut self.pending);
        let mut keep = Vec::new();
        for p in pending {
            if self.try_resolve(graph, enums, p)? {
                progress = true;
            } else {
                keep.push(p);
            }
        }
        keep.append(&mut self.pending);
        self.pending = keep;
        Ok(progress)
    }

    pub(super) fn static_width(
        &mut self,
        graph: &Graph,
        n: NodeId,
        op: Op,
    ) -> Result<Option<u32>, TypeError> {
        match self.static_value(graph, n) {
            None => Ok(None),
            Some(v) => width_arg(op, &v)
                .map(Some)
                .map_err(|e| conflict(graph.node(n).span, e.to_string())),
        }
    }

    pub(super) fn try_resolve(
        &mut self,
        graph: &Graph,
        enums: &Enums,
        p: Pending,
    ) -> Result<bool, TypeError> {
        match p {
            Pending::Width(n) => self.resolve_width(graph, n),
            Pending::Field(n) => {
                let node = graph.node(n);
                let NodeKind::Field(name) = &node.kind else {
                    unreachable!()
                };
                let xt = self.node_type(node.args[0]);
                match self.shape(xt) {
                    None => Ok(false),
                    Some(Shape::Struct(fields)) => match fields.iter().find(|(f, _)| f == name) {
                        Some(&(_, ft)) => {
                            let nt = self.node_type(n);
                            self.unify(nt, ft).map_err(|(found, exp)| {
                                conflict(
                                    node.span,
                                    format!("field `{name}`: expected {exp}, found {found}"),
                                )
                            })?;
                            Ok(true)
                        }
                        None => {
                            let known: Vec<&str> = fields.iter().map(|(f, _)| f.as_str()).collect();
                            Err(conflict(
                                node.span,
                                format!("no field `{name}`; the struct has {}", known.join(", ")),
                            ))
                        }
                    },
                    Some(_) => {
                        let shown = self.show(xt);
                        Err(conflict(
                            node.span,
                            format!("`:{name}` of a non-struct value of type {shown}"),
                        ))
                    }
                }
            }
            Pending::Variant(n) => {
                let node = graph.node(n);
                let v = match &node.kind {
                    NodeKind::IsVariant(v) | NodeKind::VariantField(v, _) => v,
                    _ => unreachable!(),
                };
                let Some(id) = self.enum_of(graph, node.args[0], node.span)? else {
                    return Ok(false);
                };
                let def = enums.get(id);
                let Some(idx) = def.variant_index(&v.name) else {
                    return Err(conflict(
                        node.span,
                        format!("enum `{}` has no variant `{}`", def.name, v.name),
                    ));
                };
                self.variants.insert(n, (id, idx));
                if let NodeKind::VariantField(_, i) = node.kind {
                    let fields = &def.variants[idx].fields;
                    let Some((_, ft)) = fields.get(i) else {
                        return Err(conflict(
                            node.span,
                            format!(
                                "variant `{}` has {} fields, the arm binds more",
                                v.name,
                                fields.len()
                            ),
                        ));
                    };
                    let t = self.instantiate_model(ft);
                    let nt = self.node_type(n);
                    self.unify(nt, t).map_err(|(found, exp)| {
                        conflict(
                            node.span,
                            format!("field of `{}`: expected {exp}, found {found}", v.name),
                        )
                    })?;
                }
                Ok(true)
            }
            Pending::Match(n) => {
                let node = graph.node(n);
                let NodeKind::Match(variants) = &node.kind else {
                    unreachable!()
                };
                let Some(id) = self.enum_of(graph, node.args[0], node.span)? else {
                    return Ok(false);
                };
                let def = enums.get(id);
                let mut idx = Vec::new();
                for v in variants {
                    match def.variant_index(&v.name) {
                        Some(i) => idx.push(i),
                        None => {
                            return Err(conflict(
                                node.span,
                                format!("enum `{}` has no variant `{}`", def.name, v.name),
                            ))
                        }
                    }
                }
                self.arms.insert(n, idx);
                Ok(true)
            }
            Pending::Branch(n) => self.resolve_branch(graph, enums, n),
        }
    }

    pub(super) fn enum_of(
        &mut self,
        graph: &Graph,
        x: NodeId,
        span: Span,
    ) -> Result<Option<EnumId>, TypeError> {
        let t = self.node_type(x);
        match self.shape(t) {
            None => Ok(None),
            Some(Shape::Enum(id)) => Ok(Some(id)),
            Some(_) => {
                let shown = self.show(t);
                let _ = graph;
                Err(conflict(span, format!("expected an enum, found {shown}")))
            }
        }
    }

    pub(super) fn resolve_width(&mut self, graph: &Graph, n: NodeId) -> Result<bool, TypeError> {
        let node = graph.node(n);
        let NodeKind::Op(op) = node.kind else {
            unreachable!()
        };
        let args = node.args.clone();
        let set = |this: &mut Self, w: u32| -> Result<(), TypeError> {
            if w == 0 || w > MAX_WIDTH {
                return Err(conflict(
                    node.span,
                    format!("`{op}` gives a width of {w} bits, outside 1..={MAX_WIDTH}"),
                ));
            }
            let nw = this.node_w(n);
            this.set_width(nw, w).map_err(|(exp, found)| {
                conflict(
                    node.span,
                    format!("`{op}` gives {exp}, but {found} is expected here"),
                )
            })
        };
        match op.typing() {
            OpTyping::Extract => {
                let (Some(hi), Some(lo)) = (
                    self.static_width(graph, args[0], op)?,
                    self.static_width(graph, args[1], op)?,
                ) else {
                    return Ok(false);
                };
                if lo > hi {
                    return Err(conflict(
                        node.span,
                        format!("`extract {hi} {lo}`: the high index is below the low one"),
                    ));
                }
                set(self, hi - lo + 1)?;
                self.static_args.insert(n, vec![hi, lo]);
                self.bounds.push((n, Bound::ExtractIndex(hi)));
                Ok(true)
            }
            OpTyping::ToWidth | OpTyping::IntToBv => {
                let Some(w) = self.static_width(graph, args[0], op)? else {
                    return Ok(false);
                };
                set(self, w)?;
                self.static_args.insert(n, vec![w]);
                if matches!(op, Op::ZeroExt | Op::SignExt) {
                    self.bounds.push((n, Bound::ExtendTarget(w)));
                }
                Ok(true)
            }
            OpTyping::Replicate => {
                let (Some(w), Some(k)) = (
                    self.bv_width(args[0]),
                    self.static_width(graph, args[1], op)?,
                ) else {
                    return Ok(false);
                };
                if k == 0 {
                    return Err(conflict(node.span, "`replicate` 0 times".into()));
                }
                set(self, w.saturating_mul(k))?;
                self.static_args.insert(n, vec![k]);
                Ok(true)
            }
            OpTyping::Concat => {
                let widths: Vec<Option<u32>> = args.iter().map(|&a| self.bv_width(a)).collect();
                let total = self.bv_width(n);
                let unknown: Vec<usize> =
                    (0..widths.len()).filter(|&i| widths[i].is_none()).collect();
                match (unknown.as_slice(), total) {
                    ([], _) => {
                        let sum = widths
                            .iter()
                            .map(|w| w.unwrap_or(0))
                            .fold(0u32, u32::saturating_add);
                        set(self, sum)?;
                        Ok(true)
                    }
                    ([i], Some(t)) => {
                        let known: u32 = widths.iter().map(|w| w.unwrap_or(0)).sum();
                        if known >= t {
                            return Err(conflict(
                                node.span,
                                format!("`concat` of {known}+ bits cannot be (bv {t})"),
                            ));
                        }
                        let w = self.node_w(args[*i]);
                        self.set_width(w, t - known).map_err(|(a, b)| {
                            conflict(node.span, format!("`concat`: {a} vs {b}"))
                        })?;
                        Ok(true)
                    }
                    _ => Ok(false),
                }
            }
            _ => unreachable!("only width-dependent operators are pending"),
        }
    }

    pub(super) fn resolve_branch(
        &mut self,
        graph: &Graph,
        enums: &Enums,
        n: NodeId,
    ) -> Result<bool, TypeError> {
        let node = graph.node(n);
        let chosen = match node.kind {
            NodeKind::Op(Op::If) => match self.static_value(graph, node.args[0]) {
                Some(Value::Bool(c)) => Some(node.args[if c { 1 } else { 2 }]),
                _ => return Ok(false),
            },
            NodeKind::Switch => {
                let Some(x) = self.static_value(graph, node.args[0]) else {
                    return Ok(false);
                };
                let mut chosen = None;
                for i in (1..node.args.len() - 1).step_by(2) {
                    match self.static_value(graph, node.args[i]) {
                        Some(c) if c == x => {
                            chosen = Some(node.args[i + 1]);
                            break;
                        }
                        Some(_) => {}
                        None => return Ok(false),
                    }
                }
                match chosen {
                    Some(c) => Some(c),
                    None => {
                        return Err(conflict(
                            node.span,
                            format!("`switch` has no case for {}", show_value(&x)),
                        ))
                    }
                }
            }
            _ => unreachable!(),
        };
        let Some(target) = chosen else {
            return Ok(false);
        };
        // Type the chosen branch now that it is known, and alias the node to it.
        self.constrain_tree(graph, enums, &[target])?;
        self.same(graph, n, target, "branch")?;
        self.redirects.insert(n, target);
        Ok(true)
    }

    pub(super) fn unify_branches(
        &mut self,
        graph: &Graph,
        enums: &Enums,
        n: NodeId,
    ) -> Result<(), TypeError> {
        let node = graph.node(n);
        let arms: Vec<NodeId> = match node.kind {
            NodeKind::Op(Op::If) => node.args[1..].to_vec(),
            _ => node
                .args
                .iter()
                .copied()
                .enumerate()
                .filter(|&(i, _)| i > 0 && (i % 2 == 0 || i == node.args.len() - 1))
                .map(|(_, a)| a)
                .collect(),
        };
        self.constrain_tree(graph, enums, &arms)?;
        match node.kind {
            NodeKind::Op(Op::If) => {
                self.same(graph, n, node.args[1], "`if` branches must have one type")?;
                self.same(graph, n, node.args[2], "`if` branches must have one type")?;
            }
            NodeKind::Switch => {
                for i in (2..node.args.len()).step_by(2) {
                    self.same(
                        graph,
                        n,
                        node.args[i],
                        "`switch` branches must have one type",
                    )?;
                }
                let last = *node.args.last().expect("switch has a default");
                self.same(graph, n, last, "`switch` default")?;
            }
            _ => unreachable!(),
        }
        Ok(())
    }

    pub(super) fn check_bounds(
        &mut self,
        graph: &Graph,
        reachable: &[bool],
    ) -> Result<(), TypeError> {
        for (n, bound) in self.bounds.clone() {
            if !reachable[n.0 as usize] {
                continue;
            }
            let node = graph.node(n);
            match bound {
                Bound::ExtractIndex(hi) => {
                    if let Some(w) = self.bv_width(node.args[2]) {
                        if hi >= w {
                            return Err(conflict(
                                node.span,
                                format!("`extract` of bit {hi} from a {w}-bit value"),
                            ));
                        }
                    }
                }
                Bound::ExtendTarget(target) => {
                    if let Some(w) = self.bv_width(node.args[1]) {
                        if w > target {
                            let NodeKind::Op(op) = node.kind else {
                                unreachable!()
                            };
                            return Err(conflict(
                                node.span,
                                format!("`{op}` to {target} bits of a {w}-bit value; use `extract` or `conv_to` to narrow"),
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    pub(super) fn stuck(&mut self, graph: &Graph, p: Pending) -> TypeError {
        let (n, message) = match p {
            Pending::Width(n) => (n, "this width or index must be a constant (a literal, `widthof`, or arithmetic on them)".to_string()),
            Pending::Field(n) => (n, "cannot tell which struct this field belongs to".to_string()),
            Pending::Variant(n) | Pending::Match(n) => (n, "cannot tell which enum this variant belongs to".to_string()),
            Pending::Branch(n) => (n, "cannot resolve this branch".to_string()),
        };
        conflict(graph.node(n).span, message)
    }
}
