//! Job runs: uploading a job's artifacts (HeadObject first, then a
//! conditional PutObject, so the same content is never uploaded twice and a
//! URI never changes content), StartJobRun, following the run with GetJobRun
//! until it ends, a timeout, or a halt (which cancel it), and reading the
//! last lines of the driver's stderr from S3 when it did not succeed.

use std::time::Duration;

use tokio::time::Instant;

use super::Halt;
use crate::artifact::Artifact;
use crate::cloud::{Cloud, CloudError, ErrorKind, JobRunRef, ObjectStore, StoreError, WriteCondition, WriteOutcome};
use crate::model::{Engine, JobRunRequest, JobRunStatus, S3Location};

/// How many lines of the driver's stderr a failed run shows.
pub(crate) const LOG_TAIL_LINES: usize = 50;

/// The most bytes of a gzip'd driver log read from S3, and of its text.
pub(crate) const MAX_LOG_BYTES: usize = 16 * 1024 * 1024;

/// What happened to one artifact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UploadOutcome {
    /// Its `s3://` URI.
    pub uri: String,
    /// The local path.
    pub source: std::path::PathBuf,
    /// Whether it was uploaded now (`false`: the object was there already).
    pub uploaded: bool,
    /// Its size in bytes.
    pub size: usize,
}

/// Uploads each artifact that is not in S3 yet. The key names the SHA-256
/// of the bytes, so an object that exists holds these bytes: HeadObject
/// comes first and skips the upload; the write is conditional
/// (`If-None-Match: *`), so two uploads racing leave one object.
pub(crate) async fn upload<S: ObjectStore>(
    store: &S,
    artifacts: &[Artifact],
) -> Result<Vec<UploadOutcome>, StoreError> {
    let mut out = Vec::new();
    for artifact in artifacts {
        let exists = store.head_object(&artifact.object).await?.is_some();
        let uploaded = if exists {
            false
        } else {
            match store
                .put_object(
                    &artifact.object,
                    artifact.body.clone(),
                    artifact.content_type(),
                    &WriteCondition::IfAbsent,
                )
                .await?
            {
                WriteOutcome::Written { .. } => true,
                WriteOutcome::ConditionFailed => false,
            }
        };
        out.push(UploadOutcome {
            uri: artifact.uri(),
            source: artifact.source.clone(),
            uploaded,
            size: artifact.body.len(),
        });
    }
    Ok(out)
}

/// How to follow a run.
#[derive(Clone, Debug)]
pub(crate) struct RunOptions {
    /// Follow the run until it ends; `false` returns once it is started.
    pub wait: bool,
    /// Cancel the run when it has not ended after this long.
    pub timeout: Option<Duration>,
    /// Time between two GetJobRun calls.
    pub poll_interval: Duration,
    /// How long to wait for a cancelled run to reach CANCELLED.
    pub cancel_wait: Duration,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            wait: true,
            timeout: None,
            poll_interval: Duration::from_secs(5),
            cancel_wait: Duration::from_secs(120),
        }
    }
}

/// Why emrstack cancelled a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Cancelled {
    /// `--timeout` expired.
    Timeout,
    /// A halt (SIGINT, SIGTERM), with its reason.
    Halt(String),
}

/// Where the driver's log is, and its last lines when they could be read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DriverLog {
    /// `s3://.../SPARK_DRIVER/stderr.gz`, when S3 logging is configured.
    pub s3_uri: Option<String>,
    /// The CloudWatch log group and stream prefix to look in otherwise.
    pub cloudwatch: Option<String>,
    /// The last [`LOG_TAIL_LINES`] lines of stderr.
    pub tail: Vec<String>,
    /// Why the tail could not be read, when it could not.
    pub problem: Option<String>,
}

/// What a run did.
#[derive(Clone, Debug)]
pub(crate) struct RunOutcome {
    pub run: JobRunRef,
    /// The last GetJobRun seen.
    pub status: JobRunStatus,
    /// When emrstack cancelled the run, why.
    pub cancelled: Option<Cancelled>,
    /// Wall-clock time from StartJobRun to the end (or to the return, without waiting).
    pub elapsed: Duration,
    /// The Spark UI URL (GetDashboardForJobRun), when the service gave one.
    pub dashboard: Option<String>,
    /// The driver's log, for runs that did not succeed.
    pub log: Option<DriverLog>,
}

impl RunOutcome {
    /// Whether the run ended in SUCCESS.
    pub(crate) fn succeeded(&self) -> bool {
        self.status.state == "SUCCESS"
    }
}

/// What a run needs beyond its request: the application's engine and S3 log
/// URI, for the driver's log.
#[derive(Clone, Debug)]
pub(crate) struct RunContext {
    pub engine: Engine,
    /// The application's `monitoring.s3.log_uri`, if any.
    pub application_log_uri: Option<String>,
    /// The application's CloudWatch log group when CloudWatch logging is on.
    pub application_cloudwatch: Option<(String, Option<String>)>,
}

#[allow(clippy::too_many_arguments)]
/// Starts `request` with `client_token` and, with `options.wait`, follows it
/// to its end. `progress` gets each new state and the time since the start.
/// A halt or the timeout cancels the run (CancelJobRun) and waits for it to
/// be CANCELLED, up to `options.cancel_wait`.
pub(crate) async fn run<C: Cloud, S: ObjectStore>(
    cloud: &C,
    store: &S,
    request: &JobRunRequest,
    client_token: &str,
    context: &RunContext,
    options: &RunOptions,
    mut halt: Halt,
    progress: &(dyn Fn(&str, Duration) + Send + Sync),
) -> Result<RunOutcome, CloudError> {
    let started = Instant::now();
    let run = cloud.start_job_run(request, client_token).await?;
    let mut status = JobRunStatus {
        id: run.job_run_id.clone(),
        state: "SUBMITTED".to_string(),
        ..JobRunStatus::default()
    };
    if !options.wait {
        return Ok(RunOutcome {
            run,
            status,
            cancelled: None,
            elapsed: started.elapsed(),
            dashboard: None,
            log: None,
        });
    }
    let deadline = options.timeout.map(|timeout| started + timeout);
    let mut cancelled = None;
    let mut last_state = String::new();
    loop {
        status = cloud.get_job_run(&run.application_id, &run.job_run_id).await?;
        if status.state != last_state {
            last_state = status.state.clone();
            progress(&status.state, started.elapsed());
        }
        if status.is_final() {
            break;
        }
        let sleep = tokio::time::sleep(options.poll_interval);
        let timeout = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = sleep => {}
            _ = timeout => cancelled = Some(Cancelled::Timeout),
            reason = halt.wait() => cancelled = Some(Cancelled::Halt(reason)),
        }
        if cancelled.is_some() {
            match cloud.cancel_job_run(&run.application_id, &run.job_run_id).await {
                Ok(()) => {}
                // The run ended meanwhile: the next GetJobRun says how.
                Err(error) if error.kind == ErrorKind::Invalid => {}
                Err(error) => return Err(error),
            }
            let waited = Instant::now();
            loop {
                status = cloud.get_job_run(&run.application_id, &run.job_run_id).await?;
                if status.state != last_state {
                    last_state = status.state.clone();
                    progress(&status.state, started.elapsed());
                }
                if status.is_final() || waited.elapsed() >= options.cancel_wait {
                    break;
                }
                tokio::time::sleep(options.poll_interval.min(Duration::from_secs(1))).await;
            }
            break;
        }
    }
    let dashboard = cloud
        .get_dashboard_for_job_run(&run.application_id, &run.job_run_id)
        .await
        .ok();
    let log = if status.state == "SUCCESS" {
        None
    } else {
        Some(driver_log(store, request, &run, &status, context).await)
    };
    Ok(RunOutcome {
        run,
        status,
        cancelled,
        elapsed: started.elapsed(),
        dashboard,
        log,
    })
}

/// The driver's stderr: from S3 when the run logs there
/// (`<logUri>/applications/<appId>/jobs/<jobRunId>/SPARK_DRIVER/stderr.gz`,
/// `HIVE_DRIVER` for Hive: the user guide's "Logging" pages), else where to
/// look in CloudWatch.
async fn driver_log<S: ObjectStore>(
    store: &S,
    request: &JobRunRequest,
    run: &JobRunRef,
    status: &JobRunStatus,
    context: &RunContext,
) -> DriverLog {
    let mut log = DriverLog::default();
    let log_uri = request
        .log_uri(context.application_log_uri.as_deref())
        .map(str::to_string)
        .or_else(|| status.log_uri.clone());
    let driver = match context.engine {
        Engine::Spark => "SPARK_DRIVER",
        Engine::Hive => "HIVE_DRIVER",
    };
    let cloudwatch = request
        .monitoring
        .cloudwatch
        .as_ref()
        .and_then(|c| c.destination())
        .or_else(|| status.cloudwatch.clone())
        .or_else(|| context.application_cloudwatch.clone());
    if let Some((group, prefix)) = cloudwatch {
        // The stream layout of the user guide: `<prefix>/applications/<appId>/jobs/<jobRunId>/SPARK_DRIVER/stderr`.
        let stream = format!(
            "{}applications/{}/jobs/{}/{driver}/stderr",
            prefix
                .map(|p| format!("{}/", p.trim_end_matches('/')))
                .unwrap_or_default(),
            run.application_id,
            run.job_run_id
        );
        log.cloudwatch = Some(format!("log group {group}, stream {stream}"));
    }
    let Some(log_uri) = log_uri else {
        if log.cloudwatch.is_none() {
            log.problem = Some(
                "the run has no S3 log URI and no CloudWatch logging; its logs are in the service's managed storage (open the dashboard)".to_string(),
            );
        }
        return log;
    };
    let Ok(location) = S3Location::parse(&log_uri) else {
        log.problem = Some(format!("the log URI `{log_uri}` is not an S3 location"));
        return log;
    };
    let object = location.object(&format!(
        "applications/{}/jobs/{}/{driver}/stderr.gz",
        run.application_id, run.job_run_id
    ));
    log.s3_uri = Some(format!("s3://{}/{}", object.bucket, object.key));
    match store.get_object(&object, MAX_LOG_BYTES).await {
        Ok(Some(found)) => match gunzip(&found.body, MAX_LOG_BYTES) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                let lines: Vec<&str> = text.lines().collect();
                let start = lines.len().saturating_sub(LOG_TAIL_LINES);
                log.tail = lines[start..].iter().map(|l| l.to_string()).collect();
            }
            Err(problem) => log.problem = Some(problem),
        },
        Ok(None) => {
            log.problem = Some("the driver wrote no stderr (no driver ran, or the logs are not there yet)".to_string())
        }
        Err(error) => log.problem = Some(format!("cannot read it: {error}")),
    }
    log
}

/// Decompresses a gzip file (RFC 1952, one or more members) of at most
/// `limit` bytes of output.
pub(crate) fn gunzip(data: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        if rest.len() < 18 || rest[0] != 0x1f || rest[1] != 0x8b || rest[2] != 8 {
            return Err("not a gzip file".to_string());
        }
        let flags = rest[3];
        let mut at = 10;
        if flags & 4 != 0 {
            let length = rest
                .get(at..at + 2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
                .ok_or("a truncated gzip header")?;
            at += 2 + length;
        }
        for flag in [8u8, 16] {
            if flags & flag != 0 {
                let end = rest
                    .get(at..)
                    .and_then(|tail| tail.iter().position(|&b| b == 0))
                    .ok_or("a truncated gzip header")?;
                at += end + 1;
            }
        }
        if flags & 2 != 0 {
            at += 2;
        }
        let body = rest.get(at..).ok_or("a truncated gzip header")?;
        let (inflated, consumed) = inflate(body, limit.saturating_sub(out.len()))?;
        out.extend_from_slice(&inflated);
        // The CRC-32 and size trailer.
        rest = body.get(consumed + 8..).unwrap_or(&[]);
    }
    Ok(out)
}

fn inflate(data: &[u8], limit: usize) -> Result<(Vec<u8>, usize), String> {
    use miniz_oxide::inflate::TINFLStatus;
    use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};
    let mut decompressor = DecompressorOxide::new();
    // Never more than `limit` bytes of output, even when all of it would
    // fit the first buffer.
    let mut out = vec![0u8; (64 * 1024).min(limit)];
    let mut in_at = 0;
    let mut out_at = 0;
    loop {
        let (status, read, written) = decompress(
            &mut decompressor,
            &data[in_at..],
            &mut out,
            out_at,
            inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
        );
        in_at += read;
        out_at += written;
        match status {
            TINFLStatus::Done => {
                out.truncate(out_at);
                return Ok((out, in_at));
            }
            TINFLStatus::HasMoreOutput => {
                if out.len() >= limit {
                    return Err(format!("the log is larger than {limit} bytes"));
                }
                let grown = (out.len() * 2).max(1).min(limit);
                out.resize(grown, 0);
            }
            _ => return Err(format!("the gzip data is damaged ({status:?})")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::fake::FakeCloud;
    use crate::cloud::fake_store::FakeStore;
    use crate::model::{ApplicationSpec, ApplicationState, JobDriver, JobRunMode, Monitoring};

    fn request(app: &str, name: &str) -> JobRunRequest {
        JobRunRequest {
            application_id: app.to_string(),
            execution_role_arn: "arn:aws:iam::123456789012:role/r".into(),
            name: name.into(),
            driver: JobDriver::Spark {
                entry_point: "s3://b/m.py".into(),
                entry_point_arguments: vec![],
                spark_submit_parameters: None,
            },
            runtime: vec![],
            monitoring: Monitoring::default(),
            tags: Default::default(),
            execution_timeout_minutes: None,
            mode: JobRunMode::Batch,
        }
    }

    fn context() -> RunContext {
        RunContext {
            engine: Engine::Spark,
            application_log_uri: None,
            application_cloudwatch: None,
        }
    }

    fn options() -> RunOptions {
        RunOptions {
            poll_interval: Duration::from_millis(100),
            ..RunOptions::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_run_is_followed_to_its_end_and_a_token_starts_it_once() {
        let cloud = FakeCloud::new();
        let store = FakeStore::new("us-east-1");
        let app = cloud.insert_application(
            ApplicationSpec::new("a", Engine::Spark, "emr-7.2.0"),
            ApplicationState::Started,
        );
        let states = std::sync::Mutex::new(Vec::new());
        let progress = |state: &str, _: Duration| states.lock().expect("lock").push(state.to_string());
        let outcome = run(
            &cloud,
            &store,
            &request(&app.id, "ok"),
            "t1",
            &context(),
            &options(),
            Halt::never(),
            &progress,
        )
        .await
        .expect("run");
        assert!(outcome.succeeded());
        assert!(outcome.log.is_none());
        assert!(outcome.dashboard.is_some());
        assert_eq!(states.lock().expect("lock").last().map(String::as_str), Some("SUCCESS"));
        let again = run(
            &cloud,
            &store,
            &request(&app.id, "ok"),
            "t1",
            &context(),
            &options(),
            Halt::never(),
            &progress,
        )
        .await
        .expect("run");
        assert_eq!(again.run.job_run_id, outcome.run.job_run_id);
        assert_eq!(cloud.job_runs(&app.id).len(), 1);

        cloud.fail_jobs_named("bad");
        let failed = run(
            &cloud,
            &store,
            &request(&app.id, "bad"),
            "t2",
            &context(),
            &options(),
            Halt::never(),
            &progress,
        )
        .await
        .expect("run");
        assert_eq!(failed.status.state, "FAILED");
        let log = failed.log.expect("a log for a failed run");
        assert!(log.problem.is_some(), "no S3 log URI: {log:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_halt_cancels_the_run() {
        let cloud = FakeCloud::new();
        let store = FakeStore::new("us-east-1");
        let app = cloud.insert_application(
            ApplicationSpec::new("a", Engine::Spark, "emr-7.2.0"),
            ApplicationState::Started,
        );
        let (sender, receiver) = tokio::sync::watch::channel(None);
        let halt = Halt::new(receiver);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let _ = sender.send(Some("interrupted (SIGINT)".to_string()));
            tokio::time::sleep(Duration::from_secs(3600)).await;
        });
        let outcome = run(
            &cloud,
            &store,
            &request(&app.id, "slow"),
            "t",
            &context(),
            &options(),
            halt,
            &|_, _| {},
        )
        .await
        .expect("run");
        assert_eq!(outcome.cancelled, Some(Cancelled::Halt("interrupted (SIGINT)".into())));
        assert_eq!(cloud.call_count("CancelJobRun"), 1);
        assert_eq!(outcome.status.state, "CANCELLED");
    }

    #[tokio::test(start_paused = true)]
    async fn uploads_skip_what_exists() {
        let store = FakeStore::new("us-east-1");
        store.create_bucket("b");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("m.py"), "x").expect("write");
        let location = S3Location::parse("s3://b/art").expect("location");
        let artifact = crate::artifact::prepare(&dir.path().join("m.py"), &location).expect("artifact");
        let first = upload(&store, std::slice::from_ref(&artifact)).await.expect("upload");
        assert!(first[0].uploaded);
        let second = upload(&store, std::slice::from_ref(&artifact)).await.expect("upload");
        assert!(!second[0].uploaded);
        assert_eq!(store.calls("PutObject"), 1);
        assert_eq!(store.calls("HeadObject"), 2);
    }

    #[test]
    fn gunzip_reads_what_python_writes() {
        // `gzip.compress(b"line 1\nline 2\n", mtime=0)` with a file name set.
        let script = "import gzip,sys,io\nb=io.BytesIO()\nf=gzip.GzipFile(filename='stderr',mode='wb',fileobj=b,mtime=0)\nf.write(b'line 1\\n'*5000+b'last\\n')\nf.close()\nsys.stdout.buffer.write(b.getvalue())";
        let Ok(output) = std::process::Command::new("python3").arg("-c").arg(script).output() else {
            return;
        };
        let text = gunzip(&output.stdout, MAX_LOG_BYTES).expect("gunzip");
        assert_eq!(text.len(), 7 * 5000 + 5);
        assert!(text.ends_with(b"last\n"));
        assert!(gunzip(&output.stdout, 100).is_err());
        assert!(gunzip(b"not gzip at all, not at all", 100).is_err());
    }
}
