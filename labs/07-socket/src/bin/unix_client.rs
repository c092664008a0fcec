//! The seed's client over a Unix domain socket: it connects to the socket
//! file `hello.sock`, sends `Hello from client` and prints the answer.
//!
//! With `unix_server`, the seed 003 client of "8. 套接字（socket）" moved from
//! TCP to `AF_UNIX`: only the address changes, a path instead of an IP
//! address and a port. `connect` fails with ENOENT when there is no socket
//! file, and with ECONNREFUSED when the file is left from a server that is
//! gone.

use std::os::fd::AsRawFd;

use kit::OrDie;
use nix::sys::socket::{connect, socket, AddressFamily, SockFlag, SockType, UnixAddr};
use nix::unistd::close;
use sockets::{recv_line, send_line, SOCKET_PATH};

fn main() {
    let sock = socket(AddressFamily::Unix, SockType::Stream, SockFlag::empty(), None).or_die("socket");
    let address = UnixAddr::new(SOCKET_PATH).or_die("connect");
    connect(sock.as_raw_fd(), &address).or_die("connect");
    send_line(&sock, "Hello from client").or_die("send");
    println!("Hello message sent");

    match recv_line(&sock).or_die("recv") {
        Some(answer) => println!("{answer}"),
        None => println!("The server hung up without an answer"),
    }
    close(sock).or_die("close");
}
