//! `emrstack generate`: check the flags and the output paths, let
//! `adopt::generate` read the account and write the stack file, print the
//! file (or write it and its policy files) and the reports.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::adopt::generate::{self, GenerateError, GenerateOptions};
use crate::model::ApplicationState;

use super::super::EXIT_OK;
use super::super::args::{ApplicationStateArg, GlobalArgs, ReadArgs};
use super::super::error::CliError;
use super::super::output::Printer;
use super::super::session;

/// The flags of `generate`.
pub(super) struct Request {
    pub read: ReadArgs,
    pub stack_name: String,
    pub names: Vec<String>,
    pub tags: Vec<String>,
    pub states: Vec<ApplicationStateArg>,
    pub roles: Vec<String>,
    pub policy_files: bool,
    pub out: Option<PathBuf>,
    pub force: bool,
}

fn state(arg: ApplicationStateArg) -> ApplicationState {
    match arg {
        ApplicationStateArg::Creating => ApplicationState::Creating,
        ApplicationStateArg::Created => ApplicationState::Created,
        ApplicationStateArg::Starting => ApplicationState::Starting,
        ApplicationStateArg::Started => ApplicationState::Started,
        ApplicationStateArg::Stopping => ApplicationState::Stopping,
        ApplicationStateArg::Stopped => ApplicationState::Stopped,
    }
}

/// Refuses to overwrite `path` without `--force`.
fn free(path: &Path, force: bool) -> Result<(), CliError> {
    if path.exists() && !force {
        return Err(CliError::message(format!(
            "`{}` exists; pass --force to overwrite it, or choose another file with -o",
            path.display()
        )));
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), CliError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|error| CliError::message(format!("cannot create `{}`: {error}", parent.display())))?;
    }
    std::fs::write(path, text).map_err(|error| CliError::message(format!("cannot write `{}`: {error}", path.display())))
}

impl From<GenerateError> for CliError {
    fn from(error: GenerateError) -> CliError {
        match error {
            GenerateError::Cloud(error) => CliError::from(error),
            other => CliError::message(other.to_string()),
        }
    }
}

/// Runs `generate`.
pub(super) fn run(printer: &Printer, global: &GlobalArgs, request: Request) -> Result<ExitCode, CliError> {
    let mut tags = Vec::new();
    for tag in &request.tags {
        match tag.split_once('=') {
            Some((key, value)) if !key.is_empty() => tags.push((key.to_string(), value.to_string())),
            _ => return Err(CliError::message(format!("`--tag {tag}` is not KEY=VALUE"))),
        }
    }
    if let Some(out) = &request.out {
        free(out, request.force)?;
    }
    let options = GenerateOptions {
        stack_name: request.stack_name.clone(),
        names: request.names.clone(),
        tags,
        states: request.states.iter().copied().map(state).collect(),
        roles: request.roles.clone(),
        policy_files: request.policy_files,
        path: request.out.clone().unwrap_or_else(|| PathBuf::from("emrstack.toml")),
        parallelism: request.read.parallelism as usize,
    };
    let generated = session::block_on(async {
        let cloud = session::connect(printer, global, None).await?;
        Ok(generate::generate(&cloud, &options).await?)
    })?;
    for report in &generated.reports {
        printer.message(&report.to_string());
    }
    // Policy files go next to the stack file (the current directory when it
    // goes to stdout); none is written unless all of them may be.
    let base = request
        .out
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let targets: Vec<(PathBuf, &String)> = generated
        .files
        .iter()
        .map(|(relative, text)| (base.join(relative), text))
        .collect();
    let taken: Vec<CliError> = targets
        .iter()
        .filter_map(|(path, _)| free(path, request.force).err())
        .collect();
    if let Some((last, rest)) = taken.split_last() {
        for error in rest {
            printer.error(&error.to_string());
        }
        return Err(CliError::message(last.to_string()));
    }
    for (path, text) in &targets {
        write(path, text)?;
    }
    let count = generated.declared.len();
    match &request.out {
        Some(out) => {
            write(out, &generated.stack_file)?;
            printer.message(&format!(
                "Wrote `{}` ({count} resources{}). Review it, then run `emrstack import --all -f {}`.",
                out.display(),
                if targets.is_empty() {
                    String::new()
                } else {
                    format!(", {} policy files", targets.len())
                },
                out.display()
            ));
        }
        None => printer.data(&generated.stack_file),
    }
    Ok(ExitCode::from(EXIT_OK))
}
