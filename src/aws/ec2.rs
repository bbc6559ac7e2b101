//! EC2 calls (read only): the subnets and security groups applications attach to.
//!
//! Both describe calls filter by ID (`subnet-id`, `group-id`) instead of
//! passing `SubnetIds`/`GroupIds`: with a filter, an ID that does not exist
//! is simply absent from the answer, while the ID parameters fail the whole
//! call with `*.NotFound`. The requests go through the small Query-protocol
//! client in `ec2_query.rs`.

use std::future::Future;

use super::client::{AwsCloud, next_page};
use super::convert::network::{security_group, subnet};
use super::ec2_query::{DESCRIBE_SECURITY_GROUPS, DESCRIBE_SUBNETS, Listing, Page, Params, Record, filter_params};
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
        let records = self.ec2_describe(DESCRIBE_SUBNETS, "subnet-id", ids).await?;
        records.into_iter().map(subnet).collect()
    }

    pub(super) async fn ec2_describe_security_groups(
        &self,
        ids: &[String],
    ) -> Result<Vec<SecurityGroupInfo>, CloudError> {
        let records = self.ec2_describe(DESCRIBE_SECURITY_GROUPS, "group-id", ids).await?;
        records.into_iter().map(security_group).collect()
    }

    /// Every entry of `listing` whose `filter` is one of `ids`.
    async fn ec2_describe(&self, listing: Listing, filter: &str, ids: &[String]) -> Result<Vec<Record>, CloudError> {
        describe_all(listing.action, filter, ids, |params| {
            self.call(EC2, listing.action, self.ec2.send(listing, params))
        })
        .await
    }
}

/// The paging loop: one request per page (`send`), per 200 IDs, until the
/// answer has no `nextToken`.
async fn describe_all<F, Fut>(operation: &str, filter: &str, ids: &[String], send: F) -> Result<Vec<Record>, CloudError>
where
    F: Fn(Params) -> Fut,
    Fut: Future<Output = Result<Page, CloudError>>,
{
    let mut records = Vec::new();
    // No IDs means no call: an empty filter would match every entry.
    for chunk in unique(ids).chunks(FILTER_VALUES_LIMIT) {
        let mut token: Option<String> = None;
        loop {
            let page = send(filter_params(filter, chunk, token.as_deref())).await?;
            records.extend(page.items);
            token = match next_page(operation, token.as_deref(), page.next_token)? {
                Some(next) => Some(next),
                None => break,
            };
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::cloud::ErrorKind;

    fn item(id: &str) -> Record {
        Record::from([("subnetId".to_string(), id.to_string())])
    }

    #[tokio::test]
    async fn pages_are_followed_with_next_token_and_ids_sent_in_chunks_of_200() {
        // The emulator (moto) answers describe calls in one page whatever
        // MaxResults says, so paging is tested here.
        let ids: Vec<String> = (0..201)
            .rev()
            .map(|n| format!("subnet-{n:03}"))
            .chain(["subnet-000".to_string()])
            .collect();
        let sent = Mutex::new(Vec::new());
        let send = |params: Params| {
            let token = params
                .iter()
                .find(|(name, _)| name == "NextToken")
                .map(|(_, value)| value.clone());
            let values = params
                .iter()
                .filter(|(name, _)| name.starts_with("Filter.1.Value."))
                .count();
            sent.lock().unwrap().push(params.clone());
            async move {
                Ok(match (values, token.as_deref()) {
                    (200, None) => Page {
                        items: vec![item("a")],
                        next_token: Some("t1".to_string()),
                    },
                    (200, Some("t1")) => Page {
                        items: vec![item("b")],
                        next_token: Some(String::new()),
                    },
                    (1, None) => Page {
                        items: vec![item("c")],
                        next_token: None,
                    },
                    other => panic!("unexpected request {other:?}"),
                })
            }
        };
        let records = describe_all("DescribeSubnets", "subnet-id", &ids, send).await.unwrap();
        let got: Vec<&str> = records.iter().map(|r| r["subnetId"].as_str()).collect();
        assert_eq!(got, ["a", "b", "c"]);
        let sent = sent.into_inner().unwrap();
        assert_eq!(sent.len(), 3);
        assert_eq!(sent[0][0], ("Filter.1.Name".to_string(), "subnet-id".to_string()));
        // Sorted and deduplicated: 201 distinct IDs, the first chunk from subnet-000.
        assert_eq!(sent[0][1], ("Filter.1.Value.1".to_string(), "subnet-000".to_string()));
        assert_eq!(sent[1].last().unwrap(), &("NextToken".to_string(), "t1".to_string()));
        assert_eq!(sent[2][1], ("Filter.1.Value.1".to_string(), "subnet-200".to_string()));

        let none = describe_all("DescribeSubnets", "subnet-id", &[], |_| async { panic!("no call") })
            .await
            .unwrap();
        assert!(none.is_empty());
    }

    #[tokio::test]
    async fn a_repeated_token_is_an_error_not_a_loop() {
        let send = |_: Params| async {
            Ok(Page {
                items: vec![],
                next_token: Some("same".to_string()),
            })
        };
        let err = describe_all("DescribeSubnets", "subnet-id", &["subnet-1".to_string()], send)
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Other);
    }
}
