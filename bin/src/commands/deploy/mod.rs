//! `pantri deploy` and `pantri destroy`: synthesize the stage (or read `--app DIR`), then hand
//! the cloud assembly to the deploy engine.

use std::io::Write;
use std::path::{Path, PathBuf};

use pantri_synth::{App, SynthOptions};

use crate::cli::AppContext;
use crate::exit::Exit;

pub mod args;
mod results;
pub mod run;
mod run_plan;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_assets;
#[cfg(test)]
mod tests_guard;
#[cfg(test)]
mod tests_names;
#[cfg(test)]
mod tests_trust;

pub use args::{AwsArgs, DeployArgs, DestroyArgs, DriftArgs, StatusArgs};
pub use run::{
    deploy_with, destroy_with, drift_with, plan_with, run_deploy, run_destroy, run_drift, run_plan,
    run_status, status_with,
};

/// The assembly to deploy: `--app DIR` as it is, or a fresh synth of the stage in a temporary
/// directory (kept alive by the returned guard).
fn assembly_dir<F>(
    app: Option<&PathBuf>,
    stage: &str,
    ctx: &AppContext,
    build: &F,
    err: &mut dyn Write,
) -> anyhow::Result<(PathBuf, Option<tempfile::TempDir>)>
where
    F: Fn(&AppContext) -> anyhow::Result<App>,
{
    if let Some(dir) = app {
        return Ok((dir.clone(), None));
    }
    let tmp = tempfile::Builder::new()
        .prefix("pantri-deploy-")
        .tempdir()?;
    let dir = tmp.path().join("cdk.out");
    let options = SynthOptions {
        stages: vec![stage.to_owned()],
        // Asset sources are recorded relative to where the assembly is written.
        assembly_dir: dir.clone(),
        file_hashes: super::file_hashes(),
        ..SynthOptions::default()
    };
    super::build_and_write(ctx, build, &options, &dir, err)?;
    Ok((dir, Some(tmp)))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Runs `pantri deploy`; the preview is colored and fits the terminal when stdout is one.
pub fn deploy<F>(
    args: &DeployArgs,
    ctx: &AppContext,
    build: &F,
    no_color: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Exit>
where
    F: Fn(&AppContext) -> anyhow::Result<App>,
{
    let mut args = args.clone();
    args.color = super::use_color(no_color);
    args.width = super::terminal_width();
    if let Some(plan) = &args.plan {
        // A plan names its change sets: nothing is synthesized (its assets are published from
        // the assembly --app names).
        let exit = runtime()?.block_on(run_plan(&args, plan, out, err));
        return Ok(exit);
    }
    let stage = args.stage.as_deref().unwrap_or_default();
    let (dir, _guard) = assembly_dir(args.app.as_ref(), stage, ctx, build, err)?;
    let exit = runtime()?.block_on(run_deploy(&args, Path::new(&dir), out, err));
    Ok(exit)
}

/// Runs `pantri destroy`.
pub fn destroy<F>(
    args: &DestroyArgs,
    ctx: &AppContext,
    build: &F,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Exit>
where
    F: Fn(&AppContext) -> anyhow::Result<App>,
{
    let (dir, _guard) = assembly_dir(args.app.as_ref(), &args.stage, ctx, build, err)?;
    let exit = runtime()?.block_on(run_destroy(args, Path::new(&dir), out, err));
    Ok(exit)
}

/// Runs `pantri status`.
pub fn status<F>(
    args: &StatusArgs,
    ctx: &AppContext,
    build: &F,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Exit>
where
    F: Fn(&AppContext) -> anyhow::Result<App>,
{
    let (dir, _guard) = assembly_dir(args.app.as_ref(), &args.stage, ctx, build, err)?;
    let exit = runtime()?.block_on(run_status(args, Path::new(&dir), out, err));
    Ok(exit)
}

/// Runs `pantri drift`.
pub fn drift<F>(
    args: &DriftArgs,
    ctx: &AppContext,
    build: &F,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Exit>
where
    F: Fn(&AppContext) -> anyhow::Result<App>,
{
    let (dir, _guard) = assembly_dir(args.app.as_ref(), &args.stage, ctx, build, err)?;
    let exit = runtime()?.block_on(run_drift(args, Path::new(&dir), out, err));
    Ok(exit)
}
