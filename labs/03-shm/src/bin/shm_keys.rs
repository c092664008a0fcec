//! IPC_PRIVATE against a key from `ftok`, then another program attaching a
//! segment by its id.
//!
//! From seed 001, `shmget.c`: its `#ifndef` half creates a segment with
//! `IPC_PRIVATE`, its `#else` half with a key from `ftok`. Then, as in seed
//! 002, `shm_attach SHMID` attaches one of them by id while this program
//! has it attached too, and `ipcs -m` shows `nattch` go from 2 to 1.
//!
//! Fixed (in the lesson, for the seed's notes had it wrong): IPC_PRIVATE is
//! not a key that any process can open with `shmget`; it makes a new segment
//! every time, which only its id reaches. So IPC_PRIVATE is the anonymous
//! pipe of shared memory (for a child after `fork`, or whoever is told the
//! id), and a `ftok` key is the named one (any process that knows the path
//! and the project id finds the segment). And only the process that creates
//! the segment passes `IPC_CREAT`; the others open it with flags 0.

use std::path::Path;
use std::process::Command;

use kit::sysv::{self, IPC_CREAT, IPC_EXCL, IPC_PRIVATE};
use kit::OrDie;
use libc::c_int;

const SIZE: usize = 4096;

fn main() {
    let private = sysv::shmget(IPC_PRIVATE, SIZE, IPC_CREAT | 0o600).or_die("shmget");
    println!("shmget(IPC_PRIVATE, IPC_CREAT)  -> shmid: {private}, a new segment (ipcs shows key 0x00000000)");
    let again = sysv::shmget(IPC_PRIVATE, SIZE, IPC_CREAT | 0o600).or_die("shmget");
    println!("shmget(IPC_PRIVATE, IPC_CREAT)  -> shmid: {again}, {}", same_or_not(private, again));

    let key = sysv::ftok(Path::new("."), b'k').or_die("ftok");
    println!("ftok(\".\", 'k')                  -> key: {key:#010x}");
    let named = sysv::shmget(key, SIZE, IPC_CREAT | IPC_EXCL | 0o600).or_die("shmget");
    println!("shmget(key, IPC_CREAT|IPC_EXCL) -> shmid: {named}, a new segment");
    let found = sysv::shmget(key, 0, 0).or_die("shmget");
    println!("shmget(key, 0)                  -> shmid: {found}, {}", same_or_not(named, found));

    let address = sysv::shmat(private).or_die("shmat");
    println!("attached the first IPC_PRIVATE segment here: nattch {}", nattch(private));
    attach_elsewhere(private);
    // SAFETY: nothing touches the segment after this.
    unsafe { sysv::shmdt(address) }.or_die("shmdt");
    println!("detached it here: nattch {}", nattch(private));

    for shmid in [private, again, named] {
        sysv::shm_remove(shmid).or_die("shmctl");
    }
    println!("removed the 3 segments with shmctl(IPC_RMID)");
}

fn same_or_not(first: c_int, second: c_int) -> &'static str {
    if first == second {
        "the same segment"
    } else {
        "another new segment"
    }
}

fn nattch(shmid: c_int) -> libc::shmatt_t {
    sysv::shm_stat(shmid).or_die("shmctl").shm_nattch
}

/// Run `shm_attach SHMID`, as you would in another terminal, and wait for it:
/// it shares our terminal, so we print again only once it has ended.
fn attach_elsewhere(shmid: c_int) {
    let program = std::env::current_exe().or_die("current_exe").with_file_name("shm_attach");
    println!("running shm_attach with shmid: {shmid}");
    let status = Command::new(program).arg(shmid.to_string()).status().or_die("shm_attach");
    println!("shm_attach ended: {status}");
}
