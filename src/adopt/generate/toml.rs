//! The stack file as `emrstack generate` writes it: a document of sections
//! (`[applications.etl]`, `[[applications.etl.runtime]]`) and entries
//! (`release_label = "emr-7.2.0"`), each knowing the resource and field it
//! states, rendered to TOML text with the byte range of every section
//! header and entry, so that a diagnostic of the generated file leads back
//! to what wrote it (to drop it, or to keep a warning next to it).
//!
//! Strings are escaped for TOML and for the stack language's variables:
//! `${var.` and `$${` would be read as a variable or an escape, so each gets
//! one more `$` (docs/config-reference.md, "Variables").

use std::ops::Range;

use serde_json::Value as Json;

use crate::model::Address;

/// A TOML value.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Array(Vec<Value>),
    /// An inline table, in order.
    Table(Vec<(String, Value)>),
}

impl Value {
    pub(super) fn str(text: impl Into<String>) -> Value {
        Value::Str(text.into())
    }

    pub(super) fn strings<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Value {
        Value::Array(items.into_iter().map(|s| Value::str(s.as_ref())).collect())
    }

    /// A JSON value (a policy document) as TOML; `None` for a JSON `null`,
    /// which TOML cannot write.
    pub(super) fn from_json(json: &Json) -> Option<Value> {
        Some(match json {
            Json::Null => return None,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64()?),
            },
            Json::String(s) => Value::str(s.as_str()),
            Json::Array(items) => Value::Array(items.iter().map(Value::from_json).collect::<Option<_>>()?),
            Json::Object(map) => Value::Table(
                map.iter()
                    .map(|(k, v)| Some((k.clone(), Value::from_json(v)?)))
                    .collect::<Option<_>>()?,
            ),
        })
    }
}

/// One `key = value` line.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Entry {
    pub key: String,
    pub value: Value,
    /// Comment lines written above the entry (without `# `).
    pub comments: Vec<String>,
    /// The field of the resource it states (`release_label`,
    /// `monitoring.s3_log_uri`), for reports.
    pub field: String,
}

impl Entry {
    pub(super) fn new(key: impl Into<String>, value: Value) -> Entry {
        let key = key.into();
        Entry {
            field: key.clone(),
            key,
            value,
            comments: Vec::new(),
        }
    }

    /// The same entry, reported under `field`.
    pub(super) fn field(mut self, field: impl Into<String>) -> Entry {
        self.field = field.into();
        self
    }
}

/// A `[table]` or `[[array of tables]]` with its entries.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Section {
    /// The dotted path, each part as written (`["applications", "etl", "runtime"]`).
    pub path: Vec<String>,
    /// `[[...]]`.
    pub array: bool,
    /// Comment lines above the header.
    pub comments: Vec<String>,
    pub entries: Vec<Entry>,
    /// The resource it belongs to; `None` for `[stack]` and `[tags]`.
    pub owner: Option<Address>,
    /// The field of the resource the section states (`initial_capacity.driver`);
    /// empty for the resource's own table.
    pub field: String,
}

impl Section {
    pub(super) fn new(path: &[&str], owner: Option<Address>, field: impl Into<String>) -> Section {
        Section {
            path: path.iter().map(|p| p.to_string()).collect(),
            array: false,
            comments: Vec::new(),
            entries: Vec::new(),
            owner,
            field: field.into(),
        }
    }

    pub(super) fn push(&mut self, entry: Entry) {
        self.entries.push(entry);
    }
}

/// A whole stack file.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Document {
    /// Comment lines at the top.
    pub comments: Vec<String>,
    pub sections: Vec<Section>,
}

/// Where a section header or an entry landed in the rendered text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Placed {
    pub range: Range<usize>,
    pub section: usize,
    /// `None` for the section header.
    pub entry: Option<usize>,
}

impl Document {
    /// The TOML text and where each header and entry is in it.
    pub(super) fn render(&self) -> (String, Vec<Placed>) {
        let mut out = String::new();
        let mut placed = Vec::new();
        for line in &self.comments {
            comment(&mut out, line);
        }
        for (index, section) in self.sections.iter().enumerate() {
            if !out.is_empty() {
                out.push('\n');
            }
            for line in &section.comments {
                comment(&mut out, line);
            }
            let start = out.len();
            let path: Vec<String> = section.path.iter().map(|part| key(part)).collect();
            if section.array {
                out.push_str(&format!("[[{}]]", path.join(".")));
            } else {
                out.push_str(&format!("[{}]", path.join(".")));
            }
            placed.push(Placed {
                range: start..out.len(),
                section: index,
                entry: None,
            });
            out.push('\n');
            for (entry_index, entry) in section.entries.iter().enumerate() {
                for line in &entry.comments {
                    comment(&mut out, line);
                }
                let start = out.len();
                out.push_str(&key(&entry.key));
                out.push_str(" = ");
                inline(&mut out, &entry.value, 0);
                placed.push(Placed {
                    range: start..out.len(),
                    section: index,
                    entry: Some(entry_index),
                });
                out.push('\n');
            }
        }
        (out, placed)
    }
}

fn comment(out: &mut String, line: &str) {
    // A comment ends at the line's end: a line break inside one would turn
    // the rest into TOML.
    for part in line.split(['\n', '\r']) {
        if part.is_empty() {
            out.push_str("#\n");
        } else {
            out.push_str("# ");
            out.push_str(part);
            out.push('\n');
        }
    }
}

/// A key, bare when TOML allows it, quoted otherwise.
pub(super) fn key(text: &str) -> String {
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        text.to_string()
    } else {
        quoted(text)
    }
}

/// `text` as the stack language must write it to mean `text`: `${var.` and
/// `$${` escaped with one more `$` (`config::vars` turns `$${` into `${`).
pub(super) fn escape_variables(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (index, c) in text.char_indices() {
        if c == '$' {
            let rest = &text[index..];
            let after_dollar = index > 0 && text[..index].ends_with('$');
            if rest.starts_with("${") && (rest.starts_with("${var.") || after_dollar) {
                out.push('$');
            }
        }
        out.push(c);
    }
    out
}

/// A TOML basic string.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether an array is written one item per line: when it holds tables.
fn multiline(items: &[Value]) -> bool {
    items.iter().any(|item| matches!(item, Value::Table(_)))
}

fn inline(out: &mut String, value: &Value, depth: usize) {
    match value {
        Value::Str(text) => out.push_str(&quoted(&escape_variables(text))),
        Value::Int(n) => out.push_str(&n.to_string()),
        Value::Float(f) => {
            let text = f.to_string();
            out.push_str(&text);
            if !text.contains(['.', 'e', 'E']) {
                out.push_str(".0");
            }
        }
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) if multiline(items) => {
            // Line breaks are allowed inside an array, also one nested in
            // an inline table, never directly between an inline table's braces.
            out.push_str("[\n");
            for item in items {
                out.push_str(&"  ".repeat(depth + 1));
                inline(out, item, depth + 1);
                out.push_str(",\n");
            }
            out.push_str(&"  ".repeat(depth));
            out.push(']');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                inline(out, item, depth);
            }
            out.push(']');
        }
        Value::Table(entries) if entries.is_empty() => out.push_str("{}"),
        Value::Table(entries) => {
            out.push_str("{ ");
            for (index, (name, item)) in entries.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                out.push_str(&key(name));
                out.push_str(" = ");
                inline(out, item, depth);
            }
            out.push_str(" }");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_escaped_so_the_language_reads_the_text_back() {
        let check = |text: &str, expect: &str| assert_eq!(escape_variables(text), expect, "{text}");
        check("${var.x}", "$${var.x}");
        check("$${x}", "$$${x}");
        check("$${var.x}", "$$${var.x}");
        check("${aws:username}", "${aws:username}");
        check("${application.etl.arn}", "${application.etl.arn}");
        check("cost $5", "cost $5");
    }

    #[test]
    fn keys_are_bare_when_they_can_be() {
        assert_eq!(key("release_label"), "release_label");
        assert_eq!(key("spark.driver.cores"), "\"spark.driver.cores\"");
        assert_eq!(key("aws:SourceArn"), "\"aws:SourceArn\"");
        assert_eq!(key(""), "\"\"");
    }

    #[test]
    fn a_document_renders_with_the_place_of_each_entry() {
        let mut section = Section::new(&["applications", "etl"], Some(Address::application("etl")), "");
        section.comments.push("application 00f1".to_string());
        section.push(Entry::new("type", Value::str("SPARK")));
        let mut statement = vec![("Effect".to_string(), Value::str("Allow"))];
        statement.push(("Action".to_string(), Value::strings(["s3:GetObject"])));
        section.push(Entry::new(
            "document",
            Value::Table(vec![
                ("Version".to_string(), Value::str("2012-10-17")),
                ("Statement".to_string(), Value::Array(vec![Value::Table(statement)])),
            ]),
        ));
        let document = Document {
            comments: vec!["top".to_string()],
            sections: vec![section],
        };
        let (text, placed) = document.render();
        assert_eq!(
            text,
            "# top\n\n# application 00f1\n[applications.etl]\ntype = \"SPARK\"\n\
             document = { Version = \"2012-10-17\", Statement = [\n  { Effect = \"Allow\", Action = [\"s3:GetObject\"] },\n] }\n"
        );
        assert_eq!(&text[placed[1].range.clone()], "type = \"SPARK\"");
        assert_eq!(placed[0].entry, None);
        let parsed: toml::Table = toml::from_str(&text).expect("valid TOML");
        assert_eq!(
            parsed["applications"]["etl"]["document"]["Statement"][0]["Effect"].as_str(),
            Some("Allow")
        );
    }
}
