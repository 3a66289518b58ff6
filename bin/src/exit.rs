//! The exit codes of `pantri`: one enum for every command, and the one place that maps an error
//! to its code. The library layers below (`deploy`, the engine) return errors and outcomes; only
//! the commands turn them into a code.
//!
//! | code | meaning |
//! |------|---------|
//! | 0    | success: deployed, no changes, a plan prepared, destroy done, nothing differs |
//! | 1    | a difference was found (`synth --check`, `diff --fail`), a deployment or deletion failed, a service did not come up, drift was found, or a stack is in a state pantri will not touch |
//! | 2    | bad input: arguments, settings files, an invalid construct tree, an unknown stage or stack, an unreadable cloud assembly or plan |
//! | 3    | approval was needed and not given (`--yes`, a terminal answer, or `--allow-replace`) |
//! | 4    | AWS could not be reached or refused: credentials missing, expired or of another account, endpoint unreachable, no region |
//! | 130  | stopped on Ctrl-C; a deployment goes on in CloudFormation |

use crate::deploy::error::{ApiError, DeployError};

/// The documented exit codes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Exit {
    /// 0: done.
    #[default]
    Success = 0,
    /// 1: a difference was found, or a deployment or deletion failed.
    Failed = 1,
    /// 2: bad arguments or input.
    Usage = 2,
    /// 3: approval needed but not given.
    ApprovalNeeded = 3,
    /// 4: AWS access problem.
    AccessProblem = 4,
    /// 130: stopped on Ctrl-C.
    Interrupted = 130,
}

/// The line of `--help` that lists the codes.
pub const HELP: &str = "Exit codes: 0 success, 1 difference found or deployment failed, \
2 bad input (usage, settings, invalid constructs), 3 approval needed, 4 AWS access failed, \
130 stopped on Ctrl-C.";

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e as u8)
    }
}

impl Exit {
    /// The code that says more of two: access problems over approval over usage over failure
    /// over Ctrl-C over success.
    #[must_use]
    pub fn worse(self, other: Exit) -> Exit {
        let rank = |e: Exit| match e {
            Exit::Success => 0,
            Exit::Interrupted => 1,
            Exit::Failed => 2,
            Exit::Usage => 3,
            Exit::ApprovalNeeded => 4,
            Exit::AccessProblem => 5,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }

    /// The code of an error that reached a command's edge: a failed AWS call there (credentials,
    /// region, endpoint: the commands handle the rest themselves) is an access problem,
    /// everything else bad input (settings, construct tree, paths).
    pub fn of_error(e: &anyhow::Error) -> Exit {
        if let Some(d) = e.downcast_ref::<DeployError>() {
            return Exit::from(d);
        }
        if e.downcast_ref::<ApiError>().is_some() {
            Exit::AccessProblem
        } else {
            Exit::Usage
        }
    }
}

impl From<&DeployError> for Exit {
    fn from(e: &DeployError) -> Self {
        match e {
            DeployError::Usage(_) | DeployError::Assembly(_) => Exit::Usage,
            DeployError::ApprovalNeeded(_) => Exit::ApprovalNeeded,
            DeployError::Interrupted => Exit::Interrupted,
            // Bad input outranks a stack state: fixing the input is the first thing to do.
            DeployError::Precheck(problems) => {
                if problems.iter().any(|p| Exit::from(p) == Exit::Usage) {
                    Exit::Usage
                } else {
                    Exit::Failed
                }
            }
            e if e.is_access() => Exit::AccessProblem,
            DeployError::WrongAccount { .. }
            | DeployError::Staging { .. }
            | DeployError::StackState { .. }
            | DeployError::Failed { .. }
            | DeployError::Api { .. } => Exit::Failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worse_code_wins_whatever_the_order() {
        let all = [
            Exit::Success,
            Exit::Interrupted,
            Exit::Failed,
            Exit::Usage,
            Exit::ApprovalNeeded,
            Exit::AccessProblem,
        ];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i..] {
                assert_eq!(a.worse(*b), *b, "{a:?} vs {b:?}");
                assert_eq!(b.worse(*a), *b, "{b:?} vs {a:?}");
            }
        }
    }

    #[test]
    fn a_precheck_with_bad_input_is_bad_input_and_otherwise_a_failure() {
        let state = || DeployError::StackState {
            stack: "dev/Data".into(),
            message: "busy".into(),
        };
        let usage = DeployError::Usage("no such file".into());
        assert_eq!(
            Exit::from(&DeployError::Precheck(vec![state(), usage])),
            Exit::Usage
        );
        assert_eq!(
            Exit::from(&DeployError::Precheck(vec![state(), state()])),
            Exit::Failed
        );
    }

    #[test]
    fn another_accounts_credentials_are_an_access_problem() {
        let e = DeployError::WrongAccount {
            stack: "prod/Data".into(),
            expected: "111111111111".into(),
            actual: "222222222222".into(),
            arn: "arn:aws:iam::222222222222:user/ci".into(),
        };
        assert_eq!(Exit::from(&e), Exit::AccessProblem);
    }
}
