//! Things tests create in an emulated account before emrstack runs (with
//! the plain SDK, or plain EC2 Query requests): a VPC with subnets and a security group, an ECR repository
//! with pushed images.

#![allow(dead_code)]

use serde_json::json;

use super::cloud::{REGION, sdk_config};
use super::emulator::{Emulator, exchange};

/// Subnets and a security group of one VPC.
#[derive(Debug, Clone)]
pub struct Network {
    pub vpc: String,
    pub subnets: Vec<String>,
    pub security_group: String,
}

/// The availability zones tests put subnets in. In us-east-1, EMR Serverless
/// does not run in `use1-az3`; these names map to supported zone IDs in the
/// emulator.
pub const ZONES: [&str; 2] = ["us-east-1a", "us-east-1b"];

/// Runs one EC2 Query action on the emulator for `account` and returns the
/// XML answer. A plain form POST (botocore model, protocol `ec2`): the
/// emulator reads the account and the service from the credential scope of
/// the `Authorization` header and does not check the signature, so the
/// header is well formed but not signed. emrstack itself no longer links an
/// EC2 SDK client (src/aws/ec2_query.rs).
pub fn ec2_action(emulator: &Emulator, account: &str, action: &str, params: &[(&str, &str)]) -> String {
    let encode =
        |text: &str| percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string();
    let mut body = format!("Action={action}&Version=2016-11-15");
    for (name, value) in params {
        body.push_str(&format!("&{}={}", encode(name), encode(value)));
    }
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={account}/20260101/{REGION}/ec2/aws4_request, SignedHeaders=host, Signature=0"
    );
    let (status, answer) = exchange(
        emulator.port(),
        "POST",
        "/",
        Some(&body),
        "application/x-www-form-urlencoded",
        &[("Authorization", &authorization)],
    )
    .unwrap_or_else(|err| panic!("{action}: {err}"));
    assert_eq!(status, 200, "{action}: {answer}");
    answer
}

/// The text of the first `<tag>` in `xml`.
pub fn xml_field(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml.find(&open).unwrap_or_else(|| panic!("no <{tag}> in {xml}")) + open.len();
    let end = xml[start..].find('<').map_or(xml.len(), |end| start + end);
    xml[start..end].to_string()
}

/// Creates a VPC with `cidr`; returns its ID.
pub fn create_vpc(emulator: &Emulator, account: &str, cidr: &str) -> String {
    let answer = ec2_action(emulator, account, "CreateVpc", &[("CidrBlock", cidr)]);
    xml_field(&answer, "vpcId")
}

/// Creates a subnet; returns its ID.
pub fn create_subnet(emulator: &Emulator, account: &str, vpc: &str, cidr: &str, zone: &str) -> String {
    let answer = ec2_action(
        emulator,
        account,
        "CreateSubnet",
        &[("VpcId", vpc), ("CidrBlock", cidr), ("AvailabilityZone", zone)],
    );
    xml_field(&answer, "subnetId")
}

/// Creates a security group; returns its ID.
pub fn create_security_group(emulator: &Emulator, account: &str, vpc: &str, name: &str, description: &str) -> String {
    let answer = ec2_action(
        emulator,
        account,
        "CreateSecurityGroup",
        &[("GroupName", name), ("GroupDescription", description), ("VpcId", vpc)],
    );
    xml_field(&answer, "groupId")
}

/// A VPC with one /24 subnet in each of [`ZONES`] and a security group.
pub async fn network(emulator: &Emulator, account: &str) -> Network {
    let vpc = create_vpc(emulator, account, "10.40.0.0/16");
    let subnets = ZONES
        .iter()
        .enumerate()
        .map(|(index, zone)| create_subnet(emulator, account, &vpc, &format!("10.40.{}.0/24", index + 1), zone))
        .collect();
    let security_group = create_security_group(emulator, account, &vpc, "emr-serverless", "EMR Serverless workers");
    Network {
        vpc,
        subnets,
        security_group,
    }
}

/// A minimal image manifest whose layer digest is made of `layer`, so
/// different layers give different image digests.
pub fn manifest(layer: char) -> String {
    let digest = |c: char| format!("sha256:{}", c.to_string().repeat(64));
    json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023, "digest": digest('c')},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 32654, "digest": digest(layer)}],
    })
    .to_string()
}

/// Creates an ECR repository.
pub async fn repository(emulator: &Emulator, account: &str, name: &str) {
    let ecr = aws_sdk_ecr::Client::new(&sdk_config(emulator, account).await);
    ecr.create_repository()
        .repository_name(name)
        .send()
        .await
        .expect("create_repository");
}

/// Pushes an image with `tag` (layer `layer`) and returns its digest.
pub async fn push_image(emulator: &Emulator, account: &str, repository: &str, tag: &str, layer: char) -> String {
    let ecr = aws_sdk_ecr::Client::new(&sdk_config(emulator, account).await);
    ecr.put_image()
        .repository_name(repository)
        .image_manifest(manifest(layer))
        .image_tag(tag)
        .send()
        .await
        .expect("put_image")
        .image
        .and_then(|image| image.image_id)
        .and_then(|id| id.image_digest)
        .expect("digest")
}
