//! `CliError`: why a command failed. Commands return it; `cli::main` prints
//! it, once, with advice for the failures a person can fix.

use crate::cloud::{CloudError, ErrorKind};

use super::output::Printer;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Everything there is to say was printed already (diagnostics with
    /// their positions, or an error document on stdout followed by its own
    /// message): only the exit code is left.
    #[error("the problems are printed above")]
    Reported,
    /// A message for people.
    #[error("{0}")]
    Message(String),
    /// A failed AWS call, with what the command was doing when a bare
    /// "X failed" would not say (`could not plan again after applying`).
    #[error("{}", match .doing { Some(doing) => format!("{doing}: {error}"), None => error.to_string() })]
    Cloud {
        doing: Option<String>,
        error: Box<CloudError>,
    },
    /// A command stopped by SIGINT or SIGTERM, which failed as it wound
    /// down: the exit code is the signal's (`code`), the message `error`'s.
    #[error("{error}")]
    Interrupted { code: u8, error: Box<CliError> },
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

impl From<CloudError> for CliError {
    fn from(error: CloudError) -> CliError {
        CliError::Cloud {
            doing: None,
            error: Box::new(error),
        }
    }
}

impl CliError {
    /// A message for people.
    pub fn message(text: impl Into<String>) -> CliError {
        CliError::Message(text.into())
    }

    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Interrupted { code, .. } => *code,
            _ => super::EXIT_ERROR,
        }
    }

    /// A failed AWS call during `doing`.
    pub fn cloud(doing: impl Into<String>, error: CloudError) -> CliError {
        CliError::Cloud {
            doing: Some(doing.into()),
            error: Box::new(error),
        }
    }
}

/// What the advice for a failed AWS call depends on besides the error.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Hints {
    /// Whether calls went to `--endpoint-url` (or `AWS_ENDPOINT_URL`) rather than AWS.
    pub endpoint_given: bool,
}

/// Prints `error: ...` to stderr; with `-v`, the underlying cause of a
/// setup failure on a second line.
pub(super) fn report(printer: &Printer, hints: Hints, error: &CliError) {
    match error {
        CliError::Reported => {}
        CliError::Message(text) => printer.error(text),
        CliError::Cloud { doing, error } => {
            let text = cloud_failure(error, hints);
            match doing {
                Some(doing) => printer.error(&format!("{doing}: {text}")),
                None => printer.error(&text),
            }
            if printer.verbose > 0
                && let Some(cause) = &error.cause
            {
                printer.message(&format!("  cause: {cause}"));
            }
        }
        CliError::Interrupted { error, .. } => report(printer, hints, error),
        CliError::Runtime(_) => printer.error(&error.to_string()),
    }
}

/// A one-line message for a failed AWS call, with what to do about it.
pub(super) fn cloud_failure(error: &CloudError, hints: Hints) -> String {
    let network = if hints.endpoint_given {
        "check --endpoint-url (or AWS_ENDPOINT_URL)"
    } else {
        "check the network connection and proxy settings (HTTPS_PROXY), or pass --endpoint-url"
    };
    let advice = match error.kind {
        ErrorKind::AccessDenied => "; check the credentials' permissions (see docs/aws.md)".to_string(),
        ErrorKind::Throttled => "; AWS kept throttling after every retry, try again or lower --parallelism".to_string(),
        ErrorKind::Transient => "; AWS failed after every retry, try again".to_string(),
        ErrorKind::NoCredentials => "; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --profile with a \
             profile of the AWS config file (`aws configure` or `aws configure sso` writes one)"
            .to_string(),
        ErrorKind::UnknownProfile => "; pass --profile (or set AWS_PROFILE) with a defined profile".to_string(),
        ErrorKind::NoRegion => "; pass --region, set `region` in the stack's [stack] table, or set AWS_REGION or \
             `region` in the AWS profile"
            .to_string(),
        ErrorKind::ConnectionRefused => format!("; {network}, and that the service is listening there"),
        ErrorKind::DnsFailure => format!("; {network}, and the host name"),
        ErrorKind::TlsFailure if hints.endpoint_given => {
            "; check --endpoint-url (or AWS_ENDPOINT_URL): an endpoint that speaks plain HTTP needs an http:// URL"
                .to_string()
        }
        ErrorKind::TlsFailure => {
            "; a proxy or firewall that intercepts TLS needs its certificate authority trusted by this system"
                .to_string()
        }
        // The message says what to do.
        ErrorKind::SsoLoginRequired | ErrorKind::ClockSkew => String::new(),
        ErrorKind::NotFound | ErrorKind::Conflict | ErrorKind::Invalid | ErrorKind::Propagation | ErrorKind::Other => {
            String::new()
        }
    };
    format!("{error}{advice}")
}
