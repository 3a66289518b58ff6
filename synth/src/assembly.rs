//! The cloud assembly: `manifest.json`, `tree.json`, the `cdk.out` version file and one template
//! per stack, in the AWS CDK's cloud-assembly format so the CDK CLI accepts the directory.
//!
//! An assembly is written atomically (a sibling staging directory renamed into place, see
//! [`crate::sink`]), so a failed synth never leaves a half-written `cdk.out`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Result, SynthError};
use crate::sink::{io_err, AssemblyWriter};
use crate::tree::Environment;

/// The cloud-assembly schema version pantri writes.
pub const SCHEMA_VERSION: &str = "48.0.0";

/// Metadata type of a logical ID entry (per construct path).
pub const LOGICAL_ID_METADATA: &str = "aws:cdk:logicalId";
/// Metadata type of a cross-region parameter link (on the consuming stack's path).
pub const CROSS_REGION_METADATA: &str = "pantri:crossRegionParameter";

/// Metadata type of a parameter that deploy fills from an environment variable.
pub const ENV_PARAMETER_METADATA: &str = "pantri:parameterFromEnvironment";

/// A parameter that `pantri deploy` fills from an environment variable (kept otherwise).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvParameter {
    /// The stack's parameter.
    pub parameter: String,
    /// The environment variable.
    pub variable: String,
}

/// `manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The schema version.
    pub version: String,
    /// Artifacts by id.
    #[serde(default)]
    pub artifacts: IndexMap<String, Artifact>,
}

impl Manifest {
    /// The display names (`stage/stack`) of the stack artifacts, in manifest order.
    pub fn stack_names(&self) -> Vec<&str> {
        self.artifacts
            .iter()
            .filter(|(_, a)| a.kind == "aws:cloudformation:stack")
            .map(|(id, a)| a.display_name.as_deref().unwrap_or(id))
            .collect()
    }
}

/// One artifact of the manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// `aws:cloudformation:stack`, `cdk:tree`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// `aws://ACCOUNT/REGION` for stacks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Type-specific properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<serde_json::Value>,
    /// Ids of artifacts this one depends on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    /// Metadata entries by construct path.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub metadata: IndexMap<String, Vec<MetadataEntry>>,
    /// The human name (`stage/stack`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// A metadata entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetadataEntry {
    /// The entry type, for example `aws:cdk:logicalId`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The data.
    pub data: serde_json::Value,
}

/// The properties of a stack artifact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StackProperties {
    /// The template file, relative to the assembly directory.
    pub template_file: String,
    /// The CloudFormation stack name.
    pub stack_name: String,
    /// Whether termination protection is on.
    #[serde(default)]
    pub termination_protection: bool,
    /// Stack tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// A parameter of a consuming stack that deploy fills from an output of a stack in another region.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrossRegionLink {
    /// The consuming stack's parameter.
    pub parameter: String,
    /// The producing stack's artifact id.
    pub producer: String,
    /// The producing stack's output.
    pub output: String,
}

/// A stack of an assembly, as deploy and diff see it, its template parsed.
pub type StackArtifact = StackOf<serde_json::Value>;

/// A stack of an assembly whose template is still its text (the diff parses only the templates
/// that differ): [`CloudAssembly::unparsed_stacks`], [`StackOf::parse`].
pub type UnparsedStack<'a> = StackOf<&'a str>;

/// A stack of an assembly, with its template as `T`: parsed ([`StackArtifact`]) or text
/// ([`UnparsedStack`]).
#[derive(Clone, Debug, PartialEq)]
pub struct StackOf<T> {
    /// The artifact id (unique in the assembly).
    pub id: String,
    /// `stage/stack`.
    pub display_name: String,
    /// The stage's name (the part of the display name before `/`), empty for a stack without stage.
    pub stage: String,
    /// Where it deploys.
    pub env: Environment,
    /// Name, template file, tags, termination protection.
    pub properties: StackProperties,
    /// The template.
    pub template: T,
    /// The template's size in bytes, as written.
    pub template_size: usize,
    /// Artifact ids of the stacks it depends on.
    pub dependencies: Vec<String>,
    /// Parameters to fill from other regions' outputs.
    pub cross_region: Vec<CrossRegionLink>,
    /// Parameters to fill from environment variables.
    pub env_parameters: Vec<EnvParameter>,
    /// Construct path → logical ID.
    pub logical_ids: IndexMap<String, String>,
}

/// A synthesized cloud assembly: the manifest plus every file's content, keyed by relative path.
#[derive(Clone, Debug, PartialEq)]
pub struct CloudAssembly {
    /// The manifest (also rendered into `files`).
    pub manifest: Manifest,
    /// Relative path → content.
    pub files: BTreeMap<String, String>,
}

/// Writes `value` to `out` as [`to_json_string`] renders it.
pub fn write_json<W: std::io::Write, T: Serialize>(
    mut out: W,
    value: &T,
) -> std::result::Result<(), serde_json::Error> {
    let formatter = crate::pretty::OneSpace::default();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    value.serialize(&mut ser)?;
    out.write_all(b"\n").map_err(serde_json::Error::io)
}

/// Renders JSON the way pantri writes every file: one-space indentation (as the CDK does), keys
/// in the order they were built, and a final newline. A value serde cannot write (a map with
/// non-string keys, a failing `Serialize`) is an error, never an empty file.
pub fn to_json_string<T: Serialize>(value: &T) -> std::result::Result<String, serde_json::Error> {
    let mut buf = Vec::new();
    write_json(&mut buf, value)?;
    // serde_json writes UTF-8 only, so this takes the buffer as it is (a lossy conversion
    // copied every template once more).
    String::from_utf8(buf).map_err(serde::ser::Error::custom)
}

/// The manifest of the assembly in `dir`, parsed, and its text.
fn read_manifest(dir: &Path) -> Result<(Manifest, String)> {
    let path = dir.join("manifest.json");
    let text = fs::read_to_string(&path).map_err(io_err("cannot read", &path))?;
    let manifest = serde_json::from_str(&text).map_err(|e| SynthError::Parse {
        path: path.clone(),
        message: e.to_string(),
    })?;
    Ok((manifest, text))
}

impl CloudAssembly {
    /// Reads an assembly from a directory (a committed `cdk.out` or a baseline).
    pub fn read(dir: &Path) -> Result<CloudAssembly> {
        let (manifest, text) = read_manifest(dir)?;
        let mut files = BTreeMap::new();
        files.insert("manifest.json".to_owned(), text);
        let names: Vec<&str> = manifest
            .artifacts
            .values()
            .filter_map(|artifact| {
                let p = artifact.properties.as_ref()?;
                p.get("templateFile").or_else(|| p.get("file"))?.as_str()
            })
            .collect();
        // Read on every core (at 100 stages, 20 MB in 800 files); the first error in
        // manifest order is the one reported.
        let texts: Vec<Result<String>> = names
            .par_iter()
            .map(|file| {
                let path = dir.join(file);
                fs::read_to_string(&path).map_err(io_err("cannot read", &path))
            })
            .collect();
        for (file, text) in names.into_iter().zip(texts) {
            files.insert(file.to_owned(), text?);
        }
        if let Ok(text) = fs::read_to_string(dir.join("cdk.out")) {
            files.insert("cdk.out".to_owned(), text);
        }
        Ok(CloudAssembly { manifest, files })
    }

    /// The display names (`stage/stack`) of the stack artifacts, in manifest order, from the
    /// manifest alone: no template is parsed, unlike [`CloudAssembly::stacks`].
    pub fn stack_names(&self) -> Vec<&str> {
        self.manifest.stack_names()
    }

    /// The stack artifacts, in manifest order. Templates are parsed on every core; of several
    /// broken artifacts, the first in manifest order is reported.
    pub fn stacks(&self) -> Result<Vec<StackArtifact>> {
        let parsed: Vec<Result<StackArtifact>> = self
            .stack_artifacts()
            .par_iter()
            .map(|(id, artifact)| self.stack(id, artifact).and_then(StackOf::parse))
            .collect();
        parsed.into_iter().collect()
    }

    /// The stack artifacts, in manifest order, with their templates as text (none is parsed).
    pub fn unparsed_stacks(&self) -> Result<Vec<UnparsedStack<'_>>> {
        self.stack_artifacts()
            .into_iter()
            .map(|(id, artifact)| self.stack(id, artifact))
            .collect()
    }

    /// The manifest of the assembly in `dir`, and its stack artifacts in manifest order with
    /// their templates left on disk, each read when asked for ([`TemplateFile`]): what the diff
    /// of two assembly directories reads, a few templates at a time, rather than every
    /// template of both at once (340 MB for two 1,000-stage assemblies).
    pub fn read_stacks_lazily(dir: &Path) -> Result<(CloudAssembly, Vec<StackOf<TemplateFile>>)> {
        let (manifest, text) = read_manifest(dir)?;
        let assembly = CloudAssembly {
            manifest,
            files: BTreeMap::from([("manifest.json".to_owned(), text)]),
        };
        let stacks = assembly
            .stack_artifacts()
            .into_iter()
            .map(|(id, artifact)| {
                assembly.stack_with(id, artifact, |properties| {
                    let path = dir.join(&properties.template_file);
                    let size = fs::metadata(&path)
                        .map_err(io_err("cannot read", &path))?
                        .len();
                    Ok((
                        TemplateFile(path),
                        usize::try_from(size).unwrap_or(usize::MAX),
                    ))
                })
            })
            .collect::<Result<_>>()?;
        Ok((assembly, stacks))
    }

    fn stack_artifacts(&self) -> Vec<(&String, &Artifact)> {
        self.manifest
            .artifacts
            .iter()
            .filter(|(_, a)| a.kind == "aws:cloudformation:stack")
            .collect()
    }

    /// One stack artifact, its template as text.
    fn stack(&self, id: &str, artifact: &Artifact) -> Result<UnparsedStack<'_>> {
        self.stack_with(id, artifact, |properties| {
            let text =
                self.files
                    .get(&properties.template_file)
                    .ok_or_else(|| SynthError::Parse {
                        path: PathBuf::from("manifest.json"),
                        message: format!(
                            "artifact {id}: template {} is missing",
                            properties.template_file
                        ),
                    })?;
            Ok((text.as_str(), text.len()))
        })
    }

    /// One stack artifact, its template (and the template's size) what `template` gives for
    /// the artifact's properties.
    fn stack_with<T>(
        &self,
        id: &str,
        artifact: &Artifact,
        template: impl FnOnce(&StackProperties) -> Result<(T, usize)>,
    ) -> Result<StackOf<T>> {
        let bad = |message: String| SynthError::Parse {
            path: PathBuf::from("manifest.json"),
            message,
        };
        let properties: StackProperties =
            serde_json::from_value(artifact.properties.clone().unwrap_or_default())
                .map_err(|e| bad(format!("artifact {id}: {e}")))?;
        let env = artifact
            .environment
            .as_deref()
            .and_then(|e| e.strip_prefix("aws://"))
            .and_then(|e| e.split_once('/'))
            .map(|(a, r)| Environment::new(a, r))
            .ok_or_else(|| {
                bad(format!(
                    "artifact {id}: environment must be aws://ACCOUNT/REGION"
                ))
            })?;
        let (template, template_size) = template(&properties)?;
        let display_name = artifact
            .display_name
            .clone()
            .unwrap_or_else(|| id.to_owned());
        let stage = display_name
            .rsplit_once('/')
            .map(|(s, _)| s.to_owned())
            .unwrap_or_default();
        let mut cross_region = Vec::new();
        let mut env_parameters = Vec::new();
        let mut logical_ids = IndexMap::new();
        for (path, entries) in &artifact.metadata {
            for entry in entries {
                match entry.kind.as_str() {
                    LOGICAL_ID_METADATA => {
                        if let Some(lid) = entry.data.as_str() {
                            logical_ids.insert(path.clone(), lid.to_owned());
                        }
                    }
                    CROSS_REGION_METADATA => {
                        let link = serde_json::from_value(entry.data.clone())
                            .map_err(|e| bad(format!("artifact {id}: {e}")))?;
                        cross_region.push(link);
                    }
                    ENV_PARAMETER_METADATA => {
                        let p = serde_json::from_value(entry.data.clone())
                            .map_err(|e| bad(format!("artifact {id}: {e}")))?;
                        env_parameters.push(p);
                    }
                    _ => {}
                }
            }
        }
        let dependencies = artifact
            .dependencies
            .iter()
            .filter(|d| {
                self.manifest
                    .artifacts
                    .get(*d)
                    .is_some_and(|a| a.kind == "aws:cloudformation:stack")
            })
            .cloned()
            .collect();
        Ok(StackOf {
            id: id.to_owned(),
            display_name,
            stage,
            env,
            template_size,
            properties,
            template,
            dependencies,
            cross_region,
            env_parameters,
            logical_ids,
        })
    }

    /// Writes the assembly to `dir`, replacing what was there only once everything is written.
    /// Refuses ([`SynthError::NotAnAssembly`]) a `dir` that is a file, or a non-empty directory
    /// without a cloud assembly's `manifest.json`: only an assembly is ever replaced.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let writer = AssemblyWriter::new(dir)?;
        for (name, content) in &self.files {
            writer.put_str(name, content)?;
        }
        writer.commit()
    }

    /// Compares a subset of an app's stages with the whole assembly in `dir`: files only `dir`
    /// has are other stages' (not differences, and not read), and `manifest.json` and
    /// `tree.json` differ only where this assembly's own entries (or the schema version) do; their
    /// diffs show those entries alone.
    pub fn compare_subset_with_dir(&self, dir: &Path) -> Result<Vec<FileDifference>> {
        // The whole manifest and tree (21 MB and 45 MB at 1,000 stages) are read once, and not
        // diffed against the subset's: a line diff of files that unlike took minutes. Only this
        // subset's entries of them are parsed (the whole tree as values took 346 MB).
        let (mut differences, on_disk_files) =
            self.differences(dir, Some(&["manifest.json", "tree.json"]))?;
        for (name, entries) in [
            ("manifest.json", &["artifacts"][..]),
            ("tree.json", &["tree", "children"][..]),
        ] {
            let (Some(on_disk), Some(own)) = (on_disk_files.get(name), self.files.get(name)) else {
                continue;
            };
            // The subset's own entries name what to keep of the file on disk.
            let Some(own) = with_entries(own, entries, &|_| true) else {
                continue;
            };
            let wanted = entries
                .iter()
                .try_fold(&own, |value, key| value.get(key))
                .and_then(serde_json::Value::as_object);
            let keep = |id: &str| wanted.is_some_and(|w| w.contains_key(id));
            // A file on disk that is not JSON of that shape keeps its whole-file difference.
            let Some(on_disk) = with_entries(on_disk, entries, &keep) else {
                continue;
            };
            if on_disk == own {
                differences.retain(|d| d.file != name);
            } else if let Some(d) = differences.iter_mut().find(|d| d.file == name) {
                // Only this subset's entries: the other stages' are not the subset's business.
                d.diff = subset_diff(dir, name, &on_disk, &own)?;
            }
        }
        Ok(differences)
    }

    /// Compares with the assembly in `dir`: the files that differ, are missing or are extra,
    /// each with a short unified diff. Empty when `dir` holds exactly this assembly. A missing
    /// `dir` is every file missing; a directory or file that cannot be read is an error, never
    /// compared as empty.
    pub fn compare_with_dir(&self, dir: &Path) -> Result<Vec<FileDifference>> {
        self.differences(dir, None)
            .map(|(differences, _)| differences)
    }

    /// [`CloudAssembly::compare_with_dir`], and the files read from `dir`; with `subset`, only
    /// this assembly's files are read (others are not differences), and those named in it are
    /// not diffed.
    fn differences(
        &self,
        dir: &Path,
        subset: Option<&[&str]>,
    ) -> Result<(Vec<FileDifference>, BTreeMap<String, String>)> {
        let mut on_disk: BTreeMap<String, String> = BTreeMap::new();
        let entries = match fs::read_dir(dir) {
            Ok(entries) => Some(entries),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_err("cannot read", dir)(e)),
        };
        for entry in entries.into_iter().flatten() {
            let entry = entry.map_err(io_err("cannot read", dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if subset.is_some() && !self.files.contains_key(&name) {
                continue;
            }
            let path = entry.path();
            if path.is_file() {
                let text = fs::read_to_string(&path).map_err(io_err("cannot read", &path))?;
                on_disk.insert(name, text);
            }
        }
        let undiffed = subset.unwrap_or_default();
        let mut out = Vec::new();
        for (name, content) in &self.files {
            match on_disk.get(name) {
                None => out.push(FileDifference {
                    file: name.clone(),
                    kind: DifferenceKind::Missing,
                    diff: String::new(),
                }),
                Some(old) if old != content => out.push(FileDifference {
                    file: name.clone(),
                    kind: DifferenceKind::Changed,
                    diff: if undiffed.contains(&name.as_str()) {
                        String::new()
                    } else {
                        unified_diff(name, old, content)
                    },
                }),
                Some(_) => {}
            }
        }
        for name in on_disk.keys() {
            if !self.files.contains_key(name) {
                out.push(FileDifference {
                    file: name.clone(),
                    kind: DifferenceKind::Extra,
                    diff: String::new(),
                });
            }
        }
        Ok((out, on_disk))
    }
}

/// How long a file's diff may take: past it, the diff is coarser (whole runs of lines replaced
/// rather than the fewest lines), never slower. `--check` shows a few dozen of its lines.
const DIFF_TIME: std::time::Duration = std::time::Duration::from_millis(500);

/// A unified diff of a file of the assembly, committed against synthesized.
fn unified_diff(name: &str, old: &str, new: &str) -> String {
    similar::TextDiff::configure()
        .timeout(DIFF_TIME)
        .diff_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header(&format!("committed/{name}"), &format!("synthesized/{name}"))
        .to_string()
}

/// The JSON object `text` with the object at `path` (keys from the top) cut to the entries whose
/// keys `keep` accepts: only those entries are parsed, the others are skipped as text. `None`
/// when `text` is not a JSON object, or `path` does not lead to one.
fn with_entries(
    text: &str,
    path: &[&str],
    keep: &dyn Fn(&str) -> bool,
) -> Option<serde_json::Value> {
    let object: IndexMap<String, &serde_json::value::RawValue> = serde_json::from_str(text).ok()?;
    let entries = object.into_iter().filter_map(|(key, value)| match path {
        [] if !keep(&key) => None,
        [] => Some(serde_json::from_str(value.get()).map(|v| (key, v)).ok()),
        [first, rest @ ..] if key == *first => {
            Some(with_entries(value.get(), rest, keep).map(|v| (key, v)))
        }
        _ => Some(serde_json::from_str(value.get()).map(|v| (key, v)).ok()),
    });
    let object = entries.collect::<Option<serde_json::Map<_, _>>>()?;
    // The path must be there: a file without it is not the shape asked for.
    match path.first() {
        Some(first) if !object.contains_key(*first) => None,
        _ => Some(serde_json::Value::Object(object)),
    }
}

/// The diff of the part of a file a subset of stages has, committed against synthesized.
fn subset_diff<T: Serialize>(dir: &Path, name: &str, old: &T, new: &T) -> Result<String> {
    let render = |v: &T| {
        to_json_string(v).map_err(|e| SynthError::Parse {
            path: dir.join(name),
            message: format!("cannot render it: {e}"),
        })
    };
    Ok(unified_diff(name, &render(old)?, &render(new)?))
}

impl<'a> UnparsedStack<'a> {
    /// The stack with its template parsed ([`parse_template`]).
    pub fn parse(self) -> Result<StackArtifact> {
        let template = parse_template(&self.properties.template_file, self.template)?;
        Ok(self.with_template(template))
    }
}

impl<T> StackOf<T> {
    /// The same stack with another form of its template.
    pub fn with_template<U>(self, template: U) -> StackOf<U> {
        StackOf {
            id: self.id,
            display_name: self.display_name,
            stage: self.stage,
            env: self.env,
            properties: self.properties,
            template,
            template_size: self.template_size,
            dependencies: self.dependencies,
            cross_region: self.cross_region,
            env_parameters: self.env_parameters,
            logical_ids: self.logical_ids,
        }
    }
}

/// A stack's template as text: in memory (`&str`, [`UnparsedStack`]), or a file read each
/// time it is asked for ([`TemplateFile`]). What [`crate::diff::diff_assemblies`] reads.
pub trait TemplateText: Sync {
    /// The template's text.
    fn text(&self) -> Result<Cow<'_, str>>;
}

impl TemplateText for &str {
    fn text(&self) -> Result<Cow<'_, str>> {
        Ok(Cow::Borrowed(self))
    }
}

/// A template file of an assembly directory ([`CloudAssembly::read_stacks_lazily`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateFile(pub PathBuf);

impl TemplateText for TemplateFile {
    fn text(&self) -> Result<Cow<'_, str>> {
        fs::read_to_string(&self.0)
            .map(Cow::Owned)
            .map_err(io_err("cannot read", &self.0))
    }
}

impl<T: TemplateText + Clone> StackOf<T> {
    /// The stack with its template read and parsed ([`parse_template`]).
    pub fn read_and_parse(&self) -> Result<StackArtifact> {
        let template = parse_template(&self.properties.template_file, &self.template.text()?)?;
        Ok(self.clone().with_template(template))
    }
}

/// Parses a template file by its extension (JSON, or YAML for `.yaml`/`.yml`).
pub fn parse_template(file: &str, text: &str) -> Result<serde_json::Value> {
    let parsed = if file.ends_with(".yaml") || file.ends_with(".yml") {
        serde_yaml::from_str(text).map_err(|e| e.to_string())
    } else {
        serde_json::from_str(text).map_err(|e| e.to_string())
    };
    parsed.map_err(|message| SynthError::Parse {
        path: PathBuf::from(file),
        message,
    })
}

/// How a file of the directory differs from the synthesized assembly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DifferenceKind {
    /// Synthesized but not in the directory.
    Missing,
    /// In both, with other content.
    Changed,
    /// In the directory but no longer synthesized.
    Extra,
}

/// One file that differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDifference {
    /// The file name.
    pub file: String,
    /// Missing, changed or extra.
    pub kind: DifferenceKind,
    /// A unified diff, for changed files.
    pub diff: String,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::with_entries;

    #[test]
    fn keeps_the_entries_asked_for_at_the_path_and_everything_else_whole() {
        let text = r#"{"version":"1","tree":{"id":"App","children":{"a":{"x":[1]},"b\u0020c":{},"d":2}},"z":null}"#;
        let keep = |id: &str| id != "a";
        assert_eq!(
            with_entries(text, &["tree", "children"], &keep),
            Some(json!({"version":"1","tree":{"id":"App","children":{"b c":{},"d":2}},"z":null}))
        );
        // The order of the kept entries is the file's.
        let order = with_entries(text, &["tree", "children"], &|_| true).expect("parsed");
        let keys: Vec<&String> = order["tree"]["children"]
            .as_object()
            .expect("object")
            .keys()
            .collect();
        assert_eq!(keys, ["a", "b c", "d"]);
    }

    #[test]
    fn a_file_without_the_path_or_not_an_object_is_none() {
        let none = |text: &str| with_entries(text, &["tree", "children"], &|_| true);
        assert_eq!(none(r#"{"tree":{"id":"App"}}"#), None);
        assert_eq!(none(r#"{"tree":{"children":[1]}}"#), None);
        assert_eq!(none(r#"[1]"#), None);
        assert_eq!(none(r#"{"tree":{"children":{"a":1}"#), None);
    }
}
