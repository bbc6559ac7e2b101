//! Network checks.

use super::*;

fn subnet(id: &str, vpc: &str, zone: &str, zone_id: &str, free: u32) -> SubnetInfo {
    SubnetInfo {
        id: id.to_string(),
        vpc_id: vpc.to_string(),
        availability_zone: zone.to_string(),
        availability_zone_id: zone_id.to_string(),
        cidr_block: "10.0.0.0/24".to_string(),
        available_ip_address_count: free,
    }
}

fn security_group(id: &str, vpc: &str) -> SecurityGroupInfo {
    SecurityGroupInfo {
        id: id.to_string(),
        vpc_id: vpc.to_string(),
        name: id.to_string(),
    }
}

#[test]
fn networks_are_checked_against_ec2() {
    // (subnets, groups, maximum vCPU and worker vCPU of the application, expected codes)
    type Case<'a> = (
        Vec<SubnetInfo>,
        Vec<SecurityGroupInfo>,
        Option<(u32, Option<u32>)>,
        &'a [&'a str],
    );
    let a = subnet("subnet-a", "vpc-1", "us-east-1a", "use1-az1", 250);
    let b = subnet("subnet-b", "vpc-1", "us-east-1b", "use1-az2", 250);
    let other_vpc = subnet("subnet-b", "vpc-2", "us-east-1b", "use1-az2", 250);
    let unsupported = subnet("subnet-b", "vpc-1", "us-east-1c", "use1-az3", 250);
    let small = subnet("subnet-b", "vpc-1", "us-east-1b", "use1-az2", 10);
    let sg = security_group("sg-1", "vpc-1");
    let sg_other = security_group("sg-1", "vpc-2");
    let cases: Vec<Case> = vec![
        (vec![a.clone(), b.clone()], vec![sg.clone()], Some((64, None)), &[]),
        (
            vec![a.clone()],
            vec![sg.clone()],
            None,
            &["network.subnet-not-found", "network.single-zone"],
        ),
        (
            vec![a.clone(), b.clone()],
            vec![],
            None,
            &["network.security-group-not-found"],
        ),
        (
            vec![a.clone(), other_vpc],
            vec![sg.clone()],
            None,
            &["network.mixed-vpcs"],
        ),
        (
            vec![a.clone(), b.clone()],
            vec![sg_other],
            None,
            &["network.mixed-vpcs"],
        ),
        (
            vec![a.clone(), unsupported],
            vec![sg.clone()],
            None,
            &["network.unsupported-zone"],
        ),
        // 64 vCPU of 4-vCPU workers is 16 workers: more than 10 free addresses.
        (
            vec![a.clone(), small.clone()],
            vec![sg.clone()],
            Some((64, None)),
            &["network.subnet-too-small"],
        ),
        // With 8-vCPU workers it is 8 workers, which fit.
        (
            vec![a.clone(), small.clone()],
            vec![sg.clone()],
            Some((64, Some(8))),
            &[],
        ),
        // 16 vCPU of 1-vCPU workers is 16 workers.
        (
            vec![a.clone(), small],
            vec![sg.clone()],
            Some((16, Some(1))),
            &["network.subnet-too-small"],
        ),
    ];
    for (subnets, groups, maximum, expect) in cases {
        let mut desired = stack();
        desired.networks.insert(
            "private".to_string(),
            DesiredNetwork {
                subnet_ids: vec!["subnet-a".to_string(), "subnet-b".to_string()],
                security_group_ids: vec!["sg-1".to_string()],
            },
        );
        let mut app = spec("etl");
        app.network = Some(NetworkConfiguration {
            subnet_ids: vec!["subnet-a".to_string(), "subnet-b".to_string()],
            security_group_ids: vec!["sg-1".to_string()],
        });
        if let Some((cpu, worker_cpu)) = maximum {
            app.maximum_capacity = Some(MaximumCapacity {
                cpu,
                memory_gb: cpu * 4,
                disk_gb: None,
            });
            if let Some(worker_cpu) = worker_cpu {
                app.initial_capacity
                    .insert(WorkerType::Executor, capacity(1, worker_cpu, worker_cpu * 4));
            }
        }
        declare(&mut desired, "etl", app);
        desired.applications.get_mut("etl").expect("etl").network = Some("private".to_string());
        let mut actual = account();
        for subnet in &subnets {
            actual.subnets.insert(subnet.id.clone(), subnet.clone());
        }
        for group in &groups {
            actual.security_groups.insert(group.id.clone(), group.clone());
        }
        let out = plan(&desired, &actual);
        let mut found = codes(&out);
        found.dedup();
        assert_eq!(found, expect, "{subnets:?} {groups:?} {maximum:?}");
        for diagnostic in out.diagnostics.iter() {
            assert_eq!(diagnostic.subject.as_ref().expect("subject").address, "network.private");
            let warning = matches!(
                diagnostic.code.as_str(),
                "network.single-zone" | "network.subnet-too-small"
            );
            assert_eq!(!diagnostic.is_error(), warning, "{diagnostic:#?}");
        }
    }
}

#[test]
fn unsupported_zones_name_the_supported_ones() {
    let mut desired = stack();
    desired.networks.insert(
        "private".to_string(),
        DesiredNetwork {
            subnet_ids: vec!["subnet-c".to_string()],
            security_group_ids: Vec::new(),
        },
    );
    let mut actual = account();
    actual.subnets.insert(
        "subnet-c".to_string(),
        subnet("subnet-c", "vpc-1", "us-east-1c", "use1-az3", 250),
    );
    let out = plan(&desired, &actual);
    let error = diagnostic(&out, "network.unsupported-zone");
    assert!(error.message.contains("use1-az3"), "{}", error.message);
    assert!(error.help.as_deref().unwrap_or_default().contains("use1-az1"));
    assert_eq!(error.subject.as_ref().expect("subject").path, "subnet_ids[0]");
    // Another region has no such restriction.
    actual.region = "eu-west-1".to_string();
    assert!(!codes(&plan(&desired, &actual)).contains(&"network.unsupported-zone".to_string()));
}
