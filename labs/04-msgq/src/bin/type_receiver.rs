//! Take the messages `type_sender` queued, choosing them by type, and show
//! the order one `msgtyp` rule yields.
//!
//! From seeds 003 and 004, "消息队列". `msgrcv(msqid, buf, size, msgtyp, flags)`:
//! * `msgtyp == 0`: the oldest message, whatever its type (first in, first out);
//! * `msgtyp > 0`: the oldest message of exactly that type;
//! * `msgtyp < 0`: the oldest message of the lowest type that is at most
//!   `|msgtyp|`: with -2, all the messages of type 1 first, then those of
//!   type 2; a message of type 3 is never taken. (Seed 003 says "types at
//!   most msgtyp"; it is at most the absolute value, lowest type first.)
//!
//! With `IPC_NOWAIT`, `msgrcv` does not wait when no message matches: it
//! fails at once with `ENOMSG`, which here means "nothing left for this rule".

use std::env;
use std::path::Path;
use std::process;

use kit::sysv::{ftok, msgget, msgrcv, msgsnd, IPC_NOWAIT};
use kit::OrDie;
use libc::c_long;
use msgq::{DONE, DONE_TEXT};
use nix::errno::Errno;

const KEY_FILE: &str = "types.txt";
const PROJECT: u8 = b'T';

fn main() {
    let msgtyp = msgtyp_argument();
    let key = ftok(Path::new(KEY_FILE), PROJECT).or_die("ftok");
    let msqid = msgget(key, 0).or_die("msgget");
    println!("msgtyp {msgtyp}: {}", rule(msgtyp));

    loop {
        match msgrcv(msqid, msgtyp, IPC_NOWAIT) {
            Ok((mtype, bytes)) => println!("recvd: type {mtype}, \"{}\"", msgq::text(&bytes)),
            Err(Errno::ENOMSG) => {
                println!("msgrcv: ENOMSG, no message left that msgtyp {msgtyp} selects");
                break;
            }
            Err(reason) => kit::die("msgrcv", reason),
        }
    }

    msgsnd(msqid, DONE, DONE_TEXT, 0).or_die("msgsnd");
    println!("message queue: done receiving messages.");
}

/// What `msgrcv` takes for this `msgtyp`.
fn rule(msgtyp: c_long) -> String {
    match msgtyp {
        0 => "the oldest message, whatever its type".to_string(),
        1.. => format!("the oldest message of type {msgtyp}"),
        _ => format!("the oldest message of the lowest type, among types 1 to {}", msgtyp.unsigned_abs()),
    }
}

fn msgtyp_argument() -> c_long {
    match env::args().nth(1).map(|text| text.parse::<c_long>()) {
        Some(Ok(msgtyp)) => msgtyp,
        _ => {
            eprintln!("usage: type_receiver MSGTYP   (e.g. 0, 2 or -2)");
            process::exit(2);
        }
    }
}
