//! Desired: what the stack file asks for, after variables, configs and
//! networks are resolved and every rule has passed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::address::Address;
use super::application::{ApplicationSpec, DesiredImage};
use super::job::JobSpec;
use super::location::S3Location;
use super::network::DesiredNetwork;
use super::repository::DesiredRepository;
use super::role::DesiredRole;

/// The `[stack]` table plus stack-wide `[tags]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackSettings {
    /// The stack name; the value of the `emrstack:stack` tag on every owned resource.
    pub name: String,
    /// The AWS region; `None` means the AWS configuration's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// When set, plans and applies refuse to run against any other account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Tags added to every resource the stack creates.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Where the stack lock lives (`[stack] lock`): the lock object is
    /// `<prefix>/<name>.lock`. `None`: the stack is not locked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock: Option<S3Location>,
    /// Where local job files are uploaded (`[stack] artifacts`), each to
    /// `<prefix>/<sha256>/<file name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifacts: Option<S3Location>,
}

/// An application as declared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredApplication {
    /// The spec, with the stack's and the application's own tags merged in.
    /// Ownership tags are added by the planner.
    pub spec: ApplicationSpec<DesiredImage>,
    /// The `[networks.*]` key the application attaches to, if any; its
    /// subnets and security groups are already copied into `spec.network`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// Refuse any plan that deletes or replaces this application.
    #[serde(default)]
    pub prevent_destroy: bool,
}

/// Everything a stack file declares, keyed by the names used in addresses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Desired {
    pub stack: StackSettings,
    #[serde(default)]
    pub applications: BTreeMap<String, DesiredApplication>,
    #[serde(default)]
    pub roles: BTreeMap<String, DesiredRole>,
    #[serde(default)]
    pub repositories: BTreeMap<String, DesiredRepository>,
    #[serde(default)]
    pub networks: BTreeMap<String, DesiredNetwork>,
    /// `[jobs.*]`: not AWS resources, but runs the stack can start.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub jobs: BTreeMap<String, JobSpec>,
}

impl Desired {
    /// An empty stack with the given name.
    pub fn empty(name: impl Into<String>) -> Desired {
        Desired {
            stack: StackSettings {
                name: name.into(),
                region: None,
                account_id: None,
                tags: BTreeMap::new(),
                lock: None,
                artifacts: None,
            },
            applications: BTreeMap::new(),
            roles: BTreeMap::new(),
            repositories: BTreeMap::new(),
            networks: BTreeMap::new(),
            jobs: BTreeMap::new(),
        }
    }

    /// Every declared address, in a stable order.
    pub fn addresses(&self) -> Vec<Address> {
        let mut out = Vec::new();
        out.extend(self.networks.keys().map(Address::network));
        out.extend(self.roles.keys().map(Address::role));
        out.extend(self.applications.keys().map(Address::application));
        out.extend(self.repositories.keys().map(Address::repository));
        out
    }
}
