//! The deploy errors, each rendered as one line that says what to do (`crate::exit` maps each
//! to its exit code).

/// A failure of one CloudFormation call, already classified for the user.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The credential chain (environment, profiles, SSO, instance role) found nothing.
    #[error("no AWS credentials found ({0}): set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws sso login`")]
    NoCredentials(String),
    /// Credentials were found but AWS refused them.
    #[error("AWS refused the credentials ({0}): they are expired or invalid; refresh them (for SSO: `aws sso login`)")]
    BadCredentials(String),
    /// The endpoint did not answer (network, proxy, wrong `--endpoint-url`, wrong region).
    #[error("cannot reach the CloudFormation endpoint for region {region}: {message} (check --region and --endpoint-url / AWS_ENDPOINT_URL)")]
    Unreachable {
        /// The region the client was built for.
        region: String,
        /// What the transport said.
        message: String,
    },
    /// No region could be determined.
    #[error("no AWS region configured: pass --region or set AWS_REGION")]
    NoRegion,
    /// The caller may not do this.
    #[error("access denied: {0}")]
    AccessDenied(String),
    /// The service does not know this operation (for example an emulator).
    #[error("operation not supported by this endpoint: {0}")]
    Unsupported(String),
    /// Any other error the service returned.
    #[error("{code}: {message}")]
    Service {
        /// The AWS error code, such as `ValidationError`.
        code: String,
        /// The service's message.
        message: String,
    },
}

impl ApiError {
    /// A service error with this code and message.
    pub fn service(code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Service {
            code: code.into(),
            message: message.into(),
        }
    }

    /// Whether the error is about reaching AWS at all (credentials, endpoint, region) rather than
    /// about the deployment.
    pub fn is_access(&self) -> bool {
        matches!(
            self,
            ApiError::NoCredentials(_)
                | ApiError::BadCredentials(_)
                | ApiError::Unreachable { .. }
                | ApiError::NoRegion
                | ApiError::AccessDenied(_)
        )
    }

    /// Whether the service asked the caller to slow down: such a call is retried after a
    /// backoff, never reported as the deployment's failure.
    pub fn is_throttling(&self) -> bool {
        match self {
            ApiError::Service { code, message } => {
                matches!(
                    code.as_str(),
                    "Throttling"
                        | "ThrottlingException"
                        | "ThrottledException"
                        | "RequestLimitExceeded"
                        | "TooManyRequestsException"
                        | "SlowDown"
                ) || message.contains("Rate exceeded")
            }
            _ => false,
        }
    }

    /// The service's message, or the whole rendering for non-service errors.
    pub fn message(&self) -> String {
        match self {
            ApiError::Service { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }
}

/// Why a deploy or destroy stopped.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// Bad arguments or bad input (assembly, parameters, stack names).
    #[error("{0}")]
    Usage(String),
    /// The cloud assembly could not be read.
    #[error("cannot read the cloud assembly: {0}")]
    Assembly(#[from] pantri_synth::SynthError),
    /// A change needs approval that was not given.
    #[error("{0}")]
    ApprovalNeeded(String),
    /// A stack is in a state pantri will not touch.
    #[error("[{stack}] {message}")]
    StackState {
        /// The stack's display name.
        stack: String,
        /// What is wrong and the way out.
        message: String,
    },
    /// The deployment ran and failed.
    #[error("[{stack}] {message}")]
    Failed {
        /// The stack's display name.
        stack: String,
        /// The first failure.
        message: String,
    },
    /// The S3 staging bucket for a template over the inline limit could not be used.
    #[error("[{stack}] cannot stage the template of stack {stack_name} in S3 bucket {bucket}: {source}; pass --staging-bucket NAME with an existing bucket in the stack's region that these credentials may write to")]
    Staging {
        /// The stack's display name.
        stack: String,
        /// The CloudFormation stack name.
        stack_name: String,
        /// The staging bucket.
        bucket: String,
        /// The S3 call's error (boxed: it keeps the error type small).
        source: Box<ApiError>,
    },
    /// The credentials belong to another account than the stack's environment.
    #[error("[{stack}] wrong AWS account: the stack deploys to account {expected}, but these credentials are account {actual} ({arn}); use credentials of account {expected} (--profile NAME) or fix the stage's account")]
    WrongAccount {
        /// The stack's display name.
        stack: String,
        /// The account of the stack's environment.
        expected: String,
        /// The caller's account (STS).
        actual: String,
        /// The caller's ARN.
        arn: String,
    },
    /// Problems found before anything was touched, each a whole line; all are reported at once.
    #[error("{} problem(s) found before changing anything; nothing was changed:\n{}", .0.len(), .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Precheck(Vec<DeployError>),
    /// The user pressed Ctrl-C.
    #[error("interrupted")]
    Interrupted,
    /// A CloudFormation call failed.
    #[error("[{stack}] {source}")]
    Api {
        /// The stack's display name (or `-`).
        stack: String,
        /// The call's error.
        source: ApiError,
    },
}

impl DeployError {
    /// Whether AWS refused or could not be reached (credentials missing, expired or of another
    /// account, endpoint, region): nothing else can be checked then.
    pub fn is_access(&self) -> bool {
        match self {
            DeployError::WrongAccount { .. } => true,
            DeployError::Api { source, .. } => source.is_access(),
            DeployError::Staging { source, .. } => source.is_access(),
            _ => false,
        }
    }

    /// One problem as it is, several as one report.
    pub fn precheck(mut problems: Vec<DeployError>) -> Self {
        if problems.len() == 1 {
            problems.remove(0)
        } else {
            DeployError::Precheck(problems)
        }
    }

    /// Wraps an API error with the stack it concerns.
    pub fn api(stack: &str, source: ApiError) -> Self {
        DeployError::Api {
            stack: stack.to_owned(),
            source,
        }
    }
}
