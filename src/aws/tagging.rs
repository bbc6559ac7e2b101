//! Resource Groups Tagging API calls: finding a stack's applications by tag.

use std::collections::BTreeMap;
use std::future::Future;

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

/// One page of `GetResources`: the applications on it and the token AWS
/// sent with it.
struct Page {
    found: Vec<TaggedApplication>,
    token: Option<String>,
}

/// The error code of a token used after its 15 minutes.
const TOKEN_EXPIRED: &str = "PaginationTokenExpiredException";

/// Every page `fetch` gives, following the tokens until AWS sends an empty
/// one. A page may hold fewer results than asked for, even none, while more
/// remain ("A query can return fewer than this maximum, even if there are
/// more results still to return", API), so only the token ends a listing.
///
/// "A PaginationToken is valid for a maximum of 15 minutes" (API): sending
/// the same token again cannot help, so a listing whose token expired is
/// started again once from the beginning (what it found so far is dropped:
/// the index may have changed since). A second expiry is the caller's error.
async fn all_pages<F, Fut>(mut fetch: F) -> Result<Vec<TaggedApplication>, CloudError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page, CloudError>>,
{
    let mut restarted = false;
    'listing: loop {
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = match fetch(token.clone()).await {
                Ok(page) => page,
                Err(error) if error.code.as_deref() == Some(TOKEN_EXPIRED) && token.is_some() && !restarted => {
                    restarted = true;
                    continue 'listing;
                }
                Err(error) => return Err(error),
            };
            found.extend(page.found);
            // AWS ends the listing with an empty token ("" rather than none).
            token = match next_page("GetResources", token.as_deref(), page.token)? {
                Some(next) => Some(next),
                None => return Ok(found),
            };
        }
    }
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
        all_pages(|token| {
            let request = self
                .tagging
                .get_resources()
                .resource_type_filters(APPLICATIONS)
                .tag_filters(filter.clone())
                .resources_per_page(RESOURCES_PER_PAGE)
                .set_pagination_token(token)
                .send();
            async move {
                let page = self.call(TAGGING, "GetResources", request).await?;
                let found = page
                    .resource_tag_mapping_list
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|mapping| {
                        let arn = mapping.resource_arn?;
                        let id = application_id(&arn)?.to_string();
                        let tags: BTreeMap<String, String> = mapping
                            .tags
                            .unwrap_or_default()
                            .into_iter()
                            .map(|tag| (tag.key, tag.value))
                            .collect();
                        Some(TaggedApplication { id, arn, tags })
                    })
                    .collect();
                Ok(Page {
                    found,
                    token: page.pagination_token,
                })
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use super::*;
    use crate::cloud::ErrorKind;

    fn hit(id: &str) -> TaggedApplication {
        TaggedApplication {
            id: id.to_string(),
            arn: format!("arn:aws:emr-serverless:us-east-1:123456789012:/applications/{id}"),
            tags: BTreeMap::new(),
        }
    }

    fn expired() -> CloudError {
        CloudError::new(
            ErrorKind::Other,
            "GetResources",
            "A PaginationToken is valid for a maximum of 15 minutes.",
        )
        .with_code(TOKEN_EXPIRED)
    }

    /// Lists with `answers` (one per request, in order), recording the token of each request.
    async fn list(
        answers: Vec<Result<(Vec<&str>, &str), CloudError>>,
    ) -> (Result<Vec<String>, CloudError>, Vec<Option<String>>) {
        let answers = Mutex::new(VecDeque::from(answers));
        let sent = Mutex::new(Vec::new());
        let result = all_pages(|token| {
            sent.lock().unwrap().push(token);
            let answer = answers.lock().unwrap().pop_front().expect("no more answers");
            async move {
                answer.map(|(ids, token)| Page {
                    found: ids.into_iter().map(hit).collect(),
                    token: Some(token.to_string()),
                })
            }
        })
        .await;
        let ids = result.map(|found| found.into_iter().map(|hit| hit.id).collect());
        (ids, sent.into_inner().unwrap())
    }

    #[tokio::test]
    async fn short_and_empty_pages_are_followed_until_the_token_is_empty() {
        let (ids, sent) = list(vec![
            Ok((vec![], "t1")),
            Ok((vec!["a"], "t2")),
            Ok((vec![], "t3")),
            Ok((vec!["b", "c"], "")),
        ])
        .await;
        assert_eq!(ids.unwrap(), ["a", "b", "c"]);
        assert_eq!(sent, [None, Some("t1".into()), Some("t2".into()), Some("t3".into())]);
    }

    #[tokio::test]
    async fn an_expired_token_restarts_the_listing_once_from_the_beginning() {
        let (ids, sent) = list(vec![
            Ok((vec!["a"], "t1")),
            Err(expired()),
            Ok((vec!["a"], "u1")),
            Ok((vec!["b"], "")),
        ])
        .await;
        // What the first attempt found is not counted twice.
        assert_eq!(ids.unwrap(), ["a", "b"]);
        assert_eq!(sent, [None, Some("t1".into()), None, Some("u1".into())]);

        // A second expiry is an error, kept as AWS answered it.
        let (ids, sent) = list(vec![
            Ok((vec!["a"], "t1")),
            Err(expired()),
            Ok((vec!["a"], "u1")),
            Err(expired()),
        ])
        .await;
        let error = ids.unwrap_err();
        assert_eq!(
            (error.kind, error.code.as_deref()),
            (ErrorKind::Other, Some(TOKEN_EXPIRED))
        );
        assert_eq!(sent.len(), 4);
    }

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
