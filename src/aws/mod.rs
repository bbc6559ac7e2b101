//! `AwsCloud`: the `Cloud` trait implemented with the AWS SDK for Rust. The only module that names `aws_sdk_*` (and other SDK) types.
//!
//! Layout: `settings` (what `connect` takes, with `EMRSTACK_AWS_*` overrides),
//! `client` (the SDK clients and the single call path: rate limiter, SDK call
//! with its retries, classification, hook), `limiter` (token buckets),
//! `error` (one `classify_*` per service), `convert` (SDK <-> model), and one
//! file of calls per service (`s3.rs` for the `ObjectStore` trait). EC2 has no
//! SDK crate: `ec2_query` runs its two calls on the SDK's orchestrator.
//! docs/aws.md lists the calls each method makes.

mod client;
mod convert;
mod ec2;
mod ec2_query;
mod ecr;
mod emr;
mod error;
mod iam;
pub mod limiter;
mod s3;
pub mod settings;
mod sts;
mod tagging;

use std::collections::BTreeMap;

use serde_json::Value;

pub use client::AwsCloud;
pub use settings::{
    AwsSettings, CallEvent, CallHook, Rate, RateLimits, RetrySettings, Service, StaticCredentials, TimeoutSettings,
};

use crate::cloud::{
    ApplicationRef, CallerIdentity, Cloud, CloudError, DeleteCondition, DeleteOutcome, ObjectMeta, ObjectStore,
    StoreError, StoredObject, WriteCondition, WriteOutcome,
};
use crate::model::{
    ApplicationSpec, ApplicationSummary, ApplicationUpdate, JobRun, ObservedApplication, ObservedRepository,
    ObservedRole, RoleSpec, RoleSummary, S3Object, SecurityGroupInfo, Session, SubnetInfo, TaggedApplication,
};

impl ObjectStore for AwsCloud {
    fn store_region(&self) -> &str {
        &self.region
    }

    async fn get_object(&self, object: &S3Object, max_bytes: usize) -> Result<Option<StoredObject>, StoreError> {
        self.s3_get_object(object, max_bytes).await
    }

    async fn head_object(&self, object: &S3Object) -> Result<Option<ObjectMeta>, StoreError> {
        self.s3_head_object(object).await
    }

    async fn put_object(
        &self,
        object: &S3Object,
        body: Vec<u8>,
        content_type: &str,
        condition: &WriteCondition,
    ) -> Result<WriteOutcome, StoreError> {
        self.s3_put_object(object, body, content_type, condition).await
    }

    async fn delete_object(&self, object: &S3Object, condition: &DeleteCondition) -> Result<DeleteOutcome, StoreError> {
        self.s3_delete_object(object, condition).await
    }
}

impl Cloud for AwsCloud {
    fn region(&self) -> &str {
        &self.region
    }

    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
    }

    async fn caller_identity(&self) -> Result<CallerIdentity, CloudError> {
        self.sts_caller_identity().await
    }

    async fn list_applications(&self) -> Result<Vec<ApplicationSummary>, CloudError> {
        self.emr_list_applications().await
    }

    async fn get_application(&self, id: &str) -> Result<ObservedApplication, CloudError> {
        self.emr_get_application(id).await
    }

    async fn create_application(
        &self,
        spec: &ApplicationSpec,
        client_token: &str,
    ) -> Result<ApplicationRef, CloudError> {
        self.emr_create_application(spec, client_token).await
    }

    async fn update_application(
        &self,
        id: &str,
        update: &ApplicationUpdate,
        client_token: &str,
    ) -> Result<(), CloudError> {
        self.emr_update_application(id, update, client_token).await
    }

    async fn start_application(&self, id: &str) -> Result<(), CloudError> {
        self.emr_start_application(id).await
    }

    async fn stop_application(&self, id: &str) -> Result<(), CloudError> {
        self.emr_stop_application(id).await
    }

    async fn delete_application(&self, id: &str) -> Result<(), CloudError> {
        self.emr_delete_application(id).await
    }

    async fn list_active_job_runs(&self, application_id: &str) -> Result<Vec<JobRun>, CloudError> {
        self.emr_list_active_job_runs(application_id).await
    }

    async fn cancel_job_run(&self, application_id: &str, job_run_id: &str) -> Result<(), CloudError> {
        self.emr_cancel_job_run(application_id, job_run_id).await
    }

    async fn start_job_run(
        &self,
        request: &crate::model::JobRunRequest,
        client_token: &str,
    ) -> Result<crate::cloud::JobRunRef, CloudError> {
        self.emr_start_job_run(request, client_token).await
    }

    async fn get_job_run(
        &self,
        application_id: &str,
        job_run_id: &str,
    ) -> Result<crate::model::JobRunStatus, CloudError> {
        self.emr_get_job_run(application_id, job_run_id).await
    }

    async fn get_dashboard_for_job_run(&self, application_id: &str, job_run_id: &str) -> Result<String, CloudError> {
        self.emr_get_dashboard_for_job_run(application_id, job_run_id).await
    }

    async fn list_active_sessions(&self, application_id: &str) -> Result<Vec<Session>, CloudError> {
        self.emr_list_active_sessions(application_id).await
    }

    async fn terminate_session(&self, application_id: &str, session_id: &str) -> Result<(), CloudError> {
        self.emr_terminate_session(application_id, session_id).await
    }

    async fn tag_application(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), CloudError> {
        self.emr_tag(arn, tags).await
    }

    async fn untag_application(&self, arn: &str, keys: &[String]) -> Result<(), CloudError> {
        self.emr_untag(arn, keys).await
    }

    async fn find_tagged_applications(&self, key: &str, value: &str) -> Result<Vec<TaggedApplication>, CloudError> {
        self.tagging_find_applications(key, value).await
    }

    async fn list_roles(&self) -> Result<Vec<RoleSummary>, CloudError> {
        self.iam_list_roles().await
    }

    async fn get_role(&self, name: &str) -> Result<ObservedRole, CloudError> {
        self.iam_get_role(name).await
    }

    async fn create_role(&self, spec: &RoleSpec) -> Result<String, CloudError> {
        self.iam_create_role(spec).await
    }

    async fn update_role(
        &self,
        name: &str,
        description: Option<&str>,
        max_session_duration: u32,
    ) -> Result<(), CloudError> {
        self.iam_update_role(name, description, max_session_duration).await
    }

    async fn update_trust_policy(&self, name: &str, document: &Value) -> Result<(), CloudError> {
        self.iam_update_trust_policy(name, document).await
    }

    async fn set_permissions_boundary(&self, name: &str, policy_arn: Option<&str>) -> Result<(), CloudError> {
        self.iam_set_permissions_boundary(name, policy_arn).await
    }

    async fn put_role_policy(&self, role: &str, policy_name: &str, document: &Value) -> Result<(), CloudError> {
        self.iam_put_role_policy(role, policy_name, document).await
    }

    async fn delete_role_policy(&self, role: &str, policy_name: &str) -> Result<(), CloudError> {
        self.iam_delete_role_policy(role, policy_name).await
    }

    async fn attach_role_policy(&self, role: &str, policy_arn: &str) -> Result<(), CloudError> {
        self.iam_attach_role_policy(role, policy_arn).await
    }

    async fn detach_role_policy(&self, role: &str, policy_arn: &str) -> Result<(), CloudError> {
        self.iam_detach_role_policy(role, policy_arn).await
    }

    async fn tag_role(&self, role: &str, tags: &BTreeMap<String, String>) -> Result<(), CloudError> {
        self.iam_tag_role(role, tags).await
    }

    async fn untag_role(&self, role: &str, keys: &[String]) -> Result<(), CloudError> {
        self.iam_untag_role(role, keys).await
    }

    async fn delete_role(&self, name: &str) -> Result<(), CloudError> {
        self.iam_delete_role(name).await
    }

    async fn get_repository(&self, name: &str) -> Result<ObservedRepository, CloudError> {
        self.ecr_get_repository(name).await
    }

    async fn set_repository_policy(&self, name: &str, document: &Value) -> Result<(), CloudError> {
        self.ecr_set_repository_policy(name, document).await
    }

    async fn delete_repository_policy(&self, name: &str) -> Result<(), CloudError> {
        self.ecr_delete_repository_policy(name).await
    }

    async fn image_digests(&self, repository: &str, tags: &[String]) -> Result<BTreeMap<String, String>, CloudError> {
        self.ecr_image_digests(repository, tags).await
    }

    async fn image_tags(&self, repository: &str, digest: &str) -> Result<Vec<String>, CloudError> {
        self.ecr_image_tags(repository, digest).await
    }

    async fn describe_subnets(&self, ids: &[String]) -> Result<Vec<SubnetInfo>, CloudError> {
        self.ec2_describe_subnets(ids).await
    }

    async fn describe_security_groups(&self, ids: &[String]) -> Result<Vec<SecurityGroupInfo>, CloudError> {
        self.ec2_describe_security_groups(ids).await
    }
}
