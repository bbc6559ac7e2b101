//! What `emrstack plan` says when it cannot reach AWS: no credentials, an
//! SSO session to renew, an unknown profile, no region, an endpoint that
//! refuses connections, does not resolve or fails the TLS handshake, and a
//! clock that is off. Each is the real SDK error, produced locally: every
//! endpoint is on 127.0.0.1 (a closed port, a plain TCP listener, the
//! emulator) or under `.invalid`, which never resolves (RFC 2606); the
//! instance metadata service is disabled or pointed at a closed local port.
//!
//! The snapshots are stderr with ports and temporary paths replaced.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;

use crate::support::cloud::shared_emulator;
use crate::support::emulator::Emulator;
use serde_json::json;

const STACK: &str =
    "[stack]\nname = \"errors\"\n\n[applications.etl]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\n";

/// A scratch directory with a stack file, a home directory without AWS
/// files, and the environment variables of the run.
struct Scene {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Scene {
    /// Static credentials, a region, and fast retries; no instance metadata.
    fn new() -> Scene {
        let scene = Scene::bare();
        scene
            .with("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
            .with("AWS_SECRET_ACCESS_KEY", "secret")
            .with("AWS_REGION", "us-east-1")
    }

    /// No credentials and no region anywhere: a home directory without
    /// `.aws`, the AWS files pointed into it, no instance metadata.
    fn bare() -> Scene {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("emrstack.toml"), STACK).expect("write stack");
        std::fs::create_dir_all(dir.path().join("home")).expect("home");
        let home = dir.path().join("home").display().to_string();
        let mut scene = Scene { dir, env: Vec::new() };
        scene.env = vec![
            ("HOME".to_string(), home.clone()),
            ("AWS_CONFIG_FILE".to_string(), format!("{home}/.aws/config")),
            (
                "AWS_SHARED_CREDENTIALS_FILE".to_string(),
                format!("{home}/.aws/credentials"),
            ),
            ("AWS_EC2_METADATA_DISABLED".to_string(), "true".to_string()),
            ("EMRSTACK_AWS_MAX_ATTEMPTS".to_string(), "2".to_string()),
            ("EMRSTACK_AWS_INITIAL_BACKOFF_MS".to_string(), "10".to_string()),
            ("EMRSTACK_AWS_MAX_BACKOFF_MS".to_string(), "20".to_string()),
            ("EMRSTACK_AWS_CONNECT_TIMEOUT_MS".to_string(), "2000".to_string()),
            ("EMRSTACK_AWS_ATTEMPT_TIMEOUT_MS".to_string(), "10000".to_string()),
            ("EMRSTACK_AWS_RATE_LIMITS".to_string(), "off".to_string()),
            ("NO_COLOR".to_string(), "1".to_string()),
        ];
        scene
    }

    fn with(mut self, key: &str, value: &str) -> Scene {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    fn without(mut self, key: &str) -> Scene {
        self.env.retain(|(k, _)| k != key);
        self
    }

    fn home(&self) -> std::path::PathBuf {
        self.dir.path().join("home")
    }

    /// Writes a file under the home directory.
    fn write_home(&self, relative: &str, text: &str) {
        let path = self.home().join(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(path, text).expect("write");
    }

    /// Runs `emrstack plan` with `args`; returns the exit code and stderr
    /// with ports and the scratch directory replaced.
    fn plan(&self, args: &[&str]) -> (i32, String) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_emrstack"));
        command.arg("plan").args(args).current_dir(self.dir.path());
        for (key, _) in std::env::vars() {
            if key.starts_with("AWS_") || key.starts_with("EMRSTACK_") {
                command.env_remove(key);
            }
        }
        command.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let output = command.output().expect("run emrstack");
        assert_eq!(String::from_utf8_lossy(&output.stdout), "", "no plan on stdout");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.code().unwrap_or(-1), scrub(&stderr, self.dir.path()))
    }
}

/// Replaces what differs from run to run: ports, the scratch directory,
/// timestamps in AWS messages.
fn scrub(text: &str, dir: &Path) -> String {
    let text = text.replace(&dir.display().to_string(), "[DIR]");
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("127.0.0.1:") {
        let (head, tail) = rest.split_at(at + "127.0.0.1:".len());
        out.push_str(head);
        let digits = tail.chars().take_while(char::is_ascii_digit).count();
        out.push_str(if digits > 0 { "[PORT]" } else { "" });
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// A plain-TCP server on 127.0.0.1 that answers anything with an HTTP
/// response, so a TLS client gets bytes that are not a TLS record.
fn plain_http_listener() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            std::thread::spawn(move || answer_plain(&mut stream));
        }
    });
    port
}

fn answer_plain(stream: &mut TcpStream) {
    let mut buffer = [0u8; 1024];
    let _ = stream.read(&mut buffer);
    let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

fn closed_endpoint() -> String {
    format!("http://127.0.0.1:{}", closed_port())
}

#[test]
fn no_credentials_says_where_to_put_them() {
    let scene = Scene::bare().with("AWS_REGION", "us-east-1");
    let (code, stderr) = scene.plan(&["--endpoint-url", &closed_endpoint()]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("no_credentials", stderr);
}

#[test]
fn no_credentials_with_an_unreachable_instance_metadata_service_is_no_credentials() {
    // The report of issue 15: on a machine outside EC2 the chain ends at
    // the instance metadata service, which does not answer.
    let scene = Scene::bare()
        .with("AWS_REGION", "us-east-1")
        .without("AWS_EC2_METADATA_DISABLED")
        .with("AWS_EC2_METADATA_SERVICE_ENDPOINT", &closed_endpoint());
    let (code, stderr) = scene.plan(&["--endpoint-url", &closed_endpoint(), "-v"]);
    assert_eq!(code, 1);
    let mut lines = stderr.lines();
    assert_eq!(
        lines.next(),
        Some(
            "error: no AWS credentials were found: not in the environment (AWS_ACCESS_KEY_ID), the profile, a \
             web identity token, the container or the instance metadata; set AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY, or pass --profile with a profile of the AWS config file (`aws configure` or \
             `aws configure sso` writes one)"
        ),
        "{stderr}"
    );
    let cause = lines.next().unwrap_or_default();
    assert!(cause.starts_with("  cause: GetCallerIdentity: "), "{stderr}");
    assert!(
        stderr.contains("IMDS"),
        "the SDK's account names the metadata service: {stderr}"
    );
    assert!(!stderr.contains("DispatchFailure {"), "no Debug dump: {stderr}");
}

/// A profile signed in through IAM Identity Center, with the session `emrstack-test`.
const SSO_CONFIG: &str = "[profile dev]\nsso_session = emrstack-test\nsso_account_id = 111122223333\n\
sso_role_name = Admin\nregion = us-east-1\n\n[sso-session emrstack-test]\n\
sso_start_url = https://emrstack-test.awsapps.com/start\nsso_region = us-east-1\n";

/// Where aws-config looks for the session's token:
/// `~/.aws/sso/cache/<sha1("emrstack-test")>.json`.
const SSO_CACHE: &str = ".aws/sso/cache/5e3a3729fb185255fae376e7bf4d8b599dcf47c9.json";

#[test]
fn an_expired_sso_session_says_to_log_in_again() {
    let scene = Scene::bare();
    scene.write_home(".aws/config", SSO_CONFIG);
    // Expired, and without a refresh token: the SDK does not try to renew it.
    scene.write_home(
        SSO_CACHE,
        &json!({
            "accessToken": "expired-token",
            "expiresAt": "2020-01-01T00:00:00Z",
            "region": "us-east-1",
            "startUrl": "https://emrstack-test.awsapps.com/start",
        })
        .to_string(),
    );
    let (code, stderr) = scene.plan(&["--profile", "dev", "--endpoint-url", &closed_endpoint()]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("sso_expired", stderr);

    // Never logged in: no token at all.
    std::fs::remove_file(scene.home().join(SSO_CACHE)).expect("remove token");
    let (code, again) = scene.plan(&["--profile", "dev", "--endpoint-url", &closed_endpoint()]);
    assert_eq!((code, again.as_str()), (1, stderr.as_str()));
}

#[test]
fn an_unknown_profile_names_the_profiles_there_are() {
    let scene = Scene::new();
    scene.write_home(
        ".aws/config",
        "[profile dev]\nregion = eu-west-1\n\n[profile prod]\nregion = eu-west-1\n",
    );
    let (code, stderr) = scene.plan(&["--profile", "staging", "--endpoint-url", &closed_endpoint()]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("unknown_profile", stderr);

    // From AWS_PROFILE, and with no AWS files at all.
    std::fs::remove_file(scene.home().join(".aws/config")).expect("remove config");
    let scene = scene.with("AWS_PROFILE", "staging");
    let (code, stderr) = scene.plan(&["--endpoint-url", &closed_endpoint()]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with(
            "error: the AWS profile `staging` is not defined in the AWS config or credentials file (the AWS \
             config and credentials files define no profile)"
        ),
        "{stderr}"
    );
}

#[test]
fn no_region_says_where_to_set_one() {
    let scene = Scene::new().without("AWS_REGION");
    let (code, stderr) = scene.plan(&["--endpoint-url", &closed_endpoint()]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("no_region", stderr);
}

#[test]
fn a_refused_connection_names_the_endpoint_and_shows_the_cause_with_v() {
    let scene = Scene::new();
    let endpoint = closed_endpoint();
    let (code, stderr) = scene.plan(&["--endpoint-url", &endpoint]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("connection_refused", stderr);
    let (code, verbose) = scene.plan(&["--endpoint-url", &endpoint, "-v"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("connection_refused_verbose", verbose);
}

#[test]
fn a_host_that_does_not_resolve_is_a_dns_failure() {
    let scene = Scene::new();
    // `.invalid` never resolves (RFC 2606).
    let (code, stderr) = scene.plan(&["--endpoint-url", "http://emulator.emrstack.invalid:5055"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("dns_failure", stderr);
}

#[test]
fn https_to_a_plain_http_endpoint_is_a_tls_failure() {
    let scene = Scene::new();
    let port = plain_http_listener();
    let (code, stderr) = scene.plan(&["--endpoint-url", &format!("https://127.0.0.1:{port}")]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("tls_failure", stderr);
}

#[test]
fn a_signature_refused_for_its_time_is_clock_skew() {
    let emulator: &Emulator = shared_emulator();
    let account = Emulator::new_account();
    // What STS answers a request signed with a clock 20 minutes slow
    // (aws/aws-cli#6676; docs/aws.md, "Errors").
    let rule = emulator.add_fault(json!({
        "service": "sts", "operation": "GetCallerIdentity", "account": account,
        "kind": "error", "status": 403, "code": "SignatureDoesNotMatch",
        "message": "Signature expired: 20260101T000000Z is now earlier than 20260101T000500Z (20260101T002000Z - 15 min.)",
    }));
    let scene = Scene::new()
        .with("AWS_ACCESS_KEY_ID", &account)
        .with("AWS_SECRET_ACCESS_KEY", "emulator");
    let (code, stderr) = scene.plan(&["--endpoint-url", &emulator.endpoint()]);
    let (_, verbose) = scene.plan(&["--endpoint-url", &emulator.endpoint(), "-v"]);
    emulator.remove_fault(&rule);
    assert_eq!(code, 1);
    insta::assert_snapshot!("clock_skew", stderr);
    assert!(
        verbose.ends_with(
            "  cause: GetCallerIdentity: SignatureDoesNotMatch: Signature expired: 20260101T000000Z is now earlier \
             than 20260101T000500Z (20260101T002000Z - 15 min.)\n"
        ),
        "{verbose}"
    );
}
