//! Capacity rules: worker sizes (`capacity.cpu`, `capacity.memory`,
//! `capacity.memory-step`, `capacity.disk`), worker counts, maximum
//! capacity, pre-initialized totals within the maximum
//! (`capacity.exceeds-maximum`), Spark containers against worker sizes
//! (`capacity.spark-container`, `capacity.spark-memory`) and the account
//! vCPU quota (`quota.vcpu`).

use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::model::{DiskType, Engine, Feature, WorkerType};

use super::super::pipeline::{Effective, Parsed};
use super::super::raw::{RawInitialCapacity, Size, Sp};
use super::super::resolve::{self, Property};
use super::super::text::{Unit, parse_size, parse_spark_memory_mib};
use super::gate;

/// The default EMR Serverless quota of concurrent vCPUs per account and region.
pub(crate) const DEFAULT_VCPU_QUOTA: u64 = 16;

/// Disk per worker when `disk` is not set, in GB.
pub(crate) const DEFAULT_DISK_GB: u64 = 20;

/// The supported worker sizes: vCPU, memory range in GB and memory step in GB.
pub(crate) const WORKER_SIZES: [(u64, u64, u64, u64); 5] = [
    (1, 2, 8, 1),
    (2, 4, 16, 1),
    (4, 8, 30, 1),
    (8, 16, 60, 4),
    (16, 32, 120, 8),
];

/// A pre-initialized worker type whose values could be read.
pub(crate) struct Worker<'r> {
    /// The worker type, when the key names one of the application's engine.
    pub worker: Option<WorkerType>,
    /// The table as written.
    pub raw: &'r Sp<RawInitialCapacity>,
    /// Workers, when valid.
    pub count: Option<u64>,
    /// vCPU per worker, when valid.
    pub cpu: Option<u64>,
    /// Memory per worker in GB, when readable.
    pub memory: Option<u64>,
    /// Disk per worker in GB (20 when not written), when valid.
    pub disk: Option<u64>,
}

/// Reads a size, reporting a malformed one.
fn size(parsed: &Parsed, value: &Sp<Size>, unit: Unit, key: &str, diagnostics: &mut Diagnostics) -> Option<u64> {
    match parse_size(value.get(), unit) {
        Ok(n) => Some(n),
        Err(help) => {
            let shown = match value.get() {
                Size::Number(n) => n.to_string(),
                Size::Text(text) => format!("\"{text}\""),
            };
            diagnostics.push(
                Diagnostic::error("capacity.format", format!("`{key}` is not a valid capacity: {shown}"))
                    .at(parsed.span(value))
                    .with_help(help),
            );
            None
        }
    }
}

/// Reads the pre-initialized workers of an application, reporting every
/// sizing problem.
pub(crate) fn workers<'r>(parsed: &Parsed, app: &'r Effective<'_>, diagnostics: &mut Diagnostics) -> Vec<Worker<'r>> {
    let Some(capacity) = &app.app.value.initial_capacity else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in capacity.get().entries(app.engine) {
        let raw = entry.value;
        let value = raw.get();
        let count = value.worker_count.as_ref().and_then(|raw_count| {
            let count = *raw_count.get();
            if (1..=1_000_000).contains(&count) {
                Some(count as u64)
            } else {
                diagnostics.push(
                    Diagnostic::error(
                        "capacity.worker-count",
                        format!("`worker_count` is {count}; it must be 1 to 1000000"),
                    )
                    .at(parsed.span(raw_count))
                    .with_help("remove the worker type from `initial_capacity` to pre-initialize none"),
                );
                None
            }
        });
        let cpu = value.cpu.as_ref().and_then(|raw_cpu| {
            size(parsed, raw_cpu, Unit::Vcpu, "cpu", diagnostics).filter(|cpu| {
                let valid = WORKER_SIZES.iter().any(|row| row.0 == *cpu);
                if !valid {
                    diagnostics.push(
                        Diagnostic::error("capacity.cpu", format!("workers have 1, 2, 4, 8 or 16 vCPU, not {cpu}"))
                            .at(parsed.span(raw_cpu))
                            .with_help("pick one of the supported worker sizes: 1, 2, 4, 8 or 16 vCPU"),
                    );
                }
                valid
            })
        });
        let memory = value
            .memory
            .as_ref()
            .and_then(|raw_memory| size(parsed, raw_memory, Unit::Gb, "memory", diagnostics).map(|m| (m, raw_memory)));
        if let (Some(cpu), Some((memory, raw_memory))) = (cpu, memory)
            && let Some(&(_, min, max, step)) = WORKER_SIZES.iter().find(|row| row.0 == cpu)
        {
            if memory < min || memory > max {
                diagnostics.push(
                    Diagnostic::error(
                        "capacity.memory",
                        format!("{cpu} vCPU workers take {min} to {max} GB of memory, not {memory} GB"),
                    )
                    .at(parsed.span(raw_memory))
                    .with_help(memory_help(memory)),
                );
            } else if !(memory - min).is_multiple_of(step) {
                let lower = memory - (memory - min) % step;
                diagnostics.push(
                    Diagnostic::error(
                        "capacity.memory-step",
                        format!("{cpu} vCPU workers take memory in steps of {step} GB, not {memory} GB"),
                    )
                    .at(parsed.span(raw_memory))
                    .with_help(format!("use {lower} GB or {} GB", lower + step)),
                );
            }
        }
        // The structural check reports a disk type outside the API model's
        // spellings, so an unreadable one is treated as the default here.
        let shuffle = value
            .disk_type
            .as_ref()
            .is_some_and(|t| t.get().disk_type() == Some(DiskType::ShuffleOptimized));
        if let Some(disk_type) = &value.disk_type
            && shuffle
        {
            gate(
                parsed,
                app,
                Feature::ShuffleOptimizedDisks,
                parsed.span(disk_type),
                diagnostics,
            );
        }
        let disk = match &value.disk {
            Some(raw_disk) => size(parsed, raw_disk, Unit::Gb, "disk", diagnostics).filter(|disk| {
                let max = if shuffle { 2000 } else { 200 };
                let valid = (DEFAULT_DISK_GB..=max).contains(disk);
                if !valid {
                    let kind = if shuffle { "shuffle-optimized" } else { "standard" };
                    let mut diagnostic = Diagnostic::error(
                        "capacity.disk",
                        format!("{kind} disks are {DEFAULT_DISK_GB} to {max} GB per worker, not {disk} GB"),
                    )
                    .at(parsed.span(raw_disk));
                    diagnostic = if !shuffle && *disk > 200 && *disk <= 2000 {
                        diagnostic.with_help(
                            "set `disk_type = \"SHUFFLE_OPTIMIZED\"` for up to 2000 GB per worker (emr-7.1.0 or later)",
                        )
                    } else {
                        diagnostic.with_help(format!("use {DEFAULT_DISK_GB} to {max} GB"))
                    };
                    diagnostics.push(diagnostic);
                }
                valid
            }),
            None => Some(DEFAULT_DISK_GB),
        };
        out.push(Worker {
            worker: entry.worker,
            raw,
            count,
            cpu,
            memory: memory.map(|(m, _)| m),
            disk,
        });
    }
    out
}

fn memory_help(memory: u64) -> String {
    let fits: Vec<String> = WORKER_SIZES
        .iter()
        .filter(|(_, min, max, step)| memory >= *min && memory <= *max && (memory - min).is_multiple_of(*step))
        .map(|(cpu, ..)| format!("{cpu} vCPU"))
        .collect();
    if fits.is_empty() {
        "memory per worker ranges from 2 GB (1 vCPU) to 120 GB (16 vCPU)".to_string()
    } else {
        format!("{memory} GB fits workers of {}", fits.join(", "))
    }
}

pub(super) fn check(parsed: &Parsed, app: &Effective<'_>, diagnostics: &mut Diagnostics) {
    let workers = workers(parsed, app, diagnostics);
    let raw = &app.app.value;
    let maximum =
        raw.maximum_capacity.as_ref().map(|max| {
            let value = max.get();
            (
                value.cpu.as_ref().and_then(|cpu| {
                    size(parsed, cpu, Unit::Vcpu, "maximum_capacity.cpu", diagnostics).map(|n| (n, cpu))
                }),
                value.memory.as_ref().and_then(|memory| {
                    size(parsed, memory, Unit::Gb, "maximum_capacity.memory", diagnostics).map(|n| (n, memory))
                }),
                value.disk.as_ref().and_then(|disk| {
                    size(parsed, disk, Unit::Gb, "maximum_capacity.disk", diagnostics).map(|n| (n, disk))
                }),
            )
        });
    if let Some((cpu, memory, disk)) = maximum {
        let complete = workers
            .iter()
            .all(|w| w.count.is_some() && w.cpu.is_some() && w.memory.is_some() && w.disk.is_some());
        if complete && !workers.is_empty() {
            let total =
                |f: &dyn Fn(&Worker<'_>) -> u64| workers.iter().map(|w| w.count.unwrap_or(0) * f(w)).sum::<u64>();
            let totals = [
                ("cpu", "vCPU", "", total(&|w| w.cpu.unwrap_or(0)), cpu),
                ("memory", "GB", " of memory", total(&|w| w.memory.unwrap_or(0)), memory),
                ("disk", "GB", " of disk", total(&|w| w.disk.unwrap_or(0)), disk),
            ];
            for (dimension, unit, of, needed, limit) in totals {
                let Some((limit, at)) = limit else { continue };
                if needed > limit {
                    diagnostics.push(
                        Diagnostic::warning(
                            "capacity.exceeds-maximum",
                            format!(
                                "pre-initialized workers need {needed} {unit}{of} in total, more than `maximum_capacity.{dimension}` ({limit} {unit})"
                            ),
                        )
                        .at(parsed.span(at))
                        .with_label(
                            parsed.span(raw.initial_capacity.as_ref().expect("invariant: workers come from initial_capacity")),
                            "pre-initialized here",
                        )
                        .with_help(format!("raise `maximum_capacity.{dimension}` to at least {needed} {unit}, or pre-initialize fewer workers: no worker is created beyond the maximum, so the application may never reach STARTED (EMR Serverless documents no error for this at creation)")),
                    );
                }
            }
        }
    }
    if app.engine == Some(Engine::Spark) {
        for worker in &workers {
            spark_container(parsed, app, worker, diagnostics);
        }
    }
}

/// `capacity.spark-container`: a Spark driver or executor container must fit the
/// pre-initialized worker of its type, or jobs never use those workers.
fn spark_container(parsed: &Parsed, app: &Effective<'_>, worker: &Worker<'_>, diagnostics: &mut Diagnostics) {
    let role = match worker.worker {
        Some(WorkerType::Driver) => "driver",
        Some(WorkerType::Executor) => "executor",
        _ => return,
    };
    let (Some(cpu), Some(memory_gb)) = (worker.cpu, worker.memory) else {
        return;
    };
    let property = |key: &str| -> Option<&Property> { resolve::property(&app.runtime, "spark-defaults", key) };
    let memory_property = property(&format!("spark.{role}.memory"));
    let overhead_property = property(&format!("spark.{role}.memoryOverhead"));
    let cores_property = property(&format!("spark.{role}.cores"));
    let factor = property(&format!("spark.{role}.memoryOverheadFactor"))
        .or_else(|| property("spark.emr-serverless.memoryOverheadFactor"))
        .and_then(|p| p.value.trim().parse::<f64>().ok())
        .unwrap_or(0.1);
    // Spark's defaults on EMR Serverless: 4 cores and 14 GB per container.
    let memory_mib = memory_property
        .and_then(|p| parse_spark_memory_mib(&p.value))
        .unwrap_or(14.0 * 1024.0);
    let overhead_mib = overhead_property
        .and_then(|p| parse_spark_memory_mib(&p.value))
        .unwrap_or_else(|| (memory_mib * factor).max(384.0));
    let cores = cores_property
        .and_then(|p| p.value.trim().parse::<u64>().ok())
        .unwrap_or(4);
    let worker_mib = memory_gb as f64 * 1024.0;
    let needed = memory_mib + overhead_mib;
    let fits_memory = needed <= worker_mib;
    let fits_cores = cores <= cpu;
    if let Some(memory) = memory_property
        && !fits_memory
    {
        let most = ((worker_mib / (1.0 + factor)).min(worker_mib - 384.0)).floor();
        let suggestion = if overhead_property.is_some() {
            "lower the memory or its overhead".to_string()
        } else if most >= 1024.0 {
            format!("lower `spark.{role}.memory` to at most {}g", (most / 1024.0).floor())
        } else {
            format!("lower `spark.{role}.memory` to at most {most}m")
        };
        let mut diagnostic = Diagnostic::warning(
                "capacity.spark-memory",
                format!(
                    "`spark.{role}.memory` = {} plus {:.0} MiB overhead needs {:.0} MiB, more than a {memory_gb} GB `{role}` worker ({:.0} MiB)",
                    memory.value, overhead_mib, needed, worker_mib
                ),
            )
            .at(memory.value_span.clone())
            .with_help(format!("{suggestion}, or give `{role}` workers more memory; a container that does not fit never uses the pre-initialized workers (runtime properties are free-form to the API, so EMR Serverless accepts the application)"));
        if let Some(worker_memory) = &worker.raw.get().memory {
            diagnostic = diagnostic.with_label(parsed.span(worker_memory), "worker memory set here");
        }
        diagnostics.push(diagnostic);
        return;
    }
    if !fits_memory || !fits_cores {
        let written = memory_property.is_some() && cores_property.is_some();
        let source = if written { "configured" } else { "default" };
        diagnostics.push(
            Diagnostic::warning(
                "capacity.spark-container",
                format!(
                    "the {source} Spark `{role}` container ({cores} cores, {:.0} MiB with overhead) does not fit the pre-initialized {cpu} vCPU / {memory_gb} GB `{role}` workers",
                    needed
                ),
            )
            .at(parsed.span(worker.raw))
            .with_help(format!(
                "jobs will not use these workers; set `spark.{role}.cores` and `spark.{role}.memory` in `spark-defaults` to fit them, or use bigger workers"
            )),
        );
    }
}

/// `quota.vcpu`: pre-initialized vCPUs across the stack above the default quota.
pub(super) fn check_quota(parsed: &Parsed, apps: &[Effective<'_>], diagnostics: &mut Diagnostics) {
    let mut total = 0;
    let mut places: Vec<(Span, u64)> = Vec::new();
    let mut silent = Diagnostics::new();
    for app in apps {
        let workers = workers(parsed, app, &mut silent);
        let mut vcpu: u64 = workers.iter().map(|w| w.count.unwrap_or(0) * w.cpu.unwrap_or(0)).sum();
        // An interactive application keeps one 4 vCPU kernel worker running.
        let interactive = app
            .app
            .value
            .interactive
            .as_ref()
            .is_some_and(|i| i.studio_enabled.as_ref().is_some_and(|s| *s.get()));
        if interactive && vcpu > 0 {
            vcpu += 4;
        }
        if vcpu > 0
            && let Some(capacity) = &app.app.value.initial_capacity
        {
            places.push((parsed.span(capacity), vcpu));
            total += vcpu;
        }
    }
    if total <= DEFAULT_VCPU_QUOTA || places.is_empty() {
        return;
    }
    let mut diagnostic = Diagnostic::warning(
        "quota.vcpu",
        format!(
            "pre-initialized workers need {total} vCPU ({} vCPU here), more than the default EMR Serverless quota of {DEFAULT_VCPU_QUOTA} vCPU per account and region",
            places[0].1
        ),
    )
    .at(places[0].0.clone())
    .with_help("check the \"Max concurrent vCPUs per account\" quota in Service Quotas and ask for more if needed; an application does not reach STARTED until all its pre-initialized capacity runs");
    // The first application is the primary position; the others are labels.
    for (span, vcpu) in places.iter().skip(1) {
        diagnostic = diagnostic.with_label(span.clone(), format!("{vcpu} vCPU here"));
    }
    diagnostics.push(diagnostic);
}
