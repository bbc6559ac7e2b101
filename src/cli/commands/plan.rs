//! `emrstack plan`: read AWS, compare with the stack, show what apply would
//! change, and optionally save the plan.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::diff::Mode;
use crate::plan::Plan;
use crate::planning;
use crate::render;

use super::super::args::{GlobalArgs, OutputFormat, ReadArgs, StackArgs};
use super::super::error::CliError;
use super::super::output::Printer;
use super::super::session::{self, Stack};
use super::super::{EXIT_CHANGES, EXIT_OK};

/// The rendering of a plan in the chosen format.
pub(super) fn rendered(plan: &Plan, format: OutputFormat, color: bool) -> String {
    match format {
        OutputFormat::Human => render::plan::human(plan, &render::plan::HumanOptions { color }),
        OutputFormat::Json => render::json::plan(plan),
        OutputFormat::Markdown => render::markdown::plan(plan),
    }
}

/// The JSON printed instead of a plan that has errors: `format_version`,
/// `applyable: false` and the diagnostics, as `validate --format json` gives them.
fn errors_document(list: &crate::diag::Diagnostics, sources: &crate::diag::Sources) -> String {
    let diagnostics = render::diagnostics::json(list, sources);
    let document = serde_json::json!({
        "format_version": crate::plan::FORMAT_VERSION,
        "applyable": false,
        "diagnostics": diagnostics["diagnostics"],
    });
    format!("{}\n", serde_json::to_string_pretty(&document).unwrap_or_default())
}

/// Runs `plan` (of `mode`) and returns the exit code.
#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    printer: &Printer,
    global: &GlobalArgs,
    stack: &StackArgs,
    read: &ReadArgs,
    format: OutputFormat,
    out: Option<&PathBuf>,
    detailed_exitcode: bool,
    mode: Mode,
) -> Result<ExitCode, CliError> {
    let Stack {
        desired,
        sources,
        spans,
    } = session::load_stack(printer, global, stack)?;
    let artifacts = match mode {
        Mode::Destroy => Vec::new(),
        Mode::Apply => super::super::jobs::artifacts(&desired, &[])?,
    };
    let (mut planned, missing) = session::block_on(async {
        let cloud = session::connect(printer, global, desired.stack.region.as_deref()).await?;
        let planned = planning::plan(&cloud, &desired, mode, &session::observe_options(read.parallelism)).await?;
        session::print_discovery(printer, &planned.discovery, &cloud);
        let missing = super::super::jobs::missing(&cloud, &artifacts).await;
        Ok((planned, missing))
    })?;
    session::place(&mut planned.diagnostics, &spans);
    session::print_diagnostics(printer, &planned.diagnostics, &sources);
    let plan = match planned.plan {
        Some(plan) if !planned.diagnostics.has_errors() => plan,
        _ => {
            // A plan with errors is not shown, like Terraform: parts of it
            // (a create that conflicts with an existing resource) would be
            // wrong. A program reading JSON still gets a document saying why.
            if format == OutputFormat::Json {
                printer.data(&errors_document(&planned.diagnostics, &sources));
            }
            return Err(CliError::message("the plan has errors; fix them and plan again"));
        }
    };
    printer.data(&rendered(&plan, format, printer.color_stdout));
    let missing = missing?;
    // The artifacts are not part of the plan document: a human plan lists
    // them after the changes, a JSON or Markdown one on stderr.
    let lines = super::super::jobs::artifact_lines(&artifacts, &missing);
    match format {
        OutputFormat::Human => printer.data(&lines),
        _ if !lines.is_empty() => printer.message(&lines),
        _ => {}
    }
    if let Some(path) = out {
        plan.save(path).map_err(|error| CliError::message(error.to_string()))?;
        printer.message(&format!(
            "Saved the plan to {}. Apply exactly this plan with: emrstack apply {}",
            path.display(),
            path.display()
        ));
    }
    // An upload is something `apply` would do, so it counts as a change.
    let uploads = missing.iter().any(|missing| *missing);
    Ok(ExitCode::from(
        match (detailed_exitcode, plan.has_changes() || uploads) {
            (true, true) => EXIT_CHANGES,
            _ => EXIT_OK,
        },
    ))
}
