//! VPC network settings: existing subnets and security groups, read only.

use serde::{Deserialize, Serialize};

/// A `[networks.<name>]` entry: subnets and security groups an application
/// attaches to. emrstack never creates or changes them; it checks them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredNetwork {
    /// Subnet IDs (`subnet-...`), 1 to 16, all in one VPC.
    pub subnet_ids: Vec<String>,
    /// Security group IDs (`sg-...`), 1 to 5, in the same VPC.
    pub security_group_ids: Vec<String>,
}

/// A subnet as EC2 describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetInfo {
    pub id: String,
    pub vpc_id: String,
    /// Availability zone name (`us-east-1a`).
    pub availability_zone: String,
    /// Availability zone ID (`use1-az1`); stable across accounts.
    pub availability_zone_id: String,
    /// IPv4 CIDR block (`10.0.1.0/24`).
    pub cidr_block: String,
    /// Free IPv4 addresses right now.
    pub available_ip_address_count: u32,
}

/// A security group as EC2 describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroupInfo {
    pub id: String,
    pub vpc_id: String,
    pub name: String,
}
