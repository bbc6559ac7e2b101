//! Normalisation: fills server defaults and removes differences that carry
//! no meaning, so that equal things compare equal.
//!
//! Both Desired and Actual go through [`application`]; the observed side
//! also through [`observed`], which reads what an absent field means on AWS.
//! The defaults come from the field declarations (`model::fields`) and are
//! listed in docs/api-semantics.md.

use serde_json::{Map, Value, json};

use crate::model::fields::{Absence, release_of};
use crate::model::update::field_json;
use crate::model::{
    ApplicationField, ApplicationSpec, AutoStart, AutoStop, Configuration, DiskType, ImageConfig, Interactive,
    Monitoring, Scheduler, WorkerType, tags,
};

/// The default ephemeral disk per worker, in GB.
pub const DEFAULT_WORKER_DISK_GB: u32 = 20;

/// `spec` with every server default filled in and every meaningless
/// difference (ordering, empty blocks, disabled blocks' details) removed.
pub fn application(spec: &ApplicationSpec) -> ApplicationSpec {
    let mut out = spec.clone();
    out.architecture.get_or_insert_default();
    out.auto_start.get_or_insert_with(AutoStart::default);
    let auto_stop = out.auto_stop.get_or_insert_with(AutoStop::default);
    if !auto_stop.enabled {
        // The idle timeout of a disabled auto-stop has no effect.
        auto_stop.idle_timeout_minutes = AutoStop::default().idle_timeout_minutes;
    }
    for capacity in out.initial_capacity.values_mut() {
        capacity.worker.disk_gb.get_or_insert(DEFAULT_WORKER_DISK_GB);
        capacity.worker.disk_type.get_or_insert(DiskType::Standard);
    }
    if let Some(network) = out.network.as_mut() {
        network.subnet_ids.sort();
        network.subnet_ids.dedup();
        network.security_group_ids.sort();
        network.security_group_ids.dedup();
        if network.subnet_ids.is_empty() && network.security_group_ids.is_empty() {
            out.network = None;
        }
    }
    if out.image.as_ref().is_some_and(|image| image.image_uri.is_empty()) {
        out.image = None;
    }
    out.worker_type_specifications
        .retain(|_, image| !image.image_uri.is_empty());
    out.runtime_configuration = configurations(&out.runtime_configuration);
    out.monitoring = monitoring(&out.monitoring);
    out.interactive = interactive(out.interactive.as_ref());
    // A block with one member gets the other's default; `{}` means off.
    if let Some(scheduler) = out.scheduler.as_mut() {
        *scheduler = scheduler.filled();
    }
    if out
        .disk_encryption
        .as_ref()
        .is_some_and(|d| d.encryption_key_arn.is_none() && d.encryption_context.is_empty())
    {
        out.disk_encryption = None;
    }
    if let Some(identity) = out.identity_center.as_mut() {
        identity.user_background_sessions_enabled.get_or_insert(false);
        if identity.instance_arn.is_none() {
            out.identity_center = None;
        }
    }
    if out.job_level_cost_allocation.as_ref().is_some_and(|c| !c.enabled) {
        out.job_level_cost_allocation = None;
    }
    out.tags.remove(tags::APPLIED_TAG);
    // AWS reserves the `aws:` prefix (docs/api-semantics.md, "Tags"): such
    // tags are set by AWS services (CloudFormation, for one) and cannot be
    // removed by anyone else, so they are never a difference.
    out.tags
        .retain(|key, _| !key.to_ascii_lowercase().starts_with(AWS_TAG_PREFIX));
    out
}

/// The tag key prefix AWS reserves for itself, in any case.
pub const AWS_TAG_PREFIX: &str = "aws:";

/// An application as AWS holds it, normalised ([`application`]), with what
/// an absent field means on AWS filled in:
///
/// - no `schedulerConfiguration` on a release that has the scheduler means
///   queueing is off: the service reports 15 and 360 whenever it is on;
/// - an image without `applicationLevelDigestResolution` resolves as the
///   release's default does (on up to emr-7.13, off from emr-7.14).
pub fn observed(spec: &ApplicationSpec) -> ApplicationSpec {
    let mut out = application(spec);
    let release = release_of(&out.release_label);
    let engine = out.engine;
    if out.scheduler.is_none() && ApplicationField::Scheduler.declaration().has("", release, engine) {
        out.scheduler = Some(Scheduler::DISABLED);
    }
    let default_resolution = |field: ApplicationField| field.declaration().member_default(release);
    if let Some(image) = out.image.as_mut() {
        fill_resolution(image, default_resolution(ApplicationField::Image));
    }
    let worker_default = default_resolution(ApplicationField::WorkerTypeSpecifications);
    for image in out.worker_type_specifications.values_mut() {
        fill_resolution(image, worker_default);
    }
    out
}

fn fill_resolution(image: &mut ImageConfig, default: Option<bool>) {
    if image.application_level_digest_resolution.is_none() {
        image.application_level_digest_resolution = default;
    }
}

/// Whether jobs submitted after a live image change to `spec` keep the old
/// image until the application restarts: the image (or a worker type's)
/// resolves its digest at application start (docs/api-semantics.md,
/// "Images"). `spec` is a normalised desired spec after [`adopt_unmanaged`].
pub fn image_resolved_at_start(spec: &ApplicationSpec) -> bool {
    let release = release_of(&spec.release_label);
    let resolves = |image: &ImageConfig, field: ApplicationField| {
        image
            .application_level_digest_resolution
            .or_else(|| field.declaration().member_default(release))
            .unwrap_or(false)
    };
    spec.image.iter().any(|image| resolves(image, ApplicationField::Image))
        || spec
            .worker_type_specifications
            .values()
            .any(|image| resolves(image, ApplicationField::WorkerTypeSpecifications))
}

/// Runtime configuration with classification order removed (the service
/// applies classifications by name, so their order carries no meaning).
fn configurations(list: &[Configuration]) -> Vec<Configuration> {
    let mut out: Vec<Configuration> = list
        .iter()
        .map(|configuration| Configuration {
            classification: configuration.classification.clone(),
            properties: configuration.properties.clone(),
            configurations: configurations(&configuration.configurations),
        })
        .collect();
    out.sort_by(|a, b| a.classification.cmp(&b.classification));
    out
}

fn monitoring(monitoring: &Monitoring) -> Monitoring {
    let mut out = monitoring.clone();
    if out
        .s3
        .as_ref()
        .is_some_and(|s3| s3.log_uri.is_none() && s3.encryption_key_arn.is_none())
    {
        out.s3 = None;
    }
    // Managed persistence is on unless turned off; an enabled block without
    // a key is the default.
    if out
        .managed_persistence
        .as_ref()
        .is_some_and(|m| m.enabled && m.encryption_key_arn.is_none())
    {
        out.managed_persistence = None;
    }
    // CloudWatch is off by default; a disabled block's details have no effect.
    if out.cloudwatch.as_ref().is_some_and(|c| !c.enabled) {
        out.cloudwatch = None;
    }
    if let Some(cloudwatch) = out.cloudwatch.as_mut() {
        let mut log_types = std::collections::BTreeMap::new();
        for (worker, types) in &cloudwatch.log_types {
            let mut types: Vec<String> = types.iter().map(|t| t.to_ascii_uppercase()).collect();
            types.sort();
            types.dedup();
            log_types.insert(worker.to_ascii_uppercase(), types);
        }
        cloudwatch.log_types = log_types;
    }
    if out.prometheus.as_ref().is_some_and(|p| p.remote_write_url.is_none()) {
        out.prometheus = None;
    }
    out
}

fn interactive(interactive: Option<&Interactive>) -> Option<Interactive> {
    let interactive = interactive?;
    let normalized = Interactive {
        studio_enabled: Some(interactive.studio_enabled.unwrap_or(false)),
        livy_endpoint_enabled: Some(interactive.livy_endpoint_enabled.unwrap_or(false)),
        session_enabled: Some(interactive.session_enabled.unwrap_or(false)),
    };
    let all_off = Interactive {
        studio_enabled: Some(false),
        livy_endpoint_enabled: Some(false),
        session_enabled: Some(false),
    };
    (normalized != all_off).then_some(normalized)
}

/// The fields whose absence from the stack means "whatever AWS has"
/// (`Absence::NotManaged` in their declarations).
pub fn unmanaged_fields() -> impl Iterator<Item = ApplicationField> {
    ApplicationField::ALL
        .into_iter()
        .filter(|field| field.declaration().absence == Absence::NotManaged)
}

/// Adjusts a normalised desired spec for what the stack leaves to the
/// service: where the stack file is silent, the actual value stands.
///
/// - every field declared `NotManaged` (`maximum_capacity`, which the API
///   cannot clear, and `scheduler`, whose default depends on the release);
/// - `application_level_digest_resolution`: its service default depends on
///   the release, so an absent flag means "whatever AWS has".
pub fn adopt_unmanaged(desired: &mut ApplicationSpec, actual: &ApplicationSpec) {
    for field in unmanaged_fields() {
        if desired.lacks(field) {
            desired.copy_field(actual, field);
        }
    }
    let adopt_resolution = |desired: &mut ImageConfig, actual: Option<&ImageConfig>| {
        if desired.application_level_digest_resolution.is_none() {
            desired.application_level_digest_resolution =
                actual.and_then(|image| image.application_level_digest_resolution);
        }
    };
    if let Some(image) = desired.image.as_mut() {
        adopt_resolution(image, actual.image.as_ref());
    }
    for (worker, image) in desired.worker_type_specifications.iter_mut() {
        adopt_resolution(image, actual.worker_type_specifications.get(worker));
    }
}

/// The inverse view of [`adopt_unmanaged`]: `actual` without the parts that
/// `desired` leaves to the service. The applied record hashes the stack's own
/// values, so drift is judged on this view; otherwise a value the service
/// chose (a digest resolution filled in from the release) would look like a
/// change made outside emrstack.
pub fn drop_unmanaged(actual: &mut ApplicationSpec, desired: &ApplicationSpec) {
    let bare = ApplicationSpec::new(actual.name.clone(), actual.engine, actual.release_label.clone());
    for field in unmanaged_fields() {
        if desired.lacks(field) {
            actual.copy_field(&bare, field);
        }
    }
    let drop_resolution = |actual: &mut ImageConfig, desired: Option<&ImageConfig>| {
        if desired.is_none_or(|image| image.application_level_digest_resolution.is_none()) {
            actual.application_level_digest_resolution = None;
        }
    };
    if let Some(image) = actual.image.as_mut() {
        drop_resolution(image, desired.image.as_ref());
    }
    for (worker, image) in actual.worker_type_specifications.iter_mut() {
        drop_resolution(image, desired.worker_type_specifications.get(worker));
    }
}

fn capacity_cpu(cpu: u32) -> Value {
    Value::String(format!("{cpu} vCPU"))
}

fn capacity_gb(gb: u32) -> Value {
    Value::String(format!("{gb} GB"))
}

fn worker_key(worker: &WorkerType) -> String {
    worker.as_str().to_string()
}

fn image_value(image: &ImageConfig) -> Value {
    let mut map = Map::new();
    map.insert("uri".to_string(), Value::String(image.image_uri.clone()));
    if let Some(resolution) = image.application_level_digest_resolution {
        map.insert(
            "application_level_digest_resolution".to_string(),
            Value::Bool(resolution),
        );
    }
    Value::Object(map)
}

fn configuration_map(list: &[Configuration]) -> Value {
    let mut map = Map::new();
    for configuration in list {
        let mut entry = Map::new();
        if !configuration.properties.is_empty() {
            entry.insert("properties".to_string(), json!(configuration.properties));
        }
        if !configuration.configurations.is_empty() {
            entry.insert(
                "configurations".to_string(),
                configuration_map(&configuration.configurations),
            );
        }
        let mut key = configuration.classification.clone();
        let mut n = 2;
        while map.contains_key(&key) {
            key = format!("{}#{n}", configuration.classification);
            n += 1;
        }
        map.insert(key, Value::Object(entry));
    }
    Value::Object(map)
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    // Serialising plain data structs cannot fail.
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// One field of a normalised spec, in the form plans show it: capacities as
/// `4 vCPU` and `16 GB`, worker types as in the stack file, runtime
/// configuration keyed by classification. Absent fields are `null`.
pub fn field_value(spec: &ApplicationSpec, field: ApplicationField) -> Value {
    match field {
        ApplicationField::Name => Value::String(spec.name.clone()),
        ApplicationField::Engine => Value::String(spec.engine.api_name().to_string()),
        ApplicationField::ReleaseLabel => Value::String(spec.release_label.clone()),
        ApplicationField::Architecture => Value::String(spec.architecture.unwrap_or_default().api_name().to_string()),
        ApplicationField::InitialCapacity => {
            if spec.initial_capacity.is_empty() {
                return Value::Null;
            }
            let mut map = Map::new();
            for (worker, capacity) in &spec.initial_capacity {
                let mut entry = Map::new();
                entry.insert("worker_count".to_string(), json!(capacity.worker_count));
                entry.insert("cpu".to_string(), capacity_cpu(capacity.worker.cpu));
                entry.insert("memory".to_string(), capacity_gb(capacity.worker.memory_gb));
                if let Some(disk) = capacity.worker.disk_gb {
                    entry.insert("disk".to_string(), capacity_gb(disk));
                }
                if let Some(disk_type) = capacity.worker.disk_type {
                    entry.insert("disk_type".to_string(), Value::String(disk_type.api_name().to_string()));
                }
                map.insert(worker_key(worker), Value::Object(entry));
            }
            Value::Object(map)
        }
        ApplicationField::MaximumCapacity => match &spec.maximum_capacity {
            None => Value::Null,
            Some(max) => {
                let mut map = Map::new();
                map.insert("cpu".to_string(), capacity_cpu(max.cpu));
                map.insert("memory".to_string(), capacity_gb(max.memory_gb));
                if let Some(disk) = max.disk_gb {
                    map.insert("disk".to_string(), capacity_gb(disk));
                }
                Value::Object(map)
            }
        },
        ApplicationField::Image => spec.image.as_ref().map_or(Value::Null, image_value),
        ApplicationField::WorkerTypeSpecifications => {
            if spec.worker_type_specifications.is_empty() {
                return Value::Null;
            }
            let mut map = Map::new();
            for (worker, image) in &spec.worker_type_specifications {
                map.insert(worker_key(worker), json!({ "image": image_value(image) }));
            }
            Value::Object(map)
        }
        ApplicationField::RuntimeConfiguration => {
            if spec.runtime_configuration.is_empty() {
                Value::Null
            } else {
                configuration_map(&spec.runtime_configuration)
            }
        }
        // `false` for off, as the stack file writes it.
        ApplicationField::Scheduler => match &spec.scheduler {
            None => Value::Null,
            Some(scheduler) if scheduler.is_disabled() => Value::Bool(false),
            Some(scheduler) => to_value(scheduler),
        },
        ApplicationField::Tags => {
            let visible: Map<String, Value> = spec
                .tags
                .iter()
                .filter(|(key, _)| key.as_str() != tags::APPLIED_TAG)
                .map(|(key, value)| (key.clone(), Value::String(value.clone())))
                .collect();
            if visible.is_empty() {
                Value::Null
            } else {
                Value::Object(visible)
            }
        }
        // Every other field as the model writes it, which is the stack
        // file's shape: auto start and stop, network, monitoring,
        // interactive, disk encryption, Identity Center, cost allocation,
        // and any field added later that needs no rendering of its own.
        other => match field_json(spec, other) {
            Value::Object(map) if map.is_empty() => Value::Null,
            value => value,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        CloudWatchLogging, Engine, InitialCapacity, ManagedPersistence, NetworkConfiguration, WorkerResources,
    };

    fn base() -> ApplicationSpec {
        ApplicationSpec::new("a", Engine::Spark, "emr-7.2.0")
    }

    #[test]
    fn omitted_fields_equal_their_server_defaults() {
        let mut explicit = base();
        explicit.architecture = Some(crate::model::Architecture::X86_64);
        explicit.auto_start = Some(AutoStart { enabled: true });
        explicit.auto_stop = Some(AutoStop {
            enabled: true,
            idle_timeout_minutes: 15,
        });
        explicit.monitoring.managed_persistence = Some(ManagedPersistence {
            enabled: true,
            encryption_key_arn: None,
        });
        explicit.monitoring.cloudwatch = Some(CloudWatchLogging {
            enabled: false,
            log_group_name: Some("/ignored".to_string()),
            ..CloudWatchLogging::default()
        });
        explicit.scheduler = Some(Scheduler {
            max_concurrent_runs: Some(15),
            queue_timeout_minutes: Some(360),
        });
        let mut implicit = base();
        // A partial block gets the other member's default.
        implicit.scheduler = Some(Scheduler {
            max_concurrent_runs: Some(15),
            queue_timeout_minutes: None,
        });
        assert_eq!(application(&explicit), application(&implicit));
    }

    #[test]
    fn an_empty_scheduler_is_off_and_shown_as_false() {
        let mut off = base();
        off.scheduler = Some(Scheduler::DISABLED);
        assert_eq!(
            field_value(&application(&off), ApplicationField::Scheduler),
            json!(false)
        );
        let mut unset = base();
        unset.release_label = "emr-7.5.0".to_string();
        assert_eq!(
            field_value(&application(&unset), ApplicationField::Scheduler),
            Value::Null
        );
        // On AWS, no block means off on a release that has the scheduler.
        assert_eq!(
            field_value(&observed(&unset), ApplicationField::Scheduler),
            json!(false)
        );
        let mut old = base();
        old.release_label = "emr-6.15.0".to_string();
        assert_eq!(field_value(&observed(&old), ApplicationField::Scheduler), Value::Null);
    }

    #[test]
    fn digest_resolution_defaults_by_release_on_the_observed_side() {
        let image = |flag| ImageConfig {
            image_uri: "111122223333.dkr.ecr.us-east-1.amazonaws.com/r:t".to_string(),
            application_level_digest_resolution: flag,
        };
        let mut spec = base();
        spec.release_label = "emr-7.13.0".to_string();
        spec.image = Some(image(None));
        assert_eq!(observed(&spec).image, Some(image(Some(true))));
        assert!(image_resolved_at_start(&application(&spec)));
        spec.release_label = "emr-7.14.0".to_string();
        assert_eq!(observed(&spec).image, Some(image(Some(false))));
        assert!(!image_resolved_at_start(&application(&spec)));
        spec.image = Some(image(Some(true)));
        assert!(image_resolved_at_start(&application(&spec)));
    }

    #[test]
    fn worker_disk_defaults_to_20_gb_standard() {
        let worker = |disk_gb, disk_type| InitialCapacity {
            worker_count: 1,
            worker: WorkerResources {
                cpu: 4,
                memory_gb: 16,
                disk_gb,
                disk_type,
            },
        };
        let mut a = base();
        a.initial_capacity.insert(WorkerType::Driver, worker(None, None));
        let mut b = base();
        b.initial_capacity
            .insert(WorkerType::Driver, worker(Some(20), Some(DiskType::Standard)));
        assert_eq!(application(&a), application(&b));
    }

    #[test]
    fn network_and_classification_order_carry_no_meaning() {
        let mut a = base();
        a.network = Some(NetworkConfiguration {
            subnet_ids: vec!["subnet-b".into(), "subnet-a".into()],
            security_group_ids: vec!["sg-1".into()],
        });
        a.runtime_configuration = vec![
            Configuration {
                classification: "spark-defaults".into(),
                properties: [("x".to_string(), "1".to_string())].into(),
                configurations: vec![],
            },
            Configuration {
                classification: "hive-site".into(),
                properties: Default::default(),
                configurations: vec![],
            },
        ];
        let mut b = a.clone();
        b.network.as_mut().unwrap().subnet_ids.reverse();
        b.runtime_configuration.reverse();
        assert_eq!(application(&a), application(&b));
    }

    #[test]
    fn field_values_show_capacity_units() {
        let mut spec = base();
        spec.initial_capacity.insert(
            WorkerType::Executor,
            InitialCapacity {
                worker_count: 2,
                worker: WorkerResources {
                    cpu: 4,
                    memory_gb: 16,
                    disk_gb: Some(20),
                    disk_type: None,
                },
            },
        );
        assert_eq!(
            field_value(&spec, ApplicationField::InitialCapacity),
            json!({"executor": {"worker_count": 2, "cpu": "4 vCPU", "memory": "16 GB", "disk": "20 GB"}})
        );
    }
}
