//! `UpdateApplication` as data: exactly what one request sends, decided
//! from the field declarations ([`super::fields`]) before anything talks to
//! AWS.
//!
//! The executor builds an [`ApplicationUpdate`] from the application as it
//! is now and the desired spec; `aws` turns it into the SDK's input member
//! by member, without deciding anything; `cloud::fake` applies it the way
//! the service stores it. So the clearing forms, the filled-in scheduler
//! members and the release and engine gates are decided here, once.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::application::{
    ApplicationField, ApplicationSpec, CloudWatchLogging, ImageConfig, Interactive, JobLevelCostAllocation,
    ManagedPersistence, Monitoring, PrometheusMonitoring, S3Monitoring, WorkerType,
};
use super::fields::{ChangeRule, Live, release_of};

/// An image as `UpdateApplication` takes it (`ImageConfigurationInput`):
/// without `image_uri` it removes the image.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageInput {
    /// `None` sends `{}`, which removes the image (docs/api-semantics.md, "Images").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_level_digest_resolution: Option<bool>,
}

impl ImageInput {
    /// `{}`: removes the image.
    pub const CLEAR: ImageInput = ImageInput {
        image_uri: None,
        application_level_digest_resolution: None,
    };
}

impl From<&ImageConfig> for ImageInput {
    fn from(image: &ImageConfig) -> ImageInput {
        ImageInput {
            image_uri: Some(image.image_uri.clone()),
            application_level_digest_resolution: image.application_level_digest_resolution,
        }
    }
}

/// One `UpdateApplication` request: the top-level fields it sends, each with
/// the value to send in `values`. Nothing is left to the sender to decide.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationUpdate {
    /// The fields sent; never `name`, `type` or `tags`.
    pub fields: BTreeSet<ApplicationField>,
    /// The value of each sent field, exactly as sent: an empty map or list
    /// is sent empty, an [`ImageInput::CLEAR`] as `{}`, a
    /// [`super::Scheduler::DISABLED`] as `{}`. Fields not in `fields` are unset.
    pub values: ApplicationSpec<ImageInput>,
}

/// How the request reaches the application.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Delivery {
    /// The application is CREATED or STOPPED: every member may be sent.
    Stopped,
    /// The application is STARTED and stays so: of a field whose declaration
    /// lets only some members change while STARTED, only those members are
    /// sent. The service refuses the others even unchanged ("Only
    /// MaxConcurrentRuns from SchedulerConfiguration can be updated when
    /// application is in STARTED state", aws/aws-cdk #35488).
    Live,
}

/// Why no request can be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateError {
    /// The field is not changed through `UpdateApplication`.
    NotUpdatable(ApplicationField),
    /// The stack leaves out a field the API cannot clear.
    CannotClear(ApplicationField),
}

impl fmt::Display for UpdateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpdateError::NotUpdatable(field) => write!(f, "`{field}` cannot be changed with UpdateApplication"),
            UpdateError::CannotClear(field) => write!(
                f,
                "`{field}` cannot be cleared: {}",
                match field.declaration().clearing {
                    super::fields::Clearing::NotSent(why) => why,
                    _ => "the API has no form for it",
                }
            ),
        }
    }
}

impl std::error::Error for UpdateError {}

impl ApplicationUpdate {
    /// The request that makes `fields` of the application, now `current`,
    /// what `desired` says. A field `desired` leaves out is sent in its
    /// clearing form; parts of a clearing form the desired release or engine
    /// lacks are left out, and a field with nothing left to send is not sent
    /// (so the request may be empty).
    pub fn new(
        current: &ApplicationSpec,
        desired: &ApplicationSpec,
        fields: &BTreeSet<ApplicationField>,
        delivery: Delivery,
    ) -> Result<ApplicationUpdate, UpdateError> {
        let release = release_of(&desired.release_label);
        let engine = desired.engine;
        let mut values: ApplicationSpec<ImageInput> =
            ApplicationSpec::new(desired.name.clone(), engine, desired.release_label.clone());
        let mut sent = BTreeSet::new();
        for &field in fields {
            let declaration = field.declaration();
            let has = |member: &str| declaration.has(member, release, engine);
            match field {
                ApplicationField::Name | ApplicationField::Engine | ApplicationField::Tags => {
                    return Err(UpdateError::NotUpdatable(field));
                }
                ApplicationField::ReleaseLabel => {}
                // Absent means the server default, which is what is sent.
                ApplicationField::Architecture => values.architecture = Some(desired.architecture.unwrap_or_default()),
                // The whole map, never a delta; an empty map clears it.
                ApplicationField::InitialCapacity => values.initial_capacity = desired.initial_capacity.clone(),
                ApplicationField::MaximumCapacity => match &desired.maximum_capacity {
                    Some(maximum) => values.maximum_capacity = Some(maximum.clone()),
                    None => return Err(UpdateError::CannotClear(field)),
                },
                ApplicationField::AutoStart => values.auto_start = Some(desired.auto_start.clone().unwrap_or_default()),
                ApplicationField::AutoStop => values.auto_stop = Some(desired.auto_stop.clone().unwrap_or_default()),
                ApplicationField::Network => values.network = Some(desired.network.clone().unwrap_or_default()),
                ApplicationField::Image => match &desired.image {
                    Some(image) => values.image = Some(ImageInput::from(image)),
                    None if has("") => values.image = Some(ImageInput::CLEAR),
                    None => continue,
                },
                ApplicationField::WorkerTypeSpecifications => {
                    // The declared worker types, and those AWS holds that the
                    // stack dropped; never a worker type neither has.
                    let mut map: BTreeMap<WorkerType, ImageInput> = desired
                        .worker_type_specifications
                        .iter()
                        .map(|(worker, image)| (*worker, ImageInput::from(image)))
                        .collect();
                    if has("") {
                        for worker in current.worker_type_specifications.keys() {
                            map.entry(*worker).or_insert(ImageInput::CLEAR);
                        }
                    }
                    if map.is_empty() {
                        continue;
                    }
                    values.worker_type_specifications = map;
                }
                ApplicationField::RuntimeConfiguration => {
                    values.runtime_configuration = desired.runtime_configuration.clone();
                }
                ApplicationField::Monitoring => {
                    let wanted = &desired.monitoring;
                    let monitoring = Monitoring {
                        s3: wanted
                            .s3
                            .clone()
                            .or_else(|| has("s3MonitoringConfiguration").then(S3Monitoring::default)),
                        managed_persistence: wanted.managed_persistence.clone().or_else(|| {
                            has("managedPersistenceMonitoringConfiguration").then_some(ManagedPersistence {
                                enabled: true,
                                encryption_key_arn: None,
                            })
                        }),
                        cloudwatch: wanted
                            .cloudwatch
                            .clone()
                            .or_else(|| has("cloudWatchLoggingConfiguration").then(CloudWatchLogging::default)),
                        prometheus: wanted
                            .prometheus
                            .clone()
                            .or_else(|| has("prometheusMonitoringConfiguration").then(PrometheusMonitoring::default)),
                    };
                    if monitoring.is_empty() {
                        continue;
                    }
                    values.monitoring = monitoring;
                }
                ApplicationField::Interactive => {
                    // Every flag the application has is sent, false unless
                    // set, so that the block means the same whatever the
                    // service does with missing members.
                    let wanted = desired.interactive.clone().unwrap_or_default();
                    let flag = |member: &str, value: Option<bool>| value.or_else(|| has(member).then_some(false));
                    let interactive = Interactive {
                        studio_enabled: flag("studioEnabled", wanted.studio_enabled),
                        livy_endpoint_enabled: flag("livyEndpointEnabled", wanted.livy_endpoint_enabled),
                        session_enabled: flag("sessionEnabled", wanted.session_enabled),
                    };
                    if interactive == Interactive::default() {
                        continue;
                    }
                    values.interactive = Some(interactive);
                }
                // Both members, so that a missing one is not set to its
                // default; while STARTED only those the service takes then
                // (see `Delivery::Live`). A stack without a scheduler leaves
                // it to the service: not sent.
                ApplicationField::Scheduler => match &desired.scheduler {
                    Some(scheduler) => {
                        let filled = scheduler.filled();
                        values.scheduler = Some(match delivery {
                            Delivery::Live => only_live_members(field, &filled),
                            Delivery::Stopped => filled,
                        });
                    }
                    None => continue,
                },
                ApplicationField::DiskEncryption => {
                    values.disk_encryption = Some(desired.disk_encryption.clone().unwrap_or_default());
                }
                ApplicationField::IdentityCenter => match &desired.identity_center {
                    Some(identity) => values.identity_center = Some(identity.clone()),
                    None if has("") => values.identity_center = Some(Default::default()),
                    None => continue,
                },
                ApplicationField::JobLevelCostAllocation => {
                    values.job_level_cost_allocation = Some(
                        desired
                            .job_level_cost_allocation
                            .clone()
                            .unwrap_or(JobLevelCostAllocation { enabled: false }),
                    );
                }
            }
            sent.insert(field);
        }
        Ok(ApplicationUpdate { fields: sent, values })
    }

    /// Whether the request sends nothing (no call is needed).
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

/// `value` with only the members that `field`'s declaration lets change while
/// STARTED (`Live::OnlyMembers`); unchanged for other fields.
fn only_live_members<T>(field: ApplicationField, value: &T) -> T
where
    T: Serialize + for<'de> Deserialize<'de> + Clone,
{
    let ChangeRule::Update(Live::OnlyMembers(members)) = field.declaration().change else {
        return value.clone();
    };
    let Ok(Value::Object(mut map)) = serde_json::to_value(value) else {
        return value.clone();
    };
    map.retain(|key, _| members.iter().any(|(stack, _)| stack == key));
    serde_json::from_value(Value::Object(map)).unwrap_or_else(|_| value.clone())
}

/// A field of a spec as JSON, keyed as the model serialises it (`null` when
/// absent): the form [`super::fields::FieldDeclaration::accepts_while_started`]
/// compares.
pub fn field_json<I: Serialize>(spec: &ApplicationSpec<I>, field: ApplicationField) -> Value {
    let key = match field {
        ApplicationField::Engine => "engine",
        other => other.as_str(),
    };
    serde_json::to_value(spec)
        .ok()
        .and_then(|value| value.get(key).cloned())
        .unwrap_or(Value::Null)
}

/// Sets a field of a spec from its JSON form (as [`field_json`] gives it):
/// the way to copy a field between specs of different image types, such as
/// from a request to what the service stores. `null` clears it. Fails when
/// the value does not have the field's shape.
pub fn set_field_json<I>(spec: &mut ApplicationSpec<I>, field: ApplicationField, value: Value) -> Result<(), String>
where
    I: Serialize + for<'de> Deserialize<'de>,
{
    let key = match field {
        ApplicationField::Engine => "engine",
        other => other.as_str(),
    };
    let mut whole = serde_json::to_value(&*spec).map_err(|e| e.to_string())?;
    let map = whole.as_object_mut().ok_or("a spec is a JSON object")?;
    if value.is_null() {
        map.remove(key);
    } else {
        map.insert(key.to_string(), value);
    }
    *spec = serde_json::from_value(whole).map_err(|e| format!("`{field}`: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        AutoStart, AutoStop, Engine, InitialCapacity, MaximumCapacity, NetworkConfiguration, Scheduler, WorkerResources,
    };

    fn image(uri: &str) -> ImageConfig {
        ImageConfig {
            image_uri: uri.to_string(),
            application_level_digest_resolution: None,
        }
    }

    fn update(current: &ApplicationSpec, desired: &ApplicationSpec, fields: &[ApplicationField]) -> ApplicationUpdate {
        ApplicationUpdate::new(current, desired, &fields.iter().copied().collect(), Delivery::Stopped).expect("update")
    }

    #[test]
    fn absent_fields_are_sent_in_their_clearing_forms() {
        let bare = ApplicationSpec::new("a", Engine::Spark, "emr-7.13.0");
        let fields: Vec<ApplicationField> = ApplicationField::ALL
            .into_iter()
            .filter(|f| f.is_updatable() && *f != ApplicationField::MaximumCapacity)
            .collect();
        let mut current = bare.clone();
        current
            .worker_type_specifications
            .insert(WorkerType::Executor, image("x"));
        let sent = update(&current, &bare, &fields);
        let values = &sent.values;
        assert_eq!(values.architecture, Some(crate::model::Architecture::X86_64));
        assert_eq!(values.auto_start, Some(AutoStart::default()));
        assert_eq!(values.auto_stop, Some(AutoStop::default()));
        assert_eq!(values.network, Some(NetworkConfiguration::default()));
        assert_eq!(values.image, Some(ImageInput::CLEAR));
        // Only the worker type AWS holds is cleared.
        assert_eq!(
            values.worker_type_specifications,
            BTreeMap::from([(WorkerType::Executor, ImageInput::CLEAR)])
        );
        assert!(values.monitoring.prometheus.is_some());
        assert_eq!(
            values.interactive,
            Some(Interactive {
                studio_enabled: Some(false),
                livy_endpoint_enabled: Some(false),
                session_enabled: Some(false),
            })
        );
        // A stack without a scheduler leaves it to the service.
        assert!(!sent.fields.contains(&ApplicationField::Scheduler));
        assert!(sent.fields.contains(&ApplicationField::WorkerTypeSpecifications));
    }

    #[test]
    fn clearing_forms_leave_out_what_the_release_or_engine_lacks() {
        let old_spark = ApplicationSpec::new("a", Engine::Spark, "emr-7.0.0");
        let fields = [
            ApplicationField::Monitoring,
            ApplicationField::Interactive,
            ApplicationField::WorkerTypeSpecifications,
            ApplicationField::IdentityCenter,
        ];
        let sent = update(&old_spark, &old_spark, &fields);
        assert_eq!(sent.values.monitoring.prometheus, None);
        assert!(sent.values.monitoring.s3.is_some());
        let interactive = sent.values.interactive.clone().expect("interactive");
        assert_eq!(interactive.session_enabled, None);
        assert_eq!(interactive.studio_enabled, Some(false));
        // No worker type on either side, and no Identity Center on 7.0.
        assert!(!sent.fields.contains(&ApplicationField::WorkerTypeSpecifications));
        assert!(!sent.fields.contains(&ApplicationField::IdentityCenter));

        let hive = ApplicationSpec::new("h", Engine::Hive, "emr-7.13.0");
        let sent = update(&hive, &hive, &fields);
        assert_eq!(sent.values.monitoring.prometheus, None);
        assert!(!sent.fields.contains(&ApplicationField::Interactive), "{sent:?}");
    }

    #[test]
    fn a_partial_scheduler_is_sent_with_both_members() {
        let current = ApplicationSpec::new("a", Engine::Spark, "emr-7.5.0");
        let mut desired = current.clone();
        desired.scheduler = Some(Scheduler {
            max_concurrent_runs: Some(5),
            queue_timeout_minutes: None,
        });
        let sent = update(&current, &desired, &[ApplicationField::Scheduler]);
        assert_eq!(
            sent.values.scheduler,
            Some(Scheduler {
                max_concurrent_runs: Some(5),
                queue_timeout_minutes: Some(360),
            })
        );
        desired.scheduler = Some(Scheduler::DISABLED);
        let sent = update(&current, &desired, &[ApplicationField::Scheduler]);
        assert_eq!(sent.values.scheduler, Some(Scheduler::DISABLED));
    }

    #[test]
    fn a_live_scheduler_update_sends_max_concurrent_runs_alone() {
        let current = ApplicationSpec::new("a", Engine::Spark, "emr-7.5.0");
        let mut desired = current.clone();
        desired.scheduler = Some(Scheduler {
            max_concurrent_runs: Some(5),
            queue_timeout_minutes: Some(120),
        });
        let fields = BTreeSet::from([ApplicationField::Scheduler, ApplicationField::MaximumCapacity]);
        desired.maximum_capacity = Some(MaximumCapacity {
            cpu: 8,
            memory_gb: 32,
            disk_gb: None,
        });
        let sent = ApplicationUpdate::new(&current, &desired, &fields, Delivery::Live).expect("update");
        assert_eq!(
            sent.values.scheduler,
            Some(Scheduler {
                max_concurrent_runs: Some(5),
                queue_timeout_minutes: None,
            })
        );
        assert_eq!(sent.values.maximum_capacity, desired.maximum_capacity);
    }

    #[test]
    fn fields_the_api_cannot_take_are_refused() {
        let bare = ApplicationSpec::new("a", Engine::Spark, "emr-7.5.0");
        for (field, expect) in [
            (
                ApplicationField::Name,
                UpdateError::NotUpdatable(ApplicationField::Name),
            ),
            (
                ApplicationField::Tags,
                UpdateError::NotUpdatable(ApplicationField::Tags),
            ),
            (
                ApplicationField::MaximumCapacity,
                UpdateError::CannotClear(ApplicationField::MaximumCapacity),
            ),
        ] {
            let result = ApplicationUpdate::new(&bare, &bare, &BTreeSet::from([field]), Delivery::Stopped);
            assert_eq!(result, Err(expect));
        }
        let mut desired = bare.clone();
        desired.maximum_capacity = Some(MaximumCapacity {
            cpu: 8,
            memory_gb: 32,
            disk_gb: None,
        });
        desired.initial_capacity.insert(
            WorkerType::Driver,
            InitialCapacity {
                worker_count: 1,
                worker: WorkerResources {
                    cpu: 2,
                    memory_gb: 4,
                    disk_gb: None,
                    disk_type: None,
                },
            },
        );
        let sent = update(
            &bare,
            &desired,
            &[ApplicationField::MaximumCapacity, ApplicationField::InitialCapacity],
        );
        assert_eq!(sent.values.maximum_capacity, desired.maximum_capacity);
        assert_eq!(sent.values.initial_capacity, desired.initial_capacity);
    }

    #[test]
    fn set_field_json_copies_a_field_between_image_types() {
        let mut stored = ApplicationSpec::<ImageConfig>::new("a", Engine::Spark, "emr-7.5.0");
        let mut sent = ApplicationSpec::<ImageInput>::new("a", Engine::Spark, "emr-7.5.0");
        sent.auto_stop = Some(AutoStop {
            enabled: false,
            idle_timeout_minutes: 30,
        });
        set_field_json(
            &mut stored,
            ApplicationField::AutoStop,
            field_json(&sent, ApplicationField::AutoStop),
        )
        .expect("set");
        assert_eq!(stored.auto_stop, sent.auto_stop);
        set_field_json(&mut stored, ApplicationField::AutoStop, Value::Null).expect("clear");
        assert_eq!(stored.auto_stop, None);
        assert!(set_field_json(&mut stored, ApplicationField::AutoStop, serde_json::json!("x")).is_err());
    }

    #[test]
    fn field_json_uses_the_model_keys() {
        let mut spec = ApplicationSpec::<ImageConfig>::new("a", Engine::Hive, "emr-7.5.0");
        spec.scheduler = Some(Scheduler::ENABLED_DEFAULTS);
        assert_eq!(
            field_json(&spec, ApplicationField::Engine),
            Value::String("HIVE".into())
        );
        assert_eq!(
            field_json(&spec, ApplicationField::Scheduler),
            serde_json::json!({"max_concurrent_runs": 15, "queue_timeout_minutes": 360})
        );
        assert_eq!(field_json(&spec, ApplicationField::Image), Value::Null);
    }
}
