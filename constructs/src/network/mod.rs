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
//! (checkov 3.3 implements CKV2_AWS_12 for Terraform only, so today the skip entry in the VPC's
//! Metadata records the decision for reviewers rather than silencing a finding.)
//!
//! Subnet CIDRs are carved in Rust from the VPC CIDR ([`cidr::carve`]) and written as literals, so
//! the template shows exactly which addresses each zone gets.

pub mod cidr;
mod endpoints;
mod flow_logs;
mod validate;

use pantri_synth::cfn::ec2::{
    eip, internet_gateway, nat_gateway, route_table, subnet, vpc, vpc_endpoint, CfnEIP, CfnFlowLog,
    CfnInternetGateway, CfnNatGateway, CfnRoute, CfnRouteTable, CfnSecurityGroup, CfnSubnet,
    CfnSubnetRouteTableAssociation, CfnVPC, CfnVPCEndpoint, CfnVPCGatewayAttachment,
};
use pantri_synth::cfn::iam::CfnRole;
use pantri_synth::cfn::logs::CfnLogGroup;
use pantri_synth::fns;
use pantri_synth::{Res, Scope, Str};

use crate::{Naming, Removal, VpcRef};
use endpoints::interface_endpoints;
use flow_logs::flow_logs;
use validate::{distinct, validate};

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

pub use endpoints::InterfaceEndpoint;

/// Settings of a [`SecureNetwork`].
#[derive(Clone, Debug, PartialEq)]
pub struct SecureNetworkProps {
    /// The VPC's IPv4 CIDR block, /16 to /28. Default `"10.0.0.0/16"`.
    pub cidr: String,
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
    /// [`LogsKey`](crate::logs::LogsKey).
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
            cidr: "10.0.0.0/16".to_owned(),
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

/// A multi-AZ VPC; see the [module documentation](self). What it cannot work without are
/// arguments: the app's [`Naming`] (`Name` tags and the flow-log group are `<app>-<stage>…`, so
/// two stages can share an account) and the availability zones.
///
/// ```
/// # use pantri_synth::{App, Environment, StackProps};
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// # let mut stack = stage.stack("Stack", StackProps::default());
/// use pantri_constructs::{network::{NatGateways, SecureNetwork, SecureNetworkProps}, Naming};
/// let naming = Naming::new("orders", "dev").expect("lowercase names");
/// let network = SecureNetwork::new(&mut stack, "Vpc", &naming, &["eu-west-1a", "eu-west-1b"], SecureNetworkProps {
///     nat_gateways: NatGateways::Single,
///     ..SecureNetworkProps::default()
/// });
/// assert_eq!(network.vpc_ref().private_subnet_ids.len(), 2);
/// # assert!(pantri_constructs::testing::errors(&app).is_empty());
/// ```
///
/// Without its zones it does not compile (the same code as above, minus the zones):
///
/// ```compile_fail,E0061
/// # use pantri_synth::{App, Environment, StackProps};
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// # let mut stack = stage.stack("Stack", StackProps::default());
/// # use pantri_constructs::{network::{NatGateways, SecureNetwork, SecureNetworkProps}, Naming};
/// # let naming = Naming::new("orders", "dev").expect("lowercase names");
/// let network = SecureNetwork::new(&mut stack, "Vpc", &naming, SecureNetworkProps {
///     nat_gateways: NatGateways::Single,
///     ..SecureNetworkProps::default()
/// });
/// # assert_eq!(network.vpc_ref().private_subnet_ids.len(), 2);
/// # assert!(pantri_constructs::testing::errors(&app).is_empty());
/// ```
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

impl SecureNetwork {
    /// Adds a [`SecureNetwork`] under `scope` across `availability_zones`: named (not looked
    /// up, so that synthesis is deterministic and the template shows them), all of the stack's
    /// region and distinct, at least two (an ALB needs two zones). Bad props are synth errors at
    /// the construct's path.
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        naming: &Naming,
        availability_zones: &[impl AsRef<str>],
        props: SecureNetworkProps,
    ) -> SecureNetwork {
        let mut s = scope.construct(id, "pantri.SecureNetwork");
        let availability_zones: Vec<String> = availability_zones
            .iter()
            .map(|az| az.as_ref().to_owned())
            .collect();
        let subnet_cidrs = validate(&mut s, &availability_zones, &props);
        let name = naming.prefix();
        // A zone or endpoint listed twice is already an error; build each once so that the tree
        // reports that error alone, not a cascade of duplicate ids.
        let azs = &distinct(&availability_zones);

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
