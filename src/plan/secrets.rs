//! Secret-looking values, as `model::secrets` recognises them: never
//! printed, and never written to a plan file in a form that can be
//! recovered (docs/plan-format.md, "Secrets").
//!
//! Every renderer shows a secret as `(sensitive value)`. A saved plan holds
//! `<redacted argon2id:...>` instead: the Argon2id hash of the secret with a
//! random salt of the plan and deliberately slow parameters ([`Kdf`]), so a
//! leaked plan file costs an attacker real work per guess. `apply PLANFILE`
//! hashes the stack file's values with the plan's salt and puts back the
//! ones that match, refusing the plan when one does not.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Plan;
use crate::diff::FieldChange;
use crate::model::Desired;
use crate::model::secrets::{
    REDACTED_PREFIX, embedded_secrets, hide, is_reference, is_secret_key, is_user_map, merge_ranges, must_hide,
    replace_embedded, scrub, scrub_user_map,
};

/// What renderers print instead of a secret-looking value.
pub const SENSITIVE: &str = "(sensitive value)";

/// What a plan file holds instead of an `emrstack:applied` record when the
/// plan has secrets: the record's short unsalted hashes of whole fields
/// would let a guess at a secret be checked against it.
const OMITTED_RECORD: &str = "(omitted from plan files with secrets)";

/// `text` with every `<redacted argon2id:...>` of a loaded plan shown as
/// `(sensitive value)`.
fn show_redacted(text: &str) -> Cow<'_, str> {
    if !text.contains(REDACTED_PREFIX) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(REDACTED_PREFIX) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        match tail.find('>') {
            Some(end) => {
                out.push_str(SENSITIVE);
                rest = &tail[end + 1..];
            }
            None => {
                out.push_str(tail);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Free text (a message, a note, an identifier) with every embedded secret
/// shown as `(sensitive value)`.
pub fn mask_text(text: &str) -> Cow<'_, str> {
    match show_redacted(text) {
        Cow::Borrowed(text) => replace_embedded(text, &mut |_| SENSITIVE.to_string()),
        Cow::Owned(shown) => Cow::Owned(replace_embedded(&shown, &mut |_| SENSITIVE.to_string()).into_owned()),
    }
}

/// `value` with the redacted parts of a loaded plan shown as `(sensitive value)`.
fn show_redacted_value(value: Value) -> Value {
    match value {
        Value::String(text) => match show_redacted(&text) {
            Cow::Owned(shown) => Value::String(shown),
            Cow::Borrowed(_) => Value::String(text),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(show_redacted_value).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, show_redacted_value(v))).collect()),
        other => other,
    }
}

/// The user key a field path ends in, if the path is inside a `properties`
/// or `tags` map (`runtime_configuration.spark-defaults.properties.<key>`,
/// `tags.<key>`).
fn user_key_of(path: &str) -> Option<&str> {
    for map in ["properties", "tags"] {
        if let Some(key) = path.strip_prefix(&format!("{map}.")) {
            return Some(key);
        }
        if let Some(at) = path.find(&format!(".{map}.")) {
            return Some(&path[at + map.len() + 2..]);
        }
    }
    None
}

fn scrub_field(field: &FieldChange, replacement: &mut dyn FnMut(&str) -> String) -> FieldChange {
    let mut out = field.clone();
    // A leaf is one property or tag (`...properties.<key>`), a whole map
    // (when a classification gains its first properties), or a larger block
    // holding such maps.
    let whole_map = ["properties", "tags"]
        .iter()
        .any(|map| field.path == *map || field.path.ends_with(&format!(".{map}")));
    let mut scrub_leaf = |value: &Value| match (user_key_of(&field.path), value) {
        (Some(key), Value::String(_)) => scrub(value, Some(key), replacement),
        _ if whole_map => scrub_user_map(value, replacement),
        _ => scrub(value, None, replacement),
    };
    out.before = scrub_leaf(&field.before);
    out.after = scrub_leaf(&field.after);
    out
}

/// A field change as renderers must show it.
pub fn display_field(field: &FieldChange) -> FieldChange {
    let mut shown = scrub_field(field, &mut |_| SENSITIVE.to_string());
    shown.before = show_redacted_value(shown.before);
    shown.after = show_redacted_value(shown.after);
    shown
}

/// A JSON value as renderers must show it.
pub fn display_value(value: &Value) -> Value {
    show_redacted_value(scrub(value, None, &mut |_| SENSITIVE.to_string()))
}

/// Replaces the value of every `emrstack:applied` tag in `value`.
fn omit_records(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (name, item) in map.iter_mut() {
                if name == "tags"
                    && let Value::Object(tags) = item
                    && let Some(record) = tags.get_mut(crate::model::tags::APPLIED_TAG)
                {
                    *record = Value::String(OMITTED_RECORD.to_string());
                }
                omit_records(item);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(omit_records),
        _ => {}
    }
}

/// The byte ranges of a line of a stack file, var file or JSON file that a
/// diagnostic's snippet must not show: the string values of secret-looking
/// keys (`db_password = "..."`, `"Password": "..."`, a list after such a
/// key) and the secrets embedded in the line (see [`embedded_secrets`]).
/// A reader of lines, not of TOML or JSON: it does not know what earlier
/// lines opened.
pub fn source_line_secrets(line: &str) -> Vec<Range<usize>> {
    #[derive(PartialEq)]
    enum Token {
        /// A quoted string: the range of its content.
        Quoted(Range<usize>),
        /// A bare key or word.
        Bare(Range<usize>),
        Assign,
        Open,
        Close,
        Other,
    }
    let bytes = line.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'"' | b'\'' => {
                let start = i + 1;
                let mut j = start;
                while j < bytes.len() && bytes[j] != c {
                    j += if c == b'"' && bytes[j] == b'\\' { 2 } else { 1 };
                }
                let end = j.min(bytes.len());
                tokens.push(Token::Quoted(start..end));
                i = end + 1;
            }
            b'=' | b':' => {
                tokens.push(Token::Assign);
                i += 1;
            }
            b'[' => {
                tokens.push(Token::Open);
                i += 1;
            }
            b']' => {
                tokens.push(Token::Close);
                i += 1;
            }
            _ if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.') => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b'-' | b'.')) {
                    i += 1;
                }
                tokens.push(Token::Bare(start..i));
            }
            _ if c.is_ascii_whitespace() => i += 1,
            _ => {
                tokens.push(Token::Other);
                i += 1;
            }
        }
    }
    let mut out = embedded_secrets(line);
    let text = |range: &Range<usize>| line.get(range.clone()).unwrap_or("");
    let mut t = 0;
    while t < tokens.len() {
        let key = match &tokens[t] {
            Token::Quoted(range) | Token::Bare(range) => text(range),
            _ => {
                t += 1;
                continue;
            }
        };
        if tokens.get(t + 1) != Some(&Token::Assign) || !is_secret_key(key) {
            t += 1;
            continue;
        }
        match tokens.get(t + 2) {
            Some(Token::Quoted(value)) if !is_reference(text(value)) => out.push(value.clone()),
            Some(Token::Open) => {
                let mut u = t + 3;
                while let Some(token) = tokens.get(u) {
                    match token {
                        Token::Close => break,
                        Token::Quoted(value) if !is_reference(text(value)) => out.push(value.clone()),
                        _ => {}
                    }
                    u += 1;
                }
            }
            _ => {}
        }
        t += 2;
    }
    merge_ranges(out.into_iter().filter(|range| !range.is_empty()).collect())
}

/// The key derivation of a saved plan's secrets: Argon2id (RFC 9106) with a
/// random salt per plan. Stored in the plan file, so that `apply` hashes
/// the stack file's values the same way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kdf {
    /// Always `argon2id`.
    pub algorithm: String,
    /// Memory per hash, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
    /// 16 random bytes, in hexadecimal.
    pub salt: String,
}

/// The parameters a new plan file gets: OWASP's recommended minimum for
/// Argon2id (19 MiB, 2 passes, 1 lane), about 25 ms per hash on one core,
/// so a handful of secrets costs `apply` a fraction of a second while every
/// guess at a leaked plan file costs an attacker as much (docs/plan-format.md).
pub const MEMORY_KIB: u32 = 19 * 1024;
/// See [`MEMORY_KIB`].
pub const ITERATIONS: u32 = 2;
/// See [`MEMORY_KIB`].
pub const PARALLELISM: u32 = 1;

/// Bounds on the parameters `apply` accepts from a plan file: a file cannot
/// make it hash with less work than a new plan gets, nor with so much
/// memory or time that it becomes a way to stall it.
const MAX_MEMORY_KIB: u32 = 256 * 1024;
const MAX_ITERATIONS: u32 = 16;

/// Why the secrets of a plan file cannot be checked or restored.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretsError {
    #[error(
        "the plan file's secret hashes use {0}; this emrstack reads Argon2id hashes with at least {MEMORY_KIB} KiB and {ITERATIONS} passes, at most {MAX_MEMORY_KIB} KiB and {MAX_ITERATIONS} passes"
    )]
    Kdf(String),
    #[error("cannot hash: {0}")]
    Hash(String),
    #[error("the plan's secret values are missing from the stack file or differ from it: {}", .0.join(", "))]
    Missing(Vec<String>),
    #[error("the plan file is inconsistent: {0}")]
    Plan(String),
}

impl Kdf {
    /// New parameters with a fresh random salt.
    pub fn generate() -> Result<Kdf, SecretsError> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|error| SecretsError::Hash(format!("no random salt: {error}")))?;
        Ok(Kdf {
            algorithm: "argon2id".to_string(),
            memory_kib: MEMORY_KIB,
            iterations: ITERATIONS,
            parallelism: PARALLELISM,
            salt: hex(&salt),
        })
    }

    fn hasher(&self) -> Result<(argon2::Argon2<'static>, Vec<u8>), SecretsError> {
        let described = || {
            format!(
                "{} with {} KiB, {} passes and {} lanes",
                self.algorithm, self.memory_kib, self.iterations, self.parallelism
            )
        };
        if self.algorithm != "argon2id"
            || !(MEMORY_KIB..=MAX_MEMORY_KIB).contains(&self.memory_kib)
            || !(ITERATIONS..=MAX_ITERATIONS).contains(&self.iterations)
            || self.parallelism != PARALLELISM
        {
            return Err(SecretsError::Kdf(described()));
        }
        let salt = unhex(&self.salt)
            .filter(|salt| salt.len() >= 16)
            .ok_or_else(|| SecretsError::Kdf(format!("{} and a salt that is not 16 hex bytes", described())))?;
        let params = argon2::Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32))
            .map_err(|error| SecretsError::Kdf(format!("{}: {error}", described())))?;
        Ok((
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params),
            salt,
        ))
    }
}

/// Hashes secrets with one plan's parameters, each distinct value once.
struct Hasher {
    argon2: argon2::Argon2<'static>,
    salt: Vec<u8>,
    cache: HashMap<String, String>,
    error: Option<SecretsError>,
}

impl Hasher {
    fn new(kdf: &Kdf) -> Result<Hasher, SecretsError> {
        let (argon2, salt) = kdf.hasher()?;
        Ok(Hasher {
            argon2,
            salt,
            cache: HashMap::new(),
            error: None,
        })
    }

    /// `<redacted argon2id:HEX>` for `secret`.
    fn redacted(&mut self, secret: &str) -> String {
        if let Some(done) = self.cache.get(secret) {
            return done.clone();
        }
        let mut digest = [0u8; 32];
        if let Err(error) = self
            .argon2
            .hash_password_into(secret.as_bytes(), &self.salt, &mut digest)
        {
            self.error.get_or_insert(SecretsError::Hash(error.to_string()));
        }
        let text = format!("{REDACTED_PREFIX}{}>", hex(&digest));
        self.cache.insert(secret.to_string(), text.clone());
        text
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| text.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect()
}

fn is_redacted(value: &str) -> bool {
    value.contains(REDACTED_PREFIX)
}

fn plan_value(plan: &Plan) -> Result<Value, SecretsError> {
    serde_json::to_value(plan).map_err(|error| SecretsError::Plan(error.to_string()))
}

fn plan_from(value: Value) -> Result<Plan, SecretsError> {
    serde_json::from_value(value).map_err(|error| SecretsError::Plan(error.to_string()))
}

/// Replaces every secret in the plan (its changes, their targets and the
/// resolved stack) by its salted Argon2id hash, and records the salt and
/// parameters in `plan.secrets`. A plan without secrets is left as it is.
pub fn redact_plan(plan: &mut Plan) -> Result<(), SecretsError> {
    let kdf = Kdf::generate()?;
    let mut hasher = Hasher::new(&kdf)?;
    let mut value = plan_value(plan)?;
    if let Some(changes) = value.get_mut("changes").and_then(Value::as_array_mut) {
        for change in changes.iter_mut() {
            if let Some(fields) = change.get_mut("fields").and_then(Value::as_array_mut) {
                for field in fields.iter_mut() {
                    let parsed: FieldChange =
                        serde_json::from_value(field.clone()).map_err(|error| SecretsError::Plan(error.to_string()))?;
                    let scrubbed = scrub_field(&parsed, &mut |secret| hasher.redacted(secret));
                    *field = serde_json::to_value(scrubbed).map_err(|error| SecretsError::Plan(error.to_string()))?;
                }
            }
        }
    }
    // Everything else, fields included (a field's whole-map values were
    // handled above; this pass finds nothing more in them).
    let mut scrubbed = scrub(&value, None, &mut |secret| hasher.redacted(secret));
    if let Some(error) = hasher.error {
        return Err(error);
    }
    if hasher.cache.is_empty() {
        return Ok(());
    }
    omit_records(&mut scrubbed);
    if let Value::Object(map) = &mut scrubbed {
        map.insert(
            "secrets".to_string(),
            serde_json::to_value(&kdf).map_err(|error| SecretsError::Plan(error.to_string()))?,
        );
    }
    value = scrubbed;
    *plan = plan_from(value)?;
    Ok(())
}

/// Every string of `value` (walked as [`scrub`] walks it) that holds a
/// secret, by its redacted form.
fn redacted_forms(value: &Value, key: Option<&str>, hasher: &mut Hasher, out: &mut HashMap<String, String>) {
    match value {
        Value::String(text) => {
            if let Some(redacted) = hide(key, text, &mut |secret| hasher.redacted(secret)) {
                out.insert(redacted, text.clone());
            }
        }
        Value::Object(map) => {
            for (name, item) in map {
                if is_user_map(name)
                    && let Value::Object(entries) = item
                {
                    for (entry, text) in entries {
                        redacted_forms(text, Some(entry), hasher, out);
                    }
                } else {
                    redacted_forms(item, None, hasher, out);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                redacted_forms(item, None, hasher, out);
            }
        }
        _ => {}
    }
}

/// Puts the real values back into every redacted string of `value` that
/// `forms` knows; records the path of each that it does not know.
fn put_back(value: &mut Value, path: &mut Vec<String>, forms: &HashMap<String, String>, missing: &mut Vec<String>) {
    match value {
        Value::String(text) if is_redacted(text) => match forms.get(text.as_str()) {
            Some(real) => *text = real.clone(),
            None => missing.push(path.join(".")),
        },
        Value::Object(map) => {
            for (name, item) in map.iter_mut() {
                path.push(name.clone());
                put_back(item, path, forms, missing);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                path.push(index.to_string());
                put_back(item, path, forms, missing);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Puts the real secret values back into a loaded plan, taking them from
/// `stack` (the stack file loaded again): each of the stack's secrets is
/// hashed with the plan's salt, and a redacted string of the plan that
/// matches one gets its value. A redacted string in what apply sends (the
/// resolved stack and each change's desired state) that matches nothing
/// means the secret changed or is gone: the error names where. The values
/// AWS held at plan time stay redacted (they are only shown).
pub fn restore_plan(plan: &mut Plan, stack: &Desired) -> Result<(), SecretsError> {
    let Some(kdf) = plan.secrets.clone() else {
        return Ok(());
    };
    let mut hasher = Hasher::new(&kdf)?;
    let mut forms = HashMap::new();
    let stack_value = serde_json::to_value(stack).map_err(|error| SecretsError::Plan(error.to_string()))?;
    redacted_forms(&stack_value, None, &mut hasher, &mut forms);
    if let Some(error) = hasher.error {
        return Err(error);
    }
    let mut value = plan_value(plan)?;
    let mut unmatched = Vec::new();
    put_back(&mut value, &mut Vec::new(), &forms, &mut unmatched);
    // Only what apply sends must be restored: the resolved stack, and each
    // change's desired state and repository statement. The values AWS held
    // at plan time (`current`, a field's `before`) are only shown.
    let in_stack: Vec<String> = unmatched
        .iter()
        .filter(|path| path.starts_with("desired."))
        .cloned()
        .collect();
    let mut missing = if in_stack.is_empty() {
        unmatched
            .into_iter()
            .filter(|path| path.contains(".target.desired") || path.contains(".target.statement"))
            .collect()
    } else {
        in_stack
    };
    missing.sort();
    missing.dedup();
    if !missing.is_empty() {
        return Err(SecretsError::Missing(missing));
    }
    *plan = plan_from(value)?;
    // The applied records apply writes, recomputed from the restored specs
    // exactly as the planner computed them.
    for change in &mut plan.changes {
        if let crate::diff::Target::Application(app) = &mut change.target
            && let Some(spec) = app.desired.as_mut()
            && spec.tags.get(crate::model::tags::APPLIED_TAG).map(String::as_str) == Some(OMITTED_RECORD)
        {
            spec.tags.remove(crate::model::tags::APPLIED_TAG);
            let record = crate::diff::application_record(spec);
            spec.tags.insert(crate::model::tags::APPLIED_TAG.to_string(), record);
        }
    }
    Ok(())
}

/// Whether a plan still holds redacted values where apply needs real ones
/// (it was loaded from a file and not restored).
pub fn has_redacted(plan: &Plan) -> bool {
    plan.secrets.is_some() && serde_json::to_string(&plan.desired).is_ok_and(|text| text.contains(REDACTED_PREFIX))
}

/// Every secret of a stack, by where it is (`application.etl:
/// runtime_configuration[0].properties.x`), for tests and tools that check
/// output for leaks.
pub fn stack_secrets(stack: &Desired) -> BTreeMap<String, String> {
    fn walk(value: &Value, key: Option<&str>, path: &str, out: &mut BTreeMap<String, String>) {
        match value {
            Value::String(text) => {
                if key.is_some_and(|key| must_hide(key, text)) {
                    out.insert(path.to_string(), text.clone());
                } else {
                    for range in embedded_secrets(text) {
                        out.insert(format!("{path}@{}", range.start), text[range].to_string());
                    }
                }
            }
            Value::Object(map) => {
                for (name, item) in map {
                    if is_user_map(name)
                        && let Value::Object(entries) = item
                    {
                        for (entry, text) in entries {
                            walk(text, Some(entry), &format!("{path}.{name}.{entry}"), out);
                        }
                    } else {
                        walk(item, None, &format!("{path}.{name}"), out);
                    }
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    walk(item, None, &format!("{path}[{index}]"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    if let Ok(value) = serde_json::to_value(stack) {
        walk(&value, None, "", &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_keys_are_recognised_by_their_words() {
        for key in [
            "spark.hadoop.fs.s3a.secret.key",
            "javax.jdo.option.ConnectionPassword",
            "fs.s3a.access.key",
            "spark.datasource.token",
            "db_credentials",
            "api-key",
            "MY_PRIVATE_KEY",
            "pwd",
            "X-Amz-Signature",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in [
            "spark.executor.memory",
            "hive.metastore.uris",
            "spark.keystore.type",
            "user",
        ] {
            assert!(!is_secret_key(key), "{key}");
        }
    }

    #[test]
    fn references_to_secrets_manager_are_shown() {
        assert!(!must_hide(
            "javax.jdo.option.ConnectionPassword",
            "EMR.secret@db-password"
        ));
        assert!(must_hide("javax.jdo.option.ConnectionPassword", "hunter2"));
        assert_eq!(
            mask_text("jdbc:x://h/db?password=EMR.secret@db"),
            "jdbc:x://h/db?password=EMR.secret@db"
        );
    }

    fn check(input: &str, expect: &str) {
        assert_eq!(mask_text(input), expect, "{input}");
    }

    #[test]
    fn secrets_inside_values_are_masked_by_their_shape() {
        let s = SENSITIVE;
        check(
            "jdbc:mysql://db:3306/hive?user=hive&password=hunter2&ssl=true",
            &format!("jdbc:mysql://db:3306/hive?user=hive&password={s}&ssl=true"),
        );
        check(
            "jdbc:sqlserver://db;user=sa;password=hunter2;encrypt=true",
            &format!("jdbc:sqlserver://db;user=sa;password={s};encrypt=true"),
        );
        check(
            "https://alice:hunter2@example.com/x",
            &format!("https://alice:{s}@example.com/x"),
        );
        check("thrift://alice@metastore:9083", "thrift://alice@metastore:9083");
        check(
            "-Xmx2g -Djavax.net.ssl.trustStorePassword=changeit -Dpwd=x",
            &format!("-Xmx2g -Djavax.net.ssl.trustStorePassword={s} -Dpwd={s}"),
        );
        check(
            "https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F&X-Amz-Signature=abc123&X-Amz-Security-Token=t0k",
            &format!("https://b.s3.amazonaws.com/k?X-Amz-Credential={s}&X-Amz-Signature={s}&X-Amz-Security-Token={s}"),
        );
        check(
            "host=db password=hunter2 dbname=x",
            &format!("host=db password={s} dbname=x"),
        );
        check("token=abc==", &format!("token={s}"));
        // Not secrets: ARNs, S3 URIs, placeholders, assignments of other names.
        for plain in [
            "arn:aws:iam::123456789012:role/etl",
            "s3://bucket/logs/",
            "${application.etl.arn}/*",
            "spark.executor.memory=4g",
            "password=",
            "a = b",
        ] {
            check(plain, plain);
        }
    }

    #[test]
    fn source_lines_hide_values_of_secret_keys_and_embedded_secrets() {
        let shown = |line: &str| {
            let mut out = line.to_string();
            for range in source_line_secrets(line).into_iter().rev() {
                out.replace_range(range, "***");
            }
            out
        };
        assert_eq!(shown(r#"MY_PRIVATE_KEY = "-----BEGIN""#), r#"MY_PRIVATE_KEY = "***""#);
        assert_eq!(
            shown(r#"  "db.password": "x", "user": "y""#),
            r#"  "db.password": "***", "user": "y""#
        );
        assert_eq!(
            shown(r#"properties = { "spark.x.secret" = 'a', b = "c" }"#),
            r#"properties = { "spark.x.secret" = '***', b = "c" }"#
        );
        assert_eq!(shown(r#"tokens = ["a", "b"]"#), r#"tokens = ["***", "***"]"#);
        assert_eq!(
            shown(r#"url = "jdbc:x://h/db?password=p1""#),
            r#"url = "jdbc:x://h/db?password=***""#
        );
        assert_eq!(shown(r#"password = "EMR.secret@db""#), r#"password = "EMR.secret@db""#);
        assert_eq!(shown(r#"name = "etl""#), r#"name = "etl""#);
    }

    #[test]
    fn display_hides_secret_properties_and_tags_in_whole_blocks_and_leaves() {
        let value = json!({"hive-site": {"properties": {"javax.jdo.option.ConnectionPassword": "hunter2", "a": "b",
            "url": "jdbc:x://h/db?password=hunter3"}}, "tags": {"api-token": "t", "team": "data"}});
        let shown = display_value(&value);
        assert_eq!(
            shown["hive-site"]["properties"]["javax.jdo.option.ConnectionPassword"],
            json!(SENSITIVE)
        );
        assert_eq!(shown["hive-site"]["properties"]["a"], json!("b"));
        assert_eq!(
            shown["hive-site"]["properties"]["url"],
            json!(format!("jdbc:x://h/db?password={SENSITIVE}"))
        );
        assert_eq!(shown["tags"], json!({"api-token": SENSITIVE, "team": "data"}));
        let field = FieldChange {
            path: "runtime_configuration.hive-site.properties.javax.jdo.option.ConnectionPassword".to_string(),
            before: json!("old"),
            after: json!("new"),
            after_unknown: false,
            forces_replacement: false,
            live: false,
            drift: false,
        };
        let shown = display_field(&field);
        assert_eq!(shown.before, json!(SENSITIVE));
        assert_eq!(shown.after, json!(SENSITIVE));
        let tag = FieldChange {
            path: "tags.db-password".to_string(),
            ..field
        };
        assert_eq!(display_field(&tag).after, json!(SENSITIVE));
    }

    #[test]
    fn kdf_parameters_outside_the_bounds_are_refused() {
        let good = Kdf::generate().expect("salt");
        assert!(Hasher::new(&good).is_ok());
        for bad in [
            Kdf {
                memory_kib: 8,
                ..good.clone()
            },
            Kdf {
                memory_kib: 4 * 1024 * 1024,
                ..good.clone()
            },
            Kdf {
                iterations: 1,
                ..good.clone()
            },
            Kdf {
                algorithm: "sha256".to_string(),
                ..good.clone()
            },
            Kdf {
                salt: "00".to_string(),
                ..good.clone()
            },
        ] {
            assert!(matches!(Hasher::new(&bad), Err(SecretsError::Kdf(_))), "{bad:?}");
        }
        assert_ne!(Kdf::generate().expect("salt").salt, good.salt, "salts are random");
    }
}
