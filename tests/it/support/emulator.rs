//! The local AWS emulator (`tests/emulator`) for integration tests: start it,
//! drive its control API, stop it.
//!
//! One `Emulator` is one Python process serving IAM, ECR, EC2, STS and EMR
//! Serverless on a free 127.0.0.1 port. Tests isolate themselves by account
//! ([`Emulator::new_account`]) rather than by server, so a test binary can
//! share one server between its tests or start one per test (about half a
//! second each).
//!
//! Lifetime: the process is killed by PID when the `Emulator` is dropped,
//! panics included. If the test process itself dies, the server exits on its
//! own because its standard input, a pipe only this process holds, closes
//! (`--exit-on-stdin-eof`).
//!
//! Only std and serde_json: no AWS SDK types, so any test can use it.

#![allow(dead_code)]

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long `start` waits for the listening line; generous because the
/// machine may be busy compiling.
const START_TIMEOUT: Duration = Duration::from_secs(90);
/// Read and write timeout of one control API call.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(30);

/// A running emulator. Dropping it kills the process.
pub struct Emulator {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
}

/// Options for [`Emulator::builder`].
pub struct EmulatorBuilder {
    env: Vec<(String, String)>,
    args: Vec<String>,
    quiet: bool,
}

impl EmulatorBuilder {
    /// Sets an environment variable of the server process, e.g.
    /// `EMULATOR_DELAY_START_MS` or `EMULATOR_FAULTS` (see tests/emulator/README.md).
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Adds a command-line argument, e.g. `--iam-managed-policies`.
    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_string());
        self
    }

    /// Discards the server's stderr (by default it goes to the test's stderr).
    pub fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }

    /// Ensures the virtualenv, spawns the server and waits until it listens.
    ///
    /// Panics with the reason when the server cannot be started: a test
    /// without its emulator cannot mean anything.
    pub fn start(self) -> Emulator {
        let python = ensure_venv().unwrap_or_else(|e| panic!("emulator virtualenv: {e}"));
        let emulator_dir = repo_root().join("tests").join("emulator");
        let mut command = Command::new(&python);
        command
            .args([
                "-m",
                "emulator",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--exit-on-stdin-eof",
            ])
            .args(&self.args)
            .current_dir(&emulator_dir)
            .env("PYTHONPATH", &emulator_dir)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(if self.quiet { Stdio::null() } else { Stdio::inherit() });
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {}: {e}", python.display()));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("invariant: stdout is piped");

        // The first line says where the server listens. A thread reads it so
        // that the wait can time out; it then drains stdout until EOF.
        let (sender, receiver) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next();
            let _ = sender.send(first);
            for _ in lines {}
        });
        let line = match receiver.recv_timeout(START_TIMEOUT) {
            Ok(Some(Ok(line))) => line,
            Ok(other) => {
                let _ = child.kill();
                let status = child.wait().ok();
                panic!(
                    "emulator exited before listening (status {status:?}, first line {other:?}); see its stderr above"
                );
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("emulator did not listen within {START_TIMEOUT:?}");
            }
        };
        let port = line
            .strip_prefix("EMULATOR_LISTENING http://127.0.0.1:")
            .and_then(|p| p.trim().parse::<u16>().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("unexpected first line from the emulator: {line:?}");
        };
        Emulator { child, stdin, port }
    }
}

impl Emulator {
    /// Starts an emulator with default settings (see [`EmulatorBuilder::start`]).
    pub fn start() -> Emulator {
        Self::builder().start()
    }

    /// An emulator with environment variables or arguments of its own.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder {
            env: Vec::new(),
            args: Vec::new(),
            quiet: false,
        }
    }

    /// `http://127.0.0.1:<port>`, the value for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The TCP port the server listens on (127.0.0.1 only).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's process ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A fresh 12-digit account ID, unique within this test process. Use it
    /// as the access key ID: the emulator makes it the account.
    pub fn new_account() -> String {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed) % 100_000_000;
        let process = u64::from(std::process::id()) % 1000;
        format!("{:012}", 200_000_000_000 + process * 100_000_000 + n)
    }

    /// The environment an AWS client (the emrstack CLI, the AWS CLI) needs to
    /// talk to this emulator as `account` in `us-east-1`.
    pub fn aws_env(&self, account: &str) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", account.to_string()),
            ("AWS_SECRET_ACCESS_KEY", "emulator".to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
            ("AWS_DEFAULT_REGION", "us-east-1".to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// One control API call: `(status, JSON body)`. `path` starts with `/_emulator/`.
    pub fn control(&self, method: &str, path: &str, body: Option<&Value>) -> Result<(u16, Value), String> {
        let text = body.map(Value::to_string);
        let (status, payload) = http(self.port, method, path, text.as_deref(), &[])?;
        let value = if payload.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&payload).map_err(|e| format!("{method} {path}: body is not JSON ({e}): {payload}"))?
        };
        Ok((status, value))
    }

    /// A control API call that must answer 200; panics otherwise.
    pub fn control_ok(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        match self.control(method, path, body) {
            Ok((200, value)) => value,
            Ok((status, value)) => panic!("{method} {path} answered {status}: {value}"),
            Err(e) => panic!("{method} {path} failed: {e}"),
        }
    }

    /// `GET /_emulator/health`.
    pub fn health(&self) -> Value {
        self.control_ok("GET", "/_emulator/health", None)
    }

    /// Adds one fault rule (see tests/emulator/README.md) and returns its id.
    pub fn add_fault(&self, rule: Value) -> String {
        let added = self.control_ok("POST", "/_emulator/faults", Some(&rule));
        added["rules"][0]["id"]
            .as_str()
            .expect("invariant: the emulator returns rule ids")
            .to_string()
    }

    /// The rules with their `matched` and `fired` counters.
    pub fn faults(&self) -> Value {
        self.control_ok("GET", "/_emulator/faults", None)
    }

    /// Removes one fault rule.
    pub fn remove_fault(&self, id: &str) {
        self.control_ok("DELETE", &format!("/_emulator/faults/{id}"), None);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.control_ok("DELETE", "/_emulator/faults", None);
    }

    /// Reseeds the RNG that `probability` rules draw from.
    pub fn set_fault_seed(&self, seed: u64) {
        self.control_ok("POST", "/_emulator/seed", Some(&json!({ "seed": seed })));
    }

    /// Sets state delays in milliseconds, e.g. `json!({"startMs": 1000})`; -1 holds a transition.
    pub fn set_delays(&self, delays: Value) -> Value {
        self.control_ok("POST", "/_emulator/delays", Some(&delays))
    }

    /// Sets the default job script, e.g. `json!([["SUBMITTED", 0.05], ["RUNNING", 5], ["SUCCESS"]])`.
    pub fn set_job_script(&self, script: Value) {
        self.control_ok("POST", "/_emulator/job-script", Some(&json!({ "script": script })));
    }

    /// Injects a job run into an application (no IAM role needed) and returns its ID.
    /// `script` of `None` uses the default script.
    pub fn inject_job(&self, account: &str, application_id: &str, script: Option<Value>) -> String {
        self.inject_job_run(account, application_id, "BATCH", script)
    }

    /// Injects a job run of `mode` (`BATCH` or `STREAMING`) and returns its ID.
    pub fn inject_job_run(&self, account: &str, application_id: &str, mode: &str, script: Option<Value>) -> String {
        let extra = json!({ "mode": mode });
        self.inject("/_emulator/jobs", "jobRunId", account, application_id, script, extra)
    }

    /// Injects an interactive session (no IAM role needed) and returns its ID.
    /// `script` of `None` uses the default script (idle until terminated).
    pub fn inject_session(&self, account: &str, application_id: &str, script: Option<Value>) -> String {
        self.inject(
            "/_emulator/sessions",
            "sessionId",
            account,
            application_id,
            script,
            json!({}),
        )
    }

    /// POSTs an injection to `path` and returns the `id_key` of the answer.
    fn inject(
        &self,
        path: &str,
        id_key: &str,
        account: &str,
        application_id: &str,
        script: Option<Value>,
        extra: Value,
    ) -> String {
        let mut body = json!({ "account": account, "applicationId": application_id });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        if let Some(script) = script {
            body["script"] = script;
        }
        let answer = self.control_ok("POST", path, Some(&body));
        answer[id_key]
            .as_str()
            .unwrap_or_else(|| panic!("the emulator's answer to {path} has no `{id_key}`: {answer}"))
            .to_string()
    }

    /// Completes a held or pending application transition now.
    pub fn release(&self, account: &str, application_id: &str) -> Value {
        self.control_ok(
            "POST",
            "/_emulator/transitions",
            Some(&json!({ "account": account, "applicationId": application_id })),
        )
    }

    /// Configures `GetResources` for one account, e.g.
    /// `json!({"indexDelaySeconds": 600})` (an index that lags ten minutes
    /// behind tag changes) or `json!({"pageSizes": [0, 1]})`.
    pub fn set_tagging(&self, account: &str, settings: Value) -> Value {
        let mut body = settings;
        body["account"] = json!(account);
        self.control_ok("POST", "/_emulator/tagging", Some(&body))
    }

    /// Moves every application of the account (its `createdAt`, `updatedAt`
    /// and tag changes) `seconds` into the past, as if created earlier.
    pub fn backdate(&self, account: &str, seconds: u64) {
        self.control_ok(
            "POST",
            "/_emulator/backdate",
            Some(&json!({ "account": account, "seconds": seconds })),
        );
    }

    /// Call counts (`served`, `faulted`, `throttled`, `delayed`, `totals`),
    /// for one account or, with `None`, overall plus `byAccount`.
    pub fn call_counts(&self, account: Option<&str>) -> Value {
        let path = match account {
            Some(account) => format!("/_emulator/calls?account={account}"),
            None => "/_emulator/calls".to_string(),
        };
        self.control_ok("GET", &path, None)
    }

    /// How many calls of `service:operation` the account made that reached the service.
    pub fn served(&self, account: &str, key: &str) -> u64 {
        self.call_counts(Some(account))["served"][key].as_u64().unwrap_or(0)
    }

    /// Resets every call count.
    pub fn reset_call_counts(&self) {
        self.control_ok("DELETE", "/_emulator/calls", None);
    }

    /// Configures EMR Serverless rate limiting, e.g. `json!({"enabled": true, "rate": 1, "burst": 2})`.
    pub fn set_rate_limit(&self, settings: Value) -> Value {
        self.control_ok("POST", "/_emulator/rate-limit", Some(&settings))
    }

    /// Restores the start-up configuration and clears call counts; with
    /// `state` also deletes every resource in every account.
    pub fn reset(&self, state: bool) {
        self.control_ok("POST", "/_emulator/reset", Some(&json!({ "state": state })));
    }

    /// Closes the server's stdin, as the death of this process would, and
    /// waits up to `timeout` for it to exit.
    pub fn close_stdin_and_wait(mut self, timeout: Duration) -> Option<ExitStatus> {
        drop(self.stdin.take());
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // Kill by PID and reap, so no server outlives its test; closing stdin
        // first is only a courtesy.
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The repository root (this crate's manifest directory).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The emulator's virtualenv: `EMRSTACK_EMULATOR_VENV`, else `target/emulator-venv`.
pub fn venv_dir() -> PathBuf {
    match std::env::var_os("EMRSTACK_EMULATOR_VENV") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => repo_root().join("target").join("emulator-venv"),
    }
}

/// Runs `scripts/emulator --install-only` once per process, under a lock
/// file so that parallel test binaries do not race; returns the venv's python.
fn ensure_venv() -> Result<PathBuf, String> {
    static READY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    READY.get_or_init(install_venv).clone()
}

fn install_venv() -> Result<PathBuf, String> {
    let venv = venv_dir();
    if let Some(parent) = venv.parent() {
        fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let lock_path = lock_path(&venv);
    let lock = File::create(&lock_path).map_err(|e| format!("cannot create {}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;
    let script = repo_root().join("scripts").join("emulator");
    let output = Command::new("bash")
        .arg(&script)
        .arg("--install-only")
        .env("EMRSTACK_EMULATOR_VENV", &venv)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    drop(lock);
    if !output.status.success() {
        return Err(format!(
            "{} --install-only failed ({}):\n{}{}",
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let python = venv.join("bin").join("python");
    if !python.exists() {
        return Err(format!("{} is missing after installation", python.display()));
    }
    Ok(python)
}

fn lock_path(venv: &Path) -> PathBuf {
    let mut name = venv.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".harness.lock");
    venv.with_file_name(name)
}

/// A minimal HTTP/1.1 exchange with 127.0.0.1:`port` (one request per
/// connection, as the server closes every connection anyway).
/// Returns the status and the body as text.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Result<(u16, String), String> {
    exchange(port, method, path, body, "application/json", headers)
}

/// [`http`] with another `Content-Type`.
pub fn exchange(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
    content_type: &str,
    headers: &[(&str, &str)],
) -> Result<(u16, String), String> {
    let context = |e: std::io::Error| format!("{method} {path}: {e}");
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(context)?;
    stream.set_read_timeout(Some(CONTROL_TIMEOUT)).map_err(context)?;
    stream.set_write_timeout(Some(CONTROL_TIMEOUT)).map_err(context)?;
    let body = body.unwrap_or("");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).map_err(context)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(context)?;
    parse_response(&raw).map_err(|e| format!("{method} {path}: {e}"))
}

fn parse_response(raw: &[u8]) -> Result<(u16, String), String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no complete response ({} bytes)", raw.len()))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse::<usize>().ok();
        } else if name.eq_ignore_ascii_case("transfer-encoding") && value.eq_ignore_ascii_case("chunked") {
            chunked = true;
        }
    }
    let body = if chunked {
        let mut out = Vec::new();
        loop {
            let line_end = rest.windows(2).position(|w| w == b"\r\n").ok_or("truncated chunk")?;
            let size_text = String::from_utf8_lossy(&rest[..line_end]);
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| format!("bad chunk size {size_text:?}"))?;
            rest = &rest[line_end + 2..];
            if size == 0 {
                break;
            }
            if rest.len() < size + 2 {
                return Err("truncated chunk".to_string());
            }
            out.extend_from_slice(&rest[..size]);
            rest = &rest[size + 2..];
        }
        out
    } else if let Some(length) = length {
        if rest.len() < length {
            return Err(format!("body shorter than Content-Length ({} < {length})", rest.len()));
        }
        rest[..length].to_vec()
    } else {
        rest.to_vec()
    };
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}
