//! The pantri CLI library.
