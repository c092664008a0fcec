//! Prints the blocks `shm_writer` puts into a shared segment, each one once
//! and whole, until the writer says it is complete.
//!
//! From seed 003, "读共享内存进程" (the reading process): the seed's
//! `struct shmseg` at the fixed key 0x1234, attached with `shmat` and
//! detached with `shmdt`. The writer made the segment, so the writer removes it.
//!
//! Fixed: the seed's reader printed the segment every three seconds
//! (`sleep(3)`) whatever the writer was doing, so it could print a block twice,
//! miss one, or print one half-written. Here it waits on the READ semaphore
//! for each block and posts WRITE once it has printed it, and it checks that
//! each block is whole. The seed's reader also created the segment when it
//! started first (`IPC_CREAT`), then waited forever for a writer that had
//! perhaps come and gone: here it says to start the writer first. It printed
//! all 1023 letters of a block; here it shows the two ends and counts.
//! (It also called `perror("read")` when `cnt` was -1, where no call had
//! failed and errno meant nothing.)

use std::mem::size_of;

use kit::sysv;
use kit::OrDie;
use nix::errno::Errno;
use shm::blocks::{Shmseg, BUF_SIZE, READ, SEMAPHORES, SHM_KEY, WRITE};

fn main() {
    let shmid = match sysv::shmget(SHM_KEY, size_of::<Shmseg>(), 0) {
        Ok(shmid) => shmid,
        Err(Errno::ENOENT) => {
            eprintln!("shmget: no segment with key 0x1234: start shm_writer first");
            std::process::exit(1);
        }
        Err(reason) => kit::die("shmget", reason),
    };
    let semid = sysv::semget(SHM_KEY, SEMAPHORES, 0).or_die("semget");
    let segment = sysv::shmat(shmid).or_die("shmat").cast::<Shmseg>();

    loop {
        // Wait for the reader's turn: a block, or `complete`.
        sysv::semop(semid, READ, -1, 0).or_die("semop");
        // SAFETY: we hold READ: the writer touches the segment only after we post WRITE.
        let block = unsafe { segment.read() };
        if block.complete == 1 {
            break;
        }
        let text = &block.buf[..(block.cnt.max(0) as usize).min(BUF_SIZE)];
        println!("segment contains : {}", describe(text));
        println!("Reading Process: Shared Memory: Read {} bytes", block.cnt);
        sysv::semop(semid, WRITE, 1, 0).or_die("semop");
    }

    println!("Reading Process: Reading Done, Detaching Shared Memory");
    // SAFETY: nothing touches the segment after this.
    unsafe { sysv::shmdt(segment.cast()) }.or_die("shmdt");
    // Tell the writer we are done with the semaphores too: it may remove them.
    sysv::semop(semid, WRITE, 1, 0).or_die("semop");
    println!("Reading Process: Complete");
}

/// The block's two ends, and whether it is whole: one letter all along.
fn describe(text: &[u8]) -> String {
    let ends = format!(
        "\"{}...{}\"",
        String::from_utf8_lossy(&text[..text.len().min(10)]),
        String::from_utf8_lossy(&text[text.len().saturating_sub(10)..])
    );
    match text.first() {
        Some(&letter) if text.iter().all(|&byte| byte == letter) => {
            format!("{ends} ({} x '{}')", text.len(), letter as char)
        }
        _ => format!("{ends} (torn: more than one letter)"),
    }
}
