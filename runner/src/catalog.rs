//! Where the labs are, and which lab a student means by `2`, `02`, `fifo` or
//! `02-fifo`.

use std::fs;
use std::path::{Path, PathBuf};

/// The project folder (the cargo workspace holding `labs/`) and its labs.
pub struct Catalog {
    pub root: PathBuf,
    /// Lab folders (`labs/NN-slug`), in order.
    pub labs: Vec<PathBuf>,
}

impl Catalog {
    /// The labs under `root`, else under the first folder upwards from the
    /// current one that has `labs/`, else where the runner was built from.
    pub fn find(root: Option<&Path>) -> Result<Catalog, String> {
        let root = match root {
            Some(root) => root.to_path_buf(),
            None => std::env::current_dir()
                .ok()
                .and_then(|cwd| cwd.ancestors().find(|dir| is_project(dir)).map(Path::to_path_buf))
                .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("..")),
        };
        let root = root.canonicalize().map_err(|err| format!("{}: {err}", root.display()))?;
        if !is_project(&root) {
            return Err(format!("{} holds no labs/ folder with labs in it", root.display()));
        }
        let mut labs: Vec<PathBuf> = fs::read_dir(root.join("labs"))
            .map_err(|err| format!("{}: {err}", root.join("labs").display()))?
            .flatten()
            .map(|entry| entry.path())
            .filter(|dir| dir.join("lab.toml").is_file() && split_name(dir).is_some())
            .collect();
        labs.sort();
        Ok(Catalog { root, labs })
    }

    /// The folder of the lab `query` names, or a message that suggests the
    /// nearest one.
    pub fn resolve(&self, query: &str) -> Result<&Path, String> {
        let wanted = query.trim().to_ascii_lowercase();
        let number: Option<u32> = wanted.parse().ok();
        let found = self.labs.iter().find(|dir| {
            let (id, slug) = split_name(dir).expect("catalog keeps NN-slug folders");
            let name = format!("{id}-{slug}");
            wanted == name || wanted == slug || wanted == id || number.is_some_and(|n| id.parse() == Ok(n))
        });
        if let Some(dir) = found {
            return Ok(dir);
        }
        let names: Vec<String> = self.labs.iter().map(|dir| dir_name(dir)).collect();
        let mut message = format!("there is no lab {query:?}");
        if let Some(nearest) = self.nearest(&wanted, number) {
            message.push_str(&format!("; did you mean {nearest}?"));
        }
        message.push_str(&format!(" (labs: {})", names.join(", ")));
        Err(message)
    }

    fn nearest(&self, wanted: &str, number: Option<u32>) -> Option<String> {
        let scored = self.labs.iter().map(|dir| {
            let (id, slug) = split_name(dir).expect("catalog keeps NN-slug folders");
            let distance = match number {
                Some(n) => id.parse::<u32>().map_or(usize::MAX, |id| id.abs_diff(n) as usize),
                None => strsim::levenshtein(wanted, &slug).min(strsim::levenshtein(wanted, &dir_name(dir))),
            };
            (distance, dir_name(dir))
        });
        scored.min_by_key(|(distance, _)| *distance).map(|(_, name)| name)
    }
}

fn is_project(dir: &Path) -> bool {
    dir.join("Cargo.toml").is_file() && dir.join("labs").is_dir()
}

fn dir_name(dir: &Path) -> String {
    dir.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()
}

/// `labs/02-fifo` → ("02", "fifo").
fn split_name(dir: &Path) -> Option<(String, String)> {
    let name = dir_name(dir);
    let (id, slug) = name.split_once('-')?;
    (id.len() == 2 && id.chars().all(|c| c.is_ascii_digit()) && !slug.is_empty())
        .then(|| (id.to_string(), slug.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> (tempfile::TempDir, Catalog) {
        let root = tempfile::tempdir().unwrap();
        fs::write(root.path().join("Cargo.toml"), "").unwrap();
        for name in ["01-pipe", "02-fifo", "03-shm", "kit"] {
            let dir = root.path().join("labs").join(name);
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join("lab.toml"), "").unwrap();
        }
        let catalog = Catalog::find(Some(root.path())).unwrap();
        (root, catalog)
    }

    #[test]
    fn ids_slugs_and_names_all_resolve() {
        let (_root, catalog) = catalog();
        assert_eq!(catalog.labs.len(), 3, "kit is not a lab");
        for query in ["2", "02", "fifo", "02-fifo", "FIFO"] {
            assert!(catalog.resolve(query).unwrap().ends_with("labs/02-fifo"), "{query}");
        }
    }

    #[test]
    fn unknown_lab_suggests_the_nearest() {
        let (_root, catalog) = catalog();
        let error = catalog.resolve("99").unwrap_err();
        assert_eq!(error, "there is no lab \"99\"; did you mean 03-shm? (labs: 01-pipe, 02-fifo, 03-shm)");
        let error = catalog.resolve("fifi").unwrap_err();
        assert!(error.contains("did you mean 02-fifo?"), "{error}");
    }
}
