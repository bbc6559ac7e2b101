//! Repository rules: the ECR repository name pattern.

use crate::diag::{Diagnostic, Diagnostics};

use super::super::pipeline::Parsed;
use super::super::text::is_ecr_repository_name;

pub(super) fn check(parsed: &Parsed, diagnostics: &mut Diagnostics) {
    for repository in &parsed.repositories {
        let Some(name) = &repository.value.name else {
            continue;
        };
        if !is_ecr_repository_name(name.get()) {
            diagnostics.push(
                Diagnostic::error("repository.name", format!("`{}` is not a valid ECR repository name", name.get()))
                    .at(parsed.span(name))
                    .with_help(
                        "ECR names are 2 to 256 characters: lower-case letters and digits, separated by `.`, `_`, `__` or `-`, with `/` between path components",
                    ),
            );
        }
    }
}
