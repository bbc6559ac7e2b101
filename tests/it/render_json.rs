//! `emrstack plan --format json`: snapshots for every example stack and the
//! hand-built scenarios, and checks that every document parses, has exactly
//! the keys `docs/plan-format.md` documents, and uses only documented codes.

use std::collections::BTreeSet;

use serde_json::Value;

use emrstack::diff::{Action, Reason};
use emrstack::render::json;

use crate::render_scenarios as scenarios;

scenarios::plan_snapshots!(json::plan);

const TOP: [&str; 12] = [
    "format_version",
    "emrstack_version",
    "stack",
    "account_id",
    "region",
    "mode",
    "applyable",
    "fingerprint",
    "summary",
    "changes",
    "drift",
    "diagnostics",
];
const SUMMARY: [&str; 5] = ["create", "update", "replace", "delete", "no_op"];
const CHANGE: [&str; 10] = [
    "address",
    "action",
    "reason",
    "reason_text",
    "fields",
    "steps",
    "depends_on",
    "cleanup_after",
    "notes",
    "application",
];
const FIELD: [&str; 8] = [
    "path",
    "before",
    "after",
    "after_unknown",
    "sensitive",
    "forces_replacement",
    "live",
    "drift",
];
const APPLICATION: [&str; 5] = ["id", "arn", "state", "running_jobs", "running_sessions"];
const DRIFT: [&str; 4] = ["address", "path", "before", "after"];
const DIAGNOSTIC: [&str; 6] = ["severity", "code", "message", "help", "address", "path"];
/// Every step has `step` and `description`; some add some of these.
const STEP_DETAILS: [&str; 5] = ["state", "running_jobs", "running_sessions", "fields", "parts"];

fn keys(value: &Value) -> BTreeSet<&str> {
    match value.as_object() {
        Some(map) => map.keys().map(String::as_str).collect(),
        None => panic!("not an object: {value}"),
    }
}

fn set<const N: usize>(list: [&'static str; N]) -> BTreeSet<&'static str> {
    list.into_iter().collect()
}

fn items(value: &Value) -> &Vec<Value> {
    match value.as_array() {
        Some(items) => items,
        None => panic!("not a list: {value}"),
    }
}

#[test]
fn every_document_has_the_documented_keys() {
    let top = set(TOP);
    for (name, plan) in scenarios::all() {
        let text = json::plan(&plan);
        assert!(text.ends_with("}\n"), "{name}: trailing newline");
        let document: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(keys(&document), top, "{name}");
        assert_eq!(document["format_version"], 1, "{name}");
        assert_eq!(keys(&document["summary"]), set(SUMMARY), "{name}");
        let changes = items(&document["changes"]);
        assert_eq!(
            changes.len(),
            plan.changes.len(),
            "{name}: every change, no-ops included"
        );
        for change in changes {
            assert_eq!(keys(change), set(CHANGE), "{name}: {change}");
            for field in items(&change["fields"]) {
                assert_eq!(keys(field), set(FIELD), "{name}: {field}");
            }
            for step in items(&change["steps"]) {
                let step_keys = keys(step);
                assert!(
                    step_keys.contains("step") && step_keys.contains("description"),
                    "{step}"
                );
                for key in step_keys {
                    assert!(
                        ["step", "description"].contains(&key) || STEP_DETAILS.contains(&key),
                        "{name}: undocumented step key {key}"
                    );
                }
            }
            if !change["application"].is_null() {
                assert_eq!(keys(&change["application"]), set(APPLICATION), "{name}");
            }
        }
        for drift in items(&document["drift"]) {
            assert_eq!(keys(drift), set(DRIFT), "{name}");
        }
        for diagnostic in items(&document["diagnostics"]) {
            assert_eq!(keys(diagnostic), set(DIAGNOSTIC), "{name}");
        }
        let applyable = document["applyable"].as_bool();
        assert_eq!(applyable, Some(plan.has_changes()), "{name}");
    }
}

#[test]
fn codes_are_the_documented_ones_and_match_the_plan_file() {
    let actions = ["create", "update", "replace", "delete", "no-op"];
    for (name, plan) in scenarios::all() {
        let document = json::plan_value(&plan);
        for change in items(&document["changes"]) {
            let action = change["action"].as_str().unwrap_or_default();
            assert!(actions.contains(&action), "{name}: {action}");
        }
    }
    // The codes are those of the plan file (serde), so both formats agree.
    for action in [
        Action::Create,
        Action::Update,
        Action::Replace,
        Action::Delete,
        Action::NoOp,
    ] {
        assert_eq!(
            serde_json::to_value(action).ok(),
            Some(Value::from(json::action_code(action)))
        );
    }
    for reason in [
        Reason::Missing,
        Reason::Changed,
        Reason::Drift,
        Reason::ChangedAndDrift,
        Reason::ReplaceFields,
        Reason::ReferenceReplaced,
        Reason::RemovedFromStack,
        Reason::Duplicate,
        Reason::Destroy,
        Reason::UpToDate,
    ] {
        assert_eq!(
            serde_json::to_value(reason).ok(),
            Some(Value::from(json::reason_code(reason)))
        );
    }
}

#[test]
fn the_format_document_names_every_key_and_code() {
    let doc = std::fs::read_to_string(scenarios::root().join("docs/plan-format.md")).expect("docs/plan-format.md");
    let mut names: Vec<&str> = Vec::new();
    names.extend(TOP);
    names.extend(SUMMARY);
    names.extend(CHANGE);
    names.extend(FIELD);
    names.extend(APPLICATION);
    names.extend(DRIFT);
    names.extend(DIAGNOSTIC);
    names.extend(STEP_DETAILS);
    names.extend(["step", "description"]);
    names.extend([
        "missing",
        "changed",
        "drift",
        "changed-and-drift",
        "replace-fields",
        "reference-replaced",
        "removed-from-stack",
        "duplicate",
        "unfinished",
        "destroy",
        "up-to-date",
    ]);
    names.extend([
        "wait",
        "stop",
        "create",
        "update",
        "start",
        "tag",
        "delete",
        "create-replacement",
        "delete-replaced",
        "update-role",
        "set-policy",
        "delete-policy",
        "no-op",
    ]);
    for name in names {
        assert!(
            doc.contains(&format!("`{name}`")),
            "docs/plan-format.md does not mention `{name}`"
        );
    }
}

#[test]
fn unknown_arns_keep_their_placeholder_and_are_flagged() {
    let document = json::plan_value(&scenarios::replacement_cascade());
    let repository = items(&document["changes"])
        .iter()
        .find(|change| change["address"] == "repository.spark")
        .expect("repository change");
    let field = &repository["fields"][0];
    assert_eq!(field["after"], serde_json::json!(["${application.etl.arn}"]));
    assert_eq!(field["after_unknown"], true);
}

#[test]
fn secrets_are_redacted_and_flagged() {
    let document = json::plan_value(&scenarios::secret_property());
    let etl = items(&document["changes"])
        .iter()
        .find(|change| change["address"] == "application.etl")
        .expect("etl change");
    let field = &etl["fields"][0];
    assert_eq!(
        field["after"]["spark-defaults"]["properties"]["spark.hadoop.fs.s3a.secret.key"],
        "(sensitive value)"
    );
    assert_eq!(
        field["after"]["spark-defaults"]["properties"]["spark.executor.memory"],
        "8g"
    );
    assert_eq!(field["sensitive"], true);
}
