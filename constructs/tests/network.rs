//! SecureNetwork: snapshots of the dev-like and prod-like networks, the intent a reviewer checks
//! (NAT per zone, private egress in the same zone, no public IPs, least-privilege flow-log role),
//! and every props error naming the construct path.

use std::collections::BTreeMap;

use pantri_constructs::network::{self, InterfaceEndpoint, NatGateways, SecureNetworkProps};
use pantri_constructs::testing::{app_with_stack, errors, resources_of_type, template};
use pantri_constructs::{Naming, Removal};
use pantri_synth::App;
use serde_json::{json, Value};

const REGION: &str = "eu-west-1";
/// The zones of the dev-like network.
const DEV_ZONES: &[&str] = &["eu-west-1a", "eu-west-1b"];
/// The zones of the prod-like network.
const PROD_ZONES: &[&str] = &["eu-west-1a", "eu-west-1b", "eu-west-1c"];

fn naming(stage: &str) -> Naming {
    Naming::new("pantri", stage).expect("a valid stage")
}

fn dev_props() -> SecureNetworkProps {
    SecureNetworkProps {
        nat_gateways: NatGateways::Single,
        removal: Removal::Destroy,
        ..SecureNetworkProps::default()
    }
}

fn prod_props() -> SecureNetworkProps {
    SecureNetworkProps {
        nat_gateways: NatGateways::PerAz,
        interface_endpoints: InterfaceEndpoint::ALL.to_vec(),
        ..SecureNetworkProps::default()
    }
}

/// A network of stage `stage` of app `pantri`.
fn app(stage: &str, zones: &[&str], props: SecureNetworkProps) -> App {
    let naming = naming(stage);
    app_with_stack(REGION, |scope| {
        network::SecureNetwork::new(scope, "Network", &naming, zones, props);
    })
}

fn logical_id_of(t: &Value, pred: impl Fn(&Value) -> bool) -> Vec<&String> {
    t["Resources"]
        .as_object()
        .map(|m| m.iter().filter(|(_, r)| pred(r)).map(|(k, _)| k).collect())
        .unwrap_or_default()
}

fn reference(v: &Value) -> Option<&str> {
    v["Ref"].as_str()
}

#[test]
fn dev_network_snapshot() {
    // GIVEN the dev-like props: two zones, one NAT gateway
    // WHEN the network is synthesized
    let t = template(&app("dev", DEV_ZONES, dev_props()));
    // THEN the template is the reviewed one
    insta::assert_json_snapshot!("network_dev", t);
}

#[test]
fn prod_network_snapshot() {
    // GIVEN the prod-like props: three zones, a NAT gateway per zone, every interface endpoint
    // WHEN the network is synthesized
    let t = template(&app("prod", PROD_ZONES, prod_props()));
    // THEN the template is the reviewed one
    insta::assert_json_snapshot!("network_prod", t);
}

#[test]
fn prod_has_a_nat_gateway_per_zone_and_dev_exactly_one() {
    let prod = template(&app("prod", PROD_ZONES, prod_props()));
    let dev = template(&app("dev", DEV_ZONES, dev_props()));
    let nat_zones = |t: &Value| -> Vec<String> {
        resources_of_type(t, "AWS::EC2::NatGateway")
            .into_iter()
            .map(|(_, nat)| {
                let subnet = reference(&nat["Properties"]["SubnetId"]).expect("subnet ref");
                t["Resources"][subnet]["Properties"]["AvailabilityZone"]
                    .as_str()
                    .expect("zone")
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(nat_zones(&prod), ["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
    assert_eq!(nat_zones(&dev), ["eu-west-1a"]);
    // each NAT gateway sits in a public subnet, with an EIP of its own
    for t in [&prod, &dev] {
        for (_, nat) in resources_of_type(t, "AWS::EC2::NatGateway") {
            let subnet = reference(&nat["Properties"]["SubnetId"]).expect("subnet ref");
            let name = t["Resources"][subnet]["Properties"]["Tags"][0]["Value"]
                .as_str()
                .expect("name");
            assert!(name.contains("-public-"), "{name}");
            let eip = nat["Properties"]["AllocationId"]["Fn::GetAtt"][0]
                .as_str()
                .expect("eip");
            assert_eq!(t["Resources"][eip]["Type"], "AWS::EC2::EIP");
        }
    }
}

#[test]
fn subnets_are_in_distinct_zones_with_disjoint_cidrs_and_no_public_ips() {
    for t in [
        template(&app("prod", PROD_ZONES, prod_props())),
        template(&app("dev", DEV_ZONES, dev_props())),
    ] {
        let subnets = resources_of_type(&t, "AWS::EC2::Subnet");
        let zones = subnets.len() / 2;
        let mut by_kind: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut cidrs = Vec::new();
        for (id, s) in &subnets {
            let p = &s["Properties"];
            assert_eq!(p["MapPublicIpOnLaunch"], json!(false), "{id}");
            let name = p["Tags"][0]["Value"].as_str().expect("name");
            let kind = if name.contains("-public-") {
                "public"
            } else {
                "private"
            };
            by_kind
                .entry(kind)
                .or_default()
                .push(p["AvailabilityZone"].as_str().expect("zone"));
            cidrs.push(p["CidrBlock"].as_str().expect("cidr").to_owned());
        }
        for (kind, mut zs) in by_kind {
            zs.sort();
            zs.dedup();
            assert_eq!(zs.len(), zones, "{kind} subnets share a zone");
        }
        cidrs.sort();
        cidrs.dedup();
        assert_eq!(cidrs.len(), subnets.len(), "two subnets share a CIDR");
    }
}

#[test]
fn private_route_tables_send_default_traffic_to_a_nat_in_the_same_zone() {
    let t = template(&app("prod", PROD_ZONES, prod_props()));
    let res = &t["Resources"];
    let private_subnets = logical_id_of(&t, |r| {
        r["Type"] == "AWS::EC2::Subnet"
            && r["Properties"]["Tags"][0]["Value"]
                .as_str()
                .is_some_and(|n| n.contains("-private-"))
    });
    assert_eq!(private_subnets.len(), 3);
    for subnet in private_subnets {
        let zone = &res[subnet]["Properties"]["AvailabilityZone"];
        let association = logical_id_of(&t, |r| {
            r["Type"] == "AWS::EC2::SubnetRouteTableAssociation"
                && reference(&r["Properties"]["SubnetId"]) == Some(subnet.as_str())
        });
        assert_eq!(association.len(), 1);
        let table = reference(&res[association[0]]["Properties"]["RouteTableId"]).expect("table");
        let routes = logical_id_of(&t, |r| {
            r["Type"] == "AWS::EC2::Route"
                && reference(&r["Properties"]["RouteTableId"]) == Some(table)
        });
        assert_eq!(routes.len(), 1, "one route in {table}");
        let route = &res[routes[0]]["Properties"];
        assert_eq!(route["DestinationCidrBlock"], "0.0.0.0/0");
        let nat = reference(&route["NatGatewayId"]).expect("a NAT route");
        let nat_subnet = reference(&res[nat]["Properties"]["SubnetId"]).expect("subnet");
        assert_eq!(
            &res[nat_subnet]["Properties"]["AvailabilityZone"], zone,
            "{subnet} egresses through a NAT gateway of another zone"
        );
    }
}

#[test]
fn public_subnets_route_to_the_internet_gateway_only_after_it_is_attached() {
    let t = template(&app("dev", DEV_ZONES, dev_props()));
    let routes: Vec<_> = resources_of_type(&t, "AWS::EC2::Route")
        .into_iter()
        .filter(|(_, r)| r["Properties"]["GatewayId"].is_object())
        .collect();
    assert_eq!(routes.len(), 1);
    let (_, route) = routes[0];
    let igw = reference(&route["Properties"]["GatewayId"]).expect("igw");
    assert_eq!(t["Resources"][igw]["Type"], "AWS::EC2::InternetGateway");
    let (attachment, _) = resources_of_type(&t, "AWS::EC2::VPCGatewayAttachment")[0];
    assert!(route["DependsOn"]
        .as_array()
        .expect("depends on")
        .contains(&json!(attachment)));
}

#[test]
fn the_flow_log_role_may_only_write_to_its_own_log_group() {
    let t = template(&app("prod", PROD_ZONES, prod_props()));
    let (_, flow_log) = resources_of_type(&t, "AWS::EC2::FlowLog")[0];
    let p = &flow_log["Properties"];
    assert_eq!(p["ResourceType"], "VPC");
    assert_eq!(p["TrafficType"], "ALL");
    let group = reference(&p["LogGroupName"]).expect("group");
    let group_res = &t["Resources"][group];
    assert_eq!(
        group_res["Properties"]["LogGroupName"],
        "/aws/vpc/flowlogs/pantri-prod"
    );
    assert_eq!(group_res["Properties"]["RetentionInDays"], 365);
    assert!(group_res["Properties"]["KmsKeyId"].is_object());
    let role = p["DeliverLogsPermissionArn"]["Fn::GetAtt"][0]
        .as_str()
        .expect("role");
    let role = &t["Resources"][role]["Properties"];
    assert_eq!(
        role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
        json!({"Service": "vpc-flow-logs.amazonaws.com"})
    );
    let policies = role["Policies"].as_array().expect("policies");
    assert_eq!(policies.len(), 1);
    let statements = policies[0]["PolicyDocument"]["Statement"]
        .as_array()
        .expect("statements");
    for st in statements {
        let actions: Vec<&str> = match &st["Action"] {
            Value::String(a) => vec![a.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            other => panic!("action {other}"),
        };
        assert!(actions.iter().all(|a| !a.contains('*')), "{actions:?}");
        assert_eq!(st["Resource"], json!({"Fn::GetAtt": [group, "Arn"]}));
    }
}

#[test]
fn interface_endpoints_are_private_and_reachable_only_on_443_from_the_vpc() {
    let t = template(&app("prod", PROD_ZONES, prod_props()));
    let endpoints = resources_of_type(&t, "AWS::EC2::VPCEndpoint");
    let interface: Vec<_> = endpoints
        .iter()
        .filter(|(_, e)| e["Properties"]["VpcEndpointType"] == "Interface")
        .collect();
    assert_eq!(interface.len(), 4);
    for (_, e) in &interface {
        let p = &e["Properties"];
        assert_eq!(p["PrivateDnsEnabled"], json!(true));
        assert_eq!(p["SubnetIds"].as_array().expect("subnets").len(), 3);
        let group = p["SecurityGroupIds"][0]["Fn::GetAtt"][0]
            .as_str()
            .expect("group");
        let g = &t["Resources"][group]["Properties"];
        assert_eq!(
            g["SecurityGroupIngress"],
            json!([{"CidrIp": "10.0.0.0/16", "Description": "HTTPS from the VPC",
                    "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}])
        );
        assert_eq!(g["SecurityGroupEgress"][0]["CidrIp"], "255.255.255.255/32");
    }
    // the S3 gateway endpoint serves the private route tables (image layers come from S3)
    let gateway: Vec<_> = endpoints
        .iter()
        .filter(|(_, e)| e["Properties"]["VpcEndpointType"] == "Gateway")
        .collect();
    assert_eq!(gateway.len(), 1);
    assert_eq!(
        gateway[0].1["Properties"]["RouteTableIds"]
            .as_array()
            .expect("tables")
            .len(),
        3
    );
    // dev asks for none
    let dev = template(&app("dev", DEV_ZONES, dev_props()));
    assert_eq!(resources_of_type(&dev, "AWS::EC2::VPCEndpoint").len(), 1);
    assert!(resources_of_type(&dev, "AWS::EC2::SecurityGroup").is_empty());
}

#[test]
fn the_default_security_group_finding_is_suppressed_with_a_reason() {
    let t = template(&app("dev", DEV_ZONES, dev_props()));
    let (_, vpc) = resources_of_type(&t, "AWS::EC2::VPC")[0];
    let skip = &vpc["Metadata"]["checkov"]["skip"][0];
    assert_eq!(skip["id"], "CKV2_AWS_12");
    assert!(skip["comment"]
        .as_str()
        .is_some_and(|c| c.contains("default security group")));
}

#[test]
fn a_key_arn_in_the_props_replaces_the_construct_key() {
    let props = SecureNetworkProps {
        flow_log_key_arn: Some("arn:aws:kms:eu-west-1:123456789012:key/abc".into()),
        ..dev_props()
    };
    let t = template(&app("dev", DEV_ZONES, props));
    assert!(resources_of_type(&t, "AWS::KMS::Key").is_empty());
    let (_, group) = resources_of_type(&t, "AWS::Logs::LogGroup")[0];
    assert_eq!(
        group["Properties"]["KmsKeyId"],
        "arn:aws:kms:eu-west-1:123456789012:key/abc"
    );
}

#[test]
fn the_vpc_ref_has_a_subnet_per_zone_in_zone_order_and_the_literal_cidr() {
    let mut seen = None;
    let app = app_with_stack(REGION, |scope| {
        let net = network::SecureNetwork::new(
            scope,
            "Network",
            &naming("prod"),
            PROD_ZONES,
            prod_props(),
        );
        let public_zones: Vec<String> = net.availability_zones().to_vec();
        let public: Vec<_> = net.public_subnets().iter().map(|s| s.ref_()).collect();
        let private: Vec<_> = net.private_subnets().iter().map(|s| s.ref_()).collect();
        seen = Some((
            net.vpc_ref(),
            public,
            private,
            public_zones,
            net.nat_gateways().len(),
        ));
    });
    let (vpc_ref, public, private, zones, nats) = seen.expect("built");
    assert_eq!(zones, ["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
    assert_eq!(nats, 3);
    assert_eq!(vpc_ref.public_subnet_ids, public);
    assert_eq!(vpc_ref.private_subnet_ids, private);
    assert_eq!(vpc_ref.cidr_block.as_literal(), Some("10.0.0.0/16"));
    // and the subnets, in the order of the ref, are in the zones in the order of the props
    let t = template(&app);
    for kind in ["public", "private"] {
        let in_order: Vec<&str> = resources_of_type(&t, "AWS::EC2::Subnet")
            .into_iter()
            .filter(|(_, s)| {
                s["Properties"]["Tags"][0]["Value"]
                    .as_str()
                    .is_some_and(|n| n.contains(&format!("-{kind}-")))
            })
            .map(|(_, s)| s["Properties"]["AvailabilityZone"].as_str().expect("zone"))
            .collect();
        assert_eq!(in_order, zones, "{kind}");
    }
}

fn errors_of(zones: &[&str], props: SecureNetworkProps) -> Vec<String> {
    errors(&app("dev", zones, props))
}

fn assert_one_error(zones: &[&str], props: SecureNetworkProps, expected: &str) {
    let errs = errors_of(zones, props);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(
        errs[0].starts_with("[test/Stack/Network] "),
        "error does not name the construct path: {}",
        errs[0]
    );
    assert!(errs[0].contains(expected), "{}", errs[0]);
}

#[test]
fn no_availability_zone_is_an_error() {
    assert_one_error(
        &[],
        dev_props(),
        "0 availability zones given: name at least 2",
    );
}

#[test]
fn one_availability_zone_is_an_error() {
    assert_one_error(&["eu-west-1a"], dev_props(), "1 availability zones given");
}

#[test]
fn a_zone_of_another_region_is_an_error() {
    assert_one_error(
        &["eu-west-1a", "us-east-1b"],
        dev_props(),
        "\"us-east-1b\" is not a zone of the stack's region eu-west-1",
    );
    assert_one_error(
        &["eu-west-1a", "eu-west-1"],
        dev_props(),
        "\"eu-west-1\" is not a zone of the stack's region eu-west-1",
    );
}

#[test]
fn a_duplicate_zone_is_an_error() {
    assert_one_error(
        &["eu-west-1a", "eu-west-1b", "eu-west-1a"],
        prod_props(),
        "\"eu-west-1a\" is listed twice",
    );
}

#[test]
fn a_cidr_too_small_for_the_subnets_is_an_error() {
    assert_one_error(
        PROD_ZONES,
        SecureNetworkProps {
            cidr: "10.0.0.0/24".to_owned(),
            public_subnet_mask: 24,
            private_subnet_mask: 24,
            ..prod_props()
        },
        "cidr 10.0.0.0/24 is too small for 3 public /24 and 3 private /24 subnets \
         (1536 addresses, it holds 256)",
    );
}

#[test]
fn a_malformed_cidr_is_an_error() {
    assert_one_error(
        DEV_ZONES,
        SecureNetworkProps {
            cidr: "10.0.0/16".to_owned(),
            ..dev_props()
        },
        "cidr \"10.0.0/16\" is not a CIDR block",
    );
    assert_one_error(
        DEV_ZONES,
        SecureNetworkProps {
            cidr: "10.0.1.0/16".to_owned(),
            ..dev_props()
        },
        "use the network address 10.0.0.0/16",
    );
    assert_one_error(
        DEV_ZONES,
        SecureNetworkProps {
            cidr: "10.0.0.0/8".to_owned(),
            ..dev_props()
        },
        "use a prefix from /16 to /28",
    );
}

#[test]
fn a_subnet_mask_outside_the_vpc_is_an_error() {
    assert_one_error(
        DEV_ZONES,
        SecureNetworkProps {
            private_subnet_mask: 30,
            ..dev_props()
        },
        "private_subnet_mask /30 does not fit a subnet of the VPC 10.0.0.0/16: use /16 to /28",
    );
}

#[test]
fn other_bad_props_are_errors() {
    assert_one_error(
        DEV_ZONES,
        SecureNetworkProps {
            flow_log_retention_days: 42,
            ..dev_props()
        },
        "flow_log_retention_days 42 is not a CloudWatch Logs retention",
    );
    assert_one_error(
        DEV_ZONES,
        SecureNetworkProps {
            interface_endpoints: vec![InterfaceEndpoint::Logs, InterfaceEndpoint::Logs],
            ..dev_props()
        },
        "interface endpoint logs is listed twice",
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let errs = errors_of(
        &["us-east-1a", "us-east-1a"],
        SecureNetworkProps {
            cidr: "nonsense".to_owned(),
            ..dev_props()
        },
    );
    assert_eq!(errs.len(), 3, "{errs:#?}");
    assert!(errs.iter().all(|e| e.starts_with("[test/Stack/Network] ")));
}
