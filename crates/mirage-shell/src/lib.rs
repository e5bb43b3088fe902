//! The Mirage shell (seed 004): tree-sitter-bash parsed into our own AST,
//! expanded and executed with GNU bash 5.2 semantics.
//!
//! The shell knows no resource: it reaches files through
//! [`mirage_types::Vfs`] and runs non-builtin commands through
//! [`mirage_types::command::CommandHost`].
#![deny(missing_docs)]

pub mod ast;
pub mod parse;
pub mod word;
