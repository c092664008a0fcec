//! Playing a scenario: its steps in order, each with a timeout, advancing as
//! soon as what a step waits for has happened (no fixed sleeps).

use std::collections::BTreeMap;
use std::os::fd::AsFd;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::kill;
use serde::{Deserialize, Serialize};

use crate::lab::{Action, ExpectedExit, Lab, Scenario, Step};
use crate::party::{Command, Party};
use crate::transcript::{transcript, Ending, KillReason};

/// How long the runner keeps reading a terminal after its party ended.
const DRAIN_TIME: Duration = Duration::from_millis(200);

/// Everything needed to play one scenario.
pub struct Setup<'a> {
    pub lab: &'a Lab,
    pub scenario: &'a Scenario,
    pub commands: &'a BTreeMap<String, Command>,
    pub workdir: &'a Path,
    pub env: &'a [(String, String)],
}

/// What happened, in a form that crosses from the sandbox to the runner.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Played {
    pub parties: Vec<PartyRecord>,
    pub failure: Option<StepFailure>,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartyRecord {
    pub name: String,
    pub pid: i32,
    pub transcript: String,
    pub ending: Ending,
}

/// The step that did not go as the scenario says, and what each terminal
/// showed last.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepFailure {
    pub step: usize,
    pub line: usize,
    pub action: String,
    pub problem: String,
    pub last_lines: Vec<(String, Vec<String>)>,
}

/// Play the scenario. `watch` is called whenever something may have changed
/// (output, an exit, a step), to take note of the IPC objects that exist.
pub fn play(setup: &Setup, watch: &mut dyn FnMut()) -> Played {
    let started = Instant::now();
    let mut stage = Stage { parties: Vec::new(), watch };
    let mut failure = None;
    for (index, step) in setup.scenario.steps.iter().enumerate() {
        if let Err(problem) = stage.perform(step, setup) {
            failure = Some(StepFailure {
                step: index + 1,
                line: step.line,
                action: step.action.to_string(),
                problem,
                last_lines: stage.last_lines(),
            });
            break;
        }
    }
    if failure.is_none() {
        if let Some(party) = stage.parties.iter().find(|party| party.running()) {
            failure = Some(StepFailure {
                step: setup.scenario.steps.len(),
                line: setup.scenario.steps.last().map_or(0, |step| step.line),
                action: "end of scenario".to_string(),
                problem: format!("{} is still running; the scenario should expect its exit", party.name),
                last_lines: stage.last_lines(),
            });
        }
    }
    stage.finish();
    let parties = stage
        .parties
        .iter_mut()
        .map(|party| {
            party.screen.finish();
            let ending = party.ending.clone().unwrap_or(Ending::Killed { why: KillReason::StillRunning });
            PartyRecord {
                name: party.name.clone(),
                pid: party.pid.as_raw(),
                transcript: transcript(party.screen.text(), &setup.lab.redactions, &ending),
                ending,
            }
        })
        .collect();
    Played { parties, failure, elapsed_ms: started.elapsed().as_millis() as u64 }
}

/// The parties started so far.
struct Stage<'w> {
    parties: Vec<Party>,
    watch: &'w mut dyn FnMut(),
}

impl Stage<'_> {
    fn perform(&mut self, step: &Step, setup: &Setup) -> Result<(), String> {
        let deadline = Instant::now() + step.timeout;
        let name = step.action.party();
        if let Action::Start { party, args } = &step.action {
            let mut command = setup.commands[party].clone();
            command.args.extend(args.iter().cloned());
            let party = Party::spawn(party, &command, setup.workdir, setup.env)?;
            self.parties.push(party);
            return Ok(());
        }
        let index = self.parties.iter().position(|party| party.name == name).expect("lab.toml checks the order");
        match &step.action {
            Action::Start { .. } => unreachable!("handled above"),
            Action::Type { text, .. } => {
                let mut line = text.clone().into_bytes();
                line.push(b'\r');
                self.type_into(index, &line, deadline)
            }
            Action::Press { key, .. } => self.type_into(index, &[key.byte()], deadline),
            Action::Wait { pattern, .. } => {
                let found = |stage: &Stage| pattern.find_end(stage.parties[index].unmatched());
                let over = |stage: &Stage| {
                    let party = &stage.parties[index];
                    found(stage).is_some() || (!party.running() && party.closed)
                };
                self.pump(deadline, over);
                let end = found(self);
                let party = &mut self.parties[index];
                match end {
                    Some(end) => {
                        party.cursor += end;
                        Ok(())
                    }
                    None if !party.running() => Err(format!(
                        "{name} ended [{}] without printing {pattern}",
                        party.ending.as_ref().expect("not running")
                    )),
                    None => Err(format!("{name} did not print {pattern} within {}", seconds(step.timeout))),
                }
            }
            Action::Signal { signal, .. } => {
                let party = &self.parties[index];
                if !party.running() {
                    return Err(format!("{name} already ended [{}]", party.ending.as_ref().expect("ended")));
                }
                kill(party.pid, *signal).map_err(|err| format!("kill({}, {}): {err}", party.pid, signal.as_str()))
            }
            Action::Exit { expect, .. } => {
                self.pump(deadline, |stage| !stage.parties[index].running());
                let party = &mut self.parties[index];
                match (&party.ending, expect) {
                    (None, ExpectedExit::Hangs) => {
                        party.kill(KillReason::Hung);
                        Ok(())
                    }
                    (None, _) => Err(format!("{name} is still running after {}", seconds(step.timeout))),
                    (Some(ending), ExpectedExit::Hangs) => {
                        Err(format!("{name} was expected to hang, but ended [{ending}]"))
                    }
                    (Some(ending), expected) if !matches_expected(ending, expected) => {
                        Err(format!("{name} ended [{ending}], expected [{expected}]"))
                    }
                    (Some(_), _) => Ok(()),
                }
            }
        }
    }

    fn type_into(&mut self, index: usize, bytes: &[u8], deadline: Instant) -> Result<(), String> {
        let party = &mut self.parties[index];
        if let Some(ending) = &party.ending {
            return Err(format!("{} already ended [{ending}]; nothing reads what is typed", party.name));
        }
        party.type_bytes(bytes, deadline)
    }

    /// Read terminals and collect exits until `done` holds or the deadline
    /// passes. Returns whether `done` holds.
    fn pump(&mut self, deadline: Instant, done: impl Fn(&Stage) -> bool) -> bool {
        loop {
            self.collect();
            if done(self) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            let mut fds: Vec<PollFd> = Vec::new();
            for party in &self.parties {
                if !party.closed {
                    fds.push(PollFd::new(party.terminal.as_fd(), PollFlags::POLLIN));
                }
                if party.running() {
                    fds.push(PollFd::new(party.exit_fd.as_fd(), PollFlags::POLLIN));
                }
            }
            if fds.is_empty() {
                // Every party ended and every terminal closed: nothing can change.
                return false;
            }
            let _ = poll(&mut fds, PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX));
        }
    }

    /// Take in whatever output and exits are there, without waiting.
    fn collect(&mut self) {
        for party in &mut self.parties {
            if !party.closed && !party.read_terminal() {
                party.kill(KillReason::Flooded);
            }
            party.reap();
        }
        (self.watch)();
    }

    /// Kill what still runs, then read what the terminals still hold.
    fn finish(&mut self) {
        for party in &mut self.parties {
            party.kill(KillReason::StillRunning);
        }
        let deadline = Instant::now() + DRAIN_TIME;
        self.pump(deadline, |stage| stage.parties.iter().all(|party| party.closed));
    }

    fn last_lines(&self) -> Vec<(String, Vec<String>)> {
        self.parties.iter().map(|party| (party.name.clone(), party.screen.last_lines(5))).collect()
    }
}

fn matches_expected(ending: &Ending, expected: &ExpectedExit) -> bool {
    match (ending, expected) {
        (Ending::Exited { code }, ExpectedExit::Code(want)) => code == want,
        (Ending::Signaled { signal }, ExpectedExit::Signal(want)) => signal == want.as_str(),
        _ => false,
    }
}

fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}
