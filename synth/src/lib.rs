//! The core of pantri: the construct tree, values and intrinsics, logical IDs, the template
//! model and the cloud-assembly writer, and the typed CloudFormation resources generated from the
//! resource schemas.
//!
//! No AWS SDK, no async runtime, no CLI: pure and fast to test.

pub mod assembly;
pub mod asset;
// Generated code: laid out by the generator, checked for freshness by byte comparison.
#[rustfmt::skip]
pub mod cfn;
pub mod diff;
pub mod error;
pub mod fns;
pub mod json;
pub mod logical_id;
mod manifest;
mod pretty;
mod resolve;
pub mod resource;
mod scope;
pub mod sink;
pub mod spec;
pub mod synthesize;
pub mod tags;
mod template;
pub mod tree;
pub mod validate;
pub mod value;
pub mod yaml;

pub use assembly::CloudAssembly;
pub use error::{Problem, Result, Severity, SynthError};
pub use resource::{CfnResource, DeletionPolicy, RawResource, Res, ResourceBody, ResourceOptions};
pub use scope::Scope;
pub use synthesize::{synthesize, synthesize_into, Format, SynthOptions, Synthesis, Synthesized};
pub use tree::{
    App, ConditionRef, Environment, MappingRef, NodeId, Output, OutputRef, ParamRef, Parameter,
    StackProps,
};
pub use value::{
    Bool, Int, Intrinsic, Json, List, Map, Num, Pseudo, Str, ToValue, Typed, Value, ValueMap,
};
