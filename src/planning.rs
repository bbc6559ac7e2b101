//! The planning driver: observe the stack's resources, list the running work
//! of the applications the plan would stop, and make the plan with the pure
//! [`plan::make`]. Every command that plans, and every test that plans
//! through a `Cloud`, goes through [`plan`].

use crate::cloud::{Cloud, CloudError};
use crate::diag::Diagnostics;
use crate::diff::{Mode, Target};
use crate::model::{ApplicationState, Desired};
use crate::observe::{self, ObserveOptions};
use crate::plan::{self as plans, Plan};

/// A plan (when one could be made) and every problem found on the way.
#[derive(Clone, Debug)]
pub(crate) struct Planned {
    /// `None` when observation found errors or the changes form a cycle.
    pub plan: Option<Plan>,
    /// Observation's diagnostics, then the plan's.
    pub diagnostics: Diagnostics,
    /// How observation found the stack's resources (for `-vv`).
    pub discovery: observe::Discovery,
}

/// Observes, makes the plan, and, when it would stop running applications,
/// reads their job runs and sessions and makes the plan again with them
/// (the plan shows them and the executor deals with them).
pub(crate) async fn plan<C: Cloud>(
    cloud: &C,
    desired: &Desired,
    mode: Mode,
    options: &ObserveOptions,
) -> Result<Planned, CloudError> {
    let observation = observe::observe(cloud, desired, options).await?;
    let discovery = observation.discovery;
    let mut diagnostics = observation.diagnostics;
    if diagnostics.has_errors() {
        return Ok(Planned {
            plan: None,
            diagnostics,
            discovery,
        });
    }
    let mut actual = observation.actual;
    let mut made = plans::make(desired, &actual, mode);
    let ids = made.plan.as_ref().map(stopping).unwrap_or_default();
    if !ids.is_empty() {
        actual.running_work = observe::running_work(cloud, &ids, options).await?;
        made = plans::make(desired, &actual, mode);
    }
    // Observation found warnings only; the plan carries them first.
    if let Some(plan) = &mut made.plan {
        plan.diagnostics.splice(0..0, diagnostics.iter().cloned());
    }
    diagnostics.extend(made.diagnostics);
    Ok(Planned {
        plan: made.plan,
        diagnostics,
        discovery,
    })
}

/// The started (or starting) applications a plan would stop: their job runs
/// and sessions are worth showing.
fn stopping(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .filter_map(|change| match &change.target {
            Target::Application(app) if app.needs_stop => app.current.as_ref(),
            _ => None,
        })
        .filter(|current| matches!(current.state, ApplicationState::Started | ApplicationState::Starting))
        .map(|current| current.id.clone())
        .collect()
}

/// For tests on the fake: the plan `emrstack plan` would make, which must
/// have no errors.
#[cfg(test)]
pub(crate) async fn plan_without_errors(cloud: &crate::cloud::fake::FakeCloud, desired: &Desired, mode: Mode) -> Plan {
    let planned = plan(cloud, desired, mode, &ObserveOptions::default())
        .await
        .expect("observe");
    assert!(!planned.diagnostics.has_errors(), "{:?}", planned.diagnostics);
    planned.plan.expect("no cycle")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::{ApplyOptions, SilentObserver, execute};
    use crate::cloud::fake::FakeCloud;
    use crate::diff::tests::{declare, spec, stack};
    use crate::diff::{Action, Step};
    use crate::model::JobRunMode;

    /// The stack `dev` with the applications `kept` and `bumped`, applied
    /// and STARTED, each with a job run; `bumped` then moves to a release
    /// that needs a stop.
    async fn two_started_applications() -> (FakeCloud, Desired) {
        let cloud = FakeCloud::new();
        let mut desired = stack();
        for key in ["kept", "bumped"] {
            declare(&mut desired, key, spec(&format!("dev-{key}")));
        }
        let first = plan_without_errors(&cloud, &desired, Mode::Apply).await;
        let report = execute(&cloud, &first, &ApplyOptions::default(), &SilentObserver).await;
        assert!(report.is_success(), "{:?}", report.outcomes);
        for app in cloud.applications() {
            cloud.set_application_state(&app.id, ApplicationState::Started);
            cloud.add_job_run(&app.id, JobRunMode::Batch, None);
        }
        if let Some(bumped) = desired.applications.get_mut("bumped") {
            bumped.spec.release_label = "emr-7.3.0".to_string();
        }
        (cloud, desired)
    }

    #[tokio::test(start_paused = true)]
    async fn running_work_is_read_for_the_applications_the_plan_stops_only() {
        let (cloud, desired) = two_started_applications().await;
        cloud.reset_counters();
        let plan = plan_without_errors(&cloud, &desired, Mode::Apply).await;
        let bumped = plan
            .changes
            .iter()
            .find(|change| change.address.to_string() == "application.bumped")
            .expect("a change of application.bumped");
        assert_eq!(bumped.action, Action::Update);
        assert!(
            bumped.steps.contains(&Step::Stop {
                running_jobs: 1,
                running_sessions: 0
            }),
            "{:?}",
            bumped.steps
        );
        let listed: Vec<String> = cloud
            .calls()
            .into_iter()
            .filter(|(operation, _)| operation == "ListJobRuns")
            .map(|(_, subject)| subject)
            .collect();
        let bumped_id = cloud
            .applications()
            .into_iter()
            .find(|app| app.spec.name == "dev-bumped")
            .map(|app| app.id)
            .expect("dev-bumped exists");
        assert!(!listed.is_empty(), "the job runs of the stopped application are read");
        assert!(listed.iter().all(|id| id == &bumped_id), "{listed:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_plan_that_stops_nothing_reads_no_running_work() {
        let (cloud, mut desired) = two_started_applications().await;
        if let Some(bumped) = desired.applications.get_mut("bumped") {
            bumped.spec.release_label = "emr-7.2.0".to_string();
        }
        cloud.reset_counters();
        let plan = plan_without_errors(&cloud, &desired, Mode::Apply).await;
        assert!(!plan.has_changes(), "{:?}", plan.changes);
        assert_eq!(cloud.call_count("ListJobRuns"), 0);
    }
}
