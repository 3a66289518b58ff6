//! The Datadog agent add-on of a [`FargateTask`](super::FargateTask): an agent sidecar (APM and
//! DogStatsD on localhost) and, when the app's logs go to Datadog too, a FireLens log router
//! (Fluent Bit) whose second output copies them to the app's CloudWatch log group.

use indexmap::IndexMap;
use pantri_synth::cfn::ecs::task_definition::{
    ContainerDefinition, ContainerDependency, ContainerDependencyCondition, FirelensConfiguration,
    HealthCheck, KernelCapabilities, LinuxParameters, LogConfiguration, MountPoint, PortMapping,
    Secret,
};
use pantri_synth::{fns, Str};

use super::task::{awslogs, kv, VOLUME_INIT_CONTAINER};
use super::{images, AppLogs, AGENT_CONTAINER, LOG_ROUTER_CONTAINER};
use crate::SecretRef;

/// Memory the agent reserves (MiB).
pub(super) const AGENT_MEMORY: u32 = 256;
/// Memory the log router reserves (MiB).
pub(super) const LOG_ROUTER_MEMORY: u32 = 64;

/// Datadog sites (the agent's `DD_SITE`).
pub(super) const DATADOG_SITES: &[&str] = &[
    "datadoghq.com",
    "us3.datadoghq.com",
    "us5.datadoghq.com",
    "datadoghq.eu",
    "ap1.datadoghq.com",
    "ap2.datadoghq.com",
    "ddog-gov.com",
];

/// The task volume the log router reads its extra Fluent Bit config from.
pub(super) const LOG_CONFIG_VOLUME: &str = "log-router-config";
/// Where the init container writes that config, and where the log router finds it.
pub(super) const LOG_CONFIG_INIT_DIR: &str = "/mnt/log-router-config";
const LOG_CONFIG_DIR: &str = "/fluent-bit/etc/extra";
pub(super) const LOG_CONFIG_FILE: &str = "cloudwatch.conf";

/// The container that copies the agent image's default configuration into a task volume, so
/// that the agent runs with a read-only root filesystem (Datadog's way, as its own ECS Fargate
/// Terraform module does it).
pub(super) const AGENT_INIT_CONTAINER: &str = "datadog-agent-init";
/// Memory the agent's init container reserves (MiB).
pub(super) const AGENT_INIT_MEMORY: u32 = 32;
/// The agent's writable paths, each a task volume: its configuration (which its entrypoint
/// completes at start), its run state and its temporary files.
pub(super) const AGENT_VOLUMES: [(&str, &str); 3] = [
    ("datadog-config", "/etc/datadog-agent"),
    ("datadog-run", "/opt/datadog-agent/run"),
    ("datadog-tmp", "/tmp"),
];
/// Where the init container mounts the configuration volume.
const AGENT_CONFIG_INIT_DIR: &str = "/mnt/datadog-config";

/// The Datadog agent as an add-on of any [`FargateTask`](super::FargateTask): pass it in
/// [`FargateTaskProps::datadog`](super::FargateTaskProps::datadog). What a task cannot do
/// without it is its API key and the `env` and `service` unified tags, so those are the
/// arguments of [`DatadogAgent::new`]; the rest has defaults.
///
/// The app container gets `DD_AGENT_HOST`, `DD_ENV`, `DD_SERVICE`, `DD_VERSION` and
/// `DD_LOGS_INJECTION` (unless it sets them itself), the unified-tagging Docker labels, and
/// starts after the agent. The agent is not essential: monitoring never takes the app down.
///
/// ```
/// use pantri_constructs::service::{AppLogs, DatadogAgent};
/// use pantri_constructs::SecretRef;
///
/// let api_key = SecretRef { arn: "arn:aws:secretsmanager:eu-west-1:111111111111:secret:dd-AbCdEf".into(), name: "dd".into() };
/// let agent = DatadogAgent::new(api_key, "dev", "orders")
///     .site("datadoghq.eu")
///     .app_logs(AppLogs::CloudWatch);
/// assert_eq!(agent.env(), "dev");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct DatadogAgent {
    pub(super) api_key_secret: SecretRef,
    pub(super) env: String,
    pub(super) service: String,
    pub(super) version: Option<Str>,
    pub(super) site: String,
    pub(super) agent_image: String,
    pub(super) log_router_image: String,
    pub(super) app_logs: AppLogs,
    pub(super) log_group_name: Option<String>,
    pub(super) log_source: Option<String>,
}

impl DatadogAgent {
    /// The agent with its API key (the whole secret string) and the `env` and `service` tags.
    /// Defaults: site `datadoghq.com`, `version` the app image's tag, images
    /// [`images::DATADOG_AGENT`] and [`images::LOG_ROUTER`], app logs to CloudWatch and Datadog,
    /// a log group named by CloudFormation.
    pub fn new(api_key_secret: SecretRef, env: &str, service: &str) -> DatadogAgent {
        DatadogAgent {
            api_key_secret,
            env: env.to_owned(),
            service: service.to_owned(),
            version: None,
            site: "datadoghq.com".to_owned(),
            agent_image: images::DATADOG_AGENT.to_owned(),
            log_router_image: images::LOG_ROUTER.to_owned(),
            app_logs: AppLogs::CloudWatchAndDatadog,
            log_group_name: None,
            log_source: None,
        }
    }

    /// The Datadog site (`datadoghq.eu`, `us5.datadoghq.com`, ...).
    pub fn site(mut self, site: &str) -> Self {
        self.site = site.to_owned();
        self
    }

    /// The `version` tag. Default: the tag of the app's image.
    pub fn version(mut self, version: impl Into<Str>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// The agent's image.
    pub fn agent_image(mut self, image: &str) -> Self {
        self.agent_image = image.to_owned();
        self
    }

    /// The log router's image.
    pub fn log_router_image(mut self, image: &str) -> Self {
        self.log_router_image = image.to_owned();
        self
    }

    /// Where the app's stdout goes.
    pub fn app_logs(mut self, app_logs: AppLogs) -> Self {
        self.app_logs = app_logs;
        self
    }

    /// The name of the log group of the agent, the log router and the init container.
    pub fn log_group_name(mut self, name: &str) -> Self {
        self.log_group_name = Some(name.to_owned());
        self
    }

    /// The `ddsource` of the app's logs (`nodejs`, `python`, ...), which picks Datadog's log
    /// pipeline. Default none.
    pub fn log_source(mut self, source: &str) -> Self {
        self.log_source = Some(source.to_owned());
        self
    }

    /// The `env` tag.
    pub fn env(&self) -> &str {
        &self.env
    }

    /// The `service` tag.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The secret holding the API key.
    pub fn api_key_secret(&self) -> &SecretRef {
        &self.api_key_secret
    }

    /// Whether the app's logs go through the FireLens log router.
    pub(super) fn firelens(&self) -> bool {
        self.app_logs == AppLogs::CloudWatchAndDatadog
    }

    /// The `version` tag: the one given, else the image's tag, else none.
    pub(super) fn version_or(&self, image_tag: Option<&Str>) -> Option<Str> {
        self.version.clone().or_else(|| image_tag.cloned())
    }

    /// The variables the app needs to reach the agent and tag its traces, in the order the app
    /// container lists them; a composition may place them among its own.
    pub fn app_environment(&self, version: Option<&Str>) -> Vec<(String, Str)> {
        let mut env = vec![
            // The agent shares the task's network namespace.
            ("DD_AGENT_HOST".to_owned(), Str::from("127.0.0.1")),
            ("DD_ENV".to_owned(), Str::from(self.env.as_str())),
            ("DD_SERVICE".to_owned(), Str::from(self.service.as_str())),
        ];
        if let Some(v) = version {
            env.push(("DD_VERSION".to_owned(), v.clone()));
        }
        env.push(("DD_LOGS_INJECTION".to_owned(), Str::from("true")));
        env
    }

    /// The unified-tagging labels of the app container.
    pub(super) fn labels(&self, version: Option<&Str>) -> IndexMap<String, Str> {
        let mut labels: IndexMap<String, Str> = IndexMap::new();
        labels.insert("com.datadoghq.tags.env".into(), self.env.as_str().into());
        labels.insert(
            "com.datadoghq.tags.service".into(),
            self.service.as_str().into(),
        );
        if let Some(v) = version {
            labels.insert("com.datadoghq.tags.version".into(), v.clone());
        }
        labels
    }

    /// The app's stdout through FireLens to Datadog Logs; the API key comes from the secret.
    pub(super) fn firelens_to_datadog(&self, version: Option<&Str>) -> LogConfiguration {
        let mut options: IndexMap<String, Str> = IndexMap::new();
        options.insert("Name".into(), "datadog".into());
        options.insert(
            "Host".into(),
            format!("http-intake.logs.{}", self.site).into(),
        );
        options.insert("TLS".into(), "on".into());
        options.insert("compress".into(), "gzip".into());
        options.insert("provider".into(), "ecs".into());
        options.insert("dd_service".into(), self.service.as_str().into());
        if let Some(source) = &self.log_source {
            options.insert("dd_source".into(), source.as_str().into());
        }
        let tags = match version {
            Some(v) => fns::join(
                "",
                [Str::from(format!("env:{},version:", self.env)), v.clone()],
            ),
            None => Str::from(format!("env:{}", self.env)),
        };
        options.insert("dd_tags".into(), tags);
        LogConfiguration::new("awsfirelens")
            .options(options)
            .secret_options([Secret::new("apikey", self.api_key_secret.arn.clone())])
    }

    /// The agent sidecar.
    pub(super) fn agent_container(&self, version: Option<&Str>, logs: Str) -> ContainerDefinition {
        let mut env = vec![
            kv("ECS_FARGATE", "true"),
            kv("DD_SITE", self.site.as_str()),
            kv("DD_APM_ENABLED", "true"),
            kv("DD_APM_NON_LOCAL_TRAFFIC", "true"),
            kv("DD_DOGSTATSD_NON_LOCAL_TRAFFIC", "true"),
            kv("DD_ENV", self.env.as_str()),
            kv("DD_SERVICE", self.service.as_str()),
        ];
        if let Some(v) = version {
            env.push(kv("DD_VERSION", v.clone()));
        }
        ContainerDefinition::new(self.agent_image.as_str(), AGENT_CONTAINER)
            // Monitoring must not take the app down: if the agent dies the task keeps serving
            // (Datadog's no-data monitors notice), and the app starts without waiting for it.
            .essential(false)
            .memory_reservation(AGENT_MEMORY)
            .environment(env)
            .secrets([Secret::new("DD_API_KEY", self.api_key_secret.arn.clone())])
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
            // It writes only to its volumes, which its init container prepared.
            .readonly_root_filesystem(true)
            .mount_points(AGENT_VOLUMES.map(|(volume, path)| {
                MountPoint::new()
                    .source_volume(volume)
                    .container_path(path)
                    .read_only(false)
            }))
            .depends_on([ContainerDependency::new()
                .container_name(AGENT_INIT_CONTAINER)
                .condition(ContainerDependencyCondition::Success)])
            .log_configuration(awslogs(logs, AGENT_CONTAINER))
    }

    /// The agent's init container: the agent image's default configuration copied into the
    /// configuration volume, then it exits.
    pub(super) fn agent_init_container(&self, logs: Str) -> ContainerDefinition {
        let (config_volume, config_path) = AGENT_VOLUMES[0];
        ContainerDefinition::new(self.agent_image.as_str(), AGENT_INIT_CONTAINER)
            .essential(false)
            .memory_reservation(AGENT_INIT_MEMORY)
            .readonly_root_filesystem(true)
            .linux_parameters(
                LinuxParameters::new().capabilities(KernelCapabilities::new().drop(["ALL"])),
            )
            // No entrypoint of the agent: only the copy, which writes to the volume alone.
            .entry_point(["/bin/sh", "-c"])
            .command([format!("cp -R {config_path}/. {AGENT_CONFIG_INIT_DIR}/")])
            .mount_points([MountPoint::new()
                .source_volume(config_volume)
                .container_path(AGENT_CONFIG_INIT_DIR)
                .read_only(false)])
            .log_configuration(awslogs(logs, AGENT_INIT_CONTAINER))
    }

    /// The FireLens log router.
    pub(super) fn log_router_container(&self, logs: Str) -> ContainerDefinition {
        let mut firelens_options: IndexMap<String, Str> = IndexMap::new();
        firelens_options.insert("enable-ecs-log-metadata".into(), "true".into());
        // The second output (CloudWatch) is a config file ECS includes after its generated one.
        firelens_options.insert("config-file-type".into(), "file".into());
        firelens_options.insert(
            "config-file-value".into(),
            format!("{LOG_CONFIG_DIR}/{LOG_CONFIG_FILE}").into(),
        );
        ContainerDefinition::new(self.log_router_image.as_str(), LOG_ROUTER_CONTAINER)
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
            // Fluent Bit reads its configuration and forwards over the network: it writes
            // nothing to its image. It runs as root (user 0), as FireLens requires of the log
            // router, which reads the task's log socket.
            .readonly_root_filesystem(true)
            .user("0")
            // Its config must be written before it starts.
            .depends_on([ContainerDependency::new()
                .container_name(VOLUME_INIT_CONTAINER)
                .condition(ContainerDependencyCondition::Success)])
            .log_configuration(awslogs(logs, LOG_ROUTER_CONTAINER))
    }
}

/// The Fluent Bit output that copies the app's FireLens stream (tagged `<container>-firelens-*`)
/// to its CloudWatch log group, as `Fn::Sub` text (`${AppLogGroup}`, `${AWS::Region}`); the group
/// exists (the template makes it), so the router never creates one.
pub(super) fn cloudwatch_output(container: &str) -> [String; 7] {
    [
        "[OUTPUT]".to_owned(),
        "    Name cloudwatch_logs".to_owned(),
        format!("    Match {container}-firelens*"),
        "    region ${AWS::Region}".to_owned(),
        "    log_group_name ${AppLogGroup}".to_owned(),
        format!("    log_stream_prefix {container}/"),
        "    auto_create_group false".to_owned(),
    ]
}
