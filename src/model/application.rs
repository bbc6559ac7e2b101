//! The EMR Serverless application: its specification in the tool's canonical
//! form, shared by Desired (after lowering) and Actual (after conversion).
//!
//! Canonical form means: capacities as integers in vCPU and GB, worker types
//! as [`WorkerType`], enums as Rust enums. Server defaults are *not* filled in
//! here; `diff::normalize` does that, so both sides can be compared after it.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::fields::ChangeRule;

/// The engine of an application (`type` in the API). Immutable after creation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Engine {
    Spark,
    Hive,
}

impl Engine {
    /// The value sent to the API (`SPARK` or `HIVE`).
    pub fn api_name(self) -> &'static str {
        match self {
            Engine::Spark => "SPARK",
            Engine::Hive => "HIVE",
        }
    }

    /// Parses the API's spelling, which varies in case (`Spark`, `SPARK`, `spark`).
    pub fn from_api(text: &str) -> Option<Engine> {
        match text.to_ascii_uppercase().as_str() {
            "SPARK" => Some(Engine::Spark),
            "HIVE" => Some(Engine::Hive),
            _ => None,
        }
    }

    /// The worker types an application of this engine has.
    pub fn worker_types(self) -> &'static [WorkerType] {
        match self {
            Engine::Spark => &[WorkerType::Driver, WorkerType::Executor],
            Engine::Hive => &[WorkerType::HiveDriver, WorkerType::TezTask],
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.api_name())
    }
}

/// The CPU architecture of an application. The service default is `X86_64`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Architecture {
    #[default]
    #[serde(rename = "X86_64")]
    X86_64,
    #[serde(rename = "ARM64")]
    Arm64,
}

impl Architecture {
    /// The value sent to and returned by the API.
    pub fn api_name(self) -> &'static str {
        match self {
            Architecture::X86_64 => "X86_64",
            Architecture::Arm64 => "ARM64",
        }
    }

    pub fn from_api(text: &str) -> Option<Architecture> {
        match text.to_ascii_uppercase().as_str() {
            "X86_64" => Some(Architecture::X86_64),
            "ARM64" => Some(Architecture::Arm64),
            _ => None,
        }
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.api_name())
    }
}

/// A worker type of an application.
///
/// The API spells worker types differently per field: `initialCapacity` uses
/// `DRIVER`/`EXECUTOR` (Spark) and `DRIVER`/`TEZ_TASK` (Hive), while
/// `workerTypeSpecifications` uses `Driver`/`Executor` and `HiveDriver`/`TezTask`.
/// The stack file and the model use one spelling: `driver`, `executor`,
/// `hive_driver`, `tez_task`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkerType {
    Driver,
    Executor,
    HiveDriver,
    TezTask,
}

impl WorkerType {
    pub const ALL: [WorkerType; 4] = [
        WorkerType::Driver,
        WorkerType::Executor,
        WorkerType::HiveDriver,
        WorkerType::TezTask,
    ];

    /// The spelling used in the stack file (`hive_driver`).
    pub fn as_str(self) -> &'static str {
        match self {
            WorkerType::Driver => "driver",
            WorkerType::Executor => "executor",
            WorkerType::HiveDriver => "hive_driver",
            WorkerType::TezTask => "tez_task",
        }
    }

    pub fn parse(text: &str) -> Option<WorkerType> {
        WorkerType::ALL.into_iter().find(|worker| worker.as_str() == text)
    }

    /// The key used in the API's `initialCapacity` map.
    pub fn initial_capacity_key(self) -> &'static str {
        match self {
            WorkerType::Driver | WorkerType::HiveDriver => "DRIVER",
            WorkerType::Executor => "EXECUTOR",
            WorkerType::TezTask => "TEZ_TASK",
        }
    }

    /// The key used in the API's `workerTypeSpecifications` map.
    pub fn specification_key(self) -> &'static str {
        match self {
            WorkerType::Driver => "Driver",
            WorkerType::Executor => "Executor",
            WorkerType::HiveDriver => "HiveDriver",
            WorkerType::TezTask => "TezTask",
        }
    }

    /// Parses any API spelling of a worker type of an application of `engine`:
    /// case and underscores are ignored, and `DRIVER` means the Hive driver on
    /// a Hive application.
    pub fn from_api(engine: Engine, key: &str) -> Option<WorkerType> {
        let folded: String = key
            .chars()
            .filter(|c| *c != '_' && *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let worker = match (engine, folded.as_str()) {
            (Engine::Spark, "driver" | "sparkdriver") => WorkerType::Driver,
            (Engine::Spark, "executor" | "sparkexecutor") => WorkerType::Executor,
            (Engine::Hive, "driver" | "hivedriver") => WorkerType::HiveDriver,
            (Engine::Hive, "teztask") => WorkerType::TezTask,
            _ => return None,
        };
        Some(worker)
    }
}

impl fmt::Display for WorkerType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The disk type of a worker. `ShuffleOptimized` needs emr-7.1.0 or later.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DiskType {
    #[default]
    Standard,
    ShuffleOptimized,
}

impl DiskType {
    pub fn api_name(self) -> &'static str {
        match self {
            DiskType::Standard => "STANDARD",
            DiskType::ShuffleOptimized => "SHUFFLE_OPTIMIZED",
        }
    }

    /// Parses the API's spellings (`SHUFFLE_OPTIMIZED`, `shuffle_optimized`, `Standard`).
    pub fn from_api(text: &str) -> Option<DiskType> {
        match text.to_ascii_uppercase().as_str() {
            "STANDARD" => Some(DiskType::Standard),
            "SHUFFLE_OPTIMIZED" => Some(DiskType::ShuffleOptimized),
            _ => None,
        }
    }
}

/// The resources of one worker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerResources {
    /// vCPUs per worker: 1, 2, 4, 8 or 16.
    pub cpu: u32,
    /// Memory per worker in GB (2 to 120, depending on `cpu`).
    pub memory_gb: u32,
    /// Ephemeral disk per worker in GB; the service default is 20.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_gb: Option<u32>,
    /// The disk type; the service default is `STANDARD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_type: Option<DiskType>,
}

/// Pre-initialized capacity for one worker type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitialCapacity {
    /// Number of workers kept warm, 1 to 1,000,000.
    pub worker_count: u64,
    pub worker: WorkerResources,
}

/// The cap on the total resources an application may use at any time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaximumCapacity {
    /// Total vCPUs.
    pub cpu: u32,
    /// Total memory in GB.
    pub memory_gb: u32,
    /// Total disk in GB; optional in the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_gb: Option<u32>,
}

/// `autoStartConfiguration`. The service default is enabled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoStart {
    pub enabled: bool,
}

impl Default for AutoStart {
    fn default() -> Self {
        AutoStart { enabled: true }
    }
}

/// `autoStopConfiguration`. The service default is enabled after 15 idle minutes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoStop {
    pub enabled: bool,
    /// Idle minutes before the application stops, 1 to 10080.
    pub idle_timeout_minutes: u32,
}

impl Default for AutoStop {
    fn default() -> Self {
        AutoStop {
            enabled: true,
            idle_timeout_minutes: 15,
        }
    }
}

/// `networkConfiguration`: the VPC subnets and security groups of an application.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkConfiguration {
    /// Subnet IDs, at most 16. Order carries no meaning.
    pub subnet_ids: Vec<String>,
    /// Security group IDs, at most 5. Order carries no meaning.
    pub security_group_ids: Vec<String>,
}

/// A resolved image configuration, as the API stores it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    /// `<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag|@digest]`.
    pub image_uri: String,
    /// Resolve the image digest once at application start (true) or at every job submission (false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_level_digest_resolution: Option<bool>,
}

/// Where a desired image comes from, before the planner resolves it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImageSource {
    /// A literal image URI from the stack file.
    Uri { uri: String },
    /// A tag in a repository declared in the same stack (`[repositories.<repository>]`).
    /// With `pin_digest`, the planner resolves the tag to its digest through
    /// ECR and the application is configured with `<repository>@<digest>`.
    Repository {
        repository: String,
        tag: String,
        pin_digest: bool,
    },
}

/// A desired image configuration: the image source plus the API options.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredImage {
    pub source: ImageSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_level_digest_resolution: Option<bool>,
}

/// One entry of `runtimeConfiguration`: a classification and its properties.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Configuration {
    pub classification: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub configurations: Vec<Configuration>,
}

/// `s3MonitoringConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Monitoring {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_key_arn: Option<String>,
}

/// `managedPersistenceMonitoringConfiguration`. The service default is enabled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedPersistence {
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_key_arn: Option<String>,
}

/// `cloudWatchLoggingConfiguration`. The service default is disabled.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudWatchLogging {
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_stream_name_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_key_arn: Option<String>,
    /// Worker type (API spelling, e.g. `SPARK_DRIVER`) to log types (`STDOUT`, `STDERR`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub log_types: BTreeMap<String, Vec<String>>,
}

/// The log group EMR Serverless writes to when `log_group_name` is unset
/// (user guide, "Logging for EMR Serverless with Amazon CloudWatch").
pub const DEFAULT_LOG_GROUP: &str = "/aws/emr-serverless";

impl CloudWatchLogging {
    /// Where the logs go when CloudWatch logging is on: the log group (the
    /// service's default when unset) and the stream name prefix.
    pub fn destination(&self) -> Option<(String, Option<String>)> {
        self.enabled.then(|| {
            (
                self.log_group_name
                    .clone()
                    .unwrap_or_else(|| DEFAULT_LOG_GROUP.to_string()),
                self.log_stream_name_prefix.clone(),
            )
        })
    }
}

/// `prometheusMonitoringConfiguration`. Needs emr-7.1.0 or later.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrometheusMonitoring {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_write_url: Option<String>,
}

/// `monitoringConfiguration`; each sub-configuration is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Monitoring {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Monitoring>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_persistence: Option<ManagedPersistence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudwatch: Option<CloudWatchLogging>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<PrometheusMonitoring>,
}

impl Monitoring {
    pub fn is_empty(&self) -> bool {
        self == &Monitoring::default()
    }
}

/// `interactiveConfiguration`: EMR Studio, the Livy endpoint and sessions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interactive {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub studio_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub livy_endpoint_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_enabled: Option<bool>,
}

/// `schedulerConfiguration`: job concurrency and queueing (emr-7.0.0 or
/// later), exactly as the API carries it.
///
/// The service reads the block this way (docs/api-semantics.md, "Scheduler"):
/// both members absent (`{}`, [`Scheduler::DISABLED`]) turns queueing off; a
/// block with one member gets the other's default ([`Scheduler::filled`]);
/// the whole block absent from a request changes nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scheduler {
    /// 1 to 1000; the service default is 15.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent_runs: Option<u32>,
    /// 15 to 720; the service default is 360.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_timeout_minutes: Option<u32>,
}

impl Scheduler {
    /// The default number of concurrent job runs while queueing is on.
    pub const DEFAULT_MAX_CONCURRENT_RUNS: u32 = 15;
    /// The default queue timeout in minutes while queueing is on.
    pub const DEFAULT_QUEUE_TIMEOUT_MINUTES: u32 = 360;

    /// `{}`: queueing off.
    pub const DISABLED: Scheduler = Scheduler {
        max_concurrent_runs: None,
        queue_timeout_minutes: None,
    };

    /// Queueing on with the service's defaults, 15 runs and 360 minutes.
    pub const ENABLED_DEFAULTS: Scheduler = Scheduler {
        max_concurrent_runs: Some(Scheduler::DEFAULT_MAX_CONCURRENT_RUNS),
        queue_timeout_minutes: Some(Scheduler::DEFAULT_QUEUE_TIMEOUT_MINUTES),
    };

    /// Whether this block turns queueing off (`{}`).
    pub fn is_disabled(&self) -> bool {
        self.max_concurrent_runs.is_none() && self.queue_timeout_minutes.is_none()
    }

    /// The block as the service stores it: `{}` stays `{}` (off), and a
    /// block with one member gets the other member's default.
    pub fn filled(&self) -> Scheduler {
        if self.is_disabled() {
            return Scheduler::DISABLED;
        }
        Scheduler {
            max_concurrent_runs: Some(
                self.max_concurrent_runs
                    .unwrap_or(Scheduler::DEFAULT_MAX_CONCURRENT_RUNS),
            ),
            queue_timeout_minutes: Some(
                self.queue_timeout_minutes
                    .unwrap_or(Scheduler::DEFAULT_QUEUE_TIMEOUT_MINUTES),
            ),
        }
    }
}

/// `diskEncryptionConfiguration`: a KMS key for local worker disks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskEncryption {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_key_arn: Option<String>,
    /// At most 8 entries.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub encryption_context: BTreeMap<String, String>,
}

/// `identityCenterConfiguration`: trusted identity propagation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityCenter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_background_sessions_enabled: Option<bool>,
}

/// `jobLevelCostAllocationConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobLevelCostAllocation {
    pub enabled: bool,
}

/// Every configurable field of an application.
///
/// `I` is the image type: [`DesiredImage`] in Desired before the planner
/// resolves repository references, [`ImageConfig`] everywhere else.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(deserialize = "I: Deserialize<'de>", serialize = "I: Serialize"))]
pub struct ApplicationSpec<I = ImageConfig> {
    /// The application name, 1 to 64 of `[A-Za-z0-9._/#-]`. Changing it replaces the application.
    pub name: String,
    /// The engine. Changing it replaces the application.
    pub engine: Engine,
    /// `emr-X.Y.Z`.
    pub release_label: String,
    /// `None` means the service default, `X86_64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<Architecture>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub initial_capacity: BTreeMap<WorkerType, InitialCapacity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_capacity: Option<MaximumCapacity>,
    /// `None` means the service default (enabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_start: Option<AutoStart>,
    /// `None` means the service default (enabled, 15 minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_stop: Option<AutoStop>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkConfiguration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<I>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub worker_type_specifications: BTreeMap<WorkerType, I>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runtime_configuration: Vec<Configuration>,
    #[serde(default, skip_serializing_if = "Monitoring::is_empty")]
    pub monitoring: Monitoring,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interactive: Option<Interactive>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<Scheduler>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_encryption: Option<DiskEncryption>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_center: Option<IdentityCenter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_level_cost_allocation: Option<JobLevelCostAllocation>,
    /// Tags on the application, including the `emrstack:` ownership tags once
    /// the planner has added them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

impl<I> ApplicationSpec<I> {
    /// A spec with only the required fields set; everything else is the service default.
    pub fn new(name: impl Into<String>, engine: Engine, release_label: impl Into<String>) -> Self {
        ApplicationSpec {
            name: name.into(),
            engine,
            release_label: release_label.into(),
            architecture: None,
            initial_capacity: BTreeMap::new(),
            maximum_capacity: None,
            auto_start: None,
            auto_stop: None,
            network: None,
            image: None,
            worker_type_specifications: BTreeMap::new(),
            runtime_configuration: Vec::new(),
            monitoring: Monitoring::default(),
            interactive: None,
            scheduler: None,
            disk_encryption: None,
            identity_center: None,
            job_level_cost_allocation: None,
            tags: BTreeMap::new(),
        }
    }

    /// Sets `field` to its value in `from` (absent when `from` lacks it).
    pub fn copy_field(&mut self, from: &ApplicationSpec<I>, field: ApplicationField)
    where
        I: Clone,
    {
        match field {
            ApplicationField::Name => self.name = from.name.clone(),
            ApplicationField::Engine => self.engine = from.engine,
            ApplicationField::ReleaseLabel => self.release_label = from.release_label.clone(),
            ApplicationField::Architecture => self.architecture = from.architecture,
            ApplicationField::InitialCapacity => self.initial_capacity = from.initial_capacity.clone(),
            ApplicationField::MaximumCapacity => self.maximum_capacity = from.maximum_capacity.clone(),
            ApplicationField::AutoStart => self.auto_start = from.auto_start.clone(),
            ApplicationField::AutoStop => self.auto_stop = from.auto_stop.clone(),
            ApplicationField::Network => self.network = from.network.clone(),
            ApplicationField::Image => self.image = from.image.clone(),
            ApplicationField::WorkerTypeSpecifications => {
                self.worker_type_specifications = from.worker_type_specifications.clone()
            }
            ApplicationField::RuntimeConfiguration => self.runtime_configuration = from.runtime_configuration.clone(),
            ApplicationField::Monitoring => self.monitoring = from.monitoring.clone(),
            ApplicationField::Interactive => self.interactive = from.interactive.clone(),
            ApplicationField::Scheduler => self.scheduler = from.scheduler.clone(),
            ApplicationField::DiskEncryption => self.disk_encryption = from.disk_encryption.clone(),
            ApplicationField::IdentityCenter => self.identity_center = from.identity_center.clone(),
            ApplicationField::JobLevelCostAllocation => {
                self.job_level_cost_allocation = from.job_level_cost_allocation.clone()
            }
            ApplicationField::Tags => self.tags = from.tags.clone(),
        }
    }

    /// Whether the spec leaves `field` out (an empty map, list or block
    /// counts as left out; required fields never are).
    pub fn lacks(&self, field: ApplicationField) -> bool {
        match field {
            ApplicationField::Name | ApplicationField::Engine | ApplicationField::ReleaseLabel => false,
            ApplicationField::Architecture => self.architecture.is_none(),
            ApplicationField::InitialCapacity => self.initial_capacity.is_empty(),
            ApplicationField::MaximumCapacity => self.maximum_capacity.is_none(),
            ApplicationField::AutoStart => self.auto_start.is_none(),
            ApplicationField::AutoStop => self.auto_stop.is_none(),
            ApplicationField::Network => self.network.is_none(),
            ApplicationField::Image => self.image.is_none(),
            ApplicationField::WorkerTypeSpecifications => self.worker_type_specifications.is_empty(),
            ApplicationField::RuntimeConfiguration => self.runtime_configuration.is_empty(),
            ApplicationField::Monitoring => self.monitoring.is_empty(),
            ApplicationField::Interactive => self.interactive.is_none(),
            ApplicationField::Scheduler => self.scheduler.is_none(),
            ApplicationField::DiskEncryption => self.disk_encryption.is_none(),
            ApplicationField::IdentityCenter => self.identity_center.is_none(),
            ApplicationField::JobLevelCostAllocation => self.job_level_cost_allocation.is_none(),
            ApplicationField::Tags => self.tags.is_empty(),
        }
    }

    /// The same spec with its images mapped by `f` (used to resolve images).
    pub fn map_images<J, E>(
        self,
        mut f: impl FnMut(Option<WorkerType>, I) -> Result<J, E>,
    ) -> Result<ApplicationSpec<J>, E> {
        let image = match self.image {
            Some(image) => Some(f(None, image)?),
            None => None,
        };
        let mut worker_type_specifications = BTreeMap::new();
        for (worker, image) in self.worker_type_specifications {
            worker_type_specifications.insert(worker, f(Some(worker), image)?);
        }
        Ok(ApplicationSpec {
            name: self.name,
            engine: self.engine,
            release_label: self.release_label,
            architecture: self.architecture,
            initial_capacity: self.initial_capacity,
            maximum_capacity: self.maximum_capacity,
            auto_start: self.auto_start,
            auto_stop: self.auto_stop,
            network: self.network,
            image,
            worker_type_specifications,
            runtime_configuration: self.runtime_configuration,
            monitoring: self.monitoring,
            interactive: self.interactive,
            scheduler: self.scheduler,
            disk_encryption: self.disk_encryption,
            identity_center: self.identity_center,
            job_level_cost_allocation: self.job_level_cost_allocation,
            tags: self.tags,
        })
    }
}

/// The top-level fields of an application, as the API groups them. Used to
/// say which fields an `UpdateApplication` call sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationField {
    Name,
    Engine,
    ReleaseLabel,
    Architecture,
    InitialCapacity,
    MaximumCapacity,
    AutoStart,
    AutoStop,
    Network,
    Image,
    WorkerTypeSpecifications,
    RuntimeConfiguration,
    Monitoring,
    Interactive,
    Scheduler,
    DiskEncryption,
    IdentityCenter,
    JobLevelCostAllocation,
    Tags,
}

impl ApplicationField {
    pub const ALL: [ApplicationField; 19] = [
        ApplicationField::Name,
        ApplicationField::Engine,
        ApplicationField::ReleaseLabel,
        ApplicationField::Architecture,
        ApplicationField::InitialCapacity,
        ApplicationField::MaximumCapacity,
        ApplicationField::AutoStart,
        ApplicationField::AutoStop,
        ApplicationField::Network,
        ApplicationField::Image,
        ApplicationField::WorkerTypeSpecifications,
        ApplicationField::RuntimeConfiguration,
        ApplicationField::Monitoring,
        ApplicationField::Interactive,
        ApplicationField::Scheduler,
        ApplicationField::DiskEncryption,
        ApplicationField::IdentityCenter,
        ApplicationField::JobLevelCostAllocation,
        ApplicationField::Tags,
    ];

    /// The field's key in the stack file and in plan field paths.
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationField::Name => "name",
            ApplicationField::Engine => "type",
            ApplicationField::ReleaseLabel => "release_label",
            ApplicationField::Architecture => "architecture",
            ApplicationField::InitialCapacity => "initial_capacity",
            ApplicationField::MaximumCapacity => "maximum_capacity",
            ApplicationField::AutoStart => "auto_start",
            ApplicationField::AutoStop => "auto_stop",
            ApplicationField::Network => "network",
            ApplicationField::Image => "image",
            ApplicationField::WorkerTypeSpecifications => "worker_type_specifications",
            ApplicationField::RuntimeConfiguration => "runtime_configuration",
            ApplicationField::Monitoring => "monitoring",
            ApplicationField::Interactive => "interactive",
            ApplicationField::Scheduler => "scheduler",
            ApplicationField::DiskEncryption => "disk_encryption",
            ApplicationField::IdentityCenter => "identity_center",
            ApplicationField::JobLevelCostAllocation => "job_level_cost_allocation",
            ApplicationField::Tags => "tags",
        }
    }

    /// Whether a change to this field replaces the application (a new ID and ARN).
    pub fn forces_replacement(self) -> bool {
        self.declaration().change == ChangeRule::Replace
    }

    /// Whether the field is changed through `UpdateApplication` (as opposed to
    /// replacement or the tagging API).
    pub fn is_updatable(self) -> bool {
        matches!(self.declaration().change, ChangeRule::Update(_))
    }
}

impl fmt::Display for ApplicationField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The lifecycle state of an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApplicationState {
    Creating,
    Created,
    Starting,
    Started,
    Stopping,
    Stopped,
    Terminated,
}

impl ApplicationState {
    pub fn api_name(self) -> &'static str {
        match self {
            ApplicationState::Creating => "CREATING",
            ApplicationState::Created => "CREATED",
            ApplicationState::Starting => "STARTING",
            ApplicationState::Started => "STARTED",
            ApplicationState::Stopping => "STOPPING",
            ApplicationState::Stopped => "STOPPED",
            ApplicationState::Terminated => "TERMINATED",
        }
    }

    pub fn from_api(text: &str) -> Option<ApplicationState> {
        let state = match text.to_ascii_uppercase().as_str() {
            "CREATING" => ApplicationState::Creating,
            "CREATED" => ApplicationState::Created,
            "STARTING" => ApplicationState::Starting,
            "STARTED" => ApplicationState::Started,
            "STOPPING" => ApplicationState::Stopping,
            "STOPPED" => ApplicationState::Stopped,
            "TERMINATED" => ApplicationState::Terminated,
            _ => return None,
        };
        Some(state)
    }

    /// A state the application leaves on its own; the executor waits it out.
    pub fn is_transitional(self) -> bool {
        matches!(
            self,
            ApplicationState::Creating | ApplicationState::Starting | ApplicationState::Stopping
        )
    }

    /// A state in which `UpdateApplication` accepts every field and
    /// `DeleteApplication` is allowed.
    pub fn is_quiescent(self) -> bool {
        matches!(self, ApplicationState::Created | ApplicationState::Stopped)
    }
}

impl fmt::Display for ApplicationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.api_name())
    }
}

/// The state of a job run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobRunState {
    Submitted,
    Pending,
    Scheduled,
    Running,
    Queued,
    Cancelling,
    Success,
    Failed,
    Cancelled,
}

impl JobRunState {
    /// States in which a job blocks `StopApplication` and `DeleteApplication`.
    pub const ACTIVE: [JobRunState; 6] = [
        JobRunState::Submitted,
        JobRunState::Pending,
        JobRunState::Scheduled,
        JobRunState::Running,
        JobRunState::Queued,
        JobRunState::Cancelling,
    ];

    pub fn api_name(self) -> &'static str {
        match self {
            JobRunState::Submitted => "SUBMITTED",
            JobRunState::Pending => "PENDING",
            JobRunState::Scheduled => "SCHEDULED",
            JobRunState::Running => "RUNNING",
            JobRunState::Queued => "QUEUED",
            JobRunState::Cancelling => "CANCELLING",
            JobRunState::Success => "SUCCESS",
            JobRunState::Failed => "FAILED",
            JobRunState::Cancelled => "CANCELLED",
        }
    }

    pub fn from_api(text: &str) -> Option<JobRunState> {
        let all = [
            JobRunState::Submitted,
            JobRunState::Pending,
            JobRunState::Scheduled,
            JobRunState::Running,
            JobRunState::Queued,
            JobRunState::Cancelling,
            JobRunState::Success,
            JobRunState::Failed,
            JobRunState::Cancelled,
        ];
        let upper = text.to_ascii_uppercase();
        all.into_iter().find(|state| state.api_name() == upper)
    }

    pub fn is_active(self) -> bool {
        JobRunState::ACTIVE.contains(&self)
    }
}

impl fmt::Display for JobRunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.api_name())
    }
}

/// The mode of a job run (`ListJobRuns.mode`): a batch run ends by itself, a
/// streaming run runs until it is cancelled. Both keep an application from
/// stopping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobRunMode {
    #[default]
    Batch,
    Streaming,
}

impl JobRunMode {
    pub const ALL: [JobRunMode; 2] = [JobRunMode::Batch, JobRunMode::Streaming];

    /// The value of the API's `mode`.
    pub fn api_name(self) -> &'static str {
        match self {
            JobRunMode::Batch => "BATCH",
            JobRunMode::Streaming => "STREAMING",
        }
    }

    pub fn from_api(text: &str) -> Option<JobRunMode> {
        JobRunMode::ALL
            .into_iter()
            .find(|mode| mode.api_name().eq_ignore_ascii_case(text))
    }
}

impl fmt::Display for JobRunMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.api_name())
    }
}

/// The state of an interactive session (`ListSessions`, emr-7.13.0 or later).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SessionState {
    Submitted,
    Starting,
    Started,
    Idle,
    Busy,
    Terminating,
    Failed,
    Terminated,
}

impl SessionState {
    /// States in which a session holds the application's capacity, so the
    /// application cannot be stopped or deleted.
    pub const ACTIVE: [SessionState; 6] = [
        SessionState::Submitted,
        SessionState::Starting,
        SessionState::Started,
        SessionState::Idle,
        SessionState::Busy,
        SessionState::Terminating,
    ];

    const ALL: [SessionState; 8] = [
        SessionState::Submitted,
        SessionState::Starting,
        SessionState::Started,
        SessionState::Idle,
        SessionState::Busy,
        SessionState::Terminating,
        SessionState::Failed,
        SessionState::Terminated,
    ];

    pub fn api_name(self) -> &'static str {
        match self {
            SessionState::Submitted => "SUBMITTED",
            SessionState::Starting => "STARTING",
            SessionState::Started => "STARTED",
            SessionState::Idle => "IDLE",
            SessionState::Busy => "BUSY",
            SessionState::Terminating => "TERMINATING",
            SessionState::Failed => "FAILED",
            SessionState::Terminated => "TERMINATED",
        }
    }

    pub fn from_api(text: &str) -> Option<SessionState> {
        SessionState::ALL
            .into_iter()
            .find(|state| state.api_name().eq_ignore_ascii_case(text))
    }

    pub fn is_active(self) -> bool {
        SessionState::ACTIVE.contains(&self)
    }
}

impl fmt::Display for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.api_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_type_parses_every_api_spelling() {
        let check = |engine, key, expect: Option<WorkerType>| {
            assert_eq!(WorkerType::from_api(engine, key), expect, "{engine} {key}");
        };
        check(Engine::Spark, "DRIVER", Some(WorkerType::Driver));
        check(Engine::Spark, "Driver", Some(WorkerType::Driver));
        check(Engine::Spark, "SPARK_DRIVER", Some(WorkerType::Driver));
        check(Engine::Spark, "EXECUTOR", Some(WorkerType::Executor));
        check(Engine::Hive, "DRIVER", Some(WorkerType::HiveDriver));
        check(Engine::Hive, "HiveDriver", Some(WorkerType::HiveDriver));
        check(Engine::Hive, "HIVE_DRIVER", Some(WorkerType::HiveDriver));
        check(Engine::Hive, "TEZ_TASK", Some(WorkerType::TezTask));
        check(Engine::Hive, "TezTask", Some(WorkerType::TezTask));
        check(Engine::Hive, "EXECUTOR", None);
        check(Engine::Spark, "TEZ_TASK", None);
    }

    #[test]
    fn worker_type_api_keys_match_the_api_reference() {
        assert_eq!(WorkerType::HiveDriver.initial_capacity_key(), "DRIVER");
        assert_eq!(WorkerType::HiveDriver.specification_key(), "HiveDriver");
        assert_eq!(WorkerType::TezTask.initial_capacity_key(), "TEZ_TASK");
        assert_eq!(WorkerType::TezTask.specification_key(), "TezTask");
    }

    #[test]
    fn engine_and_state_parse_case_insensitively() {
        assert_eq!(Engine::from_api("Spark"), Some(Engine::Spark));
        assert_eq!(Engine::from_api("HIVE"), Some(Engine::Hive));
        assert_eq!(Engine::from_api("flink"), None);
        assert_eq!(ApplicationState::from_api("Started"), Some(ApplicationState::Started));
        assert_eq!(JobRunState::from_api("running"), Some(JobRunState::Running));
    }
}
