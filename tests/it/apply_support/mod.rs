//! What the end-to-end apply tests (`e2e_apply_*.rs`) share: running
//! the CLI with a time limit, stacks prepared in a fresh account, reading
//! the account with the plain SDK (not through emrstack), and a snapshot of
//! everything an apply may touch.
//!
//! Every CLI run and every wait here is bounded, so a hang fails the test
//! with what the binary printed instead of stalling the suite. To see what
//! every run printed: `E2E_DEBUG=1 cargo test --test it e2e_apply_faults:: -- --nocapture`.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::process::Stdio;
use std::time::Duration;

use aws_sdk_emrserverless::types::ApplicationState;
use serde_json::Value;
use tokio::io::AsyncReadExt;

use crate::support::cli::{Run, Workspace};
use crate::support::cloud::sdk_config;
use crate::support::emulator::Emulator;
use crate::support::fixtures;

/// The longest one CLI run may take before the test fails. Runs take a
/// second or two; the margin is for a machine busy compiling.
pub const CLI_TIMEOUT: Duration = Duration::from_secs(180);

/// The longest one test may take, everything included.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(600);

/// Flags that bound the executor's own waits, so a regression fails in
/// minutes rather than the default half hour.
pub const BOUNDED_WAITS: [&str; 4] = ["--state-timeout", "120", "--job-timeout", "120"];

/// Runs a test body with [`TEST_TIMEOUT`].
pub async fn bounded<F: Future<Output = ()>>(body: F) {
    if tokio::time::timeout(TEST_TIMEOUT, body).await.is_err() {
        panic!("the test did not finish within {TEST_TIMEOUT:?}");
    }
}

/// The CLI command for `args`, ready to spawn with tokio; killed if dropped.
pub fn command(ws: &Workspace<'_>, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::from(ws.command(args));
    command.stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    command
}

/// Waits for a spawned CLI with [`CLI_TIMEOUT`], reading both streams.
pub async fn finish(mut child: tokio::process::Child, what: &str) -> Run {
    let mut stdout = child.stdout.take().expect("invariant: stdout is piped");
    let mut stderr = child.stderr.take().expect("invariant: stderr is piped");
    let out = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text).await;
        text
    });
    let err = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let status = match tokio::time::timeout(CLI_TIMEOUT, child.wait()).await {
        Ok(status) => status.expect("wait for emrstack"),
        Err(_) => {
            let _ = child.kill().await;
            let stderr = err.await.unwrap_or_default();
            panic!("`emrstack {what}` did not finish within {CLI_TIMEOUT:?}\n--- stderr ---\n{stderr}");
        }
    };
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: out.await.unwrap_or_default(),
        stderr: err.await.unwrap_or_default(),
    };
    if std::env::var_os("E2E_DEBUG").is_some() {
        eprintln!("=== emrstack {what} -> {}\n{}\n{}", run.code, run.stdout, run.stderr);
    }
    run
}

/// Runs the CLI to completion (bounded by [`CLI_TIMEOUT`]).
pub async fn run(ws: &Workspace<'_>, args: &[&str]) -> Run {
    let child = command(ws, args).spawn().expect("spawn emrstack");
    finish(child, &args.join(" ")).await
}

/// A workspace with a stack in it and the stack arguments (`--var-file`,
/// `--var`) every command needs.
pub struct Project<'a> {
    pub ws: Workspace<'a>,
    pub stack_args: Vec<String>,
    /// Image tag to digest, for the images pushed for this project.
    pub digests: BTreeMap<String, String>,
}

impl<'a> Project<'a> {
    pub fn new(ws: Workspace<'a>) -> Project<'a> {
        Project {
            ws,
            stack_args: Vec::new(),
            digests: BTreeMap::new(),
        }
    }

    pub fn emulator(&self) -> &'a Emulator {
        self.ws.emulator
    }

    pub fn account(&self) -> &str {
        &self.ws.account
    }

    /// `emrstack <args> <stack args>`.
    pub async fn run(&self, args: &[&str]) -> Run {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(self.stack_args.iter().map(String::as_str));
        run(&self.ws, &all).await
    }

    /// `emrstack apply --auto-approve <extra>` with bounded waits.
    pub async fn apply(&self, extra: &[&str]) -> Run {
        let mut args = vec!["apply", "--auto-approve"];
        args.extend(BOUNDED_WAITS);
        args.extend(extra);
        self.run(&args).await
    }

    /// `emrstack destroy --auto-approve <extra>` with bounded waits.
    pub async fn destroy(&self, extra: &[&str]) -> Run {
        let mut args = vec!["destroy", "--auto-approve"];
        args.extend(BOUNDED_WAITS);
        args.extend(extra);
        self.run(&args).await
    }

    /// `emrstack plan --detailed-exitcode <extra>`.
    pub async fn plan(&self, extra: &[&str]) -> Run {
        let mut args = vec!["plan", "--detailed-exitcode"];
        args.extend(extra);
        self.run(&args).await
    }

    /// Asserts that a new plan has nothing to do (exit 0 with `--detailed-exitcode`).
    pub async fn assert_converged(&self) {
        let plan = self.plan(&[]).await;
        assert_eq!(
            plan.code, 0,
            "the stack has not converged: plan --detailed-exitcode exited {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            plan.code, plan.stdout, plan.stderr
        );
    }

    /// The SDK clients of this account.
    pub async fn aws(&self) -> Aws {
        Aws::connect(self.ws.emulator, &self.ws.account, "us-east-1").await
    }

    /// Calls of `service:Operation` that reached the service in this account.
    pub fn served(&self, key: &str) -> u64 {
        self.ws.emulator.served(&self.ws.account, key)
    }

    /// Reads a file of the workspace.
    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.ws.dir().join(relative)).expect("read workspace file")
    }

    /// Replaces `from` (which must occur) with `to` in a workspace file.
    pub fn edit(&self, relative: &str, from: &str, to: &str) {
        let text = self.read(relative);
        assert!(text.contains(from), "`{from}` is not in {relative}:\n{text}");
        self.ws.write(relative, &text.replacen(from, to, 1));
    }
}

/// A fresh account with the quickstart example.
pub fn quickstart(emulator: &Emulator) -> Project<'_> {
    let ws = Workspace::new(emulator);
    ws.copy_example("examples/quickstart");
    Project::new(ws)
}

/// The ECR repository the analytics example pulls from, and the tags pushed
/// to it (the dev and prod var files use `dev` and `v1.4.2`).
pub const ANALYTICS_REPOSITORY: &str = "analytics/spark";
pub const ANALYTICS_TAGS: [(&str, char); 4] = [("dev", 'a'), ("v1.4.2", 'b'), ("latest", 'd'), ("dev2", 'e')];

/// A fresh account with a VPC, the `analytics/spark` repository with images,
/// and the analytics example with `var_file`, pointed at the real subnets
/// and security group.
pub async fn analytics<'a>(emulator: &'a Emulator, var_file: &str) -> Project<'a> {
    let ws = Workspace::new(emulator);
    let network = fixtures::network(emulator, &ws.account).await;
    fixtures::repository(emulator, &ws.account, ANALYTICS_REPOSITORY).await;
    let mut digests = BTreeMap::new();
    for (tag, layer) in ANALYTICS_TAGS {
        let digest = fixtures::push_image(emulator, &ws.account, ANALYTICS_REPOSITORY, tag, layer).await;
        digests.insert(tag.to_string(), digest);
    }
    ws.copy_example("examples/analytics");
    let mut project = Project::new(ws);
    project.digests = digests;
    project.stack_args = vec![
        "--var-file".to_string(),
        var_file.to_string(),
        "--var".to_string(),
        format!("subnet_a={}", network.subnets[0]),
        "--var".to_string(),
        format!("subnet_b={}", network.subnets[1]),
        "--var".to_string(),
        format!("security_group={}", network.security_group),
    ];
    project
}

/// An application as the plain SDK reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct App {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub state: String,
    pub release_label: String,
    pub maximum_cpu: Option<String>,
    pub image_uri: Option<String>,
    /// Worker type (API spelling) to image URI.
    pub worker_images: BTreeMap<String, String>,
    /// `(maxConcurrentRuns, queueTimeoutMinutes)` when a scheduler block is shown.
    pub scheduler: Option<(Option<i32>, Option<i32>)>,
    pub tags: BTreeMap<String, String>,
}

/// A role as the plain SDK reads it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Role {
    pub name: String,
    pub trust_policy: String,
    pub tags: BTreeMap<String, String>,
    pub inline_policies: BTreeSet<String>,
}

/// SDK clients for one account, for setting up and checking what emrstack did.
pub struct Aws {
    pub emr: aws_sdk_emrserverless::Client,
    pub iam: aws_sdk_iam::Client,
    pub ecr: aws_sdk_ecr::Client,
}

impl Aws {
    pub async fn connect(emulator: &Emulator, account: &str, region: &str) -> Aws {
        let mut config = sdk_config(emulator, account).await;
        if region != "us-east-1" {
            config = config
                .into_builder()
                .region(aws_config::Region::new(region.to_string()))
                .build();
        }
        Aws {
            emr: aws_sdk_emrserverless::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            ecr: aws_sdk_ecr::Client::new(&config),
        }
    }

    /// One application, TERMINATED ones included.
    pub async fn app(&self, id: &str) -> App {
        let app = self
            .emr
            .get_application()
            .application_id(id)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetApplication {id}: {e:?}"))
            .application
            .expect("application");
        App {
            id: app.application_id.clone(),
            arn: app.arn.clone(),
            name: app.name.clone().unwrap_or_default(),
            state: app.state.as_str().to_string(),
            release_label: app.release_label.clone(),
            maximum_cpu: app.maximum_capacity.as_ref().map(|c| c.cpu.clone()),
            image_uri: app.image_configuration.as_ref().map(|i| i.image_uri.clone()),
            worker_images: app
                .worker_type_specifications
                .clone()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(worker, spec)| spec.image_configuration.map(|image| (worker, image.image_uri)))
                .collect(),
            scheduler: app
                .scheduler_configuration
                .as_ref()
                .map(|s| (s.max_concurrent_runs, s.queue_timeout_minutes)),
            tags: app.tags.clone().unwrap_or_default().into_iter().collect(),
        }
    }

    /// Every application that is not TERMINATED, in ID order.
    pub async fn apps(&self) -> Vec<App> {
        let mut ids = Vec::new();
        let mut token = None;
        loop {
            let mut request = self.emr.list_applications();
            for state in [
                ApplicationState::Creating,
                ApplicationState::Created,
                ApplicationState::Starting,
                ApplicationState::Started,
                ApplicationState::Stopping,
                ApplicationState::Stopped,
            ] {
                request = request.states(state);
            }
            let page = request
                .set_next_token(token)
                .send()
                .await
                .unwrap_or_else(|e| panic!("ListApplications: {e:?}"));
            ids.extend(page.applications.iter().map(|a| a.id.clone()));
            token = page.next_token;
            if token.is_none() {
                break;
            }
        }
        let mut apps = Vec::new();
        for id in ids {
            apps.push(self.app(&id).await);
        }
        apps.sort_by(|a, b| a.id.cmp(&b.id));
        apps
    }

    /// The non-TERMINATED applications named `name`.
    pub async fn apps_named(&self, name: &str) -> Vec<App> {
        self.apps().await.into_iter().filter(|app| app.name == name).collect()
    }

    /// The one non-TERMINATED application named `name`; panics unless there is exactly one.
    pub async fn app_named(&self, name: &str) -> App {
        let mut found = self.apps_named(name).await;
        assert_eq!(
            found.len(),
            1,
            "expected one application named {name}, found {found:#?}"
        );
        found.remove(0)
    }

    /// Starts an application and completes the transition at once through
    /// the emulator, so the test does not wait for the start delay.
    pub async fn start(&self, emulator: &Emulator, account: &str, id: &str) {
        self.emr
            .start_application()
            .application_id(id)
            .send()
            .await
            .unwrap_or_else(|e| panic!("StartApplication {id}: {e:?}"));
        let app = emulator.release(account, id);
        assert_eq!(app["application"]["state"], "STARTED", "{app}");
    }

    /// Every role with its trust policy, tags and inline policy names.
    pub async fn roles(&self) -> Vec<Role> {
        let listed = self
            .iam
            .list_roles()
            .max_items(1000)
            .send()
            .await
            .unwrap_or_else(|e| panic!("ListRoles: {e:?}"));
        let mut roles = Vec::new();
        for role in listed.roles {
            roles.push(self.role(&role.role_name).await.expect("listed role exists"));
        }
        roles.sort();
        roles
    }

    /// One role, or `None` if it does not exist.
    pub async fn role(&self, name: &str) -> Option<Role> {
        let role = match self.iam.get_role().role_name(name).send().await {
            Ok(output) => output.role.expect("role"),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_no_such_entity_exception()) =>
            {
                return None;
            }
            Err(error) => panic!("GetRole {name}: {error:?}"),
        };
        let trust = role.assume_role_policy_document.clone().unwrap_or_default();
        let trust = percent_decode(&trust);
        let tags = self
            .iam
            .list_role_tags()
            .role_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("ListRoleTags {name}: {e:?}"))
            .tags
            .into_iter()
            .map(|tag| (tag.key, tag.value))
            .collect();
        let inline_policies = self
            .iam
            .list_role_policies()
            .role_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("ListRolePolicies {name}: {e:?}"))
            .policy_names
            .into_iter()
            .collect();
        Some(Role {
            name: role.role_name,
            trust_policy: trust,
            tags,
            inline_policies,
        })
    }

    /// Creates a role trusting EMR Serverless that no stack owns.
    pub async fn create_foreign_role(&self, name: &str) {
        let trust = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "emr-serverless.amazonaws.com"}, "Action": "sts:AssumeRole"}],
        });
        self.iam
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trust.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateRole {name}: {e:?}"));
    }

    /// The repository policy as JSON, `None` when the repository has none.
    pub async fn repository_policy(&self, repository: &str) -> Option<Value> {
        match self
            .ecr
            .get_repository_policy()
            .repository_name(repository)
            .send()
            .await
        {
            Ok(output) => output
                .policy_text
                .map(|text| serde_json::from_str(&text).expect("policy is JSON")),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_repository_policy_not_found_exception()) =>
            {
                None
            }
            Err(error) => panic!("GetRepositoryPolicy {repository}: {error:?}"),
        }
    }

    pub async fn set_repository_policy(&self, repository: &str, policy: &Value) {
        self.ecr
            .set_repository_policy()
            .repository_name(repository)
            .policy_text(policy.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("SetRepositoryPolicy {repository}: {e:?}"));
    }
}

/// The statements of a policy (none for no policy).
pub fn statements(policy: Option<&Value>) -> Vec<Value> {
    match policy.and_then(|p| p.get("Statement")) {
        Some(Value::Array(list)) => list.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        _ => Vec::new(),
    }
}

/// IAM returns policy documents percent-encoded.
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// What an apply or a destroy may touch in an account: the applications
/// (not TERMINATED), the roles, and the statements of some repositories.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// `(name, id)` of each application.
    pub applications: BTreeSet<(String, String)>,
    pub roles: Vec<Role>,
    /// Repository name to its policy statements, in order.
    pub repository_statements: BTreeMap<String, Vec<Value>>,
}

impl Snapshot {
    pub async fn take(aws: &Aws, repositories: &[&str]) -> Snapshot {
        let applications = aws.apps().await.into_iter().map(|app| (app.name, app.id)).collect();
        let roles = aws.roles().await;
        let mut repository_statements = BTreeMap::new();
        for repository in repositories {
            let policy = aws.repository_policy(repository).await;
            repository_statements.insert(repository.to_string(), statements(policy.as_ref()));
        }
        Snapshot {
            applications,
            roles,
            repository_statements,
        }
    }
}

/// A small seeded generator (SplitMix64): reproducible random delays
/// without a dependency.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform value in `[0, bound)`.
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 { 0 } else { self.next_u64() % bound }
    }
}

/// The line index of the first stderr line containing `needle`, for
/// ordering assertions on the progress log.
pub fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("no line contains `{needle}`:\n{text}"))
}
