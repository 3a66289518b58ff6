//! The Pantri reference app: the infrastructure of the Pantri Next.js application, one stage per
//! settings file in `stages/`.

pub mod settings;

use anyhow::Context;
use indexmap::IndexMap;
use pantri_synth::{App, Environment, RawResource, StackProps, Value};

use crate::cli::AppContext;
pub use settings::StageSettings;

/// Builds the app from the stage settings files.
pub fn build(ctx: &AppContext) -> anyhow::Result<App> {
    let mut app = App::new();
    let files = crate::settings::stage_files(&ctx.stages_dir)?;
    anyhow::ensure!(
        !files.is_empty(),
        "{}: no stage settings files (*.yaml)",
        ctx.stages_dir.display()
    );
    for (name, file) in files {
        let settings: StageSettings = crate::settings::load(&file)?;
        settings
            .validate()
            .with_context(|| format!("{}", file.display()))?;
        add_stage(&mut app, &name, &settings);
    }
    Ok(app)
}

/// Adds one stage's stacks.
pub fn add_stage(app: &mut App, name: &str, s: &StageSettings) {
    let mut root = app.root();
    let mut stage = root.stage(name, Environment::new(&s.account, &s.region));
    stage.tag("Application", &s.app_name);
    stage.tag("Environment", &s.environment);
    let mut network = stage.stack(
        "Network",
        StackProps {
            stack_name: Some(format!("{}-{name}-network", s.app_name)),
            description: Some(format!("{} {name}: network", s.app_name)),
            termination_protection: s.termination_protection,
            ..StackProps::default()
        },
    );
    let mut props = IndexMap::new();
    props.insert("CidrBlock".to_owned(), Value::from(s.vpc_cidr.as_str()));
    props.insert("EnableDnsHostnames".to_owned(), Value::from(true));
    props.insert("EnableDnsSupport".to_owned(), Value::from(true));
    network.raw_resource(
        "Vpc",
        RawResource {
            type_name: "AWS::EC2::VPC".to_owned(),
            properties: props,
        },
    );
}
