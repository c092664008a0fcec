//! A lab, read from its `lab.toml` into a typed model.
//!
//! Every mistake in the file is reported with the file, the line and what is
//! wrong, e.g. `labs/02-fifo/lab.toml:31: step 4: unknown party "clinet"
//! (parties: client, server)`.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use nix::sys::signal::Signal;
use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use crate::inventory::Kind;

/// How long a step may take when `lab.toml` does not say.
pub const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct Lab {
    pub dir: PathBuf,
    pub file: PathBuf,
    pub id: String,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub teaches: Vec<String>,
    pub hints: Vec<String>,
    pub sources: Vec<Source>,
    pub parties: BTreeMap<String, Party>,
    pub redactions: Vec<Redaction>,
    pub scenarios: Vec<Scenario>,
    /// Points for a run that leaves nothing behind (beyond expected leaks).
    pub leak_points: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub seed: String,
    #[serde(default)]
    pub programs: Vec<String>,
    #[serde(default)]
    pub note: String,
}

/// What plays a party: a binary of the lab's own cargo package, or a
/// command of the system, for what the seeds do in a shell
/// (`mkfifo hello`, `ipcs -q`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Party {
    Bin(String),
    Command(Vec<String>),
}

impl Party {
    /// The lab binary, for parties a student's program may play.
    pub fn bin(&self) -> Option<&str> {
        match self {
            Party::Bin(bin) => Some(bin),
            Party::Command(_) => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParty {
    bin: Option<String>,
    #[serde(default)]
    command: Vec<String>,
}

#[derive(Debug)]
pub struct Redaction {
    pub pattern: Regex,
    pub with: String,
}

#[derive(Debug)]
pub struct Scenario {
    pub name: String,
    pub about: String,
    pub steps: Vec<Step>,
    /// What the scenario is meant to leave behind, to show a leak on purpose
    /// (e.g. a server killed before it removes its segment).
    pub expect_leaks: Vec<Kind>,
    /// Points a submission earns when the scenario passes.
    pub points: u32,
}

impl Scenario {
    /// The parties this scenario starts, in the order it starts them.
    pub fn parties(&self) -> Vec<&str> {
        let mut names = Vec::new();
        for step in &self.steps {
            if let Action::Start { party, .. } = &step.action {
                if !names.contains(&party.as_str()) {
                    names.push(party.as_str());
                }
            }
        }
        names
    }
}

#[derive(Debug)]
pub struct Step {
    /// Line of `lab.toml` the step is written on, for messages.
    pub line: usize,
    pub action: Action,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub enum Action {
    Start { party: String, args: Vec<String> },
    Type { party: String, text: String },
    Press { party: String, key: Key },
    Wait { party: String, pattern: Pattern },
    Signal { party: String, signal: Signal },
    Exit { party: String, expect: ExpectedExit },
}

impl Action {
    pub fn party(&self) -> &str {
        match self {
            Action::Start { party, .. }
            | Action::Type { party, .. }
            | Action::Press { party, .. }
            | Action::Wait { party, .. }
            | Action::Signal { party, .. }
            | Action::Exit { party, .. } => party,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Start { party, args } if args.is_empty() => write!(f, "start {party}"),
            Action::Start { party, args } => write!(f, "start {party} {}", args.join(" ")),
            Action::Type { party, text } => write!(f, "type {text:?} into {party}"),
            Action::Press { party, key } => write!(f, "press {key} in {party}"),
            Action::Wait { party, pattern } => write!(f, "wait until {party} prints {pattern}"),
            Action::Signal { party, signal } => write!(f, "send {} to {party}", signal.as_str()),
            Action::Exit { party, expect } => write!(f, "expect {party} to end with [{expect}]"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    CtrlC,
    CtrlD,
    CtrlBackslash,
    CtrlZ,
}

impl Key {
    const NAMES: [(&'static str, Key); 4] = [
        ("ctrl-c", Key::CtrlC),
        ("ctrl-d", Key::CtrlD),
        ("ctrl-backslash", Key::CtrlBackslash),
        ("ctrl-z", Key::CtrlZ),
    ];

    /// The byte the terminal receives; its line discipline turns it into
    /// SIGINT, end of file, SIGQUIT or SIGTSTP.
    pub fn byte(self) -> u8 {
        match self {
            Key::CtrlC => 0x03,
            Key::CtrlD => 0x04,
            Key::CtrlBackslash => 0x1c,
            Key::CtrlZ => 0x1a,
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = Key::NAMES.iter().find(|(_, key)| key == self).map(|(name, _)| *name);
        f.write_str(name.unwrap_or("?"))
    }
}

#[derive(Debug, Clone)]
pub enum Pattern {
    Text(String),
    Regex(Regex),
}

impl Pattern {
    /// Where the first match in `haystack` ends.
    pub fn find_end(&self, haystack: &str) -> Option<usize> {
        match self {
            Pattern::Text(text) => haystack.find(text.as_str()).map(|at| at + text.len()),
            Pattern::Regex(regex) => regex.find(haystack).map(|found| found.end()),
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::Text(text) => write!(f, "{text:?}"),
            Pattern::Regex(regex) => write!(f, "/{}/", regex.as_str()),
        }
    }
}

/// How a party is expected to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedExit {
    Code(i32),
    Signal(Signal),
    /// Still running when the step's timeout runs out (then the runner kills it).
    Hangs,
}

impl FromStr for ExpectedExit {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        match words.as_slice() {
            ["exit", code] => {
                code.parse().map(ExpectedExit::Code).map_err(|_| format!("exit status {code:?} is not a number"))
            }
            ["signal", name] => parse_signal(name).map(ExpectedExit::Signal),
            ["hangs"] => Ok(ExpectedExit::Hangs),
            _ => Err(format!("status {text:?} should be \"exit N\", \"signal SIGNAME\" or \"hangs\"")),
        }
    }
}

impl fmt::Display for ExpectedExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedExit::Code(code) => write!(f, "exit {code}"),
            ExpectedExit::Signal(signal) => write!(f, "signal {}", signal.as_str()),
            ExpectedExit::Hangs => f.write_str("hangs"),
        }
    }
}

fn parse_signal(name: &str) -> Result<Signal, String> {
    let full = if name.starts_with("SIG") { name.to_string() } else { format!("SIG{name}") };
    Signal::from_str(&full).map_err(|_| format!("{name:?} is not a signal name (e.g. SIGTERM)"))
}

/// A mistake in a `lab.toml`: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for LabError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file.display(), line, self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for LabError {}

// What `lab.toml` holds, before it is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLab {
    id: String,
    slug: String,
    title: String,
    summary: String,
    #[serde(default)]
    teaches: Vec<String>,
    #[serde(default)]
    hints: Vec<String>,
    #[serde(default)]
    sources: Vec<Source>,
    parties: BTreeMap<String, Spanned<RawParty>>,
    #[serde(default)]
    redactions: Vec<RawRedaction>,
    scenarios: Vec<RawScenario>,
    #[serde(default = "one")]
    leak_points: u32,
}

fn one() -> u32 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRedaction {
    pattern: Spanned<String>,
    with: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Spanned<String>,
    #[serde(default)]
    about: String,
    steps: Vec<Spanned<toml::Table>>,
    #[serde(default)]
    expect_leaks: Vec<Kind>,
    #[serde(default = "one")]
    points: u32,
}

impl Lab {
    /// Read and check `dir/lab.toml`.
    pub fn load(dir: &Path) -> Result<Lab, LabError> {
        let file = dir.join("lab.toml");
        let text = std::fs::read_to_string(&file).map_err(|err| LabError {
            file: file.clone(),
            line: None,
            message: format!("cannot read: {err}"),
        })?;
        Lab::parse(dir, &file, &text)
    }

    /// Check the text of a `lab.toml` that lives in `dir`.
    pub fn parse(dir: &Path, file: &Path, text: &str) -> Result<Lab, LabError> {
        let at = |span: Option<Range<usize>>, message: String| LabError {
            file: file.to_path_buf(),
            line: span.map(|span| line_of(text, span.start)),
            message,
        };
        let raw: RawLab = toml::from_str(text).map_err(|err| at(err.span(), err.message().trim().to_string()))?;

        let mut parties = BTreeMap::new();
        for (name, party) in raw.parties {
            let span = party.span();
            let party = match party.into_inner() {
                RawParty { bin: Some(bin), command } if command.is_empty() => Party::Bin(bin),
                RawParty { bin: None, command } if !command.is_empty() => Party::Command(command),
                _ => {
                    let message = format!("party {name:?} needs either `bin` (a program of the lab) or `command`");
                    return Err(at(Some(span), message));
                }
            };
            parties.insert(name, party);
        }

        let mut redactions = Vec::new();
        for RawRedaction { pattern, with } in raw.redactions {
            let span = pattern.span();
            let pattern = Regex::new(pattern.get_ref())
                .map_err(|err| at(Some(span), format!("redaction pattern is not a regex: {err}")))?;
            redactions.push(Redaction { pattern, with });
        }

        let mut scenarios: Vec<Scenario> = Vec::new();
        for raw_scenario in raw.scenarios {
            let name_span = raw_scenario.name.span();
            let name = raw_scenario.name.into_inner();
            if !is_file_name_safe(&name) {
                let message = format!("scenario name {name:?} may only hold letters, digits, '-' and '_'");
                return Err(at(Some(name_span), message));
            }
            if scenarios.iter().any(|known| known.name == name) {
                return Err(at(Some(name_span), format!("scenario {name:?} is defined twice")));
            }
            let mut steps = Vec::new();
            for (index, step) in raw_scenario.steps.into_iter().enumerate() {
                let span = step.span();
                let step = parse_step(step.get_ref(), &parties, line_of(text, span.start))
                    .map_err(|message| at(Some(span), format!("scenario {name:?}, step {}: {message}", index + 1)))?;
                steps.push(step);
            }
            check_order(&steps).map_err(|(line, message)| LabError {
                file: file.to_path_buf(),
                line: Some(line),
                message: format!("scenario {name:?}: {message}"),
            })?;
            let expect_leaks = raw_scenario.expect_leaks;
            scenarios.push(Scenario {
                name,
                about: raw_scenario.about,
                steps,
                expect_leaks,
                points: raw_scenario.points,
            });
        }
        if scenarios.is_empty() {
            return Err(at(None, "the lab has no [[scenarios]]".to_string()));
        }

        Ok(Lab {
            dir: dir.to_path_buf(),
            file: file.to_path_buf(),
            id: raw.id,
            slug: raw.slug,
            title: raw.title,
            summary: raw.summary,
            teaches: raw.teaches,
            hints: raw.hints,
            sources: raw.sources,
            parties,
            redactions,
            scenarios,
            leak_points: raw.leak_points,
        })
    }

    /// `02-fifo`: the lab's folder name.
    pub fn name(&self) -> String {
        format!("{}-{}", self.id, self.slug)
    }

    pub fn scenario(&self, name: &str) -> Option<&Scenario> {
        self.scenarios.iter().find(|scenario| scenario.name == name)
    }

    /// The lab's cargo package, by convention `lab-NN-slug`.
    pub fn package(&self) -> String {
        format!("lab-{}", self.name())
    }
}

const ACTIONS: [&str; 6] = ["start", "type", "press", "wait", "signal", "exit"];

fn parse_step(table: &toml::Table, parties: &BTreeMap<String, Party>, line: usize) -> Result<Step, String> {
    let actions: Vec<&str> = ACTIONS.iter().copied().filter(|action| table.contains_key(*action)).collect();
    let verb = match actions.as_slice() {
        [verb] => *verb,
        [] => return Err(format!("a step needs one of {}", ACTIONS.join(", "))),
        many => return Err(format!("a step does one thing, this one has {}", many.join(" and "))),
    };
    let fields = StepFields { table, verb };
    let party = fields.string(verb)?;
    if !parties.contains_key(&party) {
        let known: Vec<&str> = parties.keys().map(String::as_str).collect();
        return Err(format!("unknown party {party:?} (parties: {})", known.join(", ")));
    }

    let action = match verb {
        "start" => {
            fields.only(&["args"])?;
            Action::Start { party, args: fields.strings("args")? }
        }
        "type" => {
            fields.only(&["text"])?;
            Action::Type { party, text: fields.string("text")? }
        }
        "press" => {
            fields.only(&["key"])?;
            let name = fields.string("key")?;
            let key = Key::NAMES
                .iter()
                .find(|(known, _)| *known == name)
                .map(|(_, key)| *key)
                .ok_or_else(|| format!("unknown key {name:?} (keys: ctrl-c, ctrl-d, ctrl-backslash, ctrl-z)"))?;
            Action::Press { party, key }
        }
        "wait" => {
            fields.only(&["for", "match"])?;
            let pattern = match (table.contains_key("for"), table.contains_key("match")) {
                (true, false) => Pattern::Text(fields.string("for")?),
                (false, true) => {
                    let source = fields.string("match")?;
                    Pattern::Regex(Regex::new(&source).map_err(|err| format!("`match` is not a regex: {err}"))?)
                }
                _ => return Err("a wait needs either `for` (text) or `match` (regex)".to_string()),
            };
            Action::Wait { party, pattern }
        }
        "signal" => {
            fields.only(&["name"])?;
            Action::Signal { party, signal: parse_signal(&fields.string("name")?)? }
        }
        "exit" => {
            fields.only(&["status"])?;
            Action::Exit { party, expect: fields.string("status")?.parse()? }
        }
        _ => unreachable!("verb comes from ACTIONS"),
    };
    let timeout = match table.get("timeout_ms") {
        None => DEFAULT_STEP_TIMEOUT,
        Some(toml::Value::Integer(ms)) if *ms > 0 => Duration::from_millis(*ms as u64),
        Some(_) => return Err("`timeout_ms` must be a positive number of milliseconds".to_string()),
    };
    Ok(Step { line, action, timeout })
}

/// Typed access to the fields of one step's inline table.
struct StepFields<'a> {
    table: &'a toml::Table,
    verb: &'a str,
}

impl StepFields<'_> {
    fn only(&self, allowed: &[&str]) -> Result<(), String> {
        for key in self.table.keys() {
            if key != self.verb && key != "timeout_ms" && !allowed.contains(&key.as_str()) {
                let mut expected: Vec<&str> = allowed.to_vec();
                expected.push("timeout_ms");
                return Err(format!("`{}` has no field `{key}` (it takes {})", self.verb, expected.join(", ")));
            }
        }
        Ok(())
    }

    fn string(&self, key: &str) -> Result<String, String> {
        match self.table.get(key) {
            Some(toml::Value::String(text)) => Ok(text.clone()),
            Some(other) => Err(format!("`{key}` must be a string, not {}", other.type_str())),
            None => Err(format!("`{}` needs a field `{key}`", self.verb)),
        }
    }

    fn strings(&self, key: &str) -> Result<Vec<String>, String> {
        let Some(value) = self.table.get(key) else { return Ok(Vec::new()) };
        let items = value.as_array().ok_or_else(|| format!("`{key}` must be a list of strings"))?;
        items
            .iter()
            .map(|item| item.as_str().map(str::to_string).ok_or_else(|| format!("`{key}` must be a list of strings")))
            .collect()
    }
}

/// A party can only be typed into, waited for or signalled after it started,
/// and is started once.
fn check_order(steps: &[Step]) -> Result<(), (usize, String)> {
    let mut started: Vec<&str> = Vec::new();
    let mut ended: Vec<&str> = Vec::new();
    for step in steps {
        let party = step.action.party();
        match &step.action {
            Action::Start { .. } if started.contains(&party) => {
                return Err((step.line, format!("party {party:?} is started twice")));
            }
            Action::Start { .. } => started.push(party),
            _ if !started.contains(&party) => {
                return Err((step.line, format!("`{}` comes before party {party:?} is started", step.action)));
            }
            _ if ended.contains(&party) => {
                return Err((step.line, format!("`{}` comes after party {party:?} ended", step.action)));
            }
            Action::Exit { .. } => ended.push(party),
            _ => {}
        }
    }
    Ok(())
}

fn is_file_name_safe(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id = "02"
slug = "fifo"
title = "Named pipes"
summary = "A FIFO."

[parties.server]
bin = "pipe_server"
[parties.client]
bin = "pipe_client"

[[redactions]]
pattern = '\d\d:\d\d:\d\d'
with = "[TIME]"

[[scenarios]]
name = "seed000"
steps = [
  { start = "server" },
  { start = "client" },
  { wait = "client", for = "Send Message: " },
  { type = "client", text = "abc" },
  { press = "client", key = "ctrl-c" },
  { exit = "client", status = "signal SIGINT" },
  { exit = "server", status = "exit 0", timeout_ms = 100 },
]
"#;

    fn parse(text: &str) -> Result<Lab, LabError> {
        Lab::parse(Path::new("labs/02-fifo"), Path::new("labs/02-fifo/lab.toml"), text)
    }

    fn error_of(text: &str) -> String {
        parse(text).expect_err("the lab.toml should be refused").to_string()
    }

    #[test]
    fn a_good_lab_becomes_typed_steps() {
        let lab = parse(GOOD).unwrap();
        assert_eq!(lab.name(), "02-fifo");
        let steps = &lab.scenarios[0].steps;
        assert_eq!(steps.len(), 7);
        assert!(matches!(steps[4].action, Action::Press { key: Key::CtrlC, .. }));
        assert!(matches!(steps[5].action, Action::Exit { expect: ExpectedExit::Signal(Signal::SIGINT), .. }));
        assert_eq!(steps[6].timeout, Duration::from_millis(100));
        assert_eq!(steps[0].line, 19);
        assert_eq!(lab.scenarios[0].parties(), ["server", "client"]);
    }

    #[test]
    fn toml_syntax_error_names_file_and_line() {
        let text = GOOD.replace("title = \"Named pipes\"", "title = \"Named pipes");
        let error = error_of(&text);
        assert!(error.starts_with("labs/02-fifo/lab.toml:4: "), "{error}");
    }

    #[test]
    fn missing_field_is_named() {
        let error = error_of(&GOOD.replace("summary = \"A FIFO.\"\n", ""));
        assert!(error.contains("missing field `summary`"), "{error}");
    }

    #[test]
    fn misspelled_field_is_refused() {
        let error = error_of(&GOOD.replace("bin = \"pipe_client\"", "binary = \"pipe_client\""));
        assert!(error.starts_with("labs/02-fifo/lab.toml:10: "), "{error}");
        assert!(error.contains("unknown field `binary`"), "{error}");
    }

    #[test]
    fn unknown_party_in_a_step_names_the_line_and_the_parties() {
        let error = error_of(&GOOD.replace("{ type = \"client\"", "{ type = \"clinet\""));
        assert_eq!(
            error,
            "labs/02-fifo/lab.toml:22: scenario \"seed000\", step 4: unknown party \"clinet\" (parties: client, server)"
        );
    }

    #[test]
    fn unknown_key_and_bad_status_and_bad_regex_are_explained() {
        let error = error_of(&GOOD.replace("ctrl-c", "ctrl-x"));
        assert!(error.contains(":23: ") && error.contains("unknown key \"ctrl-x\""), "{error}");
        let error = error_of(&GOOD.replace("signal SIGINT", "killed"));
        assert!(error.contains(":24: ") && error.contains("should be \"exit N\""), "{error}");
        let error = error_of(&GOOD.replace(r"'\d\d:\d\d:\d\d'", "'(unclosed'"));
        assert!(error.contains(":13: ") && error.contains("not a regex"), "{error}");
        let error = error_of(&GOOD.replace("status = \"exit 0\"", "status = \"exit 0\", after = 3"));
        assert!(error.contains("`exit` has no field `after`"), "{error}");
    }

    #[test]
    fn steps_out_of_order_are_refused() {
        let text = GOOD.replace("  { start = \"client\" },\n", "");
        let error = error_of(&text);
        assert!(error.contains("comes before party \"client\" is started"), "{error}");
    }

    #[test]
    fn expected_leaks_name_kinds_of_objects() {
        let text = GOOD.replace("name = \"seed000\"", "name = \"seed000\"\nexpect_leaks = [\"sysv_shm\", \"fifo\"]");
        assert_eq!(parse(&text).unwrap().scenarios[0].expect_leaks, [Kind::SysvShm, Kind::Fifo]);
        let error = error_of(&GOOD.replace("name = \"seed000\"", "name = \"seed000\"\nexpect_leaks = [\"shm\"]"));
        assert!(error.contains(":18: ") && error.contains("unknown variant `shm`"), "{error}");
    }

    #[test]
    fn a_party_is_a_lab_binary_or_a_system_command_not_both() {
        let text = GOOD.replace("bin = \"pipe_client\"", "command = [\"sh\", \"-c\", \"cat < hello\"]");
        let lab = parse(&text).unwrap();
        assert_eq!(lab.parties["client"], Party::Command(vec!["sh".into(), "-c".into(), "cat < hello".into()]));
        assert_eq!(lab.parties["server"].bin(), Some("pipe_server"));
        let error = error_of(&GOOD.replace("bin = \"pipe_client\"", "bin = \"x\"\ncommand = [\"cat\"]"));
        assert!(error.contains("party \"client\" needs either `bin`"), "{error}");
    }

    #[test]
    fn a_step_with_two_actions_is_refused() {
        let error = error_of(&GOOD.replace("{ start = \"server\" }", "{ start = \"server\", exit = \"server\" }"));
        assert!(error.contains("a step does one thing"), "{error}");
    }
}
