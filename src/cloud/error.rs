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

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            ErrorKind::NotFound => "not found",
            ErrorKind::Throttled => "throttled",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Invalid => "invalid request",
            ErrorKind::Propagation => "not yet propagated",
            ErrorKind::AccessDenied => "access denied",
            ErrorKind::Transient => "transient failure",
            ErrorKind::Other => "error",
        };
        f.write_str(text)
    }
}

/// A failed AWS call.
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
}

impl CloudError {
    pub fn new(kind: ErrorKind, operation: impl Into<String>, message: impl Into<String>) -> CloudError {
        CloudError {
            kind,
            operation: operation.into(),
            code: None,
            message: message.into(),
            request_id: None,
        }
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
