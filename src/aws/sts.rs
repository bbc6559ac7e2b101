//! STS: who the calls run as.

use super::client::AwsCloud;
use super::settings::Service;
use crate::cloud::{CallerIdentity, CloudError, ErrorKind};

impl AwsCloud {
    pub(super) async fn sts_caller_identity(&self) -> Result<CallerIdentity, CloudError> {
        let output = self
            .call(Service::Sts, "GetCallerIdentity", self.sts.get_caller_identity().send())
            .await?;
        let missing = |field: &str| {
            CloudError::new(
                ErrorKind::Other,
                "GetCallerIdentity",
                format!("`{field}` is missing from the response"),
            )
        };
        Ok(CallerIdentity {
            account_id: output.account.ok_or_else(|| missing("Account"))?,
            arn: output.arn.ok_or_else(|| missing("Arn"))?,
        })
    }
}
