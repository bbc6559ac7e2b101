//! Rules for `[stack]`: the stack name, region and account ID.

use crate::diag::{Diagnostic, Diagnostics};

use super::super::pipeline::Parsed;
use super::super::text::{is_account_id, is_region, is_stack_name};

pub(super) fn check(parsed: &Parsed, diagnostics: &mut Diagnostics) {
    let Some(stack) = &parsed.stack else {
        return;
    };
    if let Some(name) = &stack.name
        && !is_stack_name(name.get())
    {
        diagnostics.push(
            Diagnostic::error("stack.name", format!("`{}` is not a valid stack name", name.get()))
                .at(parsed.span(name))
                .with_help("use 1 to 64 letters, digits, `_` or `-`; the name is a tag value and the prefix of default resource names"),
        );
    }
    if let Some(region) = &stack.region
        && !is_region(region.get())
    {
        diagnostics.push(
            Diagnostic::error("stack.region", format!("`{}` is not an AWS region name", region.get()))
                .at(parsed.span(region))
                .with_help("write a region name such as `us-east-1`"),
        );
    }
    if let Some(account) = &stack.account_id
        && !is_account_id(account.get())
    {
        diagnostics.push(
            Diagnostic::error(
                "stack.account-id",
                format!("`{}` is not an AWS account ID", account.get()),
            )
            .at(parsed.span(account))
            .with_help("an account ID is 12 digits, written as a string (`\"123456789012\"`)"),
        );
    }
}
