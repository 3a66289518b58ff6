//! The internet-facing ALB of a [`WebService`](super::WebService): security groups, ACM
//! certificate, the HTTPS listener, target group, and alias records. There is no port 80.
//!
//! [`WebIngress::PublicTls`]: the listener forwards every request. [`WebIngress::BehindCloudFront`]:
//! the listener refuses (403) every request without CloudFront's secret header, and admits
//! CloudFront's origin-facing managed prefix list (`com.amazonaws.global.cloudfront.origin-facing`)
//! when its id is given (it differs per region and cannot be looked up at synth time without
//! credentials), else any address; the secret header keeps direct requests out either way.

use pantri_synth::cfn::certificatemanager::certificate::DomainValidationOption;
use pantri_synth::cfn::certificatemanager::CfnCertificate;
use pantri_synth::cfn::ec2::security_group::{Egress, Ingress};
use pantri_synth::cfn::ec2::CfnSecurityGroup;
use pantri_synth::cfn::elasticloadbalancingv2::listener::{
    Action, ActionType, Certificate, FixedResponseConfig,
};
use pantri_synth::cfn::elasticloadbalancingv2::listener_rule::{
    self, HttpHeaderConfig, RuleCondition,
};
use pantri_synth::cfn::elasticloadbalancingv2::load_balancer::LoadBalancerAttribute;
use pantri_synth::cfn::elasticloadbalancingv2::target_group::{Matcher, TargetGroupAttribute};
use pantri_synth::cfn::elasticloadbalancingv2::{
    CfnListener, CfnListenerRule, CfnLoadBalancer, CfnTargetGroup,
};
use pantri_synth::cfn::route53::record_set::AliasTarget;
use pantri_synth::cfn::route53::CfnRecordSet;
use pantri_synth::fns::{self, dynamic};
use pantri_synth::{Res, Scope, Str};

use super::web::{WebIngress, WebServiceProps};
use super::ORIGIN_VERIFY_HEADER;
use crate::connections::{allow, Port};
use crate::VpcRef;

/// The restricted TLS 1.3 / 1.2 policy: forward-secret AEAD ciphers only (no CBC).
pub const SSL_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06";

/// The ALB and what hangs off it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Alb {
    pub security_group: Res<CfnSecurityGroup>,
    pub load_balancer: Res<CfnLoadBalancer>,
    pub https_listener: Res<CfnListener>,
    /// The rule forwarding CloudFront's requests ([`WebIngress::BehindCloudFront`] only).
    pub forward_rule: Option<Res<CfnListenerRule>>,
    pub target_group: Res<CfnTargetGroup>,
}

impl Alb {
    /// What attaches the target group to the load balancer.
    pub fn attachment(&self) -> pantri_synth::NodeId {
        self.forward_rule
            .map_or_else(|| self.https_listener.node(), |r| r.node())
    }
}

/// What the ALB is made for.
pub(super) struct AlbInputs<'a> {
    /// The name in descriptions.
    pub label: &'a str,
    pub vpc: &'a VpcRef,
    pub ingress: &'a WebIngress,
    pub props: &'a WebServiceProps,
    pub container_port: u16,
}

fn attribute(key: &str, value: impl Into<Str>) -> LoadBalancerAttribute {
    LoadBalancerAttribute::new().key(key).value(value)
}

fn tg_attribute(key: &str, value: &str) -> TargetGroupAttribute {
    TargetGroupAttribute::new().key(key).value(value)
}

/// No egress except what [`allow`] adds: a rule no packet matches replaces the default
/// allow-all (the AWS CDK's `allowAllOutbound: false` does the same).
fn no_egress() -> Egress {
    Egress::new("icmp")
        .cidr_ip("255.255.255.255/32")
        .from_port(252)
        .to_port(86)
        .description("Disallow all traffic")
}

fn alb_security_group(s: &mut Scope<'_>, i: &AlbInputs<'_>) -> Res<CfnSecurityGroup> {
    let p = i.props;
    let https = || Ingress::new("tcp").from_port(443).to_port(443);
    let prefix_list = match i.ingress {
        WebIngress::BehindCloudFront { prefix_list_id, .. } => Some(prefix_list_id.clone()),
        WebIngress::PublicTls { .. } => None,
    };
    let (ingress, from) = match prefix_list {
        // The managed list holds both address families; one rule covers them.
        Some(Some(list)) => (
            vec![https()
                .source_prefix_list_id(list.clone())
                .description("HTTPS from CloudFront's origin-facing servers")],
            "CloudFront",
        ),
        Some(None) => {
            let mut rules = vec![https()
                .cidr_ip("0.0.0.0/0")
                .description("HTTPS from CloudFront (any address: no prefix list given)")];
            if p.ipv6 {
                rules.push(
                    https()
                        .cidr_ipv6("::/0")
                        .description("HTTPS from CloudFront over IPv6"),
                );
            }
            (rules, "the internet")
        }
        None => {
            let mut rules = vec![https()
                .cidr_ip("0.0.0.0/0")
                .description("HTTPS from anywhere")];
            if p.ipv6 {
                rules.push(
                    https()
                        .cidr_ipv6("::/0")
                        .description("HTTPS from anywhere over IPv6"),
                );
            }
            (rules, "the internet")
        }
    };
    s.resource(
        "LoadBalancerSecurityGroup",
        CfnSecurityGroup::new(format!(
            "{} ALB: 443 from {from}, out to the tasks only",
            i.label
        ))
        .vpc_id(i.vpc.vpc_id.clone())
        .security_group_ingress(ingress)
        .security_group_egress([no_egress()]),
    )
}

pub(super) fn alb(s: &mut Scope<'_>, i: &AlbInputs<'_>) -> Alb {
    let p = i.props;
    let (domain_name, hosted_zone) = i.ingress.domain();
    let security_group = alb_security_group(s, i);
    let mut attributes = vec![attribute(
        "deletion_protection.enabled",
        p.deletion_protection.to_string(),
    )];
    if let Some(logs) = &p.access_logs {
        attributes.extend([
            attribute("access_logs.s3.enabled", "true"),
            attribute("access_logs.s3.bucket", logs.bucket.name.clone()),
            attribute("access_logs.s3.prefix", logs.prefix.as_str()),
        ]);
    }
    attributes.extend([
        attribute("routing.http.drop_invalid_header_fields.enabled", "true"),
        // Requests that could smuggle a second request are refused, not just flagged.
        attribute("routing.http.desync_mitigation_mode", "strictest"),
    ]);
    let load_balancer = s.resource(
        "LoadBalancer",
        CfnLoadBalancer::new()
            .type_("application")
            .scheme("internet-facing")
            .ip_address_type(if p.ipv6 { "dualstack" } else { "ipv4" })
            .subnets(i.vpc.public_subnet_ids.clone())
            .security_groups([security_group.attr_group_id()])
            .load_balancer_attributes(attributes),
    );
    let certificate = s.resource(
        "Certificate",
        CfnCertificate::new(domain_name)
            .validation_method("DNS")
            .domain_validation_options([DomainValidationOption::new()
                .domain_name(domain_name)
                .hosted_zone_id(hosted_zone.zone_id.clone())]),
    );

    let target_group = s.resource(
        "TargetGroup",
        CfnTargetGroup::new()
            .target_type("ip")
            .protocol("HTTP")
            .protocol_version("HTTP1")
            .port(i.container_port)
            .vpc_id(i.vpc.vpc_id.clone())
            .health_check_enabled(true)
            .health_check_protocol("HTTP")
            .health_check_path(p.health_check_path.as_str())
            .health_check_interval_seconds(15)
            .health_check_timeout_seconds(5)
            .healthy_threshold_count(2)
            .unhealthy_threshold_count(3)
            .matcher(Matcher::new().http_code("200-399"))
            .target_group_attributes([
                // Long enough for in-flight requests of a Next.js page; deploys stay quick.
                tg_attribute("deregistration_delay.timeout_seconds", "30"),
                tg_attribute("stickiness.enabled", "false"),
            ]),
    );

    let forward = || {
        listener_rule::Action::new(listener_rule::ActionType::Forward)
            .target_group_arn(target_group.ref_())
    };
    let default_action = match i.ingress {
        WebIngress::PublicTls { .. } => {
            Action::new(ActionType::Forward).target_group_arn(target_group.ref_())
        }
        WebIngress::BehindCloudFront { .. } => Action::new(ActionType::FixedResponse)
            .fixed_response_config(
                FixedResponseConfig::new("403")
                    .content_type("text/plain")
                    .message_body("Forbidden"),
            ),
    };
    let https_listener = s.resource(
        "HttpsListener",
        CfnListener::new([default_action], load_balancer.ref_())
            .port(443)
            .protocol("HTTPS")
            .ssl_policy(SSL_POLICY)
            .certificates([Certificate::new().certificate_arn(certificate.ref_())]),
    );
    let forward_rule = match i.ingress {
        WebIngress::PublicTls { .. } => None,
        WebIngress::BehindCloudFront { origin_secret, .. } => {
            // The secret is resolved by CloudFormation at deploy time: it never lands in the
            // template.
            let origin_value = dynamic::secretsmanager(&origin_secret.name, "");
            Some(
                s.resource(
                    "ForwardFromCloudFront",
                    CfnListenerRule::new(
                        [forward()],
                        [RuleCondition::new()
                            .field("http-header")
                            .http_header_config(
                                HttpHeaderConfig::new()
                                    .http_header_name(ORIGIN_VERIFY_HEADER)
                                    .values([origin_value]),
                            )],
                        1,
                    )
                    .listener_arn(https_listener.ref_()),
                ),
            )
        }
    };

    alias_records(s, i, load_balancer);
    Alb {
        security_group,
        load_balancer,
        https_listener,
        forward_rule,
        target_group,
    }
}

fn alias_records(s: &mut Scope<'_>, i: &AlbInputs<'_>, lb: Res<CfnLoadBalancer>) {
    let (domain_name, hosted_zone) = i.ingress.domain();
    let mut types = vec![("AliasA", "A")];
    if i.props.ipv6 {
        types.push(("AliasAAAA", "AAAA"));
    }
    for (id, type_) in types {
        s.resource(
            id,
            CfnRecordSet::new(format!("{domain_name}."), type_)
                .hosted_zone_id(hosted_zone.zone_id.clone())
                .alias_target(
                    AliasTarget::new(
                        fns::join("", [Str::from("dualstack."), lb.attr_dns_name()]),
                        lb.attr_canonical_hosted_zone_id(),
                    )
                    .evaluate_target_health(true),
                ),
        );
    }
}

/// The tasks' group of a web service: in from the ALB on the container port only (the rule pair
/// is added by [`allow`]), out on 443 only.
pub(super) fn service_security_group(
    s: &mut Scope<'_>,
    i: &AlbInputs<'_>,
    alb: &Alb,
) -> Res<CfnSecurityGroup> {
    let sg = tasks_security_group(
        s,
        i.vpc,
        &format!("{} tasks: in from the ALB only, out on HTTPS", i.label),
    );
    allow(
        s,
        "LoadBalancerToService",
        alb.security_group,
        sg,
        Port::tcp(i.container_port),
        "ALB to the app",
    );
    sg
}

/// The tasks' group: nothing in (a caller adds rule pairs), out on 443 only (ECR, Secrets
/// Manager, CloudWatch Logs, SQS, Datadog, through NAT).
pub(super) fn tasks_security_group(
    s: &mut Scope<'_>,
    vpc: &VpcRef,
    description: &str,
) -> Res<CfnSecurityGroup> {
    s.resource(
        "ServiceSecurityGroup",
        CfnSecurityGroup::new(description)
            .vpc_id(vpc.vpc_id.clone())
            .security_group_egress([Egress::new("tcp")
                .cidr_ip("0.0.0.0/0")
                .from_port(443)
                .to_port(443)
                .description("HTTPS to AWS APIs and Datadog through NAT")]),
    )
}
