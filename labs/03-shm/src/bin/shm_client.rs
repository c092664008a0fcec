//! The client of a one-way chat over System V shared memory: it writes each
//! line you type into the segment, for `shm_server` to print.
//!
//! From seed 000, `shm_client.cc`. It makes the same key as the server with
//! `ftok`, opens the server's segment with `shmget` (no `IPC_CREAT`: only the
//! server creates), attaches it with `shmat`, and detaches it with `shmdt`
//! when you type `quit`. It never removes the segment: that is the job of the
//! server, which made it.
//!
//! Fixed: the seed's client copied each line into the segment and set a
//! plain `int` flag, without waiting for the server to take the previous
//! line, so lines typed quickly overwrote each other. Here it waits on the
//! FREE semaphore before writing and posts FULL after. It arms FULL with
//! `SEM_UNDO` when it connects, so that its end, even by SIGKILL, wakes the
//! server. At end of input (Ctrl-D) it sends `quit` instead of printing its
//! prompt forever, and it notices when the server is gone instead of writing
//! into a segment nobody reads.

use std::io;
use std::path::Path;

use kit::log::{debug, error, notice};
use kit::sysv::{self, SEM_UNDO};
use kit::OrDie;
use libc::c_int;
use nix::errno::Errno;
use shm::chat::{Slot, FREE, FULL, KEY_PATH, PROJECT, SEMAPHORES, SIZE, TEXT_MAX};

/// The server has quit, or was killed.
struct ServerGone;

fn main() {
    let key = sysv::ftok(Path::new(KEY_PATH), PROJECT).or_die("ftok");
    debug("create key done", &format!("key: {key}"));
    let shmid = match sysv::shmget(key, SIZE, 0) {
        Ok(shmid) => shmid,
        Err(Errno::ENOENT) => fail("No shared memory with this key, start shm_server first."),
        Err(reason) => kit::die("shmget", reason),
    };
    // The seed's words: the client only opens the segment.
    debug("create shm done", &format!("shmid: {shmid}"));
    let slot = sysv::shmat(shmid).or_die("shmat").cast::<Slot>();
    debug("attach shm done", &format!("shmid: {shmid}"));
    let semid = connect(key, shmid);

    let status = chat(semid, shmid, slot);

    // SAFETY: nothing touches the slot after this.
    unsafe { sysv::shmdt(slot.cast()) }.or_die("shmdt");
    debug("detach shm done", &format!("shmid: {shmid}"));
    std::process::exit(status);
}

/// Open the server's semaphores and arm FULL: from now on, when this process
/// ends, however it ends, the kernel adds 1 to FULL and the server wakes.
fn connect(key: sysv::key_t, shmid: c_int) -> c_int {
    // Attached: the server (once its semaphores are ready) and we.
    match attached(shmid) {
        0..=1 => fail("No server has the segment attached: it is starting, or it was killed (see 'ipcs -m')."),
        2 => {}
        _ => fail("Another client is connected: one at a time."),
    }
    let semid = sysv::semget(key, SEMAPHORES, 0).or_die("semget");
    // +1, then -1 with SEM_UNDO, at once: FULL does not change, but the
    // kernel will undo the -1 when we end.
    sysv::semop_all(semid, &[(FULL, 1, 0), (FULL, -1, SEM_UNDO)]).or_die("semop");
    semid
}

/// Send each line typed until `quit`; the exit status.
fn chat(semid: c_int, shmid: c_int, slot: *mut Slot) -> i32 {
    loop {
        kit::prompt("Send Message: ");
        let mut line = String::new();
        if io::stdin().read_line(&mut line).or_die("read") == 0 {
            // End of input (Ctrl-D): leave as `quit` does.
            println!();
            line = "quit".to_string();
        }
        let message = line.trim_end_matches('\n');
        if message.is_empty() {
            continue;
        }
        if message.len() > TEXT_MAX {
            error("Message is too long", &format!("Length: {}", message.len()));
            continue;
        }
        if send(semid, shmid, slot, message).is_err() {
            error("Server gone", "The server is gone, Client quit too.");
            return 1;
        }
        if message == "quit" {
            notice("Quit", "Client quit");
            return 0;
        }
    }
}

/// Hand one message to the server: wait until the slot is free, write the
/// message, and say it is there.
fn send(semid: c_int, shmid: c_int, slot: *mut Slot, message: &str) -> Result<(), ServerGone> {
    match sysv::semop(semid, FREE, -1, 0) {
        Ok(()) => {}
        // The server removed the semaphores as it quit.
        Err(Errno::EIDRM | Errno::EINVAL) => return Err(ServerGone),
        Err(reason) => kit::die("semop", reason),
    }
    // FREE also rises when the kernel undoes a killed server's -1: is the
    // server still attached?
    if attached(shmid) < 2 {
        return Err(ServerGone);
    }
    // SAFETY: we hold FREE: the server reads the slot only after we post FULL.
    unsafe { Slot::put(slot, message.as_bytes()) };
    match sysv::semop(semid, FULL, 1, 0) {
        Ok(()) => Ok(()),
        Err(Errno::EIDRM | Errno::EINVAL) => Err(ServerGone),
        Err(reason) => kit::die("semop", reason),
    }
}

/// How many processes have the segment attached. The kernel detaches a
/// process when it ends, however it ends.
fn attached(shmid: c_int) -> libc::shmatt_t {
    match sysv::shm_stat(shmid) {
        Ok(info) => info.shm_nattch,
        Err(Errno::EIDRM | Errno::EINVAL) => 0,
        Err(reason) => kit::die("shmctl", reason),
    }
}

/// Say why the client cannot go on, and end it.
fn fail(why: &str) -> ! {
    error("Cannot connect", why);
    std::process::exit(1);
}
