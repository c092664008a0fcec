//! Map a file into memory and read single bytes of it by their offset.
//!
//! From seed 003, "7. 内存映射（Memory Map）". The program writes the sample
//! file `MMAP_DATA.txt` (`A`–`Z`, `0`–`9`, `a`–`z`: 62 bytes), maps it
//! read-only with `mmap`, and answers typed offsets from the mapping: no
//! `read` call, the byte is simply at `address + offset`. `-1` quits; then
//! `munmap` releases the mapping and `unlink` removes the file.
//!
//! Fixed: the seed never checks what `scanf` returns. Text that is not a
//! number stays unread in stdin, and at the end of input (Ctrl-D) `scanf`
//! keeps failing: either way the loop prints its prompt forever, with the old
//! offset. Here each line is read and parsed, a non-number gets an answer and
//! Ctrl-D quits. The seed also goes on after it failed to write the file,
//! makes it with mode 0666, calls `stat` by name and then `open` (the file
//! may change in between; `fstat` asks about the file actually opened), and
//! removes it with `system("rm -f ...")`, a whole shell that fails silently,
//! where `unlink` is one system call.

use std::num::NonZeroUsize;
use std::ptr::NonNull;

use kit::OrDie;
use mapping::read_line;
use nix::fcntl::{open, OFlag};
use nix::sys::mman::{mmap, munmap, MapFlags, ProtFlags};
use nix::sys::stat::{fstat, Mode};
use nix::unistd::{close, unlink, write};

const FILE: &str = "MMAP_DATA.txt";

fn main() {
    write_sample_data();

    let fd = open(FILE, OFlag::O_RDONLY, Mode::empty()).or_die("open");
    let size = fstat(&fd).or_die("fstat").st_size as usize;
    let length = NonZeroUsize::new(size).unwrap_or_else(|| kit::die("mmap", "the file is empty"));
    // SAFETY: a new read-only mapping chosen by the kernel overlaps no memory
    // of ours; it is read only below `size`, and only until `munmap`.
    let data = unsafe { mmap(None, length, ProtFlags::PROT_READ, MapFlags::MAP_SHARED, &fd, 0) }.or_die("mmap");
    // The mapping keeps its own reference to the file: the descriptor can go.
    close(fd).or_die("close");

    let max = size - 1;
    loop {
        kit::prompt(&format!("Enter -1 to quit or enter a number between 0 and {max}: "));
        let Some(line) = read_line() else {
            println!();
            break;
        };
        match line.trim().parse::<i64>() {
            Ok(-1) => break,
            Ok(offset) => match byte_at(data, size, offset) {
                Some(byte) => println!("Received char at {offset} is {}", byte as char),
                None => println!("Received invalid index {offset}"),
            },
            Err(_) => println!("Received invalid number {:?}", line.trim()),
        }
    }

    // SAFETY: `data` came from mmap with this length and is not used after.
    unsafe { munmap(data, size) }.or_die("munmap");
    unlink(FILE).or_die("unlink");
}

/// Write `A`–`Z`, `0`–`9`, `a`–`z` into a new (or emptied) file, owner-only.
fn write_sample_data() {
    let bytes: Vec<u8> = (b'A'..=b'Z').chain(b'0'..=b'9').chain(b'a'..=b'z').collect();
    let mode = Mode::S_IRUSR | Mode::S_IWUSR;
    let fd = open(FILE, OFlag::O_CREAT | OFlag::O_TRUNC | OFlag::O_WRONLY, mode).or_die("open");
    let written = write(&fd, &bytes).or_die("write");
    if written != bytes.len() {
        kit::die("write", format!("wrote {written} of {} bytes", bytes.len()));
    }
    close(fd).or_die("close");
}

/// The byte at `offset` in the mapping of `size` bytes, if there is one.
fn byte_at(data: NonNull<libc::c_void>, size: usize, offset: i64) -> Option<u8> {
    let offset = usize::try_from(offset).ok().filter(|&offset| offset < size)?;
    // SAFETY: `offset` is inside the mapping, which lives until `munmap`.
    // Volatile: with MAP_SHARED another process may change the file under us,
    // so the compiler must really load the byte each time.
    Some(unsafe { data.cast::<u8>().add(offset).read_volatile() })
}
