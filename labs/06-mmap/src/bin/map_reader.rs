//! Look at the text `map_writer` keeps in a shared mapping, each time Enter is
//! pressed.
//!
//! With `map_writer`, an extension of seed 003's "7. 内存映射". `map_reader
//! file` opens `mapped.txt`, `map_reader shm` opens the POSIX shared memory
//! object `/mmap_lab` with `shm_open`, both read-only; `fstat` tells the size,
//! and `mmap` with `MAP_SHARED` maps the same pages the writer maps. The
//! reader never calls `read` on the file: it looks at its own memory and finds
//! what the other process stored there.
//!
//! Two things to see. The mapping sits at another address than in the writer:
//! a pointer stored in shared memory means nothing to the other process. And
//! once the writer has quit and removed the name, the reader still sees the
//! last text: removing a name (`unlink`, `shm_unlink`) only stops new opens;
//! the pages live until the last mapping is gone.

use std::num::NonZeroUsize;

use kit::OrDie;
use mapping::{read_line, Place, SharedText, FILE, SHM};
use nix::fcntl::{open, OFlag};
use nix::sys::mman::{mmap, munmap, shm_open, MapFlags, ProtFlags};
use nix::sys::stat::{fstat, Mode};
use nix::unistd::close;

fn main() {
    let place = Place::from_args();
    let opened = match place {
        Place::File => open(FILE, OFlag::O_RDONLY, Mode::empty()),
        Place::Shm => shm_open(SHM, OFlag::O_RDONLY, Mode::empty()),
    };
    let fd = opened.or_die(place.open_call());
    let size = fstat(&fd).or_die("fstat").st_size as usize;
    let size = NonZeroUsize::new(size).unwrap_or_else(|| kit::die("mmap", format!("the {place} is empty")));
    // SAFETY: the kernel chooses a new address, so no memory of ours changes.
    let map = unsafe { mmap(None, size, ProtFlags::PROT_READ, MapFlags::MAP_SHARED, &fd, 0) }.or_die("mmap");
    close(fd).or_die("close");
    println!("mapped {size} bytes of {place} at {map:p}");

    // SAFETY: `map` is `size` bytes long and stays mapped until `munmap`
    // below, after the last use of `text`.
    let text = unsafe { SharedText::new(map, size) };
    loop {
        kit::prompt("Press Enter to look, Ctrl-D to quit: ");
        if read_line().is_none() {
            println!();
            break;
        }
        println!("the mapping holds {:?}", text.read());
    }

    // SAFETY: `text` is not used any more.
    unsafe { munmap(map, size.get()) }.or_die("munmap");
    println!("unmapped {place}");
}
