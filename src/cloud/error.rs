//! Machine failures from AWS, classified once (in `aws`) so every later stage
//! can match on the kind instead of on error strings.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What went wrong, as far as the caller's decision is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The resource does not exist (or is TERMINATED).
    NotFound,
    /// Rate limited, still after the SDK's retries.
    Throttled,
    /// The resource is in a state that does not allow the call, or a
    /// concurrent change conflicts (for example an idempotency token reused
    /// with a different request).
    Conflict,
    /// The request was rejected as invalid; retrying will not help.
    Invalid,
    /// A principal or role that was just created is not yet visible to the
    /// service (IAM eventual consistency); retrying after a while helps.
    Propagation,
    /// The caller lacks permission.
    AccessDenied,
    /// No credentials were found anywhere the credential chain looks.
    NoCredentials,
    /// The profile's AWS IAM Identity Center (SSO) session has expired or was
    /// never started: `aws sso login` renews it.
    SsoLoginRequired,
    /// The named profile is in neither the AWS config nor the credentials file.
    UnknownProfile,
    /// No AWS region is configured.
    NoRegion,
    /// The endpoint refused the connection.
    ConnectionRefused,
    /// The endpoint's host name does not resolve.
    DnsFailure,
    /// The TLS handshake with the endpoint failed.
    TlsFailure,
    /// The service refused the request's signature as too old or too new:
    /// this machine's clock is off.
    ClockSkew,
    /// A server error, dropped connection or timeout, still after the SDK's retries.
    Transient,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// Whether retrying the same call later can succeed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::Throttled | ErrorKind::Propagation | ErrorKind::Transient
        )
    }
}

impl ErrorKind {
    /// Whether the failure is in how emrstack reaches AWS (credentials,
    /// profile, region, network, clock) rather than in what a call asked
    /// for: every call would fail the same way until the setup is fixed.
    pub fn is_setup(self) -> bool {
        matches!(
            self,
            ErrorKind::NoCredentials
                | ErrorKind::SsoLoginRequired
                | ErrorKind::UnknownProfile
                | ErrorKind::NoRegion
                | ErrorKind::ConnectionRefused
                | ErrorKind::DnsFailure
                | ErrorKind::TlsFailure
                | ErrorKind::ClockSkew
        )
    }
}

impl ErrorKind {
    /// The kind in a few words (`throttled`, `access denied`, `conflict`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not found",
            ErrorKind::Throttled => "throttled",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Invalid => "invalid request",
            ErrorKind::Propagation => "not yet propagated",
            ErrorKind::AccessDenied => "access denied",
            ErrorKind::NoCredentials => "no credentials",
            ErrorKind::SsoLoginRequired => "SSO login required",
            ErrorKind::UnknownProfile => "unknown profile",
            ErrorKind::NoRegion => "no region",
            ErrorKind::ConnectionRefused => "connection refused",
            ErrorKind::DnsFailure => "DNS failure",
            ErrorKind::TlsFailure => "TLS failure",
            ErrorKind::ClockSkew => "clock skew",
            ErrorKind::Transient => "transient failure",
            ErrorKind::Other => "error",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed AWS call.
///
/// For a setup failure ([`ErrorKind::is_setup`]) `message` says in plain
/// words what is wrong and `cause` keeps the SDK's own account of it, for
/// `-v`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct CloudError {
    pub kind: ErrorKind,
    /// The API operation (`CreateApplication`).
    pub operation: String,
    /// The service's error code (`ValidationException`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub message: String,
    /// The AWS request ID, for support cases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The underlying error, as the SDK tells it, when `message` is ours
    /// (boxed: it is rare, and keeps `Result<_, CloudError>` small).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Box<str>>,
}

impl CloudError {
    pub fn new(kind: ErrorKind, operation: impl Into<String>, message: impl Into<String>) -> CloudError {
        CloudError {
            kind,
            operation: operation.into(),
            code: None,
            message: message.into(),
            request_id: None,
            cause: None,
        }
    }

    pub fn with_cause(mut self, cause: impl Into<String>) -> CloudError {
        self.cause = Some(cause.into().into_boxed_str());
        self
    }

    pub fn with_code(mut self, code: impl Into<String>) -> CloudError {
        self.code = Some(code.into());
        self
    }

    pub fn not_found(operation: impl Into<String>, message: impl Into<String>) -> CloudError {
        CloudError::new(ErrorKind::NotFound, operation, message)
    }

    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }
}

impl fmt::Display for CloudError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A setup failure is not about the operation that met it first.
        if self.kind.is_setup() {
            return f.write_str(&self.message);
        }
        write!(f, "{} failed ({})", self.operation, self.kind)?;
        if let Some(code) = &self.code {
            write!(f, ": {code}")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(request_id) = &self.request_id {
            write!(f, " (request id {request_id})")?;
        }
        Ok(())
    }
}
