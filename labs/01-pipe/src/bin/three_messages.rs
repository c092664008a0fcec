//! A reader sees end of file only when every write end of the pipe is closed.
//!
//! From seed 003, "1. 管道（Pipe）". The parent writes three messages of 16
//! bytes each, closes its write end and waits; the child reads 16 bytes at a
//! time until `read` returns 0 (end of file), then prints `Finished reading`.
//!
//! After `fork` the child holds a copy of the write end too. The seed left the
//! child's `close(p[1])` commented out, and then its `read` never returns 0:
//! a write end is still open, its own, so more data could still come. Run with
//! `--keep-write-end` to see it: the three messages, then the child blocks in
//! `read` forever, and the parent in `waitpid`.

use std::env;
use std::os::fd::OwnedFd;

use kit::OrDie;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{close, fork, pipe, read, write, ForkResult, Pid};

const MSGSIZE: usize = 16;
// Each message is 15 characters and a NUL byte: 16 bytes, as in the seed.
const MESSAGES: [&[u8; MSGSIZE]; 3] = [b"hello, world #1\0", b"hello, world #2\0", b"hello, world #3\0"];

fn main() {
    let keep_write_end = match env::args().nth(1).as_deref() {
        None => false,
        Some("--keep-write-end") => true,
        Some(_) => {
            eprintln!("usage: three_messages [--keep-write-end]");
            std::process::exit(2);
        }
    };

    let (read_end, write_end) = pipe().or_die("pipe");
    // SAFETY: the program has a single thread, so the child may run any code.
    match unsafe { fork() }.or_die("fork") {
        ForkResult::Parent { child } => parent(child, read_end, write_end),
        ForkResult::Child => child(read_end, write_end, keep_write_end),
    }
}

fn parent(child: Pid, read_end: OwnedFd, write_end: OwnedFd) {
    close(read_end).or_die("close");
    for message in MESSAGES {
        write(&write_end, message).or_die("write");
    }
    close(write_end).or_die("close");

    match waitpid(child, None).or_die("waitpid") {
        WaitStatus::Exited(_, code) => println!("parent: child exited with status {code}"),
        WaitStatus::Signaled(_, signal, _) => println!("parent: child was killed by {}", signal.as_str()),
        other => println!("parent: child changed state: {other:?}"),
    }
}

fn child(read_end: OwnedFd, write_end: OwnedFd, keep_write_end: bool) {
    if keep_write_end {
        // The seed's bug, on purpose: this copy of the write end stays open.
        std::mem::forget(write_end);
    } else {
        close(write_end).or_die("close");
    }

    let mut inbuf = [0u8; MSGSIZE];
    loop {
        // A write of at most PIPE_BUF bytes lands in the pipe in one piece, and
        // each read asks for 16 bytes: one read, one message.
        let nbytes = read(&read_end, &mut inbuf).or_die("read");
        if nbytes == 0 {
            break;
        }
        // Print up to the NUL byte, as printf("%s") does.
        let text = inbuf[..nbytes].split(|&byte| byte == 0).next().unwrap_or_default();
        println!("{}", String::from_utf8_lossy(text));
    }
    println!("Finished reading");
}
