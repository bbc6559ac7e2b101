//! Snapshots of `emrstack plan` as people read it in a terminal, for every
//! example stack against an empty account and for hand-built scenarios
//! (see `render_scenarios`). Review changes with `cargo insta review`.

use emrstack::plan::Plan;
use emrstack::render::plan::{HumanOptions, human};

use crate::render_scenarios as scenarios;

fn plain(plan: &Plan) -> String {
    human(plan, &HumanOptions { color: false })
}

scenarios::plan_snapshots!(plain);

#[test]
fn colour_marks_signs_title_and_summary() {
    let text = human(&scenarios::replacement_cascade(), &HumanOptions { color: true });
    insta::assert_snapshot!(text);
}

#[test]
fn no_colour_means_no_escape_codes() {
    for (name, plan) in scenarios::all() {
        assert!(!plain(&plan).contains('\x1b'), "{name}");
    }
}

#[test]
fn secrets_never_appear_in_any_rendering() {
    for (name, plan) in scenarios::all() {
        for text in [
            plain(&plan),
            human(&plan, &HumanOptions { color: true }),
            emrstack::render::json::plan(&plan),
            emrstack::render::markdown::plan(&plan),
        ] {
            assert!(!text.contains("hunter2"), "{name} leaks a secret:\n{text}");
        }
    }
}

#[test]
fn placeholders_never_appear_in_human_output() {
    for (name, plan) in scenarios::all() {
        let text = plain(&plan);
        assert!(!text.contains("${application."), "{name}:\n{text}");
    }
}

#[test]
fn no_op_changes_and_diagnostics_are_left_out() {
    let plan = scenarios::network_warnings();
    assert!(!plan.diagnostics.is_empty(), "the scenario should have warnings");
    let text = plain(&plan);
    for diagnostic in &plan.diagnostics {
        assert!(!text.contains(&diagnostic.code), "{}", diagnostic.code);
    }
    for change in plan.changes.iter().filter(|c| c.action == emrstack::diff::Action::NoOp) {
        assert!(!text.contains(&format!("{} {{", change.address)), "{}", change.address);
    }
}

/// An application that is stopped while jobs and a session run: every
/// format names them (observe lists them in `Actual::running_work`, diff
/// copies them).
#[test]
fn running_jobs_of_a_stopped_application_are_named() {
    let plan = scenarios::stopped_update_with_drift();
    let text = plain(&plan);
    assert!(
        text.contains(
            "  # unfinished job runs: 00fhq3mjob00001 `nightly-orders` (RUNNING), 00fhq3mjob00002 (STREAMING, PENDING); \
             active sessions: session 00fhq3mses00001 `notebook` (IDLE)\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("  # steps: stop (2 running jobs, 1 session) -> "),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&emrstack::render::json::plan(&plan)).expect("JSON");
    let etl = &json["changes"][1];
    assert_eq!(etl["address"], "application.etl");
    assert_eq!(
        etl["application"]["running_jobs"][0],
        serde_json::json!({"id": "00fhq3mjob00001", "name": "nightly-orders", "state": "RUNNING", "mode": "BATCH"})
    );
    assert_eq!(etl["application"]["running_jobs"][1]["mode"], "STREAMING");
    assert_eq!(
        etl["application"]["running_sessions"][0],
        serde_json::json!({"id": "00fhq3mses00001", "name": "notebook", "state": "IDLE"})
    );
    assert_eq!(etl["steps"][0]["running_jobs"], 2);
    assert_eq!(etl["steps"][0]["running_sessions"], 1);
    let markdown = emrstack::render::markdown::plan(&plan);
    assert!(
        markdown.contains("stops a STARTED application with 2 running jobs and 1 session"),
        "{markdown}"
    );
}
