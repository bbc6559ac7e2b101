//! S3 locations: `s3://bucket/prefix` as the stack file writes it (the stack
//! lock's `[stack] lock`), and one object in a bucket.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest object key S3 accepts, in bytes of UTF-8 (S3 user guide,
/// "Naming Amazon S3 objects": "The name for a key is a sequence of Unicode
/// characters with UTF-8 encoding of up to 1,024 bytes long").
pub const MAX_KEY_BYTES: usize = 1024;

/// The longest bucket name any S3 bucket can have: 63 since March 2018, 255
/// for the legacy buckets of us-east-1 created before.
pub const MAX_LEGACY_BUCKET_LENGTH: usize = 255;

/// A bucket and a key prefix: `s3://bucket` or `s3://bucket/some/prefix`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct S3Location {
    /// The bucket name.
    pub bucket: String,
    /// The key prefix without leading or trailing `/`; empty for the bucket's root.
    pub prefix: String,
}

/// Why a string is not an `s3://` location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum S3LocationError {
    /// It does not start with `s3://`.
    NotS3,
    /// `s3://` with nothing, or only a `/`, after it.
    NoBucket,
    /// The bucket name has a character no bucket name can have (legacy
    /// names included: letters, digits, `.`, `-`, `_`).
    BucketCharacter(char),
    /// The bucket name is longer than any bucket name can be.
    BucketTooLong(usize),
}

impl fmt::Display for S3LocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            S3LocationError::NotS3 => f.write_str("it does not start with `s3://`"),
            S3LocationError::NoBucket => f.write_str("it names no bucket"),
            S3LocationError::BucketCharacter(c) => write!(f, "a bucket name cannot contain `{}`", c.escape_default()),
            S3LocationError::BucketTooLong(length) => write!(
                f,
                "the bucket name has {length} characters; no bucket name is longer than {MAX_LEGACY_BUCKET_LENGTH}"
            ),
        }
    }
}

impl S3Location {
    /// Reads `s3://bucket[/prefix][/]`. The prefix keeps its inner `/`s;
    /// trailing ones are dropped, so `s3://b/locks/` and `s3://b/locks` are
    /// the same location.
    pub fn parse(text: &str) -> Result<S3Location, S3LocationError> {
        let rest = text.strip_prefix("s3://").ok_or(S3LocationError::NotS3)?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(S3LocationError::NoBucket);
        }
        if let Some(c) = bucket
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
        {
            return Err(S3LocationError::BucketCharacter(c));
        }
        if bucket.len() > MAX_LEGACY_BUCKET_LENGTH {
            return Err(S3LocationError::BucketTooLong(bucket.len()));
        }
        Ok(S3Location {
            bucket: bucket.to_string(),
            prefix: prefix.trim_end_matches('/').to_string(),
        })
    }

    /// The object `name` under the prefix: `<prefix>/<name>`, or `<name>`
    /// at the bucket's root.
    pub fn object(&self, name: &str) -> S3Object {
        let key = if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.prefix)
        };
        S3Object {
            bucket: self.bucket.clone(),
            key,
        }
    }
}

impl fmt::Display for S3Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix.is_empty() {
            write!(f, "s3://{}", self.bucket)
        } else {
            write!(f, "s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

/// One object: a bucket and a key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct S3Object {
    /// The bucket name.
    pub bucket: String,
    /// The object key, without a leading `/`.
    pub key: String,
}

impl S3Object {
    /// The object's ARN, as IAM policies name it: `arn:aws:s3:::bucket/key`
    /// (other partitions write `aws-cn` or `aws-us-gov` instead of `aws`).
    pub fn arn(&self) -> String {
        format!("arn:aws:s3:::{}/{}", self.bucket, self.key)
    }
}

impl fmt::Display for S3Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// How a bucket name breaks the rules for buckets created today (S3 user
/// guide, "General purpose bucket naming rules"), or `None`. Buckets created
/// in us-east-1 before March 2018 may have upper-case letters, `_` and up to
/// 255 characters, so callers warn rather than refuse.
pub fn bucket_name_problem(name: &str) -> Option<String> {
    let length = name.len();
    if !(3..=63).contains(&length) {
        return Some(format!("it has {length} characters, not 3 to 63"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-')))
    {
        return Some(format!(
            "`{}` is not a lower-case letter, a digit, `.` or `-`",
            c.escape_default()
        ));
    }
    let alphanumeric = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !alphanumeric(name.chars().next()) || !alphanumeric(name.chars().last()) {
        return Some("it does not begin and end with a letter or digit".to_string());
    }
    if name.contains("..") {
        return Some("it has two adjacent periods".to_string());
    }
    if name.split('.').count() == 4 && name.split('.').all(|part| part.parse::<u8>().is_ok()) {
        return Some("it is formatted as an IP address".to_string());
    }
    const PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
    const SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];
    if let Some(prefix) = PREFIXES.iter().find(|prefix| name.starts_with(*prefix)) {
        return Some(format!("the prefix `{prefix}` is reserved"));
    }
    if let Some(suffix) = SUFFIXES.iter().find(|suffix| name.ends_with(*suffix)) {
        return Some(format!("the suffix `{suffix}` is reserved"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expect: Result<(&str, &str), S3LocationError>) {
        let parsed = S3Location::parse(text).map(|l| (l.bucket, l.prefix));
        let expect = expect.map(|(b, p)| (b.to_string(), p.to_string()));
        assert_eq!(parsed, expect, "{text}");
    }

    #[test]
    fn parses_bucket_and_prefix() {
        check("s3://b-1", Ok(("b-1", "")));
        check("s3://b-1/", Ok(("b-1", "")));
        check("s3://b-1/locks", Ok(("b-1", "locks")));
        check("s3://b-1/locks/", Ok(("b-1", "locks")));
        check("s3://b-1/ci/locks//", Ok(("b-1", "ci/locks")));
        check("s3://Legacy_Bucket/x", Ok(("Legacy_Bucket", "x")));
        check("https://b/x", Err(S3LocationError::NotS3));
        check("S3://b/x", Err(S3LocationError::NotS3));
        check("s3://", Err(S3LocationError::NoBucket));
        check("s3:///x", Err(S3LocationError::NoBucket));
        check("s3://b c/x", Err(S3LocationError::BucketCharacter(' ')));
        check("s3://b:1/x", Err(S3LocationError::BucketCharacter(':')));
        let long = format!("s3://{}", "a".repeat(256));
        check(&long, Err(S3LocationError::BucketTooLong(256)));
    }

    #[test]
    fn objects_go_under_the_prefix() {
        let root = S3Location::parse("s3://b").unwrap();
        assert_eq!(root.object("shop.lock").key, "shop.lock");
        let nested = S3Location::parse("s3://b/ci/locks/").unwrap();
        let object = nested.object("shop.lock");
        assert_eq!(object.key, "ci/locks/shop.lock");
        assert_eq!(object.to_string(), "s3://b/ci/locks/shop.lock");
        assert_eq!(object.arn(), "arn:aws:s3:::b/ci/locks/shop.lock");
        assert_eq!(nested.to_string(), "s3://b/ci/locks");
    }

    #[test]
    fn bucket_names_against_todays_rules() {
        for good in ["abc", "my-bucket.eu", "a1b", "123"] {
            assert_eq!(bucket_name_problem(good), None, "{good}");
        }
        for bad in [
            "ab",
            "My-Bucket",
            "under_score",
            "-start",
            "end-",
            "a..b",
            "192.168.5.4",
            "xn--abc",
            "sthree-x",
            "amzn-s3-demo-bucket",
            "x-s3alias",
            "x--ol-s3",
            "x.mrap",
            "x--x-s3",
            "x--table-s3",
        ] {
            assert!(bucket_name_problem(bad).is_some(), "{bad}");
        }
        assert!(bucket_name_problem(&"a".repeat(64)).is_some());
    }
}
