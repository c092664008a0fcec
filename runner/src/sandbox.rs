//! Where a scenario runs, so that its IPC objects and processes can be counted
//! exactly and never reach the host.
//!
//! With namespaces (the default): the runner forks a helper that unshares new
//! user (when not root), IPC, mount, network and PID namespaces, then forks the
//! sandbox's first process (PID 1 there). That process mounts its own `/proc`,
//! a private tmpfs on `/dev/shm` and on the run folder, an mqueue file system,
//! brings up loopback, plays the scenario, and lists what is left *before* it
//! exits: objects in a namespace vanish with its last process, which would hide
//! leaks. Everything it finds was made by this run. It sends the result back as
//! JSON through a pipe; when it exits, the kernel kills whatever is left in the
//! PID namespace and frees the IPC namespace.
//!
//! Without namespaces (refused by the kernel, or `--isolation host`): the
//! scenario runs on the host, one run at a time (a lock file), and the leaks
//! are the objects that appeared during the run.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg, OFlag};
use nix::mount::{mount, MsFlags};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sched::{unshare, CloneFlags};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, getpid, getppid, pipe2, ForkResult, Pid};
use serde::{Deserialize, Serialize};

use crate::interrupt;
use crate::inventory::{self, Kind, Object, Places, ProcessInfo};
use crate::lab::{Lab, Scenario};
use crate::party::Command;
use crate::scenario::{self, Played, Setup};

/// How a run is isolated from the host and from other runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// Namespaces where the kernel allows them, else the host.
    Auto,
    /// Namespaces, or fail.
    Sandbox,
    /// The host, one run at a time.
    Host,
}

/// What a scenario did and what it left behind.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    pub played: Played,
    pub leaks: Vec<Leak>,
    /// Every IPC object seen while the scenario played.
    pub seen: Vec<Object>,
    /// Lessons about what was seen, e.g. objects other users could change.
    pub warnings: Vec<String>,
    /// `sandbox` or `host`.
    pub isolation: Isolation,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Leak {
    pub object: Object,
    /// The party whose process created it, when known.
    pub party: Option<String>,
    /// How a person removes it on a normal machine.
    pub removal: String,
    /// What the runner did about it.
    pub cleanup: String,
}

#[derive(Debug)]
pub enum SandboxError {
    /// The kernel refused the namespaces: run on the host instead.
    Refused(String),
    Failed(String),
}

/// The sandbox's own exit status when it could not set itself up.
const REFUSED_STATUS: i32 = 3;

/// Play `scenario` isolated as `isolation` says (`Auto` is not accepted here:
/// the caller decides after the first refusal).
pub fn run(
    isolation: Isolation,
    lab: &Lab,
    scenario: &Scenario,
    commands: &BTreeMap<String, Command>,
) -> Result<Outcome, SandboxError> {
    let run_dir = RunDir::make().map_err(SandboxError::Failed)?;
    let budget: Duration = scenario.steps.iter().map(|step| step.timeout).sum::<Duration>() + Duration::from_secs(5);
    match isolation {
        Isolation::Host => {
            let _lock = host_lock().map_err(SandboxError::Failed)?;
            launch(budget, |results| host_child(results, &run_dir.0, lab, scenario, commands))
        }
        _ => launch(budget, |results| namespace_helper(results, &run_dir.0, lab, scenario, commands)),
    }
}

/// The run's folder on the host, removed however the run ends (a panic too).
struct RunDir(PathBuf);

impl RunDir {
    fn make() -> Result<RunDir, String> {
        let template = std::env::temp_dir().join("ipc-labs-run.XXXXXX");
        nix::unistd::mkdtemp(&template).map(RunDir).map_err(|err| format!("mkdtemp {}: {err}", template.display()))
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A sandbox still running: stopped and waited for if the runner gives up on
/// it, a panic included.
struct Running(Option<Pid>);

impl Running {
    /// The sandbox ended by itself: nothing to stop any more.
    fn ended(mut self) -> Pid {
        self.0.take().expect("a running sandbox has a pid")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = self.0.take() {
            stop(child);
        }
    }
}

/// Fork `child`, which writes its JSON result on the pipe it is given, and
/// collect that result within `budget`.
fn launch(budget: Duration, child: impl FnOnce(File) -> i32) -> Result<Outcome, SandboxError> {
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC).map_err(|err| SandboxError::Failed(format!("pipe2: {err}")))?;
    let runner = getpid();
    // SAFETY: the runner is single-threaded; the child runs its job and leaves
    // with _exit.
    match unsafe { fork() }.map_err(|err| SandboxError::Failed(format!("fork: {err}")))? {
        ForkResult::Child => {
            drop(read_end);
            die_with(runner);
            let status = child(File::from(write_end));
            // SAFETY: leave the forked child without the parent's destructors.
            unsafe { libc::_exit(status) }
        }
        ForkResult::Parent { child } => {
            drop(write_end);
            collect(child, read_end, budget)
        }
    }
}

fn collect(child: Pid, results: OwnedFd, budget: Duration) -> Result<Outcome, SandboxError> {
    let running = Running(Some(child));
    let deadline = Instant::now() + budget;
    // Lets the tests prove that a panicking runner leaves nothing behind.
    let test_panic_at = cfg!(debug_assertions)
        .then(|| std::env::var("RUNNER_TEST_PANIC_AFTER_MS").ok()?.parse().ok())
        .flatten()
        .map(|ms| Instant::now() + Duration::from_millis(ms));
    let mut results = File::from(results);
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 64 * 1024];
    let problem = loop {
        if interrupt::requested() {
            break Some("interrupted".to_string());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break Some(format!("the sandbox did not finish within {} s", budget.as_secs()));
        }
        let mut fds = [PollFd::new(results.as_fd(), PollFlags::POLLIN)];
        let left = match test_panic_at {
            Some(at) if Instant::now() >= at => panic!("RUNNER_TEST_PANIC_AFTER_MS is set"),
            Some(at) => left.min(at - Instant::now()),
            None => left,
        };
        match poll(&mut fds, PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX)) {
            Ok(0) | Err(Errno::EINTR) => continue,
            Ok(_) => {}
            Err(err) => break Some(format!("poll: {err}")),
        }
        match results.read(&mut buffer) {
            Ok(0) => break None,
            Ok(count) => bytes.extend_from_slice(&buffer[..count]),
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => break Some(format!("reading the sandbox's result: {err}")),
        }
    };
    if let Some(problem) = problem {
        return Err(SandboxError::Failed(problem));
    }
    let child = running.ended();
    let status = waitpid(child, None).map_err(|err| SandboxError::Failed(format!("waitpid: {err}")))?;
    if let Ok(outcome) = serde_json::from_slice::<Outcome>(&bytes) {
        return Ok(outcome);
    }
    let message = String::from_utf8_lossy(&bytes).trim().to_string();
    match status {
        WaitStatus::Exited(_, REFUSED_STATUS) => Err(SandboxError::Refused(message)),
        other => Err(SandboxError::Failed(format!("the sandbox ended ({other:?}) without a result: {message}"))),
    }
}

/// Stop a sandbox and wait until it is gone: SIGTERM asks the namespace
/// helper to kill the sandbox and reap it; SIGKILL if it does not answer.
fn stop(child: Pid) {
    let _ = kill(child, Signal::SIGTERM);
    if !crate::party::wait_for_exit(child, Duration::from_secs(2)) {
        let _ = kill(child, Signal::SIGKILL);
    }
    let _ = waitpid(child, None);
}

/// In the helper: new namespaces, then the sandbox's first process.
fn namespace_helper(
    mut results: File,
    run_dir: &Path,
    lab: &Lab,
    scenario: &Scenario,
    commands: &BTreeMap<String, Command>,
) -> i32 {
    if let Err(problem) = enter_namespaces() {
        let _ = results.write_all(problem.as_bytes());
        return REFUSED_STATUS;
    }
    let helper = getpid();
    // SAFETY: single-threaded; the child plays the scenario and leaves with _exit.
    match unsafe { fork() } {
        Err(err) => {
            let _ = write!(results, "fork: {err}");
            REFUSED_STATUS
        }
        Ok(ForkResult::Child) => {
            die_with(helper);
            let status = match prepare_sandbox(run_dir) {
                Ok(places) => {
                    let outcome = play_in_sandbox(&places, lab, scenario, commands);
                    send(&mut results, &outcome)
                }
                Err(problem) => {
                    let _ = results.write_all(problem.as_bytes());
                    REFUSED_STATUS
                }
            };
            // SAFETY: leave without the parent's destructors.
            unsafe { libc::_exit(status) }
        }
        Ok(ForkResult::Parent { child }) => {
            drop(results);
            // Asked to stop (SIGTERM from the runner, or Ctrl-C): kill the
            // sandbox's first process. Its exit kills and reaps everything in
            // the PID namespace, so once waitpid returns nothing is left.
            loop {
                match waitpid(child, None) {
                    Ok(WaitStatus::Exited(_, status)) => return status,
                    Err(Errno::EINTR) if interrupt::requested() => {
                        let _ = kill(child, Signal::SIGKILL);
                    }
                    Err(Errno::EINTR) => {}
                    _ => return 1,
                }
            }
        }
    }
}

/// A user namespace first, even for root: inside it nobody holds
/// capabilities over the host, so the parties' resource limits (processes
/// above all) are enforced. We become root inside, mapped to ourselves
/// outside, so that the sandbox may mount.
fn enter_namespaces() -> Result<(), String> {
    let uid = nix::unistd::geteuid();
    let gid = nix::unistd::getegid();
    unshare(CloneFlags::CLONE_NEWUSER).map_err(|err| format!("unshare(CLONE_NEWUSER): {err}"))?;
    fs::write("/proc/self/setgroups", "deny").map_err(|err| format!("/proc/self/setgroups: {err}"))?;
    fs::write("/proc/self/uid_map", format!("0 {uid} 1")).map_err(|err| format!("uid_map: {err}"))?;
    fs::write("/proc/self/gid_map", format!("0 {gid} 1")).map_err(|err| format!("gid_map: {err}"))?;
    let flags =
        CloneFlags::CLONE_NEWIPC | CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWPID;
    unshare(flags).map_err(|err| format!("unshare(IPC, mount, network, PID namespaces): {err}"))
}

/// In the sandbox's first process: private mounts and loopback.
fn prepare_sandbox(run_dir: &Path) -> Result<Places, String> {
    let none: Option<&str> = None;
    let mounted = |source: &str, target: &Path, fstype: &str, data: Option<&str>| {
        mount(Some(source), target, Some(fstype), MsFlags::MS_NOSUID | MsFlags::MS_NODEV, data)
            .map_err(|err| format!("mount {fstype} on {}: {err}", target.display()))
    };
    // Keep our mounts from propagating to the host.
    mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none)
        .map_err(|err| format!("mount --make-rprivate /: {err}"))?;
    mounted("proc", Path::new("/proc"), "proc", None)?;
    mounted("tmpfs", Path::new("/dev/shm"), "tmpfs", Some("mode=1777"))?;
    mounted("tmpfs", run_dir, "tmpfs", Some("mode=755"))?;
    let places = run_places(run_dir)?;
    let mqueue = places.mqueue_dir.clone().expect("run_places makes one");
    mounted("mqueue", &mqueue, "mqueue", None)?;
    loopback_up().map_err(|err| format!("bringing up loopback: {err}"))?;
    Ok(Places { proc_dir: PathBuf::from("/proc"), shm_dir: PathBuf::from("/dev/shm"), ..places })
}

/// The run folder's layout: `work/` (the parties' working directory) and
/// `mqueue/`.
fn run_places(run_dir: &Path) -> Result<Places, String> {
    let workdir = run_dir.join("work");
    let mqueue = run_dir.join("mqueue");
    for dir in [&workdir, &mqueue] {
        fs::create_dir_all(dir).map_err(|err| format!("mkdir {}: {err}", dir.display()))?;
    }
    Ok(Places { workdir: Some(workdir), mqueue_dir: Some(mqueue), ..Places::host() })
}

fn play_in_sandbox(places: &Places, lab: &Lab, scenario: &Scenario, commands: &BTreeMap<String, Command>) -> Outcome {
    let (played, seen) = play(places, lab, scenario, commands, &[]);
    let me = getpid().as_raw();
    let ours = |process: &ProcessInfo| process.pid != me;
    settle(&places.proc_dir, ours);
    let mut found = inventory::ipc_objects(places);
    found.extend(
        inventory::processes(&places.proc_dir)
            .iter()
            .filter(|process| ours(process) && process.state != 'Z')
            .map(|process| process.as_object()),
    );
    let leaks = found.into_iter().map(|object| leak(object, &played, "removed with the sandbox")).collect();
    Outcome { played, leaks, warnings: permission_warnings(&seen), seen, isolation: Isolation::Sandbox }
}

/// In the host-mode child: the scenario on the host, leaks by comparison.
fn host_child(
    mut results: File,
    run_dir: &Path,
    lab: &Lab,
    scenario: &Scenario,
    commands: &BTreeMap<String, Command>,
) -> i32 {
    // The runner stops us with SIGTERM; the parties follow (parent-death signal).
    // SAFETY: restoring the default action installs no handler.
    let _ = unsafe { nix::sys::signal::signal(Signal::SIGTERM, nix::sys::signal::SigHandler::SigDfl) };
    // Orphaned grandchildren of the parties become ours, so we can find them.
    // SAFETY: prctl with integer arguments only.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    let places = match run_places(run_dir) {
        Ok(places) => places,
        Err(problem) => {
            let _ = results.write_all(problem.as_bytes());
            return 1;
        }
    };
    let before = inventory::ipc_objects(&Places::host());
    let (played, seen) = play(&places, lab, scenario, commands, &before);
    let me = getpid().as_raw();
    let party_pids: Vec<i32> = played.parties.iter().map(|party| party.pid).collect();
    let ours = |process: &ProcessInfo| process.ppid == me || party_pids.contains(&process.session);
    settle(&places.proc_dir, ours);
    // New since the run began, and not made by a live process outside it
    // (another program on the host). An object whose creator is gone cannot
    // be told apart: it counts.
    let mut found: Vec<Object> = inventory::ipc_objects(&places)
        .into_iter()
        .filter(|object| !before.iter().any(|old| old.identity() == object.identity()))
        .filter(|object| object.creator_pid.is_none_or(|pid| !inventory::is_outsider(&places.proc_dir, pid, me)))
        .collect();
    found.extend(
        inventory::processes(&places.proc_dir)
            .iter()
            .filter(|process| process.state != 'Z' && ours(process))
            .map(|process| process.as_object()),
    );
    let leaks = found
        .into_iter()
        .map(|object| {
            let cleanup = match inventory::remove(&object) {
                Ok(()) => "removed by the runner".to_string(),
                Err(problem) => format!("could not remove it: {problem}"),
            };
            leak(object, &played, &cleanup)
        })
        .collect();
    reap_orphans();
    let warnings = permission_warnings(&seen);
    send(&mut results, &Outcome { played, leaks, warnings, seen, isolation: Isolation::Host })
}

/// Play the scenario, noting every IPC object that exists at some point of
/// it (those in `before` excepted).
fn play(
    places: &Places,
    lab: &Lab,
    scenario: &Scenario,
    commands: &BTreeMap<String, Command>,
    before: &[Object],
) -> (Played, Vec<Object>) {
    let workdir = places.workdir.clone().expect("run_places makes one");
    let env = party_environment(&workdir);
    let mut seen: BTreeMap<(Kind, String, Option<i64>), Object> = BTreeMap::new();
    let mut watch = || {
        for object in inventory::ipc_objects(places) {
            if !before.iter().any(|old| old.identity() == object.identity()) {
                seen.entry(object.identity()).or_insert(object);
            }
        }
    };
    let played = scenario::play(&Setup { lab, scenario, commands, workdir: &workdir, env: &env }, &mut watch);
    (played, seen.into_values().collect())
}

/// The lesson for every object whose permissions let other users in.
fn permission_warnings(seen: &[Object]) -> Vec<String> {
    seen.iter()
        .filter(|object| object.kind != Kind::Process && object.mode & 0o022 != 0)
        .map(|object| {
            format!(
                "{} {} was created with mode {:03o}: other users may change it; create it 0600 (owner only) unless they must",
                object.kind.describe(),
                object.name,
                object.mode
            )
        })
        .collect()
}

/// The environment of every party: small and the same on every machine.
fn party_environment(workdir: &Path) -> Vec<(String, String)> {
    let inherited = ["PATH", "HOME", "USER", "LOGNAME"];
    let mut env: Vec<(String, String)> =
        inherited.iter().filter_map(|key| std::env::var(key).ok().map(|value| (key.to_string(), value))).collect();
    env.push(("TERM".to_string(), "dumb".to_string()));
    env.push(("LANG".to_string(), "C.UTF-8".to_string()));
    env.push(("PWD".to_string(), workdir.display().to_string()));
    env
}

fn leak(object: Object, played: &Played, cleanup: &str) -> Leak {
    let creator = match object.kind {
        Kind::Process => object.id.map(|pid| pid as i32),
        _ => object.creator_pid,
    };
    let party =
        creator.and_then(|pid| played.parties.iter().find(|party| party.pid == pid)).map(|party| party.name.clone());
    Leak { removal: object.removal(), object, party, cleanup: cleanup.to_string() }
}

fn send(results: &mut File, outcome: &Outcome) -> i32 {
    match serde_json::to_vec(outcome) {
        Ok(bytes) if results.write_all(&bytes).is_ok() => 0,
        _ => 1,
    }
}

/// How long processes still around after a scenario may take to end.
const SETTLE_TIME: Duration = Duration::from_millis(200);

/// Give the run's processes that are still around a moment to finish dying
/// (a child that got the same Ctrl-C as its parent may still be cleaning up),
/// reaping those that end; whatever still runs after that is a leak.
fn settle(proc_dir: &Path, ours: impl Fn(&ProcessInfo) -> bool) {
    let deadline = Instant::now() + SETTLE_TIME;
    loop {
        reap_orphans();
        let exits: Vec<OwnedFd> = inventory::processes(proc_dir)
            .iter()
            .filter(|process| process.state != 'Z' && ours(process))
            .filter_map(|process| crate::party::pidfd_open(Pid::from_raw(process.pid)).ok())
            .collect();
        let left = deadline.saturating_duration_since(Instant::now());
        if exits.is_empty() || left.is_zero() {
            return;
        }
        let mut fds: Vec<PollFd> = exits.iter().map(|fd| PollFd::new(fd.as_fd(), PollFlags::POLLIN)).collect();
        let _ = poll(&mut fds, PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX));
    }
}

/// Collect exit statuses of orphans that ended, so they do not count as leaks.
fn reap_orphans() {
    while let Ok(status) = waitpid(None, Some(WaitPidFlag::WNOHANG)) {
        if status == WaitStatus::StillAlive {
            break;
        }
    }
}

/// Die when `parent` dies, so that no sandbox outlives the runner.
fn die_with(parent: Pid) {
    // SAFETY: prctl with integer arguments only.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) };
    // The first process of a PID namespace sees its parent as pid 0.
    let now = getppid();
    if now != parent && now.as_raw() != 0 {
        // SAFETY: the parent is already gone; leave at once.
        unsafe { libc::_exit(1) }
    }
}

/// Host-mode runs take turns: each compares the host before and after.
fn host_lock() -> Result<Flock<File>, String> {
    // A fixed path, whatever TMPDIR says: every runner on the host must agree.
    let path = Path::new("/tmp/ipc-labs-host.lock");
    // Read-only is enough for flock, and lets every user share the file that
    // the first one created.
    let file = File::open(path)
        .or_else(|_| File::options().create(true).append(true).open(path))
        .map_err(|err| format!("open {}: {err}", path.display()))?;
    Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, err)| format!("flock {}: {err}", path.display()))
}

nix::ioctl_read_bad!(get_interface_flags, libc::SIOCGIFFLAGS, libc::ifreq);
nix::ioctl_write_ptr_bad!(set_interface_flags, libc::SIOCSIFFLAGS, libc::ifreq);

/// `ip link set lo up`, with the two ioctls it stands for.
fn loopback_up() -> Result<(), Errno> {
    use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
    use std::os::fd::AsRawFd;
    let socket = socket(AddressFamily::Inet, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None)?;
    // SAFETY: an all-zero ifreq is valid; we fill in the name "lo".
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
        *slot = *byte as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS / SIOCSIFFLAGS read and write the ifreq we own.
    unsafe {
        get_interface_flags(socket.as_raw_fd(), &mut request)?;
        request.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        set_interface_flags(socket.as_raw_fd(), &request)?;
    }
    Ok(())
}
