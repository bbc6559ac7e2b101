//! The Plan: data, a versioned file format and a fingerprint of what was
//! observed.
//!
//! A plan is the single input of the executor and of every renderer. Saved
//! to a file (`plan --out`), it carries the resolved Desired, the changes in
//! address order with their dependencies, and a fingerprint of Actual, so
//! that `apply PLANFILE` can refuse a plan whose world has moved on, even a
//! plan made against an empty account.

pub mod rollback;
pub mod secrets;

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::diag::{Diagnostic, Diagnostics};
use crate::diff::{Action, Change, Mode};
use crate::graph::ChangeGraph;
use crate::model::{Actual, Desired};

/// The version of the `--format json` document (docs/plan-format.md).
/// Increased on any incompatible change.
pub const FORMAT_VERSION: u32 = 1;

/// The version of saved plan files, written as their `format_version`.
/// Increased on any incompatible change: 2 stores secrets as salted
/// Argon2id hashes with the parameters in `secrets`, where 1 stored
/// unsalted SHA-256 hashes.
pub const FILE_FORMAT_VERSION: u32 = 2;

/// Counts of changes by action.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
    pub no_op: usize,
}

impl Summary {
    pub fn of(changes: &[Change]) -> Summary {
        let mut summary = Summary::default();
        for change in changes {
            match change.action {
                Action::Create => summary.create += 1,
                Action::Update => summary.update += 1,
                Action::Replace => summary.replace += 1,
                Action::Delete => summary.delete += 1,
                Action::NoOp => summary.no_op += 1,
            }
        }
        summary
    }

    /// Whether anything would change.
    pub fn has_changes(&self) -> bool {
        self.create + self.update + self.replace + self.delete > 0
    }
}

/// A plan: what apply will do, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    /// The emrstack version that made the plan.
    pub emrstack_version: String,
    pub stack: String,
    pub account_id: String,
    pub region: String,
    pub mode: Mode,
    /// Every change, including no-ops, in address order, with `depends_on`.
    pub changes: Vec<Change>,
    pub summary: Summary,
    /// Warnings found while planning.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<Diagnostic>,
    /// SHA-256 of everything observed that the changes were computed from.
    pub fingerprint: String,
    /// In a saved plan with secrets: how they were hashed (see [`secrets`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<secrets::Kdf>,
    /// The stack as planned, so a saved plan can be re-observed and applied
    /// without guessing.
    pub desired: Desired,
}

/// A failure to read or write a plan file.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("cannot read plan file `{path}`: {source}")]
    Read {
        path: String,
        source: crate::input::ReadError,
    },
    #[error("cannot write plan file `{path}`: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("`{path}` is not an emrstack plan file: {message}")]
    Format { path: String, message: String },
    #[error("`{path}` is a plan file of format version {found}; this emrstack reads version {FILE_FORMAT_VERSION}{}", if *found < u64::from(FILE_FORMAT_VERSION) { "; it was made by an older emrstack (version 1 stored secrets as unsalted hashes): make the plan again with `emrstack plan --out`" } else { "; use the emrstack that made it, or make the plan again" })]
    Version { path: String, found: u64 },
    #[error("cannot save the plan to `{path}`: {source}")]
    Secrets {
        path: String,
        source: secrets::SecretsError,
    },
}

/// What [`make`] returns: a plan, when one could be made, and every problem
/// found making it.
#[derive(Clone, Debug)]
pub struct Made {
    /// `None` only when the changes depend on each other in a cycle (the
    /// diagnostic `plan.cycle` says which).
    pub plan: Option<Plan>,
    /// The diff's diagnostics, errors included; a plan with errors is made
    /// but must not be applied.
    pub diagnostics: Diagnostics,
}

/// The plan of `desired` against `actual`, with no I/O: diff, order the
/// changes (`graph`), package them. The plan carries the warnings.
/// `planning::plan` observes `actual` and calls this.
pub fn make(desired: &Desired, actual: &Actual, mode: Mode) -> Made {
    let output = crate::diff::diff(desired, actual, mode);
    let mut diagnostics = output.diagnostics;
    let graph = match crate::graph::build(&output.changes) {
        Ok(graph) => graph,
        Err(cycle) => {
            diagnostics.push(*cycle);
            return Made {
                plan: None,
                diagnostics,
            };
        }
    };
    let warnings = diagnostics.iter().filter(|d| !d.is_error()).cloned().collect();
    let plan = Plan::new(desired, actual, mode, output.changes, &graph, warnings);
    Made {
        plan: Some(plan),
        diagnostics,
    }
}

impl Plan {
    /// A plan from diffed changes, ordered and annotated with their dependencies.
    pub fn new(
        desired: &Desired,
        actual: &Actual,
        mode: Mode,
        mut changes: Vec<Change>,
        graph: &ChangeGraph,
        diagnostics: Vec<Diagnostic>,
    ) -> Plan {
        crate::graph::fill_depends_on(&mut changes, graph);
        Plan {
            format_version: FILE_FORMAT_VERSION,
            emrstack_version: env!("CARGO_PKG_VERSION").to_string(),
            stack: desired.stack.name.clone(),
            account_id: actual.account_id.clone(),
            region: actual.region.clone(),
            mode,
            summary: Summary::of(&changes),
            changes,
            diagnostics,
            fingerprint: fingerprint(actual),
            secrets: None,
            desired: desired.clone(),
        }
    }

    pub fn has_changes(&self) -> bool {
        self.summary.has_changes()
    }

    /// The changes that do something.
    pub fn actionable(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|change| change.action != Action::NoOp)
    }

    /// Saves the plan with secret-looking values replaced by their salted
    /// hashes (see [`secrets`]). The file is created readable by its owner only.
    pub fn save(&self, path: &Path) -> Result<(), PlanFileError> {
        let mut redacted = self.clone();
        secrets::redact_plan(&mut redacted).map_err(|source| PlanFileError::Secrets {
            path: path.display().to_string(),
            source,
        })?;
        let text = serde_json::to_string_pretty(&redacted).map_err(|error| PlanFileError::Write {
            path: path.display().to_string(),
            source: std::io::Error::other(error),
        })?;
        write_private(path, &text).map_err(|source| PlanFileError::Write {
            path: path.display().to_string(),
            source,
        })
    }

    /// Loads a saved plan. Secret values are still redacted; restore them
    /// with [`secrets::restore_plan`] before executing.
    pub fn load(path: &Path) -> Result<Plan, PlanFileError> {
        let display = path.display().to_string();
        let text =
            crate::input::read_text(path, crate::input::MAX_PLAN_BYTES).map_err(|source| PlanFileError::Read {
                path: display.clone(),
                source,
            })?;
        // serde_json stops at 128 levels too, but it is our limit to keep,
        // and a position makes the message useful.
        if let Some(offset) = crate::input::json_too_deep(&text, crate::input::MAX_PLAN_DEPTH) {
            let (line, column) = crate::input::line_column(&text, offset);
            return Err(PlanFileError::Format {
                path: display,
                message: format!(
                    "values nest deeper than {} levels at line {line}, column {column}",
                    crate::input::MAX_PLAN_DEPTH
                ),
            });
        }
        let value: Value = serde_json::from_str(&text).map_err(|error| PlanFileError::Format {
            path: display.clone(),
            message: error.to_string(),
        })?;
        match value.get("format_version").and_then(Value::as_u64) {
            Some(version) if version == u64::from(FILE_FORMAT_VERSION) => {}
            Some(found) => return Err(PlanFileError::Version { path: display, found }),
            None => {
                return Err(PlanFileError::Format {
                    path: display,
                    message: "no `format_version`".to_string(),
                });
            }
        }
        serde_json::from_value(value).map_err(|error| PlanFileError::Format {
            path: display,
            message: error.to_string(),
        })
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    // Write a private temporary file next to the target and rename it over
    // the target: a crash never leaves a truncated plan, and the new file
    // is readable by its owner only whatever the old one allowed.
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, format!("{text}\n"))
}

/// The fingerprint of everything a plan's changes depend on.
///
/// It covers the account, region, every observed application's identity
/// and configuration, roles, repository policies, image digests, and the
/// subnets and security groups. It leaves out what moves on its own without
/// changing what apply would do: application states (auto-start and
/// auto-stop), running jobs and free IP counts. The executor re-reads live
/// state before acting.
pub fn fingerprint(actual: &Actual) -> String {
    let applications: Vec<Value> = {
        let mut apps: Vec<_> = actual.applications.iter().collect();
        apps.sort_by(|a, b| a.id.cmp(&b.id));
        apps.iter()
            .map(|app| serde_json::json!({"id": app.id, "arn": app.arn, "spec": app.spec}))
            .collect()
    };
    let roles: Vec<Value> = {
        let mut roles: Vec<_> = actual.roles.iter().collect();
        roles.sort_by(|a, b| a.arn.cmp(&b.arn));
        roles
            .iter()
            .map(|role| {
                let mut spec = role.spec.clone();
                spec.trust_policy = crate::diff::policy::canonical(&spec.trust_policy);
                for document in spec.inline_policies.values_mut() {
                    *document = crate::diff::policy::canonical(document);
                }
                serde_json::json!({"arn": role.arn, "id": role.role_id, "spec": spec})
            })
            .collect()
    };
    let repositories: Vec<Value> = actual
        .repositories
        .values()
        .map(|repository| {
            serde_json::json!({
                "name": repository.name,
                "uri": repository.uri,
                "policy": repository.policy.as_ref().map(crate::diff::policy::canonical),
            })
        })
        .collect();
    let subnets: Vec<Value> = actual
        .subnets
        .values()
        .map(|subnet| serde_json::json!([subnet.id, subnet.vpc_id, subnet.availability_zone_id, subnet.cidr_block]))
        .collect();
    let groups: Vec<Value> = actual
        .security_groups
        .values()
        .map(|group| serde_json::json!([group.id, group.vpc_id]))
        .collect();
    let view = serde_json::json!({
        "account": actual.account_id,
        "region": actual.region,
        "applications": applications,
        "roles": roles,
        "repositories": repositories,
        "images": actual.image_digests,
        "subnets": subnets,
        "security_groups": groups,
    });
    let digest = Sha256::digest(view.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
