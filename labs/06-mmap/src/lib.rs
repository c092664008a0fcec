//! What `map_writer` and `map_reader` share: where the mapping lives and how
//! a line of text is kept in it.

use std::fmt;
use std::num::NonZeroUsize;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU8, Ordering};

/// The file both programs map in `file` mode, in the current directory.
pub const FILE: &str = "mapped.txt";
/// The POSIX shared memory object of `shm` mode: `/dev/shm/mmap_lab` on Linux.
pub const SHM: &str = "/mmap_lab";
/// Size of the mapping: one page.
pub const SIZE: NonZeroUsize = match NonZeroUsize::new(4096) {
    Some(size) => size,
    None => panic!("the size is not zero"),
};

/// What is mapped: a regular file, or a POSIX shared memory object.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Place {
    File,
    Shm,
}

impl Place {
    /// `file` (the default) or `shm`, from the first argument.
    pub fn from_args() -> Place {
        match std::env::args().nth(1).as_deref() {
            None | Some("file") => Place::File,
            Some("shm") => Place::Shm,
            Some(other) => kit::die("usage", format!("unknown place {other:?}: say file or shm")),
        }
    }

    /// The call that opens it, for error messages.
    pub fn open_call(self) -> &'static str {
        match self {
            Place::File => "open",
            Place::Shm => "shm_open",
        }
    }

    /// Where a person finds it on the machine.
    pub fn path(self) -> String {
        match self {
            Place::File => FILE.to_string(),
            Place::Shm => format!("/dev/shm{SHM}"),
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::File => write!(f, "file {FILE}"),
            Place::Shm => write!(f, "shared memory object {SHM}"),
        }
    }
}

/// A line of text kept in shared memory the way C keeps a string: its bytes,
/// then a NUL byte.
///
/// Another process may write these bytes while we read them, so each byte is
/// an `AtomicU8`: a reader that looks in the middle of a write may see a mix
/// of the old and the new text, but never undefined behaviour. Nothing here
/// tells the reader that the text changed; that takes a semaphore, a signal
/// or a message on top.
pub struct SharedText<'a> {
    bytes: &'a [AtomicU8],
}

impl SharedText<'_> {
    /// # Safety
    /// `address` must point to `size` bytes of mapped memory that stay mapped
    /// while the `SharedText` is in use.
    pub unsafe fn new(address: NonNull<libc::c_void>, size: NonZeroUsize) -> Self {
        // SAFETY: the caller promises `size` mapped bytes; an `AtomicU8` has
        // the size and alignment of a `u8`, and every byte value is valid.
        let bytes = unsafe { std::slice::from_raw_parts(address.cast::<AtomicU8>().as_ptr(), size.get()) };
        SharedText { bytes }
    }

    /// Store `text` (cut to what fits before the NUL) and zero the rest of the
    /// mapping, so that the file holds the text and nothing else. Returns how
    /// many bytes of text were stored.
    pub fn write(&self, text: &str) -> usize {
        let text = &text.as_bytes()[..text.len().min(self.bytes.len() - 1)];
        let padded = text.iter().copied().chain(std::iter::repeat(0));
        for (slot, byte) in self.bytes.iter().zip(padded) {
            slot.store(byte, Ordering::Relaxed);
        }
        text.len()
    }

    /// The text up to the first NUL byte.
    pub fn read(&self) -> String {
        let text: Vec<u8> =
            self.bytes.iter().map(|slot| slot.load(Ordering::Relaxed)).take_while(|&byte| byte != 0).collect();
        String::from_utf8_lossy(&text).into_owned()
    }
}

/// One line typed on the terminal without its `\n`, or `None` at the end of
/// input (Ctrl-D).
pub fn read_line() -> Option<String> {
    let mut line = String::new();
    match std::io::stdin().read_line(&mut line) {
        Ok(0) => None,
        Ok(_) => Some(line.trim_end_matches('\n').to_string()),
        Err(reason) => kit::die("read", reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_stored_with_a_nul_and_zeroes_after_it() {
        let mut memory = [b'x'; 8];
        {
            let address = NonNull::new(memory.as_mut_ptr().cast()).unwrap();
            // SAFETY: `memory` outlives `text`, which ends with this block.
            let text = unsafe { SharedText::new(address, NonZeroUsize::new(8).unwrap()) };
            assert_eq!(text.write("hello"), 5);
            assert_eq!(text.read(), "hello");
            assert_eq!(text.write("a longer line"), 7);
            assert_eq!(text.read(), "a longer line"[..7]);
            assert_eq!(text.write("hi"), 2);
        }
        assert_eq!(&memory, b"hi\0\0\0\0\0\0");
    }
}
