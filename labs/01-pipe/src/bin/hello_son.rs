//! A parent sends one line to its child through an anonymous pipe.
//!
//! From seed 002, "匿名半双工管道". `pipe` gives two descriptors, a read end and
//! a write end; after `fork` both processes hold both ends, and each closes
//! the end it does not use, so the data flows one way only: parent to child.
//!
//! Fixed: the seed's parent exits right after its `write`, without waiting.
//! Its shell may then print the next prompt before the child has printed the
//! message, and the child is left an orphan. Here the parent calls `waitpid`
//! and prints only after the child has ended, so the order on the terminal
//! is always the same.

use std::io;
use std::os::fd::OwnedFd;

use kit::OrDie;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{close, fork, pipe, read, write, ForkResult, Pid};

const MESSAGE: &[u8] = b"hello my son\n";

fn main() {
    let (read_end, write_end) = pipe().or_die("pipe");
    // SAFETY: the program has a single thread, so the child may run any code.
    match unsafe { fork() }.or_die("fork") {
        ForkResult::Parent { child } => parent(child, read_end, write_end),
        ForkResult::Child => child(read_end, write_end),
    }
}

fn parent(child: Pid, read_end: OwnedFd, write_end: OwnedFd) {
    close(read_end).or_die("close");
    write(&write_end, MESSAGE).or_die("write");
    close(write_end).or_die("close");

    match waitpid(child, None).or_die("waitpid") {
        WaitStatus::Exited(_, code) => println!("parent: child exited with status {code}"),
        WaitStatus::Signaled(_, signal, _) => println!("parent: child was killed by {}", signal.as_str()),
        other => println!("parent: child changed state: {other:?}"),
    }
}

fn child(read_end: OwnedFd, write_end: OwnedFd) {
    close(write_end).or_die("close");
    let mut buf = [0u8; 255];
    let n = read(&read_end, &mut buf).or_die("read");
    close(read_end).or_die("close");

    // Like the seed, hand the bytes to write(2) on standard output as they came.
    let line = [format!("child: read {n} bytes: ").as_bytes(), &buf[..n]].concat();
    write(io::stdout(), &line).or_die("write");
}
