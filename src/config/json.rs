//! A small JSON reader that keeps positions: it turns JSON (policy files,
//! classification files, policy documents written as strings) into the same
//! spanned tree the TOML reader produces, so one set of checks and one
//! deserializer serve both, and every diagnostic can point into the JSON.

use std::borrow::Cow;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

use crate::input::MAX_DEPTH;

/// A problem in a JSON text, with its byte range (already mapped, see [`parse`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    /// `json.syntax`, `json.duplicate-key`, `json.null` or `json.depth`.
    pub code: &'static str,
    /// Lower case, no trailing period.
    pub message: String,
    /// Where the problem is.
    pub range: Range<usize>,
    /// Advice, if any.
    pub help: Option<String>,
}

/// The spanned tree of a JSON document; numbers borrow their literal from the text.
pub type Tree<'i> = Spanned<DeValue<'i>>;

/// Parses `text`. Every range in the result and in the errors is passed
/// through `map`, which turns offsets in `text` into offsets in the file the
/// text came from (for a policy written as a TOML string, the string's
/// position in the stack file).
///
/// Returns the tree (absent after a syntax error) and every problem found:
/// a syntax error, duplicate keys, `null` values (TOML has no null, and
/// nothing in the stack language takes one), and objects and arrays nested
/// more than [`MAX_DEPTH`] deep, where reading stops (recursion deeper than
/// that is what could overflow the stack, here or in any later walk).
pub fn parse<'i>(text: &'i str, map: &dyn Fn(Range<usize>) -> Range<usize>) -> (Option<Tree<'i>>, Vec<JsonError>) {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        depth: 0,
        errors: Vec::new(),
        map,
    };
    parser.skip_whitespace();
    let value = match parser.value() {
        Ok(value) => {
            parser.skip_whitespace();
            if parser.pos < parser.bytes.len() {
                parser.fail(
                    "unexpected text after the JSON value",
                    parser.pos..parser.bytes.len(),
                    None,
                );
                None
            } else {
                value
            }
        }
        Err(()) => None,
    };
    (value, parser.errors)
}

struct Parser<'i, 'm> {
    text: &'i str,
    bytes: &'i [u8],
    pos: usize,
    /// Objects and arrays open around `pos`.
    depth: usize,
    errors: Vec<JsonError>,
    map: &'m dyn Fn(Range<usize>) -> Range<usize>,
}

impl<'i> Parser<'i, '_> {
    fn fail(&mut self, message: &str, range: Range<usize>, help: Option<&str>) {
        let code = if message.starts_with("duplicate key") {
            "json.duplicate-key"
        } else if message.starts_with("`null`") {
            "json.null"
        } else {
            "json.syntax"
        };
        self.errors.push(JsonError {
            code,
            message: message.to_string(),
            range: (self.map)(range),
            help: help.map(str::to_string),
        });
    }

    fn spanned(&self, range: Range<usize>, value: DeValue<'i>) -> Tree<'i> {
        Spanned::new((self.map)(range), value)
    }

    fn skip_whitespace(&mut self) {
        while self.pos < self.bytes.len() && matches!(self.bytes[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }

    fn syntax_error<T>(&mut self, expected: &str) -> Result<T, ()> {
        // Point at the offending character, or at the end of the text.
        let (found, end) = match self.text[self.pos..].chars().next() {
            Some(c) => (format!("`{c}`"), self.pos + c.len_utf8()),
            None => ("the end of the text".to_string(), self.pos),
        };
        self.fail(
            &format!("invalid JSON: expected {expected}, found {found}"),
            self.pos..end,
            None,
        );
        Err(())
    }

    /// A value, or `None` for `null` (reported as an error).
    fn value(&mut self) -> Result<Option<Tree<'i>>, ()> {
        let start = self.pos;
        match self.bytes.get(self.pos) {
            Some(b'{' | b'[') if self.depth >= MAX_DEPTH => {
                self.errors.push(JsonError {
                    code: "json.depth",
                    message: format!("objects and arrays nest more than {MAX_DEPTH} deep here"),
                    range: (self.map)(start..start + 1),
                    help: Some(format!(
                        "emrstack reads at most {MAX_DEPTH} levels; policies and classifications need far fewer"
                    )),
                });
                Err(())
            }
            Some(b'{') => {
                self.depth += 1;
                let object = self.object();
                self.depth -= 1;
                object.map(Some)
            }
            Some(b'[') => {
                self.depth += 1;
                let array = self.array();
                self.depth -= 1;
                array.map(Some)
            }
            Some(b'"') => {
                let text = self.string()?;
                Ok(Some(self.spanned(start..self.pos, DeValue::String(Cow::Owned(text)))))
            }
            Some(b't') => self.keyword("true", DeValue::Boolean(true)).map(Some),
            Some(b'f') => self.keyword("false", DeValue::Boolean(false)).map(Some),
            Some(b'n') => {
                self.keyword("null", DeValue::Boolean(false))?;
                self.fail(
                    "`null` is not supported here",
                    start..self.pos,
                    Some("remove the entry or give it a value"),
                );
                Ok(None)
            }
            Some(b'-' | b'0'..=b'9') => self.number().map(Some),
            _ => self.syntax_error("a value"),
        }
    }

    fn keyword(&mut self, word: &str, value: DeValue<'i>) -> Result<Tree<'i>, ()> {
        let start = self.pos;
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(self.spanned(start..self.pos, value))
        } else {
            self.syntax_error("a value")
        }
    }

    fn number(&mut self) -> Result<Tree<'i>, ()> {
        let start = self.pos;
        if self.bytes[self.pos] == b'-' {
            self.pos += 1;
        }
        let digits = |p: &mut Self| {
            let from = p.pos;
            while p.pos < p.bytes.len() && p.bytes[p.pos].is_ascii_digit() {
                p.pos += 1;
            }
            p.pos - from
        };
        let integer_start = self.pos;
        if digits(self) == 0 {
            return self.syntax_error("a digit");
        }
        if self.bytes[integer_start] == b'0' && self.pos - integer_start > 1 {
            self.fail("invalid JSON: numbers cannot have leading zeros", start..self.pos, None);
            return Err(());
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if digits(self) == 0 {
                return self.syntax_error("a digit");
            }
        }
        if matches!(self.bytes.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.bytes.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return self.syntax_error("a digit");
            }
        }
        let literal: &'i str = &self.text[start..self.pos];
        match DeValue::parse(literal) {
            Ok(parsed) => Ok(self.spanned(start..self.pos, parsed.into_inner())),
            Err(_) => {
                self.fail(&format!("number `{literal}` is out of range"), start..self.pos, None);
                Err(())
            }
        }
    }

    fn string(&mut self) -> Result<String, ()> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.text[self.pos..].chars().next() else {
                self.fail("invalid JSON: unterminated string", start..self.pos, None);
                return Err(());
            };
            match c {
                '"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                '\\' => {
                    let escape_start = self.pos;
                    self.pos += 1;
                    let Some(e) = self.text[self.pos..].chars().next() else {
                        self.fail("invalid JSON: unterminated string", start..self.pos, None);
                        return Err(());
                    };
                    self.pos += e.len_utf8();
                    match e {
                        '"' => out.push('"'),
                        '\\' => out.push('\\'),
                        '/' => out.push('/'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        'u' => {
                            let high = self.hex4(escape_start)?;
                            let code = if (0xD800..0xDC00).contains(&high) && self.text[self.pos..].starts_with("\\u") {
                                self.pos += 2;
                                let low = self.hex4(escape_start)?;
                                0x10000 + ((high - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF)
                            } else {
                                high
                            };
                            match char::from_u32(code) {
                                Some(decoded) => out.push(decoded),
                                None => {
                                    self.fail("invalid JSON: invalid unicode escape", escape_start..self.pos, None);
                                    return Err(());
                                }
                            }
                        }
                        _ => {
                            self.fail("invalid JSON: unknown escape", escape_start..self.pos, None);
                            return Err(());
                        }
                    }
                }
                c if (c as u32) < 0x20 => {
                    self.fail(
                        "invalid JSON: control character in a string",
                        self.pos..self.pos + 1,
                        Some("write it as an escape such as `\\n`"),
                    );
                    return Err(());
                }
                c => {
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    fn hex4(&mut self, escape_start: usize) -> Result<u32, ()> {
        let digits = self.text.get(self.pos..self.pos + 4).unwrap_or("");
        match u32::from_str_radix(digits, 16) {
            Ok(value) if digits.len() == 4 => {
                self.pos += 4;
                Ok(value)
            }
            _ => {
                self.fail("invalid JSON: invalid unicode escape", escape_start..self.pos, None);
                Err(())
            }
        }
    }

    fn array(&mut self) -> Result<Tree<'i>, ()> {
        let start = self.pos;
        self.pos += 1;
        let mut items = DeArray::new();
        self.skip_whitespace();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(self.spanned(start..self.pos, DeValue::Array(items)));
        }
        loop {
            self.skip_whitespace();
            if let Some(item) = self.value()? {
                items.push(item);
            }
            self.skip_whitespace();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(self.spanned(start..self.pos, DeValue::Array(items)));
                }
                _ => return self.syntax_error("`,` or `]`"),
            }
        }
    }

    fn object(&mut self) -> Result<Tree<'i>, ()> {
        let start = self.pos;
        self.pos += 1;
        let mut table = DeTable::new();
        self.skip_whitespace();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(self.spanned(start..self.pos, DeValue::Table(table)));
        }
        loop {
            self.skip_whitespace();
            if self.bytes.get(self.pos) != Some(&b'"') {
                return self.syntax_error("a string key");
            }
            let key_start = self.pos;
            let key = self.string()?;
            let key_range = key_start..self.pos;
            self.skip_whitespace();
            if self.bytes.get(self.pos) != Some(&b':') {
                return self.syntax_error("`:`");
            }
            self.pos += 1;
            self.skip_whitespace();
            let value = self.value()?;
            if table.contains_key(key.as_str()) {
                self.fail(
                    &format!("duplicate key `{key}`"),
                    key_range.clone(),
                    Some("JSON readers disagree on which value wins; keep one"),
                );
            }
            if let Some(value) = value {
                table.insert(Spanned::new((self.map)(key_range), Cow::Owned(key)), value);
            }
            self.skip_whitespace();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(self.spanned(start..self.pos, DeValue::Table(table)));
                }
                _ => return self.syntax_error("`,` or `}`"),
            }
        }
    }
}

/// Empties every table and array of `value` that is nested more than
/// `limit` deep (the value itself is level 1), calling `report` with the
/// range of each, so that no later walk of the tree recurses deeper. The
/// TOML reader has recursion limits of its own, but a table header of many
/// dotted keys and an inline value below it add up.
pub fn limit_depth(value: &mut Tree<'_>, limit: usize, report: &mut dyn FnMut(Range<usize>)) {
    fn walk(value: &mut Tree<'_>, level: usize, limit: usize, report: &mut dyn FnMut(Range<usize>)) {
        let range = value.span();
        match value.get_mut() {
            DeValue::Table(table) if level > limit => {
                report(range);
                *table = DeTable::new();
            }
            DeValue::Array(items) if level > limit => {
                report(range);
                *items = DeArray::new();
            }
            DeValue::Table(table) => {
                for (_, item) in table.iter_mut() {
                    walk(item, level + 1, limit, report);
                }
            }
            DeValue::Array(items) => {
                for item in items.iter_mut() {
                    walk(item, level + 1, limit, report);
                }
            }
            _ => {}
        }
    }
    walk(value, 1, limit, report);
}

/// The plain JSON value of a spanned tree (for policy documents, which the
/// model keeps as `serde_json::Value`). Date-times become strings.
pub fn to_json(value: &DeValue<'_>) -> serde_json::Value {
    use serde_json::Value;
    match value {
        DeValue::String(text) => Value::String(text.to_string()),
        DeValue::Integer(integer) => {
            let parsed = i64::from_str_radix(integer.as_str(), integer.radix())
                .map(Value::from)
                .or_else(|_| u64::from_str_radix(integer.as_str(), integer.radix()).map(Value::from));
            parsed.unwrap_or_else(|_| Value::String(integer.to_string()))
        }
        DeValue::Float(float) => float
            .as_str()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(float.to_string())),
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(datetime) => Value::String(datetime.to_string()),
        DeValue::Array(items) => Value::Array(items.iter().map(|item| to_json(item.get_ref())).collect()),
        DeValue::Table(table) => Value::Object(
            table
                .iter()
                .map(|(key, item)| (key.get_ref().to_string(), to_json(item.get_ref())))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(range: Range<usize>) -> Range<usize> {
        range
    }

    #[test]
    fn keeps_positions_of_keys_and_values() {
        let text = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}"#;
        let (tree, errors) = parse(text, &identity);
        assert!(errors.is_empty(), "{errors:?}");
        let tree = tree.unwrap();
        let statement = tree.get_ref().get("Statement").unwrap();
        let effect = statement.get_ref().get(0).unwrap().get_ref().get("Effect").unwrap();
        assert_eq!(&text[effect.span()], "\"Allow\"");
        assert_eq!(effect.get_ref().as_str(), Some("Allow"));
    }

    #[test]
    fn reports_syntax_errors_duplicates_and_null() {
        let (tree, errors) = parse("{\"a\": 1,}", &identity);
        assert!(tree.is_none());
        assert_eq!(errors[0].range, 8..9);
        let (tree, errors) = parse("{\"a\": 1, \"a\": 2, \"b\": null}", &identity);
        assert!(tree.is_some());
        let messages: Vec<_> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages, vec!["duplicate key `a`", "`null` is not supported here"]);
    }

    #[test]
    fn decodes_escapes_and_numbers() {
        let (tree, errors) = parse(r#"["a\"b\u00e9\ud83d\ude00", 12, -1.5e3, true]"#, &identity);
        assert!(errors.is_empty(), "{errors:?}");
        let tree = tree.unwrap();
        assert_eq!(tree.get_ref().get(0).unwrap().get_ref().as_str(), Some("a\"bé😀"));
        assert!(tree.get_ref().get(1).unwrap().get_ref().is_integer());
        assert!(tree.get_ref().get(2).unwrap().get_ref().is_float());
    }

    #[test]
    fn stops_reading_at_the_depth_limit_and_says_where() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        let (tree, errors) = parse(&ok, &identity);
        assert!(tree.is_some() && errors.is_empty(), "{errors:?}");
        // A condition nested about 7,300 deep used to overflow the stack.
        let deep = format!(
            r#"{{"Statement": [{{"Condition": {}1{}}}]}}"#,
            r#"{"a": "#.repeat(7300),
            "}".repeat(7300)
        );
        let (tree, errors) = parse(&deep, &identity);
        assert!(tree.is_none());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].code, "json.depth");
        // The document, the list of statements and the statement are three
        // levels; the condition's 62nd object opens the 65th.
        let offset = r#"{"Statement": [{"Condition": "#.len() + r#"{"a": "#.len() * 61;
        assert_eq!(errors[0].range, offset..offset + 1);
        assert_eq!(&deep[offset..offset + 1], "{");
    }

    #[test]
    fn limit_depth_empties_what_is_too_deep() {
        let text = "[[[1], [2]], [3]]";
        let (tree, _) = parse(text, &identity);
        let mut tree = tree.unwrap();
        let mut reported = Vec::new();
        limit_depth(&mut tree, 2, &mut |range| reported.push(range));
        assert_eq!(reported, vec![2..5, 7..10]);
        assert_eq!(to_json(tree.get_ref()), serde_json::json!([[[], []], [3]]));
    }

    #[test]
    fn maps_ranges() {
        let (_, errors) = parse("[1,", &|r: Range<usize>| r.start + 100..r.end + 100);
        assert_eq!(errors[0].range.start, 103);
    }
}
