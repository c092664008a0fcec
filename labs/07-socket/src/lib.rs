//! What the programs of this lab share: the file that tells the TCP port, the
//! Unix socket's path, and sending and receiving one line over a stream socket.
//!
//! A stream socket, TCP or Unix, carries bytes and keeps no boundaries between
//! sends: one `recv` may return part of what the other side sent, or more. So
//! each message ends with `\n`, `send_line` sends until every byte is gone and
//! `recv_line` receives until it has the `\n` (or the other side closed).

use std::os::fd::{AsRawFd, OwnedFd};

use nix::sys::socket::{recv, send, MsgFlags};

/// Where `tcp_server` writes the port the kernel gave it, in the current
/// directory; `tcp_client` reads it there.
pub const PORT_FILE: &str = "tcp.port";

/// The Unix domain socket's file, in the current directory.
pub const SOCKET_PATH: &str = "hello.sock";

/// Send `text` and a `\n`; `send` may take fewer bytes than offered.
pub fn send_line(socket: &OwnedFd, text: &str) -> nix::Result<()> {
    let line = format!("{text}\n");
    let mut rest = line.as_bytes();
    while !rest.is_empty() {
        let sent = send(socket.as_raw_fd(), rest, MsgFlags::empty())?;
        rest = &rest[sent..];
    }
    Ok(())
}

/// Receive one line and return it without its `\n`, or `None` if the other
/// side closed the connection before sending anything. The lab's programs
/// send one line each way per connection, so nothing follows the `\n`.
pub fn recv_line(socket: &OwnedFd) -> nix::Result<Option<String>> {
    let mut line = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let count = recv(socket.as_raw_fd(), &mut buf, MsgFlags::empty())?;
        if count == 0 {
            // End of stream: a last line without its `\n` still counts.
            return Ok((!line.is_empty()).then(|| String::from_utf8_lossy(&line).into_owned()));
        }
        line.extend_from_slice(&buf[..count]);
        if let Some(end) = line.iter().position(|&byte| byte == b'\n') {
            line.truncate(end);
            return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};

    #[test]
    fn a_line_arrives_whole_even_in_pieces() {
        let (left, right) = socketpair(AddressFamily::Unix, SockType::Stream, None, SockFlag::empty()).unwrap();
        send(left.as_raw_fd(), b"Hel", MsgFlags::empty()).unwrap();
        send(left.as_raw_fd(), b"lo\n", MsgFlags::empty()).unwrap();
        assert_eq!(recv_line(&right).unwrap().as_deref(), Some("Hello"));
        send_line(&left, "again").unwrap();
        drop(left);
        assert_eq!(recv_line(&right).unwrap().as_deref(), Some("again"));
        assert_eq!(recv_line(&right).unwrap(), None);
    }
}
