//! `AwsCloud` against the emulator: settings with fast retries and no
//! client-side rate limiting, one emulator shared by the test binary, and raw
//! SDK configuration for test setup the `Cloud` trait does not cover
//! (managed policies, repositories, images; VPCs are plain EC2 Query requests,
//! `fixtures.rs`).

#![allow(dead_code)]

use std::sync::OnceLock;
use std::time::Duration;

use emrstack::aws::{AwsCloud, AwsSettings, RateLimits, RetrySettings, StaticCredentials, TimeoutSettings};

use super::emulator::Emulator;

/// The region every test uses.
pub const REGION: &str = "us-east-1";

/// Attempts per call in tests: enough to see retries, few enough to fail fast.
pub const TEST_MAX_ATTEMPTS: u32 = 3;

/// One emulator for the test binary (every module but those that need an
/// emulator of their own). It is never dropped; it exits when the test
/// process does, because its stdin closes.
pub fn shared_emulator() -> &'static Emulator {
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
    EMULATOR.get_or_init(Emulator::start)
}

/// Settings for `account` on `emulator`: fast backoff (10 ms, at most 50 ms),
/// short timeouts, no client-side rate limits.
pub fn settings(emulator: &Emulator, account: &str) -> AwsSettings {
    AwsSettings {
        region: Some(REGION.to_string()),
        profile: None,
        endpoint_url: Some(emulator.endpoint()),
        credentials: Some(StaticCredentials {
            access_key_id: account.to_string(),
            secret_access_key: "emulator".to_string(),
            session_token: None,
        }),
        retry: RetrySettings {
            max_attempts: TEST_MAX_ATTEMPTS,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
        },
        timeouts: TimeoutSettings {
            connect: Duration::from_secs(2),
            attempt: Duration::from_secs(10),
            operation: Duration::from_secs(30),
        },
        rate_limits: RateLimits::disabled(),
        on_call: None,
    }
}

/// An `AwsCloud` for `account` with [`settings`].
pub async fn connect(emulator: &Emulator, account: &str) -> AwsCloud {
    connect_with(settings(emulator, account)).await
}

/// An `AwsCloud` with adjusted settings (rate limits, a hook).
pub async fn connect_with(settings: AwsSettings) -> AwsCloud {
    AwsCloud::connect(settings)
        .await
        .unwrap_or_else(|err| panic!("connect to the emulator: {err}"))
}

/// Plain SDK configuration for `account`, for setup calls in tests.
pub async fn sdk_config(emulator: &Emulator, account: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .endpoint_url(emulator.endpoint())
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            account, "emulator", None, None, "test",
        ))
        .load()
        .await
}
