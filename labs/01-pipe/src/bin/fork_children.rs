//! A parent forks N children and reaps every one of them with `waitpid(-1)`.
//!
//! From seed 003, "进程创建". Each child exits with its index as its status; the
//! exit status is the one small number a child hands back through `wait`.
//! `waitpid(-1, ...)` returns whichever child ended first, so the parent
//! records the statuses and prints them in index order once all are reaped.
//! The children print nothing: the order in which processes run is up to the
//! scheduler, and two processes printing to one terminal interleave at random.
//!
//! Fixed: the seed loops on `while (pid = waitpid(-1, NULL, 0))` and then
//! tests `errno == ECHILD`. The condition is never 0 (`waitpid` returns a pid
//! or -1), and `errno` means something only after a call has failed, yet the
//! seed reads it after every call; on a failure other than `ECHILD` it would
//! loop forever. Here the loop looks at the error only when `waitpid` fails:
//! `ECHILD` ("no child left") ends it, `EINTR` retries, anything else stops
//! the program.

use std::env;

use kit::OrDie;
use nix::errno::Errno;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};

fn main() {
    let n = children_wanted();

    let mut children: Vec<Pid> = Vec::new();
    for index in 0..n {
        // SAFETY: the program has a single thread, so the child may run any code.
        match unsafe { fork() }.or_die("fork") {
            ForkResult::Parent { child } => children.push(child),
            ForkResult::Child => child(index),
        }
    }

    let mut ended: Vec<WaitStatus> = Vec::new();
    loop {
        match waitpid(None, None) {
            Ok(status) => ended.push(status),
            Err(Errno::ECHILD) => break,
            Err(Errno::EINTR) => continue,
            Err(reason) => kit::die("waitpid", reason),
        }
    }

    for (index, pid) in children.iter().enumerate() {
        match ended.iter().find(|status| status.pid() == Some(*pid)) {
            Some(WaitStatus::Exited(_, code)) => println!("Child({index}) pid {pid} exited with status {code}"),
            Some(WaitStatus::Signaled(_, signal, _)) => {
                println!("Child({index}) pid {pid} was killed by {}", signal.as_str())
            }
            other => println!("Child({index}) pid {pid}: {other:?}"),
        }
    }
    println!("Parent: All children have exited.");
}

/// The child's work: it ends at once, handing back its index as exit status.
fn child(index: usize) -> ! {
    std::process::exit(index as i32);
}

/// N from the first argument, 5 when there is none. An exit status has 8
/// bits, so at most 256 children can each hand back a different index.
fn children_wanted() -> usize {
    let Some(text) = env::args().nth(1) else { return 5 };
    match text.parse::<usize>() {
        Ok(n) if n <= 256 => n,
        _ => {
            eprintln!("usage: fork_children [N], N from 0 to 256");
            std::process::exit(2);
        }
    }
}
