//! A parent and its child each add 1 to one counter in shared memory, many
//! times: under a System V semaphore the total is exact; without it (with
//! `--no-sem`) additions are lost.
//!
//! From seed 004, "信号量": `semget` makes a set of semaphores, `semctl(SETVAL)`
//! gives one its value, and `semop` with a `struct sembuf` does P (-1, wait
//! while the value is 0) and V (+1); and from seed 002: shared memory only
//! moves data, mutual exclusion needs another tool.
//!
//! `counter++` is two steps: read the counter, then write it back plus one.
//! When the other process reads between those two steps, both write the same
//! value and one addition is lost. A semaphore of value 1 around the two
//! steps lets one process at a time in: P before reading, V after writing.
//!
//! Without the semaphore, whether the other process reads in between is up
//! to the scheduler: it happens now and then, at random. So that it shows
//! every time, `--no-sem` makes each process wait after reading until the
//! other has read too (a rendezvous through two pipes): the worst schedule,
//! made certain. Then each pair of additions loses one.
//!
//! P and V use `SEM_UNDO`: the kernel undoes them if the process dies in
//! between, so a crash inside the critical section does not leave the
//! semaphore taken (`lock_holder` shows it). Both objects are `IPC_PRIVATE`:
//! the child inherits the attached segment and the set's id through `fork`.

use std::env;
use std::mem::size_of;
use std::os::fd::OwnedFd;
use std::process;
use std::sync::atomic::{AtomicU64, Ordering};

use kit::sysv::{
    sem_remove, sem_setval, semget, semop, shm_remove, shmat, shmdt, shmget, IPC_CREAT, IPC_PRIVATE, SEM_UNDO,
};
use kit::OrDie;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{close, fork, pipe, read, write, ForkResult, Pid};

fn main() {
    let (use_semaphore, times) = arguments();

    let shmid = shmget(IPC_PRIVATE, size_of::<AtomicU64>(), IPC_CREAT | 0o600).or_die("shmget");
    let address = shmat(shmid).or_die("shmat");
    // SAFETY: the kernel zero-fills the segment (a counter of 0) and aligns it
    // to a page; it is larger than an AtomicU64 and stays attached until the
    // shmdt below. Both processes touch it only through atomic loads and stores.
    let counter = unsafe { &*(address as *const AtomicU64) };

    println!("sem_counter: parent and child each add 1 to a shared counter {times} times");
    let semid = use_semaphore.then(make_lock);
    let pipes = if use_semaphore {
        println!("with a semaphore: P (semop -1) before reading the counter, V (semop +1) after writing it back");
        None
    } else {
        println!("without a semaphore: after reading the counter, each waits until the other has read it too");
        Some((pipe().or_die("pipe"), pipe().or_die("pipe")))
    };

    // SAFETY: the program has a single thread, so the child may run any code.
    match unsafe { fork() }.or_die("fork") {
        ForkResult::Child => {
            let meet = pipes.map(|(to_child, to_parent)| Rendezvous::new(to_parent, to_child));
            add(counter, times, semid, meet.as_ref());
            // Exit detaches the segment; the parent removes both objects.
            process::exit(0);
        }
        ForkResult::Parent { child } => {
            let meet = pipes.map(|(to_child, to_parent)| Rendezvous::new(to_child, to_parent));
            add(counter, times, semid, meet.as_ref());
            report_child(child);
            report_total(counter.load(Ordering::SeqCst), 2 * times);

            // SAFETY: `counter` is not used after this.
            unsafe { shmdt(address) }.or_die("shmdt");
            shm_remove(shmid).or_die("shmctl");
            if let Some(semid) = semid {
                sem_remove(semid).or_die("semctl");
            }
        }
    }
}

/// A set of one semaphore with the value 1: a free lock.
fn make_lock() -> libc::c_int {
    let semid = semget(IPC_PRIVATE, 1, IPC_CREAT | 0o600).or_die("semget");
    sem_setval(semid, 0, 1).or_die("semctl");
    semid
}

/// Add 1 to the counter `times` times, in the two steps of C's `counter++`:
/// a load, then a store (not one `fetch_add`, which would do both at once).
fn add(counter: &AtomicU64, times: u64, semid: Option<libc::c_int>, meet: Option<&Rendezvous>) {
    for _ in 0..times {
        if let Some(semid) = semid {
            semop(semid, 0, -1, SEM_UNDO).or_die("semop"); // P
        }
        let value = counter.load(Ordering::SeqCst);
        if let Some(meet) = meet {
            meet.wait_for_the_other();
        }
        counter.store(value + 1, Ordering::SeqCst);
        if let Some(semid) = semid {
            semop(semid, 0, 1, SEM_UNDO).or_die("semop"); // V
        }
    }
}

/// One pipe to the other process and one from it.
struct Rendezvous {
    to_other: OwnedFd,
    from_other: OwnedFd,
}

impl Rendezvous {
    /// Keep the write end of `outgoing` and the read end of `incoming`.
    fn new(outgoing: (OwnedFd, OwnedFd), incoming: (OwnedFd, OwnedFd)) -> Rendezvous {
        let (outgoing_read, to_other) = outgoing;
        let (from_other, incoming_write) = incoming;
        close(outgoing_read).or_die("close");
        close(incoming_write).or_die("close");
        Rendezvous { to_other, from_other }
    }

    /// Tell the other process we got here, and wait until it got here too.
    fn wait_for_the_other(&self) {
        write(&self.to_other, b"x").or_die("write");
        let mut byte = [0u8; 1];
        if read(&self.from_other, &mut byte).or_die("read") == 0 {
            kit::die("read", "the other process has ended");
        }
    }
}

fn report_total(total: u64, expected: u64) {
    println!("counter = {total}, expected {expected}");
    match expected - total {
        0 => println!("lost updates: no"),
        lost => println!("lost updates: yes, {lost}"),
    }
}

fn report_child(child: Pid) {
    match waitpid(child, None).or_die("waitpid") {
        WaitStatus::Exited(_, code) => println!("parent: child exited with status {code}"),
        WaitStatus::Signaled(_, signal, _) => println!("parent: child was killed by {}", signal.as_str()),
        other => println!("parent: child changed state: {other:?}"),
    }
}

/// `sem_counter [--no-sem] [TIMES]`
fn arguments() -> (bool, u64) {
    let mut use_semaphore = true;
    let mut times = 1000;
    for argument in env::args().skip(1) {
        match (argument.as_str(), argument.parse::<u64>()) {
            ("--no-sem", _) => use_semaphore = false,
            (_, Ok(number)) if number > 0 && number <= 1_000_000_000 => times = number,
            _ => {
                eprintln!("usage: sem_counter [--no-sem] [TIMES]");
                process::exit(2);
            }
        }
    }
    (use_semaphore, times)
}
