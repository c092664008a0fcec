//! The host's own IPC objects, for `runner leaks` and `runner clean`: what
//! `ipcs` and `lsipc` show, plus `/dev/shm` and `/dev/mqueue`, with owners.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::inventory::{self, Object, Places};

/// Every IPC object on the host, with its owner's name.
pub fn objects() -> Vec<(Object, String)> {
    let users = user_names();
    inventory::ipc_objects(&Places::host())
        .into_iter()
        .map(|object| {
            let owner = users.get(&object.uid).cloned().unwrap_or_else(|| object.uid.to_string());
            (object, owner)
        })
        .collect()
}

/// A table of objects, one a line, each with the command that removes it.
pub fn table(objects: &[(Object, String)]) -> String {
    let mut out = String::new();
    let header = ["kind", "name", "id", "owner", "mode", "creator"];
    let _ = writeln!(
        out,
        "{:<32} {:<18} {:>6} {:<10} {:<5} {:>7}  remove with",
        header[0], header[1], header[2], header[3], header[4], header[5]
    );
    for (object, owner) in objects {
        let id = object.id.map(|id| id.to_string()).unwrap_or_else(|| "-".to_string());
        let creator = object.creator_pid.map(|pid| pid.to_string()).unwrap_or_else(|| "-".to_string());
        let _ = writeln!(
            out,
            "{:<32} {:<18} {id:>6} {owner:<10} {:03o}   {creator:>7}  {}",
            object.kind.describe(),
            object.name,
            object.mode,
            object.removal()
        );
    }
    out
}

/// uid → user name, from /etc/passwd.
fn user_names() -> BTreeMap<u32, String> {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            Some((fields.get(2)?.parse().ok()?, fields.first()?.to_string()))
        })
        .collect()
}
