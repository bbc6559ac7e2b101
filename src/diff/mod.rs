//! Pure comparison of Desired and Actual into field-level changes, after
//! normalisation. No I/O: everything the comparison needs is in its inputs.

mod application;
pub mod fields;
mod network;
pub mod normalize;
pub mod policy;
mod repository;
mod resolve;
mod role;
#[cfg(test)]
pub(crate) mod tests;

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::diag::Diagnostics;
use crate::model::{
    Actual, Address, ApplicationField, ApplicationSpec, ApplicationState, Desired, JobRun, ObservedRole, RoleField,
    RoleSpec, Session,
};

pub use application::{applied_record as application_record, imported_record as imported_application_record};
pub use resolve::Resolved;
pub use role::applied_record as role_record;

/// What a change does to a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    Update,
    /// Create a new resource, move every reference to it, delete the old one.
    Replace,
    Delete,
    NoOp,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
            Action::NoOp => "no-op",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a change was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// Declared, but nothing exists in AWS.
    Missing,
    /// The stack file changed since the last apply.
    Changed,
    /// AWS was changed outside emrstack since the last apply.
    Drift,
    /// Both the stack file and AWS changed.
    ChangedAndDrift,
    /// A field that cannot be updated in place changed.
    ReplaceFields,
    /// An application this resource names is replaced, so its ARN changes.
    ReferenceReplaced,
    /// Owned by the stack but no longer declared.
    RemovedFromStack,
    /// A second resource owned under the same address (left by an
    /// interrupted run).
    Duplicate,
    /// A resource the previous apply began and did not finish (a role
    /// created, its policies or record not yet written), or that an apply
    /// still running (another pipeline's) is writing: the mark cannot tell.
    Unfinished,
    /// `emrstack destroy`.
    Destroy,
    /// Nothing differs.
    UpToDate,
}

impl Reason {
    /// A sentence for people.
    pub fn describe(self) -> &'static str {
        match self {
            Reason::Missing => "does not exist",
            Reason::Changed => "the stack changed",
            Reason::Drift => "changed outside emrstack",
            Reason::ChangedAndDrift => "the stack changed, and AWS was changed outside emrstack",
            Reason::ReplaceFields => "a field that cannot be updated in place changed",
            Reason::ReferenceReplaced => "an application it names is replaced",
            Reason::RemovedFromStack => "no longer in the stack",
            Reason::Duplicate => "a duplicate left by an interrupted run",
            // The mark does not tell a killed apply from one still running
            // in another pipeline.
            Reason::Unfinished => "the previous apply did not finish (or is still running)",
            Reason::Destroy => "the stack is being destroyed",
            Reason::UpToDate => "up to date",
        }
    }
}

/// A value that will be known only during apply.
pub const KNOWN_AFTER_APPLY: &str = "(known after apply)";

/// One changed field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Dotted path, as in the stack file (`initial_capacity.driver.memory`).
    pub path: String,
    /// `null` when absent.
    pub before: Value,
    /// `null` when absent.
    pub after: Value,
    /// Part of the new value is an ARN known only after apply.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub after_unknown: bool,
    /// Changing the field replaces the resource.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forces_replacement: bool,
    /// Applications only: the service accepts the change while STARTED.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub live: bool,
    /// The difference was made outside emrstack.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drift: bool,
}

/// One step the executor takes for a change, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum Step {
    /// Wait for the application to leave a transitional state.
    Wait {
        state: ApplicationState,
    },
    /// Stop the application (first dealing with unfinished job runs and
    /// active sessions).
    Stop {
        running_jobs: usize,
        #[serde(default, skip_serializing_if = "is_zero")]
        running_sessions: usize,
    },
    Create,
    /// `UpdateApplication` with these fields.
    Update {
        fields: Vec<String>,
    },
    /// Start the application again, as it was STARTED before.
    Start,
    /// Tag and untag.
    Tag,
    /// Delete the resource itself.
    Delete,
    /// Create the new resource of a replacement.
    CreateReplacement,
    /// Delete the old resource of a replacement, after references moved.
    DeleteReplaced,
    /// Role: one IAM call per changed part.
    UpdateRole {
        parts: Vec<String>,
    },
    /// Repository: write the merged policy.
    SetPolicy,
    /// Repository: remove the policy (no statement would remain).
    DeletePolicy,
}

impl Step {
    /// Short text for plans (`stop (2 running jobs)`).
    pub fn describe(&self) -> String {
        match self {
            Step::Wait { state } => format!("wait while {state}"),
            Step::Stop {
                running_jobs,
                running_sessions,
            } => {
                let parts = running_counts(*running_jobs, *running_sessions);
                if parts.is_empty() {
                    "stop".to_string()
                } else {
                    format!("stop ({})", parts.join(", "))
                }
            }
            Step::Create => "create".to_string(),
            Step::Update { fields } => format!("update {}", fields.join(", ")),
            Step::Start => "start".to_string(),
            Step::Tag => "tag".to_string(),
            Step::Delete => "delete".to_string(),
            Step::CreateReplacement => "create replacement".to_string(),
            Step::DeleteReplaced => "delete the replaced resource".to_string(),
            Step::UpdateRole { parts } => format!("update {}", parts.join(", ")),
            Step::SetPolicy => "set repository policy".to_string(),
            Step::DeletePolicy => "delete repository policy".to_string(),
        }
    }
}

/// `["2 running jobs", "1 session"]`, leaving out what is none.
pub fn running_counts(jobs: usize, sessions: usize) -> Vec<String> {
    let mut parts = Vec::new();
    match jobs {
        0 => {}
        1 => parts.push("1 running job".to_string()),
        n => parts.push(format!("{n} running jobs")),
    }
    match sessions {
        0 => {}
        1 => parts.push("1 session".to_string()),
        n => parts.push(format!("{n} sessions")),
    }
    parts
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

/// The application as it is, as far as the executor needs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurrentApplication {
    pub id: String,
    pub arn: String,
    pub state: ApplicationState,
    pub spec: ApplicationSpec,
}

/// What the executor needs to carry out an application change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApplicationTarget {
    /// The key in `[applications.<key>]` (or in the ownership tag).
    pub key: String,
    /// The existing application; for a replacement, the one being replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<CurrentApplication>,
    /// The desired spec, resolved, with ownership tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired: Option<ApplicationSpec>,
    /// For updates: the fields `UpdateApplication` sends.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub update_fields: BTreeSet<ApplicationField>,
    /// Whether the update needs a stopped application.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub needs_stop: bool,
    /// Unfinished job runs, batch and streaming, seen at plan time (filled
    /// for stops).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub running_jobs: Vec<JobRun>,
    /// Active interactive sessions seen at plan time (filled for stops).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub running_sessions: Vec<Session>,
    /// A live image change to a STARTED application that resolves its image
    /// digest at start: new jobs get the new image only after a restart,
    /// which the apply summary says.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub image_needs_restart: bool,
}

/// What the executor needs to carry out a role change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoleTarget {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<ObservedRole>,
    /// The desired spec; its policy documents may hold ARN placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired: Option<RoleSpec>,
    /// For a replacement that keeps the role name (a path change): IAM role
    /// names are unique, so the old role is deleted before the new one is
    /// created, in the main phase.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delete_first: bool,
    /// For an update: the fields that differ, each changed by its own IAM
    /// call. The executor changes these and no others (it also rewrites
    /// the applied record, which every update refreshes).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub update_fields: BTreeSet<RoleField>,
}

/// What the executor needs to carry out a repository policy change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RepositoryTarget {
    /// The ECR repository name.
    pub name: String,
    /// The `Sid` of the stack's statement.
    pub sid: String,
    /// The stack's statement (with ARN placeholders), or `None` to remove it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<Value>,
    /// The policy as observed, for display; the executor re-reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_policy: Option<Value>,
}

/// The payload of a change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    Application(Box<ApplicationTarget>),
    Role(Box<RoleTarget>),
    Repository(RepositoryTarget),
}

/// One action on one resource, with its reason and field-level detail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub address: Address,
    pub action: Action,
    pub reason: Reason,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    /// Addresses whose changes must finish first (filled by `graph`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<Address>,
    /// For a replacement: addresses whose changes must finish before the old
    /// resource is deleted (every reference moves off it first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cleanup_after: Vec<Address>,
    /// Remarks for people (running jobs, waits, warnings about the change).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub target: Target,
}

impl Change {
    /// Application keys whose ARN this change's new content names.
    pub fn references(&self) -> Vec<String> {
        let mut out = Vec::new();
        match &self.target {
            Target::Role(role) => {
                if let Some(spec) = &role.desired {
                    out.extend(crate::model::reference::placeholders_in(&spec.trust_policy));
                    for document in spec.inline_policies.values() {
                        out.extend(crate::model::reference::placeholders_in(document));
                    }
                }
            }
            Target::Repository(repository) => {
                if let Some(statement) = &repository.statement {
                    out.extend(crate::model::reference::placeholders_in(statement));
                }
            }
            Target::Application(_) => {}
        }
        out.sort();
        out.dedup();
        out
    }

    /// Whether the change has any field that is drift.
    pub fn has_drift(&self) -> bool {
        self.fields.iter().any(|field| field.drift)
    }
}

/// What `diff` returns: the changes (in address order; `graph` orders them
/// for execution) and the problems found (conflicts, missing images,
/// network checks, destroy protection).
#[derive(Clone, Debug, Default)]
pub struct DiffOutput {
    pub changes: Vec<Change>,
    pub diagnostics: Diagnostics,
}

/// Whether a plan converges on the stack file or deletes everything the
/// stack owns. A saved plan carries it as `mode` (`"apply"` or `"destroy"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Make AWS match the stack file.
    Apply,
    /// Delete everything the stack owns (`emrstack destroy`).
    Destroy,
}

/// The note of an update that only rewrites the applied record (`current`
/// is the record the resource carries): a record from before records were
/// bound to their resource is rewritten in the bound form.
fn record_refresh_note(current: Option<&String>) -> String {
    if current.is_some_and(|record| !crate::model::tags::is_bound_record(record)) {
        "only the applied record tag is refreshed, in the form that binds it to this resource \
         (docs/ownership.md, \"Upgrading\")"
            .to_string()
    } else {
        "only the applied record tag is refreshed".to_string()
    }
}

/// Compares the stack with AWS.
pub fn diff(desired: &Desired, actual: &Actual, mode: Mode) -> DiffOutput {
    let mut diagnostics = Diagnostics::new();
    let resolved = resolve::resolve(desired, actual, mode, &mut diagnostics);
    let mut changes = Vec::new();
    changes.extend(application::changes(&resolved, &mut diagnostics));
    changes.extend(role::changes(&resolved, &mut diagnostics));
    changes.extend(repository::changes(&resolved, &mut diagnostics));
    if mode == Mode::Apply {
        network::check(desired, actual, &mut diagnostics);
    }
    changes.sort_by(|a, b| a.address.cmp(&b.address));
    DiffOutput { changes, diagnostics }
}
