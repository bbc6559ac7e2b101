//! Diagnostics for people (in the manner of rustc and cargo: a header, the
//! source line with the span underlined, labels, help) and for programs
//! (JSON). Pure functions to `String` / `serde_json::Value`; deterministic,
//! so their output can be snapshot-tested.

use std::fmt::Write;

use serde_json::{Value, json};

use std::collections::HashMap;
use std::ops::Range;

use crate::diag::{Diagnostic, Diagnostics, FileId, Severity, Sources, Span};
use crate::plan::secrets;

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const BLUE: &str = "\x1b[1;34m";
const CYAN: &str = "\x1b[1;36m";

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color && !text.is_empty() {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    }

    fn severity(&self, severity: Severity) -> &'static str {
        match severity {
            Severity::Error => RED,
            Severity::Warning => YELLOW,
        }
    }
}

/// `2 errors, 1 warning` (or `1 error`, `3 warnings`); empty when there is nothing.
pub fn summary(diagnostics: &Diagnostics) -> String {
    let errors = diagnostics.error_count();
    let warnings = diagnostics.warning_count();
    let plural = |n: usize, noun: &str| {
        if n == 1 {
            format!("{n} {noun}")
        } else {
            format!("{n} {noun}s")
        }
    };
    match (errors, warnings) {
        (0, 0) => String::new(),
        (e, 0) => plural(e, "error"),
        (0, w) => plural(w, "warning"),
        (e, w) => format!("{}, {}", plural(e, "error"), plural(w, "warning")),
    }
}

/// Every diagnostic for a terminal, followed by the summary line. `color`
/// adds ANSI colours.
pub fn human(diagnostics: &Diagnostics, sources: &Sources, color: bool) -> String {
    let style = Style { color };
    let mut out = String::new();
    let mut secrets = LineSecrets::new();
    for diagnostic in diagnostics.iter() {
        render_one(&mut out, diagnostic, sources, &style, &mut secrets);
        out.push('\n');
    }
    let summary = summary(diagnostics);
    if !summary.is_empty() {
        let code = if diagnostics.has_errors() { RED } else { YELLOW };
        let _ = writeln!(out, "{}", style.paint(code, &summary));
    }
    out
}

/// One line of a file with the 1-based column range a span covers on it.
struct Snippet {
    line: usize,
    text: String,
    start: usize,
    width: usize,
}

/// The most of a line a snippet shows, in bytes: a longer line (a minified
/// JSON file) is cut around the span, with `...` where it is cut, so that
/// the output stays proportional to the number of diagnostics.
const WINDOW_BYTES: usize = 160;
/// How much of the line before the span a cut line keeps, in bytes.
const LEAD_BYTES: usize = 40;

fn floor_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The secrets of each line shown so far, by file and line start, as
/// absolute byte ranges: a long line is read once however many diagnostics
/// point into it.
type LineSecrets = HashMap<(FileId, usize), Vec<Range<usize>>>;

/// One part of a shown line: source text, or `(sensitive value)` where the
/// source has a secret.
struct Piece {
    range: Range<usize>,
    masked: bool,
}

fn snippet(sources: &Sources, span: &Span, secrets: &mut LineSecrets) -> Snippet {
    let file = sources.get(span.file);
    let text = file.text.as_str();
    let (line, _) = file.line_column(span.range.start);
    let range = file.line_range(span.range.start);
    let line_start = range.start;
    let line_end = if text[line_start..range.end].ends_with('\r') {
        range.end - 1
    } else {
        range.end
    };
    let start = floor_boundary(text, span.range.start.clamp(line_start, line_end));
    let end = floor_boundary(text, span.range.end.clamp(start, line_end));
    let (from, to) = if line_end - line_start <= WINDOW_BYTES {
        (line_start, line_end)
    } else {
        let from = floor_boundary(text, start.saturating_sub(LEAD_BYTES).max(line_start));
        let to = floor_boundary(text, (from + WINDOW_BYTES).min(line_end));
        (from, to)
    };
    let shown_end = end.min(to).max(start);
    // Secret values on the line are never shown (plan::secrets).
    let masks = secrets.entry((span.file, line_start)).or_insert_with(|| {
        secrets::source_line_secrets(&text[line_start..line_end])
            .into_iter()
            .map(|r| r.start + line_start..r.end + line_start)
            .collect()
    });
    let mut pieces = Vec::new();
    let mut at = from;
    for mask in masks.iter().filter(|m| m.end > from && m.start < to) {
        let mask_start = mask.start.max(from);
        if mask_start > at {
            pieces.push(Piece {
                range: at..mask_start,
                masked: false,
            });
        }
        let mask_end = mask.end.min(to);
        pieces.push(Piece {
            range: mask_start..mask_end,
            masked: true,
        });
        at = mask_end;
    }
    if at < to {
        pieces.push(Piece {
            range: at..to,
            masked: false,
        });
    }
    // Tabs become four spaces so the underline lines up.
    let expand = |s: &str| s.replace('\t', "    ");
    let lead = if from > line_start { "..." } else { "" };
    let tail = if to < line_end { "..." } else { "" };
    let mut shown = String::from(lead);
    let mut column = lead.len();
    let (mut start_column, mut end_column) = (None, None);
    for piece in &pieces {
        let (width, piece_text) = if piece.masked {
            (secrets::SENSITIVE.len(), secrets::SENSITIVE.to_string())
        } else {
            let expanded = expand(&text[piece.range.clone()]);
            (expanded.chars().count(), expanded)
        };
        // The column of an offset inside this piece: counted in the source
        // text, or the whole replacement for a masked piece.
        let column_of = |offset: usize, is_end: bool| {
            if piece.masked {
                column + if is_end && offset > piece.range.start { width } else { 0 }
            } else {
                column + expand(&text[piece.range.start..offset]).chars().count()
            }
        };
        if start_column.is_none() && start < piece.range.end {
            start_column = Some(column_of(start.max(piece.range.start), false));
        }
        if end_column.is_none() && shown_end <= piece.range.end {
            end_column = Some(column_of(shown_end.max(piece.range.start), true));
        }
        shown.push_str(&piece_text);
        column += width;
    }
    shown.push_str(tail);
    let start_column = start_column.unwrap_or(column);
    let end_column = end_column.unwrap_or(column).max(start_column);
    Snippet {
        line,
        text: shown,
        start: start_column,
        width: (end_column - start_column).max(1),
    }
}

fn render_one(out: &mut String, diagnostic: &Diagnostic, sources: &Sources, style: &Style, secrets: &mut LineSecrets) {
    let color = style.severity(diagnostic.severity);
    let _ = writeln!(
        out,
        "{}{}",
        style.paint(color, &format!("{}[{}]", diagnostic.severity, diagnostic.code)),
        style.paint(BOLD, &format!(": {}", secrets::mask_text(&diagnostic.message)))
    );
    let primary = diagnostic
        .span
        .as_ref()
        .map(|span| (span, snippet(sources, span, secrets)));
    let labels: Vec<(&Span, Snippet, std::borrow::Cow<'_, str>)> = diagnostic
        .labels
        .iter()
        .map(|label| {
            (
                &label.span,
                snippet(sources, &label.span, secrets),
                secrets::mask_text(&label.message),
            )
        })
        .collect();
    let width = primary
        .iter()
        .map(|(_, s)| s.line)
        .chain(labels.iter().map(|(_, s, _)| s.line))
        .max()
        .map(|line| line.to_string().len())
        .unwrap_or(1);
    let pad = " ".repeat(width);
    let bar = style.paint(BLUE, "|");
    if let Some((span, snippet)) = &primary {
        let (path, line, column) = sources.locate(span);
        let _ = writeln!(
            out,
            "{pad}{} {}:{line}:{column}",
            style.paint(BLUE, "-->"),
            path.display()
        );
        write_snippet(out, snippet, &pad, width, '^', "", color, style);
    }
    for (span, snippet, message) in &labels {
        let (path, line, column) = sources.locate(span);
        let same_file = primary.as_ref().is_some_and(|(p, _)| p.file == span.file);
        if primary.is_none() || !same_file {
            let _ = writeln!(
                out,
                "{pad}{} {}:{line}:{column}",
                style.paint(BLUE, ":::"),
                path.display()
            );
        }
        write_snippet(out, snippet, &pad, width, '-', message, BLUE, style);
    }
    if primary.is_some() || !labels.is_empty() {
        let _ = writeln!(out, "{pad} {bar}");
    }
    if let Some(help) = &diagnostic.help {
        let help = secrets::mask_text(help);
        let _ = writeln!(out, "{pad} {} {help}", style.paint(CYAN, "= help:"));
    }
}

#[allow(clippy::too_many_arguments)]
fn write_snippet(
    out: &mut String,
    snippet: &Snippet,
    pad: &str,
    width: usize,
    mark: char,
    message: &str,
    color: &str,
    style: &Style,
) {
    let bar = style.paint(BLUE, "|");
    let _ = writeln!(out, "{pad} {bar}");
    let number = format!("{:>width$}", snippet.line);
    let text = snippet.text.trim_end();
    if text.is_empty() {
        let _ = writeln!(out, "{} {bar}", style.paint(BLUE, &number));
    } else {
        let _ = writeln!(out, "{} {bar} {text}", style.paint(BLUE, &number));
    }
    let underline: String = std::iter::repeat_n(mark, snippet.width).collect();
    let tail = if message.is_empty() {
        String::new()
    } else {
        format!(" {message}")
    };
    let _ = writeln!(
        out,
        "{pad} {bar} {}{}",
        " ".repeat(snippet.start),
        style.paint(color, &format!("{underline}{tail}"))
    );
}

fn position(sources: &Sources, span: Option<&Span>) -> [Value; 5] {
    match span {
        Some(span) => {
            let file = sources.get(span.file);
            let (line, column) = file.line_column(span.range.start);
            let (end_line, end_column) = file.line_column(span.range.end);
            [
                Value::String(file.path.display().to_string()),
                json!(line),
                json!(column),
                json!(end_line),
                json!(end_column),
            ]
        }
        None => [Value::Null, Value::Null, Value::Null, Value::Null, Value::Null],
    }
}

/// The JSON document of `validate --format json`:
/// `{"valid": bool, "diagnostics": [{"severity", "code", "message", "file",
/// "line", "column", "end_line", "end_column", "help", "labels"}]}`.
/// Lines and columns are 1-based; the end is just past the last character;
/// position fields are `null` for diagnostics without a position and `help`
/// is `null` when there is none.
pub fn json(diagnostics: &Diagnostics, sources: &Sources) -> Value {
    let items: Vec<Value> = diagnostics
        .iter()
        .map(|diagnostic| {
            let [file, line, column, end_line, end_column] = position(sources, diagnostic.span.as_ref());
            let labels: Vec<Value> = diagnostic
                .labels
                .iter()
                .map(|label| {
                    let [file, line, column, end_line, end_column] = position(sources, Some(&label.span));
                    json!({
                        "message": secrets::mask_text(&label.message),
                        "file": file,
                        "line": line,
                        "column": column,
                        "end_line": end_line,
                        "end_column": end_column,
                    })
                })
                .collect();
            json!({
                "severity": diagnostic.severity,
                "code": diagnostic.code,
                "message": secrets::mask_text(&diagnostic.message),
                "file": file,
                "line": line,
                "column": column,
                "end_line": end_line,
                "end_column": end_column,
                "help": diagnostic.help.as_deref().map(secrets::mask_text),
                "labels": labels,
            })
        })
        .collect();
    json!({
        "valid": !diagnostics.has_errors(),
        "diagnostics": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::FileId;

    fn sources() -> Sources {
        let mut sources = Sources::new();
        sources.add("stack.toml", "[applications.etl]\n\tmemory = \"31 GB\"\n");
        sources
    }

    #[test]
    fn human_output_underlines_the_span_and_prints_labels_and_help() {
        let diagnostics = Diagnostics(vec![
            Diagnostic::error("capacity.memory", "too much memory")
                .at(Span::new(FileId(0), 29..36))
                .with_label(Span::new(FileId(0), 0..18), "declared here")
                .with_help("use less"),
            Diagnostic::warning("config.undeclared-variable", "variable `x` is not declared"),
        ]);
        let text = human(&diagnostics, &sources(), false);
        let expected = "\
error[capacity.memory]: too much memory
 --> stack.toml:2:11
  |
2 |     memory = \"31 GB\"
  |              ^^^^^^^
  |
1 | [applications.etl]
  | ------------------ declared here
  |
  = help: use less

warning[config.undeclared-variable]: variable `x` is not declared

1 error, 1 warning
";
        assert_eq!(text, expected);
    }

    #[test]
    fn long_lines_are_cut_around_the_span() {
        let mut sources = Sources::new();
        let line = format!("{}\"bad\"{}", "x".repeat(10_000), "y".repeat(10_000));
        sources.add("big.json", format!("{line}\n"));
        let at = 10_000;
        let diagnostics = Diagnostics(vec![
            Diagnostic::error("json.syntax", "m").at(Span::new(FileId(0), at..at + 5)),
        ]);
        let text = human(&diagnostics, &sources, false);
        let shown = text.lines().nth(3).unwrap();
        let expected_line = format!("1 | ...{}\"bad\"{}...", "x".repeat(40), "y".repeat(115));
        assert_eq!(shown, expected_line);
        let underline = text.lines().nth(4).unwrap();
        assert_eq!(underline, format!("  | {}^^^^^", " ".repeat(43)));
        assert!(text.contains(" --> big.json:1:10001\n"), "{text}");
    }

    #[test]
    fn snippets_and_messages_never_show_secret_values() {
        // A warning on a line with a secret-looking key printed the line.
        let mut sources = Sources::new();
        sources.add(
            "prod.vars.toml",
            "MY_PRIVATE_KEY = \"k3y-m4terial\"\nurl = \"jdbc:x://h/db?user=u&password=hunter2\" # \\tnote\n",
        );
        let diagnostics = Diagnostics(vec![
            Diagnostic::warning(
                "config.undeclared-variable",
                "variable `MY_PRIVATE_KEY` is not declared",
            )
            .at(Span::new(FileId(0), 0..14)),
            Diagnostic::error("x.y", "bad `jdbc:x://h/db?user=u&password=hunter2`")
                .at(Span::new(FileId(0), 69..76))
                .with_help("not password=hunter2"),
        ]);
        let text = human(&diagnostics, &sources, false);
        assert!(!text.contains("k3y-m4terial") && !text.contains("hunter2"), "{text}");
        let expected = "\
warning[config.undeclared-variable]: variable `MY_PRIVATE_KEY` is not declared
 --> prod.vars.toml:1:1
  |
1 | MY_PRIVATE_KEY = \"(sensitive value)\"
  | ^^^^^^^^^^^^^^
  |

error[x.y]: bad `jdbc:x://h/db?user=u&password=(sensitive value)`
 --> prod.vars.toml:2:38
  |
2 | url = \"jdbc:x://h/db?user=u&password=(sensitive value)\" # \\tnote
  |                                      ^^^^^^^^^^^^^^^^^
  |
  = help: not password=(sensitive value)

1 error, 1 warning
";
        assert_eq!(text, expected);
        let document = json(&diagnostics, &sources).to_string();
        assert!(!document.contains("hunter2"), "{document}");
    }

    #[test]
    fn json_output_has_null_positions_and_help_when_absent() {
        let diagnostics = Diagnostics(vec![Diagnostic::warning("a.b", "m")]);
        let value = json(&diagnostics, &sources());
        assert_eq!(value["valid"], true);
        assert_eq!(value["diagnostics"][0]["file"], Value::Null);
        assert_eq!(value["diagnostics"][0]["help"], Value::Null);
    }

    #[test]
    fn summary_counts() {
        let one = Diagnostics(vec![Diagnostic::error("a", "b")]);
        assert_eq!(summary(&one), "1 error");
        assert_eq!(summary(&Diagnostics::new()), "");
    }
}
