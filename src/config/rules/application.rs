//! Application rules: name, release label (V-REL-03, known releases),
//! architecture, auto-stop, scheduler, interactive (V-APP-03), disk
//! encryption, Identity Center, and worker type keys per engine (V-CAP-08).

use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::model::release::{KNOWN_RELEASES, MINIMUM_RELEASE, NEWEST_KNOWN_RELEASE};
use crate::model::{Engine, Feature, ReleaseLabel};

use super::super::pipeline::{Effective, Parsed};
use super::super::raw::{RawArchitecture, RawWorkerTypes, Sp, Toggle};
use super::super::text::{is_application_name, is_identity_center_arn, is_kms_key_arn};
use super::gate;
use super::references::aws_name;

pub(super) fn check(parsed: &Parsed, app: &Effective<'_>, diagnostics: &mut Diagnostics) {
    let raw = &app.app.value;
    check_name(parsed, app, diagnostics);
    check_release(parsed, app, diagnostics);
    if let Some(architecture) = &raw.architecture
        && *architecture.get() == RawArchitecture::Arm64
    {
        gate(parsed, app, Feature::Arm64, parsed.span(architecture), diagnostics);
    }
    if let Some(auto_stop) = &raw.auto_stop
        && let Toggle::Table(table) = auto_stop.get()
        && let Some(minutes) = &table.idle_timeout_minutes
        && !(1..=10080).contains(minutes.get())
    {
        diagnostics.push(
            Diagnostic::error(
                "auto-stop.idle-timeout",
                format!(
                    "`idle_timeout_minutes` is {}; it must be 1 to 10080 (7 days)",
                    minutes.get()
                ),
            )
            .at(parsed.span(minutes)),
        );
    }
    if let Some(scheduler) = &raw.scheduler {
        gate(parsed, app, Feature::Scheduler, parsed.span(scheduler), diagnostics);
    }
    if let Some(scheduler) = &raw.scheduler
        && let Toggle::Table(scheduler) = scheduler.get()
    {
        if let Some(runs) = &scheduler.max_concurrent_runs
            && !(1..=1000).contains(runs.get())
        {
            diagnostics.push(
                Diagnostic::error(
                    "scheduler.max-concurrent-runs",
                    format!("`max_concurrent_runs` is {}; it must be 1 to 1000", runs.get()),
                )
                .at(parsed.span(runs)),
            );
        }
        if let Some(minutes) = &scheduler.queue_timeout_minutes
            && !(15..=720).contains(minutes.get())
        {
            diagnostics.push(
                Diagnostic::error(
                    "scheduler.queue-timeout",
                    format!("`queue_timeout_minutes` is {}; it must be 15 to 720", minutes.get()),
                )
                .at(parsed.span(minutes)),
            );
        }
    }
    if let Some(interactive) = &raw.interactive {
        let flags = [
            (&interactive.studio_enabled, Feature::InteractiveStudio),
            (&interactive.livy_endpoint_enabled, Feature::InteractiveLivy),
            (&interactive.session_enabled, Feature::InteractiveSessions),
        ];
        let enabled: Vec<(&Sp<bool>, Feature)> = flags
            .into_iter()
            .filter_map(|(flag, feature)| flag.as_ref().filter(|f| *f.get()).map(|f| (f, feature)))
            .collect();
        if app.engine == Some(Engine::Hive) && !enabled.is_empty() {
            diagnostics.push(
                engine_label(
                    parsed,
                    app,
                    Diagnostic::error("interactive.engine", "interactive workloads need a SPARK application")
                        .at(parsed.span(interactive))
                        .with_help("EMR Studio notebooks, Livy and sessions run Spark; remove `interactive` or use `type = \"SPARK\"`"),
                ),
            );
        } else {
            for (flag, feature) in enabled {
                gate(parsed, app, feature, parsed.span(flag), diagnostics);
            }
        }
    }
    if let Some(encryption) = &raw.disk_encryption {
        if let Some(key) = &encryption.encryption_key_arn
            && !is_kms_key_arn(key.get())
        {
            kms_error(parsed.span(key), key.get(), diagnostics);
        }
        if let Some(context) = &encryption.encryption_context {
            if context.len() > 8 {
                diagnostics.push(
                    Diagnostic::error(
                        "disk-encryption.context",
                        format!(
                            "`encryption_context` has {} entries; at most 8 are allowed",
                            context.len()
                        ),
                    )
                    .at(parsed.span(context)),
                );
            }
            for (name, value) in context.get() {
                if !(1..=128).contains(&name.chars().count()) {
                    diagnostics.push(
                        Diagnostic::error(
                            "disk-encryption.context",
                            "encryption context keys are 1 to 128 characters",
                        )
                        .at(parsed.span(name)),
                    );
                }
                if !(1..=384).contains(&value.chars().count()) {
                    diagnostics.push(
                        Diagnostic::error(
                            "disk-encryption.context",
                            "encryption context values are 1 to 384 characters",
                        )
                        .at(parsed.span(value)),
                    );
                }
            }
        }
    }
    if let Some(identity) = &raw.identity_center {
        gate(parsed, app, Feature::IdentityCenter, parsed.span(identity), diagnostics);
        if let Some(arn) = &identity.instance_arn
            && !is_identity_center_arn(arn.get())
        {
            diagnostics.push(
                Diagnostic::error(
                    "identity-center.instance-arn",
                    format!("`{}` is not an Identity Center instance ARN", arn.get()),
                )
                .at(parsed.span(arn))
                .with_help("write `arn:aws:sso:::instance/ssoins-` followed by 16 characters"),
            );
        }
    }
    if let Some(capacity) = &raw.initial_capacity {
        check_worker_keys(parsed, app, capacity.get(), diagnostics);
    }
    if let Some(specifications) = &raw.worker_type_specifications {
        check_worker_keys(parsed, app, specifications.get(), diagnostics);
    }
}

/// Reports a malformed KMS key ARN.
pub(crate) fn kms_error(span: Span, value: &str, diagnostics: &mut Diagnostics) {
    diagnostics.push(
        Diagnostic::error("kms.key-arn", format!("`{value}` is not a KMS key ARN"))
            .at(span)
            .with_help("write `arn:aws:kms:<region>:<account>:key/<key-id>`; aliases are not accepted here"),
    );
}

fn check_name(parsed: &Parsed, app: &Effective<'_>, diagnostics: &mut Diagnostics) {
    let raw = &app.app.value;
    let help = "application names are 1 to 64 letters, digits and `. _ / # -`";
    match (&raw.name, aws_name(parsed, &app.app.key, raw.name.as_ref())) {
        (Some(name), _) if !is_application_name(name.get()) => diagnostics.push(
            Diagnostic::error(
                "application.name",
                format!("`{}` is not a valid application name", name.get()),
            )
            .at(parsed.span(name))
            .with_help(help),
        ),
        (None, Some((name, _))) if !is_application_name(&name) => diagnostics.push(
            Diagnostic::error(
                "application.name",
                format!("the default application name `{name}` is not valid"),
            )
            .at(app.app.header.clone())
            .with_help(format!("{help}; set `name`")),
        ),
        _ => {}
    }
}

/// Adds a label at the application's `type`, when it is written.
pub(crate) fn engine_label(parsed: &Parsed, app: &Effective<'_>, diagnostic: Diagnostic) -> Diagnostic {
    match (&app.app.value.engine, app.engine) {
        (Some(engine), Some(kind)) => diagnostic.with_label(parsed.span(engine), format!("the application is {kind}")),
        _ => diagnostic,
    }
}

fn check_release(parsed: &Parsed, app: &Effective<'_>, diagnostics: &mut Diagnostics) {
    let Some(label) = &app.app.value.release_label else {
        return;
    };
    let span = parsed.span(label);
    match ReleaseLabel::parse(label.get()) {
        None => diagnostics.push(
            Diagnostic::error("release.format", format!("`{}` is not a release label", label.get()))
                .at(span)
                .with_help(format!("write `emr-X.Y.Z`, for example `{NEWEST_KNOWN_RELEASE}`")),
        ),
        Some(release) if release < MINIMUM_RELEASE => diagnostics.push(
            Diagnostic::error("release.unsupported", format!("EMR Serverless does not run {release}"))
                .at(span)
                .with_help(format!("the oldest EMR Serverless release is {MINIMUM_RELEASE}")),
        ),
        Some(release) if !release.is_known() => {
            let message = if release > NEWEST_KNOWN_RELEASE {
                format!("{release} is newer than the releases emrstack knows (up to {NEWEST_KNOWN_RELEASE})")
            } else {
                let nearest = KNOWN_RELEASES.iter().rfind(|known| **known < release);
                match nearest {
                    Some(nearest) => {
                        format!("{release} is not a known EMR Serverless release (the nearest older one is {nearest})")
                    }
                    None => format!("{release} is not a known EMR Serverless release"),
                }
            };
            diagnostics.push(Diagnostic::warning("release.unknown", message).at(span).with_help(
                "check the label with `aws emr-serverless list-release-labels`; feature checks treat it by its number",
            ));
        }
        Some(_) => {}
    }
}

fn check_worker_keys<T>(
    parsed: &Parsed,
    app: &Effective<'_>,
    workers: &RawWorkerTypes<T>,
    diagnostics: &mut Diagnostics,
) {
    let Some(engine) = app.engine else {
        return;
    };
    for (key, value) in workers.entries() {
        let (valid, suggestion) = match (engine, key) {
            (Engine::Spark, "driver" | "executor") | (Engine::Hive, "hive_driver" | "tez_task") => (true, ""),
            (Engine::Spark, "hive_driver") => (false, "driver"),
            (Engine::Spark, _) => (false, "executor"),
            (Engine::Hive, "driver") => (false, "hive_driver"),
            (Engine::Hive, _) => (false, "tez_task"),
        };
        if valid {
            continue;
        }
        let keys = match engine {
            Engine::Spark => "`driver` and `executor`",
            Engine::Hive => "`hive_driver` and `tez_task`",
        };
        diagnostics.push(engine_label(
            parsed,
            app,
            Diagnostic::error(
                "application.worker-type",
                format!("`{key}` is not a worker type of {engine} applications"),
            )
            .at(parsed.span(value))
            .with_help(format!(
                "{engine} applications have {keys}; did you mean `{suggestion}`?"
            )),
        ));
    }
}
