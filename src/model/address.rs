//! Typed resource addresses such as `application.etl`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The kind of a resource a stack declares.
///
/// Only applications and roles are created by emrstack; repositories are
/// existing ECR repositories whose policy statements the stack manages,
/// networks are read-only references to existing subnets and security groups,
/// and configs are reusable configuration bundles with no AWS counterpart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceKind {
    Application,
    Role,
    Repository,
    Network,
    Config,
}

impl ResourceKind {
    /// All kinds, in the order they are listed in plans and outputs.
    pub const ALL: [ResourceKind; 5] = [
        ResourceKind::Network,
        ResourceKind::Config,
        ResourceKind::Role,
        ResourceKind::Application,
        ResourceKind::Repository,
    ];

    /// The address prefix of this kind (`application` in `application.etl`).
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Application => "application",
            ResourceKind::Role => "role",
            ResourceKind::Repository => "repository",
            ResourceKind::Network => "network",
            ResourceKind::Config => "config",
        }
    }

    /// The TOML table that declares resources of this kind (`applications`).
    pub fn table(self) -> &'static str {
        match self {
            ResourceKind::Application => "applications",
            ResourceKind::Role => "roles",
            ResourceKind::Repository => "repositories",
            ResourceKind::Network => "networks",
            ResourceKind::Config => "configs",
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ResourceKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ResourceKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| {
                format!("unknown resource kind `{s}` (expected one of: application, role, repository, network, config)")
            })
    }
}

/// The address of a declared resource: its kind and its key in the stack file.
///
/// Addresses print as `kind.name` and are the identity of a resource across
/// plans, ownership tags (`emrstack:address`), and the CLI.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address {
    pub kind: ResourceKind,
    pub name: String,
}

impl Address {
    pub fn new(kind: ResourceKind, name: impl Into<String>) -> Address {
        Address {
            kind,
            name: name.into(),
        }
    }

    pub fn application(name: impl Into<String>) -> Address {
        Address::new(ResourceKind::Application, name)
    }

    pub fn role(name: impl Into<String>) -> Address {
        Address::new(ResourceKind::Role, name)
    }

    pub fn repository(name: impl Into<String>) -> Address {
        Address::new(ResourceKind::Repository, name)
    }

    pub fn network(name: impl Into<String>) -> Address {
        Address::new(ResourceKind::Network, name)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.kind, self.name)
    }
}

impl FromStr for Address {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, name) = s
            .split_once('.')
            .ok_or_else(|| format!("`{s}` is not an address (expected `kind.name`, for example `application.etl`)"))?;
        if name.is_empty() {
            return Err(format!("`{s}` has an empty name"));
        }
        Ok(Address::new(kind.parse()?, name))
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_round_trips_through_text() {
        for text in [
            "application.etl",
            "role.etl",
            "repository.spark",
            "network.private",
            "config.spark_small",
        ] {
            let address: Address = text.parse().unwrap();
            assert_eq!(address.to_string(), text);
        }
    }

    #[test]
    fn address_rejects_unknown_kind_and_missing_name() {
        assert!("bucket.logs".parse::<Address>().is_err());
        assert!("application.".parse::<Address>().is_err());
        assert!("application".parse::<Address>().is_err());
    }
}
