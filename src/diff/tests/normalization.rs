//! Normalisation.

use super::*;

/// A resolved spec with initial capacity and an enabled scheduler with one
/// member, so that the defaults inside them can be tested.
fn normal_base() -> ApplicationSpec {
    let mut spec: ApplicationSpec = ApplicationSpec::new("a", Engine::Spark, "emr-7.2.0");
    spec.initial_capacity.insert(WorkerType::Driver, capacity(1, 4, 16));
    spec.scheduler = Some(Scheduler {
        max_concurrent_runs: Some(15),
        queue_timeout_minutes: None,
    });
    spec
}

#[test]
fn normalize_makes_every_omitted_field_equal_its_server_default() {
    let check = |name: &str, edit: fn(&mut ApplicationSpec)| {
        let omitted = normal_base();
        let mut explicit = omitted.clone();
        edit(&mut explicit);
        assert_eq!(
            normalize::application(&omitted),
            normalize::application(&explicit),
            "{name}"
        );
        for field in ApplicationField::ALL {
            assert_eq!(
                field_value(&normalize::application(&omitted), field),
                field_value(&normalize::application(&explicit), field),
                "{name}: {field}"
            );
        }
        assert_eq!(
            crate::diff::application::applied_record(&omitted),
            crate::diff::application::applied_record(&explicit),
            "{name}"
        );
    };
    check("architecture", |s| s.architecture = Some(Architecture::X86_64));
    check("auto start", |s| s.auto_start = Some(AutoStart { enabled: true }));
    check("auto stop", |s| {
        s.auto_stop = Some(AutoStop {
            enabled: true,
            idle_timeout_minutes: 15,
        })
    });
    check("worker disk", |s| {
        let driver = s.initial_capacity.get_mut(&WorkerType::Driver).expect("driver");
        driver.worker.disk_gb = Some(20);
        driver.worker.disk_type = Some(DiskType::Standard);
    });
    check("worker disk size only", |s| {
        s.initial_capacity
            .get_mut(&WorkerType::Driver)
            .expect("driver")
            .worker
            .disk_gb = Some(20)
    });
    check("scheduler", |s| {
        s.scheduler = Some(Scheduler {
            max_concurrent_runs: Some(15),
            queue_timeout_minutes: Some(360),
        })
    });
    check("managed persistence", |s| {
        s.monitoring.managed_persistence = Some(ManagedPersistence {
            enabled: true,
            encryption_key_arn: None,
        })
    });
    check("cloudwatch disabled", |s| {
        s.monitoring.cloudwatch = Some(CloudWatchLogging {
            enabled: false,
            log_group_name: Some("/ignored".to_string()),
            ..CloudWatchLogging::default()
        })
    });
    check("empty s3 monitoring", |s| {
        s.monitoring.s3 = Some(S3Monitoring::default())
    });
    check("empty prometheus", |s| {
        s.monitoring.prometheus = Some(PrometheusMonitoring::default())
    });
    check("interactive all false", |s| {
        s.interactive = Some(Interactive {
            studio_enabled: Some(false),
            livy_endpoint_enabled: Some(false),
            session_enabled: Some(false),
        })
    });
    check("interactive empty", |s| s.interactive = Some(Interactive::default()));
    check("job-level cost allocation", |s| {
        s.job_level_cost_allocation = Some(JobLevelCostAllocation { enabled: false })
    });
    check("empty disk encryption", |s| {
        s.disk_encryption = Some(DiskEncryption::default())
    });
    check("empty identity center", |s| {
        s.identity_center = Some(IdentityCenter::default())
    });
    check("blank image", |s| {
        s.image = Some(ImageConfig {
            image_uri: String::new(),
            application_level_digest_resolution: None,
        })
    });
    check("blank worker image", |s| {
        s.worker_type_specifications.insert(
            WorkerType::Driver,
            ImageConfig {
                image_uri: String::new(),
                application_level_digest_resolution: None,
            },
        );
    });
    check("empty network", |s| s.network = Some(NetworkConfiguration::default()));
    check("ownership record", |s| {
        s.tags.insert(tags::APPLIED_TAG.to_string(), "ab=123456".to_string());
    });
    check("AWS-reserved tags", |s| {
        s.tags
            .insert("aws:cloudformation:stack-name".to_string(), "legacy".to_string());
    });
}

#[test]
fn normalize_keeps_every_real_difference() {
    let check = |name: &str, edit: fn(&mut ApplicationSpec)| {
        let base = normal_base();
        let mut edited = base.clone();
        edit(&mut edited);
        assert_ne!(normalize::application(&base), normalize::application(&edited), "{name}");
        assert_ne!(
            crate::diff::application::applied_record(&base),
            crate::diff::application::applied_record(&edited),
            "{name}"
        );
    };
    check("arm64", |s| s.architecture = Some(Architecture::Arm64));
    check("auto start off", |s| s.auto_start = Some(AutoStart { enabled: false }));
    check("auto stop 30", |s| {
        s.auto_stop = Some(AutoStop {
            enabled: true,
            idle_timeout_minutes: 30,
        })
    });
    check("auto stop off", |s| {
        s.auto_stop = Some(AutoStop {
            enabled: false,
            idle_timeout_minutes: 15,
        })
    });
    check("disk 40", |s| {
        s.initial_capacity
            .get_mut(&WorkerType::Driver)
            .expect("driver")
            .worker
            .disk_gb = Some(40)
    });
    check("shuffle optimized", |s| {
        s.initial_capacity
            .get_mut(&WorkerType::Driver)
            .expect("driver")
            .worker
            .disk_type = Some(DiskType::ShuffleOptimized)
    });
    check("worker count", |s| {
        s.initial_capacity
            .get_mut(&WorkerType::Driver)
            .expect("driver")
            .worker_count = 2
    });
    check("scheduler off", |s| s.scheduler = None);
    check("scheduler runs", |s| {
        s.scheduler = Some(Scheduler {
            max_concurrent_runs: Some(16),
            queue_timeout_minutes: None,
        })
    });
    check("managed persistence off", |s| {
        s.monitoring.managed_persistence = Some(ManagedPersistence {
            enabled: false,
            encryption_key_arn: None,
        })
    });
    check("managed persistence key", |s| {
        s.monitoring.managed_persistence = Some(ManagedPersistence {
            enabled: true,
            encryption_key_arn: Some("arn:aws:kms:us-east-1:111111111111:key/k".to_string()),
        })
    });
    check("cloudwatch on", |s| {
        s.monitoring.cloudwatch = Some(CloudWatchLogging {
            enabled: true,
            ..CloudWatchLogging::default()
        })
    });
    check("s3 logs", |s| {
        s.monitoring.s3 = Some(S3Monitoring {
            log_uri: Some("s3://b/".to_string()),
            encryption_key_arn: None,
        })
    });
    check("studio", |s| {
        s.interactive = Some(Interactive {
            studio_enabled: Some(true),
            ..Interactive::default()
        })
    });
    check("cost allocation on", |s| {
        s.job_level_cost_allocation = Some(JobLevelCostAllocation { enabled: true })
    });
    check("disk encryption", |s| {
        s.disk_encryption = Some(DiskEncryption {
            encryption_key_arn: Some("arn:k".to_string()),
            encryption_context: BTreeMap::new(),
        })
    });
    check("identity center", |s| {
        s.identity_center = Some(IdentityCenter {
            instance_arn: Some("arn:aws:sso:::instance/ssoins-1".to_string()),
            user_background_sessions_enabled: None,
        })
    });
    check("image", |s| {
        s.image = Some(ImageConfig {
            image_uri: "x.dkr.ecr.us-east-1.amazonaws.com/r:t".to_string(),
            application_level_digest_resolution: None,
        })
    });
    check("runtime property", |s| {
        s.runtime_configuration = vec![configuration("spark-defaults", &[("a", "1")])]
    });
    check("user tag", |s| {
        s.tags.insert("team".to_string(), "x".to_string());
    });
}

#[test]
fn normalize_ignores_the_order_of_sets() {
    let mut a = normal_base();
    a.network = Some(NetworkConfiguration {
        subnet_ids: vec!["subnet-b".into(), "subnet-a".into(), "subnet-a".into()],
        security_group_ids: vec!["sg-2".into(), "sg-1".into()],
    });
    let nested = |order: [&str; 2]| Configuration {
        classification: "spark-env".to_string(),
        properties: BTreeMap::new(),
        configurations: order.iter().map(|c| configuration(c, &[("k", "v")])).collect(),
    };
    a.runtime_configuration = vec![
        configuration("spark-defaults", &[("x", "1"), ("y", "2")]),
        configuration("hive-site", &[]),
        nested(["export", "java"]),
    ];
    a.monitoring.cloudwatch = Some(CloudWatchLogging {
        enabled: true,
        log_types: BTreeMap::from([("spark_driver".to_string(), vec!["stderr".into(), "STDOUT".into()])]),
        ..CloudWatchLogging::default()
    });
    let mut b = a.clone();
    let network = b.network.as_mut().expect("network");
    network.subnet_ids = vec!["subnet-a".into(), "subnet-b".into()];
    network.security_group_ids.reverse();
    b.runtime_configuration = vec![
        nested(["java", "export"]),
        configuration("hive-site", &[]),
        configuration("spark-defaults", &[("y", "2"), ("x", "1")]),
    ];
    b.monitoring.cloudwatch = Some(CloudWatchLogging {
        enabled: true,
        log_types: BTreeMap::from([("SPARK_DRIVER".to_string(), vec!["STDOUT".into(), "STDERR".into()])]),
        ..CloudWatchLogging::default()
    });
    assert_eq!(normalize::application(&a), normalize::application(&b));
    assert_eq!(
        crate::diff::application::applied_record(&a),
        crate::diff::application::applied_record(&b)
    );
}

#[test]
fn field_values_show_capacities_in_display_units() {
    let mut spec = normal_base();
    spec.initial_capacity
        .get_mut(&WorkerType::Driver)
        .expect("driver")
        .worker
        .disk_type = Some(DiskType::ShuffleOptimized);
    spec.maximum_capacity = Some(MaximumCapacity {
        cpu: 64,
        memory_gb: 256,
        disk_gb: Some(1000),
    });
    let spec = normalize::application(&spec);
    let check = |field: ApplicationField, expect: Value| assert_eq!(field_value(&spec, field), expect, "{field}");
    check(
        ApplicationField::InitialCapacity,
        json!({"driver": {"worker_count": 1, "cpu": "4 vCPU", "memory": "16 GB", "disk": "20 GB", "disk_type": "SHUFFLE_OPTIMIZED"}}),
    );
    check(
        ApplicationField::MaximumCapacity,
        json!({"cpu": "64 vCPU", "memory": "256 GB", "disk": "1000 GB"}),
    );
    check(ApplicationField::Architecture, json!("X86_64"));
    check(ApplicationField::Engine, json!("SPARK"));
    check(
        ApplicationField::Scheduler,
        json!({"max_concurrent_runs": 15, "queue_timeout_minutes": 360}),
    );
    check(ApplicationField::Network, Value::Null);
    check(ApplicationField::Monitoring, Value::Null);
}

#[test]
fn adopt_unmanaged_takes_what_the_stack_leaves_to_the_service() {
    let image = |uri: &str, resolution: Option<bool>| ImageConfig {
        image_uri: uri.to_string(),
        application_level_digest_resolution: resolution,
    };
    let maximum = |cpu| MaximumCapacity {
        cpu,
        memory_gb: 4 * cpu,
        disk_gb: None,
    };
    let mut actual = normal_base();
    actual.maximum_capacity = Some(maximum(400));
    actual.image = Some(image("r:1", Some(true)));
    actual
        .worker_type_specifications
        .insert(WorkerType::Executor, image("e:1", Some(false)));

    // The stack is silent: the actual values stand.
    let mut silent = normal_base();
    silent.image = Some(image("r:2", None));
    silent
        .worker_type_specifications
        .insert(WorkerType::Executor, image("e:2", None));
    silent
        .worker_type_specifications
        .insert(WorkerType::Driver, image("d:2", None));
    adopt_unmanaged(&mut silent, &actual);
    assert_eq!(silent.maximum_capacity, Some(maximum(400)));
    assert_eq!(silent.image, Some(image("r:2", Some(true))));
    assert_eq!(
        silent.worker_type_specifications[&WorkerType::Executor],
        image("e:2", Some(false))
    );
    // No actual image for the driver: nothing to adopt.
    assert_eq!(
        silent.worker_type_specifications[&WorkerType::Driver],
        image("d:2", None)
    );

    // The stack speaks: its values stand.
    let mut explicit = normal_base();
    explicit.maximum_capacity = Some(maximum(8));
    explicit.image = Some(image("r:2", Some(false)));
    adopt_unmanaged(&mut explicit, &actual);
    assert_eq!(explicit.maximum_capacity, Some(maximum(8)));
    assert_eq!(explicit.image, Some(image("r:2", Some(false))));
}
