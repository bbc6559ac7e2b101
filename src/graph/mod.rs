//! Changes into a petgraph DAG ordered by references between resources.
//!
//! A node is one phase of one change. Every change has a main phase; a
//! replacement also has a cleanup phase (deleting the old resource), which
//! must wait until everything that named the old resource has moved to the
//! new one. Edges point from what must happen first to what waits for it:
//!
//! - a role or repository policy that names the ARN of an application being
//!   created or replaced waits for that application's main phase;
//! - the cleanup of a replaced application waits for every change that
//!   moves a reference off its old ARN;
//! - deleting an application waits for every change that removes a
//!   reference to it (deletions run in reverse dependency order);
//! - an existing application that switches to an image from a repository
//!   waits for that repository's policy, so the service can pull it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use petgraph::Direction;
use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};

use crate::diag::Diagnostic;
use crate::diff::{Action, Change, Target};
use crate::model::Address;

/// The phase of a change a node stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// Create, update or delete; for a replacement, create the new resource.
    Main,
    /// For a replacement: delete the old resource.
    Cleanup,
}

/// A node: one phase of the change at index `change`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Node {
    pub change: usize,
    pub phase: Phase,
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.phase {
            Phase::Main => write!(f, "#{}", self.change),
            Phase::Cleanup => write!(f, "#{} (cleanup)", self.change),
        }
    }
}

/// The dependency graph of a plan's changes.
#[derive(Clone, Debug)]
pub struct ChangeGraph {
    pub graph: DiGraph<Node, ()>,
    /// Node indices by node, for lookups.
    pub index: BTreeMap<Node, NodeIndex>,
    /// A topological order of the nodes.
    pub order: Vec<NodeIndex>,
}

impl ChangeGraph {
    /// The nodes that must finish before `node`.
    pub fn dependencies(&self, node: NodeIndex) -> Vec<NodeIndex> {
        self.graph.neighbors_directed(node, Direction::Incoming).collect()
    }

    /// The nodes that wait for `node`.
    pub fn dependents(&self, node: NodeIndex) -> Vec<NodeIndex> {
        self.graph.neighbors_directed(node, Direction::Outgoing).collect()
    }

    pub fn node(&self, index: NodeIndex) -> Node {
        self.graph[index]
    }

    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }
}

/// The application key and ECR repository path of an ECR image URI.
fn image_repository(uri: &str) -> Option<&str> {
    let (_, path) = uri.split_once(".amazonaws.com/")?;
    let end = path.find(['@', ':']).unwrap_or(path.len());
    Some(&path[..end])
}

/// The current content of a change's resource, as text to search for ARNs.
fn current_text(change: &Change) -> String {
    match &change.target {
        Target::Role(role) => role
            .current
            .as_ref()
            .map(|current| {
                let mut text = current.spec.trust_policy.to_string();
                for document in current.spec.inline_policies.values() {
                    text.push_str(&document.to_string());
                }
                text
            })
            .unwrap_or_default(),
        Target::Repository(repository) => repository
            .current_policy
            .as_ref()
            .map(|policy| policy.to_string())
            .unwrap_or_default(),
        Target::Application(_) => String::new(),
    }
}

/// Builds the graph, or returns a diagnostic naming the resources of a cycle.
pub(crate) fn build(changes: &[Change]) -> Result<ChangeGraph, Box<Diagnostic>> {
    let main_of = |position: usize| {
        (changes[position].action != Action::NoOp).then_some(Node {
            change: position,
            phase: Phase::Main,
        })
    };
    let cleanup_of = |position: usize| {
        (changes[position].action == Action::Replace).then_some(Node {
            change: position,
            phase: Phase::Cleanup,
        })
    };
    let mut edges: BTreeSet<(Node, Node)> = BTreeSet::new();

    // Applications by key, with the index of their (first) change.
    let mut applications: BTreeMap<&str, usize> = BTreeMap::new();
    for (position, change) in changes.iter().enumerate() {
        if let Target::Application(app) = &change.target
            && change.action != Action::NoOp
        {
            applications.entry(app.key.as_str()).or_insert(position);
        }
    }

    for (position, change) in changes.iter().enumerate() {
        let Some(this) = main_of(position) else {
            continue;
        };
        // New content naming an ARN that only exists after apply.
        for key in change.references() {
            let Some(&app_position) = applications.get(key.as_str()) else {
                continue;
            };
            if matches!(changes[app_position].action, Action::Create | Action::Replace)
                && let Some(app_main) = main_of(app_position)
            {
                edges.insert((app_main, this));
            }
        }
        // Current content naming an ARN that goes away.
        let current = current_text(change);
        if !current.is_empty() {
            for (other_position, other) in changes.iter().enumerate() {
                let Target::Application(app) = &other.target else {
                    continue;
                };
                let Some(old) = &app.current else { continue };
                if !current.contains(&old.arn) {
                    continue;
                }
                let goes_away = match other.action {
                    Action::Delete => main_of(other_position),
                    Action::Replace => cleanup_of(other_position),
                    _ => None,
                };
                if let Some(gone) = goes_away
                    && gone != this
                {
                    edges.insert((this, gone));
                }
            }
        }
        // An existing application moving to an image whose pull access changes.
        if let Target::Repository(repository) = &change.target {
            for (other_position, other) in changes.iter().enumerate() {
                let Target::Application(app) = &other.target else {
                    continue;
                };
                if other.action != Action::Update {
                    continue;
                }
                let uses = app.desired.as_ref().is_some_and(|spec| {
                    spec.image
                        .iter()
                        .chain(spec.worker_type_specifications.values())
                        .any(|image| image_repository(&image.image_uri) == Some(repository.name.as_str()))
                });
                if uses && let Some(app_main) = main_of(other_position) {
                    edges.insert((this, app_main));
                }
            }
        }
    }
    let edges: Vec<(Node, Node)> = edges.into_iter().collect();
    assemble(changes, &edges)
}

/// The graph of `changes` with the given edges between their nodes (and
/// each replacement's main phase before its cleanup), checked for cycles.
pub(crate) fn assemble(changes: &[Change], edges: &[(Node, Node)]) -> Result<ChangeGraph, Box<Diagnostic>> {
    let mut graph = DiGraph::new();
    let mut index = BTreeMap::new();
    for (position, change) in changes.iter().enumerate() {
        if change.action == Action::NoOp {
            continue;
        }
        let main = Node {
            change: position,
            phase: Phase::Main,
        };
        index.insert(main, graph.add_node(main));
        if change.action == Action::Replace {
            let cleanup = Node {
                change: position,
                phase: Phase::Cleanup,
            };
            let cleanup_index = graph.add_node(cleanup);
            index.insert(cleanup, cleanup_index);
            graph.add_edge(index[&main], cleanup_index, ());
        }
    }
    for (from, to) in edges {
        if let (Some(&from), Some(&to)) = (index.get(from), index.get(to)) {
            graph.add_edge(from, to, ());
        }
    }
    match toposort(&graph, None) {
        Ok(order) => Ok(ChangeGraph { graph, index, order }),
        Err(_) => Err(Box::new(cycle_diagnostic(&graph, changes))),
    }
}

fn cycle_diagnostic(graph: &DiGraph<Node, ()>, changes: &[Change]) -> Diagnostic {
    let mut names: Vec<String> = Vec::new();
    for component in tarjan_scc(graph) {
        let cyclic = component.len() > 1 || component.first().is_some_and(|node| graph.contains_edge(*node, *node));
        if cyclic {
            for node in component {
                let address = changes[graph[node].change].address.to_string();
                if !names.contains(&address) {
                    names.push(address);
                }
            }
        }
    }
    names.sort();
    Diagnostic::error(
        "plan.cycle",
        format!(
            "the changes to {} depend on each other in a cycle",
            names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        ),
    )
    .with_help("break the cycle, for example by not naming an application's ARN in a policy it needs")
}

/// Fills each change's `depends_on` (what its main phase waits for) and
/// `cleanup_after` (what a replacement's deletion of the old resource waits
/// for) with the addresses of the changes whose nodes come first.
pub(crate) fn fill_depends_on(changes: &mut [Change], graph: &ChangeGraph) {
    let mut main: Vec<BTreeSet<Address>> = vec![BTreeSet::new(); changes.len()];
    let mut cleanup: Vec<BTreeSet<Address>> = vec![BTreeSet::new(); changes.len()];
    for edge in graph.graph.edge_indices() {
        let Some((from, to)) = graph.graph.edge_endpoints(edge) else {
            continue;
        };
        let from = graph.graph[from];
        let to = graph.graph[to];
        if from.change == to.change {
            continue;
        }
        let address = changes[from.change].address.clone();
        match to.phase {
            Phase::Main => main[to.change].insert(address),
            Phase::Cleanup => cleanup[to.change].insert(address),
        };
    }
    for ((change, main), cleanup) in changes.iter_mut().zip(main).zip(cleanup) {
        change.depends_on = main.into_iter().collect();
        change.cleanup_after = cleanup.into_iter().collect();
    }
}

#[cfg(test)]
mod tests;
