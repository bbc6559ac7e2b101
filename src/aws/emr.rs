//! EMR Serverless calls: applications, job runs, sessions and tags.

use std::collections::BTreeMap;

use aws_sdk_emrserverless::types as sdk;
use aws_sdk_emrserverless::types::{
    ApplicationState as SdkApplicationState, JobRunMode as SdkJobRunMode, JobRunState as SdkJobRunState,
    SessionState as SdkSessionState,
};

use super::client::{AwsCloud, next_page};
use super::convert::application::{
    build_error, configurations, create_input, job_run, monitoring_config, observed, session, summary, update_input,
};
use super::settings::Service;
use crate::cloud::{ApplicationRef, CloudError, ErrorKind, JobRunRef};
use crate::model::{
    ApplicationSpec, ApplicationState, ApplicationSummary, ApplicationUpdate, JobDriver, JobRun, JobRunMode,
    JobRunRequest, JobRunState, JobRunStatus, ObservedApplication, ResourceUtilization, Session, SessionState,
};

const EMR: Service = Service::EmrServerless;

/// The largest page ListApplications, ListJobRuns and ListSessions allow.
const PAGE_SIZE: i32 = 50;

impl AwsCloud {
    /// `ListApplications` with every state but TERMINATED, all pages.
    pub(super) async fn emr_list_applications(&self) -> Result<Vec<ApplicationSummary>, CloudError> {
        // AWS leaves TERMINATED applications out of an unfiltered list, but
        // asking for the live states explicitly does not depend on that.
        let states: Vec<SdkApplicationState> = [
            ApplicationState::Creating,
            ApplicationState::Created,
            ApplicationState::Starting,
            ApplicationState::Started,
            ApplicationState::Stopping,
            ApplicationState::Stopped,
        ]
        .into_iter()
        .map(|state| SdkApplicationState::from(state.api_name()))
        .collect();
        let mut applications = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let request = self
                .emr
                .list_applications()
                .max_results(PAGE_SIZE)
                .set_states(Some(states.clone()))
                .set_next_token(token.clone())
                .send();
            let page = self.call(EMR, "ListApplications", request).await?;
            for entry in page.applications {
                let entry = summary(entry)?;
                if entry.state != ApplicationState::Terminated {
                    applications.push(entry);
                }
            }
            token = match next_page("ListApplications", token.as_deref(), page.next_token)? {
                Some(next) => Some(next),
                None => return Ok(applications),
            };
        }
    }

    pub(super) async fn emr_get_application(&self, id: &str) -> Result<ObservedApplication, CloudError> {
        let output = self
            .call(
                EMR,
                "GetApplication",
                self.emr.get_application().application_id(id).send(),
            )
            .await?;
        let application = output
            .application
            .ok_or_else(|| CloudError::new(ErrorKind::Other, "GetApplication", "the response has no `application`"))?;
        observed(application)
    }

    pub(super) async fn emr_create_application(
        &self,
        spec: &ApplicationSpec,
        client_token: &str,
    ) -> Result<ApplicationRef, CloudError> {
        let input = create_input(spec, client_token)?;
        let output = self.call(EMR, "CreateApplication", input.send_with(&self.emr)).await?;
        Ok(ApplicationRef {
            id: output.application_id,
            arn: output.arn,
        })
    }

    pub(super) async fn emr_update_application(
        &self,
        id: &str,
        update: &ApplicationUpdate,
        client_token: &str,
    ) -> Result<(), CloudError> {
        let input = update_input(id, update, client_token)?;
        self.call(EMR, "UpdateApplication", input.send_with(&self.emr)).await?;
        Ok(())
    }

    pub(super) async fn emr_start_application(&self, id: &str) -> Result<(), CloudError> {
        self.call(
            EMR,
            "StartApplication",
            self.emr.start_application().application_id(id).send(),
        )
        .await?;
        Ok(())
    }

    pub(super) async fn emr_stop_application(&self, id: &str) -> Result<(), CloudError> {
        self.call(
            EMR,
            "StopApplication",
            self.emr.stop_application().application_id(id).send(),
        )
        .await?;
        Ok(())
    }

    pub(super) async fn emr_delete_application(&self, id: &str) -> Result<(), CloudError> {
        self.call(
            EMR,
            "DeleteApplication",
            self.emr.delete_application().application_id(id).send(),
        )
        .await?;
        Ok(())
    }

    /// `ListJobRuns` filtered to the active states, for each mode (the
    /// service's default mode is not documented, so both are asked for), all
    /// pages.
    pub(super) async fn emr_list_active_job_runs(&self, application_id: &str) -> Result<Vec<JobRun>, CloudError> {
        let states: Vec<SdkJobRunState> = JobRunState::ACTIVE
            .into_iter()
            .map(|state| SdkJobRunState::from(state.api_name()))
            .collect();
        let mut runs: Vec<JobRun> = Vec::new();
        for mode in JobRunMode::ALL {
            let mut token: Option<String> = None;
            loop {
                let request = self
                    .emr
                    .list_job_runs()
                    .application_id(application_id)
                    .max_results(PAGE_SIZE)
                    .set_states(Some(states.clone()))
                    .mode(SdkJobRunMode::from(mode.api_name()))
                    .set_next_token(token.clone())
                    .send();
                let page = self.call(EMR, "ListJobRuns", request).await?;
                for entry in page.job_runs {
                    let run = job_run(entry, mode)?;
                    // The filters are the service's; checking again costs
                    // nothing, and a run is listed once even if a service
                    // ignored the mode filter.
                    if run.state.is_active() && !runs.iter().any(|seen| seen.id == run.id) {
                        runs.push(run);
                    }
                }
                token = match next_page("ListJobRuns", token.as_deref(), page.next_token)? {
                    Some(next) => Some(next),
                    None => break,
                };
            }
        }
        Ok(runs)
    }

    /// `ListSessions` filtered to the active states, all pages.
    pub(super) async fn emr_list_active_sessions(&self, application_id: &str) -> Result<Vec<Session>, CloudError> {
        let states: Vec<SdkSessionState> = SessionState::ACTIVE
            .into_iter()
            .map(|state| SdkSessionState::from(state.api_name()))
            .collect();
        let mut sessions = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let request = self
                .emr
                .list_sessions()
                .application_id(application_id)
                .max_results(PAGE_SIZE)
                .set_states(Some(states.clone()))
                .set_next_token(token.clone())
                .send();
            let page = self.call(EMR, "ListSessions", request).await?;
            for entry in page.sessions {
                let entry = session(entry)?;
                if entry.state.is_active() {
                    sessions.push(entry);
                }
            }
            token = match next_page("ListSessions", token.as_deref(), page.next_token)? {
                Some(next) => Some(next),
                None => return Ok(sessions),
            };
        }
    }

    pub(super) async fn emr_terminate_session(&self, application_id: &str, session_id: &str) -> Result<(), CloudError> {
        let request = self
            .emr
            .terminate_session()
            .application_id(application_id)
            .session_id(session_id)
            .send();
        self.call(EMR, "TerminateSession", request).await?;
        Ok(())
    }

    pub(super) async fn emr_cancel_job_run(&self, application_id: &str, job_run_id: &str) -> Result<(), CloudError> {
        let request = self
            .emr
            .cancel_job_run()
            .application_id(application_id)
            .job_run_id(job_run_id)
            .send();
        self.call(EMR, "CancelJobRun", request).await?;
        Ok(())
    }

    pub(super) async fn emr_tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), CloudError> {
        if tags.is_empty() {
            return Ok(());
        }
        let request = self
            .emr
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()))
            .send();
        self.call(EMR, "TagResource", request).await?;
        Ok(())
    }

    pub(super) async fn emr_untag(&self, arn: &str, keys: &[String]) -> Result<(), CloudError> {
        if keys.is_empty() {
            return Ok(());
        }
        let request = self
            .emr
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(keys.to_vec()))
            .send();
        self.call(EMR, "UntagResource", request).await?;
        Ok(())
    }
}

impl AwsCloud {
    /// `StartJobRun` with exactly the request's members.
    pub(super) async fn emr_start_job_run(
        &self,
        request: &JobRunRequest,
        client_token: &str,
    ) -> Result<JobRunRef, CloudError> {
        const OPERATION: &str = "StartJobRun";
        let driver = match &request.driver {
            JobDriver::Spark {
                entry_point,
                entry_point_arguments,
                spark_submit_parameters,
            } => sdk::JobDriver::SparkSubmit(
                sdk::SparkSubmit::builder()
                    .entry_point(entry_point)
                    .set_entry_point_arguments(
                        (!entry_point_arguments.is_empty()).then(|| entry_point_arguments.clone()),
                    )
                    .set_spark_submit_parameters(spark_submit_parameters.clone())
                    .build()
                    .map_err(|err| build_error(OPERATION, err))?,
            ),
            JobDriver::Hive {
                query,
                init_query_file,
                parameters,
            } => sdk::JobDriver::Hive(
                sdk::Hive::builder()
                    .query(query)
                    .set_init_query_file(init_query_file.clone())
                    .set_parameters(parameters.clone())
                    .build()
                    .map_err(|err| build_error(OPERATION, err))?,
            ),
        };
        let overrides = if request.runtime.is_empty() && request.monitoring.is_empty() {
            None
        } else {
            Some(
                sdk::ConfigurationOverrides::builder()
                    .set_application_configuration(if request.runtime.is_empty() {
                        None
                    } else {
                        Some(configurations(OPERATION, &request.runtime)?)
                    })
                    .set_monitoring_configuration(if request.monitoring.is_empty() {
                        None
                    } else {
                        Some(monitoring_config(OPERATION, &request.monitoring)?)
                    })
                    .build(),
            )
        };
        let call = self
            .emr
            .start_job_run()
            .application_id(&request.application_id)
            .client_token(client_token)
            .execution_role_arn(&request.execution_role_arn)
            .name(&request.name)
            .job_driver(driver)
            .set_configuration_overrides(overrides)
            .set_tags((!request.tags.is_empty()).then(|| request.tags.clone().into_iter().collect()))
            .set_execution_timeout_minutes(request.execution_timeout_minutes.map(i64::from))
            .mode(SdkJobRunMode::from(request.mode.api_name()))
            .send();
        let output = self.call(EMR, OPERATION, call).await?;
        Ok(JobRunRef {
            application_id: output.application_id,
            job_run_id: output.job_run_id,
            arn: output.arn,
        })
    }

    pub(super) async fn emr_get_job_run(
        &self,
        application_id: &str,
        job_run_id: &str,
    ) -> Result<JobRunStatus, CloudError> {
        let call = self
            .emr
            .get_job_run()
            .application_id(application_id)
            .job_run_id(job_run_id)
            .send();
        let output = self.call(EMR, "GetJobRun", call).await?;
        let run = output
            .job_run
            .ok_or_else(|| CloudError::new(ErrorKind::Other, "GetJobRun", "the response has no `jobRun`"))?;
        let monitoring = run
            .configuration_overrides
            .as_ref()
            .and_then(|o| o.monitoring_configuration.as_ref());
        Ok(JobRunStatus {
            id: run.job_run_id,
            state: run.state.as_str().to_string(),
            state_details: Some(run.state_details).filter(|d| !d.is_empty()),
            duration_seconds: run.total_execution_duration_seconds.map(i64::from),
            billed: run.billed_resource_utilization.map(|b| ResourceUtilization {
                vcpu_hours: b.v_cpu_hour.unwrap_or(0.0),
                memory_gb_hours: b.memory_gb_hour.unwrap_or(0.0),
                storage_gb_hours: b.storage_gb_hour.unwrap_or(0.0),
            }),
            log_uri: monitoring
                .and_then(|m| m.s3_monitoring_configuration.as_ref())
                .and_then(|s3| s3.log_uri.clone()),
            cloudwatch: monitoring
                .and_then(|m| m.cloud_watch_logging_configuration.as_ref())
                .filter(|c| c.enabled)
                .map(|c| {
                    (
                        c.log_group_name
                            .clone()
                            .unwrap_or_else(|| crate::model::DEFAULT_LOG_GROUP.to_string()),
                        c.log_stream_name_prefix.clone(),
                    )
                }),
        })
    }

    pub(super) async fn emr_get_dashboard_for_job_run(
        &self,
        application_id: &str,
        job_run_id: &str,
    ) -> Result<String, CloudError> {
        let call = self
            .emr
            .get_dashboard_for_job_run()
            .application_id(application_id)
            .job_run_id(job_run_id)
            .send();
        let output = self.call(EMR, "GetDashboardForJobRun", call).await?;
        output
            .url
            .ok_or_else(|| CloudError::new(ErrorKind::Other, "GetDashboardForJobRun", "the response has no `url`"))
    }
}
