//! Every diagnostic code the planning stages can emit is documented in
//! docs/plan-format.md, and every code documented there is emitted.

use std::collections::BTreeSet;
use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") && path.file_name().is_some_and(|n| n != "tests.rs") {
            out.push(path);
        }
    }
}

/// Codes in `Diagnostic::error("code"` / `Diagnostic::warning("code"`, possibly on the next line.
fn emitted() -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for module in ["diff", "observe", "graph", "plan"] {
        rust_files(&root.join("src").join(module), &mut files);
    }
    let mut codes = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source");
        for (index, _) in text.match_indices("Diagnostic::") {
            let rest = &text[index..];
            let Some(open) = rest.find('(') else { continue };
            let head = &rest["Diagnostic::".len()..open];
            if head != "error" && head != "warning" {
                continue;
            }
            let after = rest[open + 1..].trim_start();
            if let Some(quoted) = after.strip_prefix('"') {
                let code = &quoted[..quoted.find('"').expect("closing quote")];
                codes.insert(code.to_string());
            }
        }
    }
    codes
}

pub(crate) fn documented() -> BTreeSet<String> {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/plan-format.md")).expect("doc");
    let section = doc
        .split("## Plan-time diagnostic codes")
        .nth(1)
        .expect("docs/plan-format.md has a plan-time codes section");
    section
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn every_plan_time_code_is_documented_and_every_documented_code_exists() {
    let emitted = emitted();
    let documented = documented();
    assert!(emitted.len() >= 10, "the scan found too few codes: {emitted:?}");
    let missing: Vec<_> = emitted.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&emitted).collect();
    assert!(
        missing.is_empty(),
        "emitted but not documented in docs/plan-format.md: {missing:?}"
    );
    assert!(stale.is_empty(), "documented but never emitted: {stale:?}");
}
