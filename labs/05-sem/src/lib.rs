//! POSIX semaphores for the programs of this lab. nix does not wrap them, so
//! these thin wrappers call the libc function of the same name and turn a
//! failure into an [`Errno`], as `kit::sysv` does for the System V calls; a
//! program writes `sem.wait().or_die("sem_wait")`.
//!
//! * A named semaphore (`sem_open`) is a small file in `/dev/shm`: the name
//!   `/child-printed` becomes `/dev/shm/sem.child-printed`. Any process may
//!   open it by its name, and it stays until `sem_unlink`, even after every
//!   process that used it has ended.
//! * An unnamed semaphore (`sem_init`) is a `sem_t` in memory: with `pshared`
//!   0 the threads of one process share it, and it is gone with the process.
//!
//! And [`enter_pressed`], for the programs that wait for you.

use std::cell::UnsafeCell;
use std::ffi::CString;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

fn check(result: libc::c_int) -> Result<(), Errno> {
    if result == -1 {
        Err(Errno::last())
    } else {
        Ok(())
    }
}

/// `sem_wait(3)`: wait until the value is above 0, then take 1 from it.
fn wait(sem: *mut libc::sem_t) -> Result<(), Errno> {
    loop {
        // SAFETY: the callers pass a semaphore that sem_open or sem_init set up.
        match check(unsafe { libc::sem_wait(sem) }) {
            // A signal handler ran while we waited: wait again.
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}

/// `sem_post(3)`: add 1, waking one waiter if there is one.
fn post(sem: *mut libc::sem_t) -> Result<(), Errno> {
    // SAFETY: the callers pass a semaphore that sem_open or sem_init set up.
    check(unsafe { libc::sem_post(sem) })
}

// --- named semaphores ----------------------------------------------------

/// The `sem_t *` that `sem_open` returns.
pub struct NamedSemaphore {
    sem: *mut libc::sem_t,
}

/// `sem_open(3)`: open the semaphore called `name` (`/something`), creating
/// it with `value` when `flags` hold `O_CREAT` (and failing with `EEXIST`
/// when they also hold `O_EXCL` and it exists).
pub fn sem_open(name: &str, flags: OFlag, mode: Mode, value: u32) -> Result<NamedSemaphore, Errno> {
    let name = CString::new(name).map_err(|_| Errno::EINVAL)?;
    // SAFETY: sem_open reads the NUL-terminated name we own; it reads the mode
    // and the value, passed as the unsigned ints it expects, only with O_CREAT.
    let sem = unsafe { libc::sem_open(name.as_ptr(), flags.bits(), mode.bits() as libc::c_uint, value) };
    if sem == libc::SEM_FAILED {
        Err(Errno::last())
    } else {
        Ok(NamedSemaphore { sem })
    }
}

impl NamedSemaphore {
    /// `sem_wait(3)`.
    pub fn wait(&self) -> Result<(), Errno> {
        wait(self.sem)
    }

    /// `sem_post(3)`.
    pub fn post(&self) -> Result<(), Errno> {
        post(self.sem)
    }

    /// `sem_close(3)`: this process is done with the semaphore; the
    /// semaphore itself stays until `sem_unlink`.
    pub fn close(self) -> Result<(), Errno> {
        // SAFETY: the pointer came from sem_open, and `self` is consumed, so
        // it cannot be used after it is closed.
        check(unsafe { libc::sem_close(self.sem) })
    }
}

/// `sem_unlink(3)`: remove the name; the semaphore goes once every process
/// has closed it.
pub fn sem_unlink(name: &str) -> Result<(), Errno> {
    let name = CString::new(name).map_err(|_| Errno::EINVAL)?;
    // SAFETY: sem_unlink reads the NUL-terminated name we own.
    check(unsafe { libc::sem_unlink(name.as_ptr()) })
}

// --- unnamed semaphores --------------------------------------------------

/// A `sem_t` shared by the threads of one process (`pshared` 0). `sem_init`
/// sets it up where it lies, and it must not move until `sem_destroy`, so it
/// lives in a `Box`.
pub struct UnnamedSemaphore {
    sem: Box<UnsafeCell<libc::sem_t>>,
}

// SAFETY: a sem_t is made to be used by several threads at once; it is only
// touched through sem_wait, sem_post and sem_destroy.
unsafe impl Sync for UnnamedSemaphore {}
// SAFETY: the sem_t does not belong to one thread, and the Box never moves it.
unsafe impl Send for UnnamedSemaphore {}

impl UnnamedSemaphore {
    /// `sem_init(&sem, 0, value)`: a semaphore for the threads of this process.
    pub fn init(value: u32) -> Result<UnnamedSemaphore, Errno> {
        // SAFETY: all-zero bytes are a valid (not yet initialized) sem_t.
        let semaphore = UnnamedSemaphore { sem: Box::new(UnsafeCell::new(unsafe { std::mem::zeroed() })) };
        // SAFETY: sem_init sets up the sem_t in the Box, which stays in place.
        check(unsafe { libc::sem_init(semaphore.sem.get(), 0, value) })?;
        Ok(semaphore)
    }

    /// `sem_wait(3)`.
    pub fn wait(&self) -> Result<(), Errno> {
        wait(self.sem.get())
    }

    /// `sem_post(3)`.
    pub fn post(&self) -> Result<(), Errno> {
        post(self.sem.get())
    }

    /// `sem_destroy(3)`, once no thread uses the semaphore any more.
    pub fn destroy(self) -> Result<(), Errno> {
        // SAFETY: `self` is consumed, so no thread can use the semaphore after this.
        check(unsafe { libc::sem_destroy(self.sem.get()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unnamed_semaphore_counts() {
        let sem = UnnamedSemaphore::init(1).unwrap();
        sem.wait().unwrap();
        sem.post().unwrap();
        sem.wait().unwrap();
        sem.destroy().unwrap();
    }
}
