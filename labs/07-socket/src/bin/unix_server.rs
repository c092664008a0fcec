//! The seed's exchange over a Unix domain socket: the server listens on the
//! socket file `hello.sock`, prints the client's message and answers.
//!
//! With `unix_client`, the seed 003 programs of "8. 套接字（socket）" moved
//! from TCP to `AF_UNIX`: the same `socket`, `bind`, `listen`, `accept`, but
//! the address is a path in the file system, and the data never leaves the
//! kernel. `bind` creates the socket file; the kernel does not remove it when
//! the socket closes, so the server `unlink`s it when it is done. A file left
//! by a server that could not clean up makes the next `bind` fail with
//! EADDRINUSE: the server then says how to remove it, rather than removing
//! it itself and stealing the name from a server that may still be running.
//!
//! The socket file is made with mode 0600 (`umask` around `bind`): connecting
//! needs write permission on it, so only its owner can connect. The kernel
//! also tells the server who the client is, `SO_PEERCRED`: its pid, uid and
//! gid, which a TCP server cannot know.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use kit::OrDie;
use nix::errno::Errno;
use nix::sys::socket::{
    accept, bind, getsockopt, listen, socket, sockopt, AddressFamily, Backlog, SockFlag, SockType, UnixAddr,
};
use nix::sys::stat::{umask, Mode};
use nix::unistd::{close, unlink};
use sockets::{recv_line, send_line, SOCKET_PATH};

fn main() {
    let listener = socket(AddressFamily::Unix, SockType::Stream, SockFlag::empty(), None).or_die("socket");
    bind_owner_only(&listener);
    listen(&listener, Backlog::new(3).or_die("listen")).or_die("listen");
    println!("Listening on {SOCKET_PATH}");

    let fd = accept(listener.as_raw_fd()).or_die("accept");
    // SAFETY: `accept` returned a new descriptor that nothing else owns.
    let connection = unsafe { OwnedFd::from_raw_fd(fd) };
    let peer = getsockopt(&connection, sockopt::PeerCredentials).or_die("getsockopt");
    println!("Connection from pid {}", peer.pid());

    match recv_line(&connection).or_die("recv") {
        Some(message) => println!("{message}"),
        None => println!("The client hung up without a message"),
    }
    send_line(&connection, "Hello from server").or_die("send");
    println!("Hello message sent");

    close(connection).or_die("close");
    close(listener).or_die("close");
    unlink(SOCKET_PATH).or_die("unlink");
}

/// Bind to `hello.sock`, creating the file with mode 0600.
fn bind_owner_only(listener: &OwnedFd) {
    let address = UnixAddr::new(SOCKET_PATH).or_die("bind");
    let old_mask = umask(Mode::from_bits_truncate(0o177));
    let bound = bind(listener.as_raw_fd(), &address);
    umask(old_mask);
    match bound {
        Ok(()) => {}
        Err(Errno::EADDRINUSE) => {
            println!("bind: {SOCKET_PATH} exists: a server is running, or one ended without removing it.");
            println!("Remove it with 'rm {SOCKET_PATH}'.");
            std::process::exit(1);
        }
        Err(reason) => kit::die("bind", reason),
    }
}
