//! Lowering: the checked stack into [`Desired`], with defaults filled the
//! way the language documents them (names `<stack>-<key>`, tags merged, the
//! scheduler's 15 and 360, `enabled = true` for written tables) and server
//! defaults left as `None`.
//!
//! Every spelling the language accepts is normalised here to the one
//! canonical form (`type = "Spark"` to `SPARK`, `HiveDriver` and `DRIVER` on
//! a Hive application to the Hive driver, `SPARK_DRIVER` log keys,
//! `shuffle_optimized` to `SHUFFLE_OPTIMIZED`, repeated network IDs once), so
//! plans show the canonical form and a re-plan never differs by spelling.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::job::{JobDriverSpec, JobRole, JobSource, JobSpec};
use crate::model::{
    ApplicationSpec, Architecture, AutoStart, AutoStop, CloudWatchLogging, DesiredApplication, DesiredImage,
    DesiredNetwork, DesiredRepository, DesiredRole, DiskEncryption, IdentityCenter, ImageSource, InitialCapacity,
    Interactive, JobLevelCostAllocation, ManagedPersistence, MaximumCapacity, Monitoring, NetworkConfiguration,
    PrometheusMonitoring, S3Monitoring, Scheduler, StackSettings, WorkerResources,
};
use crate::model::{Desired, Engine, JobRunMode, S3Location};

use super::pipeline::{Effective, Parsed};
use super::raw::{RawArchitecture, RawImage, RawJobMode, RawWorkerSpec, Size, Sp, SpMap, Toggle};
use super::resolve;
use super::rules::monitoring_log_types;
use super::text::{Unit, parse_size};

/// Lowers a stack that passed every rule. Returns `None` only if `[stack]`
/// is missing, which the structural check reports as an error.
pub(super) fn lower(parsed: &Parsed) -> Option<Desired> {
    let stack = parsed.stack.as_ref()?;
    let stack_name = stack.name.as_ref()?.get().clone();
    let stack_tags = map(&parsed.tags);
    let mut desired = Desired::empty(stack_name.clone());
    desired.stack = StackSettings {
        name: stack_name.clone(),
        region: stack.region.as_ref().map(|r| r.get().clone()),
        account_id: stack.account_id.as_ref().map(|a| a.get().clone()),
        tags: stack_tags.clone(),
        // The rules refused a lock that does not parse. Without `lock`, the
        // stack lock lives under `artifacts` (README.md, "Locking").
        lock: stack
            .lock
            .as_ref()
            .or(stack.artifacts.as_ref())
            .and_then(|lock| S3Location::parse(lock.get()).ok()),
        artifacts: stack
            .artifacts
            .as_ref()
            .and_then(|location| S3Location::parse(location.get()).ok()),
    };
    let merged_tags = |own: Option<&Sp<SpMap>>| {
        let mut tags = stack_tags.clone();
        if let Some(own) = own {
            tags.extend(map(own.get()));
        }
        tags
    };
    for network in &parsed.networks {
        desired.networks.insert(
            network.key.clone(),
            DesiredNetwork {
                subnet_ids: unique_strings(&network.value.subnet_ids),
                security_group_ids: unique_strings(&network.value.security_group_ids),
            },
        );
    }
    for role in &parsed.roles {
        let raw = &role.value;
        let inline_policies = raw
            .policies
            .keys()
            .filter_map(|name| {
                parsed
                    .policies
                    .get(&(role.key.clone(), name.get().clone()))
                    .map(|p| (name.get().clone(), p.document.clone()))
            })
            .collect();
        desired.roles.insert(
            role.key.clone(),
            DesiredRole {
                name: raw
                    .name
                    .as_ref()
                    .map(|n| n.get().clone())
                    .unwrap_or_else(|| format!("{stack_name}-{}", role.key)),
                path: raw
                    .path
                    .as_ref()
                    .map(|p| p.get().clone())
                    .unwrap_or_else(|| crate::model::role::DEFAULT_PATH.to_string()),
                description: raw.description.as_ref().map(|d| d.get().clone()),
                max_session_duration: raw
                    .max_session_duration
                    .as_ref()
                    .map(|d| *d.get() as u32)
                    .unwrap_or(crate::model::role::DEFAULT_MAX_SESSION_DURATION),
                permissions_boundary: raw.permissions_boundary.as_ref().map(|p| p.get().clone()),
                inline_policies,
                managed_policy_arns: raw
                    .managed_policy_arns
                    .as_ref()
                    .map(|arns| arns.iter().map(|a| a.get().clone()).collect::<BTreeSet<_>>())
                    .unwrap_or_default(),
                trust_applications: raw.trust_applications.as_ref().map(strings).unwrap_or_default(),
                trust_policy: parsed.trust_policies.get(&role.key).map(|p| p.document.clone()),
                tags: merged_tags(raw.tags.as_ref()),
                prevent_destroy: raw.prevent_destroy.as_ref().is_some_and(|p| *p.get()),
            },
        );
    }
    for repository in &parsed.repositories {
        desired.repositories.insert(
            repository.key.clone(),
            DesiredRepository {
                name: required(&repository.value.name).clone(),
                applications: repository.value.applications.as_ref().map(strings).unwrap_or_default(),
            },
        );
    }
    for app in &parsed.applications {
        let effective = parsed.effective(app);
        let spec = application(parsed, &effective, &stack_name, merged_tags(app.value.tags.as_ref()));
        desired.applications.insert(
            app.key.clone(),
            DesiredApplication {
                spec,
                network: app.value.network.as_ref().map(|n| n.get().clone()),
                prevent_destroy: app.value.prevent_destroy.as_ref().is_some_and(|p| *p.get()),
            },
        );
    }
    for job in &parsed.jobs {
        let effective = parsed.effective_job(job);
        let raw = &job.value;
        let application = required(&raw.application).clone();
        let engine = desired
            .applications
            .get(&application)
            .map(|app| app.spec.engine)
            .expect("invariant: the rules refused a job on an unknown application");
        let source = |text: &Sp<String>| {
            if text.get().starts_with("s3://") {
                JobSource::S3 {
                    uri: text.get().clone(),
                }
            } else {
                JobSource::Local {
                    path: parsed.base.join(text.get()),
                }
            }
        };
        let driver = match engine {
            Engine::Spark => JobDriverSpec::Spark {
                entry_point: source(
                    raw.entry_point
                        .as_ref()
                        .expect("invariant: the rules refused a Spark job without `entry_point`"),
                ),
                arguments: optional_strings(&raw.arguments),
                spark_submit_parameters: raw.spark_submit_parameters.as_ref().map(|p| p.get().clone()),
            },
            Engine::Hive => JobDriverSpec::Hive {
                query: source(
                    raw.query
                        .as_ref()
                        .expect("invariant: the rules refused a Hive job without `query`"),
                ),
                init_query_file: raw.init_query_file.as_ref().map(source),
                parameters: raw.parameters.as_ref().map(|p| p.get().clone()),
            },
        };
        let role = required(&raw.role).clone();
        let role = if role.starts_with("arn:") {
            JobRole::Arn { arn: role }
        } else {
            JobRole::Key { key: role }
        };
        desired.jobs.insert(
            job.key.clone(),
            JobSpec {
                name: raw
                    .name
                    .as_ref()
                    .map(|n| n.get().clone())
                    .unwrap_or_else(|| format!("{stack_name}-{}", job.key)),
                application,
                engine,
                role,
                driver,
                files: optional_strings(&raw.files)
                    .iter()
                    .map(|file| parsed.base.join(file))
                    .collect(),
                runtime: resolve::to_model(&effective.runtime),
                monitoring: monitoring_of(&effective.monitoring),
                timeout_minutes: raw.timeout_minutes.as_ref().map(|t| *t.get() as u32),
                tags: merged_tags(raw.tags.as_ref()),
                mode: match raw.mode.as_ref().map(|m| *m.get()) {
                    Some(RawJobMode::Streaming) => JobRunMode::Streaming,
                    _ => JobRunMode::Batch,
                },
            },
        );
    }
    Some(desired)
}

fn map(map: &SpMap) -> BTreeMap<String, String> {
    map.iter().map(|(k, v)| (k.get().clone(), v.get().clone())).collect()
}

fn strings(list: &Sp<Vec<Sp<String>>>) -> Vec<String> {
    list.iter().map(|s| s.get().clone()).collect()
}

/// A required value. Lowering runs only when no diagnostic is an error, and
/// the structural check reports every missing required key as one.
fn required<T>(value: &Option<Sp<T>>) -> &T {
    value
        .as_ref()
        .map(Sp::get)
        .expect("invariant: required keys are present when the stack has no errors")
}

fn optional_strings(list: &Option<Sp<Vec<Sp<String>>>>) -> Vec<String> {
    list.as_ref().map(strings).unwrap_or_default()
}

/// The strings of a list in order, each once (a repeated subnet or security
/// group ID is a warning, and sent once).
fn unique_strings(list: &Option<Sp<Vec<Sp<String>>>>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in optional_strings(list) {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

fn optional_number(size: &Option<Sp<Size>>, unit: Unit) -> u32 {
    size.as_ref().map(|size| number(size, unit)).unwrap_or(0)
}

fn number(size: &Sp<Size>, unit: Unit) -> u32 {
    parse_size(size.get(), unit)
        .ok()
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(0)
}

fn toggle<T>(value: &Option<Sp<Toggle<T>>>, enabled: impl Fn(&T) -> Option<bool>) -> Option<bool> {
    value.as_ref().map(|v| match v.get() {
        Toggle::Bool(b) => *b,
        Toggle::Table(table) => enabled(table).unwrap_or(true),
    })
}

fn image(raw: &RawImage) -> DesiredImage {
    let source = match &raw.uri {
        Some(uri) => ImageSource::Uri { uri: uri.get().clone() },
        None => ImageSource::Repository {
            repository: raw.repository.as_ref().map(|r| r.get().clone()).unwrap_or_default(),
            tag: raw.tag.as_ref().map(|t| t.get().clone()).unwrap_or_default(),
            pin_digest: raw.pin_digest.as_ref().is_none_or(|p| *p.get()),
        },
    };
    DesiredImage {
        source,
        application_level_digest_resolution: raw.application_level_digest_resolution.as_ref().map(|b| *b.get()),
    }
}

fn uri_image(uri: &Sp<String>) -> DesiredImage {
    DesiredImage {
        source: ImageSource::Uri { uri: uri.get().clone() },
        application_level_digest_resolution: None,
    }
}

fn worker_image(spec: &RawWorkerSpec) -> Option<DesiredImage> {
    spec.image
        .as_ref()
        .map(|i| image(i.get()))
        .or_else(|| spec.image_uri.as_ref().map(uri_image))
}

fn application(
    parsed: &Parsed,
    app: &Effective<'_>,
    stack_name: &str,
    tags: BTreeMap<String, String>,
) -> ApplicationSpec<DesiredImage> {
    let raw = &app.app.value;
    let name = raw
        .name
        .as_ref()
        .map(|n| n.get().clone())
        .unwrap_or_else(|| format!("{stack_name}-{}", app.app.key));
    let mut spec: ApplicationSpec<DesiredImage> = ApplicationSpec::new(
        name,
        app.engine
            .expect("invariant: `type` is present and valid when the stack has no errors"),
        required(&raw.release_label).clone(),
    );
    spec.architecture = raw.architecture.as_ref().map(|a| match a.get() {
        RawArchitecture::X86_64 => Architecture::X86_64,
        RawArchitecture::Arm64 => Architecture::Arm64,
    });
    if let Some(capacity) = &raw.initial_capacity {
        for entry in capacity.get().entries(app.engine) {
            let Some(worker) = entry.worker else {
                continue;
            };
            let value = entry.value.get();
            spec.initial_capacity.insert(
                worker,
                InitialCapacity {
                    worker_count: *required(&value.worker_count) as u64,
                    worker: WorkerResources {
                        cpu: optional_number(&value.cpu, Unit::Vcpu),
                        memory_gb: optional_number(&value.memory, Unit::Gb),
                        disk_gb: value.disk.as_ref().map(|d| number(d, Unit::Gb)),
                        disk_type: value.disk_type.as_ref().and_then(|t| t.get().disk_type()),
                    },
                },
            );
        }
    }
    spec.maximum_capacity = raw.maximum_capacity.as_ref().map(|max| MaximumCapacity {
        cpu: optional_number(&max.cpu, Unit::Vcpu),
        memory_gb: optional_number(&max.memory, Unit::Gb),
        disk_gb: max.disk.as_ref().map(|d| number(d, Unit::Gb)),
    });
    spec.auto_start =
        toggle(&raw.auto_start, |t| t.enabled.as_ref().map(|e| *e.get())).map(|enabled| AutoStart { enabled });
    spec.auto_stop = raw.auto_stop.as_ref().map(|auto_stop| match auto_stop.get() {
        Toggle::Bool(enabled) => AutoStop {
            enabled: *enabled,
            idle_timeout_minutes: AutoStop::default().idle_timeout_minutes,
        },
        Toggle::Table(table) => AutoStop {
            enabled: table.enabled.as_ref().is_none_or(|e| *e.get()),
            idle_timeout_minutes: table
                .idle_timeout_minutes
                .as_ref()
                .map(|m| *m.get() as u32)
                .unwrap_or(AutoStop::default().idle_timeout_minutes),
        },
    });
    if let Some(key) = &raw.network
        && let Some(network) = parsed.network(key.get())
    {
        spec.network = Some(NetworkConfiguration {
            subnet_ids: unique_strings(&network.value.subnet_ids),
            security_group_ids: unique_strings(&network.value.security_group_ids),
        });
    }
    spec.image = raw
        .image
        .as_ref()
        .map(|i| image(i.get()))
        .or_else(|| raw.image_uri.as_ref().map(uri_image));
    if let Some(specifications) = &raw.worker_type_specifications {
        for entry in specifications.get().entries(app.engine) {
            if let (Some(worker), Some(image)) = (entry.worker, worker_image(entry.value.get())) {
                spec.worker_type_specifications.insert(worker, image);
            }
        }
    }
    spec.runtime_configuration = resolve::to_model(&app.runtime);
    spec.monitoring = monitoring_of(&app.monitoring);
    spec.interactive = raw.interactive.as_ref().map(|i| Interactive {
        studio_enabled: i.studio_enabled.as_ref().map(|b| *b.get()),
        livy_endpoint_enabled: i.livy_endpoint_enabled.as_ref().map(|b| *b.get()),
        session_enabled: i.session_enabled.as_ref().map(|b| *b.get()),
    });
    // Left out: the service's default stands (never sent). `false`: `{}`,
    // which turns queueing off. A table: both members, the missing ones
    // with their defaults, since `{}` would turn queueing off.
    spec.scheduler = raw.scheduler.as_ref().map(|scheduler| match scheduler.get() {
        Toggle::Bool(false) => Scheduler::DISABLED,
        Toggle::Bool(true) => Scheduler::ENABLED_DEFAULTS,
        Toggle::Table(table) => Scheduler {
            max_concurrent_runs: Some(
                table
                    .max_concurrent_runs
                    .as_ref()
                    .map(|n| *n.get() as u32)
                    .unwrap_or(Scheduler::DEFAULT_MAX_CONCURRENT_RUNS),
            ),
            queue_timeout_minutes: Some(
                table
                    .queue_timeout_minutes
                    .as_ref()
                    .map(|n| *n.get() as u32)
                    .unwrap_or(Scheduler::DEFAULT_QUEUE_TIMEOUT_MINUTES),
            ),
        },
    });
    spec.disk_encryption = raw.disk_encryption.as_ref().map(|d| DiskEncryption {
        encryption_key_arn: d.encryption_key_arn.as_ref().map(|k| k.get().clone()),
        encryption_context: d.encryption_context.as_ref().map(|c| map(c.get())).unwrap_or_default(),
    });
    spec.identity_center = raw.identity_center.as_ref().map(|i| IdentityCenter {
        instance_arn: i.instance_arn.as_ref().map(|a| a.get().clone()),
        user_background_sessions_enabled: i.user_background_sessions_enabled.as_ref().map(|b| *b.get()),
    });
    spec.job_level_cost_allocation = toggle(&raw.job_level_cost_allocation, |t| t.enabled.as_ref().map(|e| *e.get()))
        .map(|enabled| JobLevelCostAllocation { enabled });
    spec.tags = tags;
    spec
}

fn monitoring_of(m: &resolve::Monitoring<'_>) -> Monitoring {
    let mut out = Monitoring::default();
    if m.s3_log_uri.is_some() || m.s3_encryption_key_arn.is_some() {
        out.s3 = Some(S3Monitoring {
            log_uri: m.s3_log_uri.map(|u| u.get().clone()),
            encryption_key_arn: m.s3_encryption_key_arn.map(|k| k.get().clone()),
        });
    }
    out.managed_persistence = m.managed_persistence.map(|p| match p.get() {
        Toggle::Bool(enabled) => ManagedPersistence {
            enabled: *enabled,
            encryption_key_arn: None,
        },
        Toggle::Table(table) => ManagedPersistence {
            enabled: table.enabled.as_ref().is_none_or(|e| *e.get()),
            encryption_key_arn: table.encryption_key_arn.as_ref().map(|k| k.get().clone()),
        },
    });
    out.cloudwatch = m.cloudwatch.map(|c| match c.get() {
        Toggle::Bool(enabled) => CloudWatchLogging {
            enabled: *enabled,
            ..CloudWatchLogging::default()
        },
        Toggle::Table(table) => CloudWatchLogging {
            enabled: table.enabled.as_ref().is_none_or(|e| *e.get()),
            log_group_name: table.log_group_name.as_ref().map(|g| g.get().clone()),
            log_stream_name_prefix: table.log_stream_name_prefix.as_ref().map(|p| p.get().clone()),
            encryption_key_arn: table.encryption_key_arn.as_ref().map(|k| k.get().clone()),
            log_types: table
                .log_types
                .as_ref()
                .map(|types| {
                    monitoring_log_types(types.get())
                        .into_iter()
                        .map(|(key, _, list)| {
                            (
                                key.to_ascii_uppercase(),
                                list.iter().map(|v| v.get().to_ascii_uppercase()).collect(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        },
    });
    out.prometheus = m.prometheus_remote_write_url.map(|u| PrometheusMonitoring {
        remote_write_url: Some(u.get().clone()),
    });
    out
}
