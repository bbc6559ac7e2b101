//! Policy document rules: the shape IAM accepts for an identity policy
//! (`Version`, `Statement`, `Effect`, `Action`/`NotAction`,
//! `Resource`/`NotResource`, no `Principal`), `Sid`s, and
//! `${application.<key>.arn}` placeholders naming declared applications.

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;
use toml::de::DeValue;

use crate::diag::{Diagnostic, Diagnostics, FileId, Span};

use super::super::text::{did_you_mean, one_of};

const DOCUMENT_KEYS: [&str; 3] = ["Version", "Id", "Statement"];
const STATEMENT_KEYS: [&str; 9] = [
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
    "Principal",
    "NotPrincipal",
];
const VERSIONS: [&str; 2] = ["2012-10-17", "2008-10-17"];

/// Checks an identity policy document read from `file`.
pub(crate) fn check_document(
    document: &Spanned<DeValue<'_>>,
    file: FileId,
    applications: &BTreeSet<String>,
    diagnostics: &mut Diagnostics,
) {
    let span = |range: std::ops::Range<usize>| Span::new(file, range);
    let DeValue::Table(table) = document.get_ref() else {
        diagnostics.push(
            Diagnostic::error("policy.document", "a policy document must be a JSON object")
                .at(span(document.span()))
                .with_help("write `{\"Version\": \"2012-10-17\", \"Statement\": [...]}`"),
        );
        return;
    };
    placeholders(document, file, applications, diagnostics);
    characters(document, file, diagnostics);
    for (key, _) in table.iter() {
        unknown_key(key, &DOCUMENT_KEYS, "policy document", file, diagnostics);
    }
    match table.get("Version") {
        None => diagnostics.push(
            Diagnostic::error("policy.version", "policy document has no `Version`")
                .at(span(document.span()))
                .with_help(
                    "add `\"Version\": \"2012-10-17\"`; without it IAM uses 2008-10-17, which has no policy variables",
                ),
        ),
        Some(version) if !version.get_ref().as_str().is_some_and(|v| VERSIONS.contains(&v)) => diagnostics.push(
            Diagnostic::error("policy.version", "`Version` must be `2012-10-17` or `2008-10-17`")
                .at(span(version.span()))
                .with_help("use `\"2012-10-17\"`"),
        ),
        Some(_) => {}
    }
    let statements: Vec<&Spanned<DeValue<'_>>> = match table.get("Statement") {
        None => {
            diagnostics.push(
                Diagnostic::error("policy.statement", "policy document has no `Statement`")
                    .at(span(document.span()))
                    .with_help(
                        "add `\"Statement\": [{\"Effect\": \"Allow\", \"Action\": [...], \"Resource\": [...]}]`",
                    ),
            );
            return;
        }
        Some(statement) => match statement.get_ref() {
            DeValue::Table(_) => vec![statement],
            DeValue::Array(items) if !items.is_empty() => items.iter().collect(),
            DeValue::Array(_) => {
                diagnostics.push(
                    Diagnostic::error("policy.statement", "`Statement` is empty")
                        .at(span(statement.span()))
                        .with_help("a policy needs at least one statement"),
                );
                return;
            }
            _ => {
                diagnostics.push(
                    Diagnostic::error("policy.statement", "`Statement` must be an object or a list of objects")
                        .at(span(statement.span())),
                );
                return;
            }
        },
    };
    let mut sids: BTreeMap<String, Span> = BTreeMap::new();
    for statement in statements {
        check_statement(statement, file, &mut sids, diagnostics);
    }
}

fn unknown_key(
    key: &Spanned<std::borrow::Cow<'_, str>>,
    known: &[&str],
    place: &str,
    file: FileId,
    diagnostics: &mut Diagnostics,
) {
    if known.contains(&key.get_ref().as_ref()) {
        return;
    }
    let help = match did_you_mean(key.get_ref(), known.iter().copied()) {
        Some(close) => format!("did you mean `{close}`?"),
        None => format!("expected {}", one_of(known)),
    };
    diagnostics.push(
        Diagnostic::error(
            "policy.unknown-key",
            format!("unknown key `{}` in a {place}", key.get_ref()),
        )
        .at(Span::new(file, key.span()))
        .with_help(help),
    );
}

fn check_statement(
    statement: &Spanned<DeValue<'_>>,
    file: FileId,
    sids: &mut BTreeMap<String, Span>,
    diagnostics: &mut Diagnostics,
) {
    let span = |range: std::ops::Range<usize>| Span::new(file, range);
    let DeValue::Table(table) = statement.get_ref() else {
        diagnostics
            .push(Diagnostic::error("policy.statement", "a statement must be an object").at(span(statement.span())));
        return;
    };
    for (key, _) in table.iter() {
        unknown_key(key, &STATEMENT_KEYS, "policy statement", file, diagnostics);
    }
    if let Some(sid) = table.get("Sid") {
        match sid.get_ref().as_str() {
            Some(text) if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric()) => {
                if let Some(first) = sids.get(text) {
                    diagnostics.push(
                        Diagnostic::error("policy.sid", format!("`Sid` `{text}` is used twice in the policy"))
                            .at(span(sid.span()))
                            .with_label(first.clone(), "first used here")
                            .with_help("statement IDs must be unique within a policy"),
                    );
                } else {
                    sids.insert(text.to_string(), span(sid.span()));
                }
            }
            _ => diagnostics.push(
                Diagnostic::error(
                    "policy.sid",
                    "`Sid` must be a non-empty string of ASCII letters and digits",
                )
                .at(span(sid.span())),
            ),
        }
    }
    match table.get("Effect") {
        None => diagnostics.push(
            Diagnostic::error("policy.effect", "statement has no `Effect`")
                .at(span(statement.span()))
                .with_help("add `\"Effect\": \"Allow\"` or `\"Effect\": \"Deny\"`"),
        ),
        Some(effect) if !matches!(effect.get_ref().as_str(), Some("Allow" | "Deny")) => diagnostics.push(
            Diagnostic::error("policy.effect", "`Effect` must be `Allow` or `Deny`")
                .at(span(effect.span()))
                .with_help("the value is case-sensitive"),
        ),
        Some(_) => {}
    }
    exactly_one(
        table,
        statement,
        ["Action", "NotAction"],
        "policy.action",
        file,
        diagnostics,
    );
    exactly_one(
        table,
        statement,
        ["Resource", "NotResource"],
        "policy.resource",
        file,
        diagnostics,
    );
    for key in ["Action", "NotAction"] {
        if let Some(actions) = table.get(key) {
            check_actions(key, actions, file, diagnostics);
        }
    }
    for key in ["Resource", "NotResource"] {
        if let Some(resources) = table.get(key) {
            strings(key, resources, file, diagnostics);
        }
    }
    for key in ["Principal", "NotPrincipal"] {
        if let Some((key_spanned, _)) = table.get_key_value(key) {
            diagnostics.push(
                Diagnostic::error("policy.principal", format!("a role's inline policy cannot have `{key}`"))
                    .at(span(key_spanned.span()))
                    .with_help("identity policies apply to the role itself; the trust policy (who may assume the role) is generated from `trust_applications`"),
            );
        }
    }
}

fn exactly_one(
    table: &toml::de::DeTable<'_>,
    statement: &Spanned<DeValue<'_>>,
    keys: [&str; 2],
    code: &str,
    file: FileId,
    diagnostics: &mut Diagnostics,
) {
    match (table.get_key_value(keys[0]), table.get_key_value(keys[1])) {
        (None, None) => diagnostics.push(
            Diagnostic::error(code, format!("statement has neither `{}` nor `{}`", keys[0], keys[1]))
                .at(Span::new(file, statement.span()))
                .with_help(format!("add `\"{}\": [...]`", keys[0])),
        ),
        (Some(_), Some((second, _))) => diagnostics.push(
            Diagnostic::error(code, format!("statement has both `{}` and `{}`", keys[0], keys[1]))
                .at(Span::new(file, second.span()))
                .with_help("keep one of them"),
        ),
        _ => {}
    }
}

/// The strings of a string-or-list value; reports anything else.
fn strings<'a, 'i>(
    key: &str,
    value: &'a Spanned<DeValue<'i>>,
    file: FileId,
    diagnostics: &mut Diagnostics,
) -> Vec<&'a Spanned<DeValue<'i>>> {
    let items: Vec<&Spanned<DeValue<'_>>> = match value.get_ref() {
        DeValue::String(_) => vec![value],
        DeValue::Array(items) if !items.is_empty() => items.iter().collect(),
        _ => {
            diagnostics.push(
                Diagnostic::error(
                    "policy.statement",
                    format!("`{key}` must be a string or a non-empty list of strings"),
                )
                .at(Span::new(file, value.span())),
            );
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for item in items {
        if item.get_ref().is_str() {
            out.push(item);
        } else {
            diagnostics.push(
                Diagnostic::error("policy.statement", format!("`{key}` must contain only strings"))
                    .at(Span::new(file, item.span())),
            );
        }
    }
    out
}

fn check_actions(key: &str, value: &Spanned<DeValue<'_>>, file: FileId, diagnostics: &mut Diagnostics) {
    for action in strings(key, value, file, diagnostics) {
        let text = action.get_ref().as_str().unwrap_or("");
        let valid = text == "*"
            || text.split_once(':').is_some_and(|(service, name)| {
                !service.is_empty()
                    && service.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?')
            });
        if !valid {
            diagnostics.push(
                Diagnostic::error("policy.action", format!("`{text}` is not an IAM action"))
                    .at(Span::new(file, action.span()))
                    .with_help("actions are written `service:Action`, for example `s3:GetObject` or `s3:Get*`"),
            );
        }
    }
}

/// IAM's `policyDocumentType` allows tab, newline, carriage return and
/// U+0020 to U+00FF only.
fn characters(value: &Spanned<DeValue<'_>>, file: FileId, diagnostics: &mut Diagnostics) {
    match value.get_ref() {
        DeValue::String(text) => check_characters(text, value.span(), file, diagnostics),
        DeValue::Array(items) => {
            for item in items.iter() {
                characters(item, file, diagnostics);
            }
        }
        DeValue::Table(table) => {
            for (key, item) in table.iter() {
                check_characters(key.get_ref(), key.span(), file, diagnostics);
                characters(item, file, diagnostics);
            }
        }
        _ => {}
    }
}

fn check_characters(text: &str, range: std::ops::Range<usize>, file: FileId, diagnostics: &mut Diagnostics) {
    let allowed = |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}');
    if let Some(bad) = text.chars().find(|c| !allowed(*c)) {
        diagnostics.push(
            Diagnostic::error(
                "policy.characters",
                format!("`{bad}` cannot appear in an IAM policy document"),
            )
            .at(Span::new(file, range))
            .with_help("IAM policy documents use ASCII and Latin-1 characters only"),
        );
    }
}

/// Checks every `${application.<key>.arn}` placeholder in the document.
fn placeholders(
    value: &Spanned<DeValue<'_>>,
    file: FileId,
    applications: &BTreeSet<String>,
    diagnostics: &mut Diagnostics,
) {
    match value.get_ref() {
        DeValue::String(text) => {
            let mut rest: &str = text;
            while let Some(start) = rest.find("${application.") {
                let tail = &rest[start + "${application.".len()..];
                let Some(close) = tail.find('}') else {
                    diagnostics.push(
                        Diagnostic::error("policy.placeholder", "unterminated `${application.` placeholder")
                            .at(Span::new(file, value.span()))
                            .with_help("write `${application.<key>.arn}`"),
                    );
                    break;
                };
                let inner = &tail[..close];
                match inner.strip_suffix(".arn") {
                    Some(key) if applications.contains(key) => {}
                    Some(key) => {
                        let help = match did_you_mean(key, applications.iter().map(String::as_str)) {
                            Some(close) => format!("did you mean `{close}`?"),
                            None => format!("declare it as `[applications.{key}]`"),
                        };
                        diagnostics.push(
                            Diagnostic::error("reference.undeclared", format!("undeclared application `{key}`"))
                                .at(Span::new(file, value.span()))
                                .with_help(help),
                        );
                    }
                    None => diagnostics.push(
                        Diagnostic::error(
                            "policy.placeholder",
                            format!("`${{application.{inner}}}` is not a supported placeholder"),
                        )
                        .at(Span::new(file, value.span()))
                        .with_help("only `${application.<key>.arn}` is supported"),
                    ),
                }
                rest = &tail[close + 1..];
            }
        }
        DeValue::Array(items) => {
            for item in items.iter() {
                placeholders(item, file, applications, diagnostics);
            }
        }
        DeValue::Table(table) => {
            for (_, item) in table.iter() {
                placeholders(item, file, applications, diagnostics);
            }
        }
        _ => {}
    }
}
