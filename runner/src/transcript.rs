//! What a party's terminal showed, and how it becomes a transcript.
//!
//! [`Screen`] collects the bytes a pseudo-terminal produces (CRLF folded to LF,
//! invalid UTF-8 replaced, capped in size). [`transcript`] turns a screen into
//! the text a snapshot holds: trailing spaces trimmed, the lab's redactions
//! applied in order, and a last line telling how the party ended.

use std::fmt;

use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};

use crate::lab::Redaction;

/// How much output one party may produce before the runner stops it.
pub const OUTPUT_CAP: usize = 1 << 20;

/// The text a terminal showed so far.
#[derive(Debug, Default)]
pub struct Screen {
    text: String,
    /// Bytes not yet turned into text: an incomplete UTF-8 sequence, or a
    /// `\r` that may be the first half of a CRLF.
    pending: Vec<u8>,
    received: usize,
}

impl Screen {
    /// Add bytes read from the terminal. Returns false once the cap is
    /// exceeded; what comes after the cap is dropped.
    pub fn push(&mut self, bytes: &[u8]) -> bool {
        self.received += bytes.len();
        let room = OUTPUT_CAP.saturating_sub(self.text.len() + self.pending.len());
        self.pending.extend_from_slice(&bytes[..bytes.len().min(room)]);
        let keep = incomplete_tail(&self.pending);
        let ready: Vec<u8> = self.pending.drain(..self.pending.len() - keep).collect();
        let mut chunk = String::from_utf8_lossy(&ready).into_owned();
        if chunk.ends_with('\r') {
            chunk.pop();
            self.pending.insert(0, b'\r');
        }
        self.text.push_str(&chunk.replace("\r\n", "\n"));
        !self.overflowed()
    }

    /// Everything shown so far, including a held-back `\r` or partial character.
    pub fn finish(&mut self) {
        let rest: Vec<u8> = self.pending.drain(..).collect();
        self.text.push_str(&String::from_utf8_lossy(&rest));
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn overflowed(&self) -> bool {
        self.received > OUTPUT_CAP
    }

    /// The last `count` non-empty lines, for messages about a stuck scenario.
    pub fn last_lines(&self, count: usize) -> Vec<String> {
        let lines: Vec<&str> = self.text.lines().map(str::trim_end).filter(|line| !line.is_empty()).collect();
        lines[lines.len().saturating_sub(count)..].iter().map(|line| line.to_string()).collect()
    }
}

/// Bytes at the end of `bytes` that may still become a character or a CRLF.
fn incomplete_tail(bytes: &[u8]) -> usize {
    match std::str::from_utf8(bytes) {
        Ok(_) => 0,
        Err(err) if err.error_len().is_none() => bytes.len() - err.valid_up_to(),
        Err(_) => 0,
    }
}

/// How a party ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ending {
    Exited {
        code: i32,
    },
    Signaled {
        signal: String,
    },
    /// The runner ended it; `why` is shown in the transcript.
    Killed {
        why: KillReason,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KillReason {
    /// The scenario expected it to hang, and it did.
    Hung,
    /// It was still running when the scenario ended or failed.
    StillRunning,
    /// It printed more than [`OUTPUT_CAP`].
    Flooded,
}

impl Ending {
    pub fn signaled(signal: Signal) -> Ending {
        Ending::Signaled { signal: signal.as_str().to_string() }
    }
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ending::Exited { code } => write!(f, "exit {code}"),
            Ending::Signaled { signal } => write!(f, "signal {signal}"),
            Ending::Killed { why: KillReason::Hung } => f.write_str("hangs: killed by the runner"),
            Ending::Killed { why: KillReason::StillRunning } => f.write_str("still running: killed by the runner"),
            Ending::Killed { why: KillReason::Flooded } => {
                write!(f, "output over {} KiB: killed by the runner", OUTPUT_CAP / 1024)
            }
        }
    }
}

/// The normalized transcript of one party: trailing spaces and blank lines
/// trimmed, redactions applied in order, and the ending as a last line.
pub fn transcript(text: &str, redactions: &[Redaction], ending: &Ending) -> String {
    let mut lines: Vec<String> = text.lines().map(|line| redact(line.trim_end(), redactions)).collect();
    while lines.last().is_some_and(|line| line.is_empty()) {
        lines.pop();
    }
    lines.push(format!("[{ending}]"));
    lines.join("\n")
}

fn redact(line: &str, redactions: &[Redaction]) -> String {
    let mut line = line.to_string();
    for redaction in redactions {
        line = redaction.pattern.replace_all(&line, redaction.with.as_str()).into_owned();
    }
    // A redaction may leave trailing spaces behind (e.g. a redacted last field).
    line.truncate(line.trim_end().len());
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    #[test]
    fn crlf_split_across_reads_becomes_one_newline() {
        let mut screen = Screen::default();
        screen.push(b"Send Message: abc\r");
        assert_eq!(screen.text(), "Send Message: abc");
        screen.push(b"\nSend");
        assert_eq!(screen.text(), "Send Message: abc\nSend");
    }

    #[test]
    fn utf8_split_across_reads_is_kept_whole() {
        let mut screen = Screen::default();
        let bytes = "终端".as_bytes();
        screen.push(&bytes[..2]);
        screen.push(&bytes[2..]);
        assert_eq!(screen.text(), "终端");
    }

    #[test]
    fn output_beyond_the_cap_is_dropped_and_reported() {
        let mut screen = Screen::default();
        let block = vec![b'x'; 64 * 1024];
        let mut accepted = true;
        for _ in 0..17 {
            accepted = screen.push(&block);
        }
        assert!(!accepted);
        assert!(screen.overflowed());
        assert_eq!(screen.text().len(), OUTPUT_CAP);
    }

    #[test]
    fn transcript_trims_redacts_and_ends_with_the_status() {
        let redactions = vec![Redaction {
            pattern: Regex::new(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").unwrap(),
            with: "[TIME]".to_string(),
        }];
        let text = " | 2023-03-05 18:22:40 | Debug   | Create FIFO | \nSend Message: x   \n\n";
        let expected = " | [TIME] | Debug   | Create FIFO |\nSend Message: x\n[signal SIGINT]";
        assert_eq!(transcript(text, &redactions, &Ending::signaled(Signal::SIGINT)), expected);
    }
}
