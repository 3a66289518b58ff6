//! `pantri ls`: the stacks of the app (or of an assembly directory).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use pantri_synth::{App, CloudAssembly, SynthOptions};

use crate::cli::AppContext;
use crate::exit::Exit;

/// Arguments of `pantri ls`.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// Also show stage, stack name, environment, resource count and template size.
    #[arg(short, long)]
    pub long: bool,
    /// List the assets `pantri deploy` would publish (images, files, file trees), per stack,
    /// with their source and destination.
    #[arg(long, conflicts_with = "long")]
    pub assets: bool,
    /// Read an existing cloud assembly instead of synthesizing.
    #[arg(long, value_name = "DIR")]
    pub app: Option<PathBuf>,
}

/// Runs `pantri ls`.
pub fn run<F>(
    args: &LsArgs,
    ctx: &AppContext,
    build: &F,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Exit>
where
    F: Fn(&AppContext) -> anyhow::Result<App>,
{
    if args.app.is_none() && !args.long && !args.assets {
        // The stacks and their names are the tree's: building the app answers, synthesizing
        // it (most of the time `ls` took) does not add to the answer. The manifest lists the
        // stacks in the same order with the same names (`App::stacks`, `App::path`).
        for stack in super::built_stacks(ctx, build, err)? {
            writeln!(out, "{stack}")?;
        }
        return Ok(Exit::Success);
    }
    let assembly = match &args.app {
        Some(dir) => CloudAssembly::read(dir)?,
        // The problems go to stderr, as every command's do: an error counted but not shown
        // left the user nothing to fix.
        None => {
            let options = SynthOptions {
                file_hashes: super::file_hashes(),
                ..SynthOptions::default()
            };
            super::build_and_synthesize(ctx, build, &options, err)?.assembly
        }
    };
    if args.assets {
        let dir = args
            .app
            .clone()
            .unwrap_or_else(|| SynthOptions::default().assembly_dir);
        let assets = crate::assets::AssemblyAssets::from_assembly(&assembly, &dir)?;
        let rows = assets.rows(&assembly.stacks()?);
        if rows.is_empty() {
            writeln!(out, "no assets")?;
        } else {
            let header = ["STACK", "ASSET", "KIND", "SOURCE", "DESTINATION"];
            write!(out, "{}", crate::table::render(header, &rows, "", "  "))?;
        }
        return Ok(Exit::Success);
    }
    if !args.long {
        // An assembly's names are in its manifest; only --long needs the templates parsed.
        for name in assembly.stack_names() {
            writeln!(out, "{name}")?;
        }
        return Ok(Exit::Success);
    }
    let stacks = assembly.stacks()?;
    let rows: Vec<[String; 6]> = stacks
        .iter()
        .map(|s| {
            let resources = s
                .template
                .get("Resources")
                .and_then(|r| r.as_object())
                .map_or(0, |r| r.len());
            [
                s.display_name.clone(),
                s.properties.stack_name.clone(),
                s.env.region.clone(),
                s.env.account.clone(),
                resources.to_string(),
                format!("{:.1} KiB", s.template_size as f64 / 1024.0),
            ]
        })
        .collect();
    let header = [
        "STACK",
        "NAME",
        "REGION",
        "ACCOUNT",
        "RESOURCES",
        "TEMPLATE",
    ];
    write!(out, "{}", crate::table::render(header, &rows, "", "  "))?;
    Ok(Exit::Success)
}
