//! Two threads take turns in a critical section guarded by an unnamed
//! POSIX semaphore.
//!
//! From seed 003, "信号量用于线程同步". `sem_init(&mutex, 0, 1)` sets up an
//! unnamed semaphore with the value 1; `pshared` 0 means it is shared by the
//! threads of this process only (between processes it would have to lie in
//! shared memory, with `pshared` 1). Each thread does `sem_wait`, prints
//! "Entered..", works, prints "Just Exiting..." and does `sem_post`. The
//! second thread's `sem_wait` waits until the first posts, so the two pairs
//! of lines never mix, whichever thread goes first.
//!
//! Changed: the seed sleeps 4 s in the critical section, and 2 s between
//! creating the threads so that the first one is surely inside. Here the
//! work is real: each thread adds 1 to a shared counter many times, with
//! plain reads and writes that only the semaphore keeps apart, and the total
//! shows that no addition was lost. No sleep is needed: which thread goes
//! first does not change what is printed. The seed's blank lines
//! (`"\nEntered..\n"`) are left out, and `sem_destroy` is checked.

use std::cell::UnsafeCell;
use std::thread;

use kit::OrDie;
use sem::UnnamedSemaphore;

/// How many times each thread adds 1.
const TIMES: u64 = 100_000;

/// A number the threads change only while they hold the semaphore.
struct Counter(UnsafeCell<u64>);

// SAFETY: the threads touch the value only between sem_wait and sem_post, so
// one at a time.
unsafe impl Sync for Counter {}

fn main() {
    let mutex = UnnamedSemaphore::init(1).or_die("sem_init");
    let counter = Counter(UnsafeCell::new(0));

    thread::scope(|scope| {
        for _ in 0..2 {
            thread::Builder::new().spawn_scoped(scope, || worker(&mutex, &counter)).or_die("pthread_create");
        }
    });

    mutex.destroy().or_die("sem_destroy");
    println!("counter = {}, expected {}", counter.0.into_inner(), 2 * TIMES);
}

fn worker(mutex: &UnnamedSemaphore, counter: &Counter) {
    mutex.wait().or_die("sem_wait");
    println!("Entered..");
    for _ in 0..TIMES {
        // SAFETY: this thread holds the semaphore: no other thread touches
        // the counter until the sem_post below.
        unsafe { *counter.0.get() += 1 };
    }
    println!("Just Exiting...");
    mutex.post().or_die("sem_post");
}
