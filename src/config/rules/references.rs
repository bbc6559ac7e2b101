//! Cross-resource rules: references to undeclared resources (with a "did
//! you mean"), duplicate entries in reference lists, and two resources that
//! would get the same AWS name.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::model::ResourceKind;

use super::super::pipeline::Parsed;
use super::super::raw::{Sp, SpList};
use super::super::text::did_you_mean;

pub(super) fn check(parsed: &Parsed, diagnostics: &mut Diagnostics) {
    for app in &parsed.applications {
        if let Some(network) = &app.value.network {
            undeclared(parsed, ResourceKind::Network, network, diagnostics);
        }
        if let Some(configs) = &app.value.configs {
            check_list(parsed, ResourceKind::Config, configs, diagnostics);
        }
    }
    for role in &parsed.roles {
        if let Some(apps) = &role.value.trust_applications {
            check_list(parsed, ResourceKind::Application, apps, diagnostics);
        }
    }
    for repository in &parsed.repositories {
        if let Some(apps) = &repository.value.applications {
            check_list(parsed, ResourceKind::Application, apps, diagnostics);
        }
    }
    duplicate_names(parsed, diagnostics);
}

/// Reports `name` if no resource of `kind` is declared under it. Returns
/// whether it is declared.
pub(crate) fn undeclared(
    parsed: &Parsed,
    kind: ResourceKind,
    name: &Sp<String>,
    diagnostics: &mut Diagnostics,
) -> bool {
    if parsed.is_declared(kind, name.get()) {
        return true;
    }
    let help = match did_you_mean(name.get(), parsed.declared_keys(kind)) {
        Some(close) => format!("did you mean `{close}`?"),
        None => format!("declare it as `[{}.{}]`", kind.table(), name.get()),
    };
    diagnostics.push(
        Diagnostic::error("reference.undeclared", format!("undeclared {kind} `{}`", name.get()))
            .at(parsed.span(name))
            .with_help(help),
    );
    false
}

fn check_list(parsed: &Parsed, kind: ResourceKind, list: &SpList, diagnostics: &mut Diagnostics) {
    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
    for name in list.iter() {
        undeclared(parsed, kind, name, diagnostics);
        let span = parsed.span(name);
        if let Some(first) = seen.get(name.get().as_str()) {
            diagnostics.push(
                Diagnostic::warning(
                    "reference.duplicate",
                    format!("{kind} `{}` is listed twice", name.get()),
                )
                .at(span)
                .with_label(first.clone(), "first listed here")
                .with_help("remove the duplicate"),
            );
        } else {
            seen.insert(name.get(), span);
        }
    }
}

/// The AWS name of a resource: its `name`, or `<stack>-<key>`.
pub(crate) fn aws_name(parsed: &Parsed, key: &str, name: Option<&Sp<String>>) -> Option<(String, bool)> {
    match name {
        Some(name) => Some((name.get().clone(), true)),
        None => parsed.stack_name().map(|stack| (format!("{stack}-{key}"), false)),
    }
}

fn duplicate_names(parsed: &Parsed, diagnostics: &mut Diagnostics) {
    let check = |kind: ResourceKind, items: Vec<(String, Span)>, fold_case: bool, diagnostics: &mut Diagnostics| {
        let mut seen: BTreeMap<String, Span> = BTreeMap::new();
        for (name, span) in items {
            let folded = if fold_case { name.to_lowercase() } else { name.clone() };
            if let Some(first) = seen.get(&folded) {
                let (plural, what) = match kind {
                    ResourceKind::Repository => ("repositories", "ECR repository"),
                    ResourceKind::Role => ("roles", "role name"),
                    _ => ("applications", "name"),
                };
                diagnostics.push(
                    Diagnostic::error("name.duplicate", format!("two {plural} use the {what} `{name}`"))
                        .at(span)
                        .with_label(first.clone(), "first used here")
                        .with_help(if fold_case {
                            "IAM role names are unique regardless of letter case; give one of them another `name`"
                        } else {
                            "give one of them another `name`"
                        }),
                );
            } else {
                seen.insert(folded, span);
            }
        }
    };
    let apps = parsed
        .applications
        .iter()
        .filter_map(|app| {
            let (name, explicit) = aws_name(parsed, &app.key, app.value.name.as_ref())?;
            let span = if explicit {
                app.value.name.as_ref().map(|n| parsed.span(n))
            } else {
                None
            };
            Some((name, span.unwrap_or_else(|| app.header.clone())))
        })
        .collect();
    check(ResourceKind::Application, apps, false, diagnostics);
    let roles = parsed
        .roles
        .iter()
        .filter_map(|role| {
            let (name, explicit) = aws_name(parsed, &role.key, role.value.name.as_ref())?;
            let span = if explicit {
                role.value.name.as_ref().map(|n| parsed.span(n))
            } else {
                None
            };
            Some((name, span.unwrap_or_else(|| role.header.clone())))
        })
        .collect();
    check(ResourceKind::Role, roles, true, diagnostics);
    let repositories = parsed
        .repositories
        .iter()
        .filter_map(|repository| repository.value.name.as_ref())
        .map(|name| (name.get().clone(), parsed.span(name)))
        .collect();
    check(ResourceKind::Repository, repositories, false, diagnostics);
}
