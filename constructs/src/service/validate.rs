//! Checks on props: every problem becomes a synth error at the construct's path that says what
//! to do, and all of them are reported together. Each part checks its own props; a composition
//! ([`NextJsService`](super::NextJsService)) checks only what is its own, so one mistake is one
//! error.

use pantri_synth::Scope;

use super::web::{WebIngress, WebServiceProps};
use super::{NextJsServiceProps, SecretSource, RESERVED_ENV};
use crate::VpcRef;

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

/// Records an error for each problem of the Next.js composition's own props.
pub(super) fn props(s: &mut Scope<'_>, p: &NextJsServiceProps) {
    let mut errors = Vec::new();
    reserved(p, &mut errors);
    uploads_prefix(p, &mut errors);
    if p.image.is_some() && p.image_tag.is_some() {
        errors.push("image and image_tag are both set: an image given by URI carries its own tag or digest; unset image_tag".to_owned());
    }
    if p.keep_images == 0 {
        errors.push("keep_images is 0: the running image would expire; keep at least 1 (10 or more leaves room to roll back)".to_owned());
    }
    for e in errors {
        s.error(e);
    }
}

/// A legal Fargate CPU/memory pair that leaves the app at least 128 MiB beside the sidecars.
pub(super) fn fargate_size(cpu: u32, memory: u32, sidecars: u32, errors: &mut Vec<String>) {
    match FARGATE_SIZES.iter().find(|(c, ..)| *c == cpu) {
        None => errors.push(format!(
            "cpu {cpu} is not a Fargate size: use 256, 512, 1024, 2048, 4096, 8192 or 16384"
        )),
        Some(&(cpu, lo, hi, step)) => {
            if memory < lo || memory > hi || !(memory - lo).is_multiple_of(step) {
                errors.push(format!(
                    "memory {memory} MiB is not legal with cpu {cpu} on Fargate: use {lo} to {hi} MiB in steps of {step}"
                ));
            } else if memory <= sidecars + 128 {
                errors.push(format!(
                    "memory {memory} MiB leaves the app less than 128 MiB beside the sidecars ({sidecars} MiB): raise memory"
                ));
            }
        }
    }
}

/// A retention CloudWatch Logs accepts.
pub(super) fn retention(days: u32, errors: &mut Vec<String>) {
    if !RETENTION_DAYS.contains(&days) {
        errors.push(format!(
            "log_retention_days {days} is not a CloudWatch Logs retention: use one of {RETENTION_DAYS:?}"
        ));
    }
}

/// An unprivileged port the Datadog agent does not use.
pub(super) fn container_port(port: u16, agent: bool, errors: &mut Vec<String>) {
    if port < 1024 || (agent && AGENT_PORTS.contains(&port)) {
        errors.push(format!(
            "container_port {port} is not usable: use an unprivileged port (1024 or more) other than the Datadog agent's 8125 and 8126"
        ));
    }
}

/// The network, names and paths of a web service.
pub(super) fn web(
    vpc: &VpcRef,
    ingress: &WebIngress,
    p: &WebServiceProps,
    errors: &mut Vec<String>,
) {
    if vpc.public_subnet_ids.len() < 2 {
        errors.push(format!(
            "the vpc has {} public subnets: an ALB needs subnets in at least 2 availability zones",
            vpc.public_subnet_ids.len()
        ));
    }
    if vpc.private_subnet_ids.is_empty() {
        errors.push("the vpc has no private subnets: the tasks run in private subnets; pass the network's VpcRef".to_owned());
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
    if p.health_check_grace_period_seconds > 2_147_483_647 {
        errors.push("health_check_grace_period_seconds is too large".to_owned());
    }
    if p.requests_per_target == Some(0) {
        errors.push(
            "requests_per_target is 0: use a positive number of requests per task, or None"
                .to_owned(),
        );
    }
    let (domain_name, hosted_zone) = ingress.domain();
    let zone = hosted_zone.zone_name.trim_end_matches('.');
    if !is_domain(domain_name) {
        errors.push(format!(
            "domain_name {domain_name:?} is not a domain name: use lowercase labels separated by dots, such as origin.example.com"
        ));
    } else if zone.is_empty()
        || !(domain_name == zone || domain_name.ends_with(&format!(".{zone}")))
    {
        errors.push(format!(
            "domain_name {domain_name:?} is not in the hosted zone {zone:?}: the certificate is validated and the alias created there; use a name under the zone"
        ));
    }
    if let WebIngress::BehindCloudFront { origin_secret, .. } = ingress {
        if origin_secret.name.is_empty() {
            errors.push("origin_secret.name is empty: the listener rule reads the secret by name through a dynamic reference".to_owned());
        }
    }
    if let Some(logs) = &p.access_logs {
        let prefix = &logs.prefix;
        if prefix.is_empty()
            || prefix.starts_with('/')
            || prefix.ends_with('/')
            || prefix.contains("AWSLogs")
        {
            errors.push(format!(
                "access_log_prefix {prefix:?} is not accepted by ELB: use a non-empty prefix without leading or trailing '/' and without 'AWSLogs'"
            ));
        }
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

/// SSM's rule for a parameter name: 1 to 2048 of letters, digits and `_.-/`; a path starts with
/// `/`; no `aws`/`ssm` prefix (reserved).
fn parameter_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name.len() > 2048 {
        return Err("is not 1 to 2048 characters");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c))
    {
        return Err("has characters SSM refuses: use letters, digits and _ . - /");
    }
    if name.contains('/') && !name.starts_with('/') {
        return Err("is a path without its leading '/': write it as /a/b");
    }
    let first = name.trim_start_matches('/').to_ascii_lowercase();
    if first.starts_with("aws") || first.starts_with("ssm") {
        return Err("starts with aws or ssm, which SSM reserves");
    }
    Ok(())
}

/// Names of variables: valid, each once, none that looks like a secret in plain text.
pub(super) fn environment(
    environment: &[(String, pantri_synth::Str)],
    secrets: &[(String, SecretSource)],
    errors: &mut Vec<String>,
) {
    let mut seen = std::collections::BTreeSet::new();
    let names = environment
        .iter()
        .map(|(n, _)| n)
        .chain(secrets.iter().map(|(n, ..)| n));
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
    for (name, _) in environment {
        let upper = name.to_ascii_uppercase();
        if SECRET_LOOKING.iter().any(|w| upper.contains(w)) {
            errors.push(format!(
                "environment variable {name} looks like a secret: move it to secrets (a Secrets Manager reference), never a plaintext value in the template"
            ));
        }
    }
    for (name, source) in secrets {
        match source {
            SecretSource::SecretsManager { secret, json_key } => {
                if secret.arn.as_literal() == Some("") {
                    errors.push(format!(
                        "secret environment variable {name} has an empty secret ARN: pass the secret's reference"
                    ));
                }
                if json_key.as_deref() == Some("") {
                    errors.push(format!(
                        "secret environment variable {name} names an empty JSON key: give the key, or use the whole secret"
                    ));
                }
            }
            SecretSource::Parameter {
                name: parameter, ..
            } => {
                if let Err(why) = parameter_name(parameter) {
                    errors.push(format!(
                        "secret environment variable {name}: parameter name {parameter:?} {why}"
                    ));
                }
            }
        }
    }
}

/// The names the Next.js composition sets itself.
fn reserved(p: &NextJsServiceProps, errors: &mut Vec<String>) {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size_errors(cpu: u32, memory: u32) -> Vec<String> {
        let mut errors = Vec::new();
        fargate_size(cpu, memory, 336, &mut errors);
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
        let capacity = crate::service::CapacityStrategy {
            fargate_base: 1,
            fargate_weight: 0,
            spot_weight: 0,
        };
        assert_eq!(
            capacity.check(),
            Err(
                "capacity has no weight: give fargate_weight or spot_weight a positive weight"
                    .to_owned()
            )
        );
    }
}
