//! The generated schema facts (`crate::cfn::SPEC_DATA`, the text of `cfn/specs.txt`), read one
//! type at a time, on first use, into a [`TypeSpec`] kept for the rest of the process.
//!
//! The facts are text rather than Rust constants because constants of `&'static str` and
//! slices are pointers, and a position-independent binary has the loader relocate every one
//! of them at every start, used or not: the facts of ~1,500 types were 260,000 relocations,
//! 4 ms of a `pantri --version`. A decoded [`TypeSpec`]'s strings are slices of the one text,
//! and its lists are allocated once per type and never freed (a synthesis reads a few dozen
//! types). The format is `pantri-codegen`'s `spec_table` module's.

use std::sync::OnceLock;

use crate::cfn::{SPEC_DATA, SPEC_INDEX};

use super::{Constraint, ConstraintKind, TagForm, Tagging, TypeSpec};

/// Each type's decoded facts, by its position in `SPEC_INDEX`. A reference each, not the facts
/// themselves: the array is in the binary's writable data, and every page of it that a lookup
/// touches is a page fault at run time (296 KB of `TypeSpec`s, 30 KB of references: 11 fewer
/// faults of 1,730 for the reference app's synth).
static DECODED: [OnceLock<&'static TypeSpec>; SPEC_INDEX.len()] =
    [const { OnceLock::new() }; SPEC_INDEX.len()];

/// The spec of a type, when pantri has its schema.
pub(super) fn lookup(type_name: &str) -> Option<&'static TypeSpec> {
    let i = SPEC_INDEX
        .binary_search_by(|(name, _, _)| (*name).cmp(type_name))
        .ok()?;
    spec_at(i)
}

/// Every type name pantri has a schema for, sorted.
pub(super) fn type_names() -> impl Iterator<Item = &'static str> {
    SPEC_INDEX.iter().map(|(name, _, _)| *name)
}

/// Every type's spec, in type-name order (decodes them all: for tests and tools).
pub(super) fn all() -> impl Iterator<Item = &'static TypeSpec> {
    (0..SPEC_INDEX.len()).filter_map(spec_at)
}

fn spec_at(i: usize) -> Option<&'static TypeSpec> {
    let (_, start, end) = SPEC_INDEX.get(i)?;
    let record = SPEC_DATA.get(*start as usize..*end as usize)?;
    Some(
        DECODED
            .get(i)?
            .get_or_init(|| Box::leak(Box::new(decode(record)))),
    )
}

/// A list that lives as long as the process: the decoded facts are kept for it.
fn leak<T>(items: Vec<T>) -> &'static [T] {
    if items.is_empty() {
        &[]
    } else {
        Box::leak(items.into_boxed_slice())
    }
}

type Span = std::ops::Range<usize>;

/// A constraint's kind while its record is read: the lists are spans of the record's one list
/// of strings (or of numbers), made into slices once that list has its final place.
enum Draft {
    Done(ConstraintKind),
    Enum(Span),
    NumEnum(Span),
    Required(Span),
    Properties(Span),
}

/// One record into a spec, with three allocations (every string of the record, every number,
/// the constraints) however many lists it has. The records are generated and checked whole by
/// a test (every record decodes and encodes back to its text), so a line this does not know is
/// skipped rather than reported.
pub(super) fn decode(record: &'static str) -> TypeSpec {
    let mut strs: Vec<&'static str> = Vec::new();
    let mut nums: Vec<f64> = Vec::new();
    let mut type_name = "";
    let mut tagging = None;
    let mut lists: [Span; 6] = Default::default();
    let mut drafts: Vec<(Span, Draft)> = Vec::new();
    for line in split(record, b'\n').filter(|l| !l.is_empty()) {
        let mut items = split(line, b'\t');
        let field = items.next().unwrap_or_default();
        let list = match field {
            "create_only" => 0,
            "conditional_create_only" => 1,
            "primary_identifier" => 2,
            "attributes" => 3,
            "properties" => 4,
            "required" => 5,
            "type" => {
                type_name = items.next().unwrap_or_default();
                continue;
            }
            "tagging" => {
                let property = items.next().unwrap_or_default();
                tagging = match items.next() {
                    Some("list") => Some(Tagging {
                        property,
                        form: TagForm::List,
                    }),
                    Some("map") => Some(Tagging {
                        property,
                        form: TagForm::Map,
                    }),
                    _ => None,
                };
                continue;
            }
            "constraint" => {
                let Some(path) = items.next() else { continue };
                let path = push(&mut strs, split(path, b'/'));
                if let Some(kind) = draft(items, &mut strs, &mut nums) {
                    drafts.push((path, kind));
                }
                continue;
            }
            _ => continue,
        };
        lists[list] = push(&mut strs, items);
    }
    let strs = leak(strs);
    let nums = leak(nums);
    let slice = |span: &Span| strs.get(span.clone()).unwrap_or_default();
    let constraints = drafts
        .into_iter()
        .map(|(path, draft)| Constraint {
            path: slice(&path),
            kind: match draft {
                Draft::Done(kind) => kind,
                Draft::Enum(s) => ConstraintKind::Enum(slice(&s)),
                Draft::NumEnum(s) => ConstraintKind::NumEnum(nums.get(s).unwrap_or_default()),
                Draft::Required(s) => ConstraintKind::Required(slice(&s)),
                Draft::Properties(s) => ConstraintKind::Properties(slice(&s)),
            },
        })
        .collect();
    let [create_only, conditional_create_only, primary_identifier, attributes, properties, required] =
        lists.each_ref().map(slice);
    TypeSpec {
        type_name,
        create_only,
        conditional_create_only,
        primary_identifier,
        attributes,
        properties,
        required,
        tagging,
        constraints: leak(constraints),
    }
}

/// Appends `items` to the record's strings; where they are.
fn push(strs: &mut Vec<&'static str>, items: impl Iterator<Item = &'static str>) -> Span {
    let start = strs.len();
    strs.extend(items);
    start..strs.len()
}

/// `text` cut at every `sep` (an ASCII byte), like `str::split`, each `sep` found by `memchr`
/// (sixteen bytes or more at a time). `str::split`'s generic search was two thirds of the time
/// a record took to read; a plain loop over the bytes took a third more than `memchr` does, and
/// one `memchr` iterator over the text a fifth more.
fn split(text: &'static str, sep: u8) -> impl Iterator<Item = &'static str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let text = rest?;
        match memchr::memchr(sep, text.as_bytes()) {
            Some(i) => {
                // `sep` is ASCII, so both sides of it are on character boundaries.
                rest = text.get(i + 1..);
                text.get(..i)
            }
            None => {
                rest = None;
                Some(text)
            }
        }
    })
}

fn draft(
    mut items: impl Iterator<Item = &'static str>,
    strs: &mut Vec<&'static str>,
    nums: &mut Vec<f64>,
) -> Option<Draft> {
    let int = |s: Option<&str>| s.and_then(|s| s.parse::<u64>().ok());
    let num = |s: Option<&str>| s.and_then(|s| s.parse::<f64>().ok());
    let kind = items.next()?;
    Some(match kind {
        "pattern" => Draft::Done(ConstraintKind::Pattern(items.next()?)),
        "length" => Draft::Done(ConstraintKind::Length {
            min: int(items.next()),
            max: int(items.next()),
        }),
        "items" => Draft::Done(ConstraintKind::Items {
            min: int(items.next()),
            max: int(items.next()),
        }),
        "range" => Draft::Done(ConstraintKind::Range {
            min: num(items.next()),
            max: num(items.next()),
        }),
        "xrange" => Draft::Done(ConstraintKind::ExclusiveRange {
            min: num(items.next()),
            max: num(items.next()),
        }),
        "enum" => Draft::Enum(push(strs, items)),
        "numenum" => {
            let start = nums.len();
            nums.extend(items.filter_map(|n| n.parse::<f64>().ok()));
            Draft::NumEnum(start..nums.len())
        }
        "required" => Draft::Required(push(strs, items)),
        "properties" => Draft::Properties(push(strs, items)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A spec back into its record, as the generator writes it.
    fn encode(spec: &TypeSpec) -> String {
        fn line(out: &mut String, field: &str, items: &[String]) {
            out.push_str(field);
            for item in items {
                out.push('\t');
                out.push_str(item);
            }
            out.push('\n');
        }
        fn strs(items: &[&str]) -> Vec<String> {
            items.iter().map(|s| (*s).to_owned()).collect()
        }
        let bound = |b: Option<String>| b.unwrap_or_else(|| "-".to_owned());
        let mut out = String::new();
        line(&mut out, "type", &[spec.type_name.to_owned()]);
        for (field, items) in [
            ("create_only", spec.create_only),
            ("conditional_create_only", spec.conditional_create_only),
            ("primary_identifier", spec.primary_identifier),
            ("attributes", spec.attributes),
            ("properties", spec.properties),
            ("required", spec.required),
        ] {
            if !items.is_empty() {
                line(&mut out, field, &strs(items));
            }
        }
        if let Some(t) = spec.tagging {
            let form = match t.form {
                TagForm::List => "list",
                TagForm::Map => "map",
            };
            line(&mut out, "tagging", &strs(&[t.property, form]));
        }
        for c in spec.constraints {
            let int = |n: Option<u64>| bound(n.map(|n| n.to_string()));
            let num = |n: Option<f64>| bound(n.map(|n| format!("{n:?}")));
            let kind: Vec<String> = match c.kind {
                ConstraintKind::Pattern(p) => strs(&["pattern", p]),
                ConstraintKind::Length { min, max } => vec!["length".into(), int(min), int(max)],
                ConstraintKind::Items { min, max } => vec!["items".into(), int(min), int(max)],
                ConstraintKind::Range { min, max } => vec!["range".into(), num(min), num(max)],
                ConstraintKind::ExclusiveRange { min, max } => {
                    vec!["xrange".into(), num(min), num(max)]
                }
                ConstraintKind::Enum(v) => [strs(&["enum"]), strs(v)].concat(),
                ConstraintKind::NumEnum(v) => std::iter::once("numenum".to_owned())
                    .chain(v.iter().map(|n| format!("{n:?}")))
                    .collect(),
                ConstraintKind::Required(v) => [strs(&["required"]), strs(v)].concat(),
                ConstraintKind::Properties(v) => [strs(&["properties"]), strs(v)].concat(),
            };
            let items: Vec<String> = std::iter::once(c.path.join("/")).chain(kind).collect();
            line(&mut out, "constraint", &items);
        }
        out
    }

    #[test]
    fn every_record_decodes_to_what_it_says() {
        // Decoding then encoding gives each record's text back: nothing is dropped, split
        // wrongly or rounded, whatever the record holds.
        let mut n = 0;
        for (i, (name, start, end)) in SPEC_INDEX.iter().enumerate() {
            let record = &SPEC_DATA[*start as usize..*end as usize];
            let spec = spec_at(i).expect("every index entry has a record");
            assert_eq!(spec.type_name, *name);
            assert_eq!(encode(spec), record, "{name}");
            n += 1;
        }
        assert!(n > 1000, "only {n} types");
    }

    #[test]
    fn the_index_is_sorted_and_covers_the_data() {
        let names: Vec<&str> = type_names().collect();
        assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
        // The records follow one another to the end of the file, after the header line.
        let first = SPEC_INDEX[0].1 as usize;
        assert!(SPEC_DATA[..first].starts_with("// @generated"));
        for w in SPEC_INDEX.windows(2) {
            assert_eq!(w[0].2, w[1].1);
        }
        assert_eq!(SPEC_INDEX[SPEC_INDEX.len() - 1].2 as usize, SPEC_DATA.len());
    }

    #[test]
    fn a_record_reads_into_its_facts() {
        let record = "type\tAWS::Demo::Widget\ncreate_only\t/properties/Name\nattributes\tArn\tEndpoint.Address\ntagging\tTags\tmap\nconstraint\tRules/*/Status\tenum\tEnabled\t\nconstraint\tCount\trange\t-\t5.0\nconstraint\tDays\tnumenum\t1.0\t3.0\nconstraint\tName\tlength\t1\t-\n";
        let spec = decode(record);
        assert_eq!(spec.type_name, "AWS::Demo::Widget");
        assert_eq!(spec.create_only, ["/properties/Name"]);
        assert_eq!(spec.attributes, ["Arn", "Endpoint.Address"]);
        assert_eq!(spec.properties, [] as [&str; 0]);
        assert_eq!(
            spec.tagging,
            Some(Tagging {
                property: "Tags",
                form: TagForm::Map
            })
        );
        assert_eq!(
            spec.constraints,
            [
                Constraint {
                    path: &["Rules", "*", "Status"],
                    // An enum may hold the empty string: the item after the last tab.
                    kind: ConstraintKind::Enum(&["Enabled", ""]),
                },
                Constraint {
                    path: &["Count"],
                    kind: ConstraintKind::Range {
                        min: None,
                        max: Some(5.0)
                    },
                },
                Constraint {
                    path: &["Days"],
                    kind: ConstraintKind::NumEnum(&[1.0, 3.0]),
                },
                Constraint {
                    path: &["Name"],
                    kind: ConstraintKind::Length {
                        min: Some(1),
                        max: None
                    },
                },
            ]
        );
    }

    #[test]
    fn a_type_is_decoded_once() {
        let a = lookup("AWS::S3::Bucket").expect("S3 buckets have a schema");
        let b = lookup("AWS::S3::Bucket").expect("S3 buckets have a schema");
        assert!(std::ptr::eq(a, b));
        assert!(a.create_only.contains(&"/properties/BucketName"));
        assert_eq!(lookup("AWS::S3::Buckets"), None);
    }
}
