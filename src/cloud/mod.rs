//! The `Cloud` trait: every AWS interaction the tool needs, one method per
//! intent, in domain types only. `aws::AwsCloud` implements it against AWS;
//! [`fake::FakeCloud`] implements it in memory for fast tests of the planner
//! and the executor. [`store::ObjectStore`] is the same for S3 objects (the
//! stack lock), with [`fake_store::FakeStore`] in memory.

pub mod error;
pub mod fake;
pub mod fake_store;
pub mod store;

use std::collections::BTreeMap;
use std::future::Future;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use error::{CloudError, ErrorKind};
pub use store::{
    DeleteCondition, DeleteOutcome, ObjectMeta, ObjectStore, StoreError, StoredObject, WriteCondition, WriteOutcome,
};

use crate::model::{
    ApplicationSpec, ApplicationSummary, ApplicationUpdate, JobRun, JobRunRequest, JobRunStatus, ObservedApplication,
    ObservedRepository, ObservedRole, RoleSpec, RoleSummary, SecurityGroupInfo, Session, SubnetInfo, TaggedApplication,
};

/// Who the calls run as.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallerIdentity {
    /// The 12-digit account ID.
    pub account_id: String,
    /// The caller's ARN.
    pub arn: String,
}

/// The identifiers of a newly created application.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationRef {
    pub id: String,
    pub arn: String,
}

/// The identifiers of a started job run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRunRef {
    pub application_id: String,
    pub job_run_id: String,
    pub arn: String,
}

/// Every AWS call emrstack makes. Methods return [`CloudError`] with
/// [`ErrorKind::NotFound`] for missing resources unless documented otherwise.
///
/// Implementations retry throttling and transient failures themselves (the
/// SDK's retry policy) and respect the per-operation rate limits; callers see
/// only what is left after that.
pub trait Cloud: Send + Sync {
    /// The region every call goes to.
    fn region(&self) -> &str;

    /// The current time, in milliseconds since the epoch, to compare with
    /// the service's timestamps (`createdAt`). `AwsCloud` reads the local
    /// clock: a clock that is off shifts which applications count as
    /// recently created, which changes what a plan reads, never what it
    /// may delete (docs/observe.md).
    fn now_ms(&self) -> i64;

    /// `sts:GetCallerIdentity`.
    fn caller_identity(&self) -> impl Future<Output = Result<CallerIdentity, CloudError>> + Send;

    // ---- EMR Serverless -------------------------------------------------

    /// Every application that is not TERMINATED, all pages.
    fn list_applications(&self) -> impl Future<Output = Result<Vec<ApplicationSummary>, CloudError>> + Send;

    /// One application with its full configuration and tags. A TERMINATED
    /// application is returned as such (the caller treats it as absent).
    fn get_application(&self, id: &str) -> impl Future<Output = Result<ObservedApplication, CloudError>> + Send;

    /// `CreateApplication` with every field of `spec`, including its tags.
    /// `client_token` makes a retried call return the same application.
    fn create_application(
        &self,
        spec: &ApplicationSpec,
        client_token: &str,
    ) -> impl Future<Output = Result<ApplicationRef, CloudError>> + Send;

    /// `UpdateApplication` sending exactly `update` (its fields, with their
    /// values as given; `model::update` decides the clearing forms).
    fn update_application(
        &self,
        id: &str,
        update: &ApplicationUpdate,
        client_token: &str,
    ) -> impl Future<Output = Result<(), CloudError>> + Send;

    fn start_application(&self, id: &str) -> impl Future<Output = Result<(), CloudError>> + Send;
    fn stop_application(&self, id: &str) -> impl Future<Output = Result<(), CloudError>> + Send;
    fn delete_application(&self, id: &str) -> impl Future<Output = Result<(), CloudError>> + Send;

    /// Job runs of the application that are not finished (SUBMITTED,
    /// PENDING, SCHEDULED, RUNNING, QUEUED, CANCELLING), batch and
    /// streaming, all pages.
    fn list_active_job_runs(
        &self,
        application_id: &str,
    ) -> impl Future<Output = Result<Vec<JobRun>, CloudError>> + Send;

    fn cancel_job_run(
        &self,
        application_id: &str,
        job_run_id: &str,
    ) -> impl Future<Output = Result<(), CloudError>> + Send;

    /// `StartJobRun` with exactly `request`; `client_token` makes a
    /// repeated call with the same request return the same run (and a
    /// different request with the same token a `Conflict`).
    fn start_job_run(
        &self,
        request: &JobRunRequest,
        client_token: &str,
    ) -> impl Future<Output = Result<JobRunRef, CloudError>> + Send;

    /// `GetJobRun`: the run's state, details and, once it has ended, its
    /// duration and billed utilization.
    fn get_job_run(
        &self,
        application_id: &str,
        job_run_id: &str,
    ) -> impl Future<Output = Result<JobRunStatus, CloudError>> + Send;

    /// `GetDashboardForJobRun`: the Spark UI URL (refused, `Invalid`, before
    /// the run is RUNNING).
    fn get_dashboard_for_job_run(
        &self,
        application_id: &str,
        job_run_id: &str,
    ) -> impl Future<Output = Result<String, CloudError>> + Send;

    /// Interactive sessions of the application that are not finished
    /// (every state but FAILED and TERMINATED), all pages.
    fn list_active_sessions(
        &self,
        application_id: &str,
    ) -> impl Future<Output = Result<Vec<Session>, CloudError>> + Send;

    fn terminate_session(
        &self,
        application_id: &str,
        session_id: &str,
    ) -> impl Future<Output = Result<(), CloudError>> + Send;

    /// Adds or overwrites tags on an application.
    fn tag_application(
        &self,
        arn: &str,
        tags: &BTreeMap<String, String>,
    ) -> impl Future<Output = Result<(), CloudError>> + Send;

    fn untag_application(&self, arn: &str, keys: &[String]) -> impl Future<Output = Result<(), CloudError>> + Send;

    // ---- Resource Groups Tagging API -------------------------------------

    /// The EMR Serverless applications whose tag `key` has the value
    /// `value`, as the Resource Groups Tagging API lists them (`GetResources`
    /// for `emr-serverless:applications`, all pages of 100). Only
    /// application ARNs are returned (job runs are taggable too).
    ///
    /// The index is eventually consistent: an application deleted a moment
    /// ago can still be listed, with the tags it had, and one tagged a
    /// moment ago can be missing. Callers read each result with
    /// [`Cloud::get_application`] before trusting it. Fails with
    /// [`ErrorKind::AccessDenied`] without the `tag:GetResources`
    /// permission.
    fn find_tagged_applications(
        &self,
        key: &str,
        value: &str,
    ) -> impl Future<Output = Result<Vec<TaggedApplication>, CloudError>> + Send;

    // ---- IAM ------------------------------------------------------------

    /// Every role of the account with its path and trust policy (`ListRoles`,
    /// all pages of 1000); no tags or policies.
    fn list_roles(&self) -> impl Future<Output = Result<Vec<RoleSummary>, CloudError>> + Send;

    /// One role with its trust policy, inline policies, attached managed
    /// policies and tags.
    fn get_role(&self, name: &str) -> impl Future<Output = Result<ObservedRole, CloudError>> + Send;

    /// `CreateRole` with the trust policy, path, description, maximum
    /// session duration, permissions boundary and tags of `spec`. Inline
    /// and managed policies are added by separate calls. Returns the ARN.
    fn create_role(&self, spec: &RoleSpec) -> impl Future<Output = Result<String, CloudError>> + Send;

    /// `UpdateRole`: description and maximum session duration.
    fn update_role(
        &self,
        name: &str,
        description: Option<&str>,
        max_session_duration: u32,
    ) -> impl Future<Output = Result<(), CloudError>> + Send;

    fn update_trust_policy(&self, name: &str, document: &Value) -> impl Future<Output = Result<(), CloudError>> + Send;

    /// Sets (`Some`) or removes (`None`) the permissions boundary.
    fn set_permissions_boundary(
        &self,
        name: &str,
        policy_arn: Option<&str>,
    ) -> impl Future<Output = Result<(), CloudError>> + Send;

    fn put_role_policy(
        &self,
        role: &str,
        policy_name: &str,
        document: &Value,
    ) -> impl Future<Output = Result<(), CloudError>> + Send;

    fn delete_role_policy(&self, role: &str, policy_name: &str) -> impl Future<Output = Result<(), CloudError>> + Send;

    fn attach_role_policy(&self, role: &str, policy_arn: &str) -> impl Future<Output = Result<(), CloudError>> + Send;

    fn detach_role_policy(&self, role: &str, policy_arn: &str) -> impl Future<Output = Result<(), CloudError>> + Send;

    fn tag_role(
        &self,
        role: &str,
        tags: &BTreeMap<String, String>,
    ) -> impl Future<Output = Result<(), CloudError>> + Send;

    fn untag_role(&self, role: &str, keys: &[String]) -> impl Future<Output = Result<(), CloudError>> + Send;

    /// `DeleteRole`. The caller removes inline policies and detaches managed
    /// policies first; IAM refuses otherwise.
    fn delete_role(&self, name: &str) -> impl Future<Output = Result<(), CloudError>> + Send;

    // ---- ECR ------------------------------------------------------------

    /// One repository with its policy.
    fn get_repository(&self, name: &str) -> impl Future<Output = Result<ObservedRepository, CloudError>> + Send;

    fn set_repository_policy(
        &self,
        name: &str,
        document: &Value,
    ) -> impl Future<Output = Result<(), CloudError>> + Send;

    /// Removes the repository policy; succeeds when there is none.
    fn delete_repository_policy(&self, name: &str) -> impl Future<Output = Result<(), CloudError>> + Send;

    /// Digests (`sha256:...`) of the given tags; tags that do not exist are absent.
    fn image_digests(
        &self,
        repository: &str,
        tags: &[String],
    ) -> impl Future<Output = Result<BTreeMap<String, String>, CloudError>> + Send;

    /// The tags that point to the image with `digest` (`sha256:...`) in the
    /// repository, sorted; empty when no image has that digest, or it has
    /// no tag.
    fn image_tags(
        &self,
        repository: &str,
        digest: &str,
    ) -> impl Future<Output = Result<Vec<String>, CloudError>> + Send;

    // ---- EC2 (read only) ------------------------------------------------

    /// The subnets among `ids` that exist; missing ones are absent.
    fn describe_subnets(&self, ids: &[String]) -> impl Future<Output = Result<Vec<SubnetInfo>, CloudError>> + Send;

    /// The security groups among `ids` that exist; missing ones are absent.
    fn describe_security_groups(
        &self,
        ids: &[String],
    ) -> impl Future<Output = Result<Vec<SecurityGroupInfo>, CloudError>> + Send;
}
