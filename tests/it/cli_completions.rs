//! `emrstack completions SHELL` and `emrstack man` through the built binary:
//! the bash script completes the commands when bash runs it, every shell
//! gets a script, and the manual pages are roff that groff reads without a
//! warning.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn emrstack(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_emrstack"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run emrstack")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

/// The commands `emrstack --help` lists, read from its "Commands:" section.
fn commands() -> BTreeSet<String> {
    let help = text(&emrstack(&["--help"]).stdout);
    let commands: BTreeSet<String> = help
        .lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect();
    assert!(
        commands.contains("plan") && commands.contains("completions") && commands.contains("man"),
        "{help}"
    );
    commands
}

/// The program's output, run with `stdin` as its input.
fn run_with_input(program: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

/// What bash's completion offers after `emrstack` and `words` (the last one
/// being completed), with the script `emrstack completions bash` printed.
fn bash_completes(script: &str, words: &[&str]) -> BTreeSet<String> {
    let line: Vec<String> = std::iter::once("emrstack")
        .chain(words.iter().copied())
        .map(|w| format!("'{w}'"))
        .collect();
    let program = format!(
        "{script}\nCOMP_WORDS=({})\nCOMP_CWORD={}\nCOMP_LINE=\"${{COMP_WORDS[*]}}\"\nCOMP_POINT=${{#COMP_LINE}}\n\
         _emrstack emrstack \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        line.join(" "),
        words.len()
    );
    let output = run_with_input("bash", &["--norc", "--noprofile"], &program);
    assert!(output.status.success(), "bash: {}", text(&output.stderr));
    text(&output.stdout).lines().map(str::to_string).collect()
}

#[test]
fn bash_completion_offers_every_command_and_their_flags() {
    let output = emrstack(&["completions", "bash"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stderr), "");
    let script = text(&output.stdout);

    let commands = commands();
    let offered = bash_completes(&script, &[""]);
    let missing: Vec<&String> = commands.iter().filter(|c| !offered.contains(*c)).collect();
    assert!(missing.is_empty(), "not completed: {missing:?}; offered {offered:?}");

    let plan = bash_completes(&script, &["plan", "--"]);
    for flag in ["--detailed-exitcode", "--format", "--out"] {
        assert!(
            plan.contains(flag),
            "`emrstack plan --` does not offer {flag}: {plan:?}"
        );
    }
    let shells = bash_completes(&script, &["completions", ""]);
    for shell in ["bash", "elvish", "fish", "powershell", "zsh"] {
        assert!(
            shells.contains(shell),
            "`emrstack completions` does not offer {shell}: {shells:?}"
        );
    }
    assert_eq!(
        bash_completes(&script, &["completions", "z"]),
        BTreeSet::from(["zsh".to_string()])
    );
}

#[test]
fn every_shell_gets_a_script_naming_every_command() {
    let commands = commands();
    for (shell, marker) in [
        ("zsh", "#compdef emrstack"),
        ("fish", "complete -c emrstack"),
        (
            "powershell",
            "Register-ArgumentCompleter -Native -CommandName 'emrstack'",
        ),
        ("elvish", "edit:completion:arg-completer[emrstack]"),
    ] {
        let output = emrstack(&["completions", shell]);
        assert_eq!(output.status.code(), Some(0), "{shell}: {}", text(&output.stderr));
        let script = text(&output.stdout);
        assert!(script.contains(marker), "{shell}: no `{marker}` in\n{script}");
        for command in &commands {
            assert!(script.contains(command.as_str()), "{shell}: `{command}` missing");
        }
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let output = emrstack(&["completions", "tcsh"]);
    // Usage errors exit 1, never 2, which `plan --detailed-exitcode` gives to changes.
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stdout), "");
    assert!(
        text(&output.stderr).contains("invalid value 'tcsh'"),
        "{}",
        text(&output.stderr)
    );
}

/// Checks `page` is a manual page titled `title`, section 1, and, where
/// groff is installed, that groff formats it without a warning and the text
/// contains `expect`.
fn check_page(page: &str, title: &str, expect: &[&str]) {
    let heading = page
        .lines()
        .find(|l| l.starts_with(".TH "))
        .unwrap_or("")
        .replace("\\-", "-");
    assert!(
        heading.starts_with(&format!(".TH {title} 1")),
        "no `.TH {title} 1`:\n{page}"
    );
    for line in page.lines().filter(|l| l.starts_with('.')) {
        let request = line[1..].split_whitespace().next().unwrap_or("");
        assert!(
            [
                "ie", "el", "TH", "SH", "PP", "TP", "IP", "RS", "RE", "br", "B", "I", "\\\""
            ]
            .contains(&request),
            "unexpected roff request in `{line}`"
        );
    }
    if Command::new("groff").arg("--version").output().is_err() {
        return;
    }
    // Warnings about the roff itself (undefined macros, bad escapes and
    // input, missing arguments and delimiters), not about typesetting such
    // as a long option that cannot be broken at the terminal's width.
    let args = [
        "-man",
        "-Tutf8",
        "-wmac",
        "-wescape",
        "-winput",
        "-wmissing",
        "-wdelim",
        "-P-c",
        "-P-b",
        "-P-u",
    ];
    let output = run_with_input("groff", &args, page);
    assert!(output.status.success(), "groff: {}", text(&output.stderr));
    assert_eq!(text(&output.stderr), "", "groff warns about the page of {title}");
    // groff prints `\-` as a minus sign and may hyphenate with U+2010.
    let formatted = text(&output.stdout).replace(['\u{2212}', '\u{2010}'], "-");
    for phrase in expect {
        assert!(
            formatted.contains(phrase),
            "`{phrase}` not in the formatted page:\n{formatted}"
        );
    }
}

#[test]
fn man_prints_the_page_of_emrstack_listing_every_command() {
    let output = emrstack(&["man"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let page = text(&output.stdout);
    let mut expect = vec!["NAME".to_string(), "emrstack".to_string(), "SUBCOMMANDS".to_string()];
    expect.extend(commands().into_iter().map(|c| format!("emrstack-{c}(1)")));
    let expect: Vec<&str> = expect.iter().map(String::as_str).collect();
    check_page(&page, "emrstack", &expect);
}

#[test]
fn man_prints_the_page_of_one_command_with_its_options() {
    let output = emrstack(&["man", "plan"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    check_page(
        &text(&output.stdout),
        "emrstack-plan",
        &["emrstack-plan", "--detailed-exitcode", "--format"],
    );

    let output = emrstack(&["man", "nonsense"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stdout), "");
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("error: no command `nonsense`; the commands are validate, plan"),
        "{stderr}"
    );
}

#[test]
fn man_dir_writes_one_page_per_command() {
    let scratch = tempfile::tempdir().expect("temp dir");
    // A directory that does not exist yet is made.
    let dir = scratch.path().join("share/man/man1");
    let output = emrstack(&["man", "--dir", &dir.display().to_string()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let written: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("read dir")
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().to_string())
        .collect();
    let mut expected: BTreeSet<String> = commands().iter().map(|c| format!("emrstack-{c}.1")).collect();
    expected.insert("emrstack.1".to_string());
    assert_eq!(written, expected);
    let plan = std::fs::read_to_string(dir.join("emrstack-plan.1")).expect("plan page");
    check_page(&plan, "emrstack-plan", &["--detailed-exitcode"]);
}
