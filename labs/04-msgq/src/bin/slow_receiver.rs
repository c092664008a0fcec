//! Take the messages of `full_sender`, one each time Enter is pressed: a
//! receiver slower than its sender, so that the queue fills up.
//!
//! From seed 003, "5. 消息队列", the receiving process, made to wait for you
//! before each `msgrcv`. Each message taken makes room in the queue, and a
//! sender waiting in `msgsnd` goes on. Ctrl-D takes the rest without asking.
//! After `end` it answers the sender with a message of type `DONE`, so that
//! the sender may remove the queue.

use std::path::Path;

use kit::sysv::{ftok, msgget, msgrcv, msgsnd};
use kit::OrDie;
use msgq::{DONE, DONE_TEXT, TEXT};

const KEY_FILE: &str = "full.txt";
const PROJECT: u8 = b'F';

fn main() {
    let key = ftok(Path::new(KEY_FILE), PROJECT).or_die("ftok");
    let msqid = msgget(key, 0).or_die("msgget");
    println!("message queue: ready to receive messages, one each time you press Enter.");

    let mut ask = true;
    loop {
        if ask {
            kit::prompt("Press Enter to take a message: ");
            if kit::read_line().is_none() {
                println!();
                println!("end of input: taking the rest without asking.");
                ask = false;
            }
        }
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
