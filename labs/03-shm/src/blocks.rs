//! What `shm_writer` and `shm_reader` share: seed 003's `struct shmseg` at
//! the fixed key 0x1234, and two semaphores, made with the same key, that make
//! the two programs take turns on it.

use kit::sysv::key_t;

/// The seed's fixed key. Any program on the machine that picks 0x1234 too
/// meets these objects: `ftok` on a file of your own is safer.
pub const SHM_KEY: key_t = 0x1234;

pub const BUF_SIZE: usize = 1024;

/// The seed's layout, field for field.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Shmseg {
    /// How many bytes of `buf` the writer filled.
    pub cnt: i32,
    /// 1 once the writer has no more blocks.
    pub complete: i32,
    pub buf: [u8; BUF_SIZE],
}

/// The semaphores of the set, by number: the writer's turn (it starts with
/// 1) and the reader's turn (it starts with 0).
pub const WRITE: u16 = 0;
pub const READ: u16 = 1;
pub const SEMAPHORES: i32 = 2;
