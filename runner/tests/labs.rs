//! Every lab on its reference solution, through the real runner: each
//! scenario passes with no leak, and each party's transcript is asserted
//! through insta against the lab's own `snapshots/*.snap`.

mod common;

use std::path::Path;

use common::*;
use runner::run::LabReport;

/// Run lab `id` and assert every transcript through insta.
fn check_lab(id: &str) {
    let root = repo_root();
    let (status, report) = runner_json(&root, &["lab", id]);
    for scenario in &report.scenarios {
        assert!(scenario.error.is_none(), "{}: {:?}", scenario.name, scenario.error);
        assert!(scenario.failure.is_none(), "{}: {:#?}", scenario.name, scenario.failure);
        let mut leaks: Vec<_> = scenario.leaks.iter().map(|leak| leak.object.kind).collect();
        let mut expected = scenario.expect_leaks.clone();
        leaks.sort();
        expected.sort();
        assert_eq!(leaks, expected, "{}: leaks {:#?}", scenario.name, scenario.leaks);
        for party in &scenario.parties {
            assert_transcript(&root, &report, &scenario.name, &party.name, &party.transcript);
        }
    }
    assert_eq!(status, 0, "runner lab {id} failed");
    assert!(report.passed);
}

fn assert_transcript(root: &Path, report: &LabReport, scenario: &str, party: &str, transcript: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root.join("labs").join(&report.lab).join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(runner::snapshot::description(&report.lab, scenario, party));
    settings.bind(|| insta::assert_snapshot!(runner::snapshot::name(scenario, party), transcript));
}

macro_rules! lab_tests {
    ($($test:ident => $id:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                check_lab($id);
            }
        )*

        #[test]
        fn every_lab_has_a_test() {
            let tested: Vec<&str> = vec![$($id),*];
            let catalog = runner::catalog::Catalog::find(Some(&repo_root())).unwrap();
            for dir in &catalog.labs {
                let name = dir.file_name().unwrap().to_string_lossy();
                assert!(tested.contains(&&name[..2]), "lab {name} has no test in runner/tests/labs.rs");
            }
        }
    };
}

lab_tests! {
    lab_01_pipe => "01",
    lab_02_fifo => "02",
    lab_03_shm => "03",
    lab_04_msgq => "04",
    lab_05_sem => "05",
    lab_06_mmap => "06",
    lab_07_socket => "07",
    lab_08_signal => "08",
}

#[test]
fn a_c_client_passes_the_fifo_lab_against_the_rust_server() {
    let dir = tempfile::tempdir().unwrap();
    let client = compile_c("pipe_client", dir.path());
    let party = format!("client={}", client.display());
    let (status, report) = runner_json(&repo_root(), &["lab", "02", "--scenario", "seed000", "--party", &party]);
    let scenario = &report.scenarios[0];
    assert_eq!(scenario.parties[1].program, client.display().to_string());
    assert!(scenario.failure.is_none(), "{:#?}", scenario.failure);
    assert_eq!(status, 0, "{:#?}", report);
}

#[test]
fn a_server_printing_other_lines_fails_with_a_diff() {
    let dir = tempfile::tempdir().unwrap();
    let server = compile_c("wrong_line", dir.path());
    let party = format!("server={}", server.display());
    let args = ["lab", "02", "--scenario", "seed000", "--party", &party, "--against", "reference"];
    let output = runner(&repo_root(), &args);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("server's terminal differs from"), "{stdout}");
    assert!(stdout.contains("+Send Massage: done"), "{stdout}");
    // --against reference: the reference server's terminal beside the student's.
    assert!(stdout.contains("seed000 / server: the reference (left) and yours (right)\n"), "{stdout}");
    assert!(stdout.contains("   | [TIME] | Debug   | Create FIFO |    | Send Massage: done\n"), "{stdout}");
    assert!(stdout.contains("   | [TIME] | Debug   | Open FIFO |      <\n"), "{stdout}");
    // The pending snapshot stays out of the repository's way for the next run.
    let pending = repo_root().join("labs/02-fifo/snapshots/seed000__server.snap.new");
    let _ = std::fs::remove_file(pending);
}

#[test]
fn two_checks_at_the_same_time_both_pass() {
    let root = repo_root();
    let checks: Vec<_> = (0..2)
        .map(|_| runner_command(&root, &["check", "--format", "json"]).stdout(std::process::Stdio::piped()).spawn())
        .collect();
    for check in checks {
        let output = check.unwrap().wait_with_output().unwrap();
        let reports: Vec<LabReport> = serde_json::from_slice(&output.stdout).expect("a JSON list of lab reports");
        let catalog = runner::catalog::Catalog::find(Some(&root)).unwrap();
        assert_eq!(reports.len(), catalog.labs.len());
        for report in &reports {
            assert!(report.passed, "{report:#?}");
        }
        assert_eq!(output.status.code(), Some(0));
    }
}

#[test]
fn show_aligns_long_names_and_survives_a_closed_pipe() {
    let output = runner(&repo_root(), &["show", "04"]);
    let text = String::from_utf8(output.stdout).unwrap();
    let scenarios: Vec<&str> =
        text.split("\nScenarios:\n").nth(1).unwrap().split("\n\n").next().unwrap().lines().collect();
    // Where each scenario's description starts, after its name and padding.
    let columns: Vec<usize> = scenarios
        .iter()
        .map(|line| {
            let name_end = line[2..].find(' ').unwrap() + 2;
            line.len() - line[name_end..].trim_start().len()
        })
        .collect();
    assert!(columns.len() > 3 && columns.windows(2).all(|pair| pair[0] == pair[1]), "{scenarios:#?}");
    // The reader stops after one line: the runner must end quietly, not panic.
    let shell = format!("{RUNNER} show 04 | head -n 1 >/dev/null; echo ${{PIPESTATUS[0]}}");
    let piped = std::process::Command::new("bash").args(["-c", &shell]).current_dir(repo_root()).output().unwrap();
    assert!(!String::from_utf8_lossy(&piped.stderr).contains("panicked"), "{}", String::from_utf8_lossy(&piped.stderr));
}

/// Seed 000's verbatim transcripts, by terminal name.
fn seed000_transcripts() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(fixtures().join("seed000-transcripts.txt")).unwrap();
    let mut blocks: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        match line.strip_prefix("== ") {
            Some(name) => blocks.push((name.to_string(), Vec::new())),
            None if !line.is_empty() => blocks.last_mut().unwrap().1.push(line.to_string()),
            None => {}
        }
    }
    blocks
}

#[test]
fn the_fifo_and_shm_snapshots_hold_seed_000_line_for_line() {
    let redactions = [
        (regex::Regex::new(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").unwrap(), "[TIME]"),
        (regex::Regex::new(r"key: \d+").unwrap(), "key: [KEY]"),
        (regex::Regex::new(r"shmid: \d+").unwrap(), "shmid: [SHMID]"),
    ];
    let snapshots = [
        ("fifo client (terminal 1)", "02-fifo", "seed000__client"),
        ("fifo server (terminal 2)", "02-fifo", "seed000__server"),
        ("shm client (terminal 1)", "03-shm", "seed000__client"),
        ("shm server (terminal 2)", "03-shm", "seed000__server"),
        ("shm server, stale segment", "03-shm", "stale_segment__server_again"),
    ];
    let seed = seed000_transcripts();
    assert_eq!(seed.len(), snapshots.len());
    for (terminal, lab, snapshot) in snapshots {
        let (_, lines) = seed.iter().find(|(name, _)| name == terminal).unwrap();
        let expected: Vec<String> = lines
            .iter()
            .map(|line| {
                let mut line = line.trim_end().to_string();
                for (pattern, with) in &redactions {
                    line = pattern.replace_all(&line, *with).into_owned();
                }
                line
            })
            .collect();
        let path = repo_root().join("labs").join(lab).join("snapshots").join(format!("{snapshot}.snap"));
        let body = runner::snapshot::read_body(&path).unwrap();
        let mut ours: Vec<String> = body.lines().map(str::to_string).collect();
        let ending = ours.pop().unwrap();
        assert!(ending.starts_with('['), "{snapshot} ends with its exit line");
        assert_eq!(ours, expected, "{lab}/{snapshot} against seed 000's {terminal}");
    }
}

/// The runner as the unprivileged user `nobody`, like a student on a laptop.
fn runner_as_nobody(args: &[&str]) -> (i32, LabReport) {
    let mut command = command_in("setpriv", &repo_root());
    command.args(["--reuid=65534", "--regid=65534", "--clear-groups", RUNNER]).args(args);
    let output = command.args(["--format", "json"]).output().expect("setpriv (util-linux) is installed");
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("{err}: {}", String::from_utf8_lossy(&output.stderr)));
    (output.status.code().unwrap_or(-1), report)
}

#[test]
fn an_unprivileged_user_runs_labs_in_the_sandbox_and_on_the_host() {
    if !nix::unistd::geteuid().is_root() {
        return; // Only root can become another user; as a user, every other test is this one.
    }
    // Make sure the labs exist; another user cannot build them here.
    let (status, _) = runner_json(&repo_root(), &["lab", "02", "--scenario", "seed000"]);
    assert_eq!(status, 0);
    let (status, report) = runner_as_nobody(&["lab", "02", "--no-build"]);
    assert_eq!(status, 0, "{report:#?}");
    assert!(report.scenarios.iter().all(|s| s.isolation == Some(runner::sandbox::Isolation::Sandbox)));
    // The host fallback shares one lock file, whoever created it first.
    let _turn = host_turn();
    let (status, report) = runner_as_nobody(&["lab", "02", "--no-build", "--isolation", "host"]);
    assert_eq!(status, 0, "{report:#?}");
}

#[test]
fn list_shows_each_lab_with_its_last_result_and_hint_numbers_the_hints() {
    let root = repo_root();
    let (status, _) = runner_json(&root, &["lab", "07"]);
    assert_eq!(status, 0);
    let listing = String::from_utf8(runner(&root, &["list"]).stdout).unwrap();
    let catalog = runner::catalog::Catalog::find(Some(&root)).unwrap();
    assert_eq!(listing.lines().count(), catalog.labs.len(), "{listing}");
    let socket = listing.lines().find(|line| line.starts_with("07-socket")).unwrap();
    assert!(socket.contains("Sockets") && socket.ends_with("passed last time"), "{socket}");

    let hints = String::from_utf8(runner(&root, &["hint", "fifo"]).stdout).unwrap();
    let lab = runner::lab::Lab::load(&root.join("labs/02-fifo")).unwrap();
    assert_eq!(hints.lines().count(), lab.hints.len());
    assert_eq!(hints.lines().next().unwrap(), format!("1. {}", lab.hints[0]));
}
