//! A parent and its child talk both ways over a pair of connected sockets.
//!
//! Goes with seed 003's "8. 套接字（socket）": `socketpair(AF_UNIX,
//! SOCK_STREAM)` returns two sockets already connected to each other, with no
//! address, no file and no `listen`/`accept`. Unlike `pipe`, each end both
//! sends and receives. After `fork` each process closes the end it does not
//! use: the parent keeps one, the child the other.
//!
//! The parent prints the answer only after receiving it, and the child
//! prints before answering, so the lines come in the same order every time.

use std::os::fd::OwnedFd;

use kit::OrDie;
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{close, fork, ForkResult, Pid};
use sockets::{recv_line, send_line};

fn main() {
    let (parent_end, child_end) =
        socketpair(AddressFamily::Unix, SockType::Stream, None, SockFlag::empty()).or_die("socketpair");
    // SAFETY: the program has a single thread, so the child may run any code.
    match unsafe { fork() }.or_die("fork") {
        ForkResult::Parent { child } => {
            close(child_end).or_die("close");
            parent(child, parent_end);
        }
        ForkResult::Child => {
            close(parent_end).or_die("close");
            child(child_end);
        }
    }
}

fn parent(child: Pid, socket: OwnedFd) {
    send_line(&socket, "Hello from parent").or_die("send");
    match recv_line(&socket).or_die("recv") {
        Some(answer) => println!("parent: received {answer:?}"),
        None => println!("parent: the child hung up without an answer"),
    }
    close(socket).or_die("close");

    match waitpid(child, None).or_die("waitpid") {
        WaitStatus::Exited(_, code) => println!("parent: child exited with status {code}"),
        other => println!("parent: child ended: {other:?}"),
    }
}

fn child(socket: OwnedFd) {
    match recv_line(&socket).or_die("recv") {
        Some(message) => println!("child: received {message:?}"),
        None => println!("child: the parent hung up without a message"),
    }
    send_line(&socket, "Hello from child").or_die("send");
    close(socket).or_die("close");
}
