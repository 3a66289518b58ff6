//! YAML templates that every reader reads the same.
//!
//! serde_yaml writes YAML 1.2: it quotes `true` or `1.5`, but leaves `ON`, `no`, `y`, `1_000`,
//! `1:20` or `2024-01-01` plain, which YAML 1.1 readers (PyYAML, so cfn-lint; CloudFormation's own
//! parser) take for a boolean, a number or a date: `MfaConfiguration: ON` became `true`. This
//! writer lays out the block structure itself, asks serde_yaml whether a string can stay plain
//! (what YAML 1.2 needs), and quotes every string YAML 1.1 would resolve to another type as well.
//! Strings serde_yaml would not write plain on one line are written as JSON strings, which are
//! valid double-quoted YAML scalars.

use std::fmt::Write as _;
use std::sync::OnceLock;

use crate::json::{JsonObject, JsonValue as Json};
use regex::Regex;

/// The YAML form of a template (or any JSON value), block style, keys in their order.
pub fn to_string(value: &serde_json::Value) -> String {
    let mut out = String::new();
    match &Json::from(value.clone()) {
        Json::Object(m) if !m.is_empty() => write_map(&mut out, m, 0, false),
        Json::Array(a) if !a.is_empty() => write_list(&mut out, a, 0, false),
        scalar => {
            write_scalar(&mut out, scalar);
            out.push('\n');
        }
    }
    out
}

/// The top-level blocks of `map`'s entries: [`to_string`] of a non-empty map, and of a map of
/// several entries the concatenation of each entry's text (each block is at column 0), so a
/// template can be written a few sections at a time.
pub(crate) fn entries_to_string(map: &JsonObject) -> String {
    let mut out = String::new();
    write_map(&mut out, map, 0, false);
    out
}

/// True when a YAML 1.1 reader resolves the plain scalar `s` to something other than a string:
/// a boolean, null, an integer (including octal `0755`, `1_000` and base-60 `1:20`), a float, a
/// timestamp, or the value and merge keys (`=`, `<<`). Errs towards quoting: a quoted string is
/// read as the same string by every reader.
pub fn is_yaml11_ambiguous(s: &str) -> bool {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            "^(?:",
            // https://yaml.org/type/bool.html and null.html
            "y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF",
            "|~|null|Null|NULL|",
            // https://yaml.org/type/int.html
            "|[-+]?0b[01_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])*",
            // https://yaml.org/type/float.html (and a YAML 1.2 exponent without a dot)
            "|[-+]?(?:[0-9][0-9_]*)?\\.[0-9._]*(?:[eE][-+]?[0-9]+)?",
            "|[-+]?[0-9][0-9_]*(?:[eE][-+]?[0-9]+)",
            "|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*",
            "|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN)",
            // https://yaml.org/type/timestamp.html: anything starting like a date
            "|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*",
            // https://yaml.org/type/value.html and merge.html
            "|=|<<",
            ")$"
        ))
        .ok()
    })
    .as_ref()
    // The pattern is a constant that compiles; should it not, quoting everything stays correct.
    .is_none_or(|re| re.is_match(s))
}

/// A string as a YAML scalar: plain when both YAML 1.1 and 1.2 read it back as this string,
/// otherwise quoted.
fn write_string(out: &mut String, s: &str) {
    if !is_yaml11_ambiguous(s) && is_plain_for_serde_yaml(s) {
        out.push_str(s);
    } else if !s.is_empty() && s.chars().all(|c| !c.is_control()) {
        out.push('\'');
        out.push_str(&s.replace('\'', "''"));
        out.push('\'');
    } else {
        // JSON escapes (\n, \", \uXXXX) are YAML double-quoted escapes too.
        out.push_str(&serde_json::Value::String(s.to_owned()).to_string());
    }
}

/// serde_yaml writes a string plain exactly when YAML 1.2 reads the plain form back as that
/// string, and it knows YAML's rules for indicators, `: `, ` #` and the like.
fn is_plain_for_serde_yaml(s: &str) -> bool {
    if s.is_empty() || s.contains('\n') {
        return false;
    }
    match serde_yaml::to_string(s) {
        Ok(text) => text.strip_suffix('\n') == Some(s),
        Err(_) => false,
    }
}

fn write_scalar(out: &mut String, v: &Json) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Json::String(s) => write_string(out, s),
        Json::Array(_) => out.push_str("[]"),
        Json::Object(_) => out.push_str("{}"),
    }
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// A non-empty mapping at column `col`; `inline` when its first key continues the current line
/// (after a list item's `- `).
fn write_map(out: &mut String, m: &JsonObject, col: usize, inline: bool) {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 || !inline {
            indent(out, col);
        }
        write_string(out, k);
        out.push(':');
        match v {
            Json::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                write_map(out, inner, col + 2, false);
            }
            // Lists sit at their key's column, as serde_yaml (and the CDK) write them.
            Json::Array(items) if !items.is_empty() => {
                out.push('\n');
                write_list(out, items, col, false);
            }
            scalar => {
                out.push(' ');
                write_scalar(out, scalar);
                out.push('\n');
            }
        }
    }
}

fn write_list(out: &mut String, items: &[Json], col: usize, inline: bool) {
    for (i, v) in items.iter().enumerate() {
        if i > 0 || !inline {
            indent(out, col);
        }
        out.push_str("- ");
        match v {
            Json::Object(inner) if !inner.is_empty() => write_map(out, inner, col + 2, true),
            Json::Array(inner) if !inner.is_empty() => write_list(out, inner, col + 2, true),
            scalar => {
                write_scalar(out, scalar);
                out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every word YAML 1.1 resolves to a boolean, null, number, timestamp or special key.
    const YAML11_NOT_STRINGS: &[&str] = &[
        "ON",
        "On",
        "on",
        "OFF",
        "Off",
        "off",
        "yes",
        "Yes",
        "YES",
        "no",
        "No",
        "NO",
        "y",
        "Y",
        "n",
        "N",
        "true",
        "True",
        "FALSE",
        "null",
        "Null",
        "NULL",
        "~",
        "",
        "0755",
        "0o17",
        "0x1F",
        "0b101",
        "1_000",
        "-1",
        "+1",
        "1:20",
        "12:30:00",
        "1e3",
        "1.5",
        "-.5",
        "1.",
        ".inf",
        "-.Inf",
        ".NaN",
        "2001-12-14",
        "2001-12-14t21:59:43.10-05:00",
        "=",
        "<<",
        "007",
    ];

    #[test]
    fn quotes_every_string_a_yaml_1_1_reader_would_take_for_another_type() {
        for word in YAML11_NOT_STRINGS {
            let text = to_string(&json!({ "Key": word }));
            assert!(
                text == format!("Key: '{word}'\n") || text == format!("Key: \"{word}\"\n"),
                "{word:?} written as {text:?}"
            );
        }
    }

    #[test]
    fn leaves_ordinary_strings_plain() {
        let text = to_string(&json!({
            "MfaConfiguration": "ON",
            "CidrBlock": "10.0.0.0/16",
            "Name": "pantri-prod-network",
            "Arn": "arn:aws:s3:::bucket/*",
        }));
        assert_eq!(
            text,
            "MfaConfiguration: 'ON'\nCidrBlock: 10.0.0.0/16\nName: pantri-prod-network\nArn: arn:aws:s3:::bucket/*\n"
        );
    }

    #[test]
    fn block_layout_matches_serde_yaml_for_safe_values() {
        let value = json!({
            "Resources": {
                "Bucket": {
                    "Type": "AWS::S3::Bucket",
                    "Properties": {
                        "Tags": [{ "Key": "a", "Value": "b" }, { "Key": "c", "Value": 1 }],
                        "Nested": [["x", "z"], []],
                        "Empty": {},
                        "Flag": true,
                        "Nothing": null,
                        "Text": "two\nlines",
                        "Quote": "it's: here",
                    },
                },
            },
        });
        let ours = to_string(&value);
        let back: serde_json::Value = serde_yaml::from_str(&ours).expect("our YAML parses");
        assert_eq!(back, value, "round trip:\n{ours}");
        let theirs = serde_yaml::to_string(&value).expect("serde_yaml");
        // Same layout wherever serde_yaml's scalars need nothing more (the multi-line string is
        // a block scalar there, a JSON string here).
        let strip = |t: &str| -> Vec<String> {
            t.lines()
                .filter(|l| {
                    !l.contains("Text")
                        && !l.trim_start().starts_with("two")
                        && !l.trim().eq("lines")
                })
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(strip(&ours), strip(&theirs));
    }

    #[test]
    fn round_trips_awkward_strings() {
        let strings = [
            "- a",
            "a: b",
            "#c",
            "a #b",
            "'",
            "\"",
            "tab\there",
            "back\\slash",
            "trailing ",
            " leading",
            "ünïcödé",
            "{x}",
            "[y]",
            "&anchor",
            "*alias",
            "!tag",
            "%percent",
            "@at",
            "`tick",
            "|",
            ">",
            "?",
            ":",
            "-",
            "1,000",
        ];
        for s in strings {
            let value = json!({ "K": s, "L": [s] });
            let text = to_string(&value);
            let back: serde_json::Value =
                serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{s:?}: {e}\n{text}"));
            assert_eq!(back, value, "{s:?} as {text}");
        }
    }
}
