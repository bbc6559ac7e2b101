//! Small text helpers for the rules: the API model's patterns written as
//! plain Rust (the crate has no regex engine), capacity strings, "did you
//! mean" suggestions and list formatting.
//!
//! The API model's patterns are unanchored regular expressions, but the
//! services match them against the whole value, so every check here matches
//! the whole string.

use super::raw::Size;

/// How many candidates [`did_you_mean`] compares. Suggestions are for
/// typos among a handful of names; a stack of 10,000 applications with an
/// undeclared reference in each would otherwise make validation quadratic.
const MAX_CANDIDATES: usize = 256;

/// How long an input [`did_you_mean`] compares, in bytes: a similarity
/// score costs the product of the lengths.
const MAX_INPUT_BYTES: usize = 256;

/// The closest candidate to `input`, if one is close enough to suggest,
/// among the first [`MAX_CANDIDATES`] candidates. A case-insensitive exact
/// match always wins.
pub fn did_you_mean<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    if input.len() > MAX_INPUT_BYTES {
        return None;
    }
    let lower = input.to_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates.into_iter().take(MAX_CANDIDATES) {
        if candidate.to_lowercase() == lower {
            return Some(candidate);
        }
        let score = strsim::jaro_winkler(&lower, &candidate.to_lowercase());
        if score >= 0.8 && best.is_none_or(|(top, _)| score > top) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// `` `a`, `b` or `c` ``.
pub fn one_of<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| format!("`{}`", item.as_ref())).collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        n => format!("{} or {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

/// `1 error`, `2 errors`.
pub fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("{count} {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

fn length_between(text: &str, min: usize, max: usize) -> bool {
    let length = text.chars().count();
    (min..=max).contains(&length)
}

fn all_chars(text: &str, allowed: impl Fn(char) -> bool) -> bool {
    text.chars().all(allowed)
}

/// `\w` as Java reads it: ASCII letters, digits and `_`.
fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// A key of a resource table (`etl` in `[applications.etl]`): 1 to 64 of `A-Z a-z 0-9 _ -`.
pub fn is_resource_key(text: &str) -> bool {
    length_between(text, 1, 64) && all_chars(text, |c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A variable name: a letter or `_`, then letters, digits and `_` (so it can
/// be an environment variable suffix).
pub fn is_variable_name(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_') && chars.all(is_word)
}

/// `[stack] name`: 1 to 64 of `A-Z a-z 0-9 _ -`.
pub fn is_stack_name(text: &str) -> bool {
    is_resource_key(text)
}

/// An AWS region name such as `us-east-1`, `us-gov-west-1` or `ap-southeast-3`.
pub fn is_region(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// A 12-digit AWS account ID.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// EMR Serverless `ApplicationName`: 1 to 64 of `[A-Za-z0-9._/#-]`.
pub fn is_application_name(text: &str) -> bool {
    length_between(text, 1, 64) && all_chars(text, |c| c.is_ascii_alphanumeric() || "._/#-".contains(c))
}

/// IAM `roleNameType` (1 to 64) and `policyNameType` (1 to 128): `[\w+=,.@-]+`.
pub fn is_iam_name(text: &str, max: usize) -> bool {
    length_between(text, 1, max) && all_chars(text, |c| is_word(c) || "+=,.@-".contains(c))
}

/// IAM `pathType`: `/` or `/` + printable ASCII + `/`, at most 512 characters.
pub fn is_iam_path(text: &str) -> bool {
    if text == "/" {
        return true;
    }
    length_between(text, 2, 512)
        && text.starts_with('/')
        && text.ends_with('/')
        && all_chars(text, |c| ('\u{21}'..='\u{7e}').contains(&c))
}

/// IAM `roleDescriptionType`: tab, newline, carriage return, printable ASCII and Latin-1.
pub fn is_iam_description_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a1}'..='\u{ff}')
}

/// A managed policy ARN: `arn:aws[a-z-]*:iam::(aws|<account>):policy/<path/name>`.
pub fn is_managed_policy_arn(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("arn:aws") else {
        return false;
    };
    let Some((partition_rest, rest)) = rest.split_once(":iam::") else {
        return false;
    };
    if !all_chars(partition_rest, |c| c.is_ascii_lowercase() || c == '-') {
        return false;
    }
    let Some((account, rest)) = rest.split_once(":policy/") else {
        return false;
    };
    (account == "aws" || is_account_id(account))
        && !rest.is_empty()
        && !rest.starts_with('/')
        && !rest.ends_with('/')
        && all_chars(rest, |c| is_word(c) || "+=,.@-/".contains(c))
        && length_between(text, 20, 2048)
}

/// A KMS key ARN as `EncryptionKeyArn` allows:
/// `arn:(aws[a-zA-Z0-9-]*):kms:[a-zA-Z0-9-]*:<account>:key/[a-zA-Z0-9-]+`, 20 to 2048 characters.
pub fn is_kms_key_arn(text: &str) -> bool {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "kms" {
        return false;
    }
    let partition_ok = parts[1].starts_with("aws") && all_chars(parts[1], |c| c.is_ascii_alphanumeric() || c == '-');
    let region_ok = all_chars(parts[3], |c| c.is_ascii_alphanumeric() || c == '-');
    let key_ok = parts[5]
        .strip_prefix("key/")
        .is_some_and(|id| !id.is_empty() && all_chars(id, |c| c.is_ascii_alphanumeric() || c == '-'));
    partition_ok && region_ok && is_account_id(parts[4]) && key_ok && length_between(text, 20, 2048)
}

/// `IdentityCenterInstanceArn`: `arn:(aws[a-zA-Z0-9-]*):sso:::instance/(sso)?ins-<16 of [a-zA-Z0-9-.]>`.
pub fn is_identity_center_arn(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("arn:aws") else {
        return false;
    };
    let Some((partition_rest, instance)) = rest.split_once(":sso:::instance/") else {
        return false;
    };
    let id = instance.strip_prefix("sso").unwrap_or(instance);
    all_chars(partition_rest, |c| c.is_ascii_alphanumeric() || c == '-')
        && id.strip_prefix("ins-").is_some_and(|tail| {
            tail.chars().count() == 16 && all_chars(tail, |c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        })
}

/// `PrometheusUrlString`:
/// `https://aps-workspaces.<region>.amazonaws(.xx)+/workspaces/<id>/api/v1/remote_write`.
pub fn is_prometheus_url(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("https://aps-workspaces.") else {
        return false;
    };
    let Some((host, path)) = rest.split_once('/') else {
        return false;
    };
    let Some((region, domain)) = host.split_once(".amazonaws") else {
        return false;
    };
    let region_ok = {
        let parts: Vec<&str> = region.split('-').collect();
        parts.len() >= 3
            && parts[0].len() == 2
            && parts[0].bytes().all(|b| b.is_ascii_lowercase())
            && parts[parts.len() - 1].len() == 1
            && parts[parts.len() - 1].bytes().all(|b| (b'1'..=b'9').contains(&b))
            && {
                let middle = parts[1..parts.len() - 1].join("-");
                length_between(&middle, 1, 20) && all_chars(&middle, |c| c.is_ascii_lowercase() || c == '-')
            }
    };
    let domain_ok = domain.starts_with('.')
        && domain[1..]
            .split('.')
            .all(|label| length_between(label, 2, 4) && all_chars(label, |c| c.is_ascii_alphanumeric()));
    let path_ok = path
        .strip_prefix("workspaces/")
        .and_then(|tail| tail.strip_suffix("/api/v1/remote_write"))
        .is_some_and(|id| {
            length_between(id, 1, 100) && all_chars(id, |c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        });
    region_ok && domain_ok && path_ok
}

/// `LogGroupName`: 1 to 512 of `[.\-_/#A-Za-z0-9]`.
pub fn is_log_group_name(text: &str) -> bool {
    length_between(text, 1, 512) && all_chars(text, |c| c.is_ascii_alphanumeric() || "._-/#".contains(c))
}

/// `LogStreamNamePrefix`: 1 to 512 characters, none of them `:` or `*`.
pub fn is_log_stream_prefix(text: &str) -> bool {
    length_between(text, 1, 512) && !text.contains([':', '*'])
}

/// An S3 URI `s3://<bucket>[/<key prefix>]` with a valid bucket name.
pub fn is_s3_uri(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("s3://") else {
        return false;
    };
    let bucket = rest.split('/').next().unwrap_or("");
    length_between(bucket, 3, 63)
        && all_chars(bucket, |c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-'
        })
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn is_prefixed_hex_id(text: &str, prefix: &str) -> bool {
    text.strip_prefix(prefix).is_some_and(|hex| {
        (8..=17).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// A subnet ID: `subnet-` and 8 to 17 lower-case hex digits.
pub fn is_subnet_id(text: &str) -> bool {
    is_prefixed_hex_id(text, "subnet-")
}

/// A security group ID: `sg-` and 8 to 17 lower-case hex digits.
pub fn is_security_group_id(text: &str) -> bool {
    is_prefixed_hex_id(text, "sg-")
}

/// An ECR `RepositoryName`: `/`-separated components of lower-case letters and
/// digits joined by `.`, `_`, `__` or runs of `-`; 2 to 256 characters.
pub fn is_ecr_repository_name(text: &str) -> bool {
    length_between(text, 2, 256) && text.split('/').all(is_ecr_component)
}

fn is_ecr_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    loop {
        // An alphanumeric run is required at the start and after every separator.
        let start = i;
        while i < bytes.len() && alnum(bytes[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == bytes.len() {
            return true;
        }
        match bytes[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < bytes.len() && bytes[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < bytes.len() && bytes[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
}

/// An image tag as the `ImageUri` pattern allows: `[a-zA-Z0-9_][a-zA-Z0-9-._]*`, at most 300 characters.
pub fn is_image_tag(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
        && text.len() <= 300
}

/// The parts of an ECR image URI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageUri {
    /// The registry's account ID.
    pub account: String,
    /// The registry's region.
    pub region: String,
    /// The repository name.
    pub repository: String,
    /// `:tag` or `@sha256:...`, without the separator.
    pub reference: String,
}

/// Parses `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>(:<tag>|@sha256:<64 hex>)`.
/// The error says what is wrong, for the diagnostic's help line.
pub fn parse_image_uri(text: &str) -> Result<ImageUri, String> {
    let (host, path) = text
        .split_once('/')
        .ok_or_else(|| "an image URI has a registry host, `/` and a repository".to_string())?;
    let mut host_parts = host.splitn(4, '.');
    let account = host_parts.next().unwrap_or("");
    if !is_account_id(account) {
        return Err(format!(
            "the registry host must start with a 12-digit account ID, found `{account}`"
        ));
    }
    if host_parts.next() != Some("dkr") || host_parts.next() != Some("ecr") {
        return Err("the registry host must be `<account>.dkr.ecr.<region>.amazonaws.com`".to_string());
    }
    let tail = host_parts.next().unwrap_or("");
    let (region, domain) = tail
        .split_once('.')
        .ok_or_else(|| "the registry host must be `<account>.dkr.ecr.<region>.amazonaws.com`".to_string())?;
    if !is_region(region) {
        return Err(format!("`{region}` is not a region name"));
    }
    if domain != "amazonaws.com" && domain != "amazonaws.com.cn" {
        return Err(format!("the registry domain must be `amazonaws.com`, found `{domain}`"));
    }
    let (repository, reference) = if let Some((repository, digest)) = path.split_once('@') {
        let hex = digest
            .strip_prefix("sha256:")
            .ok_or_else(|| "a digest must start with `sha256:`".to_string())?;
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err("a digest is `sha256:` and 64 lower-case hex digits".to_string());
        }
        (repository, digest)
    } else if let Some((repository, tag)) = path.rsplit_once(':') {
        if !is_image_tag(tag) {
            return Err(format!("`{tag}` is not a valid image tag"));
        }
        (repository, tag)
    } else {
        return Err("EMR Serverless needs a tag (`:latest`) or a digest (`@sha256:...`) in the URI".to_string());
    };
    if !is_ecr_repository_name(repository) {
        return Err(format!("`{repository}` is not a valid ECR repository name"));
    }
    Ok(ImageUri {
        account: account.to_string(),
        region: region.to_string(),
        repository: repository.to_string(),
        reference: reference.to_string(),
    })
}

/// The characters the EMR Serverless tag API allows: `[A-Za-z0-9 /_.:=+@-]`.
pub fn is_emr_tag_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || " /_.:=+@-".contains(c)
}

/// The characters the IAM tag API allows: `[\p{L}\p{Z}\p{N}_.:/=+\-@]`.
pub fn is_iam_tag_char(c: char) -> bool {
    c.is_alphabetic() || c.is_numeric() || (c.is_whitespace() && !c.is_control()) || "_.:/=+-@".contains(c)
}

/// What a capacity value must look like, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// `vCPU`.
    Vcpu,
    /// `GB`.
    Gb,
}

impl Unit {
    /// The unit as written in examples.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Vcpu => "vCPU",
            Unit::Gb => "GB",
        }
    }

    fn accepts(self, suffix: &str) -> bool {
        match self {
            Unit::Vcpu => matches!(suffix, "vCPU" | "vcpu" | "VCPU"),
            Unit::Gb => matches!(suffix, "GB" | "gb" | "gB" | "Gb"),
        }
    }
}

/// Reads a capacity: a positive integer, or the API's string form
/// `[1-9][0-9]*(\s)?(<unit>)?` of at most 15 characters. Returns the number,
/// or a help text saying how to write it.
pub fn parse_size(size: &Size, unit: Unit) -> Result<u64, String> {
    let example = format!("write it as an integer or as `\"4 {}\"`", unit.as_str());
    match size {
        Size::Number(n) if *n >= 1 => Ok(*n as u64),
        Size::Number(_) => Err(format!("the value must be at least 1; {example}")),
        Size::Text(text) => {
            let digits_end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
            let digits = &text[..digits_end];
            let mut rest = &text[digits_end..];
            if let Some(stripped) = rest.strip_prefix(char::is_whitespace) {
                rest = stripped;
            }
            let number_ok = !digits.is_empty() && !digits.starts_with('0');
            let unit_ok = rest.is_empty() || unit.accepts(rest);
            if text.len() > 15 || !number_ok || !unit_ok {
                if let Some(hint) = unit_hint(text, unit) {
                    return Err(hint);
                }
                return Err(example);
            }
            digits.parse::<u64>().map_err(|_| example)
        }
    }
}

fn unit_hint(text: &str, unit: Unit) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let number: String = lower.chars().take_while(|c| c.is_ascii_digit()).collect();
    let suffix = lower[number.len()..].trim();
    if number.is_empty() {
        return None;
    }
    match (unit, suffix) {
        (Unit::Gb, "g" | "gib" | "gi") => Some(format!("write `\"{number} GB\"`")),
        (Unit::Gb, "tb" | "t" | "tib") => number
            .parse::<u64>()
            .ok()
            .map(|n| format!("capacities are in GB; write `\"{} GB\"`", n * 1000)),
        (Unit::Gb, "mb" | "m" | "mib") => Some("capacities are in whole GB".to_string()),
        (Unit::Vcpu, "cpu" | "cpus" | "vcpus" | "v") => Some(format!("write `\"{number} vCPU\"`")),
        _ => None,
    }
}

/// A Spark memory string (`27g`, `512m`, `1t`; no suffix means MiB) in MiB.
pub fn parse_spark_memory_mib(text: &str) -> Option<f64> {
    let lower = text.trim().to_ascii_lowercase();
    let digits_end = lower.find(|c: char| !c.is_ascii_digit()).unwrap_or(lower.len());
    let number: f64 = lower[..digits_end].parse().ok()?;
    let factor = match lower[digits_end..].trim() {
        "" | "m" | "mb" => 1.0,
        "k" | "kb" => 1.0 / 1024.0,
        "g" | "gb" => 1024.0,
        "t" | "tb" => 1024.0 * 1024.0,
        "b" => 1.0 / (1024.0 * 1024.0),
        _ => return None,
    };
    Some(number * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(f: fn(&str) -> bool, cases: &[(&str, bool)]) {
        for (input, expect) in cases {
            assert_eq!(f(input), *expect, "{input}");
        }
    }

    #[test]
    fn regions() {
        check(
            is_region,
            &[
                ("us-east-1", true),
                ("us-gov-west-1", true),
                ("ap-southeast-3", true),
                ("useast1", false),
                ("us-east", false),
                ("US-EAST-1", false),
            ],
        );
    }

    #[test]
    fn ecr_names() {
        check(
            is_ecr_repository_name,
            &[
                ("analytics/spark", true),
                ("a__b", true),
                ("a--b", true),
                ("a._b", false),
                ("a___b", false),
                ("Spark", false),
                ("a", false),
                ("a/", false),
                ("/a", false),
            ],
        );
    }

    #[test]
    fn ids() {
        check(
            is_subnet_id,
            &[
                ("subnet-0123456789abcdef0", true),
                ("subnet-0123abcd", true),
                ("subnet-0123", false),
                ("subnet-0123456789ABCDEF0", false),
            ],
        );
        check(
            is_security_group_id,
            &[("sg-0123456789abcdef0", true), ("sg-xyz", false)],
        );
    }

    #[test]
    fn arns() {
        check(
            is_kms_key_arn,
            &[
                (
                    "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                    true,
                ),
                ("arn:aws:kms:us-east-1:123456789012:alias/x", false),
            ],
        );
        check(
            is_managed_policy_arn,
            &[
                ("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", true),
                ("arn:aws:iam::123456789012:policy/team/boundary", true),
                ("arn:aws:iam::12:policy/x", false),
                ("arn:aws:s3:::bucket", false),
            ],
        );
        check(
            is_identity_center_arn,
            &[
                ("arn:aws:sso:::instance/ssoins-1234567890abcdef", true),
                ("arn:aws:sso:::instance/ins-1234567890abcdef", true),
                ("arn:aws:sso:::instance/ssoins-123", false),
            ],
        );
    }

    #[test]
    fn prometheus_urls() {
        check(
            is_prometheus_url,
            &[
                (
                    "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write",
                    true,
                ),
                (
                    "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/query",
                    false,
                ),
                (
                    "http://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write",
                    false,
                ),
            ],
        );
    }

    #[test]
    fn image_uris() {
        let ok = parse_image_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/analytics/spark:v1").unwrap();
        assert_eq!(
            (ok.region.as_str(), ok.repository.as_str(), ok.reference.as_str()),
            ("us-east-1", "analytics/spark", "v1")
        );
        let digest = format!(
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/spark@sha256:{}",
            "a".repeat(64)
        );
        assert!(parse_image_uri(&digest).is_ok());
        assert!(parse_image_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/spark").is_err());
        assert!(parse_image_uri("docker.io/library/spark:3").is_err());
        assert!(parse_image_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/spark@sha256:abc").is_err());
    }

    #[test]
    fn sizes() {
        let check =
            |size: Size, unit, expect: Option<u64>| assert_eq!(parse_size(&size, unit).ok(), expect, "{size:?}");
        check(Size::Number(4), Unit::Vcpu, Some(4));
        check(Size::Number(0), Unit::Vcpu, None);
        check(Size::Text("4 vCPU".into()), Unit::Vcpu, Some(4));
        check(Size::Text("4vCPU".into()), Unit::Vcpu, Some(4));
        check(Size::Text("4 vcpu".into()), Unit::Vcpu, Some(4));
        check(Size::Text("4".into()), Unit::Vcpu, Some(4));
        check(Size::Text("4 GB".into()), Unit::Vcpu, None);
        check(Size::Text("16 GB".into()), Unit::Gb, Some(16));
        check(Size::Text("16gb".into()), Unit::Gb, Some(16));
        check(Size::Text("16G".into()), Unit::Gb, None);
        check(Size::Text("016 GB".into()), Unit::Gb, None);
        check(Size::Text("16  GB".into()), Unit::Gb, None);
        assert_eq!(
            parse_size(&Size::Text("2TB".into()), Unit::Gb),
            Err("capacities are in GB; write `\"2000 GB\"`".into())
        );
    }

    #[test]
    fn spark_memory() {
        assert_eq!(parse_spark_memory_mib("27g"), Some(27.0 * 1024.0));
        assert_eq!(parse_spark_memory_mib("512m"), Some(512.0));
        assert_eq!(parse_spark_memory_mib("2048"), Some(2048.0));
        assert_eq!(parse_spark_memory_mib("lots"), None);
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("relase_label", ["release_label", "name"]),
            Some("release_label")
        );
        assert_eq!(did_you_mean("spark", ["SPARK", "HIVE"]), Some("SPARK"));
        assert_eq!(did_you_mean("zzz", ["release_label", "name"]), None);
        assert_eq!(one_of(&["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
