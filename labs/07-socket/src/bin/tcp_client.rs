//! A TCP client: it connects to `tcp_server`, sends `Hello from client` (or
//! the message given as argument) and prints the answer.
//!
//! From seed 003, "8. 套接字（socket）", the client. `socket` makes a TCP
//! socket and `connect` connects it to the server's address: the kernel
//! gives the client a free port of its own. Then both sides hold a connected
//! socket and `send` and `recv` on it.
//!
//! Fixed: the seed connects to the fixed port 8080; here the port is the one
//! the server wrote into `tcp.port`. The seed reports failures with bare
//! messages such as "Connection Failed" that hide the reason (refused?
//! unreachable?), never closes its socket, and prints what one `read`
//! returned as a C string. Here errors name the call and the reason, and the
//! answer is received up to its `\n`.

use std::os::fd::AsRawFd;

use kit::OrDie;
use nix::sys::socket::{connect, socket, AddressFamily, SockFlag, SockType, SockaddrIn};
use nix::unistd::close;
use sockets::{recv_line, send_line, PORT_FILE};

fn main() {
    let message = std::env::args().nth(1).unwrap_or_else(|| "Hello from client".to_string());
    let port = server_port();

    let sock = socket(AddressFamily::Inet, SockType::Stream, SockFlag::empty(), None).or_die("socket");
    connect(sock.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, port)).or_die("connect");
    send_line(&sock, &message).or_die("send");
    println!("Hello message sent");

    match recv_line(&sock).or_die("recv") {
        Some(answer) => println!("{answer}"),
        None => println!("The server hung up without an answer"),
    }
    close(sock).or_die("close");
}

/// The port `tcp_server` wrote into `tcp.port`.
fn server_port() -> u16 {
    let text = std::fs::read_to_string(PORT_FILE)
        .unwrap_or_else(|reason| kit::die(PORT_FILE, format!("{reason} (start tcp_server first)")));
    text.trim().parse().unwrap_or_else(|_| kit::die(PORT_FILE, format!("{:?} is not a port number", text.trim())))
}
