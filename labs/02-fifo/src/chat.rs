//! The turns of `chat_user1` and `chat_user2` over the FIFO `myfifo`: at
//! each turn the writer opens it for writing, writes one line and closes it,
//! while the reader opens it for reading, reads that line and closes it.

use kit::OrDie;
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::{close, mkfifo, unlink, write};

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

/// Your turn: read a line from the terminal and send it. False when you
/// leave the chat with Ctrl-D: then the other side reads end of file.
pub fn speak() -> bool {
    kit::prompt("You: ");
    let Some(text) = kit::read_line() else {
        send(None);
        println!();
        println!("You left the chat.");
        return false;
    };
    send(Some(&text));
    true
}

/// The other's turn: receive their line and print it. False when they left;
/// the FIFO is then no longer needed and is removed.
pub fn listen(other: &str) -> bool {
    match receive() {
        Some(text) => {
            println!("{other}: {text}");
            true
        }
        None => {
            println!("{other} left the chat.");
            unlink(FIFO).or_die("unlink");
            false
        }
    }
}
