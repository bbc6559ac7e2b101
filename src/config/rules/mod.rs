//! The validation rules, grouped by topic. Each rule reports a diagnostic
//! with a stable code at the offending value; `docs/config-reference.md`
//! lists every code.

use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::model::{Feature, ReleaseLabel};

use super::pipeline::{Effective, Parsed};

mod application;
mod capacity;
mod image;
mod monitoring;
mod network;
pub(crate) mod policy;
mod references;
mod repository;
mod role;
mod runtime;
mod stack;
mod tags;

/// Runs every rule on a parsed stack.
pub(crate) fn check(parsed: &Parsed, diagnostics: &mut Diagnostics) {
    stack::check(parsed, diagnostics);
    tags::check(parsed, diagnostics);
    network::check(parsed, diagnostics);
    references::check(parsed, diagnostics);
    repository::check(parsed, diagnostics);
    role::check(parsed, diagnostics);
    runtime::check_sources(parsed, diagnostics);
    monitoring::check_sources(parsed, diagnostics);
    let effective: Vec<Effective<'_>> = parsed.applications.iter().map(|app| parsed.effective(app)).collect();
    for app in &effective {
        application::check(parsed, app, diagnostics);
        image::check(parsed, app, diagnostics);
        capacity::check(parsed, app, diagnostics);
        runtime::check_application(parsed, app, diagnostics);
        monitoring::check_application(parsed, app, diagnostics);
    }
    capacity::check_quota(parsed, &effective, diagnostics);
}

/// Reports `feature` used at `span` when the application's release is older
/// than the feature. Returns whether the feature is available (or the
/// release unknown, which is reported elsewhere).
pub(crate) fn gate(
    parsed: &Parsed,
    app: &Effective<'_>,
    feature: Feature,
    span: Span,
    diagnostics: &mut Diagnostics,
) -> bool {
    let Some(release) = app.release else {
        return true;
    };
    if release.supports(feature) {
        return true;
    }
    let minimum: ReleaseLabel = feature.minimum_release();
    let mut diagnostic = Diagnostic::error(
        "release.feature",
        format!("{release} does not support {feature} (needs {minimum} or later)"),
    )
    .at(span)
    .with_help(format!(
        "set `release_label` to {minimum} or later, or remove this setting"
    ));
    if let Some(label) = &app.app.value.release_label {
        diagnostic = diagnostic.with_label(parsed.span(label), "release set here");
    }
    diagnostics.push(diagnostic);
    false
}

pub(crate) use monitoring::log_type_lists as monitoring_log_types;
