//! Checks on [`NextJsServiceProps`]: every problem becomes a synth error at the construct's
//! path that says what to do, and all of them are reported together.

use pantri_synth::Scope;

use super::task::{RESERVED_ENV, SIDECAR_MEMORY};
use super::NextJsServiceProps;

/// Fargate (Linux) task sizes: CPU units → (lowest memory, highest memory, step), in MiB.
const FARGATE_SIZES: &[(u32, u32, u32, u32)] = &[
    (256, 512, 2048, 512),
    (512, 1024, 4096, 1024),
    (1024, 2048, 8192, 1024),
    (2048, 4096, 16384, 1024),
    (4096, 8192, 30720, 1024),
    (8192, 16384, 61440, 4096),
    (16384, 32768, 122880, 8192),
];

/// The retention values CloudWatch Logs accepts.
const RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Datadog sites (the agent's `DD_SITE`).
const DATADOG_SITES: &[&str] = &[
    "datadoghq.com",
    "us3.datadoghq.com",
    "us5.datadoghq.com",
    "datadoghq.eu",
    "ap1.datadoghq.com",
    "ap2.datadoghq.com",
    "ddog-gov.com",
];

/// Environment variable names that hold secrets; these belong in `secrets`.
const SECRET_LOOKING: &[&str] = &[
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "CREDENTIAL",
];

/// Ports the Datadog agent sidecar listens on in the shared network namespace.
const AGENT_PORTS: &[u16] = &[8125, 8126];

/// Records an error for each problem of `props`.
pub(super) fn props(s: &mut Scope<'_>, p: &NextJsServiceProps) {
    let mut errors = Vec::new();
    names(p, &mut errors);
    sizes(p, &mut errors);
    network(p, &mut errors);
    references(p, &mut errors);
    environment(p, &mut errors);
    uploads_prefix(p, &mut errors);
    for e in errors {
        s.error(e);
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn names(p: &NextJsServiceProps, errors: &mut Vec<String>) {
    if !is_name(&p.app_name) || p.app_name.len() > 32 {
        errors.push(format!(
            "app_name {:?} is not a name: use 1 to 32 lowercase letters, digits and inner '-'",
            p.app_name
        ));
    }
    if !is_name(&p.stage) || p.stage.len() > 16 {
        errors.push(format!(
            "stage {:?} is not a name: use 1 to 16 lowercase letters, digits and inner '-'",
            p.stage
        ));
    }
}

fn sizes(p: &NextJsServiceProps, errors: &mut Vec<String>) {
    match FARGATE_SIZES.iter().find(|(cpu, ..)| *cpu == p.cpu) {
        None => errors.push(format!(
            "cpu {} is not a Fargate size: use 256, 512, 1024, 2048, 4096, 8192 or 16384",
            p.cpu
        )),
        Some(&(cpu, lo, hi, step)) => {
            if p.memory < lo || p.memory > hi || !(p.memory - lo).is_multiple_of(step) {
                errors.push(format!(
                    "memory {} MiB is not legal with cpu {cpu} on Fargate: use {lo} to {hi} MiB in steps of {step}",
                    p.memory
                ));
            } else if p.memory <= SIDECAR_MEMORY + 128 {
                errors.push(format!(
                    "memory {} MiB leaves the app less than 128 MiB beside the sidecars ({SIDECAR_MEMORY} MiB): raise memory",
                    p.memory
                ));
            }
        }
    }
    if p.min_capacity > p.max_capacity {
        errors.push(format!(
            "min_capacity {} is above max_capacity {}: lower min_capacity or raise max_capacity",
            p.min_capacity, p.max_capacity
        ));
    }
    if p.desired_count < p.min_capacity {
        errors.push(format!(
            "desired_count {} is below min_capacity {}: raise desired_count or lower min_capacity",
            p.desired_count, p.min_capacity
        ));
    }
    if p.desired_count > p.max_capacity {
        errors.push(format!(
            "desired_count {} is above max_capacity {}: lower desired_count or raise max_capacity",
            p.desired_count, p.max_capacity
        ));
    }
    if p.max_capacity == 0 {
        errors.push(
            "max_capacity is 0: the service could never run a task; use at least 1".to_owned(),
        );
    }
    for (what, v) in [
        ("cpu_target_percent", p.cpu_target_percent),
        ("memory_target_percent", p.memory_target_percent),
    ] {
        if !(10..=95).contains(&v) {
            errors.push(format!(
                "{what} {v} is out of range: use 10 to 95 (percent utilization to hold)"
            ));
        }
    }
    if p.requests_per_target == Some(0) {
        errors.push(
            "requests_per_target is 0: use a positive number of requests per task, or None"
                .to_owned(),
        );
    }
    if let Err(e) = p.capacity.check() {
        errors.push(e);
    }
    if !RETENTION_DAYS.contains(&p.log_retention_days) {
        errors.push(format!(
            "log_retention_days {} is not a CloudWatch Logs retention: use one of {RETENTION_DAYS:?}",
            p.log_retention_days
        ));
    }
    if p.keep_images == 0 {
        errors.push("keep_images is 0: the running image would expire; keep at least 1 (10 or more leaves room to roll back)".to_owned());
    }
    if p.health_check_grace_period_seconds > 2_147_483_647 {
        errors.push("health_check_grace_period_seconds is too large".to_owned());
    }
}

fn network(p: &NextJsServiceProps, errors: &mut Vec<String>) {
    if p.vpc.public_subnet_ids.len() < 2 {
        errors.push(format!(
            "the vpc has {} public subnets: an ALB needs subnets in at least 2 availability zones",
            p.vpc.public_subnet_ids.len()
        ));
    }
    if p.vpc.private_subnet_ids.is_empty() {
        errors.push("the vpc has no private subnets: the tasks run in private subnets; pass the network's VpcRef".to_owned());
    }
    if p.container_port == 0 || p.container_port < 1024 || AGENT_PORTS.contains(&p.container_port) {
        errors.push(format!(
            "container_port {} is not usable: use an unprivileged port (1024 or more) other than the Datadog agent's 8125 and 8126",
            p.container_port
        ));
    }
    if !p.health_check_path.starts_with('/')
        || p.health_check_path.len() > 1024
        || p.health_check_path.contains(char::is_whitespace)
    {
        errors.push(format!(
            "health_check_path {:?} is not a path: start it with '/', no spaces",
            p.health_check_path
        ));
    }
    let zone = p.hosted_zone.zone_name.trim_end_matches('.');
    if !is_domain(&p.domain_name) {
        errors.push(format!(
            "domain_name {:?} is not a domain name: use lowercase labels separated by dots, such as origin.example.com",
            p.domain_name
        ));
    } else if zone.is_empty()
        || !(p.domain_name == zone || p.domain_name.ends_with(&format!(".{zone}")))
    {
        errors.push(format!(
            "domain_name {:?} is not in the hosted zone {zone:?}: the certificate is validated and the alias created there; use a name under the zone",
            p.domain_name
        ));
    }
    if p.access_log_prefix.is_empty()
        || p.access_log_prefix.starts_with('/')
        || p.access_log_prefix.ends_with('/')
        || p.access_log_prefix.contains("AWSLogs")
    {
        errors.push(format!(
            "access_log_prefix {:?} is not accepted by ELB: use a non-empty prefix without leading or trailing '/' and without 'AWSLogs'",
            p.access_log_prefix
        ));
    }
}

fn is_domain(d: &str) -> bool {
    let labels: Vec<&str> = d.split('.').collect();
    d.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

fn references(p: &NextJsServiceProps, errors: &mut Vec<String>) {
    let missing = |v: &pantri_synth::Str| v.as_literal() == Some("");
    for (what, v) in [
        ("vpc.vpc_id", &p.vpc.vpc_id),
        ("log_bucket.name", &p.log_bucket.name),
        ("static_bucket.arn", &p.static_bucket.arn),
        ("user_pool.arn", &p.user_pool.arn),
        ("logs_key_arn", &p.logs_key_arn),
        ("hosted_zone.zone_id", &p.hosted_zone.zone_id),
        ("datadog.api_key_secret.arn", &p.datadog.api_key_secret.arn),
        ("origin_secret.arn", &p.origin_secret.arn),
    ] {
        if missing(v) {
            errors.push(format!(
                "{what} is empty: pass the reference from the stack that owns it"
            ));
        }
    }
    if p.origin_secret.name.is_empty() {
        errors.push("origin_secret.name is empty: the listener rule reads the secret by name through a dynamic reference".to_owned());
    }
    if !DATADOG_SITES.contains(&p.datadog.site.as_str()) {
        errors.push(format!(
            "datadog.site {:?} is not a Datadog site: use one of {DATADOG_SITES:?}",
            p.datadog.site
        ));
    }
}

/// The prefix the app writes must be a folder CloudFront does not serve.
fn uploads_prefix(p: &NextJsServiceProps, errors: &mut Vec<String>) {
    let prefix = p.uploads_prefix.as_str();
    let served = crate::edge::STATIC_PATHS
        .iter()
        .map(|path| path.trim_start_matches('/').trim_end_matches('*'))
        .any(|served| prefix.starts_with(served) || served.starts_with(prefix));
    if prefix.is_empty()
        || !prefix.ends_with('/')
        || prefix.starts_with('/')
        || prefix.contains('*')
    {
        errors.push(format!(
            "uploads_prefix {prefix:?} is not a folder: write it as \"uploads/\" (no leading '/', \
             a trailing '/', no '*')"
        ));
    } else if served {
        errors.push(format!(
            "uploads_prefix {prefix:?} overlaps what CloudFront serves ({}): the app could replace \
             the site's files; use a folder of its own such as \"uploads/\"",
            crate::edge::STATIC_PATHS.join(", ")
        ));
    }
}

fn environment(p: &NextJsServiceProps, errors: &mut Vec<String>) {
    let mut seen = std::collections::BTreeSet::new();
    let names = p
        .environment
        .iter()
        .map(|(n, _)| n)
        .chain(p.secrets.iter().map(|(n, ..)| n));
    for name in names {
        if name.is_empty()
            || name.starts_with(|c: char| c.is_ascii_digit())
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            errors.push(format!(
                "environment variable name {name:?} is not valid: use letters, digits and '_', not starting with a digit"
            ));
        }
        if !seen.insert(name.as_str()) {
            errors.push(format!(
                "environment variable {name} is set twice: keep it in environment or in secrets, once"
            ));
        }
    }
    for name in p
        .environment
        .iter()
        .map(|(n, _)| n)
        .chain(p.secrets.iter().map(|(n, ..)| n))
    {
        if RESERVED_ENV.contains(&name.as_str()) {
            errors.push(format!(
                "environment variable {name} is set by the construct: use another name"
            ));
        }
    }
    for (name, _) in &p.environment {
        let upper = name.to_ascii_uppercase();
        if SECRET_LOOKING.iter().any(|w| upper.contains(w)) {
            errors.push(format!(
                "environment variable {name} looks like a secret: move it to secrets (a Secrets Manager reference), never a plaintext value in the template"
            ));
        }
    }
    for (name, secret, _) in &p.secrets {
        if secret.arn.as_literal() == Some("") {
            errors.push(format!(
                "secret environment variable {name} has an empty secret ARN: pass the secret's reference"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size_errors(cpu: u32, memory: u32) -> Vec<String> {
        let p = NextJsServiceProps {
            cpu,
            memory,
            ..NextJsServiceProps::default()
        };
        let mut errors = Vec::new();
        sizes(&p, &mut errors);
        errors
    }

    #[test]
    fn fargate_sizes_follow_the_published_table() {
        for (cpu, memory, legal) in [
            (256, 512, true),
            (256, 2048, true),
            (256, 3072, false),
            (512, 1024, true),
            (512, 1536, false),
            (1024, 8192, true),
            (2048, 16384, true),
            (4096, 30720, true),
            (4096, 31744, false),
            (8192, 20480, true),
            (8192, 17408, false),
            (16384, 40960, true),
            (16384, 36864, false),
            (128, 512, false),
        ] {
            assert_eq!(size_errors(cpu, memory).is_empty(), legal, "{cpu}/{memory}");
        }
    }

    #[test]
    fn domains_are_lowercase_labels() {
        assert!(is_domain("origin.example.com"));
        assert!(!is_domain("Origin.example.com"));
        assert!(!is_domain("example"));
        assert!(!is_domain("-a.example.com"));
        assert!(!is_domain("a..example.com"));
    }

    #[test]
    fn capacity_needs_a_weight() {
        let p = NextJsServiceProps {
            capacity: crate::service::CapacityStrategy {
                fargate_base: 1,
                fargate_weight: 0,
                spot_weight: 0,
            },
            ..NextJsServiceProps::default()
        };
        let mut errors = Vec::new();
        sizes(&p, &mut errors);
        assert_eq!(
            errors,
            vec!["capacity has no weight: give fargate_weight or spot_weight a positive weight"]
        );
    }
}
