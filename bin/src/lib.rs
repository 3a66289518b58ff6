//! The pantri CLI library.

pub mod deploy;
