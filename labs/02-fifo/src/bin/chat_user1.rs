//! Two people chat in turns over one named pipe; this is the one who starts.
//!
//! From seed 003, "2. 命名管道", process 1 (with `chat_user2` as process 2).
//! A FIFO carries data one way at a time, so the two take turns: at each
//! turn the writer opens `myfifo` for writing, writes one line and closes it,
//! while the reader opens it for reading, reads that line and closes it. Each
//! `open` blocks until the other side opens the other end, so the two meet
//! at every turn, and a reader can never see its own message: it opens the
//! FIFO for reading only after its write end is closed, and its open returns
//! only when the other side, done reading, opens for writing.
//!
//! Fixed: the seed writes `strlen + 1` bytes, the NUL included, and keeps the
//! `\n` that `fgets` leaves, so every message is printed with a blank line
//! after it. Here a message is the line without its `\n`, sent with one `\n`
//! that ends it. The seed never ends; here Ctrl-D at your turn leaves the
//! chat: the leaver opens the FIFO and closes it without writing, the other
//! side reads end of file before any line, says so and removes the FIFO.
//! The FIFO lives in the current directory with mode 0600, not in `/tmp`
//! with mode 0666, where any user could read or write it.

use std::io;

use kit::OrDie;
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::{close, mkfifo, unlink, write};

use fifo::LineReader;

const FIFO: &str = "myfifo";

fn main() {
    // Either user may come first: whoever does creates the FIFO.
    match mkfifo(FIFO, Mode::S_IRUSR | Mode::S_IWUSR) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(reason) => kit::die("mkfifo", reason),
    }

    loop {
        kit::prompt("You: ");
        let Some(text) = read_terminal_line() else {
            send(None);
            println!();
            println!("You left the chat.");
            return;
        };
        send(Some(&text));

        match receive() {
            Some(text) => println!("User2: {text}"),
            None => {
                println!("User2 left the chat.");
                unlink(FIFO).or_die("unlink");
                return;
            }
        }
    }
}

/// One line typed on the terminal without its `\n`, or `None` on Ctrl-D.
fn read_terminal_line() -> Option<String> {
    let mut line = String::new();
    match io::stdin().read_line(&mut line).or_die("read") {
        0 => None,
        _ => Some(line.trim_end_matches('\n').to_string()),
    }
}

/// Open for writing, write the line (if any) and close: the reader sees the
/// line, or end of file when there is none.
fn send(text: Option<&str>) {
    let fd = open(FIFO, OFlag::O_WRONLY, Mode::empty()).or_die("open");
    if let Some(text) = text {
        write(&fd, format!("{text}\n").as_bytes()).or_die("write");
    }
    close(fd).or_die("close");
}

/// Open for reading, read one line and close; `None` if the writer closed
/// its end without writing.
fn receive() -> Option<String> {
    let mut lines = LineReader::new(open(FIFO, OFlag::O_RDONLY, Mode::empty()).or_die("open"));
    let line = lines.read_line().or_die("read");
    close(lines.into_inner()).or_die("close");
    line
}
