//! The union-find over types and bitvector widths that inference unifies in.

use super::*;

impl Inference {
    pub(super) fn fresh(&mut self, shape: Option<Shape>) -> T {
        self.t_parent.push(self.t_parent.len());
        self.t_shape.push(shape);
        self.t_parent.len() - 1
    }

    pub(super) fn fresh_w(&mut self, value: Option<u32>) -> W {
        self.w_parent.push(self.w_parent.len());
        self.w_value.push(value);
        self.w_parent.len() - 1
    }

    pub(super) fn find(&mut self, t: T) -> T {
        find_root(&mut self.t_parent, t)
    }

    pub(super) fn find_w(&mut self, w: W) -> W {
        find_root(&mut self.w_parent, w)
    }

    pub(super) fn width(&mut self, w: W) -> Option<u32> {
        let r = self.find_w(w);
        self.w_value[r]
    }

    pub(super) fn shape(&mut self, t: T) -> Option<Shape> {
        let r = self.find(t);
        self.t_shape[r].clone()
    }

    pub(super) fn unify_w(&mut self, a: W, b: W) -> Result<(), (String, String)> {
        let (ra, rb) = (self.find_w(a), self.find_w(b));
        if ra == rb {
            return Ok(());
        }
        match (self.w_value[ra], self.w_value[rb]) {
            (Some(x), Some(y)) if x != y => Err((format!("(bv {x})"), format!("(bv {y})"))),
            (va, vb) => {
                self.w_parent[ra] = rb;
                self.w_value[rb] = va.or(vb);
                Ok(())
            }
        }
    }

    pub(super) fn set_width(&mut self, w: W, value: u32) -> Result<(), (String, String)> {
        let v = self.fresh_w(Some(value));
        self.unify_w(w, v)
    }

    pub(super) fn unify(&mut self, a: T, b: T) -> Result<(), (String, String)> {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return Ok(());
        }
        let (sa, sb) = (self.t_shape[ra].clone(), self.t_shape[rb].clone());
        let (show_a, show_b) = (self.show(ra), self.show(rb));
        let mismatch = || (show_a.clone(), show_b.clone());
        self.t_parent[ra] = rb;
        match (sa, sb) {
            (None, _) => Ok(()),
            (Some(s), None) => {
                self.t_shape[rb] = Some(s);
                Ok(())
            }
            (Some(Shape::Bool), Some(Shape::Bool))
            | (Some(Shape::Int), Some(Shape::Int))
            | (Some(Shape::Unit), Some(Shape::Unit))
            | (Some(Shape::Unspecified), Some(Shape::Unspecified)) => Ok(()),
            (Some(Shape::Bv(x)), Some(Shape::Bv(y))) => self.unify_w(x, y).map_err(|_| mismatch()),
            (Some(Shape::Enum(x)), Some(Shape::Enum(y))) if x == y => Ok(()),
            (Some(Shape::Struct(fa)), Some(Shape::Struct(fb))) => {
                if fa.len() != fb.len() || fa.iter().zip(&fb).any(|(x, y)| x.0 != y.0) {
                    return Err(mismatch());
                }
                for ((_, x), (_, y)) in fa.iter().zip(&fb) {
                    self.unify(*x, *y).map_err(|_| mismatch())?;
                }
                Ok(())
            }
            _ => Err(mismatch()),
        }
    }

    /// Renders a possibly incomplete type: unknown parts are `_`.
    pub(super) fn show(&mut self, t: T) -> String {
        match self.shape(t) {
            None => "_".into(),
            Some(Shape::Bool) => "Bool".into(),
            Some(Shape::Int) => "Int".into(),
            Some(Shape::Unit) => "Unit".into(),
            Some(Shape::Unspecified) => "!".into(),
            Some(Shape::Bv(w)) => match self.width(w) {
                Some(w) => format!("(bv {w})"),
                None => "(bv _)".into(),
            },
            Some(Shape::Struct(fields)) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(n, t)| format!("({n} {})", self.show(*t)))
                    .collect();
                format!("(struct {})", parts.join(" "))
            }
            Some(Shape::Enum(id)) => format!("enum #{}", id.0),
        }
    }

    pub(super) fn resolve(&mut self, t: T) -> Option<Ty> {
        Some(match self.shape(t)? {
            Shape::Bool => Ty::Bool,
            Shape::Int => Ty::Int,
            Shape::Unit => Ty::Unit,
            Shape::Unspecified => Ty::Unspecified,
            Shape::Bv(w) => Ty::Bv(self.width(w)?),
            Shape::Struct(fields) => Ty::Struct(
                fields
                    .iter()
                    .map(|(n, t)| Some((n.clone(), self.resolve(*t)?)))
                    .collect::<Option<_>>()?,
            ),
            Shape::Enum(id) => Ty::Enum(id),
        })
    }

    pub(super) fn instantiate_model(&mut self, mt: &ModelType) -> T {
        let shape = match mt {
            ModelType::Auto => None,
            ModelType::Bool => Some(Shape::Bool),
            ModelType::Int => Some(Shape::Int),
            ModelType::Unit => Some(Shape::Unit),
            ModelType::Unspecified => Some(Shape::Unspecified),
            ModelType::BitVec(w) => Some(Shape::Bv(self.fresh_w(*w))),
            ModelType::Struct(fields) => {
                let mut fs: Vec<(String, T)> = fields
                    .iter()
                    .map(|(n, t)| (n.clone(), self.instantiate_model(t)))
                    .collect();
                fs.sort_by(|a, b| a.0.cmp(&b.0));
                Some(Shape::Struct(fs))
            }
            ModelType::Enum(id) => Some(Shape::Enum(*id)),
        };
        self.fresh(shape)
    }

    pub(super) fn node_type(&mut self, n: NodeId) -> T {
        if let Some(t) = self.node_t[n.0 as usize] {
            return t;
        }
        let t = self.fresh(None);
        self.node_t[n.0 as usize] = Some(t);
        t
    }

    pub(super) fn expect(
        &mut self,
        graph: &Graph,
        n: NodeId,
        shape: Shape,
    ) -> Result<(), TypeError> {
        let want = self.fresh(Some(shape));
        let t = self.node_type(n);
        self.unify(t, want).map_err(|(found, expected)| {
            conflict(
                graph.node(n).span,
                format!("expected {expected}, found {found}"),
            )
        })
    }

    pub(super) fn expect_bv(&mut self, graph: &Graph, n: NodeId) -> Result<W, TypeError> {
        let w = self.fresh_w(None);
        self.expect(graph, n, Shape::Bv(w))?;
        Ok(w)
    }

    pub(super) fn same(
        &mut self,
        graph: &Graph,
        a: NodeId,
        b: NodeId,
        what: &str,
    ) -> Result<(), TypeError> {
        let (ta, tb) = (self.node_type(a), self.node_type(b));
        self.unify(tb, ta).map_err(|(found, expected)| {
            conflict(
                graph.node(b).span,
                format!("{what}: expected {expected}, found {found}"),
            )
        })
    }
}

/// The representative of `x` in a union-find forest, compressing the path.
fn find_root(parent: &mut [usize], x: usize) -> usize {
    let mut r = x;
    while parent[r] != r {
        r = parent[r];
    }
    let mut c = x;
    while parent[c] != r {
        let next = parent[c];
        parent[c] = r;
        c = next;
    }
    r
}
