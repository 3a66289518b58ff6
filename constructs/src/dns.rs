//! The stage's public DNS zone ([`HostedZone`]) and the domain-name check every construct that
//! takes a domain shares ([`check_domain_name`]).

use pantri_synth::cfn::route53::hosted_zone::{HostedZoneConfig, QueryLoggingConfig};
use pantri_synth::cfn::route53::{CfnHostedZone, CfnRecordSet};
use pantri_synth::{fns, Output, Res, Scope, Str};

use crate::{HostedZoneRef, Removal};

/// Checks a DNS name as Route 53, ACM and CloudFront accept it: 1 to 253 characters, at least two
/// labels of 1 to 63 letters, digits or hyphens, no label starting or ending with a hyphen, no
/// trailing dot. The error says what is wrong, for a construct to report at its path.
pub fn check_domain_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(
            "the domain name is empty: give the stage's domain, e.g. \"example.com\"".into(),
        );
    }
    if name.len() > 253 {
        return Err(format!(
            "the domain name {name:?} is longer than 253 characters: use a shorter name"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.'))
    {
        return Err(format!(
            "the domain name {name:?} contains {c:?}: use lowercase letters, digits, hyphens and dots"
        ));
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return Err(format!(
            "the domain name {name:?} has a single label: use a full name such as \"example.com\""
        ));
    }
    for label in labels {
        let valid_chars = label
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if label.is_empty()
            || label.len() > 63
            || !valid_chars
            || label.starts_with('-')
            || label.ends_with('-')
        {
            return Err(format!(
                "the domain name {name:?} has an invalid label {label:?}: labels are 1 to 63 \
                 lowercase letters, digits or hyphens, not starting or ending with a hyphen, \
                 without a trailing dot"
            ));
        }
    }
    Ok(())
}

/// Props of [`HostedZone`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HostedZoneProps {
    /// The zone's domain (`example.com`, `dev.example.com`), without the final dot. Required.
    pub domain_name: String,
    /// A CloudWatch Logs log group ARN for DNS query logging. Default none: Route 53 only writes
    /// query logs to a log group in us-east-1 with a resource policy for `route53.amazonaws.com`,
    /// which would be one more cross-region stack; CloudFront's and the ALB's access logs already
    /// record who reaches the app. Give one to turn query logging on.
    pub query_log_group_arn: Option<Str>,
    /// Retain (prod, the default) or delete the zone with the stack. A recreated zone gets new
    /// name servers, and the registrar's delegation would point at the old ones.
    pub removal: Removal,
    /// The parent zone (`example.com` for `dev.example.com`) when it is a Route 53 zone of the
    /// same account: the zone writes its own NS record into it, so the delegation exists before
    /// anything (a certificate's DNS validation) needs it. Default none: the parent is elsewhere
    /// (a registrar, another DNS provider), and the `NameServers` output says what to set there.
    pub parent_zone_id: Option<Str>,
}

/// The TTL of a delegating NS record, as at the parent of most zones (and the AWS CDK's
/// `ZoneDelegationRecord`): two days.
pub const DELEGATION_TTL_SECONDS: u32 = 172_800;

/// The id of the output holding a zone's name servers, comma-separated. Deploy prints it when
/// the zone's delegation is for a person to set (no parent zone in the same account).
pub const NAME_SERVERS_OUTPUT: &str = "NameServers";

/// A public Route 53 hosted zone for the stage's domain.
///
/// ```
/// # use pantri_synth::{App, Environment, StackProps};
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// # let mut stack = stage.stack("Stack", StackProps::default());
/// use pantri_constructs::dns::{HostedZone, HostedZoneProps};
/// let zone = HostedZone::new(&mut stack, "Zone", HostedZoneProps {
///     domain_name: "dev.example.com".into(),
///     ..HostedZoneProps::default()
/// });
/// assert_eq!(zone.zone_ref().zone_name, "dev.example.com");
/// # assert!(pantri_constructs::testing::errors(&app).is_empty());
/// ```
#[derive(Clone, Debug)]
pub struct HostedZone {
    zone: Res<CfnHostedZone>,
    zone_name: String,
}

impl HostedZone {
    /// Adds the zone, its delegation in the parent zone when the parent is in this account, and
    /// outputs of its id and name servers.
    pub fn new(scope: &mut Scope<'_>, id: &str, props: HostedZoneProps) -> HostedZone {
        let mut s = scope.construct(id, "pantri.HostedZone");
        if let Err(e) = check_domain_name(&props.domain_name) {
            s.error(e);
        }
        let mut zone = CfnHostedZone::new()
            .name(format!("{}.", props.domain_name))
            .hosted_zone_config(
                HostedZoneConfig::new().comment(format!("{} (pantri)", props.domain_name)),
            );
        if let Some(arn) = props.query_log_group_arn {
            zone = zone.query_logging_config(QueryLoggingConfig::new(arn));
        }
        let zone = s.resource("Resource", zone);
        if let Some(o) = s.app().options_mut(zone) {
            props.removal.apply(o);
        }
        let name_servers = fns::join(",", zone.attr_name_servers());
        let description = match props.parent_zone_id {
            Some(parent) => {
                s.resource(
                    "Delegation",
                    CfnRecordSet::new(format!("{}.", props.domain_name), "NS")
                        .hosted_zone_id(parent)
                        .ttl(DELEGATION_TTL_SECONDS.to_string())
                        .resource_records(zone.attr_name_servers())
                        .comment(format!("Delegates {} to its own zone", props.domain_name)),
                );
                format!(
                    "The name servers of {} (delegated from its parent zone by this stack)",
                    props.domain_name
                )
            }
            None => format!(
                "Set these as the NS records of {} at the DNS provider of its parent domain: \
                 certificates validate only once the delegation resolves",
                props.domain_name
            ),
        };
        s.output(
            NAME_SERVERS_OUTPUT,
            Output::new(name_servers).description(description),
        );
        s.output(
            "ZoneId",
            Output::new(zone.ref_()).description(format!(
                "The hosted zone of {} (a child stage delegates from it by this id)",
                props.domain_name
            )),
        );
        HostedZone {
            zone,
            zone_name: props.domain_name,
        }
    }

    /// The zone, as other constructs need it.
    pub fn zone_ref(&self) -> HostedZoneRef {
        HostedZoneRef {
            zone_id: self.zone.ref_(),
            zone_name: self.zone_name.clone(),
        }
    }

    /// The zone id.
    pub fn zone_id(&self) -> Str {
        self.zone.ref_()
    }

    /// The underlying zone (escape hatch).
    pub fn zone(&self) -> Res<CfnHostedZone> {
        self.zone
    }
}

#[cfg(test)]
mod tests {
    use super::check_domain_name;

    #[test]
    fn domain_names_are_checked_label_by_label() {
        for good in [
            "example.com",
            "dev.example.com",
            "a-b.example.co.jp",
            "x1.io",
        ] {
            assert!(check_domain_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "bad domain",
            "-x.com",
            "x-.com",
            "com",
            "example.com.",
            "Example.com",
            "a..b",
            "under_score.com",
        ] {
            assert!(check_domain_name(bad).is_err(), "{bad}");
        }
        let long = format!("{}.com", "a".repeat(64));
        assert!(check_domain_name(&long).is_err());
    }
}
