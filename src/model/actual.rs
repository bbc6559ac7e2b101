//! Actual: what AWS holds for a stack, as read by `observe`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::address::Address;
use super::application::{ApplicationSpec, ApplicationState, JobRunMode, JobRunState, SessionState};
use super::network::{SecurityGroupInfo, SubnetInfo};
use super::role::RoleSpec;
use super::tags::{ADDRESS_TAG, STACK_TAG};

/// Who a resource belongs to, according to its `emrstack:` tags.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Owner {
    /// Tagged by an emrstack stack (possibly this one).
    Stack {
        stack: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<Address>,
    },
    /// No `emrstack:stack` tag: created by someone else.
    Unmanaged,
}

impl Owner {
    /// The owner recorded in a resource's tags.
    pub fn from_tags(tags: &BTreeMap<String, String>) -> Owner {
        match tags.get(STACK_TAG) {
            Some(stack) => Owner::Stack {
                stack: stack.clone(),
                address: tags.get(ADDRESS_TAG).and_then(|text| text.parse().ok()),
            },
            None => Owner::Unmanaged,
        }
    }

    /// The address this resource has in `stack`, if that stack owns it.
    pub fn address_in(&self, stack: &str) -> Option<&Address> {
        match self {
            Owner::Stack {
                stack: owner,
                address: Some(address),
            } if owner == stack => Some(address),
            _ => None,
        }
    }
}

/// A job run that is not finished.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRun {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub state: JobRunState,
    /// Batch or streaming; plans saved before emrstack knew modes read as batch.
    #[serde(default)]
    pub mode: JobRunMode,
}

impl JobRun {
    /// `id `name` (RUNNING)`, with `STREAMING` for streaming runs, for messages.
    pub fn describe(&self) -> String {
        let mut text = self.id.clone();
        if let Some(name) = &self.name {
            text.push_str(&format!(" `{name}`"));
        }
        match self.mode {
            JobRunMode::Batch => text.push_str(&format!(" ({})", self.state)),
            JobRunMode::Streaming => text.push_str(&format!(" (STREAMING, {})", self.state)),
        }
        text
    }
}

/// An interactive session that is not finished.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub state: SessionState,
}

impl Session {
    /// `session id `name` (IDLE)`, for messages.
    pub fn describe(&self) -> String {
        match &self.name {
            Some(name) => format!("session {} `{name}` ({})", self.id, self.state),
            None => format!("session {} ({})", self.id, self.state),
        }
    }
}

/// What runs on an application and keeps it from stopping: unfinished job
/// runs of both modes and active interactive sessions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningWork {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub job_runs: Vec<JobRun>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions: Vec<Session>,
}

impl RunningWork {
    pub fn is_empty(&self) -> bool {
        self.job_runs.is_empty() && self.sessions.is_empty()
    }

    /// How many job runs and sessions, together.
    pub fn len(&self) -> usize {
        self.job_runs.len() + self.sessions.len()
    }

    /// Every run and session, for messages.
    pub fn describe(&self) -> Vec<String> {
        self.job_runs
            .iter()
            .map(JobRun::describe)
            .chain(self.sessions.iter().map(Session::describe))
            .collect()
    }

    /// `2 job runs and 1 session`, for messages.
    pub fn count_text(&self) -> String {
        let runs = match self.job_runs.len() {
            1 => "1 job run".to_string(),
            n => format!("{n} job runs"),
        };
        let sessions = match self.sessions.len() {
            1 => "1 session".to_string(),
            n => format!("{n} sessions"),
        };
        match (self.job_runs.is_empty(), self.sessions.is_empty()) {
            (false, true) | (true, true) => runs,
            (true, false) => sessions,
            (false, false) => format!("{runs} and {sessions}"),
        }
    }
}

/// A summary from `ListApplications`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationSummary {
    pub id: String,
    pub arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub state: ApplicationState,
    /// When the application was created, in milliseconds since the epoch
    /// (`createdAt`, on the service's clock). Observation reads an
    /// application created less than the tag index's lag ago even when the
    /// search by tag does not return it (docs/observe.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at_ms: Option<i64>,
}

/// An application as `GetApplication` returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedApplication {
    pub id: String,
    pub arn: String,
    pub state: ApplicationState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_details: Option<String>,
    /// When the application was created, in milliseconds since the epoch
    /// (`createdAt`); of two duplicates, the older one is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at_ms: Option<i64>,
    /// The configuration, converted to the canonical form but without
    /// server defaults filled in (see `diff::normalize`).
    pub spec: ApplicationSpec,
}

impl ObservedApplication {
    pub fn owner(&self) -> Owner {
        Owner::from_tags(&self.spec.tags)
    }
}

/// An IAM role with its policies and tags.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedRole {
    pub arn: String,
    /// The role's unique ID (`AROA...`).
    pub role_id: String,
    /// Policy documents are URL-decoded and parsed.
    pub spec: RoleSpec,
}

impl ObservedRole {
    pub fn owner(&self) -> Owner {
        Owner::from_tags(&self.spec.tags)
    }
}

/// A role from `ListRoles`, which returns no tags or policies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleSummary {
    pub name: String,
    pub arn: String,
    pub path: String,
    /// The decoded trust policy; `null` when missing or not decodable.
    pub trust_policy: Value,
    /// Whether the trust policy lets EMR Serverless assume the role (every
    /// job runtime role's does).
    pub trusts_emr_serverless: bool,
}

/// An application the Resource Groups Tagging API lists with a tag. The
/// index behind it is eventually consistent, so this is a candidate only:
/// the application may have been deleted since (observe confirms each one
/// with `GetApplication`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaggedApplication {
    /// The application ID, the last segment of its ARN.
    pub id: String,
    pub arn: String,
    /// The tags as the index holds them.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// An ECR repository and its policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedRepository {
    pub name: String,
    pub arn: String,
    /// The registry (account) ID.
    pub registry_id: String,
    /// `<registry>.dkr.ecr.<region>.amazonaws.com/<name>`.
    pub uri: String,
    /// The parsed repository policy; `None` when the repository has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Value>,
}

/// Everything observed for one stack in one account and region.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actual {
    pub account_id: String,
    pub region: String,
    /// Applications owned by this stack, plus unowned ones whose name a
    /// declared application uses (conflicts).
    #[serde(default)]
    pub applications: Vec<ObservedApplication>,
    /// Unfinished job runs and active sessions of applications, by
    /// application ID. Only filled for applications whose changes need a stop.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub running_work: BTreeMap<String, RunningWork>,
    /// Roles owned by this stack, plus roles whose name a declared role uses.
    #[serde(default)]
    pub roles: Vec<ObservedRole>,
    /// Repositories by ECR name: the declared ones that exist, plus those
    /// whose policy holds this stack's statement.
    #[serde(default)]
    pub repositories: BTreeMap<String, ObservedRepository>,
    /// Digests of image tags, by repository name then tag.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub image_digests: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub subnets: BTreeMap<String, SubnetInfo>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub security_groups: BTreeMap<String, SecurityGroupInfo>,
}
