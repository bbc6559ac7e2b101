//! The plan as GitHub-flavoured Markdown for pull-request comments
//! (`plan --format markdown`): a heading with the summary, a table of the
//! changes, each change's field diff in a collapsible `diff` block, the
//! drift found and the number of warnings.
//!
//! The field lines are those of the human rendering with the sign moved to
//! the first column, so GitHub colours additions and removals.

use std::fmt::Write;

use crate::diag::Diagnostics;
use crate::diff::{Action, Change, Mode, Step, Target};
use crate::model::ApplicationState;
use crate::plan::{Plan, secrets};

use super::plan::{after_texts, change_lines, comments, no_changes_line, stops_application, summary_line, verb};
use super::value::{self, Line};

/// A table cell: pipes escaped, line breaks flattened.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Inline code that survives backticks inside `text`.
fn code(text: &str) -> String {
    let longest = longest_run(text, '`');
    let fence = "`".repeat(longest + 1);
    if longest > 0 {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

fn longest_run(text: &str, wanted: char) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == wanted {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    longest
}

/// Text safe inside HTML (`<summary>`).
fn html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn action_cell(action: Action) -> &'static str {
    match action {
        Action::Create => "`+` create",
        Action::Update => "`~` update",
        Action::Replace => "`-/+` replace",
        Action::Delete => "`-` delete",
        Action::NoOp => "no-op",
    }
}

/// Short remarks for the table: stops, waits, replaced IDs, ARNs known
/// after apply, and what the change waits for.
fn short_notes(change: &Change) -> String {
    let mut notes = Vec::new();
    for step in &change.steps {
        if let Step::Wait { state } = step {
            notes.push(format!("waits while {state}"));
        }
    }
    if change.action == Action::Replace {
        // The old resource is stopped and deleted once the new one exists.
        if let Target::Application(app) = &change.target
            && let Some(current) = &app.current
        {
            notes.push(format!("replaces {} ({})", code(&current.id), current.state));
        }
    } else if let Some(state) = stops_application(change) {
        let (jobs, sessions) = change
            .steps
            .iter()
            .find_map(|step| match step {
                Step::Stop {
                    running_jobs,
                    running_sessions,
                } => Some((*running_jobs, *running_sessions)),
                _ => None,
            })
            .unwrap_or((0, 0));
        let (jobs, sessions) = match &change.target {
            Target::Application(app) => (
                jobs.max(app.running_jobs.len()),
                sessions.max(app.running_sessions.len()),
            ),
            _ => (jobs, sessions),
        };
        let running = crate::diff::running_counts(jobs, sessions);
        let mut text = format!("stops a {state} application");
        if !running.is_empty() {
            text.push_str(&format!(" with {}", running.join(" and ")));
        }
        notes.push(text);
    } else if change.action == Action::Update
        && let Target::Application(app) = &change.target
        && app
            .current
            .as_ref()
            .is_some_and(|c| c.state == ApplicationState::Started)
        && change.steps.iter().any(|step| matches!(step, Step::Update { .. }))
    {
        notes.push("updated while STARTED".to_string());
    }
    if change.fields.iter().any(|field| field.after_unknown) {
        notes.push("ARN known after apply".to_string());
    }
    notes.extend(after_texts(change, |address| code(&address.to_string())));
    notes.join("; ")
}

fn diff_line(line: &Line) -> String {
    format!("{} {}{}", line.sign.symbol(), " ".repeat(4 * line.depth), line.text)
}

/// A fenced block longer than any run of backticks inside it.
fn fenced(language: &str, body: &str) -> String {
    let fence = "`".repeat(longest_run(body, '`').max(2) + 1);
    format!("{fence}{language}\n{body}{fence}\n")
}

fn write_details(out: &mut String, change: &Change) {
    let _ = writeln!(
        out,
        "<details><summary><code>{}</code> {}</summary>\n",
        html(&change.address.to_string()),
        verb(change.action)
    );
    let mut body = String::new();
    // The first comment repeats the summary; the reason is what it adds.
    let _ = writeln!(body, "# {}", change.reason.describe());
    for comment in comments(change).iter().skip(1) {
        let _ = writeln!(body, "# {comment}");
    }
    for line in change_lines(change) {
        let _ = writeln!(body, "{}", diff_line(&line));
    }
    out.push_str(&fenced("diff", &body));
    out.push_str("\n</details>\n\n");
}

fn write_drift(out: &mut String, plan: &Plan) {
    let drifted: Vec<(&Change, &crate::diff::FieldChange)> = plan
        .changes
        .iter()
        .flat_map(|change| change.fields.iter().filter(|f| f.drift).map(move |f| (change, f)))
        .collect();
    if drifted.is_empty() {
        return;
    }
    let _ = writeln!(out, "#### Objects have changed outside of emrstack\n");
    let _ = writeln!(out, "| Resource | Field | In AWS | In the stack |");
    let _ = writeln!(out, "| --- | --- | --- | --- |");
    for (change, field) in drifted {
        let shown = secrets::display_field(field);
        let show = |value: &serde_json::Value| match value::inline(value) {
            Some(text) if text.chars().count() <= 60 => cell(&code(&text)),
            _ => "(see the change)".to_string(),
        };
        let stack = if shown.after.is_null() {
            "(not set)".to_string()
        } else {
            show(&shown.after)
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {stack} |",
            cell(&code(&change.address.to_string())),
            cell(&code(&field.path)),
            show(&shown.before),
        );
    }
    let _ = writeln!(out, "\nApplying the plan sets them back to what the stack declares.\n");
}

fn write_warnings(out: &mut String, plan: &Plan) {
    if plan.diagnostics.is_empty() {
        return;
    }
    let diagnostics = Diagnostics(plan.diagnostics.clone());
    let _ = writeln!(out, "**{}**\n", super::diagnostics::summary(&diagnostics));
    for diagnostic in &plan.diagnostics {
        let _ = writeln!(
            out,
            "- {} {}: {}",
            diagnostic.severity,
            code(&diagnostic.code),
            cell(&secrets::mask_text(&diagnostic.message))
        );
    }
    out.push('\n');
}

/// The plan as Markdown for a pull-request comment. Pure: the same plan
/// gives the same text.
pub fn plan(plan: &Plan) -> String {
    let mut out = String::new();
    let kind = match plan.mode {
        Mode::Apply => "plan",
        Mode::Destroy => "destroy plan",
    };
    let _ = writeln!(out, "### emrstack {kind} for {}\n", code(&plan.stack));
    let _ = writeln!(
        out,
        "Account {}, region {}.\n",
        code(&plan.account_id),
        code(&plan.region)
    );
    if plan.has_changes() {
        let _ = writeln!(out, "**{}**\n", summary_line(plan));
        let _ = writeln!(out, "| Resource | Action | Reason | Notes |");
        let _ = writeln!(out, "| --- | --- | --- | --- |");
        for change in plan.actionable() {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                cell(&code(&change.address.to_string())),
                action_cell(change.action),
                cell(change.reason.describe()),
                cell(&short_notes(change)),
            );
        }
        out.push('\n');
        for change in plan.actionable() {
            write_details(&mut out, change);
        }
        write_drift(&mut out, plan);
    } else {
        let _ = writeln!(out, "**{}**\n", no_changes_line(plan));
    }
    write_warnings(&mut out, plan);
    let fingerprint: String = plan.fingerprint.chars().take(12).collect();
    let _ = writeln!(
        out,
        "<sub>emrstack {}, plan fingerprint {}</sub>",
        html(&plan.emrstack_version),
        code(&fingerprint)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_survive_backticks() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a`b"), "`` a`b ``");
    }

    #[test]
    fn cells_escape_pipes_and_flatten_lines() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }

    #[test]
    fn fences_outgrow_the_backticks_inside() {
        assert_eq!(fenced("diff", "+ a\n"), "```diff\n+ a\n```\n");
        assert_eq!(fenced("diff", "+ ```\n"), "````diff\n+ ```\n````\n");
    }

    #[test]
    fn summaries_escape_html() {
        assert_eq!(html("<a & b>"), "&lt;a &amp; b&gt;");
    }

    #[test]
    fn diff_lines_put_the_sign_in_the_first_column() {
        let line = Line {
            depth: 2,
            sign: super::super::value::Sign::Add,
            text: "x = 1".to_string(),
        };
        assert_eq!(diff_line(&line), "+         x = 1");
    }
}
