//! [`FargateTask`]: a Fargate task definition with its app container, its two roles and its log
//! groups, and optionally the [`DatadogAgent`] add-on.

use indexmap::IndexMap;
use pantri_synth::cfn::ecr::CfnRepository;
use pantri_synth::cfn::ecs::task_definition::{
    ContainerDefinition, ContainerDependency, ContainerDependencyCondition, HealthCheck,
    KernelCapabilities, KeyValuePair, LinuxParameters, LogConfiguration, MountPoint, PortMapping,
    Secret, Volume,
};
use pantri_synth::cfn::ecs::CfnTaskDefinition;
use pantri_synth::cfn::iam::CfnRole;
use pantri_synth::cfn::logs::CfnLogGroup;
use pantri_synth::fns::{self, aws};
use pantri_synth::{Res, Scope, Str};

use super::datadog::{
    cloudwatch_output, DatadogAgent, AGENT_INIT_MEMORY, AGENT_MEMORY, AGENT_VOLUMES, DATADOG_SITES,
    LOG_CONFIG_FILE, LOG_CONFIG_INIT_DIR, LOG_CONFIG_VOLUME, LOG_ROUTER_MEMORY,
};
use super::roles::{self, RoleInputs};
use super::{validate, AGENT_CONTAINER, LOG_ROUTER_CONTAINER};
use crate::policy::Statement;
use crate::{Removal, SecretRef};

/// A short-lived container that makes the writable volumes writable for a non-root app user
/// (mode 1777, like `/tmp`: the volumes are private to the task) and writes the log router's
/// CloudWatch output, then exits.
pub const VOLUME_INIT_CONTAINER: &str = "volume-init";

const VOLUME_INIT_MEMORY: u32 = 16;

/// A container image and the ECR repository ECS pulls it from, if any.
#[derive(Clone, Debug, PartialEq)]
pub struct ContainerImage {
    image: Str,
    repository_arn: Option<Str>,
    tag: Option<Str>,
}

impl ContainerImage {
    /// `tag` of an ECR repository made by this app (in any stack): the execution role may pull
    /// from that repository and no other.
    pub fn ecr(repository: Res<CfnRepository>, tag: impl Into<Str>) -> ContainerImage {
        ContainerImage::ecr_arn(repository.attr_arn(), repository.attr_repository_uri(), tag)
    }

    /// `tag` of an ECR repository given by ARN and URI (one this app does not make).
    pub fn ecr_arn(
        repository_arn: Str,
        repository_uri: Str,
        tag: impl Into<Str>,
    ) -> ContainerImage {
        let tag = tag.into();
        ContainerImage {
            image: fns::join(":", [repository_uri, tag.clone()]),
            repository_arn: Some(repository_arn),
            tag: Some(tag),
        }
    }

    /// An image of a public registry (`public.ecr.aws/nginx/nginx:1.27`): nothing to grant.
    pub fn public(image: &str) -> ContainerImage {
        ContainerImage {
            image: Str::from(image),
            repository_arn: None,
            tag: image
                .rsplit_once(':')
                .filter(|(_, t)| !t.contains('/'))
                .map(|(_, t)| Str::from(t)),
        }
    }

    /// An image built and pushed elsewhere, by URI with a tag (`<registry>/<repo>:<tag>`) or a
    /// digest (`<registry>/<repo>@sha256:<hex>`), used exactly as given. An ECR URI
    /// (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>`) lets the execution role pull from
    /// that repository and no other; any other registry is pulled without credentials.
    pub fn uri(uri: &str) -> ContainerImage {
        let (name, tag) = match uri.split_once('@') {
            Some((name, digest)) => (name, Some(digest)),
            None => match uri.rsplit_once(':') {
                Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
                _ => (uri, None),
            },
        };
        let repository_arn = name.split_once('/').and_then(|(host, repo)| {
            let labels: Vec<&str> = host.split('.').collect();
            match labels.as_slice() {
                [account, "dkr", "ecr", region, "amazonaws", "com", ..] => Some(fns::sub(
                    &format!("arn:${{AWS::Partition}}:ecr:{region}:{account}:repository/{repo}"),
                )),
                _ => None,
            }
        });
        ContainerImage {
            image: Str::from(uri),
            repository_arn,
            tag: tag.map(Str::from),
        }
    }

    /// The image reference ECS pulls.
    pub fn image(&self) -> &Str {
        &self.image
    }

    /// The image's tag, when known.
    pub fn tag(&self) -> Option<&Str> {
        self.tag.as_ref()
    }
}

/// Where ECS reads a secret environment variable from when a task starts: the value never
/// appears in the template, and the task's execution role may read exactly these sources.
///
/// ```
/// use pantri_constructs::service::SecretSource;
/// use pantri_constructs::SecretRef;
///
/// let db = SecretRef {
///     arn: "arn:aws:secretsmanager:eu-west-1:111111111111:secret:orders/db-AbCdEf".into(),
///     name: "orders/db".into(),
/// };
/// let secrets = vec![
///     ("DB_PASSWORD".to_owned(), SecretSource::secret_key(&db, "password")),
///     ("STRIPE_KEY".to_owned(), SecretSource::parameter("/orders/dev/stripe-key")),
/// ];
/// # assert_eq!(secrets.len(), 2);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum SecretSource {
    /// A Secrets Manager secret: its whole string (`json_key` `None`), or one key of its JSON.
    SecretsManager {
        /// The secret.
        secret: SecretRef,
        /// The JSON key whose value is the variable's, or `None` for the whole string.
        json_key: Option<String>,
    },
    /// An SSM Parameter Store parameter (`String` or `SecureString`) of the task's account
    /// and region, by name (`/orders/dev/stripe-key`).
    Parameter {
        /// The parameter's name: one word, or a path starting with `/`.
        name: String,
        /// The customer-managed KMS key of a `SecureString`, which the execution role may then
        /// use to decrypt. `None` for a `String` or the AWS-managed `aws/ssm` key.
        kms_key_arn: Option<Str>,
    },
}

impl SecretSource {
    /// The whole string of a Secrets Manager secret.
    pub fn secret(secret: &SecretRef) -> SecretSource {
        SecretSource::SecretsManager {
            secret: secret.clone(),
            json_key: None,
        }
    }

    /// One key of a Secrets Manager secret's JSON.
    pub fn secret_key(secret: &SecretRef, json_key: &str) -> SecretSource {
        SecretSource::SecretsManager {
            secret: secret.clone(),
            json_key: Some(json_key.to_owned()),
        }
    }

    /// An SSM parameter encrypted, if at all, with the AWS-managed key.
    pub fn parameter(name: &str) -> SecretSource {
        SecretSource::Parameter {
            name: name.to_owned(),
            kms_key_arn: None,
        }
    }

    /// The `ValueFrom` ECS reads: the secret's ARN (with the JSON key), or the parameter's ARN.
    fn value_from(&self) -> Str {
        match self {
            SecretSource::SecretsManager { secret, json_key } => match json_key {
                None => secret.arn.clone(),
                Some(key) => fns::join("", [secret.arn.clone(), Str::from(format!(":{key}::"))]),
            },
            SecretSource::Parameter { name, .. } => parameter_arn(name),
        }
    }
}

/// The ARN of parameter `name` in the stack's account and region (a path's leading `/` is
/// not repeated after `parameter`).
pub(super) fn parameter_arn(name: &str) -> Str {
    fns::sub(&format!(
        "arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/{}",
        name.trim_start_matches('/')
    ))
}

/// The tuning of a [`FargateTask`]. Every default is the secure choice.
#[derive(Clone, Debug, PartialEq)]
pub struct FargateTaskProps {
    /// The task definition family (and the name in the roles' descriptions). Default: named by
    /// CloudFormation.
    pub family: Option<String>,
    /// Task CPU units (a legal Fargate combination with `memory`). Default 512.
    pub cpu: u32,
    /// Task memory in MiB. Default 1024.
    pub memory: u32,
    /// The app container's name. Default `app`.
    pub container_name: String,
    /// The container health check command (`["CMD", "/healthcheck"]`). Default none.
    pub health_check: Option<Vec<String>>,
    /// Plain environment variables (never secrets: names that look like one are errors).
    pub environment: Vec<(String, Str)>,
    /// Secret environment variables: (name, where ECS reads the value when the task starts);
    /// the execution role may read exactly these.
    pub secrets: Vec<(String, SecretSource)>,
    /// The user the app runs as. Default `1000:1000`: never root, whatever the image says.
    /// `None` runs the image's own user.
    pub user: Option<String>,
    /// Writable (volume name, path) pairs on the read-only root filesystem. Default
    /// `("tmp", "/tmp")`.
    pub writable_paths: Vec<(String, String)>,
    /// ECS Exec into the app container: adds the ssmmessages actions and makes the root
    /// filesystem writable (the exec agent writes there). Default false.
    pub enable_exec: bool,
    /// The app's log group name. Default: named by CloudFormation.
    pub log_group_name: Option<String>,
    /// Retention of the log groups, in days (a CloudWatch Logs value). Default 365.
    pub log_retention_days: u32,
    /// The KMS key that encrypts the log groups (its policy must let CloudWatch Logs use it, as
    /// [`LogsKey`](crate::logs::LogsKey)'s does). Default none: CloudWatch Logs' own encryption.
    pub logs_key_arn: Option<Str>,
    /// What happens to the log groups when the stack deletes them. Default Retain.
    pub removal: Removal,
    /// What the app may call, in the task role's inline policy `App`. Default nothing; grants
    /// (`crate::grants`) add to the role's `DefaultPolicy` instead.
    pub task_role_statements: Vec<Statement>,
    /// The task role's description. Default: says which tasks use it.
    pub task_role_description: Option<String>,
    /// The Datadog agent add-on. Default none.
    pub datadog: Option<DatadogAgent>,
}

impl Default for FargateTaskProps {
    fn default() -> Self {
        FargateTaskProps {
            family: None,
            cpu: 512,
            memory: 1024,
            container_name: "app".to_owned(),
            health_check: None,
            environment: Vec::new(),
            secrets: Vec::new(),
            user: Some("1000:1000".to_owned()),
            writable_paths: vec![("tmp".to_owned(), "/tmp".to_owned())],
            enable_exec: false,
            log_group_name: None,
            log_retention_days: 365,
            logs_key_arn: None,
            removal: Removal::Retain,
            task_role_statements: Vec::new(),
            task_role_description: None,
            datadog: None,
        }
    }
}

/// A Fargate task definition: the app container (read-only root, capabilities dropped, a
/// non-root user, writable volumes), its log group, an execution role that may pull this image,
/// write these log groups and read these secrets, and a task role with what the app may call.
///
/// ```
/// use pantri_constructs::service::{ContainerImage, FargateTask, FargateTaskProps};
/// use pantri_synth::{App, Environment, StackProps};
///
/// let mut app = App::new();
/// let mut root = app.root();
/// let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// let mut stack = stage.stack("Worker", StackProps::default());
/// let task = FargateTask::new(
///     &mut stack,
///     "Task",
///     ContainerImage::public("public.ecr.aws/docker/library/busybox:1.37.0"),
///     FargateTaskProps { cpu: 256, memory: 512, ..FargateTaskProps::default() },
/// );
/// assert_eq!(task.container_name(), "app");
/// # assert_eq!(pantri_constructs::testing::errors(&app), Vec::<String>::new());
/// ```
///
/// The image is an argument: a task without one does not compile (the same code as above,
/// minus the image argument).
///
/// ```compile_fail,E0061
/// # use pantri_constructs::service::{ContainerImage, FargateTask, FargateTaskProps};
/// # use pantri_synth::{App, Environment, StackProps};
/// #
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// # let mut stack = stage.stack("Worker", StackProps::default());
/// let task = FargateTask::new(
///     &mut stack,
///     "Task",
///     FargateTaskProps { cpu: 256, memory: 512, ..FargateTaskProps::default() },
/// );
/// # assert_eq!(task.container_name(), "app");
/// # assert_eq!(pantri_constructs::testing::errors(&app), Vec::<String>::new());
/// ```
#[derive(Clone, Debug)]
pub struct FargateTask {
    task_definition: Res<CfnTaskDefinition>,
    execution_role: Res<CfnRole>,
    task_role: Res<CfnRole>,
    app_log_group: Res<CfnLogGroup>,
    agent_log_group: Option<Res<CfnLogGroup>>,
    container_name: String,
    container_port: Option<u16>,
    enable_exec: bool,
}

/// A [`FargateTask`] whose app listens on a port: what a [`WebService`](super::WebService)
/// takes, so a web service whose task serves nothing does not compile. Made by
/// [`FargateTask::serving`]; it is a `FargateTask` for everything else (roles, grants, a
/// [`QueueWorkerService`](super::QueueWorkerService)).
///
/// ```
/// use pantri_constructs::service::{ContainerImage, FargateTask, FargateTaskProps};
/// use pantri_synth::{App, Environment, StackProps};
///
/// let mut app = App::new();
/// let mut root = app.root();
/// let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// let mut stack = stage.stack("Service", StackProps::default());
/// let task = FargateTask::serving(
///     &mut stack,
///     "ApiTask",
///     ContainerImage::public("public.ecr.aws/nginx/nginx:1.27"),
///     8080,
///     FargateTaskProps::default(),
/// );
/// assert_eq!(task.port(), 8080);
/// assert_eq!(task.container_port(), Some(8080));
/// # assert_eq!(pantri_constructs::testing::errors(&app), Vec::<String>::new());
/// ```
#[derive(Clone, Debug)]
pub struct ServingTask {
    task: FargateTask,
    port: u16,
}

impl ServingTask {
    /// Adds the same resources as [`FargateTask::serving`] directly to `scope`, with no
    /// construct node of its own (see [`FargateTask::in_scope`]).
    pub fn in_scope(
        s: &mut Scope<'_>,
        image: ContainerImage,
        port: u16,
        p: FargateTaskProps,
    ) -> ServingTask {
        ServingTask {
            task: FargateTask::build(s, image, Some(port), p),
            port,
        }
    }

    /// The port the app listens on.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl std::ops::Deref for ServingTask {
    type Target = FargateTask;

    fn deref(&self) -> &FargateTask {
        &self.task
    }
}

/// The log groups of the task.
#[derive(Clone, Copy, Debug)]
pub(super) struct LogGroups {
    /// The agent, the log router and the init container (with the Datadog add-on).
    pub agent: Option<Res<CfnLogGroup>>,
    /// The app.
    pub app: Res<CfnLogGroup>,
}

impl FargateTask {
    /// Adds a task whose app listens on no port (a worker) under `scope` at `id`. Bad props
    /// are synth errors at the construct's path.
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        image: ContainerImage,
        props: FargateTaskProps,
    ) -> FargateTask {
        let mut s = scope.construct(id, "pantri.FargateTask");
        FargateTask::in_scope(&mut s, image, props)
    }

    /// Adds a task whose app listens on `port` (mapped as `http`), what a
    /// [`WebService`](super::WebService) forwards requests to.
    pub fn serving(
        scope: &mut Scope<'_>,
        id: &str,
        image: ContainerImage,
        port: u16,
        props: FargateTaskProps,
    ) -> ServingTask {
        let mut s = scope.construct(id, "pantri.FargateTask");
        ServingTask::in_scope(&mut s, image, port, props)
    }

    /// Adds the same resources directly to `scope`, with no construct node of its own: for a
    /// composition whose resources keep the paths (so the logical IDs) they had before it was
    /// composed of parts. Ids: `AgentLogs`, `AppLogs`, `ExecutionRole`, `TaskRole`,
    /// `TaskDefinition`.
    pub fn in_scope(s: &mut Scope<'_>, image: ContainerImage, p: FargateTaskProps) -> FargateTask {
        FargateTask::build(s, image, None, p)
    }

    fn build(
        s: &mut Scope<'_>,
        image: ContainerImage,
        port: Option<u16>,
        p: FargateTaskProps,
    ) -> FargateTask {
        check(s, port, &p);
        let agent = p
            .datadog
            .as_ref()
            .map(|dd| log_group(s, "AgentLogs", dd.log_group_name.clone(), &p));
        let app = log_group(s, "AppLogs", p.log_group_name.clone(), &p);
        let logs = LogGroups { agent, app };
        let roles = roles::roles(
            s,
            &RoleInputs {
                props: &p,
                repository_arn: image.repository_arn.clone(),
                logs: &logs,
            },
        );
        let task_definition = task_definition(s, &image, port, &p, &roles, &logs);
        FargateTask {
            task_definition,
            execution_role: roles.execution,
            task_role: roles.task,
            app_log_group: app,
            agent_log_group: agent,
            container_name: p.container_name.clone(),
            container_port: port,
            enable_exec: p.enable_exec,
        }
    }

    /// The app container's name.
    pub fn container_name(&self) -> &str {
        &self.container_name
    }

    /// The port the app listens on, if any.
    pub fn container_port(&self) -> Option<u16> {
        self.container_port
    }

    /// Whether ECS Exec is enabled (the service must say so too).
    pub fn enable_exec(&self) -> bool {
        self.enable_exec
    }

    /// Escape hatch: the task definition.
    pub fn task_definition(&self) -> Res<CfnTaskDefinition> {
        self.task_definition
    }

    /// The execution role (image pull, log groups, secrets).
    pub fn execution_role(&self) -> Res<CfnRole> {
        self.execution_role
    }

    /// The task role (what the app may call): the role grants go to.
    pub fn task_role(&self) -> Res<CfnRole> {
        self.task_role
    }

    /// The app's log group.
    pub fn app_log_group(&self) -> Res<CfnLogGroup> {
        self.app_log_group
    }

    /// The log group of the Datadog agent and the log router, with the add-on.
    pub fn agent_log_group(&self) -> Option<Res<CfnLogGroup>> {
        self.agent_log_group
    }
}

fn log_group(
    s: &mut Scope<'_>,
    id: &str,
    name: Option<String>,
    p: &FargateTaskProps,
) -> Res<CfnLogGroup> {
    let mut group = CfnLogGroup::new().retention_in_days(p.log_retention_days);
    if let Some(name) = name {
        group = group.log_group_name(name);
    }
    if let Some(key) = &p.logs_key_arn {
        group = group.kms_key_id(key.clone());
    }
    let group = s.resource(id, group);
    if let Some(o) = s.app().options_mut(group) {
        p.removal.apply(o);
    }
    group
}

/// The sidecars' reserved memory (MiB); the app gets the rest of the task.
pub(super) fn sidecar_memory(p: &FargateTaskProps) -> u32 {
    let init = if needs_init(p) { VOLUME_INIT_MEMORY } else { 0 };
    match &p.datadog {
        Some(dd) if dd.firelens() => AGENT_MEMORY + AGENT_INIT_MEMORY + LOG_ROUTER_MEMORY + init,
        Some(_) => AGENT_MEMORY + AGENT_INIT_MEMORY + init,
        None => init,
    }
}

fn firelens(p: &FargateTaskProps) -> bool {
    p.datadog.as_ref().is_some_and(DatadogAgent::firelens)
}

fn chmods(p: &FargateTaskProps) -> bool {
    p.user.is_some() && !p.writable_paths.is_empty()
}

fn needs_init(p: &FargateTaskProps) -> bool {
    chmods(p) || firelens(p)
}

fn check(s: &mut Scope<'_>, port: Option<u16>, p: &FargateTaskProps) {
    let mut errors = Vec::new();
    validate::fargate_size(p.cpu, p.memory, sidecar_memory(p), &mut errors);
    validate::retention(p.log_retention_days, &mut errors);
    validate::environment(&p.environment, &p.secrets, &mut errors);
    if let Some(port) = port {
        validate::container_port(port, p.datadog.is_some(), &mut errors);
    }
    if let Some(dd) = &p.datadog {
        if !DATADOG_SITES.contains(&dd.site.as_str()) {
            errors.push(format!(
                "datadog.site {:?} is not a Datadog site: use one of {DATADOG_SITES:?}",
                dd.site
            ));
        }
    }
    for e in errors {
        s.error(e);
    }
}

pub(super) fn kv(name: &str, value: impl Into<Str>) -> KeyValuePair {
    KeyValuePair::new().name(name).value(value)
}

pub(super) fn awslogs(group: Str, prefix: &str) -> LogConfiguration {
    let mut options: IndexMap<String, Str> = IndexMap::new();
    options.insert("awslogs-group".into(), group);
    options.insert("awslogs-region".into(), aws::region());
    options.insert("awslogs-stream-prefix".into(), prefix.into());
    // A slow CloudWatch never blocks the process writing to stdout.
    options.insert("mode".into(), "non-blocking".into());
    options.insert("max-buffer-size".into(), "25m".into());
    LogConfiguration::new("awslogs").options(options)
}

fn task_definition(
    s: &mut Scope<'_>,
    image: &ContainerImage,
    port: Option<u16>,
    p: &FargateTaskProps,
    roles: &roles::Roles,
    logs: &LogGroups,
) -> Res<CfnTaskDefinition> {
    let version = p.datadog.as_ref().and_then(|dd| dd.version_or(image.tag()));
    let sidecar_logs = logs.agent.unwrap_or(logs.app).ref_();
    let mut containers = vec![app_container(image, port, p, logs, version.as_ref())];
    if let Some(dd) = &p.datadog {
        containers.push(dd.agent_init_container(sidecar_logs.clone()));
        containers.push(dd.agent_container(version.as_ref(), sidecar_logs.clone()));
        if dd.firelens() {
            containers.push(dd.log_router_container(sidecar_logs.clone()));
        }
    }
    if needs_init(p) {
        containers.push(init_container(p, logs, sidecar_logs));
    }
    let mut volumes: Vec<Volume> = p
        .writable_paths
        .iter()
        .map(|(name, _)| Volume::new().name(name.as_str()))
        .collect();
    if p.datadog.is_some() {
        volumes.extend(
            AGENT_VOLUMES
                .iter()
                .map(|(name, _)| Volume::new().name(*name)),
        );
    }
    if firelens(p) {
        volumes.push(Volume::new().name(LOG_CONFIG_VOLUME));
    }
    let mut task = CfnTaskDefinition::new()
        .cpu(p.cpu.to_string())
        .memory(p.memory.to_string())
        .network_mode("awsvpc")
        .requires_compatibilities(["FARGATE"])
        .execution_role_arn(roles.execution.attr_arn())
        .task_role_arn(roles.task.attr_arn())
        .container_definitions(containers);
    if let Some(family) = &p.family {
        task = task.family(family.as_str());
    }
    if !volumes.is_empty() {
        task = task.volumes(volumes);
    }
    s.resource("TaskDefinition", task)
}

fn app_container(
    image: &ContainerImage,
    port: Option<u16>,
    p: &FargateTaskProps,
    logs: &LogGroups,
    version: Option<&Str>,
) -> ContainerDefinition {
    let name = p.container_name.as_str();
    let mut env: Vec<KeyValuePair> = p
        .environment
        .iter()
        .map(|(k, v)| kv(k, v.clone()))
        .collect();
    let mut depends = Vec::new();
    let mut labels = IndexMap::new();
    if let Some(dd) = &p.datadog {
        // The agent's variables, unless the app sets its own (a composition may place them).
        for (k, v) in dd.app_environment(version) {
            if !p.environment.iter().any(|(n, _)| *n == k) {
                env.push(kv(&k, v));
            }
        }
        labels = dd.labels(version);
        depends.push(
            ContainerDependency::new()
                .container_name(AGENT_CONTAINER)
                .condition(ContainerDependencyCondition::Start),
        );
    }
    if chmods(p) {
        depends.push(
            ContainerDependency::new()
                .container_name(VOLUME_INIT_CONTAINER)
                .condition(ContainerDependencyCondition::Success),
        );
    }
    let logging = match &p.datadog {
        Some(dd) if dd.firelens() => {
            depends.push(
                ContainerDependency::new()
                    .container_name(LOG_ROUTER_CONTAINER)
                    .condition(ContainerDependencyCondition::Start),
            );
            dd.firelens_to_datadog(version)
        }
        _ => awslogs(logs.app.ref_(), name),
    };
    let secrets: Vec<Secret> = p
        .secrets
        .iter()
        .map(|(name, source)| Secret::new(name.as_str(), source.value_from()))
        .collect();
    let mut c = ContainerDefinition::new(image.image.clone(), name)
        .essential(true)
        .environment(env)
        // ECS Exec's agent writes into the container: it cannot run on a read-only root.
        .readonly_root_filesystem(!p.enable_exec)
        .linux_parameters(
            LinuxParameters::new()
                .init_process_enabled(true)
                .capabilities(KernelCapabilities::new().drop(["ALL"])),
        )
        .stop_timeout(30)
        .log_configuration(logging);
    if let Some(port) = port {
        c = c.port_mappings([PortMapping::new()
            .name("http")
            .container_port(port)
            .protocol("tcp")
            .app_protocol("http")]);
    }
    if !labels.is_empty() {
        c = c.docker_labels(labels);
    }
    if let Some(command) = &p.health_check {
        c = c.health_check(
            HealthCheck::new()
                .command(
                    command
                        .iter()
                        .map(|c| Str::from(c.as_str()))
                        .collect::<Vec<_>>(),
                )
                .interval(30)
                .timeout(5)
                .retries(3)
                .start_period(30),
        );
    }
    if !p.writable_paths.is_empty() {
        c = c.mount_points(
            p.writable_paths
                .iter()
                .map(|(name, path)| {
                    MountPoint::new()
                        .source_volume(name.as_str())
                        .container_path(path.as_str())
                        .read_only(false)
                })
                .collect::<Vec<_>>(),
        );
    }
    if !depends.is_empty() {
        c = c.depends_on(depends);
    }
    if !secrets.is_empty() {
        c = c.secrets(secrets);
    }
    if let Some(user) = &p.user {
        c = c.user(user.as_str());
    }
    c
}

/// A short-lived container that prepares the task's volumes and exits: it opens the writable
/// paths to the non-root app user and writes the log router's CloudWatch output.
fn init_container(p: &FargateTaskProps, logs: &LogGroups, own_logs: Str) -> ContainerDefinition {
    let mount = |name: &str| format!("/mnt/{name}");
    let mut mounts: Vec<MountPoint> = Vec::new();
    let mut steps: Vec<String> = Vec::new();
    if chmods(p) {
        let paths: Vec<String> = p
            .writable_paths
            .iter()
            .map(|(name, _)| mount(name))
            .collect();
        steps.push(format!("chmod 1777 {}", paths.join(" ")));
        mounts.extend(p.writable_paths.iter().map(|(name, _)| {
            MountPoint::new()
                .source_volume(name.as_str())
                .container_path(mount(name))
                .read_only(false)
        }));
    }
    let firelens = firelens(p);
    if firelens {
        // printf '%s\n' 'line' ...: one config line per argument, nothing expanded by the shell.
        let lines: Vec<String> = cloudwatch_output(&p.container_name)
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
        fns::sub_with(&steps, [("AppLogGroup", logs.app.ref_())])
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
        .log_configuration(awslogs(own_logs, VOLUME_INIT_CONTAINER))
}
