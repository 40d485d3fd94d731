//! Model types: the verification-domain types that ISLE types are modelled by.

use std::fmt;

/// Index of an enum in [`Enums`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnumId(pub usize);

/// A model type as written in a spec (`Int`, `(bv 8)`, `(bv)`, a struct, an
/// ISLE enum), with named references already resolved.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ModelType {
    /// `Bool`.
    Bool,
    /// `Int`: a mathematical integer.
    Int,
    /// `Unit`.
    Unit,
    /// `!`: a placeholder that supports nothing but equality.
    Unspecified,
    /// `_`: any primitive type, left to inference.
    Auto,
    /// `(bv N)` or, with `None`, a bitvector whose width inference decides.
    BitVec(Option<u32>),
    /// `(struct (f T) ...)`: structurally typed.
    Struct(Vec<(String, ModelType)>),
    /// The model of an ISLE enum type.
    Enum(EnumId),
}

impl ModelType {
    /// Renders the type in spec syntax, using `enums` for enum names.
    pub fn display<'a>(&'a self, enums: &'a Enums) -> impl fmt::Display + 'a {
        DisplayModelType { ty: self, enums }
    }
}

struct DisplayModelType<'a> {
    ty: &'a ModelType,
    enums: &'a Enums,
}

impl fmt::Display for DisplayModelType<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ty {
            ModelType::Bool => write!(f, "Bool"),
            ModelType::Int => write!(f, "Int"),
            ModelType::Unit => write!(f, "Unit"),
            ModelType::Unspecified => write!(f, "!"),
            ModelType::Auto => write!(f, "_"),
            ModelType::BitVec(Some(w)) => write!(f, "(bv {w})"),
            ModelType::BitVec(None) => write!(f, "(bv)"),
            ModelType::Struct(fields) => {
                write!(f, "(struct")?;
                for (name, ty) in fields {
                    write!(f, " ({name} {})", ty.display(self.enums))?;
                }
                write!(f, ")")
            }
            ModelType::Enum(id) => write!(f, "{}", self.enums.get(*id).name),
        }
    }
}

/// One variant of a modelled enum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VariantDef {
    /// The variant's name, without the enum prefix.
    pub name: String,
    /// Field names and model types, in declaration order.
    pub fields: Vec<(String, ModelType)>,
}

/// A modelled enum: the model of an ISLE `(enum ...)` type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumDef {
    /// The ISLE type name.
    pub name: String,
    /// Its variants, in declaration order; the discriminant is the index.
    pub variants: Vec<VariantDef>,
}

impl EnumDef {
    /// The index of the variant with the given name.
    pub fn variant_index(&self, name: &str) -> Option<usize> {
        self.variants.iter().position(|v| v.name == name)
    }

    /// Bits needed to hold a discriminant (at least one).
    pub fn discriminant_bits(&self) -> u32 {
        let n = self.variants.len().max(2);
        usize::BITS - (n - 1).leading_zeros()
    }
}

/// All enums that specs of one program can mention.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Enums {
    defs: Vec<EnumDef>,
}

impl Enums {
    /// Adds an enum and returns its id.
    pub fn add(&mut self, def: EnumDef) -> EnumId {
        self.defs.push(def);
        EnumId(self.defs.len() - 1)
    }

    /// The enum with the given id.
    pub fn get(&self, id: EnumId) -> &EnumDef {
        &self.defs[id.0]
    }

    /// Mutable access, used while the front end fills in variant fields.
    pub fn get_mut(&mut self, id: EnumId) -> &mut EnumDef {
        &mut self.defs[id.0]
    }

    /// Looks an enum up by its ISLE name.
    pub fn by_name(&self, name: &str) -> Option<EnumId> {
        self.defs.iter().position(|d| d.name == name).map(EnumId)
    }
}

/// A fully inferred type: what every node of a formula has after inference.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    /// Boolean.
    Bool,
    /// Mathematical integer.
    Int,
    /// Unit.
    Unit,
    /// Unspecified placeholder.
    Unspecified,
    /// Bitvector of the given width.
    Bv(u32),
    /// Struct with named fields.
    Struct(Vec<(String, Ty)>),
    /// Enum.
    Enum(EnumId),
}

impl Ty {
    /// The type a model type denotes, when it is complete (no unknown
    /// widths, no `_`).
    pub fn from_model(mt: &ModelType) -> Option<Ty> {
        Some(match mt {
            ModelType::Bool => Ty::Bool,
            ModelType::Int => Ty::Int,
            ModelType::Unit => Ty::Unit,
            ModelType::Unspecified => Ty::Unspecified,
            ModelType::Auto | ModelType::BitVec(None) => return None,
            ModelType::BitVec(Some(w)) => Ty::Bv(*w),
            ModelType::Struct(fields) => {
                let mut fs = fields
                    .iter()
                    .map(|(n, t)| Some((n.clone(), Ty::from_model(t)?)))
                    .collect::<Option<Vec<_>>>()?;
                fs.sort_by(|a, b| a.0.cmp(&b.0));
                Ty::Struct(fs)
            }
            ModelType::Enum(id) => Ty::Enum(*id),
        })
    }

    /// The width, for bitvectors.
    pub fn width(&self) -> Option<u32> {
        match self {
            Ty::Bv(w) => Some(*w),
            _ => None,
        }
    }

    /// Renders the type in spec syntax.
    pub fn display<'a>(&'a self, enums: &'a Enums) -> impl fmt::Display + 'a {
        DisplayTy { ty: self, enums }
    }
}

struct DisplayTy<'a> {
    ty: &'a Ty,
    enums: &'a Enums,
}

impl fmt::Display for DisplayTy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ty {
            Ty::Bool => write!(f, "Bool"),
            Ty::Int => write!(f, "Int"),
            Ty::Unit => write!(f, "Unit"),
            Ty::Unspecified => write!(f, "!"),
            Ty::Bv(w) => write!(f, "(bv {w})"),
            Ty::Struct(fields) => {
                write!(f, "(struct")?;
                for (name, ty) in fields {
                    write!(f, " ({name} {})", ty.display(self.enums))?;
                }
                write!(f, ")")
            }
            Ty::Enum(id) => write!(f, "{}", self.enums.get(*id).name),
        }
    }
}
