//! Take the semaphore `lock_waiter` created and hold it until Enter is
//! pressed, or until this process is killed.
//!
//! From seed 004, "信号量": `struct sembuf`'s `sem_flg` may hold `SEM_UNDO`.
//! Then the kernel keeps, for this process, the sum of what its `semop`s
//! changed (the "adjustment"), and undoes it when the process ends, however
//! it ends. A holder killed by SIGKILL, which no program can catch, thus
//! still gives the lock back. With `--no-undo` the P is done without
//! `SEM_UNDO`: killed, the holder leaves the value at 0 and the waiter waits
//! for ever.
//!
//! Use `SEM_UNDO` on both P and V, or on neither: a P with it and a V
//! without it leaves an adjustment of +1, and the value goes to 2 when the
//! process ends, letting two processes in.

use std::env;
use std::path::Path;
use std::process;

use kit::sysv::{ftok, semget, semop, SEM_UNDO};
use kit::OrDie;

const KEY_FILE: &str = "lock.key";
const PROJECT: u8 = b'L';

fn main() {
    let flags = match env::args().nth(1).as_deref() {
        None => SEM_UNDO,
        Some("--no-undo") => 0,
        Some(_) => {
            eprintln!("usage: lock_holder [--no-undo]");
            process::exit(2);
        }
    };
    let key = ftok(Path::new(KEY_FILE), PROJECT).or_die("ftok");
    let semid = semget(key, 1, 0).or_die("semget");

    semop(semid, 0, -1, flags).or_die("semop");
    let undo = if flags == SEM_UNDO { "with SEM_UNDO" } else { "without SEM_UNDO" };
    println!("semop P {undo}: holding the semaphore");

    kit::prompt("Press Enter to give it back: ");
    // At the end of input too: a holder must not keep the lock for ever.
    kit::read_line();
    semop(semid, 0, 1, flags).or_die("semop");
    println!("semop V {undo}: gave it back");
}
