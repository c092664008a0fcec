//! What the programs of this lab share: two safe ways to wait for signals,
//! and the shared memory layout of `signal_server` and `signal_client`.
//!
//! A signal handler interrupts the program anywhere, even in the middle of
//! `printf` or `malloc`, which hold locks and half-updated buffers. So a
//! handler may only call async-signal-safe functions (signal-safety(7)) and
//! touch lock-free atomics. Both handlers here do that and nothing more:
//!
//! * [`SignalPipe`] (the self-pipe trick): the handler writes the signal's
//!   number into a pipe; the program reads it like any input, in a `poll`
//!   loop next to the terminal.
//! * [`block_and_catch`] and [`wait_for`]: the handler sets a bit in an
//!   atomic; the signals stay blocked except inside `sigsuspend`, which
//!   unblocks them and waits in one step, so none can arrive between the
//!   check of the bit and the wait.

use std::os::fd::{AsFd, BorrowedFd, IntoRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU8, AtomicUsize, Ordering};

use kit::OrDie;
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{sigaction, sigprocmask, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal};
use nix::unistd::{pipe2, read};

// --- the self-pipe -------------------------------------------------------

/// The write end of the self-pipe, for the handler: a handler can only reach
/// what is global.
static PIPE_WRITE_END: AtomicI32 = AtomicI32::new(-1);

extern "C" fn write_to_pipe(signal: libc::c_int) {
    // write() may change errno, and the code we interrupted may be about to
    // read errno: keep it as it was.
    let saved = Errno::last_raw();
    let byte = signal as u8;
    // SAFETY: write(2) is async-signal-safe and reads one byte of our stack.
    // The write end does not block: if the pipe were full, a wake-up is
    // already waiting in it and losing this byte does no harm.
    unsafe { libc::write(PIPE_WRITE_END.load(Ordering::Relaxed), (&byte as *const u8).cast(), 1) };
    Errno::set_raw(saved);
}

/// Signals turned into bytes in a pipe.
pub struct SignalPipe {
    read_end: OwnedFd,
}

impl SignalPipe {
    /// Make the pipe and install the handler for `signals`.
    pub fn catch(signals: &[Signal]) -> SignalPipe {
        let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC).or_die("pipe2");
        fcntl(&write_end, FcntlArg::F_SETFL(OFlag::O_NONBLOCK)).or_die("fcntl");
        // The write end stays open for as long as the process runs.
        PIPE_WRITE_END.store(write_end.into_raw_fd(), Ordering::Relaxed);
        // SA_RESTART: calls the signal interrupts resume by themselves.
        let action = SigAction::new(SigHandler::Handler(write_to_pipe), SaFlags::SA_RESTART, SigSet::empty());
        for &signal in signals {
            // SAFETY: the handler only calls write(2) and touches errno.
            unsafe { sigaction(signal, &action) }.or_die("sigaction");
        }
        SignalPipe { read_end }
    }

    /// Wait for the next signal caught.
    pub fn next(&self) -> Signal {
        let mut byte = [0u8];
        loop {
            match read(&self.read_end, &mut byte) {
                Ok(1) => return Signal::try_from(byte[0] as libc::c_int).or_die("signal number"),
                Ok(_) => kit::die("read", "the signal pipe was closed"),
                Err(Errno::EINTR) => continue,
                Err(reason) => kit::die("read", reason),
            }
        }
    }
}

impl AsFd for SignalPipe {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.read_end.as_fd()
    }
}

/// What woke the program up.
pub enum Event {
    /// A line typed on the terminal, without its `\n`.
    Line(String),
    /// Ctrl-D: the end of the input.
    EndOfInput,
    Signal(Signal),
}

/// Wait until a line is typed or (if there is a pipe) a signal is caught.
pub fn next_event(signals: Option<&SignalPipe>) -> Event {
    let stdin = std::io::stdin();
    let mut fds = vec![PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
    if let Some(pipe) = signals {
        fds.push(PollFd::new(pipe.as_fd(), PollFlags::POLLIN));
    }
    loop {
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => break,
            // A signal's handler ran: its byte is in the pipe now.
            Err(Errno::EINTR) => continue,
            Err(reason) => kit::die("poll", reason),
        }
    }
    let ready = |fd: &PollFd| fd.revents().is_some_and(|events| !events.is_empty());
    if let (Some(pipe), Some(true)) = (signals, fds.get(1).map(ready)) {
        return Event::Signal(pipe.next());
    }
    // On a terminal, one read returns one line.
    let mut line = [0u8; 4096];
    match read(stdin.as_fd(), &mut line).or_die("read") {
        0 => Event::EndOfInput,
        count => Event::Line(String::from_utf8_lossy(&line[..count]).trim_end_matches('\n').to_string()),
    }
}

// --- a flag and sigsuspend -----------------------------------------------

/// Signals caught and not yet waited for: bit N stands for signal N.
static CAUGHT: AtomicU32 = AtomicU32::new(0);

extern "C" fn note(signal: libc::c_int) {
    // A lock-free atomic operation is safe in a handler.
    CAUGHT.fetch_or(1 << signal, Ordering::SeqCst);
}

/// Block `signals` and install the handler that notes them. Returns the mask
/// to wait with: the old one, where they are not blocked. A child made by
/// `fork` inherits both the handler and the blocked signals.
pub fn block_and_catch(signals: &[Signal]) -> SigSet {
    let mut blocked = SigSet::empty();
    for &signal in signals {
        assert!((signal as i32) < 32, "{signal} does not fit the bit set");
        blocked.add(signal);
    }
    let mut waiting = SigSet::empty();
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&blocked), Some(&mut waiting)).or_die("sigprocmask");
    let action = SigAction::new(SigHandler::Handler(note), SaFlags::empty(), SigSet::empty());
    for &signal in signals {
        // SAFETY: the handler only does one atomic operation.
        unsafe { sigaction(signal, &action) }.or_die("sigaction");
    }
    waiting
}

/// Wait until `signal` (blocked by [`block_and_catch`]) has been caught.
pub fn wait_for(signal: Signal, waiting: &SigSet) {
    let bit = 1 << signal as i32;
    while CAUGHT.fetch_and(!bit, Ordering::SeqCst) & bit == 0 {
        // Unblock, sleep until a handler has run, block again: one step.
        waiting.suspend().or_die("sigsuspend");
    }
}

// --- the shared memory of signal_server and signal_client ------------------

/// The file whose inode `ftok` makes the key from; the server creates it.
pub const KEY_FILE: &str = "signal.key";
pub const KEY_PROJECT: u8 = b'S';
/// The longest text the mailbox holds.
pub const TEXT_MAX: usize = 256;
/// Sent to say that the conversation is over.
pub const QUIT: &str = "quit";

/// Two pids and one text, in shared memory. Everything is atomic: the other
/// process may touch these bytes at any time, and the atomics make each
/// access a real load or store of the shared memory. The text is published
/// by storing its length last (Release), after the bytes; a reader loads the
/// length first (Acquire), so it sees the bytes stored before.
#[repr(C)]
pub struct Mailbox {
    pub server_pid: AtomicI32,
    pub client_pid: AtomicI32,
    length: AtomicUsize,
    text: [AtomicU8; TEXT_MAX],
}

impl Mailbox {
    /// # Safety
    /// `address` must point to at least `size_of::<Mailbox>()` bytes of
    /// attached shared memory, aligned for it, that stay attached while the
    /// mailbox is used. All-zero bytes are a valid, empty mailbox.
    pub unsafe fn at<'a>(address: *mut libc::c_void) -> &'a Mailbox {
        // SAFETY: as the caller promises.
        unsafe { &*address.cast::<Mailbox>() }
    }

    /// Store `text`, cut to [`TEXT_MAX`] bytes.
    pub fn put(&self, text: &str) {
        let bytes = &text.as_bytes()[..text.len().min(TEXT_MAX)];
        for (slot, &byte) in self.text.iter().zip(bytes) {
            slot.store(byte, Ordering::Relaxed);
        }
        self.length.store(bytes.len(), Ordering::Release);
    }

    /// The text stored last.
    pub fn get(&self) -> String {
        let length = self.length.load(Ordering::Acquire).min(TEXT_MAX);
        let bytes: Vec<u8> = self.text[..length].iter().map(|slot| slot.load(Ordering::Relaxed)).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// One line typed on the terminal without its `\n`, or `None` at the end of
/// input (Ctrl-D).
pub fn read_line() -> Option<String> {
    let mut line = String::new();
    match std::io::stdin().read_line(&mut line).or_die("read") {
        0 => None,
        _ => Some(line.trim_end_matches('\n').to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::signal::raise;

    #[test]
    fn a_mailbox_in_zeroed_memory_is_empty_and_keeps_the_last_text() {
        let memory = vec![0u64; std::mem::size_of::<Mailbox>() / 8 + 1];
        // SAFETY: the vector is zeroed, big and aligned enough, and outlives the mailbox.
        let mailbox = unsafe { Mailbox::at(memory.as_ptr() as *mut libc::c_void) };
        assert_eq!(mailbox.get(), "");
        mailbox.put("first line");
        mailbox.put("second");
        assert_eq!(mailbox.get(), "second");
        mailbox.put(&"x".repeat(TEXT_MAX + 10));
        assert_eq!(mailbox.get().len(), TEXT_MAX);
    }

    #[test]
    fn a_caught_signal_arrives_through_the_pipe() {
        let pipe = SignalPipe::catch(&[Signal::SIGUSR1]);
        raise(Signal::SIGUSR1).unwrap();
        assert_eq!(pipe.next(), Signal::SIGUSR1);
    }
}
