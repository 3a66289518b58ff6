//! `DatadogIntegration`: Datadog's AWS integration for one account (switched on once per
//! account, in one stack): the `Datadog::Integrations::AWSAccount` resource and the read-only
//! role Datadog assumes to collect CloudWatch metrics and resource tags.
//!
//! The external id. Datadog's role delegation is guarded by an external id that Datadog, not
//! the account owner, generates: the `AWSAccount` resource creates it on create and stores it in
//! the Secrets Manager secret `ExternalIDSecretName` as `{"external_id": "..."}`. No property
//! takes one as input, so an id supplied through a stack parameter would differ from Datadog's
//! and the integration would fail to assume the role. The role therefore trusts Datadog's
//! account on the condition `sts:ExternalId` = a dynamic reference to that secret, resolved by
//! CloudFormation at deploy time (the value never lands in the template), and depends on the
//! integration resource so the secret exists when the role is created.

use pantri_synth::cfn::datadog::aws_account::{
    AWSRegions, AuthConfig, MetricsConfig, NamespaceFilters, ResourcesConfig,
};
use pantri_synth::cfn::datadog::CfnAWSAccount;
use pantri_synth::cfn::iam::role::Policy;
use pantri_synth::cfn::iam::CfnRole;
use pantri_synth::fns::{self, aws, dynamic};
use pantri_synth::{Output, Res, Scope, Str};

use crate::policy::{document, Principal, Statement};
use crate::Naming;

/// Datadog's AWS account for the US1, US3, US5, EU1 and AP1 sites.
pub const DATADOG_AWS_ACCOUNT: &str = "464622532012";

/// Props of [`DatadogIntegration`].
#[derive(Clone, Debug, PartialEq)]
pub struct DatadogIntegrationProps {
    /// The role's name. Default `<app>-datadog-integration` (named, because the Datadog
    /// integration refers to it by name, and once per account: no stage in it).
    pub role_name: Option<String>,
    /// The AWS account Datadog assumes the role from. Default [`DATADOG_AWS_ACCOUNT`]; the
    /// US1-FED site uses another.
    pub datadog_account_id: String,
    /// Regions to collect from. Default: the stack's region and `us-east-1` (where CloudFront
    /// publishes its metrics).
    pub regions: Vec<String>,
    /// CloudWatch namespaces to collect. Default the services Pantri runs on: `AWS/ECS`,
    /// `AWS/ApplicationELB`, `AWS/CloudFront`, `AWS/S3`; everything else is neither paid for
    /// nor readable by the role.
    pub namespaces: Vec<String>,
    /// Whether Datadog imports CloudWatch alarms as events, so the alarms of
    /// [`super::ServiceAlarms`] show beside the monitors. Default true.
    pub collect_cloudwatch_alarms: bool,
    /// Tags (`key:value`) Datadog adds to every metric of the account. Default `app:<app>`.
    pub account_tags: Vec<String>,
    /// The secret Datadog creates to hold the external id. Default `DatadogIntegrationExternalID`
    /// (Datadog's own default).
    pub external_id_secret_name: String,
}

impl Default for DatadogIntegrationProps {
    fn default() -> Self {
        DatadogIntegrationProps {
            role_name: None,
            datadog_account_id: DATADOG_AWS_ACCOUNT.to_owned(),
            regions: Vec::new(),
            namespaces: ["AWS/ECS", "AWS/ApplicationELB", "AWS/CloudFront", "AWS/S3"]
                .map(String::from)
                .to_vec(),
            collect_cloudwatch_alarms: true,
            account_tags: Vec::new(),
            external_id_secret_name: "DatadogIntegrationExternalID".to_owned(),
        }
    }
}

/// The integration and its role.
///
/// ```
/// # use pantri_synth::{App, Environment, StackProps};
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// # let mut stack = stage.stack("Stack", StackProps::default());
/// use pantri_constructs::{monitoring::{DatadogIntegration, DatadogIntegrationProps}, Naming};
/// let naming = Naming::new("orders", "dev").expect("lowercase names");
/// let integration = DatadogIntegration::new(&mut stack, "Datadog", &naming, DatadogIntegrationProps {
///     regions: vec!["eu-west-1".into()],
///     ..DatadogIntegrationProps::default()
/// });
/// let _role = integration.role_arn();
/// ```
#[derive(Clone, Copy, Debug)]
pub struct DatadogIntegration {
    integration: Option<Res<CfnAWSAccount>>,
    role: Option<Res<CfnRole>>,
}

impl DatadogIntegration {
    /// The integration resource (None when the props were invalid).
    pub fn integration(&self) -> Option<Res<CfnAWSAccount>> {
        self.integration
    }

    /// The role Datadog assumes (None when the props were invalid).
    pub fn role(&self) -> Option<Res<CfnRole>> {
        self.role
    }

    /// The role's ARN.
    pub fn role_arn(&self) -> Option<Str> {
        self.role.map(|r| r.attr_arn())
    }
}

/// The read permissions the integration needs for ECS, ALB, CloudFront, S3 and CloudWatch
/// metrics and their tags: a subset of Datadog's documented policy. Every action is a read.
fn permissions() -> Vec<Statement> {
    // Resource "*": Datadog discovers the account's resources, so it cannot know their ARNs in
    // advance, and the List*/Describe* calls it makes (ListMetrics, ListClusters,
    // DescribeLoadBalancers, ListDistributions, ListAllMyBuckets, GetResources, ...) accept
    // only "*" as resource. Writes are not granted at all.
    vec![
        Statement::allow()
            .sid("CloudWatchMetricsAndAlarms")
            .actions([
                "cloudwatch:GetMetricData",
                "cloudwatch:GetMetricStatistics",
                "cloudwatch:ListMetrics",
                "cloudwatch:DescribeAlarms",
                "cloudwatch:DescribeAlarmHistory",
            ])
            .resources(["*"]),
        Statement::allow()
            .sid("EcsInventory")
            .actions(["ecs:Describe*", "ecs:List*"])
            .resources(["*"]),
        Statement::allow()
            .sid("LoadBalancerInventory")
            .actions(["elasticloadbalancing:Describe*"])
            .resources(["*"]),
        // A distribution's configuration carries its origin custom headers, the origin-verify
        // secret among them: Datadog gets CloudFront metrics from CloudWatch and tags from
        // tag:GetResources, and may not read distributions, even if a policy added later would.
        Statement::deny()
            .sid("NoDistributionConfigs")
            .actions([
                "cloudfront:GetDistribution",
                "cloudfront:GetDistributionConfig",
                "cloudfront:ListDistributions*",
            ])
            .resources(["*"]),
        Statement::allow()
            .sid("S3BucketMetadata")
            .actions([
                "s3:GetBucketLocation",
                "s3:GetBucketLogging",
                "s3:GetBucketNotification",
                "s3:GetBucketTagging",
                "s3:ListAllMyBuckets",
            ])
            .resources(["*"]),
        Statement::allow()
            .sid("ResourceTags")
            .actions(["tag:GetResources", "tag:GetTagKeys", "tag:GetTagValues"])
            .resources(["*"]),
        Statement::allow()
            .sid("LoadBalancerNetworkMetadata")
            // The ELB integration reads the zones and security groups of load balancers.
            .actions([
                "ec2:DescribeAvailabilityZones",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
            ])
            .resources(["*"]),
    ]
}

impl DatadogIntegration {
    /// Adds the integration and its role, named after the app alone (`<app>-datadog-integration`,
    /// account tag `app:<app>`): the integration is one per account, shared by the stages
    /// deployed there, so `naming`'s stage is in neither.
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        naming: &Naming,
        props: DatadogIntegrationProps,
    ) -> DatadogIntegration {
        let mut s = scope.construct(id, "pantri.DatadogIntegration");
        let role_name = props
            .role_name
            .clone()
            .unwrap_or_else(|| format!("{}-datadog-integration", naming.app()));
        let mut ok = true;
        if !(props.datadog_account_id.len() == 12
            && props.datadog_account_id.chars().all(|c| c.is_ascii_digit()))
        {
            s.error(format!(
                "datadog_account_id {:?} is not an AWS account id: give Datadog's 12-digit account \
                 for your site ({DATADOG_AWS_ACCOUNT} for most)",
                props.datadog_account_id
            ));
            ok = false;
        }
        if role_name.is_empty()
            || role_name.len() > 64
            || !role_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
        {
            s.error(format!(
                "role_name {role_name:?} is not an IAM role name: use up to 64 letters, digits and \
                 +=,.@_-"
            ));
            ok = false;
        }
        if props.namespaces.is_empty() {
            s.error("namespaces is empty: the integration would collect nothing; list AWS/ECS and the others");
            ok = false;
        }
        if props.external_id_secret_name.is_empty() {
            s.error(
                "external_id_secret_name is empty: keep Datadog's default DatadogIntegrationExternalID",
            );
            ok = false;
        }
        if !ok {
            return DatadogIntegration {
                integration: None,
                role: None,
            };
        }

        let mut regions = props.regions.clone();
        if regions.is_empty() {
            if let Some(env) = s.env() {
                regions.push(env.region.clone());
            }
        }
        // CloudFront, Route 53 and the CloudFront web ACL report their metrics in us-east-1,
        // whatever region the app runs in.
        if !regions.iter().any(|r| r == "us-east-1") {
            regions.push("us-east-1".to_owned());
        }
        let mut account_tags = props.account_tags.clone();
        if account_tags.is_empty() {
            account_tags.push(format!("app:{}", naming.app()));
        }

        let integration = s.resource(
            "Integration",
            CfnAWSAccount::new()
                .account_id(aws::account_id())
                .aws_partition(aws::partition())
                .auth_config(AuthConfig::new().role_name(role_name.as_str()))
                .aws_regions(AWSRegions::new().include_only(regions))
                .metrics_config(
                    MetricsConfig::new()
                        .enabled(true)
                        .automute_enabled(true)
                        .collect_cloudwatch_alarms(props.collect_cloudwatch_alarms)
                        .collect_custom_metrics(false)
                        .namespace_filters(NamespaceFilters::new().include_only(props.namespaces)),
                )
                // Security posture and extended resource collection need SecurityAudit-wide reads.
                .resources_config(
                    ResourcesConfig::new()
                        .cspm_resource_collection(false)
                        .extended_resource_collection(false),
                )
                .account_tags(account_tags)
                .external_id_secret_name(props.external_id_secret_name.as_str()),
        );

        let trust = document([Statement::allow()
            .sid("DatadogWithExternalId")
            .principal(Principal::Aws(fns::sub(&format!(
                "arn:${{AWS::Partition}}:iam::{}:root",
                props.datadog_account_id
            ))))
            .actions(["sts:AssumeRole"])
            .condition(
                "StringEquals",
                "sts:ExternalId",
                dynamic::secretsmanager(&props.external_id_secret_name, "external_id"),
            )]);
        let role = s.resource(
            "Role",
            CfnRole::new(trust)
                .role_name(role_name.as_str())
                .description("Read-only role Datadog assumes to collect metrics and tags")
                .max_session_duration(3600)
                .policies(vec![Policy::new(
                    document(permissions()),
                    "DatadogIntegrationRead",
                )]),
        );
        if let Some(o) = s.app().options_mut(role) {
            // The secret the trust condition reads is created by the integration.
            o.depends_on.push(integration.node());
        }
        s.output(
            "RoleArn",
            Output::new(role.attr_arn()).description("The role Datadog assumes"),
        );
        DatadogIntegration {
            integration: Some(integration),
            role: Some(role),
        }
    }
}
