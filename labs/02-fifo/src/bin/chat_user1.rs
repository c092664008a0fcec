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

use fifo::chat;

fn main() {
    chat::join();
    // This user speaks first.
    while chat::speak() && chat::listen("User2") {}
}
