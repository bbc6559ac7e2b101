//! Tests of the dependency graph.

use std::collections::BTreeSet;

use super::{ChangeGraph, Node, Phase, assemble, build, fill_depends_on};
use crate::diff::tests::{
    account, account_with_repository, declare, declare_repository, deploy, plan, plan_mode, repository_image, role,
    spec, stack,
};
use crate::diff::{Action, Change, Mode};
use crate::model::{Desired, Engine};

/// A node as text: `create application.etl`, `replace application.etl (cleanup)`.
fn label(changes: &[Change], node: Node) -> String {
    let change = &changes[node.change];
    match node.phase {
        Phase::Main => format!("{} {}", change.action, change.address),
        Phase::Cleanup => format!("{} {} (cleanup)", change.action, change.address),
    }
}

/// Every edge of the graph as (before, after) labels.
fn edges(changes: &[Change], graph: &ChangeGraph) -> BTreeSet<(String, String)> {
    graph
        .graph
        .edge_indices()
        .filter_map(|edge| graph.graph.edge_endpoints(edge))
        .map(|(from, to)| (label(changes, graph.node(from)), label(changes, graph.node(to))))
        .collect()
}

fn edge(from: &str, to: &str) -> (String, String) {
    (from.to_string(), to.to_string())
}

/// Builds the graph and checks that its order respects every edge.
fn graph_of(changes: &[Change]) -> ChangeGraph {
    let graph = build(changes).unwrap_or_else(|diagnostic| panic!("unexpected cycle: {diagnostic:#?}"));
    let position = |node| graph.order.iter().position(|n| *n == node).expect("ordered");
    assert_eq!(graph.order.len(), graph.len());
    for edge in graph.graph.edge_indices() {
        let (from, to) = graph.graph.edge_endpoints(edge).expect("edge");
        assert!(position(from) < position(to), "order breaks an edge");
    }
    graph
}

/// An application `etl`, a role trusting it and the repository granting it.
fn trusted_stack() -> Desired {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let mut trusted = role("etl-role");
    trusted.trust_applications = vec!["etl".to_string()];
    desired.roles.insert("etl".to_string(), trusted);
    declare_repository(&mut desired, &["etl"]);
    desired
}

#[test]
fn policies_naming_a_new_application_wait_for_it() {
    let desired = trusted_stack();
    let out = plan(&desired, &account_with_repository(None));
    let graph = graph_of(&out.changes);
    assert_eq!(
        edges(&out.changes, &graph),
        BTreeSet::from([
            edge("create application.etl", "create role.etl"),
            edge("create application.etl", "create repository.spark"),
        ])
    );
}

#[test]
fn a_replacement_moves_references_before_the_old_application_goes() {
    let mut desired = trusted_stack();
    let actual = deploy(&desired, &account_with_repository(None));
    desired.applications.get_mut("etl").expect("etl").spec.name = "etl-2".to_string();
    let out = plan(&desired, &actual);
    let graph = graph_of(&out.changes);
    assert_eq!(
        edges(&out.changes, &graph),
        BTreeSet::from([
            edge("replace application.etl", "replace application.etl (cleanup)"),
            edge("replace application.etl", "update role.etl"),
            edge("replace application.etl", "update repository.spark"),
            edge("update role.etl", "replace application.etl (cleanup)"),
            edge("update repository.spark", "replace application.etl (cleanup)"),
        ])
    );
}

#[test]
fn references_are_removed_before_the_application_is_deleted() {
    let desired = trusted_stack();
    let actual = deploy(&desired, &account_with_repository(None));
    let expected = |verb: &str| {
        BTreeSet::from([
            edge(&format!("{verb} role.etl"), &format!("{verb} application.etl")),
            edge(
                &format!("{verb} repository.{}", "spark"),
                &format!("{verb} application.etl"),
            ),
        ])
    };
    // `emrstack destroy`.
    let out = plan_mode(&desired, &actual, Mode::Destroy);
    assert_eq!(edges(&out.changes, &graph_of(&out.changes)), expected("delete"));

    // Everything removed from the stack file: the repository is found by its
    // statement, under its ECR name.
    let out = plan(&stack(), &actual);
    let graph = graph_of(&out.changes);
    assert_eq!(
        edges(&out.changes, &graph),
        BTreeSet::from([
            edge("delete role.etl", "delete application.etl"),
            edge("delete repository.analytics/spark", "delete application.etl"),
        ])
    );

    // Only the application is removed: the role's trust and the repository
    // statement are updated first.
    let mut without_app = trusted_stack();
    without_app.applications.clear();
    without_app
        .roles
        .get_mut("etl")
        .expect("etl")
        .trust_applications
        .clear();
    declare_repository(&mut without_app, &[]);
    let out = plan(&without_app, &actual);
    let graph = graph_of(&out.changes);
    assert_eq!(
        edges(&out.changes, &graph),
        BTreeSet::from([
            edge("update role.etl", "delete application.etl"),
            edge("delete repository.spark", "delete application.etl"),
        ])
    );
}

#[test]
fn an_existing_application_switching_to_a_repository_image_waits_for_its_policy() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    declare_repository(&mut desired, &[]);
    let actual = deploy(&desired, &account_with_repository(None));
    desired.applications.get_mut("etl").expect("etl").spec.image = Some(repository_image("v1", true));
    declare_repository(&mut desired, &["etl"]);
    let out = plan(&desired, &actual);
    let graph = graph_of(&out.changes);
    assert_eq!(
        edges(&out.changes, &graph),
        BTreeSet::from([edge("create repository.spark", "update application.etl")])
    );
}

#[test]
fn no_op_changes_are_not_in_the_graph() {
    let desired = trusted_stack();
    let actual = deploy(&desired, &account_with_repository(None));
    let out = plan(&desired, &actual);
    assert!(out.changes.iter().all(|c| c.action == Action::NoOp));
    let graph = graph_of(&out.changes);
    assert!(graph.is_empty());

    // One change among no-ops: one node, no edges.
    let mut changed = desired.clone();
    changed.applications.get_mut("etl").expect("etl").spec.release_label = "emr-7.3.0".to_string();
    let out = plan(&changed, &actual);
    let graph = graph_of(&out.changes);
    assert_eq!(graph.len(), 1);
    assert_eq!(
        label(&out.changes, graph.node(graph.order[0])),
        "update application.etl"
    );
    assert!(edges(&out.changes, &graph).is_empty());
}

/// The message of `plan.cycle` as `emrstack plan` prints it; the other
/// codes' messages are snapshotted by `tests/it/diagnostic_messages.rs`,
/// which cannot build a cyclic graph (`assemble` is crate-private). The
/// cycle has no field to point at, so the message has no position.
#[test]
fn the_cycle_message() {
    let mut desired = stack();
    for key in ["a", "b"] {
        declare(&mut desired, key, spec(key));
    }
    let changes = plan(&desired, &account()).changes;
    let node = |change| Node {
        change,
        phase: Phase::Main,
    };
    let diagnostic = assemble(&changes, &[(node(0), node(1)), (node(1), node(0))]).expect_err("a cycle");
    let list = crate::diag::Diagnostics(vec![*diagnostic]);
    insta::assert_snapshot!(crate::render::diagnostics::human(
        &list,
        &crate::diag::Sources::new(),
        false
    ));
}

#[test]
fn a_cycle_is_a_diagnostic_naming_its_resources() {
    let mut desired = stack();
    for key in ["a", "b", "c"] {
        declare(&mut desired, key, spec(key));
    }
    let out = plan(&desired, &account());
    let changes = out.changes;
    let node = |change, phase| Node { change, phase };
    // a -> b -> a, with c hanging off the cycle.
    let result = assemble(
        &changes,
        &[
            (node(0, Phase::Main), node(1, Phase::Main)),
            (node(1, Phase::Main), node(0, Phase::Main)),
            (node(1, Phase::Main), node(2, Phase::Main)),
        ],
    );
    let diagnostic = result.expect_err("a cycle");
    assert_eq!(diagnostic.code, "plan.cycle");
    assert!(diagnostic.is_error());
    assert!(
        diagnostic.message.contains("`application.a`") && diagnostic.message.contains("`application.b`"),
        "{}",
        diagnostic.message
    );
    assert!(
        !diagnostic.message.contains("`application.c`"),
        "{}",
        diagnostic.message
    );
    assert!(diagnostic.help.is_some());

    // A node waiting for itself is a cycle too.
    let result = assemble(&changes, &[(node(2, Phase::Main), node(2, Phase::Main))]);
    assert!(result.expect_err("a self-loop").message.contains("`application.c`"));

    // Edges between nodes that do not exist (no-ops, missing cleanups) are ignored.
    let graph = assemble(&changes, &[(node(0, Phase::Cleanup), node(1, Phase::Main))]).expect("no cycle");
    assert_eq!(graph.graph.edge_count(), 0);
}

#[test]
fn depends_on_names_the_changes_that_come_first() {
    let desired = trusted_stack();
    let out = plan(&desired, &account_with_repository(None));
    let mut changes = out.changes;
    let graph = graph_of(&changes);
    fill_depends_on(&mut changes, &graph);
    let depends = |address: &str| {
        changes
            .iter()
            .find(|c| c.address.to_string() == address)
            .map(|c| c.depends_on.iter().map(ToString::to_string).collect::<Vec<_>>())
            .expect("change")
    };
    assert_eq!(depends("application.etl"), Vec::<String>::new());
    assert_eq!(depends("role.etl"), vec!["application.etl"]);
    assert_eq!(depends("repository.spark"), vec!["application.etl"]);

    // A replacement's cleanup waits for the role, but the role's change
    // must not be listed as depending on itself or on a phase twice.
    let actual = deploy(&desired, &account_with_repository(None));
    let mut renamed = desired.clone();
    renamed.applications.get_mut("etl").expect("etl").spec.engine = Engine::Hive;
    let mut changes = plan(&renamed, &actual).changes;
    let graph = graph_of(&changes);
    fill_depends_on(&mut changes, &graph);
    for change in &changes {
        assert!(!change.depends_on.contains(&change.address), "{change:#?}");
        let unique: BTreeSet<_> = change.depends_on.iter().collect();
        assert_eq!(unique.len(), change.depends_on.len());
    }
    let role_change = changes
        .iter()
        .find(|c| c.address.to_string() == "role.etl")
        .expect("role");
    assert_eq!(
        role_change
            .depends_on
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        vec!["application.etl"]
    );
}
