//! Gradescope: the `results.json` its autograders write, and the autograder
//! zip (`setup.sh`, `run_autograder` and this project's source) that lets
//! Gradescope's own machines run the labs on each submission.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::grade::SubmissionGrade;

/// `results.json`, as Gradescope's autograder specification defines it.
#[derive(Debug, Serialize)]
pub struct Results {
    pub score: f64,
    pub execution_time: f64,
    pub output: String,
    pub visibility: &'static str,
    pub stdout_visibility: &'static str,
    pub tests: Vec<Test>,
}

#[derive(Debug, Serialize)]
pub struct Test {
    pub name: String,
    pub number: String,
    pub score: f64,
    pub max_score: f64,
    pub status: &'static str,
    pub output: String,
    pub visibility: &'static str,
}

pub fn results(submission: &SubmissionGrade) -> Results {
    let mut tests = Vec::new();
    for (lab_number, lab) in submission.labs.iter().enumerate() {
        let mut cases: Vec<(String, u32, u32, String)> = lab
            .scenarios
            .iter()
            .map(|scenario| {
                let mut output = scenario.problem.clone().unwrap_or_default();
                for diff in &scenario.diffs {
                    output.push_str(&format!("\n\n{}'s terminal:\n{}", diff.party, diff.diff));
                }
                (scenario.name.clone(), scenario.score, scenario.max_score, output)
            })
            .collect();
        let leaks = &lab.leak_check;
        cases.push(("leak check".to_string(), leaks.score, leaks.max_score, leaks.leaks.join("\n")));
        for (case_number, (name, score, max_score, output)) in cases.into_iter().enumerate() {
            let output = match &lab.error {
                Some(error) if output.is_empty() || output == "not run" => error.clone(),
                _ => output,
            };
            tests.push(Test {
                name: format!("{}: {name}", lab.lab),
                number: format!("{}.{}", lab_number + 1, case_number + 1),
                score: score as f64,
                max_score: max_score as f64,
                status: if score == max_score { "passed" } else { "failed" },
                output,
                visibility: "visible",
            });
        }
    }
    let mut output = format!("{} of {} points.", submission.score, submission.max_score);
    if !submission.build.ok {
        output.push_str(&format!("\n\nThe build ({}) failed:\n{}", submission.build.how, submission.build.log));
    }
    Results {
        score: submission.score as f64,
        execution_time: submission.elapsed_ms as f64 / 1000.0,
        output,
        visibility: "visible",
        stdout_visibility: "visible",
        tests,
    }
}

const SETUP: &str = r#"#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image.
set -euo pipefail
apt-get update -qq
apt-get install -y -qq build-essential curl ca-certificates util-linux >/dev/null
if ! command -v cargo >/dev/null 2>&1; then
  curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
fi
. "$HOME/.cargo/env"
cd /autograder/source
cargo build --release -p runner
# Build every lab's reference programs, and prove they pass here.
./target/release/runner check
"#;

const RUN_AUTOGRADER: &str = r#"#!/usr/bin/env bash
# Gradescope runs this for each submission; the submission is in
# /autograder/submission and the scores go to /autograder/results/results.json.
set -uo pipefail
. "$HOME/.cargo/env" 2>/dev/null || true
cd /autograder/source
./target/release/runner grade /autograder/submission --single --format gradescope \
  --results /autograder/results/ipc-labs > /autograder/results/results.json
"#;

/// Write the autograder zip for the project at `root` to `out`.
pub fn package(root: &Path, out: &Path) -> Result<usize, String> {
    let mut entries: Vec<(String, Vec<u8>, bool)> =
        vec![("setup.sh".into(), SETUP.into(), true), ("run_autograder".into(), RUN_AUTOGRADER.into(), true)];
    let mut files = Vec::new();
    for top in ["Cargo.toml", "Cargo.lock", "runner/Cargo.toml", "runner/src", "labs"] {
        collect(&root.join(top), &mut files);
    }
    files.sort();
    for file in files {
        let relative = file.strip_prefix(root).map_err(|_| format!("{} is outside the project", file.display()))?;
        let bytes = fs::read(&file).map_err(|err| format!("{}: {err}", file.display()))?;
        entries.push((format!("source/{}", relative.display()), bytes, false));
    }
    let count = entries.len();
    fs::write(out, zip(&entries)).map_err(|err| format!("{}: {err}", out.display()))?;
    Ok(count)
}

/// The files below `path` that the autograder needs (no build output, no
/// pending snapshots).
fn collect(path: &Path, files: &mut Vec<PathBuf>) {
    if path.is_file() {
        files.push(path.to_path_buf());
        return;
    }
    let Ok(entries) = fs::read_dir(path) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "target" || name.starts_with('.') || name.ends_with(".snap.new") {
            continue;
        }
        collect(&path, files);
    }
}

/// A zip archive of `(name, bytes, executable)` entries, stored without
/// compression: small enough for source files, and no dependency.
pub fn zip(entries: &[(String, Vec<u8>, bool)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, bytes, executable) in entries {
        let offset = out.len() as u32;
        let crc = crc32(bytes);
        let size = bytes.len() as u32;
        // Local file header: version 2.0, no flags, stored, no time.
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(bytes);
        // Central directory entry, made on Unix so the mode bits count.
        let mode: u32 = if *executable { 0o100755 } else { 0o100644 };
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&[20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
        central.extend_from_slice(&(mode << 16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let central_offset = out.len() as u32;
    let count = entries.len() as u16;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// CRC-32 (IEEE), as zip files use it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }
}
