//! `AwsCloud`: the `Cloud` trait implemented with the AWS SDK for Rust. The only module that names `aws_sdk_*` types.
