//! `AwsCloud`: the SDK clients, how they are configured, and the one path
//! every call takes (rate limiter, SDK call with its retries, classification,
//! call hook).

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{BeforeTransmitInterceptorContextRef, InterceptorContext};
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, Metadata};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction, RetryClassifierPriority};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::os_shim_internal::{Env, Fs};
use tokio::time::Instant;

use super::ec2_query::{Additions, Ec2Client};
use super::error::{Reach, cloud_error, explain};
use super::limiter::RateLimiter;
use super::settings::{AwsSettings, CallEvent, CallHook, Service};
use crate::cloud::{CloudError, ErrorKind};

/// The `Cloud` implementation against AWS (or an emulator at `endpoint_url`).
pub struct AwsCloud {
    pub(super) region: String,
    pub(super) emr: aws_sdk_emrserverless::Client,
    pub(super) iam: aws_sdk_iam::Client,
    pub(super) ecr: aws_sdk_ecr::Client,
    pub(super) ec2: Ec2Client,
    pub(super) sts: aws_sdk_sts::Client,
    pub(super) s3: aws_sdk_s3::Client,
    pub(super) tagging: aws_sdk_resourcegroupstagging::Client,
    limiter: Arc<RateLimiter>,
    on_call: Option<CallHook>,
    counts: Mutex<BTreeMap<(Service, &'static str), u64>>,
    reach: Reach,
}

impl std::fmt::Debug for AwsCloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCloud")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// Retries a bare HTTP 429 as throttling. The SDK's own classifiers retry
/// 500, 502, 503 and 504 by status, and throttling by error code; a 429
/// without a recognised code (a proxy, a new error name) would otherwise
/// fail at once.
#[derive(Debug)]
struct TooManyRequests;

impl ClassifyRetry for TooManyRequests {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        match ctx.response() {
            Some(response) if response.status().as_u16() == 429 => RetryAction::throttling_error(),
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "HTTP 429"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::http_status_code_classifier()
    }
}

/// Charges every retry the SDK sends to the operation's token bucket
/// ([`RateLimiter::charge_retry`]): AWS counts a retry against the same limit
/// as the first attempt, so a client bucket that saw only first attempts
/// would run ahead of the service's after every throttle. Runs just before
/// each attempt is sent, after the SDK's backoff.
#[derive(Debug)]
struct ChargeRetries {
    limiter: Arc<RateLimiter>,
    service: Service,
}

impl Intercept for ChargeRetries {
    fn name(&self) -> &'static str {
        "emrstack: charge retries to the client-side rate limiter"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let attempt = cfg.load::<RequestAttempts>().map_or(1, RequestAttempts::attempts);
        if attempt > 1
            && let Some(metadata) = cfg.load::<Metadata>()
        {
            self.limiter.charge_retry(self.service, metadata.name());
        }
        Ok(())
    }
}

impl AwsCloud {
    /// Loads the AWS configuration (the standard credential chain, or
    /// `settings.credentials`; the profile; the region) and builds one client
    /// per service, all with the same endpoint, retry and timeout settings.
    ///
    /// Fails with [`ErrorKind::UnknownProfile`] when the profile given (or
    /// `AWS_PROFILE`) is in neither AWS file, and with
    /// [`ErrorKind::NoRegion`] when no region resolves. Credentials are
    /// resolved lazily: a missing credential surfaces on the first call as
    /// [`ErrorKind::NoCredentials`] (or [`ErrorKind::SsoLoginRequired`]).
    pub async fn connect(settings: AwsSettings) -> Result<AwsCloud, CloudError> {
        let profile = settings
            .profile
            .clone()
            .or_else(|| std::env::var("AWS_PROFILE").ok().filter(|name| !name.trim().is_empty()));
        // Checked first: the SDK reads the region from the profile too, and
        // would report an unknown profile as a missing region.
        if let Some(name) = &profile {
            profile_exists(name, &Fs::real(), &Env::real()).await?;
        }
        let reach = Reach {
            endpoint: settings.endpoint_url.clone(),
            profile,
        };
        let retry = RetryConfig::standard()
            .with_max_attempts(settings.retry.max_attempts.max(1))
            .with_initial_backoff(settings.retry.initial_backoff)
            .with_max_backoff(settings.retry.max_backoff);
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(settings.timeouts.connect)
            .operation_attempt_timeout(settings.timeouts.attempt)
            .operation_timeout(settings.timeouts.operation)
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry)
            .timeout_config(timeouts);
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(endpoint) = &settings.endpoint_url {
            loader = loader.endpoint_url(endpoint);
        }
        if let Some(credentials) = &settings.credentials {
            loader = loader.credentials_provider(aws_sdk_sts::config::Credentials::new(
                &credentials.access_key_id,
                &credentials.secret_access_key,
                credentials.session_token.clone(),
                None,
                "emrstack-settings",
            ));
        }
        let config = loader.load().await;
        let region = config
            .region()
            .map(ToString::to_string)
            .ok_or_else(|| CloudError::new(ErrorKind::NoRegion, "Connect", "no AWS region is configured"))?;
        let limiter = Arc::new(RateLimiter::new(settings.rate_limits));
        let charge = |service| ChargeRetries {
            limiter: Arc::clone(&limiter),
            service,
        };
        let emr = aws_sdk_emrserverless::config::Builder::from(&config)
            .retry_classifier(TooManyRequests)
            .interceptor(charge(Service::EmrServerless))
            .build();
        let iam = aws_sdk_iam::config::Builder::from(&config)
            .retry_classifier(TooManyRequests)
            .interceptor(charge(Service::Iam))
            .build();
        let ecr = aws_sdk_ecr::config::Builder::from(&config)
            .retry_classifier(TooManyRequests)
            .interceptor(charge(Service::Ecr))
            .build();
        let ec2 = Ec2Client::new(&config, &region, || Additions {
            classifier: TooManyRequests,
            interceptor: charge(Service::Ec2),
        })?;
        let sts = aws_sdk_sts::config::Builder::from(&config)
            .retry_classifier(TooManyRequests)
            .interceptor(charge(Service::Sts))
            .build();
        // Path-style addressing (`<endpoint>/<bucket>/<key>`) against an
        // endpoint that is not AWS's: an emulator or a proxy has no DNS for
        // `<bucket>.<endpoint>`. Against AWS, virtual-hosted style, the default.
        let s3 = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(settings.endpoint_url.is_some())
            .retry_classifier(TooManyRequests)
            .interceptor(charge(Service::S3))
            .build();
        let tagging = aws_sdk_resourcegroupstagging::config::Builder::from(&config)
            .retry_classifier(TooManyRequests)
            .interceptor(charge(Service::Tagging))
            .build();
        Ok(AwsCloud {
            region,
            emr: aws_sdk_emrserverless::Client::from_conf(emr),
            iam: aws_sdk_iam::Client::from_conf(iam),
            ecr: aws_sdk_ecr::Client::from_conf(ecr),
            ec2,
            sts: aws_sdk_sts::Client::from_conf(sts),
            s3: aws_sdk_s3::Client::from_conf(s3),
            tagging: aws_sdk_resourcegroupstagging::Client::from_conf(tagging),
            limiter,
            on_call: settings.on_call,
            counts: Mutex::new(BTreeMap::new()),
            reach,
        })
    }

    /// How many calls each operation has made, keyed `service:Operation`
    /// (`emr-serverless:GetApplication`). A call is one SDK operation (one
    /// page of a listing); the SDK's retries of it are not counted here (see
    /// [`AwsCloud::retry_counts`]).
    pub fn call_counts(&self) -> BTreeMap<String, u64> {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts
            .iter()
            .map(|((service, operation), count)| (format!("{service}:{operation}"), *count))
            .collect()
    }

    /// How many retries the SDK has sent for each operation, keyed like
    /// [`AwsCloud::call_counts`]. Each one took a token from the operation's
    /// client-side bucket.
    pub fn retry_counts(&self) -> BTreeMap<String, u64> {
        self.limiter
            .retry_counts()
            .into_iter()
            .map(|((service, operation), count)| (format!("{service}:{operation}"), count))
            .collect()
    }

    /// The total number of calls made so far (see [`AwsCloud::call_counts`]).
    pub fn total_calls(&self) -> u64 {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.values().sum()
    }

    /// Runs one SDK call: waits for the operation's token bucket, awaits the
    /// request (the SDK retries inside it), classifies a failure and reports
    /// the call to the hook.
    pub(super) async fn call<T, E>(
        &self,
        service: Service,
        operation: &'static str,
        request: impl Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    ) -> Result<T, CloudError>
    where
        E: ProvideErrorMetadata + StdError + 'static,
    {
        // The request future does nothing until awaited, so the limiter runs
        // before anything is sent.
        let rate_limit_wait = self.limiter.acquire(service, operation).await;
        {
            let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
            *counts.entry((service, operation)).or_insert(0) += 1;
        }
        let started = Instant::now();
        let result = request
            .await
            .map_err(|err| explain(cloud_error(service, operation, &err), &self.reach, service));
        if let Some(hook) = &self.on_call {
            hook(&CallEvent {
                service,
                operation,
                rate_limit_wait,
                elapsed: started.elapsed(),
                error: result.as_ref().err(),
            });
        }
        result
    }
}

/// Fails unless the AWS config or credentials file (as `AWS_CONFIG_FILE`
/// and `AWS_SHARED_CREDENTIALS_FILE` place them) defines the profile `name`.
async fn profile_exists(name: &str, fs: &Fs, env: &Env) -> Result<(), CloudError> {
    // A file that cannot be read or parsed defines no profile here; the SDK
    // reports its problem when it reads the file itself.
    let defined: Vec<String> = match aws_config::profile::load(fs, env, &Default::default(), None).await {
        Ok(set) => {
            if set.get_profile(name).is_some() {
                return Ok(());
            }
            set.profiles().map(str::to_string).collect()
        }
        Err(_) => Vec::new(),
    };
    let listed = match defined.len() {
        0 => "the AWS config and credentials files define no profile".to_string(),
        _ => {
            let mut names = defined;
            names.sort();
            format!("the profiles defined are {}", names.join(", "))
        }
    };
    Err(CloudError::new(
        ErrorKind::UnknownProfile,
        "Connect",
        format!("the AWS profile `{name}` is not defined in the AWS config or credentials file ({listed})"),
    ))
}

/// The token for the next page, or `None` when the listing is complete. A
/// token equal to the one just used would loop forever, so it is an error.
pub(super) fn next_page(
    operation: &str,
    used: Option<&str>,
    next: Option<String>,
) -> Result<Option<String>, CloudError> {
    match next {
        Some(token) if token.is_empty() => Ok(None),
        Some(token) if Some(token.as_str()) == used => Err(CloudError::new(
            ErrorKind::Other,
            operation,
            "the service returned the same pagination token twice",
        )),
        other => Ok(other),
    }
}

/// A policy document as the JSON text the APIs take.
pub(super) fn document_text(operation: &str, document: &serde_json::Value) -> Result<String, CloudError> {
    serde_json::to_string(document).map_err(|err| {
        CloudError::new(
            ErrorKind::Invalid,
            operation,
            format!("the policy document cannot be serialized: {err}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagination_stops_on_absent_or_empty_tokens_and_refuses_loops() {
        assert_eq!(next_page("L", None, None).unwrap(), None);
        assert_eq!(next_page("L", None, Some(String::new())).unwrap(), None);
        assert_eq!(
            next_page("L", Some("a"), Some("b".to_string())).unwrap(),
            Some("b".to_string())
        );
        assert_eq!(
            next_page("L", Some("a"), Some("a".to_string())).unwrap_err().kind,
            ErrorKind::Other
        );
    }

    #[tokio::test]
    async fn connect_uses_the_configured_region_without_calling_aws() {
        let settings = AwsSettings {
            region: Some("eu-west-1".to_string()),
            endpoint_url: Some("http://127.0.0.1:9".to_string()),
            ..AwsSettings::default()
        };
        let cloud = AwsCloud::connect(settings).await.unwrap();
        assert_eq!(cloud.region, "eu-west-1");
        assert_eq!(cloud.total_calls(), 0);
    }

    #[tokio::test]
    async fn a_profile_in_neither_file_is_unknown_and_the_error_lists_those_there_are() {
        let env = Env::from_slice(&[("HOME", "/home/u")]);
        let fs = Fs::from_slice(&[
            (
                "/home/u/.aws/config",
                "[profile dev]\nregion = eu-west-1\n[default]\nregion = eu-west-1\n",
            ),
            (
                "/home/u/.aws/credentials",
                "[ci]\naws_access_key_id = AKID\naws_secret_access_key = s\n",
            ),
        ]);
        for name in ["dev", "default", "ci"] {
            assert_eq!(profile_exists(name, &fs, &env).await, Ok(()), "{name}");
        }
        let error = profile_exists("staging", &fs, &env).await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::UnknownProfile);
        assert_eq!(
            error.to_string(),
            "the AWS profile `staging` is not defined in the AWS config or credentials file (the profiles \
             defined are ci, default, dev)"
        );
        let none = profile_exists("dev", &Fs::from_slice(&[]), &env).await.unwrap_err();
        assert!(
            none.message
                .ends_with("(the AWS config and credentials files define no profile)"),
            "{none}"
        );
    }
}
