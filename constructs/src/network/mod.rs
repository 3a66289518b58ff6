//! `SecureNetwork`: a multi-AZ VPC with a public and a private subnet per availability zone, NAT
//! egress, VPC flow logs to an encrypted log group, an S3 gateway endpoint and optional interface
//! endpoints.
//!
//! Layout: one public route table (0.0.0.0/0 → internet gateway) shared by the public subnets;
//! one private route table per zone (0.0.0.0/0 → that zone's NAT gateway, or the single NAT
//! gateway), so that switching from `NatGateways::Single` to `NatGateways::PerAz` only replaces
//! routes. No subnet maps public IPs on launch: the load balancer gets its public addresses from
//! ELB, and nothing else belongs on the internet.
//!
//! **The VPC's default security group keeps the rules EC2 gives it, and checkov's CKV2_AWS_12
//! ("the default security group restricts all traffic") is suppressed on the VPC.**
//! CloudFormation has no property that removes those rules; the AWS CDK removes them with a
//! custom resource backed by a Lambda function, which a CloudFormation emulator cannot run and
//! which brings its own findings (a Lambda outside the VPC, without concurrency limits, dead-letter
//! queue or code signing). Nothing pantri creates uses the default group: every construct attaches
//! a group of its own with the narrowest rules, so the default group guards no resource. A
//! `restrict_default_security_group` switch will come with an alternative that needs no Lambda.
//!
//! Subnet CIDRs are carved in Rust from the VPC CIDR ([`cidr::carve`]) and written as literals, so
//! the template shows exactly which addresses each zone gets.

pub mod cidr;

use pantri_synth::cfn::ec2::{
    eip, internet_gateway, nat_gateway, route_table, security_group, subnet, vpc, vpc_endpoint,
    CfnEIP, CfnFlowLog, CfnInternetGateway, CfnNatGateway, CfnRoute, CfnRouteTable,
    CfnSecurityGroup, CfnSubnet, CfnSubnetRouteTableAssociation, CfnVPC, CfnVPCEndpoint,
    CfnVPCGatewayAttachment,
};
use pantri_synth::cfn::iam::{role, CfnRole};
use pantri_synth::cfn::logs::CfnLogGroup;
use pantri_synth::fns;
use pantri_synth::{Res, Scope, Str};

use crate::logs::{encrypted_log_group, LogsKey};
use crate::policy::{document, Principal, Statement};
use crate::{Removal, VpcRef};
use cidr::Ipv4Cidr;

/// How many NAT gateways carry the private subnets' egress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NatGateways {
    /// One per availability zone, each zone's private subnet routed through its own: a zone
    /// outage leaves the other zones' egress intact (prod).
    #[default]
    PerAz,
    /// One, in the first zone's public subnet, for every private subnet: cheaper, but egress of
    /// every zone depends on the first zone (dev).
    Single,
}

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

/// Retention periods CloudWatch Logs accepts, in days.
const RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Settings of a [`SecureNetwork`].
#[derive(Clone, Debug, PartialEq)]
pub struct SecureNetworkProps {
    /// The application name, in `Name` tags and the flow-log group name. Default `"pantri"`.
    pub app_name: String,
    /// The stage (`dev`, `prod`), appended to names (`pantri-dev`) so that two stages can share
    /// an account. Default `None`: names are the app name alone.
    pub stage: Option<String>,
    /// The VPC's IPv4 CIDR block, /16 to /28. Default `"10.0.0.0/16"`.
    pub cidr: String,
    /// The availability zones, by name, all of the stack's region and distinct; at least two
    /// (an ALB needs two zones). Named rather than looked up so that synthesis is deterministic
    /// and the template shows them. Default empty, which is an error: name them per stage.
    pub availability_zones: Vec<String>,
    /// Prefix length of each public subnet (ALB and NAT gateways only). Default `24` (251 usable
    /// addresses).
    pub public_subnet_mask: u8,
    /// Prefix length of each private subnet (tasks, one address each, and interface endpoints).
    /// Default `20` (4091 usable addresses), room to scale out.
    pub private_subnet_mask: u8,
    /// NAT gateways. Default [`NatGateways::PerAz`].
    pub nat_gateways: NatGateways,
    /// Retention of the flow logs, one of the periods CloudWatch Logs accepts. Default `365`
    /// (a year: what incident investigations and checkov's CKV_AWS_338 ask for).
    pub flow_log_retention_days: u32,
    /// The KMS key that encrypts the flow-log group. Default `None`: the construct creates a
    /// [`LogsKey`].
    pub flow_log_key_arn: Option<Str>,
    /// Interface endpoints to add. Default none (each costs per zone and hour); prod lists
    /// [`InterfaceEndpoint::ALL`].
    pub interface_endpoints: Vec<InterfaceEndpoint>,
    /// What happens to the flow-log group (and the key the construct creates) when the stack
    /// deletes it. Default [`Removal::Retain`].
    pub removal: Removal,
}

impl Default for SecureNetworkProps {
    fn default() -> Self {
        SecureNetworkProps {
            app_name: "pantri".to_owned(),
            stage: None,
            cidr: "10.0.0.0/16".to_owned(),
            availability_zones: Vec::new(),
            public_subnet_mask: 24,
            private_subnet_mask: 20,
            nat_gateways: NatGateways::PerAz,
            flow_log_retention_days: 365,
            flow_log_key_arn: None,
            interface_endpoints: Vec::new(),
            removal: Removal::Retain,
        }
    }
}

/// A multi-AZ VPC; see the [module documentation](self).
#[derive(Clone, Debug)]
pub struct SecureNetwork {
    vpc: Res<CfnVPC>,
    cidr: String,
    availability_zones: Vec<String>,
    public_subnets: Vec<Res<CfnSubnet>>,
    private_subnets: Vec<Res<CfnSubnet>>,
    public_route_table: Res<CfnRouteTable>,
    private_route_tables: Vec<Res<CfnRouteTable>>,
    nat_gateways: Vec<Res<CfnNatGateway>>,
    flow_log: Res<CfnFlowLog>,
    flow_log_group: Res<CfnLogGroup>,
    flow_log_role: Res<CfnRole>,
    s3_endpoint: Res<CfnVPCEndpoint>,
    endpoint_security_group: Option<Res<CfnSecurityGroup>>,
    interface_endpoints: Vec<(InterfaceEndpoint, Res<CfnVPCEndpoint>)>,
}

/// Adds a [`SecureNetwork`] under `scope`. Bad props are synth errors at the construct's path.
pub fn new(scope: &mut Scope<'_>, id: &str, props: SecureNetworkProps) -> SecureNetwork {
    let mut s = scope.construct(id, "pantri.SecureNetwork");
    let subnet_cidrs = validate(&mut s, &props);
    let name = match &props.stage {
        Some(stage) => format!("{}-{stage}", props.app_name),
        None => props.app_name.clone(),
    };
    // A zone or endpoint listed twice is already an error; build each once so that the tree
    // reports that error alone, not a cascade of duplicate ids.
    let azs = &distinct(&props.availability_zones);

    let vpc = s.resource(
        "Vpc",
        CfnVPC::new()
            .cidr_block(props.cidr.as_str())
            .enable_dns_support(true)
            // Private DNS of interface endpoints needs both DNS settings on.
            .enable_dns_hostnames(true)
            .tags(vec![vpc::Tag::new("Name", name.as_str())]),
    );
    if let Some(o) = s.app().options_mut(vpc) {
        o.suppress_checkov(
            "CKV2_AWS_12",
            "CloudFormation cannot remove the default security group's rules without a \
             Lambda-backed custom resource; nothing in the app uses the default group, every \
             resource has its own narrow group",
        );
    }

    let igw = s.resource(
        "InternetGateway",
        CfnInternetGateway::new().tags(vec![internet_gateway::Tag::new("Name", name.as_str())]),
    );
    let attachment = s.resource(
        "InternetGatewayAttachment",
        CfnVPCGatewayAttachment::new(vpc.ref_()).internet_gateway_id(igw.ref_()),
    );

    let public_route_table = s.resource(
        "PublicRouteTable",
        CfnRouteTable::new(vpc.ref_()).tags(vec![route_table::Tag::new(
            "Name",
            format!("{name}-public"),
        )]),
    );
    let public_route = s.resource(
        "PublicDefaultRoute",
        CfnRoute::new(public_route_table.ref_())
            .destination_cidr_block("0.0.0.0/0")
            .gateway_id(igw.ref_()),
    );
    // The route is only valid once the gateway is attached, which no reference says.
    if let Some(o) = s.app().options_mut(public_route) {
        o.depends_on.push(attachment.node());
    }

    let mut public_subnets = Vec::new();
    let mut nat_gateways = Vec::new();
    for (i, az) in azs.iter().enumerate() {
        let mut z = s.child(&format!("Public{}", zone_label(az, i)));
        let mut subnet = CfnSubnet::new(vpc.ref_())
            .availability_zone(az.as_str())
            .map_public_ip_on_launch(false)
            .tags(vec![subnet::Tag::new(
                "Name",
                format!("{name}-public-{az}"),
            )]);
        if let Some(cidrs) = &subnet_cidrs {
            subnet = subnet.cidr_block(cidrs.public[i].to_string());
        }
        let subnet = z.resource("Subnet", subnet);
        suppress_hardcoded_az(&mut z, subnet);
        let association = z.resource(
            "RouteTableAssociation",
            CfnSubnetRouteTableAssociation::new(public_route_table.ref_(), subnet.ref_()),
        );
        public_subnets.push(subnet);
        if i == 0 || props.nat_gateways == NatGateways::PerAz {
            let eip = z.resource(
                "NatEip",
                CfnEIP::new()
                    .domain("vpc")
                    .tags(vec![eip::Tag::new("Name", format!("{name}-nat-{az}"))]),
            );
            // An EIP for a VPC of the same template must wait for the gateway attachment.
            if let Some(o) = z.app().options_mut(eip) {
                o.depends_on.push(attachment.node());
            }
            let nat = z.resource(
                "NatGateway",
                CfnNatGateway::new()
                    .allocation_id(eip.attr_allocation_id())
                    .subnet_id(subnet.ref_())
                    .tags(vec![nat_gateway::Tag::new(
                        "Name",
                        format!("{name}-nat-{az}"),
                    )]),
            );
            // A NAT gateway whose subnet has no route to the internet yet comes up unusable.
            if let Some(o) = z.app().options_mut(nat) {
                o.depends_on.push(public_route.node());
                o.depends_on.push(association.node());
            }
            nat_gateways.push(nat);
        }
    }

    let mut private_subnets = Vec::new();
    let mut private_route_tables = Vec::new();
    for (i, az) in azs.iter().enumerate() {
        let mut z = s.child(&format!("Private{}", zone_label(az, i)));
        let mut subnet = CfnSubnet::new(vpc.ref_())
            .availability_zone(az.as_str())
            .map_public_ip_on_launch(false)
            .tags(vec![subnet::Tag::new(
                "Name",
                format!("{name}-private-{az}"),
            )]);
        if let Some(cidrs) = &subnet_cidrs {
            subnet = subnet.cidr_block(cidrs.private[i].to_string());
        }
        let subnet = z.resource("Subnet", subnet);
        suppress_hardcoded_az(&mut z, subnet);
        let table = z.resource(
            "RouteTable",
            CfnRouteTable::new(vpc.ref_()).tags(vec![route_table::Tag::new(
                "Name",
                format!("{name}-private-{az}"),
            )]),
        );
        z.resource(
            "RouteTableAssociation",
            CfnSubnetRouteTableAssociation::new(table.ref_(), subnet.ref_()),
        );
        // Per AZ: this zone's own NAT gateway; single: the only one.
        if let Some(nat) = nat_gateways.get(i).or(nat_gateways.first()) {
            z.resource(
                "DefaultRoute",
                CfnRoute::new(table.ref_())
                    .destination_cidr_block("0.0.0.0/0")
                    .nat_gateway_id(nat.ref_()),
            );
        }
        private_subnets.push(subnet);
        private_route_tables.push(table);
    }

    let (flow_log, flow_log_group, flow_log_role) = flow_logs(&mut s, vpc, &name, &props);

    let s3_endpoint = s.resource(
        "S3Endpoint",
        CfnVPCEndpoint::new(vpc.ref_())
            .service_name(fns::sub("com.amazonaws.${AWS::Region}.s3"))
            .vpc_endpoint_type(vpc_endpoint::VpcEndpointType::Gateway)
            .route_table_ids(
                private_route_tables
                    .iter()
                    .map(|t| t.ref_())
                    .collect::<Vec<Str>>(),
            ),
    );

    let (endpoint_security_group, interface_endpoints) =
        interface_endpoints(&mut s, vpc, &name, &props, &private_subnets);

    SecureNetwork {
        vpc,
        cidr: props.cidr.clone(),
        availability_zones: azs.clone(),
        public_subnets,
        private_subnets,
        public_route_table,
        private_route_tables,
        nat_gateways,
        flow_log,
        flow_log_group,
        flow_log_role,
        s3_endpoint,
        endpoint_security_group,
        interface_endpoints,
    }
}

/// The flow log of the whole VPC, its encrypted log group, and the role the flow-log service
/// assumes to write to that group and nothing else.
fn flow_logs(
    s: &mut Scope<'_>,
    vpc: Res<CfnVPC>,
    name: &str,
    props: &SecureNetworkProps,
) -> (Res<CfnFlowLog>, Res<CfnLogGroup>, Res<CfnRole>) {
    let mut f = s.child("FlowLogs");
    let key_arn = match &props.flow_log_key_arn {
        Some(arn) => arn.clone(),
        None => LogsKey::new(&mut f, "Key", props.removal).arn(),
    };
    let group = encrypted_log_group(
        &mut f,
        "LogGroup",
        format!("/aws/vpc/flowlogs/{name}"),
        props.flow_log_retention_days,
        key_arn,
        props.removal,
    );
    let trust = document([Statement::allow()
        .principal(Principal::service("vpc-flow-logs.amazonaws.com"))
        .actions(["sts:AssumeRole"])
        // Confused-deputy guard: only flow logs of this account and region may use the role.
        .condition("StringEquals", "aws:SourceAccount", fns::aws::account_id())
        .condition(
            "ArnLike",
            "aws:SourceArn",
            fns::sub("arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:vpc-flow-log/*"),
        )]);
    let permissions = document([Statement::allow()
        .sid("WriteFlowLogs")
        .actions([
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "logs:DescribeLogStreams",
        ])
        // The group's ARN ends in `:*`, which covers its log streams and nothing else.
        .resources([group.attr_arn()])]);
    let role = f.resource(
        "Role",
        CfnRole::new(trust)
            .description(format!("VPC flow logs of {name} to their log group"))
            .policies(vec![role::Policy::new(permissions, "write-flow-logs")]),
    );
    let flow_log = f.resource(
        "FlowLog",
        CfnFlowLog::new(
            vpc.ref_(),
            pantri_synth::cfn::ec2::flow_log::ResourceType::Vpc,
        )
        .traffic_type(pantri_synth::cfn::ec2::flow_log::TrafficType::All)
        .log_destination_type(pantri_synth::cfn::ec2::flow_log::LogDestinationType::CloudWatchLogs)
        .log_group_name(group.ref_())
        .deliver_logs_permission_arn(role.attr_arn()),
    );
    (flow_log, group, role)
}

/// The interface endpoints in the private subnets, and their security group: HTTPS from the
/// VPC's own addresses in, nothing out (an endpoint only answers).
#[allow(clippy::type_complexity)]
fn interface_endpoints(
    s: &mut Scope<'_>,
    vpc: Res<CfnVPC>,
    name: &str,
    props: &SecureNetworkProps,
    private_subnets: &[Res<CfnSubnet>],
) -> (
    Option<Res<CfnSecurityGroup>>,
    Vec<(InterfaceEndpoint, Res<CfnVPCEndpoint>)>,
) {
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

/// cfn-lint warns on every literal zone name (W3010); here the names are props, checked against
/// the stack's region at synth time, so that the template says where each subnet is.
fn suppress_hardcoded_az(z: &mut Scope<'_>, subnet: Res<CfnSubnet>) {
    if let Some(o) = z.app().options_mut(subnet) {
        o.suppress_cfn_lint(
            "W3010",
            "zone names are props, checked against the stack's region at synth, so the template \
             shows where each subnet is; Fn::GetAZs would leave that to deploy time",
        );
    }
}

/// The zone letter, upper case (`eu-west-1a` → `A`), for readable construct ids; the position
/// when the name has no letter (an error already reported).
fn zone_label(az: &str, index: usize) -> String {
    match az.chars().last() {
        Some(c) if c.is_ascii_lowercase() => c.to_ascii_uppercase().to_string(),
        _ => (index + 1).to_string(),
    }
}

/// The items without repeats, in first-seen order.
fn distinct<T: Clone + PartialEq>(items: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for item in items {
        if !out.contains(item) {
            out.push(item.clone());
        }
    }
    out
}

/// Subnet CIDRs, in zone order.
struct SubnetCidrs {
    public: Vec<Ipv4Cidr>,
    private: Vec<Ipv4Cidr>,
}

/// Reports every problem of the props at the construct's path; returns the subnet CIDRs when
/// they can be carved.
fn validate(s: &mut Scope<'_>, props: &SecureNetworkProps) -> Option<SubnetCidrs> {
    let mut problems = Vec::new();
    for (what, value) in [
        ("app_name", Some(&props.app_name)),
        ("stage", props.stage.as_ref()),
    ] {
        if let Some(v) = value {
            let ok = !v.is_empty()
                && v.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !ok {
                problems.push(format!(
                    "{what} {v:?} is not a name: use lower-case letters, digits and '-'"
                ));
            }
        }
    }

    let azs = &props.availability_zones;
    if azs.len() < 2 {
        problems.push(format!(
            "{} availability zones given: name at least 2 (an ALB needs two zones), for example \
             [\"{r}a\", \"{r}b\"]",
            azs.len(),
            r = s.env().map_or("eu-west-1", |e| e.region.as_str()),
        ));
    }
    let region = s.env().map(|e| e.region.clone());
    for (i, az) in azs.iter().enumerate() {
        if azs[..i].contains(az) {
            problems.push(format!(
                "availability zone {az:?} is listed twice: each zone once, one subnet pair each"
            ));
            continue;
        }
        if let Some(region) = &region {
            let letter = az.strip_prefix(region.as_str());
            let ok = matches!(letter, Some(l) if l.len() == 1
                && l.chars().all(|c| c.is_ascii_lowercase()));
            if !ok {
                problems.push(format!(
                    "availability zone {az:?} is not a zone of the stack's region {region}: use \
                     {region} and a zone letter, for example \"{region}a\""
                ));
            }
        }
    }

    let mut services = Vec::new();
    for e in &props.interface_endpoints {
        if services.contains(e) {
            problems.push(format!(
                "interface endpoint {} is listed twice: list each once",
                e.service()
            ));
        }
        services.push(*e);
    }

    if !RETENTION_DAYS.contains(&props.flow_log_retention_days) {
        problems.push(format!(
            "flow_log_retention_days {} is not a CloudWatch Logs retention: use one of {:?}",
            props.flow_log_retention_days, RETENTION_DAYS
        ));
    }

    let cidrs = match props.cidr.parse::<Ipv4Cidr>() {
        Err(e) => {
            problems.push(format!("cidr {e}"));
            None
        }
        Ok(vpc) if !(16..=28).contains(&vpc.prefix()) => {
            problems.push(format!(
                "cidr {vpc} is outside what a VPC accepts: use a prefix from /16 to /28"
            ));
            None
        }
        Ok(vpc) => carve_subnets(vpc, props, &mut problems),
    };

    let ok = problems.is_empty();
    for p in problems {
        s.error(p);
    }
    cidrs.filter(|_| ok)
}

fn carve_subnets(
    vpc: Ipv4Cidr,
    props: &SecureNetworkProps,
    problems: &mut Vec<String>,
) -> Option<SubnetCidrs> {
    let n = distinct(&props.availability_zones).len();
    let (public, private) = (props.public_subnet_mask, props.private_subnet_mask);
    let mut masks_ok = true;
    for (what, mask) in [
        ("public_subnet_mask", public),
        ("private_subnet_mask", private),
    ] {
        // EC2 subnets are /16 to /28, and inside the VPC.
        if mask < vpc.prefix().max(16) || mask > 28 {
            problems.push(format!(
                "{what} /{mask} does not fit a subnet of the VPC {vpc}: use /{} to /28",
                vpc.prefix().max(16)
            ));
            masks_ok = false;
        }
    }
    if !masks_ok || n == 0 {
        return None;
    }
    let mut prefixes = vec![public; n];
    prefixes.extend(std::iter::repeat_n(private, n));
    match cidr::carve(vpc, &prefixes) {
        Some(blocks) => Some(SubnetCidrs {
            public: blocks[..n].to_vec(),
            private: blocks[n..].to_vec(),
        }),
        None => {
            let needed = n as u64 * ((1u64 << (32 - public)) + (1u64 << (32 - private)));
            problems.push(format!(
                "cidr {vpc} is too small for {n} public /{public} and {n} private /{private} \
                 subnets ({needed} addresses, it holds {}): use a larger VPC CIDR (10.0.0.0/16) \
                 or longer subnet masks",
                vpc.size()
            ));
            None
        }
    }
}

impl SecureNetwork {
    /// The network as other constructs need it (ids of the VPC and subnets, the VPC CIDR).
    pub fn vpc_ref(&self) -> VpcRef {
        VpcRef {
            vpc_id: self.vpc_id(),
            cidr_block: Str::from(self.cidr.as_str()),
            public_subnet_ids: self.public_subnets.iter().map(|s| s.ref_()).collect(),
            private_subnet_ids: self.private_subnets.iter().map(|s| s.ref_()).collect(),
        }
    }

    /// The VPC id.
    pub fn vpc_id(&self) -> Str {
        self.vpc.ref_()
    }

    /// The VPC's CIDR block, as given in the props.
    pub fn cidr(&self) -> &str {
        &self.cidr
    }

    /// The availability zones, in the order of the props (and of the subnet lists).
    pub fn availability_zones(&self) -> &[String] {
        &self.availability_zones
    }

    /// The VPC resource.
    pub fn vpc(&self) -> Res<CfnVPC> {
        self.vpc
    }

    /// The public subnets, in zone order.
    pub fn public_subnets(&self) -> &[Res<CfnSubnet>] {
        &self.public_subnets
    }

    /// The private subnets, in zone order.
    pub fn private_subnets(&self) -> &[Res<CfnSubnet>] {
        &self.private_subnets
    }

    /// The route table of the public subnets.
    pub fn public_route_table(&self) -> Res<CfnRouteTable> {
        self.public_route_table
    }

    /// The private route tables, in zone order.
    pub fn private_route_tables(&self) -> &[Res<CfnRouteTable>] {
        &self.private_route_tables
    }

    /// The NAT gateways: one per zone in zone order, or the single one.
    pub fn nat_gateways(&self) -> &[Res<CfnNatGateway>] {
        &self.nat_gateways
    }

    /// The VPC's flow log.
    pub fn flow_log(&self) -> Res<CfnFlowLog> {
        self.flow_log
    }

    /// The log group the flow logs go to.
    pub fn flow_log_group(&self) -> Res<CfnLogGroup> {
        self.flow_log_group
    }

    /// The role the flow-log service assumes.
    pub fn flow_log_role(&self) -> Res<CfnRole> {
        self.flow_log_role
    }

    /// The S3 gateway endpoint on the private route tables.
    pub fn s3_endpoint(&self) -> Res<CfnVPCEndpoint> {
        self.s3_endpoint
    }

    /// The interface endpoints' security group, when there are interface endpoints.
    pub fn endpoint_security_group(&self) -> Option<Res<CfnSecurityGroup>> {
        self.endpoint_security_group
    }

    /// The interface endpoint of a service, when the props asked for it.
    pub fn interface_endpoint(&self, service: InterfaceEndpoint) -> Option<Res<CfnVPCEndpoint>> {
        self.interface_endpoints
            .iter()
            .find(|(s, _)| *s == service)
            .map(|(_, e)| *e)
    }
}
