//! Create a System V semaphore used as a lock, and wait for it while
//! `lock_holder` holds it.
//!
//! From seed 004, "信号量": `semget` on a key creates a set of one semaphore,
//! `semctl(SETVAL)` gives it the value 1 (free), and `semop` with -1 (P) takes
//! it, waiting while another process holds it. Unrelated processes find the
//! set through the key `ftok("lock.key", 'L')`.
//!
//! The waiter owns the set: it creates the key file and the set, and removes
//! both once it got the lock and gave it back. Whether it ever gets the lock
//! depends on how the holder ends: a holder that releases it (V), or one
//! killed while it holds it with `SEM_UNDO`, lets the waiter go on; one killed
//! without `SEM_UNDO` leaves the value at 0 for ever, and the waiter waits
//! for ever.
//!
//! Changed from the seed: the set is created with `IPC_EXCL` and mode 0600.
//! `semget` creates the semaphores with the value 0 and `SETVAL` sets it in a
//! second call; `IPC_EXCL` makes sure this process is the one that creates
//! and initializes the set.

use std::path::Path;
use std::process;

use kit::sysv::{ftok, key_t, sem_remove, sem_setval, semget, semop, IPC_CREAT, IPC_EXCL, SEM_UNDO};
use kit::OrDie;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::{close, unlink};

const KEY_FILE: &str = "lock.key";
const PROJECT: u8 = b'L';

fn main() {
    let key = make_key();
    let semid = semget(key, 1, IPC_CREAT | IPC_EXCL | 0o600).or_die("semget");
    sem_setval(semid, 0, 1).or_die("semctl");
    println!("semget: key {key:#010x}, semid {semid}: one semaphore, value 1 (semctl SETVAL)");

    kit::prompt("Start lock_holder, then press Enter to take the semaphore: ");
    if kit::read_line().is_none() {
        println!();
        remove(semid);
        process::exit(1);
    }

    println!("semop P: waiting for the semaphore...");
    semop(semid, 0, -1, SEM_UNDO).or_die("semop");
    println!("semop P: got the semaphore");
    semop(semid, 0, 1, SEM_UNDO).or_die("semop");
    println!("semop V: gave it back");
    remove(semid);
}

/// Create the key file and make a key from it.
fn make_key() -> key_t {
    let fd = open(KEY_FILE, OFlag::O_CREAT | OFlag::O_WRONLY, Mode::S_IRUSR | Mode::S_IWUSR).or_die("open");
    close(fd).or_die("close");
    ftok(Path::new(KEY_FILE), PROJECT).or_die("ftok")
}

fn remove(semid: libc::c_int) {
    sem_remove(semid).or_die("semctl");
    unlink(KEY_FILE).or_die("unlink");
    println!("semctl(IPC_RMID): semaphore set removed");
}
