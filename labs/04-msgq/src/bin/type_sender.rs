//! Fill a queue with six messages of types 3, 1, 2, 1, 3, 2, for
//! `type_receiver` to take by type.
//!
//! From seeds 003 and 004, "消息队列": every message carries a type (`mtype`,
//! a number above 0) and `msgrcv` may choose by it instead of taking the
//! oldest message. Each text says where the message stands in the order of
//! sending ("1st" ... "6th"), so the receiver's output shows which message
//! each rule picks.
//!
//! Once the receiver answers (type `DONE`), the sender looks at how many
//! messages are left (`msgctl(IPC_STAT)`, field `msg_qnum`) and removes the
//! queue: `IPC_RMID` throws away whatever is still in it.

use std::path::Path;

use kit::sysv::{ftok, key_t, msg_remove, msg_stat, msgget, msgrcv, msgsnd, IPC_CREAT, IPC_EXCL};
use kit::OrDie;
use libc::c_long;
use msgq::{with_nul, DONE};
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::{close, unlink};

const KEY_FILE: &str = "types.txt";
const PROJECT: u8 = b'T';

/// The messages, in the order they are sent: (type, text).
const MESSAGES: [(c_long, &str); 6] = [(3, "1st"), (1, "2nd"), (2, "3rd"), (1, "4th"), (3, "5th"), (2, "6th")];

fn main() {
    let key = make_key();
    let msqid = msgget(key, IPC_CREAT | IPC_EXCL | 0o600).or_die("msgget");
    println!("msgget: key {key:#010x}, msqid {msqid}");

    for (mtype, text) in MESSAGES {
        msgsnd(msqid, mtype, &with_nul(text.as_bytes()), 0).or_die("msgsnd");
        println!("msgsnd: type {mtype}, \"{text}\"");
    }
    println!("sent {} messages, waiting for the receiver to finish.", MESSAGES.len());

    msgrcv(msqid, DONE, 0).or_die("msgrcv");
    let left = msg_stat(msqid).or_die("msgctl").msg_qnum;
    msg_remove(msqid).or_die("msgctl");
    unlink(KEY_FILE).or_die("unlink");
    println!("msgctl(IPC_RMID): queue removed with the {left} messages the receiver left in it.");
}

/// Create the key file and make a key from it.
fn make_key() -> key_t {
    let fd = open(KEY_FILE, OFlag::O_CREAT | OFlag::O_WRONLY, Mode::S_IRUSR | Mode::S_IWUSR).or_die("open");
    close(fd).or_die("close");
    ftok(Path::new(KEY_FILE), PROJECT).or_die("ftok")
}
