//! The stack file `emrstack generate` proposes for what it read, before
//! validation: keys derived from names, networks and runtime
//! configurations shared by several applications factored out, images
//! written as a repository and tag where a tag says the same, and every
//! value the service would hold anyway left out.
//!
//! Leaving out follows the field declarations (`model::fields`) through
//! `diff::normalize`, the same normalisation a plan compares with: a field
//! is written only when leaving it out would change what the plan
//! compares. For a field the stack leaves to the service when it is silent
//! (`Absence::NotManaged`: `maximum_capacity`, `scheduler`), "left out"
//! means the value the service gives an application created without it,
//! the declaration's server default for the release (the scheduler's is on
//! from emr-7.3.0), so that what was chosen is written.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use crate::config::text::{is_resource_key, parse_image_uri};
use crate::diff::normalize::{self, DEFAULT_WORKER_DISK_GB, field_value};
use crate::model::fields::{Absence, ServerDefault, release_of};
use crate::model::update::set_field_json;
use crate::model::{
    Address, ApplicationField, ApplicationSpec, AutoStop, Configuration, DiskType, ImageConfig, ObservedApplication,
    ObservedRepository, ObservedRole, Owner, ResourceKind, Scheduler, reference, repository, role, tags,
};

use super::read::{Account, Trust, emr_serverless_trust, names_application};
use super::toml::{Document, Entry, Section, Value};
use super::{GenerateOptions, Report, ReportKind};

/// The proposed stack file and what goes with it.
#[derive(Clone, Debug, Default)]
pub(super) struct Draft {
    pub document: Document,
    pub reports: Vec<Report>,
    /// Inline policy documents by role key and policy name, for `--policy-files`.
    pub policies: BTreeMap<(String, String), Json>,
    /// For an application whose image's repository lets EMR Serverless pull
    /// through a statement the stack does not own: which one, to add to the
    /// `image.not-granted` warning kept in the file.
    pub grants: BTreeMap<String, String>,
}

/// Keys already taken, per kind.
#[derive(Default)]
struct Keys {
    used: BTreeMap<ResourceKind, BTreeSet<String>>,
}

impl Keys {
    /// A valid, unused key for `kind` derived from `wanted`.
    fn take(&mut self, kind: ResourceKind, wanted: &str) -> String {
        let mut base: String = wanted
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        while base.contains("__") {
            base = base.replace("__", "_");
        }
        let mut base = base.trim_matches(['_', '-']).to_string();
        if base.is_empty() {
            base = kind.as_str().to_string();
        }
        base.truncate(56);
        let used = self.used.entry(kind).or_default();
        let mut key = base.clone();
        let mut n = 2;
        while used.contains(&key) || !is_resource_key(&key) {
            key = format!("{base}_{n}");
            n += 1;
        }
        used.insert(key.clone());
        key
    }

    /// Takes `key` exactly, when it is free (an address a resource carries).
    fn take_exact(&mut self, kind: ResourceKind, key: &str) -> Option<String> {
        let used = self.used.entry(kind).or_default();
        (is_resource_key(key) && used.insert(key.to_string())).then(|| key.to_string())
    }
}

/// The key of a resource: the address it carries in this stack's tags (a
/// stack generated again), else its name without the stack's prefix (so
/// that the name is the default and not written), else its name made valid.
fn resource_key(keys: &mut Keys, kind: ResourceKind, owner: &Owner, stack: &str, name: &str) -> String {
    if let Some(address) = owner.address_in(stack)
        && address.kind == kind
        && let Some(key) = keys.take_exact(kind, &address.name)
    {
        return key;
    }
    let wanted = name.strip_prefix(&format!("{stack}-")).unwrap_or(name);
    keys.take(kind, wanted)
}

/// The user's tags of a resource: without emrstack's and AWS's own.
fn user_tags(all: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    all.iter()
        .filter(|(key, _)| !tags::is_reserved(key) && !key.to_ascii_lowercase().starts_with(normalize::AWS_TAG_PREFIX))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn cpu(n: u32) -> Value {
    Value::str(format!("{n} vCPU"))
}

fn gb(n: u32) -> Value {
    Value::str(format!("{n} GB"))
}

fn table(entries: Vec<(&str, Value)>) -> Value {
    Value::Table(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn string_table(map: &BTreeMap<String, String>) -> Value {
    Value::Table(map.iter().map(|(k, v)| (k.clone(), Value::str(v))).collect())
}

/// `text` with every ARN of a generated application replaced by its
/// placeholder, so a policy follows the application if it is replaced.
fn with_placeholders(json: &Json, arns: &[(String, String)]) -> Json {
    match json {
        Json::String(text) => {
            let mut out = text.clone();
            for (arn, key) in arns {
                let mut result = String::new();
                let mut rest = out.as_str();
                while let Some(at) = rest.find(arn.as_str()) {
                    let after = &rest[at + arn.len()..];
                    result.push_str(&rest[..at]);
                    // Only the whole ARN, not a longer ID that starts with it.
                    if after.chars().next().is_none_or(|c| !c.is_ascii_alphanumeric()) {
                        result.push_str(&reference::application_arn_placeholder(key));
                    } else {
                        result.push_str(arn);
                    }
                    rest = after;
                }
                result.push_str(rest);
                out = result;
            }
            Json::String(out)
        }
        Json::Array(items) => Json::Array(items.iter().map(|item| with_placeholders(item, arns)).collect()),
        Json::Object(map) => Json::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), with_placeholders(v, arns)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `camelCase` keys as `snake_case`, recursively: the API's spelling of a
/// server default as the model's.
fn snake_keys(json: &Json) -> Json {
    match json {
        Json::Object(map) => Json::Object(
            map.iter()
                .map(|(key, value)| {
                    let mut snake = String::new();
                    for c in key.chars() {
                        if c.is_ascii_uppercase() {
                            snake.push('_');
                            snake.push(c.to_ascii_lowercase());
                        } else {
                            snake.push(c);
                        }
                    }
                    (snake, snake_keys(value))
                })
                .collect(),
        ),
        Json::Array(items) => Json::Array(items.iter().map(snake_keys).collect()),
        other => other.clone(),
    }
}

/// What `GetApplication` shows, normalised, for an application like `view`
/// created without `field`: the declaration's server default for its
/// release, or nothing.
pub(super) fn created_without(view: &ApplicationSpec, field: ApplicationField) -> ApplicationSpec {
    let mut bare = ApplicationSpec::new(view.name.clone(), view.engine, view.release_label.clone());
    let declaration = field.declaration();
    let value = match declaration.server_default {
        ServerDefault::Fixed(value) => Some(value),
        ServerDefault::FromRelease { value, .. }
            if declaration.server_default_applies(release_of(&view.release_label)) =>
        {
            Some(value)
        }
        _ => None,
    };
    if let Some(value) = value.and_then(|text| serde_json::from_str::<Json>(text).ok()) {
        // A default the model cannot hold is left out, which makes the field
        // written; a unit test keeps every declaration's default readable.
        let _ = set_field_json(&mut bare, field, snake_keys(&value));
    }
    normalize::observed(&bare)
}

/// Whether the stack file can leave `field` out of an application that AWS
/// holds as `view` (normalised as observed) and the plan still compares
/// equal: the value is what leaving it out means.
pub(super) fn left_out(view: &ApplicationSpec, field: ApplicationField) -> bool {
    let declaration = field.declaration();
    let without = match declaration.absence {
        Absence::Required => return false,
        // Left out, the service's value stands: written when it is not
        // what the service chooses by itself.
        Absence::NotManaged => created_without(view, field),
        // Left out, the stack asks for the default or for nothing.
        Absence::Default | Absence::Cleared => normalize::application(&ApplicationSpec::new(
            view.name.clone(),
            view.engine,
            view.release_label.clone(),
        )),
    };
    field_value(view, field) == field_value(&without, field)
}

/// A network's subnet IDs and security group IDs.
type NetworkSet = (Vec<String>, Vec<String>);

/// How an image is written.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ImageForm {
    Repository { key: String, tag: String, pin: bool },
    Uri(String),
}

struct Builder<'a> {
    account: &'a Account,
    stack: String,
    keys: Keys,
    draft: Draft,
    /// Repository name -> key, for the repositories images use.
    repository_keys: BTreeMap<String, String>,
    /// Application ARN -> key.
    application_keys: Vec<(String, String)>,
}

impl Builder<'_> {
    fn report(
        &mut self,
        kind: ReportKind,
        subject: impl Into<String>,
        field: Option<&str>,
        message: impl Into<String>,
    ) {
        self.draft
            .reports
            .push(Report::new(kind, subject, field.map(str::to_string), message));
    }

    fn image_form(&mut self, image: &ImageConfig) -> ImageForm {
        let uri = || ImageForm::Uri(image.image_uri.clone());
        let Ok(parsed) = parse_image_uri(&image.image_uri) else {
            return uri();
        };
        if parsed.account != self.account.account_id
            || parsed.region != self.account.region
            || !self.account.repositories.contains_key(&parsed.repository)
        {
            return uri();
        }
        let (tag, pin) = if parsed.reference.starts_with("sha256:") {
            let tags = self
                .account
                .digest_tags
                .get(&(parsed.repository.clone(), parsed.reference.clone()))
                .cloned()
                .unwrap_or_default();
            // A version tag rather than `latest`, which moves most often.
            let Some(tag) = tags
                .iter()
                .find(|tag| tag.as_str() != "latest")
                .or_else(|| tags.first())
                .cloned()
            else {
                return uri();
            };
            (tag, true)
        } else {
            let known = self
                .account
                .tag_digests
                .get(&parsed.repository)
                .is_some_and(|digests| digests.contains_key(&parsed.reference));
            if !known {
                return uri();
            }
            (parsed.reference.clone(), false)
        };
        let key = match self.repository_keys.get(&parsed.repository) {
            Some(key) => key.clone(),
            None => {
                let key = self.keys.take(ResourceKind::Repository, &parsed.repository);
                self.repository_keys.insert(parsed.repository.clone(), key.clone());
                key
            }
        };
        ImageForm::Repository { key, tag, pin }
    }

    fn image_value(&mut self, image: &ImageConfig, release: &str, field: ApplicationField) -> Value {
        let mut entries = match self.image_form(image) {
            ImageForm::Repository { key, tag, pin } => {
                let mut entries = vec![("repository", Value::str(key)), ("tag", Value::str(tag))];
                if !pin {
                    entries.push(("pin_digest", Value::Bool(false)));
                }
                entries
            }
            ImageForm::Uri(uri) => vec![("uri", Value::str(uri))],
        };
        let default = field.declaration().member_default(release_of(release));
        if let Some(resolution) = image.application_level_digest_resolution
            && Some(resolution) != default
        {
            entries.push(("application_level_digest_resolution", Value::Bool(resolution)));
        }
        table(entries)
    }
}

/// Statements of a repository policy, other than the stack's own, that let
/// EMR Serverless pull for an application: by `Sid` (or position).
fn foreign_grants(repository: &ObservedRepository, stack: &str, application_arn: &str) -> Vec<String> {
    let ours = repository::statement_sid(stack);
    let Some(policy) = &repository.policy else {
        return Vec::new();
    };
    repository::statements(policy)
        .into_iter()
        .enumerate()
        .filter(|(_, statement)| statement.get("Sid").and_then(Json::as_str) != Some(ours.as_str()))
        .filter(|(_, statement)| {
            let wrapper = serde_json::json!({ "Statement": [ (*statement).clone() ] });
            match emr_serverless_trust(&wrapper) {
                Trust::Generally => true,
                Trust::SourceArns(patterns) => patterns.iter().any(|p| names_application(p, application_arn)),
                Trust::None => false,
            }
        })
        .map(|(index, statement)| match statement.get("Sid").and_then(Json::as_str) {
            Some(sid) if !sid.is_empty() => format!("`{sid}`"),
            _ => format!("number {}", index + 1),
        })
        .collect()
}

/// Builds the proposed stack file.
pub(super) fn build(account: &Account, options: &GenerateOptions) -> Draft {
    let stack = options.stack_name.clone();
    let mut builder = Builder {
        account,
        stack: stack.clone(),
        keys: Keys::default(),
        draft: Draft::default(),
        repository_keys: BTreeMap::new(),
        application_keys: Vec::new(),
    };
    builder.draft.reports.extend(account.reports.iter().cloned());

    // Keys first: roles and policies name applications by key.
    let mut applications: Vec<(String, &ObservedApplication)> = Vec::new();
    for app in &account.applications {
        let key = resource_key(
            &mut builder.keys,
            ResourceKind::Application,
            &app.owner(),
            &stack,
            &app.spec.name,
        );
        builder.application_keys.push((app.arn.clone(), key.clone()));
        applications.push((key, app));
    }
    let mut roles: Vec<(String, &ObservedRole)> = Vec::new();
    for observed in &account.roles {
        let key = resource_key(
            &mut builder.keys,
            ResourceKind::Role,
            &observed.owner(),
            &stack,
            &observed.spec.name,
        );
        roles.push((key, observed));
    }
    // Longest ARNs first, so a placeholder never replaces part of another.
    builder
        .application_keys
        .sort_by_key(|(arn, _)| std::cmp::Reverse(arn.len()));

    // Tags every application and role carries become `[tags]`.
    let all_tags: Vec<BTreeMap<String, String>> = applications
        .iter()
        .map(|(_, app)| user_tags(&app.spec.tags))
        .chain(roles.iter().map(|(_, observed)| user_tags(&observed.spec.tags)))
        .collect();
    let stack_tags: BTreeMap<String, String> = match all_tags.split_first() {
        Some((first, rest)) if !rest.is_empty() => first
            .iter()
            .filter(|(k, v)| rest.iter().all(|tags| tags.get(*k) == Some(*v)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        _ => BTreeMap::new(),
    };

    // Networks: one per distinct set of subnets and security groups.
    let mut networks: BTreeMap<NetworkSet, (String, Vec<String>)> = BTreeMap::new();
    for (key, app) in &applications {
        let view = normalize::observed(&app.spec);
        if let Some(network) = &view.network {
            let set = (network.subnet_ids.clone(), network.security_group_ids.clone());
            if !networks.contains_key(&set) {
                let vpc = network
                    .subnet_ids
                    .iter()
                    .find_map(|id| account.subnets.get(id))
                    .map(|subnet| subnet.vpc_id.replace('-', "_"))
                    .unwrap_or_else(|| "network".to_string());
                let network_key = builder.keys.take(ResourceKind::Network, &vpc);
                networks.insert(set.clone(), (network_key, Vec::new()));
            }
            if let Some((_, users)) = networks.get_mut(&set) {
                users.push(key.clone());
            }
        }
    }

    // Runtime configurations that several applications share become `[configs.*]`.
    let mut runtimes: BTreeMap<String, (Vec<Configuration>, Vec<String>)> = BTreeMap::new();
    for (key, app) in &applications {
        let view = normalize::observed(&app.spec);
        if view.runtime_configuration.is_empty() {
            continue;
        }
        let text = serde_json::to_string(&view.runtime_configuration).unwrap_or_default();
        runtimes
            .entry(text)
            .or_insert_with(|| (view.runtime_configuration.clone(), Vec::new()))
            .1
            .push(key.clone());
    }
    let mut configs: BTreeMap<String, String> = BTreeMap::new();
    let mut config_sections = Vec::new();
    for (list, users) in runtimes.values() {
        if users.len() < 2 {
            continue;
        }
        let wanted: Vec<&str> = list.iter().map(|c| c.classification.as_str()).collect();
        let config_key = builder.keys.take(ResourceKind::Config, &wanted.join("_"));
        let address = Address::new(ResourceKind::Config, config_key.clone());
        let mut section = Section::new(&["configs", &config_key], Some(address.clone()), "");
        section.comments.push(format!(
            "runtime configuration shared by {}",
            users
                .iter()
                .map(|k| format!("application.{k}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        config_sections.push(section);
        config_sections.extend(runtime_sections(&["configs", &config_key], &address, "runtime", list));
        for user in users {
            configs.insert(user.clone(), config_key.clone());
        }
    }

    // Applications (their images decide which repositories to declare).
    let mut application_sections = Vec::new();
    for (key, app) in &applications {
        let network = app.spec.network.as_ref().and_then(|_| {
            let view = normalize::observed(&app.spec);
            let network = view.network?;
            networks
                .get(&(network.subnet_ids, network.security_group_ids))
                .map(|(k, _)| k.clone())
        });
        application_sections.extend(application(
            &mut builder,
            key,
            app,
            network,
            configs.get(key).cloned(),
            &stack_tags,
        ));
    }

    // Roles.
    let mut role_sections = Vec::new();
    for (key, observed) in &roles {
        role_sections.extend(role_sections_of(&mut builder, key, observed, &stack_tags));
    }

    // Repositories.
    let mut repository_sections = Vec::new();
    let repository_keys = builder.repository_keys.clone();
    for (name, key) in &repository_keys {
        let Some(observed) = account.repositories.get(name) else {
            continue;
        };
        repository_sections.push(repository_section(&mut builder, key, observed, &applications));
    }

    let mut document = Document {
        comments: vec![
            format!(
                "Generated by `emrstack generate` from account {} in {}.",
                account.account_id, account.region
            ),
            "Review it, then adopt what it declares with `emrstack import --all`: the next `emrstack plan` is empty."
                .to_string(),
        ],
        sections: Vec::new(),
    };
    let mut stack_section = Section::new(&["stack"], None, "stack");
    stack_section.push(Entry::new("name", Value::str(&stack)));
    stack_section.push(Entry::new("region", Value::str(&account.region)));
    document.sections.push(stack_section);
    if !stack_tags.is_empty() {
        let mut section = Section::new(&["tags"], None, "tags");
        section.comments.push("on every application and role".to_string());
        for (k, v) in &stack_tags {
            section.push(Entry::new(k.clone(), Value::str(v)).field(format!("tags.{k}")));
        }
        document.sections.push(section);
    }
    for ((subnets, groups), (network_key, users)) in &networks {
        let address = Address::new(ResourceKind::Network, network_key.clone());
        let mut section = Section::new(&["networks", network_key], Some(address), "");
        let vpc = subnets
            .iter()
            .find_map(|id| account.subnets.get(id))
            .map(|subnet| format!("in {}, ", subnet.vpc_id))
            .unwrap_or_default();
        section.comments.push(format!(
            "subnets and security groups {vpc}used by {}",
            users
                .iter()
                .map(|k| format!("application.{k}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        section.push(Entry::new("subnet_ids", Value::strings(subnets)));
        section.push(Entry::new("security_group_ids", Value::strings(groups)));
        document.sections.push(section);
    }
    document.sections.extend(config_sections);
    document.sections.extend(repository_sections);
    document.sections.extend(role_sections);
    document.sections.extend(application_sections);
    builder.draft.document = document;
    builder.draft
}

/// `[[<prefix>.runtime]]` sections for a runtime configuration list.
fn runtime_sections(prefix: &[&str], owner: &Address, field: &str, list: &[Configuration]) -> Vec<Section> {
    let mut sections = Vec::new();
    for configuration in list {
        let mut path: Vec<&str> = prefix.to_vec();
        path.push("runtime");
        let field = format!("{field}.{}", configuration.classification);
        let mut section = Section::new(&path, Some(owner.clone()), field.clone());
        section.array = true;
        section.push(Entry::new("classification", Value::str(&configuration.classification)).field(field.clone()));
        if !configuration.properties.is_empty() {
            section.push(Entry::new("properties", string_table(&configuration.properties)).field(field.clone()));
        }
        if !configuration.configurations.is_empty() {
            section.push(
                Entry::new(
                    "configurations",
                    Value::Array(configuration.configurations.iter().map(nested).collect()),
                )
                .field(format!("{field}.configurations")),
            );
        }
        sections.push(section);
    }
    sections
}

fn nested(configuration: &Configuration) -> Value {
    let mut entries = vec![("classification", Value::str(&configuration.classification))];
    if !configuration.properties.is_empty() {
        entries.push(("properties", string_table(&configuration.properties)));
    }
    if !configuration.configurations.is_empty() {
        entries.push((
            "configurations",
            Value::Array(configuration.configurations.iter().map(nested).collect()),
        ));
    }
    table(entries)
}

/// The sections of one application.
fn application(
    builder: &mut Builder<'_>,
    key: &str,
    app: &ObservedApplication,
    network: Option<String>,
    config: Option<String>,
    stack_tags: &BTreeMap<String, String>,
) -> Vec<Section> {
    let stack = builder.stack.clone();
    let address = Address::application(key);
    let view = normalize::observed(&app.spec);
    let release = view.release_label.clone();
    let mut main = Section::new(&["applications", key], Some(address.clone()), "");
    main.comments
        .push(format!("application {} ({}): {}", app.id, app.state, app.arn));
    let mut subsections = Vec::new();
    let subject = address.to_string();
    for field in ApplicationField::ALL {
        if field != ApplicationField::Engine && field != ApplicationField::ReleaseLabel && left_out(&view, field) {
            continue;
        }
        match field {
            ApplicationField::Name => {
                if view.name != format!("{stack}-{key}") {
                    main.push(Entry::new("name", Value::str(&view.name)));
                }
            }
            ApplicationField::Engine => main.push(Entry::new("type", Value::str(view.engine.api_name()))),
            ApplicationField::ReleaseLabel => main.push(Entry::new("release_label", Value::str(&release))),
            ApplicationField::Architecture => main.push(Entry::new(
                "architecture",
                Value::str(view.architecture.unwrap_or_default().api_name()),
            )),
            ApplicationField::InitialCapacity => {
                for (worker, capacity) in &view.initial_capacity {
                    let field = format!("initial_capacity.{worker}");
                    let mut section = Section::new(
                        &["applications", key, "initial_capacity", worker.as_str()],
                        Some(address.clone()),
                        field.clone(),
                    );
                    let worker_entry =
                        |name: &str, value: Value| Entry::new(name, value).field(format!("{field}.{name}"));
                    section.push(worker_entry(
                        "worker_count",
                        Value::Int(i64::try_from(capacity.worker_count).unwrap_or(i64::MAX)),
                    ));
                    section.push(worker_entry("cpu", cpu(capacity.worker.cpu)));
                    section.push(worker_entry("memory", gb(capacity.worker.memory_gb)));
                    if let Some(disk) = capacity.worker.disk_gb
                        && disk != DEFAULT_WORKER_DISK_GB
                    {
                        section.push(worker_entry("disk", gb(disk)));
                    }
                    if let Some(disk_type) = capacity.worker.disk_type
                        && disk_type != DiskType::Standard
                    {
                        section.push(worker_entry("disk_type", Value::str(disk_type.api_name())));
                    }
                    subsections.push(section);
                }
            }
            ApplicationField::MaximumCapacity => {
                if let Some(maximum) = &view.maximum_capacity {
                    let mut entries = vec![("cpu", cpu(maximum.cpu)), ("memory", gb(maximum.memory_gb))];
                    if let Some(disk) = maximum.disk_gb {
                        entries.push(("disk", gb(disk)));
                    }
                    main.push(Entry::new("maximum_capacity", table(entries)));
                }
            }
            ApplicationField::AutoStart => {
                if view.auto_start.as_ref().is_some_and(|a| !a.enabled) {
                    main.push(Entry::new("auto_start", Value::Bool(false)));
                }
            }
            ApplicationField::AutoStop => match &view.auto_stop {
                Some(stop) if !stop.enabled => main.push(Entry::new("auto_stop", Value::Bool(false))),
                Some(stop) if stop.idle_timeout_minutes != AutoStop::default().idle_timeout_minutes => {
                    main.push(Entry::new(
                        "auto_stop",
                        table(vec![(
                            "idle_timeout_minutes",
                            Value::Int(i64::from(stop.idle_timeout_minutes)),
                        )]),
                    ))
                }
                _ => {}
            },
            ApplicationField::Network => {
                if let Some(network) = &network {
                    main.push(Entry::new("network", Value::str(network)));
                }
            }
            ApplicationField::Image => {
                if let Some(image) = &view.image {
                    let value = builder.image_value(image, &release, ApplicationField::Image);
                    main.push(Entry::new("image", value));
                }
            }
            ApplicationField::WorkerTypeSpecifications => {
                for (worker, image) in &view.worker_type_specifications {
                    let field = format!("worker_type_specifications.{worker}");
                    let mut section = Section::new(
                        &["applications", key, "worker_type_specifications", worker.as_str()],
                        Some(address.clone()),
                        field.clone(),
                    );
                    let value = builder.image_value(image, &release, ApplicationField::WorkerTypeSpecifications);
                    section.push(Entry::new("image", value).field(format!("{field}.image")));
                    subsections.push(section);
                }
            }
            ApplicationField::RuntimeConfiguration => match &config {
                Some(config) => {
                    main.push(Entry::new("configs", Value::strings([config])).field("runtime_configuration"))
                }
                None => subsections.extend(runtime_sections(
                    &["applications", key],
                    &address,
                    "runtime_configuration",
                    &view.runtime_configuration,
                )),
            },
            ApplicationField::Monitoring => {
                let monitoring = &view.monitoring;
                let mut section = Section::new(
                    &["applications", key, "monitoring"],
                    Some(address.clone()),
                    "monitoring",
                );
                let entry = |name: &str, value: Value| Entry::new(name, value).field(format!("monitoring.{name}"));
                if let Some(s3) = &monitoring.s3 {
                    if let Some(uri) = &s3.log_uri {
                        section.push(entry("s3_log_uri", Value::str(uri)));
                    }
                    if let Some(key_arn) = &s3.encryption_key_arn {
                        section.push(entry("s3_encryption_key_arn", Value::str(key_arn)));
                    }
                }
                if let Some(persistence) = &monitoring.managed_persistence {
                    let value = match (&persistence.encryption_key_arn, persistence.enabled) {
                        (None, enabled) => Value::Bool(enabled),
                        (Some(key_arn), true) => table(vec![("encryption_key_arn", Value::str(key_arn))]),
                        (Some(key_arn), false) => table(vec![
                            ("enabled", Value::Bool(false)),
                            ("encryption_key_arn", Value::str(key_arn)),
                        ]),
                    };
                    section.push(entry("managed_persistence", value));
                }
                if let Some(cloudwatch) = &monitoring.cloudwatch {
                    let mut entries = Vec::new();
                    if !cloudwatch.enabled {
                        entries.push(("enabled", Value::Bool(false)));
                    }
                    if let Some(group) = &cloudwatch.log_group_name {
                        entries.push(("log_group_name", Value::str(group)));
                    }
                    if let Some(prefix) = &cloudwatch.log_stream_name_prefix {
                        entries.push(("log_stream_name_prefix", Value::str(prefix)));
                    }
                    if let Some(key_arn) = &cloudwatch.encryption_key_arn {
                        entries.push(("encryption_key_arn", Value::str(key_arn)));
                    }
                    if !cloudwatch.log_types.is_empty() {
                        entries.push((
                            "log_types",
                            Value::Table(
                                cloudwatch
                                    .log_types
                                    .iter()
                                    .map(|(worker, types)| {
                                        (
                                            worker.to_ascii_lowercase(),
                                            Value::strings(types.iter().map(|t| t.to_ascii_lowercase())),
                                        )
                                    })
                                    .collect(),
                            ),
                        ));
                    }
                    let value = if entries.is_empty() {
                        Value::Bool(true)
                    } else {
                        table(entries)
                    };
                    section.push(entry("cloudwatch", value));
                }
                if let Some(url) = monitoring.prometheus.as_ref().and_then(|p| p.remote_write_url.as_ref()) {
                    section.push(entry("prometheus_remote_write_url", Value::str(url)));
                }
                if !section.entries.is_empty() {
                    subsections.push(section);
                }
            }
            ApplicationField::Interactive => {
                if let Some(interactive) = &view.interactive {
                    let mut entries = Vec::new();
                    for (name, flag) in [
                        ("studio_enabled", interactive.studio_enabled),
                        ("livy_endpoint_enabled", interactive.livy_endpoint_enabled),
                        ("session_enabled", interactive.session_enabled),
                    ] {
                        if flag == Some(true) {
                            entries.push((name, Value::Bool(true)));
                        }
                    }
                    if !entries.is_empty() {
                        main.push(Entry::new("interactive", table(entries)));
                    }
                }
            }
            ApplicationField::Scheduler => match &view.scheduler {
                Some(scheduler) if scheduler.is_disabled() => main.push(Entry::new("scheduler", Value::Bool(false))),
                Some(scheduler) => {
                    let filled = scheduler.filled();
                    let mut entries = Vec::new();
                    if let Some(runs) = filled.max_concurrent_runs
                        && runs != Scheduler::DEFAULT_MAX_CONCURRENT_RUNS
                    {
                        entries.push(("max_concurrent_runs", Value::Int(i64::from(runs))));
                    }
                    if let Some(minutes) = filled.queue_timeout_minutes
                        && minutes != Scheduler::DEFAULT_QUEUE_TIMEOUT_MINUTES
                    {
                        entries.push(("queue_timeout_minutes", Value::Int(i64::from(minutes))));
                    }
                    let value = if entries.is_empty() {
                        Value::Bool(true)
                    } else {
                        table(entries)
                    };
                    main.push(Entry::new("scheduler", value));
                }
                None => {}
            },
            ApplicationField::DiskEncryption => {
                if let Some(encryption) = &view.disk_encryption {
                    let mut entries = Vec::new();
                    if let Some(key_arn) = &encryption.encryption_key_arn {
                        entries.push(("encryption_key_arn", Value::str(key_arn)));
                    }
                    if !encryption.encryption_context.is_empty() {
                        entries.push(("encryption_context", string_table(&encryption.encryption_context)));
                    }
                    main.push(Entry::new("disk_encryption", table(entries)));
                }
            }
            ApplicationField::IdentityCenter => {
                if let Some(identity) = &view.identity_center {
                    let mut entries = Vec::new();
                    if let Some(arn) = &identity.instance_arn {
                        entries.push(("instance_arn", Value::str(arn)));
                    }
                    if identity.user_background_sessions_enabled == Some(true) {
                        entries.push(("user_background_sessions_enabled", Value::Bool(true)));
                    }
                    main.push(Entry::new("identity_center", table(entries)));
                }
            }
            ApplicationField::JobLevelCostAllocation => {
                if view.job_level_cost_allocation.as_ref().is_some_and(|c| c.enabled) {
                    main.push(Entry::new("job_level_cost_allocation", Value::Bool(true)));
                }
            }
            ApplicationField::Tags => {
                let own: BTreeMap<String, String> = user_tags(&app.spec.tags)
                    .into_iter()
                    .filter(|(k, v)| stack_tags.get(k) != Some(v))
                    .collect();
                if !own.is_empty() {
                    main.push(Entry::new("tags", string_table(&own)));
                }
            }
        }
    }
    aws_tags(builder, &subject, &app.spec.tags);
    let mut sections = vec![main];
    sections.extend(subsections);
    sections
}

/// AWS's own tags (`aws:cloudformation:stack-name`) cannot be written, and
/// are never a difference: reported once per resource.
fn aws_tags(builder: &mut Builder<'_>, subject: &str, all: &BTreeMap<String, String>) {
    let reserved: Vec<&String> = all
        .keys()
        .filter(|key| key.to_ascii_lowercase().starts_with(normalize::AWS_TAG_PREFIX))
        .collect();
    if !reserved.is_empty() {
        builder.report(
            ReportKind::Note,
            subject,
            Some("tags"),
            format!(
                "{} left out: AWS reserves `aws:` tags, and emrstack never changes them",
                reserved.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
            ),
        );
    }
}

/// The sections of one role.
fn role_sections_of(
    builder: &mut Builder<'_>,
    key: &str,
    observed: &ObservedRole,
    stack_tags: &BTreeMap<String, String>,
) -> Vec<Section> {
    let stack = builder.stack.clone();
    let address = Address::role(key);
    let spec = &observed.spec;
    let mut main = Section::new(&["roles", key], Some(address.clone()), "");
    main.comments.push(format!("role {}", observed.arn));
    if !spec.name.eq(&format!("{stack}-{key}")) {
        main.push(Entry::new("name", Value::str(&spec.name)));
    }
    if spec.path != role::DEFAULT_PATH {
        main.push(Entry::new("path", Value::str(&spec.path)));
    }
    if let Some(description) = &spec.description {
        main.push(Entry::new("description", Value::str(description)));
    }
    if spec.max_session_duration != role::DEFAULT_MAX_SESSION_DURATION {
        main.push(Entry::new(
            "max_session_duration",
            Value::Int(i64::from(spec.max_session_duration)),
        ));
    }
    if let Some(boundary) = &spec.permissions_boundary {
        main.push(Entry::new("permissions_boundary", Value::str(boundary)));
    }
    if !spec.managed_policy_arns.is_empty() {
        main.push(Entry::new(
            "managed_policy_arns",
            Value::strings(&spec.managed_policy_arns),
        ));
    }
    let mut sections = Vec::new();
    // The trust policy: the generated one for some of the applications, or
    // the role's own, stated.
    let stated = role::without_marker(&spec.trust_policy, &stack);
    let trusted: Option<Vec<String>> = {
        let arns: Vec<String> = match emr_serverless_trust(&stated) {
            Trust::SourceArns(patterns) => patterns
                .iter()
                .map(|p| p.strip_suffix("/*").unwrap_or(p).to_string())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            _ => Vec::new(),
        };
        let keys: Option<Vec<String>> = arns
            .iter()
            .map(|arn| {
                builder
                    .application_keys
                    .iter()
                    .find(|(known, _)| known == arn)
                    .map(|(_, key)| key.clone())
            })
            .collect();
        keys.filter(|keys| {
            let arns: Vec<String> = keys
                .iter()
                .filter_map(|key| {
                    builder
                        .application_keys
                        .iter()
                        .find(|(_, k)| k == key)
                        .map(|(arn, _)| arn.clone())
                })
                .collect();
            let generated = role::trust_policy(&stack, &builder.account.account_id, &arns);
            crate::diff::policy::equivalent(&generated, &spec.trust_policy)
        })
    };
    match trusted {
        Some(keys) if !keys.is_empty() => main.push(Entry::new("trust_applications", Value::strings(&keys))),
        Some(_) => {}
        None => match Value::from_json(&with_placeholders(&stated, &builder.application_keys)) {
            Some(document) => {
                let mut section = Section::new(&["roles", key, "trust_policy"], Some(address.clone()), "trust_policy");
                section.push(Entry::new("document", document).field("trust_policy"));
                sections.push(section);
                builder.report(
                    ReportKind::Note,
                    address.to_string(),
                    Some("trust_policy"),
                    "the role's trust policy is not the one emrstack generates: it is kept as `trust_policy`, \
                     and `emrstack import` adds the stack's marker statement to it (docs/config-reference.md, \
                     \"Stated trust policies\")",
                );
            }
            None => builder.report(
                ReportKind::LeftOut,
                address.to_string(),
                Some("trust_policy"),
                "the trust policy holds a JSON `null`, which the stack language cannot write",
            ),
        },
    }
    let own: BTreeMap<String, String> = user_tags(&spec.tags)
        .into_iter()
        .filter(|(k, v)| stack_tags.get(k) != Some(v))
        .collect();
    if !own.is_empty() {
        main.push(Entry::new("tags", string_table(&own)));
    }
    for (name, document) in &spec.inline_policies {
        let field = format!("policies.{name}");
        let document = with_placeholders(document, &builder.application_keys);
        match Value::from_json(&document) {
            Some(value) => {
                let mut section = Section::new(&["roles", key, "policies", name], Some(address.clone()), field.clone());
                section.push(Entry::new("document", value).field(field));
                builder.draft.policies.insert((key.to_string(), name.clone()), document);
                sections.push(section);
            }
            None => builder.report(
                ReportKind::LeftOut,
                address.to_string(),
                Some(&field),
                "the policy holds a JSON `null`, which the stack language cannot write",
            ),
        }
    }
    let mut all = vec![main];
    all.extend(sections);
    all
}

/// The section of one repository, with what its policy grants.
fn repository_section(
    builder: &mut Builder<'_>,
    key: &str,
    observed: &ObservedRepository,
    applications: &[(String, &ObservedApplication)],
) -> Section {
    let stack = builder.stack.clone();
    let address = Address::repository(key);
    let mut section = Section::new(&["repositories", key], Some(address.clone()), "");
    section.comments.push(format!("ECR repository {}", observed.arn));
    section.push(Entry::new("name", Value::str(&observed.name)));
    // The applications this stack's own statement names (a stack generated
    // again); every other statement stays as it is.
    let ours = observed
        .policy
        .as_ref()
        .and_then(|policy| repository::find_statement(policy, &repository::statement_sid(&stack)));
    let mut granted = Vec::new();
    if let Some(statement) = ours {
        let arns = statement
            .get("Condition")
            .and_then(|c| c.get("StringEquals"))
            .and_then(|c| c.get("aws:SourceArn"));
        let arns: Vec<&str> = match arns {
            Some(Json::String(arn)) => vec![arn.as_str()],
            Some(Json::Array(items)) => items.iter().filter_map(Json::as_str).collect(),
            _ => Vec::new(),
        };
        for arn in arns {
            match builder.application_keys.iter().find(|(known, _)| known == arn) {
                Some((_, app_key)) => granted.push(app_key.clone()),
                None => builder.report(
                    ReportKind::LeftOut,
                    address.to_string(),
                    Some("applications"),
                    format!("the stack's statement names `{arn}`, which is not an application of this stack file"),
                ),
            }
        }
    }
    granted.sort();
    if !granted.is_empty() {
        section.push(Entry::new("applications", Value::strings(&granted)));
    }
    // Applications whose pull another statement allows.
    let mut by_statement: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (app_key, app) in applications {
        let uses = app
            .spec
            .image
            .iter()
            .chain(app.spec.worker_type_specifications.values())
            .any(|image| parse_image_uri(&image.image_uri).is_ok_and(|uri| uri.repository == observed.name));
        if !uses || granted.contains(app_key) {
            continue;
        }
        let grants = foreign_grants(observed, &stack, &app.arn);
        if let Some(first) = grants.first() {
            builder.draft.grants.insert(
                app_key.clone(),
                format!(
                    "EMR Serverless may pull it through statement {first} of the repository's policy, which the \
                     stack leaves as it is"
                ),
            );
        }
        for grant in grants {
            by_statement
                .entry(grant)
                .or_default()
                .push(format!("application.{app_key}"));
        }
    }
    if !by_statement.is_empty() {
        let list: Vec<String> = by_statement
            .iter()
            .map(|(statement, apps)| format!("{statement} ({})", apps.join(", ")))
            .collect();
        let text = format!(
            "its policy lets EMR Serverless pull through statement {} that this stack does not own: they stay as \
             they are; listing applications in `applications` makes the stack add and manage a statement of its own",
            list.join(", ")
        );
        section.comments.push(text.clone());
        builder.report(ReportKind::Note, address.to_string(), Some("applications"), text);
    }
    section
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Engine, WorkerType};

    #[test]
    fn every_server_default_of_an_unmanaged_field_is_readable() {
        for field in normalize::unmanaged_fields() {
            let declaration = field.declaration();
            let text = match declaration.server_default {
                ServerDefault::Fixed(value) | ServerDefault::FromRelease { value, .. } => value,
                _ => continue,
            };
            let mut spec: ApplicationSpec = ApplicationSpec::new("a", Engine::Spark, "emr-7.5.0");
            let value = snake_keys(&serde_json::from_str(text).expect("JSON"));
            set_field_json(&mut spec, field, value).unwrap_or_else(|e| panic!("{field}: {e}"));
            assert!(!spec.lacks(field), "{field}");
        }
        let view = normalize::observed(&ApplicationSpec::new("a", Engine::Spark, "emr-7.5.0"));
        assert_eq!(
            created_without(&view, ApplicationField::Scheduler).scheduler,
            Some(Scheduler::ENABLED_DEFAULTS)
        );
    }

    #[test]
    fn values_the_service_would_hold_anyway_are_left_out() {
        let base = |release: &str| ApplicationSpec::new("a", Engine::Spark, release);
        let observed = |spec: &ApplicationSpec| normalize::observed(spec);
        // The scheduler: on by default from emr-7.3.0, off before.
        let mut on = base("emr-7.3.0");
        on.scheduler = Some(Scheduler::ENABLED_DEFAULTS);
        assert!(left_out(&observed(&on), ApplicationField::Scheduler));
        let off = base("emr-7.3.0");
        assert!(!left_out(&observed(&off), ApplicationField::Scheduler));
        let mut early = base("emr-7.2.0");
        assert!(left_out(&observed(&early), ApplicationField::Scheduler));
        early.scheduler = Some(Scheduler::ENABLED_DEFAULTS);
        assert!(!left_out(&observed(&early), ApplicationField::Scheduler));
        // Defaults and cleared fields.
        let mut spec = base("emr-7.2.0");
        spec.auto_stop = Some(AutoStop::default());
        assert!(left_out(&observed(&spec), ApplicationField::AutoStop));
        spec.auto_stop = Some(AutoStop {
            enabled: true,
            idle_timeout_minutes: 30,
        });
        assert!(!left_out(&observed(&spec), ApplicationField::AutoStop));
        assert!(left_out(&observed(&spec), ApplicationField::Monitoring));
        assert!(!left_out(&observed(&spec), ApplicationField::Name));
    }

    #[test]
    fn keys_are_valid_unique_and_drop_the_stack_prefix() {
        let mut keys = Keys::default();
        let owner = Owner::Unmanaged;
        let key = |keys: &mut Keys, name: &str| resource_key(keys, ResourceKind::Application, &owner, "shop", name);
        assert_eq!(key(&mut keys, "shop-etl"), "etl");
        assert_eq!(key(&mut keys, "etl"), "etl_2");
        assert_eq!(key(&mut keys, "Nightly Report/v2"), "nightly_report_v2");
        assert_eq!(key(&mut keys, "###"), "application");
        let long = "x".repeat(80);
        assert!(key(&mut keys, &long).len() <= 64);
        let owned = Owner::Stack {
            stack: "shop".to_string(),
            address: Some(Address::application("daily")),
        };
        assert_eq!(
            resource_key(&mut keys, ResourceKind::Application, &owned, "shop", "whatever"),
            "daily"
        );
    }

    #[test]
    fn arns_become_placeholders_only_whole() {
        let arn = "arn:aws:emr-serverless:us-east-1:111122223333:/applications/00f1".to_string();
        let arns = vec![(arn.clone(), "etl".to_string())];
        let policy = serde_json::json!({"Resource": [format!("{arn}/jobruns/*"), format!("{arn}9"), arn.clone()]});
        assert_eq!(
            with_placeholders(&policy, &arns),
            serde_json::json!({"Resource": ["${application.etl.arn}/jobruns/*", format!("{arn}9"), "${application.etl.arn}"]})
        );
    }

    #[test]
    fn worker_types_print_as_the_stack_writes_them() {
        assert_eq!(WorkerType::HiveDriver.as_str(), "hive_driver");
    }
}
