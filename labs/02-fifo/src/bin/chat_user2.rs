//! Two people chat in turns over one named pipe; this one answers.
//!
//! From seed 003, "2. 命名管道", process 2 (with `chat_user1` as process 1).
//! Process 1 speaks first, so this one starts by reading; then the two take
//! turns. See `chat_user1` for how the turns meet at each `open`.
//!
//! Fixed, as in `chat_user1`: no NUL byte and no doubled `\n` in a message,
//! Ctrl-D at your turn leaves the chat (the other side then removes the FIFO),
//! and the FIFO is `myfifo` in the current directory with mode 0600.

use fifo::chat;

fn main() {
    chat::join();
    // This user listens first.
    while chat::listen("User1") && chat::speak() {}
}
