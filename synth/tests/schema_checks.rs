//! Resources are checked against their registry schemas at synth, raw ones as much as typed
//! ones: unknown types and properties (with the closest name), missing required properties,
//! constraint violations, unknown `GetAtt` attributes, each an error with the construct path;
//! tags reach raw resources whose schema says they take tags; one duplicate construct id is one
//! error.

use pantri_synth::cfn::logs::CfnLogGroup;
use pantri_synth::{
    synthesize, App, Environment, RawResource, Scope, Severity, StackProps, Str, SynthError,
    SynthOptions,
};
use serde_json::{json, Value as Json};

fn app_with(build: impl FnOnce(&mut Scope<'_>)) -> App {
    let mut app = App::new();
    let mut root = app.root();
    let mut stage = root.stage("dev", Environment::new("123456789012", "eu-west-1"));
    let mut stack = stage.stack("S", StackProps::default());
    build(&mut stack);
    app
}

fn errors(app: &App) -> Vec<String> {
    match synthesize(app, &SynthOptions::default()) {
        Err(SynthError::Invalid(problems)) => problems
            .into_iter()
            .filter(|p| p.severity == Severity::Error)
            .map(|p| format!("[{}] {}", p.path, p.message))
            .collect(),
        Err(e) => panic!("unexpected error kind: {e}"),
        Ok(_) => Vec::new(),
    }
}

fn template(app: &App) -> Json {
    let s = synthesize(app, &SynthOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let stacks = s.assembly.stacks().expect("stacks");
    stacks
        .into_iter()
        .find(|s| s.id == "dev-S")
        .expect("artifact dev-S")
        .template
}

fn stream() -> RawResource {
    RawResource::new("AWS::Kinesis::Stream").prop("ShardCount", 1)
}

#[test]
fn a_valid_raw_resource_of_a_type_without_a_struct_synthesizes() {
    // GIVEN a Kinesis stream (no typed struct) with valid properties and a GetAtt of its Arn
    let app = app_with(|s| {
        let st = s.raw_resource("Stream", stream().prop("RetentionPeriodHours", 48));
        let arn: Str = st.get_att("Arn");
        s.raw_resource(
            "Consumer",
            RawResource::new("AWS::Kinesis::StreamConsumer")
                .prop("ConsumerName", "c")
                .prop("StreamARN", arn),
        );
    });
    // THEN it synthesizes as written
    let t = template(&app);
    let resources = t["Resources"].as_object().expect("resources");
    assert_eq!(resources.len(), 2);
    let stream = resources
        .values()
        .find(|r| r["Type"] == "AWS::Kinesis::Stream")
        .expect("the stream");
    assert_eq!(
        stream["Properties"],
        json!({"ShardCount": 1, "RetentionPeriodHours": 48})
    );
}

#[test]
fn an_unknown_type_is_an_error_with_the_closest_type() {
    let app = app_with(|s| {
        s.raw_resource("Queue", RawResource::new("AWS::SQS::Queu"));
    });
    assert_eq!(
        errors(&app),
        [
            r#"[dev/S/Queue] unknown resource type "AWS::SQS::Queu": no CloudFormation registry schema has it; did you mean AWS::SQS::Queue?"#
        ]
    );
}

#[test]
fn custom_resources_are_not_checked() {
    let app = app_with(|s| {
        s.raw_resource(
            "Thing",
            RawResource::new("Custom::Thing").prop("Anything", "goes"),
        );
    });
    assert_eq!(errors(&app), Vec::<String>::new());
}

#[test]
fn unknown_and_misspelled_properties_are_errors_naming_the_closest_one() {
    let app = app_with(|s| {
        s.raw_resource(
            "Stream",
            stream()
                .prop("shardcount", 2)
                .prop("RetentionPeriodHour", 24)
                .prop("Colour", "blue")
                .prop(
                    "StreamModeDetails",
                    json!({"StreamMode": "ON_DEMAND", "Mode": "x"}),
                ),
        );
    });
    assert_eq!(
        errors(&app),
        [
            r#"[dev/S/Stream] AWS::Kinesis::Stream shardcount: unknown property; did you mean "ShardCount"?"#,
            r#"[dev/S/Stream] AWS::Kinesis::Stream RetentionPeriodHour: unknown property; did you mean "RetentionPeriodHours"?"#,
            "[dev/S/Stream] AWS::Kinesis::Stream Colour: unknown property; it has: DesiredShardLevelMetrics, MaxRecordSizeInKiB, Name, RecordDistributionStrategy, RetentionPeriodHours, ShardCount, StreamEncryption, StreamModeDetails, Tags, WarmThroughputMiBps",
            "[dev/S/Stream] AWS::Kinesis::Stream StreamModeDetails.Mode: unknown property; it has: StreamMode",
        ]
    );
}

#[test]
fn missing_required_properties_are_errors_at_every_level() {
    let app = app_with(|s| {
        s.raw_resource(
            "Consumer",
            RawResource::new("AWS::Kinesis::StreamConsumer").prop("ConsumerName", "c"),
        );
        s.raw_resource(
            "Stream",
            stream().prop("StreamEncryption", json!({"EncryptionType": "KMS"})),
        );
    });
    assert_eq!(
        errors(&app),
        [
            "[dev/S/Consumer] AWS::Kinesis::StreamConsumer StreamARN: required property is missing",
            "[dev/S/Stream] AWS::Kinesis::Stream StreamEncryption.KeyId: required property is missing",
        ]
    );
}

#[test]
fn constraint_violations_of_raw_resources_are_errors() {
    let app = app_with(|s| {
        s.raw_resource(
            "Stream",
            stream()
                .prop("ShardCount", 0)
                .prop("Name", "has spaces")
                .prop("StreamModeDetails", json!({"StreamMode": "FAST"}))
                .prop("DesiredShardLevelMetrics", json!(vec!["IncomingBytes"; 8])),
        );
    });
    let errors = errors(&app);
    let expected = [
        "[dev/S/Stream] AWS::Kinesis::Stream DesiredShardLevelMetrics: 8 items, more than the maximum 7",
        r#"[dev/S/Stream] AWS::Kinesis::Stream Name: "has spaces" does not match the pattern ^[a-zA-Z0-9_.-]+$"#,
        "[dev/S/Stream] AWS::Kinesis::Stream ShardCount: 0 is below the minimum 1",
        r#"[dev/S/Stream] AWS::Kinesis::Stream StreamModeDetails.StreamMode: "FAST" is not one of ON_DEMAND, PROVISIONED"#,
    ];
    assert_eq!(errors, expected);
}

#[test]
fn integer_enums_are_kept_a_log_retention_of_42_days_is_an_error() {
    // GIVEN a typed log group and a raw one, both with a retention the schema does not list
    let app = app_with(|s| {
        s.resource("Typed", CfnLogGroup::new().retention_in_days(42));
        s.raw_resource(
            "Raw",
            RawResource::new("AWS::Logs::LogGroup").prop("RetentionInDays", 30),
        );
        s.raw_resource(
            "RawBad",
            RawResource::new("AWS::Logs::LogGroup").prop("RetentionInDays", 42),
        );
    });
    // THEN both 42s are errors naming the allowed values, and 30 passes
    let errors = errors(&app);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    for (e, path) in errors.iter().zip(["dev/S/RawBad", "dev/S/Typed"]) {
        assert!(
            e.starts_with(&format!("[{path}] AWS::Logs::LogGroup RetentionInDays: 42 is not one of 1, 3, 5, 7, 14, 30, 60,")),
            "{errors:#?}"
        );
    }
}

#[test]
fn an_unknown_get_att_of_a_raw_resource_is_an_error_at_the_referring_path() {
    let app = app_with(|s| {
        let st = s.raw_resource("Stream", stream());
        let bad: Str = st.get_att("StreamArn");
        s.raw_resource(
            "Consumer",
            RawResource::new("AWS::Kinesis::StreamConsumer")
                .prop("ConsumerName", "c")
                .prop("StreamARN", bad),
        );
    });
    let errors = errors(&app);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].starts_with(r#"[dev/S/Consumer] Fn::GetAtt of unknown attribute "StreamArn" of dev/S/Stream (AWS::Kinesis::Stream); it has: Arn"#),
        "{errors:#?}"
    );
}

#[test]
fn tags_reach_raw_resources_whose_schema_takes_tags() {
    // GIVEN a tag on a construct above a taggable raw type (list form), a map-form one, and an
    // untaggable one
    let app = app_with(|s| {
        let mut c = s.child("Data");
        c.tag("team", "data");
        c.raw_resource("Stream", stream());
        c.raw_resource(
            "Param",
            RawResource::new("AWS::SSM::Parameter")
                .prop("Type", "String")
                .prop("Value", "v"),
        );
        c.raw_resource(
            "Membership",
            RawResource::new("AWS::IAM::UserToGroupAddition")
                .prop("GroupName", "g")
                .prop("Users", json!(["u"])),
        );
    });
    let t = template(&app);
    let by_type = |ty: &str| {
        t["Resources"]
            .as_object()
            .and_then(|m| m.values().find(|r| r["Type"] == ty))
            .cloned()
            .unwrap_or_else(|| panic!("no {ty}"))
    };
    // THEN the list-form type gets a Key/Value list, the map-form one a map
    assert_eq!(
        by_type("AWS::Kinesis::Stream")["Properties"]["Tags"],
        json!([{"Key": "team", "Value": "data"}])
    );
    assert_eq!(
        by_type("AWS::SSM::Parameter")["Properties"]["Tags"],
        json!({"team": "data"})
    );
    // AND the type whose schema takes no tags gets none
    assert_eq!(
        by_type("AWS::IAM::UserToGroupAddition")["Properties"].get("Tags"),
        None
    );
}

#[test]
fn one_duplicate_construct_id_is_one_error() {
    // GIVEN two constructs with the same id, each with resources below
    let app = app_with(|s| {
        for _ in 0..2 {
            let mut c = s.child("Data");
            c.raw_resource("Stream", stream());
            let mut inner = c.child("Logs");
            inner.resource("Group", CfnLogGroup::new());
        }
    });
    // THEN the only error is the duplicate id, not one per resource below it
    assert_eq!(
        errors(&app),
        [r#"[dev/S/Data] duplicate construct id "Data": siblings need distinct ids"#]
    );
}

#[test]
fn a_construct_that_rejected_its_props_is_not_repeated_by_the_schema_errors_below_it() {
    // GIVEN a construct that reports a bad prop and still builds its log group from it, and a
    // sibling construct with the same schema violation but no error of its own
    let app = app_with(|s| {
        let mut c = s.child("Logs");
        c.error("retention_days 42 is not a CloudWatch Logs retention");
        c.resource("Group", CfnLogGroup::new().retention_in_days(42));
        let mut other = s.child("Other");
        other.resource("Group", CfnLogGroup::new().retention_in_days(42));
    });
    // THEN the construct's error stands for its resources; the sibling's violation is reported
    let errors = errors(&app);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_eq!(
        errors[0],
        "[dev/S/Logs] retention_days 42 is not a CloudWatch Logs retention"
    );
    assert!(
        errors[1].starts_with("[dev/S/Other/Group] AWS::Logs::LogGroup RetentionInDays: 42"),
        "{errors:#?}"
    );
}
