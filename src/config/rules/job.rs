//! Rules for `[jobs.*]` and `[stack] artifacts`: references to the
//! application and the role, the driver against the application's engine,
//! local files, `${job.<key>.files.<name>}` references, and the Spark
//! `--conf` resources against EMR Serverless's worker sizes and the
//! application's maximum capacity.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::diag::{Diagnostic, Diagnostics};
use crate::model::job::upload_name;
use crate::model::{Engine, S3Location};

use super::super::pipeline::{Parsed, Resource};
use super::super::raw::{RawJob, Size, Sp};
use super::super::text::{Unit, parse_size, parse_spark_memory_mib};
use super::capacity::WORKER_SIZES;

/// The longest job run name (`StartJobRunRequest.name`: 1 to 256 characters).
const MAX_NAME: usize = 256;

/// `executionTimeoutMinutes` above this is refused for BATCH runs from emr-7.11.0.
const MAX_BATCH_TIMEOUT_MINUTES: i64 = 10080;

pub(super) fn check(parsed: &Parsed, diagnostics: &mut Diagnostics) {
    let artifacts = parsed.stack.as_ref().and_then(|stack| stack.artifacts.as_ref());
    if let Some(location) = artifacts
        && let Err(why) = S3Location::parse(location.get())
    {
        diagnostics.push(
            Diagnostic::error(
                "stack.artifacts",
                format!("`{}` is not an S3 location: {why}", location.get()),
            )
            .at(parsed.span(location))
            .with_help("write `s3://<bucket>` or `s3://<bucket>/<prefix>`; local job files go to `<prefix>/<sha256>/<file name>`"),
        );
    }
    for job in &parsed.jobs {
        check_job(parsed, job, artifacts.is_some(), diagnostics);
    }
}

fn is_role_arn(text: &str) -> bool {
    // The model's `IAMRoleArn` pattern (botocore 1.44.5):
    // arn:(aws[a-zA-Z0-9-]*):iam::([0-9]{12}):(role((\u002F)|(\u002F[\u0021-\u007F]+\u002F))[\w+=,.@-]+)
    let Some(rest) = text.strip_prefix("arn:aws") else {
        return false;
    };
    let Some((partition, rest)) = rest.split_once(":iam::") else {
        return false;
    };
    if !partition.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return false;
    }
    let Some((account, resource)) = rest.split_once(':') else {
        return false;
    };
    if !(account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())) {
        return false;
    }
    let Some(path_and_name) = resource.strip_prefix("role/") else {
        return false;
    };
    let name = path_and_name.rsplit('/').next().unwrap_or("");
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | '-'))
}

fn check_job(parsed: &Parsed, job: &Resource<RawJob>, has_artifacts: bool, diagnostics: &mut Diagnostics) {
    let raw = &job.value;
    let application = raw.application.as_ref();
    let app = application.and_then(|key| parsed.application(key.get()));
    if let Some(key) = application
        && app.is_none()
        && !parsed.is_declared(crate::model::ResourceKind::Application, key.get())
    {
        diagnostics.push(
            Diagnostic::error(
                "job.unknown-application",
                format!(
                    "job `{}` runs on `{}`, which is not an application of the stack",
                    job.key,
                    key.get()
                ),
            )
            .at(parsed.span(key))
            .with_help("name an `[applications.<key>]` of this stack"),
        );
    }
    if let Some(role) = &raw.role {
        let text = role.get();
        if text.starts_with("arn:") {
            if !is_role_arn(text) {
                diagnostics.push(
                    Diagnostic::error("job.role-arn", format!("`{text}` is not an IAM role ARN"))
                        .at(parsed.span(role))
                        .with_help(
                            "write `arn:aws:iam::<account>:role/<name>`, or a `[roles.<key>]` key of this stack",
                        ),
                );
            }
        } else if !parsed.is_declared(crate::model::ResourceKind::Role, text) {
            diagnostics.push(
                Diagnostic::error(
                    "job.unknown-role",
                    format!(
                        "job `{}` uses role `{text}`, which is neither a role of the stack nor an ARN",
                        job.key
                    ),
                )
                .at(parsed.span(role))
                .with_help("name a `[roles.<key>]` of this stack, or write the role's ARN"),
            );
        } else if let (Some(declared), Some(app_key)) = (parsed.role(text), application)
            && let Some(trusted) = &declared.value.trust_applications
            && !trusted.is_empty()
            && !trusted.iter().any(|a| a.get() == app_key.get())
        {
            diagnostics.push(
                Diagnostic::error(
                    "job.role-trust",
                    format!(
                        "role `{text}` trusts only job runs of {}, not of `{}`",
                        trusted
                            .iter()
                            .map(|a| format!("`{}`", a.get()))
                            .collect::<Vec<_>>()
                            .join(", "),
                        app_key.get()
                    ),
                )
                .at(parsed.span(role))
                .with_label(parsed.span(trusted), "trusted applications")
                .with_help(format!(
                    "add `{}` to the role's `trust_applications`: the job could not assume the role",
                    app_key.get()
                )),
            );
        }
    }
    for config in raw.configs.iter().flat_map(|list| list.iter()) {
        if !parsed.is_declared(crate::model::ResourceKind::Config, config.get()) {
            diagnostics.push(
                Diagnostic::error(
                    "job.unknown-config",
                    format!(
                        "job `{}` merges `{}`, which is not a `[configs.*]` of the stack",
                        job.key,
                        config.get()
                    ),
                )
                .at(parsed.span(config))
                .with_help("name a `[configs.<key>]` of this stack"),
            );
        }
    }
    if let Some(name) = &raw.name
        && (name.get().is_empty() || name.get().chars().count() > MAX_NAME)
    {
        diagnostics.push(
            Diagnostic::error(
                "job.name",
                format!("the run name has {} characters", name.get().chars().count()),
            )
            .at(parsed.span(name))
            .with_help("a job run name is 1 to 256 characters (StartJobRun's `name`)"),
        );
    }
    let engine = app
        .and_then(|app| app.value.engine.as_ref())
        .and_then(|e| e.get().engine());
    check_driver(parsed, job, engine, diagnostics);
    check_timeout(parsed, job, diagnostics);
    let names = check_files(parsed, job, has_artifacts, diagnostics);
    check_references(parsed, job, &names, diagnostics);
    if engine == Some(Engine::Spark)
        && let (Some(app), Some(parameters)) = (app, &raw.spark_submit_parameters)
    {
        check_spark_resources(parsed, app, parameters, diagnostics);
    }
}

fn check_driver(parsed: &Parsed, job: &Resource<RawJob>, engine: Option<Engine>, diagnostics: &mut Diagnostics) {
    let raw = &job.value;
    let spark_keys: [(&str, Option<std::ops::Range<usize>>); 3] = [
        ("entry_point", raw.entry_point.as_ref().map(Sp::range)),
        ("arguments", raw.arguments.as_ref().map(Sp::range)),
        (
            "spark_submit_parameters",
            raw.spark_submit_parameters.as_ref().map(Sp::range),
        ),
    ];
    let hive_keys: [(&str, Option<std::ops::Range<usize>>); 3] = [
        ("query", raw.query.as_ref().map(Sp::range)),
        ("init_query_file", raw.init_query_file.as_ref().map(Sp::range)),
        ("parameters", raw.parameters.as_ref().map(Sp::range)),
    ];
    let (wrong, needed, engine_name) = match engine {
        Some(Engine::Spark) => (hive_keys, ("entry_point", raw.entry_point.is_some()), "Spark"),
        Some(Engine::Hive) => (spark_keys, ("query", raw.query.is_some()), "Hive"),
        None => return,
    };
    for (key, range) in wrong {
        if let Some(range) = range {
            diagnostics.push(
                Diagnostic::error(
                    "job.engine",
                    format!("`{key}` is for {} jobs, but application `{}` runs {engine_name}",
                        if engine_name == "Spark" { "Hive" } else { "Spark" },
                        raw.application.as_ref().map(|a| a.get().as_str()).unwrap_or_default()),
                )
                .at(crate::diag::Span::new(parsed.file, range))
                .with_help("a Spark application runs `entry_point` jobs (sparkSubmit), a Hive application `query` jobs (hive); the service refuses the other driver"),
            );
        }
    }
    if !needed.1 {
        diagnostics.push(
            Diagnostic::error(
                "job.driver",
                format!("job `{}` on a {engine_name} application needs `{}`", job.key, needed.0),
            )
            .at(job.header.clone())
            .with_help(if engine_name == "Spark" {
                "add `entry_point = \"s3://...\"` or a local file"
            } else {
                "add `query = \"s3://...\"` or a local file"
            }),
        );
    }
}

fn check_timeout(parsed: &Parsed, job: &Resource<RawJob>, diagnostics: &mut Diagnostics) {
    let Some(timeout) = &job.value.timeout_minutes else {
        return;
    };
    let streaming = job
        .value
        .mode
        .as_ref()
        .is_some_and(|m| *m.get() == super::super::raw::RawJobMode::Streaming);
    let minutes = *timeout.get();
    if minutes < 0 || (minutes == 0 && !streaming) || minutes > 1_000_000 {
        diagnostics.push(
            Diagnostic::error("job.timeout", format!("`timeout_minutes = {minutes}` is out of range"))
                .at(parsed.span(timeout))
                .with_help("a batch run's timeout is 1 to 10080 minutes (the service default is 720); 0 means no timeout only for streaming runs"),
        );
    } else if minutes > MAX_BATCH_TIMEOUT_MINUTES && !streaming {
        diagnostics.push(
            Diagnostic::warning(
                "job.timeout-long",
                format!("`timeout_minutes = {minutes}` is more than a week"),
            )
            .at(parsed.span(timeout))
            .with_help("from emr-7.11.0 the service refuses batch timeouts over 10080 minutes (7 days)"),
        );
    }
}

/// Checks every local path of the job; returns the upload names of `files`.
fn check_files(
    parsed: &Parsed,
    job: &Resource<RawJob>,
    has_artifacts: bool,
    diagnostics: &mut Diagnostics,
) -> BTreeSet<String> {
    let raw = &job.value;
    let mut sources: Vec<(&Sp<String>, bool)> = Vec::new();
    for source in [&raw.entry_point, &raw.query, &raw.init_query_file]
        .into_iter()
        .flatten()
    {
        sources.push((source, false));
    }
    for file in raw.files.iter().flat_map(|list| list.iter()) {
        sources.push((file, true));
    }
    let mut names: BTreeMap<String, &Sp<String>> = BTreeMap::new();
    for (source, is_file_entry) in sources {
        let text = source.get();
        if text.starts_with("s3://") {
            if is_file_entry {
                diagnostics.push(
                    Diagnostic::error("job.local-file", format!("`{text}` in `files` is not a local path"))
                        .at(parsed.span(source))
                        .with_help("`files` lists local files or directories to upload; reference S3 objects directly in `spark_submit_parameters`"),
                );
            } else {
                // As lenient as the bucket names S3 has (legacy us-east-1
                // buckets may have upper case, `_`, 255 characters), so an
                // existing object is never refused; an object needs a key.
                let problem = match S3Location::parse(text) {
                    Err(why) => Some(why.to_string()),
                    Ok(location) if location.prefix.is_empty() => Some("it names no object key".to_string()),
                    Ok(_) => None,
                };
                if let Some(why) = problem {
                    diagnostics.push(
                        Diagnostic::error("job.local-file", format!("`{text}` is not an S3 object URI: {why}"))
                            .at(parsed.span(source))
                            .with_help("write `s3://<bucket>/<key>`"),
                    );
                }
            }
            continue;
        }
        if text.contains("://") {
            diagnostics.push(
                Diagnostic::error(
                    "job.local-file",
                    format!("`{text}` is neither an `s3://` URI nor a local path"),
                )
                .at(parsed.span(source))
                .with_help("EMR Serverless reads job files from S3; give a local path to have emrstack upload it"),
            );
            continue;
        }
        if !has_artifacts {
            diagnostics.push(
                Diagnostic::error(
                    "job.artifacts-required",
                    format!("`{text}` is a local path, but `[stack] artifacts` is not set"),
                )
                .at(parsed.span(source))
                .with_help(
                    "set `artifacts = \"s3://<bucket>/<prefix>\"` in `[stack]`: local job files are uploaded there",
                ),
            );
        }
        let path = parsed.base.join(text);
        let metadata = std::fs::metadata(&path);
        let directory = match &metadata {
            Ok(m) if m.is_file() => false,
            Ok(m) if m.is_dir() && is_file_entry => true,
            Ok(_) => {
                diagnostics.push(
                    Diagnostic::error("job.local-file", format!("`{}` is not a regular file", path.display()))
                        .at(parsed.span(source))
                        .with_help(if is_file_entry {
                            "`files` takes regular files and directories"
                        } else {
                            "an entry point or query is a file; put directories in `files`"
                        }),
                );
                continue;
            }
            Err(error) => {
                diagnostics.push(
                    Diagnostic::error("job.local-file", format!("cannot read `{}`: {error}", path.display()))
                        .at(parsed.span(source))
                        .with_help("local job paths are relative to the directory of the stack file"),
                );
                continue;
            }
        };
        if is_file_entry {
            let name = upload_name(Path::new(text), directory);
            if let Some(first) = names.get(&name) {
                diagnostics.push(
                    Diagnostic::error(
                        "job.file-name",
                        format!("two entries of `files` are uploaded as `{name}`"),
                    )
                    .at(parsed.span(source))
                    .with_label(parsed.span(first), "first here")
                    .with_help("`${job.<key>.files.<name>}` names a file by its upload name; rename one of them"),
                );
            } else {
                names.insert(name, source);
            }
        }
    }
    names.into_keys().collect()
}

/// `${job.<key>.files.<name>}` in `arguments` and `spark_submit_parameters`
/// must name this job and one of its `files`.
fn check_references(parsed: &Parsed, job: &Resource<RawJob>, names: &BTreeSet<String>, diagnostics: &mut Diagnostics) {
    let raw = &job.value;
    let mut texts: Vec<&Sp<String>> = raw.arguments.iter().flat_map(|list| list.iter()).collect();
    texts.extend(raw.spark_submit_parameters.as_ref());
    for text in texts {
        let mut rest = text.get().as_str();
        while let Some(start) = rest.find("${job.") {
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                break;
            };
            let reference = &after[..end];
            rest = &after[end + 1..];
            let expected = format!("job.{}.files.", job.key);
            let problem = match reference.strip_prefix(&expected) {
                Some(name) if names.contains(name) => None,
                Some(name) => Some(format!("job `{}` uploads no file named `{name}`", job.key)),
                None => Some(format!("`${{{reference}}}` does not name a file of job `{}`", job.key)),
            };
            if let Some(problem) = problem {
                let known = names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
                diagnostics.push(
                    Diagnostic::error("job.file-reference", problem)
                        .at(parsed.span(text))
                        .with_help(if known.is_empty() {
                            format!(
                                "list the file in `files` and write `${{job.{}.files.<file name>}}`",
                                job.key
                            )
                        } else {
                            format!("write `${{job.{}.files.<name>}}` with one of: {known}", job.key)
                        }),
                );
            }
        }
    }
}

/// `--conf key=value` pairs of a `spark-submit` parameter string.
fn spark_confs(parameters: &str) -> Vec<(String, String)> {
    let words: Vec<&str> = parameters.split_whitespace().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let word = words[i].trim_matches(|c| c == '"' || c == '\'');
        let pair = if word == "--conf" {
            i += 1;
            words.get(i).map(|w| w.trim_matches(|c| c == '"' || c == '\''))
        } else {
            word.strip_prefix("--conf=")
        };
        if let Some((key, value)) = pair.and_then(|p| p.split_once('=')) {
            out.push((key.to_string(), value.to_string()));
        }
        i += 1;
    }
    out
}

/// The Spark driver and executor containers a job asks for with `--conf`
/// must be a worker EMR Serverless has (1, 2, 4, 8 or 16 vCPU, up to 8,
/// 16, 30, 60 or 120 GB) and fit the application's maximum capacity.
fn check_spark_resources(
    parsed: &Parsed,
    app: &Resource<super::super::raw::RawApplication>,
    parameters: &Sp<String>,
    diagnostics: &mut Diagnostics,
) {
    let confs: BTreeMap<String, String> = spark_confs(parameters.get()).into_iter().collect();
    let maximum = app.value.maximum_capacity.as_ref().map(|max| {
        let number = |size: &Option<Sp<Size>>, unit: Unit| size.as_ref().and_then(|s| parse_size(s.get(), unit).ok());
        (number(&max.cpu, Unit::Vcpu), number(&max.memory, Unit::Gb))
    });
    let mut report = |message: String, help: String| {
        diagnostics.push(
            Diagnostic::error("job.spark-resources", message)
                .at(parsed.span(parameters))
                .with_help(help),
        );
    };
    for role in ["driver", "executor"] {
        let cores = confs.get(&format!("spark.{role}.cores"));
        let memory = confs.get(&format!("spark.{role}.memory"));
        if cores.is_none() && memory.is_none() {
            continue;
        }
        let cores_value = match cores.map(|c| c.trim().parse::<u64>()) {
            Some(Ok(n)) => n,
            Some(Err(_)) => {
                report(
                    format!(
                        "`spark.{role}.cores` = `{}` is not a number",
                        cores.map(String::as_str).unwrap_or("")
                    ),
                    "write a whole number of vCPU: 1, 2, 4, 8 or 16".to_string(),
                );
                continue;
            }
            // EMR Serverless's Spark default: 4 vCPU per container.
            None => 4,
        };
        let Some((_, _, max_memory, _)) = WORKER_SIZES.iter().find(|(cpu, ..)| *cpu == cores_value) else {
            report(
                format!("`spark.{role}.cores` = {cores_value} is not a worker size of EMR Serverless"),
                "workers have 1, 2, 4, 8 or 16 vCPU (user guide, \"Supported worker configurations\")".to_string(),
            );
            continue;
        };
        let memory_mib = match memory.map(|m| parse_spark_memory_mib(m)) {
            Some(Some(mib)) => Some(mib),
            Some(None) => {
                report(
                    format!(
                        "`spark.{role}.memory` = `{}` is not a Spark memory size",
                        memory.map(String::as_str).unwrap_or("")
                    ),
                    "write a size such as `14g` or `512m`".to_string(),
                );
                continue;
            }
            None => None,
        };
        if let Some(mib) = memory_mib {
            let overhead = confs
                .get(&format!("spark.{role}.memoryOverhead"))
                .and_then(|o| parse_spark_memory_mib(o))
                .unwrap_or_else(|| (mib * 0.1).max(384.0));
            let needed_gb = ((mib + overhead) / 1024.0).ceil() as u64;
            if needed_gb > *max_memory {
                report(
                    format!(
                        "the Spark {role} asks for {needed_gb} GB with overhead, more than a {cores_value} vCPU worker can have ({max_memory} GB)"
                    ),
                    format!(
                        "lower `spark.{role}.memory`, or raise `spark.{role}.cores` to a worker size with more memory"
                    ),
                );
                continue;
            }
            if let Some((_, Some(max_gb))) = maximum
                && needed_gb > max_gb
            {
                report(
                    format!("the Spark {role} asks for {needed_gb} GB, more than application `{}`'s `maximum_capacity.memory` ({max_gb} GB)", app.key),
                    "no worker can be created beyond the maximum capacity, so the run could never start its driver or executors".to_string(),
                );
                continue;
            }
        }
        if let Some((Some(max_cpu), _)) = maximum
            && cores_value > max_cpu
        {
            report(
                format!(
                    "the Spark {role} asks for {cores_value} vCPU, more than application `{}`'s `maximum_capacity.cpu` ({max_cpu} vCPU)",
                    app.key
                ),
                "no worker can be created beyond the maximum capacity, so the run could never start".to_string(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spark_conf_forms() {
        assert_eq!(
            spark_confs("--conf spark.executor.cores=4 --conf=spark.driver.memory=8g --py-files x --conf \"a=b\""),
            vec![
                ("spark.executor.cores".to_string(), "4".to_string()),
                ("spark.driver.memory".to_string(), "8g".to_string()),
                ("a".to_string(), "b".to_string()),
            ]
        );
    }

    #[test]
    fn role_arns() {
        assert!(is_role_arn("arn:aws:iam::123456789012:role/etl"));
        assert!(is_role_arn("arn:aws-cn:iam::123456789012:role/path/etl"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:user/etl"));
        assert!(!is_role_arn("arn:aws:iam::1234:role/etl"));
    }
}
