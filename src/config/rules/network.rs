//! Network rules: subnet and security group ID formats (EC2 refuses a
//! malformed ID), counts (the API model allows at most 16 subnets and 5
//! security groups), empty lists and duplicates (the model allows both, so
//! they are warnings), and a single subnet (one availability zone,
//! `network.single-subnet`).

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Diagnostics, Span};

use super::super::pipeline::Parsed;
use super::super::raw::SpList;
use super::super::text::{is_security_group_id, is_subnet_id};

pub(super) fn check(parsed: &Parsed, diagnostics: &mut Diagnostics) {
    for network in &parsed.networks {
        if let Some(groups) = &network.value.security_group_ids {
            check_list(parsed, groups, List::SecurityGroups, diagnostics);
        }
        let Some(subnets) = &network.value.subnet_ids else {
            continue;
        };
        check_list(parsed, subnets, List::Subnets, diagnostics);
        if subnets.len() == 1 {
            diagnostics.push(
                Diagnostic::warning(
                    "network.single-subnet",
                    format!("`network.{}` has one subnet, so every worker runs in one availability zone", network.key),
                )
                .at(parsed.span(subnets))
                .with_help("list private subnets in at least two availability zones, so EMR Serverless can use another zone when one fails"),
            );
        }
    }
}

#[derive(Clone, Copy)]
enum List {
    Subnets,
    SecurityGroups,
}

impl List {
    fn key(self) -> &'static str {
        match self {
            List::Subnets => "subnet_ids",
            List::SecurityGroups => "security_group_ids",
        }
    }

    fn max(self) -> usize {
        match self {
            List::Subnets => 16,
            List::SecurityGroups => 5,
        }
    }

    fn count_code(self) -> &'static str {
        match self {
            List::Subnets => "network.subnet-count",
            List::SecurityGroups => "network.security-group-count",
        }
    }

    fn id_code(self) -> &'static str {
        match self {
            List::Subnets => "network.subnet-id",
            List::SecurityGroups => "network.security-group-id",
        }
    }

    fn valid(self, id: &str) -> bool {
        match self {
            List::Subnets => is_subnet_id(id),
            List::SecurityGroups => is_security_group_id(id),
        }
    }

    fn noun(self) -> &'static str {
        match self {
            List::Subnets => "subnet ID",
            List::SecurityGroups => "security group ID",
        }
    }

    fn example(self) -> &'static str {
        match self {
            List::Subnets => "subnet-0123456789abcdef0",
            List::SecurityGroups => "sg-0123456789abcdef0",
        }
    }
}

fn check_list(parsed: &Parsed, list: &SpList, kind: List, diagnostics: &mut Diagnostics) {
    if list.len() > kind.max() {
        diagnostics.push(
            Diagnostic::error(
                kind.count_code(),
                format!(
                    "`{}` has {} entries; at most {} are allowed",
                    kind.key(),
                    list.len(),
                    kind.max()
                ),
            )
            .at(parsed.span(list))
            .with_help(format!("list 1 to {} {}s", kind.max(), kind.noun())),
        );
    } else if list.is_empty() {
        // The API model's lists have a minimum of 0 (an empty network
        // configuration means no VPC access), so this is only a warning.
        diagnostics.push(
            Diagnostic::warning(kind.count_code(), format!("`{}` is empty", kind.key()))
                .at(parsed.span(list))
                .with_help(format!(
                    "list 1 to {} {}s; an application needs subnets and security groups to reach a VPC, so remove `network` from the applications that should have none",
                    kind.max(),
                    kind.noun()
                )),
        );
    }
    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
    for id in list.iter() {
        let span = parsed.span(id);
        if !kind.valid(id.get()) {
            diagnostics.push(
                Diagnostic::error(kind.id_code(), format!("`{}` is not a {}", id.get(), kind.noun()))
                    .at(span.clone())
                    .with_help(format!("a {} looks like `{}`", kind.noun(), kind.example())),
            );
        }
        if let Some(first) = seen.get(id.get().as_str()) {
            diagnostics.push(
                Diagnostic::warning("network.duplicate-id", format!("`{}` is listed twice", id.get()))
                    .at(span)
                    .with_label(first.clone(), "first listed here")
                    .with_help("remove the duplicate; emrstack sends each ID once"),
            );
        } else {
            seen.insert(id.get(), span);
        }
    }
}
