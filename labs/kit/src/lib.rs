//! What every lab solution shares, kept small on purpose (like TLPI's `lib/`):
//!
//! * [`log`]: the log line format of the seed-000 programs,
//!   ` | 2023-03-05 18:22:40 | Debug   | Create FIFO | detail`;
//! * [`OrDie`]: end the program with a `perror`-style message that names the
//!   failing system call, e.g. `mkfifo: File exists`.

pub mod log;
pub mod sysv;

use std::fmt::Display;
use std::process;

/// Print `call: reason` on stderr, as `perror(call)` does, and exit with status 1.
pub fn die(call: &str, reason: impl Display) -> ! {
    eprintln!("{call}: {reason}");
    process::exit(1);
}

/// `result.or_die("shmget")` returns the value, or ends the program with
/// `shmget: <reason>` when the call failed.
pub trait OrDie<T> {
    fn or_die(self, call: &str) -> T;
}

impl<T, E: Display> OrDie<T> for Result<T, E> {
    fn or_die(self, call: &str) -> T {
        match self {
            Ok(value) => value,
            Err(reason) => die(call, reason),
        }
    }
}

/// Print a prompt without a newline and make sure it reaches the terminal now:
/// Rust's stdout, like C's stdio on a terminal, only flushes at a newline.
pub fn prompt(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).or_die("write");
}

/// One line typed on the terminal, without its `\n`; `None` at the end of
/// input (Ctrl-D at the start of a line).
pub fn read_line() -> Option<String> {
    let mut line = String::new();
    match std::io::stdin().read_line(&mut line).or_die("read") {
        0 => None,
        _ => Some(line.trim_end_matches('\n').to_string()),
    }
}
