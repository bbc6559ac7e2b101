//! Conventions the compiler does not check, in the manner of rust-analyzer's
//! `tidy.rs`: every source file says what it owns, stages depend only on the
//! stages ARCHITECTURE.md allows, nothing panics outside tests, only `aws`
//! names the AWS SDK, only `apply` changes AWS (and `adopt` writes the
//! stack's ownership marks) and only `cli` prints.
//!
//! The checks read the source text. Comments and the contents of string
//! literals are blanked out first (see [`blank`]), so prose that mentions
//! `crate::cloud` or `println!` is not mistaken for code. Test code is a
//! file named `tests.rs` or in a `tests/` directory, and every item under a `#[cfg(test)]` attribute (a
//! test module, or a test-only function in the middle of a file); the
//! dependency, panic and printing checks skip it.
//!
//! Each test lists every violation it finds, with its file and line, then
//! fails; fix the code, or, if the rule is what has to change, change
//! ARCHITECTURE.md and this file together.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The module dependency table of ARCHITECTURE.md ("Dependency table"): each
/// top-level module of `src/` and the other top-level modules its non-test
/// code may name. `cli` (with `main.rs`) may name every module. Arrows point
/// toward `model`; no stage names a stage that runs after it.
const ALLOWED: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("diag", &[]),
    ("input", &[]),
    ("config", &["model", "diag", "input"]),
    ("cloud", &["model"]),
    ("aws", &["cloud", "model"]),
    ("observe", &["cloud", "model", "diag"]),
    ("diff", &["model", "diag"]),
    ("graph", &["diff", "model", "diag"]),
    ("plan", &["diff", "graph", "model", "diag", "input"]),
    ("planning", &["observe", "plan", "diff", "cloud", "model", "diag"]),
    ("render", &["plan", "diff", "model", "diag"]),
    ("artifact", &["model"]),
    ("apply", &["plan", "graph", "diff", "cloud", "model", "artifact"]),
    ("lock", &["cloud", "model"]),
    ("adopt", &["observe", "diff", "config", "cloud", "model", "diag"]),
    (
        "cli",
        &[
            "model", "diag", "input", "config", "cloud", "aws", "observe", "diff", "graph", "plan", "planning",
            "render", "apply", "lock", "adopt", "artifact",
        ],
    ),
];

/// Path prefixes (relative to `src/`) whose code may name AWS SDK crates.
const SDK_ALLOWED: &[&str] = &["aws/"];
/// The AWS SDK crates, as they are named in Rust code.
const SDK_CRATES: &[&str] = &["aws_sdk_", "aws_config", "aws_smithy_", "aws_types", "aws_runtime"];

/// Path prefixes (relative to `src/`) whose code may print.
const PRINT_ALLOWED: &[&str] = &["cli/", "main.rs"];
/// What counts as printing: the printing macros and the standard streams.
const PRINTING: &[&str] = &[
    "println!",
    "eprintln!",
    "print!",
    "eprint!",
    "dbg!",
    "stdout()",
    "stderr()",
];

/// The `Cloud` methods that change AWS.
const MUTATIONS: &[&str] = &[
    "create_application",
    "update_application",
    "start_application",
    "stop_application",
    "delete_application",
    "cancel_job_run",
    "start_job_run",
    "terminate_session",
    "tag_application",
    "untag_application",
    "create_role",
    "update_role",
    "update_trust_policy",
    "set_permissions_boundary",
    "put_role_policy",
    "delete_role_policy",
    "attach_role_policy",
    "detach_role_policy",
    "tag_role",
    "untag_role",
    "delete_role",
    "set_repository_policy",
    "delete_repository_policy",
    // `ObjectStore`.
    "put_object",
    "delete_object",
];
/// Path prefixes (relative to `src/`) whose code may call them: the executor,
/// the implementations of `Cloud` and `ObjectStore` (whose SDK calls have the
/// same names), and the stack lock, which writes and deletes its own object.
const MUTATION_ALLOWED: &[&str] = &["apply/", "aws/", "cloud/", "lock/"];
/// Path prefixes that may call some of them only: `adopt` (`emrstack
/// import`) writes the marks that make a resource the stack's, the
/// ownership tags and a role's marker statement, and nothing else
/// (ARCHITECTURE.md, `src/adopt`).
const MUTATION_LIMITED: &[(&str, &[&str])] = &[("adopt/", &["tag_application", "tag_role", "update_trust_policy"])];

#[test]
fn every_source_file_starts_with_a_module_doc() {
    report("files without a `//!` header", check_headers(&sources()));
}

#[test]
fn dependency_table_matches_architecture_md() {
    let path = repo_root().join("ARCHITECTURE.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let documented = documented_table(&text);
    let expected: BTreeMap<String, BTreeSet<String>> = ALLOWED
        .iter()
        .map(|(module, uses)| (module.to_string(), uses.iter().map(|u| u.to_string()).collect()))
        .collect();
    assert_eq!(
        documented, expected,
        "the dependency table of ARCHITECTURE.md (left) and ALLOWED in tests/it/tidy.rs (right) must be the same"
    );
}

#[test]
fn every_top_level_module_is_in_the_dependency_table() {
    let lib = std::fs::read_to_string(src_root().join("lib.rs")).expect("src/lib.rs");
    let declared: BTreeSet<String> = lib
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            line.strip_prefix("pub mod ")
                .or_else(|| line.strip_prefix("pub(crate) mod "))
        })
        .map(|rest| rest.trim_end_matches(';').trim().to_string())
        .collect();
    let listed: BTreeSet<String> = ALLOWED.iter().map(|(module, _)| module.to_string()).collect();
    assert_eq!(
        declared, listed,
        "every module of src/lib.rs needs a row in ALLOWED (tests/it/tidy.rs) and in ARCHITECTURE.md"
    );
}

#[test]
fn the_crate_is_private_by_default() {
    // ARCHITECTURE.md, "Visibility": the compiler reports dead code only
    // for what nothing outside the crate can reach.
    let lib = std::fs::read_to_string(src_root().join("lib.rs")).expect("src/lib.rs");
    assert!(
        lib.lines().any(|line| line.trim() == "#![deny(unreachable_pub)]"),
        "src/lib.rs must deny `unreachable_pub`"
    );
}

#[test]
fn module_dependencies_follow_the_architecture() {
    report(
        "dependencies ARCHITECTURE.md does not allow",
        check_dependencies(&sources()),
    );
}

#[test]
fn no_panics_outside_tests() {
    report(
        "panics outside tests (return an error, or use `expect(\"invariant: ...\")` for a true invariant)",
        check_panics(&sources()),
    );
}

#[test]
fn only_aws_names_the_sdk() {
    report(
        "AWS SDK names outside src/aws (go through the `Cloud` trait and model types)",
        check_sdk(&sources()),
    );
}

#[test]
fn only_cli_prints() {
    report(
        "printing outside src/cli (return a String or events; cli prints)",
        check_printing(&sources()),
    );
}

#[test]
fn only_apply_changes_aws() {
    report(
        "calls that change AWS outside src/apply (the planner never mutates AWS)",
        check_mutations(&sources()),
    );
}

/// Integration tests that must run in a process of their own, each a
/// `[[test]]` target (or a `tests/*.rs` file) with its reason in
/// ARCHITECTURE.md ("Tests and tools outside `src/`"). None today.
const SEPARATE_TEST_BINARIES: &[&str] = &[];

/// Every integration test is a module of the one test binary `tests/it`: a
/// `tests/*.rs` file would be a binary of its own, linking the whole AWS SDK
/// again, and a file under `tests/it/` without a `mod` line in `main.rs` is
/// never compiled, so its tests would silently not run.
#[test]
fn integration_tests_are_modules_of_tests_it() {
    let tests = repo_root().join("tests");
    let mut violations = Vec::new();
    for entry in std::fs::read_dir(&tests).expect("tests/") {
        let path = entry.expect("directory entry").path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let is_binary = path.extension().is_some_and(|e| e == "rs") || path.join("main.rs").is_file();
        let stem = name.trim_end_matches(".rs");
        if is_binary && stem != "it" && !SEPARATE_TEST_BINARIES.contains(&stem) {
            violations.push(format!(
                "tests/{name}: a test binary of its own; make it a module of tests/it/main.rs"
            ));
        }
    }
    let main = std::fs::read_to_string(tests.join("it/main.rs")).expect("tests/it/main.rs");
    let declared: BTreeSet<String> = main
        .lines()
        .filter_map(|line| line.trim().strip_prefix("mod "))
        .map(|rest| rest.trim_end_matches(';').trim().to_string())
        .collect();
    for entry in std::fs::read_dir(tests.join("it")).expect("tests/it/") {
        let path = entry.expect("directory entry").path();
        let module = if path.extension().is_some_and(|e| e == "rs") {
            path.file_stem().map(|s| s.to_string_lossy().into_owned())
        } else if path.join("mod.rs").is_file() {
            path.file_name().map(|s| s.to_string_lossy().into_owned())
        } else {
            None
        };
        if let Some(module) = module.filter(|m| m != "main" && !declared.contains(m)) {
            violations.push(format!(
                "tests/it/{}: not declared in tests/it/main.rs (`mod {module};`), so never compiled",
                path.file_name().unwrap_or_default().to_string_lossy()
            ));
        }
    }
    report("integration tests outside the one test binary", violations);
}

/// The checks on made-up files: each finds what it should and nothing in
/// comments, strings or test code.
#[test]
fn the_checks_find_what_they_should() {
    let files = [
        Source::new(
            "diff/example.rs",
            r##"//! An example.
use crate::cloud::Cloud;
use crate::{model::Address, plan::{Plan, PlanMode}};
/// Mentions crate::apply and println! in a comment.
fn f<'a>(x: &'a str, q: char) -> &'a str {
    let s = "crate::apply, x.unwrap(), println!";
    let r = r#"crate::render "quoted" .unwrap()"#;
    let c = '"';
    a.unwrap(); b.expect("invariant: checked above"); c.expect("no invariant");
    d.unwrap_or_default(); e.expect_err("fine");
    println!("{s}"); std::io::stderr(); panic!("boom"); no_panic!();
    let t = aws_sdk_emrserverless::Client::new(); /* aws_config in a comment */
    x
}
#[cfg(test)]
#[allow(dead_code)]
fn only_in_tests() -> Vec<[u8; 2]> { vec![[1, 2]].into_iter().map(|x| x).collect::<Vec<_>>().pop().unwrap() }
fn after_the_test_function() { z.unwrap(); }
#[cfg(test)]
mod tests {
    use crate::apply::execute;
    fn t() { a.unwrap(); println!(); }
}
"##,
        ),
        Source::new(
            "graph/deep/inner.rs",
            "//! Climbs to the root.\nuse super::super::super::apply::Executor;\nuse super::Sibling;\n",
        ),
        Source::new("aws/client.rs", "use aws_sdk_emrserverless::Client;\n"),
        Source::new("cli/output.rs", "//! Prints.\nfn p() { println!(); }\n"),
        Source::new(
            "render/tests.rs",
            "//! Tests.\nuse crate::cloud::Cloud;\nfn t() { x.unwrap(); }\n",
        ),
        Source::new(
            "render/tests/roles.rs",
            "//! Tests.\nuse crate::cloud::Cloud;\nfn t() { x.unwrap(); }\n",
        ),
        Source::new(
            "observe/mod.rs",
            "//! Reads.\nuse crate::cloud::Cloud;\nasync fn f(c: &impl Cloud) { c.get_role(\"a\").await; c.tag_role(\"a\", &t).await; }\n",
        ),
        Source::new(
            "adopt/import.rs",
            "//! Marks.\nasync fn f(c: &impl Cloud) { c.tag_role(\"a\", &t).await; }\nasync fn g(c: &impl Cloud) { c.delete_role(\"a\").await; }\n",
        ),
    ];
    assert_eq!(
        check_mutations(&files),
        vec![
            "src/adopt/import.rs:3: async fn g(c: &impl Cloud) { c.delete_role(\"a\").await; }",
            "src/observe/mod.rs:3: async fn f(c: &impl Cloud) { c.get_role(\"a\").await; c.tag_role(\"a\", &t).await; }",
        ]
    );
    assert_eq!(
        check_headers(&files),
        vec!["src/aws/client.rs:1: the file must start with a `//!` line saying what it owns"]
    );
    assert_eq!(
        check_dependencies(&files),
        vec![
            "src/diff/example.rs:2: `diff` uses `cloud`; it may use `model`, `diag`",
            "src/diff/example.rs:3: `diff` uses `plan`; it may use `model`, `diag`",
            "src/graph/deep/inner.rs:2: `graph` uses `apply`; it may use `diff`, `model`, `diag`",
        ]
    );
    assert_eq!(
        check_panics(&files),
        vec![
            "src/diff/example.rs:11: println!(\"{s}\"); std::io::stderr(); panic!(\"boom\"); no_panic!();",
            "src/diff/example.rs:18: fn after_the_test_function() { z.unwrap(); }",
            "src/diff/example.rs:9: a.unwrap(); b.expect(\"invariant: checked above\"); c.expect(\"no invariant\");",
            "src/diff/example.rs:9: a.unwrap(); b.expect(\"invariant: checked above\"); c.expect(\"no invariant\");",
        ]
    );
    assert_eq!(
        check_sdk(&files),
        vec!["src/diff/example.rs:12: let t = aws_sdk_emrserverless::Client::new(); /* aws_config in a comment */"]
    );
    assert_eq!(
        check_printing(&files),
        vec![
            "src/diff/example.rs:11: println!(\"{s}\"); std::io::stderr(); panic!(\"boom\"); no_panic!();",
            "src/diff/example.rs:11: println!(\"{s}\"); std::io::stderr(); panic!(\"boom\"); no_panic!();",
        ]
    );
}

#[test]
fn the_dependency_table_is_read_from_its_section() {
    let text = "# A\n\n| `model` | `diff` |\n\n### Dependency table\n\nSome prose.\n\n\
                | module | may use | owns |\n|---|---|---|\n\
                | `model` | nothing | `Desired` |\n\
                | `apply` | `plan`, `cloud` | the `Executor` |\n\
                | `cli` | every module | |\n\
                \n| `render` | `plan` | |\n";
    let table = documented_table(text);
    let all_but_cli: BTreeSet<String> = ALLOWED
        .iter()
        .map(|(module, _)| module.to_string())
        .filter(|module| module != "cli")
        .collect();
    assert_eq!(
        table,
        BTreeMap::from([
            ("model".to_string(), BTreeSet::new()),
            (
                "apply".to_string(),
                BTreeSet::from(["plan".to_string(), "cloud".to_string()])
            ),
            ("cli".to_string(), all_but_cli),
        ])
    );
}

// --- The checks -----------------------------------------------------------------

fn check_headers(files: &[Source]) -> Vec<String> {
    files
        .iter()
        .filter(|file| !file.text.starts_with("//!"))
        .map(|file| {
            format!(
                "src/{}:1: the file must start with a `//!` line saying what it owns",
                file.rel
            )
        })
        .collect()
}

fn check_dependencies(files: &[Source]) -> Vec<String> {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let modules: BTreeSet<&str> = allowed.keys().copied().collect();
    let mut violations = Vec::new();
    for file in files {
        let Some(module) = file.module_path.first() else {
            // lib.rs and main.rs: the crate root declares the modules and the
            // binary hands over to `cli`.
            continue;
        };
        let Some(may_use) = allowed.get(module.as_str()) else {
            violations.push(format!("src/{}: module `{module}` is not in ALLOWED", file.rel));
            continue;
        };
        for (offset, used) in module_references(file) {
            if &used == module
                || !modules.contains(used.as_str())
                || may_use.contains(&used.as_str())
                || file.is_test_at(offset)
            {
                continue;
            }
            let may = if may_use.is_empty() {
                "no other module".to_string()
            } else {
                may_use.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
            };
            violations.push(format!(
                "src/{}:{}: `{module}` uses `{used}`; it may use {may}",
                file.rel,
                file.line_of(offset)
            ));
        }
    }
    violations.sort();
    violations.dedup();
    violations
}

fn check_panics(files: &[Source]) -> Vec<String> {
    let mut violations = Vec::new();
    for file in files {
        for needle in [
            ".unwrap()",
            ".expect(",
            "panic!(",
            "unreachable!(",
            "todo!(",
            "unimplemented!(",
        ] {
            for offset in find_all(&file.code, needle) {
                // `.unwrap()` and `.expect(` start with a dot; the macros must
                // start a token (`panic!`, `std::panic!`, not `no_panic!`).
                if file.is_test_at(offset) || !(needle.starts_with('.') || starts_token(&file.code, offset)) {
                    continue;
                }
                if needle == ".expect(" {
                    // The message is in the string literal, which only the
                    // comment-free view still has.
                    let argument = file.no_comments[offset + needle.len()..].trim_start();
                    if argument.starts_with("\"invariant: ") {
                        continue;
                    }
                }
                violations.push(file.located(offset));
            }
        }
    }
    violations.sort();
    violations
}

fn check_sdk(files: &[Source]) -> Vec<String> {
    let mut violations = Vec::new();
    for file in files {
        if SDK_ALLOWED.iter().any(|prefix| file.rel.starts_with(prefix)) {
            continue;
        }
        for crate_name in SDK_CRATES {
            for offset in find_all(&file.code, crate_name) {
                if starts_token(&file.code, offset) {
                    violations.push(file.located(offset));
                }
            }
        }
    }
    violations.sort();
    violations
}

fn check_mutations(files: &[Source]) -> Vec<String> {
    let mut violations = Vec::new();
    for file in files {
        if MUTATION_ALLOWED.iter().any(|prefix| file.rel.starts_with(prefix)) {
            continue;
        }
        let limited: &[&str] = MUTATION_LIMITED
            .iter()
            .find(|(prefix, _)| file.rel.starts_with(prefix))
            .map_or(&[], |(_, methods)| methods);
        for method in MUTATIONS.iter().filter(|method| !limited.contains(method)) {
            for offset in find_all(&file.code, &format!(".{method}(")) {
                if !file.is_test_at(offset) {
                    violations.push(file.located(offset));
                }
            }
        }
    }
    violations.sort();
    violations
}

fn check_printing(files: &[Source]) -> Vec<String> {
    let mut violations = Vec::new();
    for file in files {
        if PRINT_ALLOWED.iter().any(|prefix| file.rel.starts_with(prefix)) {
            continue;
        }
        for needle in PRINTING {
            for offset in find_all(&file.code, needle) {
                if starts_token(&file.code, offset) && !file.is_test_at(offset) {
                    violations.push(file.located(offset));
                }
            }
        }
    }
    violations.sort();
    violations
}

// --- Reading the sources ------------------------------------------------------

/// One `.rs` file under `src/`.
struct Source {
    /// Path relative to `src/`, with `/` separators (`cli/commands/apply.rs`).
    rel: String,
    /// The module path of the file (`["cli", "commands", "apply"]`; empty
    /// for `lib.rs` and `main.rs`).
    module_path: Vec<String>,
    /// The file as written.
    text: String,
    /// The file with comments blanked out (same byte offsets).
    no_comments: String,
    /// The file with comments and string contents blanked out (same offsets).
    code: String,
    /// Byte ranges of test code: the whole of a `tests.rs` or of a file in a
    /// `tests/` directory, else each item
    /// under a `#[cfg(test)]` attribute (a test module, a test-only function).
    tests: Vec<(usize, usize)>,
}

impl Source {
    /// A file from its path relative to `src/` and its text.
    fn new(rel: &str, text: &str) -> Source {
        let no_comments = blank(text, false);
        let code = blank(text, true);
        let tests = if rel == "tests.rs"
            || rel.ends_with("/tests.rs")
            || rel.starts_with("tests/")
            || rel.contains("/tests/")
        {
            vec![(0, text.len())]
        } else {
            test_items(&code)
        };
        Source {
            rel: rel.to_string(),
            module_path: module_path(rel),
            text: text.to_string(),
            no_comments,
            code,
            tests,
        }
    }

    /// `src/<file>:<line>: <the line>`, for a violation at `offset`.
    fn located(&self, offset: usize) -> String {
        format!(
            "src/{}:{}: {}",
            self.rel,
            self.line_of(offset),
            self.line_text(offset).trim()
        )
    }

    fn is_test_at(&self, offset: usize) -> bool {
        self.tests.iter().any(|&(start, end)| start <= offset && offset < end)
    }

    /// 1-based line number of a byte offset.
    fn line_of(&self, offset: usize) -> usize {
        self.text[..offset].matches('\n').count() + 1
    }

    /// The line of the original text that holds `offset`.
    fn line_text(&self, offset: usize) -> &str {
        let start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let end = self.text[offset..].find('\n').map_or(self.text.len(), |i| offset + i);
        &self.text[start..end]
    }
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn src_root() -> PathBuf {
    repo_root().join("src")
}

/// Every `.rs` file under `src/`, in path order.
fn sources() -> Vec<Source> {
    let root = src_root();
    let mut paths = Vec::new();
    collect_rs(&root, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let rel = path
                .strip_prefix(&root)
                .expect("under src/")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            Source::new(&rel, &text)
        })
        .collect()
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// `cli/commands/apply.rs` -> `[cli, commands, apply]`; `cli/mod.rs` ->
/// `[cli]`; `lib.rs`, `main.rs` -> `[]`.
fn module_path(rel: &str) -> Vec<String> {
    if rel == "lib.rs" || rel == "main.rs" {
        return Vec::new();
    }
    let mut parts: Vec<String> = rel.split('/').map(str::to_string).collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" {
        parts.push(stem.to_string());
    }
    parts
}

/// Blanks out comments and, with `strings`, the contents of string and
/// character literals, replacing every byte with a space except newlines, so
/// offsets and line numbers stay those of the original text.
fn blank(text: &str, strings: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut i = 0;
    let clear = |out: &mut Vec<u8>, from: usize, to: usize| {
        for byte in &mut out[from..to] {
            if *byte != b'\n' {
                *byte = b' ';
            }
        }
    };
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"//") {
            let end = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
            clear(&mut out, i, end);
            i = end;
        } else if rest.starts_with(b"/*") {
            let mut depth = 0;
            let mut j = i;
            while j < bytes.len() {
                if bytes[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if bytes[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            clear(&mut out, i, j);
            i = j;
        } else if bytes[i] == b'"' {
            // A plain string: ends at the first unescaped quote.
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            let end = j.min(bytes.len());
            if strings {
                clear(&mut out, i + 1, end);
            }
            i = end + 1;
        } else if bytes[i] == b'r'
            && (i == 0 || !is_ident(bytes[i - 1]) || (bytes[i - 1] == b'b' && (i < 2 || !is_ident(bytes[i - 2]))))
            && matches!(bytes.get(i + 1), Some(b'"') | Some(b'#'))
        {
            // A raw string r"..." or r#"..."#, possibly after `b`.
            let hashes = bytes[i + 1..].iter().take_while(|&&b| b == b'#').count();
            let open = i + 1 + hashes;
            if bytes.get(open) != Some(&b'"') {
                i += 1;
                continue;
            }
            let mut closing = vec![b'"'];
            closing.extend(std::iter::repeat_n(b'#', hashes));
            let end = bytes[open + 1..]
                .windows(closing.len())
                .position(|w| w == closing.as_slice())
                .map_or(bytes.len(), |p| open + 1 + p);
            if strings {
                clear(&mut out, open + 1, end);
            }
            i = (end + closing.len()).min(bytes.len());
        } else if bytes[i] == b'\'' {
            // A character literal ('a', '\n', '\u{..}') or a lifetime ('a).
            if bytes.get(i + 1) == Some(&b'\\') {
                let end = bytes[i + 2..]
                    .iter()
                    .position(|&b| b == b'\'')
                    .map_or(bytes.len(), |p| i + 2 + p);
                if strings {
                    clear(&mut out, i + 1, end);
                }
                i = end + 1;
            } else {
                let width = text[i + 1..].chars().next().map_or(1, char::len_utf8);
                if bytes.get(i + 1 + width) == Some(&b'\'') {
                    if strings {
                        clear(&mut out, i + 1, i + 1 + width);
                    }
                    i += width + 2;
                } else {
                    i += 1;
                }
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8(out).expect("blanking keeps UTF-8: only whole characters are replaced")
}

/// The byte ranges of the items under `#[cfg(test)]`, in the blanked code:
/// from the attribute to the end of the item (its closing brace, or its
/// semicolon for `mod tests;` and other brace-less items).
fn test_items(code: &str) -> Vec<(usize, usize)> {
    let bytes = code.as_bytes();
    let mut ranges = Vec::new();
    for start in find_all(code, "#[cfg(test)]") {
        let mut i = start + "#[cfg(test)]".len();
        // Skip whitespace and further attributes (`#[allow(...)]`).
        loop {
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if !code[i..].starts_with("#[") {
                break;
            }
            let mut depth = 0;
            while i < bytes.len() {
                match bytes[i] {
                    b'[' => depth += 1,
                    b']' => {
                        depth -= 1;
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        // The item ends at its first `;` outside brackets, or at the brace
        // that closes its first `{`.
        let mut depth = 0i32;
        let mut end = bytes.len();
        while i < bytes.len() {
            match bytes[i] {
                b'(' | b'[' => depth += 1,
                b')' | b']' => depth -= 1,
                b';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                b'{' => {
                    let mut braces = 0;
                    while i < bytes.len() {
                        match bytes[i] {
                            b'{' => braces += 1,
                            b'}' => {
                                braces -= 1;
                                if braces == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        i += 1;
                    }
                    end = (i + 1).min(bytes.len());
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        ranges.push((start, end));
    }
    ranges
}

fn find_all(haystack: &str, needle: &str) -> Vec<usize> {
    haystack.match_indices(needle).map(|(i, _)| i).collect()
}

/// Whether the match at `offset` starts a token (is not the tail of a longer
/// identifier or path: `eprintln!` inside `xeprintln!`, `stdout()` in
/// `io::stdout()` is fine, `my_stdout()` is not).
fn starts_token(code: &str, offset: usize) -> bool {
    let before = code[..offset].chars().next_back();
    !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// Every top-level module a file names, with the offset of the reference:
/// `crate::<module>` (also inside `crate::{...}` groups) and `super::` chains
/// that climb to the crate root.
fn module_references(file: &Source) -> Vec<(usize, String)> {
    let code = &file.code;
    let mut out = Vec::new();
    for offset in find_all(code, "crate::") {
        if !starts_token(code, offset) && !code[..offset].ends_with('$') {
            continue;
        }
        let after = &code[offset + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            for item in top_level_items(group) {
                out.push((offset, first_ident(&item)));
            }
        } else {
            out.push((offset, first_ident(after)));
        }
    }
    for offset in find_all(code, "super::") {
        if !starts_token(code, offset) || code[..offset].ends_with("super::") {
            continue;
        }
        let mut rest = &code[offset..];
        let mut levels = 0;
        while let Some(next) = rest.strip_prefix("super::") {
            levels += 1;
            rest = next;
        }
        if levels == file.module_path.len() {
            // Climbed to the crate root: the next name is a top-level module.
            if let Some(group) = rest.strip_prefix('{') {
                for item in top_level_items(group) {
                    out.push((offset, first_ident(&item)));
                }
            } else {
                out.push((offset, first_ident(rest)));
            }
        }
    }
    out.retain(|(_, name)| !name.is_empty() && name != "self");
    out
}

/// The comma-separated items of a `{...}` group (the text after `{`), split
/// at depth zero only.
fn top_level_items(group: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for c in group.chars() {
        match c {
            '{' => {
                depth += 1;
                current.push(c);
            }
            '}' if depth == 0 => break,
            '}' => {
                depth -= 1;
                current.push(c);
            }
            ',' if depth == 0 => items.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    items.push(current);
    items
}

fn first_ident(text: &str) -> String {
    text.trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Reads the dependency table of ARCHITECTURE.md: the rows of the first
/// table after the heading "### Dependency table", as module -> modules it
/// may use (the backticked names of the second column; "every module" for
/// all of them).
fn documented_table(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let all: BTreeSet<String> = ALLOWED.iter().map(|(module, _)| module.to_string()).collect();
    let section = text
        .split("\n### Dependency table")
        .nth(1)
        .expect("ARCHITECTURE.md has a `### Dependency table` section");
    let mut table = BTreeMap::new();
    for line in section.lines().skip_while(|line| !line.starts_with('|')) {
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // `| module | may use | ... |` splits into ["", module, may use, ...].
        let (Some(module), Some(uses)) = (cells.get(1), cells.get(2)) else {
            continue;
        };
        let Some(module) = module.strip_prefix('`').and_then(|m| m.strip_suffix('`')) else {
            continue; // the header and separator rows
        };
        let uses: BTreeSet<String> = if uses.contains("every module") {
            all.iter().filter(|m| *m != module).cloned().collect()
        } else {
            uses.split('`').skip(1).step_by(2).map(str::to_string).collect()
        };
        table.insert(module.to_string(), uses);
    }
    table
}

fn report(what: &str, violations: Vec<String>) {
    assert!(
        violations.is_empty(),
        "{what}: {}\n\n{}\n",
        violations.len(),
        violations.join("\n")
    );
}
