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

/// The parent zone (`example.com` for `dev.example.com`), when it is a Route 53 zone of the
/// same account: the zone writes its own NS record into it. One or the other, never both.
#[derive(Clone, Debug, PartialEq)]
pub enum ParentZone {
    /// The parent zone by id (`Z0123456789ABC`, or a reference to another stack's zone).
    Id(Str),
    /// The parent zone by name (`example.com`), for a parent whose id is not known when the app
    /// is written (another stage creates it): CloudFormation finds the zone by name when it
    /// writes the delegation, so the name must be the only zone of that name in the account
    /// (otherwise give its [`ParentZone::Id`]).
    Name(String),
}

/// `parent` is a proper parent domain of `domain` (`example.com` of `dev.example.com`).
fn check_parent(domain: &str, parent: &str) -> Result<(), String> {
    let parent = parent.trim_end_matches('.');
    check_domain_name(parent).map_err(|e| format!("parent_zone_name: {e}"))?;
    if domain
        .strip_suffix(parent)
        .is_some_and(|label| label.ends_with('.') && label.len() > 1)
    {
        Ok(())
    } else {
        Err(format!(
            "parent_zone_name {parent:?} is not a parent domain of {domain:?}: the delegation of {domain} belongs in the zone of the domain right above it"
        ))
    }
}

/// Props of [`HostedZone`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HostedZoneProps {
    /// A CloudWatch Logs log group ARN for DNS query logging. Default none: Route 53 only writes
    /// query logs to a log group in us-east-1 with a resource policy for `route53.amazonaws.com`,
    /// which would be one more cross-region stack; CloudFront's and the ALB's access logs already
    /// record who reaches the app. Give one to turn query logging on.
    pub query_log_group_arn: Option<Str>,
    /// Retain (prod, the default) or delete the zone with the stack. A recreated zone gets new
    /// name servers, and the registrar's delegation would point at the old ones.
    pub removal: Removal,
    /// The parent zone (`example.com` for `dev.example.com`) when it is a Route 53 zone of the
    /// same account, by id or by name: the zone writes its own NS record into it, so the
    /// delegation exists before anything (a certificate's DNS validation) needs it. Default
    /// none: the parent is elsewhere (a registrar, another DNS provider), and the `NameServers`
    /// output says what to set there.
    pub parent_zone: Option<ParentZone>,
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
/// let zone = HostedZone::new(&mut stack, "Zone", "dev.example.com", HostedZoneProps::default());
/// assert_eq!(zone.zone_ref().zone_name, "dev.example.com");
/// # assert!(pantri_constructs::testing::errors(&app).is_empty());
/// ```
///
/// Without its domain it does not compile (the same code as above, minus the domain):
///
/// ```compile_fail,E0061
/// # use pantri_synth::{App, Environment, StackProps};
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// # let mut stack = stage.stack("Stack", StackProps::default());
/// # use pantri_constructs::dns::{HostedZone, HostedZoneProps};
/// let zone = HostedZone::new(&mut stack, "Zone", HostedZoneProps::default());
/// # assert_eq!(zone.zone_ref().zone_name, "dev.example.com");
/// # assert!(pantri_constructs::testing::errors(&app).is_empty());
/// ```
#[derive(Clone, Debug)]
pub struct HostedZone {
    zone: Res<CfnHostedZone>,
    zone_name: String,
}

impl HostedZone {
    /// Adds the zone of `domain_name` (`example.com`, `dev.example.com`, without the final
    /// dot), its delegation in the parent zone when the parent is in this account, and outputs
    /// of its id and name servers.
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        domain_name: &str,
        props: HostedZoneProps,
    ) -> HostedZone {
        let mut s = scope.construct(id, "pantri.HostedZone");
        if let Err(e) = check_domain_name(domain_name) {
            s.error(e);
        }
        let mut zone = CfnHostedZone::new()
            .name(format!("{}.", domain_name))
            .hosted_zone_config(
                HostedZoneConfig::new().comment(format!("{} (pantri)", domain_name)),
            );
        if let Some(arn) = props.query_log_group_arn {
            zone = zone.query_logging_config(QueryLoggingConfig::new(arn));
        }
        let zone = s.resource("Resource", zone);
        if let Some(o) = s.app().options_mut(zone) {
            props.removal.apply(o);
        }
        let name_servers = fns::join(",", zone.attr_name_servers());
        let parent = match props.parent_zone {
            Some(ParentZone::Name(name)) => match check_parent(domain_name, &name) {
                Ok(()) => Some(ParentZone::Name(format!("{}.", name.trim_end_matches('.')))),
                Err(e) => {
                    s.error(e);
                    None
                }
            },
            other => other,
        };
        let description = match parent {
            Some(parent) => {
                let record = CfnRecordSet::new(format!("{}.", domain_name), "NS");
                let record = match parent {
                    ParentZone::Id(id) => record.hosted_zone_id(id),
                    ParentZone::Name(name) => record.hosted_zone_name(name),
                };
                s.resource(
                    "Delegation",
                    record
                        .ttl(DELEGATION_TTL_SECONDS.to_string())
                        .resource_records(zone.attr_name_servers())
                        .comment(format!("Delegates {} to its own zone", domain_name)),
                );
                format!(
                    "The name servers of {} (delegated from its parent zone by this stack)",
                    domain_name
                )
            }
            None => format!(
                "Set these as the NS records of {} at the DNS provider of its parent domain: \
                 certificates validate only once the delegation resolves",
                domain_name
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
                domain_name
            )),
        );
        HostedZone {
            zone,
            zone_name: domain_name.to_owned(),
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
    use super::*;
    use crate::testing::{app_with_stack, errors, resources_of_type, template};

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

    fn zone(parent: ParentZone) -> pantri_synth::App {
        app_with_stack("us-east-1", |s| {
            HostedZone::new(
                s,
                "Zone",
                "dev.example.com",
                HostedZoneProps {
                    parent_zone: Some(parent),
                    ..HostedZoneProps::default()
                },
            );
        })
    }

    #[test]
    fn a_parent_named_by_name_gets_the_delegation_by_name() {
        let app = zone(ParentZone::Name("example.com".into()));
        assert!(errors(&app).is_empty(), "{:?}", errors(&app));
        let t = template(&app);
        let records = resources_of_type(&t, "AWS::Route53::RecordSet");
        assert_eq!(records.len(), 1);
        let p = &records[0].1["Properties"];
        assert_eq!(p["HostedZoneName"], "example.com.");
        assert_eq!(p["Type"], "NS");
        assert!(p.get("HostedZoneId").is_none(), "{p}");
    }

    #[test]
    fn a_parent_by_id_gets_the_delegation_by_id() {
        let t = template(&zone(ParentZone::Id("Z0PARENT".into())));
        let records = resources_of_type(&t, "AWS::Route53::RecordSet");
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].1["Properties"]["HostedZoneId"], "Z0PARENT");
    }

    #[test]
    fn a_parent_name_that_is_not_the_parent_is_an_error() {
        for wrong in ["other.com", "xample.com", "dev.example.com"] {
            let errs = errors(&zone(ParentZone::Name(wrong.into())));
            assert!(
                errs.iter().any(|e| e.contains("is not a parent domain of")),
                "{wrong}: {errs:?}"
            );
        }
    }
}
