//! Read messages from a named pipe until every writer has gone.
//!
//! From seed 002, "FIFO 有名管道", the reading program (with `fifo_writer`).
//! It makes the FIFO `fifo1` in the current directory if it is not there
//! (mode 0600), opens it for reading, which blocks until a writer opens it,
//! prints each message, and at end of file removes the FIFO.
//!
//! Fixed: the seed printed each `read` buffer with `printf("%s")`. A FIFO is
//! a byte stream that keeps no boundaries between writes: when two messages
//! were waiting, one `read` returned both, `%s` stopped at the NUL byte that
//! ended the first one, and the second was lost. Here each message ends with
//! `\n` and the reader splits what it reads at every `\n` (see `LineReader`).

use kit::OrDie;
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::{close, mkfifo, unlink};

use fifo::LineReader;

const FIFO: &str = "fifo1";

fn main() {
    match mkfifo(FIFO, Mode::S_IRUSR | Mode::S_IWUSR) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(reason) => kit::die("mkfifo", reason),
    }
    println!("waiting for a writer on {FIFO}");

    let fd = open(FIFO, OFlag::O_RDONLY, Mode::empty()).or_die("open");
    let mut messages = LineReader::new(fd);
    while let Some(message) = messages.read_line().or_die("read") {
        println!("read info from {FIFO} : {message}");
    }
    println!("end of file: no writer has {FIFO} open any more");

    close(messages.into_inner()).or_die("close");
    unlink(FIFO).or_die("unlink");
}
