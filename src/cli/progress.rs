//! Progress of an apply on stderr: a spinner per change in progress on a
//! terminal, plain timestamped lines otherwise (CI logs).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::apply::{Event, Observer, Outcome};
use crate::graph::Phase;
use crate::model::Address;
use crate::plan::secrets;

use super::output::Printer;

/// How often a plain-text log repeats "still waiting" for one change.
const PLAIN_WAIT_EVERY: Duration = Duration::from_secs(15);

fn label(address: &Address, phase: Phase) -> String {
    match phase {
        Phase::Main => address.to_string(),
        Phase::Cleanup => format!("{address} (old)"),
    }
}

/// The apply observer of the CLI.
pub(super) struct Progress {
    printer: Printer,
    started: Instant,
    bars: Option<MultiProgress>,
    state: Mutex<ProgressState>,
}

#[derive(Default)]
struct ProgressState {
    spinners: HashMap<String, (ProgressBar, Instant)>,
    last_wait_line: HashMap<String, Instant>,
    current: HashMap<Address, Phase>,
}

impl Progress {
    /// Spinners when `interactive`, plain lines otherwise.
    pub(super) fn new(printer: &Printer, interactive: bool) -> Progress {
        let bars = interactive.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Progress {
            printer: printer.clone(),
            started: Instant::now(),
            bars,
            state: Mutex::new(ProgressState::default()),
        }
    }

    fn plain(&self, text: &str) {
        let elapsed = self.started.elapsed().as_secs();
        let line = format!("[{:>3}:{:02}] {text}", elapsed / 60, elapsed % 60);
        match &self.bars {
            Some(bars) => {
                let _ = bars.println(secrets::mask_text(&line));
            }
            None => self.printer.message(&line),
        }
    }

    fn spinner(&self, state: &mut ProgressState, key: &str) -> Option<ProgressBar> {
        let bars = self.bars.as_ref()?;
        if let Some((bar, _)) = state.spinners.get(key) {
            return Some(bar.clone());
        }
        let bar = bars.add(ProgressBar::new_spinner());
        let template = if self.printer.color_stderr {
            "{spinner} {prefix:.bold} {msg} [{elapsed}]"
        } else {
            "{spinner} {prefix} {msg} [{elapsed}]"
        };
        let style = ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.set_prefix(key.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        state.spinners.insert(key.to_string(), (bar.clone(), Instant::now()));
        Some(bar)
    }
}

impl Progress {
    /// Shows a "still waiting" message: on the spinner, or as a plain line
    /// at most every [`PLAIN_WAIT_EVERY`] per change.
    fn waiting(&self, state: &mut ProgressState, address: &Address, text: String) {
        let phase = state.current.get(address).copied().unwrap_or(Phase::Main);
        let key = label(address, phase);
        if let Some(bar) = self.spinner(state, &key) {
            bar.set_message(secrets::mask_text(&text).into_owned());
        } else if state
            .last_wait_line
            .get(&key)
            .is_none_or(|last| last.elapsed() >= PLAIN_WAIT_EVERY)
        {
            state.last_wait_line.insert(key.clone(), Instant::now());
            self.plain(&format!("{key}: {text}"));
        }
    }
}

impl Observer for Progress {
    fn event(&self, event: &Event) {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match event {
            Event::Started { address, action, phase } => {
                state.current.insert(address.clone(), *phase);
                let key = label(address, *phase);
                let text = match phase {
                    Phase::Main => format!("{action} started"),
                    Phase::Cleanup => "deleting the replaced resource".to_string(),
                };
                match self.spinner(&mut state, &key) {
                    Some(bar) => bar.set_message(secrets::mask_text(&text).into_owned()),
                    None => self.plain(&format!("{key}: {text}")),
                }
            }
            Event::Step { address, text } => {
                let phase = state.current.get(address).copied().unwrap_or(Phase::Main);
                let key = label(address, phase);
                match self.spinner(&mut state, &key) {
                    Some(bar) => bar.set_message(secrets::mask_text(text).into_owned()),
                    None => self.plain(&format!("{key}: {text}")),
                }
            }
            Event::Waiting {
                address,
                state: app_state,
                elapsed,
            } => {
                let text = format!("waiting while {app_state} ({}s)", elapsed.as_secs());
                self.waiting(&mut state, address, text);
            }
            Event::WaitingForJobs {
                address,
                running,
                elapsed,
            } => {
                let text = format!(
                    "waiting for {running} job run(s) and session(s) to end ({}s)",
                    elapsed.as_secs()
                );
                self.waiting(&mut state, address, text);
            }
            Event::Retrying {
                address,
                operation,
                error,
                attempt,
            } => {
                if self.printer.verbose > 0 {
                    self.plain(&format!("{address}: retrying {operation} (attempt {attempt}): {error}"));
                }
            }
            Event::Finished {
                address,
                phase,
                outcome,
            } => {
                let key = label(address, *phase);
                let took = state
                    .spinners
                    .get(&key)
                    .map(|(_, since)| format!(" after {}s", since.elapsed().as_secs()))
                    .unwrap_or_default();
                let text = match outcome {
                    Outcome::Applied => format!("done{took}"),
                    Outcome::Failed(error) => format!("FAILED: {error}"),
                    Outcome::Skipped(why) => format!("skipped: {why}"),
                };
                if let Some((bar, _)) = state.spinners.remove(&key) {
                    bar.finish_and_clear();
                }
                self.plain(&format!("{key}: {text}"));
            }
        }
    }
}
