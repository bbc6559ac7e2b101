//! The lock object's body: who holds the stack lock, since when, for which
//! command, and until when its lease runs; plus the wall-clock formatting
//! (RFC 3339, UTC) it is written in.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The version of the body's format; a reader refuses nothing, but a newer
/// version may mean fields it does not know.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// The most characters kept of any one field taken from the environment
/// (user, host, CI URL), so a lock body stays small.
const MAX_FIELD_CHARS: usize = 512;

/// Who takes the lock: what the body says about the process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Who {
    /// The user name (`USER`, `USERNAME` or `LOGNAME`), or `unknown`.
    pub user: String,
    /// The host name, or `unknown`.
    pub host: String,
    /// The process ID.
    pub pid: u32,
    /// The CI run's URL when the environment names one.
    pub ci_run_url: Option<String>,
}

impl Who {
    /// This process, from the environment and the host name the system reports.
    pub(crate) fn current() -> Who {
        let host = ["/proc/sys/kernel/hostname", "/etc/hostname"].iter().find_map(|path| {
            std::fs::read_to_string(path)
                .ok()
                .map(|text| text.trim().to_string())
                .filter(|text| !text.is_empty())
        });
        Who::from_lookup(|name| std::env::var(name).ok(), host, std::process::id())
    }

    /// The fields from `lookup` (environment variables) and the system's host
    /// name, for tests and for [`Who::current`].
    pub(crate) fn from_lookup(lookup: impl Fn(&str) -> Option<String>, host: Option<String>, pid: u32) -> Who {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let user = ["USER", "USERNAME", "LOGNAME"]
            .iter()
            .find_map(|name| get(name))
            .unwrap_or_else(|| "unknown".to_string());
        let host = host
            .or_else(|| get("HOSTNAME"))
            .or_else(|| get("COMPUTERNAME"))
            .unwrap_or_else(|| "unknown".to_string());
        Who {
            user: clip(&user),
            host: clip(&host),
            pid,
            ci_run_url: ci_run_url(&get).map(|url| clip(&url)),
        }
    }
}

/// The CI run's URL: GitHub Actions (`GITHUB_SERVER_URL`,
/// `GITHUB_REPOSITORY`, `GITHUB_RUN_ID`), GitLab CI (`CI_JOB_URL`) or
/// Jenkins (`BUILD_URL`), in that order.
fn ci_run_url(get: &impl Fn(&str) -> Option<String>) -> Option<String> {
    if let (Some(server), Some(repository), Some(run)) =
        (get("GITHUB_SERVER_URL"), get("GITHUB_REPOSITORY"), get("GITHUB_RUN_ID"))
    {
        return Some(format!(
            "{}/{repository}/actions/runs/{run}",
            server.trim_end_matches('/')
        ));
    }
    get("CI_JOB_URL").or_else(|| get("BUILD_URL"))
}

fn clip(text: &str) -> String {
    text.chars().take(MAX_FIELD_CHARS).collect()
}

/// The lock object's body (JSON). Every field but the optional ones is
/// always written; readers keep what they do not know out of their way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LockRecord {
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The lock ID: 32 hexadecimal digits, new for every acquisition;
    /// `emrstack unlock` takes it.
    pub id: String,
    /// The stack name.
    pub stack: String,
    /// The command holding the lock (`apply`, `apply plan.emrplan`, `destroy`, `import application.etl 00f...`).
    pub command: String,
    /// The holder's user name ([`Who::user`]).
    pub user: String,
    /// The holder's host name.
    pub host: String,
    /// The holder's process ID.
    pub pid: u32,
    /// The emrstack version of the holder.
    pub emrstack_version: String,
    /// When the lock was taken (RFC 3339, UTC, the holder's clock).
    pub acquired_at: String,
    /// When the lease was last renewed (the holder's clock).
    pub renewed_at: String,
    /// How many times the lease was renewed; every write differs, so every
    /// renewal changes the object's ETag.
    pub renewals: u64,
    /// The lease in milliseconds: without a renewal for this long the lock
    /// may be taken over.
    pub lease_ms: u64,
    /// `renewed_at` plus the lease (the holder's clock; informational, see
    /// `lock::Holder::expired` for how expiry is decided).
    pub expires_at: String,
    /// The CI run's URL, when the holder ran in CI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_run_url: Option<String>,
    /// The ID of the expired lock this one took over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub took_over_from: Option<String>,
}

impl LockRecord {
    /// A new record for `who` running `command` on `stack`, taken `now`.
    pub(crate) fn new(stack: &str, command: &str, who: &Who, lease: Duration, now: SystemTime) -> LockRecord {
        let stamp = format_time(now);
        LockRecord {
            format_version: FORMAT_VERSION,
            id: new_id(who, now),
            stack: stack.to_string(),
            command: clip(command),
            user: who.user.clone(),
            host: who.host.clone(),
            pid: who.pid,
            emrstack_version: env!("CARGO_PKG_VERSION").to_string(),
            acquired_at: stamp.clone(),
            renewed_at: stamp,
            renewals: 0,
            lease_ms: lease.as_millis().min(u128::from(u64::MAX)) as u64,
            expires_at: format_time(now + lease),
            ci_run_url: who.ci_run_url.clone(),
            took_over_from: None,
        }
    }

    /// The record of the next renewal, written `now`.
    pub(crate) fn renewed(&self, now: SystemTime) -> LockRecord {
        LockRecord {
            renewed_at: format_time(now),
            renewals: self.renewals + 1,
            expires_at: format_time(now + self.lease()),
            ..self.clone()
        }
    }

    /// The record written again `now`, as at a (re)acquisition.
    pub(crate) fn restamped(&self, now: SystemTime) -> LockRecord {
        LockRecord {
            acquired_at: format_time(now),
            renewed_at: format_time(now),
            expires_at: format_time(now + self.lease()),
            ..self.clone()
        }
    }

    /// The lease.
    pub(crate) fn lease(&self) -> Duration {
        Duration::from_millis(self.lease_ms)
    }

    /// The JSON body.
    pub(crate) fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("invariant: a lock record serializes")
    }

    /// Reads a body; `None` when it is not a lock record.
    pub(crate) fn from_json(body: &[u8]) -> Option<LockRecord> {
        serde_json::from_slice(body).ok()
    }

    /// `user@host (pid N)`.
    pub(crate) fn holder(&self) -> String {
        format!("{}@{} (pid {})", self.user, self.host, self.pid)
    }
}

/// 32 hexadecimal digits from the time, the process, the host and the
/// per-process random keys of the standard library's hasher.
fn new_id(who: &Who, now: SystemTime) -> String {
    let mut random = RandomState::new().build_hasher();
    random.write_u32(who.pid);
    let nanos = now.duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let mut hasher = Sha256::new();
    hasher.update(nanos.to_le_bytes());
    hasher.update(who.pid.to_le_bytes());
    hasher.update(who.host.as_bytes());
    hasher.update(random.finish().to_le_bytes());
    hasher.update(RandomState::new().build_hasher().finish().to_le_bytes());
    hasher.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// `2026-12-01T10:02:03.456Z`: RFC 3339 in UTC with milliseconds.
pub(crate) fn format_time(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let seconds = since.as_secs();
    let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
    let rest = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// Reads what [`format_time`] writes (fractional seconds optional).
pub(crate) fn parse_time(text: &str) -> Option<SystemTime> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut date_parts = date.splitn(3, '-');
    let year: i64 = date_parts.next()?.parse().ok()?;
    let month: u32 = date_parts.next()?.parse().ok()?;
    let day: u32 = date_parts.next()?.parse().ok()?;
    let (clock, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut clock_parts = clock.splitn(3, ':');
    let hour: u64 = clock_parts.next()?.parse().ok()?;
    let minute: u64 = clock_parts.next()?.parse().ok()?;
    let second: u64 = clock_parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let millis: u64 = if fraction.is_empty() {
        0
    } else {
        let digits: String = fraction.chars().take(3).collect();
        let value: u64 = digits.parse().ok()?;
        value * 10u64.pow(3 - digits.len() as u32)
    };
    let days = u64::try_from(days_from_civil(year, month, day)).ok()?;
    Some(UNIX_EPOCH + Duration::from_millis(((days * 86_400 + hour * 3600 + minute * 60 + second) * 1000) + millis))
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to a date.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The inverse of [`civil_from_days`].
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A duration for people: `45s`, `3m 05s`, `2h 10m`.
pub(crate) fn human_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds < 60 {
        format!("{seconds}s")
    } else if seconds < 3600 {
        format!("{}m {:02}s", seconds / 60, seconds % 60)
    } else {
        format!("{}h {:02}m", seconds / 3600, seconds % 3600 / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_in_rfc_3339() {
        for (seconds, millis, text) in [
            (0, 0, "1970-01-01T00:00:00.000Z"),
            (951_782_400, 5, "2000-02-29T00:00:00.005Z"),
            (1_800_000_000, 999, "2027-01-15T08:00:00.999Z"),
            (4_102_444_799, 0, "2099-12-31T23:59:59.000Z"),
        ] {
            let time = UNIX_EPOCH + Duration::from_secs(seconds) + Duration::from_millis(millis);
            assert_eq!(format_time(time), text);
            assert_eq!(parse_time(text), Some(time), "{text}");
        }
        assert_eq!(
            parse_time("2027-01-15T08:00:00Z"),
            Some(UNIX_EPOCH + Duration::from_secs(1_800_000_000))
        );
        for bad in [
            "",
            "2027-01-15",
            "2027-13-01T00:00:00Z",
            "2027-01-15T08:00:00",
            "x-y-zTa:b:cZ",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn who_reads_the_user_the_host_and_the_ci_run() {
        let github = Who::from_lookup(
            lookup(&[
                ("USER", "alice"),
                ("GITHUB_SERVER_URL", "https://github.com/"),
                ("GITHUB_REPOSITORY", "shop/infra"),
                ("GITHUB_RUN_ID", "42"),
                ("BUILD_URL", "https://jenkins/job/1/"),
            ]),
            Some("runner-7".to_string()),
            99,
        );
        assert_eq!(github.user, "alice");
        assert_eq!(github.host, "runner-7");
        assert_eq!(github.pid, 99);
        assert_eq!(
            github.ci_run_url.as_deref(),
            Some("https://github.com/shop/infra/actions/runs/42")
        );
        let gitlab = Who::from_lookup(
            lookup(&[
                ("LOGNAME", "bob"),
                ("GITHUB_RUN_ID", "42"),
                ("CI_JOB_URL", "https://gitlab/j/7"),
                ("HOSTNAME", "box"),
            ]),
            None,
            1,
        );
        assert_eq!((gitlab.user.as_str(), gitlab.host.as_str()), ("bob", "box"));
        assert_eq!(gitlab.ci_run_url.as_deref(), Some("https://gitlab/j/7"));
        let jenkins = Who::from_lookup(lookup(&[("BUILD_URL", "https://jenkins/job/1/")]), None, 1);
        assert_eq!(jenkins.ci_run_url.as_deref(), Some("https://jenkins/job/1/"));
        assert_eq!((jenkins.user.as_str(), jenkins.host.as_str()), ("unknown", "unknown"));
        let local = Who::from_lookup(lookup(&[("USER", "carol")]), None, 1);
        assert_eq!(local.ci_run_url, None);
    }

    #[test]
    fn records_round_trip_and_every_renewal_differs() {
        let who = Who::from_lookup(lookup(&[("USER", "alice")]), Some("h".to_string()), 7);
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let record = LockRecord::new("shop", "apply", &who, Duration::from_secs(120), now);
        assert_eq!(record.id.len(), 32);
        assert_eq!(record.expires_at, "2027-01-15T08:02:00.000Z");
        assert_eq!(LockRecord::from_json(&record.to_json()), Some(record.clone()));
        let renewed = record.renewed(now);
        assert_ne!(
            renewed.to_json(),
            record.to_json(),
            "the same instant still changes the body"
        );
        assert_eq!(renewed.renewals, 1);
        let other = LockRecord::new("shop", "apply", &who, Duration::from_secs(120), now);
        assert_ne!(other.id, record.id, "two acquisitions never share an ID");
        assert_eq!(LockRecord::from_json(b"not json"), None);
        assert_eq!(record.holder(), "alice@h (pid 7)");
    }

    #[test]
    fn durations_for_people() {
        assert_eq!(human_duration(Duration::from_secs(45)), "45s");
        assert_eq!(human_duration(Duration::from_secs(185)), "3m 05s");
        assert_eq!(human_duration(Duration::from_secs(7800)), "2h 10m");
    }
}
