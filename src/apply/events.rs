//! What the executor tells the outside world while it works.

use std::time::Duration;

use super::ChangeError;
use crate::diff::Action;
use crate::graph::Phase;
use crate::model::{Address, ApplicationState};

/// How a node ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Applied,
    /// The error, with its kind (`ChangeError::kind_name`).
    Failed(ChangeError),
    /// Why it was not attempted (a change it depends on failed).
    Skipped(String),
}

/// The outcome of one graph node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NodeOutcome {
    /// `None` only for a plan that could not be walked at all.
    pub address: Option<Address>,
    pub phase: Phase,
    pub outcome: Outcome,
}

/// A progress event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// A change (or a replacement's cleanup) began.
    Started {
        address: Address,
        action: Action,
        phase: Phase,
    },
    /// A step began (`stopping`, `updating release_label`).
    Step { address: Address, text: String },
    /// Still waiting for an application to settle.
    Waiting {
        address: Address,
        state: ApplicationState,
        elapsed: Duration,
    },
    /// Still waiting for job runs and sessions to end; `running` counts both.
    WaitingForJobs {
        address: Address,
        running: usize,
        elapsed: Duration,
    },
    /// A call failed and is retried.
    Retrying {
        address: Address,
        operation: String,
        error: String,
        attempt: u32,
    },
    /// A change (or cleanup) ended.
    Finished {
        address: Address,
        phase: Phase,
        outcome: Outcome,
    },
}

/// Receives progress events; called from the executor's task, so it must
/// return quickly.
pub(crate) trait Observer: Send + Sync {
    fn event(&self, event: &Event);
}

/// An observer that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
#[cfg(test)]
pub(crate) struct SilentObserver;

#[cfg(test)]
impl Observer for SilentObserver {
    fn event(&self, _event: &Event) {}
}
