//! Rules for `[stack]`: the stack name, region, account ID and lock location.

use crate::diag::{Diagnostic, Diagnostics};
use crate::model::location::{MAX_KEY_BYTES, S3Location, bucket_name_problem};

use super::super::pipeline::Parsed;
use super::super::raw::Sp;
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
    let stack_name = stack.name.as_ref().map(|name| name.get().as_str());
    match (&stack.lock, &stack.artifacts) {
        (Some(lock), _) => check_lock(parsed, lock, stack_name, diagnostics),
        // Without `lock`, the stack lock lives under `artifacts` (README.md,
        // "Locking"), so its key must fit there too; a location that does
        // not parse is reported as `stack.artifacts`.
        (None, Some(artifacts)) if S3Location::parse(artifacts.get()).is_ok() => {
            check_lock(parsed, artifacts, stack_name, diagnostics)
        }
        _ => {}
    }
}

/// `lock = "s3://bucket/prefix"`: a location emrstack can read, whose lock
/// object key S3 can store.
fn check_lock(parsed: &Parsed, lock: &Sp<String>, stack_name: Option<&str>, diagnostics: &mut Diagnostics) {
    let location = match S3Location::parse(lock.get()) {
        Ok(location) => location,
        Err(why) => {
            diagnostics.push(
                Diagnostic::error("stack.lock", format!("`{}` is not an S3 location: {why}", lock.get()))
                    .at(parsed.span(lock))
                    .with_help("write `s3://<bucket>` or `s3://<bucket>/<prefix>`; the lock object is `<prefix>/<stack name>.lock`"),
            );
            return;
        }
    };
    if let Some(name) = stack_name {
        let object = location.object(&format!("{name}.lock"));
        if object.key.len() > MAX_KEY_BYTES {
            diagnostics.push(
                Diagnostic::error(
                    "stack.lock",
                    format!(
                        "the lock object's key would be {} bytes long; S3 keys are at most {MAX_KEY_BYTES}",
                        object.key.len()
                    ),
                )
                .at(parsed.span(lock))
                .with_help("use a shorter prefix"),
            );
        }
    }
    if let Some(problem) = bucket_name_problem(&location.bucket) {
        diagnostics.push(
            Diagnostic::warning(
                "stack.lock-bucket-name",
                format!("`{}` is not a valid name for a new bucket: {problem}", location.bucket),
            )
            .at(parsed.span(lock))
            .with_help(
                "only buckets created in us-east-1 before March 2018 can have such names; check the bucket's name",
            ),
        );
    }
}
