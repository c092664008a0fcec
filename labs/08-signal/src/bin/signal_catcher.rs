//! Catch SIGINT (Ctrl-C) and SIGTERM, say which one arrived, remove what the
//! program created and exit normally.
//!
//! From seed 003, "3. 信号 （signal）" (a program catches the SIGINT of
//! Ctrl-C with a handler) and seed 004's "信号" (a process sets up a handler
//! for the signals it expects). The program creates the POSIX shared memory
//! object `/signal_catcher`, standing for anything a program must clean up,
//! then echoes the lines typed until Ctrl-D, Ctrl-C or SIGTERM; each way out
//! removes the object.
//!
//! Not done here, though many first examples do it: `printf` and `exit()`
//! inside the handler. A handler interrupts the program anywhere, perhaps
//! inside `printf`, which holds stdio's lock and a half-filled buffer: a
//! `printf` in the handler may then deadlock on that lock or garble the
//! output, and `exit()` flushes those same buffers. Here the handler only
//! writes the signal's number into a pipe (the self-pipe trick); the main
//! loop `poll`s the terminal and that pipe, and does the printing and the
//! cleaning itself. `sigaction` installs the handler: `signal()` differs
//! between systems on whether the handler stays installed and whether
//! interrupted calls resume.
//!
//! `signal_catcher --no-handler` installs no handler: Ctrl-C then kills the
//! program on the spot, and `/dev/shm/signal_catcher` is left behind.

use kit::OrDie;
use nix::fcntl::OFlag;
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::signal::Signal;
use nix::sys::stat::Mode;
use nix::unistd::{close, getpid};
use signals::{next_event, Event, SignalPipe};

const SHM: &str = "/signal_catcher";

fn main() {
    let handled = std::env::args().nth(1).as_deref() != Some("--no-handler");
    // Catch the signals before creating anything: a Ctrl-C that came in
    // between would leave the object behind.
    let pipe = handled.then(|| SignalPipe::catch(&[Signal::SIGINT, Signal::SIGTERM]));

    let flags = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR;
    let fd = shm_open(SHM, flags, Mode::S_IRUSR | Mode::S_IWUSR).or_die("shm_open");
    close(fd).or_die("close");
    println!("created /dev/shm{SHM}");
    match pipe {
        Some(_) => println!("pid {}: type lines; Ctrl-D, Ctrl-C or SIGTERM ends", getpid()),
        None => println!("pid {}: no handler, Ctrl-C or SIGTERM kills me", getpid()),
    }

    loop {
        kit::prompt("> ");
        match next_event(pipe.as_ref()) {
            Event::Line(text) => println!("echo: {text}"),
            Event::EndOfInput => {
                println!();
                println!("end of input");
                break;
            }
            Event::Signal(signal) => {
                println!();
                println!("caught {signal}");
                break;
            }
        }
    }

    shm_unlink(SHM).or_die("shm_unlink");
    println!("removed /dev/shm{SHM}");
}
