//! The exit codes of `pantri`, fixed and documented:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success (also: no changes to deploy) |
//! | 1 | a difference was found (`synth --check`, `diff --fail`) or a deployment failed |
//! | 2 | bad input: usage, settings files, an invalid construct tree |
//! | 3 | a change needs approval that was not given |
//! | 4 | AWS access failed (credentials, region, endpoint) |

use std::process::ExitCode;

/// Success.
pub const OK: u8 = 0;
/// A difference was found, or a deployment failed.
pub const DIFFERENCE_OR_FAILURE: u8 = 1;
/// Bad input.
pub const BAD_INPUT: u8 = 2;
/// Approval needed.
pub const APPROVAL_NEEDED: u8 = 3;
/// AWS access failed.
pub const AWS_ACCESS: u8 = 4;

/// The process exit code.
pub fn code(c: u8) -> ExitCode {
    ExitCode::from(c)
}
