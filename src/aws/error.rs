//! Error classification: every SDK error becomes a [`CloudError`] here, with
//! one `classify_*` function per service deciding the [`ErrorKind`].
//!
//! The SDK has already retried what it could (throttling, 5xx, timeouts,
//! dropped connections) by the time an error arrives here; the kind tells the
//! executor what is left to do (wait for propagation, stop the application
//! first, give up).
//!
//! Failures of the setup rather than of a call (no credentials, an SSO
//! session to renew, an unknown profile, no region, an endpoint that refuses
//! connections, does not resolve or fails the TLS handshake, a clock that is
//! off) get a kind of their own ([`ErrorKind::is_setup`]) and a message in
//! plain words ([`explain`]), with the SDK's account kept as the cause. The
//! chain of the SDK error's sources tells them apart: the SDK wraps a
//! [`CredentialsError`] for credentials, a `std::io::Error` for a refused
//! connection, and names DNS and TLS failures in its messages.

use std::error::Error as StdError;

use aws_credential_types::provider::error::CredentialsError;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;

use super::settings::Service;
use crate::cloud::{CloudError, ErrorKind};

/// How a call failed, before classification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The service answered with an error.
    Service,
    /// No complete response: connection refused, reset or dropped.
    Dispatch,
    /// The attempt or operation timeout fired.
    Timeout,
    /// A response arrived that could not be parsed.
    Response,
    /// The request could not be built (a bug on our side, or no credentials).
    Construction,
}

/// The facts classification looks at, taken from any SDK error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ErrorFacts {
    pub failure: Failure,
    pub code: Option<String>,
    pub message: String,
    pub status: Option<u16>,
    pub request_id: Option<String>,
    /// The setup failure the error's chain of sources shows, if any.
    pub setup: Option<ErrorKind>,
    /// The chain of the error's sources, outermost first, joined by `: `.
    pub chain: String,
}

impl ErrorFacts {
    /// Facts of a service error response.
    #[cfg(test)]
    pub(crate) fn service(code: &str, message: &str, status: u16) -> ErrorFacts {
        ErrorFacts {
            failure: Failure::Service,
            code: Some(code.to_string()),
            message: message.to_string(),
            status: Some(status),
            request_id: None,
            setup: None,
            chain: String::new(),
        }
    }

    fn code(&self) -> &str {
        self.code.as_deref().unwrap_or("")
    }
}

/// Extracts the facts from an SDK error of any operation.
pub(crate) fn facts<E>(err: &SdkError<E, HttpResponse>) -> ErrorFacts
where
    E: ProvideErrorMetadata + StdError + 'static,
{
    let request_id =
        |from_headers: Option<&str>, from_body: Option<&str>| from_headers.or(from_body).map(str::to_string);
    let setup = setup_failure(err);
    let chain = chain_text(err);
    match err {
        SdkError::ServiceError(context) => {
            let service_error = context.err();
            let message = match service_error.message() {
                Some(message) => message.to_string(),
                None => DisplayErrorContext(service_error).to_string(),
            };
            ErrorFacts {
                failure: Failure::Service,
                code: service_error.code().map(str::to_string),
                message,
                status: Some(context.raw().status().as_u16()),
                // Query protocols (IAM, EC2, STS) carry the request ID in the
                // body, which the SDK keeps in the error metadata.
                request_id: request_id(context.raw().headers().request_id(), service_error.meta().request_id()),
                setup,
                chain,
            }
        }
        SdkError::ResponseError(context) => ErrorFacts {
            failure: Failure::Response,
            code: None,
            message: DisplayErrorContext(err).to_string(),
            status: Some(context.raw().status().as_u16()),
            request_id: request_id(context.raw().headers().request_id(), None),
            setup,
            chain,
        },
        SdkError::TimeoutError(_) => ErrorFacts {
            failure: Failure::Timeout,
            code: None,
            message: DisplayErrorContext(err).to_string(),
            status: None,
            request_id: None,
            setup,
            chain,
        },
        SdkError::DispatchFailure(dispatch) => ErrorFacts {
            failure: if dispatch.is_timeout() {
                Failure::Timeout
            } else {
                Failure::Dispatch
            },
            code: None,
            message: DisplayErrorContext(err).to_string(),
            status: None,
            request_id: None,
            setup,
            chain,
        },
        _ => ErrorFacts {
            failure: Failure::Construction,
            code: None,
            message: DisplayErrorContext(err).to_string(),
            status: None,
            request_id: None,
            setup,
            chain,
        },
    }
}

/// The classified error of one SDK call.
pub(crate) fn cloud_error<E>(service: Service, operation: &str, err: &SdkError<E, HttpResponse>) -> CloudError
where
    E: ProvideErrorMetadata + StdError + 'static,
{
    let facts = facts(err);
    from_facts(service, operation, facts)
}

/// The classified error for already extracted facts. Setup failures come
/// first: they are the same whatever the service.
pub(crate) fn from_facts(service: Service, operation: &str, facts: ErrorFacts) -> CloudError {
    let setup = facts
        .setup
        .or_else(|| is_clock_skew(&facts).then_some(ErrorKind::ClockSkew));
    let kind = setup.unwrap_or_else(|| match service {
        Service::EmrServerless => classify_emr(&facts),
        Service::Iam => classify_iam(&facts),
        Service::Ecr => classify_ecr(&facts),
        Service::Ec2 => classify_ec2(&facts),
        Service::Sts => classify_sts(&facts),
        Service::S3 => classify_s3(&facts),
        Service::Tagging => classify_tagging(&facts),
    });
    let cause = kind.is_setup().then(|| {
        let account = match &facts.code {
            Some(code) => format!("{code}: {}", facts.message),
            None if facts.chain.is_empty() => facts.message.clone(),
            None => facts.chain.clone(),
        };
        format!("{operation}: {account}").into_boxed_str()
    });
    CloudError {
        kind,
        operation: operation.to_string(),
        code: facts.code,
        message: facts.message,
        request_id: facts.request_id,
        cause,
    }
}

/// Where calls go and as whom: what the plain-words message of a setup
/// failure names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Reach {
    /// The endpoint every call goes to, when it is not AWS's own.
    pub endpoint: Option<String>,
    /// The profile in use: the one given, or `AWS_PROFILE`; `None` for the
    /// default profile.
    pub profile: Option<String>,
}

/// Gives a setup failure its message in plain words (the SDK's account is
/// kept in `cause`); other errors are returned as they are.
pub(crate) fn explain(mut error: CloudError, reach: &Reach, service: Service) -> CloudError {
    let endpoint = match &reach.endpoint {
        Some(endpoint) => format!("the endpoint {endpoint}"),
        None => format!("the AWS endpoint of {service}"),
    };
    let profile = reach.profile.as_deref().unwrap_or("default");
    let message = match error.kind {
        ErrorKind::NoCredentials => "no AWS credentials were found: not in the environment (AWS_ACCESS_KEY_ID), \
             the profile, a web identity token, the container or the instance metadata"
            .to_string(),
        ErrorKind::SsoLoginRequired => {
            let login = match &reach.profile {
                Some(profile) => format!("aws sso login --profile {profile}"),
                None => "aws sso login".to_string(),
            };
            format!(
                "the AWS SSO session of profile `{profile}` has expired or was never started: run `{login}`, \
                 then try again"
            )
        }
        ErrorKind::UnknownProfile => format!("the AWS profile `{profile}` is not defined"),
        ErrorKind::ConnectionRefused => format!("{endpoint} refused the connection"),
        ErrorKind::DnsFailure => format!("the host name of {endpoint} does not resolve"),
        ErrorKind::TlsFailure => format!("the TLS handshake with {endpoint} failed"),
        ErrorKind::ClockSkew => "AWS refused the request's signature as expired or not yet valid: this \
             computer's clock differs from AWS's by more than a few minutes; set the clock right (turn on \
             network time synchronisation), then try again"
            .to_string(),
        _ => return error,
    };
    error.message = message;
    error
}

/// The setup failure that an SDK error's chain of sources shows, if any.
fn setup_failure(err: &(dyn StdError + 'static)) -> Option<ErrorKind> {
    let chain: Vec<&(dyn StdError + 'static)> = std::iter::successors(Some(err), |&error| error.source()).collect();
    let text_from = |start: usize| {
        chain[start..]
            .iter()
            .map(|error| error.to_string().to_ascii_lowercase())
            .collect::<Vec<_>>()
            .join(": ")
    };
    if let Some(at) = chain
        .iter()
        .position(|error| error.downcast_ref::<CredentialsError>().is_some())
    {
        let text = text_from(at);
        // aws-config's SSO token provider: "the SSO token has expired and
        // cannot be refreshed", or "failed to read `~/.aws/sso/cache/...`"
        // when `aws sso login` never ran.
        if text.contains("sso token") || text.contains("sso/cache") {
            return Some(ErrorKind::SsoLoginRequired);
        }
        if text.contains("profile `") && text.contains("was not defined") {
            return Some(ErrorKind::UnknownProfile);
        }
        return Some(ErrorKind::NoCredentials);
    }
    let refused = chain.iter().any(|error| {
        error
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
    });
    if refused {
        return Some(ErrorKind::ConnectionRefused);
    }
    let text = text_from(0);
    // hyper-util's connector says "dns error", the system resolver "failed
    // to lookup address information".
    if text.contains("dns error") || text.contains("failed to lookup address") {
        return Some(ErrorKind::DnsFailure);
    }
    // rustls, through hyper-rustls.
    const TLS: &[&str] = &[
        "tls handshake",
        "received corrupt message",
        "invalid peer certificate",
        "invalidcontenttype",
        "peer is incompatible",
        "handshake failure",
        "unknownissuer",
        "received fatal alert",
    ];
    if TLS.iter().any(|marker| text.contains(marker)) {
        return Some(ErrorKind::TlsFailure);
    }
    None
}

/// The messages of an error and its sources, outermost first.
fn chain_text(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for error in std::iter::successors(Some(err), |&error| error.source()) {
        let text = error.to_string();
        // Wrappers often repeat their source's text.
        if !text.is_empty() && parts.last() != Some(&text) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

/// Whether the service refused the signature's time: SigV4 signatures are
/// valid for a few minutes either side of the service's clock. S3 says
/// `RequestTimeTooSkewed`, EC2 `RequestExpired`, query services (STS, IAM)
/// `SignatureDoesNotMatch` and JSON services `InvalidSignatureException`
/// with "Signature expired: 20220127T001427Z is now earlier than ..." or
/// "Signature not yet current: ... is still later than ..." (aws/aws-cli#6676,
/// aws/aws-sdk-js#527; docs/aws.md). The SDK corrects a skew it can measure
/// from the response's `Date` before this, so what arrives here it could not.
fn is_clock_skew(facts: &ErrorFacts) -> bool {
    match facts.code() {
        "RequestTimeTooSkewed" | "RequestExpired" => true,
        "SignatureDoesNotMatch" | "InvalidSignatureException" | "AuthFailure" | "AccessDeniedException" => {
            contains(&facts.message, "signature expired") || contains(&facts.message, "signature not yet current")
        }
        _ => false,
    }
}

/// EMR Serverless.
pub(crate) fn classify_emr(facts: &ErrorFacts) -> ErrorKind {
    match facts.code() {
        "ResourceNotFoundException" => ErrorKind::NotFound,
        "ConflictException" => ErrorKind::Conflict,
        "ValidationException" if is_state_conflict(&facts.message) => ErrorKind::Conflict,
        "ValidationException" if is_role_propagation(&facts.message) => ErrorKind::Propagation,
        "ValidationException" | "AccessDeniedException" if is_missing_slr_permission(&facts.message) => {
            ErrorKind::AccessDenied
        }
        "ValidationException" | "InternalServerException" if is_slr_in_progress(&facts.message) => {
            ErrorKind::Propagation
        }
        "ValidationException" | "ServiceQuotaExceededException" => ErrorKind::Invalid,
        "InternalServerException" => ErrorKind::Transient,
        _ => classify_common(facts),
    }
}

/// IAM.
pub(crate) fn classify_iam(facts: &ErrorFacts) -> ErrorKind {
    match facts.code() {
        "NoSuchEntity" => ErrorKind::NotFound,
        "EntityAlreadyExists" | "DeleteConflict" => ErrorKind::Conflict,
        // IAM checks principals when a trust policy is written; a role or
        // user created seconds ago is not visible yet.
        "MalformedPolicyDocument" if contains(&facts.message, "invalid principal in policy") => ErrorKind::Propagation,
        "MalformedPolicyDocument" | "InvalidInput" | "LimitExceeded" | "UnmodifiableEntity" | "PolicyNotAttachable" => {
            ErrorKind::Invalid
        }
        "ServiceFailure" | "ConcurrentModification" | "EntityTemporarilyUnmodifiable" => ErrorKind::Transient,
        _ => classify_common(facts),
    }
}

/// ECR.
pub(crate) fn classify_ecr(facts: &ErrorFacts) -> ErrorKind {
    match facts.code() {
        "RepositoryNotFoundException" | "ImageNotFoundException" | "RepositoryPolicyNotFoundException" => {
            ErrorKind::NotFound
        }
        // ECR checks IAM principals in a repository policy when it is set;
        // a role created seconds ago is not visible yet.
        "InvalidParameterException" if contains(&facts.message, "principal not found") => ErrorKind::Propagation,
        "InvalidParameterException"
        | "ValidationException"
        | "LimitExceededException"
        | "InvalidTagParameterException" => ErrorKind::Invalid,
        "ServerException" => ErrorKind::Transient,
        _ => classify_common(facts),
    }
}

/// EC2. Its error codes are not modelled; missing resources end in `.NotFound`.
pub(crate) fn classify_ec2(facts: &ErrorFacts) -> ErrorKind {
    let code = facts.code();
    if code.ends_with(".NotFound") {
        return ErrorKind::NotFound;
    }
    if code.ends_with(".Malformed") {
        return ErrorKind::Invalid;
    }
    match code {
        "InvalidParameterValue"
        | "InvalidParameter"
        | "InvalidParameterCombination"
        | "MissingParameter"
        | "InvalidFilter" => ErrorKind::Invalid,
        "InternalError" | "Unavailable" => ErrorKind::Transient,
        _ => classify_common(facts),
    }
}

/// STS.
pub(crate) fn classify_sts(facts: &ErrorFacts) -> ErrorKind {
    match facts.code() {
        "RegionDisabledException" => ErrorKind::AccessDenied,
        _ => classify_common(facts),
    }
}

/// S3. Error codes from S3's error code list; a HEAD answer has no body, so
/// no code, and falls to its status.
pub(crate) fn classify_s3(facts: &ErrorFacts) -> ErrorKind {
    match facts.code() {
        "NoSuchBucket" | "NoSuchKey" | "NotFound" => ErrorKind::NotFound,
        // A condition (If-Match, If-None-Match) did not hold.
        "PreconditionFailed" => ErrorKind::Conflict,
        // "A conflicting conditional operation is currently in progress
        // against this resource. Try again." (PutObject, API reference).
        "ConditionalRequestConflict" => ErrorKind::Transient,
        // The bucket is in another region (a redirect, or a request signed
        // for the wrong region at the bucket's endpoint): not retryable.
        "PermanentRedirect" | "AuthorizationHeaderMalformed" | "IllegalLocationConstraintException" => {
            ErrorKind::Invalid
        }
        "InvalidArgument"
        | "InvalidRequest"
        | "InvalidBucketName"
        | "KeyTooLongError"
        | "EntityTooLarge"
        | "NotImplemented"
        | "InvalidStorageClass" => ErrorKind::Invalid,
        "" if facts.status == Some(404) => ErrorKind::NotFound,
        "" if facts.status == Some(412) => ErrorKind::Conflict,
        "" if matches!(facts.status, Some(301 | 307)) => ErrorKind::Invalid,
        _ => classify_common(facts),
    }
}

/// The Resource Groups Tagging API. `AccessDeniedException` (HTTP 400, not
/// modelled) falls to the shared rules; `ThrottledException` too.
pub(crate) fn classify_tagging(facts: &ErrorFacts) -> ErrorKind {
    match facts.code() {
        "InvalidParameterException" => ErrorKind::Invalid,
        "InternalServiceException" => ErrorKind::Transient,
        // A token expires after 15 minutes: retrying sends the same expired
        // token, so it is not retryable; the listing starts again instead
        // (`tagging::all_pages`), once.
        "PaginationTokenExpiredException" => ErrorKind::Other,
        _ => classify_common(facts),
    }
}

/// What every service shares: transport failures, throttling, credentials,
/// and HTTP status classes for codes no service-specific rule knows.
fn classify_common(facts: &ErrorFacts) -> ErrorKind {
    match facts.failure {
        Failure::Timeout | Failure::Dispatch | Failure::Construction if mentions_credentials(&facts.message) => {
            return ErrorKind::NoCredentials;
        }
        Failure::Timeout | Failure::Dispatch => return ErrorKind::Transient,
        Failure::Construction => return ErrorKind::Other,
        Failure::Service | Failure::Response => {}
    }
    const THROTTLING: &[&str] = &[
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
        "EC2ThrottledException",
    ];
    const ACCESS: &[&str] = &[
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "AuthFailure",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "MissingAuthenticationToken",
        "ExpiredToken",
        "ExpiredTokenException",
    ];
    const TRANSIENT: &[&str] = &[
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "InternalServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    ];
    let code = facts.code();
    if THROTTLING.contains(&code) {
        return ErrorKind::Throttled;
    }
    if ACCESS.contains(&code) {
        return ErrorKind::AccessDenied;
    }
    if TRANSIENT.contains(&code) {
        return ErrorKind::Transient;
    }
    match facts.status {
        Some(429) => ErrorKind::Throttled,
        Some(status) if status >= 500 => ErrorKind::Transient,
        Some(401 | 403) if code.is_empty() => ErrorKind::AccessDenied,
        _ => ErrorKind::Other,
    }
}

/// Whether an EMR Serverless `ValidationException` says the application (or
/// job run) is in a state that does not allow the call, as opposed to the
/// request being wrong. The executor reacts to these by stopping the
/// application or waiting, so every wording the service uses belongs here.
pub(crate) fn is_state_conflict(message: &str) -> bool {
    // Stable fragments of the service's wordings, not whole sentences: the
    // texts have typos and vary between operations and over time.
    const PHRASES: &[&str] = &[
        // UpdateApplication: "Application X must be in one of the following
        // statuses [CREATED, STOPPED]. Current status: STARTED"; 2023:
        // "must be in one of the statuses to be updated: [STOPPED, CREATED]";
        // DeleteApplication, typo included: "Application X must be in of the
        // following statuses [CREATED, STOPPED]. Current status: STARTED"
        // (gchq/sleeper #2909).
        "of the following statuses",
        "of the statuses",
        "current status:",
        // Updates of a STARTED application outside the live subset: "Only the
        // following configurations can be updated when an application is in
        // STARTED state: ..." (TF #49109), "Only MaxConcurrentRuns from
        // SchedulerConfiguration can be updated when application is in
        // STARTED state." (aws/aws-cdk #35488).
        "in started state",
        // Image updates of a STARTED application with pre-initialized
        // capacity (GUIDE, "Updating running applications").
        "pre-initialized capacity",
        "preinitialized capacity",
        // StopApplication and DeleteApplication while job runs are active.
        "running jobs",
        "job runs are active",
        "jobs must be completed or cancelled",
        "active sessions",
        // "Application X cannot be started in state TERMINATED", "Job run X is in terminal state SUCCESS".
        "cannot be started in state",
        "cannot be stopped in state",
        "in terminal state",
    ];
    let lower = message.to_ascii_lowercase();
    PHRASES.iter().any(|phrase| lower.contains(phrase))
}

/// Whether an EMR Serverless `ValidationException` says a role cannot be
/// assumed yet, which right after the role was created is IAM propagation.
pub(crate) fn is_role_propagation(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("role")
        && [
            "cannot be assumed",
            "could not be assumed",
            "unable to assume",
            "failed to assume",
            "not authorized to perform: sts:assumerole",
        ]
        .iter()
        .any(|phrase| lower.contains(phrase))
}

/// Whether the caller may not create the EMR Serverless service-linked role,
/// which the first `CreateApplication` of an account does: a permission to
/// grant, not something to wait for.
pub(crate) fn is_missing_slr_permission(message: &str) -> bool {
    contains(message, "iam:createservicelinkedrole")
}

/// Whether an error says the service-linked role the first application of
/// an account needs is being created (or not visible yet): the service
/// creates it by itself, so retrying within the propagation window helps.
pub(crate) fn is_slr_in_progress(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    (lower.contains("service-linked role")
        || lower.contains("service linked role")
        || lower.contains("servicelinkedrole"))
        && !lower.contains("not authorized")
}

fn contains(message: &str, lowercase_phrase: &str) -> bool {
    message.to_ascii_lowercase().contains(lowercase_phrase)
}

fn mentions_credentials(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("credentials") && !lower.contains("connection")
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::result::{ConnectorError, SdkError};
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn check(classify: fn(&ErrorFacts) -> ErrorKind, cases: &[(&str, &str, u16, ErrorKind)]) {
        for (code, message, status, expect) in cases {
            let facts = ErrorFacts::service(code, message, *status);
            assert_eq!(classify(&facts), *expect, "{code}: {message} ({status})");
        }
    }

    #[test]
    fn emr_serverless_table() {
        use ErrorKind::*;
        check(
            classify_emr,
            &[
                (
                    "ResourceNotFoundException",
                    "Application 00f does not exist",
                    404,
                    NotFound,
                ),
                (
                    "ConflictException",
                    "The client token t was already used for a different request",
                    409,
                    Conflict,
                ),
                (
                    "ValidationException",
                    "Application 00f must be in one of the following statuses [CREATED, STOPPED]. Current status: STARTED",
                    400,
                    Conflict,
                ),
                (
                    "ValidationException",
                    "Application 00f must be in of the following statuses [CREATED, STOPPED]. Current status: STARTED",
                    400,
                    Conflict,
                ),
                (
                    "ValidationException",
                    "Only the following configurations can be updated when an application is in STARTED state: schedulerConfiguration.maxConcurrentRuns, extendedSupportConfiguration, imageConfiguration, workerTypeSpecifications.imageConfiguration, maximumCapacity.",
                    400,
                    Conflict,
                ),
                (
                    "ValidationException",
                    "Only MaxConcurrentRuns from SchedulerConfiguration can be updated when application is in STARTED state.",
                    400,
                    Conflict,
                ),
                (
                    "ValidationException",
                    "Custom image updates on running applications are not supported on applications with pre-initialized capacity configured.",
                    400,
                    Conflict,
                ),
                (
                    "ValidationException",
                    "Application 00f must be in one of the statuses to be updated: [STOPPED, CREATED]. Current status: STARTED",
                    400,
                    Conflict,
                ),
                (
                    "ValidationException",
                    "Application must be in one of the statuses to be updated: [STOPPED, CREATED]",
                    400,
                    Conflict,
                ),
                (
                    "ValidationException",
                    "Application cannot be stopped while there are running jobs",
                    400,
                    Conflict,
                ),
                (
                    "ValidationException",
                    "Application 00f cannot be stopped while job runs are active: j1 (RUNNING). All scheduled and running jobs must be completed or cancelled first.",
                    400,
                    Conflict,
                ),
                (
                    "ValidationException",
                    "Application 00f cannot be started in state TERMINATED",
                    400,
                    Conflict,
                ),
                (
                    "ValidationException",
                    "Execution role arn:aws:iam::1:role/r cannot be assumed: it does not exist or is not set up with the required trust relationship",
                    400,
                    Propagation,
                ),
                (
                    "ValidationException",
                    "Release label emr-1.0.0 is not supported",
                    400,
                    Invalid,
                ),
                (
                    "ValidationException",
                    "The service-linked role AWSServiceRoleForAmazonEMRServerless is being created. Try again later.",
                    400,
                    Propagation,
                ),
                (
                    "AccessDeniedException",
                    "User: arn:aws:iam::1:user/ci is not authorized to perform: iam:CreateServiceLinkedRole on resource: arn:aws:iam::1:role/aws-service-role/ops.emr-serverless.amazonaws.com/AWSServiceRoleForAmazonEMRServerless",
                    400,
                    AccessDenied,
                ),
                (
                    "ServiceQuotaExceededException",
                    "The maximum number of applications has been reached",
                    402,
                    Invalid,
                ),
                ("InternalServerException", "boom", 500, Transient),
                ("ThrottlingException", "Rate exceeded", 429, Throttled),
                ("TooManyRequestsException", "slow down", 429, Throttled),
                ("", "", 429, Throttled),
                ("", "", 503, Transient),
                ("AccessDeniedException", "User is not authorized", 403, AccessDenied),
                (
                    "UnrecognizedClientException",
                    "The security token included in the request is invalid",
                    403,
                    AccessDenied,
                ),
                ("SomethingNew", "?", 400, Other),
            ],
        );
    }

    #[test]
    fn iam_table() {
        use ErrorKind::*;
        check(
            classify_iam,
            &[
                ("NoSuchEntity", "The role with name r cannot be found.", 404, NotFound),
                ("EntityAlreadyExists", "Role with name r already exists.", 409, Conflict),
                (
                    "DeleteConflict",
                    "Cannot delete entity, must delete policies first.",
                    409,
                    Conflict,
                ),
                (
                    "MalformedPolicyDocument",
                    "Invalid principal in policy: \"AWS\":\"arn:aws:iam::1:role/new\"",
                    400,
                    Propagation,
                ),
                ("MalformedPolicyDocument", "Syntax errors in policy.", 400, Invalid),
                (
                    "LimitExceeded",
                    "Cannot exceed quota for PoliciesPerRole: 10",
                    409,
                    Invalid,
                ),
                ("InvalidInput", "bad", 400, Invalid),
                ("ServiceFailure", "internal", 500, Transient),
                ("ConcurrentModification", "try again", 409, Transient),
                ("Throttling", "Rate exceeded", 400, Throttled),
                ("AccessDenied", "not authorized", 403, AccessDenied),
            ],
        );
    }

    #[test]
    fn ecr_table() {
        use ErrorKind::*;
        check(
            classify_ecr,
            &[
                (
                    "RepositoryNotFoundException",
                    "The repository with name 'x' does not exist",
                    400,
                    NotFound,
                ),
                ("ImageNotFoundException", "The image does not exist", 400, NotFound),
                ("RepositoryPolicyNotFoundException", "no policy", 400, NotFound),
                (
                    "InvalidParameterException",
                    "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Principal not found'",
                    400,
                    Propagation,
                ),
                (
                    "InvalidParameterException",
                    "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'",
                    400,
                    Invalid,
                ),
                ("LimitExceededException", "too many", 400, Invalid),
                ("ServerException", "internal", 500, Transient),
                ("ThrottlingException", "Rate exceeded", 400, Throttled),
                ("AccessDeniedException", "no", 400, AccessDenied),
            ],
        );
    }

    #[test]
    fn ec2_and_sts_tables() {
        use ErrorKind::*;
        check(
            classify_ec2,
            &[
                (
                    "InvalidSubnetID.NotFound",
                    "The subnet ID 'subnet-1' does not exist",
                    400,
                    NotFound,
                ),
                (
                    "InvalidGroup.NotFound",
                    "The security group 'sg-1' does not exist",
                    400,
                    NotFound,
                ),
                ("InvalidVpcID.NotFound", "x", 400, NotFound),
                ("InvalidSubnetID.Malformed", "x", 400, Invalid),
                ("InvalidParameterValue", "x", 400, Invalid),
                ("RequestLimitExceeded", "Request limit exceeded.", 503, Throttled),
                ("InternalError", "x", 500, Transient),
                ("Unavailable", "x", 503, Transient),
                ("UnauthorizedOperation", "You are not authorized", 403, AccessDenied),
                ("AuthFailure", "x", 401, AccessDenied),
            ],
        );
        check(
            classify_sts,
            &[
                (
                    "InvalidClientTokenId",
                    "The security token included in the request is invalid.",
                    403,
                    AccessDenied,
                ),
                ("ExpiredToken", "expired", 400, AccessDenied),
                ("Throttling", "Rate exceeded", 400, Throttled),
                ("", "", 500, Transient),
            ],
        );
    }

    #[test]
    fn s3_table() {
        use ErrorKind::*;
        check(
            classify_s3,
            &[
                ("NoSuchBucket", "The specified bucket does not exist", 404, NotFound),
                ("NoSuchKey", "The specified key does not exist.", 404, NotFound),
                ("", "", 404, NotFound),
                (
                    "PreconditionFailed",
                    "At least one of the pre-conditions you specified did not hold",
                    412,
                    Conflict,
                ),
                (
                    "ConditionalRequestConflict",
                    "A conflicting conditional operation is currently in progress against this resource. Try again.",
                    409,
                    Transient,
                ),
                (
                    "PermanentRedirect",
                    "The bucket you are attempting to access must be addressed using the specified endpoint.",
                    301,
                    Invalid,
                ),
                ("", "", 301, Invalid),
                (
                    "AuthorizationHeaderMalformed",
                    "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'",
                    400,
                    Invalid,
                ),
                (
                    "AccessDenied",
                    "User: arn:aws:iam::1:user/ci is not authorized to perform: s3:PutObject",
                    403,
                    AccessDenied,
                ),
                ("", "", 403, AccessDenied),
                ("SlowDown", "Please reduce your request rate.", 503, Throttled),
                ("InternalError", "We encountered an internal error.", 500, Transient),
                (
                    "NotImplemented",
                    "A header you provided implies functionality that is not implemented",
                    501,
                    Invalid,
                ),
            ],
        );
    }

    #[test]
    fn tagging_table() {
        use ErrorKind::*;
        check(
            classify_tagging,
            &[
                ("InvalidParameterException", "bad filter", 400, Invalid),
                ("InternalServiceException", "internal", 500, Transient),
                // Not retryable: a retry sends the same expired token.
                (
                    "PaginationTokenExpiredException",
                    "A PaginationToken is valid for a maximum of 15 minutes.",
                    400,
                    Other,
                ),
                ("ThrottledException", "Rate exceeded", 400, Throttled),
                (
                    "AccessDeniedException",
                    "User: x is not authorized to perform: tag:GetResources",
                    400,
                    AccessDenied,
                ),
                ("UnknownOperationException", "", 400, Other),
            ],
        );
        assert!(!classify_tagging(&ErrorFacts::service("PaginationTokenExpiredException", "", 400)).is_retryable());
    }

    #[test]
    fn transport_failures_are_transient_and_missing_credentials_are_no_credentials() {
        let transport = |failure, message: &str| ErrorFacts {
            failure,
            code: None,
            message: message.to_string(),
            status: None,
            request_id: None,
            setup: None,
            chain: String::new(),
        };
        for classify in [
            classify_emr,
            classify_iam,
            classify_ecr,
            classify_ec2,
            classify_sts,
            classify_s3,
        ] {
            assert_eq!(
                classify(&transport(Failure::Dispatch, "connection reset")),
                ErrorKind::Transient
            );
            assert_eq!(
                classify(&transport(Failure::Timeout, "attempt timeout")),
                ErrorKind::Transient
            );
            assert_eq!(
                classify(&transport(
                    Failure::Dispatch,
                    "failed to load credentials: no providers in chain"
                )),
                ErrorKind::NoCredentials
            );
            assert_eq!(
                classify(&transport(Failure::Construction, "missing field")),
                ErrorKind::Other
            );
        }
    }

    fn response(status: u16, request_id: Option<&str>) -> HttpResponse {
        let mut response = HttpResponse::new(StatusCode::try_from(status).expect("status"), SdkBody::empty());
        if let Some(id) = request_id {
            response.headers_mut().insert("x-amzn-requestid", id.to_string());
        }
        response
    }

    #[test]
    fn sdk_errors_become_cloud_errors_with_code_message_and_request_id() {
        use aws_sdk_emrserverless::operation::get_application::GetApplicationError;
        let meta = ErrorMetadata::builder()
            .code("ResourceNotFoundException")
            .message("Application 00f does not exist")
            .build();
        let err = SdkError::service_error(GetApplicationError::generic(meta), response(404, Some("req-1")));
        let cloud = cloud_error(Service::EmrServerless, "GetApplication", &err);
        assert_eq!(
            cloud,
            CloudError {
                kind: ErrorKind::NotFound,
                operation: "GetApplication".to_string(),
                code: Some("ResourceNotFoundException".to_string()),
                message: "Application 00f does not exist".to_string(),
                request_id: Some("req-1".to_string()),
                cause: None,
            }
        );
    }

    #[test]
    fn modelled_errors_are_classified_like_generic_ones() {
        use aws_sdk_iam::operation::get_role::GetRoleError;
        use aws_sdk_iam::types::error::NoSuchEntityException;
        let modelled = NoSuchEntityException::builder()
            .message("The role with name r cannot be found.")
            .meta(
                ErrorMetadata::builder()
                    .code("NoSuchEntity")
                    .custom("aws_request_id", "body-id")
                    .build(),
            )
            .build();
        let err = SdkError::service_error(GetRoleError::NoSuchEntityException(modelled), response(404, None));
        let cloud = cloud_error(Service::Iam, "GetRole", &err);
        assert_eq!(cloud.kind, ErrorKind::NotFound);
        assert_eq!(cloud.code.as_deref(), Some("NoSuchEntity"));
        // IAM puts the request ID in the body; the SDK keeps it in the metadata.
        assert_eq!(cloud.request_id.as_deref(), Some("body-id"));
    }

    #[test]
    fn dispatch_and_timeout_errors_are_transient() {
        use aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesError;
        let io: SdkError<DescribeRepositoriesError, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::io("connection reset by peer".into()));
        assert_eq!(
            cloud_error(Service::Ecr, "DescribeRepositories", &io).kind,
            ErrorKind::Transient
        );
        let timeout: SdkError<DescribeRepositoriesError, HttpResponse> = SdkError::timeout_error("attempt timed out");
        assert_eq!(
            cloud_error(Service::Ecr, "DescribeRepositories", &timeout).kind,
            ErrorKind::Transient
        );
        let html: SdkError<DescribeRepositoriesError, HttpResponse> =
            SdkError::response_error("unexpected token '<'", response(502, None));
        assert_eq!(
            cloud_error(Service::Ecr, "DescribeRepositories", &html).kind,
            ErrorKind::Transient
        );
    }

    #[test]
    fn a_signature_refused_for_its_time_is_clock_skew_in_every_service() {
        use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;
        // STS, a clock 20 minutes slow (aws/aws-cli#6676).
        let meta = ErrorMetadata::builder()
            .code("SignatureDoesNotMatch")
            .message(
                "Signature expired: 20220127T001427Z is now earlier than 20220127T014428Z (20220127T015928Z - 15 min.)",
            )
            .build();
        let err = SdkError::service_error(GetCallerIdentityError::generic(meta), response(403, Some("req-9")));
        let cloud = explain(
            cloud_error(Service::Sts, "GetCallerIdentity", &err),
            &Reach::default(),
            Service::Sts,
        );
        assert_eq!(cloud.kind, ErrorKind::ClockSkew);
        assert!(!cloud.kind.is_retryable());
        assert!(
            cloud
                .to_string()
                .starts_with("AWS refused the request's signature as expired"),
            "{cloud}"
        );
        assert_eq!(
            cloud.cause.as_deref(),
            Some(
                "GetCallerIdentity: SignatureDoesNotMatch: Signature expired: 20220127T001427Z is now earlier than \
                 20220127T014428Z (20220127T015928Z - 15 min.)"
            )
        );
        let skew = |code: &str, message: &str| {
            from_facts(
                Service::EmrServerless,
                "GetApplication",
                ErrorFacts::service(code, message, 403),
            )
            .kind
        };
        assert_eq!(
            skew("RequestTimeTooSkewed", "The difference is too large."),
            ErrorKind::ClockSkew
        );
        assert_eq!(skew("RequestExpired", "Request has expired."), ErrorKind::ClockSkew);
        assert_eq!(
            skew(
                "InvalidSignatureException",
                "Signature not yet current: 20300101T000000Z is still later than 20291231T235500Z"
            ),
            ErrorKind::ClockSkew
        );
        // A wrong secret key is not the clock.
        assert_eq!(
            skew(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided."
            ),
            ErrorKind::AccessDenied
        );
        assert_eq!(
            skew("AccessDeniedException", "User is not authorized"),
            ErrorKind::AccessDenied
        );
    }

    #[test]
    fn the_chain_of_sources_tells_setup_failures_apart() {
        use aws_credential_types::provider::error::CredentialsError;
        use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;
        type Err = SdkError<GetCallerIdentityError, HttpResponse>;
        let kind = |err: Err| cloud_error(Service::Sts, "GetCallerIdentity", &err).kind;
        let credentials = |error: CredentialsError| -> Err {
            SdkError::dispatch_failure(ConnectorError::other(Box::new(error), None))
        };
        assert_eq!(
            kind(credentials(CredentialsError::not_loaded(
                "no providers in chain provided credentials"
            ))),
            ErrorKind::NoCredentials
        );
        assert_eq!(
            kind(credentials(CredentialsError::provider_error(
                "failed to load IMDS session token"
            ))),
            ErrorKind::NoCredentials
        );
        assert_eq!(
            kind(credentials(CredentialsError::provider_error(
                "the SSO token has expired and cannot be refreshed"
            ))),
            ErrorKind::SsoLoginRequired
        );
        assert_eq!(
            kind(credentials(CredentialsError::provider_error(
                "failed to read `/home/u/.aws/sso/cache/5e3a.json`"
            ))),
            ErrorKind::SsoLoginRequired
        );
        assert_eq!(
            kind(credentials(CredentialsError::not_loaded(
                "profile `x` was not defined: `x` was not defined"
            ))),
            ErrorKind::UnknownProfile
        );
        let io = |kind: std::io::ErrorKind, text: &str| -> Err {
            SdkError::dispatch_failure(ConnectorError::io(Box::new(std::io::Error::new(
                kind,
                text.to_string(),
            ))))
        };
        assert_eq!(
            kind(io(
                std::io::ErrorKind::ConnectionRefused,
                "Connection refused (os error 111)"
            )),
            ErrorKind::ConnectionRefused
        );
        assert_eq!(
            kind(io(
                std::io::ErrorKind::Other,
                "dns error: failed to lookup address information: Name or service not known"
            )),
            ErrorKind::DnsFailure
        );
        assert_eq!(
            kind(io(
                std::io::ErrorKind::InvalidData,
                "received corrupt message of type InvalidContentType"
            )),
            ErrorKind::TlsFailure
        );
        // Everything else on the way stays transient.
        assert_eq!(
            kind(io(std::io::ErrorKind::ConnectionReset, "connection reset by peer")),
            ErrorKind::Transient
        );
    }

    #[test]
    fn setup_failures_say_what_is_wrong_in_plain_words_and_keep_the_sdk_account() {
        use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;
        let err: SdkError<GetCallerIdentityError, HttpResponse> = SdkError::dispatch_failure(ConnectorError::io(
            Box::new(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
        ));
        let reach = Reach {
            endpoint: Some("http://127.0.0.1:9".to_string()),
            profile: None,
        };
        let cloud = explain(
            cloud_error(Service::Sts, "GetCallerIdentity", &err),
            &reach,
            Service::Sts,
        );
        assert_eq!(
            cloud.to_string(),
            "the endpoint http://127.0.0.1:9 refused the connection"
        );
        let cause = cloud.cause.expect("cause");
        assert!(
            cause.starts_with("GetCallerIdentity: dispatch failure: io error"),
            "{cause}"
        );
        assert!(!cause.contains("DispatchFailure {"), "no Debug dump: {cause}");

        let sso = CloudError::new(ErrorKind::SsoLoginRequired, "GetCallerIdentity", "sdk");
        let reach = Reach {
            endpoint: None,
            profile: Some("dev".to_string()),
        };
        assert_eq!(
            explain(sso, &reach, Service::Sts).to_string(),
            "the AWS SSO session of profile `dev` has expired or was never started: run `aws sso login --profile \
             dev`, then try again"
        );
        // Not a setup failure: left alone.
        let throttled = CloudError::new(ErrorKind::Throttled, "GetRole", "Rate exceeded");
        assert_eq!(explain(throttled.clone(), &reach, Service::Iam), throttled);
    }

    #[test]
    fn state_conflict_matcher_does_not_swallow_plain_validation_errors() {
        assert!(!is_state_conflict(
            "1 validation error detected: Value 'x' at 'name' failed to satisfy constraint"
        ));
        assert!(!is_state_conflict("Image URI foo is not valid"));
        assert!(!is_state_conflict(
            "1 validation error detected: Value '' at 'imageConfiguration.imageUri' failed to satisfy constraint: Member must have length greater than or equal to 1"
        ));
        assert!(!is_role_propagation("Role name is too long"));
    }
}
