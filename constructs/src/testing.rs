//! Helpers for construct tests: synthesize one stack built by a closure and look at its template.

use pantri_synth::{synthesize, App, Environment, Scope, StackProps, SynthError, SynthOptions};
use serde_json::Value;

/// The test account.
pub const ACCOUNT: &str = "123456789012";

/// Builds an app with stage `test` in `region` holding one stack `Stack`, lets `build` add to it.
pub fn app_with_stack(region: &str, build: impl FnOnce(&mut Scope<'_>)) -> App {
    let mut app = App::new();
    let mut root = app.root();
    let mut stage = root.stage("test", Environment::new(ACCOUNT, region));
    let mut stack = stage.stack("Stack", StackProps::default());
    build(&mut stack);
    app
}

/// The template of stack `Stack` (artifact `test-Stack`); panics with every problem on failure.
pub fn template(app: &App) -> Value {
    templates(app)
        .remove("test-Stack")
        .unwrap_or_else(|| panic!("no stack test-Stack"))
}

/// Every template, by artifact id; panics with every problem on failure.
pub fn templates(app: &App) -> std::collections::BTreeMap<String, Value> {
    let synthesis = synthesize(app, &SynthOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let stacks = synthesis
        .assembly
        .stacks()
        .unwrap_or_else(|e| panic!("{e}"));
    stacks.into_iter().map(|s| (s.id, s.template)).collect()
}

/// The synth errors (`[path] message`) of an app expected to be invalid.
pub fn errors(app: &App) -> Vec<String> {
    match synthesize(app, &SynthOptions::default()) {
        Err(SynthError::Invalid(problems)) => problems
            .iter()
            .map(|p| format!("[{}] {}", p.path, p.message))
            .collect(),
        Err(e) => panic!("unexpected error: {e}"),
        Ok(_) => Vec::new(),
    }
}

/// The resources of a template of one type, as (logical id, resource) pairs.
pub fn resources_of_type<'a>(template: &'a Value, type_name: &str) -> Vec<(&'a String, &'a Value)> {
    template["Resources"]
        .as_object()
        .map(|m| m.iter().filter(|(_, r)| r["Type"] == type_name).collect())
        .unwrap_or_default()
}

/// References to resources of other stacks, as literals, for doc examples and tests of
/// constructs that take them as required inputs.
pub mod fixtures {
    use crate::monitoring::Workload;
    use crate::{BucketRef, HostedZoneRef, Naming, SecretRef, UserPoolRef, VpcRef};
    use pantri_synth::Str;

    const REGION: &str = "eu-west-1";
    const ACCOUNT: &str = "111111111111";

    /// A network of two zones: two public and two private subnets.
    pub fn vpc() -> VpcRef {
        VpcRef {
            vpc_id: "vpc-0123456789abcdef0".into(),
            cidr_block: "10.0.0.0/16".into(),
            public_subnet_ids: vec![
                "subnet-0a000000000000001".into(),
                "subnet-0b000000000000001".into(),
            ],
            private_subnet_ids: vec![
                "subnet-0a000000000000002".into(),
                "subnet-0b000000000000002".into(),
            ],
        }
    }

    /// The hosted zone of `name`.
    pub fn zone(name: &str) -> HostedZoneRef {
        HostedZoneRef {
            zone_id: "Z0123456789ABC".into(),
            zone_name: name.to_owned(),
        }
    }

    /// The bucket `name`.
    pub fn bucket(name: &str) -> BucketRef {
        BucketRef {
            name: Str::from(name),
            arn: Str::from(format!("arn:aws:s3:::{name}")),
            regional_domain_name: Str::from(format!("{name}.s3.{REGION}.amazonaws.com")),
        }
    }

    /// The Secrets Manager secret `name`.
    pub fn secret(name: &str) -> SecretRef {
        SecretRef {
            arn: Str::from(format!(
                "arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-AbCdEf"
            )),
            name: name.to_owned(),
        }
    }

    /// A Cognito user pool.
    pub fn user_pool() -> UserPoolRef {
        let id = format!("{REGION}_AbCdEf");
        UserPoolRef {
            arn: Str::from(format!(
                "arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{id}"
            )),
            id: Str::from(id),
        }
    }

    /// The naming `orders-dev`.
    pub fn naming() -> Naming {
        // Both parts are valid names: the error cannot happen.
        Naming::new("orders", "dev").unwrap_or_else(|e| unreachable!("{e}"))
    }

    /// The names of a service with a load balancer, as literals.
    pub fn workload() -> Workload {
        Workload {
            naming: naming(),
            env: "dev".into(),
            service: "orders-api".into(),
            team: "platform".into(),
            cluster_name: "orders-dev".into(),
            service_name: "orders-api".into(),
            alb_full_name: "app/orders-dev/0123456789abcdef".into(),
            target_group_full_name: "targetgroup/orders-dev/0123456789abcdef".into(),
            distribution_id: None,
            desired_count: 2,
        }
    }
}
