//! What the programs of this lab share: reading messages framed by `\n`.
//!
//! A pipe or a FIFO is a byte stream: it keeps no boundaries between writes.
//! One `read` may return half a message, or two messages written back to back
//! in one piece. So each message ends with `\n`, and the reader splits what it
//! reads at every `\n`, keeping the bytes after the last one for the next call.

pub mod chat;

use std::os::fd::AsFd;

use nix::unistd::read;

/// At most this many bytes per `read`: `PIPE_BUF` on Linux.
const CHUNK: usize = 4096;

pub struct LineReader<Fd> {
    fd: Fd,
    pending: Vec<u8>,
}

impl<Fd: AsFd> LineReader<Fd> {
    pub fn new(fd: Fd) -> Self {
        LineReader { fd, pending: Vec::new() }
    }

    /// The next message without its `\n`, or `None` at end of file: every
    /// writer has closed its end. The error is the one `read` failed with.
    pub fn read_line(&mut self) -> nix::Result<Option<String>> {
        loop {
            if let Some(end) = self.pending.iter().position(|&byte| byte == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=end).collect();
                return Ok(Some(String::from_utf8_lossy(&line[..end]).into_owned()));
            }
            let mut buf = [0u8; CHUNK];
            let n = read(&self.fd, &mut buf)?;
            if n == 0 {
                // A last message without its `\n` still counts.
                if self.pending.is_empty() {
                    return Ok(None);
                }
                let line = std::mem::take(&mut self.pending);
                return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
            }
            self.pending.extend_from_slice(&buf[..n]);
        }
    }

    /// Give the descriptor back, e.g. to `close` it.
    pub fn into_inner(self) -> Fd {
        self.fd
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::unistd::{pipe, write};

    #[test]
    fn messages_are_split_at_newlines_whatever_the_writes() {
        let (read_end, write_end) = pipe().unwrap();
        write(&write_end, b"one\ntw").unwrap();
        write(&write_end, b"o\n\nlast").unwrap();
        drop(write_end);
        let mut lines = LineReader::new(read_end);
        let mut got = Vec::new();
        while let Some(line) = lines.read_line().unwrap() {
            got.push(line);
        }
        assert_eq!(got, ["one", "two", "", "last"]);
    }
}
