//! Two people chat in turns over one named pipe; this one answers.
//!
//! From seed 003, "2. 命名管道", process 2 (with `chat_user1` as process 1).
//! Process 1 speaks first, so this one starts by reading; then the two take
//! turns. See `chat_user1` for how the turns meet at each `open`.
//!
//! Fixed, as in `chat_user1`: no NUL byte and no doubled `\n` in a message,
//! Ctrl-D at your turn leaves the chat (the other side then removes the FIFO),
//! and the FIFO is `myfifo` in the current directory with mode 0600.

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
        match receive() {
            Some(text) => println!("User1: {text}"),
            None => {
                println!("User1 left the chat.");
                unlink(FIFO).or_die("unlink");
                return;
            }
        }

        kit::prompt("You: ");
        let Some(text) = read_terminal_line() else {
            send(None);
            println!();
            println!("You left the chat.");
            return;
        };
        send(Some(&text));
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
