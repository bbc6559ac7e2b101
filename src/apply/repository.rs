//! Carrying out repository policy changes: read the policy as it is now,
//! replace only the stack's statement, write it back.

use super::retry::retry;
use super::{ChangeError, Context, Event};
use crate::cloud::Cloud;
use crate::diff::policy::equivalent;
use crate::diff::{Change, RepositoryTarget};
use crate::model::{reference, repository};

pub(crate) async fn run<C: Cloud>(
    context: &Context<'_, C>,
    change: &Change,
    target: &RepositoryTarget,
) -> Result<(), ChangeError> {
    let address = &change.address;
    let cloud = context.cloud;
    let statement = target
        .statement
        .as_ref()
        .map(|statement| reference::substitute(statement, &context.arns()));
    if let Some(missing) = statement
        .as_ref()
        .and_then(|s| reference::placeholders_in(s).into_iter().next())
    {
        return Err(ChangeError::Unexpected(format!(
            "the ARN of `application.{missing}` is not known: its change did not run"
        )));
    }
    // Read the policy again: someone may have added statements since the
    // plan, and those must survive.
    let current = retry(
        context,
        address,
        "GetRepositoryPolicy",
        |_| false,
        || cloud.get_repository(&target.name),
    )
    .await?;
    let merged = repository::merge_statement(current.policy.as_ref(), &target.sid, statement);
    match (merged, &current.policy) {
        (Some(policy), Some(existing)) if equivalent(&policy, existing) => Ok(()),
        (Some(policy), _) => {
            context.emit(Event::Step {
                address: address.clone(),
                text: format!("setting the policy of `{}`", target.name),
            });
            retry(
                context,
                address,
                "SetRepositoryPolicy",
                |_| false,
                || cloud.set_repository_policy(&target.name, &policy),
            )
            .await?;
            Ok(())
        }
        (None, Some(_)) => {
            context.emit(Event::Step {
                address: address.clone(),
                text: format!("deleting the policy of `{}` (no statement is left)", target.name),
            });
            retry(
                context,
                address,
                "DeleteRepositoryPolicy",
                |_| false,
                || cloud.delete_repository_policy(&target.name),
            )
            .await?;
            Ok(())
        }
        (None, None) => Ok(()),
    }
}
