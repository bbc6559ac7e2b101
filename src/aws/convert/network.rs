//! EC2 subnets and security groups to the model's read-only network types.

use aws_sdk_ec2::types as sdk;

use crate::cloud::{CloudError, ErrorKind};
use crate::model::{SecurityGroupInfo, SubnetInfo};

fn missing(operation: &str, id: &str, field: &str) -> CloudError {
    CloudError::new(
        ErrorKind::Other,
        operation,
        format!("`{field}` of `{id}` is missing from the response"),
    )
}

/// A subnet from `DescribeSubnets`.
pub(crate) fn subnet(subnet: sdk::Subnet) -> Result<SubnetInfo, CloudError> {
    const OPERATION: &str = "DescribeSubnets";
    let id = subnet
        .subnet_id
        .ok_or_else(|| missing(OPERATION, "a subnet", "SubnetId"))?;
    let count = subnet
        .available_ip_address_count
        .ok_or_else(|| missing(OPERATION, &id, "AvailableIpAddressCount"))?;
    let available_ip_address_count = u32::try_from(count).map_err(|_| {
        CloudError::new(
            ErrorKind::Other,
            OPERATION,
            format!("unexpected value `{count}` in `AvailableIpAddressCount` of `{id}`"),
        )
    })?;
    Ok(SubnetInfo {
        vpc_id: subnet.vpc_id.ok_or_else(|| missing(OPERATION, &id, "VpcId"))?,
        availability_zone: subnet
            .availability_zone
            .ok_or_else(|| missing(OPERATION, &id, "AvailabilityZone"))?,
        availability_zone_id: subnet
            .availability_zone_id
            .ok_or_else(|| missing(OPERATION, &id, "AvailabilityZoneId"))?,
        cidr_block: subnet.cidr_block.ok_or_else(|| missing(OPERATION, &id, "CidrBlock"))?,
        available_ip_address_count,
        id,
    })
}

/// A security group from `DescribeSecurityGroups`.
pub(crate) fn security_group(group: sdk::SecurityGroup) -> Result<SecurityGroupInfo, CloudError> {
    const OPERATION: &str = "DescribeSecurityGroups";
    let id = group
        .group_id
        .ok_or_else(|| missing(OPERATION, "a security group", "GroupId"))?;
    Ok(SecurityGroupInfo {
        vpc_id: group.vpc_id.ok_or_else(|| missing(OPERATION, &id, "VpcId"))?,
        name: group.group_name.ok_or_else(|| missing(OPERATION, &id, "GroupName"))?,
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnet_fields_are_copied_and_missing_ones_named() {
        let full = sdk::Subnet::builder()
            .subnet_id("subnet-1")
            .vpc_id("vpc-1")
            .availability_zone("us-east-1a")
            .availability_zone_id("use1-az6")
            .cidr_block("10.0.1.0/24")
            .available_ip_address_count(251)
            .build();
        assert_eq!(
            subnet(full.clone()).unwrap(),
            SubnetInfo {
                id: "subnet-1".to_string(),
                vpc_id: "vpc-1".to_string(),
                availability_zone: "us-east-1a".to_string(),
                availability_zone_id: "use1-az6".to_string(),
                cidr_block: "10.0.1.0/24".to_string(),
                available_ip_address_count: 251,
            }
        );
        let mut no_zone_id = full;
        no_zone_id.availability_zone_id = None;
        let err = subnet(no_zone_id).unwrap_err();
        assert!(
            err.message.contains("AvailabilityZoneId") && err.message.contains("subnet-1"),
            "{}",
            err.message
        );
    }

    #[test]
    fn security_group_fields_are_copied() {
        let group = sdk::SecurityGroup::builder()
            .group_id("sg-1")
            .vpc_id("vpc-1")
            .group_name("emr")
            .build();
        assert_eq!(
            security_group(group).unwrap(),
            SecurityGroupInfo {
                id: "sg-1".to_string(),
                vpc_id: "vpc-1".to_string(),
                name: "emr".to_string(),
            }
        );
    }
}
