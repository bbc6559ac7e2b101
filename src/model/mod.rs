//! The vocabulary every stage shares: addresses, Desired, Actual and the
//! resource specifications. No I/O and no dependency on any other stage.

pub mod actual;
pub mod address;
pub mod application;
pub mod desired;
pub mod fields;
pub mod job;
pub mod location;
pub mod network;
pub mod reference;
pub mod release;
pub mod repository;
pub mod role;
pub mod secrets;
pub mod tags;
pub mod update;

pub use actual::{
    Actual, ApplicationSummary, JobRun, ObservedApplication, ObservedRepository, ObservedRole, Owner, RoleSummary,
    RunningWork, Session, TaggedApplication,
};
pub use address::{Address, ResourceKind};
pub use application::{
    ApplicationField, ApplicationSpec, ApplicationState, Architecture, AutoStart, AutoStop, CloudWatchLogging,
    Configuration, DEFAULT_LOG_GROUP, DesiredImage, DiskEncryption, DiskType, Engine, IdentityCenter, ImageConfig,
    ImageSource, InitialCapacity, Interactive, JobLevelCostAllocation, JobRunMode, JobRunState, ManagedPersistence,
    MaximumCapacity, Monitoring, NetworkConfiguration, PrometheusMonitoring, S3Monitoring, Scheduler, SessionState,
    WorkerResources, WorkerType,
};
pub use desired::{Desired, DesiredApplication, StackSettings};
pub use job::{
    JobDriver, JobDriverSpec, JobRole, JobRunRequest, JobRunStatus, JobSource, JobSpec, ResourceUtilization, Uploaded,
};
pub use location::{S3Location, S3Object};
pub use network::{DesiredNetwork, SecurityGroupInfo, SubnetInfo};
pub use release::{Feature, ReleaseLabel};
pub use repository::DesiredRepository;
pub use role::{DesiredRole, RoleField, RoleSpec};
pub use update::{ApplicationUpdate, Delivery, ImageInput, UpdateError};
