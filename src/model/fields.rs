//! One declaration per EMR Serverless application field: what the service
//! does with it, as data.
//!
//! Each [`FieldDeclaration`] says, for one top-level field: its stack key and
//! API member; how a change reaches AWS (a replacement, the tagging API, or
//! `UpdateApplication`, and then whether a STARTED application accepts it);
//! what the service fills in when a request leaves it out (which may depend
//! on the release); what the stack leaving it out means; the form that
//! clears it in an `UpdateApplication` request; and the releases and engines
//! that have it or its parts.
//!
//! The stages read these declarations instead of restating the rules:
//! `diff::normalize` fills server defaults and adopts what the stack leaves
//! to the service, `diff` decides liveness, [`super::update`] builds the
//! request that `aws` sends and `cloud::fake` applies, and
//! docs/api-semantics.md shows [`markdown_table`] (a test keeps it in step).
//! Where a rule needs code per field (typed values), that code matches on
//! [`ApplicationField`] exhaustively and takes its thresholds from here.

use serde_json::Value;

use super::application::{ApplicationField, Engine};
use super::release::{Feature, ReleaseLabel};

/// How a change of the field reaches AWS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeRule {
    /// Not updatable: a change creates a new application (a new ID and ARN).
    Replace,
    /// `TagResource` and `UntagResource`, in any state.
    Tagging,
    /// `UpdateApplication`; [`Live`] says when a STARTED application accepts it.
    Update(Live),
}

/// When the service accepts an `UpdateApplication` of the field while the
/// application is STARTED. Anything else is refused with "Only the following
/// configurations can be updated when an application is in STARTED state"
/// (TF #49109 quotes the service), and needs stop, update, start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Live {
    /// Only while CREATED or STOPPED.
    Never,
    /// Also while STARTED.
    Always,
    /// Also while STARTED, unless pre-initialized capacity is configured (in
    /// the stack or on AWS): "Custom image updates on running applications
    /// are not supported on applications with pre-initialized capacity
    /// configured" (GUIDE, "Updating running applications").
    UnlessInitialCapacity,
    /// Also while STARTED when the block stays set and only these members
    /// change: `(stack key, API member)`. The request may then name only
    /// these members: the service refuses the others even unchanged ("Only
    /// MaxConcurrentRuns from SchedulerConfiguration can be updated when
    /// application is in STARTED state", aws/aws-cdk #35488).
    OnlyMembers(&'static [(&'static str, &'static str)]),
}

/// What the stack leaving the field out means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Absence {
    /// The field is always set (lowering fills `name`).
    Required,
    /// Whatever the service holds stands: the field is never a difference
    /// and never sent. The stack takes the field over by setting it.
    NotManaged,
    /// The service default: removing the field sends the default again.
    Default,
    /// Nothing: removing the field sends its clearing form.
    Cleared,
}

/// What `GetApplication` returns for the field when the request that set the
/// application left it out. Values are JSON in the API's spelling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerDefault {
    /// Nothing: the field is absent.
    Nothing,
    /// Always this value.
    Fixed(&'static str),
    /// This value from `from` on; absent on older releases.
    FromRelease { from: ReleaseLabel, value: &'static str },
    /// A member of a set block (of each entry, for maps) whose default
    /// changes with the release: `before` on releases older than
    /// `changes_at`, `after` from it on.
    MemberByRelease {
        member: &'static str,
        changes_at: ReleaseLabel,
        before: &'static str,
        after: &'static str,
    },
    /// Defaults of members inside each entry of a map.
    PerEntry(&'static str),
}

/// How `UpdateApplication` clears the field (its value when the stack
/// leaves the field out and it differs on AWS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clearing {
    /// There is no clearing form; the field is not sent. The text says why.
    NotSent(&'static str),
    /// The field is sent as this JSON.
    Send(&'static str),
    /// The map is sent with each entry the stack declares, plus each entry
    /// AWS holds and the stack dropped as this JSON; entries neither has are
    /// not sent.
    PerEntry(&'static str),
    /// Each member the stack leaves out is sent as its JSON, members the
    /// release or engine lacks ([`Gate`]) are left out, and the field is not
    /// sent when no member is left.
    PerMember(&'static [(&'static str, &'static str)]),
}

/// A release or engine condition on a field or one of its members: the
/// service does not have it before `feature`'s release, or on other engines.
/// Clearing forms never name what the application's release or engine does
/// not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gate {
    /// The API member gated, or `""` for the whole field.
    pub member: &'static str,
    /// The feature whose release the member needs; `None` for no release gate.
    pub feature: Option<Feature>,
    /// The engines that have the member; empty for both.
    pub engines: &'static [Engine],
}

impl Gate {
    /// Whether an application of `engine` on `release` has the member. An
    /// unparsable release is taken as newer than every known one.
    pub fn allows(&self, release: Option<ReleaseLabel>, engine: Engine) -> bool {
        let release_ok = match (self.feature, release) {
            (Some(feature), Some(release)) => release.supports(feature),
            _ => true,
        };
        release_ok && (self.engines.is_empty() || self.engines.contains(&engine))
    }
}

/// Everything emrstack believes about one application field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldDeclaration {
    pub field: ApplicationField,
    /// The key in the stack file and in plan paths.
    pub stack_key: &'static str,
    /// The member of CreateApplication, UpdateApplication and GetApplication.
    pub api_member: &'static str,
    pub change: ChangeRule,
    pub absence: Absence,
    pub server_default: ServerDefault,
    pub clearing: Clearing,
    pub gates: &'static [Gate],
    /// Where the beliefs come from, as docs/api-semantics.md cites them.
    pub sources: &'static str,
}

const SPARK: &[Engine] = &[Engine::Spark];

const NAME: FieldDeclaration = FieldDeclaration {
    field: ApplicationField::Name,
    stack_key: "name",
    api_member: "name",
    change: ChangeRule::Replace,
    absence: Absence::Required,
    server_default: ServerDefault::Nothing,
    clearing: CLEARING_REPLACED,
    gates: &[],
    sources: "API (absent from UpdateApplicationRequest)",
};

const CLEARING_REPLACED: Clearing = Clearing::NotSent("not in UpdateApplication: a change replaces the application");

const ENGINE: FieldDeclaration = FieldDeclaration {
    field: ApplicationField::Engine,
    stack_key: "type",
    api_member: "type",
    change: ChangeRule::Replace,
    absence: Absence::Required,
    server_default: ServerDefault::Nothing,
    clearing: CLEARING_REPLACED,
    gates: &[],
    sources: "API (absent from UpdateApplicationRequest)",
};

const RELEASE_LABEL: FieldDeclaration = FieldDeclaration {
    field: ApplicationField::ReleaseLabel,
    stack_key: "release_label",
    api_member: "releaseLabel",
    change: ChangeRule::Update(Live::Never),
    absence: Absence::Required,
    server_default: ServerDefault::Nothing,
    clearing: Clearing::NotSent("always set"),
    gates: &[],
    sources: "API; TF #49109 (STARTED subset)",
};

const ARCHITECTURE: FieldDeclaration = FieldDeclaration {
    field: ApplicationField::Architecture,
    stack_key: "architecture",
    api_member: "architecture",
    change: ChangeRule::Update(Live::Never),
    absence: Absence::Default,
    server_default: ServerDefault::Fixed(r#""X86_64""#),
    clearing: Clearing::Send(r#""X86_64""#),
    gates: &[],
    sources: "GUIDE (default X86_64); TF (Default X86_64)",
};

const INITIAL_CAPACITY: FieldDeclaration = FieldDeclaration {
    field: ApplicationField::InitialCapacity,
    stack_key: "initial_capacity",
    api_member: "initialCapacity",
    change: ChangeRule::Update(Live::Never),
    absence: Absence::Cleared,
    // An absent diskType means STANDARD (API); GetApplication leaves it out.
    server_default: ServerDefault::PerEntry(r#"{"workerConfiguration":{"disk":"20 GB"}}"#),
    clearing: Clearing::Send("{}"),
    gates: &[],
    sources: "GUIDE (whole map, 20 GB disk); BELIEF ({} clears)",
};

const MAXIMUM_CAPACITY: FieldDeclaration = FieldDeclaration {
    field: ApplicationField::MaximumCapacity,
    stack_key: "maximum_capacity",
    api_member: "maximumCapacity",
    change: ChangeRule::Update(Live::Always),
    absence: Absence::NotManaged,
    server_default: ServerDefault::Nothing,
    clearing: Clearing::NotSent("the API requires cpu and memory once it is set"),
    gates: &[],
    sources: "API (cpu, memory required); GUIDE, \"Updating running applications\"",
};

const AUTO_START: FieldDeclaration = FieldDeclaration {
    field: ApplicationField::AutoStart,
    stack_key: "auto_start",
    api_member: "autoStartConfiguration",
    change: ChangeRule::Update(Live::Never),
    absence: Absence::Default,
    server_default: ServerDefault::Fixed(r#"{"enabled":true}"#),
    clearing: Clearing::Send(r#"{"enabled":true}"#),
    gates: &[],
    sources: "API; GUIDE (\"Default application behavior\")",
};

const AUTO_STOP: FieldDeclaration = FieldDeclaration {
    field: ApplicationField::AutoStop,
    stack_key: "auto_stop",
    api_member: "autoStopConfiguration",
    change: ChangeRule::Update(Live::Never),
    absence: Absence::Default,
    server_default: ServerDefault::Fixed(r#"{"enabled":true,"idleTimeoutMinutes":15}"#),
    clearing: Clearing::Send(r#"{"enabled":true,"idleTimeoutMinutes":15}"#),
    gates: &[],
    sources: "API; GUIDE (\"Default application behavior\")",
};

const NETWORK: FieldDeclaration = FieldDeclaration {
    field: ApplicationField::Network,
    stack_key: "network",
    api_member: "networkConfiguration",
    change: ChangeRule::Update(Live::Never),
    absence: Absence::Cleared,
    server_default: ServerDefault::Nothing,
    clearing: Clearing::Send(r#"{"subnetIds":[],"securityGroupIds":[]}"#),
    gates: &[],
    sources: "BELIEF (empty lists clear)",
};

/// Application-level digest resolution: on by default up to emr-7.13, off
/// from emr-7.14 (GUIDE, "Updating running applications").
const DIGEST_RESOLUTION_DEFAULT: ServerDefault = ServerDefault::MemberByRelease {
    member: "applicationLevelDigestResolution",
    changes_at: ReleaseLabel::new(7, 14, 0),
    before: "true",
    after: "false",
};

const IMAGE: FieldDeclaration = FieldDeclaration {
    field: ApplicationField::Image,
    stack_key: "image",
    api_member: "imageConfiguration",
    change: ChangeRule::Update(Live::UnlessInitialCapacity),
    absence: Absence::Cleared,
    server_default: DIGEST_RESOLUTION_DEFAULT,
    clearing: Clearing::Send("{}"),
    gates: &[Gate {
        member: "",
        feature: Some(Feature::CustomImages),
        engines: &[],
    }],
    sources: "API (ImageConfigurationInput.imageUri optional, ImageUri min 1: \"leave this field blank ... will remove\"); \
              TF (sends {} for an empty URI); GUIDE, \"Updating running applications\"",
};

const WORKER_TYPE_SPECIFICATIONS: FieldDeclaration = FieldDeclaration {
    field: ApplicationField::WorkerTypeSpecifications,
    stack_key: "worker_type_specifications",
    api_member: "workerTypeSpecifications",
    change: ChangeRule::Update(Live::UnlessInitialCapacity),
    absence: Absence::Cleared,
    server_default: DIGEST_RESOLUTION_DEFAULT,
    clearing: Clearing::PerEntry(r#"{"imageConfiguration":{}}"#),
    gates: &[Gate {
        member: "",
        feature: Some(Feature::WorkerTypeImages),
        engines: &[],
    }],
    sources: "API (WorkerTypeSpecificationInput); CloudFormation handler (sends the declared entries only); \
              GUIDE, \"Updating running applications\"",
};

const RUNTIME_CONFIGURATION: FieldDeclaration = FieldDeclaration {
    field: ApplicationField::RuntimeConfiguration,
    stack_key: "runtime_configuration",
    api_member: "runtimeConfiguration",
    change: ChangeRule::Update(Live::Never),
    absence: Absence::Cleared,
    server_default: ServerDefault::Nothing,
    clearing: Clearing::Send("[]"),
    gates: &[],
    sources: "API; BELIEF ([] clears)",
};

const MONITORING: FieldDeclaration = FieldDeclaration {
    field: ApplicationField::Monitoring,
    stack_key: "monitoring",
    api_member: "monitoringConfiguration",
    change: ChangeRule::Update(Live::Never),
    absence: Absence::Cleared,
    server_default: ServerDefault::Fixed(
        r#"{"managedPersistenceMonitoringConfiguration":{"enabled":true},"cloudWatchLoggingConfiguration":{"enabled":false}}"#,
    ),
    clearing: Clearing::PerMember(&[
        ("s3MonitoringConfiguration", "{}"),
        ("managedPersistenceMonitoringConfiguration", r#"{"enabled":true}"#),
        ("cloudWatchLoggingConfiguration", r#"{"enabled":false}"#),
        ("prometheusMonitoringConfiguration", "{}"),
    ]),
    gates: &[Gate {
        member: "prometheusMonitoringConfiguration",
        feature: Some(Feature::Prometheus),
        engines: SPARK,
    }],
    sources: "GUIDE (monitoring defaults, Prometheus emr-7.1.0 Spark only); BELIEF (clearing forms)",
};

const INTERACTIVE: FieldDeclaration = FieldDeclaration {
    field: ApplicationField::Interactive,
    stack_key: "interactive",
    api_member: "interactiveConfiguration",
    change: ChangeRule::Update(Live::Never),
    absence: Absence::Cleared,
    server_default: ServerDefault::Nothing,
    clearing: Clearing::PerMember(&[
        ("studioEnabled", "false"),
        ("livyEndpointEnabled", "false"),
        ("sessionEnabled", "false"),
    ]),
    gates: &[
        Gate {
            member: "studioEnabled",
            feature: Some(Feature::InteractiveStudio),
            engines: SPARK,
        },
        Gate {
            member: "livyEndpointEnabled",
            feature: Some(Feature::InteractiveLivy),
            engines: SPARK,
        },
        Gate {
            member: "sessionEnabled",
            feature: Some(Feature::InteractiveSessions),
            engines: SPARK,
        },
    ],
    sources: "API (\"used to enable or disable\"); GUIDE (release gates); BELIEF (all false clears)",
};

const SCHEDULER: FieldDeclaration = FieldDeclaration {
    field: ApplicationField::Scheduler,
    stack_key: "scheduler",
    api_member: "schedulerConfiguration",
    change: ChangeRule::Update(Live::OnlyMembers(&[("max_concurrent_runs", "maxConcurrentRuns")])),
    absence: Absence::NotManaged,
    server_default: ServerDefault::FromRelease {
        from: ReleaseLabel::new(7, 3, 0),
        value: r#"{"maxConcurrentRuns":15,"queueTimeoutMinutes":360}"#,
    },
    clearing: Clearing::NotSent("absent means the service default; `scheduler = false` sends {} to turn queueing off"),
    gates: &[Gate {
        member: "",
        feature: Some(Feature::Scheduler),
        engines: &[],
    }],
    sources: "TF PR #44589 ({} disables, partial filled); GUIDE, \"Job concurrency and queuing\" (on from emr-7.3.0); \
              TF #49109 (STARTED subset); aws/aws-cdk #35488 (queueTimeoutMinutes refused while STARTED)",
};

const DISK_ENCRYPTION: FieldDeclaration = FieldDeclaration {
    field: ApplicationField::DiskEncryption,
    stack_key: "disk_encryption",
    api_member: "diskEncryptionConfiguration",
    change: ChangeRule::Update(Live::Never),
    absence: Absence::Cleared,
    server_default: ServerDefault::Nothing,
    clearing: Clearing::Send("{}"),
    gates: &[],
    sources: "API; BELIEF ({} clears)",
};

const IDENTITY_CENTER: FieldDeclaration = FieldDeclaration {
    field: ApplicationField::IdentityCenter,
    stack_key: "identity_center",
    api_member: "identityCenterConfiguration",
    change: ChangeRule::Update(Live::Never),
    absence: Absence::Cleared,
    server_default: ServerDefault::Nothing,
    clearing: Clearing::Send("{}"),
    gates: &[Gate {
        member: "",
        feature: Some(Feature::IdentityCenter),
        engines: &[],
    }],
    sources: "API (\"used to enable or disable\"); BELIEF ({} clears)",
};

const JOB_LEVEL_COST_ALLOCATION: FieldDeclaration = FieldDeclaration {
    field: ApplicationField::JobLevelCostAllocation,
    stack_key: "job_level_cost_allocation",
    api_member: "jobLevelCostAllocationConfiguration",
    change: ChangeRule::Update(Live::Never),
    absence: Absence::Cleared,
    server_default: ServerDefault::Nothing,
    clearing: Clearing::Send(r#"{"enabled":false}"#),
    gates: &[],
    sources: "API; BELIEF (absent means disabled)",
};

const TAGS: FieldDeclaration = FieldDeclaration {
    field: ApplicationField::Tags,
    stack_key: "tags",
    api_member: "tags",
    change: ChangeRule::Tagging,
    absence: Absence::Cleared,
    server_default: ServerDefault::Nothing,
    clearing: Clearing::NotSent("TagResource and UntagResource, not UpdateApplication"),
    gates: &[],
    sources: "API; GUIDE (50 user tags, `aws:` reserved)",
};

impl ApplicationField {
    /// The field's declaration.
    pub fn declaration(self) -> &'static FieldDeclaration {
        match self {
            ApplicationField::Name => &NAME,
            ApplicationField::Engine => &ENGINE,
            ApplicationField::ReleaseLabel => &RELEASE_LABEL,
            ApplicationField::Architecture => &ARCHITECTURE,
            ApplicationField::InitialCapacity => &INITIAL_CAPACITY,
            ApplicationField::MaximumCapacity => &MAXIMUM_CAPACITY,
            ApplicationField::AutoStart => &AUTO_START,
            ApplicationField::AutoStop => &AUTO_STOP,
            ApplicationField::Network => &NETWORK,
            ApplicationField::Image => &IMAGE,
            ApplicationField::WorkerTypeSpecifications => &WORKER_TYPE_SPECIFICATIONS,
            ApplicationField::RuntimeConfiguration => &RUNTIME_CONFIGURATION,
            ApplicationField::Monitoring => &MONITORING,
            ApplicationField::Interactive => &INTERACTIVE,
            ApplicationField::Scheduler => &SCHEDULER,
            ApplicationField::DiskEncryption => &DISK_ENCRYPTION,
            ApplicationField::IdentityCenter => &IDENTITY_CENTER,
            ApplicationField::JobLevelCostAllocation => &JOB_LEVEL_COST_ALLOCATION,
            ApplicationField::Tags => &TAGS,
        }
    }
}

impl FieldDeclaration {
    /// Whether an application of `engine` on `release` has `member` of this
    /// field (`""`: the field itself, which a member also needs).
    pub fn has(&self, member: &str, release: Option<ReleaseLabel>, engine: Engine) -> bool {
        self.gates
            .iter()
            .filter(|gate| gate.member.is_empty() || gate.member == member)
            .all(|gate| gate.allows(release, engine))
    }

    /// Whether the service accepts a change of this field from `before` to
    /// `after` while the application is STARTED. The values are the field as
    /// JSON objects keyed by stack keys (`null` when absent);
    /// `initial_capacity` says whether pre-initialized capacity is configured
    /// in the stack or on AWS.
    pub fn accepts_while_started(&self, before: &Value, after: &Value, initial_capacity: bool) -> bool {
        match self.change {
            ChangeRule::Replace => false,
            ChangeRule::Tagging => true,
            ChangeRule::Update(Live::Never) => false,
            ChangeRule::Update(Live::Always) => true,
            ChangeRule::Update(Live::UnlessInitialCapacity) => !initial_capacity,
            ChangeRule::Update(Live::OnlyMembers(members)) => match (before, after) {
                (Value::Object(before), Value::Object(after)) if !before.is_empty() && !after.is_empty() => before
                    .keys()
                    .chain(after.keys())
                    .all(|key| before.get(key) == after.get(key) || members.iter().any(|(stack, _)| stack == key)),
                _ => false,
            },
        }
    }

    /// Whether a STARTED application takes a request that sends this field
    /// as `sent` (JSON keyed like [`super::update::field_json`]), judged by
    /// presence, as the service does: a field that is never live is refused
    /// even unchanged, a field live for some members may name only those.
    pub fn request_accepted_while_started(&self, sent: &Value, initial_capacity: bool) -> bool {
        match self.change {
            ChangeRule::Replace | ChangeRule::Update(Live::Never) => false,
            ChangeRule::Tagging | ChangeRule::Update(Live::Always) => true,
            ChangeRule::Update(Live::UnlessInitialCapacity) => !initial_capacity,
            ChangeRule::Update(Live::OnlyMembers(members)) => match sent {
                Value::Object(map) => {
                    let present: Vec<&String> = map.iter().filter(|(_, v)| !v.is_null()).map(|(k, _)| k).collect();
                    !present.is_empty() && present.iter().all(|key| members.iter().any(|(stack, _)| stack == *key))
                }
                _ => false,
            },
        }
    }

    /// For [`ServerDefault::FromRelease`]: whether the service fills the
    /// field in on `release` (an unparsable release counts as newer than
    /// every known one).
    pub fn server_default_applies(&self, release: Option<ReleaseLabel>) -> bool {
        match self.server_default {
            ServerDefault::FromRelease { from, .. } => release.is_none_or(|release| release >= from),
            ServerDefault::Nothing => false,
            _ => true,
        }
    }

    /// For [`ServerDefault::MemberByRelease`] with boolean values: the
    /// member's default on `release`.
    pub fn member_default(&self, release: Option<ReleaseLabel>) -> Option<bool> {
        match self.server_default {
            ServerDefault::MemberByRelease {
                changes_at,
                before,
                after,
                ..
            } => {
                let text = if release.is_some_and(|release| release < changes_at) {
                    before
                } else {
                    after
                };
                text.parse().ok()
            }
            _ => None,
        }
    }

    /// The sentence for people saying when a STARTED application accepts a
    /// change of this field.
    pub fn live_text(&self) -> String {
        match self.change {
            ChangeRule::Replace => "no: replaces the application".to_string(),
            ChangeRule::Tagging => "yes (tagging API)".to_string(),
            ChangeRule::Update(Live::Never) => "no".to_string(),
            ChangeRule::Update(Live::Always) => "yes".to_string(),
            ChangeRule::Update(Live::UnlessInitialCapacity) => {
                "yes, unless pre-initialized capacity is configured (stack or AWS)".to_string()
            }
            ChangeRule::Update(Live::OnlyMembers(members)) => {
                let names: Vec<String> = members.iter().map(|(_, api)| format!("`{api}`")).collect();
                format!("only a change of {} alone", names.join(", "))
            }
        }
    }
}

/// The application's release as a [`ReleaseLabel`]; `None` when it does not
/// parse (validation refuses such labels, so only hand-built specs have them).
pub fn release_of(label: &str) -> Option<ReleaseLabel> {
    ReleaseLabel::parse(label)
}

fn code(text: &str) -> String {
    format!("`{text}`")
}

/// The declarations as the Markdown table of docs/api-semantics.md ("One
/// declaration per field"); a test checks that the document holds exactly
/// this text.
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| stack key | API member | change | live while STARTED | absent from the stack | server default | clearing form | gates | sources |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for field in ApplicationField::ALL {
        let d = field.declaration();
        let change = match d.change {
            ChangeRule::Replace => "replaces",
            ChangeRule::Tagging => "tagging API",
            ChangeRule::Update(_) => "UpdateApplication",
        };
        let absence = match d.absence {
            Absence::Required => "required",
            Absence::NotManaged => "not managed: AWS's value stands, never sent",
            Absence::Default => "the server default, sent to reset",
            Absence::Cleared => "cleared",
        };
        let server_default = match d.server_default {
            ServerDefault::Nothing => "absent".to_string(),
            ServerDefault::Fixed(value) => code(value),
            ServerDefault::FromRelease { from, value } => format!("{} from {from}; absent before", code(value)),
            ServerDefault::MemberByRelease {
                member,
                changes_at,
                before,
                after,
            } => format!(
                "{} before {changes_at}, {} from it",
                code(&format!("{member}: {before}")),
                code(after)
            ),
            ServerDefault::PerEntry(value) => format!("per entry {}", code(value)),
        };
        let clearing = match d.clearing {
            Clearing::NotSent(why) => format!("not sent: {why}"),
            Clearing::Send(value) => code(value),
            Clearing::PerEntry(value) => format!("each dropped entry AWS holds as {}", code(value)),
            Clearing::PerMember(members) => members
                .iter()
                .map(|(member, value)| format!("`{member}: {value}`"))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let gates = if d.gates.is_empty() {
            "none".to_string()
        } else {
            d.gates
                .iter()
                .map(|gate| {
                    let mut parts = Vec::new();
                    if let Some(feature) = gate.feature {
                        parts.push(feature.minimum_release().to_string());
                    }
                    if !gate.engines.is_empty() {
                        let engines: Vec<&str> = gate.engines.iter().map(|e| e.api_name()).collect();
                        parts.push(format!("{} only", engines.join(", ")));
                    }
                    let what = if gate.member.is_empty() {
                        "field".to_string()
                    } else {
                        format!("`{}`", gate.member)
                    };
                    format!("{what}: {}", parts.join(", "))
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        out.push_str(&format!(
            "| `{}` | `{}` | {change} | {} | {absence} | {server_default} | {clearing} | {gates} | {} |\n",
            d.stack_key,
            d.api_member,
            d.live_text(),
            d.sources.replace('|', "\\|"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_field_has_its_own_declaration_in_order() {
        for (index, field) in ApplicationField::ALL.into_iter().enumerate() {
            let declaration = field.declaration();
            assert_eq!(declaration.field, field, "{field}");
            assert_eq!(declaration.stack_key, field.as_str(), "{field}");
            assert_eq!(field as usize, index, "ApplicationField::ALL is in declaration order");
        }
    }

    #[test]
    fn clearing_forms_and_defaults_are_json() {
        for field in ApplicationField::ALL {
            let d = field.declaration();
            let mut texts: Vec<&str> = Vec::new();
            match d.clearing {
                Clearing::Send(value) | Clearing::PerEntry(value) => texts.push(value),
                Clearing::PerMember(members) => texts.extend(members.iter().map(|(_, value)| *value)),
                Clearing::NotSent(_) => {}
            }
            match d.server_default {
                ServerDefault::Fixed(value) | ServerDefault::PerEntry(value) => texts.push(value),
                ServerDefault::FromRelease { value, .. } => texts.push(value),
                ServerDefault::MemberByRelease { before, after, .. } => texts.extend([before, after]),
                ServerDefault::Nothing => {}
            }
            for text in texts {
                assert!(serde_json::from_str::<Value>(text).is_ok(), "{field}: {text}");
            }
            // A clearing form never sends an empty string (ImageUri has min 1).
            assert!(
                !matches!(d.clearing, Clearing::Send(value) if value.contains("\"\"")),
                "{field}"
            );
        }
    }

    #[test]
    fn gated_members_are_members_of_the_clearing_form() {
        for field in ApplicationField::ALL {
            let d = field.declaration();
            for gate in d.gates.iter().filter(|gate| !gate.member.is_empty()) {
                let Clearing::PerMember(members) = d.clearing else {
                    panic!("{field}: a member gate needs a per-member clearing form");
                };
                assert!(members.iter().any(|(member, _)| *member == gate.member), "{field}");
            }
        }
    }

    #[test]
    fn scheduler_is_live_only_for_max_concurrent_runs() {
        let scheduler = ApplicationField::Scheduler.declaration();
        let enabled = |max: u32, queue: u32| json!({"max_concurrent_runs": max, "queue_timeout_minutes": queue});
        assert!(scheduler.accepts_while_started(&enabled(15, 360), &enabled(5, 360), false));
        assert!(!scheduler.accepts_while_started(&enabled(15, 360), &enabled(15, 60), false));
        assert!(!scheduler.accepts_while_started(&enabled(15, 360), &enabled(5, 60), false));
        assert!(!scheduler.accepts_while_started(&json!({}), &enabled(5, 360), false));
        assert!(!scheduler.accepts_while_started(&enabled(15, 360), &json!({}), false));
        assert!(!scheduler.accepts_while_started(&json!(false), &enabled(5, 360), false));
        assert!(!scheduler.accepts_while_started(&Value::Null, &enabled(5, 360), false));
    }

    #[test]
    fn images_are_live_only_without_initial_capacity() {
        let image = ApplicationField::Image.declaration();
        let (a, b) = (json!({"uri": "a"}), json!({"uri": "b"}));
        assert!(image.accepts_while_started(&a, &b, false));
        assert!(!image.accepts_while_started(&a, &b, true));
        assert!(
            ApplicationField::MaximumCapacity
                .declaration()
                .accepts_while_started(&a, &b, true)
        );
        assert!(
            !ApplicationField::AutoStop
                .declaration()
                .accepts_while_started(&a, &b, false)
        );
    }

    #[test]
    fn release_dependent_defaults() {
        let label = |text: &str| ReleaseLabel::parse(text);
        let scheduler = ApplicationField::Scheduler.declaration();
        assert!(!scheduler.server_default_applies(label("emr-7.2.0")));
        assert!(scheduler.server_default_applies(label("emr-7.3.0")));
        assert!(scheduler.server_default_applies(label("emr-7.5.0")));
        assert!(scheduler.server_default_applies(None));
        let image = ApplicationField::Image.declaration();
        assert_eq!(image.member_default(label("emr-6.9.0")), Some(true));
        assert_eq!(image.member_default(label("emr-7.13.0")), Some(true));
        assert_eq!(image.member_default(label("emr-7.14.0")), Some(false));
        assert_eq!(image.member_default(None), Some(false));
    }

    /// docs/api-semantics.md holds the table of the declarations between
    /// its `fields` markers. `EMRSTACK_UPDATE_DOCS=1` rewrites it.
    #[test]
    fn api_semantics_md_shows_the_declarations() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/api-semantics.md");
        let text = std::fs::read_to_string(&path).expect("docs/api-semantics.md");
        let (begin, end) = ("<!-- fields:begin -->\n", "<!-- fields:end -->");
        let start = text.find(begin).expect("begin marker") + begin.len();
        let stop = text.find(end).expect("end marker");
        let expected = markdown_table();
        if text[start..stop] != expected {
            if std::env::var_os("EMRSTACK_UPDATE_DOCS").is_some() {
                let updated = format!("{}{expected}{}", &text[..start], &text[stop..]);
                std::fs::write(&path, updated).expect("write docs/api-semantics.md");
            } else {
                panic!(
                    "docs/api-semantics.md does not show the field declarations; run with EMRSTACK_UPDATE_DOCS=1:\n{expected}"
                );
            }
        }
    }

    #[test]
    fn gates_follow_release_and_engine() {
        let monitoring = ApplicationField::Monitoring.declaration();
        let label = |text: &str| ReleaseLabel::parse(text);
        let prometheus = "prometheusMonitoringConfiguration";
        assert!(!monitoring.has(prometheus, label("emr-7.0.0"), Engine::Spark));
        assert!(monitoring.has(prometheus, label("emr-7.1.0"), Engine::Spark));
        assert!(!monitoring.has(prometheus, label("emr-7.1.0"), Engine::Hive));
        assert!(monitoring.has("s3MonitoringConfiguration", label("emr-6.6.0"), Engine::Hive));
        let interactive = ApplicationField::Interactive.declaration();
        assert!(!interactive.has("sessionEnabled", label("emr-7.12.0"), Engine::Spark));
        assert!(interactive.has("sessionEnabled", label("emr-7.13.0"), Engine::Spark));
        assert!(interactive.has("studioEnabled", label("emr-7.12.0"), Engine::Spark));
        let identity = ApplicationField::IdentityCenter.declaration();
        assert!(!identity.has("", label("emr-7.7.0"), Engine::Spark));
    }
}
