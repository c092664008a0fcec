//! Send four messages into a queue that has room for two, and see what
//! `msgsnd` does when the queue is full: wait, or with `--nowait` fail at once
//! with `EAGAIN`.
//!
//! From seed 003, "5. 消息队列" (`msgsnd`'s `msgflg`) and its note on pipes: a
//! writer into a full buffer waits until the reader takes something out. A
//! queue is full when the text bytes in it would pass its limit `msg_qbytes`
//! (16384 by default). The owner may lower the limit with `msgctl(IPC_SET)`;
//! here it becomes 32 bytes, room for two messages of 16 bytes.
//!
//! * Without `IPC_NOWAIT`, `msgsnd` waits until `slow_receiver` takes a
//!   message. The sender looks at the queue first (`msgctl(IPC_STAT)`) only
//!   to say that it is going to wait.
//! * With `IPC_NOWAIT`, `msgsnd` never waits: it fails with `EAGAIN` and the
//!   program decides what to do. This one asks you when to try again.
//!
//! As in `msg_sender`, the last message is `end`, and the sender removes the
//! queue once the receiver answers that it has read everything.

use std::env;
use std::path::Path;
use std::process;

use kit::sysv::{ftok, key_t, msg_remove, msg_set, msg_stat, msgget, msgrcv, msgsnd, IPC_CREAT, IPC_EXCL, IPC_NOWAIT};
use kit::OrDie;
use msgq::{DONE, TEXT};
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::{close, unlink};

const KEY_FILE: &str = "full.txt";
const PROJECT: u8 = b'F';

/// Every message carries this many bytes of text, padded with NUL bytes.
const SIZE: usize = 16;
/// The queue's limit leaves room for this many messages.
const ROOM: usize = 2;
const MESSAGES: [&str; 4] = ["message 1", "message 2", "message 3", "end"];

fn main() {
    let nowait = nowait_argument();
    let key = make_key();
    let msqid = msgget(key, IPC_CREAT | IPC_EXCL | 0o600).or_die("msgget");
    println!("msgget: key {key:#010x}, msqid {msqid}");
    limit_queue(msqid);

    for text in MESSAGES {
        if nowait {
            send_or_retry(msqid, text);
        } else {
            send_waiting(msqid, text);
        }
    }

    println!("message queue: sent \"end\", waiting for the receiver to finish.");
    msgrcv(msqid, DONE, 0).or_die("msgrcv");
    remove_queue(msqid);
}

/// Lower the queue's limit `msg_qbytes` so that two messages fill it.
fn limit_queue(msqid: libc::c_int) {
    let mut info = msg_stat(msqid).or_die("msgctl");
    info.msg_qbytes = (ROOM * SIZE) as libc::msglen_t;
    msg_set(msqid, &mut info).or_die("msgctl");
    println!("msgctl(IPC_SET): msg_qbytes = {}, room for {ROOM} messages of {SIZE} bytes", info.msg_qbytes);
}

/// Without `IPC_NOWAIT`: `msgsnd` waits while the queue has no room.
fn send_waiting(msqid: libc::c_int, text: &str) {
    if is_full(msqid) {
        println!("queue full: msgsnd waits until the receiver takes a message");
    }
    msgsnd(msqid, TEXT, &message(text), 0).or_die("msgsnd");
    report_queued(msqid, text);
}

/// With `IPC_NOWAIT`: `msgsnd` fails with `EAGAIN` while the queue has no
/// room; try again each time Enter is pressed, give up at Ctrl-D.
fn send_or_retry(msqid: libc::c_int, text: &str) {
    loop {
        match msgsnd(msqid, TEXT, &message(text), IPC_NOWAIT) {
            Ok(()) => return report_queued(msqid, text),
            Err(Errno::EAGAIN) => println!("msgsnd: EAGAIN, the queue is full: \"{text}\" not sent"),
            Err(reason) => kit::die("msgsnd", reason),
        }
        kit::prompt("Press Enter to try again: ");
        if kit::read_line().is_none() {
            println!();
            println!("giving up.");
            remove_queue(msqid);
            process::exit(1);
        }
    }
}

/// Would one more message pass the limit? (`__msg_cbytes` is the `msg_cbytes`
/// of the man page: the text bytes now in the queue.)
fn is_full(msqid: libc::c_int) -> bool {
    let info = msg_stat(msqid).or_die("msgctl");
    info.__msg_cbytes as usize + SIZE > info.msg_qbytes as usize
}

fn report_queued(msqid: libc::c_int, text: &str) {
    let info = msg_stat(msqid).or_die("msgctl");
    println!(
        "msgsnd: \"{text}\" queued; msg_qnum = {}, {} of {} bytes used",
        info.msg_qnum, info.__msg_cbytes, info.msg_qbytes
    );
}

/// `text` padded with NUL bytes to `SIZE` bytes.
fn message(text: &str) -> [u8; SIZE] {
    let mut bytes = [0; SIZE];
    bytes[..text.len()].copy_from_slice(text.as_bytes());
    bytes
}

/// Create the key file and make a key from it.
fn make_key() -> key_t {
    let fd = open(KEY_FILE, OFlag::O_CREAT | OFlag::O_WRONLY, Mode::S_IRUSR | Mode::S_IWUSR).or_die("open");
    close(fd).or_die("close");
    ftok(Path::new(KEY_FILE), PROJECT).or_die("ftok")
}

fn remove_queue(msqid: libc::c_int) {
    msg_remove(msqid).or_die("msgctl");
    unlink(KEY_FILE).or_die("unlink");
    println!("message queue: removed (msgctl IPC_RMID).");
}

fn nowait_argument() -> bool {
    match env::args().nth(1).as_deref() {
        None => false,
        Some("--nowait") => true,
        Some(_) => {
            eprintln!("usage: full_sender [--nowait]");
            process::exit(2);
        }
    }
}
