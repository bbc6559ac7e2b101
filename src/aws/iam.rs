//! IAM calls: job runtime roles, their inline and managed policies, tags.

use std::collections::{BTreeMap, BTreeSet};

use futures::{StreamExt, TryStreamExt, stream};
use serde_json::Value;

use super::client::{AwsCloud, document_text, next_page};
use super::convert::iam::{decode_document, observed_role, role_summary, tags};
use super::settings::Service;
use crate::cloud::{CloudError, ErrorKind};
use crate::model::{ObservedRole, RoleSpec, RoleSummary};

const IAM: Service = Service::Iam;

/// ListRoles' largest page.
const LIST_ROLES_PAGE: i32 = 1000;

/// How many `GetRolePolicy` calls of one role run at once.
const INLINE_POLICY_CONCURRENCY: usize = 4;

/// The next marker of an IAM listing: IAM says `IsTruncated` and gives a `Marker`.
fn iam_next_page(
    operation: &str,
    used: Option<&str>,
    truncated: bool,
    marker: Option<String>,
) -> Result<Option<String>, CloudError> {
    if !truncated {
        return Ok(None);
    }
    match next_page(operation, used, marker)? {
        Some(marker) => Ok(Some(marker)),
        None => Err(CloudError::new(
            ErrorKind::Other,
            operation,
            "the listing is truncated but has no marker",
        )),
    }
}

fn to_i32(operation: &str, field: &str, value: u32) -> Result<i32, CloudError> {
    i32::try_from(value).map_err(|_| {
        CloudError::new(
            ErrorKind::Invalid,
            operation,
            format!("`{field}` is out of range: {value}"),
        )
    })
}

impl AwsCloud {
    /// `ListRoles`, all pages.
    pub(super) async fn iam_list_roles(&self) -> Result<Vec<RoleSummary>, CloudError> {
        let mut roles = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let request = self
                .iam
                .list_roles()
                .max_items(LIST_ROLES_PAGE)
                .set_marker(marker.clone())
                .send();
            let page = self.call(IAM, "ListRoles", request).await?;
            roles.extend(page.roles.into_iter().map(role_summary));
            marker = match iam_next_page("ListRoles", marker.as_deref(), page.is_truncated, page.marker)? {
                Some(next) => Some(next),
                None => return Ok(roles),
            };
        }
    }

    /// `GetRole`, then its inline policies (`ListRolePolicies` and one
    /// `GetRolePolicy` each) and attached policies (`ListAttachedRolePolicies`)
    /// concurrently.
    pub(super) async fn iam_get_role(&self, name: &str) -> Result<ObservedRole, CloudError> {
        // GetRole first: a missing role costs one call, not four.
        let output = self
            .call(IAM, "GetRole", self.iam.get_role().role_name(name).send())
            .await?;
        let role = output
            .role
            .ok_or_else(|| CloudError::new(ErrorKind::Other, "GetRole", "the response has no `Role`"))?;
        let (inline, attached) = tokio::try_join!(self.iam_inline_policies(name), self.iam_attached_policies(name))?;
        observed_role(role, inline, attached)
    }

    async fn iam_inline_policies(&self, role: &str) -> Result<BTreeMap<String, Value>, CloudError> {
        let mut names = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let request = self
                .iam
                .list_role_policies()
                .role_name(role)
                .set_marker(marker.clone())
                .send();
            let page = self.call(IAM, "ListRolePolicies", request).await?;
            names.extend(page.policy_names);
            marker = match iam_next_page("ListRolePolicies", marker.as_deref(), page.is_truncated, page.marker)? {
                Some(next) => Some(next),
                None => break,
            };
        }
        let documents: Vec<(String, Value)> = stream::iter(names)
            .map(|policy| self.iam_role_policy(role, policy))
            .buffer_unordered(INLINE_POLICY_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(documents.into_iter().collect())
    }

    async fn iam_role_policy(&self, role: &str, policy: String) -> Result<(String, Value), CloudError> {
        let request = self.iam.get_role_policy().role_name(role).policy_name(&policy).send();
        let output = self.call(IAM, "GetRolePolicy", request).await?;
        let document = decode_document(&output.policy_document).map_err(|problem| {
            CloudError::new(
                ErrorKind::Other,
                "GetRolePolicy",
                format!("`PolicyDocument` of inline policy `{policy}` of role `{role}` is {problem}"),
            )
        })?;
        Ok((policy, document))
    }

    async fn iam_attached_policies(&self, role: &str) -> Result<BTreeSet<String>, CloudError> {
        let mut arns = BTreeSet::new();
        let mut marker: Option<String> = None;
        loop {
            let request = self
                .iam
                .list_attached_role_policies()
                .role_name(role)
                .set_marker(marker.clone())
                .send();
            let page = self.call(IAM, "ListAttachedRolePolicies", request).await?;
            arns.extend(
                page.attached_policies
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|policy| policy.policy_arn),
            );
            marker = match iam_next_page(
                "ListAttachedRolePolicies",
                marker.as_deref(),
                page.is_truncated,
                page.marker,
            )? {
                Some(next) => Some(next),
                None => return Ok(arns),
            };
        }
    }

    /// `CreateRole` with the tags, so the role is never untagged.
    pub(super) async fn iam_create_role(&self, spec: &RoleSpec) -> Result<String, CloudError> {
        let role_tags = if spec.tags.is_empty() {
            None
        } else {
            Some(tags(&spec.tags)?)
        };
        let request = self
            .iam
            .create_role()
            .role_name(&spec.name)
            .path(&spec.path)
            .assume_role_policy_document(document_text("CreateRole", &spec.trust_policy)?)
            .set_description(spec.description.clone())
            .max_session_duration(to_i32("CreateRole", "max_session_duration", spec.max_session_duration)?)
            .set_permissions_boundary(spec.permissions_boundary.clone())
            .set_tags(role_tags)
            .send();
        let output = self.call(IAM, "CreateRole", request).await?;
        output
            .role
            .map(|role| role.arn)
            .ok_or_else(|| CloudError::new(ErrorKind::Other, "CreateRole", "the response has no `Role`"))
    }

    /// `UpdateRole`. IAM keeps a description that is not sent, so an absent
    /// one is sent as the empty string, which removes it.
    pub(super) async fn iam_update_role(
        &self,
        name: &str,
        description: Option<&str>,
        max_session_duration: u32,
    ) -> Result<(), CloudError> {
        let request = self
            .iam
            .update_role()
            .role_name(name)
            .description(description.unwrap_or(""))
            .max_session_duration(to_i32("UpdateRole", "max_session_duration", max_session_duration)?)
            .send();
        self.call(IAM, "UpdateRole", request).await?;
        Ok(())
    }

    pub(super) async fn iam_update_trust_policy(&self, name: &str, document: &Value) -> Result<(), CloudError> {
        let request = self
            .iam
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(document_text("UpdateAssumeRolePolicy", document)?)
            .send();
        self.call(IAM, "UpdateAssumeRolePolicy", request).await?;
        Ok(())
    }

    pub(super) async fn iam_set_permissions_boundary(
        &self,
        name: &str,
        policy_arn: Option<&str>,
    ) -> Result<(), CloudError> {
        match policy_arn {
            Some(arn) => {
                let request = self
                    .iam
                    .put_role_permissions_boundary()
                    .role_name(name)
                    .permissions_boundary(arn)
                    .send();
                self.call(IAM, "PutRolePermissionsBoundary", request).await?;
            }
            None => {
                let request = self.iam.delete_role_permissions_boundary().role_name(name).send();
                self.call(IAM, "DeleteRolePermissionsBoundary", request).await?;
            }
        }
        Ok(())
    }

    pub(super) async fn iam_put_role_policy(
        &self,
        role: &str,
        policy_name: &str,
        document: &Value,
    ) -> Result<(), CloudError> {
        let request = self
            .iam
            .put_role_policy()
            .role_name(role)
            .policy_name(policy_name)
            .policy_document(document_text("PutRolePolicy", document)?)
            .send();
        self.call(IAM, "PutRolePolicy", request).await?;
        Ok(())
    }

    pub(super) async fn iam_delete_role_policy(&self, role: &str, policy_name: &str) -> Result<(), CloudError> {
        let request = self
            .iam
            .delete_role_policy()
            .role_name(role)
            .policy_name(policy_name)
            .send();
        self.call(IAM, "DeleteRolePolicy", request).await?;
        Ok(())
    }

    pub(super) async fn iam_attach_role_policy(&self, role: &str, policy_arn: &str) -> Result<(), CloudError> {
        let request = self
            .iam
            .attach_role_policy()
            .role_name(role)
            .policy_arn(policy_arn)
            .send();
        self.call(IAM, "AttachRolePolicy", request).await?;
        Ok(())
    }

    pub(super) async fn iam_detach_role_policy(&self, role: &str, policy_arn: &str) -> Result<(), CloudError> {
        let request = self
            .iam
            .detach_role_policy()
            .role_name(role)
            .policy_arn(policy_arn)
            .send();
        self.call(IAM, "DetachRolePolicy", request).await?;
        Ok(())
    }

    pub(super) async fn iam_tag_role(&self, role: &str, map: &BTreeMap<String, String>) -> Result<(), CloudError> {
        if map.is_empty() {
            return Ok(());
        }
        let request = self.iam.tag_role().role_name(role).set_tags(Some(tags(map)?)).send();
        self.call(IAM, "TagRole", request).await?;
        Ok(())
    }

    pub(super) async fn iam_untag_role(&self, role: &str, keys: &[String]) -> Result<(), CloudError> {
        if keys.is_empty() {
            return Ok(());
        }
        let request = self
            .iam
            .untag_role()
            .role_name(role)
            .set_tag_keys(Some(keys.to_vec()))
            .send();
        self.call(IAM, "UntagRole", request).await?;
        Ok(())
    }

    pub(super) async fn iam_delete_role(&self, name: &str) -> Result<(), CloudError> {
        self.call(IAM, "DeleteRole", self.iam.delete_role().role_name(name).send())
            .await?;
        Ok(())
    }
}
