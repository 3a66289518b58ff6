//! The generated code is committed; these tests regenerate it in memory and compare, and pin
//! the shape the generator gives a small schema.

use serde_json::json;

#[test]
fn committed_generated_code_is_fresh() {
    let root = pantri_codegen::workspace_root();
    let files = pantri_codegen::generate(&root).expect("generation succeeds");
    let stale = pantri_codegen::stale_files(&root, &files).expect("generated files are readable");
    assert!(
        stale.is_empty(),
        "stale generated files, run `cargo run -p pantri-codegen`: {stale:?}"
    );
}

fn small_schema() -> serde_json::Value {
    json!({
        "typeName": "AWS::Demo::Widget",
        "description": "A widget.\n\nLong second paragraph that is dropped.",
        "definitions": {
            "Rule": {
                "type": "object",
                "description": "A rule.",
                "properties": {
                    "Status": {"type": "string", "enum": ["Enabled", "Disabled"]},
                    "Next": {"$ref": "#/definitions/Rule"},
                    "Children": {"type": "array", "items": {"$ref": "#/definitions/Rule"}}
                },
                "required": ["Status"],
                "additionalProperties": false
            },
            "Tag": {
                "type": "object",
                "properties": {"Key": {"type": "string"}, "Value": {"type": "string"}},
                "required": ["Key", "Value"]
            }
        },
        "properties": {
            "Arn": {"type": "string"},
            "Name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 10},
            "Type": {"type": "string"},
            "Count": {"type": "integer", "minimum": 1, "maximum": 5},
            "Days": {"type": "integer", "enum": [1, 3, 5]},
            "Ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 0.5},
            "Rules": {"type": "array", "items": {"$ref": "#/definitions/Rule"}},
            "Labels": {"type": "object", "patternProperties": {".+": {"type": "string"}}},
            "Document": {"type": ["object", "string"]},
            "Tags": {"type": "array", "items": {"$ref": "#/definitions/Tag"}}
        },
        "required": ["Name", "Type"],
        "readOnlyProperties": ["/properties/Arn", "/properties/Endpoint/Address"],
        "createOnlyProperties": ["/properties/Name"],
        "primaryIdentifier": ["/properties/Name"],
        "tagging": {"taggable": true, "tagProperty": "/properties/Tags"}
    })
}

#[test]
fn a_small_schema_gives_the_expected_shape() {
    let text = pantri_codegen::render_resource(&small_schema()).expect("renders");
    let expect = [
        // The resource struct: read-only `Arn` is an attribute, not a field.
        "    /// A widget.\n    #[derive(Clone, Debug, PartialEq)]\n    pub struct CfnWidget {",
        "        pub name: Str,",
        "        pub type_: Str,",
        "        pub count: Option<Int>,",
        "        pub rules: Option<List<Rule>>,",
        "        pub labels: Option<Map<Str>>,",
        "        pub document: Option<Json>,",
        "        pub tags: Option<List<Tag>>,",
        "        pub fn new(name: impl Into<Str>, type_: impl Into<Str>) -> Self {",
        "        pub fn count(mut self, v: impl Into<Int>) -> Self {",
        "            p.req(\"Name\", &self.name);",
        "            p.opt(\"Count\", &self.count);",
        "        const TYPE_NAME: &'static str = \"AWS::Demo::Widget\";",
        "        pub fn attr_arn(&self) -> Str {",
        "        pub fn attr_endpoint_address(&self) -> Str {",
        // A recursive property type: boxed where it contains itself directly.
        "    pub struct Rule {",
        "        pub status: Str,",
        "        pub next: Option<Box<Rule>>,",
        "        pub children: Option<List<Rule>>,",
        "    pub enum RuleStatus {",
        "    impl From<RuleStatus> for Str {",
    ];
    for e in expect {
        assert!(text.contains(e), "missing {e:?} in\n{text}");
    }
    assert!(
        !text.contains("pub arn:"),
        "read-only property became a field"
    );
    assert!(
        !text.contains("Long second paragraph"),
        "docs keep the first paragraph only"
    );
    // A struct without required properties derives Default; one with them does not.
    assert!(text.contains("#[derive(Clone, Debug, PartialEq)]\n    pub struct Tag {"));
}

#[test]
fn a_small_schema_gives_the_expected_spec_record() {
    let schema = small_schema();
    let attrs = ["Arn".to_owned(), "Endpoint.Address".to_owned()];
    let record = pantri_codegen::spec_table::spec_record(&schema, "AWS::Demo::Widget", &attrs)
        .expect("a record");
    let lines: Vec<&str> = record.lines().collect();
    let expect = [
        "type\tAWS::Demo::Widget",
        "create_only\t/properties/Name",
        "primary_identifier\t/properties/Name",
        "attributes\tArn\tEndpoint.Address",
        // The top level's writable properties, read-only ones left out.
        "properties\tName\tType\tCount\tDays\tRatio\tRules\tLabels\tDocument\tTags",
        "required\tName\tType",
        "tagging\tTags\tlist",
        "constraint\tName\tpattern\t^[a-z]+$",
        "constraint\tName\tlength\t-\t10",
        "constraint\tCount\trange\t1.0\t5.0",
        // Integer enums and fractional and exclusive bounds are kept.
        "constraint\tDays\tnumenum\t1.0\t3.0\t5.0",
        "constraint\tRatio\trange\t-\t0.5",
        "constraint\tRatio\txrange\t0.0\t-",
        // Nested objects: their required and (additionalProperties: false) allowed properties.
        "constraint\tRules/*\trequired\tStatus",
        "constraint\tRules/*\tproperties\tStatus\tNext\tChildren",
        "constraint\tRules/*/Status\tenum\tEnabled\tDisabled",
    ];
    for e in expect {
        assert!(lines.contains(&e), "missing {e:?} in\n{record}");
    }
    // Empty lists are left out, not written as an empty line.
    assert!(!record.contains("conditional_create_only"), "{record}");
}

#[test]
fn a_pattern_with_control_characters_is_written_with_escapes() {
    let schema = json!({
        "typeName": "AWS::Demo::Note",
        "properties": {
            "Text": {"type": "string", "pattern": "^[\\P{C}\r\n\t]+$"},
            "Ascii": {"type": "string", "pattern": "^[^\u{0}-\u{7f}]$"}
        }
    });
    let record =
        pantri_codegen::spec_table::spec_record(&schema, "AWS::Demo::Note", &[]).expect("a record");
    assert!(
        record.contains("constraint\tText\tpattern\t^[\\P{C}\\r\\n\\t]+$\n"),
        "{record}"
    );
    assert!(
        record.contains("constraint\tAscii\tpattern\t^[^\\x00-\\x7f]$\n"),
        "{record}"
    );
}

#[test]
fn an_enum_value_with_a_tab_is_an_error() {
    let schema = json!({
        "typeName": "AWS::Demo::Note",
        "properties": {"Kind": {"type": "string", "enum": ["a\tb"]}}
    });
    let err = pantri_codegen::spec_table::spec_record(&schema, "AWS::Demo::Note", &[])
        .expect_err("a tab cannot be stored");
    assert!(err.to_string().contains("AWS::Demo::Note"), "{err}");
}

#[test]
fn every_file_starts_with_the_generated_header() {
    let files = pantri_codegen::generate_from(&[small_schema()], "test schemas 1.0", None)
        .expect("generates");
    let names: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
    assert_eq!(
        names,
        [
            "synth/src/cfn/ascii_patterns.txt",
            "synth/src/cfn/demo.rs",
            "synth/src/cfn/mod.rs",
            "synth/src/cfn/specs.txt"
        ]
    );
    for f in &files {
        assert!(f.text.starts_with(
            "// @generated by pantri-codegen from test schemas 1.0; do not edit by hand. Regenerate: cargo run -p pantri-codegen\n"
        ));
    }
    assert!(files[1].text.contains("pub use widget::CfnWidget;"));
    // The index names each type with its record's byte range in specs.txt.
    let header_len = files[3].text.find("type\t").expect("a record");
    let entry = format!(
        "    (\"AWS::Demo::Widget\", {header_len}, {}),",
        files[3].text.len()
    );
    assert!(files[2].text.contains(&entry), "{}", files[2].text);
}

#[test]
fn types_outside_the_allowlist_get_schema_facts_not_structs() {
    let typed = std::collections::BTreeSet::new();
    let files = pantri_codegen::generate_from(&[small_schema()], "test schemas 1.0", Some(&typed))
        .expect("generates");
    let names: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
    assert_eq!(
        names,
        [
            "synth/src/cfn/ascii_patterns.txt",
            "synth/src/cfn/mod.rs",
            "synth/src/cfn/specs.txt"
        ]
    );
    assert!(files[2].text.contains("type\tAWS::Demo::Widget\n"));
    assert!(files[1].text.contains("    (\"AWS::Demo::Widget\", "));
    assert!(!files[1].text.contains("pub struct"));
}

#[test]
fn an_allowlisted_type_without_a_schema_is_an_error() {
    let root = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(root.path().join("codegen")).expect("mkdir");
    std::fs::write(
        root.path().join("codegen/allowlist.txt"),
        "AWS::Demo::Widget\nAWS::Demo::Gone\n",
    )
    .expect("allowlist");
    let schemas = root.path().join("schemas");
    std::fs::create_dir_all(&schemas).expect("mkdir");
    std::fs::write(schemas.join("VERSION"), "test\n").expect("version");
    std::fs::write(schemas.join("widget.json"), small_schema().to_string()).expect("schema");
    let err = pantri_codegen::generate_with(root.path(), &schemas)
        .expect_err("a missing schema is an error");
    assert!(err.to_string().contains("AWS::Demo::Gone"), "{err}");
}

#[test]
fn an_unreadable_generated_file_is_an_error_not_an_empty_file() {
    let root = tempfile::tempdir().expect("tempdir");
    let files = pantri_codegen::generate_from(&[small_schema()], "test", None).expect("generates");
    // A directory where a generated file belongs cannot be read as text.
    let demo = files
        .iter()
        .find(|f| f.path.ends_with("demo.rs"))
        .expect("demo.rs");
    std::fs::create_dir_all(root.path().join(&demo.path)).expect("mkdir");
    let err = pantri_codegen::stale_files(root.path(), &files).expect_err("unreadable");
    assert!(err.to_string().contains("demo.rs"), "{err}");
    // A missing file is stale, and says so.
    let root = tempfile::tempdir().expect("tempdir");
    let stale = pantri_codegen::stale_files(root.path(), &files).expect("readable");
    assert_eq!(
        stale,
        [
            "synth/src/cfn/ascii_patterns.txt (missing)",
            "synth/src/cfn/demo.rs (missing)",
            "synth/src/cfn/mod.rs (missing)",
            "synth/src/cfn/specs.txt (missing)"
        ]
    );
}
