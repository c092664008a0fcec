//! Attaches an existing segment by its id, and shows `ipcs -m` while attached
//! and after detaching: the `nattch` column counts the processes attached.
//!
//! From seed 002, the shared memory program (`shm_attach SHMID`): `shmat` by
//! the id given on the command line, `system("ipcs -m")`, `shmdt`, and
//! `ipcs -m` again. No key is needed: whoever knows the id, and has the
//! permission, can attach.
//!
//! Fixed: the seed tested `shmat(...) < (char *)0`, but shmat fails with
//! `(void *) -1`, an address no pointer compares below zero: a bad id went
//! unnoticed until `shmdt` failed. Here the error is checked and named. The
//! seed's `sleep(3)` between the two `ipcs` is gone: nothing waits for it.
//! Of `ipcs -m` only the header and this segment's line are shown, so that
//! the other segments of the machine do not change what is printed.

use std::process::Command;

use kit::sysv;
use kit::OrDie;
use libc::c_int;

fn main() {
    let shmid = shmid_argument();
    let address = sysv::shmat(shmid).or_die("shmat");
    println!("segment attached at {address:p}");
    ipcs(shmid);
    // SAFETY: nothing touches the segment after this.
    unsafe { sysv::shmdt(address) }.or_die("shmdt");
    println!("Segment detached");
    ipcs(shmid);
}

fn shmid_argument() -> c_int {
    let args: Vec<String> = std::env::args().collect();
    match args.as_slice() {
        [_, shmid] => shmid.parse().unwrap_or_else(|_| kit::die("shm_attach", format!("{shmid:?} is not a shmid"))),
        _ => {
            eprintln!("usage: shm_attach SHMID   (the shmid column of 'ipcs -m')");
            std::process::exit(2);
        }
    }
}

/// `ipcs -m`, its header and the line of segment `shmid`.
fn ipcs(shmid: c_int) {
    let output = Command::new("ipcs").arg("-m").output().or_die("ipcs");
    if !output.status.success() {
        kit::die("ipcs", output.status);
    }
    let shmid = shmid.to_string();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let segment = line.starts_with("0x");
        if !segment || line.split_whitespace().nth(1) == Some(shmid.as_str()) {
            println!("{line}");
        }
    }
}
