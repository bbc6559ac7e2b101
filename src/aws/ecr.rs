//! ECR calls: repositories, repository policies and image digests.
//!
//! `image_digests` uses `BatchGetImage` rather than `DescribeImages`:
//! BatchGetImage takes up to 100 image IDs and reports the missing ones as
//! `failures` while still answering for the others, so any set of tags costs
//! ceil(n / 100) calls. DescribeImages with `imageIds` fails the whole call
//! with `ImageNotFoundException` when any one tag is missing, and without
//! `imageIds` it pages through every image of the repository. The other
//! way round, the tags of one digest (`image_tags`, for `emrstack
//! generate`), is one DescribeImages: its `imageTags` lists them all.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ecr::types::{ImageFailureCode, ImageIdentifier};
use serde_json::Value;

use super::client::{AwsCloud, document_text};
use super::settings::Service;
use crate::cloud::{CloudError, ErrorKind};
use crate::model::ObservedRepository;

const ECR: Service = Service::Ecr;

/// BatchGetImage's largest request.
const BATCH_GET_IMAGE_LIMIT: usize = 100;

/// Every manifest type, so ECR returns each image as stored instead of
/// converting it (which it does for types the caller does not accept).
const MANIFEST_MEDIA_TYPES: [&str; 5] = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v1+json",
];

const POLICY_NOT_FOUND: &str = "RepositoryPolicyNotFoundException";

fn missing(operation: &str, field: &str) -> CloudError {
    CloudError::new(
        ErrorKind::Other,
        operation,
        format!("`{field}` is missing from the response"),
    )
}

impl AwsCloud {
    /// `DescribeRepositories` by name and `GetRepositoryPolicy`, concurrently.
    pub(super) async fn ecr_get_repository(&self, name: &str) -> Result<ObservedRepository, CloudError> {
        let describe = self.call(
            ECR,
            "DescribeRepositories",
            self.ecr.describe_repositories().repository_names(name).send(),
        );
        let policy = self.call(
            ECR,
            "GetRepositoryPolicy",
            self.ecr.get_repository_policy().repository_name(name).send(),
        );
        let (described, policy) = tokio::join!(describe, policy);
        // A missing repository fails both calls; report DescribeRepositories'.
        let repository = described?
            .repositories
            .unwrap_or_default()
            .into_iter()
            .find(|repository| repository.repository_name.as_deref() == Some(name))
            .ok_or_else(|| {
                CloudError::not_found("DescribeRepositories", format!("repository `{name}` does not exist"))
                    .with_code("RepositoryNotFoundException")
            })?;
        let policy = match policy {
            Ok(output) => match output.policy_text {
                Some(text) => Some(serde_json::from_str::<Value>(&text).map_err(|err| {
                    CloudError::new(
                        ErrorKind::Other,
                        "GetRepositoryPolicy",
                        format!("`policyText` of repository `{name}` is not valid JSON: {err}"),
                    )
                })?),
                None => None,
            },
            Err(err) if err.code.as_deref() == Some(POLICY_NOT_FOUND) => None,
            Err(err) => return Err(err),
        };
        Ok(ObservedRepository {
            name: name.to_string(),
            arn: repository
                .repository_arn
                .ok_or_else(|| missing("DescribeRepositories", "repositoryArn"))?,
            registry_id: repository
                .registry_id
                .ok_or_else(|| missing("DescribeRepositories", "registryId"))?,
            uri: repository
                .repository_uri
                .ok_or_else(|| missing("DescribeRepositories", "repositoryUri"))?,
            policy,
        })
    }

    pub(super) async fn ecr_set_repository_policy(&self, name: &str, document: &Value) -> Result<(), CloudError> {
        let request = self
            .ecr
            .set_repository_policy()
            .repository_name(name)
            .policy_text(document_text("SetRepositoryPolicy", document)?)
            .send();
        self.call(ECR, "SetRepositoryPolicy", request).await?;
        Ok(())
    }

    /// `DeleteRepositoryPolicy`; a repository without a policy is success.
    pub(super) async fn ecr_delete_repository_policy(&self, name: &str) -> Result<(), CloudError> {
        let request = self.ecr.delete_repository_policy().repository_name(name).send();
        match self.call(ECR, "DeleteRepositoryPolicy", request).await {
            Ok(_) => Ok(()),
            Err(err) if err.code.as_deref() == Some(POLICY_NOT_FOUND) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// `BatchGetImage` for the tags, 100 per call; tags that do not exist are absent.
    pub(super) async fn ecr_image_digests(
        &self,
        repository: &str,
        tags: &[String],
    ) -> Result<BTreeMap<String, String>, CloudError> {
        let wanted: Vec<String> = tags.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect();
        let mut digests = BTreeMap::new();
        for chunk in wanted.chunks(BATCH_GET_IMAGE_LIMIT) {
            let ids = chunk
                .iter()
                .map(|tag| ImageIdentifier::builder().image_tag(tag).build())
                .collect();
            let request = self
                .ecr
                .batch_get_image()
                .repository_name(repository)
                .set_image_ids(Some(ids))
                .set_accepted_media_types(Some(MANIFEST_MEDIA_TYPES.iter().map(|t| t.to_string()).collect()))
                .send();
            let output = self.call(ECR, "BatchGetImage", request).await?;
            for failure in output.failures.unwrap_or_default() {
                match failure.failure_code {
                    // The tag does not exist (or cannot exist): absent.
                    Some(ImageFailureCode::ImageNotFound | ImageFailureCode::InvalidImageTag) => {}
                    code => {
                        let tag = failure.image_id.and_then(|id| id.image_tag).unwrap_or_default();
                        let code = code.map(|code| code.as_str().to_string()).unwrap_or_default();
                        let mut err = CloudError::new(
                            ErrorKind::Other,
                            "BatchGetImage",
                            format!(
                                "image `{repository}:{tag}` could not be read: {}",
                                failure.failure_reason.unwrap_or_default()
                            ),
                        );
                        if !code.is_empty() {
                            err = err.with_code(code);
                        }
                        return Err(err);
                    }
                }
            }
            for image in output.images.unwrap_or_default() {
                if let Some(ImageIdentifier {
                    image_digest: Some(digest),
                    image_tag: Some(tag),
                    ..
                }) = image.image_id
                    && chunk.contains(&tag)
                {
                    digests.insert(tag, digest);
                }
            }
        }
        Ok(digests)
    }

    /// `DescribeImages` for one digest: the tags that point to it. A
    /// missing image (`ImageNotFoundException`) has none.
    pub(super) async fn ecr_image_tags(&self, repository: &str, digest: &str) -> Result<Vec<String>, CloudError> {
        let request = self
            .ecr
            .describe_images()
            .repository_name(repository)
            .image_ids(ImageIdentifier::builder().image_digest(digest).build())
            .send();
        let output = match self.call(ECR, "DescribeImages", request).await {
            Ok(output) => output,
            Err(err) if err.code.as_deref() == Some("ImageNotFoundException") => return Ok(Vec::new()),
            Err(err) => return Err(err),
        };
        let mut tags: Vec<String> = output
            .image_details
            .unwrap_or_default()
            .into_iter()
            .filter(|detail| detail.image_digest.as_deref() == Some(digest))
            .flat_map(|detail| detail.image_tags.unwrap_or_default())
            .collect();
        tags.sort();
        tags.dedup();
        Ok(tags)
    }
}
