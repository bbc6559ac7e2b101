//! EC2 calls (read only): the subnets and security groups applications attach to.
//!
//! Both describe calls filter by ID (`subnet-id`, `group-id`) instead of
//! passing `SubnetIds`/`GroupIds`: with a filter, an ID that does not exist
//! is simply absent from the answer, while the ID parameters fail the whole
//! call with `*.NotFound`.

use aws_sdk_ec2::types::Filter;

use super::client::{AwsCloud, next_page};
use super::convert::network::{security_group, subnet};
use super::settings::Service;
use crate::cloud::CloudError;
use crate::model::{SecurityGroupInfo, SubnetInfo};

const EC2: Service = Service::Ec2;

/// EC2 accepts at most 200 values per filter.
const FILTER_VALUES_LIMIT: usize = 200;

fn unique(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    ids
}

impl AwsCloud {
    pub(super) async fn ec2_describe_subnets(&self, ids: &[String]) -> Result<Vec<SubnetInfo>, CloudError> {
        let mut subnets = Vec::new();
        // No IDs means no call: an empty filter would match every subnet.
        for chunk in unique(ids).chunks(FILTER_VALUES_LIMIT) {
            let filter = Filter::builder()
                .name("subnet-id")
                .set_values(Some(chunk.to_vec()))
                .build();
            let mut token: Option<String> = None;
            loop {
                let request = self
                    .ec2
                    .describe_subnets()
                    .filters(filter.clone())
                    .set_next_token(token.clone())
                    .send();
                let page = self.call(EC2, "DescribeSubnets", request).await?;
                for entry in page.subnets.unwrap_or_default() {
                    subnets.push(subnet(entry)?);
                }
                token = match next_page("DescribeSubnets", token.as_deref(), page.next_token)? {
                    Some(next) => Some(next),
                    None => break,
                };
            }
        }
        Ok(subnets)
    }

    pub(super) async fn ec2_describe_security_groups(
        &self,
        ids: &[String],
    ) -> Result<Vec<SecurityGroupInfo>, CloudError> {
        let mut groups = Vec::new();
        for chunk in unique(ids).chunks(FILTER_VALUES_LIMIT) {
            let filter = Filter::builder()
                .name("group-id")
                .set_values(Some(chunk.to_vec()))
                .build();
            let mut token: Option<String> = None;
            loop {
                let request = self
                    .ec2
                    .describe_security_groups()
                    .filters(filter.clone())
                    .set_next_token(token.clone())
                    .send();
                let page = self.call(EC2, "DescribeSecurityGroups", request).await?;
                for entry in page.security_groups.unwrap_or_default() {
                    groups.push(security_group(entry)?);
                }
                token = match next_page("DescribeSecurityGroups", token.as_deref(), page.next_token)? {
                    Some(next) => Some(next),
                    None => break,
                };
            }
        }
        Ok(groups)
    }
}
