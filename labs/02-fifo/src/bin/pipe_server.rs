//! The server of a one-way chat over a named pipe: it prints what clients send.
//!
//! From seed 000, `pipe_server.cc`. `mkfifo` makes the FIFO `fifo.ipc` in the
//! current directory; `open` for reading blocks until a client opens it for
//! writing; each `\n`-ended message becomes a log line. When the client
//! quits (even by Ctrl-C) the kernel closes its end, `read` returns 0, and the
//! server closes and removes the FIFO.
//!
//! Changed: the FIFO is made with mode 0600, readable and writable by its
//! owner only, not the seed's 0666 that lets any user inject messages.

use kit::log::{debug, error, notice, warning};
use kit::OrDie;
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::{close, mkfifo, unlink};

use fifo::LineReader;

const FIFO: &str = "fifo.ipc";

fn main() {
    match mkfifo(FIFO, Mode::S_IRUSR | Mode::S_IWUSR) {
        Ok(()) => debug("Create FIFO", ""),
        Err(Errno::EEXIST) => {
            error("FIFO exists", &format!("The FIFO {FIFO} exists, use 'rm {FIFO}' to remove it."));
            std::process::exit(1);
        }
        Err(reason) => kit::die("mkfifo", reason),
    }

    let fd = open(FIFO, OFlag::O_RDONLY, Mode::empty()).or_die("open");
    debug("Open FIFO", "");

    let mut messages = LineReader::new(fd);
    while let Some(message) = messages.read_line().or_die("read") {
        notice("Receive", &format!("Message: {message}"));
    }
    warning("Read EOF", "Client quit, Server quit too.");

    close(messages.into_inner()).or_die("close");
    debug("Close FIFO", "");
    unlink(FIFO).or_die("unlink");
    debug("Unlink FIFO", "");
}
