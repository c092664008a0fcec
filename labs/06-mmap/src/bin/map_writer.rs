//! Write typed lines into a shared mapping; `map_reader`, another process,
//! sees each one in its own mapping of the same file or object.
//!
//! Goes further than seed 003's "7. 内存映射", which maps a file read-only in
//! one process: here two processes map the same pages with `MAP_SHARED`.
//! `map_writer file` creates `mapped.txt`; `map_writer shm` creates the POSIX
//! shared memory object `/mmap_lab` with `shm_open`, a file that lives in
//! memory only (`/dev/shm/mmap_lab`). Either way `ftruncate` gives it its
//! size, `mmap` maps it, and `close` may come at once: the mapping keeps the
//! file open. A store into the mapping is visible to every process that maps
//! the same pages, at once, without any `write` or `read` call.
//!
//! `msync(MS_SYNC)` after each line in `file` mode is not what makes the text
//! visible to the reader: both share the same pages of the page cache. It
//! writes those pages to the disk now, so the file on disk holds the line
//! even if the machine crashes. A POSIX shared memory object has no disk
//! behind it, so `shm` mode does not call it.
//!
//! The writer created the file or object, so the writer removes it on `quit`
//! or Ctrl-D: `unlink` or `shm_unlink`. The objects are made with mode 0600,
//! for the owner only: with the seeds' 0666 any user could read and change
//! the shared memory.

use std::num::NonZeroUsize;
use std::os::fd::OwnedFd;
use std::ptr::NonNull;

use kit::OrDie;
use mapping::{read_line, Place, SharedText, FILE, SHM, SIZE};
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::mman::{mmap, msync, munmap, shm_open, shm_unlink, MapFlags, MsFlags, ProtFlags};
use nix::sys::stat::Mode;
use nix::unistd::{close, ftruncate, unlink};

fn main() {
    let place = Place::from_args();
    let fd = create(place);
    ftruncate(&fd, SIZE.get() as libc::off_t).or_die("ftruncate");
    let map = map_shared(&fd, SIZE);
    close(fd).or_die("close");
    println!("mapped {SIZE} bytes of {place} at {map:p}");

    // SAFETY: `map` is SIZE bytes long and stays mapped until `munmap` below,
    // after the last use of `text`.
    let text = unsafe { SharedText::new(map, SIZE) };
    loop {
        kit::prompt("Write: ");
        let line = match read_line() {
            Some(line) if line != "quit" => line,
            Some(_) => break,
            None => {
                println!();
                break;
            }
        };
        let count = text.write(&line);
        if place == Place::File {
            // SAFETY: `map` is a live mapping of SIZE bytes.
            unsafe { msync(map, SIZE.get(), MsFlags::MS_SYNC) }.or_die("msync");
            println!("wrote {count} bytes, msync sent them to the file");
        } else {
            println!("wrote {count} bytes");
        }
    }

    // SAFETY: `text` is not used any more.
    unsafe { munmap(map, SIZE.get()) }.or_die("munmap");
    match place {
        Place::File => unlink(FILE).or_die("unlink"),
        Place::Shm => shm_unlink(SHM).or_die("shm_unlink"),
    }
    println!("removed {place}");
}

/// Create the file or shared memory object, failing if it already exists:
/// a leftover of a writer that could not clean up.
fn create(place: Place) -> OwnedFd {
    let flags = OFlag::O_RDWR | OFlag::O_CREAT | OFlag::O_EXCL;
    let mode = Mode::S_IRUSR | Mode::S_IWUSR;
    let created = match place {
        Place::File => open(FILE, flags, mode),
        Place::Shm => shm_open(SHM, flags, mode),
    };
    match created {
        Ok(fd) => fd,
        Err(Errno::EEXIST) => {
            let path = place.path();
            println!("The {place} exists: a writer is running, or one ended without removing it.");
            println!("Remove it with 'rm {path}'.");
            std::process::exit(1);
        }
        Err(reason) => kit::die(place.open_call(), reason),
    }
}

/// Map `size` bytes of `fd` for reading and writing, shared with every other
/// process that maps it.
fn map_shared(fd: &OwnedFd, size: NonZeroUsize) -> NonNull<libc::c_void> {
    let protection = ProtFlags::PROT_READ | ProtFlags::PROT_WRITE;
    // SAFETY: the kernel chooses a new address, so no memory of ours changes.
    unsafe { mmap(None, size, protection, MapFlags::MAP_SHARED, fd, 0) }.or_die("mmap")
}
