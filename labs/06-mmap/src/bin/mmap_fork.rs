//! A parent and its child share memory through an anonymous mapping.
//!
//! Goes further than seed 003's "7. 内存映射": `mmap` with `MAP_ANONYMOUS`
//! maps memory that belongs to no file, and `MAP_SHARED` keeps it shared
//! across `fork`, so what the child stores there the parent sees. No name, no
//! key, nothing to remove: the memory goes away with the last process that
//! maps it. Only related processes can share it, as with a pipe.
//!
//! `mmap_fork --private` maps with `MAP_PRIVATE` instead: after `fork` each
//! process gets its own copy of a page the moment it writes to it
//! (copy-on-write), so the parent never sees what the child stored.
//!
//! The parent prints only after `waitpid` has returned, so the child's line
//! always comes first on the terminal, and the child's stores are finished.

use std::sync::atomic::{AtomicI32, AtomicU8, Ordering};

use kit::OrDie;
use mapping::SIZE;
use nix::sys::mman::{mmap_anonymous, munmap, MapFlags, ProtFlags};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult};

const GREETING: &str = "hello from the child";

/// What parent and child share, at the start of the mapping. The atomics
/// make sure each access is a real load or store of the shared memory.
#[repr(C)]
struct Shared {
    counter: AtomicI32,
    text: [AtomicU8; 64],
}

fn main() {
    let private = std::env::args().nth(1).as_deref() == Some("--private");
    let (sharing, name) =
        if private { (MapFlags::MAP_PRIVATE, "MAP_PRIVATE") } else { (MapFlags::MAP_SHARED, "MAP_SHARED") };
    let protection = ProtFlags::PROT_READ | ProtFlags::PROT_WRITE;
    // SAFETY: the kernel chooses a new address, so no memory of ours changes.
    let map = unsafe { mmap_anonymous(None, SIZE, protection, sharing) }.or_die("mmap");
    // SAFETY: the mapping is a zero-filled page, bigger than `Shared`, and all
    // zero bytes are a valid `Shared`; it stays mapped until `munmap`, after
    // the last use of `shared`.
    let shared = unsafe { map.cast::<Shared>().as_ref() };
    println!("parent: mapped {SIZE} bytes with MAP_ANONYMOUS | {name}");
    println!("parent: counter is {} before fork", shared.counter.load(Ordering::Relaxed));

    // SAFETY: the program has a single thread, so the child may run any code.
    match unsafe { fork() }.or_die("fork") {
        ForkResult::Child => {
            shared.counter.store(42, Ordering::Relaxed);
            store_text(shared, GREETING);
            println!("child: set counter to 42 and text to {GREETING:?}");
        }
        ForkResult::Parent { child } => {
            match waitpid(child, None).or_die("waitpid") {
                WaitStatus::Exited(_, code) => println!("parent: child exited with status {code}"),
                other => println!("parent: child ended: {other:?}"),
            }
            let counter = shared.counter.load(Ordering::Relaxed);
            println!("parent: counter is {counter}, text is {:?}", load_text(shared));
        }
    }
    // SAFETY: `shared` is not used any more.
    unsafe { munmap(map, SIZE.get()) }.or_die("munmap");
}

fn store_text(shared: &Shared, text: &str) {
    for (slot, &byte) in shared.text.iter().zip(text.as_bytes()) {
        slot.store(byte, Ordering::Relaxed);
    }
}

fn load_text(shared: &Shared) -> String {
    let bytes: Vec<u8> =
        shared.text.iter().map(|slot| slot.load(Ordering::Relaxed)).take_while(|&byte| byte != 0).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}
