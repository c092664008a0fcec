//! Building a lab's reference programs with cargo, only when their sources
//! changed since the last build (a warm run does not start cargo at all).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use crate::lab::Lab;

/// Where cargo puts the lab programs. The runner builds them with its own
/// profile, so `cargo test` reuses the dependencies it already compiled.
pub fn bin_dir(root: &Path) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    target.join(if cfg!(debug_assertions) { "debug" } else { "release" })
}

/// Build the labs whose programs are missing or older than their sources.
pub fn ensure_built(root: &Path, labs: &[&Lab]) -> Result<(), String> {
    let stale: Vec<&&Lab> = labs.iter().filter(|lab| !is_fresh(root, lab)).collect();
    if stale.is_empty() {
        return Ok(());
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(root).args(["build", "--quiet", "--bins"]);
    if !cfg!(debug_assertions) {
        command.arg("--release");
    }
    for lab in &stale {
        command.args(["-p", &lab.package()]);
    }
    let output = command.output().map_err(|err| format!("cannot run cargo: {err}"))?;
    if !output.status.success() {
        let names: Vec<String> = stale.iter().map(|lab| lab.name()).collect();
        return Err(format!(
            "building {} failed:\n{}",
            names.join(", "),
            String::from_utf8_lossy(&output.stderr).trim_end()
        ));
    }
    Ok(())
}

/// Every party's program exists and is newer than everything it is built from.
fn is_fresh(root: &Path, lab: &Lab) -> bool {
    let dir = bin_dir(root);
    let oldest_binary = lab
        .parties
        .values()
        .filter_map(|party| party.bin())
        .map(|bin| modified(&dir.join(bin)))
        .try_fold(SystemTime::now(), |oldest, time| time.map(|time| oldest.min(time)));
    let Some(oldest_binary) = oldest_binary else { return false };
    let sources = [
        root.join("Cargo.toml"),
        root.join("Cargo.lock"),
        lab.dir.join("Cargo.toml"),
        lab.dir.join("src"),
        root.join("labs/kit"),
    ];
    sources.iter().all(|source| newest(source).is_none_or(|time| time <= oldest_binary))
}

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|meta| meta.modified()).ok()
}

/// The newest modification time of a file, or of anything below a folder.
fn newest(path: &Path) -> Option<SystemTime> {
    let own = modified(path);
    let Ok(entries) = fs::read_dir(path) else { return own };
    entries.flatten().filter_map(|entry| newest(&entry.path())).chain(own).max()
}
