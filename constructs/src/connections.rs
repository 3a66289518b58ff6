//! "B may reach A on port P", as the narrowest security-group rule pair: an ingress rule on A's
//! group from B's group, and an egress rule on B's group to A's group, on exactly that port.
//!
//! The rules are standalone `AWS::EC2::SecurityGroupIngress`/`Egress` resources placed next to
//! the peer that is reached, so two groups can refer to each other without a dependency cycle.

use pantri_synth::cfn::ec2::{CfnSecurityGroup, CfnSecurityGroupEgress, CfnSecurityGroupIngress};
use pantri_synth::{Res, Scope, Str};

/// A port range of a protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Port {
    /// `tcp`, `udp` or `icmp`.
    pub protocol: &'static str,
    /// First port.
    pub from: u16,
    /// Last port.
    pub to: u16,
}

impl Port {
    /// One TCP port.
    pub fn tcp(port: u16) -> Self {
        Port {
            protocol: "tcp",
            from: port,
            to: port,
        }
    }

    /// One UDP port.
    pub fn udp(port: u16) -> Self {
        Port {
            protocol: "udp",
            from: port,
            to: port,
        }
    }

    fn label(self) -> String {
        if self.from == self.to {
            format!("{} {}", self.protocol, self.from)
        } else {
            format!("{} {}-{}", self.protocol, self.from, self.to)
        }
    }
}

/// Allows `from` to reach `to` on `port`: ingress on `to` from `from`'s group, egress on `from`
/// to `to`'s group. Adds both rules under `scope` with ids derived from `id`.
pub fn allow(
    scope: &mut Scope<'_>,
    id: &str,
    from: Res<CfnSecurityGroup>,
    to: Res<CfnSecurityGroup>,
    port: Port,
    description: &str,
) -> (Res<CfnSecurityGroupIngress>, Res<CfnSecurityGroupEgress>) {
    let to_id: Str = to.attr_group_id();
    let from_id: Str = from.attr_group_id();
    let ingress = scope.resource(
        &format!("{id}Ingress"),
        CfnSecurityGroupIngress::new(port.protocol)
            .group_id(to_id.clone())
            .source_security_group_id(from_id.clone())
            .from_port(port.from)
            .to_port(port.to)
            .description(format!("{description} ({})", port.label())),
    );
    let egress = scope.resource(
        &format!("{id}Egress"),
        CfnSecurityGroupEgress::new(from_id, port.protocol)
            .destination_security_group_id(to_id)
            .from_port(port.from)
            .to_port(port.to)
            .description(format!("{description} ({})", port.label())),
    );
    (ingress, egress)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pantri_synth::{synthesize, App, Environment, StackProps, SynthOptions};
    use serde_json::json;

    #[test]
    fn allow_adds_the_narrowest_rule_pair() {
        // GIVEN two security groups
        let mut app = App::new();
        let mut root = app.root();
        let mut stage = root.stage("dev", Environment::new("123456789012", "eu-west-1"));
        let mut stack = stage.stack("S", StackProps::default());
        let alb = stack.resource("Alb", CfnSecurityGroup::new("alb").vpc_id("vpc-1"));
        let svc = stack.resource("Svc", CfnSecurityGroup::new("svc").vpc_id("vpc-1"));
        // WHEN the ALB may reach the service on 3000
        allow(
            &mut stack,
            "AlbToSvc",
            alb,
            svc,
            Port::tcp(3000),
            "ALB to service",
        );
        // THEN one ingress on the service from the ALB group, one egress on the ALB to the service group
        let t = &synthesize(&app, &SynthOptions::default())
            .expect("synth")
            .assembly
            .stacks()
            .expect("stacks")[0]
            .template;
        let ingress = &t["Resources"]["AlbToSvcIngress"]["Properties"];
        assert_eq!(
            ingress["GroupId"],
            json!({"Fn::GetAtt": ["Svc", "GroupId"]})
        );
        assert_eq!(
            ingress["SourceSecurityGroupId"],
            json!({"Fn::GetAtt": ["Alb", "GroupId"]})
        );
        assert_eq!(
            (ingress["FromPort"].clone(), ingress["ToPort"].clone()),
            (json!(3000), json!(3000))
        );
        assert_eq!(ingress["IpProtocol"], "tcp");
        let egress = &t["Resources"]["AlbToSvcEgress"]["Properties"];
        assert_eq!(egress["GroupId"], json!({"Fn::GetAtt": ["Alb", "GroupId"]}));
        assert_eq!(
            egress["DestinationSecurityGroupId"],
            json!({"Fn::GetAtt": ["Svc", "GroupId"]})
        );
        assert_eq!(egress["Description"], "ALB to service (tcp 3000)");
    }
}
