//! Runtime configuration rules: classification names
//! (`classification.name`, `classification.unknown`), EMR on EC2
//! classifications (`classification.emr-on-ec2-only`), engine mismatches
//! (`classification.engine`), Hive's required properties
//! (`classification.hive-required`), forbidden log4j2 keys
//! (`classification.log4j2-key`), secrets (`classification.secret`,
//! `classification.secret-reference`), the API's limits on counts and
//! lengths (`classification.too-many`, `classification.too-many-properties`),
//! and properties that need a newer release (log4j2, Lake Formation, mutual TLS, S3 Access
//! Grants, shuffle-optimized disks, Java 17) or an older one.

use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::model::{Address, Engine, Feature, ReleaseLabel};

use super::super::pipeline::{Effective, Parsed};
use super::super::resolve::{self, Classification, Property};
use super::super::text::did_you_mean;
use super::gate;

/// Classifications EMR Serverless documents.
pub(crate) const KNOWN_CLASSIFICATIONS: [&str; 9] = [
    "spark-defaults",
    "spark-driver-log4j2",
    "spark-executor-log4j2",
    "spark",
    "hive-site",
    "tez-site",
    "emrfs-site",
    "core-site",
    "mapred-site",
];

/// Classifications of EMR on EC2 that mean nothing to EMR Serverless.
const EC2_ONLY: [&str; 24] = [
    "yarn-site",
    "yarn-env",
    "capacity-scheduler",
    "container-executor",
    "container-log4j",
    "hadoop-env",
    "hadoop-log4j",
    "hadoop-ssl-server",
    "hadoop-ssl-client",
    "hdfs-site",
    "hdfs-env",
    "hdfs-encryption-zones",
    "httpfs-site",
    "httpfs-env",
    "mapred-env",
    "spark-log4j",
    "spark-log4j2",
    "spark-metrics",
    "spark-hive-site",
    "hive-env",
    "hive-log4j2",
    "hive-exec-log4j2",
    "hiveserver2-site",
    "iceberg-defaults",
];

/// Prefixes of classifications for applications EMR Serverless does not run.
const EC2_ONLY_PREFIXES: [&str; 18] = [
    "livy-",
    "presto",
    "trino-",
    "hue-",
    "zeppelin-",
    "jupyter",
    "oozie-",
    "hbase",
    "flink-",
    "sqoop-",
    "pig-",
    "phoenix-",
    "zookeeper-",
    "ranger-",
    "hcatalog-",
    "webhcat-",
    "hudi-",
    "delta-",
];

/// Keys the Spark log4j2 classifications cannot set (the console appender belongs to EMR Serverless).
const FORBIDDEN_LOG4J2_KEYS: [&str; 6] = [
    "rootLogger.appenderRef.stdout.ref",
    "appender.console.type",
    "appender.console.name",
    "appender.console.target",
    "appender.console.layout.type",
    "appender.console.layout.pattern",
];

/// Properties that need a release, with the value (lower case) that turns them on, or any value.
const GATED_PROPERTIES: [(&str, &str, Option<&str>, Feature); 8] = [
    (
        "spark-defaults",
        "spark.emr-serverless.lakeformation.enabled",
        Some("true"),
        Feature::LakeFormation,
    ),
    (
        "spark-defaults",
        "spark.ssl.internode.enabled",
        Some("true"),
        Feature::InterWorkerTls,
    ),
    (
        "spark-defaults",
        "spark.hadoop.fs.s3.s3AccessGrants.enabled",
        Some("true"),
        Feature::S3AccessGrants,
    ),
    (
        "spark-defaults",
        "spark.emr-serverless.driver.disk.type",
        Some("shuffle_optimized"),
        Feature::ShuffleOptimizedDisks,
    ),
    (
        "spark-defaults",
        "spark.emr-serverless.executor.disk.type",
        Some("shuffle_optimized"),
        Feature::ShuffleOptimizedDisks,
    ),
    (
        "hive-site",
        "hive.driver.disk.type",
        Some("shuffle_optimized"),
        Feature::ShuffleOptimizedDisks,
    ),
    (
        "hive-site",
        "hive.tez.disk.type",
        Some("shuffle_optimized"),
        Feature::ShuffleOptimizedDisks,
    ),
    (
        "tez-site",
        "tez.am.vertex.cleanup.height",
        None,
        Feature::TezVertexCleanupHeight,
    ),
];

/// Properties that newer releases no longer support, and the last release line that does.
const REMOVED_PROPERTIES: [(&str, &str, ReleaseLabel); 2] = [
    (
        "hive-site",
        "hive.mapred.reduce.tasks.speculative.execution",
        ReleaseLabel::new(6, 10, 0),
    ),
    ("tez-site", "tez.am.speculation.enabled", ReleaseLabel::new(6, 10, 0)),
];

/// The Spark environment properties that can set `JAVA_HOME`.
const JAVA_HOME_PROPERTIES: [&str; 2] = [
    "spark.emr-serverless.driverEnv.JAVA_HOME",
    "spark.executorEnv.JAVA_HOME",
];

/// Checks each config bundle's and application's own classifications.
pub(super) fn check_sources(parsed: &Parsed, diagnostics: &mut Diagnostics) {
    for list in parsed.runtimes.values() {
        for classification in resolve::walk(list) {
            check_classification(classification, diagnostics);
        }
    }
}

fn check_classification(classification: &Classification, diagnostics: &mut Diagnostics) {
    let name = classification.name.as_str();
    let span = classification.name_span.clone();
    if name.trim().is_empty() || name.chars().count() > 1024 {
        diagnostics.push(
            Diagnostic::error(
                "classification.name",
                "a classification name must have 1 to 1024 characters and not be blank",
            )
            .at(span.clone()),
        );
    } else if EC2_ONLY.contains(&name) || EC2_ONLY_PREFIXES.iter().any(|p| name.starts_with(p)) {
        diagnostics.push(
            Diagnostic::warning(
                "classification.emr-on-ec2-only",
                format!("`{name}` is an EMR on EC2 classification; EMR Serverless does not use it"),
            )
            .at(span.clone())
            .with_help("remove it; EMR Serverless manages YARN, HDFS and the other cluster services itself"),
        );
    } else if !KNOWN_CLASSIFICATIONS.contains(&name) {
        let help = if name == "spark-env" {
            "set environment variables with `spark.emr-serverless.driverEnv.NAME` and `spark.executorEnv.NAME` in `spark-defaults`".to_string()
        } else {
            match did_you_mean(name, KNOWN_CLASSIFICATIONS) {
                Some(close) => format!("did you mean `{close}`?"),
                None => format!(
                    "EMR Serverless documents {}",
                    super::super::text::one_of(&KNOWN_CLASSIFICATIONS)
                ),
            }
        };
        diagnostics.push(
            Diagnostic::warning(
                "classification.unknown",
                format!("`{name}` is not a classification EMR Serverless documents"),
            )
            .at(span.clone())
            .with_help(help),
        );
    }
    if name.ends_with("-log4j2") {
        for key in FORBIDDEN_LOG4J2_KEYS {
            if let Some(property) = classification.properties.get(key) {
                diagnostics.push(
                    Diagnostic::warning("classification.log4j2-key", format!("`{name}` cannot set `{key}`"))
                        .at(property.key_span.clone())
                        .with_help(
                            "the user guide says EMR Serverless owns the console appender and this key cannot be configured; properties are free-form to the API, so the application is accepted and the key has no effect. Configure other appenders and loggers instead",
                        ),
                );
            }
        }
    }
    for (key, property) in &classification.properties {
        check_property(key, property, diagnostics);
    }
}

fn check_property(key: &str, property: &Property, diagnostics: &mut Diagnostics) {
    if key.trim().is_empty() || key.chars().count() > 1024 {
        diagnostics.push(
            Diagnostic::error(
                "classification.property-key",
                "a property key must have 1 to 1024 characters and not be blank",
            )
            .at(property.key_span.clone()),
        );
    }
    let length = property.value.chars().count();
    if length > 1024 {
        diagnostics.push(
            Diagnostic::error(
                "classification.property-value",
                format!("the value of `{key}` is {length} characters long; at most 1024 are allowed"),
            )
            .at(property.value_span.clone()),
        );
    } else if property.value.trim().is_empty() {
        diagnostics.push(
            Diagnostic::error("classification.property-value", format!("`{key}` has a blank value"))
                .at(property.value_span.clone())
                .with_help("the API rejects values without a visible character; remove the property instead"),
        );
    }
    if let Some(secret) = property.value.strip_prefix("EMR.secret@") {
        if secret.trim().is_empty() {
            diagnostics.push(
                Diagnostic::error(
                    "classification.secret-reference",
                    format!("`{key}` names no secret after `EMR.secret@`"),
                )
                .at(property.value_span.clone())
                .with_help("write `EMR.secret@<secret name>`"),
            );
        } else {
            diagnostics.push(
                Diagnostic::warning("classification.secret", format!("`{key}` reads the secret `{secret}` from Secrets Manager"))
                    .at(property.value_span.clone())
                    .with_help(
                        "the secret needs a customer-managed KMS key and a resource policy for `emr-serverless.amazonaws.com`, and whoever applies the stack needs `secretsmanager:GetSecretValue`",
                    ),
            );
        }
    }
}

/// Checks the merged classifications of one application.
pub(super) fn check_application(parsed: &Parsed, app: &Effective<'_>, diagnostics: &mut Diagnostics) {
    counts(&app.runtime, &app.address, app.app.header.clone(), diagnostics);
    for classification in &app.runtime {
        let name = classification.name.as_str();
        let spark_only = name.starts_with("spark");
        if app.engine == Some(Engine::Hive) && spark_only {
            diagnostics.push(
                Diagnostic::warning(
                    "classification.engine",
                    format!("`{name}` configures Spark, but `{}` is HIVE", app.address),
                )
                .at(classification.name_span.clone())
                .with_help("remove it, or move it to a Spark application"),
            );
        }
        if app.engine == Some(Engine::Spark) && name == "tez-site" {
            diagnostics.push(
                Diagnostic::warning(
                    "classification.engine",
                    format!("`{name}` configures Tez, but `{}` is SPARK", app.address),
                )
                .at(classification.name_span.clone())
                .with_help("remove it, or move it to a Hive application"),
            );
        }
        if name.ends_with("-log4j2") && spark_only {
            gate(
                parsed,
                app,
                Feature::Log4j2Classifications,
                classification.name_span.clone(),
                diagnostics,
            );
        }
    }
    for (classification, key, value, feature) in GATED_PROPERTIES {
        if let Some(property) = resolve::property(&app.runtime, classification, key)
            && value.is_none_or(|v| property.value.trim().eq_ignore_ascii_case(v))
        {
            gate(parsed, app, feature, property.value_span.clone(), diagnostics);
        }
    }
    if let Some(release) = app.release {
        for (classification, key, last) in REMOVED_PROPERTIES {
            if let Some(property) = resolve::property(&app.runtime, classification, key)
                && (release.major, release.minor) > (last.major, last.minor)
            {
                diagnostics.push(
                    Diagnostic::warning(
                        "release.property-removed",
                        format!("`{key}` is supported only up to emr-{}.{}.x", last.major, last.minor),
                    )
                    .at(property.key_span.clone())
                    .with_help(format!("{release} ignores it; remove it")),
                );
            }
        }
    }
    java_home(parsed, app, diagnostics);
    lake_formation(parsed, app, diagnostics);
    if app.engine == Some(Engine::Hive) {
        let missing: Vec<&str> = ["hive.exec.scratchdir", "hive.metastore.warehouse.dir"]
            .into_iter()
            .filter(|key| resolve::property(&app.runtime, "hive-site", key).is_none())
            .collect();
        if !missing.is_empty() {
            diagnostics.push(
                Diagnostic::warning(
                    "classification.hive-required",
                    format!(
                        "`{}` does not set {} in `hive-site`, so every job run must set it in its own configuration overrides",
                        app.address,
                        super::super::text::one_of(&missing)
                    ),
                )
                .at(app.app.value.engine.as_ref().map(|e| parsed.span(e)).unwrap_or_else(|| app.app.header.clone()))
                .with_help("Hive jobs fail without an S3 scratch directory and warehouse directory; set them once in the application's `hive-site`"),
            );
        }
    }
}

/// The API's limits: at most 100 classifications per list and 100 properties per classification.
fn counts(list: &[Classification], address: &Address, header: Span, diagnostics: &mut Diagnostics) {
    if list.len() > 100 {
        diagnostics.push(
            Diagnostic::error(
                "classification.too-many",
                format!(
                    "`{address}` has {} classifications in one list; at most 100 are allowed",
                    list.len()
                ),
            )
            .at(list.get(100).map(|c| c.name_span.clone()).unwrap_or(header.clone())),
        );
    }
    for classification in list {
        if classification.properties.len() > 100 {
            diagnostics.push(
                Diagnostic::error(
                    "classification.too-many-properties",
                    format!(
                        "`{}` of `{address}` has {} properties after merging; at most 100 are allowed",
                        classification.name,
                        classification.properties.len()
                    ),
                )
                .at(classification.name_span.clone())
                .with_help("split the settings, or move job-specific ones to the job run"),
            );
        }
        counts(&classification.children, address, header.clone(), diagnostics);
    }
}

/// `application.java-home`: a Java 17 `JAVA_HOME` must match the
/// architecture (and needs emr-6.11.0).
fn java_home(parsed: &Parsed, app: &Effective<'_>, diagnostics: &mut Diagnostics) {
    let arm = app
        .app
        .value
        .architecture
        .as_ref()
        .is_some_and(|a| *a.get() == super::super::raw::RawArchitecture::Arm64);
    for key in JAVA_HOME_PROPERTIES {
        let Some(property) = resolve::property(&app.runtime, "spark-defaults", key) else {
            continue;
        };
        let value = property.value.as_str();
        if value.contains("java-17") {
            gate(parsed, app, Feature::Java17, property.value_span.clone(), diagnostics);
        }
        let (wrong, right) = if arm {
            ("x86_64", "aarch64")
        } else {
            ("aarch64", "x86_64")
        };
        if value.contains(wrong) {
            let mut diagnostic = Diagnostic::warning(
                "application.java-home",
                format!(
                    "`{key}` points to an {wrong} JVM, but the application runs on {}",
                    if arm { "ARM64" } else { "X86_64" }
                ),
            )
            .at(property.value_span.clone())
            .with_help(format!(
                "use the {right} path, for example `/usr/lib/jvm/java-17-amazon-corretto.{right}/`; properties are free-form to the API, so EMR Serverless accepts the application, but its jobs cannot start that JVM"
            ));
            if let Some(architecture) = &app.app.value.architecture {
                diagnostic = diagnostic.with_label(parsed.span(architecture), "architecture set here");
            }
            diagnostics.push(diagnostic);
        }
    }
}

/// `lake-formation.custom-image`: Lake Formation applications cannot use
/// custom images.
fn lake_formation(parsed: &Parsed, app: &Effective<'_>, diagnostics: &mut Diagnostics) {
    let Some(property) = resolve::property(
        &app.runtime,
        "spark-defaults",
        "spark.emr-serverless.lakeformation.enabled",
    ) else {
        return;
    };
    if !property.value.trim().eq_ignore_ascii_case("true") {
        return;
    }
    let raw = &app.app.value;
    let image = raw
        .image
        .as_ref()
        .map(|i| parsed.span(i))
        .or_else(|| raw.image_uri.as_ref().map(|u| parsed.span(u)))
        .or_else(|| raw.worker_type_specifications.as_ref().map(|w| parsed.span(w)));
    if let Some(image) = image {
        diagnostics.push(
            Diagnostic::warning(
                "lake-formation.custom-image",
                "Lake Formation applications cannot use custom images",
            )
            .at(image)
            .with_label(property.value_span.clone(), "Lake Formation enabled here")
            .with_help("the user guide says Lake Formation does not support custom images; the property is free-form to the API, so EMR Serverless accepts the application, but fine-grained access control does not work with the image. Remove the custom image, or turn off `spark.emr-serverless.lakeformation.enabled`"),
        );
    }
}
