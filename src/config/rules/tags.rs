//! Tag rules (the `tag.*` codes): lengths, characters, reserved prefixes
//! and the number of tags per resource after the stack's `[tags]` are merged.

use std::collections::BTreeSet;

use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::model::Address;
use crate::model::tags::{RESERVED_PREFIX, RESERVED_TAGS};

use super::super::pipeline::Parsed;
use super::super::raw::{Sp, SpMap};
use super::super::text::{is_emr_tag_char, is_iam_tag_char};

/// AWS allows 50 user tags per resource; emrstack adds its own three.
pub(crate) const MAX_TAGS: usize = 50 - RESERVED_TAGS.len();

#[derive(Clone, Copy)]
enum Api {
    /// EMR Serverless: `[A-Za-z0-9 /_.:=+@-]`.
    Emr,
    /// IAM: letters, digits and spaces in any script, and `_ . : / = + - @`.
    Iam,
}

pub(super) fn check(parsed: &Parsed, diagnostics: &mut Diagnostics) {
    // Stack tags go on applications and roles alike, so they must satisfy the
    // stricter EMR Serverless character set when the stack has applications.
    let stack_api = if parsed
        .declared_keys(crate::model::ResourceKind::Application)
        .next()
        .is_none()
    {
        Api::Iam
    } else {
        Api::Emr
    };
    check_map(parsed, &parsed.tags, stack_api, diagnostics);
    for app in &parsed.applications {
        if let Some(tags) = &app.value.tags {
            check_map(parsed, tags.get(), Api::Emr, diagnostics);
        }
        check_count(
            parsed,
            &Address::application(app.key.clone()),
            app.value.tags.as_ref(),
            &app.header,
            diagnostics,
        );
    }
    for role in &parsed.roles {
        if let Some(tags) = &role.value.tags {
            check_map(parsed, tags.get(), Api::Iam, diagnostics);
        }
        check_count(
            parsed,
            &Address::role(role.key.clone()),
            role.value.tags.as_ref(),
            &role.header,
            diagnostics,
        );
    }
}

fn check_map(parsed: &Parsed, map: &SpMap, api: Api, diagnostics: &mut Diagnostics) {
    let allowed = |c: char| match api {
        Api::Emr => is_emr_tag_char(c),
        Api::Iam => is_iam_tag_char(c),
    };
    let help = match api {
        Api::Emr => "tag keys and values may use ASCII letters, digits, spaces and `_ . : / = + - @`",
        Api::Iam => "IAM tag keys and values may use letters, digits, spaces and `_ . : / = + - @`",
    };
    for (key, value) in map {
        let key_span = parsed.span(key);
        let value_span = parsed.span(value);
        let key_length = key.chars().count();
        if key_length == 0 {
            diagnostics.push(Diagnostic::error("tag.key-length", "tag key is empty").at(key_span.clone()));
        } else if key_length > 128 {
            diagnostics.push(
                Diagnostic::error(
                    "tag.key-length",
                    format!("tag key is {key_length} characters long; at most 128 are allowed"),
                )
                .at(key_span.clone()),
            );
        }
        let value_length = value.chars().count();
        if value_length > 256 {
            diagnostics.push(
                Diagnostic::error(
                    "tag.value-length",
                    format!(
                        "value of tag `{}` is {value_length} characters long; at most 256 are allowed",
                        key.get()
                    ),
                )
                .at(value_span.clone()),
            );
        }
        if let Some(bad) = key.chars().find(|c| !allowed(*c)) {
            diagnostics.push(
                Diagnostic::error(
                    "tag.characters",
                    format!("tag key `{}` contains `{bad}`, which tags cannot use", key.get()),
                )
                .at(key_span.clone())
                .with_help(help),
            );
        }
        if let Some(bad) = value.chars().find(|c| !allowed(*c)) {
            diagnostics.push(
                Diagnostic::error(
                    "tag.characters",
                    format!("value of tag `{}` contains `{bad}`, which tags cannot use", key.get()),
                )
                .at(value_span.clone())
                .with_help(help),
            );
        }
        if key.to_lowercase().starts_with("aws:") {
            diagnostics.push(
                Diagnostic::error(
                    "tag.reserved-prefix",
                    format!("tag key `{}` starts with the reserved prefix `aws:`", key.get()),
                )
                .at(key_span.clone())
                .with_help("AWS reserves `aws:` in any letter case for its own tags"),
            );
        }
        if value.to_lowercase().starts_with("aws:") {
            diagnostics.push(
                Diagnostic::error(
                    "tag.reserved-prefix",
                    format!("value of tag `{}` starts with the reserved prefix `aws:`", key.get()),
                )
                .at(value_span)
                .with_help("AWS reserves `aws:` in any letter case, in keys and values"),
            );
        }
        if key.starts_with(RESERVED_PREFIX) {
            diagnostics.push(
                Diagnostic::error("tag.reserved-key", format!("tag key `{}` is reserved for emrstack", key.get()))
                    .at(key_span)
                    .with_help("emrstack sets `emrstack:stack`, `emrstack:address` and `emrstack:applied` itself; use another prefix"),
            );
        }
    }
}

fn check_count(
    parsed: &Parsed,
    address: &Address,
    own: Option<&Sp<SpMap>>,
    header: &Span,
    diagnostics: &mut Diagnostics,
) {
    let mut keys: BTreeSet<&str> = parsed.tags.keys().map(|k| k.get().as_str()).collect();
    if let Some(own) = own {
        keys.extend(own.get().keys().map(|k| k.get().as_str()));
    }
    if keys.len() <= MAX_TAGS {
        return;
    }
    let span = own
        .map(|own| parsed.span(own))
        .or_else(|| parsed.tags_span.clone())
        .unwrap_or_else(|| header.clone());
    diagnostics.push(
        Diagnostic::error(
            "tag.too-many",
            format!("`{address}` has {} tags, counting the stack's `[tags]`; at most {MAX_TAGS} are allowed", keys.len()),
        )
        .at(span)
        .with_help("AWS allows 50 tags per resource and emrstack adds 3 of its own (`emrstack:stack`, `emrstack:address`, `emrstack:applied`)"),
    );
}
