//! `loweq repl`: write a rule, see it proved or broken at once.
//!
//! A [`Session`] holds the shipped semantics of one backend, the user's
//! files and every entry typed so far; an entry of ISLE declarations adds
//! to it (replacing earlier declarations of the same names), and its rules,
//! with every loaded rule the change may affect, are verified at once.
//! Commands start with `:` (`:eval`, `:spec`, `:rules`, `:why`, ...). The
//! session is plain data in, text out ([`Session::submit`]); the terminal
//! front end ([`terminal`]) adds line editing, history, completion and
//! Ctrl-C, or reads a script from a pipe.

pub mod commands;
pub mod complete;
mod eval;
pub mod session;
pub mod sexp;
pub mod terminal;
pub mod units;

pub use session::{Config, Reply, Session, Status};
