//! The server of a one-way chat over System V shared memory: it prints each
//! message a client writes into the segment.
//!
//! From seed 000, `shm_server.cc`. `ftok` makes the key from the working
//! directory; `shmget` with `IPC_CREAT | IPC_EXCL` creates the segment, or
//! fails if one is left from an earlier run; `shmat` attaches it; at the end
//! `shmdt` detaches it and `shmctl(IPC_RMID)` removes it. A set of two
//! semaphores with the same key hands the messages over (see `chat.rs`).
//!
//! Fixed: the seed's server looked at a plain `int` flag in the segment every
//! 100 ms (`usleep`), and its client wrote the next message without waiting
//! for the server to take the last one. Lines typed faster than that were
//! overwritten, a message could be read while it was being copied in, and the
//! server woke ten times a second for nothing. Here the server sleeps in
//! `semop` until the client posts a message, and the client waits until the
//! server has taken it before writing the next. The seed's mode 0666 let any
//! user read and write the chat: here it is 0600. A client that dies (even by
//! SIGKILL) no longer leaves the server waiting forever, and Ctrl-C removes
//! the segment instead of leaving it behind.

use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};

use kit::log::{debug, error, notice, warning};
use kit::sysv::{self, IPC_CREAT, IPC_EXCL, SEM_UNDO};
use kit::OrDie;
use libc::c_int;
use nix::errno::Errno;
use nix::sys::signal::{raise, SigSet, Signal};
use shm::chat::{Slot, FREE, FULL, KEY_PATH, PROJECT, SEMAPHORES, SIZE};

/// How the chat ended.
enum End {
    /// The client sent "quit".
    Quit,
    /// The client ended without "quit" (Ctrl-C, SIGKILL...).
    ClientGone,
    /// Ctrl-C or SIGTERM: the signal thread removed the semaphores.
    Stopped,
}

fn main() {
    let stop_signals = block_stop_signals();

    let key = sysv::ftok(Path::new(KEY_PATH), PROJECT).or_die("ftok");
    debug("create key done", &format!("key: {key}"));
    let shmid = create_segment(key);
    debug("create shm done", &format!("shmid: {shmid}"));
    let semid = create_semaphores(key, shmid);
    wait_for_stop_signal(stop_signals, semid);
    // Attach last: a client that sees us attached knows the semaphores are ready.
    let slot = sysv::shmat(shmid).or_die("shmat").cast::<Slot>();
    debug("attach shm done", &format!("shmid: {shmid}"));

    let end = serve(semid, shmid, slot).unwrap_or(End::Stopped);
    match end {
        End::Quit => warning("Quit", "Server quit"),
        End::ClientGone => warning("Client gone", "The client ended without 'quit', Server quit too."),
        End::Stopped => warning("Interrupt", "Server quit"),
    }

    // SAFETY: nothing touches the slot after this.
    unsafe { sysv::shmdt(slot.cast()) }.or_die("shmdt");
    debug("detach shm done", &format!("shmid: {shmid}"));
    sysv::shm_remove(shmid).or_die("shmctl");
    debug("delete shm done", &format!("shmid: {shmid}"));
    match sysv::sem_remove(semid) {
        // EINVAL: the signal thread removed the set already.
        Ok(()) | Err(Errno::EINVAL) => {}
        Err(reason) => kit::die("semctl", reason),
    }

    if let Ok(signal) = Signal::try_from(STOPPED_BY.load(Ordering::SeqCst)) {
        end_by(signal, stop_signals);
    }
}

fn create_segment(key: sysv::key_t) -> c_int {
    match sysv::shmget(key, SIZE, IPC_CREAT | IPC_EXCL | 0o600) {
        Ok(shmid) => shmid,
        Err(Errno::EEXIST) => {
            // The seed's words, kept as they are.
            error("shm exists", "The share memory is exist, use 'ipcrm' to remove it..");
            std::process::exit(1);
        }
        Err(reason) => kit::die("shmget", reason),
    }
}

/// Make the semaphore set and give each semaphore its first value.
fn create_semaphores(key: sysv::key_t, shmid: c_int) -> c_int {
    let semid = match sysv::semget(key, SEMAPHORES, IPC_CREAT | IPC_EXCL | 0o600) {
        Ok(semid) => semid,
        Err(reason) => {
            // Do not leave the segment we just made behind.
            let _ = sysv::shm_remove(shmid);
            if reason == Errno::EEXIST {
                error("sem exists", "A semaphore set is left from an earlier run, use 'ipcrm -s' to remove it..");
                std::process::exit(1);
            }
            kit::die("semget", reason);
        }
    };
    sysv::sem_setval(semid, FREE.into(), 1).or_die("semctl");
    sysv::sem_setval(semid, FULL.into(), 0).or_die("semctl");
    // Arm FREE: when the server ends without removing the set (SIGKILL), the
    // kernel adds 1 to FREE, which wakes a client waiting to write.
    sysv::semop_all(semid, &[(FREE, 1, 0), (FREE, -1, SEM_UNDO)]).or_die("semop");
    semid
}

fn serve(semid: c_int, shmid: c_int, slot: *mut Slot) -> Result<End, Removed> {
    loop {
        // Sleep until FULL rises: a message, or the kernel undoing the -1 the
        // client armed FULL with, because the client ended.
        semop(semid, FULL, -1)?;
        // SAFETY: we hold FULL: the client writes the slot only after we post FREE.
        let Some(message) = (unsafe { Slot::take(slot) }) else {
            // No message: the kernel undid the client's -1, the client is gone.
            return Ok(End::ClientGone);
        };
        if message == "quit" {
            return Ok(End::Quit);
        }
        notice("Receive", &format!("Message: {message}"));
        semop(semid, FREE, 1)?;
        // A client killed after writing its message but before posting FULL
        // woke us through the kernel's undo alone: nothing more will come.
        if !client_attached(shmid) && sem_value(semid, FULL)? == 0 {
            return Ok(End::ClientGone);
        }
    }
}

/// A client has the segment attached besides us. The kernel detaches a
/// process when it ends, however it ends.
fn client_attached(shmid: c_int) -> bool {
    sysv::shm_stat(shmid).or_die("shmctl").shm_nattch >= 2
}

/// The semaphore set is gone: the signal thread removed it.
struct Removed;

/// `semop` on one semaphore of the set, until the set is removed.
fn semop(semid: c_int, number: u16, delta: i16) -> Result<(), Removed> {
    match sysv::semop(semid, number, delta, 0) {
        Ok(()) => Ok(()),
        // EIDRM: removed while we waited; EINVAL: removed before.
        Err(Errno::EIDRM | Errno::EINVAL) => Err(Removed),
        Err(reason) => kit::die("semop", reason),
    }
}

fn sem_value(semid: c_int, number: u16) -> Result<c_int, Removed> {
    match sysv::sem_getval(semid, number.into()) {
        Ok(value) => Ok(value),
        Err(Errno::EIDRM | Errno::EINVAL) => Err(Removed),
        Err(reason) => kit::die("semctl", reason),
    }
}

/// The stop signal that came, or 0.
static STOPPED_BY: AtomicI32 = AtomicI32::new(0);

/// Block Ctrl-C (SIGINT) and SIGTERM in this thread, and so in the threads
/// it starts: they stay pending until a thread takes them with sigwait.
fn block_stop_signals() -> SigSet {
    let signals: SigSet = [Signal::SIGINT, Signal::SIGTERM].into_iter().collect();
    signals.thread_block().or_die("pthread_sigmask");
    signals
}

/// A thread that waits for a stop signal, then removes the semaphore set:
/// whatever the main thread is doing, its semop fails and it cleans up the
/// rest. (A flag set by a signal handler would be missed by a semop that
/// starts just after the flag was checked.)
fn wait_for_stop_signal(signals: SigSet, semid: c_int) {
    std::thread::spawn(move || {
        let signal = signals.wait().or_die("sigwait");
        STOPPED_BY.store(signal as c_int, Ordering::SeqCst);
        // EINVAL: the main thread removed the set already.
        let _ = sysv::sem_remove(semid);
    });
}

/// End by the signal that stopped us, so that the shell sees how the server
/// ended: it is still blocked, and its default action ends the process.
fn end_by(signal: Signal, signals: SigSet) -> ! {
    raise(signal).or_die("raise");
    signals.thread_unblock().or_die("pthread_sigmask");
    std::process::exit(128 + signal as c_int)
}
