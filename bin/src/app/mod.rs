//! The Pantri reference app: the infrastructure of the Pantri Next.js application, one stage per
//! settings file in `stages/`.
//!
//! Stacks of a stage, split by lifecycle and blast radius:
//!
//! | stack | holds | why apart |
//! |---|---|---|
//! | `Network` | VPC, subnets, NAT, flow logs, endpoints | changes rarely; everything sits in it |
//! | `Data` | buckets, hosted zone, user pool, ECR repository, secrets, the logs key | stateful: retained and protected in prod, never replaced by an app change |
//! | `Global` | CloudFront certificate and web ACL, in us-east-1 | CloudFront only takes them from us-east-1, whatever the stage's region |
//! | `Service` | ECS cluster/task/service, ALB, autoscaling, Cloud Map | what a release changes |
//! | `Edge` | CloudFront, the static bucket's policy, DNS aliases | needs the service's ALB and the global certificate |
//! | `Monitoring` | CloudWatch alarms, Datadog monitors and dashboard | switched per stage without touching the service |
//! | `DatadogIntegration` | the Datadog AWS integration and its role | once per account: only in the stage that owns it |

pub mod scale;
pub mod settings;

use anyhow::Context;
use pantri_constructs::auth::{Mfa, ThreatProtection, UserPool, UserPoolProps};
use pantri_constructs::dns::{HostedZone, HostedZoneProps};
use pantri_constructs::edge::{
    Edge, EdgeInputs, EdgeProps, EdgeWebAcl, EdgeWebAclProps, GlobalCertificate,
    GlobalCertificateProps, OriginSecretRotation, OriginSecretRotationProps, PriceClass,
    CLOUDFRONT_REGION,
};
use pantri_constructs::logs::LogsKey;
use pantri_constructs::monitoring::{
    AlarmsToDatadog, DatadogDashboard, DatadogDashboardProps, DatadogIntegration,
    DatadogIntegrationProps, DatadogMonitors, DatadogMonitorsProps, ServiceAlarms,
    ServiceAlarmsProps, Workload,
};
use pantri_constructs::naming::{Naming, NamingError};
use pantri_constructs::network::{
    InterfaceEndpoint, NatGateways, SecureNetwork, SecureNetworkProps,
};
use pantri_constructs::secrets::{AppSecrets, AppSecretsProps};
use pantri_constructs::service::{
    AppLogs, CapacityStrategy, ContainerImage, DatadogAgentProps, ImageRepository,
    ImageRepositoryProps, NextJsService, NextJsServiceInputs, NextJsServiceProps,
};
use pantri_constructs::storage::{LogBucket, LogBucketProps, StaticBucket, StaticBucketProps};
use pantri_constructs::Removal;
use pantri_synth::asset::{FileTreeProps, ImageAssetProps, TreeBucket};
use pantri_synth::{App, Environment, Output, OutputRef, Scope, StackProps, Str, ToValue};
use rayon::prelude::*;

use crate::cli::AppContext;
pub use settings::StageSettings;
use settings::{AppLogsSetting, MfaSetting, NatSetting, PriceClassSetting, ThreatSetting};

/// Builds the app from the stage settings files.
pub fn build(ctx: &AppContext) -> anyhow::Result<App> {
    let mut app = App::new();
    let files = crate::settings::stage_files(&ctx.stages_dir)?;
    anyhow::ensure!(
        !files.is_empty(),
        "{}: no stage settings files (*.yaml)",
        ctx.stages_dir.display()
    );
    // The files are read and checked on every core (reading a hundred is a sixth of building
    // their stages); the stages are added in file order, and the first file in that order
    // with a problem is the error.
    let stages: Vec<anyhow::Result<(Naming, StageSettings)>> = files
        .par_iter()
        .map(|(name, file)| stage_settings(name, file))
        .collect();
    let stages = stages.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    // Each stage is a world of its own: built on every core, joined in file order, when the
    // app is synthesized, a batch at a time (a thousand stages are never whole in memory).
    app.defer_in_parallel(stages, |app, (naming, settings)| {
        add_stage(app, naming, settings)
    });
    Ok(app)
}

/// A stage's settings, read from `file` and checked, and its naming.
fn stage_settings(name: &str, file: &std::path::Path) -> anyhow::Result<(Naming, StageSettings)> {
    let mut settings: StageSettings = crate::settings::load(file)?;
    settings
        .validate()
        .with_context(|| format!("{}", file.display()))?;
    // The web app's directory is relative to its settings file.
    if let (Some(web), Some(dir)) = (&mut settings.web, file.parent()) {
        for path in [&mut web.source, &mut web.static_files]
            .into_iter()
            .flatten()
        {
            *path = normalize(&dir.join(&*path));
        }
    }
    let naming = naming(&settings.app_name, name).with_context(|| format!("{}", file.display()))?;
    Ok((naming, settings))
}

/// The stage's [`Naming`]: its settings' `app_name` and its file's name.
fn naming(app_name: &str, stage_name: &str) -> anyhow::Result<Naming> {
    Naming::new(app_name, stage_name).map_err(|e| match e {
        NamingError::App(_) => anyhow::anyhow!("app_name: {e} (it names stacks and resources)"),
        NamingError::Stage(_) => anyhow::anyhow!(
            "{e}: the stage is the settings file's name, so rename the file (dev.yaml, prod.yaml)"
        ),
    })
}

/// What the app container needs beyond what the service construct sets itself (static bucket,
/// user pool id): its public URL under the names the auth library reads, and the web client and
/// issuer of the pool, imported from `Data`.
fn app_environment(s: &StageSettings, user_pool: &UserPool) -> Vec<(String, Str)> {
    let url = format!("https://{}", s.domain_name);
    let mut env: Vec<(String, Str)> = s
        .auth
        .public_url_env
        .iter()
        .map(|name| (name.clone(), Str::from(url.as_str())))
        .collect();
    env.extend([
        ("NEXT_PUBLIC_SITE_URL".to_owned(), Str::from(url.as_str())),
        // Only CloudFront reaches the ALB (the origin-verify header), and CloudFront sets
        // X-Forwarded-Host to the public name: the auth library may trust it.
        ("AUTH_TRUST_HOST".to_owned(), Str::from("true")),
        ("COGNITO_CLIENT_ID".to_owned(), user_pool.client_id()),
        ("COGNITO_ISSUER".to_owned(), user_pool.issuer_url()),
    ]);
    if let Some(kib) = s.edge.max_body_kib {
        env.push((
            "MAX_BODY_BYTES".to_owned(),
            Str::from((u64::from(kib) * 1024).to_string()),
        ));
    }
    env
}

/// `a/b/../c` as `a/c`, without touching the file system (a missing directory is synth's to
/// report, at the asset's construct path).
fn normalize(path: &std::path::Path) -> std::path::PathBuf {
    let mut out = std::path::PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir
                if out
                    .components()
                    .next_back()
                    .is_some_and(|l| matches!(l, std::path::Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn output(scope: &mut Scope<'_>, id: &str, value: impl ToValue, description: &str) {
    scope.output(id, Output::new(value).description(description));
}

/// Where the bundler's content-hashed files go in the static bucket (CloudFront's
/// `/_next/static/*` behavior).
const NEXT_STATIC_PREFIX: &str = "_next/static/";

/// The Next.js build output, published to the static bucket by deploy before the Edge stack:
/// `.next/static/` (content-hashed: cached for a year, never invalidated; earlier releases'
/// files stay until the bucket's lifecycle expires them) and `public/` at the bucket root
/// (short caching; what changed is invalidated once Edge is deployed).
fn publish_static_files(
    stack: &mut Scope<'_>,
    web: &settings::WebSettings,
    build_output: &std::path::Path,
    bucket: OutputRef,
    distribution: OutputRef,
) {
    let refresh = Some(web.keep_release_files_days / 2);
    stack.file_tree(
        "NextStatic",
        FileTreeProps {
            directory: build_output.join(".next/static"),
            bucket: TreeBucket::Output(bucket),
            prefix: NEXT_STATIC_PREFIX.to_owned(),
            content_hashed: true,
            refresh_after_days: refresh,
            invalidate: None,
        },
    );
    stack.file_tree(
        "Public",
        FileTreeProps {
            directory: build_output.join("public"),
            bucket: TreeBucket::Output(bucket),
            prefix: String::new(),
            content_hashed: false,
            refresh_after_days: None,
            invalidate: Some(distribution),
        },
    );
}

/// Adds one stage's stacks.
pub fn add_stage(app: &mut App, naming: &Naming, s: &StageSettings) {
    let removal = if s.retain_data {
        Removal::Retain
    } else {
        Removal::Destroy
    };
    let env = Environment::new(&s.account, &s.region);
    let (app_name, stage_name) = (naming.app(), naming.stage());
    let mut root = app.root();
    let mut stage = root.stage(stage_name, env.clone());
    stage.tag("Application", app_name);
    stage.tag("Environment", &s.environment);
    stage.tag("ManagedBy", "pantri");
    let props = |name: &str, what: &str| StackProps {
        stack_name: Some(format!("{app_name}-{stage_name}-{name}")),
        description: Some(format!("{app_name} {stage_name}: {what}")),
        termination_protection: s.retain_data,
        env: None,
    };

    // Network.
    let vpc = {
        let mut stack = stage.stack(
            "Network",
            props("network", "VPC, subnets, NAT gateways, flow logs"),
        );
        let network = SecureNetwork::new(
            &mut stack,
            "Vpc",
            naming,
            &s.availability_zones,
            SecureNetworkProps {
                cidr: s.network.cidr.clone(),
                nat_gateways: match s.network.nat_gateways {
                    NatSetting::PerAz => NatGateways::PerAz,
                    NatSetting::Single => NatGateways::Single,
                },
                flow_log_retention_days: s.network.flow_log_retention_days,
                interface_endpoints: if s.network.interface_endpoints {
                    InterfaceEndpoint::ALL.to_vec()
                } else {
                    Vec::new()
                },
                removal,
                ..SecureNetworkProps::default()
            },
        );
        output(&mut stack, "VpcId", network.vpc_id(), "The VPC");
        network.vpc_ref()
    };

    // Data: everything stateful.
    let mut data = stage.stack(
        "Data",
        props("data", "buckets, hosted zone, user pool, secrets"),
    );
    let logs_key = LogsKey::new(&mut data, "LogsKey", removal);
    let log_bucket = LogBucket::new(
        &mut data,
        "LogBucket",
        LogBucketProps {
            removal,
            ..LogBucketProps::default()
        },
    );
    let static_bucket = StaticBucket::new(
        &mut data,
        "StaticFiles",
        &log_bucket.bucket_ref(),
        StaticBucketProps {
            expire: s
                .web
                .iter()
                .map(|w| (NEXT_STATIC_PREFIX.to_owned(), w.keep_release_files_days))
                .collect(),
            removal,
            ..StaticBucketProps::default()
        },
    );
    let zone = HostedZone::new(
        &mut data,
        "Zone",
        &s.domain_name,
        HostedZoneProps {
            removal,
            parent_zone: s.dns.parent_zone(),
            ..HostedZoneProps::default()
        },
    );
    let user_pool = UserPool::new(
        &mut data,
        "UserPool",
        naming,
        &s.domain_name,
        UserPoolProps {
            mfa: match s.auth.mfa {
                MfaSetting::Required => Mfa::Required,
                MfaSetting::Optional => Mfa::Optional,
            },
            threat_protection: match s.auth.threat_protection {
                ThreatSetting::Enforced => ThreatProtection::Enforced,
                ThreatSetting::Audit => ThreatProtection::Audit,
                ThreatSetting::Off => ThreatProtection::Off,
            },
            deletion_protection: s.retain_data,
            removal,
            callback_path: s.auth.callback_path.clone(),
            logout_path: s.auth.logout_path.clone(),
            extra_origins: s.auth.local_origins.clone(),
            ..UserPoolProps::default()
        },
    );
    // The repository is deployed with the data, before the service: the first image is pushed
    // between `pantri deploy <stage> Data` and the first full deploy.
    let repository = ImageRepository::new(
        &mut data,
        "Repository",
        &naming.prefix(),
        ImageRepositoryProps {
            removal,
            ..ImageRepositoryProps::default()
        },
    );
    let secrets = AppSecrets::new(
        &mut data,
        "Secrets",
        naming,
        AppSecretsProps {
            removal,
            ..AppSecretsProps::default()
        },
    );
    output(
        &mut data,
        "RepositoryUri",
        repository.uri(),
        "Push the app image here before deploying the service",
    );
    let static_bucket_name = data.output(
        "StaticBucketName",
        Output::new(static_bucket.bucket_ref().name).description("The static files bucket"),
    );
    output(
        &mut data,
        "UserPoolId",
        user_pool.user_pool_id(),
        "The Cognito user pool",
    );
    output(
        &mut data,
        "UserPoolClientId",
        user_pool.client_id(),
        "The web client of the user pool",
    );
    output(
        &mut data,
        "IssuerUrl",
        user_pool.issuer_url(),
        "The JWT issuer the app checks tokens against",
    );
    let data_node = data.node();

    // Global: CloudFront's certificate and web ACL live in us-east-1 whatever the stage's region.
    let (certificate_arn, web_acl_arn) = {
        let mut global = stage.stack(
            "Global",
            StackProps {
                env: Some(Environment::new(&s.account, CLOUDFRONT_REGION)),
                ..props("global", "CloudFront certificate and web ACL (us-east-1)")
            },
        );
        let certificate = GlobalCertificate::new(
            &mut global,
            "Certificate",
            &s.domain_name,
            &zone.zone_ref(),
            GlobalCertificateProps::default(),
        );
        let acl = EdgeWebAcl::new(
            &mut global,
            "WebAcl",
            naming,
            EdgeWebAclProps {
                common_rules_to_count: if s.edge.max_body_kib.is_some_and(|k| k > 8) {
                    vec!["SizeRestrictions_BODY".to_owned()]
                } else {
                    Vec::new()
                },
                ..EdgeWebAclProps::default()
            },
        );
        (certificate.arn(), acl.arn())
    };

    // Service.
    let origin_name = format!("origin.{}", s.domain_name);
    let (service, service_node) = {
        let mut stack = stage.stack(
            "Service",
            props("service", "ECS Fargate service behind an ALB"),
        );
        // The ALB and CloudFront read the origin secret by name (a dynamic reference), which
        // CloudFormation does not see as a dependency: make it explicit.
        stack.add_dependency(data_node);
        // Built from the web app's Dockerfile and pushed under its content hash by deploy; the
        // tag reaches the template as a parameter deploy fills, so an app change leaves the
        // template as it is.
        // An image built elsewhere (`web.image`) runs as it is: nothing is built or pushed.
        let image_tag = s
            .web
            .as_ref()
            .and_then(|w| w.source.as_ref())
            .map(|source| {
                stack
                    .image_asset("Image", ImageAssetProps::new(source, naming.prefix()))
                    .image_tag_parameter()
            });
        let image = s
            .web
            .as_ref()
            .and_then(|w| w.image.as_deref())
            .map(ContainerImage::uri);
        let capacity = CapacityStrategy {
            fargate_base: s.service.capacity.fargate_base,
            fargate_weight: s.service.capacity.fargate_weight,
            spot_weight: s.service.capacity.spot_weight,
        };
        let service = NextJsService::new(
            &mut stack,
            "Web",
            NextJsServiceInputs {
                naming: naming.clone(),
                vpc: vpc.clone(),
                domain_name: origin_name.clone(),
                hosted_zone: zone.zone_ref(),
                log_bucket: log_bucket.bucket_ref(),
                static_bucket: static_bucket.bucket_ref(),
                user_pool: user_pool.pool_ref(),
                logs_key_arn: logs_key.arn(),
                datadog_api_key: secrets.datadog_api_key(),
                origin_secret: secrets.origin_verify(),
            },
            NextJsServiceProps {
                access_log_prefix: log_bucket.alb_prefix().to_owned(),
                repository: Some(repository.resource()),
                image_tag,
                image,
                datadog: {
                    let defaults = DatadogAgentProps::default();
                    DatadogAgentProps {
                        site: s.datadog.site.clone(),
                        env: Some(s.environment.clone()),
                        service: Some(app_name.to_owned()),
                        agent_image: s
                            .datadog
                            .agent_image
                            .clone()
                            .unwrap_or(defaults.agent_image.clone()),
                        log_router_image: s
                            .datadog
                            .log_router_image
                            .clone()
                            .unwrap_or(defaults.log_router_image.clone()),
                        ..defaults
                    }
                },
                cpu: s.service.cpu,
                memory: s.service.memory,
                desired_count: s.service.desired_count,
                min_capacity: s.service.min_capacity,
                max_capacity: s.service.max_capacity,
                cpu_target_percent: s.service.cpu_target_percent,
                memory_target_percent: s.service.memory_target_percent,
                requests_per_target: s.service.requests_per_target,
                capacity,
                health_check_path: s.service.health_check_path.clone(),
                log_retention_days: s.service.log_retention_days,
                app_logs: match s.service.app_logs {
                    AppLogsSetting::CloudwatchAndDatadog => AppLogs::CloudWatchAndDatadog,
                    AppLogsSetting::Cloudwatch => AppLogs::CloudWatch,
                },
                removal,
                deletion_protection: s.retain_data,
                cloudfront_prefix_list_id: s.edge.origin_prefix_list_id.as_deref().map(Str::from),
                environment: app_environment(s, &user_pool),
                ..NextJsServiceProps::default()
            },
        );
        (service, stack.node())
    };

    // Edge.
    let distribution_id = {
        let mut stack = stage.stack("Edge", props("edge", "CloudFront, DNS"));
        stack.add_dependency(data_node);
        // CloudFront reaches the ALB by its DNS name (origin.<domain>), a record the Service
        // stack creates: no reference says so, the dependency does.
        stack.add_dependency(service_node);
        let edge = Edge::new(
            &mut stack,
            "Cdn",
            EdgeInputs {
                naming: naming.clone(),
                domain_name: s.domain_name.clone(),
                hosted_zone: zone.zone_ref(),
                alb_domain_name: Str::from(origin_name.as_str()),
                static_bucket: static_bucket.bucket_ref(),
                log_bucket: log_bucket.bucket_ref(),
                origin_secret: secrets.origin_verify(),
                certificate_arn,
            },
            EdgeProps {
                web_acl_arn: Some(web_acl_arn),
                price_class: match s.edge.price_class {
                    PriceClassSetting::All => PriceClass::All,
                    PriceClassSetting::Class200 => PriceClass::Class200,
                    PriceClassSetting::Class100 => PriceClass::Class100,
                },
                content_security_policy: s.edge.content_security_policy.clone(),
                public_paths: s.edge.public_paths.clone(),
            },
        );
        // The origin-verify value rotates; the rule keeps the previous value until the next
        // rotation, so no edge location is refused meanwhile.
        if let Some(rule) = service.forward_rule() {
            OriginSecretRotation::new(
                &mut stack,
                "OriginRotation",
                &secrets.origin_verify(),
                edge.distribution_id(),
                rule.ref_(),
                logs_key.arn(),
                OriginSecretRotationProps {
                    every_days: s.edge.origin_secret_rotation_days.unwrap_or(30),
                    log_retention_days: s.service.log_retention_days,
                    removal,
                    log_group_name: Some(format!("/aws/lambda/{naming}-origin-rotation")),
                },
            );
        }
        output(
            &mut stack,
            "DistributionDomainName",
            edge.distribution_domain_name(),
            "The CloudFront domain",
        );
        output(
            &mut stack,
            "Url",
            Str::from(edge.url()),
            "The application's URL",
        );
        if let Some((web, build_output)) = s.web.as_ref().and_then(|w| Some((w, w.build_output()?)))
        {
            let distribution = stack.output(
                "DistributionId",
                Output::new(edge.distribution_id())
                    .description("The distribution whose changed paths deploy invalidates"),
            );
            publish_static_files(
                &mut stack,
                web,
                build_output,
                static_bucket_name,
                distribution,
            );
        }
        edge.distribution_id()
    };

    // Monitoring.
    {
        let mut stack = stage.stack(
            "Monitoring",
            props(
                "monitoring",
                "CloudWatch alarms, Datadog monitors and dashboard",
            ),
        );
        // The alarm topic's Datadog subscription reads the API key secret by name.
        stack.add_dependency(data_node);
        let workload = Workload {
            naming: naming.clone(),
            env: s.environment.clone(),
            service: app_name.to_owned(),
            team: "platform".to_owned(),
            cluster_name: Str::from(service.cluster_name_literal()),
            service_name: Str::from(service.service_name_literal()),
            alb_full_name: service.load_balancer_full_name(),
            target_group_full_name: service.target_group_full_name(),
            distribution_id: Some(distribution_id),
            desired_count: s.service.desired_count,
        };
        ServiceAlarms::new(
            &mut stack,
            "Alarms",
            &workload,
            ServiceAlarmsProps {
                alarm_emails: s.alarms.emails.clone(),
                datadog: Some(AlarmsToDatadog {
                    site: s.datadog.site.clone(),
                    api_key_secret: secrets.datadog_api_key(),
                }),
                removal,
                ..ServiceAlarmsProps::default()
            },
        );
        if s.datadog.monitors {
            DatadogMonitors::new(
                &mut stack,
                "Monitors",
                &workload,
                &s.datadog.notify,
                DatadogMonitorsProps::default(),
            );
        }
        if s.datadog.dashboard {
            DatadogDashboard::new(
                &mut stack,
                "Dashboard",
                &workload,
                DatadogDashboardProps::default(),
            );
        }
    }

    if s.datadog.aws_integration {
        let mut stack = stage.stack(
            "DatadogIntegration",
            props(
                "datadog-integration",
                "Datadog AWS integration (once per account)",
            ),
        );
        DatadogIntegration::new(
            &mut stack,
            "Datadog",
            naming,
            DatadogIntegrationProps {
                regions: vec![s.region.clone()],
                ..DatadogIntegrationProps::default()
            },
        );
    }
}
