//! Monitoring rules: S3 log URI, KMS key ARNs, CloudWatch log group and
//! stream prefix, log types per worker type and engine
//! (`monitoring.log-type`, `monitoring.log-type-worker`), the Prometheus URL
//! and engine (`monitoring.prometheus-url`, `monitoring.prometheus-engine`),
//! and an application that keeps no logs (`monitoring.no-logs`).

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{Engine, Feature};

use super::super::pipeline::{Effective, Parsed};
use super::super::raw::{RawLogTypes, RawMonitoring, Sp, SpList, Toggle};
use super::super::text::{
    is_kms_key_arn, is_log_group_name, is_log_stream_prefix, is_prometheus_url, is_s3_uri, one_of,
};
use super::application::{engine_label, kms_error};
use super::gate;

/// Log types per worker type (the `log_types` key), and the engine it belongs to.
pub(crate) const LOG_TYPES: [(&str, Engine, &[&str]); 4] = [
    ("spark_driver", Engine::Spark, &["stdout", "stderr"]),
    ("spark_executor", Engine::Spark, &["stdout", "stderr"]),
    ("hive_driver", Engine::Hive, &["stdout", "stderr", "hive_log", "tez_am"]),
    ("tez_task", Engine::Hive, &["stdout", "stderr", "system_logs"]),
];

/// Every log type the API reference lists (`CloudWatchLoggingConfiguration.logTypes`:
/// "Array Members Valid Values").
const ALL_LOG_TYPES: [&str; 5] = ["stdout", "stderr", "hive_log", "tez_am", "system_logs"];

/// The lists of a `log_types` table, with their canonical key
/// (`spark_driver` for `SPARK_DRIVER` too) and the key as written.
pub(crate) fn log_type_lists(types: &RawLogTypes) -> Vec<(&'static str, &Sp<String>, &SpList)> {
    types
        .entries
        .iter()
        .filter_map(|(written, list)| RawLogTypes::canonical_key(written.get()).map(|key| (key, written, list)))
        .collect()
}

/// Checks every `monitoring` table as written.
pub(super) fn check_sources(parsed: &Parsed, diagnostics: &mut Diagnostics) {
    let tables = parsed
        .configs
        .iter()
        .filter_map(|c| c.value.monitoring.as_ref())
        .chain(parsed.applications.iter().filter_map(|a| a.value.monitoring.as_ref()));
    for monitoring in tables {
        check_table(parsed, monitoring.get(), diagnostics);
    }
}

fn check_table(parsed: &Parsed, monitoring: &RawMonitoring, diagnostics: &mut Diagnostics) {
    if let Some(uri) = &monitoring.s3_log_uri
        && !is_s3_uri(uri.get())
    {
        diagnostics.push(
            Diagnostic::warning("monitoring.s3-uri", format!("`{}` is not an S3 URI", uri.get()))
                .at(parsed.span(uri))
                .with_help(
                    "write `s3://<bucket>/<prefix>/`; the bucket must be in the application's account and region. The API model takes any string here, so EMR Serverless may accept the application, but jobs cannot write their logs",
                ),
        );
    }
    let mut keys = vec![monitoring.s3_encryption_key_arn.as_ref()];
    if let Some(persistence) = &monitoring.managed_persistence
        && let Toggle::Table(table) = persistence.get()
    {
        keys.push(table.encryption_key_arn.as_ref());
    }
    if let Some(cloudwatch) = &monitoring.cloudwatch
        && let Toggle::Table(table) = cloudwatch.get()
    {
        keys.push(table.encryption_key_arn.as_ref());
        if let Some(group) = &table.log_group_name
            && !is_log_group_name(group.get())
        {
            diagnostics.push(
                Diagnostic::error(
                    "monitoring.log-group",
                    format!("`{}` is not a valid log group name", group.get()),
                )
                .at(parsed.span(group))
                .with_help("log group names are 1 to 512 letters, digits and `. - _ / #`"),
            );
        }
        if let Some(prefix) = &table.log_stream_name_prefix
            && !is_log_stream_prefix(prefix.get())
        {
            diagnostics.push(
                Diagnostic::error(
                    "monitoring.log-stream-prefix",
                    format!("`{}` is not a valid log stream prefix", prefix.get()),
                )
                .at(parsed.span(prefix))
                .with_help("log stream prefixes are 1 to 512 characters without `:` or `*`"),
            );
        }
        if let Some(types) = &table.log_types {
            let mut seen: BTreeMap<&str, &Sp<String>> = BTreeMap::new();
            for (key, written, list) in log_type_lists(types.get()) {
                if let Some(first) = seen.get(key) {
                    diagnostics.push(
                        Diagnostic::error(
                            "monitoring.log-types",
                            format!("`{}` and `{}` name the same worker type", written.get(), first.get()),
                        )
                        .at(parsed.span(written))
                        .with_label(parsed.span(first), "first named here")
                        .with_help("keep one list per worker type"),
                    );
                } else {
                    seen.insert(key, written);
                }
                let allowed = LOG_TYPES
                    .iter()
                    .find(|(k, ..)| *k == key)
                    .map(|(_, _, a)| *a)
                    .unwrap_or(&[]);
                if list.is_empty() || list.len() > 5 {
                    diagnostics.push(
                        Diagnostic::error("monitoring.log-types", format!("`{key}` must list 1 to 5 log types"))
                            .at(parsed.span(list))
                            .with_help(format!("choose from {}", one_of(allowed))),
                    );
                }
                for item in list.iter() {
                    let value = item.get().to_ascii_lowercase();
                    if allowed.contains(&value.as_str()) {
                        continue;
                    }
                    // A value the API reference lists, but for another worker
                    // type, rests on the user guide's table only: a warning.
                    let diagnostic = if ALL_LOG_TYPES.contains(&value.as_str()) {
                        Diagnostic::warning(
                            "monitoring.log-type",
                            format!("`{}` is not a log type of `{key}`", item.get()),
                        )
                        .with_help(format!(
                            "expected {}; the user guide lists no `{}` logs for this worker type, though the API takes the value",
                            one_of(allowed),
                            item.get()
                        ))
                    } else {
                        Diagnostic::error(
                            "monitoring.log-type",
                            format!("`{}` is not a log type of `{key}`", item.get()),
                        )
                        .with_help(format!("expected {}", one_of(allowed)))
                    };
                    diagnostics.push(diagnostic.at(parsed.span(item)));
                }
            }
        }
    }
    for key in keys.into_iter().flatten() {
        if !is_kms_key_arn(key.get()) {
            kms_error(parsed.span(key), key.get(), diagnostics);
        }
    }
    if let Some(url) = &monitoring.prometheus_remote_write_url
        && !is_prometheus_url(url.get())
    {
        diagnostics.push(
            Diagnostic::error(
                "monitoring.prometheus-url",
                format!("`{}` is not a Prometheus remote-write URL", url.get()),
            )
            .at(parsed.span(url))
            .with_help(
                "write `https://aps-workspaces.<region>.amazonaws.com/workspaces/<workspace-id>/api/v1/remote_write`",
            ),
        );
    }
}

/// Checks the merged monitoring of one application.
pub(super) fn check_application(parsed: &Parsed, app: &Effective<'_>, diagnostics: &mut Diagnostics) {
    let monitoring = &app.monitoring;
    if let Some(url) = monitoring.prometheus_remote_write_url {
        if app.engine == Some(Engine::Hive) {
            diagnostics.push(engine_label(
                parsed,
                app,
                Diagnostic::warning(
                    "monitoring.prometheus-engine",
                    format!(
                        "Prometheus monitoring needs a SPARK application, but `{}` is HIVE",
                        app.address
                    ),
                )
                .at(parsed.span(url))
                .with_help("the user guide documents Prometheus metrics for Spark only, but no error for a Hive application, which may accept the setting and send nothing; remove `prometheus_remote_write_url` from this application's monitoring"),
            ));
        } else {
            gate(parsed, app, Feature::Prometheus, parsed.span(url), diagnostics);
        }
    }
    if let Some(cloudwatch) = monitoring.cloudwatch
        && let Some(app_engine) = app.engine
        && let Toggle::Table(table) = cloudwatch.get()
        && let Some(types) = &table.log_types
    {
        for (key, _, list) in log_type_lists(types.get()) {
            let engine = LOG_TYPES.iter().find(|(k, ..)| *k == key).map(|(_, e, _)| *e);
            if engine.is_some_and(|engine| engine != app_engine) {
                let keys = match app_engine {
                    Engine::Spark => "`spark_driver` and `spark_executor`",
                    Engine::Hive => "`hive_driver` and `tez_task`",
                };
                diagnostics.push(
                    Diagnostic::warning(
                        "monitoring.log-type-worker",
                        format!(
                            "`{key}` logs do not exist on {app_engine} applications such as `{}`",
                            app.address
                        ),
                    )
                    .at(parsed.span(list))
                    .with_help(format!("{app_engine} applications log {keys}; the API reference lists all four keys without saying which engine refuses which, so EMR Serverless may accept these and send nothing")),
                );
            }
        }
    }
    if !monitoring.managed_persistence_enabled() && !monitoring.cloudwatch_enabled() && monitoring.s3_log_uri.is_none()
    {
        let at = monitoring
            .managed_persistence
            .map(|m| parsed.span(m))
            .unwrap_or_else(|| app.app.header.clone());
        diagnostics.push(
            Diagnostic::warning("monitoring.no-logs", format!("`{}` keeps no logs", app.address))
                .at(at)
                .with_help("with managed persistence off and no S3 or CloudWatch destination, job logs and the Spark and Tez UIs are lost; set `s3_log_uri` or enable `cloudwatch`"),
        );
    }
}
