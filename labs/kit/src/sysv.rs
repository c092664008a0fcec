//! Thin wrappers for the System V IPC calls that nix does not offer: each one
//! calls the libc function of the same name and turns `-1` into an
//! [`Errno`], so that a lab can write `shmget(key, 4096, flags).or_die("shmget")`.
//!
//! Attached shared memory is handed out as a raw pointer on purpose: another
//! process may write it at any moment, so a lab reads and writes it through
//! atomics or under a semaphore, never through a plain `&mut`.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

pub use libc::{key_t, IPC_CREAT, IPC_EXCL, IPC_NOWAIT, IPC_PRIVATE, SEM_UNDO};
use nix::errno::Errno;

fn check(result: libc::c_int) -> Result<libc::c_int, Errno> {
    if result == -1 {
        Err(Errno::last())
    } else {
        Ok(result)
    }
}

/// `ftok(3)`: a key made from a file's inode and a project id.
pub fn ftok(path: &Path, project: u8) -> Result<key_t, Errno> {
    let path = CString::new(path.as_os_str().as_bytes()).map_err(|_| Errno::EINVAL)?;
    // SAFETY: ftok reads the NUL-terminated path we own.
    let key = unsafe { libc::ftok(path.as_ptr(), project as libc::c_int) };
    check(key)
}

// --- shared memory -------------------------------------------------------

/// `shmget(2)`: the id of the segment for `key`, creating it as `flags` say.
pub fn shmget(key: key_t, size: usize, flags: libc::c_int) -> Result<libc::c_int, Errno> {
    // SAFETY: plain integer arguments.
    check(unsafe { libc::shmget(key, size, flags) })
}

/// `shmat(2)`: attach the segment and return its address in our memory.
pub fn shmat(id: libc::c_int) -> Result<*mut libc::c_void, Errno> {
    // SAFETY: a null address lets the kernel choose where to attach.
    let address = unsafe { libc::shmat(id, std::ptr::null(), 0) };
    if address as isize == -1 {
        Err(Errno::last())
    } else {
        Ok(address)
    }
}

/// `shmdt(2)`: detach a segment attached at `address`.
///
/// # Safety
/// Nothing may use memory of the segment after it is detached.
pub unsafe fn shmdt(address: *mut libc::c_void) -> Result<(), Errno> {
    // SAFETY: the caller promises the address came from shmat and is unused.
    check(unsafe { libc::shmdt(address) }).map(drop)
}

/// `shmctl(id, IPC_STAT)`: the segment's size, attach count, creator...
pub fn shm_stat(id: libc::c_int) -> Result<libc::shmid_ds, Errno> {
    // SAFETY: an all-zero shmid_ds is valid; the kernel fills it in.
    let mut info: libc::shmid_ds = unsafe { std::mem::zeroed() };
    // SAFETY: IPC_STAT writes into the struct we own.
    check(unsafe { libc::shmctl(id, libc::IPC_STAT, &mut info) })?;
    Ok(info)
}

/// `shmctl(id, IPC_RMID)`: remove the segment once the last process detaches.
pub fn shm_remove(id: libc::c_int) -> Result<(), Errno> {
    // SAFETY: IPC_RMID takes no buffer.
    check(unsafe { libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()) }).map(drop)
}

// --- message queues ------------------------------------------------------

/// The largest message text the labs send.
pub const MSG_MAX: usize = 256;

/// The `struct msgbuf` of the man page: a type, then the text.
#[repr(C)]
struct MessageBuffer {
    mtype: libc::c_long,
    mtext: [u8; MSG_MAX],
}

/// `msgget(2)`: the id of the queue for `key`.
pub fn msgget(key: key_t, flags: libc::c_int) -> Result<libc::c_int, Errno> {
    // SAFETY: plain integer arguments.
    check(unsafe { libc::msgget(key, flags) })
}

/// `msgsnd(2)`: queue `text` (at most [`MSG_MAX`] bytes) with type `mtype` (> 0).
pub fn msgsnd(id: libc::c_int, mtype: libc::c_long, text: &[u8], flags: libc::c_int) -> Result<(), Errno> {
    if text.len() > MSG_MAX || mtype <= 0 {
        return Err(Errno::EINVAL);
    }
    let mut message = MessageBuffer { mtype, mtext: [0; MSG_MAX] };
    message.mtext[..text.len()].copy_from_slice(text);
    // SAFETY: msgsnd reads the type and `text.len()` bytes of the buffer we own.
    check(unsafe { libc::msgsnd(id, (&message as *const MessageBuffer).cast(), text.len(), flags) }).map(drop)
}

/// `msgrcv(2)`: take a message chosen by `mtype` (0: the first; > 0: the first
/// of that type; < 0: the first of the lowest type ≤ |mtype|). Returns its type
/// and text.
pub fn msgrcv(id: libc::c_int, mtype: libc::c_long, flags: libc::c_int) -> Result<(libc::c_long, Vec<u8>), Errno> {
    let mut message = MessageBuffer { mtype: 0, mtext: [0; MSG_MAX] };
    // SAFETY: msgrcv writes at most MSG_MAX bytes of text into the buffer we own.
    let size = unsafe { libc::msgrcv(id, (&mut message as *mut MessageBuffer).cast(), MSG_MAX, mtype, flags) };
    if size == -1 {
        return Err(Errno::last());
    }
    Ok((message.mtype, message.mtext[..size as usize].to_vec()))
}

/// `msgctl(id, IPC_STAT)`: how many messages and bytes are queued, the limit...
pub fn msg_stat(id: libc::c_int) -> Result<libc::msqid_ds, Errno> {
    // SAFETY: an all-zero msqid_ds is valid; the kernel fills it in.
    let mut info: libc::msqid_ds = unsafe { std::mem::zeroed() };
    // SAFETY: IPC_STAT writes into the struct we own.
    check(unsafe { libc::msgctl(id, libc::IPC_STAT, &mut info) })?;
    Ok(info)
}

/// `msgctl(id, IPC_SET)`: change the queue's settings, e.g. its byte limit.
pub fn msg_set(id: libc::c_int, info: &mut libc::msqid_ds) -> Result<(), Errno> {
    // SAFETY: IPC_SET reads the struct we own.
    check(unsafe { libc::msgctl(id, libc::IPC_SET, info) }).map(drop)
}

/// `msgctl(id, IPC_RMID)`: remove the queue and wake whoever waits on it.
pub fn msg_remove(id: libc::c_int) -> Result<(), Errno> {
    // SAFETY: IPC_RMID takes no buffer.
    check(unsafe { libc::msgctl(id, libc::IPC_RMID, std::ptr::null_mut()) }).map(drop)
}

// --- semaphores ----------------------------------------------------------

/// `semget(2)`: the id of the set of `count` semaphores for `key`.
pub fn semget(key: key_t, count: libc::c_int, flags: libc::c_int) -> Result<libc::c_int, Errno> {
    // SAFETY: plain integer arguments.
    check(unsafe { libc::semget(key, count, flags) })
}

/// `semctl(id, number, SETVAL, value)`.
pub fn sem_setval(id: libc::c_int, number: libc::c_int, value: libc::c_int) -> Result<(), Errno> {
    // SAFETY: SETVAL takes the value as the variadic `union semun` argument,
    // whose `val` member is an int.
    check(unsafe { libc::semctl(id, number, libc::SETVAL, value) }).map(drop)
}

/// `semctl(id, number, GETVAL)`.
pub fn sem_getval(id: libc::c_int, number: libc::c_int) -> Result<libc::c_int, Errno> {
    // SAFETY: GETVAL takes no further argument.
    check(unsafe { libc::semctl(id, number, libc::GETVAL) })
}

/// `semop(2)` on one semaphore: add `delta` (-1 is P, +1 is V), waiting while
/// the result would be negative (unless `flags` has IPC_NOWAIT).
pub fn semop(id: libc::c_int, number: u16, delta: i16, flags: libc::c_int) -> Result<(), Errno> {
    semop_all(id, &[(number, delta, flags)])
}

/// `semop(2)` with several operations, each `(number, delta, flags)`, done
/// all at once or not at all: it waits while any of them cannot be done.
pub fn semop_all(id: libc::c_int, operations: &[(u16, i16, libc::c_int)]) -> Result<(), Errno> {
    let mut operations: Vec<libc::sembuf> = operations
        .iter()
        .map(|&(number, delta, flags)| libc::sembuf { sem_num: number, sem_op: delta, sem_flg: flags as libc::c_short })
        .collect();
    loop {
        // SAFETY: semop reads the `operations.len()` sembufs we own.
        match check(unsafe { libc::semop(id, operations.as_mut_ptr(), operations.len()) }) {
            // A signal handler ran while we waited: wait again.
            Err(Errno::EINTR) => continue,
            other => return other.map(drop),
        }
    }
}

/// `semctl(id, 0, IPC_RMID)`: remove the set and wake whoever waits on it.
pub fn sem_remove(id: libc::c_int) -> Result<(), Errno> {
    // SAFETY: IPC_RMID takes no further argument.
    check(unsafe { libc::semctl(id, 0, libc::IPC_RMID) }).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// These tests make objects on the host: they take turns with the runner's
    /// tests that check the host is left as it was.
    fn host_turn() -> nix::fcntl::Flock<std::fs::File> {
        let path = std::env::temp_dir().join("ipc-labs-tests.lock");
        let file = std::fs::File::open(&path)
            .or_else(|_| std::fs::File::options().create(true).append(true).open(&path))
            .expect("lock file");
        nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive).map_err(|(_, err)| err).expect("flock")
    }

    #[test]
    fn a_private_queue_selects_messages_by_type() {
        let _turn = host_turn();
        let id = msgget(IPC_PRIVATE, IPC_CREAT | 0o600).unwrap();
        msgsnd(id, 2, b"two", 0).unwrap();
        msgsnd(id, 1, b"one", 0).unwrap();
        assert_eq!(msgrcv(id, 1, 0).unwrap(), (1, b"one".to_vec()));
        assert_eq!(msgrcv(id, 0, IPC_NOWAIT).unwrap(), (2, b"two".to_vec()));
        assert_eq!(msgrcv(id, 0, IPC_NOWAIT), Err(Errno::ENOMSG));
        msg_remove(id).unwrap();
    }

    #[test]
    fn a_private_semaphore_counts() {
        let _turn = host_turn();
        let id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0o600).unwrap();
        sem_setval(id, 0, 1).unwrap();
        semop(id, 0, -1, 0).unwrap();
        assert_eq!(semop(id, 0, -1, IPC_NOWAIT), Err(Errno::EAGAIN));
        semop(id, 0, 1, 0).unwrap();
        assert_eq!(sem_getval(id, 0).unwrap(), 1);
        sem_remove(id).unwrap();
    }

    #[test]
    fn several_operations_are_done_at_once() {
        let _turn = host_turn();
        let id = semget(IPC_PRIVATE, 2, IPC_CREAT | 0o600).unwrap();
        // Semaphore 1 is 0: neither operation is done.
        assert_eq!(semop_all(id, &[(0, 1, 0), (1, -1, IPC_NOWAIT)]), Err(Errno::EAGAIN));
        assert_eq!(sem_getval(id, 0).unwrap(), 0);
        // +1 then -1 on one semaphore: the value stays 0.
        semop_all(id, &[(0, 1, 0), (0, -1, SEM_UNDO)]).unwrap();
        assert_eq!(sem_getval(id, 0).unwrap(), 0);
        sem_remove(id).unwrap();
    }

    #[test]
    fn a_private_segment_counts_its_attachments() {
        let _turn = host_turn();
        let id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600).unwrap();
        let address = shmat(id).unwrap();
        assert_eq!(shm_stat(id).unwrap().shm_nattch, 1);
        // SAFETY: nothing uses the segment after this.
        unsafe { shmdt(address).unwrap() };
        assert_eq!(shm_stat(id).unwrap().shm_nattch, 0);
        shm_remove(id).unwrap();
    }
}
