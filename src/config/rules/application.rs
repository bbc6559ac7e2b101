//! Application rules: name, engine, release label (`release.format`, known
//! releases, the engines a release runs), architecture, auto-stop,
//! scheduler, interactive (`interactive.engine`), disk encryption, Identity
//! Center, and worker type keys per engine (`application.worker-type`).

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::model::release::{KNOWN_RELEASES, MINIMUM_RELEASE, NEWEST_KNOWN_EMR_RELEASE, is_model_release_label};
use crate::model::{Engine, Feature, ReleaseLabel, WorkerType};

use super::super::pipeline::{Effective, Parsed};
use super::super::raw::{RawArchitecture, RawWorkerTypes, Sp, Toggle};
use super::super::text::did_you_mean;
use super::super::text::{is_application_name, is_identity_center_arn, is_kms_key_arn};
use super::gate;
use super::references::aws_name;

pub(super) fn check(parsed: &Parsed, app: &Effective<'_>, diagnostics: &mut Diagnostics) {
    let raw = &app.app.value;
    check_name(parsed, app, diagnostics);
    check_engine(parsed, app, diagnostics);
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
                    Diagnostic::warning("interactive.engine", "interactive workloads need a SPARK application")
                        .at(parsed.span(interactive))
                        .with_help("the user guide runs EMR Studio notebooks, Livy and sessions on Spark only, but documents no error for a Hive application, which may accept the setting and ignore it; remove `interactive` or use `type = \"SPARK\"`"),
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

/// `type`: `SPARK` or `HIVE` in any letter case (the structural check only
/// knows it is a string).
fn check_engine(parsed: &Parsed, app: &Effective<'_>, diagnostics: &mut Diagnostics) {
    let Some(engine) = &app.app.value.engine else {
        return;
    };
    if engine.get().engine().is_some() {
        return;
    }
    let written = engine.get().0.as_str();
    let expected = "expected `SPARK` or `HIVE`, in any letter case";
    let help = match did_you_mean(written, ["SPARK", "HIVE"]) {
        Some(close) => format!("did you mean `{close}`? ({expected})"),
        None => format!("{expected}; EMR Serverless runs Spark and Hive applications"),
    };
    diagnostics.push(
        Diagnostic::error(
            "config.invalid-value",
            format!("invalid value `{written}` for `applications.{}.type`", app.app.key),
        )
        .at(parsed.span(engine))
        .with_help(help),
    );
}

fn check_release(parsed: &Parsed, app: &Effective<'_>, diagnostics: &mut Diagnostics) {
    let Some(label) = &app.app.value.release_label else {
        return;
    };
    let span = parsed.span(label);
    let text = label.get();
    match ReleaseLabel::parse(text) {
        // Outside the API model's `ReleaseLabel` (1 to 64 of `[A-Za-z0-9._/-]`):
        // every EMR Serverless call refuses it.
        None if !is_model_release_label(text) => diagnostics.push(
            Diagnostic::error("release.format", format!("`{text}` is not a release label"))
                .at(span.clone())
                .with_help(format!(
                    "release labels are 1 to 64 letters, digits and `. _ / -`; write `emr-X.Y.Z`, for example `{NEWEST_KNOWN_EMR_RELEASE}`"
                )),
        ),
        // The model accepts it; only the forms the release list documents are
        // known, so an unknown form is a warning.
        None => diagnostics.push(
            Diagnostic::warning(
                "release.format",
                format!("`{text}` is not of a form EMR Serverless documents, so emrstack cannot check it"),
            )
            .at(span.clone())
            .with_help(format!(
                "EMR Serverless release labels look like `{NEWEST_KNOWN_EMR_RELEASE}` or `emr-spark-8.0.0`; check the label against \"Amazon EMR Serverless release versions\" in the user guide. Release checks are skipped for it"
            )),
        ),
        Some(release) if release < MINIMUM_RELEASE => diagnostics.push(
            Diagnostic::error("release.unsupported", format!("EMR Serverless does not run {release}"))
                .at(span.clone())
                .with_help(format!("the oldest EMR Serverless release is {MINIMUM_RELEASE}")),
        ),
        Some(release) if !release.is_known() => {
            let newest = release.newest_of_line();
            let message = if release > newest {
                format!("{release} is newer than the releases emrstack knows (up to {newest})")
            } else {
                let nearest = KNOWN_RELEASES.iter().rfind(|known| **known < release);
                match nearest {
                    Some(nearest) => {
                        format!("{release} is not a known EMR Serverless release (the nearest older one is {nearest})")
                    }
                    None => format!("{release} is not a known EMR Serverless release"),
                }
            };
            diagnostics.push(Diagnostic::warning("release.unknown", message).at(span.clone()).with_help(
                "check the label against \"Amazon EMR Serverless release versions\" in the user guide; feature checks treat it by its number",
            ));
        }
        Some(_) => {}
    }
    if let (Some(release), Some(engine)) = (app.release, app.engine)
        && !release.runs(engine)
    {
        diagnostics.push(engine_label(
            parsed,
            app,
            Diagnostic::warning(
                "release.engine",
                format!("{release} is the AWS runtime for Apache Spark, which has no {engine}"),
            )
            .at(span)
            .with_help(
                "the release notes list Spark (with Iceberg, Delta and Hudi) for `emr-spark-*` releases and no Hive, but document no error; use an `emr-X.Y.Z` release for Hive",
            ),
        ));
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
    let mut seen: BTreeMap<WorkerType, &Sp<String>> = BTreeMap::new();
    for entry in workers.entries(Some(engine)) {
        let key = entry.key.get().as_str();
        let Some(worker) = entry.worker else {
            let suggestion = match (engine, key.to_ascii_lowercase().as_str()) {
                (Engine::Spark, "hive_driver" | "hivedriver") => "driver",
                (Engine::Spark, _) => "executor",
                (Engine::Hive, _) => "tez_task",
            };
            let keys = match engine {
                Engine::Spark => "`driver` and `executor`",
                Engine::Hive => "`hive_driver` (or `driver`) and `tez_task`",
            };
            diagnostics.push(engine_label(
                parsed,
                app,
                Diagnostic::error(
                    "application.worker-type",
                    format!("`{key}` is not a worker type of {engine} applications"),
                )
                .at(parsed.span(entry.value))
                .with_help(format!(
                    "{engine} applications have {keys}; did you mean `{suggestion}`?"
                )),
            ));
            continue;
        };
        match seen.get(&worker) {
            Some(first) => diagnostics.push(
                Diagnostic::error(
                    "application.worker-type",
                    format!("`{key}` and `{}` name the same worker type", first.get()),
                )
                .at(parsed.span(entry.key))
                .with_label(parsed.span(first), "first named here")
                .with_help(format!(
                    "keep one entry for the `{worker}` workers; every spelling of a worker type means the same workers"
                )),
            ),
            None => {
                seen.insert(worker, entry.key);
            }
        }
    }
}
