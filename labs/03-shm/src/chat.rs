//! What `shm_server` and `shm_client` share: where their key comes from, what
//! the segment holds, and the two semaphores that hand one message at a time
//! from the client to the server.
//!
//! The segment holds one [`Slot`]. A set of two semaphores, made with the same
//! key, says whose turn it is:
//!
//! * [`FREE`]: the client may write the slot. The client waits on it before
//!   writing; the server posts it once it has taken the message.
//! * [`FULL`]: the server has something to look at. The server waits on it;
//!   the client posts it once the message is written.
//!
//! Each side also *arms* the semaphore the other side waits on: one `semop`
//! call with two operations on it, +1 and then -1 with `SEM_UNDO`, done at
//! once. The value does not change, but the kernel records that it must undo
//! the -1 when the process ends, however it ends (SIGKILL too). So the end of
//! one side wakes the other, instead of leaving it waiting forever.
//!
//! Step by step (a program in any language that follows these steps can take
//! either side):
//!
//! 1. The server creates the segment and the set (`IPC_CREAT | IPC_EXCL`,
//!    0600), sets FREE to 1 and FULL to 0, arms FREE, and attaches the segment
//!    last: a client that sees the server attached knows the semaphores are
//!    ready.
//! 2. The client opens both (flags 0), attaches, checks that the server and
//!    no other client are attached (`shm_nattch` is 2), and arms FULL.
//! 3. For each message the client waits on FREE (-1), checks that the server
//!    is still attached, copies the text in and sets the flag, then posts FULL
//!    (+1). `quit` is the last message.
//! 4. The server waits on FULL (-1). If the flag is set, it takes the message,
//!    clears the flag and posts FREE. If it is not, what woke the server was
//!    the kernel undoing the client's -1: the client is gone. So it is after
//!    a message when `shm_nattch` is below 2 and FULL is 0: the client was
//!    killed after setting the flag, before posting FULL.

/// `ftok`'s path, the working directory both programs run in, and the seed's
/// project id.
pub const KEY_PATH: &str = ".";
pub const PROJECT: u8 = 0x14;

/// The segment's size: one page, as in the seed.
pub const SIZE: usize = 4096;

/// The longest message the slot holds, with room for its NUL byte.
pub const TEXT_MAX: usize = SIZE - 4 - 1;

/// The semaphores of the set, by number.
pub const FREE: u16 = 0;
pub const FULL: u16 = 1;
pub const SEMAPHORES: i32 = 2;

/// What the segment holds: at most one message, laid out as in the seed (an
/// `int` flag, then the text as C's `strcpy` leaves it), so that a C program
/// can take either side.
#[repr(C)]
pub struct Slot {
    /// 1 from the moment the client has written a message until the server
    /// has taken it.
    flag: i32,
    /// The message, ended by a NUL byte.
    text: [u8; SIZE - 4],
}

impl Slot {
    /// Write `message` (at most [`TEXT_MAX`] bytes) into the slot.
    ///
    /// # Safety
    /// `slot` is the address of the attached segment, and the caller holds
    /// [`FREE`]: the server does not read the slot at the same time.
    pub unsafe fn put(slot: *mut Slot, message: &[u8]) {
        let len = message.len().min(TEXT_MAX);
        // SAFETY: the caller's promise. Raw writes: no Rust reference ever
        // points into memory another process maps.
        unsafe {
            let text = (&raw mut (*slot).text).cast::<u8>();
            std::ptr::copy_nonoverlapping(message.as_ptr(), text, len);
            text.add(len).write(0);
            (*slot).flag = 1;
        }
    }

    /// Take the message out of the slot, if there is one.
    ///
    /// # Safety
    /// `slot` is the address of the attached segment, and the caller holds
    /// [`FULL`]: the client does not write the slot at the same time.
    pub unsafe fn take(slot: *mut Slot) -> Option<String> {
        // SAFETY: the caller's promise, as in `put`.
        unsafe {
            if (*slot).flag == 0 {
                return None;
            }
            let text: [u8; SIZE - 4] = (&raw const (*slot).text).read();
            (*slot).flag = 0;
            let len = text.iter().position(|&byte| byte == 0).unwrap_or(text.len());
            Some(String::from_utf8_lossy(&text[..len]).into_owned())
        }
    }
}
