//! EC2 subnets and security groups (the fields `ec2_query` read of each
//! entry, by `locationName`) to the model's read-only network types.

use super::super::ec2_query::Record;
use crate::cloud::{CloudError, ErrorKind};
use crate::model::{SecurityGroupInfo, SubnetInfo};

fn missing(operation: &str, id: &str, field: &str) -> CloudError {
    CloudError::new(
        ErrorKind::Other,
        operation,
        format!("`{field}` of `{id}` is missing from the response"),
    )
}

/// The field named `location` (its `locationName`), reported as `member`
/// (its name in the API reference) when absent.
fn field(record: &mut Record, operation: &str, id: &str, location: &str, member: &str) -> Result<String, CloudError> {
    record.remove(location).ok_or_else(|| missing(operation, id, member))
}

/// A subnet from `DescribeSubnets`.
pub(crate) fn subnet(mut record: Record) -> Result<SubnetInfo, CloudError> {
    const OPERATION: &str = "DescribeSubnets";
    let id = field(&mut record, OPERATION, "a subnet", "subnetId", "SubnetId")?;
    let count = field(
        &mut record,
        OPERATION,
        &id,
        "availableIpAddressCount",
        "AvailableIpAddressCount",
    )?;
    let available_ip_address_count = count.trim().parse::<u32>().map_err(|_| {
        CloudError::new(
            ErrorKind::Other,
            OPERATION,
            format!("unexpected value `{count}` in `AvailableIpAddressCount` of `{id}`"),
        )
    })?;
    Ok(SubnetInfo {
        vpc_id: field(&mut record, OPERATION, &id, "vpcId", "VpcId")?,
        availability_zone: field(&mut record, OPERATION, &id, "availabilityZone", "AvailabilityZone")?,
        availability_zone_id: field(&mut record, OPERATION, &id, "availabilityZoneId", "AvailabilityZoneId")?,
        cidr_block: field(&mut record, OPERATION, &id, "cidrBlock", "CidrBlock")?,
        available_ip_address_count,
        id,
    })
}

/// A security group from `DescribeSecurityGroups`.
pub(crate) fn security_group(mut record: Record) -> Result<SecurityGroupInfo, CloudError> {
    const OPERATION: &str = "DescribeSecurityGroups";
    let id = field(&mut record, OPERATION, "a security group", "groupId", "GroupId")?;
    Ok(SecurityGroupInfo {
        vpc_id: field(&mut record, OPERATION, &id, "vpcId", "VpcId")?,
        name: field(&mut record, OPERATION, &id, "groupName", "GroupName")?,
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(fields: &[(&str, &str)]) -> Record {
        fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn subnet_fields_are_copied_and_missing_ones_named() {
        let full = record(&[
            ("subnetId", "subnet-1"),
            ("vpcId", "vpc-1"),
            ("availabilityZone", "us-east-1a"),
            ("availabilityZoneId", "use1-az6"),
            ("cidrBlock", "10.0.1.0/24"),
            ("availableIpAddressCount", "251"),
        ]);
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
        let mut no_zone_id = full.clone();
        no_zone_id.remove("availabilityZoneId");
        let err = subnet(no_zone_id).unwrap_err();
        assert!(
            err.message.contains("AvailabilityZoneId") && err.message.contains("subnet-1"),
            "{}",
            err.message
        );
        let mut negative = full;
        negative.insert("availableIpAddressCount".to_string(), "-1".to_string());
        let err = subnet(negative).unwrap_err();
        assert!(err.message.contains("`-1`"), "{}", err.message);
    }

    #[test]
    fn security_group_fields_are_copied() {
        let group = record(&[("groupId", "sg-1"), ("vpcId", "vpc-1"), ("groupName", "emr")]);
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
