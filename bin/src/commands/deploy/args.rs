//! The arguments of `deploy`, `destroy`, `status` and `drift`, and how the engine's choices
//! (`--require-approval`, `--method`, `--progress`) read from the command line: clap stays here,
//! the engine's enums know nothing of it.

use std::path::PathBuf;

use clap::builder::PossibleValue;
use clap::ValueEnum;

use crate::deploy::approval::RequireApproval;
use crate::deploy::engine::Method;
use crate::deploy::plan::ParameterArg;
use crate::deploy::progress::ProgressMode;

/// `impl ValueEnum` for an engine enum: each variant with its command-line name and help.
macro_rules! value_enum {
    ($ty:ty { $($variant:ident => $name:literal: $help:literal),+ $(,)? }) => {
        impl ValueEnum for $ty {
            fn value_variants<'a>() -> &'a [Self] {
                &[$(<$ty>::$variant),+]
            }

            fn to_possible_value(&self) -> Option<PossibleValue> {
                Some(match self {
                    $(<$ty>::$variant => PossibleValue::new($name).help($help)),+
                })
            }
        }
    };
}

value_enum!(RequireApproval {
    Never => "never": "Never ask",
    AnyChange => "any-change": "Ask for any change",
    Broadening => "broadening": "Ask for changes that widen access or may lose data",
});

value_enum!(Method {
    ChangeSet => "change-set": "Create, preview, approve and execute a change set",
    PrepareChangeSet => "prepare-change-set": "Create and preview the change sets and write a plan file for review",
});

value_enum!(ProgressMode {
    Auto => "auto": "A live view on a terminal, event lines otherwise",
    Bar => "bar": "A live view of the resources in progress and done",
    Events => "events": "Every stack event as one line (for CI logs)",
});

/// How to reach AWS, shared by `deploy` and `destroy`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct AwsArgs {
    /// Send CloudFormation and S3 (template staging) calls to this endpoint (also read from
    /// AWS_ENDPOINT_URL).
    #[arg(long)]
    pub endpoint_url: Option<String>,
    /// Region for stacks whose environment does not fix one (`unknown-region`).
    #[arg(long)]
    pub region: Option<String>,
    /// The AWS profile to use instead of the default credential chain's choice.
    #[arg(long)]
    pub profile: Option<String>,
    /// Milliseconds between two polls of CloudFormation.
    #[arg(long, default_value_t = 2000, hide = true)]
    pub poll_interval_ms: u64,
}

/// `pantri deploy STAGE [STACK...]`.
#[derive(clap::Args, Clone, Debug)]
pub struct DeployArgs {
    /// The stage to deploy (not with --plan, which names its stacks).
    #[arg(required_unless_present = "plan", conflicts_with = "plan")]
    pub stage: Option<String>,
    /// Stacks of the stage to deploy (default: all), by name or `stage/stack`.
    #[arg(conflicts_with = "plan")]
    pub stacks: Vec<String>,
    /// Execute exactly the change sets of a plan file that --method prepare-change-set wrote,
    /// after checking each against CloudFormation; a plan with assets publishes them from the
    /// assembly --app names (checked against the plan's hashes) before each change set.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["method", "parameters", "exclusively", "staging_bucket", "no_publish"])]
    pub plan: Option<PathBuf>,
    /// Where --method prepare-change-set writes the plan file.
    #[arg(long, value_name = "FILE", default_value = "pantri-plan.json")]
    pub plan_out: PathBuf,
    /// Deploy only the named stacks, not the stacks they depend on.
    #[arg(long)]
    pub exclusively: bool,
    /// Deploy an existing cloud assembly (as CI does after a reviewed synth) instead of
    /// synthesizing the app.
    #[arg(long, value_name = "DIR")]
    pub app: Option<PathBuf>,
    /// How many independent stacks deploy at once.
    #[arg(long, default_value_t = 1)]
    pub concurrency: usize,
    /// When to ask before executing a change set.
    #[arg(long, value_enum, default_value_t)]
    pub require_approval: RequireApproval,
    /// Approve every change that would be asked about.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Allow replacing this stateful resource (logical ID); repeatable.
    #[arg(long, value_name = "LOGICAL_ID")]
    pub allow_replace: Vec<String>,
    /// How the change set is used.
    #[arg(long, value_enum, default_value_t)]
    pub method: Method,
    /// How progress is shown.
    #[arg(long, value_enum, default_value_t)]
    pub progress: ProgressMode,
    /// A parameter value, `KEY=VALUE` or `STACK:KEY=VALUE`; repeatable.
    #[arg(long = "parameters", value_name = "KEY=VALUE")]
    pub parameters: Vec<ParameterArg>,
    /// Write the stacks' outputs as JSON `{stackName: {key: value}}` to this file.
    #[arg(long)]
    pub outputs_file: Option<PathBuf>,
    /// Refuse instead of waiting when a stack has an operation in progress.
    #[arg(long)]
    pub no_wait: bool,
    /// S3 bucket (in the stacks' region) for templates over 51,200 bytes; default
    /// `pantri-staging-<account>-<region>`, created on first use.
    #[arg(long)]
    pub staging_bucket: Option<String>,
    /// Run the change sets as this CloudFormation service role (deployers then need only
    /// CloudFormation, S3 staging and iam:PassRole on it).
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// How long to wait for the ECS services of a deployed stack to reach a steady state
    /// (seconds); 0 skips the check.
    #[arg(long, default_value_t = 600, value_name = "SECONDS")]
    pub service_timeout: u64,
    /// Seconds without a new stack event after which a line says what CloudFormation is
    /// still doing.
    #[arg(long, default_value_t = 30, hide = true)]
    pub quiet_line_secs: u64,
    /// Publish the stacks' assets (images, files, file trees) and stop: no change set.
    #[arg(long, conflicts_with_all = ["no_publish", "plan", "method"])]
    pub publish_only: bool,
    /// Do not publish assets (CI published them with --publish-only): only fill the asset
    /// parameters from the assembly. Not with --plan, which publishes what its change sets name.
    #[arg(long)]
    pub no_publish: bool,
    /// How to reach AWS.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Not an argument: whether the preview is colored (the CLI sets it from the terminal,
    /// `--no-color` and `NO_COLOR`).
    #[arg(skip)]
    pub color: bool,
    /// Not an argument: the terminal's width, which the preview's tables fit.
    #[arg(skip)]
    pub width: Option<usize>,
}

/// `pantri status STAGE [STACK...]`.
#[derive(clap::Args, Clone, Debug)]
pub struct StatusArgs {
    /// The stage.
    pub stage: String,
    /// Stacks of the stage to check (default: all).
    pub stacks: Vec<String>,
    /// Read an existing cloud assembly instead of synthesizing the app.
    #[arg(long, value_name = "DIR")]
    pub app: Option<PathBuf>,
    /// Wait up to this long for services still deploying (seconds); 0 looks once.
    #[arg(long, default_value_t = 0, value_name = "SECONDS")]
    pub wait: u64,
    /// How to reach AWS.
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// `pantri drift STAGE [STACK...]`.
#[derive(clap::Args, Clone, Debug)]
pub struct DriftArgs {
    /// The stage.
    pub stage: String,
    /// Stacks of the stage to check (default: all).
    pub stacks: Vec<String>,
    /// Read an existing cloud assembly instead of synthesizing the app.
    #[arg(long, value_name = "DIR")]
    pub app: Option<PathBuf>,
    /// Give up on a detection after this long (seconds).
    #[arg(long, default_value_t = 900, value_name = "SECONDS")]
    pub timeout: u64,
    /// How to reach AWS.
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// `pantri destroy STAGE [STACK...]`.
#[derive(clap::Args, Clone, Debug)]
pub struct DestroyArgs {
    /// The stage to destroy.
    pub stage: String,
    /// Stacks of the stage to destroy (default: all).
    pub stacks: Vec<String>,
    /// Destroy the stacks of an existing cloud assembly instead of synthesizing the app.
    #[arg(long, value_name = "DIR")]
    pub app: Option<PathBuf>,
    /// Delete without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// How to reach AWS.
    #[command(flatten)]
    pub aws: AwsArgs,
}
