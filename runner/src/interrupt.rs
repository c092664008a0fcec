//! The runner itself interrupted (Ctrl-C, SIGTERM, SIGHUP): note it, so that
//! whatever is waiting stops, kills its sandbox and cleans up before exiting.

use std::sync::atomic::{AtomicBool, Ordering};

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

static REQUESTED: AtomicBool = AtomicBool::new(false);

extern "C" fn note(_: libc::c_int) {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Catch the signals that ask the runner to stop. Without SA_RESTART, so
/// that a blocking poll returns EINTR and sees the request.
pub fn catch() {
    let action = SigAction::new(SigHandler::Handler(note), SaFlags::empty(), SigSet::empty());
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        // SAFETY: the handler only stores to an atomic.
        let _ = unsafe { sigaction(signal, &action) };
    }
}

pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
