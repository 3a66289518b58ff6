//! Who is calling: STS `GetCallerIdentity` before anything else, so that a deploy, destroy or
//! diff against deployed stacks never runs in an account other than the stage's.

use pantri_synth::assembly::StackArtifact;

use super::api::ApiResult;
use super::error::{ApiError, DeployError};
use super::sdk::{classify_error, load_config, Connection};

/// The caller as STS reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallerIdentity {
    /// The 12-digit account id the credentials belong to.
    pub account: String,
    /// The caller's ARN (user, assumed role, ...).
    pub arn: String,
}

/// Asks STS (in `region`, through the same credentials, profile and endpoint as the
/// CloudFormation clients) who the caller is.
pub async fn caller_identity(region: &str, connection: &Connection) -> ApiResult<CallerIdentity> {
    let config = load_config(region, connection).await;
    let out = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| classify_error(region, e))?;
    Ok(CallerIdentity {
        account: out.account().unwrap_or_default().to_owned(),
        arn: out.arn().unwrap_or_default().to_owned(),
    })
}

/// Asks STS who the caller is (in the first stack's region) and refuses when a stack belongs to
/// another account ([`check_account`]). Runs before any other call.
pub async fn verify_caller(
    stacks: &[&StackArtifact],
    connection: &Connection,
) -> Result<CallerIdentity, DeployError> {
    let region = stacks
        .first()
        .map(|s| s.env.region.as_str())
        .unwrap_or("us-east-1");
    let stage = stacks.first().map(|s| s.stage.as_str()).unwrap_or("-");
    let caller = caller_identity(region, connection)
        .await
        .map_err(|e| match (&connection.profile, e) {
            (Some(p), ApiError::NoCredentials(why)) => DeployError::api(
                stage,
                ApiError::NoCredentials(format!(
                    "profile {p}: {why}; is it defined, with credentials, in ~/.aws/config or AWS_CONFIG_FILE?"
                )),
            ),
            (_, e) => DeployError::api(stage, e),
        })?;
    check_account(stacks, &caller)?;
    Ok(caller)
}

/// Whether `account` names one account: 12 digits. An environment-agnostic stack has
/// `unknown-account` (or nothing), which any caller may deploy.
pub fn is_concrete_account(account: &str) -> bool {
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
}

/// Refuses when a stack's environment names an account other than the caller's: one line naming
/// both accounts and the way out. Stacks without a concrete account are not checked.
pub fn check_account(
    stacks: &[&StackArtifact],
    caller: &CallerIdentity,
) -> Result<(), DeployError> {
    let Some(stack) = stacks
        .iter()
        .find(|s| is_concrete_account(&s.env.account) && s.env.account != caller.account)
    else {
        return Ok(());
    };
    Err(DeployError::WrongAccount {
        stack: stack.display_name.clone(),
        expected: stack.env.account.clone(),
        actual: caller.account.clone(),
        arn: caller.arn.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pantri_synth::assembly::StackProperties;
    use pantri_synth::Environment;

    fn stack(account: &str) -> StackArtifact {
        StackArtifact {
            id: "dev-App".into(),
            display_name: "dev/App".into(),
            stage: "dev".into(),
            env: Environment::new(account, "us-east-1"),
            properties: StackProperties {
                template_file: "dev-App.template.json".into(),
                stack_name: "dev-App".into(),
                termination_protection: false,
                tags: Default::default(),
            },
            template: serde_json::json!({}),
            template_size: 2,
            dependencies: Vec::new(),
            cross_region: Vec::new(),
            env_parameters: Vec::new(),
            logical_ids: Default::default(),
        }
    }

    #[test]
    fn another_account_is_refused_naming_both_and_an_agnostic_stack_is_not() {
        let caller = CallerIdentity {
            account: "123456789012".into(),
            arn: "arn:aws:sts::123456789012:assumed-role/dev/x".into(),
        };
        let prod = stack("210987654321");
        let e = check_account(&[&prod], &caller).unwrap_err();
        let line = e.to_string();
        assert!(!line.contains('\n'), "{line}");
        assert!(
            line.contains("210987654321") && line.contains("123456789012"),
            "{line}"
        );
        assert!(e.is_access(), "{e}");
        assert!(check_account(&[&stack("123456789012")], &caller).is_ok());
        assert!(check_account(&[&stack("unknown-account")], &caller).is_ok());
        assert!(check_account(&[&stack("")], &caller).is_ok());
    }
}
