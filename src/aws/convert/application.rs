//! EMR Serverless applications: `ApplicationSpec` to `CreateApplication` and
//! `UpdateApplication` inputs, and `GetApplication`'s `Application` back to
//! `ObservedApplication`.
//!
//! Outgoing, capacities are written as `N vCPU` / `N GB` and worker types in
//! the key spelling of each map. Incoming, every spelling the API pattern
//! allows is accepted; anything that does not parse is a [`CloudError`] of
//! kind `Other` naming the field, never a panic. Server defaults are not
//! filled in when AWS omits a field (`diff` does that), except inside a
//! returned block whose members the API marks optional (`enabled` of
//! auto-start, for example), where the documented default is the only
//! meaning the absence can have.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_emrserverless::operation::create_application::CreateApplicationInput;
use aws_sdk_emrserverless::operation::create_application::builders::CreateApplicationInputBuilder;
use aws_sdk_emrserverless::operation::update_application::UpdateApplicationInput;
use aws_sdk_emrserverless::operation::update_application::builders::UpdateApplicationInputBuilder;
use aws_sdk_emrserverless::types as sdk;
use aws_smithy_types::error::operation::BuildError;

use crate::cloud::{CloudError, ErrorKind};
use crate::model::{
    ApplicationField, ApplicationSpec, ApplicationState, ApplicationSummary, ApplicationUpdate, Architecture,
    AutoStart, AutoStop, CloudWatchLogging, Configuration, DiskEncryption, DiskType, Engine, IdentityCenter,
    ImageConfig, ImageInput, InitialCapacity, Interactive, JobLevelCostAllocation, JobRun, JobRunMode, JobRunState,
    ManagedPersistence, MaximumCapacity, Monitoring, NetworkConfiguration, ObservedApplication, PrometheusMonitoring,
    S3Monitoring, Scheduler, Session, SessionState, WorkerResources, WorkerType,
};

const CREATE: &str = "CreateApplication";
const UPDATE: &str = "UpdateApplication";
const GET: &str = "GetApplication";

// ---- outgoing ---------------------------------------------------------------

/// The `CreateApplication` input for `spec`: every field that is set, and the
/// tags, so the application never exists untagged.
pub(crate) fn create_input(
    spec: &ApplicationSpec,
    client_token: &str,
) -> Result<CreateApplicationInputBuilder, CloudError> {
    let mut input = CreateApplicationInput::builder()
        .name(&spec.name)
        .r#type(spec.engine.api_name())
        .release_label(&spec.release_label)
        .client_token(client_token);
    if let Some(architecture) = spec.architecture {
        input = input.architecture(sdk_architecture(architecture));
    }
    if !spec.initial_capacity.is_empty() {
        input = input.set_initial_capacity(Some(initial_capacity(CREATE, &spec.initial_capacity)?));
    }
    if let Some(maximum) = &spec.maximum_capacity {
        input = input.maximum_capacity(maximum_capacity(CREATE, maximum)?);
    }
    if let Some(auto_start) = &spec.auto_start {
        input = input.auto_start_configuration(auto_start_config(auto_start));
    }
    if let Some(auto_stop) = &spec.auto_stop {
        input = input.auto_stop_configuration(auto_stop_config(CREATE, auto_stop)?);
    }
    if let Some(network) = &spec.network {
        input = input.network_configuration(network_config(network));
    }
    if let Some(image) = &spec.image {
        input = input.image_configuration(image_input(&ImageInput::from(image)));
    }
    if !spec.worker_type_specifications.is_empty() {
        let specifications = spec
            .worker_type_specifications
            .iter()
            .map(|(worker, image)| {
                (
                    worker.specification_key().to_string(),
                    worker_specification(&ImageInput::from(image)),
                )
            })
            .collect();
        input = input.set_worker_type_specifications(Some(specifications));
    }
    if !spec.runtime_configuration.is_empty() {
        input = input.set_runtime_configuration(Some(configurations(CREATE, &spec.runtime_configuration)?));
    }
    if !spec.monitoring.is_empty() {
        input = input.monitoring_configuration(monitoring_config(CREATE, &spec.monitoring)?);
    }
    if let Some(interactive) = &spec.interactive {
        input = input.interactive_configuration(interactive_config(interactive));
    }
    if let Some(scheduler) = &spec.scheduler {
        input = input.scheduler_configuration(scheduler_config(CREATE, scheduler)?);
    }
    if let Some(encryption) = &spec.disk_encryption {
        input = input.disk_encryption_configuration(disk_encryption_config(encryption));
    }
    if let Some(identity_center) = &spec.identity_center {
        input = input.identity_center_configuration(identity_center_input(identity_center));
    }
    if let Some(allocation) = &spec.job_level_cost_allocation {
        input = input.job_level_cost_allocation_configuration(cost_allocation_config(allocation));
    }
    if !spec.tags.is_empty() {
        input = input.set_tags(Some(to_hash_map(&spec.tags)));
    }
    Ok(input)
}

/// The `UpdateApplication` input for `update`: each of its fields with the
/// value it carries, member for member. What to send (clearing forms, both
/// scheduler members, the gates of release and engine) was decided when the
/// update was built (`model::update`); a field without a value to send is a
/// bug there, reported as `Invalid` rather than guessed at.
pub(crate) fn update_input(
    id: &str,
    update: &ApplicationUpdate,
    client_token: &str,
) -> Result<UpdateApplicationInputBuilder, CloudError> {
    let values = &update.values;
    let mut input = UpdateApplicationInput::builder()
        .application_id(id)
        .client_token(client_token);
    let missing = |field: ApplicationField| {
        CloudError::new(
            ErrorKind::Invalid,
            UPDATE,
            format!("the update of `{field}` has no value to send"),
        )
    };
    for &field in &update.fields {
        input = match field {
            ApplicationField::Name | ApplicationField::Engine | ApplicationField::Tags => {
                return Err(CloudError::new(
                    ErrorKind::Invalid,
                    UPDATE,
                    format!("`{field}` cannot be changed with UpdateApplication"),
                ));
            }
            ApplicationField::ReleaseLabel => input.release_label(&values.release_label),
            ApplicationField::Architecture => {
                input.architecture(sdk_architecture(values.architecture.ok_or_else(|| missing(field))?))
            }
            // The whole map, never a delta; `{}` removes every entry.
            ApplicationField::InitialCapacity => {
                input.set_initial_capacity(Some(initial_capacity(UPDATE, &values.initial_capacity)?))
            }
            ApplicationField::MaximumCapacity => input.maximum_capacity(maximum_capacity(
                UPDATE,
                values.maximum_capacity.as_ref().ok_or_else(|| missing(field))?,
            )?),
            ApplicationField::AutoStart => input.auto_start_configuration(auto_start_config(
                values.auto_start.as_ref().ok_or_else(|| missing(field))?,
            )),
            ApplicationField::AutoStop => input.auto_stop_configuration(auto_stop_config(
                UPDATE,
                values.auto_stop.as_ref().ok_or_else(|| missing(field))?,
            )?),
            ApplicationField::Network => {
                input.network_configuration(network_config(values.network.as_ref().ok_or_else(|| missing(field))?))
            }
            ApplicationField::Image => {
                input.image_configuration(image_input(values.image.as_ref().ok_or_else(|| missing(field))?))
            }
            ApplicationField::WorkerTypeSpecifications => {
                let specifications = values
                    .worker_type_specifications
                    .iter()
                    .map(|(worker, image)| (worker.specification_key().to_string(), worker_specification(image)))
                    .collect();
                input.set_worker_type_specifications(Some(specifications))
            }
            // The whole list; `[]` clears it.
            ApplicationField::RuntimeConfiguration => {
                input.set_runtime_configuration(Some(configurations(UPDATE, &values.runtime_configuration)?))
            }
            ApplicationField::Monitoring => {
                input.monitoring_configuration(monitoring_config(UPDATE, &values.monitoring)?)
            }
            ApplicationField::Interactive => input.interactive_configuration(interactive_config(
                values.interactive.as_ref().ok_or_else(|| missing(field))?,
            )),
            ApplicationField::Scheduler => input.scheduler_configuration(scheduler_config(
                UPDATE,
                values.scheduler.as_ref().ok_or_else(|| missing(field))?,
            )?),
            ApplicationField::DiskEncryption => input.disk_encryption_configuration(disk_encryption_config(
                values.disk_encryption.as_ref().ok_or_else(|| missing(field))?,
            )),
            ApplicationField::IdentityCenter => input.identity_center_configuration(identity_center_input(
                values.identity_center.as_ref().ok_or_else(|| missing(field))?,
            )),
            ApplicationField::JobLevelCostAllocation => {
                input.job_level_cost_allocation_configuration(cost_allocation_config(
                    values
                        .job_level_cost_allocation
                        .as_ref()
                        .ok_or_else(|| missing(field))?,
                ))
            }
        };
    }
    Ok(input)
}

fn sdk_architecture(architecture: Architecture) -> sdk::Architecture {
    sdk::Architecture::from(architecture.api_name())
}

fn initial_capacity(
    operation: &str,
    capacity: &BTreeMap<WorkerType, InitialCapacity>,
) -> Result<HashMap<String, sdk::InitialCapacityConfig>, CloudError> {
    let mut map = HashMap::new();
    for (worker, entry) in capacity {
        let resources = &entry.worker;
        let worker_configuration = sdk::WorkerResourceConfig::builder()
            .cpu(cpu_text(resources.cpu))
            .memory(gb_text(resources.memory_gb))
            .set_disk(resources.disk_gb.map(gb_text))
            .set_disk_type(resources.disk_type.map(|disk_type| disk_type.api_name().to_string()))
            .build()
            .map_err(|err| build_error(operation, err))?;
        let worker_count = i64::try_from(entry.worker_count).map_err(|_| {
            out_of_range(
                operation,
                &format!("initial_capacity.{worker}.worker_count"),
                entry.worker_count,
            )
        })?;
        let config = sdk::InitialCapacityConfig::builder()
            .worker_count(worker_count)
            .worker_configuration(worker_configuration)
            .build()
            .map_err(|err| build_error(operation, err))?;
        map.insert(worker.initial_capacity_key().to_string(), config);
    }
    Ok(map)
}

fn maximum_capacity(operation: &str, maximum: &MaximumCapacity) -> Result<sdk::MaximumAllowedResources, CloudError> {
    sdk::MaximumAllowedResources::builder()
        .cpu(cpu_text(maximum.cpu))
        .memory(gb_text(maximum.memory_gb))
        .set_disk(maximum.disk_gb.map(gb_text))
        .build()
        .map_err(|err| build_error(operation, err))
}

fn auto_start_config(auto_start: &AutoStart) -> sdk::AutoStartConfig {
    sdk::AutoStartConfig::builder().enabled(auto_start.enabled).build()
}

fn auto_stop_config(operation: &str, auto_stop: &AutoStop) -> Result<sdk::AutoStopConfig, CloudError> {
    Ok(sdk::AutoStopConfig::builder()
        .enabled(auto_stop.enabled)
        .idle_timeout_minutes(to_i32(
            operation,
            "auto_stop.idle_timeout_minutes",
            auto_stop.idle_timeout_minutes,
        )?)
        .build())
}

fn network_config(network: &NetworkConfiguration) -> sdk::NetworkConfiguration {
    // Both lists are always present, so empty lists reach the service and
    // clear the configuration.
    sdk::NetworkConfiguration::builder()
        .set_subnet_ids(Some(network.subnet_ids.clone()))
        .set_security_group_ids(Some(network.security_group_ids.clone()))
        .build()
}

/// An image as sent; without a URI it is `{}`, which removes the image
/// (docs/api-semantics.md, "Images": the API refuses an empty `imageUri`).
fn image_input(image: &ImageInput) -> sdk::ImageConfigurationInput {
    sdk::ImageConfigurationInput::builder()
        .set_image_uri(image.image_uri.clone())
        .set_application_level_digest_resolution(image.application_level_digest_resolution)
        .build()
}

fn worker_specification(image: &ImageInput) -> sdk::WorkerTypeSpecificationInput {
    sdk::WorkerTypeSpecificationInput::builder()
        .image_configuration(image_input(image))
        .build()
}

pub(crate) fn configurations(operation: &str, list: &[Configuration]) -> Result<Vec<sdk::Configuration>, CloudError> {
    list.iter()
        .map(|configuration| {
            let nested = if configuration.configurations.is_empty() {
                None
            } else {
                Some(configurations(operation, &configuration.configurations)?)
            };
            let properties = if configuration.properties.is_empty() {
                None
            } else {
                Some(to_hash_map(&configuration.properties))
            };
            sdk::Configuration::builder()
                .classification(&configuration.classification)
                .set_properties(properties)
                .set_configurations(nested)
                .build()
                .map_err(|err| build_error(operation, err))
        })
        .collect()
}

fn s3_config(s3: &S3Monitoring) -> sdk::S3MonitoringConfiguration {
    sdk::S3MonitoringConfiguration::builder()
        .set_log_uri(s3.log_uri.clone())
        .set_encryption_key_arn(s3.encryption_key_arn.clone())
        .build()
}

fn managed_persistence_config(managed: &ManagedPersistence) -> sdk::ManagedPersistenceMonitoringConfiguration {
    sdk::ManagedPersistenceMonitoringConfiguration::builder()
        .enabled(managed.enabled)
        .set_encryption_key_arn(managed.encryption_key_arn.clone())
        .build()
}

fn cloudwatch_config(
    operation: &str,
    cloudwatch: &CloudWatchLogging,
) -> Result<sdk::CloudWatchLoggingConfiguration, CloudError> {
    let log_types = if cloudwatch.log_types.is_empty() {
        None
    } else {
        Some(
            cloudwatch
                .log_types
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    };
    sdk::CloudWatchLoggingConfiguration::builder()
        .enabled(cloudwatch.enabled)
        .set_log_group_name(cloudwatch.log_group_name.clone())
        .set_log_stream_name_prefix(cloudwatch.log_stream_name_prefix.clone())
        .set_encryption_key_arn(cloudwatch.encryption_key_arn.clone())
        .set_log_types(log_types)
        .build()
        .map_err(|err| build_error(operation, err))
}

fn prometheus_config(prometheus: &PrometheusMonitoring) -> sdk::PrometheusMonitoringConfiguration {
    sdk::PrometheusMonitoringConfiguration::builder()
        .set_remote_write_url(prometheus.remote_write_url.clone())
        .build()
}

/// The sub-configurations that are set (for an update, the clearing forms
/// are among them already).
pub(crate) fn monitoring_config(
    operation: &str,
    monitoring: &Monitoring,
) -> Result<sdk::MonitoringConfiguration, CloudError> {
    let cloudwatch = match &monitoring.cloudwatch {
        Some(cloudwatch) => Some(cloudwatch_config(operation, cloudwatch)?),
        None => None,
    };
    Ok(sdk::MonitoringConfiguration::builder()
        .set_s3_monitoring_configuration(monitoring.s3.as_ref().map(s3_config))
        .set_managed_persistence_monitoring_configuration(
            monitoring.managed_persistence.as_ref().map(managed_persistence_config),
        )
        .set_cloud_watch_logging_configuration(cloudwatch)
        .set_prometheus_monitoring_configuration(monitoring.prometheus.as_ref().map(prometheus_config))
        .build())
}

fn interactive_config(interactive: &Interactive) -> sdk::InteractiveConfiguration {
    sdk::InteractiveConfiguration::builder()
        .set_studio_enabled(interactive.studio_enabled)
        .set_livy_endpoint_enabled(interactive.livy_endpoint_enabled)
        .set_session_enabled(interactive.session_enabled)
        .build()
}

fn scheduler_config(operation: &str, scheduler: &Scheduler) -> Result<sdk::SchedulerConfiguration, CloudError> {
    let max = match scheduler.max_concurrent_runs {
        Some(value) => Some(to_i32(operation, "scheduler.max_concurrent_runs", value)?),
        None => None,
    };
    let queue = match scheduler.queue_timeout_minutes {
        Some(value) => Some(to_i32(operation, "scheduler.queue_timeout_minutes", value)?),
        None => None,
    };
    Ok(sdk::SchedulerConfiguration::builder()
        .set_max_concurrent_runs(max)
        .set_queue_timeout_minutes(queue)
        .build())
}

fn disk_encryption_config(encryption: &DiskEncryption) -> sdk::DiskEncryptionConfiguration {
    let context = if encryption.encryption_context.is_empty() {
        None
    } else {
        Some(to_hash_map(&encryption.encryption_context))
    };
    sdk::DiskEncryptionConfiguration::builder()
        .set_encryption_key_arn(encryption.encryption_key_arn.clone())
        .set_encryption_context(context)
        .build()
}

fn identity_center_input(identity_center: &IdentityCenter) -> sdk::IdentityCenterConfigurationInput {
    sdk::IdentityCenterConfigurationInput::builder()
        .set_identity_center_instance_arn(identity_center.instance_arn.clone())
        .set_user_background_sessions_enabled(identity_center.user_background_sessions_enabled)
        .build()
}

fn cost_allocation_config(allocation: &JobLevelCostAllocation) -> sdk::JobLevelCostAllocationConfiguration {
    sdk::JobLevelCostAllocationConfiguration::builder()
        .enabled(allocation.enabled)
        .build()
}

/// `4 vCPU`.
fn cpu_text(cpu: u32) -> String {
    format!("{cpu} vCPU")
}

/// `16 GB`.
fn gb_text(gb: u32) -> String {
    format!("{gb} GB")
}

fn to_hash_map(map: &BTreeMap<String, String>) -> HashMap<String, String> {
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn to_i32(operation: &str, field: &str, value: u32) -> Result<i32, CloudError> {
    i32::try_from(value).map_err(|_| out_of_range(operation, field, value))
}

fn out_of_range(operation: &str, field: &str, value: impl std::fmt::Display) -> CloudError {
    CloudError::new(
        ErrorKind::Invalid,
        operation,
        format!("`{field}` is out of range: {value}"),
    )
}

pub(crate) fn build_error(operation: &str, err: BuildError) -> CloudError {
    CloudError::new(
        ErrorKind::Invalid,
        operation,
        format!("could not build the request: {err}"),
    )
}

// ---- incoming ---------------------------------------------------------------

/// A field of a response that cannot be understood.
fn unparseable(operation: &str, field: &str, value: &str) -> CloudError {
    CloudError::new(
        ErrorKind::Other,
        operation,
        format!("unexpected value `{value}` in `{field}` of the response"),
    )
}

/// Parses a CPU amount in any form the API pattern allows: `4`, `4vCPU`,
/// `4 vCPU`, `4 vcpu`, `4 VCPU`.
pub(crate) fn parse_cpu(text: &str) -> Option<u32> {
    parse_quantity(text, "vcpu")
}

/// Parses a memory or disk amount in any form the API pattern allows: `16`,
/// `16GB`, `16 GB`, `16 gb`.
pub(crate) fn parse_gb(text: &str) -> Option<u32> {
    parse_quantity(text, "gb")
}

fn parse_quantity(text: &str, unit: &str) -> Option<u32> {
    let trimmed = text.trim();
    let digits_end = trimmed.find(|c: char| !c.is_ascii_digit()).unwrap_or(trimmed.len());
    if digits_end == 0 {
        return None;
    }
    let number = trimmed[..digits_end].parse().ok()?;
    let rest = trimmed[digits_end..].trim_start();
    (rest.is_empty() || rest.eq_ignore_ascii_case(unit)).then_some(number)
}

/// The application state, case-insensitively.
fn state(operation: &str, state: &sdk::ApplicationState) -> Result<ApplicationState, CloudError> {
    ApplicationState::from_api(state.as_str()).ok_or_else(|| unparseable(operation, "state", state.as_str()))
}

/// A `ListApplications` entry.
pub(crate) fn summary(entry: sdk::ApplicationSummary) -> Result<ApplicationSummary, CloudError> {
    Ok(ApplicationSummary {
        state: state("ListApplications", &entry.state)?,
        id: entry.id,
        arn: entry.arn,
        name: entry.name,
        created_at_ms: entry.created_at.to_millis().ok(),
    })
}

/// A `ListJobRuns` entry of a listing filtered to `mode` (the entry's own
/// `mode`, when the service sends one, wins).
pub(crate) fn job_run(entry: sdk::JobRunSummary, mode: JobRunMode) -> Result<JobRun, CloudError> {
    let state = JobRunState::from_api(entry.state.as_str())
        .ok_or_else(|| unparseable("ListJobRuns", "state", entry.state.as_str()))?;
    let mode = match &entry.mode {
        Some(value) => {
            JobRunMode::from_api(value.as_str()).ok_or_else(|| unparseable("ListJobRuns", "mode", value.as_str()))?
        }
        None => mode,
    };
    Ok(JobRun {
        id: entry.id,
        name: entry.name,
        state,
        mode,
    })
}

/// A `ListSessions` entry.
pub(crate) fn session(entry: sdk::SessionSummary) -> Result<Session, CloudError> {
    let state = SessionState::from_api(entry.state.as_str())
        .ok_or_else(|| unparseable("ListSessions", "state", entry.state.as_str()))?;
    Ok(Session {
        id: entry.session_id,
        name: entry.name,
        state,
    })
}

/// `GetApplication`'s application in the canonical form, without server defaults.
pub(crate) fn observed(app: sdk::Application) -> Result<ObservedApplication, CloudError> {
    let engine = Engine::from_api(&app.r#type).ok_or_else(|| unparseable(GET, "type", &app.r#type))?;
    let architecture = match &app.architecture {
        Some(value) => Some(
            Architecture::from_api(value.as_str()).ok_or_else(|| unparseable(GET, "architecture", value.as_str()))?,
        ),
        None => None,
    };
    let mut initial_capacity = BTreeMap::new();
    for (key, entry) in app.initial_capacity.unwrap_or_default() {
        let worker = WorkerType::from_api(engine, &key).ok_or_else(|| unparseable(GET, "initialCapacity", &key))?;
        let field = format!("initialCapacity.{key}");
        let worker_count = u64::try_from(entry.worker_count)
            .map_err(|_| unparseable(GET, &format!("{field}.workerCount"), &entry.worker_count.to_string()))?;
        let resources = entry
            .worker_configuration
            .ok_or_else(|| unparseable(GET, &format!("{field}.workerConfiguration"), "(absent)"))?;
        let worker_resources = WorkerResources {
            cpu: parse_cpu(&resources.cpu)
                .ok_or_else(|| unparseable(GET, &format!("{field}.workerConfiguration.cpu"), &resources.cpu))?,
            memory_gb: parse_gb(&resources.memory)
                .ok_or_else(|| unparseable(GET, &format!("{field}.workerConfiguration.memory"), &resources.memory))?,
            disk_gb: match &resources.disk {
                Some(disk) => Some(
                    parse_gb(disk)
                        .ok_or_else(|| unparseable(GET, &format!("{field}.workerConfiguration.disk"), disk))?,
                ),
                None => None,
            },
            disk_type: match &resources.disk_type {
                Some(disk_type) => Some(
                    DiskType::from_api(disk_type)
                        .ok_or_else(|| unparseable(GET, &format!("{field}.workerConfiguration.diskType"), disk_type))?,
                ),
                None => None,
            },
        };
        if initial_capacity
            .insert(
                worker,
                InitialCapacity {
                    worker_count,
                    worker: worker_resources,
                },
            )
            .is_some()
        {
            return Err(unparseable(
                GET,
                "initialCapacity",
                &format!("{key} (a worker type given twice)"),
            ));
        }
    }
    let maximum_capacity = match app.maximum_capacity {
        Some(maximum) => Some(MaximumCapacity {
            cpu: parse_cpu(&maximum.cpu).ok_or_else(|| unparseable(GET, "maximumCapacity.cpu", &maximum.cpu))?,
            memory_gb: parse_gb(&maximum.memory)
                .ok_or_else(|| unparseable(GET, "maximumCapacity.memory", &maximum.memory))?,
            disk_gb: match &maximum.disk {
                Some(disk) => Some(parse_gb(disk).ok_or_else(|| unparseable(GET, "maximumCapacity.disk", disk))?),
                None => None,
            },
        }),
        None => None,
    };
    let auto_stop = match app.auto_stop_configuration {
        Some(config) => Some(AutoStop {
            enabled: config.enabled.unwrap_or(true),
            idle_timeout_minutes: match config.idle_timeout_minutes {
                Some(minutes) => u32::try_from(minutes)
                    .map_err(|_| unparseable(GET, "autoStopConfiguration.idleTimeoutMinutes", &minutes.to_string()))?,
                None => AutoStop::default().idle_timeout_minutes,
            },
        }),
        None => None,
    };
    let mut worker_type_specifications = BTreeMap::new();
    for (key, specification) in app.worker_type_specifications.unwrap_or_default() {
        let worker =
            WorkerType::from_api(engine, &key).ok_or_else(|| unparseable(GET, "workerTypeSpecifications", &key))?;
        if let Some(image) = specification.image_configuration {
            worker_type_specifications.insert(worker, image_config(image));
        }
    }
    let scheduler = match app.scheduler_configuration {
        Some(config) => Some(Scheduler {
            max_concurrent_runs: optional_u32("schedulerConfiguration.maxConcurrentRuns", config.max_concurrent_runs)?,
            queue_timeout_minutes: optional_u32(
                "schedulerConfiguration.queueTimeoutMinutes",
                config.queue_timeout_minutes,
            )?,
        }),
        None => None,
    };
    let runtime_configuration = match app.runtime_configuration {
        Some(list) => observed_configurations(list),
        None => Vec::new(),
    };
    let spec = ApplicationSpec {
        name: app.name.unwrap_or_default(),
        engine,
        release_label: app.release_label,
        architecture,
        initial_capacity,
        maximum_capacity,
        auto_start: app.auto_start_configuration.map(|config| AutoStart {
            enabled: config.enabled.unwrap_or(true),
        }),
        auto_stop,
        network: app.network_configuration.map(|config| NetworkConfiguration {
            subnet_ids: config.subnet_ids.unwrap_or_default(),
            security_group_ids: config.security_group_ids.unwrap_or_default(),
        }),
        image: app.image_configuration.map(image_config),
        worker_type_specifications,
        runtime_configuration,
        monitoring: app
            .monitoring_configuration
            .map(observed_monitoring)
            .unwrap_or_default(),
        interactive: app.interactive_configuration.map(|config| Interactive {
            studio_enabled: config.studio_enabled,
            livy_endpoint_enabled: config.livy_endpoint_enabled,
            session_enabled: config.session_enabled,
        }),
        scheduler,
        disk_encryption: app.disk_encryption_configuration.map(|config| DiskEncryption {
            encryption_key_arn: config.encryption_key_arn,
            encryption_context: config.encryption_context.unwrap_or_default().into_iter().collect(),
        }),
        identity_center: app.identity_center_configuration.map(|config| IdentityCenter {
            instance_arn: config.identity_center_instance_arn,
            user_background_sessions_enabled: config.user_background_sessions_enabled,
        }),
        job_level_cost_allocation: app
            .job_level_cost_allocation_configuration
            .map(|config| JobLevelCostAllocation {
                enabled: config.enabled.unwrap_or(false),
            }),
        tags: app.tags.unwrap_or_default().into_iter().collect(),
    };
    Ok(ObservedApplication {
        state: state(GET, &app.state)?,
        id: app.application_id,
        arn: app.arn,
        // The service sends an empty string when there is nothing to say.
        state_details: app.state_details.filter(|details| !details.is_empty()),
        created_at_ms: app.created_at.to_millis().ok(),
        spec,
    })
}

fn optional_u32(field: &str, value: Option<i32>) -> Result<Option<u32>, CloudError> {
    match value {
        Some(number) => u32::try_from(number)
            .map(Some)
            .map_err(|_| unparseable(GET, field, &number.to_string())),
        None => Ok(None),
    }
}

fn image_config(image: sdk::ImageConfiguration) -> ImageConfig {
    ImageConfig {
        image_uri: image.image_uri,
        application_level_digest_resolution: image.application_level_digest_resolution,
    }
}

fn observed_configurations(list: Vec<sdk::Configuration>) -> Vec<Configuration> {
    list.into_iter()
        .map(|configuration| Configuration {
            classification: configuration.classification,
            properties: configuration.properties.unwrap_or_default().into_iter().collect(),
            configurations: observed_configurations(configuration.configurations.unwrap_or_default()),
        })
        .collect()
}

fn observed_monitoring(config: sdk::MonitoringConfiguration) -> Monitoring {
    Monitoring {
        s3: config.s3_monitoring_configuration.map(|s3| S3Monitoring {
            log_uri: s3.log_uri,
            encryption_key_arn: s3.encryption_key_arn,
        }),
        managed_persistence: config
            .managed_persistence_monitoring_configuration
            .map(|managed| ManagedPersistence {
                // Managed persistence is on unless turned off (GUIDE).
                enabled: managed.enabled.unwrap_or(true),
                encryption_key_arn: managed.encryption_key_arn,
            }),
        cloudwatch: config
            .cloud_watch_logging_configuration
            .map(|cloudwatch| CloudWatchLogging {
                enabled: cloudwatch.enabled,
                log_group_name: cloudwatch.log_group_name,
                log_stream_name_prefix: cloudwatch.log_stream_name_prefix,
                encryption_key_arn: cloudwatch.encryption_key_arn,
                log_types: cloudwatch.log_types.unwrap_or_default().into_iter().collect(),
            }),
        prometheus: config
            .prometheus_monitoring_configuration
            .map(|prometheus| PrometheusMonitoring {
                remote_write_url: prometheus.remote_write_url,
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Delivery;
    use crate::model::fields::Clearing;
    use aws_smithy_types::DateTime;
    use std::collections::BTreeSet;

    /// A spec with every field set.
    fn full_spec() -> ApplicationSpec {
        let mut spec = ApplicationSpec::new("etl", Engine::Spark, "emr-7.5.0");
        spec.architecture = Some(Architecture::Arm64);
        spec.initial_capacity.insert(
            WorkerType::Driver,
            InitialCapacity {
                worker_count: 2,
                worker: WorkerResources {
                    cpu: 4,
                    memory_gb: 16,
                    disk_gb: Some(40),
                    disk_type: Some(DiskType::ShuffleOptimized),
                },
            },
        );
        spec.initial_capacity.insert(
            WorkerType::Executor,
            InitialCapacity {
                worker_count: 10,
                worker: WorkerResources {
                    cpu: 2,
                    memory_gb: 8,
                    disk_gb: None,
                    disk_type: None,
                },
            },
        );
        spec.maximum_capacity = Some(MaximumCapacity {
            cpu: 200,
            memory_gb: 800,
            disk_gb: Some(2000),
        });
        spec.auto_start = Some(AutoStart { enabled: false });
        spec.auto_stop = Some(AutoStop {
            enabled: true,
            idle_timeout_minutes: 30,
        });
        spec.network = Some(NetworkConfiguration {
            subnet_ids: vec!["subnet-1".to_string(), "subnet-2".to_string()],
            security_group_ids: vec!["sg-1".to_string()],
        });
        spec.image = Some(ImageConfig {
            image_uri: "111122223333.dkr.ecr.us-east-1.amazonaws.com/spark:latest".to_string(),
            application_level_digest_resolution: Some(true),
        });
        spec.worker_type_specifications.insert(
            WorkerType::Executor,
            ImageConfig {
                image_uri: "111122223333.dkr.ecr.us-east-1.amazonaws.com/spark:exec".to_string(),
                application_level_digest_resolution: None,
            },
        );
        spec.runtime_configuration = vec![Configuration {
            classification: "spark-defaults".to_string(),
            properties: BTreeMap::from([("spark.executor.cores".to_string(), "2".to_string())]),
            configurations: vec![Configuration {
                classification: "export".to_string(),
                properties: BTreeMap::from([("JAVA_HOME".to_string(), "/usr/lib/jvm".to_string())]),
                configurations: Vec::new(),
            }],
        }];
        spec.monitoring = Monitoring {
            s3: Some(S3Monitoring {
                log_uri: Some("s3://logs/etl/".to_string()),
                encryption_key_arn: Some("arn:aws:kms:us-east-1:111122223333:key/s3".to_string()),
            }),
            managed_persistence: Some(ManagedPersistence {
                enabled: false,
                encryption_key_arn: None,
            }),
            cloudwatch: Some(CloudWatchLogging {
                enabled: true,
                log_group_name: Some("/emr/etl".to_string()),
                log_stream_name_prefix: Some("etl".to_string()),
                encryption_key_arn: None,
                log_types: BTreeMap::from([(
                    "SPARK_DRIVER".to_string(),
                    vec!["STDOUT".to_string(), "STDERR".to_string()],
                )]),
            }),
            prometheus: Some(PrometheusMonitoring {
                remote_write_url: Some(
                    "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write".to_string(),
                ),
            }),
        };
        spec.interactive = Some(Interactive {
            studio_enabled: Some(true),
            livy_endpoint_enabled: Some(false),
            session_enabled: None,
        });
        spec.scheduler = Some(Scheduler {
            max_concurrent_runs: Some(20),
            queue_timeout_minutes: Some(120),
        });
        spec.disk_encryption = Some(DiskEncryption {
            encryption_key_arn: Some("arn:aws:kms:us-east-1:111122223333:key/disk".to_string()),
            encryption_context: BTreeMap::from([("team".to_string(), "data".to_string())]),
        });
        spec.identity_center = Some(IdentityCenter {
            instance_arn: Some("arn:aws:sso:::instance/ssoins-1".to_string()),
            user_background_sessions_enabled: Some(true),
        });
        spec.job_level_cost_allocation = Some(JobLevelCostAllocation { enabled: true });
        spec.tags = BTreeMap::from([
            ("emrstack:stack".to_string(), "dev".to_string()),
            ("team".to_string(), "data".to_string()),
        ]);
        spec
    }

    /// What a faithful service would return for a create input.
    fn echo(input: &CreateApplicationInput) -> sdk::Application {
        let specifications = input.worker_type_specifications.as_ref().map(|map| {
            map.iter()
                .map(|(key, spec)| {
                    let image = spec.image_configuration.as_ref().map(|image| {
                        sdk::ImageConfiguration::builder()
                            .image_uri(image.image_uri.clone().unwrap_or_default())
                            .set_application_level_digest_resolution(image.application_level_digest_resolution)
                            .build()
                            .expect("image")
                    });
                    (
                        key.clone(),
                        sdk::WorkerTypeSpecification::builder()
                            .set_image_configuration(image)
                            .build(),
                    )
                })
                .collect()
        });
        sdk::Application::builder()
            .application_id("00f1")
            .arn("arn:aws:emr-serverless:us-east-1:111122223333:/applications/00f1")
            .set_name(input.name.clone())
            .release_label(input.release_label.clone().expect("release label"))
            .r#type(input.r#type.clone().expect("type"))
            .state(sdk::ApplicationState::Created)
            .state_details("")
            .created_at(DateTime::from_secs(0))
            .updated_at(DateTime::from_secs(0))
            .set_architecture(input.architecture.clone())
            .set_initial_capacity(input.initial_capacity.clone())
            .set_maximum_capacity(input.maximum_capacity.clone())
            .set_auto_start_configuration(input.auto_start_configuration.clone())
            .set_auto_stop_configuration(input.auto_stop_configuration.clone())
            .set_network_configuration(input.network_configuration.clone())
            .set_image_configuration(input.image_configuration.as_ref().map(|image| {
                sdk::ImageConfiguration::builder()
                    .image_uri(image.image_uri.clone().unwrap_or_default())
                    .set_application_level_digest_resolution(image.application_level_digest_resolution)
                    .build()
                    .expect("image")
            }))
            .set_worker_type_specifications(specifications)
            .set_runtime_configuration(input.runtime_configuration.clone())
            .set_monitoring_configuration(input.monitoring_configuration.clone())
            .set_interactive_configuration(input.interactive_configuration.clone())
            .set_scheduler_configuration(input.scheduler_configuration.clone())
            .set_disk_encryption_configuration(input.disk_encryption_configuration.clone())
            .set_identity_center_configuration(input.identity_center_configuration.as_ref().map(|config| {
                sdk::IdentityCenterConfiguration::builder()
                    .set_identity_center_instance_arn(config.identity_center_instance_arn.clone())
                    .set_user_background_sessions_enabled(config.user_background_sessions_enabled)
                    .build()
            }))
            .set_job_level_cost_allocation_configuration(input.job_level_cost_allocation_configuration.clone())
            .set_tags(input.tags.clone())
            .build()
            .expect("application")
    }

    #[test]
    fn create_input_carries_every_field_in_api_spelling() {
        let input = create_input(&full_spec(), "token-1").unwrap().build().unwrap();
        assert_eq!(input.name.as_deref(), Some("etl"));
        assert_eq!(input.r#type.as_deref(), Some("SPARK"));
        assert_eq!(input.release_label.as_deref(), Some("emr-7.5.0"));
        assert_eq!(input.client_token.as_deref(), Some("token-1"));
        assert_eq!(input.architecture, Some(sdk::Architecture::Arm64));
        let capacity = input.initial_capacity.as_ref().unwrap();
        let driver = capacity["DRIVER"].worker_configuration.as_ref().unwrap();
        assert_eq!((driver.cpu.as_str(), driver.memory.as_str()), ("4 vCPU", "16 GB"));
        assert_eq!(driver.disk.as_deref(), Some("40 GB"));
        assert_eq!(driver.disk_type.as_deref(), Some("SHUFFLE_OPTIMIZED"));
        assert_eq!(capacity["EXECUTOR"].worker_count, 10);
        let maximum = input.maximum_capacity.as_ref().unwrap();
        assert_eq!(
            (maximum.cpu.as_str(), maximum.memory.as_str(), maximum.disk.as_deref()),
            ("200 vCPU", "800 GB", Some("2000 GB"))
        );
        assert_eq!(input.auto_start_configuration.as_ref().unwrap().enabled, Some(false));
        assert_eq!(
            input.auto_stop_configuration.as_ref().unwrap().idle_timeout_minutes,
            Some(30)
        );
        assert_eq!(
            input.network_configuration.as_ref().unwrap().subnet_ids,
            Some(vec!["subnet-1".to_string(), "subnet-2".to_string()])
        );
        assert_eq!(
            input
                .image_configuration
                .as_ref()
                .unwrap()
                .application_level_digest_resolution,
            Some(true)
        );
        assert!(
            input
                .worker_type_specifications
                .as_ref()
                .unwrap()
                .contains_key("Executor")
        );
        let runtime = input.runtime_configuration.as_ref().unwrap();
        assert_eq!(runtime[0].classification, "spark-defaults");
        assert_eq!(runtime[0].configurations.as_ref().unwrap()[0].classification, "export");
        let monitoring = input.monitoring_configuration.as_ref().unwrap();
        assert!(monitoring.s3_monitoring_configuration.is_some());
        assert_eq!(
            monitoring
                .managed_persistence_monitoring_configuration
                .as_ref()
                .unwrap()
                .enabled,
            Some(false)
        );
        assert!(monitoring.cloud_watch_logging_configuration.as_ref().unwrap().enabled);
        assert!(monitoring.prometheus_monitoring_configuration.is_some());
        assert_eq!(
            input.interactive_configuration.as_ref().unwrap().studio_enabled,
            Some(true)
        );
        assert_eq!(
            input.scheduler_configuration.as_ref().unwrap().max_concurrent_runs,
            Some(20)
        );
        assert_eq!(
            input
                .disk_encryption_configuration
                .as_ref()
                .unwrap()
                .encryption_context
                .as_ref()
                .unwrap()["team"],
            "data"
        );
        assert_eq!(
            input
                .identity_center_configuration
                .as_ref()
                .unwrap()
                .user_background_sessions_enabled,
            Some(true)
        );
        assert_eq!(
            input.job_level_cost_allocation_configuration.as_ref().unwrap().enabled,
            Some(true)
        );
        assert_eq!(input.tags.as_ref().unwrap()["team"], "data");
    }

    #[test]
    fn every_field_round_trips_through_create_and_get() {
        for spec in [full_spec(), ApplicationSpec::new("minimal", Engine::Hive, "emr-6.15.0")] {
            let input = create_input(&spec, "t").unwrap().build().unwrap();
            let observed = observed(echo(&input)).unwrap();
            assert_eq!(observed.spec, spec);
            assert_eq!(observed.state, ApplicationState::Created);
            assert_eq!(observed.state_details, None);
        }
    }

    #[test]
    fn hive_worker_types_use_each_maps_spelling() {
        let mut spec = ApplicationSpec::new("hive", Engine::Hive, "emr-7.0.0");
        let resources = WorkerResources {
            cpu: 1,
            memory_gb: 4,
            disk_gb: None,
            disk_type: None,
        };
        for worker in [WorkerType::HiveDriver, WorkerType::TezTask] {
            spec.initial_capacity.insert(
                worker,
                InitialCapacity {
                    worker_count: 1,
                    worker: resources.clone(),
                },
            );
            spec.worker_type_specifications.insert(
                worker,
                ImageConfig {
                    image_uri: "repo:tag".to_string(),
                    application_level_digest_resolution: None,
                },
            );
        }
        let input = create_input(&spec, "t").unwrap().build().unwrap();
        let mut capacity_keys: Vec<_> = input.initial_capacity.as_ref().unwrap().keys().cloned().collect();
        capacity_keys.sort();
        assert_eq!(capacity_keys, ["DRIVER", "TEZ_TASK"]);
        let mut specification_keys: Vec<_> = input
            .worker_type_specifications
            .as_ref()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        specification_keys.sort();
        assert_eq!(specification_keys, ["HiveDriver", "TezTask"]);
        assert_eq!(observed(echo(&input)).unwrap().spec, spec);
    }

    #[test]
    fn capacity_strings_parse_in_every_allowed_form() {
        for (text, expect) in [
            ("4", Some(4)),
            ("4vCPU", Some(4)),
            ("4 vCPU", Some(4)),
            ("4 vcpu", Some(4)),
            ("4 VCPU", Some(4)),
            (" 16 vCPU ", Some(16)),
            ("vCPU", None),
            ("4 GB", None),
            ("four", None),
            ("", None),
            ("-4", None),
            ("99999999999", None),
        ] {
            assert_eq!(parse_cpu(text), expect, "cpu {text:?}");
        }
        for (text, expect) in [
            ("16", Some(16)),
            ("16GB", Some(16)),
            ("16 GB", Some(16)),
            ("16 gb", Some(16)),
            ("16 gB", Some(16)),
            ("16Gb", Some(16)),
            ("16 MB", None),
            ("16 vCPU", None),
            ("GB", None),
        ] {
            assert_eq!(parse_gb(text), expect, "memory {text:?}");
        }
    }

    fn app_with(
        engine: &str,
        f: impl FnOnce(sdk::builders::ApplicationBuilder) -> sdk::builders::ApplicationBuilder,
    ) -> sdk::Application {
        let builder = sdk::Application::builder()
            .application_id("00f1")
            .arn("arn:x")
            .release_label("emr-7.0.0")
            .r#type(engine)
            .state(sdk::ApplicationState::Started)
            .created_at(DateTime::from_secs(0))
            .updated_at(DateTime::from_secs(0));
        f(builder).build().expect("application")
    }

    fn capacity(cpu: &str, memory: &str, disk: Option<&str>) -> sdk::InitialCapacityConfig {
        sdk::InitialCapacityConfig::builder()
            .worker_count(1)
            .worker_configuration(
                sdk::WorkerResourceConfig::builder()
                    .cpu(cpu)
                    .memory(memory)
                    .set_disk(disk.map(str::to_string))
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    }

    #[test]
    fn observed_accepts_any_spelling_of_type_worker_keys_and_units() {
        let app = app_with("Spark", |b| {
            b.initial_capacity("Driver", capacity("4vcpu", "16gb", Some("20 GB")))
                .initial_capacity("SPARK_EXECUTOR", capacity("2", "8", None))
                .maximum_capacity(
                    sdk::MaximumAllowedResources::builder()
                        .cpu("8VCPU")
                        .memory("32 Gb")
                        .build()
                        .unwrap(),
                )
        });
        let observed = observed(app).unwrap();
        assert_eq!(observed.spec.engine, Engine::Spark);
        let driver = &observed.spec.initial_capacity[&WorkerType::Driver];
        assert_eq!(
            (driver.worker.cpu, driver.worker.memory_gb, driver.worker.disk_gb),
            (4, 16, Some(20))
        );
        let executor = &observed.spec.initial_capacity[&WorkerType::Executor];
        assert_eq!(
            (executor.worker.cpu, executor.worker.memory_gb, executor.worker.disk_gb),
            (2, 8, None)
        );
        assert_eq!(
            observed.spec.maximum_capacity,
            Some(MaximumCapacity {
                cpu: 8,
                memory_gb: 32,
                disk_gb: None
            })
        );
        // Nothing the service left out is filled in.
        assert_eq!(observed.spec.architecture, None);
        assert_eq!(observed.spec.auto_start, None);
        assert_eq!(observed.spec.auto_stop, None);
        assert_eq!(observed.spec.scheduler, None);
        assert!(observed.spec.monitoring.is_empty());
        let hive = observed_ok(app_with("hive", |b| {
            b.initial_capacity("DRIVER", capacity("1", "4", None))
        }));
        assert!(hive.spec.initial_capacity.contains_key(&WorkerType::HiveDriver));
    }

    fn observed_ok(app: sdk::Application) -> ObservedApplication {
        observed(app).unwrap()
    }

    #[test]
    fn unparseable_responses_are_errors_naming_the_field() {
        let check = |app: sdk::Application, field: &str| {
            let err = observed(app).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Other);
            assert_eq!(err.operation, "GetApplication");
            assert!(err.message.contains(field), "{field}: {}", err.message);
        };
        check(app_with("FLINK", |b| b), "`type`");
        check(
            app_with("SPARK", |b| b.architecture(sdk::Architecture::from("RISCV"))),
            "architecture",
        );
        check(
            app_with("SPARK", |b| b.state(sdk::ApplicationState::from("EXPLODED"))),
            "state",
        );
        check(
            app_with("SPARK", |b| b.initial_capacity("TEZ_TASK", capacity("1", "4", None))),
            "initialCapacity",
        );
        check(
            app_with("SPARK", |b| b.initial_capacity("DRIVER", capacity("banana", "4", None))),
            "initialCapacity.DRIVER.workerConfiguration.cpu",
        );
        check(
            app_with("SPARK", |b| b.initial_capacity("DRIVER", capacity("1", "4 MB", None))),
            "initialCapacity.DRIVER.workerConfiguration.memory",
        );
        check(
            app_with("SPARK", |b| {
                b.maximum_capacity(
                    sdk::MaximumAllowedResources::builder()
                        .cpu("1")
                        .memory("x")
                        .build()
                        .unwrap(),
                )
            }),
            "maximumCapacity.memory",
        );
        check(
            app_with("SPARK", |b| {
                b.auto_stop_configuration(sdk::AutoStopConfig::builder().idle_timeout_minutes(-1).build())
            }),
            "autoStopConfiguration.idleTimeoutMinutes",
        );
        check(
            app_with("SPARK", |b| {
                b.initial_capacity("DRIVER", capacity("1", "4", None))
                    .initial_capacity("Driver", capacity("1", "4", None))
            }),
            "twice",
        );
    }

    /// Records the body of every request and answers 200 `{}`: the SDK's
    /// own serialisation, without a server.
    #[derive(Clone, Debug, Default)]
    struct Capture(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

    impl aws_smithy_runtime_api::client::http::HttpConnector for Capture {
        fn call(
            &self,
            request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
        ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
            let body = request
                .body()
                .bytes()
                .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
                .unwrap_or_default();
            self.0.lock().expect("capture lock").push(body);
            let response = aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(200).expect("status"),
                aws_smithy_types::body::SdkBody::from("{}"),
            );
            aws_smithy_runtime_api::client::http::HttpConnectorFuture::ready(Ok(response))
        }
    }

    /// The JSON body `UpdateApplication` sends for `update`, without the client token.
    async fn wire(update: &ApplicationUpdate) -> serde_json::Value {
        use aws_sdk_emrserverless::config::{BehaviorVersion, Credentials, Region};
        let capture = Capture::default();
        let connector = aws_smithy_runtime_api::client::http::SharedHttpConnector::new(capture.clone());
        let config = aws_sdk_emrserverless::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .http_client(aws_smithy_runtime_api::client::http::http_client_fn(move |_, _| {
                connector.clone()
            }))
            .build();
        let client = aws_sdk_emrserverless::Client::from_conf(config);
        // The canned answer lacks `application`; only the request matters.
        let _ = update_input("00f1", update, "tok")
            .expect("input")
            .send_with(&client)
            .await;
        let body = capture
            .0
            .lock()
            .expect("capture lock")
            .first()
            .cloned()
            .expect("a request");
        let mut value: serde_json::Value = serde_json::from_str(&body).expect("JSON body");
        value.as_object_mut().expect("an object").remove("clientToken");
        value
    }

    fn fields(list: &[ApplicationField]) -> BTreeSet<ApplicationField> {
        list.iter().copied().collect()
    }

    fn update(
        current: &ApplicationSpec,
        desired: &ApplicationSpec,
        list: &[ApplicationField],
        delivery: Delivery,
    ) -> ApplicationUpdate {
        ApplicationUpdate::new(current, desired, &fields(list), delivery).expect("update")
    }

    /// What the declaration says the request carries when the stack drops
    /// `field`, which `current` has, on `desired`'s release and engine.
    fn declared_clearing(
        field: ApplicationField,
        current: &ApplicationSpec,
        desired: &ApplicationSpec,
    ) -> serde_json::Value {
        let declaration = field.declaration();
        let release = crate::model::fields::release_of(&desired.release_label);
        let parse = |text: &str| serde_json::from_str::<serde_json::Value>(text).expect("declared JSON");
        if !declaration.has("", release, desired.engine) {
            return serde_json::json!({});
        }
        let value = match declaration.clearing {
            Clearing::NotSent(_) => return serde_json::json!({}),
            Clearing::Send(text) => parse(text),
            Clearing::PerEntry(text) => serde_json::Value::Object(
                current
                    .worker_type_specifications
                    .keys()
                    .map(|worker| (worker.specification_key().to_string(), parse(text)))
                    .collect(),
            ),
            Clearing::PerMember(members) => serde_json::Value::Object(
                members
                    .iter()
                    .filter(|(member, _)| declaration.has(member, release, desired.engine))
                    .map(|(member, text)| (member.to_string(), parse(text)))
                    .collect(),
            ),
        };
        if value.as_object().is_some_and(|map| map.is_empty()) && matches!(declaration.clearing, Clearing::PerMember(_))
        {
            return serde_json::json!({});
        }
        serde_json::json!({ declaration.api_member: value })
    }

    /// Checked against the declarations: for every field a stack can drop,
    /// the body `UpdateApplication` sends is the declared clearing form, with
    /// the parts the release or engine lacks left out.
    #[tokio::test]
    async fn every_clearing_form_on_the_wire_is_the_declared_one() {
        let mut rich = full_spec();
        rich.release_label = "emr-7.13.0".to_string();
        let hive_rich = {
            let mut spec = ApplicationSpec::new("etl", Engine::Hive, "emr-7.0.0");
            spec.worker_type_specifications.insert(
                WorkerType::TezTask,
                ImageConfig {
                    image_uri: "111122223333.dkr.ecr.us-east-1.amazonaws.com/hive:tez".to_string(),
                    application_level_digest_resolution: None,
                },
            );
            spec
        };
        for current in [rich, hive_rich] {
            let bare = ApplicationSpec::new("etl", current.engine, current.release_label.clone());
            for field in ApplicationField::ALL {
                let declaration = field.declaration();
                if !field.is_updatable() || declaration.absence == crate::model::fields::Absence::Required {
                    continue;
                }
                let built = ApplicationUpdate::new(&current, &bare, &fields(&[field]), Delivery::Stopped);
                let Ok(built) = built else {
                    assert!(
                        matches!(declaration.clearing, Clearing::NotSent(_)),
                        "{field}: {built:?}"
                    );
                    continue;
                };
                let expected = declared_clearing(field, &current, &bare);
                let sent = if built.is_empty() {
                    serde_json::json!({})
                } else {
                    wire(&built).await
                };
                assert_eq!(
                    sent, expected,
                    "{field} on {} {}",
                    current.engine, current.release_label
                );
            }
        }
    }

    #[tokio::test]
    async fn update_sends_exactly_the_requested_fields() {
        let spec = full_spec();
        let sent = wire(&update(
            &spec,
            &spec,
            &[ApplicationField::MaximumCapacity, ApplicationField::ReleaseLabel],
            Delivery::Stopped,
        ))
        .await;
        assert_eq!(
            sent,
            serde_json::json!({
                "releaseLabel": "emr-7.5.0",
                "maximumCapacity": {"cpu": "200 vCPU", "memory": "800 GB", "disk": "2000 GB"},
            })
        );

        let all: Vec<ApplicationField> = ApplicationField::ALL.into_iter().filter(|f| f.is_updatable()).collect();
        let input = update_input("00f1", &update(&spec, &spec, &all, Delivery::Stopped), "tok")
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(input.architecture, Some(sdk::Architecture::Arm64));
        assert_eq!(input.initial_capacity.as_ref().unwrap().len(), 2);
        assert_eq!(
            input.interactive_configuration.as_ref().unwrap().studio_enabled,
            Some(true)
        );
        assert_eq!(
            input.scheduler_configuration.as_ref().unwrap().queue_timeout_minutes,
            Some(120)
        );
        assert_eq!(
            input.job_level_cost_allocation_configuration.as_ref().unwrap().enabled,
            Some(true)
        );
        // Only the worker type the spec declares.
        let specs = input.worker_type_specifications.as_ref().unwrap();
        assert_eq!(specs.keys().collect::<Vec<_>>(), vec!["Executor"]);
    }

    #[tokio::test]
    async fn scheduler_forms_on_the_wire() {
        let current = full_spec();
        let mut desired = current.clone();
        let scheduler = [ApplicationField::Scheduler];
        desired.scheduler = Some(Scheduler {
            max_concurrent_runs: Some(40),
            queue_timeout_minutes: None,
        });
        assert_eq!(
            wire(&update(&current, &desired, &scheduler, Delivery::Stopped)).await,
            serde_json::json!({"schedulerConfiguration": {"maxConcurrentRuns": 40, "queueTimeoutMinutes": 360}})
        );
        assert_eq!(
            wire(&update(&current, &desired, &scheduler, Delivery::Live)).await,
            serde_json::json!({"schedulerConfiguration": {"maxConcurrentRuns": 40}})
        );
        desired.scheduler = Some(Scheduler::DISABLED);
        assert_eq!(
            wire(&update(&current, &desired, &scheduler, Delivery::Stopped)).await,
            serde_json::json!({"schedulerConfiguration": {}})
        );
        desired.scheduler = None;
        assert!(update(&current, &desired, &scheduler, Delivery::Stopped).is_empty());
    }

    #[test]
    fn update_refuses_fields_it_cannot_send() {
        for field in [ApplicationField::Name, ApplicationField::Engine, ApplicationField::Tags] {
            let update = ApplicationUpdate {
                fields: fields(&[field]),
                values: ApplicationSpec::new("etl", Engine::Spark, "emr-7.5.0"),
            };
            let err = update_input("id", &update, "t").unwrap_err();
            assert_eq!(err.kind, ErrorKind::Invalid, "{field}");
            assert!(err.message.contains(field.as_str()), "{}", err.message);
        }
        // A field without a value to send is a bug upstream, not a guess here.
        let update = ApplicationUpdate {
            fields: fields(&[ApplicationField::AutoStop]),
            values: ApplicationSpec::new("etl", Engine::Spark, "emr-7.5.0"),
        };
        assert_eq!(update_input("id", &update, "t").unwrap_err().kind, ErrorKind::Invalid);
    }
}
