//! What a change does to other stacks (exports in use, seen from both sides), and the
//! replacements the schemas do not record (`REPLACE_OVERRIDES`).

mod support;

use pantri_synth::assembly::CrossRegionLink;
use pantri_synth::diff::links::{cross_stack_uses, LinkStack, Via};
use pantri_synth::diff::{self, CrossStackRole, Impact, SchemaSpecs, StackInput, StackSettings};
use serde_json::{json, Value};
use support::{input, res, tpl};

fn data(bucket_name: &str, export: bool) -> Value {
    let mut t = json!({"Resources": {"Bucket": res("AWS::S3::Bucket", json!({"BucketName": bucket_name}))}});
    if export {
        t["Outputs"] = json!({"BucketArn": {"Value": {"Fn::GetAtt": ["Bucket", "Arn"]},
            "Export": {"Name": "pantri-prod-data:BucketArn"}}});
    }
    t
}

fn service(imports: bool) -> Value {
    let arn = if imports {
        json!({"Fn::ImportValue": "pantri-prod-data:BucketArn"})
    } else {
        json!("arn:aws:s3:::fixed")
    };
    tpl(json!({"Topic": res("AWS::SNS::Topic", json!({"DisplayName": arn}))}))
}

fn stack<'a>(name: &'a str, old: Option<&'a Value>, new: Option<&'a Value>) -> StackInput<'a> {
    StackInput {
        name,
        old,
        new,
        old_stack: StackSettings::default(),
        new_stack: StackSettings::default(),
    }
}

#[test]
fn an_export_in_use_is_flagged_on_both_sides() {
    let (old_data, old_service) = (data("b1", true), service(true));
    // (case, new Data, new Service, the producer's reason (None: nothing flagged))
    let cases: Vec<(&str, Option<Value>, Value, Option<&str>)> = vec![
        (
            "the exported bucket is replaced",
            Some(data("b2", true)),
            service(true),
            Some("Bucket is replaced while prod/Service imports it"),
        ),
        (
            "the export is removed",
            Some(data("b1", false)),
            service(true),
            Some("output BucketArn is removed"),
        ),
        (
            "removed together with the import: the deployed importer still holds it",
            Some(data("b1", false)),
            service(false),
            Some("output BucketArn is removed"),
        ),
        (
            "the producing stack is deleted",
            None,
            service(true),
            Some("the stack is deleted"),
        ),
        (
            "an update in place keeps the value",
            Some({
                let mut d = data("b1", true);
                d["Resources"]["Bucket"]["Properties"]["Tags"] =
                    json!([{"Key": "a", "Value": "b"}]);
                d
            }),
            service(true),
            None,
        ),
    ];
    for (name, new_data, new_service, want) in cases {
        let inputs = [
            stack("prod/Data", Some(&old_data), new_data.as_ref()),
            stack("prod/Service", Some(&old_service), Some(&new_service)),
        ];
        let d = diff::diff_stacks(&inputs, &SchemaSpecs);
        let (producer, consumer) = (&d.stacks[0], &d.stacks[1]);
        match want {
            Some(w) => {
                let p = producer
                    .cross_stack
                    .first()
                    .unwrap_or_else(|| panic!("case {name}: nothing flagged"));
                assert_eq!(p.role, CrossStackRole::Producer, "case {name}");
                assert_eq!(p.value, "export pantri-prod-data:BucketArn", "case {name}");
                assert_eq!(p.other_stack, "prod/Service", "case {name}");
                assert!(p.reason.contains(w), "case {name}: {}", p.reason);
                assert!(
                    p.reason.contains("CloudFormation fails this update"),
                    "case {name}"
                );
                let c = consumer
                    .cross_stack
                    .first()
                    .unwrap_or_else(|| panic!("case {name}: consumer side"));
                assert_eq!(
                    (c.role, c.other_stack.as_str()),
                    (CrossStackRole::Consumer, "prod/Data"),
                    "case {name}"
                );
                assert!(
                    !consumer.is_empty(),
                    "case {name}: the importer shows as changed"
                );
            }
            None => {
                assert!(
                    producer.cross_stack.is_empty() && consumer.cross_stack.is_empty(),
                    "case {name}: {:?}",
                    producer.cross_stack
                );
            }
        }
    }
}

#[test]
fn cross_stack_uses_read_imports_and_cross_region_parameters() {
    let (d, s) = (data("b1", true), service(true));
    let edge = tpl(json!({}));
    let links = [CrossRegionLink {
        parameter: "CertArn".into(),
        producer: "prod-Global".into(),
        output: "CertificateArn".into(),
    }];
    let global = tpl(json!({}));
    let stacks = [
        LinkStack {
            name: "prod/Data",
            id: "prod-Data",
            stack_name: "pantri-prod-data",
            template: &d,
            cross_region: &[],
        },
        LinkStack {
            name: "prod/Service",
            id: "prod-Service",
            stack_name: "pantri-prod-service",
            template: &s,
            cross_region: &[],
        },
        LinkStack {
            name: "prod/Global",
            id: "prod-Global",
            stack_name: "pantri-prod-global",
            template: &global,
            cross_region: &[],
        },
        LinkStack {
            name: "prod/Edge",
            id: "prod-Edge",
            stack_name: "pantri-prod-edge",
            template: &edge,
            cross_region: &links,
        },
    ];
    let uses: Vec<(String, String, String, Via)> = cross_stack_uses(&stacks)
        .into_iter()
        .map(|u| (u.producer, u.output, u.consumer, u.via))
        .collect();
    assert_eq!(
        uses,
        vec![
            (
                "prod/Data".into(),
                "BucketArn".into(),
                "prod/Service".into(),
                Via::Import("pantri-prod-data:BucketArn".into())
            ),
            (
                "prod/Global".into(),
                "CertificateArn".into(),
                "prod/Edge".into(),
                Via::Parameter("CertArn".into())
            ),
        ]
    );
}

#[test]
fn a_record_set_renamed_is_replaced() {
    let record = |name: &str, ty: &str, ttl: &str| {
        tpl(
            json!({"R": res("AWS::Route53::RecordSet", json!({"HostedZoneId": "Z1", "Name": name, "Type": ty, "TTL": ttl, "ResourceRecords": ["1.2.3.4"]}))}),
        )
    };
    let base = record("a.example.com", "A", "300");
    let cases = [
        ("Name", record("b.example.com", "A", "300"), Impact::Replace),
        (
            "Type",
            record("a.example.com", "AAAA", "300"),
            Impact::Update,
        ),
        ("TTL", record("a.example.com", "A", "60"), Impact::Update),
    ];
    for (prop, new, want) in cases {
        let d = diff::diff_stack(&input(&base, &new), &SchemaSpecs);
        let p = &d.resources[0].properties[0];
        assert_eq!((p.path.as_str(), p.impact), (prop, want), "{prop}");
    }
}
