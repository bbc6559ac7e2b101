//! Where output goes: data to stdout, everything else to stderr, with colour
//! only when the stream is a terminal and NO_COLOR is unset. Whatever is
//! printed passes through `plan::secrets::mask_text` last, so a secret
//! inside a URL or a `name=value` parameter is not shown even in text no
//! renderer prepared (an AWS error message that quotes a request, say).

use std::io::{IsTerminal, Write};

use super::args::GlobalArgs;
use crate::plan::secrets;

/// Prints to stdout and stderr with the run's colour and verbosity settings.
#[derive(Debug, Clone)]
pub(super) struct Printer {
    /// Colour on stdout.
    pub color_stdout: bool,
    /// Colour on stderr.
    pub color_stderr: bool,
    /// `-v` count.
    pub verbose: u8,
}

impl Printer {
    pub(super) fn new(global: &GlobalArgs) -> Printer {
        let allowed = !global.no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Printer {
            color_stdout: allowed && std::io::stdout().is_terminal(),
            color_stderr: allowed && std::io::stderr().is_terminal(),
            verbose: global.verbose,
        }
    }

    /// Writes data to stdout. A closed pipe (`emrstack plan | head`) is not an error.
    pub(super) fn data(&self, text: &str) {
        let text = secrets::mask_text(text);
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    /// Writes a message to stderr.
    pub(super) fn message(&self, text: &str) {
        let text = secrets::mask_text(text);
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = err.write_all(b"\n");
        }
    }

    /// Writes `error: <text>` to stderr.
    pub(super) fn error(&self, text: &str) {
        if self.color_stderr {
            self.message(&format!("\x1b[1;31merror\x1b[0m: {text}"));
        } else {
            self.message(&format!("error: {text}"));
        }
    }
}
