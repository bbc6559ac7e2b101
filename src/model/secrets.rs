//! Recognising secret-looking values, for every stage that must not show,
//! store or hash one recoverably: renderers and plan files
//! (`plan::secrets`), and the `emrstack:applied` records written to AWS as
//! tags (`diff::fields`).
//!
//! Two rules decide what is secret:
//!
//! - **by key**: a runtime configuration property or a tag whose key names
//!   a password, secret, token, credential, signature or private, access,
//!   session or API key ([`is_secret_key`]) holds a secret as a whole,
//!   unless it is a Secrets Manager reference (`EMR.secret@<name>`);
//! - **by shape**, in every string: the password of a URI's userinfo
//!   (`scheme://user:password@host`) and the value of a `name=value`
//!   parameter whose name is secret-looking (`jdbc:...;password=...`,
//!   `?user=u&password=...`, `-Dx.trustStorePassword=...`)
//!   ([`embedded_secrets`]).

use std::borrow::Cow;
use std::ops::Range;

use serde_json::Value;

/// The start of what a saved plan holds instead of a secret
/// (`plan::secrets`); such a value is already hidden.
pub const REDACTED_PREFIX: &str = "<redacted argon2id:";

/// Key fragments that mark a key or parameter name as secret-looking
/// (compared in lower case, with `.`, `-` and `_` removed).
const SECRET_WORDS: [&str; 12] = [
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "token",
    "credential",
    "signature",
    "privatekey",
    "accesskey",
    "apikey",
    "sessionkey",
];

/// Whether a property key, tag key, variable name or parameter name looks
/// like it names a secret.
pub fn is_secret_key(key: &str) -> bool {
    let folded: String = key
        .chars()
        .filter(|c| !matches!(c, '.' | '-' | '_'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    SECRET_WORDS.iter().any(|word| folded.contains(word))
}

/// Whether a value is a Secrets Manager reference rather than a secret.
pub fn is_reference(value: &str) -> bool {
    value.starts_with("EMR.secret@")
}

/// Whether a property or tag `key` with `value` must be hidden as a whole.
pub fn must_hide(key: &str, value: &str) -> bool {
    is_secret_key(key) && !is_reference(value)
}

/// Characters that end the name of a `name=value` parameter, looking left
/// from the `=`.
fn ends_name(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '?' | '&' | ';' | ',' | '/' | '=' | '"' | '\'' | '`' | '(' | '[' | '{' | '<'
        )
}

/// Characters that end the value of a `name=value` parameter.
fn ends_value(c: char) -> bool {
    c.is_whitespace() || matches!(c, '&' | ';' | '"' | '\'' | '`' | '<' | '>')
}

/// The byte ranges of the secrets embedded in `text`, sorted and merged:
/// the password of every URI userinfo (`scheme://user:password@host`) and
/// the value of every `name=value` parameter whose name is secret-looking.
pub fn embedded_secrets(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find("://") {
        let authority = from + found + 3;
        let end = text[authority..]
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '?' | '#' | '"' | '\'' | '`' | '<' | '>'))
            .map_or(text.len(), |i| authority + i);
        if let Some(at) = text[authority..end].rfind('@')
            && let Some(colon) = text[authority..authority + at].find(':')
            && colon + 1 < at
        {
            out.push(authority + colon + 1..authority + at);
        }
        from = authority;
    }
    // Each `=` looks left only to the previous delimiter (`=` is one) and
    // right only past what is already masked, so a text is read a bounded
    // number of times whatever it holds.
    let mut masked_until = 0;
    for (equals, _) in text.match_indices('=') {
        if equals < masked_until {
            continue;
        }
        let name_start = text[..equals]
            .char_indices()
            .rev()
            .find(|(_, c)| ends_name(*c))
            .map_or(0, |(i, c)| i + c.len_utf8());
        if !is_secret_key(&text[name_start..equals]) {
            continue;
        }
        let value_start = equals + 1;
        let value_end = text[value_start..]
            .find(ends_value)
            .map_or(text.len(), |i| value_start + i);
        if value_end > value_start && !is_reference(&text[value_start..value_end]) {
            out.push(value_start..value_end);
            masked_until = value_end;
        }
    }
    merge_ranges(out)
}

pub fn merge_ranges(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

/// `text` with each embedded secret replaced by `replacement(secret)`.
pub fn replace_embedded<'t>(text: &'t str, replacement: &mut dyn FnMut(&str) -> String) -> Cow<'t, str> {
    let ranges = embedded_secrets(text);
    if ranges.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for range in ranges {
        out.push_str(&text[at..range.start]);
        out.push_str(&replacement(&text[range.clone()]));
        at = range.end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// A string found under `key` in a map of user keys (a property or tag),
/// or anywhere else when `key` is `None`, as it may be shown or stored:
/// `None` when it holds no secret.
pub fn hide(key: Option<&str>, value: &str, replacement: &mut dyn FnMut(&str) -> String) -> Option<String> {
    // Already redacted (a loaded plan, or a second pass over a saved one).
    if value.starts_with(REDACTED_PREFIX) {
        return None;
    }
    if key.is_some_and(|key| must_hide(key, value)) {
        return Some(replacement(value));
    }
    match replace_embedded(value, replacement) {
        Cow::Borrowed(_) => None,
        Cow::Owned(masked) => Some(masked),
    }
}

/// Object keys whose values are maps of user keys to strings: the key-based
/// rule applies to their entries.
pub fn is_user_map(key: &str) -> bool {
    key == "properties" || key == "tags"
}

/// A JSON value with every secret replaced by `replacement(secret)`. `key`
/// is `value`'s key when it is an entry of a map of user keys (a property
/// or a tag), so that the key-based rule applies to it.
pub fn scrub(value: &Value, key: Option<&str>, replacement: &mut dyn FnMut(&str) -> String) -> Value {
    match value {
        Value::String(text) => hide(key, text, replacement)
            .map(Value::String)
            .unwrap_or_else(|| value.clone()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(name, item)| {
                    let item = if is_user_map(name) {
                        scrub_user_map(item, replacement)
                    } else {
                        scrub(item, None, replacement)
                    };
                    (name.clone(), item)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|item| scrub(item, None, replacement)).collect()),
        other => other.clone(),
    }
}

/// A `properties` or `tags` map with the key-based rule applied to its entries.
pub fn scrub_user_map(value: &Value, replacement: &mut dyn FnMut(&str) -> String) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(name, item)| (name.clone(), scrub(item, Some(name), replacement)))
                .collect(),
        ),
        other => scrub(other, None, replacement),
    }
}

/// What an `emrstack:applied` record hashes in place of a secret.
const RECORDED_SECRET: &str = "(secret)";

/// The value of the field `field` of a record (`tags`,
/// `runtime_configuration`, `policies.<name>`) with every secret replaced
/// by a fixed marker: what the record hashes. The record is a tag, readable
/// by whoever may list the resource's tags, and a short unsalted hash of a
/// value holding a secret would let a guess at the secret be checked
/// against it. A change to a secret alone therefore leaves the record's
/// hash as it was: the plan still shows it (both sides are compared in
/// full), only its origin (stack or drift) cannot be told.
pub fn recorded_form(field: &str, value: &Value) -> Value {
    let last = field.rsplit('.').next().unwrap_or(field);
    let mut mark = |_: &str| RECORDED_SECRET.to_string();
    if is_user_map(last) {
        scrub_user_map(value, &mut mark)
    } else {
        scrub(value, None, &mut mark)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_recorded_form_hides_secrets_by_key_and_by_shape() {
        let tags = json!({"deploy-token": "t-1", "team": "data"});
        assert_eq!(
            recorded_form("tags", &tags),
            json!({"deploy-token": "(secret)", "team": "data"})
        );
        let runtime = json!([{"classification": "hive-site", "properties": {
            "javax.jdo.option.ConnectionPassword": "p-1",
            "javax.jdo.option.ConnectionURL": "jdbc:mysql://db/hive?user=u&password=p-2",
            "hive.metastore.uris": "thrift://hive:p-3@metastore:9083",
            "hive.exec.parallel": "true",
        }}]);
        let shown = recorded_form("runtime_configuration", &runtime).to_string();
        for secret in ["p-1", "p-2", "p-3"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("hive.exec.parallel"), "{shown}");
        let policy =
            json!({"Statement": [{"Condition": {"StringLike": {"aws:Referer": "https://u:p-4@example.com/*"}}}]});
        assert!(!recorded_form("policies.data", &policy).to_string().contains("p-4"));
    }

    #[test]
    fn values_differing_only_in_a_secret_have_one_recorded_form() {
        let a = json!([{"classification": "c", "properties": {"x.secret.key": "one", "y": "1"}}]);
        let b = json!([{"classification": "c", "properties": {"x.secret.key": "two", "y": "1"}}]);
        let c = json!([{"classification": "c", "properties": {"x.secret.key": "one", "y": "2"}}]);
        assert_eq!(
            recorded_form("runtime_configuration", &a),
            recorded_form("runtime_configuration", &b)
        );
        assert_ne!(
            recorded_form("runtime_configuration", &a),
            recorded_form("runtime_configuration", &c)
        );
        assert_eq!(recorded_form("tags", &Value::Null), Value::Null);
    }
}
