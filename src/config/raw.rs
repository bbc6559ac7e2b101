//! The stack language as written: one Rust type per TOML table, each field
//! wrapped in [`Sp`] to keep its position. These types are the single source
//! of truth for the language's keys: serde reads the file with them, schemars
//! derives the JSON Schema from them (the `///` docs become descriptions), and
//! the structural checker walks that schema.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, Range};

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

use crate::model::{DiskType, Engine, WorkerType};

/// A value with the byte range it was read from (in the file its resource came from).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sp<T>(pub Spanned<T>);

impl<T> Sp<T> {
    /// Wraps `value` read from `range`.
    pub fn new(range: Range<usize>, value: T) -> Sp<T> {
        Sp(Spanned::new(range, value))
    }

    /// The byte range of the value.
    pub fn range(&self) -> Range<usize> {
        self.0.span()
    }

    /// The value.
    pub fn get(&self) -> &T {
        self.0.get_ref()
    }

    /// The value, consuming the wrapper.
    pub fn into_inner(self) -> T {
        self.0.into_inner()
    }
}

impl<T> Deref for Sp<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.0.get_ref()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Sp<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Spanned::<T>::deserialize(deserializer).map(Sp)
    }
}

impl<T: JsonSchema> JsonSchema for Sp<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// A string-keyed map whose keys and values keep their positions.
pub type SpMap = BTreeMap<Sp<String>, Sp<String>>;

/// A list of strings that keeps the position of the list and of each item.
pub type SpList = Sp<Vec<Sp<String>>>;

/// `true`, `false` or a table: the short form of a configuration with an
/// `enabled` flag (`auto_stop = false`, `cloudwatch = { log_group_name = ".." }`).
#[derive(Clone, Debug, PartialEq)]
pub enum Toggle<T> {
    /// The short form.
    Bool(bool),
    /// The long form.
    Table(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Toggle<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ToggleVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ToggleVisitor<T> {
            type Value = Toggle<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean or a table")
            }

            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Toggle<T>, E> {
                Ok(Toggle::Bool(value))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Toggle<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Toggle::Table)
            }
        }

        deserializer.deserialize_any(ToggleVisitor(PhantomData))
    }
}

impl<T: JsonSchema> JsonSchema for Toggle<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("Toggle_{}", T::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                { "type": "boolean" },
                generator.subschema_for::<T>(),
            ]
        })
    }
}

/// A capacity: an integer, or a string with a unit (`"4 vCPU"`, `"16 GB"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Size {
    /// An integer (vCPU or GB).
    Number(i64),
    /// A string, parsed by the capacity rules.
    Text(String),
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SizeVisitor;

        impl Visitor<'_> for SizeVisitor {
            type Value = Size;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer or a string such as \"4 vCPU\" or \"16 GB\"")
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Size, E> {
                Ok(Size::Number(value))
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Size, E> {
                i64::try_from(value)
                    .map(Size::Number)
                    .map_err(|_| E::custom("integer is too large"))
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Size, E> {
                Ok(Size::Text(value.to_string()))
            }
        }

        deserializer.deserialize_any(SizeVisitor)
    }
}

impl JsonSchema for Size {
    fn schema_name() -> Cow<'static, str> {
        "Size".into()
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An integer, or a string with a unit: `\"4 vCPU\"`, `\"4vCPU\"`, `\"16 GB\"`, `\"16GB\"`.",
            "type": ["integer", "string"]
        })
    }
}

/// An IAM policy document: a JSON string or a TOML table. Its content is read
/// from the spanned tree, not through serde, so that every position in it is
/// kept; this type only accepts the two shapes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyDocument;

impl<'de> Deserialize<'de> for PolicyDocument {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DocumentVisitor;

        impl<'de> Visitor<'de> for DocumentVisitor {
            type Value = PolicyDocument;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON string or a table")
            }

            fn visit_str<E: de::Error>(self, _value: &str) -> Result<PolicyDocument, E> {
                Ok(PolicyDocument)
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PolicyDocument, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(PolicyDocument)
            }
        }

        deserializer.deserialize_any(DocumentVisitor)
    }
}

impl JsonSchema for PolicyDocument {
    fn schema_name() -> Cow<'static, str> {
        "PolicyDocument".into()
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An IAM policy document: a JSON string, or a table with `Version` and `Statement`.",
            "type": ["string", "object"]
        })
    }
}

/// The engine of an application (`type`) as written. The API's `type` is a
/// free string that EMR Serverless reads in any letter case: the official
/// CloudFormation samples write `Spark`, terraform-provider-aws's tests
/// `hive`, and GetApplication returns `Spark`. The rules report a value that
/// is neither engine; lowering sends the canonical `SPARK` or `HIVE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawEngine(pub String);

impl RawEngine {
    /// The engine, when the value names one in any letter case.
    pub fn engine(&self) -> Option<Engine> {
        Engine::from_api(&self.0)
    }
}

impl<'de> Deserialize<'de> for RawEngine {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(RawEngine)
    }
}

impl JsonSchema for RawEngine {
    fn schema_name() -> Cow<'static, str> {
        "Engine".into()
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The engine: `SPARK` or `HIVE`, in any letter case (`Spark`, `hive`); emrstack sends the upper-case form.",
            "type": "string",
            "pattern": "^(?:[Ss][Pp][Aa][Rr][Kk]|[Hh][Ii][Vv][Ee])$",
            "examples": ["SPARK", "HIVE"]
        })
    }
}

/// The CPU architecture of an application's workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[schemars(rename = "Architecture")]
pub enum RawArchitecture {
    /// x86-64 (the service default).
    #[serde(rename = "X86_64")]
    X86_64,
    /// AWS Graviton; needs emr-6.9.0 or later.
    #[serde(rename = "ARM64")]
    Arm64,
}

/// The disk type of a worker as written: exactly the spellings the API
/// model's `DiskType` pattern allows,
/// `(SHUFFLE_OPTIMIZED|[Ss]huffle_[Oo]ptimized|STANDARD|[Ss]tandard)`
/// (CloudFormation templates write `Standard` and `shuffle_optimized`).
/// Lowering sends the upper-case form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawDiskType(pub String);

/// Every spelling of `DiskType` the API model's pattern allows.
pub const DISK_TYPE_SPELLINGS: [(&str, DiskType); 8] = [
    ("STANDARD", DiskType::Standard),
    ("Standard", DiskType::Standard),
    ("standard", DiskType::Standard),
    ("SHUFFLE_OPTIMIZED", DiskType::ShuffleOptimized),
    ("Shuffle_Optimized", DiskType::ShuffleOptimized),
    ("Shuffle_optimized", DiskType::ShuffleOptimized),
    ("shuffle_Optimized", DiskType::ShuffleOptimized),
    ("shuffle_optimized", DiskType::ShuffleOptimized),
];

impl RawDiskType {
    /// The disk type, when the value is one of [`DISK_TYPE_SPELLINGS`].
    pub fn disk_type(&self) -> Option<DiskType> {
        DISK_TYPE_SPELLINGS
            .iter()
            .find(|(spelling, _)| *spelling == self.0)
            .map(|(_, disk_type)| *disk_type)
    }
}

impl<'de> Deserialize<'de> for RawDiskType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(RawDiskType)
    }
}

impl JsonSchema for RawDiskType {
    fn schema_name() -> Cow<'static, str> {
        "DiskType".into()
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        let spellings: Vec<&str> = DISK_TYPE_SPELLINGS.iter().map(|(spelling, _)| *spelling).collect();
        json_schema!({
            "description": "The disk type: `STANDARD` (the service default, 20 to 200 GB) or `SHUFFLE_OPTIMIZED` (20 to 2000 GB, emr-7.1.0 or later), in the spellings the API takes (`Standard`, `shuffle_optimized`, ...).",
            "type": "string",
            "enum": spellings
        })
    }
}

/// An emrstack stack file: Amazon EMR Serverless applications and the IAM
/// roles, ECR repository policies and networks they use.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "emrstack stack file")]
pub struct RawStackFile {
    /// The stack's identity.
    pub stack: Sp<RawStack>,
    /// String variables and their defaults, used as `${var.NAME}` in any string.
    /// Overridden, in increasing precedence, by `--var-file` files, `--var NAME=VALUE`
    /// and `EMRSTACK_VAR_NAME` environment variables.
    #[serde(default)]
    pub vars: SpMap,
    /// Tags put on every resource the stack creates; a resource's own tags win.
    #[serde(default)]
    pub tags: SpMap,
    /// Existing VPC subnets and security groups, by key.
    #[serde(default)]
    pub networks: BTreeMap<Sp<String>, Sp<RawNetwork>>,
    /// Reusable default-configuration bundles, by key.
    #[serde(default)]
    pub configs: BTreeMap<Sp<String>, Sp<RawConfigBundle>>,
    /// IAM job runtime roles, by key.
    #[serde(default)]
    pub roles: BTreeMap<Sp<String>, Sp<RawRole>>,
    /// Existing ECR repositories whose policy grants applications pull access, by key.
    #[serde(default)]
    pub repositories: BTreeMap<Sp<String>, Sp<RawRepository>>,
    /// EMR Serverless applications, by key.
    #[serde(default)]
    pub applications: BTreeMap<Sp<String>, Sp<RawApplication>>,
    /// Job runs the stack declares (`emrstack run <key>`, `apply --run <key>`), by key.
    #[serde(default)]
    pub jobs: BTreeMap<Sp<String>, Sp<RawJob>>,
}

/// `[stack]`: the stack's name, region, account and lock.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Stack")]
pub struct RawStack {
    /// The stack name: 1 to 64 of `A-Z a-z 0-9 _ -`. It is the value of the
    /// `emrstack:stack` tag and the prefix of default resource names.
    #[schemars(required)]
    pub name: Option<Sp<String>>,
    /// The AWS region (`us-east-1`); `--region` and the AWS configuration apply when unset.
    pub region: Option<Sp<String>>,
    /// The 12-digit AWS account ID; plans refuse to run against any other account.
    pub account_id: Option<Sp<String>>,
    /// Where the stack lock lives, `s3://bucket/prefix`: `apply`, `destroy`
    /// and `import` hold the object `<prefix>/<name>.lock` while they run, so
    /// two of them never change the stack at once. The bucket must exist, in
    /// the stack's region. Without it the stack is not locked.
    pub lock: Option<Sp<String>>,
    /// Where local job files go, `s3://bucket/prefix`: each is uploaded to
    /// `<prefix>/<sha256 of its bytes>/<file name>` (a directory zipped
    /// first). Required when a job names a local file. The bucket must
    /// exist; emrstack never creates or deletes it.
    pub artifacts: Option<Sp<String>>,
}

/// `[networks.<key>]`: existing subnets and security groups an application attaches to.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Network")]
pub struct RawNetwork {
    /// Private subnet IDs (`subnet-0123456789abcdef0`), 1 to 16, in several availability zones.
    #[schemars(required)]
    pub subnet_ids: Option<SpList>,
    /// Security group IDs (`sg-0123456789abcdef0`), 1 to 5, in the subnets' VPC.
    #[schemars(required)]
    pub security_group_ids: Option<SpList>,
}

/// `[configs.<key>]`: default configuration shared by applications that list it in `configs`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ConfigBundle")]
pub struct RawConfigBundle {
    /// Runtime configuration classifications (`spark-defaults`, `hive-site`, ...).
    pub runtime: Option<Sp<Vec<Sp<RawConfiguration>>>>,
    /// A JSON file with a list of classifications in the EMR format, relative to
    /// the stack file; `runtime` entries are merged on top of it.
    pub runtime_file: Option<Sp<String>>,
    /// Log and metrics destinations.
    pub monitoring: Option<Sp<RawMonitoring>>,
}

/// One runtime configuration classification.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Configuration")]
pub struct RawConfiguration {
    /// The classification name (`spark-defaults`).
    #[schemars(required)]
    pub classification: Option<Sp<String>>,
    /// Properties: at most 100; keys and values at most 1024 characters.
    #[serde(default)]
    pub properties: SpMap,
    /// Nested classifications.
    #[serde(default)]
    pub configurations: Vec<Sp<RawConfiguration>>,
}

/// `monitoring`: where logs and metrics go.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Monitoring")]
pub struct RawMonitoring {
    /// S3 location for logs (`s3://bucket/prefix/`), in the application's account and region.
    pub s3_log_uri: Option<Sp<String>>,
    /// KMS key ARN that encrypts the S3 logs.
    pub s3_encryption_key_arn: Option<Sp<String>>,
    /// Managed log storage (on by default): a boolean or a table.
    pub managed_persistence: Option<Sp<Toggle<RawManagedPersistence>>>,
    /// CloudWatch Logs (off by default): a boolean or a table.
    pub cloudwatch: Option<Sp<Toggle<RawCloudWatch>>>,
    /// Amazon Managed Service for Prometheus remote-write URL; Spark only, emr-7.1.0 or later.
    pub prometheus_remote_write_url: Option<Sp<String>>,
}

/// `managed_persistence` as a table.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ManagedPersistence")]
pub struct RawManagedPersistence {
    /// Defaults to `true`.
    pub enabled: Option<Sp<bool>>,
    /// KMS key ARN that encrypts the managed logs.
    pub encryption_key_arn: Option<Sp<String>>,
}

/// `cloudwatch` as a table.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "CloudWatch")]
pub struct RawCloudWatch {
    /// Defaults to `true` when the table is written.
    pub enabled: Option<Sp<bool>>,
    /// Log group name, 1 to 512 of `A-Z a-z 0-9 . - _ / #`; the service default is `/aws/emr-serverless`.
    pub log_group_name: Option<Sp<String>>,
    /// Log stream name prefix, 1 to 512 characters without `:` or `*`.
    pub log_stream_name_prefix: Option<Sp<String>>,
    /// KMS key ARN that encrypts the log group.
    pub encryption_key_arn: Option<Sp<String>>,
    /// Which logs each worker type sends.
    pub log_types: Option<Sp<RawLogTypes>>,
}

/// Every spelling of a `log_types` key the language accepts, with the
/// canonical key: the language's snake case and the API's upper case
/// (`SPARK_DRIVER`, as CloudFormation, Terraform and the API reference write it).
pub const LOG_TYPE_KEY_SPELLINGS: [(&str, &str); 8] = [
    ("spark_driver", "spark_driver"),
    ("SPARK_DRIVER", "spark_driver"),
    ("spark_executor", "spark_executor"),
    ("SPARK_EXECUTOR", "spark_executor"),
    ("hive_driver", "hive_driver"),
    ("HIVE_DRIVER", "hive_driver"),
    ("tez_task", "tez_task"),
    ("TEZ_TASK", "tez_task"),
];

/// `log_types`: log types per worker type, keyed by any of
/// [`LOG_TYPE_KEY_SPELLINGS`]; the values are case-insensitive.
#[derive(Clone, Debug)]
pub struct RawLogTypes {
    /// The entries in the order written.
    pub entries: Vec<(Sp<String>, SpList)>,
}

impl RawLogTypes {
    /// The canonical key (`spark_driver`) of a key as written.
    pub fn canonical_key(written: &str) -> Option<&'static str> {
        LOG_TYPE_KEY_SPELLINGS
            .iter()
            .find(|(spelling, _)| *spelling == written)
            .map(|(_, key)| *key)
    }
}

impl<'de> Deserialize<'de> for RawLogTypes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<Sp<String>, SpList>::deserialize(deserializer)?;
        let mut entries: Vec<(Sp<String>, SpList)> = map.into_iter().collect();
        entries.sort_by_key(|(key, _)| key.range().start);
        Ok(RawLogTypes { entries })
    }
}

impl JsonSchema for RawLogTypes {
    fn schema_name() -> Cow<'static, str> {
        "LogTypes".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let list = generator.subschema_for::<Vec<String>>().to_value();
        let properties: serde_json::Map<String, serde_json::Value> = LOG_TYPE_KEY_SPELLINGS
            .iter()
            .map(|(spelling, key)| {
                let meaning = match *key {
                    "spark_driver" => "Spark driver logs: `stdout`, `stderr`.",
                    "spark_executor" => "Spark executor logs: `stdout`, `stderr`.",
                    "hive_driver" => "Hive driver logs: `stdout`, `stderr`, `hive_log`, `tez_am`.",
                    _ => "Tez task logs: `stdout`, `stderr`, `system_logs`.",
                };
                let mut property = list.clone();
                if let serde_json::Value::Object(map) = &mut property {
                    map.insert("description".to_string(), serde_json::Value::from(meaning));
                }
                (spelling.to_string(), property)
            })
            .collect();
        json_schema!({
            "description": "Log types per worker type, 1 to 5 each (case-insensitive): `spark_driver`, `spark_executor` (`stdout`, `stderr`), `hive_driver` (adds `hive_log`, `tez_am`) and `tez_task` (adds `system_logs`). The API's upper-case keys (`SPARK_DRIVER`) are accepted too.",
            "type": "object",
            "properties": properties,
            "additionalProperties": false
        })
    }
}

/// `[roles.<key>]`: an IAM job runtime role. Its trust policy (for
/// `emr-serverless.amazonaws.com`) is generated, unless `trust_policy` states it.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Role")]
pub struct RawRole {
    /// Role name, 1 to 64 of `A-Z a-z 0-9 + = , . @ _ -`; defaults to `<stack>-<key>`.
    pub name: Option<Sp<String>>,
    /// IAM path: `/` (the default) or `/path/`.
    pub path: Option<Sp<String>>,
    /// Description, at most 1000 characters.
    pub description: Option<Sp<String>>,
    /// Maximum session duration in seconds, 3600 (the default) to 43200.
    pub max_session_duration: Option<Sp<i64>>,
    /// ARN of a managed policy used as the permissions boundary.
    pub permissions_boundary: Option<Sp<String>>,
    /// ARNs of managed policies to attach, at most 20.
    pub managed_policy_arns: Option<SpList>,
    /// Application keys whose job runs may assume the role (the trust policy is
    /// scoped to their ARNs); empty means any application of the account.
    pub trust_applications: Option<SpList>,
    /// The role's trust policy as written here instead of the one emrstack
    /// generates (not together with `trust_applications`): exactly one of
    /// `document` and `file`. emrstack adds one statement to it, the stack's
    /// marker, which grants and denies nothing.
    pub trust_policy: Option<Sp<RawTrustPolicy>>,
    /// Inline policies by name (1 to 128 of `A-Z a-z 0-9 + = , . @ _ -`); at
    /// most 10240 characters in total, without whitespace.
    #[serde(default)]
    pub policies: BTreeMap<Sp<String>, Sp<RawPolicy>>,
    /// Tags on the role, merged over the stack's `[tags]`.
    pub tags: Option<Sp<SpMap>>,
    /// Refuse plans that delete or replace the role.
    pub prevent_destroy: Option<Sp<bool>>,
}

/// An inline policy: exactly one of `document` and `file`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Policy")]
pub struct RawPolicy {
    /// The policy document, as a JSON string or a table. It may use
    /// `${application.<key>.arn}` for the ARN of an application of the stack.
    pub document: Option<Sp<PolicyDocument>>,
    /// A JSON file with the policy document, relative to the stack file.
    pub file: Option<Sp<String>>,
}

/// `trust_policy`: a role's trust policy as the stack states it, exactly one
/// of `document` and `file`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TrustPolicy")]
pub struct RawTrustPolicy {
    /// The trust policy document, as a JSON string or a table: who may assume
    /// the role (`Principal`, `Action` such as `sts:AssumeRole`, no
    /// `Resource`). It may use `${application.<key>.arn}`.
    pub document: Option<Sp<PolicyDocument>>,
    /// A JSON file with the trust policy document, relative to the stack file.
    pub file: Option<Sp<String>>,
}

/// `[repositories.<key>]`: an existing ECR repository; the stack manages one
/// statement of its policy that lets the listed applications pull images.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Repository")]
pub struct RawRepository {
    /// The ECR repository name (`analytics/spark`), 2 to 256 characters.
    #[schemars(required)]
    pub name: Option<Sp<String>>,
    /// Application keys granted pull access.
    pub applications: Option<SpList>,
}

/// `[applications.<key>]`: an EMR Serverless application.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Application")]
pub struct RawApplication {
    /// Application name, 1 to 64 of `A-Z a-z 0-9 . _ / # -`; defaults to
    /// `<stack>-<key>`. Changing it replaces the application.
    pub name: Option<Sp<String>>,
    /// The engine: `SPARK` or `HIVE`, in any letter case (`Spark`, `hive`).
    /// Changing it replaces the application.
    #[serde(rename = "type")]
    #[schemars(required)]
    pub engine: Option<Sp<RawEngine>>,
    /// The release (`emr-7.2.0`), emr-6.6.0 or later.
    #[schemars(required)]
    pub release_label: Option<Sp<String>>,
    /// The CPU architecture; the service default is `X86_64`.
    pub architecture: Option<Sp<RawArchitecture>>,
    /// The `[networks.*]` key of the subnets and security groups to attach to.
    pub network: Option<Sp<String>>,
    /// `[configs.*]` keys merged in order, under the application's own settings.
    pub configs: Option<SpList>,
    /// Runtime configuration classifications, merged over `configs` and `runtime_file`.
    pub runtime: Option<Sp<Vec<Sp<RawConfiguration>>>>,
    /// A JSON file with a list of classifications in the EMR format, relative to the stack file.
    pub runtime_file: Option<Sp<String>>,
    /// Log and metrics destinations, merged key by key over `configs`.
    pub monitoring: Option<Sp<RawMonitoring>>,
    /// A custom image for every worker type (emr-6.9.0 or later).
    pub image: Option<Sp<RawImage>>,
    /// A custom image URI for every worker type; the short form of `image = { uri = ".." }`.
    pub image_uri: Option<Sp<String>>,
    /// Custom images per worker type (emr-6.9.0 or later); not together with `image`.
    pub worker_type_specifications: Option<Sp<RawWorkerTypes<RawWorkerSpec>>>,
    /// Pre-initialized workers per worker type.
    pub initial_capacity: Option<Sp<RawWorkerTypes<RawInitialCapacity>>>,
    /// The most resources the application may use at once.
    pub maximum_capacity: Option<Sp<RawMaximumCapacity>>,
    /// Start on job submission (the service default is `true`).
    pub auto_start: Option<Sp<Toggle<RawEnabled>>>,
    /// Stop when idle (the service default is `true`, after 15 minutes).
    pub auto_stop: Option<Sp<Toggle<RawAutoStop>>>,
    /// Job concurrency and queueing (emr-7.0.0 or later): a table turns it on
    /// (`{}` or `true` with the defaults, 15 runs and 360 minutes), `false`
    /// turns it off; left out, the service's default stands (on from emr-7.3.0).
    pub scheduler: Option<Sp<Toggle<RawScheduler>>>,
    /// EMR Studio, Livy and sessions (Spark only).
    pub interactive: Option<Sp<RawInteractive>>,
    /// A KMS key for the workers' local disks.
    pub disk_encryption: Option<Sp<RawDiskEncryption>>,
    /// IAM Identity Center trusted identity propagation (emr-7.8.0 or later).
    pub identity_center: Option<Sp<RawIdentityCenter>>,
    /// Job-level cost allocation: a boolean or `{ enabled = .. }`.
    pub job_level_cost_allocation: Option<Sp<Toggle<RawEnabled>>>,
    /// Refuse plans that delete or replace the application.
    pub prevent_destroy: Option<Sp<bool>>,
    /// Tags on the application, merged over the stack's `[tags]`.
    pub tags: Option<Sp<SpMap>>,
}

/// A worker type key as the stack file may spell it: the language's snake
/// case, or one of the API's spellings, all of which EMR Serverless accepts
/// and which appear in deployed configurations: `DRIVER`, `EXECUTOR` and
/// `TEZ_TASK` (the user guide's `initialCapacity` examples), `Driver`,
/// `Executor`, `HiveDriver` and `TezTask` (the API reference for
/// `workerTypeSpecifications`, terraform-provider-aws's tests) and
/// `HIVE_DRIVER` (the CloudWatch log type key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkerKey {
    /// `driver`, `Driver`, `DRIVER`: the Spark driver, or the Hive driver on
    /// a Hive application (the guide's Hive `initialCapacity` key is `DRIVER`).
    Driver,
    /// `executor`, `Executor`, `EXECUTOR`: Spark executors.
    Executor,
    /// `hive_driver`, `HiveDriver`, `HIVE_DRIVER`: the Hive driver.
    HiveDriver,
    /// `tez_task`, `TezTask`, `TEZ_TASK`: Tez tasks.
    TezTask,
}

/// Every spelling of a worker type key the language accepts.
pub const WORKER_KEY_SPELLINGS: [(&str, WorkerKey); 12] = [
    ("driver", WorkerKey::Driver),
    ("Driver", WorkerKey::Driver),
    ("DRIVER", WorkerKey::Driver),
    ("executor", WorkerKey::Executor),
    ("Executor", WorkerKey::Executor),
    ("EXECUTOR", WorkerKey::Executor),
    ("hive_driver", WorkerKey::HiveDriver),
    ("HiveDriver", WorkerKey::HiveDriver),
    ("HIVE_DRIVER", WorkerKey::HiveDriver),
    ("tez_task", WorkerKey::TezTask),
    ("TezTask", WorkerKey::TezTask),
    ("TEZ_TASK", WorkerKey::TezTask),
];

impl WorkerKey {
    /// The key of `text`, when it is one of [`WORKER_KEY_SPELLINGS`].
    pub fn parse(text: &str) -> Option<WorkerKey> {
        WORKER_KEY_SPELLINGS
            .iter()
            .find(|(spelling, _)| *spelling == text)
            .map(|(_, key)| *key)
    }

    /// The worker type the key means on an application of `engine`, or
    /// `None` when that engine has no such worker.
    pub fn worker_type(self, engine: Engine) -> Option<WorkerType> {
        match (engine, self) {
            (Engine::Spark, WorkerKey::Driver) => Some(WorkerType::Driver),
            (Engine::Spark, WorkerKey::Executor) => Some(WorkerType::Executor),
            (Engine::Hive, WorkerKey::Driver | WorkerKey::HiveDriver) => Some(WorkerType::HiveDriver),
            (Engine::Hive, WorkerKey::TezTask) => Some(WorkerType::TezTask),
            _ => None,
        }
    }
}

/// One entry of a [`RawWorkerTypes`] table.
pub struct WorkerEntry<'r, T> {
    /// The key as written (`HiveDriver`).
    pub key: &'r Sp<String>,
    /// The worker type it means on this application's engine; `None` when the
    /// engine is unknown or has no such worker.
    pub worker: Option<WorkerType>,
    /// The value.
    pub value: &'r Sp<T>,
}

/// A value per worker type, keyed by any of [`WORKER_KEY_SPELLINGS`]. Spark
/// has `driver` and `executor`; Hive has `hive_driver` (also written
/// `driver`) and `tez_task`.
#[derive(Clone, Debug)]
pub struct RawWorkerTypes<T> {
    /// The entries in the order written.
    pub entries: Vec<(Sp<String>, Sp<T>)>,
}

impl<T> RawWorkerTypes<T> {
    /// Whether the table has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries with the worker type each means on an application of `engine`.
    pub fn entries(&self, engine: Option<Engine>) -> Vec<WorkerEntry<'_, T>> {
        self.entries
            .iter()
            .map(|(key, value)| WorkerEntry {
                key,
                worker: engine.and_then(|engine| WorkerKey::parse(key.get())?.worker_type(engine)),
                value,
            })
            .collect()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for RawWorkerTypes<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for EntriesVisitor<T> {
            type Value = RawWorkerTypes<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of worker types")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawWorkerTypes<T>, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<Sp<String>, Sp<T>>()? {
                    entries.push(entry);
                }
                Ok(RawWorkerTypes { entries })
            }
        }

        deserializer.deserialize_map(EntriesVisitor(PhantomData))
    }
}

impl<T: JsonSchema> JsonSchema for RawWorkerTypes<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("WorkerTypes_{}", T::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let value = generator.subschema_for::<T>().to_value();
        let properties: serde_json::Map<String, serde_json::Value> = WORKER_KEY_SPELLINGS
            .iter()
            .map(|(spelling, key)| {
                let meaning = match key {
                    WorkerKey::Driver => "The Spark driver, or the Hive driver on a Hive application.",
                    WorkerKey::Executor => "Spark executors.",
                    WorkerKey::HiveDriver => "The Hive driver.",
                    WorkerKey::TezTask => "Tez tasks (Hive).",
                };
                let property = serde_json::json!({ "description": meaning, "allOf": [value.clone()] });
                (spelling.to_string(), property)
            })
            .collect();
        json_schema!({
            "description": "A value per worker type: `driver` and `executor` for Spark, `hive_driver` (or `driver`) and `tez_task` for Hive. The API's spellings are accepted too: `DRIVER`, `EXECUTOR`, `TEZ_TASK`, `Driver`, `Executor`, `HiveDriver`, `TezTask`, `HIVE_DRIVER`.",
            "type": "object",
            "properties": properties,
            "additionalProperties": false
        })
    }
}

/// `initial_capacity.<worker>`: pre-initialized workers of one type.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "InitialCapacity")]
pub struct RawInitialCapacity {
    /// Number of workers, 1 to 1000000.
    #[schemars(required)]
    pub worker_count: Option<Sp<i64>>,
    /// vCPU per worker: 1, 2, 4, 8 or 16 (`4` or `"4 vCPU"`).
    #[schemars(required)]
    pub cpu: Option<Sp<Size>>,
    /// Memory per worker in GB (`16` or `"16 GB"`); the range and step depend on `cpu`.
    #[schemars(required)]
    pub memory: Option<Sp<Size>>,
    /// Disk per worker in GB: 20 (the default) to 200, or to 2000 when shuffle-optimized.
    pub disk: Option<Sp<Size>>,
    /// The disk type; the service default is `STANDARD`.
    pub disk_type: Option<Sp<RawDiskType>>,
}

/// `maximum_capacity`: totals across all workers of the application.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "MaximumCapacity")]
pub struct RawMaximumCapacity {
    /// Total vCPU (`200` or `"200 vCPU"`).
    #[schemars(required)]
    pub cpu: Option<Sp<Size>>,
    /// Total memory in GB (`800` or `"800 GB"`).
    #[schemars(required)]
    pub memory: Option<Sp<Size>>,
    /// Total disk in GB (`2000` or `"2000 GB"`).
    pub disk: Option<Sp<Size>>,
}

/// `worker_type_specifications.<worker>`: the image of one worker type.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "WorkerSpec")]
pub struct RawWorkerSpec {
    /// The image, as for the application's `image`.
    pub image: Option<Sp<RawImage>>,
    /// The image URI, as for the application's `image_uri`.
    pub image_uri: Option<Sp<String>>,
}

/// `image`: either `repository` and `tag`, or `uri`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Image")]
pub struct RawImage {
    /// The `[repositories.*]` key of the image's repository.
    pub repository: Option<Sp<String>>,
    /// The image tag in that repository.
    pub tag: Option<Sp<String>>,
    /// Resolve the tag to its digest when planning and configure the digest
    /// (default `true`), so a moved tag shows up as a change.
    pub pin_digest: Option<Sp<bool>>,
    /// A full image URI: `<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>` or `@sha256:<digest>`.
    pub uri: Option<Sp<String>>,
    /// Resolve the digest once when the application starts (`true`) or at every job submission.
    pub application_level_digest_resolution: Option<Sp<bool>>,
}

/// `{ enabled = .. }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Enabled")]
pub struct RawEnabled {
    /// Defaults to `true` when the table is written.
    pub enabled: Option<Sp<bool>>,
}

/// `auto_stop` as a table.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "AutoStop")]
pub struct RawAutoStop {
    /// Defaults to `true` when the table is written.
    pub enabled: Option<Sp<bool>>,
    /// Idle minutes before the application stops, 1 to 10080 (default 15).
    pub idle_timeout_minutes: Option<Sp<i64>>,
}

/// `scheduler` as a table: job concurrency and queueing, on.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Scheduler")]
pub struct RawScheduler {
    /// Job runs at once, 1 to 1000 (default 15).
    pub max_concurrent_runs: Option<Sp<i64>>,
    /// Minutes a job run may wait in the queue, 15 to 720 (default 360).
    pub queue_timeout_minutes: Option<Sp<i64>>,
}

/// `interactive`: interactive workloads (Spark only).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Interactive")]
pub struct RawInteractive {
    /// EMR Studio notebooks (emr-6.14.0 or later).
    pub studio_enabled: Option<Sp<bool>>,
    /// The Apache Livy endpoint (emr-6.14.0 or later).
    pub livy_endpoint_enabled: Option<Sp<bool>>,
    /// Interactive sessions (emr-7.13.0 or later).
    pub session_enabled: Option<Sp<bool>>,
}

/// `disk_encryption`: a KMS key for the workers' local disks.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "DiskEncryption")]
pub struct RawDiskEncryption {
    /// KMS key ARN (`arn:aws:kms:<region>:<account>:key/<id>`).
    #[schemars(required)]
    pub encryption_key_arn: Option<Sp<String>>,
    /// Encryption context, at most 8 entries.
    pub encryption_context: Option<Sp<SpMap>>,
}

/// `identity_center`: IAM Identity Center integration.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "IdentityCenter")]
pub struct RawIdentityCenter {
    /// The Identity Center instance ARN (`arn:aws:sso:::instance/ssoins-...`).
    #[schemars(required)]
    pub instance_arn: Option<Sp<String>>,
    /// Let users' background sessions continue after they sign out.
    pub user_background_sessions_enabled: Option<Sp<bool>>,
}

/// `[jobs.<key>]`: a job run the stack declares, started by `emrstack run
/// <key>` or `apply --run <key>`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Job")]
pub struct RawJob {
    /// The `[applications.*]` key the job runs on.
    #[schemars(required)]
    pub application: Option<Sp<String>>,
    /// The execution role: a `[roles.*]` key (whose `trust_applications`
    /// must include the application) or a role ARN.
    #[schemars(required)]
    pub role: Option<Sp<String>>,
    /// The run name, 1 to 256 characters; defaults to `<stack>-<key>`.
    pub name: Option<Sp<String>>,
    /// Spark: the entry point, an `s3://` URI or a local file relative to the stack file.
    pub entry_point: Option<Sp<String>>,
    /// Spark: arguments passed to the entry point. `${job.<key>.files.<name>}`
    /// stands for the URI of an uploaded file.
    pub arguments: Option<SpList>,
    /// Local files or directories uploaded with the job (a directory as
    /// `<name>.zip`); referenced as `${job.<key>.files.<name>}`.
    pub files: Option<SpList>,
    /// Spark: `spark-submit` parameters (`--conf spark.executor.cores=4
    /// --py-files ${job.<key>.files.deps.zip}`).
    pub spark_submit_parameters: Option<Sp<String>>,
    /// Hive: the query file, an `s3://` URI or a local file.
    pub query: Option<Sp<String>>,
    /// Hive: the initialisation query file, an `s3://` URI or a local file.
    pub init_query_file: Option<Sp<String>>,
    /// Hive: parameters (`--hiveconf name=value`).
    pub parameters: Option<Sp<String>>,
    /// `[configs.*]` keys merged in order, under the job's own overrides.
    pub configs: Option<SpList>,
    /// Runtime configuration classifications that override the application's for this run.
    pub runtime: Option<Sp<Vec<Sp<RawConfiguration>>>>,
    /// Log destinations that override the application's for this run.
    pub monitoring: Option<Sp<RawMonitoring>>,
    /// Minutes after which the service cancels the run (`executionTimeoutMinutes`; the service default is 720).
    pub timeout_minutes: Option<Sp<i64>>,
    /// Tags on the job run, merged over the stack's `[tags]`.
    pub tags: Option<Sp<SpMap>>,
    /// `BATCH` (the default) or `STREAMING`.
    pub mode: Option<Sp<RawJobMode>>,
}

/// The mode of a job run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[schemars(rename = "JobMode")]
pub enum RawJobMode {
    /// A run that ends (the default).
    #[serde(rename = "BATCH")]
    Batch,
    /// A streaming run that runs until cancelled.
    #[serde(rename = "STREAMING")]
    Streaming,
}
