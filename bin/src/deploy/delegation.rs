//! DNS delegation a person must set: after a stack that makes a hosted zone nobody delegates
//! (no NS record for it in the stack, so its parent is outside the account), deploy prints the
//! name servers to set at the parent; while a certificate waits for DNS validation, it says the
//! validation is waiting for that delegation. Pure functions of the template, the outputs and
//! the events, so the engine only calls them.

use indexmap::IndexMap;
use serde_json::Value;

use super::api::StackEvent;

/// A zone of the template that nothing in the template delegates, with the output holding its
/// name servers: `(domain without the final dot, output key)`.
pub fn undelegated_zones(template: &Value) -> Vec<(String, String)> {
    let resources = template["Resources"].as_object();
    let Some(resources) = resources else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (id, zone) in resources {
        if zone["Type"] != "AWS::Route53::HostedZone" {
            continue;
        }
        let name_servers = serde_json::json!({"Fn::GetAtt": [id, "NameServers"]});
        let delegated = resources.values().any(|r| {
            r["Type"] == "AWS::Route53::RecordSet"
                && r["Properties"]["Type"] == "NS"
                && r["Properties"]["ResourceRecords"] == name_servers
        });
        if delegated {
            continue;
        }
        let output = template["Outputs"].as_object().and_then(|outputs| {
            outputs.iter().find_map(|(key, o)| {
                (o["Value"]["Fn::Join"][1] == name_servers).then(|| key.clone())
            })
        });
        if let Some(output) = output {
            let domain = zone["Properties"]["Name"]
                .as_str()
                .unwrap_or_default()
                .trim_end_matches('.')
                .to_owned();
            out.push((domain, output));
        }
    }
    out
}

/// What to tell the deployer after a stack with an undelegated zone is deployed.
pub fn name_server_notes(
    display_name: &str,
    template: &Value,
    outputs: &IndexMap<String, String>,
) -> Vec<String> {
    undelegated_zones(template)
        .into_iter()
        .map(|(domain, key)| match outputs.get(&key) {
            Some(servers) if !servers.is_empty() => format!(
                "{display_name}: delegate {domain} now: set NS records for {domain} at its parent \
                 domain's DNS provider to {}. The certificates of the next stacks validate \
                 through this zone only once the delegation resolves.",
                servers.replace(',', ", ")
            ),
            _ => format!(
                "{display_name}: delegate {domain} at its parent domain's DNS provider to the \
                 name servers in output {key} (the service reported no outputs). The certificates \
                 of the next stacks validate only once the delegation resolves."
            ),
        })
        .collect()
}

/// CloudFormation's event for a certificate that waits for its DNS validation record
/// (`Content of DNS Record is: {Name: ...}`): the note to print, once per certificate.
pub fn validation_waiting_note(display_name: &str, event: &StackEvent) -> Option<String> {
    let waiting = event.resource_type == "AWS::CertificateManager::Certificate"
        && event.status == "CREATE_IN_PROGRESS"
        && event
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("Content of DNS Record"));
    waiting.then(|| {
        format!(
            "{display_name}: {} is waiting for DNS validation. It completes once the zone's \
             delegation resolves (the NS records of the domain at its parent); ACM gives up \
             after 72 hours.",
            event.logical_id
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn zone_template(delegated: bool) -> Value {
        let mut t = json!({
            "Resources": {
                "Zone": {"Type": "AWS::Route53::HostedZone", "Properties": {"Name": "dev.example.com."}}
            },
            "Outputs": {
                "ZoneNameServers1234": {"Value": {"Fn::Join": [",", {"Fn::GetAtt": ["Zone", "NameServers"]}]}}
            }
        });
        if delegated {
            t["Resources"]["Delegation"] = json!({
                "Type": "AWS::Route53::RecordSet",
                "Properties": {"Type": "NS", "Name": "dev.example.com.", "HostedZoneId": "Z1",
                    "ResourceRecords": {"Fn::GetAtt": ["Zone", "NameServers"]}}
            });
        }
        t
    }

    #[test]
    fn a_zone_delegated_by_its_own_stack_needs_no_note_and_another_prints_its_name_servers() {
        let outputs: IndexMap<String, String> = [(
            "ZoneNameServers1234".to_owned(),
            "ns-1.awsdns-00.com,ns-2.awsdns-01.net".to_owned(),
        )]
        .into_iter()
        .collect();
        assert!(name_server_notes("dev/Data", &zone_template(true), &outputs).is_empty());
        let notes = name_server_notes("dev/Data", &zone_template(false), &outputs);
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].contains("delegate dev.example.com now"),
            "{}",
            notes[0]
        );
        assert!(
            notes[0].contains("ns-1.awsdns-00.com, ns-2.awsdns-01.net"),
            "{}",
            notes[0]
        );
        // Without outputs (an emulator), the note names the output to read.
        let notes = name_server_notes("dev/Data", &zone_template(false), &IndexMap::new());
        assert!(
            notes[0].contains("output ZoneNameServers1234"),
            "{}",
            notes[0]
        );
    }

    #[test]
    fn a_certificate_waiting_for_its_record_says_so_once() {
        let event = |reason: Option<&str>| StackEvent {
            id: "1".into(),
            stack_name: "s".into(),
            logical_id: "Certificate4E7ABB08".into(),
            physical_id: None,
            resource_type: "AWS::CertificateManager::Certificate".into(),
            status: "CREATE_IN_PROGRESS".into(),
            reason: reason.map(str::to_owned),
            timestamp: String::new(),
        };
        assert!(validation_waiting_note("dev/Global", &event(None)).is_none());
        let note = validation_waiting_note(
            "dev/Global",
            &event(Some("Content of DNS Record is: {Name: _x.dev.example.com.,Type: CNAME,Value: _y.acm-validations.aws.}")),
        );
        assert!(note.is_some_and(|n| n.contains("waiting for DNS validation")));
    }
}
