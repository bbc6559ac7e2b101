//! `emrstack generate`: check the flags and the output paths, let
//! `adopt::generate` read the account and write the stack file, print the
//! file (or write it and its policy files) and the reports.

use std::path::{Path, PathBuf};

use crate::adopt::generate::{self, GenerateError, GenerateOptions};
use crate::model::ApplicationState;

use super::super::args::{ApplicationStateArg, GlobalArgs, ReadArgs};
use super::super::output::Printer;
use super::super::session;
use super::super::{EXIT_ERROR, EXIT_OK};

/// The flags of `generate`.
pub struct Request {
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
fn free(printer: &Printer, path: &Path, force: bool) -> bool {
    if path.exists() && !force {
        printer.error(&format!(
            "`{}` exists; pass --force to overwrite it, or choose another file with -o",
            path.display()
        ));
        return false;
    }
    true
}

fn write(printer: &Printer, path: &Path, text: &str) -> bool {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && let Err(error) = std::fs::create_dir_all(parent)
    {
        printer.error(&format!("cannot create `{}`: {error}", parent.display()));
        return false;
    }
    match std::fs::write(path, text) {
        Ok(()) => true,
        Err(error) => {
            printer.error(&format!("cannot write `{}`: {error}", path.display()));
            false
        }
    }
}

/// Runs `generate`.
pub fn run(printer: &Printer, global: &GlobalArgs, request: Request) -> u8 {
    let mut tags = Vec::new();
    for tag in &request.tags {
        match tag.split_once('=') {
            Some((key, value)) if !key.is_empty() => tags.push((key.to_string(), value.to_string())),
            _ => {
                printer.error(&format!("`--tag {tag}` is not KEY=VALUE"));
                return EXIT_ERROR;
            }
        }
    }
    if let Some(out) = &request.out
        && !free(printer, out, request.force)
    {
        return EXIT_ERROR;
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
    let result = session::block_on(async {
        let cloud = session::connect(printer, global, None).await?;
        Ok::<_, GenerateError>(generate::generate(&cloud, &options).await)
    });
    let generated = match result {
        Ok(Ok(Ok(generated))) => generated,
        Ok(Ok(Err(GenerateError::Cloud(error)))) | Ok(Err(GenerateError::Cloud(error))) => {
            printer.error(&session::cloud_failure(&error));
            return EXIT_ERROR;
        }
        Ok(Ok(Err(error))) | Ok(Err(error)) => {
            printer.error(&error.to_string());
            return EXIT_ERROR;
        }
        Err(error) => {
            printer.error(&format!("cannot start the async runtime: {error}"));
            return EXIT_ERROR;
        }
    };
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
    if !targets.iter().all(|(path, _)| free(printer, path, request.force)) {
        return EXIT_ERROR;
    }
    for (path, text) in &targets {
        if !write(printer, path, text) {
            return EXIT_ERROR;
        }
    }
    let count = generated.declared.len();
    match &request.out {
        Some(out) => {
            if !write(printer, out, &generated.stack_file) {
                return EXIT_ERROR;
            }
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
    EXIT_OK
}
