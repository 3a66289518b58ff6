//! `pantri deploy` and `pantri destroy` through CloudFormation change sets.
//!
//! The layers, one way (the command line and exit codes live in `crate::commands::deploy`, above
//! this module, which knows nothing of them): [`plan`] selects and orders stacks; [`engine`] is the per-stack state machine and the
//! concurrent scheduler; [`approval`] decides what needs a human; [`progress`] shows it;
//! [`destroy`] deletes. All of them talk to CloudFormation through the [`api::CloudFormation`]
//! trait, implemented over the AWS SDK in [`sdk`] and by a scripted fake in the unit tests.
//!
//! A template body over [`engine::INLINE_TEMPLATE_LIMIT`] (51,200 bytes) cannot be sent inline:
//! the engine uploads it through the [`api::TemplateStaging`] trait (S3, in [`s3`]) to
//! `<stack-name>/<sha256 of the body>.json` in the staging bucket (`--staging-bucket`, or
//! `pantri-staging-<account>-<region>`, created on first use with public access blocked, SSE-S3,
//! bucket-owner-enforced ownership, a TLS-only policy and a 30-day expiry), skipping the upload
//! when that key exists, and passes the object's URL as `TemplateURL`. Smaller bodies go inline.

pub mod account;
pub mod api;
pub mod approval;
pub mod checks;
pub mod delegation;
pub mod deployed;
pub mod destroy;
pub mod drift;
pub mod engine;
pub mod error;
pub mod exports;
pub mod files;
pub mod hardening;
pub mod hooks;
pub mod interrupt;
pub mod names;
pub mod pace;
pub mod plan;
pub mod planfile;
pub mod progress;
pub mod s3;
pub mod sdk;
pub mod sdk_names;
pub mod sdk_services;
pub mod sdk_stacks;
pub mod service_status;
pub mod zones;

#[cfg(test)]
pub(crate) mod fake;
