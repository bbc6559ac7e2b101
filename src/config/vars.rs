//! Variables: where their values come from (`[vars]` defaults, `--var-file`,
//! `--var`, `EMRSTACK_VAR_*`, in increasing precedence) and their
//! substitution into every string of the spanned tree.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diag::{Diagnostic, Diagnostics, FileId, Span};

use super::text::{did_you_mean, is_variable_name};

/// The source a variable's value came from, for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A `[vars]` default.
    Default,
    /// A `--var-file`, with the position of the key in it.
    VarFile(Span),
    /// `--var NAME=VALUE`.
    Flag,
    /// `EMRSTACK_VAR_NAME`.
    Environment,
}

/// The value of every variable, after precedence.
#[derive(Clone, Debug, Default)]
pub struct Variables {
    values: BTreeMap<String, (String, Origin)>,
}

impl Variables {
    /// Sets `name`, replacing a value from a source of lower precedence.
    pub fn set(&mut self, name: &str, value: String, origin: Origin) {
        self.values.insert(name.to_string(), (value, origin));
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(|(value, _)| value.as_str())
    }

    /// Every variable name.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }
}

/// The `[vars]` defaults of a stack file: name, position of the key, value.
pub fn declared(root: &DeTable<'_>) -> Vec<(String, Range<usize>, String)> {
    let Some(vars) = root.get("vars").and_then(|vars| vars.get_ref().as_table()) else {
        return Vec::new();
    };
    vars.iter()
        .filter_map(|(key, value)| {
            let text = value.get_ref().as_str()?;
            Some((key.get_ref().to_string(), key.span(), text.to_string()))
        })
        .collect()
}

/// Checks that a variable name can be used in `${var.NAME}` and as an
/// environment variable suffix.
pub fn check_name(name: &str, span: Option<Span>, diagnostics: &mut Diagnostics) -> bool {
    if is_variable_name(name) {
        return true;
    }
    diagnostics.push(
        Diagnostic::error("config.variable-name", format!("`{name}` is not a valid variable name"))
            .at_opt(span)
            .with_help("a variable name starts with a letter or `_` and has only letters, digits and `_`"),
    );
    false
}

/// One `${var.NAME}` (or malformed reference) found in a string.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Issue {
    Undefined(String),
    Empty(String),
    Syntax(&'static str),
}

/// Expands `${var.NAME}` in `text`, turning `$${` into a literal `${`.
/// Any other `${...}` (IAM policy variables such as `${aws:username}`, ARN
/// placeholders such as `${application.etl.arn}`) is kept as written.
/// Returns the expanded text and each problem with its byte range in `text`.
fn expand(text: &str, variables: &Variables) -> (String, Vec<(Issue, Range<usize>)>) {
    let mut out = String::with_capacity(text.len());
    let mut issues = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if rest.starts_with("$${") {
            out.push_str("${");
            i += 3;
        } else if let Some(after) = rest.strip_prefix("${var.") {
            let Some(close) = after.find('}') else {
                issues.push((Issue::Syntax("unterminated variable reference"), i..text.len()));
                out.push_str(rest);
                break;
            };
            let name = &after[..close];
            let end = i + "${var.".len() + close + 1;
            if name.is_empty() || !is_variable_name(name) {
                issues.push((Issue::Syntax("invalid variable reference"), i..end));
            } else {
                match variables.get(name) {
                    Some(value) => {
                        if value.is_empty() {
                            issues.push((Issue::Empty(name.to_string()), i..end));
                        }
                        out.push_str(value);
                    }
                    None => issues.push((Issue::Undefined(name.to_string()), i..end)),
                }
            }
            i = end;
        } else {
            let c = rest.chars().next().expect("invariant: `i` is inside `text`");
            out.push(c);
            i += c.len_utf8();
        }
    }
    (out, issues)
}

/// Where inside a string value a byte of the value lies in the file, when
/// that can be known: only for single-line strings whose source text is the
/// value between quotes (no escapes). Otherwise every inner position maps to
/// the whole string.
pub(crate) fn inner_mapper(
    source: &str,
    range: &Range<usize>,
    value: &str,
) -> impl Fn(Range<usize>) -> Range<usize> + use<> {
    let raw = source.get(range.clone()).unwrap_or("");
    let exact = raw.len() == value.len() + 2
        && (raw.starts_with('"') || raw.starts_with('\''))
        && raw.ends_with(&raw[..1])
        && &raw[1..raw.len() - 1] == value;
    let whole = range.clone();
    let base = range.start + 1;
    move |inner: Range<usize>| {
        if exact {
            base + inner.start..base + inner.end
        } else {
            whole.clone()
        }
    }
}

/// Substitutes variables in every string of `value` (a tree read from
/// `file`, whose text is `source`), reporting undefined variables and
/// malformed references at their position. The `[vars]` table itself is
/// skipped when `skip_vars` is set (its values are literal).
pub fn substitute(
    value: &mut Spanned<DeValue<'_>>,
    variables: &Variables,
    file: FileId,
    source: &str,
    skip_vars: bool,
    diagnostics: &mut Diagnostics,
) {
    let range = value.span();
    match value.get_mut() {
        DeValue::String(text) if text.contains('$') => {
            let (expanded, issues) = expand(text, variables);
            let map = inner_mapper(source, &range, text);
            for (issue, at) in issues {
                let span = Span::new(file, map(at));
                diagnostics.push(issue_diagnostic(issue, span, variables));
            }
            *text = expanded.into();
        }
        DeValue::Array(items) => {
            for item in items.iter_mut() {
                substitute(item, variables, file, source, false, diagnostics);
            }
        }
        DeValue::Table(table) => {
            for (key, item) in table.iter_mut() {
                if skip_vars && key.get_ref() == "vars" {
                    continue;
                }
                substitute(item, variables, file, source, false, diagnostics);
            }
        }
        _ => {}
    }
}

fn issue_diagnostic(issue: Issue, span: Span, variables: &Variables) -> Diagnostic {
    match issue {
        Issue::Undefined(name) => {
            let help = match did_you_mean(&name, variables.names()) {
                Some(close) => format!("did you mean `{close}`?"),
                None => {
                    format!("declare it in `[vars]` with a default, or pass `--var {name}=VALUE`")
                }
            };
            Diagnostic::error("config.undefined-variable", format!("undefined variable `{name}`"))
                .at(span)
                .with_help(help)
        }
        Issue::Empty(name) => Diagnostic::warning("config.empty-variable", format!("variable `{name}` is empty"))
            .at(span)
            .with_help(format!(
                "set it with `--var {name}=VALUE`, a `--var-file` or `EMRSTACK_VAR_{name}`"
            )),
        Issue::Syntax(what) => Diagnostic::error("config.variable-syntax", what)
            .at(span)
            .with_help("write `${var.NAME}`, or `$${` for a literal `${`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Variables {
        let mut variables = Variables::default();
        for (name, value) in pairs {
            variables.set(name, value.to_string(), Origin::Default);
        }
        variables
    }

    fn check(input: &str, expect: &str, expect_issues: &[&str]) {
        let (out, issues) = expand(input, &vars(&[("tag", "v1"), ("empty", "")]));
        assert_eq!(out, expect, "{input}");
        let got: Vec<String> = issues
            .iter()
            .map(|(issue, range)| format!("{issue:?}@{}..{}", range.start, range.end))
            .collect();
        assert_eq!(got, expect_issues, "{input}");
    }

    #[test]
    fn expands_references_and_keeps_other_placeholders() {
        check("spark:${var.tag}", "spark:v1", &[]);
        check("${var.tag}-${var.tag}", "v1-v1", &[]);
        check("$${var.tag}", "${var.tag}", &[]);
        check("${application.etl.arn}/*", "${application.etl.arn}/*", &[]);
        check("arn:aws:s3:::b/${aws:username}", "arn:aws:s3:::b/${aws:username}", &[]);
        check("cost $5", "cost $5", &[]);
    }

    #[test]
    fn reports_undefined_empty_and_malformed_references() {
        check("x${var.nope}", "x", &["Undefined(\"nope\")@1..12"]);
        check("${var.empty}", "", &["Empty(\"empty\")@0..12"]);
        check(
            "${var.tag",
            "${var.tag",
            &["Syntax(\"unterminated variable reference\")@0..9"],
        );
        check("${var.a-b}", "", &["Syntax(\"invalid variable reference\")@0..10"]);
    }

    #[test]
    fn maps_inner_positions_only_for_plain_strings() {
        let source = r#"a = "x${var.t}" b = "y\n${var.t}""#;
        let map = inner_mapper(source, &(4..15), "x${var.t}");
        assert_eq!(map(1..9), 6..14);
        let escaped = inner_mapper(source, &(20..33), "y\n${var.t}");
        assert_eq!(escaped(2..10), 20..33);
    }
}
