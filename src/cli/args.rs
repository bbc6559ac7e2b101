//! Command-line arguments (clap derive).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Infrastructure as code for Amazon EMR Serverless.
#[derive(Debug, Parser)]
#[command(name = "emrstack", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Send every AWS call to this endpoint instead of AWS (for example a
    /// local emulator). Also read from AWS_ENDPOINT_URL.
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// AWS region; overrides the stack's `region` and the AWS configuration.
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Named profile from the shared AWS config and credentials files.
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// More output on stderr; repeat for more (-vv logs every AWS call).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Never colour output (colour is also off when NO_COLOR is set or the
    /// output is not a terminal).
    #[arg(long, global = true)]
    pub no_color: bool,
}

/// Where the stack comes from and the variables it is evaluated with.
#[derive(Debug, Clone, Args)]
pub struct StackArgs {
    /// The stack file.
    #[arg(short = 'f', long = "file", value_name = "FILE", default_value = "emrstack.toml")]
    pub file: PathBuf,
    /// Set a variable (`--var image_tag=v42`); overrides `[vars]` defaults
    /// and var files, and is overridden by EMRSTACK_VAR_<name>. Repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read variables from a TOML file of `name = "value"` lines; later
    /// files override earlier ones. Repeatable.
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
}

/// How a command prints its result on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// For people, in the manner of Terraform.
    Human,
    /// For programs; the structure is versioned and documented.
    Json,
    /// For pull-request comments.
    Markdown,
}

/// How `validate` and `output` print: their results have no Markdown form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DataFormat {
    /// For people.
    Human,
    /// For programs.
    Json,
}

/// What the running applications should do when a stop or a delete finds
/// job runs that have not finished or sessions that are active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnRunning {
    /// Refuse, listing the job runs and sessions.
    Fail,
    /// Wait for the job runs and sessions to finish, up to `--job-timeout`.
    Wait,
    /// Cancel the job runs and terminate the sessions, then go on.
    Cancel,
}

/// An application state, for `generate --state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApplicationStateArg {
    Creating,
    Created,
    Starting,
    Started,
    Stopping,
    Stopped,
}

/// Options of the commands that change AWS.
#[derive(Debug, Clone, Args)]
pub struct ExecuteArgs {
    /// Skip the interactive confirmation. Required when stdin is not a terminal.
    #[arg(long)]
    pub auto_approve: bool,
    /// What to do with unfinished job runs (batch and streaming) and active
    /// interactive sessions before a stop or a delete.
    #[arg(long, value_enum, default_value = "fail")]
    pub on_running: OnRunning,
    /// How long `--on-running wait` and `cancel` wait for job runs and
    /// sessions, in seconds.
    #[arg(long, default_value_t = 3600, value_name = "SECONDS")]
    pub job_timeout: u64,
    /// How long to wait for an application to leave CREATING, STARTING or
    /// STOPPING, in seconds.
    #[arg(long, default_value_t = 1800, value_name = "SECONDS")]
    pub state_timeout: u64,
    /// How long to keep retrying errors caused by IAM eventual consistency,
    /// in seconds.
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    pub propagation_timeout: u64,
}

/// Options of the commands that take the stack lock (`apply`, `destroy`, `import`).
#[derive(Debug, Clone, Args)]
pub struct LockArgs {
    /// Take the stack lock (`[stack] lock`) while running; `--lock=false`
    /// runs without it, and says so.
    #[arg(
        long,
        value_name = "BOOL",
        default_value_t = true,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = clap::ArgAction::Set
    )]
    pub lock: bool,
    /// How long to wait while another run holds the stack lock, polling with
    /// backoff: `0s` (the default) fails at once naming the holder; `90s`,
    /// `10m`, `1h30m`.
    #[arg(long, default_value = "0s", value_name = "DURATION", value_parser = parse_duration)]
    pub lock_timeout: Duration,
}

/// Reads `90`, `90s`, `500ms`, `10m`, `1h30m`: numbers with units `ms`, `s`,
/// `m` or `h` (a bare number is seconds), at most a week.
pub(super) fn parse_duration(text: &str) -> Result<Duration, String> {
    const MAX: Duration = Duration::from_secs(7 * 24 * 3600);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("a duration such as `30s`, `10m` or `1h` is required".to_string());
    }
    if let Ok(seconds) = trimmed.parse::<u64>() {
        return checked(Duration::from_secs(seconds.min(MAX.as_secs() + 1)), MAX);
    }
    let mut total = Duration::ZERO;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("`{text}` is not a duration such as `30s`, `10m` or `1h30m`"));
        }
        let value: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("`{text}` is too long a duration"))?;
        rest = &rest[digits..];
        let unit_length = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let millis_per_unit: u64 = match &rest[..unit_length] {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            other => {
                return Err(format!(
                    "`{other}` in `{text}` is not a unit; use `ms`, `s`, `m` or `h`"
                ));
            }
        };
        rest = &rest[unit_length..];
        let part = value
            .checked_mul(millis_per_unit)
            .ok_or_else(|| format!("`{text}` is too long a duration"))?;
        total = total.saturating_add(Duration::from_millis(part));
    }
    checked(total, MAX)
}

fn checked(duration: Duration, max: Duration) -> Result<Duration, String> {
    if duration > max {
        Err("a duration of at most a week (`168h`) is expected".to_string())
    } else {
        Ok(duration)
    }
}

/// Smoke runs after an apply, and rolling the apply back when they fail.
#[derive(Debug, Clone, Args)]
pub struct RunAfterArgs {
    /// After a converged apply, run this `[jobs.<key>]` (repeatable; the
    /// jobs run in parallel). The apply fails if any run does not succeed.
    #[arg(long = "run", value_name = "JOB")]
    pub jobs: Vec<String>,
    /// When a change or a `--run` job fails, revert what this apply did, in
    /// reverse order: updates go back to the values the plan observed,
    /// created resources are deleted (deletions cannot be undone).
    #[arg(long)]
    pub rollback_on_failure: bool,
}

/// Options of the commands that read AWS.
#[derive(Debug, Clone, Args)]
pub struct ReadArgs {
    /// The most AWS calls (or changes, for apply) in flight at once.
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub parallelism: u32,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a stack file without calling AWS: syntax, schema and every
    /// offline rule of EMR Serverless.
    Validate {
        #[command(flatten)]
        stack: StackArgs,
        #[arg(long, value_enum, default_value = "human")]
        format: DataFormat,
    },
    /// Read AWS, compare it with the stack and show what apply would change.
    Plan {
        #[command(flatten)]
        stack: StackArgs,
        #[command(flatten)]
        read: ReadArgs,
        #[arg(long, value_enum, default_value = "human")]
        format: OutputFormat,
        /// Save the plan to FILE for `emrstack apply FILE` or `emrstack show FILE`.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Exit 0 when there are no changes, 2 when there are, 1 on errors.
        #[arg(long)]
        detailed_exitcode: bool,
        /// Plan the deletion of everything the stack owns, as `destroy`
        /// would do (save it with `--out` and apply it with `apply PLANFILE`).
        #[arg(long)]
        destroy: bool,
    },
    /// Plan, confirm and make the changes; or apply a saved plan exactly.
    Apply {
        #[command(flatten)]
        stack: StackArgs,
        #[command(flatten)]
        read: ReadArgs,
        #[command(flatten)]
        execute: ExecuteArgs,
        #[command(flatten)]
        lock: LockArgs,
        /// A plan saved with `plan --out`; applied only if AWS still looks
        /// exactly as it did when the plan was made.
        #[arg(value_name = "PLANFILE")]
        plan_file: Option<PathBuf>,
        #[command(flatten)]
        runs: RunAfterArgs,
    },
    /// Delete everything the stack owns, in reverse dependency order.
    Destroy {
        #[command(flatten)]
        stack: StackArgs,
        #[command(flatten)]
        read: ReadArgs,
        #[command(flatten)]
        execute: ExecuteArgs,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Render a saved plan.
    Show {
        /// The plan file.
        #[arg(value_name = "PLANFILE")]
        plan_file: PathBuf,
        #[arg(long, value_enum, default_value = "human")]
        format: OutputFormat,
    },
    /// Print the AWS identifiers of every declared resource (application IDs
    /// and ARNs, role ARNs, repository URIs).
    Output {
        #[command(flatten)]
        stack: StackArgs,
        #[command(flatten)]
        read: ReadArgs,
        #[arg(long, value_enum, default_value = "human")]
        format: DataFormat,
    },
    /// Adopt existing resources into the stack by tagging them as owned:
    /// one by address and ID, or every declared one with `--all`.
    Import {
        #[command(flatten)]
        stack: StackArgs,
        #[command(flatten)]
        read: ReadArgs,
        /// The address in the stack file (`application.etl`, `role.etl`).
        #[arg(value_name = "ADDRESS", required_unless_present = "all", conflicts_with = "all")]
        address: Option<String>,
        /// The AWS identifier: an application ID or a role name.
        #[arg(value_name = "ID", required_unless_present = "all", conflicts_with = "all")]
        id: Option<String>,
        /// Adopt every declared application and role that exists under its
        /// declared name and is not the stack's yet; shows the list and asks first.
        #[arg(long)]
        all: bool,
        /// With `--all`: skip the confirmation. Required when stdin is not a terminal.
        #[arg(long, requires = "all")]
        auto_approve: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Write a stack file for what the account already runs: its EMR
    /// Serverless applications, the IAM roles their job runs assume, the ECR
    /// repositories of their images. Adopt it with `import --all`.
    Generate {
        #[command(flatten)]
        read: ReadArgs,
        /// The stack's name (`[stack] name`).
        #[arg(long, value_name = "NAME")]
        stack_name: String,
        /// Only applications whose name matches this glob (`*`, `?`). Repeatable: any of them.
        #[arg(long = "name", value_name = "PATTERN")]
        names: Vec<String>,
        /// Only applications with this tag. Repeatable: all of them.
        #[arg(long = "tag", value_name = "KEY=VALUE")]
        tags: Vec<String>,
        /// Only applications in this state. Repeatable: any of them.
        #[arg(long = "state", value_enum, value_name = "STATE")]
        states: Vec<ApplicationStateArg>,
        /// Write these roles (by name) instead of the ones EMR Serverless may
        /// assume for the selected applications. Repeatable.
        #[arg(long = "role", value_name = "NAME")]
        roles: Vec<String>,
        /// Write inline role policies to `policies/<role>-<name>.json` next
        /// to the stack file instead of into it.
        #[arg(long)]
        policy_files: bool,
        /// Write the stack file to FILE instead of stdout.
        #[arg(short = 'o', long = "out", value_name = "FILE")]
        out: Option<PathBuf>,
        /// Overwrite FILE and policy files that exist.
        #[arg(long)]
        force: bool,
    },
    /// Remove the stack lock, but only while it has this lock ID (printed
    /// when it was taken, and by a run that found it held).
    Unlock {
        #[command(flatten)]
        stack: StackArgs,
        /// The lock ID, 32 hexadecimal digits.
        #[arg(value_name = "LOCK_ID")]
        lock_id: String,
    },
    /// Start a `[jobs.<key>]` on the stack's application: upload its local
    /// files, StartJobRun, follow it and report how it ended (exit 0 on
    /// SUCCESS, 1 otherwise, 130 when SIGINT cancelled it).
    Run {
        #[command(flatten)]
        stack: StackArgs,
        #[command(flatten)]
        read: ReadArgs,
        /// The job's key in the stack file.
        #[arg(value_name = "JOB")]
        job: String,
        /// An argument appended to the job's `arguments`. Repeatable.
        #[arg(long = "arg", value_name = "VALUE", allow_hyphen_values = true)]
        arguments: Vec<String>,
        /// Derive the client token from KEY (for example the CI run ID), the
        /// stack and the job, so running the command again starts no second run.
        #[arg(long, value_name = "KEY")]
        idempotency_key: Option<String>,
        /// Print the run ID and exit 0 once the run is started.
        #[arg(long)]
        no_wait: bool,
        /// Cancel the run when it has not ended after SECONDS.
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<u64>,
        #[arg(long, value_enum, default_value = "human")]
        format: DataFormat,
    },
    /// Print the JSON Schema of the stack language.
    Schema,
    /// Print the shell completion script for SHELL (see the README's
    /// Install section for where each shell looks for it).
    Completions {
        /// The shell to complete in.
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the manual page of emrstack, or of one command, in roff (`emrstack
    /// man | man -l -`); or write every page to a directory.
    Man {
        /// The command whose page to print (`plan` prints emrstack-plan(1)).
        #[arg(value_name = "COMMAND", conflicts_with = "dir")]
        command: Option<String>,
        /// Write emrstack.1 and one page per command (emrstack-plan.1, ...)
        /// into DIR, for example ~/.local/share/man/man1.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let ok =
            |text: &str, millis: u64| assert_eq!(parse_duration(text), Ok(Duration::from_millis(millis)), "{text}");
        ok("0s", 0);
        ok("0", 0);
        ok("90", 90_000);
        ok("90s", 90_000);
        ok("500ms", 500);
        ok("10m", 600_000);
        ok("1h30m", 5_400_000);
        ok(" 2m5s ", 125_000);
        ok("168h", 604_800_000);
        for bad in ["", "s", "10x", "1.5m", "-1s", "m10", "169h", "99999999999999999999s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lock_flag_forms() {
        let parse = |args: &[&str]| {
            let mut all = vec!["emrstack", "apply"];
            all.extend(args);
            match Cli::try_parse_from(all).map(|cli| cli.command) {
                Ok(Command::Apply { lock, plan_file, .. }) => Ok((lock.lock, lock.lock_timeout, plan_file)),
                Ok(other) => panic!("{other:?}"),
                Err(error) => Err(error.kind()),
            }
        };
        assert_eq!(parse(&[]), Ok((true, Duration::ZERO, None)));
        assert_eq!(parse(&["--lock=false"]), Ok((false, Duration::ZERO, None)));
        assert_eq!(parse(&["--lock"]), Ok((true, Duration::ZERO, None)));
        // `--lock` never takes the plan file as its value.
        assert_eq!(
            parse(&["--lock", "plan.emrplan", "--lock-timeout", "5m"]),
            Ok((true, Duration::from_secs(300), Some(PathBuf::from("plan.emrplan"))))
        );
        assert!(parse(&["--lock-timeout", "soon"]).is_err());
    }
}
