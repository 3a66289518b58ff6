//! A template as text, a few sections at a time: the bulk of each stack's template is written
//! as soon as the stack is resolved, and only the sections that cross-stack references may
//! still grow stay JSON until every stack is resolved (see [`TemplateParts`]).
//!
//! Holding every stack's template as JSON until all were resolved was most of synthesis's
//! memory; the parts spliced together are exactly the bytes of the whole template serialized at
//! once, in JSON (the pretty printer's one-space indentation depends only on depth) and YAML
//! (each top-level key is a block at column 0).

use crate::json::{JsonObject, JsonValue as Json};

use crate::error::Problem;
use crate::synthesize::{written, Format};
use crate::validate::SectionCounts;

/// A stack's template between resolving and rendering: the sections generated elements may
/// still grow (cross-region `Parameters`, exported `Outputs`) as JSON, the rest as text in the
/// chosen format, written by [`TemplateParts::split`] and [`PendingTemplate::suffix`] as exactly the
/// bytes the whole template serialized at once would be.
#[derive(Debug, Default)]
pub(crate) struct TemplateParts {
    /// `AWSTemplateFormatVersion` and `Description`, as entries of the template (see
    /// [`entries_text`]).
    pub head: String,
    /// `Parameters`, when the template has the section.
    pub parameters: Option<JsonObject>,
    /// `Mappings`, `Conditions` and `Resources`, as entries of the template.
    pub body: String,
    /// `Outputs`, when the template has the section.
    pub outputs: Option<JsonObject>,
    /// The number of resources and mappings in `body`, counted before it became text.
    pub resources: usize,
    pub mappings: usize,
}

impl TemplateParts {
    /// The number of entries of the sections CloudFormation limits.
    pub fn counts(&self) -> SectionCounts {
        let len = |m: &Option<JsonObject>| m.as_ref().map_or(0, JsonObject::len);
        SectionCounts {
            resources: self.resources,
            outputs: len(&self.outputs),
            parameters: len(&self.parameters),
            mappings: self.mappings,
        }
    }

    /// The template's text up to its `Outputs`, which only other stacks' references still grow
    /// once this stack is resolved (its `Parameters` come from its own references), and what is
    /// left to write after it.
    pub fn split(
        self,
        format: Format,
        path: &str,
        problems: &mut Vec<Problem>,
    ) -> (String, PendingTemplate) {
        let counts = self.counts();
        let parameters = self
            .parameters
            .map(|m| section_text(format, "Parameters", m, path, problems));
        let entries: Vec<&str> = [Some(&self.head), parameters.as_ref(), Some(&self.body)]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        let prefix = match format {
            Format::Json => {
                let len: usize = entries.iter().map(|e| e.len() + 2).sum();
                let mut out = String::with_capacity(len + 2);
                out.push_str("{\n");
                for (i, e) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(",\n");
                    }
                    out.push_str(e);
                }
                out
            }
            Format::Yaml => entries.concat(),
        };
        let pending = PendingTemplate {
            prefix_len: prefix.len(),
            outputs: self.outputs,
            counts,
        };
        (prefix, pending)
    }

    /// The whole template as text, sections in CloudFormation's usual order.
    #[cfg(test)]
    pub fn into_text(self, format: Format, path: &str, problems: &mut Vec<Problem>) -> String {
        let (mut text, pending) = self.split(format, path, problems);
        text.push_str(&pending.suffix(format, path, problems));
        text
    }
}

/// A template whose text up to `Outputs` is written (see [`TemplateParts::split`]): its outputs,
/// which generated outputs may still grow, and what is needed to check its limits.
#[derive(Debug, Default)]
pub(crate) struct PendingTemplate {
    /// `Outputs`, when the template has the section.
    pub outputs: Option<JsonObject>,
    /// The size of the text written so far.
    pub prefix_len: usize,
    /// The sections' counts when the prefix was written (outputs are counted again).
    counts: SectionCounts,
}

impl PendingTemplate {
    /// The number of entries of the sections CloudFormation limits.
    pub fn counts(&self) -> SectionCounts {
        SectionCounts {
            outputs: self.outputs.as_ref().map_or(0, JsonObject::len),
            ..self.counts
        }
    }

    /// The rest of the template's text: its `Outputs` and the end.
    pub fn suffix(self, format: Format, path: &str, problems: &mut Vec<Problem>) -> String {
        let outputs = self
            .outputs
            .map(|m| section_text(format, "Outputs", m, path, problems));
        match (format, outputs) {
            (Format::Json, Some(outputs)) => format!(",\n{outputs}\n}}\n"),
            (Format::Json, None) => "\n}\n".to_owned(),
            (Format::Yaml, outputs) => outputs.unwrap_or_default(),
        }
    }
}

/// One top-level section of a template as text (see [`entries_text`]).
fn section_text(
    format: Format,
    name: &str,
    map: JsonObject,
    path: &str,
    problems: &mut Vec<Problem>,
) -> String {
    let entry = JsonObject::from_distinct(vec![(name.to_owned(), Json::Object(map))]);
    entries_text(format, &entry, path, problems)
}

/// The entries of `map` as they are written inside a template of `format`: for JSON, the lines
/// between the template's braces (one-space indentation, no separating comma at the end); for
/// YAML, the top-level block of each key. `map` is not empty. A value serde cannot write is a
/// problem at `path`, as for a whole template.
pub(crate) fn entries_text(
    format: Format,
    map: &JsonObject,
    path: &str,
    problems: &mut Vec<Problem>,
) -> String {
    match format {
        Format::Json if map.is_empty() => "{}\n".to_owned(),
        Format::Json => {
            // The entries are the same bytes as in any object at the top level, since the
            // pretty layout's indentation depends only on depth; walked, not serialized through
            // serde_json (`crate::pretty::write_value`: the same bytes, a test compares them).
            let mut buf = Vec::with_capacity(4096);
            crate::pretty::write_entries(&mut buf, map);
            let text = String::from_utf8(buf).map_err(serde::ser::Error::custom);
            written(path, "template", text, problems)
        }
        Format::Yaml => crate::yaml::entries_to_string(map),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::assembly::to_json_string;

    /// The parts of a whole template, split as synthesis splits it.
    fn parts_of(template: &serde_json::Value, format: Format) -> TemplateParts {
        let template = &Json::from(template.clone());
        let mut problems = Vec::new();
        let section = |keys: &[&str]| -> JsonObject {
            keys.iter()
                .filter_map(|k| template.get(k).map(|v| ((*k).to_owned(), v.clone())))
                .collect()
        };
        let map = |key: &str| template.get(key).and_then(Json::as_object).cloned();
        let parts = TemplateParts {
            head: entries_text(
                format,
                &section(&["AWSTemplateFormatVersion", "Description"]),
                "S",
                &mut problems,
            ),
            parameters: map("Parameters"),
            body: entries_text(
                format,
                &section(&["Mappings", "Conditions", "Resources"]),
                "S",
                &mut problems,
            ),
            outputs: map("Outputs"),
            resources: map("Resources").map_or(0, |m| m.len()),
            mappings: map("Mappings").map_or(0, |m| m.len()),
        };
        assert!(problems.is_empty(), "{problems:?}");
        parts
    }

    fn whole(template: &serde_json::Value, format: Format) -> String {
        match format {
            Format::Json => to_json_string(template).expect("serializes"),
            Format::Yaml => crate::yaml::to_string(template),
        }
    }

    fn full_template() -> serde_json::Value {
        json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": "a stack: with \"quotes\"\nand lines",
            "Parameters": { "P": { "Type": "String", "AllowedValues": ["a", "ON"] } },
            "Mappings": { "M": { "eu-west-1": { "Ami": "ami-1" } } },
            "Conditions": { "C": { "Fn::Equals": ["a", { "Ref": "P" }] } },
            "Resources": {
                "B": {
                    "Type": "AWS::S3::Bucket",
                    "Properties": { "Tags": [{ "Key": "k", "Value": "0755" }], "Empty": {}, "None": [] },
                    "DependsOn": ["Q"],
                    "Metadata": { "aws:cdk:path": "S/B/Resource" }
                },
                "Q": { "Type": "AWS::SQS::Queue", "Properties": { "N": 1.5, "T": true, "X": null } }
            },
            "Outputs": { "O": { "Value": { "Fn::GetAtt": ["B", "Arn"] }, "Export": { "Name": "S:O" } } }
        })
    }

    #[test]
    fn spliced_parts_are_the_bytes_of_the_whole_template_in_both_formats() {
        let minimal = json!({ "AWSTemplateFormatVersion": "2010-09-09", "Resources": {} });
        let mut no_outputs = full_template();
        no_outputs
            .as_object_mut()
            .map(|t| t.shift_remove("Outputs"));
        let mut empty_parameters = full_template();
        empty_parameters["Parameters"] = json!({});
        for template in [full_template(), minimal, no_outputs, empty_parameters] {
            for format in [Format::Json, Format::Yaml] {
                let mut problems = Vec::new();
                let text = parts_of(&template, format).into_text(format, "S", &mut problems);
                assert_eq!(text, whole(&template, format), "{format:?} of {template}");
                assert!(problems.is_empty());
            }
        }
    }

    #[test]
    fn sections_grown_after_the_bulk_is_text_land_in_their_place() {
        // Synthesis adds generated parameters and outputs once every stack is resolved, to
        // templates whose other sections are text already; a template without the sections
        // gets them in CloudFormation's order.
        let mut template = full_template();
        let t = template.as_object_mut().expect("an object");
        t.shift_remove("Parameters");
        t.shift_remove("Outputs");
        for format in [Format::Json, Format::Yaml] {
            let mut parts = parts_of(&template, format);
            parts
                .parameters
                .get_or_insert_with(JsonObject::new)
                .insert("CrossRegionX".into(), json!({ "Type": "String" }).into());
            parts
                .outputs
                .get_or_insert_with(JsonObject::new)
                .insert("ExportsOutputX".into(), json!({ "Value": "v" }).into());
            let mut expected = full_template();
            expected["Parameters"] = json!({ "CrossRegionX": { "Type": "String" } });
            expected["Outputs"] = json!({ "ExportsOutputX": { "Value": "v" } });
            let mut problems = Vec::new();
            let text = parts.into_text(format, "S", &mut problems);
            assert_eq!(text, whole(&expected, format), "{format:?}");
        }
    }

    #[test]
    fn counts_are_kept_for_the_sections_that_are_text() {
        let parts = parts_of(&full_template(), Format::Json);
        assert_eq!(
            parts.counts(),
            SectionCounts {
                resources: 2,
                outputs: 1,
                parameters: 1,
                mappings: 1
            }
        );
    }
}
