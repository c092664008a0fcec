//! What the runner's integration tests share: running the real `runner`
//! binary, compiling C fixtures, and looking at the host's IPC objects and
//! processes.

#![allow(dead_code)]

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use runner::run::LabReport;

pub const RUNNER: &str = env!("CARGO_BIN_EXE_runner");

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Compile `tests/fixtures/<name>.c` into `dir/<name>`.
pub fn compile_c(name: &str, dir: &Path) -> PathBuf {
    let output = dir.join(name);
    let source = fixtures().join(format!("{name}.c"));
    let status = Command::new("gcc").args(["-O1", "-Wall", "-o"]).arg(&output).arg(&source).status().expect("gcc runs");
    assert!(status.success(), "gcc failed on {}", source.display());
    output
}

/// The C programs that play the fault lab's parties.
pub const FAULT_PROGRAMS: [&str; 13] = [
    "crash",
    "forever",
    "flood",
    "leak_shm",
    "leave_fifo",
    "wrong_line",
    "hold_all",
    "orphan",
    "fork_bomb",
    "fifo_wait",
    "fixed_key",
    "open_to_all",
    "loopback",
];

/// A project folder holding only the fault lab, its parties compiled from C
/// where the runner looks for a lab's programs.
pub fn fault_project() -> tempfile::TempDir {
    let root = tempfile::Builder::new().prefix("ipc-labs-test.").tempdir().expect("tempdir");
    fs::write(root.path().join("Cargo.toml"), "").unwrap();
    let lab = root.path().join("labs/90-faults");
    fs::create_dir_all(lab.join("snapshots")).unwrap();
    fs::create_dir_all(root.path().join("tmp")).unwrap();
    fs::copy(fixtures().join("faults/lab.toml"), lab.join("lab.toml")).unwrap();
    for entry in fs::read_dir(fixtures().join("faults/snapshots")).unwrap().flatten() {
        fs::copy(entry.path(), lab.join("snapshots").join(entry.file_name())).unwrap();
    }
    let bins = root.path().join("target").join(if cfg!(debug_assertions) { "debug" } else { "release" });
    fs::create_dir_all(&bins).unwrap();
    for name in FAULT_PROGRAMS {
        compile_c(name, &bins);
    }
    root
}

/// The runner with `args`, colors off, from `cwd`. Its run folders go to
/// `cwd/tmp` when there is one, so a test can see what it left.
pub fn runner_command(cwd: &Path, args: &[&str]) -> Command {
    let mut command = command_in(RUNNER, cwd);
    command.args(args);
    command
}

/// `program`, started from `cwd` with the environment the runner gets.
pub fn command_in(program: &str, cwd: &Path) -> Command {
    let mut command = Command::new(program);
    command.current_dir(cwd).env("NO_COLOR", "1").env_remove("CARGO_TARGET_DIR");
    if cwd.join("tmp").is_dir() {
        command.env("TMPDIR", cwd.join("tmp"));
    }
    command
}

pub fn runner(cwd: &Path, args: &[&str]) -> Output {
    runner_command(cwd, args).output().expect("the runner starts")
}

/// `runner … --format json`, parsed.
pub fn runner_json(cwd: &Path, args: &[&str]) -> (i32, LabReport) {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--format", "json"]);
    let output = runner(cwd, &all);
    let text = String::from_utf8_lossy(&output.stdout);
    let report: LabReport = serde_json::from_str(&text).unwrap_or_else(|err| {
        panic!("no JSON report ({err}); stdout:\n{text}\nstderr:\n{}", String::from_utf8_lossy(&output.stderr))
    });
    (output.status.code().unwrap_or(-1), report)
}

/// Tests that look at the host's IPC objects take turns with the tests that
/// make some there (host mode), in this process and in others.
pub fn host_turn() -> nix::fcntl::Flock<File> {
    let path = std::env::temp_dir().join("ipc-labs-tests.lock");
    let file = File::open(&path).or_else(|_| File::options().create(true).append(true).open(&path)).unwrap();
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive).map_err(|(_, err)| err).unwrap()
}

/// The host's System V objects and /dev/shm entries, as text lines.
pub fn host_ipc() -> Vec<String> {
    let mut lines = Vec::new();
    for table in ["shm", "msg", "sem"] {
        let text = fs::read_to_string(format!("/proc/sysvipc/{table}")).unwrap_or_default();
        // Keep key, id and creator: counters such as attach times may change.
        lines.extend(text.lines().skip(1).map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            format!("{table} {}", fields[..2.min(fields.len())].join(" "))
        }));
    }
    if let Ok(entries) = fs::read_dir("/dev/shm") {
        lines.extend(entries.flatten().map(|entry| format!("/dev/shm/{}", entry.file_name().to_string_lossy())));
    }
    lines.sort();
    lines
}

/// Processes whose command line mentions `needle`.
pub fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<i32>().ok()) else { continue };
        let cmdline = fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(needle) && pid != std::process::id() as i32 {
            found.push(format!("{pid} {cmdline}"));
        }
    }
    found
}

/// Run folders the runner left in `tmp`.
pub fn run_folders(tmp: &Path) -> Vec<String> {
    let mut found: Vec<String> = fs::read_dir(tmp)
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("ipc-labs-run."))
        .collect();
    found.sort();
    found
}
