//! Writes five blocks of letters into a shared segment, one block at a time,
//! for `shm_reader` to print.
//!
//! From seed 003, "写共享内存进程" (the writing process). It creates the
//! segment of the seed's `struct shmseg` at the fixed key 0x1234, fills `buf`
//! with 1023 copies of a letter and sets `cnt`, five times, then sets
//! `complete`, and removes the segment with `shmctl(IPC_RMID)`.
//!
//! Fixed: the seed wrote a block every three seconds (`sleep(3)`) while its
//! reader looked every three seconds: nothing made them take turns, so a
//! block could be printed twice, skipped, or read half-written, depending on
//! when each program started. Here two semaphores take turns: the writer waits
//! on WRITE before it fills the segment and posts READ after; the reader does
//! the opposite. No sleep is left, and the run takes milliseconds. Also: the
//! mode is 0600 instead of the seed's 0644 (others could read the blocks); the
//! writer creates the segment with `IPC_EXCL`, alone, instead of both programs
//! with `IPC_CREAT`; and after the letter `Z` the seed wrote a block of `[`.

use std::mem::size_of;

use kit::sysv::{self, IPC_CREAT, IPC_EXCL};
use kit::OrDie;
use libc::c_int;
use nix::errno::Errno;
use shm::blocks::{Shmseg, BUF_SIZE, READ, SEMAPHORES, SHM_KEY, WRITE};

const BLOCKS: usize = 5;

fn main() {
    let shmid = match sysv::shmget(SHM_KEY, size_of::<Shmseg>(), IPC_CREAT | IPC_EXCL | 0o600) {
        Ok(shmid) => shmid,
        Err(Errno::EEXIST) => {
            eprintln!("shmget: a segment with key 0x1234 exists: see 'ipcs -m', remove it with 'ipcrm -M 0x1234'");
            std::process::exit(1);
        }
        Err(reason) => kit::die("shmget", reason),
    };
    let semid = create_semaphores(shmid);
    let segment = sysv::shmat(shmid).or_die("shmat").cast::<Shmseg>();

    for number in 0..BLOCKS {
        // Wait for our turn: the reader has printed the previous block.
        sysv::semop(semid, WRITE, -1, 0).or_die("semop");
        let block = fill_block(number);
        // SAFETY: we hold WRITE: the reader looks at the segment only after we post READ.
        unsafe { segment.write(block) };
        println!("Writing Process: Shared Memory Write: Wrote {} bytes", block.cnt);
        sysv::semop(semid, READ, 1, 0).or_die("semop");
    }

    sysv::semop(semid, WRITE, -1, 0).or_die("semop");
    // SAFETY: we hold WRITE, as above.
    unsafe { (*segment).complete = 1 };
    sysv::semop(semid, READ, 1, 0).or_die("semop");
    println!("Writing Process: Wrote {BLOCKS} times");

    // Once the reader has seen `complete` it posts WRITE a last time and never
    // touches the semaphores again: then they can go.
    sysv::semop(semid, WRITE, -1, 0).or_die("semop");
    // SAFETY: nothing touches the segment after this.
    unsafe { sysv::shmdt(segment.cast()) }.or_die("shmdt");
    sysv::shm_remove(shmid).or_die("shmctl");
    sysv::sem_remove(semid).or_die("semctl");
    println!("Writing Process: Complete");
}

/// The semaphores, with the same key: the writer has the first turn.
fn create_semaphores(shmid: c_int) -> c_int {
    let semid = match sysv::semget(SHM_KEY, SEMAPHORES, IPC_CREAT | IPC_EXCL | 0o600) {
        Ok(semid) => semid,
        Err(reason) => {
            let _ = sysv::shm_remove(shmid);
            kit::die("semget", reason);
        }
    };
    sysv::sem_setval(semid, WRITE.into(), 1).or_die("semctl");
    sysv::sem_setval(semid, READ.into(), 0).or_die("semctl");
    semid
}

/// Block `number`: 1023 copies of a letter, A for the first, B for the next...
/// and a NUL, as the seed's `fill_buffer` made them.
fn fill_block(number: usize) -> Shmseg {
    let letter = b'A' + (number % 26) as u8;
    let mut buf = [letter; BUF_SIZE];
    buf[BUF_SIZE - 1] = 0;
    Shmseg { cnt: (BUF_SIZE - 1) as i32, complete: 0, buf }
}
