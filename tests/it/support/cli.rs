//! Running the `emrstack` binary against the emulator, in a scratch
//! directory, as one account: the way a user runs it, with fast retry and
//! polling settings so tests take seconds.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::emulator::Emulator;

/// What a run of the binary printed and how it exited.
#[derive(Debug, Clone)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics with both streams unless the exit code is `code`.
    pub fn expect_code(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}, got {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    pub fn ok(self) -> Run {
        self.expect_code(0)
    }
}

/// A scratch directory, an account and the emulator it talks to.
pub struct Workspace<'a> {
    pub emulator: &'a Emulator,
    pub account: String,
    dir: tempfile::TempDir,
    extra_env: Vec<(String, String)>,
}

/// The environment that makes the CLI fast against the emulator: few,
/// quick retries, quick polling, no client-side rate limits, no colour.
pub fn fast_env() -> Vec<(String, String)> {
    [
        ("EMRSTACK_AWS_MAX_ATTEMPTS", "3"),
        ("EMRSTACK_AWS_INITIAL_BACKOFF_MS", "10"),
        ("EMRSTACK_AWS_MAX_BACKOFF_MS", "50"),
        ("EMRSTACK_AWS_ATTEMPT_TIMEOUT_MS", "10000"),
        ("EMRSTACK_AWS_RATE_LIMITS", "off"),
        ("EMRSTACK_POLL_INTERVAL_MS", "50"),
        ("EMRSTACK_MAX_POLL_INTERVAL_MS", "200"),
        ("EMRSTACK_RETRY_BACKOFF_MS", "20"),
        ("NO_COLOR", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

impl<'a> Workspace<'a> {
    /// A new workspace with a fresh account.
    pub fn new(emulator: &'a Emulator) -> Workspace<'a> {
        Workspace {
            emulator,
            account: Emulator::new_account(),
            dir: tempfile::tempdir().expect("temp dir"),
            extra_env: Vec::new(),
        }
    }

    /// Adds an environment variable to every run.
    pub fn env(&mut self, key: &str, value: &str) {
        self.extra_env.push((key.to_string(), value.to_string()));
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file relative to the workspace (creating directories).
    pub fn write(&self, relative: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dirs");
        }
        std::fs::write(&path, contents).expect("write file");
        path
    }

    /// Copies a directory of the repository (such as `examples/analytics`) into the workspace root.
    pub fn copy_example(&self, relative: &str) {
        let source = super::emulator::repo_root().join(relative);
        copy_dir(&source, self.dir.path());
    }

    /// The command, ready to run: binary, environment, working directory.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_emrstack"));
        command.args(args).current_dir(self.dir.path());
        for (key, _) in std::env::vars() {
            if key.starts_with("AWS_") || key.starts_with("EMRSTACK_") {
                command.env_remove(key);
            }
        }
        for (key, value) in self.emulator.aws_env(&self.account).into_iter().chain(fast_env()) {
            command.env(key, value);
        }
        for (key, value) in &self.extra_env {
            command.env(key, value);
        }
        command.stdin(Stdio::null());
        command
    }

    /// Runs the binary to completion.
    pub fn run(&self, args: &[&str]) -> Run {
        let output = self.command(args).output().expect("run emrstack");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

fn copy_dir(source: &Path, target: &Path) {
    for entry in std::fs::read_dir(source).expect("read example dir") {
        let entry = entry.expect("dir entry");
        let path = entry.path();
        let destination = target.join(entry.file_name());
        if path.is_dir() {
            std::fs::create_dir_all(&destination).expect("create dir");
            copy_dir(&path, &destination);
        } else {
            std::fs::copy(&path, &destination).expect("copy file");
        }
    }
}
