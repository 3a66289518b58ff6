//! Exports in use, through the scripted fake with ListExports/ListImports shapes.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use pantri_synth::assembly::{StackArtifact, StackProperties};
use pantri_synth::Environment;
use serde_json::{json, Value};

use super::*;
use crate::deploy::fake::Fake;

const EXPORT: &str = "dev-Network:ExportsOutputRefVpc8378EB38";

fn artifact(id: &str, template: Value) -> StackArtifact {
    StackArtifact {
        id: format!("dev-{id}"),
        display_name: format!("dev/{id}"),
        stage: "dev".into(),
        env: Environment::new("123456789012", "us-east-1"),
        properties: StackProperties {
            template_file: format!("dev-{id}.template.json"),
            stack_name: format!("dev-{id}"),
            termination_protection: false,
            tags: BTreeMap::new(),
        },
        template_size: 0,
        template,
        dependencies: Vec::new(),
        cross_region: Vec::new(),
        env_parameters: Vec::new(),
        logical_ids: IndexMap::new(),
    }
}

fn network(export: bool, cidr: &str) -> Value {
    let mut t = json!({"Resources": {"Vpc8378EB38": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": cidr}}}});
    if export {
        t["Outputs"] = json!({"ExportsOutputRefVpc8378EB38": {"Value": {"Ref": "Vpc8378EB38"}, "Export": {"Name": EXPORT}}});
    }
    t
}

fn service(imports: bool) -> Value {
    let vpc = if imports {
        json!({"Fn::ImportValue": EXPORT})
    } else {
        json!("vpc-literal")
    };
    json!({"Resources": {"Group": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "g", "VpcId": vpc}}}})
}

/// `dev-Network` deployed with the export, ListExports listing it with its value.
fn deployed(imports: Result<Vec<String>, ApiError>) -> Fake {
    let fake = Fake::default().with_stack(
        "dev-Network",
        "UPDATE_COMPLETE",
        &network(true, "10.0.0.0/16").to_string(),
    );
    let fake = fake.with_stack("dev-Service", "UPDATE_COMPLETE", &service(true).to_string());
    {
        let mut s = fake.state();
        s.exports.push(Export {
            name: EXPORT.into(),
            value: "vpc-0a1b2c3d".into(),
            exporting_stack_id: "arn:aws:cloudformation:us-east-1:123456789012:stack/dev-Network/1"
                .into(),
        });
        s.imports.insert(EXPORT.into(), imports);
    }
    fake
}

fn clients(fake: &Fake) -> BTreeMap<String, Fake> {
    [("us-east-1".to_owned(), fake.clone())].into()
}

#[tokio::test]
async fn a_dropped_export_still_imported_is_kept_for_one_more_deploy_with_its_deployed_value() {
    // GIVEN dev-Service imports the export and the new Network template drops it
    let fake = deployed(Ok(vec!["dev-Service".into()]));
    let mut assembly = vec![
        artifact("Network", network(false, "10.0.0.0/16")),
        artifact("Service", service(false)),
    ];
    let selected: Vec<&StackArtifact> = assembly.iter().collect();
    // WHEN the deploy is planned
    let plan = plan(&clients(&fake), &assembly, &selected[..1])
        .await
        .unwrap();
    // THEN the export is kept with the deployed value, and the preview says so
    assert_eq!(plan.kept.len(), 1, "{plan:?}");
    let k = &plan.kept[0];
    assert_eq!(
        (k.name.as_str(), k.value.as_str()),
        (EXPORT, "vpc-0a1b2c3d")
    );
    assert_eq!(k.importers, ["dev-Service"]);
    assert!(k.note().starts_with("dev/Network: keeping export dev-Network:ExportsOutputRefVpc8378EB38 (imported by dev-Service) for one more deploy"));
    plan.apply(&mut assembly);
    assert_eq!(
        assembly[0].template["Outputs"]["ExportsOutputRefVpc8378EB38"]["Value"],
        json!("vpc-0a1b2c3d")
    );
    assert_eq!(
        assembly[0].template["Outputs"]["ExportsOutputRefVpc8378EB38"]["Export"]["Name"],
        json!(EXPORT)
    );
    assert!(fake
        .calls()
        .iter()
        .any(|c| c == &format!("ListImports {EXPORT}")));
}

#[tokio::test]
async fn a_dropped_export_nothing_imports_is_dropped() {
    let fake = deployed(Ok(Vec::new()));
    let assembly = vec![artifact("Network", network(false, "10.0.0.0/16"))];
    let selected: Vec<&StackArtifact> = assembly.iter().collect();
    let plan = plan(&clients(&fake), &assembly, &selected).await.unwrap();
    assert!(plan.kept.is_empty(), "{plan:?}");
}

#[tokio::test]
async fn an_export_whose_resource_is_replaced_while_imported_is_refused_with_the_order_that_works()
{
    // GIVEN the VPC's CidrBlock (create-only) changes: the VPC and so the export's value change
    let fake = deployed(Ok(vec!["dev-Service".into()]));
    let assembly = vec![artifact("Network", network(true, "10.1.0.0/16"))];
    let selected: Vec<&StackArtifact> = assembly.iter().collect();
    let e = plan(&clients(&fake), &assembly, &selected)
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("export dev-Network:ExportsOutputRefVpc8378EB38 changes value (resource Vpc8378EB38 is replaced) while dev-Service import(s) it"), "{text}");
    assert!(
        text.contains("Deploy in this order: 1) dev-Service without the Fn::ImportValue"),
        "{text}"
    );
    assert_eq!(crate::exit::Exit::from(&e), crate::exit::Exit::Failed);
}

#[tokio::test]
async fn an_unchanged_export_asks_nobody() {
    let fake = deployed(Ok(vec!["dev-Service".into()]));
    let assembly = vec![artifact("Network", network(true, "10.0.0.0/16"))];
    let selected: Vec<&StackArtifact> = assembly.iter().collect();
    let plan = plan(&clients(&fake), &assembly, &selected).await.unwrap();
    assert!(plan.kept.is_empty());
    assert!(!fake.calls().iter().any(|c| c.starts_with("ListImports")));
}

#[tokio::test]
async fn without_list_imports_the_deployed_templates_of_the_assembly_tell_the_importers() {
    // GIVEN an endpoint without ListImports (moto)
    let fake = deployed(Err(ApiError::Unsupported("ListImports".into())));
    let assembly = vec![
        artifact("Network", network(false, "10.0.0.0/16")),
        artifact("Service", service(false)),
    ];
    let selected: Vec<&StackArtifact> = assembly.iter().collect();
    let plan = plan(&clients(&fake), &assembly, &selected[..1])
        .await
        .unwrap();
    // THEN dev-Service's deployed template (which still imports) makes the export kept
    assert_eq!(plan.kept.len(), 1);
    assert_eq!(plan.kept[0].importers, ["dev-Service"]);
    assert_eq!(plan.warnings.len(), 1);
    assert!(plan.warnings[0].contains("this endpoint has no ListImports"));
}
