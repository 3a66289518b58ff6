//! Checks that make the deploy path hard to subvert, as pure functions over the assembly and the
//! environment (the S3 staging bucket's owner and hardening checks live in [`super::s3`]):
//!
//! - [`check_endpoints`]: an endpoint override is said out loud, and plaintext `http://` is
//!   refused except to loopback, where an emulator listens: credentials are signed, but the
//!   session token and NoEcho parameter values travel in the clear;
//! - [`check_env_parameters`]: a parameter filled from the deployer's environment must be
//!   NoEcho, may not read a variable of the AWS credential chain, and no output may echo it;
//! - [`stack_policy`]: the stack policy that keeps CloudFormation from replacing or deleting a
//!   protected stack's stateful resources, and [`override_policy`] for `--allow-replace`.

use std::net::IpAddr;

use pantri_synth::assembly::StackArtifact;
use serde_json::{json, Value};

/// The environment variables that name an endpoint override for the calls deploy makes.
pub const ENDPOINT_VARIABLES: &[&str] = &[
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_CLOUDFORMATION",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_ECS",
    "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2",
    "AWS_ENDPOINT_URL_ECR",
    "AWS_ENDPOINT_URL_CLOUDFRONT",
];

/// Whether `host` (from a URL: a name, an IPv4 address or a bracketed IPv6 address) is the
/// local machine: `localhost`, 127.0.0.0/8 or ::1.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Checks one endpoint URL: `Ok` for HTTPS and for plain HTTP to loopback; otherwise why not.
pub fn check_endpoint(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("{url} is not a URL: {e}"))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => {
            let host = parsed.host_str().unwrap_or_default();
            if is_loopback_host(host) {
                Ok(())
            } else {
                Err(format!(
                    "{url} is plaintext HTTP to another machine: credentials' session token and NoEcho parameter values would travel in the clear; use https:// (plain http:// is allowed only to 127.0.0.0/8, ::1 or localhost)"
                ))
            }
        }
        other => Err(format!(
            "{url} has scheme {other}: an endpoint is https:// (or http:// to loopback)"
        )),
    }
}

/// The endpoint overrides in effect, `(where from, URL)`: `--endpoint-url` and the
/// `AWS_ENDPOINT_URL*` variables (`env` reads one), each checked. Returns the lines to print
/// (`using endpoint ...`) or the first refusal.
pub fn check_endpoints(
    cli: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<String>, String> {
    let mut found: Vec<(String, String)> = Vec::new();
    if let Some(url) = cli {
        found.push(("--endpoint-url".into(), url.to_owned()));
    }
    for var in ENDPOINT_VARIABLES {
        if let Some(url) = env(var).filter(|u| !u.trim().is_empty()) {
            found.push((var.to_string(), url));
        }
    }
    let mut lines = Vec::new();
    for (from, url) in found {
        check_endpoint(&url).map_err(|e| format!("endpoint override from {from}: {e}"))?;
        lines.push(format!(
            "note: using endpoint {url} (from {from}) instead of AWS's"
        ));
    }
    Ok(lines)
}

/// The first endpoint override that points at this machine (an emulator such as moto), as
/// `URL (from WHERE)`: while one is in effect, nothing may go to a real AWS host that the
/// override does not cover (an image push to ECR goes through the container CLI, not the SDK).
pub fn emulator_endpoint(
    cli: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    let from_env = ENDPOINT_VARIABLES.iter().filter_map(|v| {
        env(v)
            .filter(|u| !u.trim().is_empty())
            .map(|u| (v.to_string(), u))
    });
    cli.map(|u| ("--endpoint-url".to_owned(), u.to_owned()))
        .into_iter()
        .chain(from_env)
        .find(|(_, url)| {
            url::Url::parse(url)
                .ok()
                .and_then(|u| u.host_str().map(is_loopback_host))
                .unwrap_or(false)
        })
        .map(|(from, url)| format!("{url} ({from})"))
}

/// Whether an environment variable belongs to the AWS credential chain or the SDK's own
/// configuration: every `AWS_*` variable (keys, session token, profile, web identity token
/// file, container credentials URI and token, ...). None of them may fill a parameter.
pub fn is_aws_variable(name: &str) -> bool {
    name.to_ascii_uppercase().starts_with("AWS_")
}

/// Whether a template value reads parameter `p` (`Ref`, or `${p}` in an `Fn::Sub` string).
fn reads_parameter(v: &Value, p: &str) -> bool {
    match v {
        Value::Object(m) => {
            if m.get("Ref").and_then(Value::as_str) == Some(p) {
                return true;
            }
            let sub = match m.get("Fn::Sub") {
                Some(Value::String(s)) => Some(s.as_str()),
                Some(Value::Array(a)) => a.first().and_then(Value::as_str),
                _ => None,
            };
            if sub.is_some_and(|s| s.contains(&format!("${{{p}}}"))) {
                return true;
            }
            m.values().any(|x| reads_parameter(x, p))
        }
        Value::Array(a) => a.iter().any(|x| reads_parameter(x, p)),
        _ => false,
    }
}

/// Every problem with the stack's environment-sourced parameters, as `[stack] message` lines.
pub fn check_env_parameters(stack: &StackArtifact) -> Vec<String> {
    let dn = &stack.display_name;
    let mut problems = Vec::new();
    for p in &stack.env_parameters {
        let decl = &stack.template["Parameters"][&p.parameter];
        if is_aws_variable(&p.variable) {
            problems.push(format!(
                "[{dn}] parameter {} would be filled from {}, a variable of the AWS credential chain or SDK configuration: those never leave the deployer; use a variable of your own",
                p.parameter, p.variable
            ));
        }
        let no_echo = matches!(decl.get("NoEcho"), Some(Value::Bool(true)))
            || decl.get("NoEcho").and_then(Value::as_str) == Some("true");
        if !no_echo {
            problems.push(format!(
                "[{dn}] parameter {} is filled from the environment variable {} but is not NoEcho: environment-sourced values are secrets; declare the parameter NoEcho",
                p.parameter, p.variable
            ));
        }
        if let Some(outputs) = stack.template["Outputs"].as_object() {
            for (key, out) in outputs {
                if reads_parameter(&out["Value"], &p.parameter) {
                    problems.push(format!(
                        "[{dn}] output {key} echoes parameter {}, which holds the secret from {}: outputs are readable by anyone who may describe the stack; remove the output",
                        p.parameter, p.variable
                    ));
                }
            }
        }
    }
    problems
}

/// The stateful resources of a template (the diff's definition: data-holding types and
/// anything with a `Retain`/`Snapshot` deletion policy), sorted.
pub fn stateful_resources(template: &Value) -> Vec<String> {
    let mut ids: Vec<String> = template["Resources"]
        .as_object()
        .map(|r| {
            r.iter()
                .filter(|(_, v)| {
                    pantri_synth::diff::is_stateful(
                        v["Type"].as_str().unwrap_or_default(),
                        v["DeletionPolicy"].as_str(),
                    )
                })
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// The stack policy of a protected stack: every update allowed, except replacing or deleting
/// its stateful resources. `None` when it has none.
pub fn stack_policy(template: &Value) -> Option<Value> {
    let stateful = stateful_resources(template);
    if stateful.is_empty() {
        return None;
    }
    Some(json!({
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "Update:*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["Update:Replace", "Update:Delete"],
                "Resource": stateful.iter().map(|id| format!("LogicalResourceId/{id}")).collect::<Vec<_>>()
            }
        ]
    }))
}

/// The stack policy for one execution with `--allow-replace`: the protecting policy with the
/// named resources taken out of its Deny (an explicit Allow cannot beat a Deny in a stack
/// policy, so the Deny itself shrinks). `None` when nothing would remain protected.
pub fn override_policy(template: &Value, allow_replace: &[String]) -> Option<Value> {
    let remaining: Vec<String> = stateful_resources(template)
        .into_iter()
        .filter(|id| !allow_replace.contains(id))
        .collect();
    let mut policy = json!({
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "Update:*", "Resource": "*"}]
    });
    if !remaining.is_empty() {
        policy["Statement"]
            .as_array_mut()?
            .push(json!({
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["Update:Replace", "Update:Delete"],
                "Resource": remaining.iter().map(|id| format!("LogicalResourceId/{id}")).collect::<Vec<_>>()
            }));
    }
    Some(policy)
}

#[cfg(test)]
#[path = "hardening_tests.rs"]
mod tests;
