//! Checked CLIF: functions whose instructions are typed and name the spec
//! term that gives their meaning, functions outside the subset with the
//! reason, and run commands tied to their functions.

use std::fmt;

use loweq_semantics::span::{FileId, Span};
use loweq_semantics::value::BitVec;

use super::opcode::IntCC;
use super::syntax::{Spanned, SynHeader};
use super::types::Type;

/// A parsed and checked `.clif` file.
#[derive(Clone, Debug)]
pub struct ClifFile {
    /// The file.
    pub file: FileId,
    /// `test`, `target`, `set` lines.
    pub headers: Vec<SynHeader>,
    /// Functions, in order.
    pub functions: Vec<Function>,
    /// Run commands, in order.
    pub runs: Vec<Run>,
}

/// A function.
#[derive(Clone, Debug)]
pub struct Function {
    /// Its name, with `%`.
    pub name: String,
    /// The `function ... {` line.
    pub span: Span,
    /// Parameter types.
    pub params: Vec<Type>,
    /// Return types.
    pub returns: Vec<Type>,
    /// The body, or why the function is outside the supported subset.
    pub body: Result<Body, Unsupported>,
}

impl Function {
    /// Whether every parameter and return type is `i8`, `i16`, `i32` or
    /// `i64`: the functions the conformance target counts.
    pub fn is_typed_i8_to_i64(&self) -> bool {
        self.params
            .iter()
            .chain(&self.returns)
            .all(|t| matches!(t.int_width(), Some(8 | 16 | 32 | 64)))
    }
}

/// Why a function is not run: a construct outside the supported subset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported {
    /// What is unsupported, in a form that groups well (`instruction
    /// `fcmp``, `floating-point type `f32``).
    pub reason: String,
    /// Where it is.
    pub span: Span,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// The body of a supported function.
#[derive(Clone, Debug)]
pub struct Body {
    /// Blocks; the first is the entry.
    pub blocks: Vec<Block>,
}

/// A value number (`v7` is 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ValueId(pub u32);

impl fmt::Display for ValueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// A block.
#[derive(Clone, Debug)]
pub struct Block {
    /// `block0`.
    pub name: String,
    /// Its parameters and their types.
    pub params: Vec<(ValueId, Type)>,
    /// Its instructions; the last is a terminator.
    pub insts: Vec<Inst>,
}

/// An instruction.
#[derive(Clone, Debug)]
pub struct Inst {
    /// The instruction as written.
    pub span: Span,
    /// The opcode as written, with its type suffix (`iadd.i32`).
    pub opcode: String,
    /// What it does.
    pub kind: InstKind,
}

/// The kinds of instructions.
#[derive(Clone, Debug)]
pub enum InstKind {
    /// An operation with a spec: the term applied to the operands, defining
    /// the results (several results are packed into the term's result
    /// bitvector, the first in the lowest bits).
    Apply {
        /// The spec term (`iadd` for `iadd_imm` too).
        term: &'static str,
        /// The term's arguments, in order.
        args: Vec<Operand>,
        /// The values defined, with their types.
        results: Vec<(ValueId, Type)>,
    },
    /// `jump block1(v2)`.
    Jump(BlockCall),
    /// `brif v0, block1(..), block2(..)`: the first target when `v0` is not
    /// zero.
    Brif {
        /// The condition.
        cond: ValueId,
        /// Taken when the condition is not zero.
        then_: BlockCall,
        /// Taken when it is zero.
        else_: BlockCall,
    },
    /// `return v1, v2`.
    Return(Vec<ValueId>),
}

/// A branch target with its arguments.
#[derive(Clone, Debug)]
pub struct BlockCall {
    /// Index of the target block.
    pub block: usize,
    /// Arguments for its parameters.
    pub args: Vec<ValueId>,
}

/// An argument of a spec term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operand {
    /// An SSA value, with its type.
    Value(ValueId, Type),
    /// The 64-bit immediate of `iconst` (zero-extended from the type's width).
    Imm64(u64),
    /// A condition code.
    Cond(IntCC),
    /// A constant value operand (the immediate of an `_imm` form, extended
    /// to its operand type).
    Const(BitVec),
}

/// A `; run:` command.
#[derive(Clone, Debug)]
pub struct Run {
    /// The comment.
    pub span: Span,
    /// The command as written (`%f(1) == 2`).
    pub text: String,
    /// Index of the function it calls.
    pub function: usize,
    /// The arguments.
    pub args: Vec<Spanned>,
    /// What is expected.
    pub expect: Expect,
}

/// What a run command expects of the results.
#[derive(Clone, Debug)]
pub enum Expect {
    /// `== v` or `== [v, ...]`: the results equal these.
    Equal(Vec<Spanned>),
    /// `!= v` or `!= [v, ...]`: the results, taken together, differ.
    NotEqual(Vec<Spanned>),
}

impl Expect {
    /// The expected literals.
    pub fn values(&self) -> &[Spanned] {
        match self {
            Expect::Equal(v) | Expect::NotEqual(v) => v,
        }
    }
}
