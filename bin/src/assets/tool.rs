//! [`ContainerTool`] over a container CLI process (`docker`, or `finch`/`podman` when
//! `PANTRI_CONTAINER_CLI` names one), and a registry on this machine for tests and offline
//! work (`PANTRI_IMAGE_REGISTRY=127.0.0.1:5000`).
//!
//! On a terminal the tool's own progress display is shown as it is. Otherwise its output is
//! forwarded as plain lines (BuildKit's `plain` progress) while it runs, and the last lines are
//! kept for the error when it fails.

use std::collections::VecDeque;
use std::io::IsTerminal;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

use super::api::{BuildRequest, ContainerTool, ImageRegistry, RegistryLogin, ToolFailure};
use crate::deploy::api::ApiResult;

/// The environment variable naming the container CLI (default `docker`).
pub const CONTAINER_CLI_VARIABLE: &str = "PANTRI_CONTAINER_CLI";
/// The environment variable naming a registry to use instead of ECR (`host:port`).
pub const REGISTRY_VARIABLE: &str = "PANTRI_IMAGE_REGISTRY";
/// How many lines of a failing command's output the error shows.
pub const TAIL_LINES: usize = 20;

/// A container CLI run as a child process.
#[derive(Clone, Debug)]
pub struct ProcessTool {
    program: String,
    terminal: bool,
    echo: bool,
}

impl ProcessTool {
    /// The CLI `PANTRI_CONTAINER_CLI` names, or `docker`; progress goes to the terminal when
    /// stderr is one.
    pub fn from_env() -> Self {
        let program = std::env::var(CONTAINER_CLI_VARIABLE)
            .ok()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "docker".to_owned());
        ProcessTool {
            program,
            terminal: std::io::stderr().is_terminal(),
            echo: true,
        }
    }

    /// Keeps the tool's output to itself (for quick checks such as `manifest inspect`).
    fn quiet(&self) -> Self {
        ProcessTool {
            echo: false,
            terminal: false,
            ..self.clone()
        }
    }

    async fn run(&self, args: &[String], stdin: Option<&str>) -> Result<(), ToolFailure> {
        let command = format!("{} {}", self.program, args.join(" "));
        let failure = |status: String, tail: Vec<String>| ToolFailure {
            command: command.clone(),
            status,
            tail,
        };
        let mut cmd = Command::new(&self.program);
        cmd.args(args).kill_on_drop(true);
        if !self.terminal {
            cmd.env("BUILDKIT_PROGRESS", "plain");
        }
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        if self.terminal {
            cmd.stdout(Stdio::inherit()).stderr(Stdio::inherit());
        } else {
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        }
        let mut child = cmd.spawn().map_err(|e| {
            failure(
                format!("cannot run {}: {e} (install it, or name another CLI in {CONTAINER_CLI_VARIABLE})", self.program),
                Vec::new(),
            )
        })?;
        if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
            let written = input.write_all(text.as_bytes()).await;
            drop(input);
            written.map_err(|e| failure(format!("cannot write to its input: {e}"), Vec::new()))?;
        }
        let mut tail: VecDeque<String> = VecDeque::new();
        if let (Some(out), Some(err)) = (child.stdout.take(), child.stderr.take()) {
            let mut out = BufReader::new(out).lines();
            let mut err = BufReader::new(err).lines();
            let (mut out_open, mut err_open) = (true, true);
            while out_open || err_open {
                let line = tokio::select! {
                    l = out.next_line(), if out_open => l.unwrap_or(None).or_else(|| { out_open = false; None }),
                    l = err.next_line(), if err_open => l.unwrap_or(None).or_else(|| { err_open = false; None }),
                };
                if let Some(line) = line {
                    if self.echo {
                        eprintln!("  {line}");
                    }
                    if tail.len() == TAIL_LINES {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
            }
        }
        let status = child
            .wait()
            .await
            .map_err(|e| failure(e.to_string(), Vec::new()))?;
        if status.success() {
            Ok(())
        } else {
            Err(failure(status.to_string(), tail.into_iter().collect()))
        }
    }
}

impl ContainerTool for ProcessTool {
    fn name(&self) -> &str {
        &self.program
    }

    async fn login(&self, host: &str, login: &RegistryLogin) -> Result<(), ToolFailure> {
        let args = [
            "login".to_owned(),
            "--username".to_owned(),
            login.username.clone(),
            "--password-stdin".to_owned(),
            host.to_owned(),
        ];
        self.run(&args, Some(&login.password)).await
    }

    async fn build(&self, request: &BuildRequest<'_>) -> Result<(), ToolFailure> {
        let mut args = vec![
            "build".to_owned(),
            "--tag".to_owned(),
            request.image.to_owned(),
            "--file".to_owned(),
            request
                .context
                .join(request.dockerfile)
                .to_string_lossy()
                .into_owned(),
        ];
        for (k, v) in request.build_args {
            args.push("--build-arg".to_owned());
            args.push(format!("{k}={v}"));
        }
        if let Some(t) = request.target {
            args.push("--target".to_owned());
            args.push(t.to_owned());
        }
        if let Some(p) = request.platform {
            args.push("--platform".to_owned());
            args.push(p.to_owned());
        }
        args.push(request.context.to_string_lossy().into_owned());
        self.run(&args, None).await
    }

    async fn push(&self, image: &str) -> Result<(), ToolFailure> {
        self.run(&["push".to_owned(), image.to_owned()], None).await
    }
}

/// A plain registry at `host:port` (no login): asks it through the CLI's own registry client
/// (`manifest inspect`) whether a tag exists.
#[derive(Clone, Debug)]
pub struct PlainRegistry {
    /// `host:port`.
    pub host: String,
    /// The CLI that asks.
    pub tool: ProcessTool,
}

impl ImageRegistry for PlainRegistry {
    fn host(&self, _account: &str, _region: &str) -> String {
        self.host.clone()
    }

    async fn has_tag(&self, repository: &str, tag: &str) -> ApiResult<bool> {
        let image = format!("{}/{repository}:{tag}", self.host);
        let args = [
            "manifest".to_owned(),
            "inspect".to_owned(),
            "--insecure".to_owned(),
            image,
        ];
        Ok(self.tool.quiet().run(&args, None).await.is_ok())
    }

    async fn login(&self) -> ApiResult<Option<RegistryLogin>> {
        Ok(None)
    }
}
