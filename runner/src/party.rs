//! A party: one program running on its own pseudo-terminal, in its own session
//! and process group, as if a student had started it in a terminal window.
//!
//! The terminal's line discipline does the work a real terminal does: it echoes
//! what is typed, turns Ctrl-C into SIGINT for the party's process group, and
//! makes C programs' stdio line-buffered.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, FdFlag, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::pty::{openpty, OpenptyResult, Winsize};
use nix::sys::resource::{setrlimit, Resource};
use nix::sys::signal::{killpg, sigprocmask, SigSet, SigmaskHow, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{chdir, dup2_stderr, dup2_stdin, dup2_stdout, execve, fork, setsid, ForkResult, Pid};

use crate::transcript::{Ending, KillReason, Screen};

/// What to run for a party: a program and its arguments.
#[derive(Debug, Clone)]
pub struct Command {
    pub program: PathBuf,
    pub args: Vec<String>,
}

pub struct Party {
    pub name: String,
    pub pid: Pid,
    /// Our side of the party's terminal: what we write is typed, what we read
    /// is what the terminal shows.
    pub terminal: OwnedFd,
    /// Becomes readable when the process exits (pidfd_open(2)).
    pub exit_fd: OwnedFd,
    pub screen: Screen,
    /// How far into the screen's text earlier waits have matched.
    pub cursor: usize,
    pub ending: Option<Ending>,
    /// The terminal reports end of file: every process holding it has closed it.
    pub closed: bool,
    pub started: Instant,
}

nix::ioctl_write_int_bad!(make_controlling_terminal, libc::TIOCSCTTY);

/// Resource limits of every party, so that a fork bomb, a runaway loop or a
/// memory hog ends as a verdict instead of a stuck machine. Processes are
/// counted per user across the sandbox, so the limit covers a party's
/// children too.
pub const LIMITS: [(Resource, u64); 6] = [
    (Resource::RLIMIT_NPROC, 256),
    (Resource::RLIMIT_AS, 4 << 30),
    (Resource::RLIMIT_CPU, 20),
    (Resource::RLIMIT_NOFILE, 256),
    (Resource::RLIMIT_FSIZE, 64 << 20),
    (Resource::RLIMIT_CORE, 0),
];

impl Party {
    /// Fork and exec `command` on a new pseudo-terminal, in `workdir`.
    pub fn spawn(name: &str, command: &Command, workdir: &Path, env: &[(String, String)]) -> Result<Party, String> {
        let path = CString::new(command.program.as_os_str().as_bytes())
            .map_err(|_| format!("program path {:?} holds a NUL byte", command.program))?;
        let mut argv = vec![path.clone()];
        for arg in &command.args {
            argv.push(CString::new(arg.as_str()).map_err(|_| format!("argument {arg:?} holds a NUL byte"))?);
        }
        let envp: Vec<CString> =
            env.iter().filter_map(|(key, value)| CString::new(format!("{key}={value}")).ok()).collect();
        let size = Winsize { ws_row: 24, ws_col: 80, ws_xpixel: 0, ws_ypixel: 0 };
        let OpenptyResult { master, slave } = openpty(Some(&size), None).map_err(|err| format!("openpty: {err}"))?;
        fcntl(&master, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).map_err(|err| format!("fcntl: {err}"))?;
        fcntl(&slave, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).map_err(|err| format!("fcntl: {err}"))?;

        // SAFETY: the child only sets up its terminal and process state, then
        // execs; it reports a failure on the terminal and leaves with _exit.
        match unsafe { fork() }.map_err(|err| format!("fork: {err}"))? {
            ForkResult::Child => {
                drop(master);
                let problem = become_party(slave.as_fd(), workdir);
                let problem = match problem {
                    Ok(()) => execve(&path, &argv, &envp).err().map(|err| ("execve", err)),
                    Err(problem) => Some(problem),
                };
                if let Some((call, err)) = problem {
                    let message = format!("runner: cannot start {}: {call}: {err}\r\n", command.program.display());
                    let _ = nix::unistd::write(std::io::stderr(), message.as_bytes());
                }
                // SAFETY: leaving the forked child without running the parent's
                // destructors or atexit handlers.
                unsafe { libc::_exit(127) }
            }
            ForkResult::Parent { child } => {
                drop(slave);
                let flags = fcntl(&master, FcntlArg::F_GETFL).map_err(|err| format!("fcntl: {err}"))?;
                fcntl(&master, FcntlArg::F_SETFL(OFlag::from_bits_retain(flags) | OFlag::O_NONBLOCK))
                    .map_err(|err| format!("fcntl: {err}"))?;
                let exit_fd = pidfd_open(child).map_err(|err| format!("pidfd_open: {err}"))?;
                Ok(Party {
                    name: name.to_string(),
                    pid: child,
                    terminal: master,
                    exit_fd,
                    screen: Screen::default(),
                    cursor: 0,
                    ending: None,
                    closed: false,
                    started: Instant::now(),
                })
            }
        }
    }

    pub fn running(&self) -> bool {
        self.ending.is_none()
    }

    /// Read what the terminal has for us. Returns false when the party
    /// exceeded the output cap.
    pub fn read_terminal(&mut self) -> bool {
        let mut buffer = [0u8; 16 * 1024];
        loop {
            match nix::unistd::read(&self.terminal, &mut buffer) {
                Ok(0) => {
                    self.closed = true;
                    return true;
                }
                Ok(count) => {
                    if !self.screen.push(&buffer[..count]) {
                        return false;
                    }
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return true,
                // EIO: the last process holding the terminal closed it.
                Err(_) => {
                    self.closed = true;
                    return true;
                }
            }
        }
    }

    /// Type bytes into the terminal, waiting while its input buffer is full.
    pub fn type_bytes(&mut self, bytes: &[u8], deadline: Instant) -> Result<(), String> {
        let mut rest = bytes;
        while !rest.is_empty() {
            match nix::unistd::write(&self.terminal, rest) {
                Ok(count) => rest = &rest[count..],
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => {
                    // The program is not reading its input: wait for room,
                    // draining its output meanwhile so neither side blocks.
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() || self.closed {
                        return Err(format!("{} does not read what is typed", self.name));
                    }
                    let events = PollFlags::POLLOUT | PollFlags::POLLIN;
                    let mut fds = [PollFd::new(self.terminal.as_fd(), events)];
                    let _ = poll(&mut fds, PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX));
                    self.read_terminal();
                }
                Err(err) => return Err(format!("cannot type into {}'s terminal: {err}", self.name)),
            }
        }
        Ok(())
    }

    /// Collect the exit status if the process has ended (it is not waited for).
    pub fn reap(&mut self) -> bool {
        if self.ending.is_some() {
            return true;
        }
        match waitpid(self.pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => self.ending = Some(Ending::Exited { code }),
            Ok(WaitStatus::Signaled(_, signal, _)) => self.ending = Some(Ending::signaled(signal)),
            _ => return false,
        }
        true
    }

    /// Kill the party's whole process group and wait for the party itself.
    pub fn kill(&mut self, why: KillReason) {
        if self.ending.is_some() {
            return;
        }
        let _ = killpg(self.pid, Signal::SIGKILL);
        let _ = waitpid(self.pid, None);
        self.ending = Some(Ending::Killed { why });
    }

    /// The unmatched part of what the terminal showed.
    pub fn unmatched(&self) -> &str {
        &self.screen.text()[self.cursor..]
    }

    pub fn terminal_fd(&self) -> BorrowedFd<'_> {
        self.terminal.as_fd()
    }
}

impl Drop for Party {
    fn drop(&mut self) {
        self.kill(KillReason::StillRunning);
    }
}

/// In the forked child: a new session whose controlling terminal is `slave`,
/// the terminal as stdin, stdout and stderr, default signal handling, no core
/// files, the run's working directory.
fn become_party(slave: BorrowedFd<'_>, workdir: &Path) -> Result<(), (&'static str, Errno)> {
    setsid().map_err(|err| ("setsid", err))?;
    // If whoever started us dies, so do we: no party outlives its runner.
    // SAFETY: prctl with integer arguments only.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) };
    // SAFETY: TIOCSCTTY on a terminal we hold, with argument 0 (do not steal).
    unsafe { make_controlling_terminal(slave.as_raw_fd(), 0) }.map_err(|err| ("ioctl(TIOCSCTTY)", err))?;
    dup2_stdin(slave).map_err(|err| ("dup2", err))?;
    dup2_stdout(slave).map_err(|err| ("dup2", err))?;
    dup2_stderr(slave).map_err(|err| ("dup2", err))?;
    // Ignored signals stay ignored across exec: the runner ignores SIGPIPE
    // (as every Rust program does), the party must not.
    for signal in Signal::iterator() {
        if !matches!(signal, Signal::SIGKILL | Signal::SIGSTOP) {
            // SAFETY: restoring the default action installs no handler.
            let _ = unsafe { nix::sys::signal::signal(signal, nix::sys::signal::SigHandler::SigDfl) };
        }
    }
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None).map_err(|err| ("sigprocmask", err))?;
    for (resource, limit) in LIMITS {
        setrlimit(resource, limit, limit).map_err(|err| ("setrlimit", err))?;
    }
    chdir(workdir).map_err(|err| ("chdir", err))?;
    Ok(())
}

/// Wait until `pid` exits, at most `timeout`, without reaping it. Returns
/// whether it exited (true as well when it cannot be watched: it is gone).
pub fn wait_for_exit(pid: Pid, timeout: Duration) -> bool {
    let Ok(exit) = pidfd_open(pid) else { return true };
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut fds = [PollFd::new(exit.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX)) {
            Ok(0) => return false,
            Ok(_) => return true,
            Err(Errno::EINTR) if !left.is_zero() => {}
            Err(_) => return false,
        }
    }
}

/// A file descriptor that becomes readable when `pid` exits.
pub fn pidfd_open(pid: Pid) -> Result<OwnedFd, Errno> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just gave us this descriptor and nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// An executable by path, or by name on PATH, as an absolute path (parties
/// run in another working directory).
pub fn find_program(program: &str) -> Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    let candidates: Vec<PathBuf> = if program.contains('/') {
        vec![PathBuf::from(program)]
    } else {
        std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).map(|dir| dir.join(program)).collect())
            .unwrap_or_default()
    };
    let found = candidates
        .into_iter()
        .find(|path| path.metadata().is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0));
    let found = found.ok_or_else(|| format!("{program}: no such executable program"))?;
    found.canonicalize().map_err(|err| format!("{program}: {err}"))
}
