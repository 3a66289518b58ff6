//! The DNS validation records ACM leaves in a hosted zone that destroy deletes.
//!
//! A certificate with DNS validation (`DomainValidationOptions` with a `HostedZoneId`) has
//! CloudFormation write a `_<token>.<domain>` CNAME pointing at `*.acm-validations.aws.` into the
//! zone; deleting the certificate's stack leaves that record behind, and Route 53 refuses to
//! delete a zone that holds records other than its SOA and NS. So destroy, before it deletes a
//! stack that deletes a zone, removes those validation records (and only those: any other
//! record is somebody's, and the deletion then names it).

use super::api::ApiResult;

/// The resource type of a hosted zone.
pub const HOSTED_ZONE: &str = "AWS::Route53::HostedZone";

/// A record of a zone, as far as destroy needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The record's name, as Route 53 writes it (with the final dot).
    pub name: String,
    /// `CNAME`, `NS`, ...
    pub kind: String,
    /// The values (for a CNAME, its one target).
    pub values: Vec<String>,
    /// The time to live (a deletion must name the record exactly, TTL included).
    pub ttl: Option<i64>,
}

impl Record {
    /// A record with one value and a TTL of 300 s (tests).
    #[cfg(test)]
    pub fn one(name: &str, kind: &str, value: &str) -> Record {
        Record {
            name: name.into(),
            kind: kind.into(),
            values: vec![value.into()],
            ttl: Some(300),
        }
    }

    /// Whether ACM wrote it to validate a certificate.
    pub fn is_acm_validation(&self) -> bool {
        self.kind == "CNAME"
            && self.name.starts_with('_')
            && !self.values.is_empty()
            && self.values.iter().all(|v| {
                v.trim_end_matches('.')
                    .to_ascii_lowercase()
                    .ends_with(".acm-validations.aws")
            })
    }
}

/// The Route 53 calls destroy makes. Implemented over the AWS SDK by the same per-region client
/// as the CloudFormation calls ([`super::sdk_names`]) and by the fake in tests.
#[allow(async_fn_in_trait)]
pub trait Zones {
    /// The ids of the zones named `name` (with or without the final dot).
    async fn zones_named(&self, name: &str) -> ApiResult<Vec<String>>;
    /// Every record of zone `zone_id`.
    async fn records(&self, zone_id: &str) -> ApiResult<Vec<Record>>;
    /// Deletes `records` from zone `zone_id`, in one change.
    async fn delete_records(&self, zone_id: &str, records: &[Record]) -> ApiResult<()>;
}

/// The zones a deletion of `template` deletes, as `(logical ID, zone name)`: every hosted zone
/// without a retaining `DeletionPolicy`.
pub fn deleted_zones(template: &serde_json::Value) -> Vec<(String, String)> {
    let Some(resources) = template["Resources"].as_object() else {
        return Vec::new();
    };
    resources
        .iter()
        .filter(|(_, r)| {
            r["Type"] == HOSTED_ZONE
                && !matches!(
                    r["DeletionPolicy"].as_str(),
                    Some("Retain" | "RetainExceptOnCreate" | "Snapshot")
                )
        })
        .map(|(id, r)| {
            let name = r["Properties"]["Name"].as_str().unwrap_or_default();
            (id.clone(), name.to_owned())
        })
        .collect()
}

/// Removes the ACM validation records of zone `zone_id`; returns their names.
pub async fn remove_validation_records<Z: Zones>(api: &Z, zone_id: &str) -> ApiResult<Vec<String>> {
    let validation: Vec<Record> = api
        .records(zone_id)
        .await?
        .into_iter()
        .filter(Record::is_acm_validation)
        .collect();
    if !validation.is_empty() {
        api.delete_records(zone_id, &validation).await?;
    }
    Ok(validation.into_iter().map(|r| r.name).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_acm_validation_cnames_are_validation_records() {
        assert!(Record::one(
            "_3f2a.dev.pantri.example.com.",
            "CNAME",
            "_9c1b.xlfgrmvvlj.acm-validations.aws."
        )
        .is_acm_validation());
        // Somebody's CNAME, an ACM-looking name with another target, and the zone's own records.
        assert!(!Record::one(
            "www.dev.pantri.example.com.",
            "CNAME",
            "_x.acm-validations.aws."
        )
        .is_acm_validation());
        assert!(!Record::one(
            "_dmarc.dev.pantri.example.com.",
            "CNAME",
            "mail.example.net."
        )
        .is_acm_validation());
        assert!(
            !Record::one("dev.pantri.example.com.", "NS", "ns-1.awsdns-00.com.")
                .is_acm_validation()
        );
        assert!(!Record {
            name: "_a.dev.pantri.example.com.".into(),
            kind: "CNAME".into(),
            values: vec![],
            ttl: None,
        }
        .is_acm_validation());
    }

    #[test]
    fn retained_zones_are_not_deleted_zones() {
        let t = json!({"Resources": {
            "Zone": {"Type": HOSTED_ZONE, "DeletionPolicy": "Delete", "Properties": {"Name": "dev.example.com."}},
            "Kept": {"Type": HOSTED_ZONE, "DeletionPolicy": "RetainExceptOnCreate", "Properties": {"Name": "example.com."}},
            "Bare": {"Type": HOSTED_ZONE, "Properties": {"Name": "other.example.com"}},
            "Record": {"Type": "AWS::Route53::RecordSet"}
        }});
        assert_eq!(
            deleted_zones(&t),
            vec![
                ("Zone".to_owned(), "dev.example.com.".to_owned()),
                ("Bare".to_owned(), "other.example.com".to_owned()),
            ]
        );
    }
}
