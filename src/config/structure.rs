//! The structural check: walks a spanned tree (from TOML or JSON) against the
//! language's JSON Schema and reports unknown keys (with a suggestion), wrong
//! types, missing required keys and values outside an enumeration, each at
//! its position. Offending entries are removed from the tree, so the typed
//! deserialization that follows only fails where a required key is gone.
//!
//! It understands the subset of JSON Schema that schemars generates for the
//! language: `$ref`, single-entry `allOf`, `anyOf`/`oneOf`, `type` (string or
//! list), `enum`, `const`, `properties`, `required`, `additionalProperties`
//! and `items`. Value constraints (ranges, patterns) are left to the rules,
//! which know better messages.

use std::ops::Range;

use serde_json::Value;
use toml::Spanned;
use toml::de::DeValue;

use crate::diag::{Diagnostic, FileId, Span};

use super::text::{did_you_mean, one_of};

/// One segment of a path into the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// Keys longer than this many bytes are cut short (with `...`) where a path
/// is stored or shown: the longest key the language uses is a property key
/// of 1024 characters, and a path that repeated a megabyte key in every
/// finding under it made findings cost the key's length times their number.
pub const MAX_SHOWN_KEY_BYTES: usize = 256;

/// Renders a path the way the stack language writes it: `a.b[1]."x.y"`.
/// Keys longer than [`MAX_SHOWN_KEY_BYTES`] are cut short.
pub fn render_path(segments: &[Segment]) -> String {
    let mut out = String::new();
    for segment in segments {
        match segment {
            Segment::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                let key = shortened(key);
                if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                    out.push_str(&key);
                } else {
                    out.push('"');
                    out.push_str(&key.replace('\\', "\\\\").replace('"', "\\\""));
                    out.push('"');
                }
            }
            Segment::Index(index) => {
                out.push_str(&format!("[{index}]"));
            }
        }
    }
    out
}

/// `key`, or its first [`MAX_SHOWN_KEY_BYTES`] bytes (to a character
/// boundary) followed by `...`.
fn shortened(key: &str) -> std::borrow::Cow<'_, str> {
    if key.len() <= MAX_SHOWN_KEY_BYTES {
        return std::borrow::Cow::Borrowed(key);
    }
    let mut end = MAX_SHOWN_KEY_BYTES;
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    std::borrow::Cow::Owned(format!("{}...", &key[..end]))
}

/// A problem found by the checker, with the path where it was found.
#[derive(Clone, Debug)]
pub struct Finding {
    /// Where in the tree (keys longer than [`MAX_SHOWN_KEY_BYTES`] cut short).
    pub path: Vec<Segment>,
    /// The diagnostic.
    pub diagnostic: Diagnostic,
}

/// Checks trees against a JSON Schema document.
pub struct Checker<'s> {
    root: &'s Value,
    file: FileId,
    report_missing: bool,
    /// Everything found so far.
    pub findings: Vec<Finding>,
}

impl<'s> Checker<'s> {
    /// A checker for trees read from `file`. `root` is the schema document
    /// that `$ref`s resolve against. With `report_missing` off (after a
    /// syntax error, when keys may be missing only because their line could
    /// not be read), missing required keys are not reported.
    pub fn new(root: &'s Value, file: FileId, report_missing: bool) -> Checker<'s> {
        Checker {
            root,
            file,
            report_missing,
            findings: Vec::new(),
        }
    }

    /// The sub-schema at `pointer` (`/definitions/Configuration`) of the root document.
    pub fn definition(&self, pointer: &str) -> Option<&'s Value> {
        self.root.pointer(pointer)
    }

    fn resolve(&self, mut schema: &'s Value) -> &'s Value {
        // Bounded, so a cyclic `$ref` chain cannot hang the checker.
        for _ in 0..32 {
            if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
                match reference
                    .strip_prefix('#')
                    .and_then(|pointer| self.root.pointer(pointer))
                {
                    Some(target) => schema = target,
                    None => return &Value::Bool(true),
                }
            } else if let Some(Value::Array(all)) = schema.get("allOf")
                && all.len() == 1
            {
                schema = &all[0];
            } else {
                break;
            }
        }
        schema
    }

    fn push(&mut self, path: &[Segment], diagnostic: Diagnostic) {
        let path = path
            .iter()
            .map(|segment| match segment {
                Segment::Key(key) => Segment::Key(shortened(key).into_owned()),
                index => index.clone(),
            })
            .collect();
        self.findings.push(Finding { path, diagnostic });
    }

    fn span(&self, range: Range<usize>) -> Span {
        Span::new(self.file, range)
    }

    /// Checks `value` against `schema`. Returns `false` when the value is
    /// unusable and should be removed from its parent.
    pub fn check(&mut self, value: &mut Spanned<DeValue<'_>>, schema: &'s Value, path: &mut Vec<Segment>) -> bool {
        let schema = self.resolve(schema);
        let kind = kind_of(value.get_ref());
        let branches = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Value::as_array);
        if let Some(branches) = branches {
            let constants: Option<Vec<&Value>> = branches.iter().map(|b| self.resolve(b).get("const")).collect();
            if let Some(constants) = constants {
                return self.check_enum(value, &constants, path);
            }
            for branch in branches {
                let accepted = self.accepted_types(branch);
                if accepted.as_ref().is_none_or(|types| accepts(types, kind)) {
                    return self.check(value, branch, path);
                }
            }
            let mut expected = Vec::new();
            for branch in branches {
                match self.accepted_types(branch) {
                    Some(types) => expected.extend(types),
                    None => return true,
                }
            }
            self.wrong_type(value, &expected, path);
            return false;
        }
        if let Some(types) = type_list(schema)
            && !accepts(&types, kind)
        {
            self.wrong_type(value, &types, path);
            return false;
        }
        if let Some(Value::Array(allowed)) = schema.get("enum") {
            let allowed: Vec<&Value> = allowed.iter().collect();
            return self.check_enum(value, &allowed, path);
        }
        if let Some(constant) = schema.get("const") {
            return self.check_enum(value, &[constant], path);
        }
        let range = value.span();
        match value.get_mut() {
            DeValue::Table(table) => {
                let properties = schema.get("properties").and_then(Value::as_object);
                let additional = schema.get("additionalProperties");
                let mut remove = Vec::new();
                let mut removed_required = Vec::new();
                let keys: Vec<(String, Range<usize>)> =
                    table.iter().map(|(k, _)| (k.get_ref().to_string(), k.span())).collect();
                for (key, key_range) in keys {
                    let property = properties.and_then(|p| p.get(&key));
                    let item_schema = match (property, additional) {
                        (Some(property), _) => Some(property),
                        (None, Some(Value::Bool(false))) => {
                            self.unknown_key(&key, key_range, properties, path);
                            remove.push(key);
                            continue;
                        }
                        (None, Some(schema @ Value::Object(_))) => Some(schema),
                        (None, _) => None,
                    };
                    let Some(item_schema) = item_schema else {
                        continue;
                    };
                    let Some(item) = table.get_mut(key.as_str()) else {
                        continue;
                    };
                    path.push(Segment::Key(key.clone()));
                    let keep = self.check(item, item_schema, path);
                    path.pop();
                    if !keep {
                        removed_required.push(key.clone());
                        remove.push(key);
                    }
                }
                for key in remove {
                    table.remove(key.as_str());
                }
                if self.report_missing
                    && let Some(Value::Array(required)) = schema.get("required")
                {
                    for name in required.iter().filter_map(Value::as_str) {
                        if !table.contains_key(name) && !removed_required.iter().any(|k| k == name) {
                            self.missing_key(name, range.clone(), path);
                        }
                    }
                }
                true
            }
            DeValue::Array(items) => {
                if let Some(item_schema) = schema.get("items") {
                    let mut unusable = Vec::new();
                    for (index, item) in items.as_mut().iter_mut().enumerate() {
                        path.push(Segment::Index(index));
                        if !self.check(item, item_schema, path) {
                            unusable.push(index);
                        }
                        path.pop();
                    }
                    if !unusable.is_empty() {
                        drop_items(items, &unusable);
                    }
                }
                true
            }
            _ => true,
        }
    }

    /// The JSON types a schema accepts, or `None` when it accepts anything.
    fn accepted_types(&self, schema: &'s Value) -> Option<Vec<&'static str>> {
        let schema = self.resolve(schema);
        if let Some(types) = type_list(schema) {
            return Some(types);
        }
        if let Some(branches) = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Value::as_array)
        {
            let mut all = Vec::new();
            for branch in branches {
                all.extend(self.accepted_types(branch)?);
            }
            return Some(all);
        }
        if let Some(constant) = schema.get("const") {
            return Some(vec![json_kind(constant)]);
        }
        if let Some(Value::Array(items)) = schema.get("enum") {
            return Some(items.iter().map(json_kind).collect());
        }
        None
    }

    fn check_enum(&mut self, value: &Spanned<DeValue<'_>>, allowed: &[&Value], path: &[Segment]) -> bool {
        let names: Vec<String> = allowed
            .iter()
            .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
            .collect();
        let Some(text) = value.get_ref().as_str() else {
            let types: Vec<&'static str> = allowed.iter().map(|v| json_kind(v)).collect();
            self.wrong_type(value, &types, path);
            return false;
        };
        if names.iter().any(|name| name == text) {
            return true;
        }
        let mut help = format!("expected {}", one_of(&names));
        if let Some(close) = did_you_mean(text, names.iter().map(String::as_str)) {
            help = format!("did you mean `{close}`? ({help})");
        }
        let diagnostic = Diagnostic::error(
            "config.invalid-value",
            format!("invalid value `{text}` for `{}`", render_path(path)),
        )
        .at(self.span(value.span()))
        .with_help(help);
        self.push(path, diagnostic);
        false
    }

    fn wrong_type(&mut self, value: &Spanned<DeValue<'_>>, expected: &[&str], path: &[Segment]) {
        let mut names: Vec<&str> = Vec::new();
        for kind in expected {
            let name = article(kind);
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let expected = match names.len() {
            0 => "something else".to_string(),
            1 => names[0].to_string(),
            n => format!("{} or {}", names[..n - 1].join(", "), names[n - 1]),
        };
        let found = article(kind_of(value.get_ref()));
        let subject = if path.is_empty() {
            "the document".to_string()
        } else {
            format!("`{}`", render_path(path))
        };
        let diagnostic = Diagnostic::error(
            "config.wrong-type",
            format!("{subject} must be {expected}, found {found}"),
        )
        .at(self.span(value.span()));
        self.push(path, diagnostic);
    }

    fn unknown_key(
        &mut self,
        key: &str,
        range: Range<usize>,
        properties: Option<&serde_json::Map<String, Value>>,
        path: &mut Vec<Segment>,
    ) {
        let known: Vec<&str> = properties
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let place = if path.is_empty() {
            "at the top level".to_string()
        } else {
            format!("in `{}`", render_path(path))
        };
        let mut diagnostic =
            Diagnostic::error("config.unknown-key", format!("unknown key `{key}` {place}")).at(self.span(range));
        if let Some(close) = did_you_mean(key, known.iter().copied()) {
            diagnostic = diagnostic.with_help(format!("did you mean `{close}`?"));
        } else if !known.is_empty() {
            diagnostic = diagnostic.with_help(format!("expected {}", one_of(&known)));
        }
        path.push(Segment::Key(key.to_string()));
        self.push(path, diagnostic);
        path.pop();
    }

    fn missing_key(&mut self, name: &str, table: Range<usize>, path: &mut Vec<Segment>) {
        let message = if path.is_empty() {
            format!("missing required table `[{name}]`")
        } else {
            format!("missing required key `{name}` in `{}`", render_path(path))
        };
        let diagnostic = Diagnostic::error("config.missing-key", message).at(self.span(table));
        path.push(Segment::Key(name.to_string()));
        self.push(path, diagnostic);
        path.pop();
    }
}

/// Removes the items at `sorted` (ascending indices) in one pass: `DeArray`
/// has no `remove`, and rebuilding it once per item was quadratic.
fn drop_items(items: &mut toml::de::DeArray<'_>, sorted: &[usize]) {
    let mut kept = toml::de::DeArray::new();
    let old = std::mem::replace(items, toml::de::DeArray::new());
    let mut drop = sorted.iter().peekable();
    for (i, item) in old.into_iter().enumerate() {
        if drop.peek() == Some(&&i) {
            drop.next();
        } else {
            kept.push(item);
        }
    }
    *items = kept;
}

fn type_list(schema: &Value) -> Option<Vec<&'static str>> {
    let canonical = |name: &str| -> &'static str {
        match name {
            "string" => "string",
            "integer" => "integer",
            "number" => "number",
            "boolean" => "boolean",
            "array" => "array",
            "object" => "object",
            _ => "null",
        }
    };
    match schema.get("type")? {
        Value::String(name) => Some(vec![canonical(name)]),
        Value::Array(names) => Some(names.iter().filter_map(Value::as_str).map(canonical).collect()),
        _ => None,
    }
}

fn accepts(types: &[&str], kind: &str) -> bool {
    types
        .iter()
        .any(|t| *t == kind || (*t == "number" && kind == "integer"))
}

fn kind_of(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "string",
        DeValue::Integer(_) => "integer",
        DeValue::Float(_) => "number",
        DeValue::Boolean(_) => "boolean",
        DeValue::Datetime(_) => "datetime",
        DeValue::Array(_) => "array",
        DeValue::Table(_) => "object",
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "string",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::Bool(_) => "boolean",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Null => "null",
    }
}

fn article(kind: &str) -> &'static str {
    match kind {
        "string" => "a string",
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "a boolean",
        "datetime" => "a date-time",
        "array" => "an array",
        "object" => "a table",
        _ => "null",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use toml::de::DeTable;

    fn check(schema: Value, input: &str, expect: &[&str]) {
        let (table, errors) = DeTable::parse_recoverable(input);
        assert!(errors.is_empty(), "{errors:?}");
        let mut tree = Spanned::new(0..input.len(), DeValue::Table(table.into_inner()));
        let mut checker = Checker::new(&schema, FileId(0), true);
        checker.check(&mut tree, &schema, &mut Vec::new());
        let got: Vec<String> = checker
            .findings
            .iter()
            .map(|f| {
                let span = f.diagnostic.span.as_ref().unwrap();
                format!(
                    "{} {} `{}`{}",
                    f.diagnostic.code,
                    f.diagnostic.message,
                    &input[span.range.clone()],
                    f.diagnostic
                        .help
                        .as_ref()
                        .map(|h| format!(" help: {h}"))
                        .unwrap_or_default()
                )
            })
            .collect();
        assert_eq!(got, expect);
    }

    fn schema() -> Value {
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["name"],
            "properties": {
                "name": { "type": "string" },
                "kind": { "$ref": "#/definitions/Kind" },
                "size": { "type": ["integer", "string"] },
                "toggle": { "anyOf": [{ "type": "boolean" }, { "$ref": "#/definitions/Inner" }] },
                "tags": { "type": "object", "additionalProperties": { "type": "string" } },
                "list": { "type": "array", "items": { "type": "string" } }
            },
            "definitions": {
                "Kind": { "oneOf": [{ "type": "string", "const": "SPARK" }, { "type": "string", "const": "HIVE" }] },
                "Inner": { "type": "object", "additionalProperties": false, "properties": { "enabled": { "type": "boolean" } } }
            }
        })
    }

    #[test]
    fn accepts_a_valid_document() {
        check(
            schema(),
            "name = \"a\"\nkind = \"HIVE\"\nsize = 4\ntoggle = { enabled = true }\ntags = { a = \"b\" }\nlist = [\"x\"]\n",
            &[],
        );
        check(schema(), "name = \"a\"\nsize = \"4 GB\"\ntoggle = false\n", &[]);
    }

    #[test]
    fn reports_unknown_keys_with_suggestions() {
        check(
            schema(),
            "name = \"a\"\nknd = \"HIVE\"\ntoggle = { enabld = true }\n",
            &[
                "config.unknown-key unknown key `knd` at the top level `knd` help: did you mean `kind`?",
                "config.unknown-key unknown key `enabld` in `toggle` `enabld` help: did you mean `enabled`?",
            ],
        );
    }

    #[test]
    fn reports_types_enums_and_missing_keys() {
        check(
            schema(),
            "kind = \"spark\"\nsize = true\ntags = { a = 1 }\nlist = [\"x\", 2]\ntoggle = \"yes\"\n",
            &[
                "config.invalid-value invalid value `spark` for `kind` `\"spark\"` help: did you mean `SPARK`? (expected `SPARK` or `HIVE`)",
                "config.wrong-type `list[1]` must be a string, found an integer `2`",
                "config.wrong-type `size` must be an integer or a string, found a boolean `true`",
                "config.wrong-type `tags.a` must be a string, found an integer `1`",
                "config.wrong-type `toggle` must be a boolean or a table, found a string `\"yes\"`",
                "config.missing-key missing required table `[name]` `kind = \"spark\"\nsize = true\ntags = { a = 1 }\nlist = [\"x\", 2]\ntoggle = \"yes\"\n`",
            ],
        );
    }

    #[test]
    fn paths_quote_keys_that_are_not_bare() {
        let path = vec![
            Segment::Key("runtime".into()),
            Segment::Index(0),
            Segment::Key("properties".into()),
            Segment::Key("spark.executor.memory".into()),
        ];
        assert_eq!(render_path(&path), "runtime[0].properties.\"spark.executor.memory\"");
    }
}
