//! The threads that compute password hashes.
//!
//! `max_concurrent_hashes` threads, started with the hasher and stopped when it is dropped.
//! Each keeps its own Argon2 working memory, allocated at its first hash and reused, so the
//! process holds at most one buffer per thread and no hash page-faults its memory in afresh.
//! On Linux they run at a lower priority (`password.hash_thread_nice`, default 10): in a login
//! storm the CPU goes to cheap requests first, and hashing takes what is left.
//!
//! A job carries the slot (semaphore permit) its requester took, and gives it back only when
//! it has run or been skipped: a requester that goes away (the client closed the connection)
//! does not free a slot while its hash still occupies a thread. A job whose requester is gone
//! by the time a thread takes it is skipped, not computed. The queue holds at most one job
//! per thread, which the slots already guarantee; it is bounded all the same.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, PoisonError};

use argon2::{Argon2, Block};
use tokio::sync::OwnedSemaphorePermit;

use super::PasswordError;

type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// What the hashing threads have done since they started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HashStats {
    /// Hashes computed.
    pub computed: u64,
    /// Hashes skipped because their requester had gone away before a thread took them.
    pub abandoned: u64,
}

#[derive(Debug, Default)]
struct Counters {
    computed: AtomicU64,
    abandoned: AtomicU64,
}

/// A hashing thread's Argon2 working memory.
pub(super) struct Memory {
    /// Blocks of the configured parameters; hashes with other parameters (older stored
    /// hashes) get a buffer of their own for the one use.
    standard: usize,
    blocks: Vec<Block>,
}

impl Memory {
    /// Runs Argon2 over `blocks` blocks of memory into `out`.
    pub(super) fn hash_into(
        &mut self,
        argon2: &Argon2<'_>,
        blocks: usize,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> Result<(), PasswordError> {
        let mut own;
        let memory = if blocks == self.standard {
            if self.blocks.len() != blocks {
                self.blocks = vec![Block::default(); blocks];
            }
            &mut self.blocks
        } else {
            own = vec![Block::default(); blocks];
            &mut own
        };
        argon2
            .hash_password_into_with_memory(password, salt, out, memory)
            .map_err(|e| PasswordError::Hashing(e.to_string()))
    }
}

/// The hashing threads; dropping this stops them.
pub(super) struct HashThreads {
    jobs: mpsc::SyncSender<Job>,
    counters: Arc<Counters>,
}

impl HashThreads {
    /// Starts `count` threads whose memory fits `standard` blocks, at `nice` on Linux.
    pub(super) fn start(count: usize, standard: usize, nice: i32) -> Result<Self, PasswordError> {
        // One place per thread: a job enters only with a slot, and there are as many slots as
        // threads, so a send never finds the queue full.
        let (jobs, queue) = mpsc::sync_channel::<Job>(count);
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..count {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("auth-hash-{i}"))
                .spawn(move || {
                    lower_priority(nice);
                    let mut memory = Memory {
                        standard,
                        blocks: Vec::new(),
                    };
                    loop {
                        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        let Ok(job) = job else {
                            return; // the hasher was dropped
                        };
                        // A panicking job fails its own request (its result is dropped), not
                        // the thread.
                        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut memory)));
                    }
                })
                .map_err(|e| {
                    PasswordError::Hashing(format!("cannot start a hashing thread: {e}"))
                })?;
        }
        Ok(Self {
            jobs,
            counters: Arc::default(),
        })
    }

    /// Runs `work` on a hashing thread, holding `slot` until it has run (or been skipped
    /// because the caller went away meanwhile).
    pub(super) async fn run<T: Send + 'static>(
        &self,
        slot: OwnedSemaphorePermit,
        work: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let counters = Arc::clone(&self.counters);
        let job: Job = Box::new(move |memory| {
            // Released when the job ends, however it ends (a panic included).
            let _slot = slot;
            if done.is_closed() {
                counters.abandoned.fetch_add(1, Ordering::Relaxed);
                return;
            }
            counters.computed.fetch_add(1, Ordering::Relaxed);
            let _ = done.send(work(memory));
        });
        self.jobs.try_send(job).map_err(|e| match e {
            mpsc::TrySendError::Full(_) => PasswordError::Busy,
            mpsc::TrySendError::Disconnected(_) => {
                PasswordError::Hashing("the hashing threads stopped".to_owned())
            }
        })?;
        result
            .await
            .map_err(|_| PasswordError::Hashing("a hashing thread failed".to_owned()))
    }

    /// What the threads have done so far.
    pub(super) fn stats(&self) -> HashStats {
        HashStats {
            computed: self.counters.computed.load(Ordering::Relaxed),
            abandoned: self.counters.abandoned.load(Ordering::Relaxed),
        }
    }
}

#[cfg(target_os = "linux")]
fn lower_priority(nice: i32) {
    if nice == 0 {
        return;
    }
    // On Linux, PRIO_PROCESS with a thread id sets that thread's nice value only.
    if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), nice) {
        tracing::warn!(error = %e, nice, "cannot lower the priority of a password hashing thread");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority(_nice: i32) {}
