//! A lab run: every scenario of the lab in its sandbox, each party's
//! transcript compared with its snapshot, every leak counted as a failure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::compile;
use crate::inventory::{Kind, Object};
use crate::lab::{Lab, Party};
use crate::party::Command;
use crate::sandbox::{self, Isolation, Leak, SandboxError};
use crate::scenario::{PartyRecord, StepFailure};
use crate::snapshot::{self, Snapshot};

pub struct Options {
    pub isolation: Isolation,
    /// Programs that stand in for the lab's own parties (`--party`).
    pub overrides: BTreeMap<String, Command>,
    /// Store the transcripts as the expected snapshots.
    pub accept: bool,
    /// Run only this scenario.
    pub scenario: Option<String>,
    /// Keep snapshots here instead of in the lab (grading: one folder per
    /// submission). Seeded from the lab's own; a snapshot accepted here
    /// stands for this submission only.
    pub snapshot_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabReport {
    pub lab: String,
    pub title: String,
    pub passed: bool,
    pub elapsed_ms: u64,
    pub scenarios: Vec<ScenarioReport>,
    /// The lab could not be run at all.
    #[serde(default)]
    pub error: Option<String>,
}

impl LabReport {
    /// The report of a lab that could not be run.
    pub fn broken(lab: &Lab, error: String) -> LabReport {
        LabReport {
            lab: lab.name(),
            title: lab.title.clone(),
            passed: false,
            elapsed_ms: 0,
            scenarios: Vec::new(),
            error: Some(error),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioReport {
    pub name: String,
    pub about: String,
    pub passed: bool,
    pub elapsed_ms: u64,
    /// `sandbox` or `host`; absent when the scenario could not run.
    pub isolation: Option<Isolation>,
    /// The runner could not run the scenario at all.
    pub error: Option<String>,
    /// The step that did not go as written.
    pub failure: Option<StepFailure>,
    pub parties: Vec<PartyReport>,
    pub leaks: Vec<Leak>,
    /// IPC objects seen while the scenario played.
    pub seen: Vec<Object>,
    /// Lessons that do not fail the scenario, e.g. world-writable objects.
    pub warnings: Vec<String>,
    /// The kinds of leak the scenario shows on purpose.
    pub expect_leaks: Vec<Kind>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartyReport {
    pub name: String,
    /// The program that played the party.
    pub program: String,
    pub ending: String,
    pub transcript: String,
    pub snapshot: PathBuf,
    pub verdict: SnapshotVerdict,
    /// The expected transcript, when there is one.
    pub expected: Option<String>,
    /// Plain unified diff, when the transcript differs.
    pub diff: Option<String>,
    /// The `.snap.new` written for review.
    pub pending: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotVerdict {
    Matches,
    Differs,
    Missing,
    Accepted,
}

/// The isolation to use, learning from the first refusal in `Auto` mode.
pub struct IsolationChoice {
    pub wanted: Isolation,
    refused: bool,
}

impl IsolationChoice {
    pub fn new(wanted: Isolation) -> IsolationChoice {
        IsolationChoice { wanted, refused: false }
    }

    fn current(&self) -> Isolation {
        match (self.wanted, self.refused) {
            (Isolation::Auto, true) => Isolation::Host,
            (Isolation::Auto, false) => Isolation::Sandbox,
            (wanted, _) => wanted,
        }
    }
}

/// The programs that play each party: the lab's own, or the overrides.
pub fn commands(root: &Path, lab: &Lab, overrides: &BTreeMap<String, Command>) -> BTreeMap<String, Command> {
    let bin_dir = compile::bin_dir(root);
    lab.parties
        .iter()
        .map(|(name, party)| {
            let command = overrides.get(name).cloned().unwrap_or_else(|| match party {
                Party::Bin(bin) => Command { program: bin_dir.join(bin), args: Vec::new() },
                Party::Command(words) => Command {
                    program: crate::party::find_program(&words[0]).unwrap_or_else(|_| PathBuf::from(&words[0])),
                    args: words[1..].to_vec(),
                },
            });
            (name.clone(), command)
        })
        .collect()
}

pub fn run_lab(root: &Path, lab: &Lab, options: &Options, isolation: &mut IsolationChoice) -> LabReport {
    let started = Instant::now();
    let commands = commands(root, lab, &options.overrides);
    let mut scenarios = Vec::new();
    for scenario in &lab.scenarios {
        if options.scenario.as_ref().is_some_and(|only| *only != scenario.name) {
            continue;
        }
        if crate::interrupt::requested() {
            break;
        }
        let began = Instant::now();
        let outcome = loop {
            match sandbox::run(isolation.current(), lab, scenario, &commands) {
                Err(SandboxError::Refused(why)) if isolation.wanted == Isolation::Auto && !isolation.refused => {
                    eprintln!("runner: the kernel refused namespaces ({why}); running on the host, one run at a time");
                    isolation.refused = true;
                }
                other => break other,
            }
        };
        let mut report = ScenarioReport {
            name: scenario.name.clone(),
            about: scenario.about.clone(),
            passed: false,
            elapsed_ms: 0,
            isolation: None,
            error: None,
            failure: None,
            parties: Vec::new(),
            leaks: Vec::new(),
            seen: Vec::new(),
            warnings: Vec::new(),
            expect_leaks: scenario.expect_leaks.clone(),
        };
        match outcome {
            Ok(outcome) => {
                report.isolation = Some(outcome.isolation);
                report.failure = outcome.played.failure;
                report.leaks = outcome.leaks;
                report.seen = outcome.seen;
                report.warnings = outcome.warnings;
                let accept = options.accept && report.failure.is_none();
                for party in outcome.played.parties {
                    let program = commands[&party.name].program.display().to_string();
                    let snapshot = snapshot_for(lab, &scenario.name, &party.name, options.snapshot_dir.as_deref());
                    report.parties.push(judge(lab, &scenario.name, party, program, snapshot, accept));
                }
            }
            Err(SandboxError::Refused(why) | SandboxError::Failed(why)) => report.error = Some(why),
        }
        report.passed = report.error.is_none()
            && report.failure.is_none()
            && leaks_as_expected(&report.leaks, &scenario.expect_leaks)
            && report
                .parties
                .iter()
                .all(|party| matches!(party.verdict, SnapshotVerdict::Matches | SnapshotVerdict::Accepted));
        report.elapsed_ms = began.elapsed().as_millis() as u64;
        scenarios.push(report);
    }
    LabReport {
        lab: lab.name(),
        title: lab.title.clone(),
        passed: !scenarios.is_empty() && scenarios.iter().all(|scenario| scenario.passed),
        elapsed_ms: started.elapsed().as_millis() as u64,
        scenarios,
        error: None,
    }
}

/// Compare one transcript with its snapshot; accept it, or leave a pending
/// snapshot for review when it differs.
fn judge(
    lab: &Lab,
    scenario: &str,
    party: PartyRecord,
    program: String,
    snapshot: Snapshot,
    accept: bool,
) -> PartyReport {
    let description = snapshot::description(&lab.name(), scenario, &party.name);
    let mut report = PartyReport {
        name: party.name,
        program,
        ending: party.ending.to_string(),
        transcript: party.transcript,
        snapshot: snapshot.path.clone(),
        verdict: SnapshotVerdict::Missing,
        expected: None,
        diff: None,
        pending: None,
    };
    if accept {
        report.verdict = match snapshot.accept(&report.transcript, &description) {
            Ok(()) => SnapshotVerdict::Accepted,
            Err(problem) => {
                report.diff = Some(problem);
                SnapshotVerdict::Missing
            }
        };
        return report;
    }
    match snapshot.expected() {
        Ok(Some(expected)) if expected == report.transcript.trim_end() => {
            snapshot.clear_pending();
            report.verdict = SnapshotVerdict::Matches;
        }
        Ok(found) => {
            if let Some(expected) = &found {
                let name =
                    snapshot.path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
                report.diff = Some(snapshot::diff(expected, &report.transcript, &name));
                report.verdict = SnapshotVerdict::Differs;
            }
            report.expected = found;
            report.pending = snapshot.propose(&report.transcript, &description).ok();
        }
        Err(problem) => report.diff = Some(problem),
    }
    report
}

/// Where the expected transcript of a party is kept: in the lab, or in a
/// folder of its own, seeded with a copy of the lab's.
fn snapshot_for(lab: &Lab, scenario: &str, party: &str, folder: Option<&Path>) -> Snapshot {
    let reference = Snapshot::of(&lab.dir, scenario, party);
    let Some(folder) = folder else { return reference };
    let local = Snapshot::in_folder(folder, scenario, party);
    if !local.path.exists() && reference.path.exists() {
        let _ = std::fs::create_dir_all(folder).and_then(|()| std::fs::copy(&reference.path, &local.path));
    }
    local
}

/// The leaks are exactly the kinds the scenario expects (none, usually).
fn leaks_as_expected(leaks: &[Leak], expected: &[Kind]) -> bool {
    let mut found: Vec<Kind> = leaks.iter().map(|leak| leak.object.kind).collect();
    let mut expected = expected.to_vec();
    found.sort();
    expected.sort();
    found == expected
}
