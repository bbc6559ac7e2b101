//! Carrying out application changes, respecting the EMR Serverless state
//! machine: wait out transitional states, apply live changes to a STARTED
//! application, otherwise stop (minding running job runs and sessions),
//! update and start it again, and stop before deleting.

use std::collections::BTreeMap;

use tokio::time::Instant;

use super::retry::retry;
use super::token::client_token;
use super::{ChangeError, Context, Event, OnRunning};
use crate::cloud::{Cloud, CloudError, ErrorKind};
use crate::diff::{Action, ApplicationTarget, Change};
use crate::graph::Phase;
use crate::model::{
    Address, ApplicationSpec, ApplicationState, ApplicationUpdate, Delivery, ObservedApplication, RunningWork,
};

/// How many times a change re-reads the application and tries again when
/// its state moved under it (auto-start, auto-stop, a job submitted).
const STATE_RACE_ATTEMPTS: u32 = 3;

/// How many destroyed applications a create walks past when its client
/// token keeps returning them (see `create`): one per earlier destroy of
/// the same stack in an account that looked the same, for as long as the
/// service remembers the tokens.
const MAX_TOKEN_REPLAYS: u32 = 20;

pub(crate) async fn run<C: Cloud>(
    context: &Context<'_, C>,
    change: &Change,
    target: &ApplicationTarget,
    phase: Phase,
) -> Result<(), ChangeError> {
    let address = &change.address;
    match (change.action, phase) {
        (Action::Create, _) | (Action::Replace, Phase::Main) => create(context, address, target).await,
        (Action::Update, _) => update(context, address, target).await,
        (Action::Delete, _) | (Action::Replace, Phase::Cleanup) => match &target.current {
            Some(current) => delete(context, address, &current.id).await,
            None => Ok(()),
        },
        (Action::NoOp, _) => Ok(()),
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn missing_desired(address: &Address) -> ChangeError {
    ChangeError::Unexpected(format!("the plan has no desired configuration for `{address}`"))
}

async fn create<C: Cloud>(
    context: &Context<'_, C>,
    address: &Address,
    target: &ApplicationTarget,
) -> Result<(), ChangeError> {
    let spec = target.desired.as_ref().ok_or_else(|| missing_desired(address))?;
    // The token names what is created and nothing else, so that a create
    // whose answer was lost (a killed run, a dropped connection) is
    // recognised by the service when the next run sends it again, whatever
    // else that run changed meanwhile. The same request made again after a
    // destroy gets the destroyed application back, which `create` walks past.
    let mut token = client_token(&[&context.plan.stack, &address.to_string(), "create", &json(spec)]);
    context.emit(Event::Step {
        address: address.clone(),
        text: format!("creating application `{}`", spec.name),
    });
    let mut replayed = 0;
    let (created, app) = loop {
        let created = retry(
            context,
            address,
            "CreateApplication",
            |_| false,
            || context.cloud.create_application(spec, &token),
        )
        .await?;
        let app = settle(context, address, &created.id).await?;
        // The account can look exactly as it did when the token was first
        // used (apply, destroy, apply): the service then answers with the
        // application that token created, deleted since. The next token is
        // derived from that application, so a re-run after a crash derives
        // the same one and still cannot create a second application.
        if app.state == ApplicationState::Terminated && replayed < MAX_TOKEN_REPLAYS {
            replayed += 1;
            token = client_token(&[&token, "after", &created.id]);
            continue;
        }
        break (created, app);
    };
    context.record_arn(&target.key, &created.arn);
    match app.state {
        ApplicationState::Created | ApplicationState::Stopped | ApplicationState::Started => Ok(()),
        other => Err(ChangeError::Unexpected(format!(
            "application {} is {other} after creation{}",
            created.id,
            app.state_details.map(|d| format!(": {d}")).unwrap_or_default()
        ))),
    }
}

/// Reads an application; a missing one is an error naming the address.
async fn fetch<C: Cloud>(
    context: &Context<'_, C>,
    address: &Address,
    id: &str,
) -> Result<ObservedApplication, ChangeError> {
    let app = retry(
        context,
        address,
        "GetApplication",
        |_| false,
        || context.cloud.get_application(id),
    )
    .await;
    match app {
        Ok(app) if app.state != ApplicationState::Terminated => Ok(app),
        Ok(_) => Err(ChangeError::Unexpected(format!(
            "application {id} of `{address}` was deleted since the plan was made; plan again"
        ))),
        Err(error) if error.is_not_found() => Err(ChangeError::Unexpected(format!(
            "application {id} of `{address}` no longer exists; plan again"
        ))),
        Err(error) => Err(error.into()),
    }
}

/// Polls until the application is in a state `done` accepts, with growing
/// intervals, or fails after the state timeout.
async fn wait_for<C: Cloud>(
    context: &Context<'_, C>,
    address: &Address,
    id: &str,
    what: &str,
    done: impl Fn(ApplicationState) -> bool,
) -> Result<ObservedApplication, ChangeError> {
    let started = Instant::now();
    let mut interval = context.options.poll_interval;
    loop {
        let app = retry(
            context,
            address,
            "GetApplication",
            |_| false,
            || context.cloud.get_application(id),
        )
        .await?;
        if done(app.state) {
            return Ok(app);
        }
        if app.state == ApplicationState::Terminated {
            return Err(ChangeError::Unexpected(format!(
                "application {id} was deleted while waiting for it to be {what}"
            )));
        }
        let elapsed = started.elapsed();
        if elapsed >= context.options.state_timeout {
            return Err(ChangeError::Timeout(format!(
                "application {id} is still {} after {}s waiting for it to be {what}{}",
                app.state,
                elapsed.as_secs(),
                app.state_details.map(|d| format!(" ({d})")).unwrap_or_default()
            )));
        }
        context.emit(Event::Waiting {
            address: address.clone(),
            state: app.state,
            elapsed,
        });
        tokio::time::sleep(interval).await;
        interval = (interval * 2).min(context.options.max_poll_interval);
    }
}

/// Waits until the application is out of CREATING, STARTING and STOPPING.
async fn settle<C: Cloud>(
    context: &Context<'_, C>,
    address: &Address,
    id: &str,
) -> Result<ObservedApplication, ChangeError> {
    wait_for(context, address, id, "settled", |state| !state.is_transitional()).await
}

/// Lists what runs on the application: job runs of both modes and sessions.
async fn running_work<C: Cloud>(
    context: &Context<'_, C>,
    address: &Address,
    id: &str,
) -> Result<RunningWork, ChangeError> {
    let runs = || context.cloud.list_active_job_runs(id);
    let job_runs = retry(context, address, "ListJobRuns", |_| false, runs).await?;
    let sessions = || context.cloud.list_active_sessions(id);
    let sessions = retry(context, address, "ListSessions", |_| false, sessions).await?;
    Ok(RunningWork { job_runs, sessions })
}

/// Makes sure no job run or session is active, as `--on-running` says:
/// batch and streaming job runs and interactive sessions all keep an
/// application from stopping (docs/api-semantics.md, "Running work").
async fn clear_running_work<C: Cloud>(
    context: &Context<'_, C>,
    address: &Address,
    id: &str,
) -> Result<(), ChangeError> {
    let work = running_work(context, address, id).await?;
    if work.is_empty() {
        return Ok(());
    }
    let names = work.describe().join(", ");
    match context.options.on_running {
        OnRunning::Fail => {
            return Err(ChangeError::RunningJobs(format!(
                "application {id} of `{address}` has {} unfinished: {names}; rerun with `--on-running wait` to wait for them or `--on-running cancel` to cancel the job runs and terminate the sessions",
                work.count_text(),
            )));
        }
        OnRunning::Wait => {
            context.emit(Event::Step {
                address: address.clone(),
                text: format!("waiting for {} to finish: {names}", work.count_text()),
            });
        }
        OnRunning::Cancel => {
            context.emit(Event::Step {
                address: address.clone(),
                text: format!("cancelling {}: {names}", work.count_text()),
            });
            for job in &work.job_runs {
                let cancel = || context.cloud.cancel_job_run(id, &job.id);
                match retry(context, address, "CancelJobRun", |_| false, cancel).await {
                    Ok(()) => {}
                    // Finished (or gone) on its own in the meantime.
                    Err(error) if matches!(error.kind, ErrorKind::NotFound | ErrorKind::Invalid) => {}
                    Err(error) => return Err(error.into()),
                }
            }
            for session in &work.sessions {
                let terminate = || context.cloud.terminate_session(id, &session.id);
                match retry(context, address, "TerminateSession", |_| false, terminate).await {
                    Ok(()) => {}
                    Err(error) if matches!(error.kind, ErrorKind::NotFound | ErrorKind::Invalid) => {}
                    Err(error) => return Err(error.into()),
                }
            }
        }
    }
    let started = Instant::now();
    let mut interval = context.options.poll_interval;
    loop {
        tokio::time::sleep(interval).await;
        interval = (interval * 2).min(context.options.max_poll_interval);
        let work = running_work(context, address, id).await?;
        if work.is_empty() {
            return Ok(());
        }
        let elapsed = started.elapsed();
        if elapsed >= context.options.job_timeout {
            return Err(ChangeError::RunningJobs(format!(
                "application {id} of `{address}` still has {} unfinished after {}s: {}",
                work.count_text(),
                elapsed.as_secs(),
                work.describe().join(", ")
            )));
        }
        context.emit(Event::WaitingForJobs {
            address: address.clone(),
            running: work.len(),
            elapsed,
        });
    }
}

/// Stops a STARTED (or STARTING) application and waits until it is STOPPED.
async fn stop<C: Cloud>(
    context: &Context<'_, C>,
    address: &Address,
    id: &str,
) -> Result<ObservedApplication, ChangeError> {
    for attempt in 1..=STATE_RACE_ATTEMPTS {
        clear_running_work(context, address, id).await?;
        context.emit(Event::Step {
            address: address.clone(),
            text: format!("stopping {id}"),
        });
        match retry(
            context,
            address,
            "StopApplication",
            |_| false,
            || context.cloud.stop_application(id),
        )
        .await
        {
            Ok(()) => break,
            // A job was submitted between the check and the stop.
            Err(error) if error.kind == ErrorKind::Conflict && attempt < STATE_RACE_ATTEMPTS => continue,
            Err(error) => return Err(error.into()),
        }
    }
    wait_for(context, address, id, "STOPPED", |state| {
        matches!(state, ApplicationState::Stopped | ApplicationState::Created)
    })
    .await
}

async fn start<C: Cloud>(context: &Context<'_, C>, address: &Address, id: &str) -> Result<(), ChangeError> {
    context.emit(Event::Step {
        address: address.clone(),
        text: format!("starting {id} again"),
    });
    retry(
        context,
        address,
        "StartApplication",
        |_| false,
        || context.cloud.start_application(id),
    )
    .await?;
    wait_for(context, address, id, "STARTED", |state| {
        state == ApplicationState::Started
    })
    .await?;
    Ok(())
}

/// Sends `UpdateApplication` making the application, as fetched in `app`,
/// what `desired` says for `target`'s fields. The request is built from the
/// field declarations (`model::update`): to a STARTED application only the
/// members the service takes while STARTED. Returns whether anything was sent.
async fn send_update<C: Cloud>(
    context: &Context<'_, C>,
    address: &Address,
    app: &ObservedApplication,
    desired: &ApplicationSpec,
    target: &ApplicationTarget,
) -> Result<bool, ChangeError> {
    // A STARTED application stays STARTED only when the plan found every
    // field live; then only the members the service takes while STARTED go.
    let delivery = if app.state == ApplicationState::Started {
        Delivery::Live
    } else {
        Delivery::Stopped
    };
    let update = ApplicationUpdate::new(&app.spec, desired, &target.update_fields, delivery)
        .map_err(|error| ChangeError::Unexpected(format!("cannot update `{address}`: {error}")))?;
    if update.is_empty() {
        return Ok(false);
    }
    let names: Vec<&str> = update.fields.iter().map(|field| field.as_str()).collect();
    context.emit(Event::Step {
        address: address.clone(),
        text: format!("updating {}", names.join(", ")),
    });
    // The run's nonce keeps a later run from replaying this request: the
    // account can look exactly as it does now again (a change reverted and
    // made again), and the service would answer that run's update with
    // this one's stored response, changing nothing. Updates need no
    // idempotency across runs: sending the same fields twice is harmless.
    let token = client_token(&[
        &context.plan.stack,
        &address.to_string(),
        "update",
        &json(&update),
        app.state.api_name(),
        &context.plan.fingerprint,
        &context.run_nonce,
    ]);
    retry(
        context,
        address,
        "UpdateApplication",
        |_| false,
        || context.cloud.update_application(&app.id, &update, &token),
    )
    .await?;
    Ok(true)
}

async fn update<C: Cloud>(
    context: &Context<'_, C>,
    address: &Address,
    target: &ApplicationTarget,
) -> Result<(), ChangeError> {
    let desired = target.desired.as_ref().ok_or_else(|| missing_desired(address))?;
    let id = target
        .current
        .as_ref()
        .map(|current| current.id.clone())
        .ok_or_else(|| ChangeError::Unexpected(format!("the plan has no application to update for `{address}`")))?;
    let mut app = fetch(context, address, &id).await?;
    if !target.update_fields.is_empty() {
        let mut attempt = 0;
        loop {
            attempt += 1;
            if app.state.is_transitional() {
                app = settle(context, address, &id).await?;
            }
            let result = match app.state {
                ApplicationState::Created | ApplicationState::Stopped => {
                    send_update(context, address, &app, desired, target).await.map(|_| ())
                }
                ApplicationState::Started if !target.needs_stop => {
                    let sent = send_update(context, address, &app, desired, target).await;
                    if matches!(sent, Ok(true)) && target.image_needs_restart {
                        context.notice(
                            address,
                            format!(
                                "{id} is still STARTED with its old image: it resolves the image digest when it starts, \
                                 so new jobs get the new image only after it is restarted (or set \
                                 `application_level_digest_resolution = false`)"
                            ),
                        );
                    }
                    sent.map(|_| ())
                }
                ApplicationState::Started => {
                    let stopped = stop(context, address, &id).await?;
                    send_update(context, address, &stopped, desired, target).await?;
                    // It was STARTED before: leave it as it was found.
                    start(context, address, &id).await?;
                    Ok(())
                }
                other => Err(ChangeError::Cloud(CloudError::new(
                    ErrorKind::Conflict,
                    "UpdateApplication",
                    format!("application {id} is {other}"),
                ))),
            };
            match result {
                Ok(()) => break,
                Err(ChangeError::Cloud(error))
                    if error.kind == ErrorKind::Conflict && attempt < STATE_RACE_ATTEMPTS =>
                {
                    // The state moved under us (auto-start by a job, or an
                    // auto-stop): read it again and choose again.
                    app = fetch(context, address, &id).await?;
                }
                Err(error) => return Err(error),
            }
        }
        app = fetch(context, address, &id).await?;
    }
    apply_tags(context, address, &app, &desired.tags).await?;
    Ok(())
}

/// Sets the desired tags (the applied record among them, last of all
/// changes) and removes tags that are not desired.
async fn apply_tags<C: Cloud>(
    context: &Context<'_, C>,
    address: &Address,
    app: &ObservedApplication,
    desired: &BTreeMap<String, String>,
) -> Result<(), ChangeError> {
    let to_set: BTreeMap<String, String> = desired
        .iter()
        .filter(|(key, value)| app.spec.tags.get(*key) != Some(*value))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    // Tags under the reserved `aws:` prefix belong to AWS and cannot be removed.
    let to_remove: Vec<String> = app
        .spec
        .tags
        .keys()
        .filter(|key| !desired.contains_key(*key) && !key.to_ascii_lowercase().starts_with("aws:"))
        .cloned()
        .collect();
    if !to_remove.is_empty() {
        retry(
            context,
            address,
            "UntagResource",
            |_| false,
            || context.cloud.untag_application(&app.arn, &to_remove),
        )
        .await?;
    }
    if !to_set.is_empty() {
        retry(
            context,
            address,
            "TagResource",
            |_| false,
            || context.cloud.tag_application(&app.arn, &to_set),
        )
        .await?;
    }
    Ok(())
}

async fn delete<C: Cloud>(context: &Context<'_, C>, address: &Address, id: &str) -> Result<(), ChangeError> {
    let app = match context.cloud.get_application(id).await {
        Ok(app) => app,
        Err(error) if error.is_not_found() => return Ok(()),
        Err(error) => return Err(error.into()),
    };
    if app.state == ApplicationState::Terminated {
        return Ok(());
    }
    for attempt in 1..=STATE_RACE_ATTEMPTS {
        let app = settle(context, address, id).await?;
        if app.state == ApplicationState::Started {
            stop(context, address, id).await?;
        }
        context.emit(Event::Step {
            address: address.clone(),
            text: format!("deleting {id}"),
        });
        match retry(
            context,
            address,
            "DeleteApplication",
            |_| false,
            || context.cloud.delete_application(id),
        )
        .await
        {
            Ok(()) => break,
            Err(error) if error.is_not_found() => return Ok(()),
            // Started again by a job between the stop and the delete.
            Err(error) if error.kind == ErrorKind::Conflict && attempt < STATE_RACE_ATTEMPTS => continue,
            Err(error) => return Err(error.into()),
        }
    }
    let gone = wait_for(context, address, id, "deleted", |state| {
        state == ApplicationState::Terminated
    })
    .await;
    match gone {
        Ok(_) => Ok(()),
        Err(ChangeError::Cloud(error)) if error.is_not_found() => Ok(()),
        Err(error) => Err(error),
    }
}
