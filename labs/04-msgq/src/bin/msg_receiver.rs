//! Print the messages `msg_sender` puts in the queue, until `end`.
//!
//! From seed 003, "5. 消息队列", the receiving process. It makes the same key
//! as the sender (`ftok("msgq.txt", 'B')`), opens the existing queue with
//! `msgget` (no `IPC_CREAT`: the sender must be started first), and takes one
//! message at a time with `msgrcv`, which waits while the queue holds none.
//! Messages stay in the queue until someone takes them, so a receiver started
//! after the sender has finished typing still gets them all.
//!
//! Fixed: the seed deletes the key file with `system("rm msgq.txt")`, a file
//! it did not create, through a shell. Here the sender removes what it
//! created; the receiver answers with a message of type `DONE` once it has
//! read `end`, and the sender removes the queue only then.

use std::path::Path;

use kit::sysv::{ftok, msgget, msgrcv, msgsnd};
use kit::OrDie;
use msgq::{DONE, DONE_TEXT, TEXT};

const KEY_FILE: &str = "msgq.txt";
const PROJECT: u8 = b'B';

fn main() {
    let key = ftok(Path::new(KEY_FILE), PROJECT).or_die("ftok");
    let msqid = msgget(key, 0).or_die("msgget");
    println!("message queue: ready to receive messages.");

    loop {
        // Type 1 only: the text messages (0 would take the first of any type).
        let (_, bytes) = msgrcv(msqid, TEXT, 0).or_die("msgrcv");
        let text = msgq::text(&bytes);
        println!("recvd: \"{text}\"");
        if text == "end" {
            break;
        }
    }

    msgsnd(msqid, DONE, DONE_TEXT, 0).or_die("msgsnd");
    println!("message queue: done receiving messages.");
}
