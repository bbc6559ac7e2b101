//! The steps of loading a stack file, in order, and the parsed stack they
//! produce for the rules and the lowering.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::json;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::diag::{Diagnostic, Diagnostics, FileId, Sources, Span};
use crate::model::{Address, Engine, ReleaseLabel, ResourceKind};

use super::json;
use super::lower;
use super::raw::{
    RawApplication, RawConfigBundle, RawConfiguration, RawJob, RawNetwork, RawRepository, RawRole, RawStack, Sp, SpMap,
};
use super::resolve::{self, Classification, Monitoring};
use super::rules;
use super::schema;
use super::spans::{SpanIndex, resource_range};
use super::structure::{Checker, Finding, Segment};
use super::text::{is_region, is_resource_key};
use super::vars::{self, Origin, Variables};
use super::{LoadOptions, Loaded};

/// A resource that was read without error.
#[derive(Clone, Debug)]
pub(crate) struct Resource<T> {
    /// The key in its section (`etl` in `[applications.etl]`).
    pub key: String,
    /// The `[section.key]` header, or the key when declared inline.
    pub header: Span,
    /// The typed content.
    pub value: T,
}

/// An inline policy after its document was read and checked.
#[derive(Clone, Debug)]
pub(crate) struct PolicyDocument {
    /// The document as plain JSON.
    pub document: serde_json::Value,
}

/// The stack after reading: every resource that could be read, and what
/// was declared at all (so references to a resource with errors are not
/// reported as undeclared).
#[derive(Clone, Debug)]
pub(crate) struct Parsed {
    /// The stack file.
    pub file: FileId,
    /// `[stack]`, when it could be read.
    pub stack: Option<RawStack>,
    /// Stack-wide `[tags]`.
    pub tags: SpMap,
    /// Where `[tags]` is written.
    pub tags_span: Option<Span>,
    /// `[networks.*]` that could be read.
    pub networks: Vec<Resource<RawNetwork>>,
    /// `[configs.*]` that could be read.
    pub configs: Vec<Resource<RawConfigBundle>>,
    /// `[roles.*]` that could be read.
    pub roles: Vec<Resource<RawRole>>,
    /// `[repositories.*]` that could be read.
    pub repositories: Vec<Resource<RawRepository>>,
    /// `[applications.*]` that could be read.
    pub applications: Vec<Resource<RawApplication>>,
    /// `[jobs.*]` that could be read.
    pub jobs: Vec<Resource<RawJob>>,
    /// The directory of the stack file: local job files are relative to it.
    pub base: PathBuf,
    /// Every declared key per kind, including resources with errors.
    pub declared: BTreeMap<ResourceKind, BTreeSet<String>>,
    /// `--region`, else `[stack] region`, when well-formed.
    pub region: Option<String>,
    /// Each config bundle's and application's own runtime classifications
    /// (`runtime_file`, then `runtime` on top).
    pub runtimes: BTreeMap<Address, Vec<Classification>>,
    /// Each job's own runtime classifications (`runtime`), by job key.
    pub job_runtimes: BTreeMap<String, Vec<Classification>>,
    /// Inline policies by role key and policy name.
    pub policies: BTreeMap<(String, String), PolicyDocument>,
    /// Stated trust policies (`trust_policy`) by role key.
    pub trust_policies: BTreeMap<String, PolicyDocument>,
    /// Positions in `configs`, `repositories` and `networks` by key, so
    /// that rules look a reference up in one step rather than a search.
    pub index: BTreeMap<(ResourceKind, String), usize>,
    /// `(repository, application)` for every application a repository that
    /// could be read lists, for the same reason.
    pub grants: BTreeSet<(String, String)>,
}

/// An application with its config bundles merged in.
pub(crate) struct Effective<'p> {
    /// The application as written.
    pub app: &'p Resource<RawApplication>,
    /// `application.<key>`.
    pub address: Address,
    /// `None` when `type` is missing or names no engine (reported separately).
    pub engine: Option<Engine>,
    /// `None` when the label is missing or malformed (reported separately).
    pub release: Option<ReleaseLabel>,
    /// Classifications of the config bundles and the application, merged.
    pub runtime: Vec<Classification>,
    /// Monitoring of the config bundles and the application, merged per key.
    pub monitoring: Monitoring<'p>,
}

impl Parsed {
    /// Whether `key` is declared as a resource of `kind` (even with errors).
    pub(crate) fn is_declared(&self, kind: ResourceKind, key: &str) -> bool {
        self.declared.get(&kind).is_some_and(|keys| keys.contains(key))
    }

    /// The declared keys of `kind`, in order.
    pub(crate) fn declared_keys(&self, kind: ResourceKind) -> impl Iterator<Item = &str> {
        self.declared.get(&kind).into_iter().flatten().map(String::as_str)
    }

    /// The stack name, when `[stack]` could be read.
    pub(crate) fn stack_name(&self) -> Option<&str> {
        self.stack
            .as_ref()
            .and_then(|stack| stack.name.as_ref())
            .map(|name| name.get().as_str())
    }

    /// The span of a value of the stack file.
    pub(crate) fn span<T>(&self, value: &Sp<T>) -> Span {
        Span::new(self.file, value.range())
    }

    fn position(&self, kind: ResourceKind, key: &str) -> Option<usize> {
        self.index.get(&(kind, key.to_string())).copied()
    }

    /// Whether the repository `repository` lists the application `application`.
    pub(crate) fn grants(&self, repository: &str, application: &str) -> bool {
        self.grants.contains(&(repository.to_string(), application.to_string()))
    }

    /// The config bundle `key`, when it could be read.
    pub(crate) fn config(&self, key: &str) -> Option<&Resource<RawConfigBundle>> {
        self.position(ResourceKind::Config, key).map(|at| &self.configs[at])
    }

    /// The repository `key`, when it could be read.
    pub(crate) fn repository(&self, key: &str) -> Option<&Resource<RawRepository>> {
        self.position(ResourceKind::Repository, key)
            .map(|at| &self.repositories[at])
    }

    /// The network `key`, when it could be read.
    pub(crate) fn network(&self, key: &str) -> Option<&Resource<RawNetwork>> {
        self.position(ResourceKind::Network, key).map(|at| &self.networks[at])
    }

    /// The effective configuration of `app`: its config bundles in order,
    /// then its own settings on top.
    pub(crate) fn effective<'p>(&'p self, app: &'p Resource<RawApplication>) -> Effective<'p> {
        let mut runtime = Vec::new();
        let mut monitoring = Monitoring::default();
        let bundles = app
            .value
            .configs
            .as_ref()
            .map(|list| list.get().clone())
            .unwrap_or_default();
        for name in &bundles {
            let address = Address::new(ResourceKind::Config, name.get().clone());
            if let Some(own) = self.runtimes.get(&address) {
                resolve::merge(&mut runtime, own);
            }
            if let Some(bundle) = self.config(name.get())
                && let Some(raw) = &bundle.value.monitoring
            {
                monitoring.overlay(raw.get());
            }
        }
        let address = Address::application(app.key.clone());
        if let Some(own) = self.runtimes.get(&address) {
            resolve::merge(&mut runtime, own);
        }
        if let Some(raw) = &app.value.monitoring {
            monitoring.overlay(raw.get());
        }
        Effective {
            app,
            address,
            engine: app.value.engine.as_ref().and_then(|engine| engine.get().engine()),
            release: app
                .value
                .release_label
                .as_ref()
                .and_then(|label| ReleaseLabel::parse(label.get())),
            runtime,
            monitoring,
        }
    }
}

/// A job with its config bundles merged in.
pub(crate) struct EffectiveJob<'p> {
    /// Classifications of the config bundles and the job, merged.
    pub runtime: Vec<Classification>,
    /// Monitoring of the config bundles and the job, merged per key.
    pub monitoring: Monitoring<'p>,
}

impl Parsed {
    /// The application `key`, when it could be read.
    pub(crate) fn application(&self, key: &str) -> Option<&Resource<RawApplication>> {
        self.applications.iter().find(|app| app.key == key)
    }

    /// The role `key`, when it could be read.
    pub(crate) fn role(&self, key: &str) -> Option<&Resource<RawRole>> {
        self.roles.iter().find(|role| role.key == key)
    }

    /// The effective overrides of `job`: its config bundles in order, then
    /// its own `runtime` and `monitoring` on top.
    pub(crate) fn effective_job<'p>(&'p self, job: &'p Resource<RawJob>) -> EffectiveJob<'p> {
        let mut runtime = Vec::new();
        let mut monitoring = Monitoring::default();
        for name in job.value.configs.iter().flat_map(|list| list.iter()) {
            let address = Address::new(ResourceKind::Config, name.get().clone());
            if let Some(own) = self.runtimes.get(&address) {
                resolve::merge(&mut runtime, own);
            }
            if let Some(bundle) = self.config(name.get())
                && let Some(raw) = &bundle.value.monitoring
            {
                monitoring.overlay(raw.get());
            }
        }
        if let Some(own) = self.job_runtimes.get(&job.key) {
            resolve::merge(&mut runtime, own);
        }
        if let Some(raw) = &job.value.monitoring {
            monitoring.overlay(raw.get());
        }
        EffectiveJob { runtime, monitoring }
    }
}

/// Runs every step on the stack file `text` read from `path`.
pub(crate) fn run(path: &Path, text: &str, options: &LoadOptions) -> Loaded {
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::new();
    let file = sources.add(path, text);
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();

    // Step 1: syntax. Recovery keeps the parts that could be read, so the
    // structural check below still finds problems elsewhere in the file.
    let (root, syntax_errors) = DeTable::parse_recoverable(text);
    let syntax_ok = syntax_errors.is_empty();
    for error in &syntax_errors {
        let range = error.span().unwrap_or(0..0);
        diagnostics.push(Diagnostic::error("toml.syntax", lower_first(error.message())).at(Span::new(file, range)));
    }
    let mut tree = Spanned::new(0..0, DeValue::Table(root.into_inner()));
    json::limit_depth(&mut tree, crate::input::MAX_DEPTH, &mut |range| {
        diagnostics.push(
            Diagnostic::error(
                "config.depth",
                format!("tables and arrays nest more than {} deep here", crate::input::MAX_DEPTH),
            )
            .at(Span::new(file, range))
            .with_help("nothing in the stack language needs more than a dozen levels"),
        );
    });

    // Step 2: variables, from every source, then substituted everywhere
    // except in `[vars]` (whose values are literal defaults).
    let variables = match tree.get_ref() {
        DeValue::Table(table) => collect_variables(table, file, options, &mut sources, &mut diagnostics),
        _ => Variables::default(),
    };
    vars::substitute(&mut tree, &variables, file, text, true, &mut diagnostics);
    misplaced_placeholders(&tree, &mut Vec::new(), file, &mut diagnostics);

    // Step 3: structure against the schema; bad entries are removed. What
    // is declared is recorded first, so that a resource removed here for a
    // wrong type still counts as declared for references.
    let declared = match tree.get_ref() {
        DeValue::Table(table) => declared_keys(table),
        _ => BTreeMap::new(),
    };
    let schema = schema::schema();
    let mut checker = Checker::new(&schema, file, syntax_ok);
    checker.check(&mut tree, &schema, &mut Vec::new());
    let findings = std::mem::take(&mut checker.findings);
    // Indexed after the check, which removed what the language does not
    // have: what is left has keys and nesting the language bounds.
    let spans = match tree.get_ref() {
        DeValue::Table(table) => SpanIndex::build(table, file, text),
        _ => SpanIndex::default(),
    };
    for finding in &findings {
        diagnostics.push(finding.diagnostic.clone());
    }

    // Step 4: each resource on its own.
    let mut parsed = read_resources(
        tree.get_ref(),
        file,
        text,
        &findings,
        syntax_ok,
        options,
        &mut diagnostics,
    );
    for (kind, keys) in declared {
        parsed.declared.entry(kind).or_default().extend(keys);
    }
    parsed.base = base.clone();

    // After a syntax error, keys may be missing only because their line was
    // unreadable; rules would then report nonsense, so stop here.
    if !syntax_ok {
        diagnostics.sort();
        return Loaded {
            sources,
            diagnostics,
            desired: None,
            spans,
        };
    }

    // Step 5: referenced files and policy documents.
    let mut spans = spans;
    read_runtimes(&mut parsed, &base, &schema, &variables, &mut sources, &mut diagnostics);
    read_policies(
        &mut parsed,
        tree.get_ref(),
        text,
        &base,
        &variables,
        &mut sources,
        &mut spans,
        &mut diagnostics,
    );

    // Step 6: the rules. A value whose variable could not be substituted
    // holds text the user never wrote, so rule findings on it are dropped:
    // the variable error already explains the problem.
    let before_rules = diagnostics.0.len();
    rules::check(&parsed, &mut diagnostics);
    let poisoned = Poisoned::new(
        diagnostics
            .iter()
            .filter(|d| d.code == "config.undefined-variable" || d.code == "config.variable-syntax")
            .filter_map(|d| d.span.as_ref()),
    );
    let mut index = 0;
    diagnostics.0.retain(|diagnostic| {
        index += 1;
        index <= before_rules || diagnostic.span.as_ref().is_none_or(|span| !poisoned.overlaps(span))
    });

    // Step 7: lowering, only for a valid stack.
    diagnostics.sort();
    let desired = if diagnostics.has_errors() {
        None
    } else {
        lower::lower(&parsed)
    };
    Loaded {
        sources,
        diagnostics,
        desired,
        spans,
    }
}

/// The spans of values whose variables could not be substituted, for the
/// question "does this span overlap one of them?" in logarithmic time (a
/// search of every span per diagnostic was quadratic). An empty span counts
/// as one byte long.
struct Poisoned {
    files: BTreeMap<FileId, Intervals>,
}

/// `(start, end)` sorted by start, and the largest end among the first
/// `i + 1` of them.
type Intervals = (Vec<(usize, usize)>, Vec<usize>);

impl Poisoned {
    fn new<'a>(spans: impl Iterator<Item = &'a Span>) -> Poisoned {
        let mut files: BTreeMap<FileId, Intervals> = BTreeMap::new();
        for span in spans {
            let end = span.range.end.max(span.range.start + 1);
            files.entry(span.file).or_default().0.push((span.range.start, end));
        }
        for (ranges, max_end) in files.values_mut() {
            ranges.sort_unstable();
            let mut largest = 0;
            *max_end = ranges
                .iter()
                .map(|&(_, end)| {
                    largest = largest.max(end);
                    largest
                })
                .collect();
        }
        Poisoned { files }
    }

    fn overlaps(&self, span: &Span) -> bool {
        let Some((ranges, max_end)) = self.files.get(&span.file) else {
            return false;
        };
        let end = span.range.end.max(span.range.start + 1);
        // The ranges that start before `end`; one of them overlaps when the
        // largest end among them is past `span`'s start.
        let count = ranges.partition_point(|&(start, _)| start < end);
        count > 0 && max_end[count - 1] > span.range.start
    }
}

fn lower_first(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) if !message.starts_with("TOML") => first.to_lowercase().chain(chars).collect(),
        _ => message.to_string(),
    }
}

/// Collects variable values in increasing precedence: `[vars]` defaults,
/// `--var-file` files in order, `--var` flags, `EMRSTACK_VAR_*`.
fn collect_variables(
    root: &DeTable<'_>,
    file: FileId,
    options: &LoadOptions,
    sources: &mut Sources,
    diagnostics: &mut Diagnostics,
) -> Variables {
    let mut variables = Variables::default();
    let mut declared = BTreeSet::new();
    for (name, range, value) in vars::declared(root) {
        if vars::check_name(&name, Some(Span::new(file, range)), diagnostics) {
            declared.insert(name.clone());
            variables.set(&name, value, Origin::Default);
        }
    }
    let undeclared = |name: &str, source: &str, span: Option<Span>, diagnostics: &mut Diagnostics| {
        if !declared.contains(name) {
            diagnostics.push(
                Diagnostic::warning(
                    "config.undeclared-variable",
                    format!("variable `{name}` is set by {source} but not declared in `[vars]`"),
                )
                .at_opt(span)
                .with_help(format!(
                    "declare it in `[vars]` with a default (`{name} = \"...\"`), or stop setting it"
                )),
            );
        }
    };
    for var_file in &options.var_files {
        let text = match crate::input::read_text(var_file, crate::input::MAX_SOURCE_BYTES) {
            Ok(text) => text,
            Err(error) => {
                diagnostics.push(Diagnostic::error(
                    "config.read",
                    format!("cannot read var file `{}`: {error}", var_file.display()),
                ));
                continue;
            }
        };
        let id = sources.add(var_file, text.clone());
        let (table, errors) = DeTable::parse_recoverable(&text);
        for error in &errors {
            diagnostics.push(
                Diagnostic::error("toml.syntax", lower_first(error.message()))
                    .at(Span::new(id, error.span().unwrap_or(0..0))),
            );
        }
        for (key, value) in table.get_ref().iter() {
            let name = key.get_ref().to_string();
            let key_span = Span::new(id, key.span());
            let Some(text) = value.get_ref().as_str() else {
                diagnostics.push(
                    Diagnostic::error(
                        "config.wrong-type",
                        format!(
                            "variable `{name}` must be a string, found {}",
                            value.get_ref().type_str()
                        ),
                    )
                    .at(Span::new(id, value.span()))
                    .with_help("variables are strings; quote the value"),
                );
                continue;
            };
            if vars::check_name(&name, Some(key_span.clone()), diagnostics) {
                undeclared(
                    &name,
                    &format!("`{}`", var_file.display()),
                    Some(key_span.clone()),
                    diagnostics,
                );
                variables.set(&name, text.to_string(), Origin::VarFile(key_span));
            }
        }
    }
    for flag in &options.vars {
        let Some((name, value)) = flag.split_once('=') else {
            diagnostics.push(
                Diagnostic::error(
                    "config.invalid-var",
                    format!("`--var {flag}` is not of the form `NAME=VALUE`"),
                )
                .with_help(format!("write `--var {flag}=VALUE`")),
            );
            continue;
        };
        if vars::check_name(name, None, diagnostics) {
            undeclared(name, "`--var`", None, diagnostics);
            variables.set(name, value.to_string(), Origin::Flag);
        }
    }
    for (name, value) in &options.env {
        if vars::check_name(name, None, diagnostics) {
            undeclared(name, &format!("`{}{name}`", super::ENV_PREFIX), None, diagnostics);
            variables.set(name, value.clone(), Origin::Environment);
        }
    }
    variables
}

/// Every resource key per kind, as written.
fn declared_keys(root: &DeTable<'_>) -> BTreeMap<ResourceKind, BTreeSet<String>> {
    let mut out: BTreeMap<ResourceKind, BTreeSet<String>> = BTreeMap::new();
    for kind in ResourceKind::ALL {
        if let Some(section) = root.get(kind.table()).and_then(|s| s.get_ref().as_table()) {
            out.entry(kind)
                .or_default()
                .extend(section.iter().map(|(key, _)| key.get_ref().to_string()));
        }
    }
    out
}

fn read<'de, T: Deserialize<'de>>(value: &Spanned<DeValue<'de>>) -> Result<T, toml::de::Error> {
    T::deserialize(ValueDeserializer::from(value.clone()))
}

/// Reads `[stack]`, `[tags]` and every resource into its typed form, each on
/// its own so that one broken resource does not hide the others.
fn read_resources(
    root: &DeValue<'_>,
    file: FileId,
    text: &str,
    findings: &[Finding],
    syntax_ok: bool,
    options: &LoadOptions,
    diagnostics: &mut Diagnostics,
) -> Parsed {
    let empty = DeTable::new();
    let table = root.as_table().unwrap_or(&empty);
    // The sections (`stack`) and resources (`applications`, `etl`) the
    // structural check found problems in, looked up once per resource
    // rather than searched for in every finding.
    let mut with_findings: HashSet<(&str, Option<&str>)> = HashSet::new();
    for finding in findings {
        if let Some(Segment::Key(section)) = finding.path.first() {
            with_findings.insert((section, None));
            if let Some(Segment::Key(key)) = finding.path.get(1) {
                with_findings.insert((section, Some(key)));
            }
        }
    }
    let has_findings = |path: &[&str]| match path {
        [section] => with_findings.contains(&(*section, None)),
        [section, key] => with_findings.contains(&(*section, Some(*key))),
        _ => false,
    };
    // A serde error the structural check did not already explain (for
    // example an integer too large for its field) is reported as is.
    let mut report = |error: toml::de::Error, path: &[&str], diagnostics: &mut Diagnostics| {
        if syntax_ok && !has_findings(path) {
            diagnostics.push(
                Diagnostic::error("config.invalid", lower_first(error.message()))
                    .at(Span::new(file, error.span().unwrap_or(0..0))),
            );
        }
    };

    let stack = match table.get("stack") {
        Some(value) => match read::<RawStack>(value) {
            Ok(stack) => Some(stack),
            Err(error) => {
                report(error, &["stack"], diagnostics);
                None
            }
        },
        None => None,
    };
    let tags_entry = table.get_key_value("tags");
    let tags = match tags_entry {
        Some((_, value)) => read::<SpMap>(value).unwrap_or_default(),
        None => SpMap::new(),
    };
    let tags_span = tags_entry.map(|(key, value)| Span::new(file, resource_range(key, value, text)));

    let mut declared: BTreeMap<ResourceKind, BTreeSet<String>> = BTreeMap::new();
    fn section<'de, T: Deserialize<'de>>(
        table: &DeTable<'de>,
        kind: ResourceKind,
        file: FileId,
        text: &str,
        declared: &mut BTreeMap<ResourceKind, BTreeSet<String>>,
        report: &mut dyn FnMut(toml::de::Error, &[&str], &mut Diagnostics),
        diagnostics: &mut Diagnostics,
    ) -> Vec<Resource<T>> {
        let mut out = Vec::new();
        let Some(entries) = table.get(kind.table()).and_then(|s| s.get_ref().as_table()) else {
            return out;
        };
        for (key, value) in entries.iter() {
            let name = key.get_ref().to_string();
            let key_span = Span::new(file, key.span());
            declared.entry(kind).or_default().insert(name.clone());
            if !is_resource_key(&name) {
                diagnostics.push(
                    Diagnostic::error("config.resource-key", format!("`{name}` is not a valid {kind} key"))
                        .at(key_span.clone())
                        .with_help("resource keys are 1 to 64 letters, digits, `_` or `-`; they become part of addresses and default names"),
                );
            }
            match read::<T>(value) {
                Ok(parsed) => out.push(Resource {
                    key: name,
                    header: Span::new(file, resource_range(key, value, text)),
                    value: parsed,
                }),
                Err(error) => report(error, &[kind.table(), name.as_str()], diagnostics),
            }
        }
        out
    }
    let networks = section(
        table,
        ResourceKind::Network,
        file,
        text,
        &mut declared,
        &mut report,
        diagnostics,
    );
    let configs = section(
        table,
        ResourceKind::Config,
        file,
        text,
        &mut declared,
        &mut report,
        diagnostics,
    );
    let roles = section(
        table,
        ResourceKind::Role,
        file,
        text,
        &mut declared,
        &mut report,
        diagnostics,
    );
    let repositories: Vec<Resource<RawRepository>> = section(
        table,
        ResourceKind::Repository,
        file,
        text,
        &mut declared,
        &mut report,
        diagnostics,
    );
    let applications = section(
        table,
        ResourceKind::Application,
        file,
        text,
        &mut declared,
        &mut report,
        diagnostics,
    );
    let mut jobs = Vec::new();
    if let Some(entries) = table.get("jobs").and_then(|s| s.get_ref().as_table()) {
        for (key, value) in entries.iter() {
            let name = key.get_ref().to_string();
            if !is_resource_key(&name) {
                diagnostics.push(
                    Diagnostic::error("config.resource-key", format!("`{name}` is not a valid job key"))
                        .at(Span::new(file, key.span()))
                        .with_help(
                            "job keys are 1 to 64 letters, digits, `_` or `-`; they become part of default run names",
                        ),
                );
            }
            match read::<RawJob>(value) {
                Ok(parsed) => jobs.push(Resource {
                    key: name,
                    header: Span::new(file, resource_range(key, value, text)),
                    value: parsed,
                }),
                Err(error) => report(error, &["jobs", name.as_str()], diagnostics),
            }
        }
    }

    let region = options
        .region
        .clone()
        .or_else(|| stack.as_ref().and_then(|s| s.region.as_ref()).map(|r| r.get().clone()))
        .filter(|r| is_region(r));
    let mut index = BTreeMap::new();
    // The first of two resources with one key wins, as a search did.
    for (kind, keys) in [
        (ResourceKind::Config, configs.iter().map(|r| &r.key).collect::<Vec<_>>()),
        (ResourceKind::Repository, repositories.iter().map(|r| &r.key).collect()),
        (ResourceKind::Network, networks.iter().map(|r| &r.key).collect()),
    ] {
        for (at, key) in keys.into_iter().enumerate() {
            index.entry((kind, key.clone())).or_insert(at);
        }
    }
    let mut grants = BTreeSet::new();
    for repository in &repositories {
        for app in repository.value.applications.iter().flat_map(|list| list.iter()) {
            grants.insert((repository.key.clone(), app.get().clone()));
        }
    }
    Parsed {
        file,
        stack,
        tags,
        tags_span,
        networks,
        configs,
        roles,
        repositories,
        applications,
        jobs,
        base: PathBuf::new(),
        declared,
        region,
        runtimes: BTreeMap::new(),
        job_runtimes: BTreeMap::new(),
        policies: BTreeMap::new(),
        trust_policies: BTreeMap::new(),
        index,
        grants,
    }
}

/// Reads a file referenced from the stack file, reporting a failure at the
/// reference. Returns the path as displayed and the text.
fn read_referenced(
    base: &Path,
    reference: &Sp<String>,
    file: FileId,
    diagnostics: &mut Diagnostics,
) -> Option<(PathBuf, String)> {
    let path = base.join(reference.get());
    match crate::input::read_text(&path, crate::input::MAX_SOURCE_BYTES) {
        Ok(text) => Some((path, text)),
        Err(error) => {
            diagnostics.push(
                Diagnostic::error("config.read", format!("cannot read `{}`: {error}", path.display()))
                    .at(Span::new(file, reference.range()))
                    .with_help("paths are relative to the directory of the stack file"),
            );
            None
        }
    }
}

fn push_json_errors(errors: Vec<json::JsonError>, file: FileId, diagnostics: &mut Diagnostics) {
    for error in errors {
        let mut diagnostic = Diagnostic::error(error.code, error.message).at(Span::new(file, error.range));
        if let Some(help) = error.help {
            diagnostic = diagnostic.with_help(help);
        }
        diagnostics.push(diagnostic);
    }
}

/// Renames the EMR-on-EC2 spelling of classification keys
/// (`Classification`, `Properties`, `Configurations`) to the language's.
fn normalize_classification_keys(value: &mut Spanned<DeValue<'_>>) {
    let DeValue::Array(items) = value.get_mut() else {
        return;
    };
    for item in items.iter_mut() {
        let DeValue::Table(table) = item.get_mut() else {
            continue;
        };
        for (from, to) in [
            ("Classification", "classification"),
            ("Properties", "properties"),
            ("Configurations", "configurations"),
        ] {
            if !table.contains_key(to)
                && let Some((key, entry)) = table.remove_entry(from)
            {
                table.insert(Spanned::new(key.span(), std::borrow::Cow::Owned(to.to_string())), entry);
            }
        }
        if let Some(children) = table.get_mut("configurations") {
            normalize_classification_keys(children);
        }
    }
}

/// A config bundle or application with its `runtime_file` and `runtime`.
type RuntimeOwner = (Address, Option<Sp<String>>, Option<Vec<Sp<RawConfiguration>>>);

/// Reads every `runtime_file` and combines it with the inline `runtime` of
/// the same config bundle or application.
fn read_runtimes(
    parsed: &mut Parsed,
    base: &Path,
    schema: &serde_json::Value,
    variables: &Variables,
    sources: &mut Sources,
    diagnostics: &mut Diagnostics,
) {
    let file = parsed.file;
    let mut owners: Vec<RuntimeOwner> = Vec::new();
    for config in &parsed.configs {
        owners.push((
            Address::new(ResourceKind::Config, config.key.clone()),
            config.value.runtime_file.clone(),
            config.value.runtime.as_ref().map(|r| r.get().clone()),
        ));
    }
    for app in &parsed.applications {
        owners.push((
            Address::application(app.key.clone()),
            app.value.runtime_file.clone(),
            app.value.runtime.as_ref().map(|r| r.get().clone()),
        ));
    }
    let list_schema = json!({ "type": "array", "items": { "$ref": "#/definitions/Configuration" } });
    for (address, runtime_file, runtime) in owners {
        let mut combined = Vec::new();
        if let Some(reference) = &runtime_file
            && let Some((path, text)) = read_referenced(base, reference, file, diagnostics)
        {
            let id = sources.add(&path, text.clone());
            let (tree, errors) = json::parse(&text, &|range: Range<usize>| range);
            push_json_errors(errors, id, diagnostics);
            if let Some(mut tree) = tree {
                vars::substitute(&mut tree, variables, id, &text, false, diagnostics);
                normalize_classification_keys(&mut tree);
                let mut checker = Checker::new(schema, id, true);
                let clean = checker.check(&mut tree, &list_schema, &mut Vec::new());
                let had_findings = !checker.findings.is_empty();
                for finding in checker.findings {
                    diagnostics.push(finding.diagnostic);
                }
                if clean {
                    match read::<Vec<Sp<RawConfiguration>>>(&tree) {
                        Ok(entries) => combined = resolve::classifications(&entries, id, diagnostics),
                        Err(error) if !had_findings => diagnostics.push(
                            Diagnostic::error("config.invalid", lower_first(error.message()))
                                .at(Span::new(id, error.span().unwrap_or(0..0))),
                        ),
                        Err(_) => {}
                    }
                }
            }
        }
        if let Some(entries) = &runtime {
            let own = resolve::classifications(entries, file, diagnostics);
            resolve::merge(&mut combined, &own);
        }
        if runtime_file.is_some() || runtime.is_some() {
            parsed.runtimes.insert(address, combined);
        }
    }
    let mut job_runtimes = BTreeMap::new();
    for job in &parsed.jobs {
        if let Some(entries) = &job.value.runtime {
            job_runtimes.insert(
                job.key.clone(),
                resolve::classifications(entries.get(), file, diagnostics),
            );
        }
    }
    parsed.job_runtimes = job_runtimes;
}

/// Where a policy document of a role comes from, as written.
struct DocumentSource<'a> {
    /// The table that holds `document` or `file` (the policy's name, or
    /// the `trust_policy` key), for diagnostics about the pair.
    span: Span,
    /// What to call it in messages (`policy \`data\``, `trust_policy`).
    what: String,
    document: bool,
    file_ref: Option<&'a Sp<String>>,
    /// The `document` value in the spanned tree.
    tree: Option<&'a Spanned<DeValue<'a>>>,
    /// The field path of the document in the span index (`policies.data.document`).
    field: String,
}

/// Reads and checks every policy document of every role, each with
/// positions: the inline policies (identity policies) and a stated
/// `trust_policy`, each a TOML table, a JSON string or a JSON file.
#[allow(clippy::too_many_arguments)]
fn read_policies(
    parsed: &mut Parsed,
    root: &DeValue<'_>,
    text: &str,
    base: &Path,
    variables: &Variables,
    sources: &mut Sources,
    spans: &mut SpanIndex,
    diagnostics: &mut Diagnostics,
) {
    let file = parsed.file;
    let applications: BTreeSet<String> = parsed
        .declared_keys(ResourceKind::Application)
        .map(str::to_string)
        .collect();
    let mut documents = BTreeMap::new();
    let mut trust_policies = BTreeMap::new();
    for role in &parsed.roles {
        let role_tree = root.get("roles").and_then(|r| r.get_ref().get(role.key.as_str()));
        let mut read = |source: DocumentSource<'_>, kind: rules::policy::PolicyKind| {
            let check = |document: &Spanned<DeValue<'_>>, id: FileId, diagnostics: &mut Diagnostics| {
                rules::policy::check_document(document, id, &applications, kind, diagnostics);
            };
            match (source.document, source.file_ref, source.tree) {
                (true, Some(file_ref), _) => {
                    diagnostics.push(
                        Diagnostic::error(
                            "policy.source",
                            format!("{} has both `document` and `file`", source.what),
                        )
                        .at(Span::new(file, file_ref.range()))
                        .with_help("keep one of them"),
                    );
                    None
                }
                (false, None, _) => {
                    diagnostics.push(
                        Diagnostic::error("policy.source", format!("{} has no `document` or `file`", source.what))
                            .at(source.span.clone())
                            .with_help("add `document = { Version = \"2012-10-17\", Statement = [...] }` or `file = \"policies/x.json\"`"),
                    );
                    None
                }
                (true, None, Some(tree)) => match tree.get_ref() {
                    DeValue::String(json_text) => {
                        let map = vars::inner_mapper(text, &tree.span(), json_text);
                        let (document, errors) = json::parse(json_text, &map);
                        push_json_errors(errors, file, diagnostics);
                        document.map(|document| {
                            check(&document, file, diagnostics);
                            json::to_json(document.get_ref())
                        })
                    }
                    _ => {
                        check(tree, file, diagnostics);
                        Some(json::to_json(tree.get_ref()))
                    }
                },
                (true, None, None) => None,
                (false, Some(reference), _) => match read_referenced(base, reference, file, diagnostics) {
                    Some((path, json_text)) => {
                        let id = sources.add(&path, json_text.clone());
                        let (document, errors) = json::parse(&json_text, &|range: Range<usize>| range);
                        push_json_errors(errors, id, diagnostics);
                        document.map(|mut document| {
                            vars::substitute(&mut document, variables, id, &json_text, false, diagnostics);
                            spans.insert_field(
                                &Address::role(role.key.clone()),
                                &source.field,
                                Span::new(id, document.span()),
                            );
                            check(&document, id, diagnostics);
                            json::to_json(document.get_ref())
                        })
                    }
                    None => None,
                },
            }
        };
        for (name, policy) in &role.value.policies {
            let source = DocumentSource {
                span: Span::new(file, name.range()),
                what: format!("policy `{}`", name.get()),
                document: policy.get().document.is_some(),
                file_ref: policy.get().file.as_ref(),
                tree: role_tree
                    .and_then(|r| r.get_ref().get("policies"))
                    .and_then(|p| p.get_ref().get(name.get().as_str()))
                    .and_then(|p| p.get_ref().get("document")),
                field: format!(
                    "policies.{}.document",
                    super::structure::render_path(&[Segment::Key(name.get().clone())])
                ),
            };
            if let Some(document) = read(source, rules::policy::PolicyKind::Identity) {
                documents.insert((role.key.clone(), name.get().clone()), PolicyDocument { document });
            }
        }
        if let Some(trust) = &role.value.trust_policy {
            let source = DocumentSource {
                span: Span::new(file, trust.range()),
                what: "`trust_policy`".to_string(),
                document: trust.get().document.is_some(),
                file_ref: trust.get().file.as_ref(),
                tree: role_tree
                    .and_then(|r| r.get_ref().get("trust_policy"))
                    .and_then(|t| t.get_ref().get("document")),
                field: "trust_policy.document".to_string(),
            };
            if let Some(document) = read(source, rules::policy::PolicyKind::Trust) {
                trust_policies.insert(role.key.clone(), PolicyDocument { document });
            }
        }
    }
    parsed.policies = documents;
    parsed.trust_policies = trust_policies;
}

/// Reports `${application.<key>.arn}` outside inline policy documents:
/// only there does the planner resolve it; anywhere else it would reach AWS
/// as literal text.
fn misplaced_placeholders(
    value: &Spanned<DeValue<'_>>,
    path: &mut Vec<String>,
    file: FileId,
    diagnostics: &mut Diagnostics,
) {
    let in_policy = path.len() >= 5 && path[0] == "roles" && path[2] == "policies" && path[4] == "document"
        || path.len() >= 4 && path[0] == "roles" && path[2] == "trust_policy" && path[3] == "document";
    if in_policy {
        return;
    }
    match value.get_ref() {
        DeValue::String(text) if text.contains("${application.") => {
            diagnostics.push(
                Diagnostic::error(
                    "reference.placeholder-outside-policy",
                    "`${application.<key>.arn}` is only resolved inside a role's policy `document` or `trust_policy`",
                )
                .at(Span::new(file, value.span()))
                .with_help(
                    "write the ARN in a role policy, or use `trust_applications` / `applications` to grant access",
                ),
            );
        }
        DeValue::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(index.to_string());
                misplaced_placeholders(item, path, file, diagnostics);
                path.pop();
            }
        }
        DeValue::Table(table) => {
            for (key, item) in table.iter() {
                path.push(key.get_ref().to_string());
                misplaced_placeholders(item, path, file, diagnostics);
                path.pop();
            }
        }
        _ => {}
    }
}
