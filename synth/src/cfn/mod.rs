//! Typed CloudFormation resources, generated from the resource schemas by `codegen`.
//!
//! Placeholder until the generator lands: an empty spec table.

use crate::spec::TypeSpec;

/// Every type pantri has a schema for, sorted by type name.
pub static SPECS: &[TypeSpec] = &[];
