//! The log line of the seed-000 programs:
//!
//! ```text
//!  | 2023-03-05 18:22:46 | Notice  | Receive | Message: abc
//! ```
//!
//! A leading space, then `|`-separated fields: local time, the level padded to
//! seven characters, the event, and a detail that may be empty.

use std::io::Write;

#[derive(Clone, Copy, Debug)]
pub enum Level {
    Debug,
    Notice,
    Warning,
    Error,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Debug => "Debug",
            Level::Notice => "Notice",
            Level::Warning => "Warning",
            Level::Error => "Error",
        }
    }
}

/// Format one log line (without the newline).
pub fn line(level: Level, event: &str, detail: &str) -> String {
    format!(" | {} | {:<7} | {} | {}", now(), level.name(), event, detail)
}

/// Print one log line on stdout and flush it, so that the line shows up at
/// once even when stdout is not a terminal.
pub fn log(level: Level, event: &str, detail: &str) {
    let mut out = std::io::stdout().lock();
    // A log line that cannot be written has nowhere else to go.
    let _ = writeln!(out, "{}", line(level, event, detail));
    let _ = out.flush();
}

pub fn debug(event: &str, detail: &str) {
    log(Level::Debug, event, detail);
}

pub fn notice(event: &str, detail: &str) {
    log(Level::Notice, event, detail);
}

pub fn warning(event: &str, detail: &str) {
    log(Level::Warning, event, detail);
}

pub fn error(event: &str, detail: &str) {
    log(Level::Error, event, detail);
}

/// Local time as `YYYY-MM-DD HH:MM:SS`, from `time(2)` and `localtime_r(3)`.
pub fn now() -> String {
    // SAFETY: `time` accepts a null pointer; `localtime_r` writes only into
    // the `tm` we own. All-zero bytes are a valid `libc::tm`.
    let tm = unsafe {
        let seconds = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&seconds, &mut tm);
        tm
    };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_has_the_seed_000_layout() {
        let text = line(Level::Notice, "Receive", "Message: abc");
        let fields: Vec<&str> = text.split(" | ").collect();
        assert_eq!(fields[0], "");
        assert_eq!(fields[1].len(), "2023-03-05 18:22:46".len());
        assert_eq!(&fields[2..], ["Notice ", "Receive", "Message: abc"]);
    }

    #[test]
    fn empty_detail_keeps_the_trailing_separator() {
        assert!(line(Level::Debug, "Create FIFO", "").ends_with(" | Debug   | Create FIFO | "));
    }
}
