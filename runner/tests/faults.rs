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

#[test]
fn an_interrupted_runner_kills_its_parties_and_cleans_up() {
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
    let interrupted = Instant::now();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    assert!(interrupted.elapsed() < Duration::from_secs(2), "took {:?}", interrupted.elapsed());
    assert_eq!(status.code(), Some(130));
    assert_eq!(processes_mentioning(&root.display().to_string()), Vec::<String>::new());
    assert_eq!(run_folders(&root.join("tmp")), Vec::<String>::new());
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
