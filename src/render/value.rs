//! Plan field values as people read them, shared by the human and Markdown
//! renderings: scalars, ARN placeholders, secrets, multi-line blocks and
//! nested diffs of lists and objects, in the manner of Terraform.
//!
//! A field becomes a list of [`Line`]s (depth, sign, text); each renderer
//! decides where the sign goes (indented for terminals, first column for a
//! Markdown `diff` block). Every value goes through
//! [`secrets::display_field`] before it is written, and differences are
//! decided on the real values, so a changed secret still shows as changed.

use serde_json::Value;

use crate::diff::{FieldChange, KNOWN_AFTER_APPLY};
use crate::model::reference;
use crate::plan::secrets::{self, SENSITIVE};

/// Lists and objects whose one-line form is longer than this many
/// characters are written over several lines.
const INLINE_WIDTH: usize = 60;

/// A `~ key = before -> after` line longer than this many characters puts
/// the new value on a line of its own.
const LINE_WIDTH: usize = 100;

/// Keys longer than this many characters are not padded to line up the
/// `=` of their siblings: one long key would push every other value far to
/// the right.
const ALIGN_LIMIT: usize = 40;

/// Lists longer than this (before times after) are not diffed element by
/// element: every old element is shown removed and every new one added.
const LCS_LIMIT: usize = 250_000;

/// What a line says about its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sign {
    /// `+`: added.
    Add,
    /// `-`: removed.
    Remove,
    /// `~`: changed.
    Change,
    /// No sign: unchanged context, closing brackets, hidden-count comments.
    Context,
}

impl Sign {
    /// The one-character symbol (a space for context).
    pub(crate) fn symbol(self) -> char {
        match self {
            Sign::Add => '+',
            Sign::Remove => '-',
            Sign::Change => '~',
            Sign::Context => ' ',
        }
    }
}

/// One line of a rendered field: nesting depth (0 for the field itself), a
/// sign, and the text after the sign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Line {
    pub(crate) depth: usize,
    pub(crate) sign: Sign,
    pub(crate) text: String,
}

impl Line {
    fn new(depth: usize, sign: Sign, text: impl Into<String>) -> Line {
        Line {
            depth,
            sign,
            text: text.into(),
        }
    }
}

/// `text` with every ARN placeholder (`${application.etl.arn}`) replaced by
/// `(known after apply)`.
fn replace_placeholders(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${application.") {
        let tail = &rest[start..];
        match tail.find(".arn}") {
            Some(end) => {
                out.push_str(&rest[..start]);
                out.push_str(KNOWN_AFTER_APPLY);
                rest = &tail[end + ".arn}".len()..];
            }
            None => break,
        }
    }
    out.push_str(rest);
    out
}

fn quote(text: &str) -> String {
    serde_json::to_string(text).expect("invariant: a string always serializes to JSON")
}

/// A string value: quoted and escaped as in JSON, except that a whole ARN
/// placeholder reads `(known after apply)`, a placeholder inside a longer
/// string is replaced in place (`"(known after apply)/*"`), and a redacted
/// secret reads `(sensitive value)`.
pub(crate) fn string(text: &str) -> String {
    if text == SENSITIVE {
        SENSITIVE.to_string()
    } else if reference::placeholder_application(text).is_some() {
        KNOWN_AFTER_APPLY.to_string()
    } else if reference::contains_placeholder(text) {
        quote(&replace_placeholders(text))
    } else {
        quote(text)
    }
}

/// An object key: bare when it is letters, digits, `_` and `-` (as in TOML),
/// quoted otherwise (`"aws:SourceArn"`, `"spark.executor.memory"`).
fn key(name: &str) -> String {
    let bare = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare { name.to_string() } else { quote(name) }
}

fn width(text: &str) -> usize {
    text.chars().count()
}

/// `text` padded with spaces to `columns` characters (never cut).
fn pad(text: &str, columns: usize) -> String {
    let missing = columns.saturating_sub(width(text));
    format!("{text}{}", " ".repeat(missing))
}

/// The width to pad keys to so their `=` line up; keys longer than
/// [`ALIGN_LIMIT`] are left out.
pub(crate) fn key_width<'a>(keys: impl IntoIterator<Item = &'a str>) -> usize {
    keys.into_iter()
        .map(width)
        .filter(|columns| *columns <= ALIGN_LIMIT)
        .max()
        .unwrap_or(0)
}

fn is_container(value: &Value) -> bool {
    matches!(value, Value::Array(_) | Value::Object(_))
}

fn is_filled_container(value: &Value) -> bool {
    match value {
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
        _ => false,
    }
}

fn same_kind(a: &Value, b: &Value) -> bool {
    matches!(
        (a, b),
        (Value::Array(_), Value::Array(_)) | (Value::Object(_), Value::Object(_))
    )
}

/// Any value on one line: scalars as [`string`] and JSON, lists as
/// `["a", "b"]`, objects as TOML inline tables (`{ cpu = "4 vCPU" }`),
/// however long that gets.
pub(crate) fn one_line(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        Value::String(text) => string(text),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(one_line).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) if map.is_empty() => "{}".to_string(),
        Value::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(name, item)| format!("{} = {}", key(name), one_line(item)))
                .collect();
            format!("{{ {} }}", entries.join(", "))
        }
    }
}

/// The one-line form of a value if it reads well on one line: any scalar,
/// and lists and objects of scalars up to [`INLINE_WIDTH`] characters.
pub(crate) fn inline(value: &Value) -> Option<String> {
    let flat = match value {
        Value::Array(items) => !items.iter().any(is_filled_container),
        Value::Object(map) => !map.values().any(is_filled_container),
        _ => return Some(one_line(value)),
    };
    let text = one_line(value);
    (flat && width(&text) <= INLINE_WIDTH).then_some(text)
}

/// A value and the same value as it may be shown (secrets redacted). The
/// two have the same shape: redaction replaces whole strings only.
#[derive(Clone, Copy)]
struct Node<'a> {
    raw: &'a Value,
    shown: &'a Value,
}

static NULL: Value = Value::Null;

impl<'a> Node<'a> {
    fn get(self, name: &str) -> Option<Node<'a>> {
        let raw = self.raw.get(name)?;
        // Falling back to null (never to the raw value) keeps a secret
        // hidden even if the shapes ever disagreed.
        let shown = self.shown.get(name).unwrap_or(&NULL);
        Some(Node { raw, shown })
    }

    fn items(self) -> Vec<Node<'a>> {
        let raw = self.raw.as_array().map(Vec::as_slice).unwrap_or_default();
        let shown = self.shown.as_array().map(Vec::as_slice).unwrap_or_default();
        raw.iter()
            .enumerate()
            .map(|(index, raw)| Node {
                raw,
                shown: shown.get(index).unwrap_or(&NULL),
            })
            .collect()
    }

    fn keys(self) -> Vec<&'a String> {
        self.raw.as_object().map(|map| map.keys().collect()).unwrap_or_default()
    }
}

/// The lines of one field of a change. `key_width` pads the path so the
/// `=` of a change's fields line up; `annotation` (without `#`) is appended
/// to the first line when not empty (`forces replacement`).
pub(crate) fn field_lines(field: &FieldChange, key_width: usize, annotation: &str) -> Vec<Line> {
    let shown = secrets::display_field(field);
    let before = present(&field.before, &shown.before);
    let after = present(&field.after, &shown.after);
    let lead = format!("{} = ", pad(&field.path, key_width));
    let mut out = Vec::new();
    entry(&mut out, 0, &lead, before, after, false);
    if out.is_empty() {
        // Both sides null: nothing differs that can be shown.
        out.push(Line::new(0, Sign::Change, format!("{lead}null")));
    }
    if !annotation.is_empty() {
        out[0].text.push_str(" # ");
        out[0].text.push_str(annotation);
    }
    out
}

/// A side of a field: at the top of a field, null means absent.
fn present<'a>(raw: &'a Value, shown: &'a Value) -> Option<Node<'a>> {
    (!raw.is_null()).then_some(Node { raw, shown })
}

/// The lines of one entry (an object member after `lead`, or a list
/// element with an empty `lead`) that is added, removed or changed.
fn entry(out: &mut Vec<Line>, depth: usize, lead: &str, before: Option<Node>, after: Option<Node>, in_list: bool) {
    let comma = if in_list { "," } else { "" };
    match (before, after) {
        (None, None) => {}
        (None, Some(after)) => block(out, depth, Sign::Add, lead, after.shown, comma),
        (Some(before), None) => {
            // Terraform's way of saying an attribute goes away; list
            // elements just go.
            let tail = if in_list { "," } else { " -> null" };
            block(out, depth, Sign::Remove, lead, before.shown, tail)
        }
        (Some(before), Some(after)) => match (before.raw, after.raw) {
            (Value::Object(_), Value::Object(_)) => object_diff(out, depth, lead, before, after, comma),
            (Value::Array(_), Value::Array(_)) => list_diff(out, depth, lead, before, after, comma),
            _ if before.shown == after.shown => {
                // Only a redacted secret differs: say that it changed, not how.
                out.push(Line::new(
                    depth,
                    Sign::Change,
                    format!("{lead}{}{comma}", one_line(after.shown)),
                ));
            }
            _ => {
                let old = one_line(before.shown);
                let new = one_line(after.shown);
                let text = format!("{lead}{old} -> {new}{comma}");
                if width(&text) <= LINE_WIDTH {
                    out.push(Line::new(depth, Sign::Change, text));
                } else {
                    // The arrow goes under the `=`, so both values start in
                    // the same column.
                    out.push(Line::new(depth, Sign::Change, format!("{lead}{old}")));
                    let under = width(lead).saturating_sub(3);
                    out.push(Line::new(
                        depth,
                        Sign::Context,
                        format!("{}-> {new}{comma}", " ".repeat(under)),
                    ));
                }
            }
        },
    }
}

/// A whole value added or removed: one line if it fits, else one line per
/// member, each with the same sign.
fn block(out: &mut Vec<Line>, depth: usize, sign: Sign, lead: &str, value: &Value, tail: &str) {
    if let Some(text) = inline(value) {
        out.push(Line::new(depth, sign, format!("{lead}{text}{tail}")));
        return;
    }
    match value {
        Value::Object(map) => {
            out.push(Line::new(depth, sign, format!("{lead}{{")));
            let quoted: Vec<String> = map.keys().map(|name| key(name)).collect();
            let columns = key_width(quoted.iter().map(String::as_str));
            for (item, quoted) in map.values().zip(&quoted) {
                let lead = format!("{} = ", pad(quoted, columns));
                block(out, depth + 1, sign, &lead, item, "");
            }
            out.push(Line::new(depth, Sign::Context, format!("}}{tail}")));
        }
        Value::Array(items) => {
            out.push(Line::new(depth, sign, format!("{lead}[")));
            for item in items {
                block(out, depth + 1, sign, "", item, ",");
            }
            out.push(Line::new(depth, Sign::Context, format!("]{tail}")));
        }
        // Scalars always fit on one line (handled above).
        _ => out.push(Line::new(depth, sign, format!("{lead}{}{tail}", one_line(value)))),
    }
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("{count} {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// Two objects, member by member: changed members with their sign,
/// unchanged scalars as context, unchanged lists and objects counted.
fn object_diff(out: &mut Vec<Line>, depth: usize, lead: &str, before: Node, after: Node, comma: &str) {
    out.push(Line::new(depth, Sign::Change, format!("{lead}{{")));
    let mut names: Vec<&String> = after.keys();
    for name in before.keys() {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let quoted: Vec<String> = names.iter().map(|name| key(name)).collect();
    let columns = key_width(quoted.iter().map(String::as_str));
    let mut hidden = 0;
    for (name, quoted) in names.iter().zip(&quoted) {
        let old = before.get(name);
        let new = after.get(name);
        let lead = format!("{} = ", pad(quoted, columns));
        match (old, new) {
            (Some(old), Some(new)) if old.raw == new.raw => {
                if is_container(new.raw) {
                    hidden += 1;
                } else {
                    out.push(Line::new(
                        depth + 1,
                        Sign::Context,
                        format!("{lead}{}", one_line(new.shown)),
                    ));
                }
            }
            _ => entry(out, depth + 1, &lead, old, new, false),
        }
    }
    if hidden > 0 {
        out.push(Line::new(
            depth + 1,
            Sign::Context,
            format!("# ({} hidden)", plural(hidden, "unchanged attribute")),
        ));
    }
    out.push(Line::new(depth, Sign::Context, format!("}}{comma}")));
}

/// One step of the edit script between two lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Edit {
    Keep(usize, usize),
    Remove(usize),
    Add(usize),
}

/// The shortest edit script from `before` to `after` (longest common
/// subsequence), or "remove all, add all" for very long lists.
fn edits(before: &[Node], after: &[Node]) -> Vec<Edit> {
    let (n, m) = (before.len(), after.len());
    if n.saturating_mul(m) > LCS_LIMIT {
        return (0..n).map(Edit::Remove).chain((0..m).map(Edit::Add)).collect();
    }
    // common[i][j]: the length of the longest common subsequence of
    // before[i..] and after[j..].
    let mut common = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            common[i][j] = if before[i].raw == after[j].raw {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && before[i].raw == after[j].raw {
            out.push(Edit::Keep(i, j));
            i += 1;
            j += 1;
        } else if j < m && (i == n || common[i][j + 1] >= common[i + 1][j]) {
            out.push(Edit::Add(j));
            j += 1;
        } else {
            out.push(Edit::Remove(i));
            i += 1;
        }
    }
    out
}

/// Two lists, element by element: kept scalars as context, kept lists and
/// objects counted, and within each run of differences the removed elements,
/// then the added ones; a removed and an added object in the same run are
/// shown as one changed object.
fn list_diff(out: &mut Vec<Line>, depth: usize, lead: &str, before: Node, after: Node, comma: &str) {
    out.push(Line::new(depth, Sign::Change, format!("{lead}[")));
    let old = before.items();
    let new = after.items();
    let script = edits(&old, &new);
    let mut hidden = 0;
    let mut removed: Vec<Node> = Vec::new();
    let mut added: Vec<Node> = Vec::new();
    let flush_hidden = |out: &mut Vec<Line>, hidden: &mut usize| {
        if *hidden > 0 {
            out.push(Line::new(
                depth + 1,
                Sign::Context,
                format!("# ({} hidden)", plural(*hidden, "unchanged element")),
            ));
            *hidden = 0;
        }
    };
    let flush_run = |out: &mut Vec<Line>, removed: &mut Vec<Node>, added: &mut Vec<Node>| {
        let pairs = removed.len().min(added.len());
        let mut paired = vec![false; pairs];
        for (index, flag) in paired.iter_mut().enumerate() {
            let (old, new) = (removed[index], added[index]);
            if is_container(old.raw) && same_kind(old.raw, new.raw) {
                *flag = true;
                entry(out, depth + 1, "", Some(old), Some(new), true);
            }
        }
        let is_paired = |index: usize| paired.get(index).copied().unwrap_or(false);
        for (index, old) in removed.iter().enumerate() {
            if !is_paired(index) {
                entry(out, depth + 1, "", Some(*old), None, true);
            }
        }
        for (index, new) in added.iter().enumerate() {
            if !is_paired(index) {
                entry(out, depth + 1, "", None, Some(*new), true);
            }
        }
        removed.clear();
        added.clear();
    };
    for edit in script {
        match edit {
            Edit::Keep(_, j) => {
                flush_run(out, &mut removed, &mut added);
                let kept = new[j];
                if is_container(kept.raw) {
                    hidden += 1;
                } else {
                    flush_hidden(out, &mut hidden);
                    out.push(Line::new(
                        depth + 1,
                        Sign::Context,
                        format!("{},", one_line(kept.shown)),
                    ));
                }
            }
            Edit::Remove(i) => {
                flush_hidden(out, &mut hidden);
                removed.push(old[i]);
            }
            Edit::Add(j) => {
                flush_hidden(out, &mut hidden);
                added.push(new[j]);
            }
        }
    }
    flush_run(out, &mut removed, &mut added);
    flush_hidden(out, &mut hidden);
    out.push(Line::new(depth, Sign::Context, format!("]{comma}")));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(path: &str, before: Value, after: Value) -> FieldChange {
        FieldChange {
            path: path.to_string(),
            before,
            after,
            after_unknown: false,
            forces_replacement: false,
            live: false,
            drift: false,
        }
    }

    /// The lines of a field as a terminal shows them (sign, then the text
    /// indented by depth), one string.
    fn render(field: &FieldChange) -> String {
        field_lines(field, 0, "")
            .iter()
            .map(|line| format!("{}{} {}\n", "    ".repeat(line.depth), line.sign.symbol(), line.text))
            .collect()
    }

    fn check(before: Value, after: Value, expect: &str) {
        assert_eq!(render(&field("f", before, after)), expect);
    }

    #[test]
    fn scalars_are_quoted_strings_and_bare_numbers_and_bools() {
        check(Value::Null, json!("emr-7.2.0"), "+ f = \"emr-7.2.0\"\n");
        check(json!(5), json!(30), "~ f = 5 -> 30\n");
        check(json!(true), Value::Null, "- f = true -> null\n");
        check(json!("a\"b\nc"), json!("d"), "~ f = \"a\\\"b\\nc\" -> \"d\"\n");
    }

    #[test]
    fn placeholders_read_known_after_apply() {
        assert_eq!(string("${application.etl.arn}"), "(known after apply)");
        assert_eq!(string("${application.etl.arn}/*"), "\"(known after apply)/*\"");
        assert_eq!(
            string("${application.a.arn} and ${application.b.arn}/jobruns/*"),
            "\"(known after apply) and (known after apply)/jobruns/*\""
        );
        assert_eq!(string("${application.broken"), "\"${application.broken\"");
        check(
            json!("arn:aws:emr-serverless:us-east-1:1:/applications/00f"),
            json!("${application.etl.arn}"),
            "~ f = \"arn:aws:emr-serverless:us-east-1:1:/applications/00f\" -> (known after apply)\n",
        );
    }

    #[test]
    fn secret_properties_read_sensitive_value_even_when_only_they_change() {
        let path = "runtime_configuration.spark-defaults.properties.spark.hadoop.fs.s3a.secret.key";
        let changed = field(path, json!("old-secret"), json!("new-secret"));
        let text = render(&changed);
        assert_eq!(text, format!("~ {path} = (sensitive value)\n"));
        let block = field(
            "runtime_configuration",
            json!({"hive-site": {"properties": {"javax.jdo.option.ConnectionPassword": "a", "x": "1"}}}),
            json!({"hive-site": {"properties": {"javax.jdo.option.ConnectionPassword": "b", "x": "1"}}}),
        );
        let lines = field_lines(&block, 0, "");
        let text: Vec<String> = lines.iter().map(|line| line.text.clone()).collect();
        assert!(
            text.contains(&"\"javax.jdo.option.ConnectionPassword\" = (sensitive value)".to_string()),
            "{text:#?}"
        );
        assert!(!text.iter().any(|line| line.contains("\"a\"") || line.contains("\"b\"")));
        // A reference to Secrets Manager is not a secret.
        let reference = field(
            "runtime_configuration.hive-site.properties.javax.jdo.option.ConnectionPassword",
            Value::Null,
            json!("EMR.secret@db"),
        );
        assert!(render(&reference).contains("\"EMR.secret@db\""));
    }

    #[test]
    fn short_flat_objects_and_lists_stay_on_one_line() {
        check(
            Value::Null,
            json!({"cpu": "16 vCPU", "memory": "64 GB"}),
            "+ f = { cpu = \"16 vCPU\", memory = \"64 GB\" }\n",
        );
        check(Value::Null, json!(["a", "b"]), "+ f = [\"a\", \"b\"]\n");
        check(Value::Null, json!([]), "+ f = []\n");
        check(json!({}), Value::Null, "- f = {} -> null\n");
        assert_eq!(inline(&json!({"a": {"b": 1}})), None);
        assert_eq!(inline(&json!({"a": {}})), Some("{ a = {} }".to_string()));
    }

    #[test]
    fn nested_and_long_objects_span_lines_with_aligned_keys() {
        check(
            Value::Null,
            json!({"driver": {"worker_count": 1, "cpu": "2 vCPU"}, "executor_with_long_name": {"worker_count": 2}}),
            "\
+ f = {
    + driver                  = { worker_count = 1, cpu = \"2 vCPU\" }
    + executor_with_long_name = { worker_count = 2 }
  }
",
        );
        check(
            json!({"tags": {"a": "1"}, "list": [{"x": 1}, "y"]}),
            Value::Null,
            "\
- f = {
    - tags = { a = \"1\" }
    - list = [
        - { x = 1 },
        - \"y\",
      ]
  } -> null
",
        );
    }

    #[test]
    fn keys_are_quoted_unless_bare() {
        assert_eq!(key("worker_count"), "worker_count");
        assert_eq!(key("tez-site"), "tez-site");
        assert_eq!(key("aws:SourceArn"), "\"aws:SourceArn\"");
        assert_eq!(key("spark.executor.memory"), "\"spark.executor.memory\"");
        assert_eq!(key(""), "\"\"");
    }

    #[test]
    fn long_changes_put_the_new_value_under_the_old() {
        let old = format!("repo@sha256:{}", "a".repeat(64));
        let new = format!("repo@sha256:{}", "b".repeat(64));
        check(
            json!(old),
            json!(new),
            // Both values start in column 6.
            &format!("~ f = \"{old}\"\n   -> \"{new}\"\n"),
        );
        // Padded keys keep the arrow under the `=`.
        let lines = field_lines(&field("image.uri", json!(old), json!(new)), 12, "");
        assert_eq!(lines[0].text, format!("image.uri    = \"{old}\""));
        assert_eq!(lines[1].text, format!("            -> \"{new}\""));
        assert_eq!(lines[1].sign, Sign::Context);
    }

    #[test]
    fn lists_are_diffed_element_by_element() {
        check(
            json!(["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]),
            json!(["s3:GetObject", "s3:ListBucket"]),
            "\
~ f = [
    - \"s3:DeleteObject\",
      \"s3:GetObject\",
    - \"s3:PutObject\",
    + \"s3:ListBucket\",
  ]
",
        );
    }

    #[test]
    fn changed_objects_in_lists_are_diffed_and_unchanged_ones_counted() {
        let keep = json!({"Sid": "Keep", "Action": ["a"]});
        check(
            json!([keep.clone(), {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject"], "Condition": {"x": 1}}]),
            json!([keep, {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Condition": {"x": 1}}]),
            "\
~ f = [
      # (1 unchanged element hidden)
    ~ {
          Sid       = \"Read\"
          Effect    = \"Allow\"
        ~ Action    = [
              \"s3:GetObject\",
            + \"s3:PutObject\",
          ]
          # (1 unchanged attribute hidden)
      },
  ]
",
        );
    }

    #[test]
    fn object_members_are_added_removed_and_changed() {
        check(
            json!({"a": 1, "gone": "x", "same": true}),
            json!({"a": 2, "same": true, "new": [1]}),
            "\
~ f = {
    ~ a    = 1 -> 2
      same = true
    + new  = [1]
    - gone = \"x\" -> null
  }
",
        );
    }

    #[test]
    fn annotations_go_on_the_first_line() {
        let lines = field_lines(&field("name", json!("a"), json!("b")), 0, "forces replacement");
        assert_eq!(lines[0].text, "name = \"a\" -> \"b\" # forces replacement");
        let lines = field_lines(&field("tags", Value::Null, json!({"a": {"b": 1}})), 0, "note");
        assert_eq!(lines[0].text, "tags = { # note");
    }

    #[test]
    fn very_long_lists_fall_back_to_remove_all_add_all() {
        let before: Vec<Value> = (0..600).map(|i| json!(i)).collect();
        let after: Vec<Value> = (1..601).map(|i| json!(i)).collect();
        let lines = field_lines(&field("f", json!(before), json!(after)), 0, "");
        let removed = lines.iter().filter(|line| line.sign == Sign::Remove).count();
        let added = lines.iter().filter(|line| line.sign == Sign::Add).count();
        assert_eq!((removed, added), (600, 600));
        // Short lists keep what they share.
        let lines = field_lines(&field("f", json!([1, 2, 3]), json!([2, 3, 4])), 0, "");
        let signs: Vec<char> = lines.iter().map(|line| line.sign.symbol()).collect();
        assert_eq!(signs, vec!['~', '-', ' ', ' ', '+', ' ']);
    }

    #[test]
    fn key_width_ignores_very_long_keys() {
        let long = "x".repeat(ALIGN_LIMIT + 1);
        assert_eq!(key_width(["ab", "abcd", long.as_str()]), 4);
        assert_eq!(key_width(Vec::<&str>::new()), 0);
    }
}
