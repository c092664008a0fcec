//! Two unrelated processes find each other through System V shared memory
//! and take turns with SIGUSR2; this is the server, which sends typed lines.
//!
//! From seed 001, "独立进程间通信" (`serv.c`, with `clnt.c` as
//! `signal_client`). The server writes its own pid into the shared memory
//! and waits. The client reads that pid, writes its own next to it and
//! sends SIGUSR2. Now each knows the other's pid: the server writes each
//! typed line into the shared memory and sends SIGUSR2, the client reads it
//! and answers SIGUSR2, and only then may the server write the next line.
//! `quit` or Ctrl-D ends: the server sends `quit` to the client and removes
//! the segment and the key file.
//!
//! The server waits for two things at once, the terminal and the client's
//! signals, so its handler writes each signal into a pipe that it `poll`s
//! with the terminal (the self-pipe trick). It catches SIGINT and SIGTERM the
//! same way: Ctrl-C tells the client to quit and removes the segment. The
//! handler is installed before the pid is published, since a client may send
//! SIGUSR2 at once, and SIGUSR2 without a handler kills. SIGKILL cannot be
//! caught: after it the segment stays, and the next server says how to
//! remove it.
//!
//! The segment is made with mode 0600, not 0666: any user could otherwise
//! write a pid into it and have the server signal that process.

use std::path::Path;
use std::sync::atomic::Ordering;

use kit::sysv::{self, key_t, IPC_CREAT, IPC_EXCL};
use kit::OrDie;
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::signal::{kill, Signal};
use nix::sys::stat::Mode;
use nix::unistd::{close, getpid, unlink, Pid};
use signals::{next_event, Event, Mailbox, SignalPipe, KEY_FILE, KEY_PROJECT, QUIT};

fn main() {
    let signals = SignalPipe::catch(&[Signal::SIGUSR2, Signal::SIGINT, Signal::SIGTERM]);
    let key = make_key();
    let id = create_segment(key);
    let address = sysv::shmat(id).or_die("shmat");
    // SAFETY: a new segment is zero-filled, page-aligned and big enough for a
    // Mailbox; it stays attached until shmdt, after the last use.
    let mailbox = unsafe { Mailbox::at(address) };
    mailbox.server_pid.store(getpid().as_raw(), Ordering::Release);
    println!("server: wrote my pid {} into shared memory, waiting for a client", getpid());

    converse(mailbox, &signals);

    // SAFETY: the mailbox is not used any more.
    unsafe { sysv::shmdt(address) }.or_die("shmdt");
    sysv::shm_remove(id).or_die("shmctl");
    unlink(KEY_FILE).or_die("unlink");
    println!("server: removed the shared memory");
}

/// Create the key file if needed and make the key from it.
fn make_key() -> key_t {
    let fd = open(KEY_FILE, OFlag::O_CREAT | OFlag::O_WRONLY, Mode::S_IRUSR | Mode::S_IWUSR).or_die("open");
    close(fd).or_die("close");
    sysv::ftok(Path::new(KEY_FILE), KEY_PROJECT).or_die("ftok")
}

/// A new segment for `key`; a leftover one is reported with its removal.
fn create_segment(key: key_t) -> libc::c_int {
    match sysv::shmget(key, size_of::<Mailbox>(), IPC_CREAT | IPC_EXCL | 0o600) {
        Ok(id) => id,
        Err(Errno::EEXIST) => {
            println!("server: shared memory for key {key:#010x} exists: a server is running, or one was killed.");
            println!("Remove it with 'ipcrm -M {key:#010x}'.");
            std::process::exit(1);
        }
        Err(reason) => kit::die("shmget", reason),
    }
}

/// Wait for a client, then send it typed lines, one per turn, until `quit`,
/// Ctrl-D, SIGINT or SIGTERM.
fn converse(mailbox: &Mailbox, signals: &SignalPipe) {
    let Some(client) = wait_for_client(mailbox, signals) else { return };
    println!("server: SIGUSR2 from client pid {client}");
    while let Some(text) = next_line(signals) {
        if !send(mailbox, client, &text) || !wait_for_answer(signals) {
            break;
        }
    }
    send(mailbox, client, QUIT);
}

/// The client's pid, once it has written it and sent SIGUSR2; `None` if
/// SIGINT or SIGTERM came first.
fn wait_for_client(mailbox: &Mailbox, signals: &SignalPipe) -> Option<Pid> {
    loop {
        match signals.next() {
            Signal::SIGUSR2 => match mailbox.client_pid.load(Ordering::Acquire) {
                0 => continue, // from someone else than a client
                pid => return Some(Pid::from_raw(pid)),
            },
            other => {
                caught(other);
                return None;
            }
        }
    }
}

/// The next line to send, or `None` to end.
fn next_line(signals: &SignalPipe) -> Option<String> {
    kit::prompt("Send: ");
    loop {
        match next_event(Some(signals)) {
            Event::Line(text) if text == QUIT => return None,
            Event::Line(text) => return Some(text),
            Event::EndOfInput => {
                println!();
                return None;
            }
            // A late SIGUSR2 answers nothing we asked: keep waiting.
            Event::Signal(Signal::SIGUSR2) => continue,
            Event::Signal(other) => {
                caught(other);
                return None;
            }
        }
    }
}

/// Write `text` into the mailbox and tell the client with SIGUSR2.
fn send(mailbox: &Mailbox, client: Pid, text: &str) -> bool {
    mailbox.put(text);
    match kill(client, Signal::SIGUSR2) {
        Ok(()) => true,
        Err(reason) => {
            println!("server: kill: {reason} (the client is gone)");
            false
        }
    }
}

/// Wait for the client's SIGUSR2 saying it has read the text; false if
/// SIGINT or SIGTERM came instead.
fn wait_for_answer(signals: &SignalPipe) -> bool {
    match signals.next() {
        Signal::SIGUSR2 => {
            println!("server: SIGUSR2, the client has read it");
            true
        }
        other => {
            caught(other);
            false
        }
    }
}

fn caught(signal: Signal) {
    println!();
    println!("server: caught {signal}");
}
