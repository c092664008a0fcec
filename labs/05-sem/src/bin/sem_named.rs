//! A parent waits until its child has printed, through a POSIX named
//! semaphore.
//!
//! From seed 003, "信号量用于进程间同步". The parent creates the semaphore
//! `/child-printed` with the value 0 (`sem_open` with `O_CREAT`), and
//! `sem_wait` waits while the value is 0. The child opens it by its name,
//! prints, and `sem_post` makes the value 1, which lets the parent go on.
//! Each process closes it (`sem_close`); the parent, which created it, removes
//! the name (`sem_unlink`), or it would stay in `/dev/shm` after both ended.
//!
//! Fixed:
//! * the seed's lines came out in a different order from run to run: the
//!   parent printed "Wait for Child to Print" after `fork`, when the child
//!   may have printed already, and the child printed "Done with sem_open"
//!   after its `sem_post`, racing the parent's "Child Printed!". Here the
//!   parent prints before `fork`, the child prints only before `sem_post`,
//!   and the parent prints its last line after `waitpid`;
//! * the name has the leading `/` POSIX asks for (the seed's was `asdfsd`);
//! * the parent creates the semaphore with `O_EXCL`, before `fork`: a
//!   semaphore left by an earlier run (killed before `sem_unlink`) may hold
//!   the value 1, and the parent's `sem_wait` would then not wait at all;
//! * the child closes the semaphore, and every failure is reported with
//!   `perror`'s form instead of a `printf` that loses the reason.
//!
//! POSIX semaphores have no `SEM_UNDO`. With `--child-dies` the child is
//! killed before it posts: nobody will ever post, the parent waits for ever,
//! and the semaphore stays in `/dev/shm`.

use std::env;
use std::process;

use kit::OrDie;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::{raise, Signal};
use nix::sys::stat::Mode;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};
use sem::{sem_open, sem_unlink, NamedSemaphore};

const NAME: &str = "/child-printed";

fn main() {
    let child_dies = match env::args().nth(1).as_deref() {
        None => false,
        Some("--child-dies") => true,
        Some(_) => {
            eprintln!("usage: sem_named [--child-dies]");
            process::exit(2);
        }
    };

    let semaphore = create();
    println!("Parent  : Wait for Child to Print");
    // SAFETY: the program has a single thread, so the child may run any code.
    match unsafe { fork() }.or_die("fork") {
        ForkResult::Child => child(child_dies),
        ForkResult::Parent { child } => parent(semaphore, child),
    }
}

/// A new semaphore with the value 0, for its owner only.
fn create() -> NamedSemaphore {
    match sem_open(NAME, OFlag::O_CREAT | OFlag::O_EXCL, Mode::S_IRUSR | Mode::S_IWUSR, 0) {
        Ok(semaphore) => semaphore,
        Err(Errno::EEXIST) => {
            eprintln!("sem_open: {NAME} exists already; remove it with: rm /dev/shm/sem.{}", &NAME[1..]);
            process::exit(1);
        }
        Err(reason) => kit::die("sem_open", reason),
    }
}

fn parent(semaphore: NamedSemaphore, child: Pid) {
    semaphore.wait().or_die("sem_wait");
    println!("Parent  : Child Printed!");
    semaphore.close().or_die("sem_close");
    sem_unlink(NAME).or_die("sem_unlink");

    match waitpid(child, None).or_die("waitpid") {
        WaitStatus::Exited(_, code) => println!("Parent  : Child exited with status {code}"),
        WaitStatus::Signaled(_, signal, _) => println!("Parent  : Child was killed by {}", signal.as_str()),
        other => println!("Parent  : Child changed state: {other:?}"),
    }
    println!("Parent  : Done with sem_open");
}

fn child(dies: bool) -> ! {
    // Open it by its name, as an unrelated process would (no O_CREAT: the
    // parent has made it).
    let semaphore = sem_open(NAME, OFlag::empty(), Mode::empty(), 0).or_die("sem_open");
    if dies {
        println!("Child   : killed before sem_post");
        raise(Signal::SIGKILL).or_die("raise");
    }
    println!("Child   : I am done! Release Semaphore");
    semaphore.post().or_die("sem_post");
    semaphore.close().or_die("sem_close");
    process::exit(0);
}
