//! Jobs: a `[jobs.<key>]` as declared ([`JobSpec`], with local files still
//! paths) and the exact `StartJobRun` request it becomes once its local files
//! have content-addressed URIs and its application and role have identifiers
//! ([`JobRunRequest`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::application::{Configuration, Engine, JobRunMode, Monitoring};

/// Where a job's entry point or query comes from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobSource {
    /// An `s3://` URI, sent as written.
    S3 { uri: String },
    /// A local file (resolved against the stack file's directory), uploaded
    /// content-addressed under `[stack] artifacts`.
    Local { path: PathBuf },
}

/// The execution role of a job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobRole {
    /// A `[roles.*]` key of the stack.
    Key { key: String },
    /// A role ARN, sent as written.
    Arn { arn: String },
}

/// The job driver as declared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobDriverSpec {
    /// `sparkSubmit`.
    Spark {
        entry_point: JobSource,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        arguments: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        spark_submit_parameters: Option<String>,
    },
    /// `hive`.
    Hive {
        query: JobSource,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        init_query_file: Option<JobSource>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        parameters: Option<String>,
    },
}

/// A `[jobs.<key>]` as declared, after variables and config bundles are
/// resolved. `${job.<key>.files.<name>}` placeholders in the Spark
/// arguments and `spark_submit_parameters` are still text here; they are
/// replaced by [`JobSpec::request`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSpec {
    /// The run name (`<stack>-<key>` unless set).
    pub name: String,
    /// The `[applications.*]` key the job runs on.
    pub application: String,
    /// The engine of that application.
    pub engine: Engine,
    pub role: JobRole,
    pub driver: JobDriverSpec,
    /// Local files and directories uploaded with the job, in the order written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<PathBuf>,
    /// `configurationOverrides.applicationConfiguration`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runtime: Vec<Configuration>,
    /// `configurationOverrides.monitoringConfiguration`.
    #[serde(default, skip_serializing_if = "Monitoring::is_empty")]
    pub monitoring: Monitoring,
    /// `executionTimeoutMinutes`; the service default (720) when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_minutes: Option<u32>,
    /// Tags of the job run (the stack's `[tags]` merged under the job's own).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub mode: JobRunMode,
}

/// The placeholder of a job's uploaded file: `${job.<key>.files.<name>}`.
pub fn file_placeholder(job: &str, name: &str) -> String {
    format!("${{job.{job}.files.{name}}}")
}

/// The name a local path is uploaded under: its file name, with `.zip`
/// added for a directory (which is uploaded zipped).
pub fn upload_name(path: &std::path::Path, directory: bool) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "artifact".to_string());
    if directory { format!("{name}.zip") } else { name }
}

impl JobSpec {
    /// Every local path the job needs uploaded: the entry point or query,
    /// the init query file, then `files`.
    pub fn local_paths(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut add = |source: &JobSource| {
            if let JobSource::Local { path } = source {
                out.push(path.clone());
            }
        };
        match &self.driver {
            JobDriverSpec::Spark { entry_point, .. } => add(entry_point),
            JobDriverSpec::Hive {
                query, init_query_file, ..
            } => {
                add(query);
                if let Some(init) = init_query_file {
                    add(init);
                }
            }
        }
        out.extend(self.files.iter().cloned());
        out
    }

    /// The `StartJobRun` request of this job: `uris` maps each local path
    /// to its uploaded `s3://` URI (a path missing from it is an error
    /// naming it); `${job.<key>.files.<name>}` is replaced by the URI of
    /// the file uploaded under that name. `extra_arguments` are appended
    /// to the Spark arguments.
    pub fn request(
        &self,
        key: &str,
        uris: &BTreeMap<PathBuf, Uploaded>,
        application_id: &str,
        execution_role_arn: &str,
        extra_arguments: &[String],
    ) -> Result<JobRunRequest, String> {
        let uri = |source: &JobSource| -> Result<String, String> {
            match source {
                JobSource::S3 { uri } => Ok(uri.clone()),
                JobSource::Local { path } => uris
                    .get(path)
                    .map(|u| u.uri.clone())
                    .ok_or_else(|| format!("`{}` has no uploaded URI", path.display())),
            }
        };
        let mut by_name = BTreeMap::new();
        for path in &self.files {
            if let Some(uploaded) = uris.get(path) {
                by_name.insert(file_placeholder(key, &uploaded.file_name), uploaded.uri.clone());
            }
        }
        let substitute = |text: &str| -> String {
            let mut out = text.to_string();
            for (placeholder, uri) in &by_name {
                out = out.replace(placeholder, uri);
            }
            out
        };
        let driver = match &self.driver {
            JobDriverSpec::Spark {
                entry_point,
                arguments,
                spark_submit_parameters,
            } => JobDriver::Spark {
                entry_point: uri(entry_point)?,
                entry_point_arguments: arguments
                    .iter()
                    .map(|a| substitute(a))
                    .chain(extra_arguments.iter().cloned())
                    .collect(),
                spark_submit_parameters: spark_submit_parameters.as_deref().map(substitute),
            },
            JobDriverSpec::Hive {
                query,
                init_query_file,
                parameters,
            } => JobDriver::Hive {
                query: uri(query)?,
                init_query_file: init_query_file.as_ref().map(uri).transpose()?,
                parameters: parameters.clone(),
            },
        };
        Ok(JobRunRequest {
            application_id: application_id.to_string(),
            execution_role_arn: execution_role_arn.to_string(),
            name: self.name.clone(),
            driver,
            runtime: self.runtime.clone(),
            monitoring: self.monitoring.clone(),
            tags: self.tags.clone(),
            execution_timeout_minutes: self.timeout_minutes,
            mode: self.mode,
        })
    }
}

/// A local path after upload: the name it was uploaded under and its URI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uploaded {
    /// The file name (`deps.zip` for a directory `deps`).
    pub file_name: String,
    /// `s3://<bucket>/<prefix>/<sha256>/<file name>`.
    pub uri: String,
}

/// The job driver with every URI resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobDriver {
    Spark {
        entry_point: String,
        entry_point_arguments: Vec<String>,
        spark_submit_parameters: Option<String>,
    },
    Hive {
        query: String,
        init_query_file: Option<String>,
        parameters: Option<String>,
    },
}

/// Exactly what one `StartJobRun` sends, but the client token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRunRequest {
    pub application_id: String,
    pub execution_role_arn: String,
    pub name: String,
    pub driver: JobDriver,
    pub runtime: Vec<Configuration>,
    pub monitoring: Monitoring,
    pub tags: BTreeMap<String, String>,
    pub execution_timeout_minutes: Option<u32>,
    pub mode: JobRunMode,
}

fn configuration_json(configuration: &Configuration) -> Value {
    let mut out = Map::new();
    out.insert("classification".into(), json!(configuration.classification));
    if !configuration.properties.is_empty() {
        out.insert("properties".into(), json!(configuration.properties));
    }
    if !configuration.configurations.is_empty() {
        out.insert(
            "configurations".into(),
            Value::Array(configuration.configurations.iter().map(configuration_json).collect()),
        );
    }
    Value::Object(out)
}

/// `monitoringConfiguration` in the API's member names.
pub fn monitoring_json(monitoring: &Monitoring) -> Value {
    let mut out = Map::new();
    let put = |object: &mut Map<String, Value>, key: &str, value: &Option<String>| {
        if let Some(value) = value {
            object.insert(key.to_string(), json!(value));
        }
    };
    if let Some(s3) = &monitoring.s3 {
        let mut object = Map::new();
        put(&mut object, "logUri", &s3.log_uri);
        put(&mut object, "encryptionKeyArn", &s3.encryption_key_arn);
        out.insert("s3MonitoringConfiguration".into(), Value::Object(object));
    }
    if let Some(managed) = &monitoring.managed_persistence {
        let mut object = Map::new();
        object.insert("enabled".into(), json!(managed.enabled));
        put(&mut object, "encryptionKeyArn", &managed.encryption_key_arn);
        out.insert(
            "managedPersistenceMonitoringConfiguration".into(),
            Value::Object(object),
        );
    }
    if let Some(cloudwatch) = &monitoring.cloudwatch {
        let mut object = Map::new();
        object.insert("enabled".into(), json!(cloudwatch.enabled));
        put(&mut object, "logGroupName", &cloudwatch.log_group_name);
        put(&mut object, "logStreamNamePrefix", &cloudwatch.log_stream_name_prefix);
        put(&mut object, "encryptionKeyArn", &cloudwatch.encryption_key_arn);
        if !cloudwatch.log_types.is_empty() {
            object.insert("logTypes".into(), json!(cloudwatch.log_types));
        }
        out.insert("cloudWatchLoggingConfiguration".into(), Value::Object(object));
    }
    if let Some(prometheus) = &monitoring.prometheus {
        let mut object = Map::new();
        put(&mut object, "remoteWriteUrl", &prometheus.remote_write_url);
        out.insert("prometheusMonitoringConfiguration".into(), Value::Object(object));
    }
    Value::Object(out)
}

impl JobRunRequest {
    /// The request as the API's JSON body names it (`applicationId`,
    /// `executionRoleArn`, `jobDriver`, `configurationOverrides`, ...),
    /// without `clientToken`: what `output --format json` prints, and what
    /// boto3's `start_job_run(**request)` takes as is.
    pub fn to_api_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("applicationId".into(), json!(self.application_id));
        out.insert("executionRoleArn".into(), json!(self.execution_role_arn));
        out.insert("name".into(), json!(self.name));
        let driver = match &self.driver {
            JobDriver::Spark {
                entry_point,
                entry_point_arguments,
                spark_submit_parameters,
            } => {
                let mut spark = Map::new();
                spark.insert("entryPoint".into(), json!(entry_point));
                if !entry_point_arguments.is_empty() {
                    spark.insert("entryPointArguments".into(), json!(entry_point_arguments));
                }
                if let Some(parameters) = spark_submit_parameters {
                    spark.insert("sparkSubmitParameters".into(), json!(parameters));
                }
                json!({ "sparkSubmit": spark })
            }
            JobDriver::Hive {
                query,
                init_query_file,
                parameters,
            } => {
                let mut hive = Map::new();
                hive.insert("query".into(), json!(query));
                if let Some(init) = init_query_file {
                    hive.insert("initQueryFile".into(), json!(init));
                }
                if let Some(parameters) = parameters {
                    hive.insert("parameters".into(), json!(parameters));
                }
                json!({ "hive": hive })
            }
        };
        out.insert("jobDriver".into(), driver);
        let mut overrides = Map::new();
        if !self.runtime.is_empty() {
            overrides.insert(
                "applicationConfiguration".into(),
                Value::Array(self.runtime.iter().map(configuration_json).collect()),
            );
        }
        if !self.monitoring.is_empty() {
            overrides.insert("monitoringConfiguration".into(), monitoring_json(&self.monitoring));
        }
        if !overrides.is_empty() {
            out.insert("configurationOverrides".into(), Value::Object(overrides));
        }
        if !self.tags.is_empty() {
            out.insert("tags".into(), json!(self.tags));
        }
        if let Some(minutes) = self.execution_timeout_minutes {
            out.insert("executionTimeoutMinutes".into(), json!(minutes));
        }
        out.insert("mode".into(), json!(self.mode.api_name()));
        Value::Object(out)
    }

    /// The S3 log URI the driver's logs go to: the job's own, if it sets
    /// one, else `application_log_uri` (the application's).
    pub fn log_uri<'a>(&'a self, application_log_uri: Option<&'a str>) -> Option<&'a str> {
        self.monitoring
            .s3
            .as_ref()
            .and_then(|s3| s3.log_uri.as_deref())
            .or(application_log_uri)
    }
}

/// A job run as `GetJobRun` reports it: what `emrstack run` follows and reports.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JobRunStatus {
    pub id: String,
    /// The API's state name (`RUNNING`); kept as text so that a state this
    /// version does not know is still shown.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_details: Option<String>,
    /// `totalExecutionDurationSeconds`, once the run has ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<i64>,
    /// `billedResourceUtilization`, once the run has ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billed: Option<ResourceUtilization>,
    /// The application's S3 log URI as the run reports it
    /// (`configurationOverrides.monitoringConfiguration`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_uri: Option<String>,
    /// The CloudWatch log group and stream prefix, when CloudWatch logging is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudwatch: Option<(String, Option<String>)>,
}

/// `billedResourceUtilization`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceUtilization {
    pub vcpu_hours: f64,
    pub memory_gb_hours: f64,
    pub storage_gb_hours: f64,
}

impl JobRunStatus {
    /// Whether the state is final (SUCCESS, FAILED or CANCELLED).
    pub fn is_final(&self) -> bool {
        matches!(self.state.as_str(), "SUCCESS" | "FAILED" | "CANCELLED")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spark_job() -> JobSpec {
        JobSpec {
            name: "s-smoke".into(),
            application: "etl".into(),
            engine: Engine::Spark,
            role: JobRole::Key { key: "etl".into() },
            driver: JobDriverSpec::Spark {
                entry_point: JobSource::Local {
                    path: PathBuf::from("/w/main.py"),
                },
                arguments: vec!["--deps".into(), "${job.smoke.files.deps.zip}".into()],
                spark_submit_parameters: Some("--py-files ${job.smoke.files.deps.zip} --conf a=b".into()),
            },
            files: vec![PathBuf::from("/w/deps")],
            runtime: vec![],
            monitoring: Monitoring::default(),
            timeout_minutes: Some(30),
            tags: BTreeMap::from([("team".into(), "data".into())]),
            mode: JobRunMode::Batch,
        }
    }

    #[test]
    fn request_resolves_uploaded_files_and_placeholders() {
        let job = spark_job();
        assert_eq!(
            job.local_paths(),
            vec![PathBuf::from("/w/main.py"), PathBuf::from("/w/deps")]
        );
        let uris = BTreeMap::from([
            (
                PathBuf::from("/w/main.py"),
                Uploaded {
                    file_name: "main.py".into(),
                    uri: "s3://b/a/111/main.py".into(),
                },
            ),
            (
                PathBuf::from("/w/deps"),
                Uploaded {
                    file_name: "deps.zip".into(),
                    uri: "s3://b/a/222/deps.zip".into(),
                },
            ),
        ]);
        let request = job
            .request("smoke", &uris, "app1", "arn:aws:iam::1:role/r", &["x".into()])
            .expect("resolves");
        let body = request.to_api_json();
        assert_eq!(body["jobDriver"]["sparkSubmit"]["entryPoint"], "s3://b/a/111/main.py");
        assert_eq!(
            body["jobDriver"]["sparkSubmit"]["entryPointArguments"],
            json!(["--deps", "s3://b/a/222/deps.zip", "x"])
        );
        assert_eq!(
            body["jobDriver"]["sparkSubmit"]["sparkSubmitParameters"],
            "--py-files s3://b/a/222/deps.zip --conf a=b"
        );
        assert_eq!(body["executionTimeoutMinutes"], 30);
        assert_eq!(body["mode"], "BATCH");
        assert!(body.get("configurationOverrides").is_none());
        assert!(body.get("clientToken").is_none());
        let missing = job.request("smoke", &BTreeMap::new(), "app1", "arn", &[]);
        assert!(missing.is_err());
    }
}
