//! The reference app synthesized in memory, and the lookups the assertion files share.
// Each test file that includes this module uses a part of it.
#![allow(dead_code)]

use std::path::Path;

use pantri::cli::AppContext;
use pantri_synth::assembly::StackArtifact;
use pantri_synth::{synthesize, SynthOptions};
use pantri_tests::workspace_root;
use serde_json::Value;

pub fn stacks_of(stages_dir: &Path) -> Vec<StackArtifact> {
    let app = pantri::app::build(&AppContext {
        stages_dir: stages_dir.to_path_buf(),
    })
    .unwrap_or_else(|e| panic!("reference app: {e:#}"));
    let synthesis = synthesize(&app, &SynthOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    synthesis
        .assembly
        .stacks()
        .unwrap_or_else(|e| panic!("{e}"))
}

pub fn reference() -> Vec<StackArtifact> {
    stacks_of(&workspace_root().join("stages"))
}

pub fn stack<'a>(stacks: &'a [StackArtifact], display: &str) -> &'a StackArtifact {
    stacks
        .iter()
        .find(|s| s.display_name == display)
        .unwrap_or_else(|| panic!("no stack {display}"))
}

pub fn resources<'a>(s: &'a StackArtifact, type_name: &str) -> Vec<(&'a String, &'a Value)> {
    s.template["Resources"]
        .as_object()
        .map(|m| m.iter().filter(|(_, r)| r["Type"] == type_name).collect())
        .unwrap_or_default()
}

pub fn all_resources(stacks: &[StackArtifact]) -> Vec<(&str, &String, &Value)> {
    stacks
        .iter()
        .flat_map(|s| {
            s.template["Resources"]
                .as_object()
                .into_iter()
                .flat_map(|m| m.iter().map(|(id, r)| (s.display_name.as_str(), id, r)))
        })
        .collect()
}

pub fn as_list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}
