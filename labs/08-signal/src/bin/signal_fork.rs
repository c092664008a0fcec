//! A parent passes typed lines to its child through System V shared memory,
//! and the two take turns with signals: SIGUSR1 says "read it", SIGUSR2
//! answers "done".
//!
//! From seed 001, "实现父子进程间通信" (`communicate_with_child.c`): the
//! parent writes into the shared memory and sends SIGUSR1 to the child; the
//! child reads and sends SIGUSR2 back. Shared memory carries the data and
//! says nothing about when it changed; the signals carry no data and say
//! exactly that. `quit` or Ctrl-D ends both.
//!
//! Two traps, avoided here:
//!
//! * A lost wake-up: if the child checks "has SIGUSR1 come?" and then calls
//!   `pause()`, a signal that arrives between the two is handled before the
//!   `pause()`, which then sleeps forever. So SIGUSR1 and SIGUSR2 are blocked
//!   (before `fork`, so the child starts with them blocked too, and a signal
//!   sent early waits as pending) and are let in only by `sigsuspend`, which
//!   unblocks and sleeps in one step.
//! * A leak on Ctrl-C: the segment is marked for removal (`IPC_RMID`) right
//!   after it is attached. It lives on while a process has it attached (the
//!   child inherits the attachment through `fork`), and the kernel destroys
//!   it when both have detached or died, however they end.
//!
//! Standard signals are not queued: two SIGUSR1 sent before the child runs
//! count as one. Taking turns (never sending a second before the answer to
//! the first) makes that harmless.

use kit::sysv::{self, IPC_CREAT, IPC_PRIVATE};
use kit::OrDie;
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, getpid, ForkResult, Pid};
use signals::{block_and_catch, read_line, wait_for, Mailbox, QUIT};

fn main() {
    let id = sysv::shmget(IPC_PRIVATE, size_of::<Mailbox>(), IPC_CREAT | 0o600).or_die("shmget");
    let address = sysv::shmat(id).or_die("shmat");
    sysv::shm_remove(id).or_die("shmctl");
    println!("parent: shared memory attached and marked for removal");
    // SAFETY: a new segment is zero-filled, page-aligned and big enough for a
    // Mailbox; it stays attached until shmdt, after the last use.
    let mailbox = unsafe { Mailbox::at(address) };

    let waiting = block_and_catch(&[Signal::SIGUSR1, Signal::SIGUSR2]);
    // Taken before fork: if the parent died, getppid() in the child would
    // name another process, which must not get our SIGUSR2.
    let parent_pid = getpid();
    // SAFETY: the program has a single thread, so the child may run any code.
    match unsafe { fork() }.or_die("fork") {
        ForkResult::Parent { child } => parent(child, mailbox, &waiting),
        ForkResult::Child => child(parent_pid, mailbox, &waiting),
    }
    // SAFETY: the mailbox is not used any more.
    unsafe { sysv::shmdt(address) }.or_die("shmdt");
}

fn parent(child: Pid, mailbox: &Mailbox, waiting: &SigSet) {
    loop {
        kit::prompt("parent> ");
        let text = read_line().unwrap_or_else(|| {
            println!();
            QUIT.to_string()
        });
        mailbox.put(&text);
        kill(child, Signal::SIGUSR1).or_die("kill");
        if text == QUIT {
            break;
        }
        wait_for(Signal::SIGUSR2, waiting);
    }
    match waitpid(child, None).or_die("waitpid") {
        WaitStatus::Exited(_, code) => println!("parent: child exited with status {code}"),
        other => println!("parent: child ended: {other:?}"),
    }
}

fn child(parent: Pid, mailbox: &Mailbox, waiting: &SigSet) {
    loop {
        wait_for(Signal::SIGUSR1, waiting);
        let text = mailbox.get();
        if text == QUIT {
            println!("child: SIGUSR1, read {text:?}: leaving");
            return;
        }
        println!("child: SIGUSR1, read {text:?}, answering SIGUSR2");
        kill(parent, Signal::SIGUSR2).or_die("kill");
    }
}
