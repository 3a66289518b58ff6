//! Interface endpoints: AWS services reached from the private subnets without the NAT gateways.

use pantri_synth::cfn::ec2::{
    security_group, vpc_endpoint, CfnSecurityGroup, CfnSubnet, CfnVPC, CfnVPCEndpoint,
};
use pantri_synth::fns;
use pantri_synth::{Res, Scope, Str};

use super::{distinct, SecureNetworkProps};

/// An AWS service reached through an interface endpoint inside the VPC instead of the NAT
/// gateways: image pulls and log delivery stay off the NAT (cheaper, and no internet path).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InterfaceEndpoint {
    /// `ecr.api`: ECR authentication and image manifests.
    EcrApi,
    /// `ecr.dkr`: the Docker registry API of ECR (layers themselves come from S3, through the
    /// gateway endpoint every network has).
    EcrDkr,
    /// `logs`: CloudWatch Logs, for the awslogs driver and FireLens.
    Logs,
    /// `secretsmanager`: secrets injected into task definitions.
    SecretsManager,
}

impl InterfaceEndpoint {
    /// Every supported endpoint, the set an ECS Fargate service in private subnets needs.
    pub const ALL: [InterfaceEndpoint; 4] = [
        InterfaceEndpoint::EcrApi,
        InterfaceEndpoint::EcrDkr,
        InterfaceEndpoint::Logs,
        InterfaceEndpoint::SecretsManager,
    ];

    /// The service name after `com.amazonaws.<region>.`.
    pub fn service(self) -> &'static str {
        match self {
            InterfaceEndpoint::EcrApi => "ecr.api",
            InterfaceEndpoint::EcrDkr => "ecr.dkr",
            InterfaceEndpoint::Logs => "logs",
            InterfaceEndpoint::SecretsManager => "secretsmanager",
        }
    }

    fn id(self) -> &'static str {
        match self {
            InterfaceEndpoint::EcrApi => "EcrApi",
            InterfaceEndpoint::EcrDkr => "EcrDkr",
            InterfaceEndpoint::Logs => "Logs",
            InterfaceEndpoint::SecretsManager => "SecretsManager",
        }
    }
}

/// The security group and the endpoints of one network.
pub(super) type Endpoints = (
    Option<Res<CfnSecurityGroup>>,
    Vec<(InterfaceEndpoint, Res<CfnVPCEndpoint>)>,
);

/// The interface endpoints in the private subnets, and their security group: HTTPS from the
/// VPC's own addresses in, nothing out (an endpoint only answers).
pub(super) fn interface_endpoints(
    s: &mut Scope<'_>,
    vpc: Res<CfnVPC>,
    name: &str,
    props: &SecureNetworkProps,
    private_subnets: &[Res<CfnSubnet>],
) -> Endpoints {
    if props.interface_endpoints.is_empty() {
        return (None, Vec::new());
    }
    let mut e = s.child("Endpoints");
    let group = e.resource(
        "SecurityGroup",
        CfnSecurityGroup::new(format!(
            "{name} interface endpoints: HTTPS from inside the VPC"
        ))
        .vpc_id(vpc.ref_())
        .security_group_ingress(vec![security_group::Ingress::new("tcp")
            .cidr_ip(props.cidr.as_str())
            .from_port(443)
            .to_port(443)
            .description("HTTPS from the VPC")])
        // Without an egress rule EC2 adds allow-all; this one matches no traffic (ICMP type 252
        // code 86 to the broadcast address), the AWS CDK's idiom for "no egress".
        .security_group_egress(vec![security_group::Egress::new("icmp")
            .cidr_ip("255.255.255.255/32")
            .from_port(252)
            .to_port(86)
            .description("Disallow all egress")])
        .tags(vec![security_group::Tag::new(
            "Name",
            format!("{name}-endpoints"),
        )]),
    );
    let subnet_ids: Vec<Str> = private_subnets.iter().map(|s| s.ref_()).collect();
    let endpoints = distinct(&props.interface_endpoints)
        .iter()
        .map(|service| {
            let endpoint = e.resource(
                service.id(),
                CfnVPCEndpoint::new(vpc.ref_())
                    .service_name(fns::sub(&format!(
                        "com.amazonaws.${{AWS::Region}}.{}",
                        service.service()
                    )))
                    .vpc_endpoint_type(vpc_endpoint::VpcEndpointType::Interface)
                    .private_dns_enabled(true)
                    .subnet_ids(subnet_ids.clone())
                    .security_group_ids(vec![group.attr_group_id()]),
            );
            (*service, endpoint)
        })
        .collect();
    (Some(group), endpoints)
}
