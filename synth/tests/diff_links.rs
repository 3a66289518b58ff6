//! What a change does to other stacks (exports in use, seen from both sides), and the
//! replacements the schemas do not record (`REPLACE_OVERRIDES`).

mod support;

use pantri_synth::assembly::CrossRegionLink;
use pantri_synth::diff::links::{
    self, cross_stack_uses, ExportFate, LinkStack, LinkTemplate, ValueChange, Via,
};
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
            template: LinkTemplate::Parsed(&d),
            cross_region: &[],
        },
        LinkStack {
            name: "prod/Service",
            id: "prod-Service",
            stack_name: "pantri-prod-service",
            template: LinkTemplate::Parsed(&s),
            cross_region: &[],
        },
        LinkStack {
            name: "prod/Global",
            id: "prod-Global",
            stack_name: "pantri-prod-global",
            template: LinkTemplate::Parsed(&global),
            cross_region: &[],
        },
        LinkStack {
            name: "prod/Edge",
            id: "prod-Edge",
            stack_name: "pantri-prod-edge",
            template: LinkTemplate::Parsed(&edge),
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

fn global(domain: &str, output: bool) -> Value {
    let mut t = tpl(
        json!({"Certificate": res("AWS::CertificateManager::Certificate",
        json!({"DomainName": domain, "ValidationMethod": "DNS"}))}),
    );
    if output {
        t["Outputs"] = json!({"CertificateArn": {"Value": {"Ref": "Certificate"}}});
    }
    t
}

fn edge() -> Value {
    let mut t = tpl(json!({"Distribution": res("AWS::CloudFront::Distribution",
        json!({"DistributionConfig": {"ViewerCertificate": {"AcmCertificateArn": {"Ref": "CertArn"}}}}))}));
    t["Parameters"] = json!({"CertArn": {"Type": "String"}});
    t
}

#[test]
fn a_cross_region_parameter_in_use_is_flagged_on_both_sides() {
    let links = [CrossRegionLink {
        parameter: "CertArn".into(),
        producer: "prod-Global".into(),
        output: "CertificateArn".into(),
    }];
    let (old_global, old_edge) = (global("example.com", true), edge());
    // The old side, as the baseline's manifest describes it.
    let link_stacks = [
        LinkStack {
            name: "prod/Global",
            id: "prod-Global",
            stack_name: "pantri-prod-global",
            template: LinkTemplate::Parsed(&old_global),
            cross_region: &[],
        },
        LinkStack {
            name: "prod/Edge",
            id: "prod-Edge",
            stack_name: "pantri-prod-edge",
            template: LinkTemplate::Parsed(&old_edge),
            cross_region: &links,
        },
    ];
    // (case, new Global, the producer's reason (None: nothing flagged))
    let cases: Vec<(&str, Option<Value>, Option<&str>)> = vec![
        (
            "the certificate is replaced",
            Some(global("www.example.com", true)),
            Some("resource Certificate is replaced while prod/Edge reads it through parameter CertArn, which pantri deploy fills from it: prod/Edge keeps using the old value"),
        ),
        (
            "the output is removed",
            Some(global("example.com", false)),
            Some("output CertificateArn is removed while prod/Edge reads it through parameter CertArn, which pantri deploy fills from it: deploying prod/Edge fails"),
        ),
        ("the stack is deleted", None, Some("the stack is deleted while prod/Edge")),
        ("nothing changes", Some(global("example.com", true)), None),
    ];
    for (case, new_global, want) in cases {
        let inputs = [
            stack("prod/Global", Some(&old_global), new_global.as_ref()),
            stack("prod/Edge", Some(&old_edge), Some(&old_edge)),
        ];
        let d = diff::diff_stacks_linked(&inputs, &link_stacks, &SchemaSpecs);
        let (producer, consumer) = (&d.stacks[0], &d.stacks[1]);
        let Some(want) = want else {
            assert!(
                producer.cross_stack.is_empty() && consumer.cross_stack.is_empty(),
                "case {case}: {:?}",
                producer.cross_stack
            );
            continue;
        };
        let p = producer
            .cross_stack
            .first()
            .unwrap_or_else(|| panic!("case {case}: nothing flagged"));
        assert_eq!(
            (p.role, p.value.as_str(), p.other_stack.as_str()),
            (
                CrossStackRole::Producer,
                "output CertificateArn (parameter CertArn)",
                "prod/Edge"
            ),
            "case {case}"
        );
        assert!(p.reason.starts_with(want), "case {case}: {}", p.reason);
        let c = consumer
            .cross_stack
            .first()
            .unwrap_or_else(|| panic!("case {case}: consumer side"));
        assert_eq!(
            (c.role, c.other_stack.as_str()),
            (CrossStackRole::Consumer, "prod/Global"),
            "case {case}"
        );
        assert!(
            !consumer.is_empty(),
            "case {case}: the consumer shows as changed"
        );
        // Without the links (diff_stacks reads exports only), a parameter is invisible.
        let plain = diff::diff_stacks(&inputs, &SchemaSpecs);
        assert!(plain.stacks[1].cross_stack.is_empty(), "case {case}");
    }
    // A consumer outside the compared stacks is still named on the producer's side.
    let new_global = global("www.example.com", true);
    let inputs = [stack("prod/Global", Some(&old_global), Some(&new_global))];
    let d = diff::diff_stacks_linked(&inputs, &link_stacks, &SchemaSpecs);
    assert_eq!(
        d.stacks[0].cross_stack.len(),
        1,
        "{:?}",
        d.stacks[0].cross_stack
    );
    assert_eq!(d.stacks[0].cross_stack[0].other_stack, "prod/Edge");
}

#[test]
fn export_changes_by_name_as_cloudformation_reads_values() {
    let producer = |outputs: Value| {
        let mut t = tpl(json!({
            "Bucket": res("AWS::S3::Bucket", json!({"BucketName": "b1"})),
            "Queue": res("AWS::SQS::Queue", json!({"DelaySeconds": 5}))
        }));
        t["Outputs"] = outputs;
        t
    };
    let old = producer(json!({
        "BucketArn": {"Value": {"Fn::GetAtt": ["Bucket", "Arn"]}, "Export": {"Name": "p:BucketArn"}},
        "Port": {"Value": "512", "Export": {"Name": {"Fn::Sub": "${AWS::StackName}:Port"}}}
    }));
    let fates = |new: Option<&Value>| -> Vec<(String, String, ExportFate)> {
        let d = diff::diff_stack(&stack("prod/P", Some(&old), new), &SchemaSpecs);
        links::export_changes(&old, new, "pantri-prod-p", &d)
            .into_iter()
            .map(|c| (c.export.output.to_owned(), c.export.name, c.fate))
            .collect()
    };
    assert_eq!(fates(Some(&old)), vec![], "same template");
    // Equal as CloudFormation reads values, moved to another output key, a description added.
    let rewritten = producer(json!({
        "Arn": {"Value": {"Fn::GetAtt": "Bucket.Arn"}, "Description": "d", "Export": {"Name": "p:BucketArn"}},
        "Port": {"Value": 512, "Export": {"Name": "pantri-prod-p:Port"}}
    }));
    assert_eq!(fates(Some(&rewritten)), vec![], "rewritten forms");
    let mut replaced = old.clone();
    replaced["Resources"]["Bucket"]["Properties"]["BucketName"] = json!("b2");
    replaced["Outputs"]["Port"]["Value"] = json!("513");
    assert_eq!(
        fates(Some(&replaced)),
        vec![
            (
                "BucketArn".into(),
                "p:BucketArn".into(),
                ExportFate::Changes(ValueChange::Replaced("Bucket".into()))
            ),
            (
                "Port".into(),
                "pantri-prod-p:Port".into(),
                ExportFate::Changes(ValueChange::Expression)
            ),
        ]
    );
    let mut dropped = old.clone();
    dropped["Outputs"]
        .as_object_mut()
        .map(|o| o.remove("BucketArn"));
    assert_eq!(
        fates(Some(&dropped)),
        vec![(
            "BucketArn".into(),
            "p:BucketArn".into(),
            ExportFate::Dropped
        )]
    );
    assert_eq!(fates(None).len(), 2, "a deleted stack drops every export");
}

#[test]
fn imported_names_are_found_anywhere_in_a_template() {
    let t = json!({"Resources": {"A": {"Properties": {
        "X": [{"Fn::Join": ["", [{"Fn::ImportValue": "a"}]]}],
        "Y": {"Fn::ImportValue": "b"},
        "Z": {"Fn::ImportValue": {"Fn::Sub": "${AWS::StackName}-c"}}}}}});
    assert_eq!(
        links::imported_names(&t, "s")
            .into_iter()
            .collect::<Vec<_>>(),
        ["a", "b", "s-c"]
    );
}

/// The exported bucket of Data is replaced while Service imports it, and the certificate of
/// Global is replaced while Edge (another region) reads it through a parameter.
fn cross_stack_diff() -> diff::AssemblyDiff {
    let (old_data, new_data) = (data("b1", true), data("b2", true));
    let old_service = service(true);
    let (old_global, new_global) = (global("example.com", true), global("www.example.com", true));
    let old_edge = edge();
    let links = [CrossRegionLink {
        parameter: "CertArn".into(),
        producer: "prod-Global".into(),
        output: "CertificateArn".into(),
    }];
    let deployed = [
        LinkStack {
            name: "prod/Data",
            id: "prod-Data",
            stack_name: "pantri-prod-data",
            template: LinkTemplate::Parsed(&old_data),
            cross_region: &[],
        },
        LinkStack {
            name: "prod/Service",
            id: "prod-Service",
            stack_name: "pantri-prod-service",
            template: LinkTemplate::Parsed(&old_service),
            cross_region: &[],
        },
        LinkStack {
            name: "prod/Global",
            id: "prod-Global",
            stack_name: "pantri-prod-global",
            template: LinkTemplate::Parsed(&old_global),
            cross_region: &[],
        },
        LinkStack {
            name: "prod/Edge",
            id: "prod-Edge",
            stack_name: "pantri-prod-edge",
            template: LinkTemplate::Parsed(&old_edge),
            cross_region: &links,
        },
    ];
    let inputs = [
        stack("prod/Data", Some(&old_data), Some(&new_data)),
        stack("prod/Service", Some(&old_service), Some(&old_service)),
        stack("prod/Global", Some(&old_global), Some(&new_global)),
        stack("prod/Edge", Some(&old_edge), Some(&old_edge)),
    ];
    diff::diff_stacks_linked(&inputs, &deployed, &SchemaSpecs)
}

#[test]
fn golden_cross_stack_text() {
    let opts = diff::render::TextOptions {
        color: false,
        context: 3,
        security_only: false,
    };
    insta::assert_snapshot!(diff::render::text(&cross_stack_diff(), &opts));
}

#[test]
fn golden_cross_stack_markdown() {
    let opts = diff::render::TextOptions {
        color: false,
        context: 3,
        security_only: false,
    };
    insta::assert_snapshot!(diff::render::markdown(&cross_stack_diff(), &opts));
}

#[test]
fn golden_cross_stack_json() {
    insta::assert_json_snapshot!(diff::render::json(&cross_stack_diff()));
}
