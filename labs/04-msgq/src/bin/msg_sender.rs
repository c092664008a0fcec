//! Lines typed here travel to `msg_receiver` as messages of a System V queue.
//!
//! From seed 003, "5. 消息队列", the sending process. `ftok` makes a key from
//! the file `msgq.txt` and the project id `'B'`; `msgget` creates the queue for
//! that key; each line typed becomes one `msgsnd` of type 1. Ctrl-D (or a line
//! `end`) sends `end`, which tells the receiver to stop.
//!
//! Fixed:
//! * the seed removes the queue with `msgctl(IPC_RMID)` right after sending
//!   `end`. Removing a queue throws away the messages still in it, so a
//!   receiver that has not read them all yet loses them, and its `msgrcv`
//!   fails. Here the sender waits for the receiver's answer (a message of its
//!   own type, `DONE`) before it removes the queue;
//! * the seed makes the key file with `system("touch msgq.txt")`, ignoring
//!   failures, and lets the receiver delete it with `system("rm msgq.txt")`:
//!   here the sender makes it with `open` and, as its owner, removes it with
//!   `unlink`;
//! * the queue is created with `IPC_EXCL` and mode 0600 (not 0644): a queue
//!   left by an earlier run is reported instead of silently reused with old
//!   messages in it, and no other user can read the messages;
//! * every failure is reported and ends the program; the seed went on after
//!   a failed `msgsnd`.

use std::io::{self, BufRead};
use std::path::Path;
use std::process;

use kit::sysv::{ftok, key_t, msg_remove, msgget, msgrcv, msgsnd, IPC_CREAT, IPC_EXCL, MSG_MAX};
use kit::OrDie;
use msgq::{with_nul, DONE, TEXT};
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::{close, unlink};

const KEY_FILE: &str = "msgq.txt";
const PROJECT: u8 = b'B';

fn main() {
    let key = make_key();
    let msqid = create_queue(key);
    println!("message queue: ready to send messages.");
    println!("Enter lines of text, ^D to quit:");

    send_lines(msqid);

    // IPC_RMID would throw away what the receiver has not read yet: wait for
    // its answer first.
    println!("message queue: sent \"end\", waiting for the receiver to finish.");
    msgrcv(msqid, DONE, 0).or_die("msgrcv");
    msg_remove(msqid).or_die("msgctl");
    unlink(KEY_FILE).or_die("unlink");
    println!("message queue: removed (msgctl IPC_RMID).");
    println!("message queue: done sending messages.");
}

/// Send each line typed as one message, until a line `end`, or Ctrl-D,
/// which sends `end`.
fn send_lines(msqid: libc::c_int) {
    let mut stdin = io::stdin().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        if stdin.read_until(b'\n', &mut line).or_die("read") == 0 {
            send(msqid, b"end");
            return;
        }
        if line.ends_with(b"\n") {
            line.pop();
        }
        // The text and its NUL byte must fit in the receiver's buffer.
        if line.len() >= MSG_MAX {
            eprintln!("line too long: at most {} bytes, not sent", MSG_MAX - 1);
            continue;
        }
        send(msqid, &line);
        if line == b"end" {
            return;
        }
    }
}

/// Create the key file (`touch`, without a shell) and make a key from it.
fn make_key() -> key_t {
    let fd = open(KEY_FILE, OFlag::O_CREAT | OFlag::O_WRONLY, Mode::S_IRUSR | Mode::S_IWUSR).or_die("open");
    close(fd).or_die("close");
    ftok(Path::new(KEY_FILE), PROJECT).or_die("ftok")
}

/// A new queue for `key`, readable and writable by its owner only.
fn create_queue(key: key_t) -> libc::c_int {
    match msgget(key, IPC_CREAT | IPC_EXCL | 0o600) {
        Ok(msqid) => {
            println!("msgget: key {key:#010x}, msqid {msqid}");
            msqid
        }
        Err(Errno::EEXIST) => {
            // A sender killed before it removed its queue leaves it behind.
            let msqid = msgget(key, 0).or_die("msgget");
            eprintln!("msgget: a queue with key {key:#010x} exists already; remove it with: ipcrm -q {msqid}");
            process::exit(1);
        }
        Err(reason) => kit::die("msgget", reason),
    }
}

/// One message of type 1: the text and, as in the seed, its NUL byte.
fn send(msqid: libc::c_int, text: &[u8]) {
    msgsnd(msqid, TEXT, &with_nul(text), 0).or_die("msgsnd");
}
