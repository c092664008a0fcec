//! The client of `signal_server`: it finds the server's pid in System V
//! shared memory, announces itself with SIGUSR2, then prints each line the
//! server sends and answers each with SIGUSR2.
//!
//! From seed 001, "独立进程间通信" (`clnt.c`). The client reads the server's
//! pid from the segment, writes its own pid there and sends SIGUSR2; from
//! then on, each SIGUSR2 from the server means "a new line is in the shared
//! memory", and the client's SIGUSR2 back means "read it, write the next".
//!
//! SIGUSR2 is blocked and its handler installed before the client tells the
//! server its pid: the server may answer at once, and a SIGUSR2 that finds no
//! handler kills the client (its default action). Blocked, an early SIGUSR2
//! waits as pending until `sigsuspend` lets it in. The client removes nothing:
//! the server created the segment, the server removes it.

use std::path::Path;
use std::sync::atomic::Ordering;

use kit::sysv;
use kit::OrDie;
use nix::sys::signal::{kill, Signal};
use nix::unistd::{getpid, Pid};
use signals::{block_and_catch, wait_for, Mailbox, KEY_FILE, KEY_PROJECT, QUIT};

fn main() {
    let key = sysv::ftok(Path::new(KEY_FILE), KEY_PROJECT).or_die("ftok");
    let id = sysv::shmget(key, 0, 0).or_die("shmget");
    let address = sysv::shmat(id).or_die("shmat");
    // SAFETY: the server made the segment for a Mailbox; it is page-aligned
    // and stays attached until shmdt, after the last use.
    let mailbox = unsafe { Mailbox::at(address) };

    let waiting = block_and_catch(&[Signal::SIGUSR2]);
    let server = Pid::from_raw(mailbox.server_pid.load(Ordering::Acquire));
    // kill(0, ...) would signal our whole process group, kill(-1, ...) every
    // process we may signal: never pass a pid that was not set.
    if server.as_raw() <= 0 {
        kit::die("shared memory", "holds no server pid");
    }
    mailbox.client_pid.store(getpid().as_raw(), Ordering::Release);
    kill(server, Signal::SIGUSR2).or_die("kill");
    println!("client: server pid {server}; wrote my pid {} and sent SIGUSR2", getpid());

    loop {
        wait_for(Signal::SIGUSR2, &waiting);
        let text = mailbox.get();
        if text == QUIT {
            println!("client: SIGUSR2, read {text:?}: leaving");
            break;
        }
        println!("client: SIGUSR2, read {text:?}");
        kill(server, Signal::SIGUSR2).or_die("kill");
    }
    // SAFETY: the mailbox is not used any more.
    unsafe { sysv::shmdt(address) }.or_die("shmdt");
}
