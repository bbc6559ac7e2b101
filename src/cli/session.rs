//! What the commands that talk to AWS share: loading the stack, connecting,
//! the options of the planning driver (`planning::plan`), and printing
//! diagnostics with positions.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::apply::{ApplyOptions, OnRunning, RetryPolicy};
use crate::aws::{AwsCloud, AwsSettings};
use crate::cloud::CloudError;
use crate::config::{self, Loaded, SpanIndex};
use crate::diag::{Diagnostics, Sources};
use crate::model::{Address, Desired};
use crate::observe::{self, ObserveOptions};
use crate::render::diagnostics;

use super::args::{ExecuteArgs, GlobalArgs, OnRunning as OnRunningArg, StackArgs};
use super::commands::load_options;
use super::error::CliError;
use super::output::Printer;

/// A loaded, valid stack with what is needed to point into its files.
pub(super) struct Stack {
    pub desired: Desired,
    pub sources: Sources,
    pub spans: SpanIndex,
}

/// Loads the stack and prints its diagnostics; [`CliError::Reported`] when
/// it has errors.
pub(super) fn load_stack(printer: &Printer, global: &GlobalArgs, stack: &StackArgs) -> Result<Stack, CliError> {
    let Loaded {
        sources,
        diagnostics,
        desired,
        spans,
    } = config::load(&load_options(global, stack));
    print_diagnostics(printer, &diagnostics, &sources);
    let desired = desired.ok_or(CliError::Reported)?;
    Ok(Stack {
        desired,
        sources,
        spans,
    })
}

/// Prints diagnostics to stderr (nothing when there are none).
pub(super) fn print_diagnostics(printer: &Printer, list: &Diagnostics, sources: &Sources) {
    if list.is_empty() {
        return;
    }
    let text = diagnostics::human(list, sources, printer.color_stderr);
    printer.message(&text);
}

/// Gives plan-time diagnostics the position of the field they are about.
pub(super) fn place(list: &mut Diagnostics, spans: &SpanIndex) {
    for diagnostic in &mut list.0 {
        if diagnostic.span.is_some() {
            continue;
        }
        let Some(subject) = &diagnostic.subject else {
            continue;
        };
        // `stack` names the `[stack]` table, which is not a resource.
        diagnostic.span = match subject.address.parse::<Address>() {
            Ok(address) => spans.field(&address, &subject.path),
            Err(_) if subject.address == "stack" => spans.stack_field(&subject.path),
            Err(_) => None,
        };
    }
    list.sort();
}

/// Observation's options from `--parallelism`.
pub(super) fn observe_options(parallelism: u32) -> ObserveOptions {
    ObserveOptions {
        parallelism: parallelism as usize,
    }
}

/// Reads a millisecond duration from the environment.
fn env_millis(name: &str, default: Duration) -> Duration {
    std::env::var(name)
        .ok()
        .and_then(|text| text.trim().parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(default)
}

/// Connects to AWS (or the endpoint given), in the region from `--region`,
/// the stack file, or the AWS configuration, in that order.
pub(super) async fn connect(
    printer: &Printer,
    global: &GlobalArgs,
    stack_region: Option<&str>,
) -> Result<AwsCloud, CloudError> {
    let (mut settings, problems) = AwsSettings::from_env_reporting();
    for problem in problems {
        printer.message(&format!("warning: {problem}"));
    }
    settings.region = global.region.clone().or_else(|| stack_region.map(str::to_string));
    settings.profile = global.profile.clone();
    settings.endpoint_url = global.endpoint_url.clone();
    if printer.verbose >= 2 {
        let printer = printer.clone();
        settings.on_call = Some(Arc::new(move |call: &crate::aws::CallEvent<'_>| {
            let outcome = match call.error {
                None => "ok".to_string(),
                Some(error) => error.to_string(),
            };
            printer.message(&format!(
                "aws: {} {} {}ms: {outcome}",
                call.service.as_str(),
                call.operation,
                call.elapsed.as_millis()
            ));
        }));
    }
    AwsCloud::connect(settings).await
}

/// The executor's options from the command line (and, for test and tuning,
/// `EMRSTACK_POLL_INTERVAL_MS`, `EMRSTACK_MAX_POLL_INTERVAL_MS` and
/// `EMRSTACK_RETRY_BACKOFF_MS`).
pub(super) fn apply_options(parallelism: u32, execute: &ExecuteArgs) -> ApplyOptions {
    let defaults = ApplyOptions::default();
    ApplyOptions {
        parallelism: parallelism as usize,
        on_running: match execute.on_running {
            OnRunningArg::Fail => OnRunning::Fail,
            OnRunningArg::Wait => OnRunning::Wait,
            OnRunningArg::Cancel => OnRunning::Cancel,
        },
        job_timeout: Duration::from_secs(execute.job_timeout),
        state_timeout: Duration::from_secs(execute.state_timeout),
        propagation_timeout: Duration::from_secs(execute.propagation_timeout),
        poll_interval: env_millis("EMRSTACK_POLL_INTERVAL_MS", defaults.poll_interval),
        max_poll_interval: env_millis("EMRSTACK_MAX_POLL_INTERVAL_MS", defaults.max_poll_interval),
        retry: RetryPolicy {
            initial_backoff: env_millis("EMRSTACK_RETRY_BACKOFF_MS", defaults.retry.initial_backoff),
            ..defaults.retry
        },
    }
}

/// At `-vv`: how the stack's resources were found, and the AWS calls made
/// so far by operation (docs/observe.md gives the formula).
pub(super) fn print_discovery(printer: &Printer, discovery: &observe::Discovery, cloud: &AwsCloud) {
    if printer.verbose < 2 {
        return;
    }
    for line in discovery.describe() {
        printer.message(&format!("discovery: {line}"));
    }
    let counts = cloud.call_counts();
    let list: Vec<String> = counts
        .iter()
        .map(|(operation, count)| format!("{operation} {count}"))
        .collect();
    printer.message(&format!(
        "aws calls: {} in all: {}",
        cloud.total_calls(),
        list.join(", ")
    ));
}

/// Runs a command's future on a new multi-threaded runtime.
pub(super) fn block_on<T, F>(future: F) -> Result<T, CliError>
where
    F: std::future::Future<Output = Result<T, CliError>>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(future)
}

/// Application and role identifiers by key, for `output`.
pub(super) fn identifiers(actual: &crate::model::Actual, desired: &Desired) -> BTreeMap<String, serde_json::Value> {
    let stack = desired.stack.name.as_str();
    let mut applications = serde_json::Map::new();
    for key in desired.applications.keys() {
        let address = Address::application(key);
        let found = actual
            .applications
            .iter()
            .find(|app| app.owner().address_in(stack) == Some(&address));
        applications.insert(
            key.clone(),
            match found {
                Some(app) => serde_json::json!({
                    "id": app.id, "arn": app.arn, "name": app.spec.name, "state": app.state.api_name(),
                }),
                None => serde_json::Value::Null,
            },
        );
    }
    let mut roles = serde_json::Map::new();
    for (key, role) in &desired.roles {
        let address = Address::role(key);
        let found = actual
            .roles
            .iter()
            .find(|observed| observed.owner().address_in(stack) == Some(&address));
        roles.insert(
            key.clone(),
            match found {
                Some(observed) => serde_json::json!({"name": observed.spec.name, "arn": observed.arn}),
                None => serde_json::json!({"name": role.name, "arn": null}),
            },
        );
    }
    let mut repositories = serde_json::Map::new();
    for (key, repository) in &desired.repositories {
        repositories.insert(
            key.clone(),
            match actual.repositories.get(&repository.name) {
                Some(found) => serde_json::json!({"name": found.name, "uri": found.uri, "arn": found.arn}),
                None => serde_json::json!({"name": repository.name, "uri": null, "arn": null}),
            },
        );
    }
    BTreeMap::from([
        ("applications".to_string(), serde_json::Value::Object(applications)),
        ("roles".to_string(), serde_json::Value::Object(roles)),
        ("repositories".to_string(), serde_json::Value::Object(repositories)),
    ])
}
