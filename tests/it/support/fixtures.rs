//! Things tests create in an emulated account with the plain SDK before
//! emrstack runs: a VPC with subnets and a security group, an ECR repository
//! with pushed images.

#![allow(dead_code)]

use serde_json::json;

use super::cloud::sdk_config;
use super::emulator::Emulator;

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

/// A VPC with one /24 subnet in each of [`ZONES`] and a security group.
pub async fn network(emulator: &Emulator, account: &str) -> Network {
    let ec2 = aws_sdk_ec2::Client::new(&sdk_config(emulator, account).await);
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.40.0.0/16")
        .send()
        .await
        .expect("create_vpc")
        .vpc
        .and_then(|vpc| vpc.vpc_id)
        .expect("vpc id");
    let mut subnets = Vec::new();
    for (index, zone) in ZONES.iter().enumerate() {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.40.{}.0/24", index + 1))
            .availability_zone(*zone)
            .send()
            .await
            .expect("create_subnet")
            .subnet
            .and_then(|subnet| subnet.subnet_id)
            .expect("subnet id");
        subnets.push(subnet);
    }
    let security_group = ec2
        .create_security_group()
        .group_name("emr-serverless")
        .description("EMR Serverless workers")
        .vpc_id(&vpc)
        .send()
        .await
        .expect("create_security_group")
        .group_id
        .expect("group id");
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
