//! What the programs of this lab share: the message types of their small
//! protocol, and how a message's text is printed.
//!
//! Every sender creates its queue and is the one that removes it. So that it
//! never removes the queue while a receiver still reads, the receiver answers
//! with a message of type [`DONE`] once it has read everything, and the
//! sender waits for that answer before `msgctl(IPC_RMID)`.

use libc::c_long;

/// The type of a message that carries text, as in seed 003 (`buf.mtype = 1`).
pub const TEXT: c_long = 1;

/// The type of the receiver's answer "I have read everything". A type of its
/// own, higher than any the programs use for text, so that a receiver that
/// selects text by type never takes it, and the sender can wait for it alone.
pub const DONE: c_long = 100;

/// The text a receiver sends with its answer.
pub const DONE_TEXT: &[u8] = b"done\0";

/// The text of a message up to its first NUL byte, as C's `printf("%s")`
/// prints it: the senders send each text with a NUL byte after it, so that a
/// C receiver can print it, as the seed's does.
pub fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&byte| byte == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// `text` and a NUL byte, ready for `msgsnd`.
pub fn with_nul(text: &[u8]) -> Vec<u8> {
    let mut bytes = text.to_vec();
    bytes.push(0);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_stops_at_the_first_nul() {
        assert_eq!(text(b"end\0\0junk"), "end");
        assert_eq!(text(b"no nul"), "no nul");
        assert_eq!(text(&with_nul(b"hello")), "hello");
    }
}
