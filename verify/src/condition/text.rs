//! Rendering rule fragments (`(iadd x y)`) for counterexamples.

use cranelift_isle::sema::{Expr, Pattern, Rule, VarId as IsleVar};

use super::Builder;

impl Builder<'_> {
    pub(super) fn var_name(&self, rule: &Rule, v: IsleVar) -> String {
        if let Some(c) = &self.context {
            return c.names.get(v.index()).cloned().unwrap_or_default();
        }
        self.p.sym(rule.vars[v.index()].name).to_string()
    }

    pub(super) fn show_lhs_root(&self, rule: &Rule) -> String {
        let name = &self.p.term(rule.root_term).name;
        let args: Vec<String> = rule
            .args
            .iter()
            .map(|a| self.show_pattern(rule, a))
            .collect();
        format!("({name} {})", args.join(" "))
    }

    pub(super) fn show_pattern(&self, rule: &Rule, p: &Pattern) -> String {
        match p {
            Pattern::BindPattern(_, v, sub) => match **sub {
                Pattern::Wildcard(_) => self.var_name(rule, *v),
                _ => format!(
                    "{} @ {}",
                    self.var_name(rule, *v),
                    self.show_pattern(rule, sub)
                ),
            },
            Pattern::Var(_, v) => self.var_name(rule, *v),
            Pattern::ConstBool(_, b) => b.to_string(),
            Pattern::ConstInt(_, i) => i.to_string(),
            Pattern::ConstPrim(_, s) => format!("${}", self.p.sym(*s)),
            Pattern::Wildcard(_) => "_".into(),
            Pattern::And(_, subs) => {
                let parts: Vec<String> = subs.iter().map(|s| self.show_pattern(rule, s)).collect();
                format!("(and {})", parts.join(" "))
            }
            Pattern::Term(_, tid, args) => {
                let name = &self.p.term(*tid).name;
                if args.is_empty() {
                    return format!("({name})");
                }
                let parts: Vec<String> = args.iter().map(|s| self.show_pattern(rule, s)).collect();
                format!("({name} {})", parts.join(" "))
            }
        }
    }

    pub(super) fn show_expr(&self, rule: &Rule, e: &Expr) -> String {
        match e {
            Expr::Var(_, v) => self.var_name(rule, *v),
            Expr::ConstBool(_, b) => b.to_string(),
            Expr::ConstInt(_, i) => i.to_string(),
            Expr::ConstPrim(_, s) => format!("${}", self.p.sym(*s)),
            Expr::Let { body, .. } => self.show_expr(rule, body),
            Expr::Term(_, tid, args) => {
                let info = self.p.term(*tid);
                if info.converter && args.len() == 1 {
                    return self.show_expr(rule, &args[0]);
                }
                if args.is_empty() {
                    return format!("({})", info.name);
                }
                let parts: Vec<String> = args.iter().map(|a| self.show_expr(rule, a)).collect();
                format!("({} {})", info.name, parts.join(" "))
            }
        }
    }
}
