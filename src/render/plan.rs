//! The plan for people, in the manner of `terraform plan`: one block per
//! change with `+`, `~`, `-/+` and `-`, the drift found, and a summary line.
//!
//! No-op changes and diagnostics are not shown here (the CLI prints
//! diagnostics to stderr). Secret-looking values read `(sensitive value)`
//! and ARNs known only after apply read `(known after apply)`.

use std::fmt::Write;

use crate::diff::{Action, Change, FieldChange, Mode, Step, Target};
use crate::model::ApplicationState;
use crate::plan::{Plan, secrets};

use super::value::{self, Line, Sign};

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";

/// How to render a plan for a terminal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HumanOptions {
    /// Add ANSI colours (the CLI sets it for terminals, unless `NO_COLOR`).
    pub color: bool,
}

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color && !text.is_empty() {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    }

    fn sign(&self, sign: Sign) -> String {
        let symbol = sign.symbol().to_string();
        match sign {
            Sign::Add => self.paint(GREEN, &symbol),
            Sign::Remove => self.paint(RED, &symbol),
            Sign::Change => self.paint(YELLOW, &symbol),
            Sign::Context => symbol,
        }
    }

    /// The three-column symbol in front of a change's block.
    fn action(&self, action: Action) -> String {
        match action {
            Action::Create => format!("  {}", self.paint(GREEN, "+")),
            Action::Update => format!("  {}", self.paint(YELLOW, "~")),
            Action::Replace => format!("{}/{}", self.paint(RED, "-"), self.paint(GREEN, "+")),
            Action::Delete => format!("  {}", self.paint(RED, "-")),
            Action::NoOp => "   ".to_string(),
        }
    }
}

/// What the comment line over a change's block says it does.
pub(crate) fn verb(action: Action) -> &'static str {
    match action {
        Action::Create => "will be created",
        Action::Update => "will be updated in place",
        Action::Replace => "must be replaced",
        Action::Delete => "will be destroyed",
        Action::NoOp => "is up to date",
    }
}

/// `Plan: 1 to add, 2 to change, 1 to replace, 0 to destroy.`
pub fn summary_line(plan: &Plan) -> String {
    let summary = &plan.summary;
    format!(
        "Plan: {} to add, {} to change, {} to replace, {} to destroy.",
        summary.create, summary.update, summary.replace, summary.delete
    )
}

/// What the plan says when nothing changes.
pub fn no_changes_line(plan: &Plan) -> &'static str {
    match plan.mode {
        Mode::Apply => "No changes. AWS matches the stack.",
        Mode::Destroy => "No changes. The stack owns nothing in AWS.",
    }
}

/// The first line: which stack, account and region, and whether the plan
/// destroys the stack.
pub(crate) fn title(plan: &Plan) -> String {
    let kind = match plan.mode {
        Mode::Apply => "Plan",
        Mode::Destroy => "Destroy plan",
    };
    format!(
        "{kind} for stack `{}` in account {}, region {}",
        plan.stack, plan.account_id, plan.region
    )
}

/// The comments a field gets at the end of its first line.
pub(crate) fn annotation(change: &Change, field: &FieldChange) -> String {
    let stops = change.action == Action::Update && change.steps.iter().any(|step| matches!(step, Step::Stop { .. }));
    let mut parts = Vec::new();
    if field.forces_replacement {
        parts.push("forces replacement");
    }
    if stops && !field.live {
        parts.push("forces a stop");
    }
    if field.drift {
        parts.push("changed outside emrstack");
    }
    parts.join(", ")
}

/// The lines of every field of a change, with their `=` lined up.
pub(crate) fn change_lines(change: &Change) -> Vec<Line> {
    let width = value::key_width(change.fields.iter().map(|field| field.path.as_str()));
    change
        .fields
        .iter()
        .flat_map(|field| value::field_lines(field, width, &annotation(change, field)))
        .collect()
}

/// Whether the steps say more than the action does (`create` for a
/// creation, `delete` for a deletion go without saying).
pub(crate) fn steps_worth_showing(change: &Change) -> bool {
    !matches!(
        (change.action, change.steps.as_slice()),
        (_, []) | (Action::Create, [Step::Create]) | (Action::Delete, [Step::Delete])
    )
}

/// `stop (2 running jobs) -> update release_label -> start`.
pub(crate) fn steps_text(change: &Change) -> String {
    change.steps.iter().map(Step::describe).collect::<Vec<_>>().join(" -> ")
}

/// The unfinished job runs and active sessions of an application change,
/// for a note.
pub(crate) fn running_jobs_text(change: &Change) -> Option<String> {
    let Target::Application(app) = &change.target else {
        return None;
    };
    let mut parts = Vec::new();
    if !app.running_jobs.is_empty() {
        let runs: Vec<String> = app.running_jobs.iter().map(|run| run.describe()).collect();
        parts.push(format!("unfinished job runs: {}", runs.join(", ")));
    }
    if !app.running_sessions.is_empty() {
        let sessions: Vec<String> = app.running_sessions.iter().map(|session| session.describe()).collect();
        parts.push(format!("active sessions: {}", sessions.join(", ")));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// What a change waits for: `after role.etl`, and for a replacement what
/// the deletion of the old resource waits for (every reference to move off
/// it): `the old one is deleted after role.etl`. Empty when nothing.
pub(crate) fn after_texts(change: &Change, name: impl Fn(&crate::model::Address) -> String) -> Vec<String> {
    let mut out = Vec::new();
    if !change.depends_on.is_empty() {
        let names: Vec<String> = change.depends_on.iter().map(&name).collect();
        out.push(format!("after {}", names.join(", ")));
    }
    if !change.cleanup_after.is_empty() {
        let names: Vec<String> = change.cleanup_after.iter().map(&name).collect();
        out.push(format!("the old one is deleted after {}", names.join(", ")));
    }
    out
}

/// The comment lines over a change's block, without `# `: what happens and
/// why, the notes, unfinished job runs, what it waits for, and the steps.
pub(crate) fn comments(change: &Change) -> Vec<String> {
    let mut out = vec![format!(
        "{} {} ({})",
        change.address,
        verb(change.action),
        change.reason.describe()
    )];
    out.extend(change.notes.iter().cloned());
    out.extend(running_jobs_text(change));
    out.extend(after_texts(change, |address| address.to_string()));
    if steps_worth_showing(change) {
        out.push(format!("steps: {}", steps_text(change)));
    }
    out
}

fn write_lines(out: &mut String, lines: &[Line], base: usize, style: &Style) {
    for line in lines {
        let indent = " ".repeat(base + 4 * line.depth);
        let _ = writeln!(out, "{indent}{} {}", style.sign(line.sign), line.text);
    }
}

fn write_change(out: &mut String, change: &Change, style: &Style) {
    for (index, comment) in comments(change).iter().enumerate() {
        let text = format!("# {comment}");
        if index == 0 {
            let _ = writeln!(out, "  {}", style.paint(BOLD, &text));
        } else {
            let _ = writeln!(out, "  {text}");
        }
    }
    let lines = change_lines(change);
    let head = format!("{} {}", style.action(change.action), change.address);
    if lines.is_empty() {
        let _ = writeln!(out, "{head} {{}}");
    } else {
        let _ = writeln!(out, "{head} {{");
        write_lines(out, &lines, 6, style);
        let _ = writeln!(out, "    }}");
    }
    out.push('\n');
}

/// One drift line, without its sign: `path = <in AWS> # the stack has <x>`
/// when both values fit on a line, else a pointer to the change.
pub(crate) fn drift_text(field: &FieldChange, key_width: usize) -> String {
    let shown = secrets::display_field(field);
    let padded = format!("{:width$}", field.path, width = key_width);
    let stack = if shown.after.is_null() {
        Some("the stack does not set it".to_string())
    } else {
        value::inline(&shown.after).map(|text| format!("the stack has {text}"))
    };
    match (value::inline(&shown.before), stack) {
        (Some(aws), Some(stack)) if aws.chars().count() + stack.chars().count() <= 80 => {
            format!("{padded} = {aws} # {stack}")
        }
        _ => format!("{} # differs from the stack; the change above shows how", field.path),
    }
}

fn write_drift(out: &mut String, plan: &Plan, style: &Style) {
    let drifted: Vec<&Change> = plan.changes.iter().filter(|change| change.has_drift()).collect();
    if drifted.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "{}\n",
        style.paint(BOLD, "Objects have changed outside of emrstack:")
    );
    for change in drifted {
        let fields: Vec<_> = change.fields.iter().filter(|field| field.drift).collect();
        let width = value::key_width(fields.iter().map(|field| field.path.as_str()));
        let _ = writeln!(out, "{} {} {{", style.action(Action::Update), change.address);
        for field in fields {
            let _ = writeln!(out, "      {} {}", style.sign(Sign::Change), drift_text(field, width));
        }
        let _ = writeln!(out, "    }}");
    }
    let _ = writeln!(out, "\nThe changes above set them back to what the stack declares.\n");
}

fn write_legend(out: &mut String, plan: &Plan, style: &Style) {
    let _ = writeln!(out, "Resource actions are indicated with the following symbols:");
    let used = |action: Action| plan.actionable().any(|change| change.action == action);
    let entries = [
        (Action::Create, "create"),
        (Action::Update, "update in place"),
        (
            Action::Replace,
            "replace (create the new one, move references to it, delete the old one)",
        ),
        (Action::Delete, "destroy"),
    ];
    for (action, text) in entries {
        if used(action) {
            let _ = writeln!(out, "{} {text}", style.action(action));
        }
    }
    out.push('\n');
}

fn running_state(change: &Change) -> Option<ApplicationState> {
    match &change.target {
        Target::Application(app) => app.current.as_ref().map(|current| current.state),
        _ => None,
    }
}

/// Whether a change stops an application that is serving jobs.
pub(crate) fn stops_application(change: &Change) -> Option<ApplicationState> {
    let stops = change.steps.iter().any(|step| matches!(step, Step::Stop { .. }));
    if stops { running_state(change) } else { None }
}

/// The plan for a terminal: a title, the symbols used, one block per change
/// that does something (in address order), the drift section and the
/// summary line. Pure: the same plan gives the same text.
pub fn human(plan: &Plan, options: &HumanOptions) -> String {
    let style = Style { color: options.color };
    let mut out = String::new();
    let _ = writeln!(out, "{}\n", style.paint(BOLD, &title(plan)));
    if !plan.has_changes() {
        let _ = writeln!(out, "{}", style.paint(GREEN, no_changes_line(plan)));
        return out;
    }
    write_legend(&mut out, plan, &style);
    let _ = writeln!(out, "emrstack will perform the following actions:\n");
    for change in plan.actionable() {
        write_change(&mut out, change, &style);
    }
    write_drift(&mut out, plan, &style);
    let _ = writeln!(out, "{}", style.paint(BOLD, &summary_line(plan)));
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::json;

    use super::*;
    use crate::diff::{ApplicationTarget, CurrentApplication, Reason};
    use crate::model::{Address, ApplicationSpec, Desired, Engine, JobRun, JobRunState};
    use crate::plan::{FORMAT_VERSION, Summary};

    fn application_change(action: Action, steps: Vec<Step>, fields: Vec<FieldChange>) -> Change {
        Change {
            address: Address::application("etl"),
            action,
            reason: Reason::Changed,
            fields,
            steps,
            depends_on: Vec::new(),
            cleanup_after: Vec::new(),
            notes: Vec::new(),
            target: Target::Application(Box::new(ApplicationTarget {
                key: "etl".to_string(),
                current: Some(CurrentApplication {
                    id: "00f1".to_string(),
                    arn: "arn:aws:emr-serverless:us-east-1:1:/applications/00f1".to_string(),
                    state: ApplicationState::Started,
                    spec: ApplicationSpec::new("etl", Engine::Spark, "emr-7.2.0"),
                }),
                desired: None,
                update_fields: BTreeSet::new(),
                needs_stop: false,
                running_jobs: Vec::new(),
                running_sessions: Vec::new(),
                image_needs_restart: false,
            })),
        }
    }

    fn field(path: &str, before: serde_json::Value, after: serde_json::Value, live: bool) -> FieldChange {
        FieldChange {
            path: path.to_string(),
            before,
            after,
            after_unknown: false,
            forces_replacement: false,
            live,
            drift: false,
        }
    }

    fn plan_of(changes: Vec<Change>, mode: Mode) -> Plan {
        Plan {
            format_version: FORMAT_VERSION,
            emrstack_version: "0.0.0-test".to_string(),
            stack: "shop".to_string(),
            account_id: "111122223333".to_string(),
            region: "us-east-1".to_string(),
            mode,
            summary: Summary::of(&changes),
            changes,
            diagnostics: Vec::new(),
            fingerprint: "0".repeat(64),
            secrets: None,
            desired: Desired::empty("shop"),
        }
    }

    #[test]
    fn summary_counts_replacements_on_their_own() {
        let changes = vec![
            application_change(Action::Create, vec![Step::Create], Vec::new()),
            application_change(Action::Replace, vec![Step::CreateReplacement], Vec::new()),
            application_change(Action::Update, Vec::new(), Vec::new()),
            application_change(Action::Update, Vec::new(), Vec::new()),
        ];
        assert_eq!(
            summary_line(&plan_of(changes, Mode::Apply)),
            "Plan: 1 to add, 2 to change, 1 to replace, 0 to destroy."
        );
    }

    #[test]
    fn fields_that_need_a_stop_say_so_when_the_change_stops() {
        let fields = vec![
            field("release_label", json!("emr-7.2.0"), json!("emr-7.3.0"), false),
            field("maximum_capacity.cpu", json!("4 vCPU"), json!("8 vCPU"), true),
        ];
        let steps = vec![
            Step::Stop {
                running_jobs: 0,
                running_sessions: 0,
            },
            Step::Update {
                fields: vec!["release_label".to_string()],
            },
            Step::Start,
        ];
        let change = application_change(Action::Update, steps, fields.clone());
        assert_eq!(annotation(&change, &change.fields[0]), "forces a stop");
        assert_eq!(annotation(&change, &change.fields[1]), "");
        // A STOPPED application is not stopped: nothing to point out.
        let quiet = application_change(Action::Update, Vec::new(), fields);
        assert_eq!(annotation(&quiet, &quiet.fields[0]), "");
    }

    #[test]
    fn running_jobs_and_waits_appear_as_comments() {
        let mut change = application_change(
            Action::Update,
            vec![
                Step::Wait {
                    state: ApplicationState::Starting,
                },
                Step::Stop {
                    running_jobs: 1,
                    running_sessions: 0,
                },
                Step::Update {
                    fields: vec!["release_label".to_string()],
                },
                Step::Start,
            ],
            Vec::new(),
        );
        if let Target::Application(app) = &mut change.target {
            app.running_jobs = vec![JobRun {
                id: "00fjob".to_string(),
                name: Some("nightly".to_string()),
                state: JobRunState::Running,
                mode: crate::model::JobRunMode::Batch,
            }];
        }
        change.depends_on = vec![Address::role("etl")];
        assert_eq!(
            comments(&change),
            vec![
                "application.etl will be updated in place (the stack changed)".to_string(),
                "unfinished job runs: 00fjob `nightly` (RUNNING)".to_string(),
                "after role.etl".to_string(),
                "steps: wait while STARTING -> stop (1 running job) -> update release_label -> start".to_string(),
            ]
        );
    }

    #[test]
    fn a_change_without_fields_renders_an_empty_block() {
        let mut change = application_change(Action::Update, vec![Step::Tag], Vec::new());
        change
            .notes
            .push("only the applied record tag is refreshed".to_string());
        let text = human(&plan_of(vec![change], Mode::Apply), &HumanOptions::default());
        assert!(
            text.contains("  # only the applied record tag is refreshed\n  # steps: tag\n  ~ application.etl {}\n"),
            "{text}"
        );
    }

    #[test]
    fn destroy_plans_say_so() {
        let delete = application_change(Action::Delete, vec![Step::Delete], Vec::new());
        let text = human(&plan_of(vec![delete], Mode::Destroy), &HumanOptions::default());
        assert!(text.starts_with("Destroy plan for stack `shop` in account 111122223333, region us-east-1\n"));
        assert!(text.contains("  - destroy\n"), "{text}");
        assert!(
            !text.contains("steps:"),
            "a lone delete step goes without saying:\n{text}"
        );
        let nothing = human(&plan_of(Vec::new(), Mode::Destroy), &HumanOptions::default());
        assert!(
            nothing.ends_with("No changes. The stack owns nothing in AWS.\n"),
            "{nothing}"
        );
    }

    #[test]
    fn colour_is_added_only_when_asked() {
        let change = application_change(
            Action::Replace,
            vec![Step::CreateReplacement],
            vec![field("name", json!("a"), json!("b"), false)],
        );
        let plan = plan_of(vec![change], Mode::Apply);
        let colour = human(&plan, &HumanOptions { color: true });
        assert!(
            colour.contains(&format!("{RED}-{RESET}/{GREEN}+{RESET} application.etl {{")),
            "{colour}"
        );
        assert!(!human(&plan, &HumanOptions { color: false }).contains('\x1b'));
    }

    #[test]
    fn drift_lines_show_both_values_when_short() {
        let mut drifted = field("auto_stop.idle_timeout_minutes", json!(5), json!(30), false);
        drifted.drift = true;
        assert_eq!(
            drift_text(&drifted, 0),
            "auto_stop.idle_timeout_minutes = 5 # the stack has 30"
        );
        let mut added = field("tags.owner", json!("me"), serde_json::Value::Null, true);
        added.drift = true;
        assert_eq!(
            drift_text(&added, 12),
            "tags.owner   = \"me\" # the stack does not set it"
        );
        let mut long = field("policies.data.Statement", json!([{"a": {"b": 1}}]), json!([]), false);
        long.drift = true;
        assert_eq!(
            drift_text(&long, 0),
            "policies.data.Statement # differs from the stack; the change above shows how"
        );
    }
}
