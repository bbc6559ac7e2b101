//! The validation rules, grouped by topic. Each rule reports a diagnostic
//! with a stable code at the offending value; `docs/config-reference.md`
//! lists every code.

use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::model::{Feature, ReleaseLabel};

use super::pipeline::{Effective, Parsed};

mod application;
mod capacity;
mod image;
mod job;
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
    job::check(parsed, diagnostics);
}

/// Reports `feature` used at `span` when the application's release is older
/// than the release that introduced it. Returns whether the feature is
/// available (or the release unknown, which is reported elsewhere).
///
/// This is a warning, never an error: every gate rests on a "supported from
/// release X" statement (release notes, the user guide, the API reference),
/// and none on a documented refusal. terraform-provider-aws creates ARM64
/// applications on emr-6.6.0 although the release notes introduce Graviton
/// with emr-6.9.0, and features set through runtime properties are free-form
/// to the API, so EMR Serverless accepts them on any release.
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
    let mut diagnostic = Diagnostic::warning(
        "release.feature",
        format!("{release} is older than {minimum}, the release that introduced {feature}"),
    )
    .at(span)
    .with_help(format!(
        "{}; set `release_label` to {minimum} or later to be sure it takes effect",
        gate_reason(feature)
    ));
    if let Some(label) = &app.app.value.release_label {
        diagnostic = diagnostic.with_label(parsed.span(label), "release set here");
    }
    diagnostics.push(diagnostic);
    false
}

/// Why a release gate is a warning: what the gate rests on, and that no
/// refusal by the service is documented.
fn gate_reason(feature: Feature) -> &'static str {
    match feature {
        Feature::Arm64 => {
            "the release notes introduce Graviton with emr-6.9.0, but the user guide's own example uses emr-6.8.0 and terraform-provider-aws creates ARM64 applications on emr-6.6.0, so EMR Serverless may accept it"
        }
        Feature::Scheduler => {
            "the API reference says the scheduler is \"supported with release labels emr-7.0.0 and above\" but documents no error for older ones"
        }
        Feature::CustomImages
        | Feature::WorkerTypeImages
        | Feature::InteractiveStudio
        | Feature::InteractiveLivy
        | Feature::InteractiveSessions
        | Feature::ShuffleOptimizedDisks
        | Feature::Prometheus
        | Feature::IdentityCenter => {
            "the release notes introduce it with that release; EMR Serverless documents no error for older releases, so it may accept the setting and ignore it"
        }
        Feature::Log4j2Classifications
        | Feature::TezVertexCleanupHeight
        | Feature::LakeFormation
        | Feature::InterWorkerTls
        | Feature::Java17
        | Feature::S3AccessGrants => {
            "runtime configuration is free-form to the API, so EMR Serverless accepts the application, but older releases ignore the setting or fail jobs"
        }
    }
}

pub(crate) use monitoring::log_type_lists as monitoring_log_types;
