//! Listing the IPC objects and processes a run may leave behind, saying how a
//! person would remove each one, and removing them.
//!
//! System V objects come from `/proc/sysvipc/{shm,msg,sem}` (which show the
//! IPC namespace of the process reading them), POSIX shared memory and named
//! semaphores from the `/dev/shm` folder, POSIX message queues from an mqueue
//! file system, FIFO and socket files from the run's working directory.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    SysvShm,
    SysvMsg,
    SysvSem,
    PosixShm,
    PosixSem,
    PosixMq,
    Fifo,
    Socket,
    Process,
}

impl Kind {
    pub fn describe(self) -> &'static str {
        match self {
            Kind::SysvShm => "System V shared memory segment",
            Kind::SysvMsg => "System V message queue",
            Kind::SysvSem => "System V semaphore set",
            Kind::PosixShm => "POSIX shared memory object",
            Kind::PosixSem => "POSIX named semaphore",
            Kind::PosixMq => "POSIX message queue",
            Kind::Fifo => "FIFO file",
            Kind::Socket => "socket file",
            Kind::Process => "process",
        }
    }
}

/// One thing that exists now and may outlive the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Object {
    pub kind: Kind,
    /// The key (`0x1401000a`), name (`/dev/shm/sem.lock`), path, or command line.
    pub name: String,
    /// shmid, msqid, semid or pid.
    pub id: Option<i64>,
    /// Permission bits, as `ipcs` shows them (e.g. 0o666).
    pub mode: u32,
    pub uid: u32,
    /// The process that created it, where the kernel records one.
    pub creator_pid: Option<i32>,
    /// Size in bytes, messages queued, semaphores in the set...
    pub detail: String,
    /// Where a file-like object is, as the runner sees it.
    #[serde(default)]
    pub path: Option<PathBuf>,
}

impl Object {
    /// The command that removes the object on a normal machine.
    pub fn removal(&self) -> String {
        let id = self.id.unwrap_or(-1);
        match self.kind {
            Kind::SysvShm => format!("ipcrm -m {id}"),
            Kind::SysvMsg => format!("ipcrm -q {id}"),
            Kind::SysvSem => format!("ipcrm -s {id}"),
            Kind::PosixShm | Kind::PosixSem | Kind::PosixMq | Kind::Fifo | Kind::Socket => {
                format!("rm {}", self.name)
            }
            Kind::Process => format!("kill {id}"),
        }
    }

    /// Same object, whatever changed in it (size, attach count...).
    pub fn identity(&self) -> (Kind, String, Option<i64>) {
        (self.kind, self.name.clone(), self.id)
    }
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.describe(), self.name)?;
        if let Some(id) = self.id {
            let label = if self.kind == Kind::Process { "pid" } else { "id" };
            write!(f, " ({label} {id})")?;
        }
        if self.kind != Kind::Process {
            write!(f, ", mode {:03o}", self.mode)?;
        }
        if !self.detail.is_empty() {
            write!(f, ", {}", self.detail)?;
        }
        Ok(())
    }
}

/// Where to look for objects.
#[derive(Debug, Clone)]
pub struct Places {
    pub proc_dir: PathBuf,
    pub shm_dir: PathBuf,
    /// A mounted mqueue file system, where there is one.
    pub mqueue_dir: Option<PathBuf>,
    /// The run's working directory, searched for FIFO and socket files.
    pub workdir: Option<PathBuf>,
}

impl Places {
    pub fn host() -> Places {
        Places {
            proc_dir: PathBuf::from("/proc"),
            shm_dir: PathBuf::from("/dev/shm"),
            mqueue_dir: Some(PathBuf::from("/dev/mqueue")).filter(|dir| dir.is_dir()),
            workdir: None,
        }
    }
}

/// Every IPC object found in `places`.
pub fn ipc_objects(places: &Places) -> Vec<Object> {
    let mut objects = Vec::new();
    let sysvipc = places.proc_dir.join("sysvipc");
    objects.extend(sysv_table(&sysvipc.join("shm"), Kind::SysvShm, "shmid", "cpid", |row| {
        format!(
            "{} bytes, {} attached",
            row.get("size").map_or("?", String::as_str),
            row.get("nattch").map_or("?", String::as_str)
        )
    }));
    objects.extend(sysv_table(&sysvipc.join("msg"), Kind::SysvMsg, "msqid", "", |row| {
        format!("{} messages", row.get("qnum").map_or("?", String::as_str))
    }));
    objects.extend(sysv_table(&sysvipc.join("sem"), Kind::SysvSem, "semid", "", |row| {
        format!("{} semaphores", row.get("nsems").map_or("?", String::as_str))
    }));
    objects.extend(files_in(&places.shm_dir, |path, meta| {
        let name = path.file_name()?.to_string_lossy().into_owned();
        let kind = if name.starts_with("sem.") { Kind::PosixSem } else { Kind::PosixShm };
        Some((kind, format!("{} bytes", meta.len())))
    }));
    if let Some(dir) = &places.mqueue_dir {
        // Named as on a normal machine, where the mqueue file system is mounted
        // on /dev/mqueue, wherever the sandbox mounted its own.
        let queues = files_in(dir, |_, _| Some((Kind::PosixMq, String::new())));
        objects
            .extend(queues.into_iter().map(|queue| Object { name: renamed(&queue.name, dir, "/dev/mqueue"), ..queue }));
    }
    if let Some(dir) = &places.workdir {
        let relative = files_in(dir, |_, meta| {
            let file_type = meta.file_type();
            if file_type.is_fifo() {
                Some((Kind::Fifo, String::new()))
            } else if file_type.is_socket() {
                Some((Kind::Socket, String::new()))
            } else {
                None
            }
        });
        // Name files as the parties do: relative to their working directory.
        objects.extend(relative.into_iter().map(|object| Object { name: renamed(&object.name, dir, ""), ..object }));
    }
    objects
}

/// `path`, moved from below `from` to below `to`.
fn renamed(path: &str, from: &Path, to: &str) -> String {
    match Path::new(path).strip_prefix(from) {
        Ok(rest) => Path::new(to).join(rest).display().to_string(),
        Err(_) => path.to_string(),
    }
}

/// A `/proc/sysvipc` table: a header line naming the columns, a row an object.
fn sysv_table(
    file: &Path,
    kind: Kind,
    id_column: &str,
    creator_column: &str,
    detail: impl Fn(&BTreeMap<String, String>) -> String,
) -> Vec<Object> {
    let Ok(text) = fs::read_to_string(file) else { return Vec::new() };
    let mut lines = text.lines();
    let Some(header) = lines.next() else { return Vec::new() };
    let columns: Vec<&str> = header.split_whitespace().collect();
    lines
        .filter_map(|line| {
            let row: BTreeMap<String, String> = columns
                .iter()
                .zip(line.split_whitespace())
                .map(|(column, value)| (column.to_string(), value.to_string()))
                .collect();
            let key: i64 = row.get("key")?.parse().ok()?;
            let name = match key {
                0 => "key IPC_PRIVATE".to_string(),
                key => format!("key {:#010x}", key as u32),
            };
            Some(Object {
                kind,
                name,
                id: row.get(id_column)?.parse().ok(),
                // The kernel prints the permission bits in octal.
                mode: u32::from_str_radix(row.get("perms")?, 8).ok()? & 0o777,
                uid: row.get("uid")?.parse().ok()?,
                creator_pid: row.get(creator_column).and_then(|pid| pid.parse().ok()).filter(|pid| *pid > 0),
                detail: detail(&row),
                path: None,
            })
        })
        .collect()
}

/// Files below `dir` that `classify` keeps, with their kind and detail.
fn files_in(dir: &Path, classify: impl Fn(&Path, &fs::Metadata) -> Option<(Kind, String)> + Copy) -> Vec<Object> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let mut objects = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = fs::symlink_metadata(&path) else { continue };
        if meta.is_dir() {
            objects.extend(files_in(&path, classify));
        } else if let Some((kind, detail)) = classify(&path, &meta) {
            objects.push(Object {
                kind,
                name: path.display().to_string(),
                id: None,
                mode: meta.mode() & 0o777,
                uid: meta.uid(),
                creator_pid: None,
                detail,
                path: Some(path.clone()),
            });
        }
    }
    objects.sort_by(|a, b| a.name.cmp(&b.name));
    objects
}

/// One process, as `/proc/PID/stat` tells it.
#[derive(Debug, Clone)]
pub struct ProcessInfo {
    pub pid: i32,
    pub ppid: i32,
    pub session: i32,
    pub state: char,
    pub command: String,
}

/// Every process visible in `proc_dir`.
pub fn processes(proc_dir: &Path) -> Vec<ProcessInfo> {
    let Ok(entries) = fs::read_dir(proc_dir) else { return Vec::new() };
    let mut found: Vec<ProcessInfo> = entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| process(proc_dir, pid))
        .collect();
    found.sort_by_key(|process| process.pid);
    found
}

fn process(proc_dir: &Path, pid: i32) -> Option<ProcessInfo> {
    let stat = fs::read_to_string(proc_dir.join(pid.to_string()).join("stat")).ok()?;
    // The command name is in parentheses and may hold spaces or parentheses.
    let close = stat.rfind(')')?;
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    let cmdline = fs::read(proc_dir.join(pid.to_string()).join("cmdline")).unwrap_or_default();
    let command = String::from_utf8_lossy(&cmdline).replace('\0', " ").trim().to_string();
    let command = if command.is_empty() { stat[stat.find('(')? + 1..close].to_string() } else { command };
    Some(ProcessInfo {
        pid,
        state: fields.first()?.chars().next()?,
        ppid: fields.get(1)?.parse().ok()?,
        session: fields.get(3)?.parse().ok()?,
        command,
    })
}

/// `pid` is alive and does not descend from `ancestor`.
pub fn is_outsider(proc_dir: &Path, pid: i32, ancestor: i32) -> bool {
    let mut current = pid;
    // A parent chain is short; the bound only guards against a malformed one.
    for _ in 0..64 {
        if current == ancestor {
            return false;
        }
        match process(proc_dir, current) {
            Some(info) if info.ppid > 0 => current = info.ppid,
            Some(_) => return true,
            None => return current != pid,
        }
    }
    true
}

impl ProcessInfo {
    pub fn as_object(&self) -> Object {
        Object {
            kind: Kind::Process,
            name: self.command.clone(),
            id: Some(self.pid as i64),
            mode: 0,
            uid: 0,
            creator_pid: Some(self.ppid),
            detail: String::new(),
            path: None,
        }
    }
}

/// Remove one object, as the command from [`Object::removal`] would.
pub fn remove(object: &Object) -> Result<(), String> {
    let id = object.id.unwrap_or(-1) as libc::c_int;
    // SAFETY: IPC_RMID takes no buffer; a stale id only makes the call fail.
    let removed = match object.kind {
        Kind::SysvShm => unsafe { libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()) },
        Kind::SysvMsg => unsafe { libc::msgctl(id, libc::IPC_RMID, std::ptr::null_mut()) },
        Kind::SysvSem => unsafe { libc::semctl(id, 0, libc::IPC_RMID) },
        Kind::PosixShm | Kind::PosixSem | Kind::PosixMq | Kind::Fifo | Kind::Socket => {
            let path = object.path.clone().unwrap_or_else(|| PathBuf::from(&object.name));
            return fs::remove_file(&path).map_err(|err| format!("rm {}: {err}", path.display()));
        }
        Kind::Process => {
            let pid = nix::unistd::Pid::from_raw(id);
            return nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL)
                .map_err(|err| format!("kill {id}: {err}"));
        }
    };
    if removed == -1 {
        return Err(format!("{}: {}", object.removal(), nix::errno::Errno::last()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sysvipc_table_becomes_objects() {
        let dir = tempfile::tempdir().unwrap();
        let table = "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n\
                     335609866         15   666                  4096  4242  4243      0  1000  1000  1000  1000          0          0 1678000000                     0                     0\n";
        fs::write(dir.path().join("shm"), table).unwrap();
        let objects = sysv_table(&dir.path().join("shm"), Kind::SysvShm, "shmid", "cpid", |_| String::new());
        assert_eq!(objects.len(), 1);
        let shm = &objects[0];
        assert_eq!(shm.name, "key 0x1401000a");
        assert_eq!((shm.id, shm.mode, shm.creator_pid), (Some(15), 0o666, Some(4242)));
        assert_eq!(shm.to_string(), "System V shared memory segment key 0x1401000a (id 15), mode 666");
        assert_eq!(shm.removal(), "ipcrm -m 15");
    }
}
