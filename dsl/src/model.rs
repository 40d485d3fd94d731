//! Models of ISLE types: explicit `(model T (type ...))` forms, and the
//! defaults for built-in integer types, enums and structs.

use std::collections::HashMap;

use cranelift_isle::ast;
use cranelift_isle::sema::{BuiltinType, Fields, IntType, Type, TypeEnv};
use loweq_semantics::eval::MAX_WIDTH;
use loweq_semantics::span::SourceMap;
use loweq_semantics::ty::{EnumDef, Enums, ModelType, VariantDef};

use crate::diag::{did_you_mean, Diagnostic};
use crate::load::pos_span;

/// The models of all ISLE types, and the enums they mention.
pub struct TypeModels {
    /// Per ISLE type id.
    pub models: Vec<Option<ModelType>>,
    /// The enums.
    pub enums: Enums,
}

/// Width of a built-in integer type.
fn int_width(t: IntType) -> u32 {
    match t {
        IntType::U8 | IntType::I8 => 8,
        IntType::U16 | IntType::I16 => 16,
        IntType::U32 | IntType::I32 => 32,
        IntType::U64 | IntType::I64 | IntType::USize | IntType::ISize => 64,
        IntType::U128 | IntType::I128 => 128,
    }
}

/// Resolves `ast::ModelType`s against the type environment and the models
/// computed so far.
pub struct ModelResolver<'a> {
    /// The ISLE type environment.
    pub types: &'a TypeEnv,
    /// The sources, for spans.
    pub sources: &'a SourceMap,
    /// Explicit model forms by type name, for `(named T)` before `T` is done.
    pub explicit: &'a HashMap<String, &'a ast::Model>,
    /// Models computed so far.
    pub models: &'a mut Vec<Option<ModelType>>,
    /// Enums.
    pub enums: &'a mut Enums,
    /// Types being resolved (to detect cycles).
    pub in_progress: Vec<usize>,
}

impl ModelResolver<'_> {
    /// Resolves a model type written in a spec file. `at` is used for the
    /// span of errors.
    pub fn resolve(
        &mut self,
        mt: &ast::ModelType,
        at: ast::Ident,
    ) -> Result<ModelType, Diagnostic> {
        Ok(match mt {
            ast::ModelType::Unspecified => ModelType::Unspecified,
            ast::ModelType::Auto => ModelType::Auto,
            ast::ModelType::Int => ModelType::Int,
            ast::ModelType::Bool => ModelType::Bool,
            ast::ModelType::Unit => ModelType::Unit,
            ast::ModelType::BitVec(None) => ModelType::BitVec(None),
            ast::ModelType::BitVec(Some(w)) => {
                if *w == 0 || *w > MAX_WIDTH as usize {
                    return Err(Diagnostic::new(
                        format!("bitvector width {w} is outside 1..={MAX_WIDTH}"),
                        pos_span(self.sources, at.1),
                    ));
                }
                ModelType::BitVec(Some(*w as u32))
            }
            ast::ModelType::Struct(fields) => {
                let mut out = Vec::new();
                for f in fields {
                    if out
                        .iter()
                        .any(|(n, _): &(String, ModelType)| *n == f.name.0)
                    {
                        return Err(Diagnostic::new(
                            format!("duplicate struct field `{}`", f.name.0),
                            pos_span(self.sources, f.name.1),
                        ));
                    }
                    out.push((f.name.0.clone(), self.resolve(&f.ty, f.name.clone())?));
                }
                out.sort_by(|a, b| a.0.cmp(&b.0));
                ModelType::Struct(out)
            }
            ast::ModelType::Named(name) => {
                let Some(id) = self.types.get_type_by_name(name) else {
                    let mut d = Diagnostic::new(
                        format!("unknown type `{}`", name.0),
                        pos_span(self.sources, name.1),
                    );
                    let names = self.types.types.iter().map(|t| t.name(self.types));
                    if let Some(hint) = did_you_mean(&name.0, names) {
                        d = d.with_note(hint);
                    }
                    return Err(d);
                };
                match self.model_of(id.index())? {
                    Some(m) => m,
                    None => {
                        return Err(Diagnostic::new(
                            format!("type `{}` has no model", name.0),
                            pos_span(self.sources, name.1),
                        )
                        .with_note(format!("add `(model {} (type ...))`", name.0)))
                    }
                }
            }
        })
    }

    /// The model of ISLE type `idx`, computing it on demand.
    pub fn model_of(&mut self, idx: usize) -> Result<Option<ModelType>, Diagnostic> {
        if let Some(m) = &self.models[idx] {
            return Ok(Some(m.clone()));
        }
        let ty = &self.types.types[idx];
        let name = ty.name(self.types).to_string();
        if self.in_progress.contains(&idx) {
            let span = ty
                .pos()
                .map(|p| pos_span(self.sources, p))
                .unwrap_or_default();
            return Err(Diagnostic::new(
                format!("the model of type `{name}` refers to itself"),
                span,
            ));
        }
        self.in_progress.push(idx);
        let model = if let Some(m) = self.explicit.get(&name).copied() {
            match &m.val {
                ast::ModelValue::TypeValue(mt) => {
                    let model = self.resolve(mt, m.name.clone())?;
                    // Variants are matched by position: an enum may only be
                    // modelled by itself, or by something that is not an enum.
                    if let (Type::Enum { .. }, ModelType::Enum(id)) = (ty, &model) {
                        if self.enums.get(*id).name != name {
                            return Err(Diagnostic::new(
                                format!(
                                    "enum `{name}` is modelled as enum `{}`",
                                    self.enums.get(*id).name
                                ),
                                pos_span(self.sources, m.name.1),
                            )
                            .with_note("an ISLE enum's model is the enum itself (the default) or a type that is not an enum"));
                        }
                    }
                    Some(model)
                }
                ast::ModelValue::ConstValue(_) => None,
            }
        } else {
            self.default_model(idx)?
        };
        self.in_progress.pop();
        self.models[idx] = model.clone();
        Ok(model)
    }

    fn field_models(&mut self, fields: &Fields) -> Result<Vec<(String, ModelType)>, Diagnostic> {
        let mut out = Vec::new();
        match fields {
            Fields::Unit => {}
            Fields::Struct(s) => {
                for f in &s.fields {
                    let m = self
                        .model_of(f.ty.index())?
                        .unwrap_or(ModelType::Unspecified);
                    out.push((self.types.syms[f.name.index()].clone(), m));
                }
            }
            Fields::Tuple(t) => {
                for (i, f) in t.fields.iter().enumerate() {
                    let m = self
                        .model_of(f.ty.index())?
                        .unwrap_or(ModelType::Unspecified);
                    out.push((i.to_string(), m));
                }
            }
        }
        Ok(out)
    }

    fn default_model(&mut self, idx: usize) -> Result<Option<ModelType>, Diagnostic> {
        let ty = self.types.types[idx].clone();
        Ok(match ty {
            Type::Builtin(BuiltinType::Bool) => Some(ModelType::Bool),
            Type::Builtin(BuiltinType::Int(t)) => Some(ModelType::BitVec(Some(int_width(t)))),
            Type::Primitive(..) => None,
            Type::Enum { name, variants, .. } => {
                let name = self.types.syms[name.index()].clone();
                let id = self.enums.add(EnumDef {
                    name,
                    variants: Vec::new(),
                });
                // Register before resolving fields so recursive enums terminate.
                self.models[idx] = Some(ModelType::Enum(id));
                let mut defs = Vec::new();
                for v in &variants {
                    defs.push(VariantDef {
                        name: self.types.syms[v.name.index()].clone(),
                        fields: self.field_models(&v.fields)?,
                    });
                }
                self.enums.get_mut(id).variants = defs;
                Some(ModelType::Enum(id))
            }
            Type::Struct { fields, .. } => {
                let mut fs = self.field_models(&fields)?;
                fs.sort_by(|a, b| a.0.cmp(&b.0));
                Some(ModelType::Struct(fs))
            }
        })
    }
}

/// Computes the models of every ISLE type.
pub fn type_models(
    types: &TypeEnv,
    sources: &SourceMap,
    model_defs: &[&ast::Model],
    diags: &mut Vec<Diagnostic>,
) -> TypeModels {
    let mut explicit: HashMap<String, &ast::Model> = HashMap::new();
    for m in model_defs {
        if !matches!(m.val, ast::ModelValue::TypeValue(_)) {
            continue;
        }
        if types.get_type_by_name(&m.name).is_none() {
            let mut d = Diagnostic::new(
                format!("model for undeclared type `{}`", m.name.0),
                pos_span(sources, m.name.1),
            );
            let names = types.types.iter().map(|t| t.name(types));
            if let Some(hint) = did_you_mean(&m.name.0, names) {
                d = d.with_note(hint);
            }
            diags.push(d);
            continue;
        }
        if let Some(prev) = explicit.insert(m.name.0.clone(), m) {
            diags.push(
                Diagnostic::new(
                    format!("type `{}` has two models", m.name.0),
                    pos_span(sources, m.name.1),
                )
                .with_secondary(pos_span(sources, prev.name.1), "first model here"),
            );
        }
    }
    let mut models = vec![None; types.types.len()];
    let mut enums = Enums::default();
    let mut resolver = ModelResolver {
        types,
        sources,
        explicit: &explicit,
        models: &mut models,
        enums: &mut enums,
        in_progress: Vec::new(),
    };
    for idx in 0..types.types.len() {
        if let Err(d) = resolver.model_of(idx) {
            resolver.in_progress.clear();
            diags.push(d);
        }
    }
    TypeModels { models, enums }
}
