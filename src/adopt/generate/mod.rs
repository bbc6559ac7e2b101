//! `emrstack generate`: a stack file for what an account already runs.
//!
//! In order:
//!
//! 1. `read`: the selected applications, the roles EMR Serverless may
//!    assume for them, the repositories of their images (with the tags
//!    that point to pinned digests), the subnets of their networks.
//! 2. `draft`: the stack file proposed for them, leaving out every value
//!    the service would hold anyway (from the field declarations).
//! 3. [`settle`]: the stack language checks the file (`config::load_str`);
//!    whatever it refuses is left out and reported, until the file is
//!    valid; each warning is kept as a comment next to the key it concerns.
//! 4. [`check_against_account`]: the file is planned against the account as
//!    `emrstack import --all` would leave it (`import::survey_of` and
//!    `Adoption::apply_to` in memory, then `diff::diff`); every difference
//!    the first plan would show is reported with its resource and field.
//!
//! So nothing AWS holds is dropped silently: it is in the file, or in a
//! [`Report`] that names the resource and the field.

mod draft;
mod read;
mod toml;

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::cloud::{Cloud, CloudError};
use crate::config::{self, LoadOptions};
use crate::diag::{Diagnostic, Severity};
use crate::diff::{self, Action, Mode};
use crate::model::{Address, ApplicationState, Desired};
use crate::observe::{self, ObserveOptions};

use super::import;
use draft::Draft;
use toml::{Entry, Placed, Value};

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GenerateOptions {
    /// The stack's name (`[stack] name`), 1 to 64 of `A-Z a-z 0-9 _ -`.
    pub stack_name: String,
    /// Globs (`*`, `?`) an application's name must match one of; empty for all.
    pub names: Vec<String>,
    /// Tags an application must carry, all of them.
    pub tags: Vec<(String, String)>,
    /// States an application must be in, one of them; empty for all.
    pub states: Vec<ApplicationState>,
    /// The roles to write, by name, instead of those EMR Serverless may
    /// assume for the applications.
    pub roles: Vec<String>,
    /// Write inline policies to `policies/<role>-<name>.json` next to the
    /// stack file instead of into it.
    pub policy_files: bool,
    /// Where the stack file will be written (relative paths of policy files
    /// resolve against its directory).
    pub path: PathBuf,
    /// The most AWS calls in flight at once, at least 1.
    pub parallelism: usize,
}

/// What a report says about the account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ReportKind {
    /// Not in the stack file: the language cannot state it, or generate
    /// did not select it for a reason it gives.
    LeftOut,
    /// In the stack file differently from AWS: the first plan after
    /// `import --all` shows it as a change.
    Differs,
    /// Stated in a form worth knowing (a trust policy kept as
    /// `trust_policy`, a statement the stack does not own).
    Note,
}

impl fmt::Display for ReportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReportKind::LeftOut => "left out",
            ReportKind::Differs => "differs",
            ReportKind::Note => "note",
        })
    }
}

/// Something of the account the stack file does not state as AWS holds it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Report {
    pub kind: ReportKind,
    /// The resource: an address of the file (`application.etl`), or the AWS
    /// resource when it is not in the file (`application 00f... (\`name\`)`).
    pub subject: String,
    /// The field, when the report is about one (`trust_policy`).
    pub field: Option<String>,
    pub message: String,
}

impl Report {
    pub(crate) fn new(
        kind: ReportKind,
        subject: impl Into<String>,
        field: Option<String>,
        message: impl Into<String>,
    ) -> Report {
        Report {
            kind,
            subject: subject.into(),
            field,
            message: message.into(),
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{}: {}: `{field}`: {}", self.kind, self.subject, self.message),
            None => write!(f, "{}: {}: {}", self.kind, self.subject, self.message),
        }
    }
}

/// The generated stack file and what goes with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Generated {
    /// The stack file.
    pub stack_file: String,
    /// Policy files (`--policy-files`), relative to the stack file's directory.
    pub files: Vec<(PathBuf, String)>,
    /// What the file does not state as AWS holds it, sorted.
    pub reports: Vec<Report>,
    /// The addresses the file declares.
    pub declared: Vec<Address>,
}

/// Why nothing could be generated.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("`{0}` is not a valid stack name: 1 to 64 of `A-Z a-z 0-9 _ -`")]
    StackName(String),
    /// A failed AWS call; the caller adds advice for its kind.
    #[error("{0}")]
    Cloud(#[from] CloudError),
    /// The stack language refused the file even after leaving out what it
    /// pointed at (a bug: the message lists the diagnostics).
    #[error("the generated stack file does not validate: {0}")]
    Unsettled(String),
}

/// Reads the account and writes its stack file.
pub(crate) async fn generate<C: Cloud>(cloud: &C, options: &GenerateOptions) -> Result<Generated, GenerateError> {
    if !config::text::is_stack_name(&options.stack_name) {
        return Err(GenerateError::StackName(options.stack_name.clone()));
    }
    let account = read::read(cloud, options).await?;
    let mut draft = draft::build(&account, options);
    let desired = settle(&mut draft, &options.path)?;
    let mut reports = std::mem::take(&mut draft.reports);
    reports.extend(check_against_account(cloud, &desired, options).await?);
    reports.sort();
    reports.dedup();
    let (stack_file, files) = finish(&draft, options.policy_files);
    Ok(Generated {
        stack_file,
        files,
        reports,
        declared: desired.addresses(),
    })
}

/// How many times [`settle`] leaves something out and checks again: each
/// round removes what the errors point at, and a resource left out can
/// only make references to it fail in the next round.
const SETTLE_ROUNDS: usize = 8;

/// Where a diagnostic of the rendered text points: the entry or section
/// header containing its start, else the last one before it.
fn locate<'p>(placed: &'p [Placed], diagnostic: &Diagnostic) -> Option<&'p Placed> {
    let start = diagnostic.span.as_ref()?.range.start;
    placed
        .iter()
        .find(|item| item.range.contains(&start))
        .or_else(|| placed.iter().rfind(|item| item.range.start <= start))
}

/// The `# warning[code]: message` lines kept next to a key.
fn warning_lines(diagnostic: &Diagnostic, extra: Option<&String>) -> Vec<String> {
    let mut lines = vec![format!("warning[{}]: {}", diagnostic.code, diagnostic.message)];
    if let Some(extra) = extra {
        lines.push(format!("  ({extra})"));
    }
    if let Some(help) = &diagnostic.help {
        lines.push(format!("  help: {help}"));
    }
    lines
}

/// Checks the draft with the stack language until it has no error: what an
/// error points at (an entry, a table, or the whole resource when the error
/// is at its header) is left out and reported. Then keeps each warning as a
/// comment next to what it is about. Returns the stack the file lowers to.
fn settle(draft: &mut Draft, path: &Path) -> Result<Desired, GenerateError> {
    let options = LoadOptions::new(path);
    for _ in 0..SETTLE_ROUNDS {
        let (text, placed) = draft.document.render();
        let loaded = config::load_str(path, &text, &options);
        let in_file = |d: &Diagnostic| {
            d.span
                .as_ref()
                .is_some_and(|span| loaded.sources.path(span.file) == path)
        };
        let errors: Vec<&Diagnostic> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
        if errors.is_empty() {
            let Some(desired) = loaded.desired else {
                return Err(GenerateError::Unsettled("no stack was lowered".to_string()));
            };
            let warnings: Vec<&Diagnostic> = loaded
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Warning)
                .collect();
            for warning in warnings {
                let Some(item) = locate(&placed, warning).filter(|_| in_file(warning)) else {
                    draft.document.comments.extend(warning_lines(warning, None));
                    continue;
                };
                let section = &mut draft.document.sections[item.section];
                let extra = (warning.code == "image.not-granted")
                    .then(|| section.owner.as_ref().and_then(|owner| draft.grants.get(&owner.name)))
                    .flatten();
                let lines = warning_lines(warning, extra);
                match item.entry {
                    Some(entry) => section.entries[entry].comments.extend(lines),
                    None => section.comments.extend(lines),
                }
            }
            return Ok(desired);
        }
        let mut entries: BTreeSet<(usize, usize)> = BTreeSet::new();
        let mut sections: BTreeSet<usize> = BTreeSet::new();
        let mut owners: BTreeSet<Address> = BTreeSet::new();
        for error in &errors {
            let found = locate(&placed, error).filter(|_| in_file(error));
            let Some(item) = found else {
                return Err(GenerateError::Unsettled(format!(
                    "error[{}]: {}",
                    error.code, error.message
                )));
            };
            let section = &draft.document.sections[item.section];
            let subject = section
                .owner
                .as_ref()
                .map_or_else(|| "stack".to_string(), |owner| owner.to_string());
            let message = format!(
                "the stack language refuses it (error[{}]: {}), so it is not in the file",
                error.code, error.message
            );
            match (item.entry, &section.owner) {
                (Some(entry), _) => {
                    let field = section.entries[entry].field.clone();
                    draft
                        .reports
                        .push(Report::new(ReportKind::LeftOut, subject, Some(field), message));
                    entries.insert((item.section, entry));
                }
                (None, Some(_)) if !section.field.is_empty() => {
                    draft.reports.push(Report::new(
                        ReportKind::LeftOut,
                        subject,
                        Some(section.field.clone()),
                        message,
                    ));
                    sections.insert(item.section);
                }
                (None, Some(owner)) => {
                    draft
                        .reports
                        .push(Report::new(ReportKind::LeftOut, subject, None, message));
                    owners.insert(owner.clone());
                }
                (None, None) => {
                    return Err(GenerateError::Unsettled(format!(
                        "error[{}]: {}",
                        error.code, error.message
                    )));
                }
            }
        }
        let document = &mut draft.document;
        for (section, entry) in entries.iter().rev() {
            document.sections[*section].entries.remove(*entry);
        }
        let mut index = 0;
        document.sections.retain(|section| {
            let keep = !sections.contains(&index)
                && !section.owner.as_ref().is_some_and(|owner| owners.contains(owner))
                // A sub-table left without entries would be refused itself.
                && (section.field.is_empty() || section.owner.is_none() || !section.entries.is_empty());
            index += 1;
            keep
        });
    }
    let (text, _) = draft.document.render();
    let loaded = config::load_str(path, &text, &options);
    let errors: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("error[{}]: {}", d.code, d.message))
        .collect();
    Err(GenerateError::Unsettled(errors.join("; ")))
}

/// Plans `desired` against the account as `emrstack import --all` would
/// leave it, and reports everything the plan would change or refuse.
async fn check_against_account<C: Cloud>(
    cloud: &C,
    desired: &Desired,
    options: &GenerateOptions,
) -> Result<Vec<Report>, CloudError> {
    let observe_options = ObserveOptions {
        parallelism: options.parallelism,
    };
    let observation = observe::observe(cloud, desired, &observe_options).await?;
    let mut actual = observation.actual;
    let mut reports = Vec::new();
    let survey = import::survey_of(desired, &actual.applications, &actual.roles);
    for (address, refusal) in survey.refusals() {
        reports.push(Report::new(
            ReportKind::Differs,
            address.to_string(),
            None,
            format!("`emrstack import --all` would refuse it: {refusal}"),
        ));
    }
    for adoption in survey.adoptions() {
        adoption.apply_to(&mut actual);
    }
    let output = diff::diff(desired, &actual, Mode::Apply);
    for change in &output.changes {
        if change.action == Action::NoOp {
            continue;
        }
        let subject = change.address.to_string();
        // A resource the plan would create, delete or replace is one report,
        // not one per field.
        if change.fields.is_empty() || change.action != Action::Update {
            reports.push(Report::new(
                ReportKind::Differs,
                subject,
                None,
                format!(
                    "the first plan after `emrstack import --all` would {} it ({})",
                    change.action,
                    change.reason.describe()
                ),
            ));
            continue;
        }
        let paths: BTreeSet<&str> = change.fields.iter().map(|f| f.path.as_str()).collect();
        for path in paths {
            reports.push(Report::new(
                ReportKind::Differs,
                subject.clone(),
                Some(path.to_string()),
                format!(
                    "the stack language cannot state AWS's value: the first plan after `emrstack import --all` \
                     would {} it",
                    change.action
                ),
            ));
        }
    }
    for diagnostic in observation.diagnostics.iter().chain(output.diagnostics.iter()) {
        let (subject, field) = match &diagnostic.subject {
            Some(subject) => (
                subject.address.clone(),
                Some(subject.path.clone()).filter(|p| !p.is_empty()),
            ),
            None => ("stack".to_string(), None),
        };
        let kind = if diagnostic.is_error() {
            ReportKind::Differs
        } else {
            ReportKind::Note
        };
        reports.push(Report::new(
            kind,
            subject,
            field,
            format!(
                "the first plan would say: {}[{}]: {}",
                diagnostic.severity, diagnostic.code, diagnostic.message
            ),
        ));
    }
    Ok(reports)
}

/// `json` with every string escaped for the stack language's variables,
/// as a policy file holds it.
fn escaped(json: &serde_json::Value) -> serde_json::Value {
    match json {
        serde_json::Value::String(text) => serde_json::Value::String(toml::escape_variables(text)),
        serde_json::Value::Array(items) => serde_json::Value::Array(items.iter().map(escaped).collect()),
        serde_json::Value::Object(map) => {
            serde_json::Value::Object(map.iter().map(|(k, v)| (k.clone(), escaped(v))).collect())
        }
        other => other.clone(),
    }
}

/// The final text, with inline policies moved to files when asked.
fn finish(draft: &Draft, policy_files: bool) -> (String, Vec<(PathBuf, String)>) {
    let mut document = draft.document.clone();
    let mut files = Vec::new();
    if policy_files {
        for section in &mut document.sections {
            let [roles, role, policies, name] = section.path.as_slice() else {
                continue;
            };
            if roles != "roles" || policies != "policies" {
                continue;
            }
            let Some(json) = draft.policies.get(&(role.clone(), name.clone())) else {
                continue;
            };
            let path = PathBuf::from("policies").join(format!("{role}-{name}.json"));
            let text = serde_json::to_string_pretty(&escaped(json)).unwrap_or_default();
            files.push((path.clone(), format!("{text}\n")));
            for entry in &mut section.entries {
                if entry.key == "document" {
                    *entry = Entry {
                        key: "file".to_string(),
                        value: Value::str(path.to_string_lossy().replace('\\', "/")),
                        comments: entry.comments.clone(),
                        field: entry.field.clone(),
                    };
                }
            }
        }
    }
    (document.render().0, files)
}

#[cfg(test)]
mod tests;
