//! The stack lock: one S3 object, `<prefix>/<stack>.lock`, taken with a
//! conditional write and held with a lease, so that two `apply`s (or an
//! `apply` and a `destroy`) of one stack never run at once, and a holder that
//! dies blocks the stack for one lease at most.
//!
//! The protocol, over [`ObjectStore`]:
//!
//! - **Acquire**: `PutObject` with `If-None-Match: *`. Of concurrent writers
//!   S3 lets exactly one succeed; the others read the object to say who holds
//!   it, and wait (polling with backoff) or give up.
//! - **Expiry**: a lock whose object has not been written for longer than its
//!   lease has expired. The age is the service's own: `Date` minus
//!   `Last-Modified` of the `GetObject` answer, both from S3's clock, so no
//!   two machines' clocks are compared (see [`Holder::expired`]).
//! - **Takeover**: an expired lock is overwritten with `If-Match` on the
//!   ETag that was read, so of several contenders exactly one wins, and a
//!   holder that renewed in the meantime wins over all of them.
//! - **Renewal**: every `renew_every` the holder rewrites the object with
//!   `If-Match` on its current ETag. Each body differs (a renewal counter),
//!   so each renewal changes the ETag and defeats any takeover prepared
//!   against the previous one.
//! - **Lost lease**: a renewal that finds another object, or none, or cannot
//!   succeed before `lease - lease/8` has passed since the last successful
//!   write was sent, loses the lock: the holder is told to stop (a reason on
//!   a watch channel) and writes nothing more.
//! - **Release**: `DeleteObject` with `If-Match` on the holder's ETag, so a
//!   lock that was taken over is never deleted by its former holder.
//!
//! S3 evaluates every conditional request atomically (S3 user guide,
//! "How to prevent object overwrites with conditional writes" and "How to
//! perform conditional deletes"); the lock needs `s3:GetObject`,
//! `s3:PutObject` and `s3:DeleteObject` on its key.

pub(crate) mod record;

use std::time::{Duration, SystemTime};

use tokio::sync::{Mutex, watch};
use tokio::time::Instant;

pub(crate) use record::{LockRecord, Who, human_duration};

use crate::cloud::{
    CloudError, DeleteCondition, DeleteOutcome, ErrorKind, ObjectStore, StoreError, StoredObject, WriteCondition,
    WriteOutcome,
};
use crate::model::{S3Location, S3Object};

/// The largest lock body read; a lock record is well under 2 KB.
pub(crate) const MAX_LOCK_BYTES: usize = 64 * 1024;

/// The granularity of S3's `Date` and `Last-Modified` (whole seconds): an
/// age measured with them can be one second longer than the real one.
const CLOCK_GRANULARITY: Duration = Duration::from_secs(1);

/// The longest lease a lock record is trusted with, whatever it says.
const MAX_TRUSTED_LEASE: Duration = Duration::from_secs(3600);

/// The lock object of `stack` under `location`: `<prefix>/<stack>.lock`.
pub(crate) fn lock_object(location: &S3Location, stack: &str) -> S3Object {
    location.object(&format!("{stack}.lock"))
}

/// Environment variable: the lease in milliseconds (default 120000).
pub(crate) const ENV_LEASE_MS: &str = "EMRSTACK_LOCK_LEASE_MS";
/// Environment variable: the interval between renewals in milliseconds (default 30000).
pub(crate) const ENV_RENEW_MS: &str = "EMRSTACK_LOCK_RENEW_MS";
/// Environment variable: the first wait between polls of a held lock in milliseconds (default 1000).
pub(crate) const ENV_POLL_MS: &str = "EMRSTACK_LOCK_POLL_MS";
/// Environment variable: the longest wait between polls in milliseconds (default 15000).
pub(crate) const ENV_MAX_POLL_MS: &str = "EMRSTACK_LOCK_MAX_POLL_MS";

/// How the lock is held and waited for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LockSettings {
    /// Without a renewal for this long, the lock may be taken over. Default 2 minutes.
    pub lease: Duration,
    /// The holder renews this often; less than `lease`. Default 30 seconds.
    pub renew_every: Duration,
    /// The first wait between polls of a held lock; it doubles up to `max_poll`. Default 1 second.
    pub first_poll: Duration,
    /// The longest wait between polls. Default 15 seconds.
    pub max_poll: Duration,
}

impl Default for LockSettings {
    fn default() -> Self {
        LockSettings {
            lease: Duration::from_secs(120),
            renew_every: Duration::from_secs(30),
            first_poll: Duration::from_secs(1),
            max_poll: Duration::from_secs(15),
        }
    }
}

impl LockSettings {
    /// The defaults overridden by `EMRSTACK_LOCK_LEASE_MS`,
    /// `EMRSTACK_LOCK_RENEW_MS`, `EMRSTACK_LOCK_POLL_MS` and
    /// `EMRSTACK_LOCK_MAX_POLL_MS` from `lookup`, and a message per value
    /// ignored. Shorter leases are for tests; the renewal interval must stay
    /// below the lease.
    pub(crate) fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> (LockSettings, Vec<String>) {
        let mut settings = LockSettings::default();
        let mut problems = Vec::new();
        let mut millis = |name: &str, target: &mut Duration| {
            if let Some(text) = lookup(name) {
                match text.trim().parse::<u64>() {
                    Ok(value) if value > 0 => *target = Duration::from_millis(value),
                    _ => problems.push(format!(
                        "`{name}` must be a positive number of milliseconds, not `{text}`"
                    )),
                }
            }
        };
        millis(ENV_LEASE_MS, &mut settings.lease);
        millis(ENV_RENEW_MS, &mut settings.renew_every);
        millis(ENV_POLL_MS, &mut settings.first_poll);
        millis(ENV_MAX_POLL_MS, &mut settings.max_poll);
        if settings.renew_every >= settings.lease {
            problems.push(format!(
                "`{ENV_RENEW_MS}` ({} ms) must be less than the lease ({} ms); renewing every quarter of the lease instead",
                settings.renew_every.as_millis(),
                settings.lease.as_millis()
            ));
            settings.renew_every = settings.lease / 4;
        }
        settings.max_poll = settings.max_poll.max(settings.first_poll);
        (settings, problems)
    }

    /// How long before its lease runs out the holder gives the lock up if it
    /// could not renew: an eighth of the lease, for the time a write takes
    /// to reach S3 and for clocks that run at slightly different rates.
    fn margin(&self) -> Duration {
        self.lease / 8
    }
}

/// The lock object as a contender or `unlock` found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Holder {
    /// The body, when it is a lock record.
    pub record: Option<LockRecord>,
    /// The object's ETag.
    pub etag: String,
    /// How long ago the object was last written, by S3's clock (the lease's
    /// age); `None` when the answer had no `Date` or `Last-Modified`.
    pub age: Option<Duration>,
    /// Whether the lease has run out (see [`Holder::expired`]).
    pub expired: bool,
}

impl Holder {
    /// Reads what `GetObject` returned; `local_now` is this machine's clock,
    /// used only when S3's times are missing.
    pub(crate) fn read(object: &StoredObject, default_lease: Duration, local_now: SystemTime) -> Holder {
        let record = LockRecord::from_json(&object.body);
        let age = match (object.server_time, object.last_modified) {
            (Some(now), Some(written)) => Some(now.duration_since(written).unwrap_or(Duration::ZERO)),
            _ => None,
        };
        let expired = Holder::expired(record.as_ref(), age, default_lease, local_now);
        Holder {
            record,
            etag: object.etag.clone(),
            age,
            expired,
        }
    }

    /// Whether a lease has run out.
    ///
    /// With S3's times, the lease has run out when the object's age by S3's
    /// clock exceeds the lease plus one second (both times are whole
    /// seconds). The holder stops acting `lease / 8` before its lease, counted
    /// on its own monotonic clock from when it *sent* its last successful
    /// write, which is no later than S3's `Last-Modified`: so, as long as the
    /// two clocks run at the same rate, a takeover never overlaps a live
    /// holder. Clock offsets do not matter.
    ///
    /// Without S3's times (S3 always sends them), the record's `expires_at`
    /// is compared with this machine's clock, which assumes the two
    /// machines' clocks agree to within the lease's margin. A body that is
    /// not a lock record counts with `default_lease`; one without any time
    /// never expires (remove it by hand).
    pub(crate) fn expired(
        record: Option<&LockRecord>,
        age: Option<Duration>,
        default_lease: Duration,
        local_now: SystemTime,
    ) -> bool {
        let lease = record
            .map(|record| record.lease().min(MAX_TRUSTED_LEASE))
            .unwrap_or(default_lease);
        match age {
            Some(age) => age > lease + CLOCK_GRANULARITY,
            None => record
                .and_then(|record| record::parse_time(&record.expires_at))
                .is_some_and(|expires| local_now > expires + CLOCK_GRANULARITY),
        }
    }

    /// The lock ID, when the body is a lock record.
    pub(crate) fn id(&self) -> Option<&str> {
        self.record.as_ref().map(|record| record.id.as_str())
    }

    /// One line about the holder: `alice@runner (pid 42), running `apply`
    /// since <time>, lock ID <id>, CI run <url>`.
    pub(crate) fn describe(&self) -> String {
        let Some(record) = &self.record else {
            return "an object that is not an emrstack lock record".to_string();
        };
        let mut text = format!(
            "{}, running `emrstack {}` since {}",
            record.holder(),
            record.command,
            record.acquired_at
        );
        if let Some(age) = self.age {
            text.push_str(&format!(" (lease renewed {} ago)", human_duration(age)));
        }
        text.push_str(&format!(", lock ID {}", record.id));
        if let Some(url) = &record.ci_run_url {
            text.push_str(&format!(", CI run {url}"));
        }
        text
    }
}

/// What the lock reports while it works, for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LockEvent {
    /// The lock is held by someone else and this process waits (once per holder).
    Waiting { holder: Holder, timeout: Duration },
    /// The lock had expired and is being taken over.
    TakingOver { previous: Holder },
    /// A renewal failed and is retried.
    RenewalFailed { error: String, retry_in: Duration },
    /// The lease was lost; the reason.
    Lost { reason: String },
}

/// Receives [`LockEvent`]s; must return quickly.
pub(crate) trait LockObserver: Send + Sync {
    fn event(&self, event: &LockEvent);
}

/// An observer that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
#[cfg(test)]
pub(crate) struct SilentLockObserver;

#[cfg(test)]
impl LockObserver for SilentLockObserver {
    fn event(&self, _event: &LockEvent) {}
}

/// Why the lock could not be taken, renewed, released or unlocked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LockError {
    /// Someone else holds it, and `timeout` passed (zero: no wait).
    #[error("the stack lock {object} is held by {}", holder.describe())]
    Held {
        object: S3Object,
        holder: Box<Holder>,
        /// How long this process waited.
        waited: Duration,
    },
    /// The wait was cancelled (Ctrl-C); the reason.
    #[error("stopped waiting for the stack lock {object}: {reason}")]
    Cancelled { object: S3Object, reason: String },
    /// The lock's bucket does not exist.
    #[error("the stack lock's bucket `{}` does not exist (lock object {object})", object.bucket)]
    NoSuchBucket { object: S3Object },
    /// The lock's bucket is in another region.
    #[error(
        "the stack lock's bucket `{}` is in {}, but emrstack calls {client_region} (lock object {object})",
        object.bucket,
        bucket_region.as_deref().map_or_else(|| "another region".to_string(), |region| format!("region {region}"))
    )]
    WrongRegion {
        object: S3Object,
        bucket_region: Option<String>,
        client_region: String,
    },
    /// The credentials may not make a call the lock needs.
    #[error(
        "no permission to {what} the stack lock {object}: this needs {} on `{}`; {error}",
        actions.iter().map(|action| format!("`{action}`")).collect::<Vec<_>>().join(" and "),
        object.arn()
    )]
    AccessDenied {
        object: S3Object,
        /// What the call was for (`take`, `renew`, `read`, `release`).
        what: &'static str,
        /// The IAM actions the call needs.
        actions: &'static [&'static str],
        error: Box<CloudError>,
    },
    /// Any other failed call.
    #[error("could not {what} the stack lock {object}: {error}")]
    Failed {
        object: S3Object,
        what: &'static str,
        error: Box<CloudError>,
    },
    /// `unlock` with an ID that is not the holder's.
    #[error("the stack lock {object} has ID {}, not {given}; nothing was changed", holder.id().unwrap_or("(none: it is not an emrstack lock record)"))]
    WrongId {
        object: S3Object,
        given: String,
        holder: Box<Holder>,
    },
}

/// The IAM actions of each call the lock makes (S3's authorization
/// reference; a write or delete with `If-Match` on an ETag needs
/// `s3:GetObject` too, S3 user guide, conditional writes and deletes).
const READ: &[&str] = &["s3:GetObject"];
const TAKE: &[&str] = &["s3:PutObject"];
const OVERWRITE: &[&str] = &["s3:PutObject", "s3:GetObject"];
const DELETE: &[&str] = &["s3:DeleteObject", "s3:GetObject"];

fn failure(object: &S3Object, what: &'static str, actions: &'static [&'static str], error: StoreError) -> LockError {
    match error {
        StoreError::NoSuchBucket { .. } => LockError::NoSuchBucket { object: object.clone() },
        StoreError::WrongRegion {
            bucket_region,
            client_region,
            ..
        } => LockError::WrongRegion {
            object: object.clone(),
            bucket_region,
            client_region,
        },
        StoreError::Cloud(error) if error.kind == ErrorKind::AccessDenied => LockError::AccessDenied {
            object: object.clone(),
            what,
            actions,
            error: Box::new(error),
        },
        StoreError::Cloud(error) => LockError::Failed {
            object: object.clone(),
            what,
            error: Box::new(error),
        },
    }
}

/// Whether retrying the same call later can succeed.
fn retryable(error: &StoreError) -> bool {
    matches!(error, StoreError::Cloud(error) if error.kind.is_retryable())
}

/// What to take the lock for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LockRequest {
    /// The lock object.
    pub object: S3Object,
    /// The stack name.
    pub stack: String,
    /// The command, as the record shows it (`apply`, `destroy`, ...).
    pub command: String,
    /// Who takes it.
    pub who: Who,
    /// How long to wait while someone else holds it (zero: not at all).
    pub timeout: Duration,
}

/// A held lock. Keep it with [`Lock::hold`] while working, then
/// [`Lock::release`] it.
#[derive(Debug)]
pub(crate) struct Lock<'a, S> {
    store: &'a S,
    object: S3Object,
    settings: LockSettings,
    state: Mutex<HeldState>,
    /// How long acquiring waited for another holder.
    pub(crate) waited: Duration,
}

#[derive(Debug, Clone)]
struct HeldState {
    record: LockRecord,
    etag: String,
    /// When the last successful write was sent (this machine's monotonic clock).
    written: Instant,
    /// Why the lease was lost, once it is.
    lost: Option<String>,
}

/// What [`Lock::release`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Released {
    /// The lock object was deleted.
    Deleted,
    /// The object was no longer this lock (taken over after the lease was
    /// lost, or removed by `emrstack unlock`); it was left alone.
    NotOurs { current: Option<Box<Holder>> },
}

/// Takes the lock, waiting up to `request.timeout` while someone else holds
/// it, and taking over a lock whose lease has run out. `stop` cancels the
/// wait: it is checked between attempts, never in the middle of a write.
pub(crate) async fn acquire<'a, S: ObjectStore>(
    store: &'a S,
    request: &LockRequest,
    settings: &LockSettings,
    observer: &dyn LockObserver,
    stop: &mut watch::Receiver<Option<String>>,
) -> Result<Lock<'a, S>, LockError> {
    let object = &request.object;
    let started = Instant::now();
    let deadline = started + request.timeout;
    let record = LockRecord::new(
        &request.stack,
        &request.command,
        &request.who,
        settings.lease,
        SystemTime::now(),
    );
    let held = |record: LockRecord, etag: String, written: Instant| Lock {
        store,
        object: object.clone(),
        settings: settings.clone(),
        state: Mutex::new(HeldState {
            record,
            etag,
            written,
            lost: None,
        }),
        waited: started.elapsed(),
    };
    let cancelled = |reason: String| LockError::Cancelled {
        object: object.clone(),
        reason,
    };
    // A short pause before trying again after a retryable failure or a lock
    // released between the write and the read.
    let pause = settings.first_poll.min(Duration::from_millis(200));
    let mut poll = settings.first_poll;
    // When the first write of this record was sent: a write whose answer
    // was lost may have landed any time after that.
    let mut first_sent: Option<Instant> = None;
    let mut announced: Option<String> = None;
    // Reads refused right after a write found the object: without
    // `s3:ListBucket`, S3 answers a key deleted in between with 403.
    let mut refused_reads = 0;
    loop {
        if let Some(reason) = stop.borrow().clone() {
            return Err(cancelled(reason));
        }
        // 1. Create the object if there is none.
        let body = record.restamped(SystemTime::now());
        let sent = Instant::now();
        first_sent.get_or_insert(sent);
        // A write that failed after the SDK's retries may still have landed
        // (its answer lost), so the object is read before giving up.
        let put_error = match store
            .put_object(object, body.to_json(), "application/json", &WriteCondition::IfAbsent)
            .await
        {
            Ok(WriteOutcome::Written { etag }) => return Ok(held(body, etag, sent)),
            Ok(WriteOutcome::ConditionFailed) => None,
            Err(error) if retryable(&error) => Some(error),
            Err(error) => return Err(failure(object, "take", TAKE, error)),
        };
        // 2. Someone holds it (or the write failed): read who.
        let current = match store.get_object(object, MAX_LOCK_BYTES).await {
            Ok(Some(current)) => current,
            Ok(None) => {
                if let Some(error) = put_error.filter(|_| Instant::now() >= deadline) {
                    return Err(failure(object, "take", TAKE, error));
                }
                // Released between the write and the read, or the write
                // failed: try again shortly.
                sleep_or_stop(jittered(pause) / 4, stop)
                    .await
                    .map_or(Ok(()), |r| Err(cancelled(r)))?;
                continue;
            }
            Err(error) if retryable(&error) && Instant::now() < deadline => {
                sleep_or_stop(jittered(pause), stop)
                    .await
                    .map_or(Ok(()), |r| Err(cancelled(r)))?;
                continue;
            }
            Err(StoreError::Cloud(error)) if error.kind == ErrorKind::AccessDenied && refused_reads < 3 => {
                refused_reads += 1;
                continue;
            }
            Err(error) => return Err(failure(object, "read", READ, error)),
        };
        refused_reads = 0;
        let holder = Holder::read(&current, settings.lease, SystemTime::now());
        if let Some(mine) = holder.record.as_ref().filter(|found| found.id == record.id) {
            // A write of ours landed although its answer was lost.
            return Ok(held(mine.clone(), current.etag, first_sent.unwrap_or(sent)));
        }
        // 3. Its lease ran out: take it over, unless another contender (or
        // the holder, renewing) writes first.
        if holder.expired {
            observer.event(&LockEvent::TakingOver {
                previous: holder.clone(),
            });
            let mut body = record.restamped(SystemTime::now());
            body.took_over_from = holder.id().map(str::to_string);
            let sent = Instant::now();
            match store
                .put_object(
                    object,
                    body.to_json(),
                    "application/json",
                    &WriteCondition::IfMatch(holder.etag.clone()),
                )
                .await
            {
                Ok(WriteOutcome::Written { etag }) => return Ok(held(body, etag, sent)),
                Ok(WriteOutcome::ConditionFailed) => continue,
                Err(error) if retryable(&error) && Instant::now() < deadline => {
                    sleep_or_stop(jittered(pause), stop)
                        .await
                        .map_or(Ok(()), |r| Err(cancelled(r)))?;
                    continue;
                }
                Err(error) => return Err(failure(object, "take over", OVERWRITE, error)),
            }
        }
        // 4. Held and alive: give up, or wait and poll again.
        let now = Instant::now();
        if now >= deadline {
            return Err(LockError::Held {
                object: object.clone(),
                holder: Box::new(holder),
                waited: started.elapsed(),
            });
        }
        let key = holder.id().unwrap_or(&holder.etag).to_string();
        if announced.as_deref() != Some(key.as_str()) {
            announced = Some(key);
            observer.event(&LockEvent::Waiting {
                holder: holder.clone(),
                timeout: request.timeout,
            });
        }
        let mut wait = jittered(poll).min(deadline - now);
        // Wake when the holder's lease would run out, if that comes first.
        if let Some(age) = holder.age {
            let lease = holder
                .record
                .as_ref()
                .map_or(settings.lease, |record| record.lease().min(MAX_TRUSTED_LEASE));
            let until_expiry = (lease + CLOCK_GRANULARITY + Duration::from_millis(100)).saturating_sub(age);
            wait = wait.min(until_expiry.max(Duration::from_millis(10)));
        }
        poll = (poll * 2).min(settings.max_poll);
        if let Some(reason) = sleep_or_stop(wait, stop).await {
            return Err(cancelled(reason));
        }
    }
}

/// Sleeps for `duration`, or until `stop` carries a reason; returns it.
async fn sleep_or_stop(duration: Duration, stop: &mut watch::Receiver<Option<String>>) -> Option<String> {
    let deadline = Instant::now() + duration;
    loop {
        if let Some(reason) = stop.borrow_and_update().clone() {
            return Some(reason);
        }
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => return None,
            changed = stop.changed() => {
                if changed.is_err() {
                    // The sender is gone: nothing can stop the wait any more.
                    tokio::time::sleep_until(deadline).await;
                    return None;
                }
            }
        }
    }
}

/// `duration` times a random factor between 0.8 and 1.2, so waiting
/// contenders do not poll in step.
fn jittered(duration: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
    let factor = 0.8 + (random % 1000) as f64 / 2500.0;
    duration.mul_f64(factor)
}

impl<S: ObjectStore> Lock<'_, S> {
    /// The lock ID (for `emrstack unlock`).
    pub(crate) async fn id(&self) -> String {
        self.state.lock().await.record.id.clone()
    }

    /// The record as last written.
    #[cfg(test)]
    pub(crate) async fn record(&self) -> LockRecord {
        self.state.lock().await.record.clone()
    }

    /// Why the lease was lost, if it was.
    pub(crate) async fn lost(&self) -> Option<String> {
        self.state.lock().await.lost.clone()
    }

    /// Runs `work` while renewing the lease. If the lease is lost, the reason
    /// is sent on `lost` (and reported to `observer`) and renewal stops;
    /// `work` is expected to watch `lost` and wind down. Returns what `work`
    /// returns, once a renewal in flight has finished (or after five
    /// seconds, whichever comes first).
    pub(crate) async fn hold<F: std::future::Future>(
        &self,
        work: F,
        lost: &watch::Sender<Option<String>>,
        observer: &dyn LockObserver,
    ) -> F::Output {
        let (stop_tx, stop_rx) = watch::channel(false);
        let keeper = self.keep(stop_rx, lost, observer);
        tokio::pin!(keeper);
        tokio::pin!(work);
        let mut keeping = true;
        let output = loop {
            tokio::select! {
                output = &mut work => break output,
                () = &mut keeper, if keeping => keeping = false,
            }
        };
        if keeping {
            let _ = stop_tx.send(true);
            let _ = tokio::time::timeout(Duration::from_secs(5), &mut keeper).await;
        }
        output
    }

    /// Renews the lease every `renew_every` until `stop` or until the lease is lost.
    async fn keep(
        &self,
        mut stop: watch::Receiver<bool>,
        lost: &watch::Sender<Option<String>>,
        observer: &dyn LockObserver,
    ) {
        let settings = &self.settings;
        let mut next = self.state.lock().await.written + settings.renew_every;
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(next) => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
            let (record, etag, written) = {
                let state = self.state.lock().await;
                (state.record.clone(), state.etag.clone(), state.written)
            };
            // The lease must be given up before it runs out.
            let give_up = written + settings.lease - settings.margin();
            let renewed = record.renewed(SystemTime::now());
            let sent = Instant::now();
            let attempt = tokio::time::timeout_at(give_up, self.renew_once(&renewed, &etag)).await;
            let failure = match attempt {
                Ok(Renewal::Renewed(etag)) => {
                    let mut state = self.state.lock().await;
                    state.record = renewed;
                    state.etag = etag;
                    state.written = sent;
                    next = sent + settings.renew_every;
                    continue;
                }
                Ok(Renewal::Lost(reason)) => Some(reason),
                Ok(Renewal::Failed(error)) => {
                    if Instant::now() < give_up {
                        let retry_in = (settings.renew_every / 4)
                            .min(Duration::from_secs(5))
                            .min(give_up - Instant::now());
                        observer.event(&LockEvent::RenewalFailed {
                            error: error.to_string(),
                            retry_in,
                        });
                        next = Instant::now() + retry_in;
                        continue;
                    }
                    Some(format!(
                        "the lease could not be renewed for {} ({error})",
                        human_duration(settings.lease - settings.margin())
                    ))
                }
                Err(_) => Some(format!(
                    "the lease could not be renewed for {}: the renewal did not finish in time",
                    human_duration(settings.lease - settings.margin())
                )),
            };
            if let Some(reason) = failure {
                self.state.lock().await.lost = Some(reason.clone());
                observer.event(&LockEvent::Lost { reason: reason.clone() });
                lost.send_if_modified(|current| {
                    if current.is_none() {
                        *current = Some(reason.clone());
                        true
                    } else {
                        false
                    }
                });
                return;
            }
        }
    }

    /// One renewal: `If-Match` on the current ETag.
    async fn renew_once(&self, renewed: &LockRecord, etag: &str) -> Renewal {
        let object = &self.object;
        match self
            .store
            .put_object(
                object,
                renewed.to_json(),
                "application/json",
                &WriteCondition::IfMatch(etag.to_string()),
            )
            .await
        {
            Ok(WriteOutcome::Written { etag }) => Renewal::Renewed(etag),
            Ok(WriteOutcome::ConditionFailed) => match self.store.get_object(object, MAX_LOCK_BYTES).await {
                Ok(Some(current)) => {
                    let holder = Holder::read(&current, self.settings.lease, SystemTime::now());
                    match &holder.record {
                        // Our own renewal landed although its answer was lost.
                        Some(found) if found.id == renewed.id && found.renewals == renewed.renewals => {
                            Renewal::Renewed(current.etag)
                        }
                        _ => Renewal::Lost(format!("the lock was taken by {}", holder.describe())),
                    }
                }
                Ok(None) => Renewal::Lost("the lock object was deleted (by `emrstack unlock`, or by hand)".to_string()),
                Err(error) => Renewal::Failed(Box::new(failure(object, "read", READ, error))),
            },
            Err(error) => Renewal::Failed(Box::new(failure(object, "renew", OVERWRITE, error))),
        }
    }

    /// Deletes the lock object if it is still this lock (`If-Match` on the
    /// ETag of the last write; if a renewal whose answer was lost changed
    /// it, the object is read to find out).
    pub(crate) async fn release(self) -> Result<Released, LockError> {
        let state = self.state.into_inner();
        let object = &self.object;
        let mut etag = state.etag;
        // Two rounds cover a renewal that landed after its answer was lost.
        for _ in 0..2 {
            match self
                .store
                .delete_object(object, &DeleteCondition::IfMatch(etag.clone()))
                .await
            {
                Ok(DeleteOutcome::Deleted) => return Ok(Released::Deleted),
                Ok(DeleteOutcome::ConditionFailed) => {}
                Err(error) => return Err(failure(object, "release", DELETE, error)),
            }
            let current = self
                .store
                .get_object(object, MAX_LOCK_BYTES)
                .await
                .map_err(|error| failure(object, "read", READ, error))?;
            let Some(current) = current else {
                return Ok(Released::NotOurs { current: None });
            };
            let holder = Holder::read(&current, self.settings.lease, SystemTime::now());
            if holder.id() != Some(state.record.id.as_str()) {
                return Ok(Released::NotOurs {
                    current: Some(Box::new(holder)),
                });
            }
            etag = current.etag;
        }
        Ok(Released::NotOurs { current: None })
    }
}

enum Renewal {
    Renewed(String),
    Lost(String),
    Failed(Box<LockError>),
}

/// What `unlock` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Unlocked {
    /// The lock with that ID was deleted; who held it.
    Deleted { holder: Box<Holder> },
    /// There was no lock object.
    NotHeld,
}

/// `emrstack unlock ID`: deletes the lock object only while its ID is `id`
/// (`If-Match` on the ETag of the object that was read, so a lock that
/// changed hands in between is not deleted).
pub(crate) async fn unlock<S: ObjectStore>(
    store: &S,
    object: &S3Object,
    id: &str,
    settings: &LockSettings,
) -> Result<Unlocked, LockError> {
    // A few rounds: the holder may renew between the read and the delete.
    for _ in 0..3 {
        let Some(current) = store
            .get_object(object, MAX_LOCK_BYTES)
            .await
            .map_err(|error| failure(object, "read", READ, error))?
        else {
            return Ok(Unlocked::NotHeld);
        };
        let holder = Holder::read(&current, settings.lease, SystemTime::now());
        if holder.id() != Some(id) {
            return Err(LockError::WrongId {
                object: object.clone(),
                given: id.to_string(),
                holder: Box::new(holder),
            });
        }
        match store
            .delete_object(object, &DeleteCondition::IfMatch(current.etag.clone()))
            .await
        {
            Ok(DeleteOutcome::Deleted) => {
                return Ok(Unlocked::Deleted {
                    holder: Box::new(holder),
                });
            }
            Ok(DeleteOutcome::ConditionFailed) => continue,
            Err(error) => return Err(failure(object, "release", DELETE, error)),
        }
    }
    Err(LockError::Failed {
        object: object.clone(),
        what: "unlock",
        error: Box::new(CloudError::new(
            ErrorKind::Conflict,
            "DeleteObject",
            "the lock object kept changing between reading and deleting it; try again",
        )),
    })
}

#[cfg(test)]
mod tests;
