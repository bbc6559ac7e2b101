//! The stack lock end to end: `emrstack` processes racing on one stack
//! against the emulator's S3 (moto behind a front that makes conditional
//! writes atomic, as S3's are).
//!
//! These tests run on an emulator of their own ([`emulator`]), started with
//! every StartApplication held in STARTING until the test releases it
//! (`EMULATOR_DELAY_START_MS=-1`, a setting of the whole emulator, so not
//! on the shared one): the renewal tests keep an apply waiting for as long
//! as they need. No other test on this emulator starts an application.
//!
//! Leases are shortened (`EMRSTACK_LOCK_LEASE_MS`, `EMRSTACK_LOCK_RENEW_MS`)
//! so a killed holder blocks the stack for two seconds, not two minutes.
//! To see every run's output: `E2E_DEBUG=1 cargo test --test it e2e_lock:: -- --nocapture`.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::apply_support::{Project, SplitMix64, bounded, command, finish};
use crate::support::cli::{Run, Workspace};
use crate::support::cloud::sdk_config;
use crate::support::emulator::Emulator;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

/// The lease of these tests, and how often it is renewed.
const LEASE_MS: u64 = 2000;
const RENEW_MS: u64 = 400;

const KILL_TRIALS: u64 = 10;
const KILL_LANES: u64 = 2;
const DEFAULT_SEED: u64 = 0x10C4_0011;

/// One emulator for this binary, holding every start in STARTING.
fn emulator() -> &'static Emulator {
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
    EMULATOR.get_or_init(|| Emulator::builder().env("EMULATOR_DELAY_START_MS", "-1").start())
}

/// A stack of two applications (without images) locked in `bucket`.
fn stack(bucket: &str, release: &str) -> String {
    format!(
        r#"[stack]
name = "race"
region = "us-east-1"
lock = "s3://{bucket}/locks/"

[applications.etl]
type = "SPARK"
release_label = "{release}"
maximum_capacity = {{ cpu = "16 vCPU", memory = "64 GB" }}

[applications.reports]
type = "HIVE"
release_label = "{release}"
"#
    )
}

/// The S3 client of an account (path-style, as against any endpoint).
async fn s3(emulator: &Emulator, account: &str) -> aws_sdk_s3::Client {
    let config = sdk_config(emulator, account).await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    )
}

/// A fresh account with a lock bucket and the stack; short leases and fast
/// lock polling for every run.
async fn project(emulator: &'static Emulator) -> (Project<'static>, String) {
    let mut ws = Workspace::new(emulator);
    let bucket = format!("locks-{}", ws.account);
    s3(emulator, &ws.account)
        .await
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("CreateBucket");
    ws.write("emrstack.toml", &stack(&bucket, "emr-7.2.0"));
    ws.env("EMRSTACK_LOCK_LEASE_MS", &LEASE_MS.to_string());
    ws.env("EMRSTACK_LOCK_RENEW_MS", &RENEW_MS.to_string());
    ws.env("EMRSTACK_LOCK_POLL_MS", "100");
    ws.env("EMRSTACK_LOCK_MAX_POLL_MS", "400");
    (Project::new(ws), bucket)
}

const LOCK_KEY: &str = "locks/race.lock";

/// The lock object's record and ETag, if there is one.
async fn lock_object(project: &Project<'_>, bucket: &str) -> Option<(Value, String)> {
    let s3 = s3(project.emulator(), project.account()).await;
    match s3.get_object().bucket(bucket).key(LOCK_KEY).send().await {
        Ok(output) => {
            let etag = output.e_tag().unwrap_or_default().to_string();
            let body = output.body.collect().await.expect("read the lock").into_bytes();
            Some((serde_json::from_slice(&body).expect("the lock is JSON"), etag))
        }
        Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => None,
        Err(error) => panic!("GetObject {LOCK_KEY}: {error:?}"),
    }
}

/// Waits until the lock object exists and returns it.
async fn wait_for_lock(project: &Project<'_>, bucket: &str) -> (Value, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(found) = lock_object(project, bucket).await {
            return found;
        }
        assert!(Instant::now() < deadline, "the lock was never taken");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Holds every CreateApplication (or another operation) of the account for `ms`.
fn slow(project: &Project<'_>, operation: &str, ms: u64) -> String {
    project.emulator().add_fault(json!({
        "account": project.account(), "service": "emr-serverless", "operation": operation,
        "kind": "latency", "latencyMs": ms,
    }))
}

fn apply_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["apply", "--auto-approve"];
    args.extend(crate::apply_support::BOUNDED_WAITS);
    args.extend(extra);
    args
}

/// A running CLI whose stderr lines are kept with the time each arrived, to
/// order events of two processes.
struct Timed {
    child: tokio::process::Child,
    lines: Arc<Mutex<Vec<(Instant, String)>>>,
    reader: tokio::task::JoinHandle<()>,
}

struct TimedRun {
    run: Run,
    lines: Vec<(Instant, String)>,
}

impl TimedRun {
    /// When the first line containing `needle` arrived.
    fn at(&self, needle: &str) -> Instant {
        self.lines
            .iter()
            .find(|(_, line)| line.contains(needle))
            .map(|(at, _)| *at)
            .unwrap_or_else(|| panic!("no line contains `{needle}`:\n{}", self.run.stderr))
    }
}

fn spawn_timed(ws: &Workspace<'_>, args: &[&str]) -> Timed {
    let mut command = command(ws, args);
    command.stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn emrstack");
    let stderr = child.stderr.take().expect("stderr is piped");
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    let reader = tokio::spawn(async move {
        let mut reader = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            sink.lock().unwrap().push((Instant::now(), line));
        }
    });
    Timed { child, lines, reader }
}

impl Timed {
    /// Waits for the run (bounded like every CLI run of these tests).
    async fn finish(mut self, what: &str) -> TimedRun {
        let mut stdout = self.child.stdout.take().expect("stdout is piped");
        let out = tokio::spawn(async move {
            let mut text = String::new();
            let _ = tokio::io::AsyncReadExt::read_to_string(&mut stdout, &mut text).await;
            text
        });
        let status = match tokio::time::timeout(crate::apply_support::CLI_TIMEOUT, self.child.wait()).await {
            Ok(status) => status.expect("wait for emrstack"),
            Err(_) => {
                let _ = self.child.kill().await;
                let lines = self.lines.lock().unwrap().clone();
                let stderr: Vec<String> = lines.into_iter().map(|(_, line)| line).collect();
                panic!("`emrstack {what}` did not finish in time\n{}", stderr.join("\n"));
            }
        };
        let _ = self.reader.await;
        let lines = self.lines.lock().unwrap().clone();
        let run = Run {
            code: status.code().unwrap_or(-1),
            stdout: out.await.unwrap_or_default(),
            stderr: lines.iter().map(|(_, line)| format!("{line}\n")).collect(),
        };
        if std::env::var_os("E2E_DEBUG").is_some() {
            eprintln!("=== emrstack {what} -> {}\n{}\n{}", run.code, run.stdout, run.stderr);
        }
        TimedRun { run, lines }
    }
}

fn assert_contains(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "`{needle}` not in:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_applies_started_together_one_applies_and_the_other_then_finds_nothing_to_do() {
    bounded(async {
        let (project, bucket) = project(emulator()).await;
        // Each create takes a second and a half, so the first apply surely
        // holds the lock when the second asks for it.
        let rule = slow(&project, "CreateApplication", 1500);
        let args = apply_args(&["--lock-timeout", "60s"]);
        let first = spawn_timed(&project.ws, &args);
        let second = spawn_timed(&project.ws, &args);
        let (first, second) = tokio::join!(first.finish("apply 1"), second.finish("apply 2"));
        project.emulator().remove_fault(&rule);
        let runs = [first, second];
        for timed in &runs {
            assert_eq!(timed.run.code, 0, "{}\n{}", timed.run.stdout, timed.run.stderr);
        }
        let (applier, waiter) = if runs[0].run.stderr.contains("Apply complete") {
            (&runs[0], &runs[1])
        } else {
            (&runs[1], &runs[0])
        };
        assert_contains(
            &applier.run.stderr,
            &["Apply complete: 2 applied", "Released the stack lock."],
        );
        assert_contains(
            &waiter.run.stderr,
            &["Waiting up to 1m 00s for the stack lock, held by", "`emrstack apply`"],
        );
        assert_contains(&waiter.run.stdout, &["No changes."]);
        assert!(!waiter.run.stderr.contains("Apply complete"), "{}", waiter.run.stderr);
        // One at a time: the waiter took the lock after the applier let it go.
        assert!(waiter.at("Acquired the stack lock") >= applier.at("Released the stack lock."));
        assert_eq!(project.served("emr-serverless:CreateApplication"), 2);

        // Again with an update: each application is updated once, not twice.
        project.edit(
            "emrstack.toml",
            "release_label = \"emr-7.2.0\"",
            "release_label = \"emr-7.3.0\"",
        );
        project.edit(
            "emrstack.toml",
            "release_label = \"emr-7.2.0\"",
            "release_label = \"emr-7.3.0\"",
        );
        let rule = slow(&project, "UpdateApplication", 1000);
        let first = spawn_timed(&project.ws, &args);
        let second = spawn_timed(&project.ws, &args);
        let (first, second) = tokio::join!(first.finish("apply 3"), second.finish("apply 4"));
        project.emulator().remove_fault(&rule);
        assert_eq!(
            (first.run.code, second.run.code),
            (0, 0),
            "{}\n{}",
            first.run.stderr,
            second.run.stderr
        );
        let completed = [&first, &second]
            .iter()
            .filter(|timed| timed.run.stderr.contains("Apply complete: 2 applied"))
            .count();
        assert_eq!(completed, 1, "{}\n{}", first.run.stderr, second.run.stderr);
        assert_eq!(project.served("emr-serverless:UpdateApplication"), 2);
        assert_eq!(project.aws().await.apps().await.len(), 2);
        assert!(lock_object(&project, &bucket).await.is_none(), "released");
        project.assert_converged().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_timeout_the_second_apply_fails_at_once_naming_the_holder() {
    bounded(async {
        let (project, bucket) = project(emulator()).await;
        let rule = slow(&project, "CreateApplication", 2500);
        let holder = command(&project.ws, &apply_args(&[])).spawn().expect("spawn");
        let pid = holder.id().expect("pid");
        let (record, _) = wait_for_lock(&project, &bucket).await;
        assert_eq!(record["pid"], json!(pid));
        assert_eq!(record["command"], "apply");
        assert_eq!(record["stack"], "race");
        let started = Instant::now();
        let refused = project.apply(&[]).await;
        let took = started.elapsed();
        assert_eq!(refused.code, 1, "{}", refused.stderr);
        assert_contains(
            &refused.stderr,
            &[
                "error: the stack lock s3://",
                "/locks/race.lock is held by",
                &format!("(pid {pid}), running `emrstack apply` since "),
                record["acquired_at"].as_str().unwrap(),
                &format!("lock ID {}", record["id"].as_str().unwrap()),
                "help: wait for it with `--lock-timeout 10m`",
                &format!("emrstack unlock {}", record["id"].as_str().unwrap()),
            ],
        );
        assert!(took < Duration::from_secs(10), "fails fast: {took:?}");
        let done = finish(holder, "apply (holder)").await.ok();
        assert_contains(&done.stderr, &["Apply complete: 2 applied", "Released the stack lock."]);
        project.emulator().remove_fault(&rule);
        // The refused run changed nothing: two creates, the holder's.
        assert_eq!(project.served("emr-serverless:CreateApplication"), 2);
        assert!(lock_object(&project, &bucket).await.is_none());
    })
    .await;
}

/// `destroy` and `apply` started together, in both orders: one runs, then
/// the other, and the account ends as the second left it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_racing_apply_runs_one_at_a_time_and_the_last_one_wins() {
    bounded(async {
        for apply_first in [true, false] {
            let (project, bucket) = project(emulator()).await;
            project.apply(&[]).await.ok();
            // A pending change for the apply, and slow calls for both, so the
            // second run surely finds the first holding the lock.
            project.edit(
                "emrstack.toml",
                "cpu = \"16 vCPU\", memory = \"64 GB\"",
                "cpu = \"32 vCPU\", memory = \"128 GB\"",
            );
            let rules = [
                slow(&project, "UpdateApplication", 700),
                slow(&project, "DeleteApplication", 700),
            ];
            let apply = apply_args(&["--lock-timeout", "60s"]);
            let mut destroy = vec!["destroy", "--auto-approve", "--lock-timeout", "60s"];
            destroy.extend(crate::apply_support::BOUNDED_WAITS);
            let (first_args, second_args) = if apply_first {
                (apply.clone(), destroy.clone())
            } else {
                (destroy.clone(), apply.clone())
            };
            let first = spawn_timed(&project.ws, &first_args);
            wait_for_lock(&project, &bucket).await;
            let second = spawn_timed(&project.ws, &second_args);
            let (first, second) = tokio::join!(first.finish("first"), second.finish("second"));
            for rule in rules {
                project.emulator().remove_fault(&rule);
            }
            let context = format!(
                "apply first: {apply_first}\n--- first ---\n{}\n--- second ---\n{}",
                first.run.stderr, second.run.stderr
            );
            assert_eq!((first.run.code, second.run.code), (0, 0), "{context}");
            let first_command = if apply_first {
                "`emrstack apply`"
            } else {
                "`emrstack destroy`"
            };
            assert_contains(&second.run.stderr, &["Waiting up to", first_command]);
            assert!(
                second.at("Acquired the stack lock") >= first.at("Released the stack lock."),
                "{context}"
            );
            let apps = project.aws().await.apps().await;
            if apply_first {
                // The apply updated `etl`; the destroy, last, deleted both.
                assert_contains(&first.run.stderr, &["Apply complete: 1 applied"]);
                assert_contains(&second.run.stderr, &["Destroy complete: 2 applied"]);
                assert!(apps.is_empty(), "{context}\n{apps:#?}");
            } else {
                // The destroy deleted both; the apply, last, created them again.
                assert_contains(&first.run.stderr, &["Destroy complete: 2 applied"]);
                assert_contains(&second.run.stderr, &["Apply complete: 2 applied", "Converged"]);
                assert_eq!(apps.len(), 2, "{context}\n{apps:#?}");
                let etl = apps.iter().find(|app| app.name == "race-etl").expect("etl");
                assert_eq!(etl.maximum_cpu.as_deref(), Some("32 vCPU"), "{apps:#?}");
                project.assert_converged().await;
            }
            assert!(lock_object(&project, &bucket).await.is_none(), "{context}");
        }
    })
    .await;
}

/// Each create of a kill trial takes this long, so most of an apply runs
/// under the lock and random kill points land there.
const TRIAL_CREATE_MS: u64 = 600;

/// How long an uninterrupted apply of the stack takes here.
async fn calibrate() -> Duration {
    let (project, _) = project(emulator()).await;
    slow(&project, "CreateApplication", TRIAL_CREATE_MS);
    let started = Instant::now();
    project.apply(&[]).await.ok();
    started.elapsed()
}

/// A SIGKILLed apply: the next apply, started at once, is refused and names
/// the dead holder; after the lease runs out, the next takes over and
/// converges, with nothing created twice.
async fn kill_trial(index: u64, delay: Duration, seed: u64) -> bool {
    let (project, bucket) = project(emulator()).await;
    slow(&project, "CreateApplication", TRIAL_CREATE_MS);
    let context = format!("seed {seed}, trial {index}, killed after {delay:?}");
    let mut child = command(&project.ws, &apply_args(&[])).spawn().expect("spawn");
    let pid = child.id().expect("pid");
    let finished = tokio::time::timeout(delay, child.wait()).await.is_ok();
    if !finished {
        child.start_kill().expect("kill");
    }
    let killed = finish(child, "apply (killed)").await;
    let held = lock_object(&project, &bucket).await;
    let context = format!("{context}\n--- killed run ---\n{}", killed.stderr);
    if let Some((record, _)) = &held {
        assert!(!finished, "{context}: a finished apply left its lock behind");
        assert_eq!(record["pid"], json!(pid), "{context}");
        let refused = project.apply(&[]).await;
        assert_eq!(refused.code, 1, "{context}\n{}", refused.stderr);
        assert_contains(
            &refused.stderr,
            &[&format!("(pid {pid}), running `emrstack apply`"), "is held by"],
        );
    }
    let started = Instant::now();
    let next = project.apply(&["--lock-timeout", "30s"]).await;
    let waited = started.elapsed();
    assert_eq!(
        next.code, 0,
        "{context}\n--- next ---\n{}\n{}",
        next.stdout, next.stderr
    );
    if let Some((record, _)) = &held {
        assert_contains(&next.stderr, &["taking it over from", record["id"].as_str().unwrap()]);
        // The dead holder blocked the stack for one lease at most (its last
        // renewal, S3's one-second granularity, and the apply itself).
        assert!(waited < Duration::from_millis(LEASE_MS + 8000), "{context}: {waited:?}");
    }
    let plan = project.plan(&[]).await;
    assert_eq!(
        plan.code, 0,
        "{context}: not converged\n{}\n{}",
        plan.stdout, plan.stderr
    );
    let apps = project.aws().await.apps().await;
    let names: BTreeSet<&str> = apps.iter().map(|app| app.name.as_str()).collect();
    assert_eq!(apps.len(), 2, "{context}: {apps:#?}");
    assert_eq!(names, BTreeSet::from(["race-etl", "race-reports"]), "{context}");
    assert!(lock_object(&project, &bucket).await.is_none(), "{context}");
    held.is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_apply_blocks_the_stack_for_at_most_one_lease() {
    bounded(async {
        let seed = std::env::var("EMRSTACK_KILL_SEED")
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or(DEFAULT_SEED);
        let duration = calibrate().await;
        let mut rng = SplitMix64::new(seed);
        // Kill points over the whole run, from before the lock is taken to
        // its release at the end.
        let bound = (duration.as_millis() as u64).max(200);
        let delays: Vec<Duration> = (0..KILL_TRIALS)
            .map(|_| Duration::from_millis(rng.below(bound)))
            .collect();
        eprintln!("lock kill trials: seed {seed}; an apply takes {duration:?}");
        let mut lanes = tokio::task::JoinSet::new();
        for lane in 0..KILL_LANES {
            let mine: Vec<(u64, Duration)> = delays
                .iter()
                .copied()
                .enumerate()
                .map(|(index, delay)| (index as u64, delay))
                .filter(|(index, _)| index % KILL_LANES == lane)
                .collect();
            lanes.spawn(async move {
                let mut held = 0;
                for (index, delay) in mine {
                    let was_held = kill_trial(index, delay, seed).await;
                    eprintln!("lock kill trial {index}: killed after {delay:?}, lock held: {was_held}");
                    held += usize::from(was_held);
                }
                held
            });
        }
        let mut held = 0;
        while let Some(result) = lanes.join_next().await {
            match result {
                Ok(count) => held += count,
                Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                Err(error) => panic!("a lane failed: {error}"),
            }
        }
        // About 85% of the run is under the lock; fewer than four of ten
        // would mean the kill points no longer exercise it.
        assert!(held >= 4, "only {held} of {KILL_TRIALS} kills left a lock behind");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlock_with_a_wrong_id_changes_nothing() {
    bounded(async {
        let (project, bucket) = project(emulator()).await;
        let rule = slow(&project, "CreateApplication", 5000);
        let mut child = command(&project.ws, &apply_args(&[])).spawn().expect("spawn");
        let (record, etag) = wait_for_lock(&project, &bucket).await;
        child.start_kill().expect("kill");
        finish(child, "apply (killed)").await;
        project.emulator().remove_fault(&rule);
        let (record, etag) = lock_object(&project, &bucket).await.unwrap_or((record, etag));
        let id = record["id"].as_str().unwrap().to_string();

        let wrong = project.run(&["unlock", "0123456789abcdef0123456789abcdef"]).await;
        assert_eq!(wrong.code, 1, "{}", wrong.stderr);
        assert_contains(
            &wrong.stderr,
            &[&format!(
                "has ID {id}, not 0123456789abcdef0123456789abcdef; nothing was changed"
            )],
        );
        assert_eq!(
            lock_object(&project, &bucket).await,
            Some((record.clone(), etag)),
            "the lock is untouched"
        );
        assert_eq!(project.served("s3:DeleteObject"), 0);

        let right = project.run(&["unlock", &id]).await.ok();
        assert_contains(&right.stderr, &["Removed the stack lock", &id]);
        assert!(lock_object(&project, &bucket).await.is_none());
        let again = project.run(&["unlock", &id]).await.ok();
        assert_contains(&again.stderr, &["is not held"]);
        // The stack is free at once.
        project.apply(&[]).await.ok();
        project.assert_converged().await;
    })
    .await;
}

/// An applied stack whose `etl` application is STARTED, with a change that
/// needs a stop, update and start; the emulator holds the start.
async fn started_with_pending_restart() -> (Project<'static>, String, String) {
    let (project, bucket) = project(emulator()).await;
    project.apply(&[]).await.ok();
    let aws = project.aws().await;
    let etl = aws.app_named("race-etl").await;
    aws.start(project.emulator(), project.account(), &etl.id).await;
    project.edit(
        "emrstack.toml",
        "release_label = \"emr-7.2.0\"",
        "release_label = \"emr-7.3.0\"",
    );
    (project, bucket, etl.id)
}

/// Waits until the application is STARTING (held there by the emulator).
async fn wait_for_starting(project: &Project<'_>, id: &str) {
    let aws = project.aws().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while aws.app(id).await.state != "STARTING" {
        assert!(Instant::now() < deadline, "the application never reached STARTING");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lease_is_renewed_during_an_apply_that_outlasts_it() {
    bounded(async {
        let (project, bucket, id) = started_with_pending_restart().await;
        let apply = spawn_timed(&project.ws, &apply_args(&[]));
        wait_for_starting(&project, &id).await;
        // Three leases with the application in STARTING: the holder keeps
        // renewing, and nobody can take over.
        let watched = Instant::now();
        let mut etags = Vec::new();
        let mut renewals = Vec::new();
        while watched.elapsed() < Duration::from_millis(3 * LEASE_MS) {
            let (record, etag) = lock_object(&project, &bucket).await.expect("held throughout");
            if etags.last() != Some(&etag) {
                etags.push(etag);
                renewals.push(record["renewals"].as_u64().unwrap());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(etags.len() >= 8, "a renewal every {RENEW_MS} ms: {renewals:?}");
        assert!(renewals.windows(2).all(|pair| pair[0] < pair[1]), "{renewals:?}");
        let refused = project.apply(&[]).await;
        assert_eq!(refused.code, 1, "{}", refused.stderr);
        assert_contains(&refused.stderr, &["is held by", "lease renewed"]);
        assert!(!refused.stderr.contains("taking it over"), "{}", refused.stderr);

        project.emulator().release(project.account(), &id);
        let done = apply.finish("apply (long)").await;
        assert_eq!(done.run.code, 0, "{}", done.run.stderr);
        assert_contains(
            &done.run.stderr,
            &["Apply complete: 1 applied", "Converged", "Released the stack lock."],
        );
        assert!(lock_object(&project, &bucket).await.is_none());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_lease_stops_the_apply_and_says_so() {
    bounded(async {
        let (project, bucket, id) = started_with_pending_restart().await;
        let apply = spawn_timed(&project.ws, &apply_args(&[]));
        wait_for_starting(&project, &id).await;
        let (record, _) = lock_object(&project, &bucket).await.expect("held");
        let lock_id = record["id"].as_str().unwrap().to_string();
        // Someone removes the lock (believing the run dead) and another run
        // could take it: the holder must stop at its next renewal.
        let removed = Instant::now();
        project.run(&["unlock", &lock_id]).await.ok();
        let stopped = apply.finish("apply (lost)").await;
        assert!(
            removed.elapsed() < Duration::from_millis(RENEW_MS * 5 + 3000),
            "{:?}",
            removed.elapsed()
        );
        assert_eq!(stopped.run.code, 1, "{}", stopped.run.stderr);
        assert_contains(
            &stopped.run.stderr,
            &[
                "error: lost the stack lock: the lock object was deleted",
                "abandoned: the lock object was deleted",
                "Apply failed:",
                "The stack lock was not released: it is no longer this run's.",
            ],
        );
        assert!(!stopped.run.stderr.contains("Converged"), "{}", stopped.run.stderr);
        // The abandoned change is finished by the next apply.
        project.emulator().release(project.account(), &id);
        project.apply(&[]).await.ok();
        project.assert_converged().await;
        assert_eq!(project.aws().await.app(&id).await.release_label, "emr-7.3.0");
    })
    .await;
}

/// Sends `signal` (`INT`, `TERM`) to a process.
fn send_signal(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} {pid}: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_and_sigterm_stop_the_apply_and_release_the_lock() {
    bounded(async {
        for (signal, code) in [("INT", 130), ("TERM", 143)] {
            let (project, bucket, id) = started_with_pending_restart().await;
            let apply = spawn_timed(&project.ws, &apply_args(&[]));
            let pid = apply.child.id().expect("pid");
            wait_for_starting(&project, &id).await;
            send_signal(pid, signal);
            let stopped = apply.finish("apply (signalled)").await;
            assert_eq!(stopped.run.code, code, "SIG{signal}\n{}", stopped.run.stderr);
            assert_contains(
                &stopped.run.stderr,
                &[
                    &format!("SIG{signal} received: stopping"),
                    &format!("abandoned: interrupted by SIG{signal}"),
                    "Released the stack lock.",
                ],
            );
            assert!(lock_object(&project, &bucket).await.is_none(), "SIG{signal}: released");
            // The next apply finishes the abandoned change, without waiting.
            project.emulator().release(project.account(), &id);
            project.apply(&[]).await.ok();
            project.assert_converged().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_apply_releases_the_lock() {
    bounded(async {
        let (project, bucket) = project(emulator()).await;
        let rule = project.emulator().add_fault(json!({
            "account": project.account(), "service": "emr-serverless", "operation": "CreateApplication",
            "kind": "error", "status": 400, "code": "ValidationException", "message": "refused by the test",
        }));
        let failed = project.apply(&[]).await;
        project.emulator().remove_fault(&rule);
        assert_eq!(failed.code, 1, "{}", failed.stderr);
        assert_contains(
            &failed.stderr,
            &["refused by the test", "Apply failed", "Released the stack lock."],
        );
        assert!(lock_object(&project, &bucket).await.is_none());
        project.apply(&[]).await.ok();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_errors_name_the_bucket_the_region_and_the_missing_permission() {
    bounded(async {
        let emulator = emulator();
        let (project, bucket) = project(emulator).await;

        // No bucket.
        project.edit(
            "emrstack.toml",
            &format!("s3://{bucket}/"),
            "s3://no-such-bucket-for-locks/",
        );
        let missing = project.apply(&[]).await;
        assert_eq!(missing.code, 1, "{}", missing.stderr);
        assert_contains(
            &missing.stderr,
            &[
                "the stack lock's bucket `no-such-bucket-for-locks` does not exist",
                "emrstack never creates buckets",
            ],
        );

        // A bucket in another region.
        let elsewhere = format!("eu-{bucket}");
        s3(emulator, project.account())
            .await
            .create_bucket()
            .bucket(&elsewhere)
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                    .build(),
            )
            .send()
            .await
            .expect("CreateBucket in eu-west-1");
        project.edit(
            "emrstack.toml",
            "s3://no-such-bucket-for-locks/",
            &format!("s3://{elsewhere}/"),
        );
        let wrong_region = project.apply(&[]).await;
        assert_eq!(wrong_region.code, 1, "{}", wrong_region.stderr);
        assert_contains(
            &wrong_region.stderr,
            &[&format!(
                "`{elsewhere}` is in region eu-west-1, but emrstack calls us-east-1"
            )],
        );

        // No permission to write the lock.
        project.edit(
            "emrstack.toml",
            &format!("s3://{elsewhere}/"),
            &format!("s3://{bucket}/"),
        );
        let rule = emulator.add_fault(json!({
            "service": "s3", "kind": "deny", "action": "s3:PutObject", "bucket": bucket, "keyPrefix": "locks/",
        }));
        let denied = project.apply(&[]).await;
        emulator.remove_fault(&rule);
        assert_eq!(denied.code, 1, "{}", denied.stderr);
        assert_contains(
            &denied.stderr,
            &[
                "no permission to take the stack lock",
                "`s3:PutObject`",
                &format!("arn:aws:s3:::{bucket}/locks/race.lock"),
                "not authorized to perform: s3:PutObject",
            ],
        );
        // None of them changed anything.
        assert_eq!(project.served("emr-serverless:CreateApplication"), 0);
        assert_eq!(project.served("emr-serverless:ListApplications"), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_commands_that_change_aws_take_the_lock() {
    bounded(async {
        let (project, bucket) = project(emulator()).await;
        for args in [
            vec!["validate"],
            vec!["plan", "--out", "plan.emrplan"],
            vec!["show", "plan.emrplan"],
            vec!["output"],
        ] {
            project.run(&args).await.ok();
        }
        let s3_calls = |project: &Project<'_>| {
            ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
                .iter()
                .map(|key| project.served(key))
                .sum::<u64>()
        };
        assert_eq!(
            s3_calls(&project),
            0,
            "plan, validate, show and output never touch the lock"
        );

        // A saved plan is applied under the lock its plan file names.
        let saved = project.run(&["apply", "plan.emrplan"]).await.ok();
        assert_contains(
            &saved.stderr,
            &["Acquired the stack lock", "Apply complete", "Released the stack lock."],
        );
        // One write to take it (and one per renewal), one delete to release it.
        assert!(project.served("s3:PutObject") >= 1);
        assert_eq!(project.served("s3:DeleteObject"), 1);
        let before = s3_calls(&project);

        let unlocked = project.apply(&["--lock=false"]).await.ok();
        assert_contains(&unlocked.stderr, &["--lock=false: the stack lock is not taken"]);
        assert_eq!(s3_calls(&project), before);

        let locked = project
            .run(&["import", "application.etl", "nothing", "--lock-timeout", "5s"])
            .await;
        assert_eq!(locked.code, 1, "{}", locked.stderr);
        assert_contains(&locked.stderr, &["Acquired the stack lock", "Released the stack lock."]);
        assert!(lock_object(&project, &bucket).await.is_none());

        // Without `[stack] lock`, it says so, once.
        project.edit("emrstack.toml", &format!("lock = \"s3://{bucket}/locks/\"\n"), "");
        let plain = project.destroy(&[]).await.ok();
        assert_eq!(
            plain.stderr.matches("note: the stack has no `[stack] lock`").count(),
            1,
            "{}",
            plain.stderr
        );
    })
    .await;
}
