//! `emrstack plan`: read AWS, compare with the stack, show what apply would
//! change, and optionally save the plan.

use std::path::PathBuf;

use crate::diff::Mode;
use crate::plan::Plan;
use crate::render;

use super::super::args::{GlobalArgs, OutputFormat, ReadArgs, StackArgs};
use super::super::output::Printer;
use super::super::session::{self, Stack};
use super::super::{EXIT_CHANGES, EXIT_ERROR, EXIT_OK};

/// The rendering of a plan in the chosen format.
pub fn rendered(plan: &Plan, format: OutputFormat, color: bool) -> String {
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
pub fn run(
    printer: &Printer,
    global: &GlobalArgs,
    stack: &StackArgs,
    read: &ReadArgs,
    format: OutputFormat,
    out: Option<&PathBuf>,
    detailed_exitcode: bool,
    mode: Mode,
) -> u8 {
    let Some(Stack {
        desired,
        sources,
        spans,
    }) = session::load_stack(printer, global, stack)
    else {
        return EXIT_ERROR;
    };
    let artifacts = match (mode, super::super::jobs::artifacts(&desired, &[])) {
        (Mode::Destroy, _) => Vec::new(),
        (_, Ok(artifacts)) => artifacts,
        (_, Err(error)) => {
            printer.error(&error);
            return EXIT_ERROR;
        }
    };
    let result = session::block_on(async {
        let cloud = session::connect(printer, global, desired.stack.region.as_deref()).await?;
        let planned = session::make_plan(&cloud, &desired, mode, read.parallelism).await?;
        session::print_discovery(printer, &planned.discovery, &cloud);
        let missing = super::super::jobs::missing(&cloud, &artifacts).await;
        Ok::<_, crate::cloud::CloudError>((planned, missing))
    });
    let (mut planned, missing) = match result {
        Ok(Ok(found)) => found,
        Ok(Err(error)) => {
            printer.error(&session::cloud_failure(&error));
            return EXIT_ERROR;
        }
        Err(error) => {
            printer.error(&format!("cannot start the async runtime: {error}"));
            return EXIT_ERROR;
        }
    };
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
            printer.error("the plan has errors; fix them and plan again");
            return EXIT_ERROR;
        }
    };
    printer.data(&rendered(&plan, format, printer.color_stdout));
    let missing = match missing {
        Ok(missing) => missing,
        Err(error) => {
            printer.error(&error);
            return EXIT_ERROR;
        }
    };
    // The artifacts are not part of the plan document: a human plan lists
    // them after the changes, a JSON or Markdown one on stderr.
    let lines = super::super::jobs::artifact_lines(&artifacts, &missing);
    match format {
        OutputFormat::Human => printer.data(&lines),
        _ if !lines.is_empty() => printer.message(&lines),
        _ => {}
    }
    if let Some(path) = out {
        if let Err(error) = plan.save(path) {
            printer.error(&error.to_string());
            return EXIT_ERROR;
        }
        printer.message(&format!(
            "Saved the plan to {}. Apply exactly this plan with: emrstack apply {}",
            path.display(),
            path.display()
        ));
    }
    match (detailed_exitcode, plan.has_changes()) {
        (true, true) => EXIT_CHANGES,
        _ => EXIT_OK,
    }
}
