//! Retrying what AWS asks to be retried, on top of the SDK's own retries:
//! throttling and transient failures a bounded number of times, and IAM
//! eventual consistency for a bounded window.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::{Context, Event};
use crate::cloud::{CloudError, ErrorKind};
use crate::model::Address;

/// Retries of throttling and transient failures that survived the SDK's retries.
#[derive(Clone, Debug)]
pub(crate) struct RetryPolicy {
    /// Attempts in all, at least 1.
    pub attempts: u32,
    /// Backoff before the second attempt; doubles each time, with jitter.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            initial_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// A pseudo-random fraction in [0.5, 1.0) for jitter, without a dependency.
fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    0.5 + f64::from(nanos % 1000) / 2000.0
}

/// Runs `call` until it succeeds, retrying:
/// - throttling and transient failures up to `policy.attempts` times;
/// - propagation failures, and any failure `also_retry` accepts (such as
///   NotFound right after creating the thing), until `propagation_timeout`.
pub(crate) async fn retry<C, T, F, Fut>(
    context: &Context<'_, C>,
    address: &Address,
    operation: &str,
    also_retry: impl Fn(&CloudError) -> bool,
    mut call: F,
) -> Result<T, CloudError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, CloudError>>,
{
    let policy = &context.options.retry;
    let started = Instant::now();
    let mut attempt = 1u32;
    let mut transient_attempts = 1u32;
    let mut backoff = policy.initial_backoff;
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(error) => {
                let propagation = error.kind == ErrorKind::Propagation || also_retry(&error);
                let transient = matches!(error.kind, ErrorKind::Throttled | ErrorKind::Transient);
                let may_retry = if propagation {
                    started.elapsed() < context.options.propagation_timeout
                } else if transient {
                    transient_attempts < policy.attempts.max(1)
                } else {
                    false
                };
                if !may_retry {
                    if propagation {
                        return Err(gave_up_waiting(error, context.options.propagation_timeout));
                    }
                    return Err(error);
                }
                if transient {
                    transient_attempts += 1;
                }
                context.emit(Event::Retrying {
                    address: address.clone(),
                    operation: operation.to_string(),
                    error: error.to_string(),
                    attempt,
                });
                attempt += 1;
                tokio::time::sleep(backoff.mul_f64(jitter())).await;
                backoff = (backoff * 2).min(policy.max_backoff);
            }
        }
    }
}

/// A propagation failure that outlasted the window says so, and how to wait
/// longer: the raw error ("the role cannot be found", right after creating
/// it) reads like a bug otherwise.
fn gave_up_waiting(mut error: CloudError, window: Duration) -> CloudError {
    let message = error.message.trim_end_matches('.');
    error.message = format!(
        "{message}; still failing after waiting {}s for IAM to propagate the change (raise `--propagation-timeout` to wait longer)",
        window.as_secs()
    );
    error
}
