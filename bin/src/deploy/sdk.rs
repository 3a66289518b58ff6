//! [`CloudFormation`] over `aws-sdk-cloudformation` (and [`super::api::TemplateStaging`] over
//! `aws-sdk-s3`, in [`super::s3`]; ECS and ELBv2 for the service check, in
//! [`super::sdk_services`]): one set of clients per region sharing one configuration (the
//! standard credential chain: environment, profiles, SSO, process, instance role; standard-mode
//! retries; one rustls/ring HTTPS client), and errors classified into [`ApiError`] so each
//! becomes one clear line.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_cloudformation::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_cloudformation::primitives::DateTimeFormat;
use aws_sdk_cloudformation::types::{
    Capability, ChangeSetType as SdkChangeSetType, Parameter, RegistryType, Tag,
};
use aws_sdk_cloudformation::Client;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};

use super::api::{
    ApiResult, ChangeSetInfo, ChangeSetRequest, ChangeSetType, CloudFormation, ParameterValue,
    ResourceChange, StackEvent, StackInfo, StackResource, TypeStatus,
};
use super::error::ApiError;

/// How to reach AWS: profile and endpoint overrides (`--profile`, `--endpoint-url`).
#[derive(Clone, Debug, Default)]
pub struct Connection {
    /// A named profile instead of the default chain's choice.
    pub profile: Option<String>,
    /// An endpoint instead of AWS's (the SDK also reads `AWS_ENDPOINT_URL`).
    pub endpoint_url: Option<String>,
    /// Total attempts per call (standard retry mode, with backoff); 0 means the default, 5.
    pub max_attempts: u32,
}

/// The CloudFormation and S3 (template staging) clients for one region.
#[derive(Clone, Debug)]
pub struct SdkCloudFormation {
    pub(super) client: Client,
    pub(crate) s3: aws_sdk_s3::Client,
    /// ECR, for image assets ([`crate::assets::sdk`]).
    pub(crate) ecr: aws_sdk_ecr::Client,
    /// CloudFront, for invalidations after a deploy ([`crate::assets::sdk`]).
    pub(crate) cloudfront: aws_sdk_cloudfront::Client,
    pub(super) region: String,
    /// The endpoint override in use (`--endpoint-url` or `AWS_ENDPOINT_URL`), if any.
    pub(super) endpoint_url: Option<String>,
    /// ECS, for the service check (`super::service_status`).
    pub(super) ecs: aws_sdk_ecs::Client,
    /// Elastic Load Balancing v2, for target health.
    pub(super) elb: aws_sdk_elasticloadbalancingv2::Client,
    /// CloudWatch Logs and Secrets Manager, for names a new stack would take
    /// ([`super::names`]).
    pub(super) logs: aws_sdk_cloudwatchlogs::Client,
    pub(super) secrets: aws_sdk_secretsmanager::Client,
    /// Route 53, for the ACM validation records of a zone destroy deletes ([`super::zones`]).
    pub(super) route53: aws_sdk_route53::Client,
}

/// The SDK configuration for `region`: one rustls (ring) HTTPS client, standard retries, and the
/// credentials of `--profile` when one is named. A named profile wins over credentials in the
/// environment, as it does for the AWS CLI; the SDK's default chain would take
/// `AWS_ACCESS_KEY_ID` first and ignore the profile silently.
pub async fn load_config(region: &str, connection: &Connection) -> aws_config::SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let attempts = if connection.max_attempts == 0 {
        5
    } else {
        connection.max_attempts
    };
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .http_client(http.clone())
        .retry_config(RetryConfig::standard().with_max_attempts(attempts))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_attempt_timeout(Duration::from_secs(60))
                .build(),
        );
    if let Some(p) = &connection.profile {
        // The profile provider may call STS or SSO itself (role_arn, sso_session): it needs
        // the same HTTPS client and region as the clients.
        let provider_config = aws_config::provider_config::ProviderConfig::without_region()
            .with_region(Some(Region::new(region.to_owned())))
            .with_http_client(http);
        loader = loader.profile_name(p).credentials_provider(
            aws_config::profile::ProfileFileCredentialsProvider::builder()
                .configure(&provider_config)
                .profile_name(p)
                .build(),
        );
    }
    if let Some(url) = &connection.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

impl SdkCloudFormation {
    /// Builds the clients for `region` from [`load_config`].
    pub async fn connect(region: &str, connection: &Connection) -> Self {
        let config = load_config(region, connection).await;
        let endpoint_url = config.endpoint_url().map(str::to_owned);
        // An emulator answers on one host: S3 must address buckets in the path there.
        let s3 = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(endpoint_url.is_some())
            .build();
        SdkCloudFormation {
            client: Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(s3),
            ecr: aws_sdk_ecr::Client::new(&config),
            cloudfront: aws_sdk_cloudfront::Client::new(&config),
            region: region.to_owned(),
            endpoint_url,
            ecs: aws_sdk_ecs::Client::new(&config),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            secrets: aws_sdk_secretsmanager::Client::new(&config),
            route53: aws_sdk_route53::Client::new(&config),
        }
    }

    pub(crate) fn classify<E, R>(&self, error: SdkError<E, R>) -> ApiError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        classify_error(&self.region, error)
    }
}

impl SdkCloudFormation {
    /// `GetTemplate`: the deployed template, or a change set's original template.
    async fn template(&self, stack: &str, change_set: Option<&str>) -> ApiResult<Option<String>> {
        let mut call = self.client.get_template().stack_name(stack);
        if let Some(cs) = change_set {
            call = call
                .change_set_name(cs)
                .template_stage(aws_sdk_cloudformation::types::TemplateStage::Original);
        }
        match call.send().await {
            Ok(out) => Ok(out.template_body().map(str::to_owned)),
            Err(e) => {
                let e = self.classify(e);
                if is_missing_stack(&e) {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }
}

/// Classifies an SDK error of a call to `region` into one clear [`ApiError`].
pub(super) fn classify_error<E, R>(region: &str, error: SdkError<E, R>) -> ApiError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let text = DisplayErrorContext(&error).to_string();
    match &error {
        SdkError::ServiceError(e) if e.err().code().is_none() && e.err().message().is_none() => {
            // No AWS error at all (an emulator's HTML error page for a call it lacks): the
            // SDK's context is a debug dump, which says nothing to a person.
            ApiError::Unsupported(
                "the endpoint answered with an error that is not an AWS error (it may not implement this call)".into(),
            )
        }
        SdkError::ServiceError(e) => {
            let err = e.err();
            let code = err.code().unwrap_or("Unknown").to_owned();
            // An emulator (or a proxy) may answer with no AWS error body at all: keep the
            // raw context, so the line still says what happened.
            let message = match err.message() {
                Some(m) if !m.is_empty() => m.to_owned(),
                _ => short(&text),
            };
            match code.as_str() {
                "ExpiredToken"
                | "ExpiredTokenException"
                | "InvalidClientTokenId"
                | "UnrecognizedClientException"
                | "SignatureDoesNotMatch"
                | "InvalidSignatureException"
                | "AuthFailure" => ApiError::BadCredentials(format!("{code}: {message}")),
                "AccessDenied" | "AccessDeniedException" => ApiError::AccessDenied(message),
                "InvalidAction"
                | "UnknownOperation"
                | "UnknownOperationException"
                | "NotImplemented" => ApiError::Unsupported(format!("{code}: {message}")),
                _ => ApiError::Service { code, message },
            }
        }
        SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() => ApiError::Unreachable {
            region: region.to_owned(),
            message: d
                .as_connector_error()
                .map_or_else(|| short(&text), |c| root_cause(c)),
        },
        SdkError::TimeoutError(_) => ApiError::Unreachable {
            region: region.to_owned(),
            message: "timed out".into(),
        },
        _ if text.contains("credential") || text.contains("Credential") => {
            // The chain's message ends its first line with "Attempted:" and lists the
            // providers below: keep the one line, without the dangling colon.
            // Past " (" comes the SDK's debug rendering of the same error: never show that.
            let plain = match text.find(" (") {
                Some(i) if text[i..].contains('{') => &text[..i],
                _ => text.as_str(),
            };
            let line = short(plain);
            let line = line.trim_end_matches("Attempted:").trim_end();
            ApiError::NoCredentials(line.trim_end_matches('.').to_owned())
        }
        _ if text.contains("region") && text.contains("not") => ApiError::NoRegion,
        SdkError::ResponseError(_) => ApiError::Unsupported(short(&text)),
        _ => ApiError::Unreachable {
            region: region.to_owned(),
            message: short(&text),
        },
    }
}

/// The innermost error of a source chain: for a failed connection, what the OS said
/// (`Connection refused (os error 111)`).
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// The innermost part of an SDK error chain (`a: b: c` → `c`), which is the informative one.
fn short(text: &str) -> String {
    let line = text.lines().next().unwrap_or(text);
    let parts: Vec<&str> = line.split(": ").collect();
    parts
        .iter()
        .rev()
        .find(|p| !p.trim().is_empty())
        .map(|p| p.trim().to_owned())
        .unwrap_or_else(|| line.to_owned())
}

fn is_missing_stack(e: &ApiError) -> bool {
    matches!(e, ApiError::Service { code, message } if code == "ValidationError" && message.contains("does not exist"))
}

impl CloudFormation for SdkCloudFormation {
    async fn describe_stack(&self, stack: &str) -> ApiResult<Option<StackInfo>> {
        let out = match self.client.describe_stacks().stack_name(stack).send().await {
            Ok(out) => out,
            Err(e) => {
                let e = self.classify(e);
                return if is_missing_stack(&e) {
                    Ok(None)
                } else {
                    Err(e)
                };
            }
        };
        Ok(out.stacks().first().map(|s| StackInfo {
            name: s.stack_name().unwrap_or_default().to_owned(),
            id: s.stack_id().unwrap_or_default().to_owned(),
            status: s
                .stack_status()
                .map(|st| st.as_str().to_owned())
                .unwrap_or_default(),
            status_reason: s.stack_status_reason().map(str::to_owned),
            outputs: s
                .outputs()
                .iter()
                .filter_map(|o| {
                    Some((
                        o.output_key()?.to_owned(),
                        o.output_value().unwrap_or_default().to_owned(),
                    ))
                })
                .collect(),
            parameters: s
                .parameters()
                .iter()
                .filter_map(|p| p.parameter_key().map(str::to_owned))
                .collect(),
            parameter_values: s
                .parameters()
                .iter()
                .filter_map(|p| {
                    Some((
                        p.parameter_key()?.to_owned(),
                        p.parameter_value().unwrap_or_default().to_owned(),
                    ))
                })
                .collect(),
            termination_protection: s.enable_termination_protection().unwrap_or(false),
            last_updated: s
                .last_updated_time()
                .or(s.creation_time())
                .and_then(|t| t.fmt(DateTimeFormat::DateTime).ok()),
            tags: s
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
                .collect(),
        }))
    }

    async fn create_change_set(&self, r: &ChangeSetRequest) -> ApiResult<String> {
        let parameters = r
            .parameters
            .iter()
            .map(|p| match p {
                ParameterValue::Value { key, value } => Parameter::builder()
                    .parameter_key(key)
                    .parameter_value(value)
                    .build(),
                ParameterValue::UsePrevious { key } => Parameter::builder()
                    .parameter_key(key)
                    .use_previous_value(true)
                    .build(),
            })
            .collect();
        let tags = r
            .tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<Vec<_>>();
        let out = self
            .client
            .create_change_set()
            .stack_name(&r.stack_name)
            .change_set_name(&r.change_set_name)
            .change_set_type(match r.kind {
                ChangeSetType::Create => SdkChangeSetType::Create,
                ChangeSetType::Update => SdkChangeSetType::Update,
            })
            .set_template_body(r.template_url.is_none().then(|| r.template_body.clone()))
            .set_template_url(r.template_url.clone())
            .set_parameters(Some(parameters))
            .set_tags(Some(tags))
            .set_capabilities(Some(
                r.capabilities
                    .iter()
                    .map(|c| Capability::from(c.as_str()))
                    .collect(),
            ))
            .description(&r.description)
            .set_role_arn(r.role_arn.clone())
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        Ok(out.id().unwrap_or_default().to_owned())
    }

    async fn describe_change_set(
        &self,
        stack: &str,
        change_set: &str,
    ) -> ApiResult<Option<ChangeSetInfo>> {
        let mut info: Option<ChangeSetInfo> = None;
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .describe_change_set()
                .stack_name(stack)
                .change_set_name(change_set)
                .set_next_token(token.take())
                .send()
                .await;
            let out = match out {
                Ok(out) => out,
                Err(e) => {
                    let e = self.classify(e);
                    let missing = matches!(&e, ApiError::Service { code, message }
                        if code == "ChangeSetNotFound" || code == "ChangeSetNotFoundException"
                            || message.contains("does not exist"));
                    return if missing { Ok(None) } else { Err(e) };
                }
            };
            let i = info.get_or_insert_with(|| ChangeSetInfo {
                id: out.change_set_id().unwrap_or_default().to_owned(),
                name: out.change_set_name().unwrap_or_default().to_owned(),
                status: out
                    .status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                status_reason: out.status_reason().map(str::to_owned),
                execution_status: out
                    .execution_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                changes: Vec::new(),
                parameters: out
                    .parameters()
                    .iter()
                    .map(|p| {
                        let value = match (p.parameter_value(), p.use_previous_value()) {
                            (Some(v), _) => v.to_owned(),
                            (None, Some(true)) => "(previous value)".to_owned(),
                            (None, _) => String::new(),
                        };
                        (p.parameter_key().unwrap_or_default().to_owned(), value)
                    })
                    .collect(),
            });
            for c in out.changes() {
                let Some(rc) = c.resource_change() else {
                    continue;
                };
                i.changes.push(ResourceChange {
                    action: rc
                        .action()
                        .map(|a| a.as_str().to_owned())
                        .unwrap_or_default(),
                    logical_id: rc.logical_resource_id().unwrap_or_default().to_owned(),
                    physical_id: rc.physical_resource_id().map(str::to_owned),
                    resource_type: rc.resource_type().unwrap_or_default().to_owned(),
                    replacement: rc.replacement().map(|r| r.as_str().to_owned()),
                    scope: rc.scope().iter().map(|s| s.as_str().to_owned()).collect(),
                });
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok(info),
            }
        }
    }

    async fn execute_change_set(&self, stack: &str, change_set: &str) -> ApiResult<()> {
        self.client
            .execute_change_set()
            .stack_name(stack)
            .change_set_name(change_set)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        Ok(())
    }

    async fn delete_change_set(&self, stack: &str, change_set: &str) -> ApiResult<()> {
        self.client
            .delete_change_set()
            .stack_name(stack)
            .change_set_name(change_set)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        Ok(())
    }

    async fn describe_stack_events(&self, stack: &str) -> ApiResult<Vec<StackEvent>> {
        let out = match self
            .client
            .describe_stack_events()
            .stack_name(stack)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let e = self.classify(e);
                return if is_missing_stack(&e) {
                    Ok(Vec::new())
                } else {
                    Err(e)
                };
            }
        };
        Ok(out
            .stack_events()
            .iter()
            .map(|e| StackEvent {
                id: e.event_id().unwrap_or_default().to_owned(),
                stack_name: e.stack_name().unwrap_or_default().to_owned(),
                logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
                physical_id: e.physical_resource_id().map(str::to_owned),
                resource_type: e.resource_type().unwrap_or_default().to_owned(),
                status: e
                    .resource_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                reason: e.resource_status_reason().map(str::to_owned),
                timestamp: e
                    .timestamp()
                    .and_then(|t| t.fmt(DateTimeFormat::DateTime).ok())
                    .unwrap_or_default(),
            })
            .collect())
    }

    async fn get_template(&self, stack: &str) -> ApiResult<Option<String>> {
        self.template(stack, None).await
    }

    async fn get_change_set_template(
        &self,
        stack: &str,
        change_set: &str,
    ) -> ApiResult<Option<String>> {
        self.template(stack, Some(change_set)).await
    }

    async fn list_stack_resources(&self, stack: &str) -> ApiResult<Vec<StackResource>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_stack_resources()
                .stack_name(stack)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| self.classify(e))?;
            for r in page.stack_resource_summaries() {
                out.push(StackResource {
                    logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
                    physical_id: r.physical_resource_id().map(str::to_owned),
                    resource_type: r.resource_type().unwrap_or_default().to_owned(),
                    status: r
                        .resource_status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                });
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok(out),
            }
        }
    }

    async fn delete_stack(&self, stack: &str) -> ApiResult<()> {
        self.client
            .delete_stack()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        Ok(())
    }

    async fn describe_type(&self, type_name: &str) -> ApiResult<TypeStatus> {
        match self
            .client
            .describe_type()
            .r#type(RegistryType::Resource)
            .type_name(type_name)
            .send()
            .await
        {
            Ok(_) => Ok(TypeStatus::Available),
            Err(e) => match self.classify(e) {
                ApiError::Service { code, .. }
                    if code == "TypeNotFoundException" || code == "TypeNotFound" =>
                {
                    Ok(TypeStatus::NotFound)
                }
                other => Err(other),
            },
        }
    }

    async fn update_termination_protection(&self, stack: &str, enabled: bool) -> ApiResult<()> {
        self.client
            .update_termination_protection()
            .stack_name(stack)
            .enable_termination_protection(enabled)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        Ok(())
    }

    async fn continue_update_rollback(&self, stack: &str) -> ApiResult<()> {
        self.client
            .continue_update_rollback()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        Ok(())
    }

    async fn set_stack_policy(&self, stack: &str, policy: &str) -> ApiResult<()> {
        self.client
            .set_stack_policy()
            .stack_name(stack)
            .stack_policy_body(policy)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        Ok(())
    }
}
