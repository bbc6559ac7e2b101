//! Resource Groups Tagging API calls: finding a stack's applications by tag.

use std::collections::BTreeMap;

use aws_sdk_resourcegroupstagging::types::TagFilter;

use super::client::{AwsCloud, next_page};
use super::settings::Service;
use crate::cloud::CloudError;
use crate::model::TaggedApplication;

const TAGGING: Service = Service::Tagging;

/// GetResources' largest page.
const RESOURCES_PER_PAGE: i32 = 100;

/// The resource type of EMR Serverless applications, as AWS's own resource
/// type lists and public tools (YACE) spell it.
const APPLICATIONS: &str = "emr-serverless:applications";

/// The application ID of an EMR Serverless application ARN
/// (`arn:<partition>:emr-serverless:<region>:<account>:/applications/<id>`),
/// or `None` for anything else: job runs
/// (`.../applications/<id>/jobruns/<run>`), sessions, other services.
pub(crate) fn application_id(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some("emr-serverless"), Some(_region), Some(_account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let id = resource.strip_prefix("/applications/")?;
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric())).then_some(id)
}

impl AwsCloud {
    /// `GetResources` for EMR Serverless applications with `key` = `value`,
    /// all pages, keeping application ARNs only.
    pub(super) async fn tagging_find_applications(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Vec<TaggedApplication>, CloudError> {
        let filter = TagFilter::builder().key(key).values(value).build();
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let request = self
                .tagging
                .get_resources()
                .resource_type_filters(APPLICATIONS)
                .tag_filters(filter.clone())
                .resources_per_page(RESOURCES_PER_PAGE)
                .set_pagination_token(token.clone())
                .send();
            let page = self.call(TAGGING, "GetResources", request).await?;
            for mapping in page.resource_tag_mapping_list.unwrap_or_default() {
                let Some(arn) = mapping.resource_arn else { continue };
                let Some(id) = application_id(&arn) else { continue };
                let tags: BTreeMap<String, String> = mapping
                    .tags
                    .unwrap_or_default()
                    .into_iter()
                    .map(|tag| (tag.key, tag.value))
                    .collect();
                found.push(TaggedApplication {
                    id: id.to_string(),
                    arn: arn.clone(),
                    tags,
                });
            }
            // AWS ends the listing with an empty token ("" rather than none).
            token = match next_page("GetResources", token.as_deref(), page.pagination_token)? {
                Some(next) => Some(next),
                None => return Ok(found),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_application_arns_give_an_id() {
        let check = |arn: &str, expect: Option<&str>| assert_eq!(application_id(arn), expect, "{arn}");
        check(
            "arn:aws:emr-serverless:us-east-1:123456789012:/applications/00f7bot3h1dbr009",
            Some("00f7bot3h1dbr009"),
        );
        check(
            "arn:aws-cn:emr-serverless:cn-north-1:123456789012:/applications/00f7bot3h1dbr009",
            Some("00f7bot3h1dbr009"),
        );
        check(
            "arn:aws:emr-serverless:us-east-1:123456789012:/applications/00f7bot3h1dbr009/jobruns/00f7c",
            None,
        );
        check("arn:aws:emr-serverless:us-east-1:123456789012:/applications/", None);
        check(
            "arn:aws:emr-containers:us-east-1:123456789012:/virtualclusters/abc",
            None,
        );
        check("arn:aws:iam::123456789012:role/emr", None);
        check("not an arn", None);
    }
}
