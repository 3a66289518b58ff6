//! The settings of one stage, as `stages/<stage>.yaml` holds them: what the seed's
//! `dev.tfvars`/`prod.tfvars` held (environment, app name, domain name) plus account, region,
//! availability zones, sizes, Datadog site and switches. Every key is checked: an unknown key or a
//! wrong type is an error naming the file, line and key.

use pantri_constructs::dns::ParentZone;
use pantri_synth::Str;
use serde::Deserialize;

/// A clearly fake account id, so synth works with no AWS account.
pub const PLACEHOLDER_ACCOUNT: &str = "123456789012";

fn placeholder_account() -> String {
    PLACEHOLDER_ACCOUNT.to_owned()
}

/// One stage's settings.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StageSettings {
    /// The environment name (`development`, `production`), as the seed's `environment`; it is
    /// Datadog's `env` tag.
    pub environment: String,
    /// The application name (`pantri`), as the seed's `app_name`.
    pub app_name: String,
    /// The domain name the application is served at, as the seed's `domain_name`.
    pub domain_name: String,
    /// The AWS account id.
    #[serde(default = "placeholder_account")]
    pub account: String,
    /// The AWS region.
    pub region: String,
    /// The availability zones to spread over, in order.
    pub availability_zones: Vec<String>,
    /// Stateful resources (buckets, user pool, log groups, repository, secrets) outlive their
    /// stacks, and the stacks have termination protection: prod.
    #[serde(default)]
    pub retain_data: bool,
    /// The network.
    pub network: NetworkSettings,
    /// The ECS service.
    pub service: ServiceSettings,
    /// Sign-in.
    #[serde(default)]
    pub auth: AuthSettings,
    /// CloudFront.
    #[serde(default)]
    pub edge: EdgeSettings,
    /// Datadog.
    pub datadog: DatadogSettings,
    /// CloudWatch alarms.
    #[serde(default)]
    pub alarms: AlarmSettings,
    /// The stage's DNS zone.
    #[serde(default)]
    pub dns: DnsSettings,
    /// The web app deploy builds (or takes as built) and publishes. Unset: the image is pushed to
    /// the stage's repository by other means and its tag comes from `PANTRI_IMAGE_TAG`; no
    /// static files.
    #[serde(default)]
    pub web: Option<WebSettings>,
}

/// The Next.js app of a stage, in one of two ways:
/// - `source`: deploy builds its image (its `Dockerfile`), pushes it to the stage's repository
///   under its content hash, and publishes its build output to the static bucket
///   (`.next/static/` to `_next/static/`, `public/` to the bucket root);
/// - `image` + `static_files`: the app's own CI built and pushed the image; the task runs that
///   URI as it is (nothing is built or pushed), and deploy publishes the build output found in
///   `static_files` the same way.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WebSettings {
    /// The app's directory, relative to this settings file (`../fixtures/web`), after `next
    /// build`.
    #[serde(default)]
    pub source: Option<std::path::PathBuf>,
    /// An image built elsewhere: `<registry>/<repository>:<tag>` or `...@sha256:<digest>`.
    #[serde(default)]
    pub image: Option<String>,
    /// With `image`: the directory holding that build's `.next/static/` and `public/`,
    /// relative to this settings file.
    #[serde(default)]
    pub static_files: Option<std::path::PathBuf>,
    /// Days the files of earlier releases stay under `_next/static/` (pages already open keep
    /// loading their chunks) before the bucket's lifecycle expires them. Default 30.
    #[serde(default = "default_release_days")]
    pub keep_release_files_days: u32,
}

impl WebSettings {
    /// The directory with the build output deploy publishes (`.next/static/`, `public/`).
    pub fn build_output(&self) -> Option<&std::path::Path> {
        self.source.as_deref().or(self.static_files.as_deref())
    }

    /// Every problem of the `web` block: one way of naming the app, and an image URI that says
    /// exactly which image runs.
    fn validate(&self) -> anyhow::Result<()> {
        match (&self.source, &self.image, &self.static_files) {
            (None, None, _) => anyhow::bail!(
                "web: names no app: set `source: <dir>` (the app's directory, built and pushed by deploy) or `image: <uri>` with `static_files: <dir>` (an image your CI pushed, and its build output)"
            ),
            (Some(_), Some(_), _) => anyhow::bail!(
                "web.source and web.image are both set: name one (source: deploy builds the image; image: it was built elsewhere)"
            ),
            (Some(_), None, Some(_)) => anyhow::bail!(
                "web.static_files is set with web.source: deploy publishes the source's own .next/static/ and public/; remove static_files (it goes with image)"
            ),
            (None, Some(_), None) => anyhow::bail!(
                "web.image needs web.static_files: the directory with that build's .next/static/ and public/, which deploy publishes to the static bucket (the image does not carry them to S3)"
            ),
            (None, Some(uri), Some(_)) => image_uri("web.image", uri),
            (Some(_), None, None) => Ok(()),
        }
    }
}

/// Checks the image URI of settings key `key`: a repository with a tag or a digest, never
/// `latest` (what runs must be what was reviewed).
fn image_uri(key: &str, uri: &str) -> anyhow::Result<()> {
    let bad = |why: &str| -> anyhow::Result<()> { anyhow::bail!("{key}: {uri:?} {why}") };
    if uri.is_empty() || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("is not an image URI");
    }
    let (name, reference) = match uri.split_once('@') {
        Some((name, digest)) => {
            let hex = digest.strip_prefix("sha256:").unwrap_or_default();
            if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()) {
                return bad("has a digest that is not sha256:<64 lower-case hex digits>");
            }
            (name, digest)
        }
        None => match uri.rsplit_once(':') {
            Some((name, tag)) if !tag.contains('/') && !tag.is_empty() => (name, tag),
            _ => return bad("is not pinned: it names no tag or digest: add :<tag> (an immutable one, such as the git SHA) or @sha256:<digest>"),
        },
    };
    if reference == "latest" {
        return bad(
            "is not pinned: it runs tag `latest`, which moves: name an immutable tag (the git SHA) or a digest",
        );
    }
    if !name.contains('/') || name.ends_with('/') {
        return bad("names no repository: <registry>/<repository>:<tag>");
    }
    Ok(())
}

fn default_release_days() -> u32 {
    30
}

/// The stage's DNS zone and where it is delegated from.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DnsSettings {
    /// The id of the parent domain's Route 53 zone in the same account (`Z...`): the stage's zone
    /// writes its NS record there. Unset: the parent is at a registrar or another DNS provider,
    /// and `pantri deploy` prints the name servers to set there.
    #[serde(default)]
    pub parent_zone_id: Option<String>,
    /// The parent zone by name, when another stage creates it (its id is not known when this
    /// file is written): CloudFormation finds the zone by name. Not with `parent_zone_id`.
    #[serde(default)]
    pub parent_zone_name: Option<String>,
}

impl DnsSettings {
    /// The parent zone as the zone construct takes it (by id or by name; `validate` has refused
    /// both).
    pub fn parent_zone(&self) -> Option<ParentZone> {
        match (&self.parent_zone_id, &self.parent_zone_name) {
            (Some(id), _) => Some(ParentZone::Id(Str::from(id.as_str()))),
            (None, Some(name)) => Some(ParentZone::Name(name.clone())),
            (None, None) => None,
        }
    }
}

/// NAT gateways per stage.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NatSetting {
    /// One per availability zone (prod).
    PerAz,
    /// One for the whole VPC (dev).
    Single,
}

/// The network of a stage.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NetworkSettings {
    /// The VPC's CIDR block.
    pub cidr: String,
    /// NAT gateways.
    pub nat_gateways: NatSetting,
    /// Interface endpoints for ECR, CloudWatch Logs and Secrets Manager.
    #[serde(default)]
    pub interface_endpoints: bool,
    /// Flow-log retention in days.
    #[serde(default = "default_flow_log_retention")]
    pub flow_log_retention_days: u32,
}

fn default_flow_log_retention() -> u32 {
    365
}

/// How tasks are spread over FARGATE and FARGATE_SPOT.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CapacitySettings {
    /// Tasks always on FARGATE before weights apply.
    pub fargate_base: u32,
    /// Weight of FARGATE.
    pub fargate_weight: u32,
    /// Weight of FARGATE_SPOT (0: no Spot).
    pub spot_weight: u32,
}

/// The ECS service of a stage.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServiceSettings {
    /// Task CPU units (256, 512, 1024, ...).
    pub cpu: u32,
    /// Task memory in MiB.
    pub memory: u32,
    /// Tasks at deploy time.
    pub desired_count: u32,
    /// Autoscaling minimum.
    pub min_capacity: u32,
    /// Autoscaling maximum.
    pub max_capacity: u32,
    /// Target CPU utilization, percent.
    pub cpu_target_percent: u32,
    /// Target memory utilization, percent.
    pub memory_target_percent: u32,
    /// Target ALB requests per task, if scaling on requests too.
    #[serde(default)]
    pub requests_per_target: Option<u32>,
    /// FARGATE / FARGATE_SPOT strategy.
    pub capacity: CapacitySettings,
    /// Log retention in days.
    pub log_retention_days: u32,
    /// The health-check path of the Next.js app.
    #[serde(default = "default_health_path")]
    pub health_check_path: String,
    /// Where the application's own logs go.
    #[serde(default)]
    pub app_logs: AppLogsSetting,
}

/// Where the application's logs go; always to `/aws/ecs/<app>-<stage>` in CloudWatch Logs
/// (`aws logs tail` works).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AppLogsSetting {
    /// Through FireLens to the log group and to Datadog Logs (next to the traces).
    #[default]
    CloudwatchAndDatadog,
    /// To the log group only.
    Cloudwatch,
}

fn default_health_path() -> String {
    "/api/health".to_owned()
}

/// MFA per stage.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MfaSetting {
    /// Every user enrolls a TOTP app (prod).
    #[default]
    Required,
    /// Users may enroll (dev).
    Optional,
}

/// Cognito threat protection per stage.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ThreatSetting {
    /// Block risky sign-ins (Plus tier).
    #[default]
    Enforced,
    /// Log risky sign-ins (Plus tier).
    Audit,
    /// Off (Essentials tier).
    Off,
}

/// Sign-in settings.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// MFA.
    #[serde(default)]
    pub mfa: MfaSetting,
    /// Threat protection.
    #[serde(default)]
    pub threat_protection: ThreatSetting,
    /// The auth library's callback path (Auth.js's Cognito provider:
    /// `/api/auth/callback/cognito`).
    #[serde(default = "default_callback_path")]
    pub callback_path: String,
    /// Where Cognito's logout may return to.
    #[serde(default = "default_logout_path")]
    pub logout_path: String,
    /// Further origins allowed as callback and logout URLs with the same paths:
    /// `http://localhost:3000` lets a developer's `next dev` sign in against dev's pool.
    #[serde(default)]
    pub local_origins: Vec<String>,
    /// The environment variables that carry the app's public URL (`https://<domain_name>`) to
    /// the container: what the auth library reads.
    #[serde(default = "default_url_env")]
    pub public_url_env: Vec<String>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            mfa: MfaSetting::default(),
            threat_protection: ThreatSetting::default(),
            callback_path: default_callback_path(),
            logout_path: default_logout_path(),
            local_origins: Vec::new(),
            public_url_env: default_url_env(),
        }
    }
}

fn default_callback_path() -> String {
    "/api/auth/callback/cognito".to_owned()
}

fn default_logout_path() -> String {
    "/".to_owned()
}

fn default_url_env() -> Vec<String> {
    vec!["AUTH_URL".to_owned(), "NEXTAUTH_URL".to_owned()]
}

/// CloudFront price class.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PriceClassSetting {
    /// Every edge location.
    #[default]
    All,
    /// North America, Europe, Asia, Middle East, Africa.
    Class200,
    /// North America and Europe.
    Class100,
}

/// CloudFront settings.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EdgeSettings {
    /// Price class.
    #[serde(default)]
    pub price_class: PriceClassSetting,
    /// The id of CloudFront's origin-facing managed prefix list in the stage's region: the ALB
    /// then admits only CloudFront.
    #[serde(default)]
    pub origin_prefix_list_id: Option<String>,
    /// The Content-Security-Policy header CloudFront adds to every response.
    #[serde(default)]
    pub content_security_policy: Option<String>,
    /// Path patterns of the app's `public/` files, cached at the edge.
    #[serde(default)]
    pub public_paths: Vec<String>,
    /// The largest request body the app accepts (uploads), in KiB. Above the web ACL's 8 KiB
    /// body rule, that rule counts instead of blocking, and the app gets the limit as
    /// `MAX_BODY_BYTES` to enforce itself (CloudFront's WAF inspects only the first 16 KiB).
    #[serde(default)]
    pub max_body_kib: Option<u32>,
    /// Days between two rotations of the origin-verify value (default 30).
    #[serde(default)]
    pub origin_secret_rotation_days: Option<u32>,
}

/// Datadog settings.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DatadogSettings {
    /// The Datadog site (`datadoghq.com`, `ap1.datadoghq.com`, ...).
    pub site: String,
    /// Datadog monitors (the Datadog::Monitors::Monitor type must be activated in the account).
    pub monitors: bool,
    /// The service dashboard (Datadog::Dashboards::Dashboard must be activated).
    pub dashboard: bool,
    /// The Datadog AWS integration and its role: once per account, so in one stage only.
    pub aws_integration: bool,
    /// Who monitors notify (`@slack-pantri-alerts`).
    pub notify: Vec<String>,
    /// The agent sidecar's image, to pin it further than pantri's release tag (a digest:
    /// `public.ecr.aws/datadog/agent:7.59.0@sha256:...`). Unset: `service::images::DATADOG_AGENT`.
    #[serde(default)]
    pub agent_image: Option<String>,
    /// The FireLens log router's image, likewise. Unset: `service::images::LOG_ROUTER`.
    #[serde(default)]
    pub log_router_image: Option<String>,
}

/// CloudWatch alarm settings.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlarmSettings {
    /// Email addresses subscribed to the alarm topic.
    #[serde(default)]
    pub emails: Vec<String>,
}

impl StageSettings {
    /// Checks values serde cannot: names the key and what to do. (Construct props are checked
    /// again by the constructs, with construct paths.)
    pub fn validate(&self) -> anyhow::Result<()> {
        // app_name is checked with the stage, as a Naming (see `app::naming`).
        anyhow::ensure!(
            !self.environment.is_empty()
                && self.environment.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'),
            "environment: {:?} must be lower-case letters, digits, '-' and '_' (it is Datadog's env tag)",
            self.environment
        );
        anyhow::ensure!(
            self.dns.parent_zone_id.is_none() || self.dns.parent_zone_name.is_none(),
            "dns: give parent_zone_id or parent_zone_name, not both: they name the same zone"
        );
        if let Some(id) = &self.dns.parent_zone_id {
            anyhow::ensure!(
                !id.is_empty()
                    && id.len() <= 32
                    && id
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
                "dns.parent_zone_id: {id:?} is not a Route 53 hosted zone id (upper-case letters \
                 and digits, as `aws route53 list-hosted-zones` shows it without /hostedzone/)"
            );
        }
        for (key, image) in [
            ("datadog.agent_image", &self.datadog.agent_image),
            ("datadog.log_router_image", &self.datadog.log_router_image),
        ] {
            if let Some(image) = image {
                image_uri(key, image)?;
            }
        }
        if let Some(web) = &self.web {
            web.validate()?;
            anyhow::ensure!(
                web.keep_release_files_days >= 2,
                "web.keep_release_files_days: {} is too short: files of the running release are \
                 rewritten after half of it; use 2 or more",
                web.keep_release_files_days
            );
        }
        Ok(())
    }
}
