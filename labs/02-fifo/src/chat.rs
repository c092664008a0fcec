//! The turns of `chat_user1` and `chat_user2` over the FIFO `myfifo`: at
//! each turn the writer opens it for writing, writes one line and closes it,
//! while the reader opens it for reading, reads that line and closes it.

use kit::OrDie;
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::{close, mkfifo, write};

use crate::LineReader;

pub const FIFO: &str = "myfifo";

/// Make the FIFO, owner only; either user may come first, and whoever does
/// creates it.
pub fn join() {
    match mkfifo(FIFO, Mode::S_IRUSR | Mode::S_IWUSR) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(reason) => kit::die("mkfifo", reason),
    }
}

/// Open for writing, write the line (if any) and close: the reader sees the
/// line, or end of file when there is none.
pub fn send(text: Option<&str>) {
    let fd = open(FIFO, OFlag::O_WRONLY, Mode::empty()).or_die("open");
    if let Some(text) = text {
        write(&fd, format!("{text}\n").as_bytes()).or_die("write");
    }
    close(fd).or_die("close");
}

/// Open for reading, read one line and close; `None` if the writer closed
/// its end without writing.
pub fn receive() -> Option<String> {
    let mut lines = LineReader::new(open(FIFO, OFlag::O_RDONLY, Mode::empty()).or_die("open"));
    let line = lines.read_line().or_die("read");
    close(lines.into_inner()).or_die("close");
    line
}
