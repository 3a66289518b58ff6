//! The task definition: the Next.js container, a Datadog agent sidecar (APM and DogStatsD on
//! localhost) and a FireLens log router shipping the app's stdout to Datadog Logs; and the
//! log groups of the sidecars (and of the app, when its logs go to CloudWatch).

use indexmap::IndexMap;
use pantri_synth::cfn::ecr::CfnRepository;
use pantri_synth::cfn::ecs::task_definition::{
    ContainerDefinition, ContainerDependency, ContainerDependencyCondition, FirelensConfiguration,
    HealthCheck, KernelCapabilities, KeyValuePair, LinuxParameters, LogConfiguration, MountPoint,
    PortMapping, Secret, Volume,
};
use pantri_synth::cfn::ecs::CfnTaskDefinition;
use pantri_synth::cfn::logs::CfnLogGroup;
use pantri_synth::fns::{self, aws};
use pantri_synth::{Res, Scope, Str};

use super::roles::Roles;
use super::{
    AppLogs, Names, NextJsServiceProps, AGENT_CONTAINER, APP_CONTAINER, LOG_ROUTER_CONTAINER,
};
use crate::logs::encrypted_log_group;

/// Writable paths of the app on a read-only root filesystem: Next.js's ISR/image cache and the
/// temp dir. Fargate has no tmpfs, so these are task-local bind volumes on ephemeral storage.
/// Fargate creates them root-owned (0755); [`VOLUME_INIT_CONTAINER`] opens them to the
/// non-root app user, whatever the image declares.
const WRITABLE_PATHS: &[(&str, &str)] = &[("next-cache", "/app/.next/cache"), ("tmp", "/tmp")];

/// A short-lived container that makes the writable volumes writable for a non-root app user
/// (mode 1777, like `/tmp`: the volumes are private to the task) and exits.
pub const VOLUME_INIT_CONTAINER: &str = "volume-init";

/// Memory the sidecars reserve (MiB); the app gets the rest of the task.
const AGENT_MEMORY: u32 = 256;
const LOG_ROUTER_MEMORY: u32 = 64;
const VOLUME_INIT_MEMORY: u32 = 16;
/// What the sidecars reserve at most; the app cannot use it.
pub(super) const SIDECAR_MEMORY: u32 = AGENT_MEMORY + LOG_ROUTER_MEMORY + VOLUME_INIT_MEMORY;

/// Environment variables the construct sets on the app container itself.
pub const RESERVED_ENV: &[&str] = &[
    "NODE_ENV",
    "PORT",
    "HOSTNAME",
    "DD_AGENT_HOST",
    "DD_ENV",
    "DD_SERVICE",
    "DD_VERSION",
    "DD_LOGS_INJECTION",
    "STATIC_BUCKET",
    "COGNITO_USER_POOL_ID",
];

/// The log groups of the task.
#[derive(Clone, Copy, Debug)]
pub(super) struct LogGroups {
    /// `/ecs/datadog-agent-<stage>`: the agent, the log router and the init container.
    pub agent: Res<CfnLogGroup>,
    /// `/aws/ecs/<app>-<stage>`: the app.
    pub app: Res<CfnLogGroup>,
}

/// The task volume the log router reads its extra Fluent Bit config from.
const LOG_CONFIG_VOLUME: &str = "log-router-config";
/// Where the init container writes that config, and where the log router finds it.
const LOG_CONFIG_INIT_DIR: &str = "/mnt/log-router-config";
const LOG_CONFIG_DIR: &str = "/fluent-bit/etc/extra";
const LOG_CONFIG_FILE: &str = "cloudwatch.conf";

pub(super) fn log_groups(s: &mut Scope<'_>, names: &Names, p: &NextJsServiceProps) -> LogGroups {
    let agent = encrypted_log_group(
        s,
        "AgentLogs",
        names.agent_log_group.clone(),
        p.log_retention_days,
        p.logs_key_arn.clone(),
        p.removal,
    );
    let app = encrypted_log_group(
        s,
        "AppLogs",
        names.app_log_group.clone(),
        p.log_retention_days,
        p.logs_key_arn.clone(),
        p.removal,
    );
    LogGroups { agent, app }
}

/// What the task definition is made of.
pub(super) struct TaskInputs<'a> {
    pub names: &'a Names,
    pub props: &'a NextJsServiceProps,
    pub repository: Res<CfnRepository>,
    pub image_tag: Str,
    pub roles: &'a Roles,
    pub logs: &'a LogGroups,
}

/// The unified service tags (env, service, version).
struct DdTags {
    env: String,
    service: String,
    version: Str,
}

fn kv(name: &str, value: impl Into<Str>) -> KeyValuePair {
    KeyValuePair::new().name(name).value(value)
}

fn awslogs(group: Res<CfnLogGroup>, prefix: &str) -> LogConfiguration {
    let mut options: IndexMap<String, Str> = IndexMap::new();
    options.insert("awslogs-group".into(), group.ref_());
    options.insert("awslogs-region".into(), aws::region());
    options.insert("awslogs-stream-prefix".into(), prefix.into());
    // A slow CloudWatch never blocks the process writing to stdout.
    options.insert("mode".into(), "non-blocking".into());
    options.insert("max-buffer-size".into(), "25m".into());
    LogConfiguration::new("awslogs").options(options)
}

/// `arn` or `arn:json_key::` (the ECS form for one key of a JSON secret).
fn value_from(arn: &Str, json_key: &str) -> Str {
    if json_key.is_empty() {
        arn.clone()
    } else {
        fns::join("", [arn.clone(), Str::from(format!(":{json_key}::"))])
    }
}

pub(super) fn task_definition(s: &mut Scope<'_>, i: &TaskInputs<'_>) -> Res<CfnTaskDefinition> {
    let p = i.props;
    let dd = DdTags {
        env: p.datadog.env.clone().unwrap_or_else(|| p.stage.clone()),
        service: p
            .datadog
            .service
            .clone()
            .unwrap_or_else(|| p.app_name.clone()),
        version: p
            .datadog
            .version
            .clone()
            .map_or_else(|| i.image_tag.clone(), Str::from),
    };
    let firelens = p.app_logs == AppLogs::CloudWatchAndDatadog;
    let mut containers = vec![app_container(i, &dd), agent_container(i, &dd)];
    if firelens {
        containers.push(log_router_container(i));
    }
    if p.user.is_some() || firelens {
        containers.push(init_container(i));
    }
    let mut volumes: Vec<Volume> = WRITABLE_PATHS
        .iter()
        .map(|(name, _)| Volume::new().name(*name))
        .collect();
    if firelens {
        volumes.push(Volume::new().name(LOG_CONFIG_VOLUME));
    }
    s.resource(
        "TaskDefinition",
        CfnTaskDefinition::new()
            .family(i.names.base.clone())
            .cpu(p.cpu.to_string())
            .memory(p.memory.to_string())
            .network_mode("awsvpc")
            .requires_compatibilities(["FARGATE"])
            .execution_role_arn(i.roles.execution.attr_arn())
            .task_role_arn(i.roles.task.attr_arn())
            .volumes(volumes)
            .container_definitions(containers),
    )
}

fn app_container(i: &TaskInputs<'_>, dd: &DdTags) -> ContainerDefinition {
    let p = i.props;
    let image = fns::join(
        ":",
        [i.repository.attr_repository_uri(), i.image_tag.clone()],
    );
    let mut env = vec![
        kv("NODE_ENV", "production"),
        kv("PORT", p.container_port.to_string()),
        // Next.js standalone binds to HOSTNAME; the ALB reaches the task's ENI, not loopback.
        kv("HOSTNAME", "0.0.0.0"),
        // The agent shares the task's network namespace.
        kv("DD_AGENT_HOST", "127.0.0.1"),
        kv("DD_ENV", dd.env.as_str()),
        kv("DD_SERVICE", dd.service.as_str()),
        kv("DD_VERSION", dd.version.clone()),
        kv("DD_LOGS_INJECTION", "true"),
        kv("STATIC_BUCKET", p.static_bucket.name.clone()),
        kv("COGNITO_USER_POOL_ID", p.user_pool.id.clone()),
    ];
    env.extend(p.environment.iter().map(|(k, v)| kv(k, v.clone())));
    let secrets: Vec<Secret> = p
        .secrets
        .iter()
        .map(|(name, secret, key)| Secret::new(name.as_str(), value_from(&secret.arn, key)))
        .collect();
    let mut labels: IndexMap<String, Str> = IndexMap::new();
    labels.insert("com.datadoghq.tags.env".into(), dd.env.as_str().into());
    labels.insert(
        "com.datadoghq.tags.service".into(),
        dd.service.as_str().into(),
    );
    labels.insert("com.datadoghq.tags.version".into(), dd.version.clone());

    // `node` is in every Next.js image; curl and wget are not (slim and distroless images).
    let probe = format!(
        "fetch('http://127.0.0.1:{}{}').then(r=>process.exit(r.status<400?0:1),()=>process.exit(1))",
        p.container_port, p.health_check_path
    );
    let mut depends = vec![ContainerDependency::new()
        .container_name(AGENT_CONTAINER)
        .condition(ContainerDependencyCondition::Start)];
    if p.user.is_some() {
        depends.push(
            ContainerDependency::new()
                .container_name(VOLUME_INIT_CONTAINER)
                .condition(ContainerDependencyCondition::Success),
        );
    }
    let logging = match p.app_logs {
        AppLogs::CloudWatch => awslogs(i.logs.app, APP_CONTAINER),
        AppLogs::CloudWatchAndDatadog => {
            depends.push(
                ContainerDependency::new()
                    .container_name(LOG_ROUTER_CONTAINER)
                    .condition(ContainerDependencyCondition::Start),
            );
            firelens_to_datadog(p, dd)
        }
    };
    let mut c = ContainerDefinition::new(image, APP_CONTAINER)
        .essential(true)
        .port_mappings([PortMapping::new()
            .name("http")
            .container_port(p.container_port)
            .protocol("tcp")
            .app_protocol("http")])
        .environment(env)
        .docker_labels(labels)
        .health_check(
            HealthCheck::new()
                .command(["CMD", "node", "-e", probe.as_str()])
                .interval(30)
                .timeout(5)
                .retries(3)
                .start_period(30),
        )
        // ECS Exec's agent writes into the container: it cannot run on a read-only root.
        .readonly_root_filesystem(!p.enable_exec)
        .mount_points(
            WRITABLE_PATHS
                .iter()
                .map(|(name, path)| {
                    MountPoint::new()
                        .source_volume(*name)
                        .container_path(*path)
                        .read_only(false)
                })
                .collect::<Vec<_>>(),
        )
        .linux_parameters(
            LinuxParameters::new()
                .init_process_enabled(true)
                .capabilities(KernelCapabilities::new().drop(["ALL"])),
        )
        .depends_on(depends)
        .stop_timeout(30)
        .log_configuration(logging);
    if !secrets.is_empty() {
        c = c.secrets(secrets);
    }
    if let Some(user) = &p.user {
        c = c.user(user.as_str());
    }
    c
}

/// The app's stdout through FireLens to Datadog Logs; the API key comes from the secret.
fn firelens_to_datadog(p: &NextJsServiceProps, dd: &DdTags) -> LogConfiguration {
    let mut options: IndexMap<String, Str> = IndexMap::new();
    options.insert("Name".into(), "datadog".into());
    options.insert(
        "Host".into(),
        format!("http-intake.logs.{}", p.datadog.site).into(),
    );
    options.insert("TLS".into(), "on".into());
    options.insert("compress".into(), "gzip".into());
    options.insert("provider".into(), "ecs".into());
    options.insert("dd_service".into(), dd.service.as_str().into());
    options.insert("dd_source".into(), "nodejs".into());
    options.insert(
        "dd_tags".into(),
        fns::join(
            "",
            [
                Str::from(format!("env:{},version:", dd.env)),
                dd.version.clone(),
            ],
        ),
    );
    LogConfiguration::new("awsfirelens")
        .options(options)
        .secret_options([Secret::new("apikey", p.datadog.api_key_secret.arn.clone())])
}

fn agent_container(i: &TaskInputs<'_>, dd: &DdTags) -> ContainerDefinition {
    let p = i.props;
    ContainerDefinition::new(p.datadog.agent_image.as_str(), AGENT_CONTAINER)
        // Monitoring must not take the app down: if the agent dies the task keeps serving
        // (Datadog's no-data monitors notice), and the app starts without waiting for it.
        .essential(false)
        .memory_reservation(AGENT_MEMORY)
        .environment([
            kv("ECS_FARGATE", "true"),
            kv("DD_SITE", p.datadog.site.as_str()),
            kv("DD_APM_ENABLED", "true"),
            kv("DD_APM_NON_LOCAL_TRAFFIC", "true"),
            kv("DD_DOGSTATSD_NON_LOCAL_TRAFFIC", "true"),
            kv("DD_ENV", dd.env.as_str()),
            kv("DD_SERVICE", dd.service.as_str()),
            kv("DD_VERSION", dd.version.clone()),
        ])
        .secrets([Secret::new(
            "DD_API_KEY",
            p.datadog.api_key_secret.arn.clone(),
        )])
        .port_mappings([
            PortMapping::new()
                .name("apm")
                .container_port(8126)
                .protocol("tcp"),
            PortMapping::new()
                .name("dogstatsd")
                .container_port(8125)
                .protocol("udp"),
        ])
        .health_check(
            HealthCheck::new()
                .command(["CMD-SHELL", "agent health"])
                .interval(30)
                .timeout(5)
                .retries(3)
                .start_period(15),
        )
        // The agent runs as root in its image; it needs no capability for APM, DogStatsD and
        // the ECS metadata endpoint on Fargate.
        .linux_parameters(
            LinuxParameters::new().capabilities(KernelCapabilities::new().drop(["ALL"])),
        )
        .log_configuration(awslogs(i.logs.agent, AGENT_CONTAINER))
}

fn log_router_container(i: &TaskInputs<'_>) -> ContainerDefinition {
    let p = i.props;
    let mut firelens_options: IndexMap<String, Str> = IndexMap::new();
    firelens_options.insert("enable-ecs-log-metadata".into(), "true".into());
    // The second output (CloudWatch) is a config file ECS includes after its generated one.
    firelens_options.insert("config-file-type".into(), "file".into());
    firelens_options.insert(
        "config-file-value".into(),
        format!("{LOG_CONFIG_DIR}/{LOG_CONFIG_FILE}").into(),
    );
    ContainerDefinition::new(p.datadog.log_router_image.as_str(), LOG_ROUTER_CONTAINER)
        // The app's log driver writes to this container: without it the app's logs are lost.
        .essential(true)
        .memory_reservation(LOG_ROUTER_MEMORY)
        .firelens_configuration(
            FirelensConfiguration::new()
                .type_("fluentbit")
                .options(firelens_options),
        )
        .mount_points([MountPoint::new()
            .source_volume(LOG_CONFIG_VOLUME)
            .container_path(LOG_CONFIG_DIR)
            .read_only(true)])
        .linux_parameters(
            LinuxParameters::new().capabilities(KernelCapabilities::new().drop(["ALL"])),
        )
        // Its config must be written before it starts.
        .depends_on([ContainerDependency::new()
            .container_name(VOLUME_INIT_CONTAINER)
            .condition(ContainerDependencyCondition::Success)])
        .log_configuration(awslogs(i.logs.agent, LOG_ROUTER_CONTAINER))
}

/// The Fluent Bit output that copies the app's FireLens stream (tagged `<container>-firelens-*`)
/// to its CloudWatch log group, as `Fn::Sub` text (`${AppLogGroup}`, `${AWS::Region}`); the group
/// exists (the template makes it), so the router never creates one.
fn cloudwatch_output() -> [String; 7] {
    [
        "[OUTPUT]".to_owned(),
        "    Name cloudwatch_logs".to_owned(),
        format!("    Match {APP_CONTAINER}-firelens*"),
        "    region ${AWS::Region}".to_owned(),
        "    log_group_name ${AppLogGroup}".to_owned(),
        format!("    log_stream_prefix {APP_CONTAINER}/"),
        "    auto_create_group false".to_owned(),
    ]
}

/// A short-lived container that prepares the task's volumes and exits: it opens the writable
/// paths to the non-root app user and writes the log router's CloudWatch output.
fn init_container(i: &TaskInputs<'_>) -> ContainerDefinition {
    let p = i.props;
    let mount = |name: &str| format!("/mnt/{name}");
    let mut mounts: Vec<MountPoint> = Vec::new();
    let mut steps: Vec<String> = Vec::new();
    if p.user.is_some() {
        let paths: Vec<String> = WRITABLE_PATHS.iter().map(|(name, _)| mount(name)).collect();
        steps.push(format!("chmod 1777 {}", paths.join(" ")));
        mounts.extend(WRITABLE_PATHS.iter().map(|(name, _)| {
            MountPoint::new()
                .source_volume(*name)
                .container_path(mount(name))
                .read_only(false)
        }));
    }
    let firelens = p.app_logs == AppLogs::CloudWatchAndDatadog;
    if firelens {
        // printf '%s\n' 'line' ...: one config line per argument, nothing expanded by the shell.
        let lines: Vec<String> = cloudwatch_output()
            .iter()
            .map(|l| format!("'{l}'"))
            .collect();
        steps.push(format!(
            "printf '%s\\n' {} > {LOG_CONFIG_INIT_DIR}/{LOG_CONFIG_FILE}",
            lines.join(" ")
        ));
        mounts.push(
            MountPoint::new()
                .source_volume(LOG_CONFIG_VOLUME)
                .container_path(LOG_CONFIG_INIT_DIR)
                .read_only(false),
        );
    }
    let steps = steps.join(" && ");
    let script = if firelens {
        fns::sub_with(&steps, [("AppLogGroup", i.logs.app.ref_())])
    } else {
        Str::from(steps)
    };
    ContainerDefinition::new(super::images::INIT, VOLUME_INIT_CONTAINER)
        // It exits once done; the app waits for its success.
        .essential(false)
        .memory_reservation(VOLUME_INIT_MEMORY)
        // Fargate creates the mount points owned by root: only their owner may change their
        // mode, which needs no capability. It runs for a moment and uses no network.
        .user("0")
        .readonly_root_filesystem(true)
        .linux_parameters(
            LinuxParameters::new().capabilities(KernelCapabilities::new().drop(["ALL"])),
        )
        .command([Str::from("sh"), Str::from("-c"), script])
        .mount_points(mounts)
        .log_configuration(awslogs(i.logs.agent, VOLUME_INIT_CONTAINER))
}
