//! The pantri command line as a library: an app other than Pantri is a few lines, its `main`
//! builds an [`pantri_synth::App`] from its own constructs and hands it to [`cli::main_with`],
//! which provides synth, ls, diff, deploy and destroy.
//!
//! ```no_run
//! use pantri::cli::{main_with, AppContext};
//! use pantri_synth::{App, Environment, StackProps};
//!
//! fn build(_ctx: &AppContext) -> anyhow::Result<App> {
//!     let mut app = App::new();
//!     let mut root = app.root();
//!     let mut stage = root.stage("dev", Environment::new("123456789012", "eu-west-1"));
//!     let _stack = stage.stack("Storage", StackProps::default());
//!     Ok(app)
//! }
//!
//! #[global_allocator]
//! static ALLOCATOR: pantri::Allocator = pantri::Allocator;
//!
//! fn main() -> std::process::ExitCode {
//!     main_with(build)
//! }
//! ```

pub mod app;
pub mod assets;
pub mod baseline;
pub mod cli;
pub mod commands;
pub mod deploy;
pub mod exit;
pub mod settings;
pub mod table;

/// The allocator a pantri binary should declare `#[global_allocator]` (mimalloc): synthesis and
/// diff allocate and free millions of small JSON values, and with it a 100-stage diff takes a
/// third less CPU time than with the system allocator.
pub use mimalloc::MiMalloc as Allocator;
