//! `docs/config-reference.md` stays true: every diagnostic code the loader
//! can emit is documented, every documented code is emitted somewhere, and
//! every documented code has a test.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const PREFIXES: [&str; 26] = [
    "config",
    "job",
    "toml",
    "json",
    "stack",
    "tag",
    "network",
    "reference",
    "name",
    "repository",
    "role",
    "policy",
    "application",
    "release",
    "auto-stop",
    "scheduler",
    "interactive",
    "kms",
    "disk-encryption",
    "identity-center",
    "image",
    "capacity",
    "quota",
    "classification",
    "lake-formation",
    "monitoring",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn is_code(text: &str) -> bool {
    let Some((prefix, rest)) = text.split_once('.') else {
        return false;
    };
    PREFIXES.contains(&prefix)
        && !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The string literals of Rust source `text` (plain, escaped and raw
/// strings; comments and character literals skipped).
fn string_literals(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\'' => {
                // A character literal (`'"'`, `'\''`), or a lifetime.
                if chars.get(i + 1) == Some(&'\\') {
                    i += 2;
                    while i < chars.len() && chars[i] != '\'' {
                        i += 1;
                    }
                    i += 1;
                } else if chars.get(i + 2) == Some(&'\'') {
                    i += 3;
                } else {
                    i += 1;
                }
            }
            'r' if chars.get(i + 1) == Some(&'#')
                || (chars.get(i + 1) == Some(&'"') && (i == 0 || !chars[i - 1].is_alphanumeric())) =>
            {
                let mut hashes = 0;
                let mut j = i + 1;
                while chars.get(j) == Some(&'#') {
                    hashes += 1;
                    j += 1;
                }
                if chars.get(j) != Some(&'"') {
                    i += 1;
                    continue;
                }
                let start = j + 1;
                let mut end = start;
                while end < chars.len() {
                    if chars[end] == '"' && (0..hashes).all(|h| chars.get(end + 1 + h) == Some(&'#')) {
                        break;
                    }
                    end += 1;
                }
                out.push(chars[start..end.min(chars.len())].iter().collect());
                i = end + 1 + hashes;
            }
            '"' => {
                let mut literal = String::new();
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    if let Some(c) = chars.get(i) {
                        literal.push(*c);
                    }
                    i += 1;
                }
                out.push(literal);
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// Every string literal in `text` that is a diagnostic code.
fn quoted_codes(text: &str) -> BTreeSet<String> {
    let mut codes = BTreeSet::new();
    for literal in string_literals(text) {
        if is_code(&literal) {
            codes.insert(literal);
        }
    }
    codes
}

fn emitted() -> BTreeSet<String> {
    let mut files = Vec::new();
    rust_files(&root().join("src/config"), &mut files);
    let mut codes = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source");
        // Unit tests may mention codes that the code itself no longer emits.
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        codes.extend(quoted_codes(code));
    }
    codes
}

pub(crate) fn documented() -> BTreeSet<String> {
    code_rows()
        .into_iter()
        .map(|(code, ..)| code)
        .filter(|code| is_code(code))
        .collect()
}

#[test]
fn every_emitted_code_is_documented_and_every_documented_code_is_emitted() {
    let emitted = emitted();
    let documented = documented();
    let undocumented: Vec<_> = emitted.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&emitted).collect();
    assert!(
        undocumented.is_empty(),
        "codes missing from docs/config-reference.md: {undocumented:?}"
    );
    assert!(stale.is_empty(), "documented codes the loader never emits: {stale:?}");
    assert!(emitted.len() > 100, "{}", emitted.len());
}

#[test]
fn every_documented_code_has_a_test() {
    let mut tested = BTreeSet::new();
    for entry in std::fs::read_dir(root().join("tests/it")).expect("tests/it/") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if (name.starts_with("config_") || name == "cli_validate.rs")
            && name != "config_docs.rs"
            && name.ends_with(".rs")
        {
            tested.extend(quoted_codes(&std::fs::read_to_string(&path).expect("read test")));
        }
    }
    // `config.invalid` is the fallback for reader errors the structural
    // check cannot foresee; no valid TOML input is known to reach it.
    let untested: Vec<_> = documented()
        .into_iter()
        .filter(|code| !tested.contains(code) && code != "config.invalid")
        .collect();
    assert!(untested.is_empty(), "documented codes without a test: {untested:?}");
}

/// The rows of the diagnostic code table: code, severity and evidence.
fn code_rows() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(root().join("docs/config-reference.md")).expect("read docs");
    let table = text
        .split("## Diagnostic codes")
        .nth(1)
        .expect("a `## Diagnostic codes` section");
    table
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            (
                cells[0].trim_matches('`').to_string(),
                cells.get(1).copied().unwrap_or("").to_string(),
                cells.get(3).copied().unwrap_or("").to_string(),
            )
        })
        .collect()
}

// Issue 16: every error-level offline rule rests on evidence that AWS
// refuses the request (or on the language itself), recorded next to its code.
#[test]
fn every_error_code_records_its_evidence() {
    let rows = code_rows();
    assert!(rows.len() > 100, "{}", rows.len());
    let missing: Vec<&str> = rows
        .iter()
        .filter(|(_, severity, evidence)| severity.contains("error") && evidence.is_empty())
        .map(|(code, ..)| code.as_str())
        .collect();
    assert!(missing.is_empty(), "error codes without evidence: {missing:?}");
    for (code, severity, _) in &rows {
        assert!(
            ["error", "warning", "error or warning"].contains(&severity.as_str()),
            "`{code}` has severity `{severity}`"
        );
    }
}
