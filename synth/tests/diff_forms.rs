//! Equal as CloudFormation sees it: scalar forms and key order are no difference; a list that
//! grows or shrinks shows the items added and removed. A property test rewrites the committed
//! templates of the reference app and expects no difference at all.

mod support;

use pantri_synth::diff::{self, SchemaSpecs, StackDiff};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use support::{input, res, tpl};

fn run(old: &Value, new: &Value) -> StackDiff {
    diff::diff_stack(&input(old, new), &SchemaSpecs)
}

#[test]
fn equivalent_scalar_forms_are_no_change() {
    let task = |cpu: Value, essential: Value| {
        tpl(
            json!({"Task": res("AWS::ECS::TaskDefinition", json!({"Cpu": cpu, "Memory": "2048",
            "ContainerDefinitions": [{"Name": "web", "Image": "x", "Essential": essential}]}))}),
        )
    };
    let cases: Vec<(&str, Value, Value)> = vec![
        (
            "\"512\" and 512 (create-only Cpu)",
            task(json!("512"), json!(true)),
            task(json!(512), json!(true)),
        ),
        (
            "true and \"true\"",
            task(json!(512), json!(true)),
            task(json!(512), json!("true")),
        ),
        (
            "90.0 and 90",
            tpl(json!({"L": res("AWS::Logs::LogGroup", json!({"RetentionInDays": 90.0}))})),
            tpl(json!({"L": res("AWS::Logs::LogGroup", json!({"RetentionInDays": 90}))})),
        ),
        (
            "ports as strings in a security group",
            tpl(
                json!({"G": res("AWS::EC2::SecurityGroup", json!({"GroupDescription": "g",
                "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/8"}]}))}),
            ),
            tpl(
                json!({"G": res("AWS::EC2::SecurityGroup", json!({"GroupDescription": "g",
                "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": "443", "ToPort": 443.0, "CidrIp": "10.0.0.0/8"}]}))}),
            ),
        ),
        (
            "parameter default and output value",
            json!({"Parameters": {"Size": {"Type": "Number", "Default": 2}}, "Outputs": {"O": {"Value": true}}, "Resources": {}}),
            json!({"Parameters": {"Size": {"Type": "Number", "Default": "2"}}, "Outputs": {"O": {"Value": "true"}}, "Resources": {}}),
        ),
        (
            "a numeric condition value",
            tpl(
                json!({"P": res("AWS::S3::BucketPolicy", json!({"Bucket": "b", "PolicyDocument": {"Statement": [
                {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Principal": "*",
                 "Condition": {"NumericLessThan": {"s3:TlsVersion": 1.2}, "Bool": {"aws:SecureTransport": false}}}]}}))}),
            ),
            tpl(
                json!({"P": res("AWS::S3::BucketPolicy", json!({"Bucket": "b", "PolicyDocument": {"Statement": [
                {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Principal": {"AWS": "*"},
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}, "NumericLessThan": {"s3:TlsVersion": "1.2"}}}]}}))}),
            ),
        ),
    ];
    for (name, a, b) in cases {
        let d = run(&a, &b);
        assert!(d.is_empty(), "case {name}: {:?}", d.resources);
        assert!(
            d.resources.is_empty() && d.iam.is_empty() && d.security_groups.is_empty(),
            "case {name}"
        );
        assert!(!d.has_security_broadening(), "case {name}");
    }
    // A real change of the same value is still one.
    let d = run(
        &task(json!("512"), json!(true)),
        &task(json!(1024), json!(true)),
    );
    assert_eq!(d.resources[0].properties[0].path, "Cpu");
}

/// (case, old, new, the property leaves as (path, `+`/`-`/`~`, impact)).
type ListCase = (
    &'static str,
    Value,
    Value,
    Vec<(&'static str, &'static str, &'static str)>,
);

#[test]
fn a_list_that_grows_or_shrinks_shows_the_items() {
    let tags = |items: Value| tpl(json!({"T": res("AWS::SNS::Topic", json!({"Tags": items}))}));
    let tag = |k: &str| json!({"Key": k, "Value": "v"});
    let env = |items: Value| {
        tpl(
            json!({"Task": res("AWS::ECS::TaskDefinition", json!({"ContainerDefinitions": [
            {"Name": "web", "Image": "x", "Environment": items}]}))}),
        )
    };
    let var = |n: &str| json!({"Name": n, "Value": "1"});
    // (case, old, new, [(path, "+"/"-", impact)])
    let cases: Vec<ListCase> = vec![
        (
            "a tag appended",
            tags(json!([tag("a"), tag("b")])),
            tags(json!([tag("a"), tag("b"), tag("c")])),
            vec![("Tags[2]", "+", "Update")],
        ),
        (
            "a tag removed from the middle",
            tags(json!([tag("a"), tag("b"), tag("c")])),
            tags(json!([tag("a"), tag("c")])),
            vec![("Tags[1]", "-", "Update")],
        ),
        (
            "a variable inserted first in a create-only list",
            env(json!([var("A"), var("B")])),
            env(json!([var("Z"), var("A"), var("B")])),
            vec![("ContainerDefinitions[0].Environment[0]", "+", "Replace")],
        ),
        (
            "one replaced and one added",
            tags(json!([tag("a"), tag("b")])),
            tags(json!([
                tag("a"),
                json!({"Key": "b", "Value": "w"}),
                tag("c")
            ])),
            vec![("Tags[1].Value", "~", "Update"), ("Tags[2]", "+", "Update")],
        ),
    ];
    for (name, a, b, want) in cases {
        let d = run(&a, &b);
        let got: Vec<(String, &str, String)> = d
            .resources
            .iter()
            .flat_map(|r| &r.properties)
            .map(|p| {
                let sign = match (&p.old, &p.new) {
                    (None, _) => "+",
                    (_, None) => "-",
                    _ => "~",
                };
                (p.path.clone(), sign, format!("{:?}", p.impact))
            })
            .collect();
        let want: Vec<(String, &str, String)> = want
            .into_iter()
            .map(|(p, s, i)| (p.to_string(), s, i.to_string()))
            .collect();
        assert_eq!(got, want, "case {name}");
    }
}

/// A tiny deterministic generator, so a failing case is reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn pick(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The same template as CloudFormation sees it, written differently: every object's keys in a
/// shuffled order, numbers as strings or floats, booleans as strings, whole-number strings as
/// numbers.
fn rewrite(v: &Value, rng: &mut Rng) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            for i in (1..entries.len()).rev() {
                let j = rng.pick(i as u64 + 1) as usize;
                entries.swap(i, j);
            }
            let out: Map<String, Value> = entries
                .into_iter()
                .map(|(k, x)| (k.clone(), rewrite(x, rng)))
                .collect();
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| rewrite(x, rng)).collect()),
        Value::Number(n) => match (rng.pick(3), n.as_i64()) {
            (0, Some(i)) => Value::String(i.to_string()),
            (1, Some(i)) => json!(i as f64),
            _ => v.clone(),
        },
        Value::Bool(b) if rng.pick(2) == 0 => Value::String(b.to_string()),
        Value::String(s) if rng.pick(2) == 0 && is_whole_number(s) => s
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| v.clone()),
        _ => v.clone(),
    }
}

fn is_whole_number(s: &str) -> bool {
    !s.is_empty()
        && s.len() < 15
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'))
}

/// The committed templates of the reference app.
fn reference_templates() -> Vec<(String, Value)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../cdk.out");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .expect("the committed cdk.out")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".template.json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("template");
            (
                p.display().to_string(),
                serde_json::from_str(&text).expect("template JSON"),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn a_template_rewritten_in_equivalent_forms_has_no_difference(seed in any::<u64>()) {
        let mut rewritten_any = false;
        for (name, template) in reference_templates() {
            let rewritten = rewrite(&template, &mut Rng(seed));
            // serde_json's map equality ignores key order: this is true only for scalar rewrites.
            rewritten_any |= rewritten != template;
            let d = run(&template, &rewritten);
            prop_assert!(d.is_empty(), "{name} (seed {seed}): {:?}", d.resources.iter().map(|r| &r.properties).collect::<Vec<_>>());
            prop_assert!(d.resources.is_empty(), "{name} (seed {seed}): {:?}", d.resources);
            prop_assert!(d.iam.is_empty() && d.security_groups.is_empty() && d.access.is_empty(),
                "{name} (seed {seed}): {:?} {:?} {:?}", d.iam, d.security_groups, d.access);
        }
        prop_assert!(rewritten_any, "the rewrite changed no scalar (seed {seed})");
    }
}
