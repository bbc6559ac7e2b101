//! Checks of `[networks.*]` against what EC2 reports: the subnets and
//! security groups exist and share one VPC, the subnets span two
//! availability zones in zones EMR Serverless supports, and they have room
//! for the applications' workers (`network.subnet-not-found`,
//! `network.security-group-not-found`, `network.mixed-vpcs`,
//! `network.single-zone`, `network.unsupported-zone`,
//! `network.subnet-too-small`; the user guide's "Configuring VPC access").

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{Actual, Address, Desired};

/// The availability zone IDs EMR Serverless supports, where the service
/// restricts them (`network.unsupported-zone`; the user guide's
/// "Configuring VPC access"). Regions not listed accept every zone.
fn supported_zone_ids(region: &str) -> Option<&'static [&'static str]> {
    match region {
        "us-east-1" => Some(&["use1-az1", "use1-az2", "use1-az4", "use1-az5", "use1-az6"]),
        "us-east-2" => Some(&["use2-az1", "use2-az2", "use2-az3"]),
        "ca-central-1" => Some(&["cac1-az1", "cac1-az2"]),
        _ => None,
    }
}

/// The vCPU per worker assumed when an application declares none (the
/// Spark default executor size).
const DEFAULT_WORKER_CPU: u32 = 4;

/// The most workers an application can run at once: its maximum vCPU over
/// its smallest worker (each worker takes one IP address).
fn peak_workers(desired: &Desired, key: &str) -> Option<u64> {
    let application = desired.applications.get(key)?;
    let max_cpu = application.spec.maximum_capacity.as_ref()?.cpu;
    let smallest = application
        .spec
        .initial_capacity
        .values()
        .map(|capacity| capacity.worker.cpu)
        .min()
        .unwrap_or(DEFAULT_WORKER_CPU)
        .max(1);
    Some(u64::from(max_cpu).div_ceil(u64::from(smallest)))
}

pub(super) fn check(desired: &Desired, actual: &Actual, diagnostics: &mut Diagnostics) {
    for (key, network) in &desired.networks {
        let address = Address::network(key);
        let mut vpcs: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut zones = BTreeSet::new();
        for (index, id) in network.subnet_ids.iter().enumerate() {
            let path = format!("subnet_ids[{index}]");
            let Some(subnet) = actual.subnets.get(id) else {
                diagnostics.push(
                    Diagnostic::error("network.subnet-not-found", format!("subnet `{id}` does not exist"))
                        .with_help(format!("check the ID and that it is in region `{}`", actual.region))
                        .about(address.to_string(), path),
                );
                continue;
            };
            vpcs.entry(subnet.vpc_id.clone()).or_default().push(id.clone());
            zones.insert(subnet.availability_zone.clone());
            if let Some(supported) = supported_zone_ids(&actual.region)
                && !supported.contains(&subnet.availability_zone_id.as_str())
            {
                diagnostics.push(
                    Diagnostic::error(
                        "network.unsupported-zone",
                        format!(
                            "subnet `{id}` is in zone `{}` ({}), where EMR Serverless does not run",
                            subnet.availability_zone_id, subnet.availability_zone
                        ),
                    )
                    .with_help(format!("use subnets in {}", supported.join(", ")))
                    .about(address.to_string(), path.clone()),
                );
            }
            let peak: u64 = desired
                .applications
                .iter()
                .filter(|(_, app)| app.network.as_deref() == Some(key.as_str()))
                .filter_map(|(app_key, _)| peak_workers(desired, app_key))
                .sum();
            if peak > u64::from(subnet.available_ip_address_count) {
                diagnostics.push(
                    Diagnostic::warning(
                        "network.subnet-too-small",
                        format!(
                            "subnet `{id}` has {} free addresses, but the applications on `{address}` can run up to {peak} workers at once, each needing one",
                            subnet.available_ip_address_count
                        ),
                    )
                    .with_help("use larger subnets, lower maximum_capacity, or use larger workers")
                    .about(address.to_string(), path),
                );
            }
        }
        for (index, id) in network.security_group_ids.iter().enumerate() {
            let path = format!("security_group_ids[{index}]");
            match actual.security_groups.get(id) {
                None => diagnostics.push(
                    Diagnostic::error(
                        "network.security-group-not-found",
                        format!("security group `{id}` does not exist"),
                    )
                    .with_help(format!("check the ID and that it is in region `{}`", actual.region))
                    .about(address.to_string(), path),
                ),
                Some(group) => vpcs.entry(group.vpc_id.clone()).or_default().push(id.clone()),
            }
        }
        if vpcs.len() > 1 {
            let detail: Vec<String> = vpcs
                .iter()
                .map(|(vpc, ids)| format!("`{vpc}` ({})", ids.join(", ")))
                .collect();
            diagnostics.push(
                Diagnostic::error(
                    "network.mixed-vpcs",
                    format!(
                        "the subnets and security groups of `{address}` are in different VPCs: {}",
                        detail.join(", ")
                    ),
                )
                .with_help("an application attaches to one VPC; use subnets and security groups of the same VPC")
                .about(address.to_string(), "subnet_ids"),
            );
        }
        let found_subnets = network
            .subnet_ids
            .iter()
            .filter(|id| actual.subnets.contains_key(*id))
            .count();
        if found_subnets > 0 && zones.len() < 2 {
            diagnostics.push(
                Diagnostic::warning(
                    "network.single-zone",
                    format!("the subnets of `{address}` are all in one availability zone"),
                )
                .with_help("use subnets in at least two zones, so EMR Serverless can run jobs when a zone fails")
                .about(address.to_string(), "subnet_ids"),
            );
        }
    }
}
