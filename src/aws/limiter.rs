//! Client-side rate limiting: an async token bucket, and one bucket per
//! (service, operation) created on first use.
//!
//! A call takes a token before its first attempt ([`RateLimiter::acquire`]);
//! each retry the SDK sends takes one more ([`RateLimiter::charge_retry`]),
//! without waiting, because the SDK has already backed off and the service
//! counts the retry against the same limit. The debt delays the next calls.
//!
//! The bucket hands out reservations: a caller takes a token even when none
//! is left (the balance goes negative) and sleeps until its token would have
//! been refilled. Callers are therefore served in arrival order, and a burst
//! of N calls against an empty bucket of rate R finishes after (N - 1) / R.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use super::settings::{Rate, RateLimits, Service};

/// An async token bucket. Time comes from `tokio::time`, so tests can pause it.
#[derive(Debug)]
pub struct TokenBucket {
    rate: Rate,
    state: Mutex<BucketState>,
}

#[derive(Debug)]
struct BucketState {
    /// Tokens available; negative while callers are waiting for refills.
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    /// A full bucket of `rate.burst` tokens refilled at `rate.per_second`.
    pub fn new(rate: Rate) -> TokenBucket {
        let burst = rate.burst.max(1);
        let per_second = if rate.per_second.is_finite() && rate.per_second > 0.0 {
            rate.per_second
        } else {
            // A zero or negative rate would block forever; treat it as the
            // slowest sensible rate instead.
            0.001
        };
        TokenBucket {
            rate: Rate { per_second, burst },
            state: Mutex::new(BucketState {
                tokens: f64::from(burst),
                updated: Instant::now(),
            }),
        }
    }

    /// Takes one token now and returns how long the caller must wait before
    /// using it (zero when a token was available).
    pub fn reserve(&self) -> Duration {
        // The state stays consistent under a panic elsewhere, so a poisoned
        // lock is still usable.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(state.updated).as_secs_f64();
        state.tokens = (state.tokens + elapsed * self.rate.per_second).min(f64::from(self.rate.burst));
        state.updated = now;
        state.tokens -= 1.0;
        if state.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-state.tokens / self.rate.per_second)
        }
    }

    /// Waits until a token is available and takes it. Returns the time waited.
    pub async fn acquire(&self) -> Duration {
        let wait = self.reserve();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        wait
    }
}

/// The buckets of every (service, operation), created lazily from [`RateLimits`].
#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    buckets: Mutex<HashMap<(Service, String), Arc<TokenBucket>>>,
    retries: Mutex<BTreeMap<(Service, String), u64>>,
}

impl RateLimiter {
    /// A limiter with one lazily created bucket per (service, operation) as `limits` says.
    pub fn new(limits: RateLimits) -> RateLimiter {
        RateLimiter {
            limits,
            buckets: Mutex::new(HashMap::new()),
            retries: Mutex::new(BTreeMap::new()),
        }
    }

    /// Waits for the operation's bucket; returns the time waited (zero when
    /// limiting is off).
    pub async fn acquire(&self, service: Service, operation: &str) -> Duration {
        let Some(bucket) = self.bucket(service, operation) else {
            return Duration::ZERO;
        };
        bucket.acquire().await
    }

    /// Records a retry of the operation and takes a token for it without
    /// waiting (the balance may go negative, which delays the next
    /// [`RateLimiter::acquire`]). Returns the wait the token implies, for
    /// reporting only.
    pub fn charge_retry(&self, service: Service, operation: &str) -> Duration {
        {
            let mut retries = self.retries.lock().unwrap_or_else(PoisonError::into_inner);
            *retries.entry((service, operation.to_string())).or_insert(0) += 1;
        }
        self.bucket(service, operation)
            .map_or(Duration::ZERO, |bucket| bucket.reserve())
    }

    /// How many retries each operation has been charged, keyed by (service, operation).
    pub fn retry_counts(&self) -> BTreeMap<(Service, String), u64> {
        self.retries.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn bucket(&self, service: Service, operation: &str) -> Option<Arc<TokenBucket>> {
        let rate = self.limits.rate_for(service, operation)?;
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let bucket = buckets
            .entry((service, operation.to_string()))
            .or_insert_with(|| Arc::new(TokenBucket::new(rate)));
        Some(Arc::clone(bucket))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The times (from the start) at which `n` back-to-back acquisitions complete.
    async fn completion_times(bucket: &TokenBucket, n: usize) -> Vec<Duration> {
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..n {
            bucket.acquire().await;
            times.push(start.elapsed());
        }
        times
    }

    fn secs(values: &[f64]) -> Vec<Duration> {
        values.iter().map(|v| Duration::from_secs_f64(*v)).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn burst_goes_out_at_once_then_the_steady_rate() {
        let bucket = TokenBucket::new(Rate::new(1.0, 3));
        let times = completion_times(&bucket, 5).await;
        assert_eq!(times, secs(&[0.0, 0.0, 0.0, 1.0, 2.0]));
    }

    #[tokio::test(start_paused = true)]
    async fn tokens_refill_while_idle_up_to_the_burst() {
        let bucket = TokenBucket::new(Rate::new(10.0, 2));
        completion_times(&bucket, 2).await;
        tokio::time::sleep(Duration::from_secs(60)).await;
        // Only `burst` tokens accumulated, however long the pause.
        let times = completion_times(&bucket, 4).await;
        assert_eq!(times, secs(&[0.0, 0.0, 0.1, 0.2]));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_are_served_in_arrival_order_at_the_rate() {
        let bucket = Arc::new(TokenBucket::new(Rate::new(2.0, 1)));
        let start = Instant::now();
        let tasks: Vec<_> = (0..5)
            .map(|_| {
                let bucket = Arc::clone(&bucket);
                tokio::spawn(async move {
                    bucket.acquire().await;
                    start.elapsed()
                })
            })
            .collect();
        let mut times = Vec::new();
        for task in tasks {
            times.push(task.await.expect("task"));
        }
        times.sort();
        assert_eq!(times, secs(&[0.0, 0.5, 1.0, 1.5, 2.0]));
    }

    #[tokio::test(start_paused = true)]
    async fn limiter_keeps_operations_apart_and_can_be_disabled() {
        let limiter = RateLimiter::new(RateLimits::default());
        // 25 mutations in a burst, then one per second; reads are unaffected.
        for _ in 0..25 {
            assert_eq!(
                limiter.acquire(Service::EmrServerless, "StartApplication").await,
                Duration::ZERO
            );
        }
        assert_eq!(
            limiter.acquire(Service::EmrServerless, "GetApplication").await,
            Duration::ZERO
        );
        assert_eq!(
            limiter.acquire(Service::EmrServerless, "StartApplication").await,
            Duration::from_secs(1)
        );
        let off = RateLimiter::new(RateLimits::disabled());
        for _ in 0..100 {
            assert_eq!(
                off.acquire(Service::EmrServerless, "StartApplication").await,
                Duration::ZERO
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_takes_a_token_without_waiting_and_delays_the_next_call() {
        let limits = RateLimits {
            overrides: BTreeMap::from([(
                (Service::EmrServerless, "StartApplication".to_string()),
                Rate::new(2.0, 1),
            )]),
            ..RateLimits::default()
        };
        let limiter = RateLimiter::new(limits);
        assert_eq!(
            limiter.acquire(Service::EmrServerless, "StartApplication").await,
            Duration::ZERO
        );
        // The retry goes out now (the SDK has backed off already) and puts
        // the bucket half a second into debt.
        assert_eq!(
            limiter.charge_retry(Service::EmrServerless, "StartApplication"),
            Duration::from_millis(500)
        );
        // So the next call waits for two refills, not one.
        assert_eq!(
            limiter.acquire(Service::EmrServerless, "StartApplication").await,
            Duration::from_secs(1)
        );
        // Retries of an unlimited operation are counted but cost nothing.
        assert_eq!(limiter.charge_retry(Service::Iam, "ListRoles"), Duration::ZERO);
        let retries = limiter.retry_counts();
        assert_eq!(retries[&(Service::EmrServerless, "StartApplication".to_string())], 1);
        assert_eq!(retries[&(Service::Iam, "ListRoles".to_string())], 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_rate_does_not_block_forever_or_panic() {
        let bucket = TokenBucket::new(Rate::new(0.0, 0));
        assert_eq!(bucket.acquire().await, Duration::ZERO);
    }
}
