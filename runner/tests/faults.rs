//! The runner against programs that misbehave: each fault is reported in
//! plain words, within its timeout, with nothing left on the host.

mod common;

use std::time::{Duration, Instant};

use common::*;
use runner::inventory::Kind;
use runner::run::{LabReport, ScenarioReport, SnapshotVerdict};

/// Run one scenario of the fault lab and check that the host is as before.
fn run_fault(scenario: &str, extra: &[&str]) -> (i32, ScenarioReport, Duration) {
    let project = fault_project();
    let root = project.path();
    let _turn = host_turn();
    let ipc_before = host_ipc();
    let started = Instant::now();
    let mut args = vec!["lab", "90", "--no-build", "--scenario", scenario];
    args.extend_from_slice(extra);
    let (status, LabReport { mut scenarios, .. }) = runner_json(root, &args);
    let took = started.elapsed();
    if !extra.contains(&"host") {
        let isolation = scenarios.first().and_then(|scenario| scenario.isolation);
        assert_eq!(isolation, Some(runner::sandbox::Isolation::Sandbox), "the sandbox was refused");
    }
    assert_eq!(host_ipc(), ipc_before, "the host's IPC objects changed");
    assert_eq!(processes_mentioning(&root.display().to_string()), Vec::<String>::new(), "processes left");
    assert_eq!(run_folders(&root.join("tmp")), Vec::<String>::new(), "run folders left");
    assert_eq!(scenarios.len(), 1);
    (status, scenarios.remove(0), took)
}

#[test]
fn a_crash_is_reported_by_its_signal_name() {
    let (status, scenario, took) = run_fault("crash", &[]);
    assert_eq!(status, 1);
    let failure = scenario.failure.expect("a failed step");
    assert_eq!(failure.problem, "crash ended [signal SIGSEGV], expected [exit 0]");
    assert_eq!(scenario.parties[0].transcript, "about to crash\n[signal SIGSEGV]");
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

#[test]
fn a_program_that_never_exits_is_stopped_at_the_step_timeout() {
    let (status, scenario, took) = run_fault("forever", &[]);
    assert_eq!(status, 1);
    let failure = scenario.failure.expect("a failed step");
    assert_eq!(failure.step, 3);
    assert_eq!(failure.problem, "forever is still running after 0.3 s");
    assert_eq!(failure.last_lines, vec![("forever".to_string(), vec!["ready".to_string()])]);
    assert_eq!(scenario.parties[0].ending, "still running: killed by the runner");
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

#[test]
fn an_output_flood_is_cut_at_the_cap_and_killed() {
    let (status, scenario, took) = run_fault("flood", &[]);
    assert_eq!(status, 1);
    let party = &scenario.parties[0];
    assert_eq!(party.ending, "output over 1024 KiB: killed by the runner");
    assert!(party.transcript.len() <= runner::transcript::OUTPUT_CAP + 100);
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn a_leaked_shared_memory_segment_is_reported_with_its_ipcrm_line() {
    let (status, scenario, _) = run_fault("leak_shm", &[]);
    assert_eq!(status, 1, "a leak fails the lab");
    assert!(scenario.failure.is_none());
    assert_eq!(scenario.parties[0].verdict, SnapshotVerdict::Matches);
    assert_eq!(scenario.leaks.len(), 1, "{:?}", scenario.leaks);
    let leak = &scenario.leaks[0];
    assert_eq!(leak.object.kind, Kind::SysvShm);
    assert_eq!(leak.object.name, "key IPC_PRIVATE");
    assert_eq!(leak.object.mode, 0o600);
    assert_eq!(leak.party.as_deref(), Some("leak_shm"));
    assert_eq!(leak.removal, format!("ipcrm -m {}", leak.object.id.unwrap()));
}

#[test]
fn the_host_fallback_finds_a_leaked_segment_and_removes_it() {
    let (status, scenario, _) = run_fault("leak_shm", &["--isolation", "host"]);
    assert_eq!(status, 1);
    assert_eq!(scenario.isolation, Some(runner::sandbox::Isolation::Host));
    assert_eq!(scenario.leaks.len(), 1, "{:?}", scenario.leaks);
    let leak = &scenario.leaks[0];
    assert_eq!(leak.object.kind, Kind::SysvShm);
    assert_eq!(leak.party.as_deref(), Some("leak_shm"));
    assert_eq!(leak.cleanup, "removed by the runner");
}

#[test]
fn a_fifo_left_in_the_working_directory_is_a_leak() {
    for isolation in ["sandbox", "host"] {
        let (status, scenario, _) = run_fault("leave_fifo", &["--isolation", isolation]);
        assert_eq!(status, 1);
        let kinds: Vec<(Kind, &str, &str)> = scenario
            .leaks
            .iter()
            .map(|leak| (leak.object.kind, leak.object.name.as_str(), leak.removal.as_str()))
            .collect();
        assert_eq!(kinds, [(Kind::Fifo, "left.fifo", "rm left.fifo")], "{isolation}");
    }
}

#[test]
fn a_wrong_line_shows_a_diff_and_leaves_a_pending_snapshot() {
    let project = fault_project();
    let root = project.path();
    let output = runner(root, &["lab", "90", "--no-build", "--scenario", "wrong_line"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("        -Send Message: done\n        +Send Massage: done\n"), "{stdout}");
    assert!(!stdout.contains('\x1b'), "no colors without a terminal: {stdout}");
    let pending = root.join("labs/90-faults/snapshots/wrong_line__wrong_line.snap.new");
    let text = std::fs::read_to_string(&pending).expect("a pending snapshot");
    assert!(text.ends_with("---\nSend Massage: done\n[exit 0]\n"), "{text}");
}

#[test]
fn accept_turns_the_transcript_into_the_snapshot() {
    let project = fault_project();
    let root = project.path();
    let (status, _) = runner_json(root, &["lab", "90", "--no-build", "--scenario", "wrong_line", "--accept"]);
    assert_eq!(status, 0);
    let (status, report) = runner_json(root, &["lab", "90", "--no-build", "--scenario", "wrong_line"]);
    assert_eq!(status, 0);
    assert_eq!(report.scenarios[0].parties[0].verdict, SnapshotVerdict::Matches);
    assert!(!root.join("labs/90-faults/snapshots/wrong_line__wrong_line.snap.new").exists());
}

/// Start a run whose party never ends, stop the runner with `signal` once the
/// party runs, and check that the runner exits at once leaving nothing.
fn stop_the_runner_with(signal: nix::sys::signal::Signal) {
    let project = fault_project();
    let root = project.path();
    let mut child = runner_command(root, &["lab", "90", "--no-build", "--scenario", "patient"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let forever = root.join("target").display().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    while processes_mentioning(&forever).is_empty() {
        assert!(Instant::now() < deadline, "the party never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    let stopped = Instant::now();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
    let status = child.wait().unwrap();
    assert!(stopped.elapsed() < Duration::from_secs(2), "took {:?}", stopped.elapsed());
    assert_eq!(status.code(), Some(130));
    assert_eq!(processes_mentioning(&root.display().to_string()), Vec::<String>::new());
    assert_eq!(run_folders(&root.join("tmp")), Vec::<String>::new());
}

#[test]
fn an_interrupted_runner_kills_its_parties_and_cleans_up() {
    stop_the_runner_with(nix::sys::signal::Signal::SIGINT);
}

#[test]
fn a_terminated_runner_kills_its_parties_and_cleans_up() {
    stop_the_runner_with(nix::sys::signal::Signal::SIGTERM);
}

#[test]
fn an_unknown_lab_suggests_the_nearest_and_exits_2() {
    let project = fault_project();
    let output = runner(project.path(), &["lab", "99"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr, "runner: there is no lab \"99\"; did you mean 90-faults? (labs: 90-faults)\n");
}

#[test]
fn a_malformed_lab_toml_is_a_configuration_error_naming_the_line() {
    let project = fault_project();
    let file = project.path().join("labs/90-faults/lab.toml");
    let text = std::fs::read_to_string(&file).unwrap().replace("{ start = \"crash\" }", "{ strat = \"crash\" }");
    std::fs::write(&file, text).unwrap();
    let output = runner(project.path(), &["lab", "90", "--no-build"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = "/labs/90-faults/lab.toml:25: scenario \"crash\", step 1: a step needs one of start, type, press, wait, signal, exit\n";
    assert!(stderr.starts_with("runner: /") && stderr.ends_with(expected), "{stderr}");
}

#[test]
fn a_party_killed_while_holding_every_kind_of_object_leaves_them_all_reported() {
    let (status, scenario, _) = run_fault("killed_holding", &[]);
    let mut kinds: Vec<Kind> = scenario.leaks.iter().map(|leak| leak.object.kind).collect();
    kinds.sort();
    assert_eq!(kinds, [Kind::SysvShm, Kind::SysvMsg, Kind::SysvSem, Kind::PosixShm, Kind::PosixSem, Kind::PosixMq]);
    let names: Vec<&str> = scenario.leaks.iter().map(|leak| leak.removal.as_str()).collect();
    assert!(names.contains(&"rm /dev/shm/held") && names.contains(&"rm /dev/shm/sem.held"), "{names:?}");
    let queue = scenario.leaks.iter().find(|leak| leak.object.kind == Kind::PosixMq).unwrap();
    assert_eq!((queue.object.name.as_str(), queue.removal.as_str()), ("/dev/mqueue/held", "rm /dev/mqueue/held"));
    assert_eq!(status, 0, "the scenario expects exactly these leaks");
}

#[test]
fn an_orphan_left_running_is_a_leak() {
    let (status, scenario, _) = run_fault("orphan", &[]);
    assert_eq!(status, 1);
    assert_eq!(scenario.leaks.len(), 1, "{:?}", scenario.leaks);
    let leak = &scenario.leaks[0];
    assert_eq!(leak.object.kind, Kind::Process);
    assert!(leak.object.name.ends_with("/orphan"), "{}", leak.object.name);
    assert_eq!(leak.removal, format!("kill {}", leak.object.id.unwrap()));
}

#[test]
fn a_fork_bomb_is_contained_and_ends_as_a_verdict() {
    let (status, scenario, took) = run_fault("fork_bomb", &[]);
    assert_eq!(status, 1);
    let failure = scenario.failure.expect("a failed step");
    assert_eq!(failure.problem, "fork_bomb is still running after 1.0 s");
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn two_parties_waiting_for_each_other_are_stopped_at_the_timeout() {
    let (status, scenario, took) = run_fault("deadlock", &[]);
    assert_eq!(status, 1);
    assert_eq!(scenario.failure.expect("a failed step").problem, "left is still running after 0.5 s");
    let endings: Vec<&str> = scenario.parties.iter().map(|party| party.ending.as_str()).collect();
    assert_eq!(endings, ["still running: killed by the runner", "still running: killed by the runner"]);
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

#[test]
fn two_runs_with_the_same_fixed_key_at_the_same_time_both_pass() {
    let project = fault_project();
    let root = project.path();
    let marks = root.join("marks");
    std::fs::create_dir(&marks).unwrap();
    let scenario = format!(
        "\n[[scenarios]]\nname = \"fixed_key\"\nsteps = [\n  {{ start = \"fixed_key\", args = [\"{}\", \"2\"] }},\n  {{ exit = \"fixed_key\", status = \"exit 0\", timeout_ms = 10000 }},\n]\n",
        marks.display()
    );
    let lab = root.join("labs/90-faults/lab.toml");
    let mut text = std::fs::read_to_string(&lab).unwrap();
    text.push_str(&scenario);
    std::fs::write(&lab, text).unwrap();
    let args = ["lab", "90", "--no-build", "--scenario", "fixed_key", "--format", "json"];
    let runs: Vec<_> =
        (0..2).map(|_| runner_command(root, &args).stdout(std::process::Stdio::piped()).spawn().unwrap()).collect();
    for run in runs {
        let output = run.wait_with_output().unwrap();
        let report: LabReport = serde_json::from_slice(&output.stdout).unwrap();
        let scenario = &report.scenarios[0];
        assert_eq!(scenario.parties[0].transcript, "created key 0x1234\nall runs held the key at once\n[exit 0]");
        assert!(report.passed, "{report:#?}");
    }
}

#[test]
fn an_object_other_users_may_change_is_flagged_with_the_lesson() {
    let (status, scenario, _) = run_fault("open_to_all", &[]);
    assert_eq!(status, 0, "a warning does not fail the scenario: {scenario:#?}");
    assert_eq!(
        scenario.warnings,
        ["System V shared memory segment key 0x00005eed was created with mode 666: other users may change it; \
          create it 0600 (owner only) unless they must"]
    );
    assert_eq!(scenario.seen.len(), 1);
}

/// A private System V segment on the host, optionally handed to another user.
fn host_segment(owner: Option<u32>) -> i32 {
    // SAFETY: plain integer arguments; IPC_STAT/IPC_SET use the struct we own.
    unsafe {
        let id = libc::shmget(libc::IPC_PRIVATE, 4096, libc::IPC_CREAT | 0o600);
        assert!(id >= 0, "shmget failed");
        if let Some(uid) = owner {
            let mut info: libc::shmid_ds = std::mem::zeroed();
            assert_eq!(libc::shmctl(id, libc::IPC_STAT, &mut info), 0);
            info.shm_perm.uid = uid;
            assert_eq!(libc::shmctl(id, libc::IPC_SET, &mut info), 0);
        }
        id
    }
}

fn host_has_segment(id: i32) -> bool {
    let table = std::fs::read_to_string("/proc/sysvipc/shm").unwrap();
    table.lines().skip(1).any(|line| line.split_whitespace().nth(1) == Some(&id.to_string()))
}

#[test]
fn leaks_lists_host_objects_and_clean_removes_only_your_own_after_asking() {
    let _turn = host_turn();
    let mine = host_segment(None);
    let theirs = host_segment(Some(65534));
    let here = std::env::temp_dir();

    let listing = String::from_utf8(runner(&here, &["leaks"]).stdout).unwrap();
    assert!(listing.contains(&format!("ipcrm -m {mine}")), "{listing}");
    assert!(listing.contains(&format!("ipcrm -m {theirs}")), "{listing}");

    let mut declined = runner_command(&here, &["clean"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(declined.stdin.as_mut().unwrap(), b"n\n").unwrap();
    let declined = declined.wait_with_output().unwrap();
    assert!(String::from_utf8_lossy(&declined.stdout).contains("Nothing removed."));
    assert!(host_has_segment(mine));

    let cleaned = runner(&here, &["clean", "--yes"]);
    assert_eq!(cleaned.status.code(), Some(0));
    let removed = host_has_segment(mine);
    let kept = host_has_segment(theirs);
    // SAFETY: IPC_RMID takes no buffer.
    unsafe { libc::shmctl(theirs, libc::IPC_RMID, std::ptr::null_mut()) };
    assert!(!removed, "your own segment is removed");
    assert!(kept, "another user's segment is never touched");
}

#[test]
fn the_sandbox_has_its_own_loopback_up() {
    let (status, scenario, _) = run_fault("loopback", &[]);
    assert_eq!(scenario.parties[0].transcript, "loopback works\n[exit 0]");
    assert_eq!(status, 0);
}

#[test]
fn a_runner_that_panics_kills_its_parties_and_cleans_up() {
    let project = fault_project();
    let root = project.path();
    let started = Instant::now();
    let output = runner_command(root, &["lab", "90", "--no-build", "--scenario", "patient"])
        .env("RUNNER_TEST_PANIC_AFTER_MS", "300")
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert_eq!(output.status.code(), Some(101), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stderr).contains("RUNNER_TEST_PANIC_AFTER_MS"));
    assert_eq!(processes_mentioning(&root.display().to_string()), Vec::<String>::new());
    assert_eq!(run_folders(&root.join("tmp")), Vec::<String>::new());
}

#[test]
fn where_the_kernel_refuses_namespaces_auto_says_so_once_and_runs_on_the_host() {
    let project = fault_project();
    let root = project.path();
    // Two scenarios, so that "once" means something.
    let lab = root.join("labs/90-faults/lab.toml");
    let text = std::fs::read_to_string(&lab).unwrap();
    let start = text.find("[[scenarios]]\nname = \"leak_shm\"").unwrap();
    let end = text.find("[[scenarios]]\nname = \"wrong_line\"").unwrap();
    let header = &text[..text.find("[[scenarios]]").unwrap()];
    std::fs::write(&lab, format!("{header}{}", &text[start..end])).unwrap();

    let _turn = host_turn();
    let before = host_ipc();
    // Inside a user namespace whose limit on further user namespaces is 0,
    // the kernel refuses the sandbox for real.
    let script = format!(
        "echo 0 > /proc/sys/user/max_user_namespaces && exec {RUNNER} lab 90 --no-build --format json --isolation auto"
    );
    let output = command_in("unshare", root).args(["-Ur", "sh", "-c", &script]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.matches("the kernel refused namespaces").count(), 1, "{stderr}");
    let report: LabReport = serde_json::from_slice(&output.stdout).unwrap();
    let kinds: Vec<(Kind, Option<runner::sandbox::Isolation>)> = report
        .scenarios
        .iter()
        .flat_map(|scenario| scenario.leaks.iter().map(|leak| (leak.object.kind, scenario.isolation)))
        .collect();
    let host = Some(runner::sandbox::Isolation::Host);
    assert_eq!(kinds, [(Kind::SysvShm, host), (Kind::Fifo, host)]);
    assert_eq!(host_ipc(), before, "the host fallback removed what it found");
}

#[test]
fn a_lab_that_does_not_compile_shows_the_compiler_and_fails() {
    let root = tempfile::tempdir().unwrap();
    let lab = root.path().join("labs/91-broken");
    std::fs::create_dir_all(lab.join("src/bin")).unwrap();
    std::fs::write(root.path().join("Cargo.toml"), "[workspace]\nmembers = [\"labs/91-broken\"]\nresolver = \"2\"\n")
        .unwrap();
    std::fs::write(
        lab.join("Cargo.toml"),
        "[package]\nname = \"lab-91-broken\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(
        lab.join("src/bin/broken.rs"),
        "fn main() {\n    println!(\"a student's edit\")\n    let x = 1;\n}\n",
    )
    .unwrap();
    let toml = "id = \"91\"\nslug = \"broken\"\ntitle = \"Broken\"\nsummary = \"Does not compile.\"\n\
                [parties.p]\nbin = \"broken\"\n\
                [[scenarios]]\nname = \"run\"\nsteps = [{ start = \"p\" }, { exit = \"p\", status = \"exit 0\" }]\n";
    std::fs::write(lab.join("lab.toml"), toml).unwrap();
    let output = runner(root.path(), &["lab", "91"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("runner: building 91-broken failed:"), "{stderr}");
    assert!(stderr.contains("expected `;`") && stderr.contains("src/bin/broken.rs"), "{stderr}");
}
