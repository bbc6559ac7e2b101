//! The executor: walks a plan's graph with bounded parallelism, waits for
//! EMR Serverless states, retries what AWS asks to be retried, and reports
//! events.
//!
//! The executor trusts the plan for *what* to change and AWS for *how*: each
//! change re-reads its resource before acting (an application may have
//! auto-started or auto-stopped since the plan, a role may have been
//! half-created by an interrupted run), so re-running after a crash or a
//! timeout converges. A failed change marks everything that depends on it as
//! skipped; independent changes go on.
//!
//! A [`Halt`] stops an apply from outside (a lost stack lock, Ctrl-C): no
//! change starts after it, and the changes in flight are abandoned at their
//! next await, as if the process had been killed there, which re-reading
//! before acting already makes safe; the report says which.

mod application;
mod events;
pub(crate) mod jobs;
mod repository;
mod retry;
mod role;
mod token;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use petgraph::graph::NodeIndex;
use tokio::sync::watch;

#[cfg(test)]
pub(crate) use events::SilentObserver;
pub(crate) use events::{Event, NodeOutcome, Observer, Outcome};
pub(crate) use retry::RetryPolicy;
pub(crate) use token::client_token;

use crate::cloud::{Cloud, CloudError};
use crate::diff::{Action, Target};
use crate::graph::{ChangeGraph, Node, Phase};
use crate::model::Address;
use crate::plan::Plan;

/// What to do with unfinished job runs (batch and streaming) and active
/// interactive sessions before stopping or deleting an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnRunning {
    /// Refuse, naming every job run and session.
    Fail,
    /// Wait for them to finish, up to `job_timeout`.
    Wait,
    /// Cancel the job runs, terminate the sessions, and wait until they are done.
    Cancel,
}

/// How the executor runs.
#[derive(Clone, Debug)]
pub(crate) struct ApplyOptions {
    /// The most changes in progress at once, at least 1.
    pub parallelism: usize,
    pub on_running: OnRunning,
    /// How long `OnRunning::Wait` and `OnRunning::Cancel` wait for job runs
    /// and sessions.
    pub job_timeout: Duration,
    /// How long to wait for an application to leave CREATING, STARTING or STOPPING.
    pub state_timeout: Duration,
    /// How long to keep retrying errors of IAM eventual consistency.
    pub propagation_timeout: Duration,
    /// The first interval between polls of an application's state; it
    /// doubles up to `max_poll_interval`.
    pub poll_interval: Duration,
    pub max_poll_interval: Duration,
    /// Retries of throttling and transient errors on top of the SDK's own.
    pub retry: RetryPolicy,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 10,
            on_running: OnRunning::Fail,
            job_timeout: Duration::from_secs(3600),
            state_timeout: Duration::from_secs(1800),
            propagation_timeout: Duration::from_secs(120),
            poll_interval: Duration::from_secs(2),
            max_poll_interval: Duration::from_secs(15),
            retry: RetryPolicy::default(),
        }
    }
}

/// Tells a running apply to stop: a reason on a watch channel, `None` until
/// then. Cloning it gives another receiver of the same signal.
#[derive(Clone, Debug)]
pub(crate) struct Halt(watch::Receiver<Option<String>>);

impl Halt {
    /// A halt that never comes.
    pub(crate) fn never() -> Halt {
        // The sender is dropped at once; the value stays `None` for good.
        Halt(watch::channel(None).1)
    }

    /// A halt that comes when `receiver` carries a reason.
    pub(crate) fn new(receiver: watch::Receiver<Option<String>>) -> Halt {
        Halt(receiver)
    }

    /// The reason, once halted.
    pub(crate) fn reason(&self) -> Option<String> {
        self.0.borrow().clone()
    }

    /// Resolves with the reason when halted; never, if the sender is gone
    /// without a reason.
    pub(crate) async fn wait(&mut self) -> String {
        match self.0.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone().unwrap_or_default(),
            Err(_) => std::future::pending().await,
        }
    }
}

/// What an apply did.
#[derive(Clone, Debug, Default)]
pub(crate) struct ApplyReport {
    /// One entry per graph node, in the order they finished.
    pub outcomes: Vec<NodeOutcome>,
    /// Why the apply was halted before it finished, if it was.
    pub halted: Option<String>,
    /// What people should know about applied changes, such as an image that
    /// new jobs get only after the application restarts; in address order.
    pub notices: Vec<Notice>,
}

/// A remark about an applied change, for the apply summary.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Notice {
    pub address: Address,
    pub text: String,
}

impl ApplyReport {
    pub(crate) fn applied(&self) -> usize {
        self.count(|outcome| matches!(outcome, Outcome::Applied))
    }

    pub(crate) fn failed(&self) -> usize {
        self.count(|outcome| matches!(outcome, Outcome::Failed(_)))
    }

    pub(crate) fn skipped(&self) -> usize {
        self.count(|outcome| matches!(outcome, Outcome::Skipped(_)))
    }

    fn count(&self, predicate: impl Fn(&Outcome) -> bool) -> usize {
        self.outcomes.iter().filter(|node| predicate(&node.outcome)).count()
    }

    pub(crate) fn is_success(&self) -> bool {
        self.failed() == 0 && self.skipped() == 0 && self.halted.is_none()
    }
}

/// State shared by the changes of one apply.
pub(crate) struct Context<'a, C> {
    pub cloud: &'a C,
    pub plan: &'a Plan,
    pub options: &'a ApplyOptions,
    pub observer: &'a dyn Observer,
    /// Application key -> ARN, for substituting placeholders: seeded with
    /// the ARNs the plan knows, completed as applications are created.
    pub arns: Mutex<BTreeMap<String, String>>,
    /// Different in every run, for client tokens that must not be reused
    /// by a later run (see `application::send_update`).
    pub run_nonce: String,
    /// Remarks for the summary, collected as changes are applied.
    pub notices: Mutex<Vec<Notice>>,
}

impl<C> Context<'_, C> {
    pub(crate) fn arns(&self) -> BTreeMap<String, String> {
        self.arns
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub(crate) fn record_arn(&self, key: &str, arn: &str) {
        self.arns
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(key.to_string(), arn.to_string());
    }

    pub(crate) fn emit(&self, event: Event) {
        self.observer.event(&event);
    }

    pub(crate) fn notice(&self, address: &Address, text: impl Into<String>) {
        self.notices
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(Notice {
                address: address.clone(),
                text: text.into(),
            });
    }
}

/// A change failed: the message says why, for people, and the kind what
/// sort of failure it is (`throttled`, `access denied`, `running jobs`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ChangeError {
    /// An AWS call failed; its [`crate::cloud::ErrorKind`] is kept.
    #[error(transparent)]
    Cloud(#[from] CloudError),
    /// Unfinished job runs under `--on-running fail`, or still running after
    /// the job timeout.
    #[error("{0}")]
    RunningJobs(String),
    /// An application did not reach the expected state in time.
    #[error("{0}")]
    Timeout(String),
    /// AWS holds something the plan did not expect (a conflict that the
    /// executor will not resolve by itself).
    #[error("{0}")]
    Unexpected(String),
    /// The plan cannot be carried out at all (a saved plan whose changes
    /// form a cycle).
    #[error("{0}")]
    InvalidPlan(String),
    /// A halt (SIGINT, SIGTERM, a lost stack lock) came while the change was
    /// in flight: it was left at its next await.
    #[error("abandoned: {0}")]
    Abandoned(String),
}

impl ChangeError {
    /// The sort of failure in a few words, for summaries: the AWS error's
    /// kind (`throttled`, `access denied`, `conflict`), or `running jobs`,
    /// `timeout`, `unexpected state`, `invalid plan`.
    pub(crate) fn kind_name(&self) -> &'static str {
        match self {
            ChangeError::Cloud(error) => error.kind.as_str(),
            ChangeError::RunningJobs(_) => "running jobs",
            ChangeError::Timeout(_) => "timeout",
            ChangeError::Unexpected(_) => "unexpected state",
            ChangeError::InvalidPlan(_) => "invalid plan",
            ChangeError::Abandoned(_) => "abandoned",
        }
    }
}

/// The ARNs a plan already knows, by application key.
fn known_arns(plan: &Plan) -> BTreeMap<String, String> {
    let mut arns = BTreeMap::new();
    for change in &plan.changes {
        if let Target::Application(app) = &change.target
            && let Some(current) = &app.current
            && matches!(change.action, Action::Update | Action::NoOp)
        {
            arns.insert(app.key.clone(), current.arn.clone());
        }
    }
    arns
}

/// A value unique to this run: the time in nanoseconds and the process ID.
fn run_nonce() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or(0);
    format!("{nanos}-{}", std::process::id())
}

/// Executes a plan to the end (tests; the CLI always passes a halt). Never
/// panics on AWS errors: every failure is an outcome.
#[cfg(test)]
pub(crate) async fn execute<C: Cloud>(
    cloud: &C,
    plan: &Plan,
    options: &ApplyOptions,
    observer: &dyn Observer,
) -> ApplyReport {
    execute_until(cloud, plan, options, observer, Halt::never()).await
}

/// [`execute`], stopping when `halt` comes: changes not started are skipped
/// with its reason, changes in flight are abandoned (failed, "abandoned: ..."),
/// and the report's `halted` holds the reason.
pub(crate) async fn execute_until<C: Cloud>(
    cloud: &C,
    plan: &Plan,
    options: &ApplyOptions,
    observer: &dyn Observer,
    halt: Halt,
) -> ApplyReport {
    let graph = match crate::graph::build(&plan.changes) {
        Ok(graph) => graph,
        Err(diagnostic) => {
            // The planner already refused cyclic plans; a cyclic saved plan
            // is refused here without doing anything.
            return ApplyReport {
                outcomes: vec![NodeOutcome {
                    address: None,
                    phase: Phase::Main,
                    outcome: Outcome::Failed(ChangeError::InvalidPlan(diagnostic.message.clone())),
                }],
                halted: None,
                notices: Vec::new(),
            };
        }
    };
    let context = Context {
        cloud,
        plan,
        options,
        observer,
        arns: Mutex::new(known_arns(plan)),
        run_nonce: run_nonce(),
        notices: Mutex::new(Vec::new()),
    };
    let mut report = walk(&context, &graph, halt).await;
    report.notices = context
        .notices
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    report.notices.sort();
    report
}

async fn walk<C: Cloud>(context: &Context<'_, C>, graph: &ChangeGraph, mut halt: Halt) -> ApplyReport {
    let parallelism = context.options.parallelism.max(1);
    let mut waiting: HashMap<NodeIndex, usize> = graph
        .order
        .iter()
        .map(|&node| (node, graph.dependencies(node).len()))
        .collect();
    // Ready nodes in topological order, so runs are deterministic.
    let mut ready: Vec<NodeIndex> = graph.order.iter().copied().filter(|node| waiting[node] == 0).collect();
    let mut blocked: HashMap<NodeIndex, String> = HashMap::new();
    let mut running = FuturesUnordered::new();
    let mut in_flight: Vec<NodeIndex> = Vec::new();
    let mut report = ApplyReport::default();

    loop {
        // Checked before starting each change: nothing starts after a halt.
        if let Some(reason) = halt.reason() {
            drop(running);
            stop_everything(context, graph, &in_flight, &reason, &mut report);
            report.halted = Some(reason);
            return report;
        }
        while running.len() < parallelism && !ready.is_empty() {
            let node = ready.remove(0);
            if let Some(reason) = blocked.remove(&node) {
                finish_skipped(
                    context,
                    graph,
                    node,
                    reason,
                    &mut waiting,
                    &mut ready,
                    &mut blocked,
                    &mut report,
                );
                continue;
            }
            in_flight.push(node);
            running.push(async move {
                let result = run_node(context, graph.node(node)).await;
                (node, result)
            });
        }
        let next = tokio::select! {
            // A halt wins over a change that finishes at the same moment.
            biased;
            _ = halt.wait() => continue,
            next = running.next() => next,
        };
        let Some((node, result)) = next else {
            if ready.is_empty() {
                break;
            }
            continue;
        };
        in_flight.retain(|other| *other != node);
        let address = context.plan.changes[graph.node(node).change].address.clone();
        let phase = graph.node(node).phase;
        let outcome = match result {
            Ok(()) => Outcome::Applied,
            Err(error) => Outcome::Failed(error),
        };
        let failed = matches!(outcome, Outcome::Failed(_));
        finish(context, &mut report, &address, phase, outcome);
        for dependent in graph.dependents(node) {
            if failed {
                blocked
                    .entry(dependent)
                    .or_insert_with(|| format!("`{address}` failed"));
            }
            release(dependent, &mut waiting, &mut ready);
        }
    }
    report
}

/// After a halt: every change in flight is abandoned (failed), every change
/// that has not finished or started is skipped, each with the reason.
fn stop_everything<C>(
    context: &Context<'_, C>,
    graph: &ChangeGraph,
    in_flight: &[NodeIndex],
    reason: &str,
    report: &mut ApplyReport,
) {
    let finished: Vec<(Option<Address>, Phase)> = report
        .outcomes
        .iter()
        .map(|outcome| (outcome.address.clone(), outcome.phase))
        .collect();
    for &node in &graph.order {
        let change = &context.plan.changes[graph.node(node).change];
        let phase = graph.node(node).phase;
        if finished.contains(&(Some(change.address.clone()), phase)) {
            continue;
        }
        let outcome = if in_flight.contains(&node) {
            Outcome::Failed(ChangeError::Abandoned(reason.to_string()))
        } else {
            Outcome::Skipped(format!("not started: {reason}"))
        };
        finish(context, report, &change.address, phase, outcome);
    }
}

/// Reports how a node ended, to the observer and in the report.
fn finish<C>(context: &Context<'_, C>, report: &mut ApplyReport, address: &Address, phase: Phase, outcome: Outcome) {
    context.emit(Event::Finished {
        address: address.clone(),
        phase,
        outcome: outcome.clone(),
    });
    report.outcomes.push(NodeOutcome {
        address: Some(address.clone()),
        phase,
        outcome,
    });
}

/// Counts one finished dependency of `node`, queueing it when none is left.
fn release(node: NodeIndex, waiting: &mut HashMap<NodeIndex, usize>, ready: &mut Vec<NodeIndex>) {
    if let Some(count) = waiting.get_mut(&node) {
        *count -= 1;
        if *count == 0 {
            ready.push(node);
        }
    }
}

/// Marks a node skipped and passes the skip on to its dependents.
#[allow(clippy::too_many_arguments)]
fn finish_skipped<C>(
    context: &Context<'_, C>,
    graph: &ChangeGraph,
    node: NodeIndex,
    reason: String,
    waiting: &mut HashMap<NodeIndex, usize>,
    ready: &mut Vec<NodeIndex>,
    blocked: &mut HashMap<NodeIndex, String>,
    report: &mut ApplyReport,
) {
    let change = &context.plan.changes[graph.node(node).change];
    let phase = graph.node(node).phase;
    finish(
        context,
        report,
        &change.address,
        phase,
        Outcome::Skipped(reason.clone()),
    );
    for dependent in graph.dependents(node) {
        blocked.entry(dependent).or_insert_with(|| reason.clone());
        release(dependent, waiting, ready);
    }
}

async fn run_node<C: Cloud>(context: &Context<'_, C>, node: Node) -> Result<(), ChangeError> {
    let change = &context.plan.changes[node.change];
    context.emit(Event::Started {
        address: change.address.clone(),
        action: change.action,
        phase: node.phase,
    });
    match &change.target {
        Target::Application(target) => application::run(context, change, target, node.phase).await,
        Target::Role(target) => role::run(context, change, target, node.phase).await,
        Target::Repository(target) => repository::run(context, change, target).await,
    }
}

#[cfg(test)]
mod tests;
