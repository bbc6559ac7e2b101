//! Diagnostics: problems in the user's input, each with a stable code, a
//! position in a file and, where there is advice, a `help:` line.
//!
//! Stages collect diagnostics instead of failing on the first one, so a user
//! sees every problem of a stack file at once.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How bad a diagnostic is. Errors stop `validate`, `plan` and `apply`;
/// warnings do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Severity::Error => f.write_str("error"),
            Severity::Warning => f.write_str("warning"),
        }
    }
}

/// Identifies a source file in a [`Sources`] set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FileId(pub usize);

/// A byte range in a source file.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    pub file: FileId,
    pub range: Range<usize>,
}

impl Span {
    pub fn new(file: FileId, range: Range<usize>) -> Span {
        Span { file, range }
    }
}

/// A secondary location shown with a diagnostic ("first declared here").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One problem in the user's input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable, dotted code such as `config.unknown-key` or `capacity.memory-step`.
    pub code: String,
    /// Starts in lower case, no trailing period, names in backticks.
    pub message: String,
    /// Where the problem is; `None` for problems not tied to a file position
    /// (for example a missing stack file or a failed AWS check).
    pub span: Option<Span>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The resource and field the problem is about, for problems found
    /// after loading (plan time); the CLI turns it into a span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
}

/// A resource address (`application.etl`) and a dotted field path in it
/// (`image.tag`), naming where a plan-time problem lies in the stack file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub address: String,
    pub path: String,
}

impl Diagnostic {
    pub fn error(code: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code: code.into(),
            message: message.into(),
            span: None,
            labels: Vec::new(),
            help: None,
            subject: None,
        }
    }

    pub fn warning(code: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn at(mut self, span: Span) -> Diagnostic {
        self.span = Some(span);
        self
    }

    pub fn at_opt(mut self, span: Option<Span>) -> Diagnostic {
        self.span = span;
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Names the resource and field a plan-time problem is about.
    pub fn about(mut self, address: impl Into<String>, path: impl Into<String>) -> Diagnostic {
        self.subject = Some(Subject {
            address: address.into(),
            path: path.into(),
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A collection of diagnostics, in the order they were found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Diagnostics {
        Diagnostics(Vec::new())
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.0.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.0.iter().filter(|d| !d.is_error()).count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    /// Sorts by file, then position, then code, so output is stable
    /// whatever order the rules ran in. Diagnostics without a position
    /// come first.
    pub fn sort(&mut self) {
        // Keys by reference: copying the code and message for every
        // comparison cost more than the sort itself for 100,000 diagnostics.
        fn key(d: &Diagnostic) -> (Option<(FileId, usize, usize)>, &str, &str) {
            (
                d.span.as_ref().map(|s| (s.file, s.range.start, s.range.end)),
                d.code.as_str(),
                d.message.as_str(),
            )
        }
        self.0.sort_by(|a, b| key(a).cmp(&key(b)));
        self.0.dedup();
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// One loaded source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// The path as the user gave it (relative paths stay relative, so
    /// messages read like the command line the user typed).
    pub path: PathBuf,
    pub text: String,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
    /// The number of characters before every [`CHECKPOINT`]th byte, so that
    /// a column is found without counting from the start of a long line
    /// (a minified JSON file is one line of megabytes).
    chars_before: Vec<usize>,
}

/// The distance in bytes between two entries of `SourceFile::chars_before`.
const CHECKPOINT: usize = 4096;

/// Whether a byte starts a character (is not a UTF-8 continuation byte).
fn starts_char(byte: u8) -> bool {
    byte & 0xC0 != 0x80
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let mut chars_before = Vec::with_capacity(text.len() / CHECKPOINT + 1);
        let mut count = 0;
        for chunk in text.as_bytes().chunks(CHECKPOINT) {
            chars_before.push(count);
            count += chunk.iter().filter(|b| starts_char(**b)).count();
        }
        SourceFile {
            path: path.into(),
            text,
            line_starts,
            chars_before,
        }
    }

    /// The number of characters in `text[..offset]` (`offset` at a
    /// character boundary), in at most [`CHECKPOINT`] steps.
    fn chars_to(&self, offset: usize) -> usize {
        let checkpoint = offset / CHECKPOINT;
        let Some(&before) = self.chars_before.get(checkpoint) else {
            return self.text.chars().count();
        };
        let from = checkpoint * CHECKPOINT;
        before
            + self.text.as_bytes()[from..offset]
                .iter()
                .filter(|b| starts_char(**b))
                .count()
    }

    /// The byte range of the line holding `offset`, without its line break.
    pub fn line_range(&self, offset: usize) -> std::ops::Range<usize> {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        };
        let start = self.line_starts[line];
        let end = self
            .line_starts
            .get(line + 1)
            .map(|next| next - 1)
            .unwrap_or(self.text.len());
        start..end
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        };
        let start = self.line_starts[line];
        let column = if offset - start <= CHECKPOINT {
            // A short way into the line: count directly.
            self.text.as_bytes()[start..offset]
                .iter()
                .filter(|b| starts_char(**b))
                .count()
        } else if self.text.is_char_boundary(offset) {
            self.chars_to(offset) - self.chars_to(start)
        } else {
            offset - start
        };
        (line + 1, column + 1)
    }
}

/// Every file a run has read (the stack file, var files, policy and
/// classification files), so diagnostics can point into any of them.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn new() -> Sources {
        Sources::default()
    }

    pub fn add(&mut self, path: impl Into<PathBuf>, text: impl Into<String>) -> FileId {
        self.files.push(SourceFile::new(path, text));
        FileId(self.files.len() - 1)
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0]
    }

    pub fn path(&self, id: FileId) -> &Path {
        &self.files[id.0].path
    }

    /// The file, 1-based line and 1-based column of a span's start.
    pub fn locate(&self, span: &Span) -> (&Path, usize, usize) {
        let file = self.get(span.file);
        let (line, column) = file.line_column(span.range.start);
        (&file.path, line, column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_from_one_and_in_characters() {
        let file = SourceFile::new("s.toml", "a = 1\nnamé = \"x\"\n");
        assert_eq!(file.line_column(0), (1, 1));
        assert_eq!(file.line_column(4), (1, 5));
        assert_eq!(file.line_column(6), (2, 1));
        // `=` after the two-byte `é` is the 6th character of line 2.
        let offset = file.text.find(" = \"x").unwrap() + 1;
        assert_eq!(file.line_column(offset), (2, 6));
    }

    #[test]
    fn columns_of_a_long_line_count_characters_across_checkpoints() {
        let line = "é".repeat(3 * CHECKPOINT) + "x";
        let file = SourceFile::new("s.json", format!("a\n{line}\nb"));
        let x = file.text.find('x').unwrap();
        assert_eq!(file.line_column(x), (2, 3 * CHECKPOINT + 1));
        assert_eq!(file.line_range(x), 2..x + 1);
        assert_eq!(file.line_column(file.text.len()), (3, 2));
    }

    #[test]
    fn sort_orders_by_position_and_removes_duplicates() {
        let file = FileId(0);
        let mut diagnostics = Diagnostics(vec![
            Diagnostic::error("b", "second").at(Span::new(file, 10..12)),
            Diagnostic::error("a", "first").at(Span::new(file, 1..2)),
            Diagnostic::error("a", "first").at(Span::new(file, 1..2)),
        ]);
        diagnostics.sort();
        let codes: Vec<_> = diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, vec!["a", "b"]);
    }
}
