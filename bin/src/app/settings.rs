//! The settings of one stage, as `stages/<stage>.yaml` holds them: what the seed's
//! `dev.tfvars`/`prod.tfvars` held (environment, app name, domain name) plus account, region,
//! availability zones and sizes.

use serde::Deserialize;

/// A clearly fake account id, so synth works with no AWS account.
pub const PLACEHOLDER_ACCOUNT: &str = "123456789012";

fn placeholder_account() -> String {
    PLACEHOLDER_ACCOUNT.to_owned()
}

fn default_vpc_cidr() -> String {
    "10.0.0.0/16".to_owned()
}

/// One stage's settings.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StageSettings {
    /// The environment name (`development`, `production`), as the seed's `environment`.
    pub environment: String,
    /// The application name (`pantri`), as the seed's `app_name`.
    pub app_name: String,
    /// The domain name, as the seed's `domain_name`.
    pub domain_name: String,
    /// The AWS account id.
    #[serde(default = "placeholder_account")]
    pub account: String,
    /// The AWS region.
    pub region: String,
    /// The availability zones to spread over, in order.
    pub availability_zones: Vec<String>,
    /// The VPC's CIDR block.
    #[serde(default = "default_vpc_cidr")]
    pub vpc_cidr: String,
    /// Termination protection of the stage's stacks.
    #[serde(default)]
    pub termination_protection: bool,
}

impl StageSettings {
    /// Checks values serde cannot: names the key and what to do.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(!self.app_name.is_empty(), "app_name: must not be empty");
        anyhow::ensure!(
            self.app_name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "app_name: {:?} must be lower-case letters, digits and hyphens (it names stacks and resources)",
            self.app_name
        );
        anyhow::ensure!(
            self.availability_zones
                .iter()
                .all(|az| az.starts_with(&self.region)),
            "availability_zones: every zone must be in region {} (got {:?})",
            self.region,
            self.availability_zones
        );
        Ok(())
    }
}
