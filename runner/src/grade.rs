//! Grading submissions: each folder of SUBMISSIONS/ is one student's work,
//! built (their `build` script, `Makefile` or cargo workspace, with a
//! timeout), then every lab runs with the student's programs in place of the
//! reference parties they provide. A submission that does not build, crashes
//! or hangs is graded like any other.
//!
//! Points: each scenario that passes with one of the student's programs in it
//! earns its `points`; each lab whose runs that played to the end left nothing
//! behind earns its `leak_points`. Scenarios of system commands only are not
//! graded. Pending snapshots go to
//! `RESULTS/<student>/<lab>/snapshots/`, where `runner review` (or
//! `cargo insta review`) can walk them.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::lab::{Lab, Scenario};
use crate::run::{LabReport, SnapshotVerdict};
use crate::sandbox::Isolation;

/// The version of the JSON that `runner grade --format json` prints.
pub const SCHEMA: &str = "ipc-labs/grade/1";

pub struct Options {
    pub jobs: usize,
    pub isolation: Isolation,
    /// Where builds, pending snapshots and reports go.
    pub results: PathBuf,
    pub build_timeout: Duration,
    /// The runner program, started once per submission and lab.
    pub runner: PathBuf,
    pub root: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Grade {
    pub schema: String,
    pub submissions: Vec<SubmissionGrade>,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubmissionGrade {
    pub student: String,
    pub score: u32,
    pub max_score: u32,
    pub build: Build,
    pub labs: Vec<LabGrade>,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Build {
    /// `build script`, `make`, `cargo`, or `none` (prebuilt programs only).
    pub how: String,
    pub ok: bool,
    /// The end of what the build printed.
    pub log: String,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabGrade {
    pub lab: String,
    pub title: String,
    /// Party → the student's program playing it. Empty: not submitted.
    pub programs: BTreeMap<String, String>,
    pub score: u32,
    pub max_score: u32,
    pub scenarios: Vec<ScenarioGrade>,
    pub leak_check: LeakCheck,
    /// Why the lab could not be graded, when it could not.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioGrade {
    pub name: String,
    pub score: u32,
    pub max_score: u32,
    pub passed: bool,
    /// What went wrong, in one line.
    pub problem: Option<String>,
    pub diffs: Vec<PartyDiff>,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartyDiff {
    pub party: String,
    pub diff: String,
    /// The `.snap.new` written for review.
    pub pending: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LeakCheck {
    pub score: u32,
    pub max_score: u32,
    /// Each leak in plain words, with the command that removes it.
    pub leaks: Vec<String>,
}

/// The submissions below `dir`: its folders, or `dir` itself when `single`.
pub fn submissions(dir: &Path, single: bool) -> Result<Vec<PathBuf>, String> {
    if single {
        return Ok(vec![dir.to_path_buf()]);
    }
    let entries = fs::read_dir(dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_dir() && !path.file_name().is_some_and(|name| name.to_string_lossy().starts_with('.')))
        .collect();
    found.sort();
    if found.is_empty() {
        return Err(format!("{} holds no submission folders", dir.display()));
    }
    Ok(found)
}

/// Grade every submission, `jobs` at a time, reporting progress on stderr.
pub fn grade(labs: &[Lab], submissions: &[PathBuf], options: &Options) -> Grade {
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let grades: Mutex<Vec<Option<SubmissionGrade>>> = Mutex::new(vec![None; submissions.len()]);
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.clamp(1, submissions.len().max(1)) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(dir) = submissions.get(index) else { break };
                let grade = grade_one(labs, dir, options);
                let finished = done.fetch_add(1, Ordering::SeqCst) + 1;
                eprintln!(
                    "[{finished}/{}] {}: {} of {} points",
                    submissions.len(),
                    grade.student,
                    grade.score,
                    grade.max_score
                );
                grades.lock().expect("no thread panics holding it")[index] = Some(grade);
            });
        }
    });
    let submissions = grades.into_inner().expect("no thread panicked").into_iter().flatten().collect();
    Grade { schema: SCHEMA.to_string(), submissions, elapsed_ms: started.elapsed().as_millis() as u64 }
}

fn grade_one(labs: &[Lab], dir: &Path, options: &Options) -> SubmissionGrade {
    let started = Instant::now();
    let student = dir.file_name().map_or_else(|| "submission".to_string(), |name| name.to_string_lossy().into_owned());
    let results = options.results.join(&student);
    let _ = fs::create_dir_all(&results);
    let build = build(dir, &results, options.build_timeout);
    let places = program_places(dir, &results);
    let labs: Vec<LabGrade> = labs.iter().map(|lab| grade_lab(lab, &places, &results, &build, options)).collect();
    SubmissionGrade {
        student,
        score: labs.iter().map(|lab| lab.score).sum(),
        max_score: labs.iter().map(|lab| lab.max_score).sum(),
        build,
        labs,
        elapsed_ms: started.elapsed().as_millis() as u64,
    }
}

/// Build a submission the way it asks: its `build` script, its Makefile, or
/// cargo. The log goes to `results/build.log`.
fn build(dir: &Path, results: &Path, timeout: Duration) -> Build {
    let started = Instant::now();
    let mut command;
    let how = if is_executable(&dir.join("build")) {
        command = Command::new(dir.join("build"));
        "build script"
    } else if dir.join("Makefile").is_file() {
        command = Command::new("make");
        "make"
    } else if dir.join("Cargo.toml").is_file() {
        command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        command.args(["build", "--release", "--quiet"]).env("CARGO_TARGET_DIR", results.join("target"));
        "cargo"
    } else {
        return Build { how: "none".to_string(), ok: true, log: String::new(), elapsed_ms: 0 };
    };
    let log_path = results.join("build.log");
    let outcome = fs::File::create(&log_path)
        .and_then(|log| Ok((log.try_clone()?, log)))
        .map_err(|err| format!("{}: {err}", log_path.display()))
        .and_then(|(out, err)| {
            command.current_dir(dir).stdin(Stdio::null()).stdout(out).stderr(err).process_group(0);
            command.spawn().map_err(|err| format!("cannot start the {how}: {err}"))
        })
        .and_then(|mut child| wait_or_kill(&mut child, timeout));
    let log = tail(&fs::read_to_string(&log_path).unwrap_or_default(), 40);
    let (ok, log) = match outcome {
        Ok(true) => (true, log),
        Ok(false) => (false, log),
        Err(problem) => (false, format!("{log}\n{problem}").trim().to_string()),
    };
    Build { how: how.to_string(), ok, log, elapsed_ms: started.elapsed().as_millis() as u64 }
}

/// Wait for a build; kill its whole process group when it takes too long.
fn wait_or_kill(child: &mut std::process::Child, timeout: Duration) -> Result<bool, String> {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    if !crate::party::wait_for_exit(pid, timeout) {
        let _ = nix::sys::signal::killpg(pid, nix::sys::signal::Signal::SIGKILL);
        let _ = child.wait();
        return Err(format!("the build did not finish within {} s and was stopped", timeout.as_secs()));
    }
    let status = child.wait().map_err(|err| format!("waiting for the build: {err}"))?;
    Ok(status.success())
}

/// Where a submission's programs may be, in order of preference.
fn program_places(dir: &Path, results: &Path) -> Vec<PathBuf> {
    vec![dir.to_path_buf(), dir.join("bin"), dir.join("target/release"), results.join("target/release")]
}

fn grade_lab(lab: &Lab, places: &[PathBuf], results: &Path, build: &Build, options: &Options) -> LabGrade {
    let programs: BTreeMap<String, PathBuf> = lab
        .parties
        .iter()
        .filter_map(|(party, spec)| {
            let bin = spec.bin()?;
            let program = places.iter().map(|place| place.join(bin)).find(|path| is_executable(path))?;
            Some((party.clone(), program.canonicalize().unwrap_or(program)))
        })
        .collect();
    let mut grade = LabGrade {
        lab: lab.name(),
        title: lab.title.clone(),
        programs: programs.iter().map(|(party, path)| (party.clone(), path.display().to_string())).collect(),
        score: 0,
        max_score: graded(lab).map(|scenario| scenario.points).sum::<u32>() + lab.leak_points,
        scenarios: Vec::new(),
        leak_check: LeakCheck { score: 0, max_score: lab.leak_points, leaks: Vec::new() },
        error: None,
    };
    if programs.is_empty() {
        grade.error = Some(if build.ok { "not submitted".to_string() } else { "the build failed".to_string() });
        grade.scenarios = graded(lab).map(|scenario| missing(&scenario.name, scenario.points)).collect();
        return grade;
    }
    match run_lab(lab, &programs, results, options) {
        Ok(report) => score(lab, &report, &mut grade),
        Err(problem) => {
            grade.scenarios = graded(lab).map(|scenario| missing(&scenario.name, scenario.points)).collect();
            grade.error = Some(problem);
        }
    }
    grade
}

fn missing(name: &str, points: u32) -> ScenarioGrade {
    ScenarioGrade {
        name: name.to_string(),
        score: 0,
        max_score: points,
        passed: false,
        problem: Some("not run".to_string()),
        diffs: Vec::new(),
        elapsed_ms: 0,
    }
}

/// One lab with the student's programs, as `runner lab … --format json`.
fn run_lab(
    lab: &Lab,
    programs: &BTreeMap<String, PathBuf>,
    results: &Path,
    options: &Options,
) -> Result<LabReport, String> {
    let isolation = clap::ValueEnum::to_possible_value(&options.isolation).expect("named").get_name().to_string();
    let snapshots = results.join(lab.name()).join("snapshots");
    let mut command = Command::new(&options.runner);
    command.arg("--root").arg(&options.root).args(["lab", &lab.name(), "--format", "json", "--no-build"]);
    command.args(["--isolation", &isolation]).arg("--snapshot-dir").arg(&snapshots);
    for (party, program) in programs {
        command.arg("--party").arg(format!("{party}={}", program.display()));
    }
    let output = command.stdin(Stdio::null()).output().map_err(|err| format!("cannot start the runner: {err}"))?;
    serde_json::from_slice(&output.stdout)
        .map_err(|_| format!("the runner gave no report: {}", String::from_utf8_lossy(&output.stderr).trim()))
}

/// The scenarios a submission can earn points in: those with at least one
/// party a student's program may play (not only system commands).
fn graded(lab: &Lab) -> impl Iterator<Item = &Scenario> {
    lab.scenarios.iter().filter(|scenario| scenario.parties().iter().any(|party| lab.parties[*party].bin().is_some()))
}

fn score(lab: &Lab, report: &LabReport, grade: &mut LabGrade) {
    let mut played = 0;
    for scenario in graded(lab) {
        let Some(run) = report.scenarios.iter().find(|run| run.name == scenario.name) else {
            grade.scenarios.push(missing(&scenario.name, scenario.points));
            continue;
        };
        // Points reward the student's own programs: a scenario played only by
        // reference programs earns none.
        let parties = scenario.parties();
        if !parties.iter().any(|party| grade.programs.contains_key(*party)) {
            let bins: Vec<&str> = parties.iter().filter_map(|party| lab.parties[*party].bin()).collect();
            let mut unplayed = missing(&scenario.name, scenario.points);
            unplayed.problem = Some(format!("not played: submit {} to play it", bins.join(" and ")));
            grade.scenarios.push(unplayed);
            continue;
        }
        played += 1;
        let transcripts_match = run.parties.iter().all(|party| party.verdict == SnapshotVerdict::Matches);
        let passed = run.error.is_none() && run.failure.is_none() && transcripts_match;
        let problem =
            run.error.clone().or_else(|| run.failure.as_ref().map(|failure| failure.problem.clone())).or_else(|| {
                let differing: Vec<&str> = run
                    .parties
                    .iter()
                    .filter(|party| party.verdict != SnapshotVerdict::Matches)
                    .map(|party| party.name.as_str())
                    .collect();
                (!differing.is_empty()).then(|| format!("transcript differs: {}", differing.join(", ")))
            });
        let diffs = run
            .parties
            .iter()
            .filter_map(|party| {
                Some(PartyDiff { party: party.name.clone(), diff: party.diff.clone()?, pending: party.pending.clone() })
            })
            .collect();
        // Only runs that played to the end count for the leak check: after a
        // failed step the runner kills every party, and what they leave then
        // follows from the failure (already paid for), not from their cleanup.
        let played_out = run.error.is_none() && run.failure.is_none();
        for leak in run.leaks.iter().filter(|_| played_out) {
            if !run.expect_leaks.contains(&leak.object.kind) {
                grade.leak_check.leaks.push(format!("{}: {}; remove with `{}`", run.name, leak.object, leak.removal));
            }
        }
        grade.scenarios.push(ScenarioGrade {
            name: scenario.name.clone(),
            score: if passed { scenario.points } else { 0 },
            max_score: scenario.points,
            passed,
            problem,
            diffs,
            elapsed_ms: run.elapsed_ms,
        });
    }
    let all_ran = grade.scenarios.iter().all(|scenario| scenario.problem.as_deref() != Some("not run"));
    if played > 0 && all_ran && grade.leak_check.leaks.is_empty() {
        grade.leak_check.score = lab.leak_points;
    }
    grade.score = grade.scenarios.iter().map(|scenario| scenario.score).sum::<u32>() + grade.leak_check.score;
}

fn is_executable(path: &Path) -> bool {
    path.metadata().is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
