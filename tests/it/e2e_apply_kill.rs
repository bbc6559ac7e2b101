//! Killing `emrstack apply` at random points, then applying again: the
//! second run must finish (exit 0), converge (a new plan is empty), and
//! leave exactly one application per declared application, no orphaned or
//! duplicated roles, and one statement of the stack's in the repository
//! policy.
//!
//! The kill points are drawn from a seeded generator over the measured
//! duration of an uninterrupted apply, so a failure names a seed and a
//! delay that reproduce the same region of the run:
//!
//! ```sh
//! EMRSTACK_KILL_SEED=12345 cargo test --test it e2e_apply_kill:: -- --nocapture
//! ```
//!
//! The random kills run on an emulator of their own ([`slow_emulator`]),
//! whose state transitions are slowed down (delays apply to every account
//! of an emulator, so the shared one must keep its defaults): an apply then
//! takes one to three seconds, mostly waiting for CREATING to end, which
//! spreads the kill points over every phase of the run.

use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::apply_support::{Project, SplitMix64, bounded, command, finish, statements};
use crate::support::cli::Workspace;
use crate::support::cloud::shared_emulator;
use crate::support::emulator::Emulator;
use crate::support::fixtures;
use serde_json::json;

/// Kill-and-reapply trials; half at `--parallelism 10`, half at 1.
const TRIALS: u64 = 24;
/// Trials running at once (the machine may have two cores).
const LANES: u64 = 2;
const DEFAULT_SEED: u64 = 0x5EED_0005;

/// The emulator of the random kills, with slow transitions: most of an
/// apply is spent waiting for CREATING to end, between the calls that
/// matter. Started on first use, never dropped: it exits with the test
/// process, whose pipe to its stdin then closes.
fn slow_emulator() -> &'static Emulator {
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
    EMULATOR.get_or_init(|| {
        let emulator = Emulator::start();
        emulator.set_delays(json!({"createMs": 700, "startMs": 300, "stopMs": 300}));
        emulator
    })
}

const STACK: &str = r#"
[stack]
name = "crash"
region = "us-east-1"

[repositories.spark]
name = "crash/spark"
applications = ["etl", "adhoc"]

[applications.etl]
type = "SPARK"
release_label = "emr-7.2.0"
image = { repository = "spark", tag = "v1" }
maximum_capacity = { cpu = "32 vCPU", memory = "128 GB" }

[applications.adhoc]
type = "SPARK"
release_label = "emr-7.2.0"
image = { repository = "spark", tag = "v1" }

[applications.reports]
type = "HIVE"
release_label = "emr-7.2.0"

[[applications.reports.runtime]]
classification = "hive-site"
properties = { "hive.exec.scratchdir" = "s3://crash-data/scratch", "hive.metastore.warehouse.dir" = "s3://crash-data/warehouse" }

[roles.etl]
trust_applications = ["etl"]

[roles.etl.policies.runs]
document = { Version = "2012-10-17", Statement = [
  { Effect = "Allow", Action = ["emr-serverless:GetJobRun"], Resource = ["${application.etl.arn}/jobruns/*"] },
] }

[roles.etl.policies.data]
document = { Version = "2012-10-17", Statement = [
  { Effect = "Allow", Action = ["s3:GetObject"], Resource = ["arn:aws:s3:::crash-data/*"] },
] }

[roles.shared]
trust_applications = ["adhoc", "reports"]

[roles.shared.policies.data]
document = { Version = "2012-10-17", Statement = [
  { Effect = "Allow", Action = ["s3:GetObject"], Resource = ["arn:aws:s3:::crash-data/*"] },
] }
"#;

const APPLICATIONS: [&str; 3] = ["crash-etl", "crash-adhoc", "crash-reports"];
const ROLES: [&str; 2] = ["crash-etl", "crash-shared"];

/// A fresh account with the repository and image the stack needs.
async fn project(emulator: &'static Emulator) -> Project<'static> {
    let ws = Workspace::new(emulator);
    fixtures::repository(emulator, &ws.account, "crash/spark").await;
    fixtures::push_image(emulator, &ws.account, "crash/spark", "v1", 'a').await;
    ws.write("emrstack.toml", STACK);
    Project::new(ws)
}

/// The apply arguments of a trial.
fn apply_args(parallelism: &str) -> Vec<&str> {
    let mut args = vec!["apply", "--auto-approve", "--parallelism", parallelism];
    args.extend(crate::apply_support::BOUNDED_WAITS);
    args
}

/// How long an uninterrupted apply takes at `parallelism`.
async fn calibrate(emulator: &'static Emulator, parallelism: &str) -> Duration {
    let project = project(emulator).await;
    let started = Instant::now();
    let child = command(&project.ws, &apply_args(parallelism)).spawn().expect("spawn");
    let run = finish(child, "apply (calibration)").await.ok();
    let took = started.elapsed();
    assert!(run.stderr.contains("Apply complete: 6 applied"), "{}", run.stderr);
    took
}

/// Where in the run the kill landed, from the last progress line.
fn phase(stderr: &str, finished: bool) -> &'static str {
    if finished {
        "finished before the kill"
    } else if !stderr.contains("started") {
        "while planning"
    } else if stderr.contains("Apply complete") {
        "while checking convergence"
    } else {
        "while applying"
    }
}

/// Everything the second run must have left: one application per
/// declared one, the declared roles only (owned, with their policies), one
/// statement in the policy.
async fn check_account(project: &Project<'_>, context: &str) {
    let aws = project.aws().await;
    let apps = aws.apps().await;
    let names: Vec<&str> = apps.iter().map(|app| app.name.as_str()).collect();
    let unique: BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(names.len(), APPLICATIONS.len(), "{context}: applications {apps:#?}");
    assert_eq!(unique, APPLICATIONS.into_iter().collect(), "{context}: {apps:#?}");
    for app in &apps {
        assert_eq!(
            app.tags.get("emrstack:stack").map(String::as_str),
            Some("crash"),
            "{context}"
        );
    }
    let roles = aws.roles().await;
    let role_names: Vec<&str> = roles.iter().map(|role| role.name.as_str()).collect();
    assert_eq!(role_names, ROLES.to_vec(), "{context}: roles {roles:#?}");
    for role in &roles {
        assert!(!role.inline_policies.is_empty(), "{context}: {role:#?}");
        assert_eq!(
            role.tags.get("emrstack:stack").map(String::as_str),
            Some("crash"),
            "{context}"
        );
        // A run killed between CreateRole and the record leaves the role
        // marked `creating` (still provably the stack's); the second run
        // finishes it, so every role ends with a record.
        let record = role
            .tags
            .get("emrstack:applied")
            .map(String::as_str)
            .unwrap_or_default();
        assert!(
            emrstack::model::tags::is_applied_record(record),
            "{context}: role `{}` has no applied record: {record:?}",
            role.name
        );
    }
    let policy = aws.repository_policy("crash/spark").await;
    let statements = statements(policy.as_ref());
    assert_eq!(statements.len(), 1, "{context}: {policy:?}");
    let arns = &statements[0]["Condition"]["StringEquals"]["aws:SourceArn"];
    assert_eq!(arns.as_array().map(Vec::len), Some(2), "{context}: {policy:?}");
}

#[derive(Clone, Copy)]
struct Trial {
    index: u64,
    parallelism: &'static str,
    delay: Duration,
}

/// Starts an apply, kills it after the trial's delay, applies again and
/// checks the account. Returns where the kill landed.
async fn run_trial(emulator: &'static Emulator, trial: Trial, seed: u64) -> &'static str {
    let project = project(emulator).await;
    let context = format!(
        "seed {seed}, trial {} (--parallelism {}, killed after {:?})",
        trial.index, trial.parallelism, trial.delay
    );
    let mut child = command(&project.ws, &apply_args(trial.parallelism))
        .spawn()
        .expect("spawn");
    let finished = match tokio::time::timeout(trial.delay, child.wait()).await {
        Ok(status) => {
            status.expect("wait");
            true
        }
        Err(_) => {
            // SIGKILL: no chance to clean up, as after a crash or an OOM kill.
            child.start_kill().expect("kill");
            false
        }
    };
    let killed = finish(child, "apply (killed)").await;
    let phase = phase(&killed.stderr, finished);

    let child = command(&project.ws, &apply_args(trial.parallelism))
        .spawn()
        .expect("spawn");
    let again = finish(child, "apply (again)").await;
    assert_eq!(
        again.code, 0,
        "{context}: the second apply failed\n--- killed run ({phase}) ---\n{}\n--- second run ---\n{}\n{}",
        killed.stderr, again.stdout, again.stderr
    );
    let plan = project.plan(&[]).await;
    assert_eq!(
        plan.code, 0,
        "{context}: not converged\n{}\n{}\n--- killed run ---\n{}\n--- second run ---\n{}",
        plan.stdout, plan.stderr, killed.stderr, again.stderr
    );
    check_account(
        &project,
        &format!("{context}, {phase}\n--- killed run ---\n{}", killed.stderr),
    )
    .await;
    phase
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_killed_at_random_points_converges_on_the_next_run() {
    bounded(async {
        let emulator = slow_emulator();
        let seed = std::env::var("EMRSTACK_KILL_SEED")
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or(DEFAULT_SEED);
        let wide = calibrate(emulator, "10").await;
        let narrow = calibrate(emulator, "1").await;
        eprintln!("kill trials: seed {seed}; an apply takes {wide:?} at --parallelism 10, {narrow:?} at 1");

        let mut rng = SplitMix64::new(seed);
        let trials: Vec<Trial> = (0..TRIALS)
            .map(|index| {
                let (parallelism, duration) = if index % 2 == 0 { ("10", wide) } else { ("1", narrow) };
                // Up to 110% of the run, so some kills come after it ended.
                let bound = (duration.as_millis() as u64) * 11 / 10;
                Trial {
                    index,
                    parallelism,
                    delay: Duration::from_millis(rng.below(bound.max(1))),
                }
            })
            .collect();

        let mut lanes = tokio::task::JoinSet::new();
        for lane in 0..LANES {
            let mine: Vec<Trial> = trials
                .iter()
                .copied()
                .filter(|trial| trial.index % LANES == lane)
                .collect();
            lanes.spawn(async move {
                let mut phases = Vec::new();
                for trial in mine {
                    let (index, delay) = (trial.index, trial.delay);
                    let phase = run_trial(emulator, trial, seed).await;
                    eprintln!("kill trial {index:>2}: killed after {delay:>6.2?} {phase}: converged");
                    phases.push(phase);
                }
                phases
            });
        }
        let mut phases = Vec::new();
        while let Some(result) = lanes.join_next().await {
            match result {
                Ok(lane) => phases.extend(lane),
                Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                Err(error) => panic!("a trial lane failed: {error}"),
            }
        }
        assert_eq!(phases.len() as u64, TRIALS);
        let mid_apply = phases.iter().filter(|phase| **phase == "while applying").count();
        assert!(
            mid_apply >= 8,
            "only {mid_apply} of {TRIALS} kills landed while changes were being made: {phases:?}"
        );
    })
    .await;
}

/// Waits until the fault rule `rule` has fired once (the call it holds is
/// in flight), then kills `child` as a crash would, and returns its run.
async fn kill_once_held(emulator: &Emulator, rule: &str, mut child: tokio::process::Child) -> crate::support::cli::Run {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let faults = emulator.faults();
        let fired = faults["rules"]
            .as_array()
            .and_then(|rules| rules.iter().find(|r| r["id"] == rule))
            .and_then(|r| r["fired"].as_u64())
            .unwrap_or(0);
        if fired == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the held call never came: {faults}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.start_kill().expect("kill");
    finish(child, "apply (killed)").await
}

/// A run killed while its CreateApplication is still being served: the
/// request completes after the next run has observed the account. The next
/// run's create must carry the same client token (it names only the stack,
/// the address and the request, not the rest of the account, which the
/// killed run had already changed), so the service answers with the same
/// application instead of creating a second one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_in_flight_when_apply_is_killed_is_not_duplicated_by_the_next_run() {
    bounded(async {
        let emulator = shared_emulator();
        let ws = Workspace::new(emulator);
        ws.write(
            "emrstack.toml",
            "[stack]\nname = \"crash\"\nregion = \"us-east-1\"\n\n\
             [applications.a]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\n\n\
             [applications.b]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\n",
        );
        let project = Project::new(ws);
        // The second CreateApplication of the account is held for two
        // seconds before the service sees it.
        let rule = emulator.add_fault(json!({
            "account": project.account(), "service": "emr-serverless", "operation": "CreateApplication",
            "kind": "latency", "latencyMs": 2000, "skip": 1, "count": 1,
        }));
        let child = command(&project.ws, &apply_args("1")).spawn().expect("spawn");
        // Kill as soon as that call is held (the rule has fired).
        let killed = kill_once_held(emulator, &rule, child).await;
        let again = project.apply(&["--parallelism", "1"]).await;
        // Let the held request finish before judging.
        let deadline = Instant::now() + Duration::from_secs(60);
        while project.served("emr-serverless:CreateApplication") < 3 {
            assert!(Instant::now() < deadline, "the held create was never served");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        emulator.remove_fault(&rule);
        let apps = project.aws().await.apps().await;
        let names: Vec<&str> = apps.iter().map(|app| app.name.as_str()).collect();
        assert_eq!(
            names.len(),
            2,
            "one `crash-a` and one `crash-b`: {names:?}\n--- killed ---\n{}\n--- again ---\n{}",
            killed.stderr,
            again.stderr
        );
        project.assert_converged().await;
    })
    .await;
}

/// A real duplicate, as a killed run leaves it: the run is killed while its
/// CreateApplication is held; the stack file then changes, so the next run's
/// create is another request (another client token), and that run creates
/// the application again before the held request completes. A plan right
/// after, while the tag index lags ten minutes behind and shows neither,
/// finds both by the declared name, keeps the older one and deletes the
/// other; the next apply converges with one application.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_a_killed_run_left_is_found_and_deleted_before_the_tag_index_shows_it() {
    bounded(async {
        let emulator = shared_emulator();
        let ws = Workspace::new(emulator);
        ws.write(
            "emrstack.toml",
            "[stack]\nname = \"twice\"\nregion = \"us-east-1\"\n\n\
             [applications.a]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\n",
        );
        let project = Project::new(ws);
        emulator.set_tagging(project.account(), json!({"indexDelaySeconds": 600}));
        let rule = emulator.add_fault(json!({
            "account": project.account(), "service": "emr-serverless", "operation": "CreateApplication",
            "kind": "latency", "latencyMs": 3000, "count": 1,
        }));
        let child = command(&project.ws, &apply_args("1")).spawn().expect("spawn");
        kill_once_held(emulator, &rule, child).await;
        project.edit("emrstack.toml", "emr-7.2.0", "emr-7.3.0");
        // Creates it again; its own check may already see the held create.
        project.apply(&["--parallelism", "1"]).await;
        let deadline = Instant::now() + Duration::from_secs(60);
        while project.served("emr-serverless:CreateApplication") < 2 {
            assert!(Instant::now() < deadline, "the held create was never served");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        emulator.remove_fault(&rule);
        let apps = project.aws().await.apps().await;
        assert_eq!(apps.len(), 2, "{apps:#?}");
        assert!(apps.iter().all(|app| app.name == "twice-a"), "{apps:#?}");

        let verbose = project.run(&["plan", "-vv"]).await;
        assert!(
            verbose.stderr.contains("0 tagged with the stack"),
            "the index must not show them yet\n{}",
            verbose.stderr
        );
        let plan = project.run(&["plan", "--format", "json"]).await;
        assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
        let document: serde_json::Value = serde_json::from_str(&plan.stdout).expect("plan JSON");
        let deletes: Vec<&serde_json::Value> = document["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .filter(|change| change["action"] == "delete")
            .collect();
        assert_eq!(deletes.len(), 1, "{document:#}");
        assert_eq!(deletes[0]["reason"], "duplicate", "{document:#}");
        assert!(
            deletes[0]["notes"].to_string().contains("it is the oldest"),
            "{document:#}"
        );
        let applied = project.apply(&["--parallelism", "1"]).await;
        assert_eq!(applied.code, 0, "{}", applied.stderr);
        assert_eq!(project.aws().await.apps().await.len(), 1);
        project.assert_converged().await;
    })
    .await;
}
