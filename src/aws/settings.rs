//! How `AwsCloud` connects: region, profile, endpoint, retries, timeouts,
//! client-side rate limits and the per-call hook, with their defaults and the
//! `EMRSTACK_AWS_*` environment variables that override them.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::cloud::CloudError;

/// The AWS services emrstack calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    /// Amazon EMR Serverless (`emr-serverless`).
    EmrServerless,
    /// AWS Identity and Access Management (`iam`).
    Iam,
    /// Amazon Elastic Container Registry (`ecr`).
    Ecr,
    /// Amazon EC2 (`ec2`), read only.
    Ec2,
    /// AWS Security Token Service (`sts`).
    Sts,
    /// Amazon S3 (`s3`): the stack lock's object.
    S3,
    /// The Resource Groups Tagging API (`tagging`), read only.
    Tagging,
}

impl Service {
    /// The service's signing name (`emr-serverless`, `iam`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Service::EmrServerless => "emr-serverless",
            Service::Iam => "iam",
            Service::Ecr => "ecr",
            Service::Ec2 => "ec2",
            Service::Sts => "sts",
            Service::S3 => "s3",
            Service::Tagging => "tagging",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The SDK's standard retry mode: exponential backoff with full jitter, for
/// throttling, 5xx responses, timeouts and dropped connections.
#[derive(Clone, Debug, PartialEq)]
pub struct RetrySettings {
    /// Attempts per call including the first, at least 1 (1 disables retries). Default 5.
    pub max_attempts: u32,
    /// Upper bound of the first backoff; later backoffs double. Default 1 s.
    pub initial_backoff: Duration,
    /// Cap on any single backoff. Default 20 s.
    pub max_backoff: Duration,
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings {
            max_attempts: 5,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(20),
        }
    }
}

/// Timeouts applied to every call of every client.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeoutSettings {
    /// Establishing a TCP (and TLS) connection. Default 5 s.
    pub connect: Duration,
    /// One HTTP attempt, from sending the request to reading the whole response. Default 60 s.
    pub attempt: Duration,
    /// One SDK operation including every retry and backoff (one page of a
    /// paginated listing). Default 180 s.
    pub operation: Duration,
}

impl Default for TimeoutSettings {
    fn default() -> Self {
        TimeoutSettings {
            connect: Duration::from_secs(5),
            attempt: Duration::from_secs(60),
            operation: Duration::from_secs(180),
        }
    }
}

/// A token bucket's parameters: `burst` calls at once, refilled at `per_second`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    /// Steady rate in calls per second, greater than 0.
    pub per_second: f64,
    /// Bucket capacity: how many calls may go out back to back, at least 1.
    pub burst: u32,
}

impl Rate {
    /// A rate of `per_second` calls per second with a bucket of `burst`.
    pub const fn new(per_second: f64, burst: u32) -> Rate {
        Rate { per_second, burst }
    }
}

/// Client-side rate limits: one token bucket per (service, operation), taken
/// before every call (every page of a listing counts).
///
/// The defaults are the documented EMR Serverless limits (docs/api-semantics.md)
/// and conservative figures for IAM, ECR, EC2 and STS, whose limits are not
/// published per operation. AWS counts the limits per account and region, so
/// other clients in the same account share them; the SDK's retries absorb
/// the rest.
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimits {
    /// `false` turns client-side limiting off entirely. Default `true`.
    pub enabled: bool,
    /// Multiplies every rate and burst (bursts round up to at least 1). Default 1.0.
    pub scale: f64,
    /// Exact rates for chosen operations, keyed by service and API operation
    /// name (`StartApplication`); not scaled.
    pub overrides: BTreeMap<(Service, String), Rate>,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            enabled: true,
            scale: 1.0,
            overrides: BTreeMap::new(),
        }
    }
}

impl RateLimits {
    /// No client-side limiting.
    pub fn disabled() -> RateLimits {
        RateLimits {
            enabled: false,
            ..RateLimits::default()
        }
    }

    /// The rate for one operation, or `None` when limiting is off.
    pub fn rate_for(&self, service: Service, operation: &str) -> Option<Rate> {
        if !self.enabled {
            return None;
        }
        if let Some(rate) = self.overrides.get(&(service, operation.to_string())) {
            return Some(*rate);
        }
        let base = default_rate(service, operation);
        let scale = if self.scale.is_finite() && self.scale > 0.0 {
            self.scale
        } else {
            1.0
        };
        Some(Rate {
            per_second: base.per_second * scale,
            burst: ((f64::from(base.burst) * scale).ceil() as u32).max(1),
        })
    }
}

/// Whether an operation only reads, judged by its name.
fn is_read(operation: &str) -> bool {
    ["Get", "List", "Describe", "BatchGet"]
        .iter()
        .any(|prefix| operation.starts_with(prefix))
}

/// The default token bucket of an operation.
pub fn default_rate(service: Service, operation: &str) -> Rate {
    match service {
        // docs/api-semantics.md, "Rate limits (per account and region)",
        // from the user guide's API limits. ListJobRuns sits with
        // the mutations there; the tagging APIs are undocumented and assumed
        // to match the reads; ListSessions and TerminateSession, also
        // undocumented, get the conservative bucket of ListJobRuns.
        Service::EmrServerless => match operation {
            "ListApplications" | "GetApplication" | "GetJobRun" => Rate::new(10.0, 50),
            "TagResource" | "UntagResource" | "ListTagsForResource" => Rate::new(10.0, 50),
            _ => Rate::new(1.0, 25),
        },
        // IAM publishes no per-operation limits; its control plane is global
        // and throttles well before EC2 does.
        Service::Iam if is_read(operation) => Rate::new(10.0, 20),
        Service::Iam => Rate::new(5.0, 10),
        Service::Ecr if is_read(operation) => Rate::new(10.0, 20),
        Service::Ecr => Rate::new(5.0, 10),
        // EC2's documented non-mutating bucket: 100 burst, 20 per second.
        Service::Ec2 => Rate::new(20.0, 100),
        Service::Sts => Rate::new(20.0, 50),
        // S3 supports 3,500 writes and 5,500 reads per second per prefix
        // (S3 user guide, "Best practices design patterns: optimizing Amazon
        // S3 performance"); the lock makes a few calls a minute.
        Service::S3 if is_read(operation) || operation == "HeadObject" => Rate::new(50.0, 100),
        Service::S3 => Rate::new(20.0, 50),
        // GetResources: "Maximum of 15 calls per second", not adjustable
        // (Tag Editor quotas); the burst is not documented.
        Service::Tagging => Rate::new(15.0, 15),
    }
}

/// Credentials given directly instead of through the standard chain; meant
/// for tests and emulators.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticCredentials {
    /// The access key ID; the emulator takes a 12-digit one as the account.
    pub access_key_id: String,
    /// The secret access key; never printed.
    pub secret_access_key: String,
    /// A session token, for temporary credentials.
    pub session_token: Option<String>,
}

impl fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// One finished AWS call, as reported to [`AwsSettings::on_call`].
#[derive(Clone, Copy, Debug)]
pub struct CallEvent<'a> {
    /// The service called.
    pub service: Service,
    /// The API operation (`GetApplication`).
    pub operation: &'a str,
    /// Time spent waiting for the client-side rate limiter.
    pub rate_limit_wait: Duration,
    /// Time from sending to the final outcome, including the SDK's retries.
    pub elapsed: Duration,
    /// The classified error, when the call failed.
    pub error: Option<&'a CloudError>,
}

/// A callback run after every AWS call (for `-vv` logging).
pub type CallHook = Arc<dyn Fn(&CallEvent<'_>) + Send + Sync>;

/// Everything `AwsCloud::connect` needs.
#[derive(Clone, Default)]
pub struct AwsSettings {
    /// The region; `None` uses the standard chain (`AWS_REGION`, the profile).
    pub region: Option<String>,
    /// A named profile from `~/.aws/config`; `None` uses `AWS_PROFILE` or `default`.
    pub profile: Option<String>,
    /// An endpoint for every service (an emulator); `None` uses the standard
    /// resolution, which also honours `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
    /// Credentials to use instead of the standard chain (tests, emulators).
    pub credentials: Option<StaticCredentials>,
    /// The SDK's retry policy.
    pub retry: RetrySettings,
    /// Connect, attempt and operation timeouts.
    pub timeouts: TimeoutSettings,
    /// Client-side token buckets.
    pub rate_limits: RateLimits,
    /// Called after every AWS call; the CLI logs with it at `-vv`.
    pub on_call: Option<CallHook>,
}

impl fmt::Debug for AwsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsSettings")
            .field("region", &self.region)
            .field("profile", &self.profile)
            .field("endpoint_url", &self.endpoint_url)
            .field("credentials", &self.credentials)
            .field("retry", &self.retry)
            .field("timeouts", &self.timeouts)
            .field("rate_limits", &self.rate_limits)
            .field("on_call", &self.on_call.as_ref().map(|_| "<hook>"))
            .finish()
    }
}

/// Environment variable: attempts per call (at least 1).
pub const ENV_MAX_ATTEMPTS: &str = "EMRSTACK_AWS_MAX_ATTEMPTS";
/// Environment variable: first backoff in milliseconds.
pub const ENV_INITIAL_BACKOFF_MS: &str = "EMRSTACK_AWS_INITIAL_BACKOFF_MS";
/// Environment variable: backoff cap in milliseconds.
pub const ENV_MAX_BACKOFF_MS: &str = "EMRSTACK_AWS_MAX_BACKOFF_MS";
/// Environment variable: per-attempt timeout in milliseconds.
pub const ENV_ATTEMPT_TIMEOUT_MS: &str = "EMRSTACK_AWS_ATTEMPT_TIMEOUT_MS";
/// Environment variable: connect timeout in milliseconds.
pub const ENV_CONNECT_TIMEOUT_MS: &str = "EMRSTACK_AWS_CONNECT_TIMEOUT_MS";
/// Environment variable: per-operation timeout in milliseconds.
pub const ENV_OPERATION_TIMEOUT_MS: &str = "EMRSTACK_AWS_OPERATION_TIMEOUT_MS";
/// Environment variable: `off` disables client-side rate limits, `on` keeps
/// the defaults, a positive number scales them.
pub const ENV_RATE_LIMITS: &str = "EMRSTACK_AWS_RATE_LIMITS";

impl AwsSettings {
    /// The defaults, overridden by these environment variables:
    ///
    /// | Variable | Meaning | Default |
    /// |---|---|---|
    /// | `EMRSTACK_AWS_MAX_ATTEMPTS` | attempts per call, at least 1 | 5 |
    /// | `EMRSTACK_AWS_INITIAL_BACKOFF_MS` | first backoff (ms) | 1000 |
    /// | `EMRSTACK_AWS_MAX_BACKOFF_MS` | backoff cap (ms) | 20000 |
    /// | `EMRSTACK_AWS_ATTEMPT_TIMEOUT_MS` | one HTTP attempt (ms) | 60000 |
    /// | `EMRSTACK_AWS_CONNECT_TIMEOUT_MS` | connecting (ms) | 5000 |
    /// | `EMRSTACK_AWS_OPERATION_TIMEOUT_MS` | one call with its retries (ms) | 180000 |
    /// | `EMRSTACK_AWS_RATE_LIMITS` | `off`, `on`, or a scale factor such as `0.5` | `on` |
    ///
    /// Region, profile and endpoint come from the standard AWS variables
    /// (`AWS_REGION`, `AWS_PROFILE`, `AWS_ENDPOINT_URL`) through the SDK.
    /// Invalid values are ignored; [`AwsSettings::from_env_reporting`] says which.
    pub fn from_env() -> Self {
        AwsSettings::from_env_reporting().0
    }

    /// Like [`AwsSettings::from_env`], also returning one message per invalid
    /// variable (for the CLI to warn about).
    pub fn from_env_reporting() -> (Self, Vec<String>) {
        AwsSettings::from_vars(|name| std::env::var(name).ok())
    }

    /// The defaults overridden by the variables `lookup` returns; invalid
    /// values are skipped and described in the returned messages.
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> (Self, Vec<String>) {
        let mut settings = AwsSettings::default();
        let mut problems = Vec::new();
        let mut millis = |name: &str, target: &mut Duration, allow_zero: bool| {
            if let Some(text) = lookup(name) {
                match text.trim().parse::<u64>() {
                    Ok(value) if value > 0 || allow_zero => *target = Duration::from_millis(value),
                    _ => problems.push(format!(
                        "`{name}` must be a {} number of milliseconds, not `{text}`",
                        if allow_zero { "non-negative" } else { "positive" }
                    )),
                }
            }
        };
        millis(ENV_INITIAL_BACKOFF_MS, &mut settings.retry.initial_backoff, true);
        millis(ENV_MAX_BACKOFF_MS, &mut settings.retry.max_backoff, true);
        millis(ENV_ATTEMPT_TIMEOUT_MS, &mut settings.timeouts.attempt, false);
        millis(ENV_CONNECT_TIMEOUT_MS, &mut settings.timeouts.connect, false);
        millis(ENV_OPERATION_TIMEOUT_MS, &mut settings.timeouts.operation, false);
        if let Some(text) = lookup(ENV_MAX_ATTEMPTS) {
            match text.trim().parse::<u32>() {
                Ok(value) if value >= 1 => settings.retry.max_attempts = value,
                _ => problems.push(format!(
                    "`{ENV_MAX_ATTEMPTS}` must be a whole number of at least 1, not `{text}`"
                )),
            }
        }
        if let Some(text) = lookup(ENV_RATE_LIMITS) {
            let trimmed = text.trim();
            if trimmed.eq_ignore_ascii_case("off") || trimmed == "0" || trimmed.eq_ignore_ascii_case("false") {
                settings.rate_limits.enabled = false;
            } else if trimmed.eq_ignore_ascii_case("on") || trimmed.eq_ignore_ascii_case("true") {
                settings.rate_limits.enabled = true;
            } else {
                match trimmed.parse::<f64>() {
                    Ok(scale) if scale.is_finite() && scale > 0.0 => settings.rate_limits.scale = scale,
                    _ => problems.push(format!(
                        "`{ENV_RATE_LIMITS}` must be `off`, `on` or a positive scale factor, not `{text}`"
                    )),
                }
            }
        }
        (settings, problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(vars: &[(&str, &str)]) -> (AwsSettings, Vec<String>) {
        let vars: BTreeMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        AwsSettings::from_vars(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_without_variables() {
        let (settings, problems) = from(&[]);
        assert!(problems.is_empty());
        assert_eq!(settings.retry, RetrySettings::default());
        assert_eq!(settings.retry.max_attempts, 5);
        assert_eq!(settings.timeouts, TimeoutSettings::default());
        assert!(settings.rate_limits.enabled);
    }

    #[test]
    fn variables_override_defaults() {
        let (settings, problems) = from(&[
            (ENV_MAX_ATTEMPTS, "3"),
            (ENV_INITIAL_BACKOFF_MS, "10"),
            (ENV_MAX_BACKOFF_MS, "50"),
            (ENV_ATTEMPT_TIMEOUT_MS, "1500"),
            (ENV_RATE_LIMITS, "off"),
        ]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(settings.retry.max_attempts, 3);
        assert_eq!(settings.retry.initial_backoff, Duration::from_millis(10));
        assert_eq!(settings.retry.max_backoff, Duration::from_millis(50));
        assert_eq!(settings.timeouts.attempt, Duration::from_millis(1500));
        assert!(!settings.rate_limits.enabled);
        assert_eq!(settings.rate_limits.rate_for(Service::Iam, "GetRole"), None);
    }

    #[test]
    fn invalid_variables_are_reported_and_ignored() {
        let (settings, problems) = from(&[
            (ENV_MAX_ATTEMPTS, "0"),
            (ENV_ATTEMPT_TIMEOUT_MS, "soon"),
            (ENV_RATE_LIMITS, "-2"),
        ]);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert_eq!(settings.retry.max_attempts, 5);
        assert_eq!(settings.timeouts.attempt, TimeoutSettings::default().attempt);
        assert_eq!(settings.rate_limits, RateLimits::default());
    }

    #[test]
    fn rate_limits_follow_the_documented_emr_serverless_numbers() {
        let limits = RateLimits::default();
        let check = |service, operation: &str, expect: Rate| {
            assert_eq!(
                limits.rate_for(service, operation),
                Some(expect),
                "{service} {operation}"
            );
        };
        check(Service::EmrServerless, "GetApplication", Rate::new(10.0, 50));
        check(Service::EmrServerless, "ListApplications", Rate::new(10.0, 50));
        check(Service::EmrServerless, "CreateApplication", Rate::new(1.0, 25));
        check(Service::EmrServerless, "UpdateApplication", Rate::new(1.0, 25));
        check(Service::EmrServerless, "ListJobRuns", Rate::new(1.0, 25));
        check(Service::EmrServerless, "TagResource", Rate::new(10.0, 50));
        check(Service::Iam, "GetRolePolicy", Rate::new(10.0, 20));
        check(Service::Iam, "PutRolePolicy", Rate::new(5.0, 10));
        check(Service::Ec2, "DescribeSubnets", Rate::new(20.0, 100));
    }

    #[test]
    fn rate_limits_scale_and_override() {
        let mut limits = RateLimits {
            scale: 0.5,
            ..RateLimits::default()
        };
        assert_eq!(
            limits.rate_for(Service::EmrServerless, "StartApplication"),
            Some(Rate::new(0.5, 13))
        );
        limits.overrides.insert(
            (Service::EmrServerless, "StartApplication".to_string()),
            Rate::new(20.0, 2),
        );
        assert_eq!(
            limits.rate_for(Service::EmrServerless, "StartApplication"),
            Some(Rate::new(20.0, 2))
        );
        let (settings, _) = from(&[(ENV_RATE_LIMITS, "2")]);
        assert_eq!(settings.rate_limits.scale, 2.0);
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let settings = AwsSettings {
            credentials: Some(StaticCredentials {
                access_key_id: "111122223333".to_string(),
                secret_access_key: "hunter2".to_string(),
                session_token: None,
            }),
            ..AwsSettings::default()
        };
        let text = format!("{settings:?}");
        assert!(text.contains("111122223333"));
        assert!(!text.contains("hunter2"));
    }
}
