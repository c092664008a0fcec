//! Write timestamped messages into a named pipe.
//!
//! From seed 002, "FIFO 有名管道", the writing program (with `fifo_reader`).
//! Usage: `fifo_writer [COUNT [PAUSE_MS]]`, by default 10 messages written
//! back to back. The seed paused 3 s between them, which hid its second bug.
//!
//! Fixed: the seed wrote `if ((fd == open(...)) < 0)`: `==` compares the
//! uninitialised `fd` with what `open` returned, the result (0 or 1) is never
//! below 0, and `fd` itself is never set: the FIFO was opened, its descriptor
//! thrown away, and every `write` went to whatever number `fd` happened to
//! hold. Here the descriptor is what `open` returns, or the program stops.
//!
//! Fixed: the seed wrote `n + 1` bytes, the NUL included, and relied on one
//! `read` per `write`. A FIFO is a byte stream: the reader may get two
//! messages in one `read`, and the seed's reader, printing with `%s`, stopped
//! at the first NUL and lost the second. Here each message ends with `\n`,
//! which the reader splits on.

use std::env;
use std::thread;
use std::time::Duration;

use kit::log::now;
use kit::OrDie;
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::{close, getpid, write};

const FIFO: &str = "fifo1";

fn main() {
    let (count, pause) = arguments();
    let pid = getpid();
    println!("I am pid {pid}");

    let fd = match open(FIFO, OFlag::O_WRONLY, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => kit::die("open", format!("{FIFO} does not exist, start fifo_reader first")),
        Err(reason) => kit::die("open", reason),
    };

    for i in 0..count {
        if i > 0 && !pause.is_zero() {
            thread::sleep(pause);
        }
        let message = format!("write info : pid {pid} sends {}\n", now());
        write(&fd, message.as_bytes()).or_die("write");
    }
    close(fd).or_die("close");
    println!("sent {count} messages to {FIFO}");
}

/// COUNT (default 10) and the pause between messages (default none).
fn arguments() -> (u64, Duration) {
    let args: Vec<String> = env::args().skip(1).collect();
    let number = |at: usize, default: u64| args.get(at).map_or(Some(default), |text| text.parse().ok());
    match (number(0, 10), number(1, 0)) {
        (Some(count), Some(ms)) if args.len() <= 2 => (count, Duration::from_millis(ms)),
        _ => {
            eprintln!("usage: fifo_writer [COUNT [PAUSE_MS]]");
            std::process::exit(2);
        }
    }
}
