//! A TCP server: it accepts clients one after another, prints what each one
//! sends and answers `Hello from server`.
//!
//! From seed 003, "8. 套接字（socket）", the server. `socket` makes a TCP
//! socket, `setsockopt(SO_REUSEADDR)` lets a restarted server bind its port
//! again at once, `bind` gives it an address, `listen` turns it into a
//! listening socket, and each `accept` returns a new, connected socket for
//! the next client, while the listening socket waits for more. `tcp_server N`
//! serves N clients in turn (one by default, as the seed): while it serves
//! one, the kernel completes the connections of the others and queues them,
//! up to listen's backlog, until the next `accept`.
//!
//! Fixed: the seed binds the fixed port 8080 on every interface
//! (`INADDR_ANY`): reachable from the network, and refused when another
//! program holds the port. This server binds 127.0.0.1 with port 0, so the
//! kernel picks a free port; `getsockname` tells which, and the server writes
//! it into `tcp.port` for the client (and removes the file when it ends). The
//! seed passes `SO_REUSEADDR | SO_REUSEPORT` as one option name: option names
//! are numbers, not flags (2 | 15 is 15, so only SO_REUSEPORT was set); each
//! option takes its own call. It tests `socket(...) == 0` where failure is
//! -1, and prints its buffer after one `read`, trusting that the whole message
//! came in one piece and that a NUL follows it; here messages end with `\n`
//! and are received until it arrives.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use kit::OrDie;
use nix::sys::socket::{
    accept, bind, getpeername, getsockname, listen, setsockopt, socket, sockopt, AddressFamily, Backlog, SockFlag,
    SockType, SockaddrIn,
};
use nix::unistd::{close, unlink};
use sockets::{recv_line, send_line, PORT_FILE};

fn main() {
    let clients: u32 = match std::env::args().nth(1) {
        None => 1,
        Some(count) => count.parse().unwrap_or_else(|_| kit::die("usage", "tcp_server [NUMBER_OF_CLIENTS]")),
    };

    let listener = socket(AddressFamily::Inet, SockType::Stream, SockFlag::empty(), None).or_die("socket");
    setsockopt(&listener, sockopt::ReuseAddr, &true).or_die("setsockopt");
    // Port 0: the kernel chooses a free port.
    bind(listener.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0)).or_die("bind");
    listen(&listener, Backlog::new(3).or_die("listen")).or_die("listen");
    let address: SockaddrIn = getsockname(listener.as_raw_fd()).or_die("getsockname");
    std::fs::write(PORT_FILE, format!("{}\n", address.port())).or_die(PORT_FILE);
    println!("Listening on {address}");

    for number in 1..=clients {
        serve(&listener, number);
    }
    close(listener).or_die("close");
    unlink(PORT_FILE).or_die("unlink");
}

/// Accept the next client, print its message, answer it, hang up.
fn serve(listener: &OwnedFd, number: u32) {
    let fd = accept(listener.as_raw_fd()).or_die("accept");
    // SAFETY: `accept` returned a new descriptor that nothing else owns.
    let connection = unsafe { OwnedFd::from_raw_fd(fd) };
    let peer: SockaddrIn = getpeername(connection.as_raw_fd()).or_die("getpeername");
    println!("Connection {number} from {peer}");

    match recv_line(&connection).or_die("recv") {
        Some(message) => println!("{message}"),
        None => println!("The client hung up without a message"),
    }
    send_line(&connection, "Hello from server").or_die("send");
    println!("Hello message sent");
    close(connection).or_die("close");
}
