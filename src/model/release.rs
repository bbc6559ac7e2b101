//! EMR release labels: parsing, ordering, the releases emrstack knows, and
//! the minimum release of every release-gated feature.
//!
//! EMR Serverless takes two families of labels: `emr-X.Y.Z` (Amazon EMR
//! releases, with Spark and Hive) and `emr-spark-X.Y.Z` (the AWS runtime for
//! Apache Spark, Spark only), plus the one preview label
//! `emr-spark-8.0-preview`. The API model allows any 1 to 64 of
//! `[A-Za-z0-9._/-]` (`ReleaseLabel`); the forms here are the ones the user
//! guide's release list documents.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::application::Engine;

/// The family a release label belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReleaseLine {
    /// `emr-X.Y.Z`: Amazon EMR releases, with Spark, Hive and Tez.
    Emr,
    /// `emr-spark-X.Y.Z` and `emr-spark-X.Y-preview`: the AWS runtime for
    /// Apache Spark, which ships Spark only.
    SparkRuntime,
}

/// A parsed release label such as `emr-7.2.0` or `emr-spark-8.0.0`. Orders by
/// version number (a preview before the release of the same number), so
/// `emr-6.10.0` is newer than `emr-6.9.0` and `emr-spark-8.0.0` newer than
/// every `emr-7` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReleaseLabel {
    /// `emr-` or `emr-spark-`.
    pub line: ReleaseLine,
    /// The `X` of `emr-X.Y.Z`.
    pub major: u32,
    /// The `Y` of `emr-X.Y.Z`.
    pub minor: u32,
    /// The `Z` of `emr-X.Y.Z`; 0 for a preview.
    pub patch: u32,
    /// `emr-spark-X.Y-preview`.
    pub preview: bool,
}

impl ReleaseLabel {
    /// The Amazon EMR label `emr-<major>.<minor>.<patch>`.
    pub const fn new(major: u32, minor: u32, patch: u32) -> ReleaseLabel {
        ReleaseLabel {
            line: ReleaseLine::Emr,
            major,
            minor,
            patch,
            preview: false,
        }
    }

    /// The AWS runtime for Apache Spark label `emr-spark-<major>.<minor>.<patch>`.
    pub const fn spark_runtime(major: u32, minor: u32, patch: u32) -> ReleaseLabel {
        ReleaseLabel {
            line: ReleaseLine::SparkRuntime,
            major,
            minor,
            patch,
            preview: false,
        }
    }

    /// The preview label `emr-spark-<major>.<minor>-preview`.
    pub const fn spark_runtime_preview(major: u32, minor: u32) -> ReleaseLabel {
        ReleaseLabel {
            line: ReleaseLine::SparkRuntime,
            major,
            minor,
            patch: 0,
            preview: true,
        }
    }

    /// Parses `emr-X.Y.Z`, `emr-spark-X.Y.Z` or `emr-spark-X.Y-preview`
    /// (decimal numbers, lower case, nothing else). Returns `None` for any
    /// other form, including `emr-6.6`, `EMR-7.2.0` and the EMR on EKS form
    /// `emr-7.2.0-latest`.
    pub fn parse(text: &str) -> Option<ReleaseLabel> {
        let number = |part: &str| -> Option<u32> {
            if part.is_empty() || part.len() > 4 || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        if let Some(rest) = text.strip_prefix("emr-spark-") {
            if let Some(version) = rest.strip_suffix("-preview") {
                let (major, minor) = version.split_once('.')?;
                return Some(ReleaseLabel::spark_runtime_preview(number(major)?, number(minor)?));
            }
            let [major, minor, patch] = three(rest)?;
            return Some(ReleaseLabel::spark_runtime(
                number(major)?,
                number(minor)?,
                number(patch)?,
            ));
        }
        let [major, minor, patch] = three(text.strip_prefix("emr-")?)?;
        Some(ReleaseLabel::new(number(major)?, number(minor)?, number(patch)?))
    }

    /// Whether EMR Serverless listed this release when emrstack was built.
    pub fn is_known(self) -> bool {
        KNOWN_RELEASES.contains(&self)
    }

    /// Whether `feature` is available on this release. A Spark runtime label
    /// (8.0 and later) counts as newer than every Amazon EMR release.
    pub fn supports(self, feature: Feature) -> bool {
        self >= feature.minimum_release()
    }

    /// Whether applications of `engine` run on this release: the AWS runtime
    /// for Apache Spark has no Hive.
    pub fn runs(self, engine: Engine) -> bool {
        self.line == ReleaseLine::Emr || engine == Engine::Spark
    }

    /// The newest known release of this label's family.
    pub fn newest_of_line(self) -> ReleaseLabel {
        KNOWN_RELEASES
            .iter()
            .rev()
            .find(|known| known.line == self.line)
            .copied()
            .unwrap_or(NEWEST_KNOWN_RELEASE)
    }

    fn sort_key(self) -> (u32, u32, u32, bool, ReleaseLine) {
        (self.major, self.minor, self.patch, !self.preview, self.line)
    }
}

/// Splits `X.Y.Z` into its three parts.
fn three(text: &str) -> Option<[&str; 3]> {
    let mut parts = text.split('.');
    let out = [parts.next()?, parts.next()?, parts.next()?];
    if parts.next().is_some() {
        return None;
    }
    Some(out)
}

impl PartialOrd for ReleaseLabel {
    fn partial_cmp(&self, other: &ReleaseLabel) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ReleaseLabel {
    fn cmp(&self, other: &ReleaseLabel) -> Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

impl fmt::Display for ReleaseLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.preview) {
            (ReleaseLine::Emr, _) => write!(f, "emr-{}.{}.{}", self.major, self.minor, self.patch),
            (ReleaseLine::SparkRuntime, false) => {
                write!(f, "emr-spark-{}.{}.{}", self.major, self.minor, self.patch)
            }
            (ReleaseLine::SparkRuntime, true) => write!(f, "emr-spark-{}.{}-preview", self.major, self.minor),
        }
    }
}

impl FromStr for ReleaseLabel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReleaseLabel::parse(s)
            .ok_or_else(|| format!("`{s}` is not a release label of the form `emr-X.Y.Z` or `emr-spark-X.Y.Z`"))
    }
}

impl Serialize for ReleaseLabel {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ReleaseLabel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Whether `text` is a release label the API model accepts at all
/// (`ReleaseLabel`: 1 to 64 of `[A-Za-z0-9._/-]`). A label outside it is
/// refused by every EMR Serverless call; one inside it but of no documented
/// form may still be a release emrstack does not know.
pub fn is_model_release_label(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-'))
}

/// The oldest release EMR Serverless runs (its general availability release).
pub const MINIMUM_RELEASE: ReleaseLabel = ReleaseLabel::new(6, 6, 0);

/// The releases emrstack knows, oldest first: emr-6.6.0 to emr-6.15.0,
/// emr-7.0.0 to emr-7.14.0, and the AWS runtime for Apache Spark
/// (emr-spark-8.0-preview, emr-spark-8.0.0, emr-spark-8.1.0). A newer,
/// well-formed label is accepted with a warning, because AWS ships releases
/// more often than emrstack. docs/config-reference.md ("The release table")
/// says how to refresh the list.
pub const KNOWN_RELEASES: [ReleaseLabel; 28] = [
    ReleaseLabel::new(6, 6, 0),
    ReleaseLabel::new(6, 7, 0),
    ReleaseLabel::new(6, 8, 0),
    ReleaseLabel::new(6, 9, 0),
    ReleaseLabel::new(6, 10, 0),
    ReleaseLabel::new(6, 11, 0),
    ReleaseLabel::new(6, 12, 0),
    ReleaseLabel::new(6, 13, 0),
    ReleaseLabel::new(6, 14, 0),
    ReleaseLabel::new(6, 15, 0),
    ReleaseLabel::new(7, 0, 0),
    ReleaseLabel::new(7, 1, 0),
    ReleaseLabel::new(7, 2, 0),
    ReleaseLabel::new(7, 3, 0),
    ReleaseLabel::new(7, 4, 0),
    ReleaseLabel::new(7, 5, 0),
    ReleaseLabel::new(7, 6, 0),
    ReleaseLabel::new(7, 7, 0),
    ReleaseLabel::new(7, 8, 0),
    ReleaseLabel::new(7, 9, 0),
    ReleaseLabel::new(7, 10, 0),
    ReleaseLabel::new(7, 11, 0),
    ReleaseLabel::new(7, 12, 0),
    ReleaseLabel::new(7, 13, 0),
    ReleaseLabel::new(7, 14, 0),
    ReleaseLabel::spark_runtime_preview(8, 0),
    ReleaseLabel::spark_runtime(8, 0, 0),
    ReleaseLabel::spark_runtime(8, 1, 0),
];

/// The newest release in [`KNOWN_RELEASES`].
pub const NEWEST_KNOWN_RELEASE: ReleaseLabel = KNOWN_RELEASES[KNOWN_RELEASES.len() - 1];

/// The newest `emr-X.Y.Z` release in [`KNOWN_RELEASES`], for examples in messages.
pub const NEWEST_KNOWN_EMR_RELEASE: ReleaseLabel = ReleaseLabel::new(7, 14, 0);

/// A capability of EMR Serverless that exists only from some release on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Feature {
    /// `imageConfiguration` (`image`, `image_uri`): emr-6.9.0.
    CustomImages,
    /// `workerTypeSpecifications` (per-worker images): emr-6.9.0.
    WorkerTypeImages,
    /// `architecture = "ARM64"` (Graviton): emr-6.9.0 per the release notes.
    /// The guide's own example uses emr-6.8.0 and terraform-provider-aws
    /// creates ARM64 applications on emr-6.6.0, so the gate is a warning.
    Arm64,
    /// `interactiveConfiguration.studioEnabled`: emr-6.14.0.
    InteractiveStudio,
    /// `interactiveConfiguration.livyEndpointEnabled`: emr-6.14.0.
    InteractiveLivy,
    /// `interactiveConfiguration.sessionEnabled`: emr-7.13.0.
    InteractiveSessions,
    /// `schedulerConfiguration` (job concurrency and queueing): emr-7.0.0.
    Scheduler,
    /// `diskType = SHUFFLE_OPTIMIZED` and the `*.disk.type` properties: emr-7.1.0.
    ShuffleOptimizedDisks,
    /// `prometheusMonitoringConfiguration`: emr-7.1.0.
    Prometheus,
    /// `identityCenterConfiguration`: emr-7.8.0.
    IdentityCenter,
    /// The `spark-driver-log4j2` and `spark-executor-log4j2` classifications: emr-6.8.0.
    Log4j2Classifications,
    /// The Tez property `tez.am.vertex.cleanup.height`: emr-6.8.0.
    TezVertexCleanupHeight,
    /// `spark.emr-serverless.lakeformation.enabled` (Lake Formation FGAC): emr-7.2.0.
    LakeFormation,
    /// `spark.ssl.internode.enabled` (inter-worker mutual TLS): emr-6.15.0.
    InterWorkerTls,
    /// A Java 17 `JAVA_HOME` in the Spark environment properties: emr-6.11.0.
    Java17,
    /// `spark.hadoop.fs.s3.s3AccessGrants.enabled` (S3 Access Grants): emr-6.15.0.
    S3AccessGrants,
}

impl Feature {
    /// Every feature, in declaration order.
    pub const ALL: [Feature; 16] = [
        Feature::CustomImages,
        Feature::WorkerTypeImages,
        Feature::Arm64,
        Feature::InteractiveStudio,
        Feature::InteractiveLivy,
        Feature::InteractiveSessions,
        Feature::Scheduler,
        Feature::ShuffleOptimizedDisks,
        Feature::Prometheus,
        Feature::IdentityCenter,
        Feature::Log4j2Classifications,
        Feature::TezVertexCleanupHeight,
        Feature::LakeFormation,
        Feature::InterWorkerTls,
        Feature::Java17,
        Feature::S3AccessGrants,
    ];

    /// The oldest release that has the feature.
    pub fn minimum_release(self) -> ReleaseLabel {
        match self {
            Feature::CustomImages | Feature::WorkerTypeImages | Feature::Arm64 => ReleaseLabel::new(6, 9, 0),
            Feature::InteractiveStudio | Feature::InteractiveLivy => ReleaseLabel::new(6, 14, 0),
            Feature::InteractiveSessions => ReleaseLabel::new(7, 13, 0),
            Feature::Scheduler => ReleaseLabel::new(7, 0, 0),
            Feature::ShuffleOptimizedDisks | Feature::Prometheus => ReleaseLabel::new(7, 1, 0),
            Feature::IdentityCenter => ReleaseLabel::new(7, 8, 0),
            Feature::Log4j2Classifications | Feature::TezVertexCleanupHeight => ReleaseLabel::new(6, 8, 0),
            Feature::LakeFormation => ReleaseLabel::new(7, 2, 0),
            Feature::InterWorkerTls | Feature::S3AccessGrants => ReleaseLabel::new(6, 15, 0),
            Feature::Java17 => ReleaseLabel::new(6, 11, 0),
        }
    }

    /// A short noun phrase for messages ("custom images").
    pub fn description(self) -> &'static str {
        match self {
            Feature::CustomImages => "custom images",
            Feature::WorkerTypeImages => "per-worker images",
            Feature::Arm64 => "the ARM64 architecture",
            Feature::InteractiveStudio => "EMR Studio interactive workloads",
            Feature::InteractiveLivy => "the Apache Livy endpoint",
            Feature::InteractiveSessions => "interactive sessions",
            Feature::Scheduler => "the job scheduler",
            Feature::ShuffleOptimizedDisks => "shuffle-optimized disks",
            Feature::Prometheus => "Prometheus monitoring",
            Feature::IdentityCenter => "IAM Identity Center integration",
            Feature::Log4j2Classifications => "the log4j2 classifications",
            Feature::TezVertexCleanupHeight => "`tez.am.vertex.cleanup.height`",
            Feature::LakeFormation => "Lake Formation fine-grained access control",
            Feature::InterWorkerTls => "inter-worker mutual TLS",
            Feature::Java17 => "Java 17",
            Feature::S3AccessGrants => "S3 Access Grants",
        }
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_only_three_numbers() {
        let check = |text: &str, expect: Option<(u32, u32, u32)>| {
            let got = ReleaseLabel::parse(text).map(|l| (l.major, l.minor, l.patch));
            assert_eq!(got, expect, "{text}");
        };
        check("emr-7.2.0", Some((7, 2, 0)));
        check("emr-spark-8.0.0", Some((8, 0, 0)));
        check("emr-spark-8.0-preview", Some((8, 0, 0)));
        check("emr-spark-8.0", None);
        check("emr-spark-8.0.0-20260421", None);
        check("emr-6.10.0", Some((6, 10, 0)));
        check("emr-6.6", None);
        check("emr-7.2.0-latest", None);
        check("EMR-7.2.0", None);
        check("emr-7.x.0", None);
        check("emr-.2.0", None);
        check("7.2.0", None);
    }

    #[test]
    fn labels_order_numerically_and_print_back() {
        let a = ReleaseLabel::parse("emr-6.9.0").unwrap();
        let b = ReleaseLabel::parse("emr-6.10.0").unwrap();
        assert!(a < b);
        assert_eq!(b.to_string(), "emr-6.10.0");
        assert!(KNOWN_RELEASES.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(KNOWN_RELEASES[0], MINIMUM_RELEASE);
        assert_eq!(NEWEST_KNOWN_RELEASE, ReleaseLabel::spark_runtime(8, 1, 0));
        assert!(KNOWN_RELEASES.contains(&NEWEST_KNOWN_EMR_RELEASE));
        assert_eq!(
            NEWEST_KNOWN_EMR_RELEASE,
            ReleaseLabel::parse("emr-7.14.0").unwrap().newest_of_line()
        );
    }

    #[test]
    fn labels_print_back_as_written() {
        for label in KNOWN_RELEASES {
            assert_eq!(ReleaseLabel::parse(&label.to_string()), Some(label), "{label}");
        }
        let preview = ReleaseLabel::parse("emr-spark-8.0-preview").unwrap();
        let ga = ReleaseLabel::parse("emr-spark-8.0.0").unwrap();
        assert!(preview < ga);
        assert!(ReleaseLabel::parse("emr-7.14.0").unwrap() < preview);
        assert_eq!(preview.to_string(), "emr-spark-8.0-preview");
    }

    #[test]
    fn the_spark_runtime_runs_only_spark() {
        let spark4 = ReleaseLabel::parse("emr-spark-8.0.0").unwrap();
        assert!(spark4.runs(Engine::Spark));
        assert!(!spark4.runs(Engine::Hive));
        assert!(ReleaseLabel::parse("emr-7.13.0").unwrap().runs(Engine::Hive));
        assert!(spark4.supports(Feature::InteractiveSessions));
    }

    #[test]
    fn model_release_label_pattern() {
        assert!(is_model_release_label("emr-7.2.0-latest"));
        assert!(is_model_release_label("emr-6.6"));
        assert!(!is_model_release_label("emr 7.2.0"));
        assert!(!is_model_release_label(""));
        assert!(!is_model_release_label(&"a".repeat(65)));
    }

    #[test]
    fn feature_gates_match_the_release_notes() {
        let label = |text: &str| ReleaseLabel::parse(text).unwrap();
        assert!(!label("emr-6.8.0").supports(Feature::CustomImages));
        assert!(label("emr-6.9.0").supports(Feature::CustomImages));
        assert!(!label("emr-7.0.0").supports(Feature::ShuffleOptimizedDisks));
        assert!(label("emr-7.1.0").supports(Feature::Prometheus));
        assert!(!label("emr-7.12.0").supports(Feature::InteractiveSessions));
        assert!(label("emr-7.13.0").supports(Feature::InteractiveSessions));
        assert!(!label("emr-6.13.0").supports(Feature::InteractiveLivy));
        assert!(!label("emr-7.1.0").supports(Feature::LakeFormation));
        assert!(!label("emr-6.10.0").supports(Feature::Java17));
        assert!(!label("emr-6.7.0").supports(Feature::Log4j2Classifications));
        assert!(label("emr-7.8.0").supports(Feature::IdentityCenter));
    }
}
