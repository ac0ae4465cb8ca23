//! Group commit for SQLite: concurrent write transactions share one `COMMIT` and so one fsync.
//!
//! SQLite has one writer at a time and, with `synchronous=FULL`, every commit waits for the disk
//! (about 2 ms here). Writers therefore queue on one connection, and each runs inside the open
//! transaction of a *batch* as a savepoint: its own failure rolls back only its savepoint, its
//! success releases the savepoint. It then goes back to the end of the queue (the lock is fair,
//! first come first served) and, at the same time, listens for the batch's outcome. The first
//! member whose turn comes again finds that every writer that was waiting has had its turn, and
//! commits the whole batch at once; the others hear the outcome of that one commit and leave the
//! queue without taking the connection again (a hand-over each would keep the connection idle
//! while the scheduler gets round to them). A write is acknowledged only after the commit that
//! holds it has returned, so durability is exactly that of one transaction per write; a failed
//! batch commit fails every write in it.
//!
//! Alone, a writer pays one extra hand-over of the lock and nothing else.
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use std::path::PathBuf;

use rusqlite::Connection;
use tokio::sync::{Mutex, Notify, OwnedMutexGuard};

use crate::StoreError;

/// The connection that writes, and the batch it has open.
pub struct Writer {
    /// Away only while a commit waits for the disk on the blocking pool (the lock is held then).
    conn: Option<Connection>,
    path: PathBuf,
    batch: Option<Arc<Batch>>,
    /// A session ended without committing: its savepoint is still open and must be rolled back
    /// before the connection does anything else.
    abandoned: bool,
}

/// One open transaction shared by several writes.
#[derive(Default)]
pub struct Batch {
    /// Writes released into the batch and waiting for its commit.
    members: AtomicUsize,
    /// The outcome of the batch's commit, set once (an error as text: every member reports it).
    outcome: OnceLock<Result<(), String>>,
    /// Woken when `outcome` is set.
    decided: Notify,
}

impl Batch {
    fn decide(&self, outcome: Result<(), String>) {
        let _ = self.outcome.set(outcome);
        self.decided.notify_waiters();
    }
}

/// The queue of writers on the writing connection.
#[derive(Clone)]
pub struct GroupCommit {
    writer: Arc<Mutex<Writer>>,
    stats: Arc<Counters>,
}

#[derive(Default)]
struct Counters {
    writes: AtomicU64,
    commits: AtomicU64,
}

/// How many writes were made durable, and by how many commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitStats {
    pub writes: u64,
    pub commits: u64,
}

/// One write in progress: its savepoint is open on the writing connection.
pub struct WriteTurn {
    guard: Option<OwnedMutexGuard<Writer>>,
    queue: GroupCommit,
}

impl GroupCommit {
    pub fn new(path: PathBuf) -> Result<Self, StoreError> {
        let conn = Some(crate::lite::open(&path)?);
        Ok(Self {
            writer: Arc::new(Mutex::new(Writer { conn, path, batch: None, abandoned: false })),
            stats: Arc::default(),
        })
    }

    pub fn stats(&self) -> CommitStats {
        CommitStats {
            writes: self.stats.writes.load(Ordering::Relaxed),
            commits: self.stats.commits.load(Ordering::Relaxed),
        }
    }

    /// Waits for the writing connection and opens a savepoint in the current batch (starting one
    /// if none is open). Nothing is awaited once the lock is held, so a caller that stops waiting
    /// cannot leave the connection half-way.
    pub async fn begin(&self) -> Result<WriteTurn, StoreError> {
        let mut guard = self.writer.clone().lock_owned().await;
        settle(&mut guard);
        if guard.batch.is_none() {
            // IMMEDIATE takes the database's write lock up front, so a read-then-write
            // transaction cannot fail half-way with SQLITE_BUSY when another process writes.
            run(guard.conn()?, "BEGIN IMMEDIATE")?;
            guard.batch = Some(Arc::new(Batch::default()));
        }
        if let Err(err) = run(guard.conn()?, "SAVEPOINT write_turn") {
            fail_batch(&mut guard, &err.to_string());
            return Err(err);
        }
        Ok(WriteTurn { guard: Some(guard), queue: self.clone() })
    }

    /// Ends an abandoned turn when nobody else will: rolls its savepoint back and, if no
    /// committed write waits in the batch, closes the empty transaction so that other processes
    /// can write.
    async fn clean_up(self) {
        let mut guard = self.writer.lock_owned().await;
        settle(&mut guard);
        let idle = guard.batch.as_ref().is_some_and(|b| b.members.load(Ordering::SeqCst) == 0);
        if idle {
            if let Err(err) = guard.conn().and_then(|c| Ok(c.execute_batch("ROLLBACK")?)) {
                tracing::warn!(error = %err, "closing an empty write transaction failed");
            }
            guard.batch = None;
        }
    }
}

impl WriteTurn {
    fn writer(&mut self) -> &mut Writer {
        self.guard.as_mut().expect("a turn holds the writer until it ends")
    }

    /// The connection, inside this turn's savepoint.
    pub fn conn(&mut self) -> Result<&mut Connection, StoreError> {
        self.writer().conn()
    }

    /// Makes this write durable: releases its savepoint into the batch, lets the writers queued
    /// behind it add theirs, and returns when the commit that holds it is on disk.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        let mut guard = self.guard.take().expect("a turn holds the writer until it ends");
        let queue = self.queue.clone();
        // Nothing is awaited until the savepoint is released and the lock handed on, so a caller
        // that stops waiting cannot leave the connection half-way.
        if let Err(err) = guard.conn().and_then(|c| run(c, "RELEASE write_turn")) {
            fail_batch(&mut guard, &err.to_string());
            return Err(err);
        }
        let Some(batch) = guard.batch.clone() else {
            return Err(StoreError::Commit("the write transaction was lost".into()));
        };
        batch.members.fetch_add(1, Ordering::SeqCst);
        queue.stats.writes.fetch_add(1, Ordering::Relaxed);
        drop(guard);
        // The rest runs to completion even if the caller stops waiting: the batch must not be
        // left open with nobody to commit it.
        let finishing = tokio::spawn(async move {
            let decided = batch.decided.notified();
            tokio::pin!(decided);
            // Registered before the outcome is read, so a decision in between is not missed.
            decided.as_mut().enable();
            if let Some(outcome) = batch.outcome.get() {
                return outcome.clone();
            }
            // Back to the end of the queue: everyone waiting now joins this batch first.
            let mut guard = tokio::select! {
                biased;
                () = &mut decided => {
                    return batch.outcome.get().cloned().unwrap_or_else(|| {
                        Err("the write transaction was lost".to_string())
                    });
                }
                guard = queue.writer.clone().lock_owned() => guard,
            };
            if let Some(outcome) = batch.outcome.get() {
                return outcome.clone();
            }
            settle(&mut guard);
            if let Some(outcome) = batch.outcome.get() {
                return outcome.clone();
            }
            if !guard.batch.as_ref().is_some_and(|open| Arc::ptr_eq(open, &batch)) {
                return Err("the write transaction was lost".to_string());
            }
            let outcome = match guard.commit_on_blocking_pool().await {
                Ok(()) => {
                    queue.stats.commits.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
                Err(err) => {
                    if let Err(rollback) =
                        guard.conn().and_then(|c| Ok(c.execute_batch("ROLLBACK")?))
                    {
                        tracing::debug!(error = %rollback, "rollback after a failed commit");
                    }
                    Err(err.to_string())
                }
            };
            guard.batch = None;
            batch.decide(outcome.clone());
            outcome
        });
        match finishing.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(StoreError::Commit(message)),
            Err(join) => Err(StoreError::Commit(join.to_string())),
        }
    }
}

impl Drop for WriteTurn {
    /// Dropped without committing: the savepoint is rolled back by the next holder of the
    /// connection, or by a clean-up task if nobody else comes.
    fn drop(&mut self) {
        if let Some(mut guard) = self.guard.take() {
            guard.abandoned = true;
            drop(guard);
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(self.queue.clone().clean_up());
            }
        }
    }
}

impl Writer {
    fn conn(&mut self) -> Result<&mut Connection, StoreError> {
        if self.conn.is_none() {
            // Lost only if a commit's blocking task died; a fresh connection carries on (the
            // lost transaction was rolled back by SQLite when its connection closed).
            self.conn = Some(crate::lite::open(&self.path)?);
            self.batch = None;
        }
        Ok(self.conn.as_mut().expect("just opened"))
    }

    /// `COMMIT` waits for the disk: it runs on the blocking pool, not on a thread serving
    /// requests.
    async fn commit_on_blocking_pool(&mut self) -> Result<(), StoreError> {
        let Some(conn) = self.conn.take() else {
            return Err(StoreError::Commit("the write transaction was lost".into()));
        };
        let done = tokio::task::spawn_blocking(move || {
            let result = run(&conn, "COMMIT");
            (conn, result)
        })
        .await;
        match done {
            Ok((conn, result)) => {
                self.conn = Some(conn);
                result
            }
            Err(join) => Err(StoreError::Commit(join.to_string())),
        }
    }
}

/// Runs one of the statements every write turn uses, prepared once per connection.
fn run(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// Rolls back an abandoned turn's savepoint; if that is impossible the whole batch is lost.
fn settle(writer: &mut Writer) {
    if !writer.abandoned {
        return;
    }
    writer.abandoned = false;
    let rolled_back = writer
        .conn()
        .and_then(|c| Ok(c.execute_batch("ROLLBACK TO write_turn; RELEASE write_turn")?));
    if let Err(err) = rolled_back {
        fail_batch(writer, &err.to_string());
    }
}

/// The batch's transaction is broken (SQLite rolled it back, or a savepoint statement failed):
/// roll back whatever is left and tell every member its write is lost.
fn fail_batch(writer: &mut Writer, message: &str) {
    if let Err(err) = writer.conn().and_then(|c| Ok(c.execute_batch("ROLLBACK")?)) {
        tracing::debug!(error = %err, "rollback of a failed write batch");
    }
    if let Some(batch) = writer.batch.take() {
        batch.decide(Err(format!("the write was rolled back: {message}")));
    }
    writer.abandoned = false;
}
