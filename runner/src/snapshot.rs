//! Expected transcripts, stored as insta `.snap` files in a lab's
//! `snapshots/` folder: `<scenario>__<party>.snap`.
//!
//! The runner reads and writes them itself; `cargo test` asserts the same files
//! through insta, and `cargo insta review` walks the `.snap.new` files the
//! runner writes on a mismatch.

use std::fs;
use std::path::{Path, PathBuf};

use similar::{ChangeTag, TextDiff};

/// The test that asserts these snapshots through insta; insta records it in
/// each file's header, and so does the runner, so both write the same file.
pub const SOURCE: &str = "runner/tests/labs.rs";

pub struct Snapshot {
    pub path: PathBuf,
}

impl Snapshot {
    /// The lab's own snapshot of one party in one scenario.
    pub fn of(lab_dir: &Path, scenario: &str, party: &str) -> Snapshot {
        Snapshot::in_folder(&lab_dir.join("snapshots"), scenario, party)
    }

    pub fn in_folder(folder: &Path, scenario: &str, party: &str) -> Snapshot {
        Snapshot { path: folder.join(format!("{}.snap", name(scenario, party))) }
    }

    /// The pending snapshot insta's review looks for.
    pub fn pending_path(&self) -> PathBuf {
        let mut path = self.path.clone().into_os_string();
        path.push(".new");
        PathBuf::from(path)
    }

    /// The expected transcript, or None when there is no snapshot yet.
    pub fn expected(&self) -> Result<Option<String>, String> {
        match fs::read_to_string(&self.path) {
            Ok(text) => contents(&text)
                .map(|body| Some(body.trim_end().to_string()))
                .ok_or_else(|| format!("{}: not an insta snapshot (no `---` header)", self.path.display())),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(format!("{}: {err}", self.path.display())),
        }
    }

    /// Store `transcript` as the expected one and drop any pending snapshot.
    pub fn accept(&self, transcript: &str, description: &str) -> Result<(), String> {
        write(&self.path, transcript, description)?;
        let _ = fs::remove_file(self.pending_path());
        Ok(())
    }

    /// Leave `transcript` as a pending snapshot for review.
    pub fn propose(&self, transcript: &str, description: &str) -> Result<PathBuf, String> {
        let pending = self.pending_path();
        write(&pending, transcript, description)?;
        Ok(pending)
    }

    /// Remove a pending snapshot left by an earlier mismatch.
    pub fn clear_pending(&self) {
        let _ = fs::remove_file(self.pending_path());
    }
}

/// The body of the snapshot file at `path`.
pub fn read_body(path: &Path) -> Option<String> {
    let text = fs::read_to_string(path).ok()?;
    contents(&text).map(|body| body.trim_end().to_string())
}

/// Every pending snapshot (`.snap.new`) below `dir`, in order.
pub fn pending_below(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else { return found };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(pending_below(&path));
        } else if path.to_string_lossy().ends_with(".snap.new") {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// The snapshot name of one party in one scenario.
pub fn name(scenario: &str, party: &str) -> String {
    format!("{scenario}__{party}")
}

/// What a snapshot's header says about it.
pub fn description(lab: &str, scenario: &str, party: &str) -> String {
    format!("lab {lab}, scenario {scenario}: what {party}'s terminal shows")
}

fn write(path: &Path, transcript: &str, description: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|err| format!("mkdir {}: {err}", dir.display()))?;
    }
    let text = format!("---\nsource: {SOURCE}\ndescription: \"{description}\"\n---\n{}\n", transcript.trim_end());
    fs::write(path, text).map_err(|err| format!("{}: {err}", path.display()))
}

/// The body of a snapshot file: what follows the `---` header.
fn contents(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("---\n")?;
    let end = rest.find("\n---\n")?;
    Some(&rest[end + 5..])
}

/// A unified diff from `expected` to `actual`, three lines of context.
pub fn diff(expected: &str, actual: &str, expected_name: &str) -> String {
    let diff = TextDiff::from_lines(expected, actual);
    let mut out = format!("--- expected ({expected_name})\n+++ actual\n");
    for group in diff.grouped_ops(3) {
        let (first, last) = (&group[0], &group[group.len() - 1]);
        let old = first.old_range().start..last.old_range().end;
        let new = first.new_range().start..last.new_range().end;
        out.push_str(&format!("@@ -{},{} +{},{} @@\n", old.start + 1, old.len(), new.start + 1, new.len()));
        for op in group {
            for change in diff.iter_changes(&op) {
                let sign = match change.tag() {
                    ChangeTag::Equal => ' ',
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                };
                out.push(sign);
                out.push_str(change.to_string_lossy().trim_end_matches('\n'));
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_snapshot_reads_back_and_clears_the_pending_one() {
        let dir = tempfile::tempdir().unwrap();
        let snapshot = Snapshot::of(dir.path(), "seed000", "client");
        assert_eq!(snapshot.expected().unwrap(), None);
        snapshot.propose("draft", "d").unwrap();
        assert!(snapshot.pending_path().ends_with("snapshots/seed000__client.snap.new"));
        snapshot.accept(" | [TIME] | Debug\n[exit 0]\n", "d").unwrap();
        assert_eq!(snapshot.expected().unwrap().as_deref(), Some(" | [TIME] | Debug\n[exit 0]"));
        assert!(!snapshot.pending_path().exists());
    }

    #[test]
    fn diff_marks_removed_and_added_lines() {
        let diff = diff("a\nb\nc\n", "a\nB\nc\n", "x.snap");
        assert!(diff.contains("-b\n") && diff.contains("+B\n") && diff.contains(" a\n"), "{diff}");
    }
}
