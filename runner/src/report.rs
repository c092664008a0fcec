//! Printing a lab run for people: both terminals, a verdict per scenario, the
//! step that went wrong, a colored diff and the leaks with their `ipcrm` line.
//! Colors only on a terminal, and never with `NO_COLOR`.

use std::fmt::Write;

use owo_colors::{OwoColorize, Stream};

use crate::run::{LabReport, PartyReport, ScenarioReport, SnapshotVerdict};

/// How much of a lab run to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Each party's terminal for every scenario.
    Terminals,
    /// Terminals only where a scenario failed.
    Failures,
}

pub fn human(report: &LabReport, detail: Detail, hint: Option<&str>) -> String {
    let mut out = String::new();
    let title = format!("{} · {}", report.lab, report.title);
    let _ = writeln!(out, "{}", title.if_supports_color(Stream::Stdout, |text| text.bold()));
    if let Some(error) = &report.error {
        let _ = writeln!(out, "  could not run: {error}");
    }
    for scenario in &report.scenarios {
        write_scenario(&mut out, scenario, detail);
    }
    let passed = report.scenarios.iter().filter(|scenario| scenario.passed).count();
    let total = report.scenarios.len();
    let summary = format!("{passed} of {total} scenarios passed ({} ms)", report.elapsed_ms);
    if report.passed {
        let _ = writeln!(out, "{} {summary}", "PASS".if_supports_color(Stream::Stdout, |text| text.green()));
    } else {
        let _ = writeln!(out, "{} {summary}", "FAIL".if_supports_color(Stream::Stdout, |text| text.red()));
        if let Some(hint) = hint {
            let _ = writeln!(out, "hint: {hint}");
        }
    }
    out
}

fn write_scenario(out: &mut String, scenario: &ScenarioReport, detail: Detail) {
    let mark = if scenario.passed {
        "✓".if_supports_color(Stream::Stdout, |text| text.green()).to_string()
    } else {
        "✗".if_supports_color(Stream::Stdout, |text| text.red()).to_string()
    };
    let isolation = match scenario.isolation {
        Some(crate::sandbox::Isolation::Host) => ", on the host",
        _ => "",
    };
    let _ = writeln!(out, "  {mark} {} ({} ms{isolation})", scenario.name, scenario.elapsed_ms);
    if let Some(error) = &scenario.error {
        let _ = writeln!(out, "      could not run: {error}");
    }
    if detail == Detail::Terminals || !scenario.passed {
        for party in &scenario.parties {
            write_terminal(out, party);
        }
    }
    if let Some(failure) = &scenario.failure {
        let _ = writeln!(out, "      step {} (lab.toml line {}): {}", failure.step, failure.line, failure.action);
        let problem = &failure.problem;
        let _ = writeln!(out, "      {}", problem.if_supports_color(Stream::Stdout, |text| text.red()));
    }
    for party in &scenario.parties {
        write_verdict(out, party);
    }
    for warning in &scenario.warnings {
        let line = format!("      warning: {warning}");
        let _ = writeln!(out, "{}", line.if_supports_color(Stream::Stdout, |text| text.yellow()));
    }
    for leak in &scenario.leaks {
        let by = leak.party.as_deref().map(|party| format!(" (made by {party})")).unwrap_or_default();
        let label = if scenario.expect_leaks.contains(&leak.object.kind) { "expected leak" } else { "leak" };
        let line = format!("      {label}: {}{by}", leak.object);
        let _ = writeln!(out, "{}", line.if_supports_color(Stream::Stdout, |text| text.yellow()));
        let _ = writeln!(out, "            remove it with `{}`; {}", leak.removal, leak.cleanup);
    }
}

/// Lines of a terminal shown at most; the full transcript is in the JSON
/// report and the pending snapshot.
const SHOWN_LINES: usize = 40;
const SHOWN_COLUMNS: usize = 160;

fn write_terminal(out: &mut String, party: &PartyReport) {
    let _ = writeln!(out, "      ┌ {} ({})", party.name, party.program);
    let lines: Vec<&str> = party.transcript.lines().collect();
    let (last, body) = lines.split_last().unwrap_or((&"", &[]));
    let hidden = body.len().saturating_sub(SHOWN_LINES);
    if hidden > 0 {
        let _ = writeln!(out, "      │ … {hidden} earlier lines not shown");
    }
    for line in &body[hidden..] {
        let _ = writeln!(out, "      │ {}", clip(line));
    }
    let _ = writeln!(out, "      └ {last}");
}

fn clip(line: &str) -> String {
    match line.char_indices().nth(SHOWN_COLUMNS) {
        Some((cut, _)) => format!("{} … ({} more characters)", &line[..cut], line[cut..].chars().count()),
        None => line.to_string(),
    }
}

fn write_verdict(out: &mut String, party: &PartyReport) {
    let snapshot = party.snapshot.display();
    match party.verdict {
        SnapshotVerdict::Matches => {}
        SnapshotVerdict::Accepted => {
            let _ = writeln!(out, "      accepted {}'s transcript into {snapshot}", party.name);
        }
        SnapshotVerdict::Missing => {
            let _ = writeln!(out, "      {}: no snapshot yet at {snapshot}", party.name);
            if let Some(problem) = &party.diff {
                let _ = writeln!(out, "      {problem}");
            }
        }
        SnapshotVerdict::Differs => {
            let _ = writeln!(out, "      {}'s terminal differs from {snapshot}:", party.name);
            for line in paint_diff(party.diff.as_deref().unwrap_or_default()).lines() {
                let _ = writeln!(out, "        {line}");
            }
        }
    }
    if let Some(pending) = &party.pending {
        let _ = writeln!(out, "      wrote {} (review with `cargo insta review`)", pending.display());
    }
}

/// A unified diff with removed lines red, added lines green, hunks cyan.
pub fn paint_diff(diff: &str) -> String {
    let mut out = String::new();
    for line in diff.lines() {
        let painted = match line.chars().next() {
            Some('@') => line.if_supports_color(Stream::Stdout, |text| text.cyan()).to_string(),
            Some('-') => line.if_supports_color(Stream::Stdout, |text| text.red()).to_string(),
            Some('+') => line.if_supports_color(Stream::Stdout, |text| text.green()).to_string(),
            _ => line.to_string(),
        };
        let _ = writeln!(out, "{painted}");
    }
    out
}

/// For each party played by the student's program, the reference's
/// transcript beside the student's, where they differ.
pub fn against_reference(student: &LabReport, reference: &LabReport, parties: &[String]) -> String {
    let mut out = String::new();
    for scenario in &student.scenarios {
        let Some(theirs) = reference.scenarios.iter().find(|other| other.name == scenario.name) else { continue };
        for party in scenario.parties.iter().filter(|party| parties.contains(&party.name)) {
            let Some(model) = theirs.parties.iter().find(|other| other.name == party.name) else { continue };
            if model.transcript == party.transcript {
                continue;
            }
            let _ = writeln!(out, "{} / {}: the reference (left) and yours (right)", scenario.name, party.name);
            out.push_str(&side_by_side(&model.transcript, &party.transcript));
        }
    }
    out
}

const COLUMN: usize = 38;

/// Two columns, `|` where a line differs, `<` or `>` where one side has none.
pub fn side_by_side(left: &str, right: &str) -> String {
    let diff = similar::TextDiff::from_lines(left, right);
    let mut rows: Vec<(String, char, String)> = Vec::new();
    let mut removed: Vec<String> = Vec::new();
    for change in diff.iter_all_changes() {
        let line = change.to_string_lossy().trim_end_matches('\n').to_string();
        match change.tag() {
            similar::ChangeTag::Delete => removed.push(line),
            similar::ChangeTag::Insert if !removed.is_empty() => rows.push((removed.remove(0), '|', line)),
            similar::ChangeTag::Insert => rows.push((String::new(), '>', line)),
            similar::ChangeTag::Equal => {
                rows.extend(removed.drain(..).map(|old| (old, '<', String::new())));
                rows.push((line.clone(), ' ', line));
            }
        }
    }
    rows.extend(removed.drain(..).map(|old| (old, '<', String::new())));
    let mut out = String::new();
    for (left, mark, right) in rows {
        let left: String = left.chars().take(COLUMN).collect();
        let row = format!("  {left:<COLUMN$} {mark} {right}");
        let row =
            if mark == ' ' { row } else { row.if_supports_color(Stream::Stdout, |text| text.yellow()).to_string() };
        let _ = writeln!(out, "{}", row.trim_end());
    }
    out
}
