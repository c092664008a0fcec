//! The client of a one-way chat over a named pipe: it sends what you type.
//!
//! From seed 000, `pipe_client.cc`. `open` for writing blocks until the server
//! has the FIFO `fifo.ipc` open for reading. Each line typed is written to the
//! FIFO with its `\n`, which marks where one message ends (a FIFO is a byte
//! stream). Ctrl-D ends the client; so does Ctrl-C, and either way the kernel
//! closes the write end, so the server reads end of file.

use std::io;

use kit::log::error;
use kit::OrDie;
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::write;

const FIFO: &str = "fifo.ipc";

fn main() {
    let fd = match open(FIFO, OFlag::O_WRONLY, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => {
            error("Open FIFO", &format!("{FIFO} does not exist, start pipe_server first."));
            std::process::exit(1);
        }
        Err(reason) => kit::die("open", reason),
    };

    loop {
        kit::prompt("Send Message: ");
        let mut line = String::new();
        if io::stdin().read_line(&mut line).or_die("read") == 0 {
            break;
        }
        let message = format!("{}\n", line.trim_end_matches('\n'));
        write(&fd, message.as_bytes()).or_die("write");
    }
}
