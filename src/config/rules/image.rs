//! Image rules: one source of image per application (`image.conflict`),
//! the image URI form and its region (`image.uri`, `image.region`), tags, release gates, repository
//! references, and repositories that do not grant the application pull
//! access.

use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::model::{Feature, ResourceKind};

use super::super::pipeline::{Effective, Parsed};
use super::super::raw::{RawImage, Sp};
use super::super::text::{is_image_tag, parse_image_uri};
use super::gate;
use super::references::undeclared;

pub(super) fn check(parsed: &Parsed, app: &Effective<'_>, diagnostics: &mut Diagnostics) {
    let raw = &app.app.value;
    if let (Some(image), Some(uri)) = (&raw.image, &raw.image_uri) {
        diagnostics.push(
            Diagnostic::error("image.conflict", "`image` and `image_uri` are both set")
                .at(parsed.span(uri))
                .with_label(parsed.span(image), "`image` is set here")
                .with_help("keep one of them"),
        );
    }
    let whole = raw
        .image
        .as_ref()
        .map(|i| parsed.span(i))
        .or_else(|| raw.image_uri.as_ref().map(|u| parsed.span(u)));
    if let Some(whole) = &whole {
        gate(parsed, app, Feature::CustomImages, whole.clone(), diagnostics);
    }
    if let Some(specifications) = &raw.worker_type_specifications
        && !specifications.get().is_empty()
    {
        if let Some(whole) = &whole {
            diagnostics.push(
                Diagnostic::error(
                    "image.conflict",
                    "`worker_type_specifications` cannot be combined with `image` or `image_uri`",
                )
                .at(parsed.span(specifications))
                .with_label(whole.clone(), "the application image is set here")
                .with_help(
                    "set the image of every worker type in `worker_type_specifications`, or use one image for all",
                ),
            );
        }
        gate(
            parsed,
            app,
            Feature::WorkerTypeImages,
            parsed.span(specifications),
            diagnostics,
        );
        for entry in specifications.get().entries(app.engine) {
            let key = entry.key.get();
            let spec = entry.value;
            match (&spec.image, &spec.image_uri) {
                (Some(image), Some(uri)) => diagnostics.push(
                    Diagnostic::error("image.conflict", format!("`{key}` sets both `image` and `image_uri`"))
                        .at(parsed.span(uri))
                        .with_label(parsed.span(image), "`image` is set here")
                        .with_help("keep one of them"),
                ),
                (None, None) => diagnostics.push(
                    Diagnostic::error(
                        "image.incomplete",
                        format!("`worker_type_specifications.{key}` has no image"),
                    )
                    .at(parsed.span(spec))
                    .with_help("set `image = { repository = \"...\", tag = \"...\" }` or `image_uri = \"...\"`"),
                ),
                _ => {}
            }
        }
    }
    if let Some(image) = &raw.image {
        check_image(parsed, app, image, diagnostics);
    }
    if let Some(uri) = &raw.image_uri {
        check_uri(parsed, uri, diagnostics);
    }
    if let Some(specifications) = &raw.worker_type_specifications {
        for entry in specifications.get().entries(app.engine) {
            let spec = entry.value;
            if let Some(image) = &spec.image {
                check_image(parsed, app, image, diagnostics);
            }
            if let Some(uri) = &spec.image_uri {
                check_uri(parsed, uri, diagnostics);
            }
        }
    }
}

fn check_image(parsed: &Parsed, app: &Effective<'_>, image: &Sp<RawImage>, diagnostics: &mut Diagnostics) {
    let raw = image.get();
    let span = parsed.span(image);
    if let Some(uri) = &raw.uri {
        for other in [&raw.repository, &raw.tag].into_iter().flatten() {
            diagnostics.push(
                Diagnostic::error("image.conflict", "`uri` cannot be combined with `repository` or `tag`")
                    .at(parsed.span(other))
                    .with_label(parsed.span(uri), "`uri` is set here")
                    .with_help("use either `uri`, or `repository` and `tag`"),
            );
        }
        if let Some(pin) = &raw.pin_digest {
            diagnostics.push(
                Diagnostic::error("image.conflict", "`pin_digest` applies only to `repository` images")
                    .at(parsed.span(pin))
                    .with_help("write the digest into `uri` (`...@sha256:...`) to pin it"),
            );
        }
        check_uri(parsed, uri, diagnostics);
        return;
    }
    match (&raw.repository, &raw.tag) {
        (Some(repository), Some(tag)) => {
            if !is_image_tag(tag.get()) {
                diagnostics.push(
                    Diagnostic::error("image.tag", format!("`{}` is not a valid image tag", tag.get()))
                        .at(parsed.span(tag))
                        .with_help("a tag starts with a letter, digit or `_` and has letters, digits, `_`, `.` and `-`; at most 300 characters"),
                );
            }
            if undeclared(parsed, ResourceKind::Repository, repository, diagnostics)
                && let Some(declared) = parsed.repository(repository.get())
            {
                let granted = parsed.grants(repository.get(), &app.app.key);
                if !granted {
                    diagnostics.push(
                        Diagnostic::warning(
                            "image.not-granted",
                            format!("repository `{}` does not grant `{}` pull access", repository.get(), app.address),
                        )
                        .at(parsed.span(repository))
                        .with_label(declared.header.clone(), "repository declared here")
                        .with_help(format!(
                            "add \"{}\" to `applications` in `[repositories.{}]`; otherwise EMR Serverless cannot pull the image when the application starts",
                            app.app.key,
                            repository.get()
                        )),
                    );
                }
            }
        }
        (Some(repository), None) => incomplete(
            span,
            "`image` names a `repository` but no `tag`",
            Some(parsed.span(repository)),
            diagnostics,
        ),
        (None, Some(tag)) => incomplete(
            span,
            "`image` has a `tag` but no `repository`",
            Some(parsed.span(tag)),
            diagnostics,
        ),
        (None, None) => incomplete(
            span,
            "`image` needs `repository` and `tag`, or `uri`",
            None,
            diagnostics,
        ),
    }
}

fn incomplete(span: Span, message: &str, at: Option<Span>, diagnostics: &mut Diagnostics) {
    diagnostics.push(
        Diagnostic::error("image.incomplete", message)
            .at(at.unwrap_or(span))
            .with_help(
                "write `image = { repository = \"<repositories key>\", tag = \"v1\" }` or `image = { uri = \"...\" }`",
            ),
    );
}

fn check_uri(parsed: &Parsed, uri: &Sp<String>, diagnostics: &mut Diagnostics) {
    match parse_image_uri(uri.get()) {
        Err(reason) => diagnostics.push(
            Diagnostic::error("image.uri", format!("`{}` is not an ECR image URI", uri.get()))
                .at(parsed.span(uri))
                .with_help(format!(
                    "{reason}; the form is `<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>` or `...@sha256:<digest>`"
                )),
        ),
        Ok(parts) => {
            if let Some(region) = &parsed.region
                && &parts.region != region
            {
                diagnostics.push(
                    Diagnostic::error(
                        "image.region",
                        format!("the image is in `{}`, but the stack deploys to `{region}`", parts.region),
                    )
                    .at(parsed.span(uri))
                    .with_help(format!(
                        "EMR Serverless pulls images only from the application's region; push the image to a repository in `{region}`"
                    )),
                );
            }
        }
    }
}
